# tests/api_cmds.mk: unit tests of the control API's commands and CLI, and
# the balloon benchmark.
UNIT_SRCS += tests/unit/test_api_cmds.c
UNIT_SRCS += tests/unit/test_api_cmds_cli.c
UNIT_SRCS += tests/unit/test_api_cmds_native.c

# Balloon benchmark: inflate 1 GiB until actual == target and RSS dropped.
BENCH_SCRIPTS += tests/bench/balloon_bench.sh
