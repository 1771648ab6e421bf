#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""scripts/qmp.py - a small QMP (QEMU Machine Protocol) client for the tests
and scripts that drive the guest under QEMU (docs/qemu.md).

    scripts/qmp.py SOCKET COMMAND [ARGS-JSON]

connects to the QMP server at SOCKET (-qmp unix:SOCKET,server=on,wait=off),
negotiates capabilities, runs COMMAND with the arguments object ARGS-JSON
and prints its "return" value as JSON on one line. Examples:

    scripts/qmp.py /tmp/q.sock query-balloon          # {"actual": 536870912}
    scripts/qmp.py /tmp/q.sock balloon '{"value": 268435456}'
    scripts/qmp.py /tmp/q.sock qom-get \\
        '{"path": "/machine/peripheral/balloon0", "property": "guest-stats"}'

Exit status: 0 the command returned; 1 QEMU answered with an error (its
class and description on stderr); 2 bad usage; 3 no QMP server at SOCKET.
Asynchronous events QEMU sends meanwhile are skipped.
"""
import json
import socket
import sys


class QMPError(Exception):
    pass


class QMP:
    def __init__(self, path, timeout=30.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.file = self.sock.makefile("rwb")
        greeting = self._read()
        if "QMP" not in greeting:
            raise QMPError("no QMP greeting: %r" % greeting)
        self.command("qmp_capabilities")

    def _read(self):
        line = self.file.readline()
        if not line:
            raise QMPError("QEMU closed the QMP connection")
        return json.loads(line)

    def command(self, name, args=None):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.file.write(json.dumps(msg).encode() + b"\n")
        self.file.flush()
        while True:
            r = self._read()
            if "event" in r:
                continue
            if "error" in r:
                e = r["error"]
                raise QMPError("%s: %s" % (e.get("class"), e.get("desc")))
            return r.get("return")

    def close(self):
        self.sock.close()


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    try:
        args = json.loads(argv[3]) if len(argv) == 4 else None
    except ValueError as e:
        sys.stderr.write("qmp.py: ARGS-JSON is not JSON: %s\n" % e)
        return 2
    if args is not None and not isinstance(args, dict):
        sys.stderr.write("qmp.py: ARGS-JSON must be an object\n")
        return 2
    try:
        q = QMP(argv[1])
    except (OSError, QMPError) as e:
        sys.stderr.write("qmp.py: no QMP server at %s: %s\n" % (argv[1], e))
        return 3
    try:
        print(json.dumps(q.command(argv[2], args)))
    except QMPError as e:
        sys.stderr.write("qmp.py: %s: %s\n" % (argv[2], e))
        return 1
    except OSError as e:
        sys.stderr.write("qmp.py: %s: %s\n" % (argv[2], e))
        return 3
    finally:
        q.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
