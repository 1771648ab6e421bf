# mm/: the physical memory manager library. MM_SRCS are freestanding and
# built three times (host, ASan, guest); MM_HOST_SRCS are the host port.

# The page allocator.
MM_SRCS += mm/fmt.c
MM_SRCS += mm/mm_init.c
MM_SRCS += mm/buddy.c
MM_SRCS += mm/page_alloc.c
MM_SRCS += mm/pcp.c
MM_SRCS += mm/frame_state.c
MM_SRCS += mm/page_isolation.c
MM_SRCS += mm/page_reporting.c
MM_SRCS += mm/mm_stats.c
MM_SRCS += mm/mm_check.c

# The slab layer over a page source (mm/page_source.h): SLUB-style caches,
# kmalloc and mempool.
MM_SRCS += mm/slab.c
MM_SRCS += mm/slab_debug.c
MM_SRCS += mm/kmalloc.c
MM_SRCS += mm/mempool.c

MM_HOST_SRCS += mm/host/port_host.c

# Migration, compaction and contiguous allocation (docs/compaction.md).
MM_SRCS += mm/migrate.c
MM_SRCS += mm/compaction.c
MM_SRCS += mm/cma.c
