// SPDX-License-Identifier: MIT
/*
 * tests/fuzz/fuzz_api.c - the control API's request lines (vmm/api.c,
 * vmm/api_cmds.c, vmm/api_compact.c) as a client sends them, against the
 * real commands of a VM without KVM: the page database and pvmem of a
 * hosted VM (tests/fuzz/fuzz_vm.h), a real virtio-balloon device, and the
 * guest's published statistics taken through the real MMIO handler
 * (vmm/guest_stats.c).
 *
 * Input: lines separated by '\n'. A line starting with byte 0x01 is the
 * guest publishing the rest as its statistics text (struct bvm_guest_stats
 * in guest RAM, then the MMIO write); every other line is client bytes,
 * fed with its newline through the server's own line buffer
 * (vmm/api_buf.c, here with lines of at most HARNESS_MAX_LINE bytes) in
 * chunks of varying size, and every complete line goes to
 * api_handle_line() as the event loop sends it. A line too long ends the
 * client's part of the input (the server closes such a connection).
 *
 * Every reply must be: one line (no newline, no NUL) of at most
 * API_MAX_RESPONSE bytes, valid UTF-8, a JSON object with a boolean "ok"
 * and either a "result" object or an "error" object whose "code" is the
 * name of its positive "errno" and whose "message" is not empty. And: an
 * empty line or an unknown command is an EINVAL error; a balloon target
 * the API accepted is what the device holds and is within RAM; a "quit"
 * that succeeded leaves the VM finished, and no balloon, pause or resume
 * succeeds after it (issue 12 defect 6); "pause" leaves it paused; the guest's
 * published text appears in "stat" exactly as printable ASCII.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "abi/boot.h"
#include "abi/layout.h"
#include "devices/virtio_balloon.h"
#include "tests/fuzz/fuzz_vm.h"
#include "vmm/api.h"
#include "vmm/api_buf.h"
#include "vmm/api_cmds.h"
#include "vmm/bus.h"
#include "vmm/guest_stats.h"
#include "vmm/vm.h"
#include "vmm/vm_stats.h"

#define LOW_BYTES	 (16ull << 20)
#define HARNESS_MAX_LINE 1024
#define STATS_GPA	 FUZZ_VM_SCRATCH_GPA

static struct fuzz_vm fvm;
static struct virtio_balloon *bal;
static struct vm vm;
static struct api_server *srv;
static struct api_cmds_ctx ctx;
static char published[4096 + 1]; /* what stat must show; "" none */
static bool has_published;
static bool quit_done; /* a "quit" succeeded in this input */

/* The device's own functions, as the VMM's global wrappers call them. */
static int bal_set_target(uint64_t pages)
{
	return virtio_balloon_dev_set_target(bal, pages);
}

static void bal_get_status(struct balloon_status *out)
{
	virtio_balloon_dev_get_status(bal, out);
}

static const struct api_balloon_ops bal_ops = {
	.set_target = bal_set_target,
	.get_status = bal_get_status,
	.stat_name = virtio_balloon_stat_name,
};

static int ram_resident(struct vm *v, uint64_t *bytes)
{
	return vm_stats_ram_resident(&v->mem, bytes);
}

static void vm_reset(void)
{
	struct bus *bus = vm.bus;

	pthread_mutex_destroy(&vm.lock);
	pthread_cond_destroy(&vm.finished_cond);
	pthread_cond_destroy(&vm.pause_cond);
	memset(&vm, 0, sizeof(vm));
	vm.cfg.mem_size = LOW_BYTES;
	vm.cfg.nr_vcpus = 2; /* described, never started */
	vm.mem = fvm.mem;
	vm.bus = bus;
	pthread_mutex_init(&vm.lock, NULL);
	pthread_cond_init(&vm.finished_cond, NULL);
	pthread_cond_init(&vm.pause_cond, NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct virtio_balloon_params p = {
		.link = {.mem = &fvm.mem,
			 .dma_device_id = VIRTIO_BALLOON_DMA_ID,
			 .base = VIRTIO_BALLOON_MMIO_BASE,
			 .irq = VIRTIO_BALLOON_IRQ,
			 .irq_set = fuzz_vm_irq,
			 .log = fuzz_vm_log},
	};

	fuzz_vm_init(&fvm, LOW_BYTES, 0);
	fuzz_vm_start(&fvm, true, NULL);
	p.link.pvmem = fvm.pv;
	p.mm = fvm.mm;
	p.ram_pages = fvm.ram_pages;
	FUZZ_ASSERT(virtio_balloon_create(&p, &bal) == 0,
		    "virtio_balloon_create");
	pthread_mutex_init(&vm.lock, NULL);
	pthread_cond_init(&vm.finished_cond, NULL);
	pthread_cond_init(&vm.pause_cond, NULL);
	vm_reset();
	vm.bus = bus_create();
	FUZZ_ASSERT(vm.bus && guest_stats_init(&vm) == 0, "guest stats");
	ctx = (struct api_cmds_ctx){
		.vm = &vm,
		.mm = fvm.mm,
		.balloon = &bal_ops,
		.guest_stats = guest_stats_copy,
		.ram_resident = ram_resident,
	};
	FUZZ_ASSERT(api_server_new(&srv) == 0 &&
			    api_cmds_register(srv, &ctx) == 0,
		    "API server");
	return 0;
}

/* Replies ----------------------------------------------------------------- */

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], need, min;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, min = 0x80, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, min = 0x800, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, min = 0x10000, cp = c & 0x07;
		else
			return false;
		if (n - i <= need)
			return false;
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}

