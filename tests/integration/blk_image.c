// SPDX-License-Identifier: MIT
/*
 * tests/integration/blk_image.c - the host's side of the `blk` workload's
 * pattern (abi/blk_pattern.h), for blk.tests.sh:
 *
 *   blk_image check IMAGE SEED [BYTES]   the first BYTES (default: all) of
 *                                        IMAGE hold the pattern; exit 0, or
 *                                        1 naming the first wrong offset
 *   blk_image fill IMAGE SEED BYTES      write the pattern into IMAGE
 *
 * SEED is decimal or 0x-hex. Built by blk.tests.sh into its temporary
 * directory (a test helper, not part of the VMM).
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi/blk_pattern.h"

#define CHUNK (1u << 20)

static int image_check(int fd, uint64_t seed, uint64_t bytes)
{
	static uint8_t buf[CHUNK];

	for (uint64_t off = 0; off < bytes; off += CHUNK) {
		size_t len = bytes - off < CHUNK ? bytes - off : CHUNK;
		uint64_t bad;

		if (pread(fd, buf, len, (off_t)off) != (ssize_t)len) {
			fprintf(stderr, "blk_image: short read at %llu\n",
				(unsigned long long)off);
			return 1;
		}
		bad = blk_pattern_check(buf, off, len, seed);
		if (bad != len) {
			fprintf(stderr,
				"blk_image: byte %llu is 0x%02x, the pattern "
				"says 0x%02x\n",
				(unsigned long long)(off + bad), buf[bad],
				blk_pattern_byte(seed, off + bad));
			return 1;
		}
	}
	return 0;
}

static int image_fill(int fd, uint64_t seed, uint64_t bytes)
{
	static uint8_t buf[CHUNK];

	for (uint64_t off = 0; off < bytes; off += CHUNK) {
		size_t len = bytes - off < CHUNK ? bytes - off : CHUNK;

		blk_pattern_fill(buf, off, len, seed);
		if (pwrite(fd, buf, len, (off_t)off) != (ssize_t)len) {
			perror("blk_image: write");
			return 1;
		}
	}
	return fsync(fd) ? 1 : 0;
}

int main(int argc, char **argv)
{
	bool fill = argc > 1 && strcmp(argv[1], "fill") == 0;
	uint64_t seed, bytes;
	struct stat sb;
	int fd, ret;

	if (argc < 4 || argc > 5 || (!fill && strcmp(argv[1], "check")) ||
	    (fill && argc != 5)) {
		fprintf(stderr, "usage: blk_image check|fill IMAGE SEED "
				"[BYTES]\n");
		return 2;
	}
	fd = open(argv[2], fill ? O_RDWR : O_RDONLY);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		perror(argv[2]);
		return 2;
	}
	seed = strtoull(argv[3], NULL, 0);
	bytes = argc == 5 ? strtoull(argv[4], NULL, 0) : (uint64_t)sb.st_size;
	ret = fill ? image_fill(fd, seed, bytes) : image_check(fd, seed, bytes);
	close(fd);
	return ret;
}
