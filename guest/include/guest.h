/* SPDX-License-Identifier: MIT */
/*
 * guest/include/guest.h - the guest kernel's shared definitions: per-vCPU
 * area, vectors, console and report API (KVM-selftests style), idle, SMP.
 */
#ifndef GUEST_H
#define GUEST_H

#include "abi/boot.h"

/* Interrupt vectors. */
#define GUEST_VEC_TIMER	     0x20
#define GUEST_VEC_WAKE	     0x21 /* IPI: "look at your mailbox" */
#define GUEST_VEC_DEVICE     0x30 /* + IOAPIC pin, GUEST_NR_DEVICE_IRQS of them */
#define GUEST_NR_DEVICE_IRQS 24
#define GUEST_VEC_SPURIOUS   0xff

/* Offsets used by the assembly entry code. */
#define PERCPU_SELF	   0x00
#define PERCPU_CPU	   0x08
#define PERCPU_PENDING	   0x10
#define PERCPU_TICKS	   0x18
#define PERCPU_IRQS	   0x20
#define PERCPU_CANARY	   0x28
#define USTACK_SIZE	   0x4000
#define GUEST_PERCPU_BYTES 0x800

#define LAPIC_EOI	   0xb0

#ifndef __ASSEMBLY__

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/boot_fdt.h"

typedef void (*guest_work_fn)(void *arg);

/* The frame exc_common builds (guest/entry.S), lowest address first. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

struct guest_console {
	struct bvm_console_buf hdr;
	char data[1024];
};

/*
 * One per vCPU; FS base points at it (set at CPL 0), so CPL-3 code reaches
 * it with %fs-relative loads and libfdt's stack canary lives at %fs:0x28.
 */
struct guest_percpu {
	struct guest_percpu *self; /* 0x00 */
	uint64_t cpu;		   /* 0x08 vCPU index */
	volatile uint64_t pending; /* 0x10 interrupts not yet consumed */
	volatile uint64_t ticks;   /* 0x18 LAPIC timer interrupts */
	volatile uint64_t irqs;	   /* 0x20 device pins seen, bit per pin */
	uint64_t canary;	   /* 0x28 read by -fstack-protector code */
	/* Mailbox: another vCPU stores arg then fn, then wakes us. */
	guest_work_fn work_fn;
	void *work_arg;
	struct guest_console console;
	struct bvm_report report;
	struct trap_frame trap; /* the exception being reported */
	uint64_t trap_cr2;
	unsigned trap_nesting; /* exceptions being reported */
} __attribute__((aligned(GUEST_PERCPU_BYTES)));

_Static_assert(sizeof(struct guest_percpu) == GUEST_PERCPU_BYTES,
	       "entry.S indexes the per-vCPU areas by GUEST_PERCPU_BYTES");
/* entry.S and mm_port_impl.h use these offsets. */
_Static_assert(offsetof(struct guest_percpu, self) == PERCPU_SELF, "self");
_Static_assert(offsetof(struct guest_percpu, cpu) == PERCPU_CPU, "cpu");
_Static_assert(offsetof(struct guest_percpu, pending) == PERCPU_PENDING,
	       "pending");
_Static_assert(offsetof(struct guest_percpu, ticks) == PERCPU_TICKS, "ticks");
_Static_assert(offsetof(struct guest_percpu, irqs) == PERCPU_IRQS, "irqs");
_Static_assert(offsetof(struct guest_percpu, canary) == PERCPU_CANARY,
	       "canary (libfdt's -fstack-protector reads %fs:0x28)");

extern struct guest_percpu guest_percpu_area[BVM_MAX_VCPUS];
extern uint8_t guest_user_stacks[BVM_MAX_VCPUS][USTACK_SIZE];

static inline struct guest_percpu *this_cpu(void)
{
	struct guest_percpu *p;

	__asm__ volatile("movq %%fs:0, %0" : "=r"(p));
	return p;
}

static inline unsigned guest_cpu_id(void)
{
	return (unsigned)this_cpu()->cpu;
}

#define GUEST_MAX_RAM_RANGES BOOT_FDT_MAX_RAM

/* A RAM range from an FDT /memory node, in bytes. */
struct guest_ram_range {
	uint64_t base;
	uint64_t size;
};

/* Boot information parsed from the FDT at CPL 3. */
struct guest_boot_info {
	const void *fdt;
	unsigned nr_cpus;
	uint64_t ram_bytes;
	uint64_t ram_end; /* end of the highest RAM range */
	/* The /memory nodes, sorted by base, parsed once at boot. */
	struct guest_ram_range ram[GUEST_MAX_RAM_RANGES];
	unsigned nr_ram;
	bool native;
	const char *bootargs;
	uint64_t kernel_end;
	/* The FDT's Movable zone (vmm run --movable): its start; 0: none. */
	uint64_t movable_start;
	unsigned platform; /* GUEST_PLATFORM_* (pvh.h): who booted us */
	uint64_t rsdp;	   /* ACPI RSDP (PVH), 0 if none */
	/* The virtio-mmio devices (the FDT's virtio,mmio nodes), in order. */
	struct boot_mmio_dev mmio[BOOT_FDT_MAX_MMIO];
	unsigned nr_mmio;
};

