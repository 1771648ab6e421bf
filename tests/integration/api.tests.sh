# tests/integration/api.tests.sh - the control API (vmm run --api) and its
# clients, sourced by run.sh: uses its check/expect/run_vmm, $VMM, $GUEST,
# $TMP. Each test boots a VM in the background and talks to its socket.

# api_boot SOCK ARGS...: start_with_api, output in $TMP/api-vm.log, pid in
# $api_pid.
api_boot() {
	local sock=$1 rc
	shift
	start_with_api "$sock" "$TMP/api-vm.log" "$@"
	rc=$?
	api_pid=$vm_pid
	return $rc
}

# api_wait_exit: wait for the background VMM, its status in $api_status.
api_wait_exit() {
	wait "$api_pid"
	api_status=$?
}

# api_field SOCK EXPR: a value of `vmm stat --json`, by a Python expression
# over r (the result object).
api_field() {
	"$VMM" stat --api "$1" --json |
		python3 -c "import json,sys; r=json.load(sys.stdin); print($2)"
}

test_api_socket_and_commands() {
	local sock=$TMP/api.sock
	api_boot "$sock" --timeout 120 --cmdline workload=hang || return 1
	if [ "$(stat -c %a "$sock")" != 600 ]; then
		why="socket mode $(stat -c %a "$sock"), expected 600"
		return 1
	fi
	run_cmd() { out=$("$VMM" "$@" 2>&1); status=$?; }
	run_cmd stat --api "$sock" --json
	expect 0 '"target_bytes"' '"actual_bytes"' '"buddyinfo"' \
		'"zoneinfo"' '"pagetypeinfo"' '"vmm_bytes"' '"guest_bytes"' \
		'"state": "running"' '"uptime_ms"' '"nr_free"' || return 1
	run_cmd stat --api "$sock"
	expect 0 'balloon: target 0 B \(0 pages\), actual 0 B' \
		'host RSS: VMM' '== buddyinfo ==' || return 1
	# Bad requests get errors; the VMM stays up.
	out=$(printf '%s\n' 'not json' '{"cmd":"frob"}' \
		'{"cmd":"balloon","target":"12X"}' '{"cmd":"stat","x":1}' |
		python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
f = s.makefile("rw")
for line in sys.stdin:
    f.write(line); f.flush(); print(f.readline().strip())' "$sock")
	status=$?
	expect 0 'request is not valid JSON' "unknown command 'frob'" \
		'must be a string with a size' "unknown argument 'x'" || return 1
	run_cmd balloon --api "$sock" --target 2G
	expect 1 'EINVAL: target 2147483648 bytes is more than' || return 1
	run_cmd pause --api "$sock"
	expect 0 'pause: paused \(was running\)' || return 1
	[ "$(api_field "$sock" 'r["vcpus"]["state"]')" = paused ] ||
		{ why='stat does not say paused'; return 1; }
	run_cmd pause --api "$sock"
	expect 0 'paused \(was paused\)' || return 1
	run_cmd resume --api "$sock"
	expect 0 'resume: running \(was paused\)' || return 1
	run_cmd quit --api "$sock"
	expect 0 'the VM is stopping, exit status 0' || return 1
	api_wait_exit
	if [ "$api_status" -ne 0 ] || [ -e "$sock" ]; then
		why="vmm run exited $api_status, socket left: $(ls "$sock" 2>&1)"
		return 1
	fi
}

test_api_live_socket() {
	local sock=$TMP/api-live.sock
	api_boot "$sock" --timeout 60 --cmdline workload=hang || return 1
	run_vmm run --api "$sock" "$GUEST"
	"$VMM" quit --api "$sock" >/dev/null
	api_wait_exit
	expect 1 "--api $sock: Address already in use"
}

test_api_no_vmm() {
	run_vmm stat --api "$TMP/nothing.sock"
	expect 1 "no VMM at $TMP/nothing.sock" || return 1
	run_vmm balloon --api "$TMP/x.sock"
	expect 2 '--target SIZE is required' "try 'vmm balloon --help'" ||
		return 1
	run_vmm stat --help
	expect 0 'usage: vmm stat --api PATH \[--json\]' || return 1
	# An argument with a newline or an escape is printed escaped: the
	# message is one line with no control character (issue 12).
	run_vmm stat --api "$TMP/no"$'\n'"sock"$'\e'"[2J"
	expect 1 "no VMM at $TMP/no\\\\nsock\\\\x1b\\[2J: no such socket" || return 1
	if [ "$(wc -l <<<"$out")" -ne 1 ] || LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' <<<"$out"; then
		why="not one clean line: $(printf %q "$out")"
		return 1
	fi
	run_vmm stat --api /s --js$'\n'on
	expect 2 "unknown option '--js\\\\non'"
}

# Inflate to 512M in a 1G guest that has touched all its free memory:
# actual reaches the target, host backing of guest RAM drops by >= 90% of
# the inflated bytes; deflating to 0 brings actual back to 0.
api_balloon_test() {
	local model=$1 sock=$TMP/api-balloon-$1.sock before after
	api_boot "$sock" --mem 1G --memory-model "$model" --timeout 200 \
		--cmdline 'workload=balloon balloon.touch=1024' || return 1
	# Wait for the guest to finish touching: it says so ('balloon: ready');
	# RAM that stops growing for a moment may only be a descheduled guest.
	if ! wait_for_output "$TMP/api-vm.log" 'balloon: ready' 120; then
		"$VMM" quit --api "$sock" >/dev/null 2>&1
		api_wait_exit
		return 1
	fi
	before=$(api_field "$sock" 'r["host"]["rss"]["guest_bytes"]')
	out=$("$VMM" balloon --api "$sock" --target 512M --wait \
		--timeout 90 2>&1)
	status=$?
	expect 0 'actual 512.0 MiB reached the target' || return 1
	after=$(api_field "$sock" 'r["host"]["rss"]["guest_bytes"]')
	if [ $((before - after)) -lt $((512 * 1048576 * 9 / 10)) ]; then
		why="guest RAM backing fell from $before to $after bytes"
		return 1
	fi
	[ "$(api_field "$sock" 'r["host"]["frames"]["balloon"]')" = 131072 ] ||
		{ why='host frame database does not hold 131072 BALLOON frames'; return 1; }
	out=$("$VMM" balloon --api "$sock" --target 0 --wait --timeout 90 2>&1)
	status=$?
	expect 0 'actual 0 B reached the target' || return 1
	"$VMM" quit --api "$sock" >/dev/null
	api_wait_exit
	[ "$api_status" -eq 0 ] || { why="vmm run exited $api_status"; return 1; }
}
test_api_balloon_hosted() { api_balloon_test hosted; }
test_api_balloon_native() { api_balloon_test native; }

native_workload_test() {
	run_vmm run --mem 512M --memory-model native --timeout 60 --check \
		--cmdline "workload=$1" "$GUEST"
	expect 0 'memory model native'
}
test_native_hello() { native_workload_test hello; }
test_native_slab() { native_workload_test slab; }
test_native_kmalloc() { native_workload_test kmalloc; }

test_native_host_frames() {
	run_vmm run --mem 256M --memory-model native --timeout 60 --stats \
		--cmdline workload=hello "$GUEST"
	expect 0 '^free +0$' '^guest +[0-9]+' '^total +65536$'
}

check api-socket-and-commands kvm test_api_socket_and_commands
check api-live-socket kvm test_api_live_socket
check api-no-vmm nokvm test_api_no_vmm
check api-balloon-hosted kvm test_api_balloon_hosted
check api-balloon-native kvm test_api_balloon_native
check native-hello kvm test_native_hello
check native-slab kvm test_native_slab
check native-kmalloc kvm test_native_kmalloc
check native-host-frames kvm test_native_host_frames
