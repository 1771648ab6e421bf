/* SPDX-License-Identifier: MIT */
/*
 * abi/blk_pattern.h - the seeded byte pattern the `blk` workload writes over
 * a disk and the host checks in the image file afterwards.
 *
 * The 8 bytes at disk offset 8*i are splitmix64(seed ^ i), little-endian: so
 * byte o of the disk is byte (o % 8) of splitmix64(seed ^ (o / 8)). Any
 * offset and length can be generated or checked without state, by either
 * side. Plain C with <stdint.h> only (the freestanding guest includes it).
 */
#ifndef ABI_BLK_PATTERN_H
#define ABI_BLK_PATTERN_H

#include <stdint.h>

/* The seed when the command line gives none (`blk.seed=`). */
#define BLK_PATTERN_SEED_DEFAULT 0x6275646479766d31ull /* "buddyvm1" */

/* splitmix64's output function (Steele, Lea, Flood 2014). */
static inline uint64_t blk_pattern_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The 8-byte word at disk offset 8 * @index. */
static inline uint64_t blk_pattern_word(uint64_t seed, uint64_t index)
{
	return blk_pattern_mix(seed ^ index);
}

/* The byte at disk offset @offset. */
static inline uint8_t blk_pattern_byte(uint64_t seed, uint64_t offset)
{
	return (uint8_t)(blk_pattern_word(seed, offset >> 3) >>
			 (8 * (offset & 7)));
}

/*
 * Fill @buf with the pattern for disk bytes [@offset, @offset + @len): a
 * word at a time where the disk offset is 8-aligned (one mix per 8 bytes).
 */
static inline void blk_pattern_fill(void *buf, uint64_t offset, uint64_t len,
				    uint64_t seed)
{
	uint8_t *p = buf;
	uint64_t i = 0;

	for (; i < len && ((offset + i) & 7); i++)
		p[i] = blk_pattern_byte(seed, offset + i);
	for (; i + 8 <= len; i += 8) {
		uint64_t w = blk_pattern_word(seed, (offset + i) >> 3);

		for (unsigned b = 0; b < 8; b++)
			p[i + b] = (uint8_t)(w >> (8 * b));
	}
	for (; i < len; i++)
		p[i] = blk_pattern_byte(seed, offset + i);
}

/*
 * Check @buf against the pattern for disk bytes [@offset, @offset + @len).
 * Return the index of the first wrong byte, or @len when all are right.
 */
static inline uint64_t blk_pattern_check(const void *buf, uint64_t offset,
					 uint64_t len, uint64_t seed)
{
	const uint8_t *p = buf;
	uint64_t i = 0;

	for (; i < len && ((offset + i) & 7); i++)
		if (p[i] != blk_pattern_byte(seed, offset + i))
			return i;
	for (; i + 8 <= len; i += 8) {
		uint64_t w = blk_pattern_word(seed, (offset + i) >> 3);

		for (unsigned b = 0; b < 8; b++)
			if (p[i + b] != (uint8_t)(w >> (8 * b)))
				return i + b;
	}
	for (; i < len; i++)
		if (p[i] != blk_pattern_byte(seed, offset + i))
			return i;
	return len;
}

#endif /* ABI_BLK_PATTERN_H */
