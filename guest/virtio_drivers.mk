# guest/virtio_drivers.mk: the guest's virtio-mmio driver library, the
# virtio-balloon driver and the balloon workloads (docs/ballooning.md).
GUEST_SRCS += guest/virtio/virtio.c
GUEST_SRCS += guest/virtio/balloon.c
GUEST_SRCS += guest/virtio/console.c
GUEST_SRCS += guest/workloads/balloon.c
GUEST_SRCS += guest/workloads/virtio_hostile.c
$(BUILD)/guest/guest/virtio/virtio.o: GUEST_CFLAGS += -idirafter $(GUEST_LIBFDT_INCDIR)
