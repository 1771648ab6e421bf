// SPDX-License-Identifier: MIT
/*
 * devices/virtio_vm_stats.c - the "== virtio ==" section of --stats: what
 * the devices counted, one "name value" pair a line (as the other sections),
 * so tests and scripts can grep them.
 */
#include "devices/virtio_vm_stats.h"
#include "devices/virtio_balloon.h"
#include "devices/virtio_console.h"

void virtio_vm_print_stats(FILE *out)
{
	struct balloon_status st;
	uint64_t bytes, failures;

	fprintf(out, "== virtio ==\n");
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
