# tests/: Check unit tests (one binary, every suite), integration tests (KVM)
# and benchmarks.
UNIT_SRCS += tests/unit/main.c
UNIT_SRCS += tests/unit/test_fmt.c
