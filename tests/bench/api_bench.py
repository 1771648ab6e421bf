#!/usr/bin/env python3
"""tests/bench/api_bench.py SOCK N HOSTILE_PY - round trips of stat
requests over one kept connection to a VMM's control socket: N in turn
with no other client, then N again while hostile clients (HOSTILE_PY, the
integration suite's tests/integration/api_hostile.py) run. The connection
is made first, so the crowd's refusals are not this client's. Prints two
lines "quiet|hostile median_us p99_us max_us". Used by api_bench.sh."""
import select
import socket
import subprocess
import sys
import time

HOSTILE = [["noread", "5000"], ["halfline"], ["flood"], ["disconnect"],
           ["poll"], ["crowd", "200"]]


def measure(s, f, n):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        s.sendall(b'{"cmd":"stat"}\n')
        line = f.readline()
        times.append(time.perf_counter() - start)
        if not line.startswith(b'{"ok":true'):
            raise RuntimeError("bad reply: %r" % line[:200])
    times.sort()
    return [t * 1e6 for t in (times[n // 2], times[(n * 99) // 100],
                              times[-1])]


def start_hostile(path, helper):
    procs = []
    for mode in HOSTILE:
        p = subprocess.Popen([sys.executable, helper, mode[0], path] +
                             mode[1:], stdout=subprocess.PIPE)
        procs.append(p)
        r, _, _ = select.select([p.stdout], [], [], 30)
        if not r or not p.stdout.readline().startswith(b"ready"):
            raise RuntimeError("hostile client %s never got ready" % mode[0])
    return procs


def main(path, n, helper):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    f = s.makefile("rb")
    print("quiet %.0f %.0f %.0f" % tuple(measure(s, f, n)), flush=True)
    procs = start_hostile(path, helper)
    try:
        print("hostile %.0f %.0f %.0f" % tuple(measure(s, f, n)))
    finally:
        for p in procs:
            p.kill()
            p.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
