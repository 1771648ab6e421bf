#!/usr/bin/env python3
"""Write the seed corpora of the fuzz harnesses: tests/fuzz/seeds.py [NAME...]

Each harness's seeds are a few meaningful inputs in the byte format its
fuzz_<name>.c reads (described at the top of that file), so a fuzz run
starts from requests that get past the first checks. Rerun after changing
a harness's format; the files are committed in tests/fuzz/corpus/<name>/.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# mm/gfp.h
GFP_DMA, GFP_DMA32, GFP_MOVABLE, GFP_ZERO = 1, 2, 4, 1 << 10
GFP_KERNEL = (1 << 8) | (1 << 9) | (1 << 6) | (1 << 7)


# pvmem ------------------------------------------------------------------
# Step: kind byte (0-2 batch, 3 raw block, 4 doorbell anywhere, 5 page
# limit, 6 clock, 7 answer migrations). Batch: (n - 1) byte, then n
# requests of 16 bytes: op order dma_bits mode gfp:u32 count:u16 dev arg:u32.
def pv_req(op, order=0, dma_bits=0, mode=0, gfp=0, count=0, dev=0, arg=0):
    return struct.pack('<BBBBIHBI', op, order, dma_bits, mode, gfp, count,
                       dev, arg)


def pv_batch(*reqs):
    return bytes([0, len(reqs) - 1]) + b''.join(reqs)


INFO, ALLOC, FREE, DMA_ALLOC, DMA_FREE, STATS = 1, 2, 3, 4, 5, 6
MIG_SETUP, MIG_ANSWER, COMPACT = 7, 8, 9


def pvmem_seeds():
    alloc = lambda order, count, gfp=GFP_KERNEL, mode=0, arg=0: pv_req(
        ALLOC, order=order, gfp=gfp, count=count, mode=mode, arg=arg)
    free = lambda count, arg=0, mode=0: pv_req(FREE, count=count, arg=arg,
                                              mode=mode)
    hdr_ok = struct.pack('<IHHHHiI', 0x4d4d5650, 1, 2, 1, 0, 0, 0)
    return {
        'alloc-free': pv_batch(alloc(0, 16)) + pv_batch(free(16)),
        'zero-reuse': pv_batch(alloc(0, 64)) + pv_batch(free(64)) +
        pv_batch(alloc(0, 64, GFP_KERNEL | GFP_ZERO)),
        'big-report': pv_batch(alloc(10, 3), alloc(9, 4)) +
        pv_batch(free(7)) + pv_batch(alloc(9, 2, GFP_ZERO)),
        'zones': pv_batch(alloc(0, 8, GFP_DMA), alloc(1, 8, GFP_DMA32),
                          alloc(2, 8, 0)) + pv_batch(free(24)),
        'dma': pv_batch(pv_req(DMA_ALLOC, dma_bits=32, dev=1, arg=8192,
                               gfp=GFP_ZERO),
                        pv_req(DMA_ALLOC, dma_bits=24, dev=2, arg=100)) +
        pv_batch(pv_req(DMA_FREE, dev=1, arg=0)) +
        pv_batch(pv_req(DMA_FREE, dev=2, arg=1, mode=0x20)),
        'dma-contig': pv_batch(pv_req(DMA_ALLOC, dma_bits=40, dev=3,
                                      mode=0x10, arg=(6 << 20) >> 8)),
        'info-stats': pv_batch(pv_req(INFO, count=256, arg=0),
                               pv_req(STATS, count=512, arg=4096)),
        'migrate': pv_batch(pv_req(MIG_SETUP),
                            alloc(0, 32, GFP_KERNEL | GFP_MOVABLE)) +
        pv_batch(pv_req(COMPACT, arg=0, count=0)) + bytes([7, 0]) +
        bytes([6, 200, 0]) + bytes([7, 1]),
        'limit': bytes([5, 0, 4]) + pv_batch(alloc(0, 512)) +
        pv_batch(free(64)),
        'raw-bad-magic': bytes([3, 0]) + b'XXXX' + hdr_ok[4:] +
        pv_req(INFO) + bytes(48),
        'raw-ok': bytes([3, 1]) + hdr_ok + struct.pack(
            '<HBBIIIQQQ', ALLOC, 0, 0, 0, 4, 0, 0x101000, 0, 0) +
        bytes(24),
        'doorbell-anywhere': bytes([4]) + struct.pack('<Q', 0x3000) +
        bytes([4]) + struct.pack('<Q', 0x100000123),
        'free-bad': pv_batch(alloc(2, 4)) +
        pv_batch(free(4, mode=0x40), free(2, mode=0x10),
                 free(3, mode=0x20)),
    }


HARNESSES = {
    'pvmem': pvmem_seeds,
}


def main(names):
    for name in names or sorted(HARNESSES):
        out = os.path.join(HERE, 'corpus', name)
        os.makedirs(out, exist_ok=True)
        for seed, data in HARNESSES[name]().items():
            with open(os.path.join(out, seed), 'wb') as f:
                f.write(data)


if __name__ == '__main__':
    main(sys.argv[1:])
