# tests/ for vmm/ and the guest: unit tests of the VMM's host-side pieces, the
# KVM integration tests (tests/integration/run.sh) and the boot benchmark.
UNIT_SRCS += tests/unit/test_vmm_cli.c
UNIT_SRCS += tests/unit/test_vmm_elf.c
UNIT_SRCS += tests/unit/test_vmm_boot.c
