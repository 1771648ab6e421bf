GUEST_SRCS += guest/native_mm.c
$(BUILD)/guest/guest/native_mm.o: GUEST_CFLAGS += -idirafter $(GUEST_LIBFDT_INCDIR)