/* The reply's shape; returns it parsed (caller decrefs). */
static json_t *check_reply(const char *reply)
{
	json_t *r, *ok, *res, *e, *code, *no, *msg;
	size_t len;

	FUZZ_ASSERT(reply, "no reply (NULL)");
	len = strlen(reply);
	FUZZ_ASSERT(len > 0 && len <= API_MAX_RESPONSE, "reply of %zu bytes",
		    len);
	FUZZ_ASSERT(!memchr(reply, '\n', len) && !memchr(reply, '\r', len),
		    "reply is not one line");
	FUZZ_ASSERT(utf8_valid((const unsigned char *)reply, len),
		    "reply is not UTF-8");
	r = json_loads(reply, JSON_REJECT_DUPLICATES, NULL);
	FUZZ_ASSERT(json_is_object(r), "reply is not a JSON object: %.200s",
		    reply);
	ok = json_object_get(r, "ok");
	FUZZ_ASSERT(json_is_boolean(ok), "reply without a boolean ok");
	res = json_object_get(r, "result");
	e = json_object_get(r, "error");
	if (json_is_true(ok)) {
		FUZZ_ASSERT(json_is_object(res) && !e &&
				    json_object_size(r) == 2,
			    "ok reply without a result object: %.200s", reply);
		return r;
	}
	FUZZ_ASSERT(json_is_object(e) && !res && json_object_size(r) == 2,
		    "error reply without an error object: %.200s", reply);
	code = json_object_get(e, "code");
	no = json_object_get(e, "errno");
	msg = json_object_get(e, "message");
	FUZZ_ASSERT(json_is_string(code) && json_is_integer(no) &&
			    json_integer_value(no) > 0 && json_is_string(msg) &&
			    json_string_length(msg) > 0,
		    "error object incomplete: %.200s", reply);
	FUZZ_ASSERT(strcmp(json_string_value(code),
			   api_errno_name((int)json_integer_value(no))) == 0 &&
			    strcmp(json_string_value(code), "E?") != 0,
		    "error code %s for errno %lld", json_string_value(code),
		    (long long)json_integer_value(no));
	return r;
}

static bool is_error(json_t *r, const char *code)
{
	json_t *e = json_object_get(r, "error");

	return e &&
	       strcmp(json_string_value(json_object_get(e, "code")), code) == 0;
}

/* What the request asked for, when it is an object with a string cmd. */
static const char *request_cmd(const char *line, size_t len, json_t **req)
{
	json_t *cmd;

	*req = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	cmd = json_object_get(*req, "cmd");
	return json_is_string(cmd) ? json_string_value(cmd) : NULL;
}

static bool is_command(const char *cmd)
{
	static const char *const known[] = {"stat",   "balloon", "pause",
					    "resume", "quit",	 "compact"};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(cmd, known[i]) == 0)
			return true;
	return false;
}

static void check_stat(json_t *r)
{
	json_t *guest = json_object_get(json_object_get(r, "result"), "guest");
	json_t *pub = json_object_get(guest, "published");

	/* docs/api.md: null when the guest never published (or published
	 * an empty text: a length of 0 is all the API is told). */
	if (!has_published || !published[0]) {
		FUZZ_ASSERT(json_is_null(pub), "published text out of nowhere");
		return;
	}
	FUZZ_ASSERT(json_is_string(pub) &&
			    strcmp(json_string_value(pub), published) == 0,
		    "published text differs from the guest's");
}

static void check_balloon(json_t *r)
{
	json_t *res = json_object_get(r, "result");
	struct balloon_status st;

	virtio_balloon_dev_get_status(bal, &st);
	FUZZ_ASSERT(st.target_pages <= fvm.ram_pages,
		    "balloon target %llu pages beyond RAM",
		    (unsigned long long)st.target_pages);
	FUZZ_ASSERT((uint64_t)json_integer_value(json_object_get(
			    res, "target_pages")) == st.target_pages,
		    "reply's target is not the device's");
}

