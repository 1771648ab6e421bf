# tests/fuzz/: libFuzzer harnesses (docs/testing.md "Fuzzing"). Each harness
# is $(BUILD)/fuzz/<name>, linked by the Makefile's one LINK rule from
# fuzz_<name>_SRCS, the shared helpers (FUZZ_COMMON_SRCS) and the library
# built with clang for fuzzing. Its seed corpus is tests/fuzz/corpus/<name>/,
# its regression inputs (crashes found and fixed) tests/fuzz/regress/<name>/.
# To add one: a FUZZERS line and a fuzz_<name>_SRCS line below, a file
# tests/fuzz/fuzz_<name>.c, and seeds in tests/fuzz/corpus/<name>/.

FUZZ_COMMON_SRCS += tests/fuzz/fuzz_common.c
# A VM without KVM, its guest and a virtio driver, for device harnesses
# (list it in their fuzz_<name>_SRCS). Like fuzz_common.c it is built
# without coverage feedback: its loops are checks, not code under test.
FUZZ_NOCOV_SRCS += tests/fuzz/fuzz_vm.c

# pvmem request blocks (hosted model): mm_check(), accounting, zeroing.
FUZZERS += pvmem
fuzz_pvmem_SRCS := tests/fuzz/fuzz_pvmem.c tests/fuzz/fuzz_vm.c

# Split virtqueues: every pop against a reference walk, the used ring.
FUZZERS += virtq
fuzz_virtq_SRCS := tests/fuzz/fuzz_virtq.c

# virtio-balloon: PFN lists, free page reports, stats; accounting, zeroes.
FUZZERS += balloon
fuzz_balloon_SRCS := tests/fuzz/fuzz_balloon.c tests/fuzz/fuzz_vm.c

# virtio-mmio registers: any access sequence against the transport's rules.
FUZZERS += mmio
fuzz_mmio_SRCS := tests/fuzz/fuzz_mmio.c tests/fuzz/fuzz_vm.c

# Parsers of guest- and user-controlled data: the guest kernel ELF loader,
# the guest's reading of its boot device tree (guest/boot_fdt.c built for
# the host), the control API's request line.
FUZZERS += elf
fuzz_elf_SRCS := tests/fuzz/fuzz_elf.c
FUZZERS += fdt
fuzz_fdt_SRCS := tests/fuzz/fuzz_fdt.c guest/boot_fdt.c
FUZZERS += api
fuzz_api_SRCS := tests/fuzz/fuzz_api.c tests/fuzz/fuzz_vm.c
FUZZERS += cli
fuzz_cli_SRCS := tests/fuzz/fuzz_cli.c

# virtio-blk requests on a memfd image: statuses, a reference image, the
# DMA registry, canary frames.
FUZZERS += blk
fuzz_blk_SRCS := tests/fuzz/fuzz_blk.c tests/fuzz/fuzz_vm.c
