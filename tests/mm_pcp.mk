# tests/mm_pcp.mk: the per-CPU lists' remote-drain protocol tests.
UNIT_SRCS += tests/unit/test_buddy_pcp.c