static void handle(const char *line, size_t len)
{
	json_t *req, *r;
	const char *cmd = request_cmd(line, len, &req);
	char *reply = api_handle_line(srv, line, len);

	r = check_reply(reply);
	if (len == 0 || (cmd && !is_command(cmd)))
		FUZZ_ASSERT(is_error(r, "EINVAL"),
			    "empty line or unknown command not EINVAL");
	/* Issue 12 defect 6: a stopped VM's state no longer changes. */
	if (cmd && quit_done &&
	    (!strcmp(cmd, "balloon") || !strcmp(cmd, "pause") ||
	     !strcmp(cmd, "resume")))
		FUZZ_ASSERT(json_is_false(json_object_get(r, "ok")),
			    "%s succeeded after quit", cmd);
	if (cmd && json_is_true(json_object_get(r, "ok"))) {
		if (!strcmp(cmd, "stat"))
			check_stat(r);
		else if (!strcmp(cmd, "balloon"))
			check_balloon(r);
		else if (!strcmp(cmd, "quit"))
			FUZZ_ASSERT((quit_done = vm_is_finished(&vm)),
				    "quit: not finished");
		else if (!strcmp(cmd, "pause"))
			FUZZ_ASSERT(vm_is_paused(&vm), "pause: not paused");
	}
	json_decref(r);
	json_decref(req);
	free(reply);
}

/* The guest ---------------------------------------------------------------- */

static void guest_publish(const uint8_t *text, size_t len)
{
	struct bvm_guest_stats *gs =
		fuzz_ram_ptr(&fvm.mem, STATS_GPA, sizeof(*gs) + 4096);
	uint32_t gpa = (uint32_t)STATS_GPA;

	if (len > sizeof(published) - 1)
		len = sizeof(published) - 1;
	gs->len = (unsigned)len;
	memcpy(gs->text, text, len);
	FUZZ_ASSERT(bus_dispatch(vm.bus, BUS_MMIO,
				 BVM_DEBUG_MMIO_BASE + BVM_DEBUG_GUEST_STATS,
				 &gpa, 4, true) == 0,
		    "guest stats write refused");
	/* What guest_stats.c promises: printable ASCII, '\n' and '\t'. */
	for (size_t i = 0; i < len; i++)
		published[i] =
			text[i] == '\n' || text[i] == '\t' ||
					(text[i] >= 0x20 && text[i] < 0x7f)
				? (char)text[i]
				: '?';
	published[len] = '\0';
	has_published = true;
}

/* The client --------------------------------------------------------------- */

/* Feed @len bytes through the line buffer; false once a line is too long. */
static bool client_send(struct api_inbuf *in, const uint8_t *p, size_t len)
{
	size_t chunk = 1 + len % 61;

	while (len) {
		const char *line;
		size_t line_len;
		char *dst;
		long room = api_inbuf_space(in, &dst);
		size_t n = len < chunk ? len : chunk;
		int r;

		FUZZ_ASSERT(room >= 0, "api_inbuf_space: %ld", room);
		if ((size_t)room < n)
			n = (size_t)room;
		if (n) {
			memcpy(dst, p, n);
			api_inbuf_commit(in, n);
			p += n;
			len -= n;
		}
		while ((r = api_inbuf_next_line(in, &line, &line_len)) == 1) {
			FUZZ_ASSERT(line_len <= HARNESS_MAX_LINE &&
					    !memchr(line, '\n', line_len),
				    "a line of %zu bytes from the buffer",
				    line_len);
			handle(line, line_len);
		}
		if (r == -E2BIG)
			return false;
		FUZZ_ASSERT(r == 0, "api_inbuf_next_line: %d", r);
		FUZZ_ASSERT(n || room, "line buffer full without a line");
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_inbuf in;
	bool open = true;
	size_t pos = 0;

	vm_reset();
	guest_stats_exit(&vm);
	has_published = false;
	quit_done = false;
	virtio_balloon_dev_set_target(bal, 0);
	api_inbuf_init(&in, HARNESS_MAX_LINE);
	while (pos < size) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t end = nl ? (size_t)(nl - data) + 1 : size;

		if (data[pos] == 0x01)
			guest_publish(data + pos + 1,
				      end - pos - 1 - (nl ? 1 : 0));
		else if (open)
			open = client_send(&in, data + pos, end - pos);
		pos = end;
	}
	api_inbuf_free(&in);
	return 0;
}
