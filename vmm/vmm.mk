# vmm/: the KVM virtual machine monitor. main.c is kept apart so that unit
# tests can link everything else.
VMM_MAIN_SRCS += vmm/main.c

VMM_LIBS += -lfdt

VMM_SRCS += vmm/guest_mem.c
VMM_SRCS += vmm/bus.c
VMM_SRCS += vmm/cli.c
VMM_SRCS += vmm/elf_load.c
VMM_SRCS += vmm/fdt_build.c
VMM_SRCS += vmm/x86_boot.c
VMM_SRCS += vmm/debug_ports.c
VMM_SRCS += vmm/vcpu.c
VMM_SRCS += vmm/vm.c
VMM_SRCS += vmm/device_table.c
VMM_SRCS += vmm/guest_stats.c
VMM_SRCS += vmm/vm_stats.c
