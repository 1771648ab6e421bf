# tests/ for vmm/ and the guest: unit tests of the VMM's host-side pieces, the
# KVM integration tests (tests/integration/run.sh) and the boot benchmark.
UNIT_SRCS += tests/unit/cli_fx.c
UNIT_SRCS += tests/unit/test_vmm_cli.c
UNIT_SRCS += tests/unit/test_vmm_elf.c
UNIT_SRCS += tests/unit/test_vmm_boot.c

# Boot benchmark: time to first guest output and to exit, VMM memory.
BOOT_BENCH := $(BUILD)/tests/bench/boot_bench
BENCH_PROGS += $(BOOT_BENCH)

$(BOOT_BENCH): tests/bench/boot_bench.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(HOST_CFLAGS) -o $@ $<
