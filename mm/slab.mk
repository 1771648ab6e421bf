# mm/ slab layer: SLUB-style caches, kmalloc and mempool over a page source
# (mm/page_source.h). Freestanding, built for host and guest.
MM_SRCS += mm/slab.c
MM_SRCS += mm/kmalloc.c
MM_SRCS += mm/mempool.c