extern struct guest_boot_info guest_boot;

/*
 * The debug channels, by MMIO: works at CPL 3 on every host (PVM does not
 * grant IOPL 3, so CPL-3 port I/O would #GP there). One VM exit each.
 */
static inline void debug_write32(unsigned reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)(BVM_DEBUG_MMIO_BASE + reg) = v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* Console and reports (guest/console.c). */
int guest_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void guest_console_flush(void);

/*
 * A console driver's output: @len bytes of whole lines (or a full buffer).
 * Return 0 if taken, nonzero to have them go over the debug channel.
 * Called on any vCPU; the driver serialises.
 */
typedef int (*guest_console_out_fn)(const char *buf, unsigned len);

/* Send console output through @fn from now on (NULL: the debug channel). */
void guest_console_set_output(guest_console_out_fn fn);

/* Failure reports: back to the debug channel for good (no driver needed). */
void guest_console_panic_mode(void);
void guest_stage(uint64_t n);
_Noreturn void guest_done(void);
_Noreturn void guest_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
_Noreturn void guest_exit(unsigned status);

#define GUEST_ASSERT(cond)                                                     \
	do {                                                                   \
		if (!(cond))                                                   \
			guest_fail(__FILE__, __LINE__, "%s", #cond);           \
	} while (0)

#define GUEST_ASSERT_EQ(a, b)                                                  \
	do {                                                                   \
		unsigned long long _a = (unsigned long long)(a);               \
		unsigned long long _b = (unsigned long long)(b);               \
		if (_a != _b)                                                  \
			guest_fail(__FILE__, __LINE__,                         \
				   "%s == %s: 0x%llx != 0x%llx", #a, #b, _a,   \
				   _b);                                        \
	} while (0)

/* Idle and interrupts (guest/irq.c). */
/* Calls into CPL 0 (guest/entry.S). */
void guest_halt(void);	       /* idle until an interrupt is pending */
void guest_triple_fault(void); /* debug hook: empty IDT, then a fault */
uint64_t guest_take_pending(void);
uint64_t guest_take_device_irqs(void);	  /* bit n: IOAPIC pin n fired */
bool guest_take_device_irq(unsigned bit); /* take bit only: was it set? */
/* Route IOAPIC pin @gsi, edge-triggered, to vCPU @cpu (unmasked). */
void ioapic_route_edge(unsigned gsi, unsigned cpu);
/* Route @gsi to the vector of device bit @irq (pins sharing one bit). */
void ioapic_route_edge_to(unsigned gsi, unsigned cpu, unsigned irq);
uint32_t ioapic_read(unsigned reg);
void guest_wait_for_interrupt(void);
void lapic_write(unsigned reg, uint32_t v);
uint32_t lapic_read(unsigned reg);
void lapic_send_ipi(unsigned cpu, unsigned vector);

/* SMP (guest/smp.c). */
void smp_run_on(unsigned cpu, guest_work_fn fn, void *arg);
void smp_ap_loop(void);
void smp_signal_done(unsigned *counter);
bool smp_wait_count(unsigned *counter, unsigned target, unsigned timeout_ms);

/* LAPIC timer (guest/irq.c): one-shot in @us microseconds, or stop it. */
void lapic_timer_oneshot(unsigned us);
void lapic_timer_periodic(unsigned us);
void lapic_timer_stop(void);

/*
 * TSC rate in kHz, calibrated against the LAPIC timer (KVM counts it at
 * 1 GHz with divide-by-1) the first time: 50 ms, then cached. vCPU 0.
 */
uint64_t guest_tsc_khz(void);

/* Command line (guest/main.c): value of key=VALUE, or NULL. */
const char *guest_cmdline_get(const char *key, char *buf, size_t size);
unsigned long guest_cmdline_ulong(const char *key, unsigned long def);

/* Workloads: one file each, registered with GUEST_WORKLOAD(). */
struct guest_workload {
	const char *name;
	const char *summary;
	void (*run)(void); /* on vCPU 0, at CPL 3; ends with guest_done() */
};

/*
 * A workload that talks to the pvmem device calls this first: in the native
 * model (no such device) it says so and exits 2, a bad command line.
 */
void guest_require_hosted(const char *workload);

#define GUEST_WORKLOAD(ident, wname, wsummary, wrun)                           \
	static const struct guest_workload guest_workload_##ident              \
		__attribute__((used, section("guest_workloads"),               \
			       aligned(8))) = {wname, wsummary, wrun}

/* The C library subset libfdt and the guest use (guest/lib/string.c). */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
unsigned long strtoul(const char *s, char **end, int base);

#endif /* __ASSEMBLY__ */
#endif /* GUEST_H */
