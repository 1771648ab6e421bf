#!/usr/bin/env python3
"""tests/integration/api_hostile.py - hostile clients of the control API
(tests/integration/api_hostile.tests.sh). Each mode prints one status line
when it has reached its state ("ready ...") and then holds or loops until
it is killed; probe and fakeserver end by themselves.

  noread SOCK N        send N stat requests, never read a reply; hold
  halfline SOCK        send half a request line; hold
  flood SOCK           pipeline batches of 200 stat requests and read
                       the replies, forever (a client that never pauses)
  poll SOCK            one connection kept open, a stat request every
                       0.2 s and its reply read, forever (a monitor)
  crowd SOCK N         open N connections at once (non-blocking connects),
                       then say how many were refused with a JSON EUSERS
                       line and how many are held; hold
  disconnect SOCK      forever: connect, ask for stat, read a few bytes of
                       the reply, close
  probe SOCK SECONDS [CMD]
                       one request (default stat) on a new connection,
                       retried while the VMM refuses (EUSERS); exit 0 with
                       the time it took, 1 when no answer came within
                       SECONDS
  fakeserver SOCK MODE a socket whose "VMM" never answers: MODE accept
                       (connects, nothing is read) or full (backlog full,
                       connects wait); prints ready, holds
"""
import json
import os
import select
import socket
import sys
import time

STAT = b'{"cmd":"stat"}\n'


def connect(path, blocking=True):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(blocking)
    s.connect(path)
    return s


def ready(msg):
    print("ready " + msg, flush=True)


def hold():
    while True:
        time.sleep(3600)


def noread(path, n):
    s = connect(path)
    s.setblocking(False)
    data = STAT * n
    sent = 0
    # Send until everything is out or the VMM stops reading (backpressure:
    # nothing more is taken for a while); never read.
    stalled_since = None
    while sent < len(data):
        try:
            sent += s.send(data[sent:])
            stalled_since = None
        except BlockingIOError:
            stalled_since = stalled_since or time.monotonic()
            if time.monotonic() - stalled_since > 1:
                break
            time.sleep(0.01)
        except (BrokenPipeError, ConnectionResetError):
            break
    ready("noread sent %d of %d bytes" % (sent, len(data)))
    hold()


def halfline(path):
    s = connect(path)
    s.sendall(b'{"cmd":"st')
    ready("halfline")
    hold()


def flood(path):
    s = connect(path)
    f = s.makefile("rb")
    said = False
    while True:
        s.sendall(STAT * 200)
        for _ in range(200):
            if not f.readline():
                # dropped (idle or slow): come back, as a flood would
                s = connect(path)
                f = s.makefile("rb")
                break
        if not said:
            ready("flood")
            said = True


def poller(path):
    s = connect(path)
    f = s.makefile("rb")
    said = False
    while True:
        s.sendall(STAT)
        if not f.readline():
            return 1
        if not said:
            ready("poll")
            said = True
        time.sleep(0.2)


def crowd(path, n):
    socks, waiting = [], 0
    for _ in range(n):
        try:
            socks.append(connect(path, blocking=False))
        except (BlockingIOError, InterruptedError):
            waiting += 1  # the backlog is full: a queue, not a refusal
    # Each connection is either refused (a JSON EUSERS line, then EOF) or
    # held (nothing to read): collect refusals until a second passes
    # without one (the VMM refuses at accept, at once).
    refused, bad, deadline = 0, 0, time.monotonic() + 30
    pending = list(socks)
    while pending and time.monotonic() < deadline:
        r, _, _ = select.select(pending, [], [], 1.0)
        if not r:
            break
        for s in r:
            pending.remove(s)
            try:
                line = s.makefile("rb").readline()
                err = json.loads(line)["error"]
                if err["code"] == "EUSERS":
                    refused += 1
                else:
                    bad += 1
            except (ValueError, KeyError, TypeError, OSError):
                bad += 1
            s.close()
    held = pending
    ready("crowd refused %d held %d waiting %d bad %d" %
          (refused, len(held), waiting, bad))
    hold()


def disconnect(path):
    said = False
    while True:
        try:
            s = connect(path)
            s.sendall(STAT * 3)
            s.recv(100)
            s.close()
        except OSError:
            time.sleep(0.01)
        if not said:
            ready("disconnect")
            said = True


def probe(path, seconds, cmd="stat"):
    start = time.monotonic()
    deadline = start + seconds
    while time.monotonic() < deadline:
        try:
            s = connect(path)
            s.settimeout(max(deadline - time.monotonic(), 0.01))
            s.sendall(b'{"cmd":"%s"}\n' % cmd.encode())
            line = s.makefile("rb").readline()
            s.close()
            r = json.loads(line)
            if r.get("ok"):
                print("probe %s answered in %.2f s" %
                      (cmd, time.monotonic() - start))
                return 0
            if r["error"]["code"] != "EUSERS":
                print("probe: error %s" % line.decode().strip())
                return 1
        except (socket.timeout, TimeoutError):
            break
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    print("probe: no answer within %g s" % seconds)
    return 1


REFUSAL = (b'{"ok": false, "error": {"code": "EUSERS", "errno": 87, '
           b'"message": "the VMM is serving 64 clients, its maximum: '
           b'try again later"}}\n')


def fakeserver(path, mode):
    lsn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsn.bind(path)
    lsn.listen(0 if mode == "full" else 8)
    if mode == "full":
        filler = connect(path)  # takes the one backlog place
    ready("fakeserver " + mode)
    while mode == "refuse":  # as a full VMM: refuse, close, unread
        s, _ = lsn.accept()
        s.sendall(REFUSAL)
        s.close()
    hold()


def main(argv):
    mode, path = argv[1], argv[2]
    if mode == "noread":
        noread(path, int(argv[3]))
    elif mode == "halfline":
        halfline(path)
    elif mode == "flood":
        flood(path)
    elif mode == "poll":
        return poller(path)
    elif mode == "crowd":
        crowd(path, int(argv[3]))
    elif mode == "disconnect":
        disconnect(path)
    elif mode == "probe":
        return probe(path, float(argv[3]), *argv[4:5])
    elif mode == "fakeserver":
        fakeserver(path, argv[3])
    else:
        print("unknown mode " + mode, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
