# tests for devices/pvmem (the hosted memory model's device): Check suites
# "pvmem" and "pvmem_hostile", and a host-side benchmark (ns per page).
UNIT_SRCS += tests/unit/test_pvmem_fx.c
UNIT_SRCS += tests/unit/test_pvmem.c
UNIT_SRCS += tests/unit/test_pvmem_hostile.c

BENCH_PROGS += $(BUILD)/bench/pvmem

# Written out (not host_obj/HOST_LIB): this fragment is read before the top
# Makefile defines them, and prerequisites expand immediately.
$(BUILD)/bench/pvmem: $(BUILD)/host/tests/bench/bench_pvmem.o $(BUILD)/host/libbuddyvm.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(VMM_LIBS)
