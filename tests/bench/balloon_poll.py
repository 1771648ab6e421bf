#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/bench/balloon_poll.py - set a balloon target and time how long the
guest takes to reach it, over ONE persistent control-API connection.

Spawning `vmm stat` per sample costs ~20 ms (process start, connect, JSON),
which would be a large part of a ~100 ms measurement; here a sample is one
request line on an open socket. The cost of the samples themselves is
reported, so the reader knows what fraction of the figure is measurement.

Usage: balloon_poll.py SOCK TARGET_BYTES [MIN_DROP_BYTES [RSS_BEFORE]]
Done when actual_pages == target_pages and, if MIN_DROP_BYTES is given,
guest RAM backing (host.rss.guest_bytes) has fallen by at least that much
from RSS_BEFORE (default: as sampled just before setting the target).
The clock stops at the answer that showed actual == target when the RSS
sample taken right after it shows the drop (the device releases the
backing before the guest can write actual, and `stat` itself costs
milliseconds: that is the observer, not the balloon); otherwise at the
end of the first RSS sample that does.
Prints one line: "ms polls poll_ms_total rss_before rss_after actual".
Exit 1 on timeout (120 s) or API error.
"""
import json
import socket
import sys
import time


class Api:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.rfile = self.sock.makefile("r")

    def call(self, **req):
        self.sock.sendall((json.dumps(req) + "\n").encode())
        resp = json.loads(self.rfile.readline())
        if not resp.get("ok"):
            raise RuntimeError(resp.get("error"))
        return resp["result"]


def main():
    api = Api(sys.argv[1])
    target = int(sys.argv[2])
    # No MIN_DROP_BYTES: actual alone (a balloon filled from free memory
    # that the host had released already need not lower RSS at all).
    min_drop = int(sys.argv[3]) if len(sys.argv) > 3 else None
    st = api.call(cmd="stat")
    before = int(sys.argv[4]) if len(sys.argv) > 4 else \
        st["host"]["rss"]["guest_bytes"]
    t0 = time.monotonic()
    want = api.call(cmd="balloon", target_bytes=target)["target_pages"]
    polls, poll_s = 0, 0.0
    actual = after = -1
    while True:
        # Re-setting the same target is a no-op that returns the balloon's
        # state cheaply; `stat` (mincore over guest RAM, zone walks) costs
        # milliseconds, so it is asked only once actual has arrived.
        p0 = time.monotonic()
        seen = None
        if actual != want:
            actual = api.call(cmd="balloon",
                              target_bytes=target)["actual_pages"]
            seen = time.monotonic() if actual == want else None
        if actual == want:
            after = api.call(cmd="stat")["host"]["rss"]["guest_bytes"]
        p1 = time.monotonic()
        polls += 1
        poll_s += p1 - p0
        if actual == want and (min_drop is None or
                               before - after >= min_drop):
            p1 = seen or p1
            break
        # 1 ms between samples: a tight loop would take a core from the
        # vCPU on a small machine and slow what it measures.
        time.sleep(0.001)
        if p1 - t0 > 120:
            print("timeout: actual %d of %d pages" % (actual, want),
                  file=sys.stderr)
            return 1
    ms = (p1 - t0) * 1000
    print("%.1f %d %.1f %d %d %d" % (ms, polls, poll_s * 1000, before,
                                     after, actual))
    return 0


if __name__ == "__main__":
    sys.exit(main())
