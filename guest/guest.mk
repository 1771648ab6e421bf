# guest/: the freestanding guest kernel, linked with the guest build of mm/
# and Debian's libfdt into build/guest.elf (docs/guest.md).

# Boot, CPL-0 entry, traps, interrupts, console, SMP.
GUEST_SRCS += guest/entry.S
GUEST_SRCS += guest/pvh_entry.S
GUEST_SRCS += guest/pvh.c
GUEST_SRCS += guest/pvh_parse.c
GUEST_SRCS += guest/cpl0.c
GUEST_SRCS += guest/trap.c
GUEST_SRCS += guest/irq.c
GUEST_SRCS += guest/console.c
GUEST_SRCS += guest/smp.c
GUEST_SRCS += guest/main.c
GUEST_SRCS += guest/boot_fdt.c
GUEST_SRCS += guest/lib/string.c
GUEST_SRCS += guest/lib/prng.c
GUEST_SRCS += guest/pvmem.c
GUEST_SRCS += guest/page_cache.c
GUEST_SRCS += guest/mm_stack.c

# The memory stacks: the hosted model's pvmem driver and per-vCPU page cache,
# the page source both models share, the native model's own buddy.
GUEST_SRCS += guest/native_mm.c

# Coherent DMA buffers for device drivers (docs/dma.md).
GUEST_SRCS += guest/dma.c

# Migration: movable buffers, the hosted ring drain, native compaction.
GUEST_SRCS += guest/mbuf.c
GUEST_SRCS += guest/guest_migrate.c

# The virtio library, its two transports (virtio-mmio; virtio-pci over
# ECAM, with ACPI's MCFG and the BAR placement of guest/pci.c) and drivers.
GUEST_SRCS += guest/virtio/virtio.c
GUEST_SRCS += guest/virtio/virtio_mmio.c
GUEST_SRCS += guest/virtio/virtio_pci.c
GUEST_SRCS += guest/virtio/pci_caps.c
GUEST_SRCS += guest/pci.c
GUEST_SRCS += guest/acpi.c
GUEST_SRCS += guest/virtio/balloon.c
GUEST_SRCS += guest/virtio/console.c
GUEST_SRCS += guest/virtio/blk.c

# Workloads, chosen by workload= on the guest command line.
GUEST_SRCS += guest/workloads/hello.c
GUEST_SRCS += guest/workloads/smp.c
GUEST_SRCS += guest/workloads/timer.c
GUEST_SRCS += guest/workloads/fault.c
GUEST_SRCS += guest/workloads/abuse.c
GUEST_SRCS += guest/workloads/irq.c
GUEST_SRCS += guest/workloads/slab.c
GUEST_SRCS += guest/workloads/kmalloc.c
GUEST_SRCS += guest/workloads/mempool.c
GUEST_SRCS += guest/workloads/pressure.c
GUEST_SRCS += guest/workloads/hostile.c
GUEST_SRCS += guest/workloads/pvbench.c
GUEST_SRCS += guest/workloads/balloon.c
GUEST_SRCS += guest/workloads/virtio_hostile.c
GUEST_SRCS += guest/workloads/migrate.c
GUEST_SRCS += guest/workloads/migrate_hostile.c
GUEST_SRCS += guest/workloads/migrate_balloon.c
GUEST_SRCS += guest/workloads/fragment.c
GUEST_SRCS += guest/workloads/blk.c
GUEST_SRCS += guest/workloads/blk_hostile.c

# CPL-0 C code: the PVM emulator that runs it has no SSE.
GUEST_NOSSE_SRCS += guest/cpl0.c

# Sources that include <libfdt.h> (found after guest/include, whose
# libfdt_env.h replaces the host one).
GUEST_FDT_SRCS += guest/boot_fdt.c
