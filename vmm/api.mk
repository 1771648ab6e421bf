# vmm/api: the control socket (JSON lines over a UNIX socket).
VMM_SRCS += vmm/api.c

VMM_LIBS += -ljansson
