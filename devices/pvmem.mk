# devices/pvmem: the paravirtual memory device of the hosted memory model and
# the VM's mm instance it serves (docs/hosted-memory.md).
DEVICES_SRCS += devices/hosted_mem.c
DEVICES_SRCS += devices/pvmem.c
DEVICES_SRCS += devices/pvmem_vm.c
