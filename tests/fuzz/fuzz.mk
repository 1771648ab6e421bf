# tests/fuzz/: libFuzzer harnesses (docs/testing.md "Fuzzing"). Each harness
# is $(BUILD)/fuzz/<name>, linked by the Makefile's one LINK rule from
# fuzz_<name>_SRCS, the shared helpers (FUZZ_COMMON_SRCS) and the library
# built with clang for fuzzing. Its seed corpus is tests/fuzz/corpus/<name>/,
# its regression inputs (crashes found and fixed) tests/fuzz/regress/<name>/.
# To add one: a FUZZERS line and a fuzz_<name>_SRCS line below, a file
# tests/fuzz/fuzz_<name>.c, and seeds in tests/fuzz/corpus/<name>/.

FUZZ_COMMON_SRCS += tests/fuzz/fuzz_common.c

# pvmem request blocks (hosted model): mm_check(), accounting, zeroing.
FUZZERS += pvmem
fuzz_pvmem_SRCS := tests/fuzz/fuzz_pvmem.c
