# tests/integration/qemu_lib.sh - helpers for the tests that boot guest.elf
# under QEMU (its PVH entry, docs/qemu.md), sourced by qemu.tests.sh and
# the q35 tests; uses run.sh's $GUEST, $TMP, $out, $status, $why and
# wait_for_output. scripts/qemu-run builds the QEMU command line and maps
# its exit status back to `vmm run`'s (0 done, 3 guest failure, 1 QEMU).

QEMU_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
QEMU_RUN=$QEMU_DIR/scripts/qemu-run
QMP=$QEMU_DIR/scripts/qmp.py

# qemu_available: QEMU is installed (scripts/install-deps.sh installs it).
qemu_available() {
	command -v "${QEMU:-qemu-system-x86_64}" >/dev/null 2>&1
}

# qemu_accel_note: say loudly, once, when QEMU runs without KVM (no usable
# /dev/kvm, or QEMU_ACCEL=tcg, which scripts/qemu-run also reads).
qemu_accel_note() {
	[ -n "${qemu_noted:-}" ] && return 0
	qemu_noted=1
	if [ "$kvm_usable" -eq 1 ] && [ "${QEMU_ACCEL:-kvm}" = kvm ]; then
		echo "  qemu: KVM (-cpu host,-arch-capabilities)"
	else
		echo "${YELLOW}!!! qemu: QEMU tests run under TCG (emulation):" \
			"/dev/kvm unusable or QEMU_ACCEL=tcg !!!${RESET}"
	fi
}

# $QEMU_MACHINE (microvm by default, or q35) picks the machine for
# qemu_run and qemu_start, so one test function serves both transports:
#   test_q35_slab() { QEMU_MACHINE=q35 test_qemu_slab; }

# qemu_run ARGS...: scripts/qemu-run ARGS... $GUEST, bounded; output in
# $out, status in $status.
qemu_run() {
	out=$(timeout 300 "$QEMU_RUN" ${QEMU_MACHINE:+--machine "$QEMU_MACHINE"} \
		"$@" "$GUEST" 2>&1)
	status=$?
}

# qemu_start NAME ARGS...: scripts/qemu-run with a QMP socket in the
# background (bounded); output in $TMP/NAME.out, QEMU's pid in $qemu_pid
# once its QMP socket answers (within 30 s).
qemu_start() {
	local name=$1
	shift
	qemu_sock=$TMP/$name.qmp
	qemu_log=$TMP/$name.out
	rm -f "$qemu_sock" "$TMP/$name.pid"
	timeout 300 "$QEMU_RUN" ${QEMU_MACHINE:+--machine "$QEMU_MACHINE"} \
		--qmp "$qemu_sock" --pidfile "$TMP/$name.pid" \
		"$@" "$GUEST" >"$qemu_log" 2>&1 &
	qemu_run_pid=$!
	local deadline=$((SECONDS + 30))
	while [ $SECONDS -lt $deadline ]; do
		if [ -S "$qemu_sock" ] && [ -s "$TMP/$name.pid" ] &&
			qmp query-status >/dev/null 2>&1; then
			qemu_pid=$(cat "$TMP/$name.pid")
			return 0
		fi
		sleep 0.1
	done
	why="QMP socket $qemu_sock never answered"
	qemu_stop
	return 1
}

# qmp COMMAND [ARGS-JSON]: one QMP command to the running QEMU; prints its
# return value as JSON.
qmp() {
	"$QMP" "$qemu_sock" "$@"
}

# qmp_get COMMAND ARGS-JSON|'' EXPR: a Python expression over the command's
# return value r.
qmp_get() {
	local r
	if [ -n "$2" ]; then r=$(qmp "$1" "$2"); else r=$(qmp "$1"); fi || return 1
	python3 -c 'import json,sys
r = json.loads(sys.argv[1])
print(eval(sys.argv[2]))' "$r" "$3"
}

# qemu_rss: QEMU's resident memory in bytes.
qemu_rss() {
	awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$qemu_pid/status"
}

# qemu_wait_for PATTERN [SECONDS]: the guest printed PATTERN within SECONDS
# (default 60); otherwise stop QEMU.
qemu_wait_for() {
	wait_for_output "$qemu_log" "$1" "${2:-60}" && return 0
	qemu_stop
	return 1
}

# qemu_stop: quit QEMU over QMP (if it still runs), collect output, status.
qemu_stop() {
	qmp quit >/dev/null 2>&1
	wait "$qemu_run_pid"
	status=$?
	out=$(cat "$qemu_log")
}

# qemu_fail MSG: stop QEMU and fail the test with MSG.
qemu_fail() {
	local msg=$1
	qemu_stop
	why=$msg
	return 1
}
