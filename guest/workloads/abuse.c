// SPDX-License-Identifier: MIT
/*
 * workload=abuse: hand the VMM's debug channels bad addresses and lengths, as
 * a hostile guest would. The VMM must log and ignore each one and carry on
 * (the run then ends with done, exit 0). With abuse.fail=1 it finishes with a
 * failure report whose strings have no NUL and hold control characters: the
 * VMM must print it bounded and sanitized (exit 3).
 */
#include "guest.h"

static struct {
	struct bvm_report rep;
	struct bvm_console_buf con;
	char text[16];
} abuse_buf;

static void abuse_run(void)
{
	/* The first memory node ends at min(RAM, 3 GiB). */
	uint64_t low_end = guest_boot.ram_bytes < BVM_LOWMEM_END
				   ? guest_boot.ram_bytes
				   : BVM_LOWMEM_END;

	debug_write32(BVM_DEBUG_CONSOLE_BUF, 0xfffffff0u); /* in the hole */
	debug_write32(BVM_DEBUG_CONSOLE_BUF, (uint32_t)(low_end - 4));
	abuse_buf.con.len = 0xffffffffu; /* far too long */
	debug_write32(BVM_DEBUG_CONSOLE_BUF,
		      (uint32_t)(uintptr_t)&abuse_buf.con);
	/* A header that fits, text that runs off the end of RAM. */
	*(volatile uint32_t *)(uintptr_t)(low_end - 8) = 100;
	debug_write32(BVM_DEBUG_CONSOLE_BUF, (uint32_t)(low_end - 8));
	debug_write32(BVM_DEBUG_REPORT, (uint32_t)BVM_IOAPIC_ADDR);
	abuse_buf.rep.kind = 99;
	debug_write32(BVM_DEBUG_REPORT, (uint32_t)(uintptr_t)&abuse_buf.rep);
	/* Unclaimed MMIO in the hole reads as all ones. */
	GUEST_ASSERT_EQ(
		*(volatile uint32_t *)(uintptr_t)(BVM_DEBUG_MMIO_BASE + 0x800),
		0xffffffffu);
	if (guest_cmdline_ulong("abuse.fail", 0)) {
		memset(&abuse_buf.rep, 'B', sizeof(abuse_buf.rep));
		abuse_buf.rep.file[5] = '\n';
		abuse_buf.rep.msg[0] = 0x1b; /* ESC */
		abuse_buf.rep.kind = BVM_REPORT_FAIL;
		abuse_buf.rep.line = 7;
		debug_write32(BVM_DEBUG_REPORT,
			      (uint32_t)(uintptr_t)&abuse_buf.rep);
		guest_fail(__FILE__, __LINE__, "the failure report was lost");
	}
	guest_printf("abuse: the VMM survived\n");
}
GUEST_WORKLOAD(abuse, "abuse", "bad debug-channel requests (VMM carries on)",
	       abuse_run);
