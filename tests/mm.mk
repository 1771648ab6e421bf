# tests/mm.mk: the page allocator's unit tests and benchmark.
UNIT_SRCS += tests/unit/test_buddy_fx.c
UNIT_SRCS += tests/unit/test_buddy.c
UNIT_SRCS += tests/unit/test_buddy_mt.c
UNIT_SRCS += tests/unit/test_buddy_model.c

# make bench: the page allocator benchmark (-O2, linked with the host lib).
BENCH_PROGS += $(BUILD)/bench/page_alloc

$(BUILD)/bench/page_alloc: tests/bench/bench_page_alloc.c $(HOST_LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(HOST_CFLAGS) -O2 -o $@ $< $(HOST_LIB) $(HOST_LDFLAGS)
