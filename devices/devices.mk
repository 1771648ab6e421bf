# devices/: emulated devices and their glue to the VM.

# The paravirtual memory device of the hosted memory model, over the VM's
# frame database (docs/hosted-memory.md).
DEVICES_SRCS += devices/pvmem.c
DEVICES_SRCS += devices/pvmem_migrate.c
DEVICES_SRCS += devices/pvmem_contig.c
DEVICES_SRCS += devices/pvmem_ring.c
DEVICES_SRCS += devices/pvmem_vm.c

# virtio: the virtio-mmio transport, split virtqueues, the devices.
DEVICES_SRCS += devices/virtq.c
DEVICES_SRCS += devices/virtio_mmio.c
DEVICES_SRCS += devices/virtio_balloon.c
DEVICES_SRCS += devices/virtio_console.c
DEVICES_SRCS += devices/virtio_blk.c
DEVICES_SRCS += devices/blk_uring.c
DEVICES_SRCS += devices/virtio_vm.c

# Every VM's devices, one line each.
DEVICES_SRCS += devices/device_table.c
