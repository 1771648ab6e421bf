# devices/virtio.mk: virtio-mmio transport and split virtqueues.
DEVICES_SRCS += devices/virtq.c
DEVICES_SRCS += devices/virtio_mmio.c
