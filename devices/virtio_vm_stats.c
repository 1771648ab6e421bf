// SPDX-License-Identifier: MIT
/*
 * devices/virtio_vm_stats.c - the "== virtio ==" section of --stats: what
 * the devices counted, one "name value" pair a line (as the other sections),
 * so tests and scripts can grep them.
 */
#include "devices/virtio_vm_stats.h"
#include "devices/virtio_balloon.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_console.h"

/* Each disk's counters, prefixed blkN_. */
static void virtio_vm_print_blk(FILE *out)
{
	struct virtio_blk_stats st;

	for (unsigned i = 0; virtio_blk_vm_stats(i, &st); i++)
		fprintf(out,
			"blk%u_capacity_sectors %llu\nblk%u_reads %llu\n"
			"blk%u_writes %llu\nblk%u_flushes %llu\n"
			"blk%u_discards %llu\nblk%u_write_zeroes %llu\n"
			"blk%u_bytes_read %llu\nblk%u_bytes_written %llu\n"
			"blk%u_io_errors %llu\nblk%u_bad_requests %llu\n"
			"blk%u_unsupported %llu\nblk%u_failures %llu\n",
			i, (unsigned long long)st.capacity, i,
			(unsigned long long)st.reads, i,
			(unsigned long long)st.writes, i,
			(unsigned long long)st.flushes, i,
			(unsigned long long)st.discards, i,
			(unsigned long long)st.write_zeroes, i,
			(unsigned long long)st.bytes_read, i,
			(unsigned long long)st.bytes_written, i,
			(unsigned long long)st.io_errors, i,
			(unsigned long long)st.bad_requests, i,
			(unsigned long long)st.unsupported, i,
			(unsigned long long)st.failures);
}

void virtio_vm_print_stats(FILE *out)
{
	struct balloon_status st;
	uint64_t bytes, failures;

	fprintf(out, "== virtio ==\n");
	virtio_vm_print_blk(out);
	if (virtio_console_vm_counts(&bytes, &failures))
		fprintf(out, "console_bytes_out %llu\nconsole_failures %llu\n",
			(unsigned long long)bytes,
			(unsigned long long)failures);
	virtio_balloon_get_status(&st);
	if (!st.present)
		return;
	fprintf(out,
		"balloon_target_pages %llu\nballoon_actual_pages %llu\n"
		"balloon_bad_pfns %llu\nballoon_oom_deflates %llu\n"
		"balloon_reported_pages %llu\nballoon_stats_updates %llu\n"
		"balloon_failures %llu\n",
		(unsigned long long)st.target_pages,
		(unsigned long long)st.actual_pages,
		(unsigned long long)st.bad_pfns,
		(unsigned long long)st.oom_deflates,
		(unsigned long long)st.reported_pages,
		(unsigned long long)st.stats_updates,
		(unsigned long long)st.device_failures);
}
