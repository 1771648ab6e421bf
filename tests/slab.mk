# Slab, kmalloc and mempool: unit tests (with a host arena page source) and
# the allocator benchmark against glibc malloc, jemalloc, mimalloc, tcmalloc.
UNIT_SRCS += tests/unit/host_page_source.c
UNIT_SRCS += tests/unit/test_slab_fixture.c
UNIT_SRCS += tests/unit/test_slab.c
UNIT_SRCS += tests/unit/test_slab_debug.c
UNIT_SRCS += tests/unit/test_kmalloc.c
UNIT_SRCS += tests/unit/test_mempool.c

# The benchmark links the host library (its .o files are built by the
# top-level pattern rule; the library path is spelled out because the
# Makefile defines HOST_LIB after including the fragments).
BENCH_SLAB := $(BUILD)/tests/bench/bench_slab
BENCH_PROGS += $(BENCH_SLAB)

$(BENCH_SLAB): $(BUILD)/host/tests/bench/bench_slab.o \
	       $(BUILD)/host/tests/unit/host_page_source.o \
	       $(BUILD)/host/libbuddyvm.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^
