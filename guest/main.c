// SPDX-License-Identifier: MIT
/*
 * guest/main.c - the guest kernel's CPL-3 start: per-vCPU setup, the device
 * tree (parsed with libfdt), the banner, and the workload the command line
 * names ("workload=NAME", default hello).
 */
#include "guest.h"
#include "guest/boot_fdt.h"
#include "guest/virtio/console.h"
#include "pvh.h"

struct guest_percpu guest_percpu_area[BVM_MAX_VCPUS];
uint8_t guest_user_stacks[BVM_MAX_VCPUS][USTACK_SIZE]
	__attribute__((aligned(16)));
struct guest_boot_info guest_boot;

extern volatile int guest_idt_ready;
extern const struct guest_workload __start_guest_workloads[];
extern const struct guest_workload __stop_guest_workloads[];

void guest_require_hosted(const char *workload)
{
	if (!guest_boot.native)
		return;
	guest_printf("workload '%s' needs --memory-model hosted: it talks to "
		     "the pvmem device, which the native model does not "
		     "have\n",
		     workload);
	guest_exit(BVM_EXIT_USAGE);
}

void guest_main(const void *boot, unsigned long cpu, unsigned long platform);
void idt_init(void);

/*
 * The device tree, checked whole by boot_fdt_parse() (guest/boot_fdt.c, which
 * the FDT fuzz harness runs on the host), then copied into guest_boot.
 */
static void boot_parse_fdt(const void *fdt)
{
	static struct boot_fdt bf;
	const char *why;

	if (boot_fdt_parse(fdt, BVM_FDT_MAX, &bf, &why) < 0)
		guest_fail(__FILE__, __LINE__, "device tree: %s", why);
	guest_boot.fdt = fdt;
	guest_boot.bootargs = bf.bootargs;
	guest_boot.nr_cpus = bf.nr_cpus;
	guest_printf("buddyvm guest: %u vCPU%s, cmdline '%s'\n",
		     guest_boot.nr_cpus, guest_boot.nr_cpus > 1 ? "s" : "",
		     guest_boot.bootargs);
	for (unsigned i = 0; i < bf.nr_ram; i++) {
		guest_boot.ram[i] = (struct guest_ram_range){bf.ram[i].base,
							     bf.ram[i].size};
		guest_printf(
			"  memory [0x%llx, 0x%llx)\n",
			(unsigned long long)bf.ram[i].base,
			(unsigned long long)(bf.ram[i].base + bf.ram[i].size));
	}
	guest_boot.nr_ram = bf.nr_ram;
	guest_boot.ram_bytes = bf.ram_bytes;
	guest_boot.ram_end = bf.ram_end;
	guest_boot.native = bf.native;
	guest_boot.kernel_end = bf.kernel_end;
	for (unsigned i = 0; i < bf.nr_zones; i++) {
		guest_printf("  zone %-7s [0x%llx, 0x%llx)\n", bf.zones[i].name,
			     (unsigned long long)bf.zones[i].start,
			     (unsigned long long)bf.zones[i].end);
		if (strcmp(bf.zones[i].name, "Movable") == 0)
			guest_boot.movable_start = bf.zones[i].start;
	}
	for (unsigned i = 0; i < bf.nr_mmio; i++)
		guest_boot.mmio[i] = bf.mmio[i];
	guest_boot.nr_mmio = bf.nr_mmio;
	guest_printf("  %llu MiB RAM, memory model %s, kernel ends at 0x%llx\n",
		     (unsigned long long)(guest_boot.ram_bytes >> 20),
		     guest_boot.native ? "native" : "hosted",
		     (unsigned long long)guest_boot.kernel_end);
}

const char *guest_cmdline_get(const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	const char *p = guest_boot.bootargs;

	while (p && *p) {
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > klen && p[klen] == '=' &&
		    strncmp(p, key, klen) == 0) {
			size_t vlen = len - klen - 1;

			if (vlen >= size)
				vlen = size - 1;
			memcpy(buf, p + klen + 1, vlen);
			buf[vlen] = '\0';
			return buf;
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

unsigned long guest_cmdline_ulong(const char *key, unsigned long def)
{
	char buf[32];
	char *end;
	unsigned long v;

	if (!guest_cmdline_get(key, buf, sizeof(buf)))
		return def;
	v = strtoul(buf, &end, 0);
	if (end == buf || *end)
		guest_fail(__FILE__, __LINE__, "%s=%s is not a number", key,
			   buf);
	return v;
}

static const struct guest_workload *workload_find(const char *name)
{
	for (const struct guest_workload *w = __start_guest_workloads;
	     w < __stop_guest_workloads; w++) {
		if (strcmp(w->name, name) == 0)
			return w;
	}
	return NULL;
}

static _Noreturn void workload_unknown(const char *name)
{
	guest_printf("unknown workload '%s'; known:", name);
	for (const struct guest_workload *w = __start_guest_workloads;
	     w < __stop_guest_workloads; w++)
		guest_printf(" %s", w->name);
	guest_printf("\n");
	guest_fail(__FILE__, __LINE__, "unknown workload '%s'", name);
}

/*
 * @boot: the FDT (buddyvm) or struct hvm_start_info (PVH); @platform:
 * GUEST_PLATFORM_* (guest/include/pvh.h), set by the entry path taken.
 */
void guest_main(const void *boot, unsigned long cpu, unsigned long platform)
{
	const struct guest_workload *w;
	char name[32];

	/* Before any libfdt call: its canary must not change under it. */
	this_cpu()->canary = rdtsc() * 0x9e3779b97f4a7c15ull;
	if (cpu != 0) {
		if (platform == GUEST_PLATFORM_PVH)
			pvh_ap_online();
		while (!__atomic_load_n(&guest_idt_ready, __ATOMIC_ACQUIRE))
			__builtin_ia32_pause();
		smp_ap_loop();
	}
	guest_boot.platform = (unsigned)platform;
	idt_init();
	if (platform == GUEST_PLATFORM_PVH)
		pvh_boot(boot);
	else
		boot_parse_fdt(boot);
	/* From here console lines go over virtio (console=debug: not). */
	if (!guest_cmdline_get("console", name, sizeof(name)) ||
	    strcmp(name, "debug") != 0)
		gvcon_init();
	if (!guest_cmdline_get("workload", name, sizeof(name)))
		memcpy(name, "hello", sizeof("hello"));
	w = workload_find(name);
	if (!w)
		workload_unknown(name);
	w->run();
	guest_done();
}
