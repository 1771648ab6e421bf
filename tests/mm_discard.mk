# tests/mm_discard.mk: PG_DISCARDED on GUEST frames (free page reporting).
UNIT_SRCS += tests/unit/test_buddy_discard.c
