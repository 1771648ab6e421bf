// SPDX-License-Identifier: MIT
/*
 * vmm/bus.c - the exit bus: per address space, a sorted array of
 * non-overlapping ranges, searched by bisection on every exit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/bus.h"

#define BUS_MAX_RANGES 64

struct bus_range {
	uint64_t base;
	uint64_t len;
	bus_handler_fn fn;
	void *opaque;
};

struct bus_space_map {
	unsigned nr;
	struct bus_range ranges[BUS_MAX_RANGES];
};

struct bus {
	struct bus_space_map spaces[2];
};

struct bus *bus_create(void)
{
	return calloc(1, sizeof(struct bus));
}

void bus_destroy(struct bus *bus)
{
	free(bus);
}

static struct bus_space_map *bus_map(struct bus *bus, enum bus_space space)
{
	if (space != BUS_PIO && space != BUS_MMIO)
		return NULL;
	return &bus->spaces[space];
}

/* Index of the first range whose end is above @addr (ranges are sorted). */
static unsigned bus_lower_bound(const struct bus_space_map *map, uint64_t addr)
{
	unsigned lo = 0, hi = map->nr;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &map->ranges[mid];

		if (r->base + r->len <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus_register(struct bus *bus, enum bus_space space, uint64_t base,
		 uint64_t len, bus_handler_fn fn, void *opaque)
{
	struct bus_space_map *map = bus_map(bus, space);
	uint64_t end;
	unsigned i;

	if (!map || !fn || len == 0 || __builtin_add_overflow(base, len, &end))
		return -EINVAL;
	i = bus_lower_bound(map, base);
	if (i < map->nr && map->ranges[i].base < end)
		return -EEXIST;
	if (map->nr == BUS_MAX_RANGES)
		return -ENOSPC;
	memmove(&map->ranges[i + 1], &map->ranges[i],
		(map->nr - i) * sizeof(map->ranges[0]));
	map->ranges[i] = (struct bus_range){base, len, fn, opaque};
	map->nr++;
	return 0;
}

int bus_dispatch(struct bus *bus, enum bus_space space, uint64_t addr,
		 void *data, unsigned len, bool is_write)
{
	struct bus_space_map *map = bus_map(bus, space);
	const struct bus_range *r;
	uint64_t end;
	unsigned i;

	if (!map || len == 0 || __builtin_add_overflow(addr, len, &end))
		return -EINVAL;
	i = bus_lower_bound(map, addr);
	if (i == map->nr)
		return -ENOENT;
	r = &map->ranges[i];
	/* The whole access must fall inside one range. */
	if (addr < r->base || end > r->base + r->len)
		return -ENOENT;
	return r->fn(r->opaque, addr - r->base, data, len, is_write);
}
