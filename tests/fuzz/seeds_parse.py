#!/usr/bin/env python3
"""Write the seeds of the parser harnesses elf, api and cli:
tests/fuzz/seeds_parse.py [GUEST_ELF] writes tests/fuzz/corpus/{elf,api,cli}/
(GUEST_ELF, default build/guest.elf, lends its real headers to a few ELF
seeds). The fdt seeds come from the harness itself:
FUZZ_FDT_SEEDS=tests/fuzz/corpus/fdt build/fuzz/fdt.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# elf ----------------------------------------------------------------------
PT_LOAD, PT_NOTE = 1, 4
PF_X, PF_W, PF_R = 1, 2, 4
EHDR, PHDR = 64, 56


def elf_ehdr(entry, phnum, phoff=EHDR, cls=2, data=1, etype=2, machine=62):
    ident = b'\x7fELF' + bytes([cls, data, 1]) + bytes(9)
    return ident + struct.pack('<HHIQQQIHHHHHH', etype, machine, 1, entry,
                               phoff, 0, 0, EHDR, PHDR, phnum, 64, 0, 0)


def elf_phdr(ptype, flags, off, addr, filesz, memsz, paddr=None):
    return struct.pack('<IIQQQQQQ', ptype, flags, off, addr,
                       addr if paddr is None else paddr, filesz, memsz,
                       0x1000)


def elf_image(segs, entry, extra_phdrs=()):
    """segs: (flags, addr, data, memsz); data follows the headers."""
    nph = len(segs) + len(extra_phdrs)
    off = EHDR + PHDR * nph
    phdrs, body = b'', b''
    for flags, addr, data, memsz in segs:
        phdrs += elf_phdr(PT_LOAD, flags, off + len(body), addr, len(data),
                          memsz)
        body += data
    for ph in extra_phdrs:
        phdrs += ph
    return elf_ehdr(entry, nph) + phdrs + body


def elf_seeds(guest_elf):
    text = b'\x90' * 48 + b'\xf4\xeb\xfd'
    seeds = {
        'min-one-segment': elf_image([(PF_R | PF_X, 0x100000, text, 4096)],
                                     0x100000),
        'text-data-bss': elf_image(
            [(PF_R | PF_X, 0x100000, text, 4096),
             (PF_R | PF_W, 0x200000, b'\xab' * 32, 0x3000)], 0x100010),
        'note-and-load': elf_image(
            [(PF_R | PF_X, 0x180000, text, len(text))], 0x180000,
            [elf_phdr(PT_NOTE, PF_R, 0, 0, 16, 16)]),
        'bad-class32': elf_ehdr(0x100000, 1, cls=1) +
        elf_phdr(PT_LOAD, PF_R | PF_X, 0, 0x100000, 64, 64),
        'overlap': elf_image([(PF_R | PF_X, 0x100000, text, 4096),
                              (PF_R, 0x100800, text, 64)], 0x100000),
    }
    if guest_elf and os.path.exists(guest_elf):
        with open(guest_elf, 'rb') as f:
            real = f.read()
        phnum = struct.unpack_from('<H', real, 56)[0]
        end = EHDR + PHDR * phnum
        seeds['guest-ehdr'] = real[:EHDR]
        seeds['guest-headers'] = real[:end]
        seeds['guest-4k'] = real[:4096]
        # The real headers, each segment's file part cut to 64 bytes of
        # its real start, packed after the headers, and memory sizes cut
        # to 64 KiB (zeroing a 2 MiB .bss per input would cost most of the
        # harness's time): a loadable guest.elf.
        phdrs, body = b'', b''
        for i in range(phnum):
            (ptype, flags, off, va, pa, fsz, msz,
             align) = struct.unpack_from('<IIQQQQQQ', real, EHDR + PHDR * i)
            n = min(fsz, 64)
            phdrs += struct.pack('<IIQQQQQQ', ptype, flags,
                                 end + len(body), va, pa, n,
                                 min(msz, 64 << 10), align)
            body += real[off:off + n]
        seeds['guest-shrunk'] = real[:EHDR] + phdrs + body
    return seeds


# api ----------------------------------------------------------------------
def api_seeds():
    lines = {
        # As docs/api.md writes them.
        'stat': b'{"cmd": "stat"}',
        'balloon-size': b'{"cmd": "balloon", "target": "512M"}',
        'balloon-bytes': b'{"cmd": "balloon", "target_bytes": 536870912}',
        'compact-zone': b'{"cmd": "compact", "zone": "DMA32", "order": 9}',
        'pause': b'{"cmd":"pause"}',
        'resume': b'{"cmd":"resume"}',
        'quit': b'{"cmd":"quit"}',
        'compact': b'{"cmd":"compact"}',
        'unknown-multibyte': b'{"cmd":"a' + '\u00e9'.encode() * 40 + b'"}',
        'bad-utf8': b'{"cmd":"stat","x":"\xff\xfe"}',
        'broken-json': b'{"cmd":"st\xc3',
        'empty': b'',
        'not-object': b'[1,2,3]',
        'unknown-arg': b'{"cmd":"stat","verbose":true}',
        'two-lines': b'{"cmd":"stat"}\n{"cmd":"pause"}',
    }
    return lines


# cli ----------------------------------------------------------------------
def cli_seeds():
    """Arguments after "run", NUL-separated; @G a guest file, @D a disk."""
    args = {
        'mem': ['--mem', '1G', '@G'],
        'mem-eq-units': ['--mem=1536M', '--vcpus=4', '@G'],
        'mem-bytes-kib': ['--mem', '33554432', '--mem-limit', '1024KiB', '@G'],
        'native-cma': ['--memory-model', 'native', '--cma', '64M@dma32',
                       '--mem', '2G', '@G'],
        'cma-fit': ['--cma=2m', '--mem=64M', '@G'],
        'disk-flags': ['--disk', '@D,readonly,direct', '--disk', '@D', '@G'],
        'api-timeout': ['--api', '/tmp/x.sock', '--timeout', '86400',
                        '--stats', '--check', '@G'],
        'cmdline-dashdash': ['--cmdline', 'workload=blk a=b', '--', '@G'],
        'backing': ['--mem-backing', 'hugetlbfs', '--mem', '4G', '@G'],
        'help': ['--mem', '1G', '--help'],
        'huge-number': ['--mem', '18446744073709551616', '@G'],
        'bad-unit': ['--mem', '1Q', '@G'],
        'movable': ['--movable', '190M', '--memory-model', 'native', '@G'],
        'movable-big': ['--mem', '64G', '--movable=65216M', '@G'],
    }
    return {k: b'\0'.join(a.encode() for a in v) for k, v in args.items()}


def write(name, seeds):
    out = os.path.join(HERE, 'corpus', name)
    os.makedirs(out, exist_ok=True)
    for seed, data in seeds.items():
        with open(os.path.join(out, seed), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    write('elf', elf_seeds(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(HERE, '..', '..', 'build',
                                        'guest.elf')))
    write('api', api_seeds())
    write('cli', cli_seeds())
