// SPDX-License-Identifier: MIT
/*
 * guest/main.c - the guest kernel's CPL-3 start: per-vCPU setup, the device
 * tree (parsed with libfdt), the banner, and the workload the command line
 * names ("workload=NAME", default hello).
 */
#include <libfdt.h>

#include "guest.h"
#include "guest/virtio/console.h"

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

void guest_main(const void *fdt, unsigned long cpu);
void idt_init(void);

static uint64_t fdt_read_u64(const void *p)
{
	fdt64_t v;

	memcpy(&v, p, sizeof(v));
	return fdt64_to_cpu(v);
}

/* Keep guest_boot.ram sorted by base (the FDT does not promise an order). */
static void boot_add_ram(uint64_t base, uint64_t size)
{
	unsigned i = guest_boot.nr_ram++;

	while (i > 0 && guest_boot.ram[i - 1].base > base) {
		guest_boot.ram[i] = guest_boot.ram[i - 1];
		i--;
	}
	guest_boot.ram[i] = (struct guest_ram_range){base, size};
	guest_boot.ram_bytes += size;
	if (base + size > guest_boot.ram_end)
		guest_boot.ram_end = base + size;
}

/* Every /memory@ node, once: the memory stacks read guest_boot.ram. */
static void boot_parse_memory(const void *fdt)
{
	int node;

	fdt_for_each_subnode(node, fdt, 0)
	{
		const char *name = fdt_get_name(fdt, node, NULL);
		const char *reg;
		uint64_t base, size;
		int len;

		if (!name || strncmp(name, "memory@", 7) != 0)
			continue;
		reg = fdt_getprop(fdt, node, "reg", &len);
		GUEST_ASSERT(reg && len == 16);
		base = fdt_read_u64(reg);
		size = fdt_read_u64(reg + 8);
		GUEST_ASSERT(base + size > base);
		GUEST_ASSERT(guest_boot.nr_ram < GUEST_MAX_RAM_RANGES);
		boot_add_ram(base, size);
		guest_printf("  memory [0x%llx, 0x%llx)\n",
			     (unsigned long long)base,
			     (unsigned long long)(base + size));
	}
}

static void boot_parse_zones(const void *fdt, int node)
{
	const char *names;
	const void *zones;
	int len, names_len;

	zones = fdt_getprop(fdt, node, "zones", &len);
	names = fdt_getprop(fdt, node, "zone-names", &names_len);
	GUEST_ASSERT(zones && len > 0 && len % 16 == 0 && names);
	for (int i = 0; i < len / 16; i++) {
		const char *z = (const char *)zones + 16 * i;
		const char *name =
			fdt_stringlist_get(fdt, node, "zone-names", i, NULL);

		guest_printf("  zone %-7s [0x%llx, 0x%llx)\n",
			     name ? name : "?",
			     (unsigned long long)fdt_read_u64(z),
			     (unsigned long long)fdt_read_u64(z + 8));
	}
}

static void boot_parse_buddyvm(const void *fdt)
{
	int node = fdt_path_offset(fdt, "/buddyvm");
	const char *model;
	const void *kend;
	int len;

	GUEST_ASSERT(node >= 0);
	model = fdt_getprop(fdt, node, "memory-model", &len);
	GUEST_ASSERT(model);
	guest_boot.native = strcmp(model, "native") == 0;
	kend = fdt_getprop(fdt, node, "kernel-end", &len);
	GUEST_ASSERT(kend && len == 8);
	guest_boot.kernel_end = fdt_read_u64(kend);
	boot_parse_zones(fdt, node);
}

static void boot_parse_fdt(const void *fdt)
{
	int node;

	GUEST_ASSERT_EQ(fdt_check_header(fdt), 0);
	guest_boot.fdt = fdt;
	node = fdt_path_offset(fdt, "/chosen");
	guest_boot.bootargs =
		node >= 0 ? fdt_getprop(fdt, node, "bootargs", NULL) : NULL;
	if (!guest_boot.bootargs)
		guest_boot.bootargs = "";
	node = fdt_path_offset(fdt, "/cpus");
	GUEST_ASSERT(node >= 0);
	{
		int cpu;

		fdt_for_each_subnode(cpu, fdt, node) guest_boot.nr_cpus++;
	}
	GUEST_ASSERT(guest_boot.nr_cpus >= 1 &&
		     guest_boot.nr_cpus <= BVM_MAX_VCPUS);
	guest_printf("buddyvm guest: %u vCPU%s, cmdline '%s'\n",
		     guest_boot.nr_cpus, guest_boot.nr_cpus > 1 ? "s" : "",
		     guest_boot.bootargs);
	boot_parse_memory(fdt);
	boot_parse_buddyvm(fdt);
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

void guest_main(const void *fdt, unsigned long cpu)
{
	const struct guest_workload *w;
	char name[32];

	/* Before any libfdt call: its canary must not change under it. */
	this_cpu()->canary = rdtsc() * 0x9e3779b97f4a7c15ull;
	if (cpu != 0) {
		while (!__atomic_load_n(&guest_idt_ready, __ATOMIC_ACQUIRE))
			__builtin_ia32_pause();
		smp_ap_loop();
	}
	idt_init();
	boot_parse_fdt(fdt);
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
