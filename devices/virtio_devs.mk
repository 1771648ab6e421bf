# devices/virtio_devs.mk: virtio-console and virtio-balloon (docs/ballooning.md).
DEVICES_SRCS += devices/virtio_balloon.c
DEVICES_SRCS += devices/virtio_console.c
DEVICES_SRCS += devices/virtio_vm_stats.c
