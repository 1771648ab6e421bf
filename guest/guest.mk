# guest/: the freestanding guest kernel, linked into build/guest.elf.
GUEST_SRCS += guest/entry.S
GUEST_SRCS += guest/cpl0.c
GUEST_SRCS += guest/trap.c
GUEST_SRCS += guest/irq.c
GUEST_SRCS += guest/console.c
GUEST_SRCS += guest/smp.c
GUEST_SRCS += guest/main.c
GUEST_SRCS += guest/lib/string.c
GUEST_SRCS += guest/workloads/hello.c
GUEST_SRCS += guest/workloads/smp.c
GUEST_SRCS += guest/workloads/timer.c
GUEST_SRCS += guest/workloads/fault.c

# Debian's libfdt, built for the host ABI but freestanding-safe: it needs only
# the C library subset in guest/lib/string.c and a stack canary at %fs:0x28.
GUEST_LIBFDT := /usr/lib/x86_64-linux-gnu/libfdt.a
# <libfdt.h> itself comes from /usr/include, searched after our own
# guest/include (whose libfdt_env.h replaces the host one).
GUEST_LIBFDT_INCDIR := /usr/include

# The top Makefile defines guest_obj and GUEST_ELF after including the
# fragments, so the rules below spell the object paths out themselves.
guest_objs_of = $(patsubst %.S,$(BUILD)/guest/%.o,$(patsubst %.c,$(BUILD)/guest/%.o,$(1)))

# The guest build of mm/, as an archive: the linker pulls in only what the
# guest uses.
GUEST_MM_LIB = $(BUILD)/guest/libmm.a

# CPL-0 C code: the PVM emulator that runs it has no SSE.
$(BUILD)/guest/guest/cpl0.o: GUEST_CFLAGS += -mgeneral-regs-only
$(BUILD)/guest/guest/main.o: GUEST_CFLAGS += -idirafter $(GUEST_LIBFDT_INCDIR)

# Fragments are included in name order (guest/ before mm/), so MM_SRCS is
# only complete later: expand these prerequisites a second time, after all
# fragments are read.
.SECONDEXPANSION:
$(GUEST_MM_LIB): $$(call guest_objs_of,$$(MM_SRCS))
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/guest.elf: $$(call guest_objs_of,$$(GUEST_SRCS)) $(GUEST_MM_LIB) \
		    guest/guest.ld
	@$(if $(Q),echo "  LD-GST  $@")
	$(Q)$(GUEST_CC) $(GUEST_LDFLAGS) -Wl,-T,guest/guest.ld -o $@ \
		$(call guest_objs_of,$(GUEST_SRCS)) $(GUEST_MM_LIB) $(GUEST_LIBFDT) \
		$(GUEST_MM_LIB)
GUEST_SRCS += guest/workloads/abuse.c
GUEST_SRCS += guest/workloads/irq.c
# The hosted memory stack: pvmem driver, per-vCPU page cache, page source,
# slab and kmalloc (docs/guest.md, docs/hosted-memory.md).
GUEST_SRCS += guest/pvmem.c
GUEST_SRCS += guest/page_cache.c
GUEST_SRCS += guest/guest_mm.c
$(BUILD)/guest/guest/guest_mm.o: GUEST_CFLAGS += -idirafter $(GUEST_LIBFDT_INCDIR)
GUEST_SRCS += guest/workloads/slab.c
GUEST_SRCS += guest/workloads/kmalloc.c
GUEST_SRCS += guest/workloads/mempool.c
GUEST_SRCS += guest/workloads/pressure.c
GUEST_SRCS += guest/workloads/hostile.c
GUEST_SRCS += guest/workloads/pvbench.c
