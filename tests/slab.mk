# Slab, kmalloc and mempool: unit tests (with a host arena page source) and
# the allocator benchmark against glibc malloc, jemalloc, mimalloc, tcmalloc.
UNIT_SRCS += tests/unit/host_page_source.c
UNIT_SRCS += tests/unit/test_slab_fixture.c
UNIT_SRCS += tests/unit/test_slab.c
UNIT_SRCS += tests/unit/test_slab_debug.c
UNIT_SRCS += tests/unit/test_kmalloc.c
UNIT_SRCS += tests/unit/test_mempool.c
