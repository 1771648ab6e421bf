// SPDX-License-Identifier: MIT
/*
 * vmm/debug_ports.c - console, report and exit ports. Every GPA and length
 * the guest passes is checked through guest_mem_ptr(); structures are copied
 * out of guest RAM before they are checked, so a guest changing them
 * concurrently cannot invalidate a check.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/bus.h"
#include "vmm/debug_ports.h"
#include "vmm/vm.h"

static uint32_t debug_port_u32(const void *data, unsigned len)
{
	uint32_t v = 0;

	memcpy(&v, data, len < sizeof(v) ? len : sizeof(v));
	return v;
}

static int debug_console_byte(void *opaque, uint64_t offset, void *data,
			      unsigned len, bool is_write)
{
	if (!is_write)
		return 0;
	vm_console_write(opaque, data, 1);
	return 0;
}

static int debug_console_buf(void *opaque, uint64_t offset, void *data,
			     unsigned len, bool is_write)
{
	struct vm *vm = opaque;
	uint32_t gpa = debug_port_u32(data, len);
	struct bvm_console_buf hdr;
	const void *hdr_ptr, *text;

	if (!is_write || len != 4)
		return -EINVAL;
	hdr_ptr = guest_mem_ptr(&vm->mem, gpa, sizeof(hdr));
	if (!hdr_ptr)
		return -EFAULT;
	memcpy(&hdr, hdr_ptr, sizeof(hdr));
	if (hdr.len == 0)
		return 0;
	if (hdr.len > BVM_CONSOLE_BUF_MAX)
		return -E2BIG;
	text = guest_mem_ptr(&vm->mem, (uint64_t)gpa + sizeof(hdr), hdr.len);
	if (!text)
		return -EFAULT;
	vm_console_write(vm, text, hdr.len);
	return 0;
}

/* Copy a guest string of at most @size bytes, replacing what is not
 * printable ASCII, always NUL-terminated. */
static void debug_sanitize(char *dst, const char *src, size_t size)
{
	size_t i;

	for (i = 0; i + 1 < size && src[i]; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

void debug_report_describe(const struct bvm_report *rep, char *out, size_t size)
{
	char file[sizeof(rep->file) + 1], msg[sizeof(rep->msg) + 1];

	debug_sanitize(file, rep->file, sizeof(rep->file) + 1);
	debug_sanitize(msg, rep->msg, sizeof(rep->msg) + 1);
	snprintf(out, size, "guest assertion failed at %s:%u: %s", file,
		 rep->line, msg);
}

static void debug_report_fail(struct vm *vm, const struct bvm_report *rep)
{
	char line[sizeof(rep->file) + sizeof(rep->msg) + 64];

	if (!vm_finish(vm, BVM_EXIT_GUEST_FAIL))
		return;
	debug_report_describe(rep, line, sizeof(line));
	pthread_mutex_lock(&vm->console_lock);
	fprintf(stderr, "%s\n", line);
	pthread_mutex_unlock(&vm->console_lock);
}

static int debug_report(void *opaque, uint64_t offset, void *data, unsigned len,
			bool is_write)
{
	struct vm *vm = opaque;
	uint32_t gpa = debug_port_u32(data, len);
	const void *ptr;
	struct bvm_report rep;

	if (!is_write || len != 4)
		return -EINVAL;
	ptr = guest_mem_ptr(&vm->mem, gpa, sizeof(rep));
	if (!ptr)
		return -EFAULT;
	memcpy(&rep, ptr, sizeof(rep));
	switch (rep.kind) {
	case BVM_REPORT_STAGE:
		return 0;
	case BVM_REPORT_DONE:
		vm_finish(vm, BVM_EXIT_OK);
		return 0;
	case BVM_REPORT_FAIL:
		debug_report_fail(vm, &rep);
		return 0;
	default:
		return -EINVAL;
	}
}

static int debug_exit(void *opaque, uint64_t offset, void *data, unsigned len,
		      bool is_write)
{
	if (!is_write)
		return 0;
	vm_finish(opaque, (int)(debug_port_u32(data, len) & 0xff));
	return 0;
}

int debug_ports_init(struct vm *vm)
{
	/* Each channel: its port, and its register in the MMIO window. */
	static const struct {
		uint16_t port, len;
		uint16_t mmio_offset;
		bus_handler_fn fn;
	} ports[] = {
		{BVM_PORT_CONSOLE_BYTE, 1, BVM_DEBUG_CONSOLE_BYTE,
		 debug_console_byte},
		{BVM_PORT_CONSOLE_BUF, 4, BVM_DEBUG_CONSOLE_BUF,
		 debug_console_buf},
		{BVM_PORT_REPORT, 4, BVM_DEBUG_REPORT, debug_report},
		{BVM_PORT_EXIT, 4, BVM_DEBUG_EXIT, debug_exit},
	};

	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		int r = bus_register(vm->bus, BUS_PIO, ports[i].port,
				     ports[i].len, ports[i].fn, vm);

		if (r == 0)
			r = bus_register(vm->bus, BUS_MMIO,
					 BVM_DEBUG_MMIO_BASE +
						 ports[i].mmio_offset,
					 ports[i].len, ports[i].fn, vm);
		if (r < 0) {
			fprintf(stderr, "vmm: debug channel 0x%x: %s\n",
				ports[i].port, strerror(-r));
			return r;
		}
	}
	return 0;
}
