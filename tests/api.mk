# Unit tests of the control API.
UNIT_SRCS += tests/unit/test_api.c
