# vmm/api_cmds: the control API's commands and the CLI clients of them
# (vmm stat, balloon, pause, resume, quit); docs/api.md.
VMM_SRCS += vmm/api_cmds.c
VMM_SRCS += vmm/api_vm.c
VMM_SRCS += vmm/cli_api.c
