# vmm/: the KVM virtual machine monitor. main.c is kept apart so that unit
# tests can link everything else.
VMM_MAIN_SRCS += vmm/main.c

VMM_LIBS += -lfdt

VMM_SRCS += vmm/guest_mem.c
