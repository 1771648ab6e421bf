#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/bench/qmp_balloon_poll.py - balloon_poll.py's measurement for the
peer: set QEMU's balloon over QMP and time how long the guest takes to
reach it, over ONE persistent QMP connection (scripts/qmp.py).

Usage: qmp_balloon_poll.py QMP_SOCK QEMU_PID MEM_BYTES BALLOON_BYTES
                           [MIN_DROP_BYTES]
BALLOON_BYTES is the balloon's size, as buddyvm's target is (QMP's
`balloon` value is the guest's logical size, MEM_BYTES minus it). Done when
query-balloon's actual equals that value and, if MIN_DROP_BYTES is given,
the resident part of QEMU's guest-RAM mapping (its largest mapping in
/proc/QEMU_PID/smaps, as mincore() over guest RAM is buddyvm's) has fallen
by at least that much from just before the request. The clock stops as
balloon_poll.py's: at the answer that showed the actual size when the RSS
sample right after it shows the drop, else at the end of the first RSS
sample that does.
Prints one line, as balloon_poll.py: "ms polls poll_ms_total rss_before
rss_after actual_bytes". Exit 1 on timeout (120 s) or a QMP error.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "scripts"))
sys.dont_write_bytecode = True  # no __pycache__ in scripts/
import qmp  # noqa: E402


def guest_ram_rss(pid):
    """Resident bytes of QEMU's largest mapping, its guest RAM."""
    size, rss, cur = -1, 0, 0
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            if line.startswith("Size:"):
                cur = int(line.split()[1])
            elif line.startswith("Rss:") and cur > size:
                size, rss = cur, int(line.split()[1])
    return rss * 1024


def main():
    if len(sys.argv) not in (5, 6):
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    sock, pid = sys.argv[1], int(sys.argv[2])
    mem, balloon = int(sys.argv[3]), int(sys.argv[4])
    min_drop = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    want = mem - balloon
    try:
        q = qmp.QMP(sock)
        before = guest_ram_rss(pid)
        t0 = time.monotonic()
        q.command("balloon", {"value": want})
        polls, poll_s, actual, after = 0, 0.0, -1, -1
        while True:
            # The smaps walk costs milliseconds: only once actual arrived.
            p0 = time.monotonic()
            seen = None
            if actual != want:
                actual = q.command("query-balloon")["actual"]
                seen = time.monotonic() if actual == want else None
            if actual == want:
                after = guest_ram_rss(pid)
            p1 = time.monotonic()
            polls += 1
            poll_s += p1 - p0
            if actual == want and before - after >= min_drop:
                p1 = seen or p1
                break
            if p1 - t0 > 120:
                print("timeout: actual %d of %d bytes" % (actual, want),
                      file=sys.stderr)
                return 1
            # 1 ms between samples, as balloon_poll.py: leave the vCPU
            # its core.
            time.sleep(0.001)
    except (OSError, qmp.QMPError) as e:
        print("qmp_balloon_poll: %s" % e, file=sys.stderr)
        return 1
    print("%.1f %d %.1f %d %d %d" % ((p1 - t0) * 1000, polls, poll_s * 1000,
                                     before, after, actual))
    return 0


if __name__ == "__main__":
    sys.exit(main())
