# tests/api_cmds.mk: unit tests of the control API's commands and CLI, and
# the balloon benchmark.
UNIT_SRCS += tests/unit/test_api_cmds.c
UNIT_SRCS += tests/unit/test_api_cmds_cli.c
UNIT_SRCS += tests/unit/test_api_cmds_native.c
