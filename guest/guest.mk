# guest/: the freestanding guest kernel, linked into build/guest.elf.
