# tests/virtio_devs.mk: unit tests of virtio-balloon and virtio-console.
UNIT_SRCS += tests/unit/test_virtio_balloon.c
UNIT_SRCS += tests/unit/test_virtio_console.c
