# tests/mm.mk: the page allocator's unit tests and benchmark.
UNIT_SRCS += tests/unit/test_buddy_fx.c
UNIT_SRCS += tests/unit/test_buddy.c
UNIT_SRCS += tests/unit/test_buddy_mt.c
UNIT_SRCS += tests/unit/test_buddy_model.c
