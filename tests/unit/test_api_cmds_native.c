// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_api_cmds_native.c - the host side of the native memory
 * model: frame_db_give_all() hands every free frame to the guest, leaves
 * reserved frames alone, and the balloon's state changes still work.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "vmm/frame_db.h"
#include "tests/unit/unit.h"
#include "abi/boot.h"

#define FX_RAM (64ull << 20)

static struct guest_mem mem;
static struct frame_db *fdb;

static void setup(void)
{
	void *ram = mmap(NULL, FX_RAM, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct frame_db_config cfg = {.kernel_end = 3ull << 20};

	ck_assert_ptr_ne(ram, MAP_FAILED);
	mem = (struct guest_mem){.fd = -1, .size = FX_RAM, .nr_regions = 1};
	mem.regions[0] =
		(struct guest_mem_region){.gpa = 0, .size = FX_RAM, .hva = ram};
	ck_assert_int_eq(frame_db_create(&fdb, &mem, &cfg), 0);
}

static void teardown(void)
{
	frame_db_destroy(fdb);
	munmap(mem.regions[0].hva, FX_RAM);
}

START_TEST(give_all_leaves_nothing_free)
{
	struct mm *mm = frame_db_mm(fdb);
	struct mm_stats st;
	char why[256];

	ck_assert_int_eq(frame_db_give_all(fdb), 0);
	mm_get_stats(mm, &st);
	ck_assert_int_eq(st.frames[FRAME_FREE], 0);
	ck_assert_int_eq(st.frames[FRAME_RESERVED], (3ull << 20) / 4096);
	ck_assert_int_eq(st.frames[FRAME_GUEST],
			 FX_RAM / 4096 - (3ull << 20) / 4096);
	ck_assert_int_eq(mm_check(mm, why, sizeof(why)), 0);
	/* Nothing more to allocate: the host holds no frame of its own. */
	{
		uint64_t pfn;

		ck_assert_int_eq(mm_alloc_pages(mm, __GFP_MEMALLOC, 0, &pfn),
				 -ENOMEM);
	}
}
END_TEST

START_TEST(balloon_moves_native_frames)
{
	struct mm *mm = frame_db_mm(fdb);
	uint64_t pfn = (8ull << 20) / 4096;
	struct mm_stats st;
	char why[256];

	ck_assert_int_eq(frame_db_give_all(fdb), 0);
	ck_assert_int_eq(mm_set_frames_state(mm, pfn, 100, FRAME_GUEST,
					     FRAME_BALLOON, 0),
			 0);
	mm_get_stats(mm, &st);
	ck_assert_int_eq(st.frames[FRAME_BALLOON], 100);
	ck_assert_int_eq(mm_set_frames_state(mm, pfn, 100, FRAME_BALLOON,
					     FRAME_GUEST, 0),
			 0);
	/* Reserved frames are not the guest's to balloon. */
	ck_assert_int_ne(
		mm_set_frames_state(mm, 0, 1, FRAME_GUEST, FRAME_BALLOON, 0),
		0);
	ck_assert_int_eq(mm_check(mm, why, sizeof(why)), 0);
}
END_TEST

static Suite *api_cmds_native_suite(void)
{
	Suite *s = suite_create("native_model");
	TCase *tc = tcase_create("host");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, give_all_leaves_nothing_free);
	tcase_add_test(tc, balloon_moves_native_frames);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(api_cmds_native_suite)
