# tests/hosted.mk: the hosted memory model end to end - unit tests of the
# VMM's --mem-limit/--stats/--check pieces, and the in-guest benchmark
# (tests/bench/hosted_bench.sh: ns/page through pvmem, RSS after frees).
UNIT_SRCS += tests/unit/test_vmm_hosted.c

BENCH_SCRIPTS += tests/bench/hosted_bench.sh
