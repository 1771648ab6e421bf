# mm/: the physical memory manager library. MM_SRCS are freestanding and built
# for both host and guest; MM_HOST_SRCS are the host port.
MM_SRCS += mm/fmt.c

MM_HOST_SRCS += mm/host/port_host.c
