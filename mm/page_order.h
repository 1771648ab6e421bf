/* SPDX-License-Identifier: MIT */
/*
 * mm/page_order.h - page size and block orders, one name for each idea, as
 * Linux spells them: NR_PAGE_ORDERS counts the orders (0 .. MAX_PAGE_ORDER),
 * MAX_PAGE_ORDER is the largest one (a 4 MiB block). mm.h, the slab's page
 * source and the pvmem ABI's checks all use these.
 */
#ifndef MM_PAGE_ORDER_H
#define MM_PAGE_ORDER_H

#define PAGE_SHIFT	   12
#define PAGE_SIZE	   (1ull << PAGE_SHIFT)
#define MAX_PAGE_ORDER	   10 /* largest block: 2^10 pages, 4 MiB */
#define NR_PAGE_ORDERS	   (MAX_PAGE_ORDER + 1) /* orders 0 .. MAX_PAGE_ORDER */
#define PAGEBLOCK_ORDER	   9
#define PAGEBLOCK_NR_PAGES (1u << PAGEBLOCK_ORDER)

#endif /* MM_PAGE_ORDER_H */
