# tests/virtio.mk: unit tests of the virtio-mmio transport and virtqueues.
UNIT_SRCS += tests/unit/test_virtq_ring.c
UNIT_SRCS += tests/unit/test_virtq.c
UNIT_SRCS += tests/unit/test_virtq_hostile.c
UNIT_SRCS += tests/unit/test_virtio_mmio.c
