# mm/: the physical memory manager library. MM_SRCS are freestanding and built
# for both host and guest; MM_HOST_SRCS are the host port.
MM_SRCS += mm/fmt.c
MM_SRCS += mm/zone.c
MM_SRCS += mm/page_alloc.c
MM_SRCS += mm/pcp.c
MM_SRCS += mm/page_ops.c
MM_SRCS += mm/frame_state.c
MM_SRCS += mm/mm_stats.c
MM_SRCS += mm/mm_check.c

MM_HOST_SRCS += mm/host/port_host.c
