// SPDX-License-Identifier: MIT
/*
 * guest/console.c - printf into a per-vCPU buffer that leaves the guest with
 * one debug-register write per line (each is a VM exit), and the report
 * channel: stage, done, fail, exit.
 *
 * Under QEMU (PVH entry) the debug channel is QEMU's isa-debugcon (one
 * `rep outsb` per line, through CPL 0) and reports end the run through
 * isa-debug-exit (QEMU exits with 65 + 2 * status, guest/include/pvh.h).
 */
#include <stdarg.h>

#include "guest.h"
#include "mm/port.h"
#include "mm/fmt.h"
#include "pvh.h"
#include "guest/virtio/console.h"

static uint32_t guest_gpa(const void *p)
{
	/* Identity-mapped, and the image lives below 4 GiB. */
	return (uint32_t)(uintptr_t)p;
}

/*
 * Where lines go once a driver has taken the console (virtio-console);
 * NULL: the debug channel, which is also where everything goes again after
 * a failure report starts (the driver may be what failed).
 */
static guest_console_out_fn console_out;

void guest_console_set_output(guest_console_out_fn fn)
{
	guest_console_flush();
	__atomic_store_n(&console_out, fn, __ATOMIC_RELEASE);
}

void guest_console_panic_mode(void)
{
	__atomic_store_n(&console_out, NULL, __ATOMIC_RELEASE);
}

static void debug_console_out(struct guest_console *c)
{
	if (guest_boot.platform == GUEST_PLATFORM_PVH)
		guest_debugcon_write(c->data, c->hdr.len);
	else
		debug_write32(BVM_DEBUG_CONSOLE_BUF, guest_gpa(&c->hdr));
}

void guest_console_flush(void)
{
	struct guest_console *c = &this_cpu()->console;
	guest_console_out_fn out =
		__atomic_load_n(&console_out, __ATOMIC_ACQUIRE);

	if (c->hdr.len == 0)
		return;
	/* A driver that cannot take the buffer leaves it to the debug one. */
	if (!out || out(c->data, c->hdr.len) != 0)
		debug_console_out(c);
	c->hdr.len = 0;
}

static void console_append(const char *s, size_t n)
{
	struct guest_console *c = &this_cpu()->console;

	if (c->hdr.len + n > sizeof(c->data))
		guest_console_flush();
	if (n > sizeof(c->data))
		n = sizeof(c->data);
	memcpy(c->data + c->hdr.len, s, n);
	c->hdr.len += (unsigned)n;
}

static int console_vprintf(const char *fmt, va_list ap)
{
	char line[512];
	int n = mm_vsnprintf(line, sizeof(line), fmt, ap);
	size_t len = n < 0 ? 0 : (size_t)n;

	if (len > sizeof(line) - 1)
		len = sizeof(line) - 1;
	console_append(line, len);
	if (len && line[len - 1] == '\n')
		guest_console_flush();
	return n;
}

int guest_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = console_vprintf(fmt, ap);
	va_end(ap);
	return n;
}

/*
 * Under QEMU there is no report channel: the guest says what buddyvm's VMM
 * would (the same failure line) and exits through isa-debug-exit.
 */
static void report_send_pvh(const struct bvm_report *r)
{
	if (r->kind != BVM_REPORT_STAGE)
		gvcon_drain();
	switch (r->kind) {
	case BVM_REPORT_DONE:
		guest_isa_debug_exit(PVH_EXIT_BASE + BVM_EXIT_OK);
		break;
	case BVM_REPORT_FAIL:
		guest_printf("guest assertion failed at %s:%u: %s\n", r->file,
			     r->line, r->msg);
		guest_isa_debug_exit(PVH_EXIT_BASE + BVM_EXIT_GUEST_FAIL);
		break;
	default:
		break;
	}
}

static void report_send(unsigned kind, uint64_t value)
{
	struct bvm_report *r = &this_cpu()->report;

	r->kind = kind;
	r->value = value;
	if (guest_boot.platform == GUEST_PLATFORM_PVH)
		report_send_pvh(r);
	else
		debug_write32(BVM_DEBUG_REPORT, guest_gpa(r));
}

void guest_stage(uint64_t n)
{
	report_send(BVM_REPORT_STAGE, n);
}

/* The VMM stops every vCPU after a final report; wait for that. */
static _Noreturn void guest_wait_forever(void)
{
	for (;;)
		guest_halt();
}

_Noreturn void guest_done(void)
{
	guest_console_flush();
	report_send(BVM_REPORT_DONE, 0);
	guest_wait_forever();
}

_Noreturn void guest_fail(const char *file, int line, const char *fmt, ...)
{
	struct bvm_report *r = &this_cpu()->report;
	va_list ap;

	guest_console_panic_mode();
	guest_console_flush();
	mm_snprintf(r->file, sizeof(r->file), "%s", file);
	va_start(ap, fmt);
	mm_vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	r->line = (unsigned)line;
	report_send(BVM_REPORT_FAIL, 0);
	guest_wait_forever();
}

_Noreturn void guest_exit(unsigned status)
{
	guest_console_flush();
	if (guest_boot.platform == GUEST_PLATFORM_PVH) {
		gvcon_drain();
		guest_isa_debug_exit(PVH_EXIT_BASE + status);
	} else {
		debug_write32(BVM_DEBUG_EXIT, status);
	}
	guest_wait_forever();
}

void mm_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	console_vprintf(fmt, ap);
	va_end(ap);
	guest_printf("\n");
}

_Noreturn void mm_panic(const char *file, int line, const char *msg)
{
	guest_fail(file, line, "mm panic: %s", msg);
}
