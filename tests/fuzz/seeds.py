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
        # order-1 __GFP_ZERO blocks made of frames the guest wrote and freed
        # (they merge into order 1, not into a reported order-9 block)
        'zero-split': pv_batch(alloc(0, 128)) + pv_batch(free(64)) +
        pv_batch(alloc(1, 32, GFP_KERNEL | GFP_ZERO)),
        'raw-ok': bytes([3, 1]) + hdr_ok + struct.pack(
            '<HBBIIIQQQ', ALLOC, 0, 0, 0, 4, 0, 0x101000, 0, 0) +
        bytes(24),
        'doorbell-anywhere': bytes([4]) + struct.pack('<Q', 0x3000) +
        bytes([4]) + struct.pack('<Q', 0x100000123),
        'free-bad': pv_batch(alloc(2, 4)) +
        pv_batch(free(4, mode=0x40), free(2, mode=0x10),
                 free(3, mode=0x20)),
    }


# virtq --------------------------------------------------------------------
# Set-up (17 bytes): size_log features place desc:u16 avail:u16 used:u16
# cap:u32 win_lo:u16 win_hi:u16; then steps: kind byte and its arguments.
VQ_INDIRECT, VQ_EVENT_IDX = 1, 2
F_NEXT, F_WRITE, F_INDIRECT = 1, 2, 4


def vq_setup(size_log=4, feat=0, place=0, cap=0, win=None):
    lo, hi = win or (0, 0)
    if win:
        place |= 0x40
    return struct.pack('<BBBHHHIHH', size_log, feat, place, 0, 0, 0, cap,
                       lo, hi)


def vq_d(addr, length, flags=0, nxt=0, aux=0):
    return struct.pack('<IIBBH', addr, length, flags, aux, nxt)


def vq_desc(i, *a, **k):
    return bytes([0]) + struct.pack('<H', i) + vq_d(*a, **k)


