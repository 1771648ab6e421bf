# tests/integration/api_hostile.tests.sh - the control API against hostile
# clients (issue 12 defect 1): clients that never read, send half a line,
# flood, crowd in by the hundred or drop mid-reply must not stall the API
# thread: another client's stat answers, quit works, and `vmm run` exits on
# time. Sourced by run.sh: uses its check/expect/start_with_api, $VMM, $TMP.
# The clients are tests/integration/api_hostile.py (its modes are described
# there). Bounds are generous (tens of seconds) and only bound a wait for a
# state: the old server never got there at all.

HOSTILE_PY=$(dirname "$0")/api_hostile.py
hostile_pids=()

# hostile_start NAME MODE SOCK ARGS...: a hostile client in the background
# (output in $TMP/hostile-NAME.out); waits up to 30 s for its "ready" line.
hostile_start() {
	local name=$1 log=$TMP/hostile-$1.out pid
	shift
	python3 "$HOSTILE_PY" "$@" >"$log" 2>&1 &
	pid=$!
	hostile_pids+=("$pid")
	for _ in $(seq 300); do
		grep -q '^ready' "$log" && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	why="hostile client $name never got ready: $(cat "$log")"
	return 1
}

hostile_stop() {
	[ ${#hostile_pids[@]} -eq 0 ] && return 0
	kill "${hostile_pids[@]}" 2>/dev/null
	wait "${hostile_pids[@]}" 2>/dev/null
	hostile_pids=()
}

# hostile_vm_exits SECONDS: the VMM ($vm_pid) exits within SECONDS; its
# status in $status, its output in $out. Killed (and a failure) if not.
hostile_vm_exits() {
	for _ in $(seq $(($1 * 10))); do
		if ! kill -0 "$vm_pid" 2>/dev/null; then
			wait "$vm_pid"
			status=$?
			out=$(cat "$TMP/hostile-vm.log")
			return 0
		fi
		sleep 0.1
	done
	kill -9 "$vm_pid" 2>/dev/null
	wait "$vm_pid" 2>/dev/null
	out=$(cat "$TMP/hostile-vm.log")
	why="vmm run was still running $1 s later"
	return 1
}

# hostile_fail MSG: record why, stop the clients and the VMM, fail.
hostile_fail() {
	why=${why:-$1}
	hostile_stop
	kill -9 "$vm_pid" 2>/dev/null
	wait "$vm_pid" 2>/dev/null
	return 1
}

# A client that sends requests and never reads the answers: `--timeout`
# still ends the VMM (before: it ran until the client went away).
test_api_hostile_timeout_exits() {
	local sock=$TMP/hostile-t.sock
	start_with_api "$sock" "$TMP/hostile-vm.log" --timeout 15 \
		--cmdline workload=hang || return 1
	hostile_start noread noread "$sock" 5000 || { hostile_fail; return 1; }
	hostile_start halfline halfline "$sock" || { hostile_fail; return 1; }
	kill -0 "$vm_pid" 2>/dev/null ||
		{ hostile_fail "the VM ended before the clients were in place"; return 1; }
	hostile_vm_exits 60 || { hostile_fail; return 1; }
	hostile_stop
	expect 4 'guest did not finish within 15 s'
}

# Every kind of hostile client at once, a crowd beyond the maximum
# included: another client's stat is answered (after a refusal it tries
# again), the crowd beyond the maximum gets a JSON EUSERS line, and quit
# still ends the VMM with status 0 and its socket removed.
test_api_hostile_stat_answers() {
	local sock=$TMP/hostile-s.sock crowd refused
	start_with_api "$sock" "$TMP/hostile-vm.log" --timeout 300 \
		--cmdline workload=hang || return 1
	hostile_start noread noread "$sock" 5000 &&
		hostile_start halfline halfline "$sock" &&
		hostile_start flood flood "$sock" &&
		hostile_start disconnect disconnect "$sock" &&
		hostile_start crowd crowd "$sock" 300 ||
		{ hostile_fail; return 1; }
	crowd=$(grep '^ready' "$TMP/hostile-crowd.out")
	if ! [[ $crowd =~ refused\ ([0-9]+)\ held\ ([0-9]+)\ waiting\ ([0-9]+)\ bad\ 0$ ]] ||
		[ "${BASH_REMATCH[1]}" -lt 1 ] || [ "${BASH_REMATCH[2]}" -gt 64 ]; then
		hostile_fail "the crowd of 300 saw: $crowd (expected refusals, at most 64 held, no other answer)"
		return 1
	fi
	for i in 1 2 3; do
		out=$(python3 "$HOSTILE_PY" probe "$sock" 30 2>&1) ||
			{ hostile_fail "stat $i: $out"; return 1; }
	done
	out=$(timeout 60 "$VMM" stat --api "$sock" --timeout 30 2>&1)
	status=$?
	expect 0 'host frames:' 'control API: [0-9]+ of 64 clients' || { hostile_fail; return 1; }
	# The socket's own counters saw the crowd's refusals.
	refused=$(timeout 60 "$VMM" stat --api "$sock" --timeout 30 --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["host"]["api"]["refused"])')
	[ "${refused:-0}" -ge 1 ] ||
		{ hostile_fail "host.api.refused is '$refused' after the crowd"; return 1; }
	out=$(timeout 60 "$VMM" quit --api "$sock" --timeout 30 2>&1)
	status=$?
	expect 0 'the VM is stopping, exit status 0' || { hostile_fail; return 1; }
	hostile_vm_exits 30 || { hostile_fail; return 1; }
	hostile_stop
	if [ "$status" -ne 0 ] || [ -e "$sock" ]; then
		why="vmm run exited $status, socket left: $(ls "$sock" 2>&1)"
		return 1
	fi
}

# quit through a client of its own while others never read and send half
# lines: answered, and the VMM exits (before: quit waited behind them).
test_api_hostile_quit() {
	local sock=$TMP/hostile-q.sock
	start_with_api "$sock" "$TMP/hostile-vm.log" --timeout 300 \
		--cmdline workload=hang || return 1
	hostile_start noread noread "$sock" 5000 &&
		hostile_start halfline halfline "$sock" ||
		{ hostile_fail; return 1; }
	out=$(python3 "$HOSTILE_PY" probe "$sock" 30 quit 2>&1) ||
		{ hostile_fail "quit: $out"; return 1; }
	hostile_vm_exits 30 || { hostile_fail; return 1; }
	hostile_stop
	expect 0
}

# A monitor that keeps one connection and polls stat: other clients are
# still served, and quit works (before: served one connection at a time,
# it starved everyone else for as long as it polled).
test_api_hostile_poller() {
	local sock=$TMP/hostile-p.sock
	start_with_api "$sock" "$TMP/hostile-vm.log" --timeout 300 \
		--cmdline workload=hang || return 1
	hostile_start poll poll "$sock" || { hostile_fail; return 1; }
	out=$(python3 "$HOSTILE_PY" probe "$sock" 30 2>&1) ||
		{ hostile_fail "stat: $out"; return 1; }
	out=$(python3 "$HOSTILE_PY" probe "$sock" 30 quit 2>&1) ||
		{ hostile_fail "quit: $out"; return 1; }
	hostile_vm_exits 30 || { hostile_fail; return 1; }
	hostile_stop
	expect 0
}

# The clients give up after --timeout and say which step did not finish.
test_api_client_timeouts() {
	local sock=$TMP/hostile-f.sock
	rm -f "$sock"
	hostile_start fake fakeserver "$sock" accept || { hostile_stop; return 1; }
	for cmd in stat "balloon --target 0" pause resume quit compact; do
		# shellcheck disable=SC2086 # $cmd is a command and its options
		out=$(timeout 60 "$VMM" $cmd --api "$sock" --timeout 1 2>&1)
		status=$?
		expect 1 "vmm ${cmd%% *}: timed out after 1 s waiting for the reply from $sock" ||
			{ hostile_stop; return 1; }
	done
	hostile_stop
	rm -f "$sock"
	hostile_start fake fakeserver "$sock" full || { hostile_stop; return 1; }
	out=$(timeout 60 "$VMM" stat --api "$sock" --timeout 2 2>&1)
	status=$?
	hostile_stop
	rm -f "$sock"
	expect 1 "vmm stat: timed out after 2 s connecting to $sock"
}

# A full VMM refuses (EUSERS) and closes without reading: when that close
# comes before the client's request went out, the send fails, and the
# client must still read the refusal and try again until its time is up
# (then it shows the refusal), not give up saying the VMM closed the
# connection (api-hostile-stat-answers met it by chance;
# here strace makes every send fail).
test_api_client_refusal_before_send() {
	local sock=$TMP/hostile-r.sock
	rm -f "$sock"
	hostile_start fake fakeserver "$sock" refuse || { hostile_stop; return 1; }
	out=$(timeout 60 strace -qq -f -o /dev/null -e trace=sendto \
		-e inject=sendto:error=EPIPE "$VMM" stat --api "$sock" \
		--timeout 1 2>&1)
	status=$?
	hostile_stop
	rm -f "$sock"
	expect 1 "vmm stat: EUSERS: the VMM is serving 64 clients" || return 1
	if grep -q 'closed the connection' <<<"$out"; then
		why="the refusal was not read: $out"
		return 1
	fi
}

check api-hostile-timeout-exits kvm test_api_hostile_timeout_exits
check api-hostile-stat-answers kvm test_api_hostile_stat_answers
check api-hostile-quit kvm test_api_hostile_quit
check api-client-refusal-before-send nokvm test_api_client_refusal_before_send
check api-hostile-poller kvm test_api_hostile_poller
check api-client-timeouts nokvm test_api_client_timeouts
