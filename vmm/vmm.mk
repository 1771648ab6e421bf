# vmm/: the KVM virtual machine monitor. main.c is kept apart so that the
# unit tests can link everything else.
VMM_MAIN_SRCS += vmm/main.c

# The VM: guest memory, boot, vCPUs, the exit bus.
VMM_SRCS += vmm/guest_mem.c
VMM_SRCS += vmm/bus.c
VMM_SRCS += vmm/cli.c
VMM_SRCS += vmm/elf_load.c
VMM_SRCS += vmm/fdt_build.c
VMM_SRCS += vmm/x86_boot.c
VMM_SRCS += vmm/debug_ports.c
VMM_SRCS += vmm/vcpu.c
VMM_SRCS += vmm/vm.c
VMM_SRCS += vmm/frame_db.c
VMM_SRCS += vmm/vm_compaction.c
VMM_SRCS += vmm/guest_stats.c
VMM_SRCS += vmm/vm_stats.c
VMM_SRCS += vmm/stat_fields.c
VMM_SRCS += vmm/seccomp.c

# The control API (JSON lines over a UNIX socket, docs/api.md) and the CLI
# clients of its commands (vmm stat, balloon, pause, resume, quit).
VMM_SRCS += vmm/api.c
VMM_SRCS += vmm/api_buf.c
VMM_SRCS += vmm/api_cmds.c
VMM_SRCS += vmm/api_compact.c
VMM_SRCS += vmm/api_vm.c
VMM_SRCS += vmm/cli_api.c
VMM_SRCS += vmm/cli_compact.c