def vq_indirect(off, descs):
    return bytes([1]) + struct.pack('<HB', off // 16, len(descs) - 1) + \
        b''.join(descs)


vq_enable = bytes([7, 0])
vq_post = lambda head: bytes([2]) + struct.pack('<H', head)
vq_pop = lambda max_segs=16: bytes([4, max_segs - 1])
vq_push = lambda len_=0, how=0, head=0: bytes([6, how]) + struct.pack(
    '<HI', head, len_)


def virtq_seeds():
    buf = 0x10000
    blk_req = (vq_desc(0, buf, 16, F_NEXT, 1) +
               vq_desc(1, buf + 0x1000, 512, F_NEXT | F_WRITE, 2) +
               vq_desc(2, buf + 0x2000, 1, F_WRITE))
    return {
        'one-chain': vq_setup() + vq_enable + blk_req + vq_post(0) +
        vq_pop() + vq_push(513),
        'indirect': vq_setup(feat=VQ_INDIRECT) + vq_enable +
        vq_indirect(0x8000, [vq_d(buf, 16, F_NEXT, 1),
                             vq_d(buf + 0x100, 64, F_WRITE)]) +
        vq_desc(3, 0x8000, 32, F_INDIRECT) + vq_post(3) + vq_pop() +
        vq_push(64),
        'event-idx': vq_setup(feat=VQ_EVENT_IDX) + vq_enable +
        vq_desc(0, buf, 8) + vq_post(0) + vq_post(0) + vq_pop() +
        vq_push(0) + bytes([3, 2, 1, 0]) + vq_pop() +
        bytes([0x86, 0]) + struct.pack('<HI', 0, 0),
        'loop': vq_setup() + vq_enable + vq_desc(0, buf, 8, F_NEXT, 1) +
        vq_desc(1, buf, 8, F_NEXT, 0) + vq_post(0) + vq_pop(),
        'window': vq_setup(win=(0x1000, 0x2000)) + vq_enable +
        vq_desc(0, 0x10000, 8) + vq_post(0) + vq_pop(),
        'idx-jump': vq_setup() + vq_enable + bytes([3, 0, 0x40, 0]) +
        vq_pop(),
        'segs-cap': vq_setup(size_log=5, cap=100) + vq_enable + b''.join(
            vq_desc(i, buf + i * 16, 16, F_NEXT, i + 1) for i in range(8)) +
        vq_desc(8, buf, 16) + vq_post(0) + vq_pop(4) + vq_enable +
        vq_post(0) + vq_pop(),
        'write-then-read': vq_setup() + vq_enable +
        vq_desc(0, buf, 8, F_NEXT | F_WRITE, 1) + vq_desc(1, buf, 8) +
        vq_post(0) + vq_pop(),
        'push-bad': vq_setup() + vq_enable + vq_push(1, 1, 99) + vq_pop() +
        bytes([7, 1]) + vq_pop(),
        'misplaced': struct.pack('<BBBHHHIHH', 3, 3, 0x80 | 0x31, 1, 0x300,
                                 0x400, 0, 0, 0) + vq_enable,
    }


# balloon ------------------------------------------------------------------
# First byte: bit 0 native model, 1 STATS_VQ, 2 DEFLATE_ON_OOM, 3 REPORTING.
# Steps: 0 take frames, 1-2 inflate, 3 deflate, 4 report (or config),
# 5 stats, 6 config / target, 7 restart the driver.
def bl_take(order, count, gfp=0, pfns=None):
    if pfns is None:
        return bytes([0, order, count - 1, gfp])
    return bytes([0, order, len(pfns) - 1]) + b''.join(
        struct.pack('<H', p) for p in pfns)


def bl_list(kind, picks, shape=0):
    out = bytes([kind, shape, len(picks) - 1])
    for p in picks:
        if p[0] == 'held':
            out += bytes([0, p[1]])
        elif p[0] == 'balloon':
            out += bytes([0x80, p[1]])
        else:
            out += bytes([0xff]) + struct.pack('<I', p[1])
    return out


def balloon_seeds():
    held = [('held', i) for i in range(16)]
    return {
        'inflate-deflate': bytes([0]) + bl_take(0, 16) +
        bl_list(1, held) + bl_list(3, [('balloon', i) for i in range(16)]),
        'inflate-huge': bytes([0]) + bl_take(3, 16) + bl_take(3, 16) +
        bl_list(1, [('held', i) for i in range(128)], shape=2),
        'bad-pfns': bytes([0]) + bl_take(0, 4) +
        bl_list(1, [('raw', 0), ('raw', 0x100), ('raw', 0xffffffff),
                    ('held', 0), ('held', 0)]) +
        bl_list(3, [('raw', 0x2000), ('balloon', 0)]),
        'bad-buffers': bytes([0]) + bl_take(0, 4) +
        bl_list(1, held[:4], shape=0x20) + bytes([7]) +
        bl_list(1, held[:4], shape=0x10) + bytes([7]) +
        bl_list(1, held[:4], shape=0x08),
        'stats': bytes([2]) + bytes([5, 0, 20]) +
        struct.pack('<HQHQ', 4, 1 << 20, 5, 1 << 30) + bytes([5, 2]) +
        bytes([5, 1, 10]) + bytes(10),
        'native-report': bytes([1 | 8]) +
        bl_take(0, 4, pfns=[0x800, 0x801, 0x900, 0x1234]) +
        bytes([4, 1, 0, 0, 0, 1]) + bytes([4, 0, 0x80]) +
        struct.pack('<H', 0x10) + bytes([4, 0, 0x20, 2]),
        'native-inflate': bytes([1 | 4]) +
        bl_take(0, 8, pfns=list(range(0x1000, 0x1008))) +
        bl_list(1, [('held', i) for i in range(8)]) +
        bl_list(3, [('balloon', i) for i in range(4)]),
        'target-config': bytes([0]) + bytes([6, 4]) +
        struct.pack('<I', 100) + bytes([6, 0x4a]) +
        struct.pack('<I', 77) + bytes([6, 0x02]) + struct.pack('<I', 0) +
        bytes([7]),
    }


# mmio ---------------------------------------------------------------------
# fill:u16 and that many ring bytes (16 at a time), then accesses of 6
# bytes: op sel value:u32. op bit 0 write, bits 1-3 size (0-2: 4 bytes,
# 3: 1, 4: 2, 5: 8, 6: 3, 7: 16), bit 4 register from the harness's table
# (sel indexes it), bit 5 with bit 4 misaligns, without it makes the value
# an address in the DMA block; bits 6-7 add 128 bytes each to sel * 4.
MMIO_REGS = ['MAGIC', 'VERSION', 'DEVICE_ID', 'VENDOR_ID', 'DEV_FEAT',
             'DEV_FEAT_SEL', 'DRV_FEAT', 'DRV_FEAT_SEL', 'QUEUE_SEL',
             'QUEUE_NUM_MAX', 'QUEUE_NUM', 'QUEUE_READY', 'QUEUE_NOTIFY',
             'ISR', 'ISR_ACK', 'STATUS', 'DESC_LO', 'DESC_HI', 'DRIVER_LO',
             'DRIVER_HI', 'DEVICE_LO', 'DEVICE_HI', 'SHM_SEL', 'SHM_LEN',
             'QUEUE_RESET', 'CONFIG_GEN', 'CONFIG', 'CONFIG4']


def mm_w(name, val, size=0):
    return struct.pack('<BBI', 0x11 | size << 1, MMIO_REGS.index(name), val)


def mm_r(name, size=0):
    return struct.pack('<BBI', 0x10 | size << 1, MMIO_REGS.index(name), 0)


def mm_addr(reg_off, off):
    return struct.pack('<BBI', 0x21, reg_off // 4, off)


def mm_bringup(nq=1, feat_hi=1, feat_lo=0, num=16):
    out = mm_w('STATUS', 1) + mm_w('STATUS', 3) + \
        mm_w('DRV_FEAT_SEL', 1) + mm_w('DRV_FEAT', feat_hi) + \
        mm_w('DRV_FEAT_SEL', 0) + mm_w('DRV_FEAT', feat_lo) + \
        mm_w('STATUS', 0xb)
    for q in range(nq):
        base = q * 0x3000
        out += mm_w('QUEUE_SEL', q) + mm_w('QUEUE_NUM', num) + \
            mm_addr(0x80, base) + mm_addr(0x90, base + 0x1000) + \
            mm_addr(0xa0, base + 0x2000) + mm_w('QUEUE_READY', 1) + \
            mm_r('QUEUE_READY')
    return out + mm_w('STATUS', 0xf)


def mmio_seeds():
    ring = struct.pack('<QIHH', 0, 4, 0, 0)  # a desc the device may reject
    return {
        'bringup': struct.pack('<H', 0) + mm_bringup() +
        mm_w('QUEUE_NOTIFY', 0) + mm_r('ISR') + mm_w('ISR_ACK', 3) +
        mm_w('STATUS', 0),
        'bringup-4q': struct.pack('<H', 0) + mm_bringup(4, 1, 0x6) +
        mm_w('QUEUE_NOTIFY', 1) + mm_w('QUEUE_NOTIFY', 2),
        'rings-filled': struct.pack('<H', 32) + ring + ring +
        struct.pack('<HHHH', 0, 1, 0, 0) * 2 + mm_bringup() +
        mm_w('QUEUE_NOTIFY', 0) + mm_r('STATUS'),
        'identity': struct.pack('<H', 0) + b''.join(
            mm_r(n) for n in ['MAGIC', 'VERSION', 'DEVICE_ID',
                              'VENDOR_ID', 'DEV_FEAT', 'QUEUE_NUM_MAX',
                              'SHM_LEN', 'CONFIG_GEN', 'CONFIG']),
        'bad-sizes': struct.pack('<H', 0) + mm_w('STATUS', 1, 3) +
        mm_r('STATUS', 4) + mm_r('CONFIG', 5) + mm_r('CONFIG4', 5) +
        mm_w('CONFIG4', 7, 3) + struct.pack('<BBI', 0x31, 15, 1) +
        struct.pack('<BBI', 0xc1, 0xff, 1),
        'no-features-ok': struct.pack('<H', 0) + mm_w('STATUS', 3) +
        mm_w('QUEUE_NUM', 16) + mm_w('QUEUE_READY', 1) +
        mm_w('STATUS', 7) + mm_w('DRV_FEAT', 0) + mm_w('STATUS', 0xb) +
        mm_w('STATUS', 1),
        'post-kick-reset': struct.pack('<H', 0) + mm_bringup(2) +
        struct.pack('<BBI', 0xff, 0, 0x8000 | 3 << 16) +
        mm_w('QUEUE_NOTIFY', 0) + mm_r('ISR') +
        struct.pack('<BBI', 0xff, 1, 0x8000) + mm_w('QUEUE_NOTIFY', 1) +
        mm_w('STATUS', 0) + mm_r('ISR'),
        'frozen': struct.pack('<H', 0) + mm_bringup() +
        mm_w('QUEUE_NUM', 8) + mm_addr(0x80, 0x100) + mm_w('DRV_FEAT', 0) +
        mm_w('QUEUE_READY', 0) + mm_w('QUEUE_NUM', 3) +
        mm_w('QUEUE_READY', 1),
    }


# blk ------------------------------------------------------------------------
# First byte: bit 0 native model, bit 1 read-only disk. Steps: 0-5 a batch,
# 6 config read, 7 restart. Batch: (n - 1), then per request: tsel shape nd
# sector:u32 [type:u32 when tsel >= 0xf0], nd % 5 segments of sel off:u16
# len:u16 [up to 64 data bytes when the device reads it]. tsel % 10 indexes
# IN OUT OUT IN FLUSH GET_ID DISCARD WRITE_ZEROES GET_LIFETIME SECURE_ERASE.
# shape: bits 0-1 header (0/1 proper), 2-3 status (0/1 proper), 5 queue,
# 6 data direction flipped, 7 raw sector. sel bit 0: len % 6000 bytes,
# else (len % 8 + 1) * 512; sel >= 0xf0: a canary frame or anywhere.
BLK_T = {'IN': 0, 'OUT': 1, 'FLUSH': 4, 'GET_ID': 5, 'DISCARD': 6,
         'WZ': 7, 'LIFETIME': 8}


def blk_seg(nbytes, data=b'', sel=0, off=0):
    if nbytes % 512 == 0 and 0 < nbytes <= 4096 and sel & 1 == 0:
        ln = nbytes // 512 - 1
    else:
        sel |= 1
        ln = nbytes
    return struct.pack('<BHH', sel, off, ln) + data[:64]


def blk_req(t, sector=0, segs=(), shape=0, raw_type=None):
    tsel = BLK_T[t] if raw_type is None else 0xf0
    out = struct.pack('<BBBI', tsel, shape, len(segs), sector)
    if raw_type is not None:
        out += struct.pack('<I', raw_type)
    return out + b''.join(segs)


def blk_batch(*reqs):
    return bytes([0, len(reqs) - 1]) + b''.join(reqs)


def blk_seeds():
    data = bytes(range(64))
    rng = lambda s, n, f=0: struct.pack('<QII', s, n, f)
    return {
        'write-read': bytes([0]) +
        blk_batch(blk_req('OUT', 8, [blk_seg(512, data)])) +
        blk_batch(blk_req('IN', 8, [blk_seg(512)])),
        'multi-seg': bytes([0]) +
        blk_batch(blk_req('OUT', 100, [blk_seg(1024, data),
                                       blk_seg(512, data[::-1])])) +
        blk_batch(blk_req('IN', 100, [blk_seg(1536)])),
        'flush-getid': bytes([0]) + blk_batch(blk_req('FLUSH'),
                                              blk_req('GET_ID', 0,
                                                      [blk_seg(20)])),
        'discard-zeroes': bytes([0]) +
        blk_batch(blk_req('OUT', 16, [blk_seg(4096, data)])) +
        blk_batch(blk_req('WZ', 0, [blk_seg(16, rng(16, 8))])) +
        blk_batch(blk_req('DISCARD', 0, [blk_seg(32, rng(0, 8) +
                                                 rng(24, 8))])) +
        blk_batch(blk_req('IN', 16, [blk_seg(4096)])),
        'unsupported': bytes([0]) + blk_batch(
            blk_req('LIFETIME', 0, [blk_seg(48)]),
            blk_req('IN', 0, [], raw_type=77)),
        'bad-header': bytes([0]) + blk_batch(
            blk_req('OUT', 0, [blk_seg(512, data)], shape=2)) + bytes([7]) +
        blk_batch(blk_req('IN', 0, [blk_seg(512)], shape=3 | 0x10)),
        'bad-status': bytes([0]) + blk_batch(
            blk_req('IN', 0, [blk_seg(512)], shape=8)) + bytes([7]) +
        blk_batch(blk_req('IN', 0, [blk_seg(512)], shape=12)),
        'flipped': bytes([0]) + blk_batch(
            blk_req('OUT', 0, [blk_seg(512)], shape=0x40)),
        'beyond': bytes([0]) + blk_batch(
            blk_req('IN', 2047, [blk_seg(1024)]),
            blk_req('OUT', 0xffffffff, [blk_seg(512, data)], shape=0x80),
            blk_req('IN', 3, [blk_seg(100)])),
        'canary': bytes([0]) + blk_batch(
            blk_req('IN', 0, [blk_seg(512, sel=0xf0)])),
        'readonly': bytes([2]) + blk_batch(
            blk_req('OUT', 0, [blk_seg(512, data)])) +
        blk_batch(blk_req('IN', 0, [blk_seg(512)])),
        'native': bytes([1]) + blk_batch(
            blk_req('OUT', 1, [blk_seg(512, data)], shape=0x20)) +
        blk_batch(blk_req('IN', 1, [blk_seg(512)], shape=0x20)) +
        bytes([6, 0, 3]),
    }


HARNESSES = {
    'pvmem': pvmem_seeds,
    'virtq': virtq_seeds,
    'balloon': balloon_seeds,
    'mmio': mmio_seeds,
    'blk': blk_seeds,
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
