#!/usr/bin/env bash
# A stop signal sent as soon as the socket appears stops custodyd cleanly: whoever starts the
# daemon takes its socket as the sign that it runs, and may stop it at once. custodyd must
# therefore catch SIGTERM and SIGINT before the socket appears. Caught only after it, a SIGTERM
# in between killed the daemon without cleanup (exit 143, socket left), and a SIGINT, which a
# shell starts its background jobs with ignored, was lost: the daemon went on serving and
# whoever sent it waited forever (13-daemon hung this way on loaded machines). To make that
# instant long enough to hit every time, custodyd runs under strace with its listen() held for
# three seconds, the socket already at its path; the signal is sent then, and the daemon must
# exit 0 within a minute and remove its socket.
. "$(dirname "$0")/lib.sh"

if ! command -v strace >/dev/null ||
    ! strace -f -o /dev/null -e trace=listen -e inject=listen:delay_exit=1000 true 2>/dev/null; then
	echo "SKIP: strace cannot trace and delay system calls here"
	exit 77
fi

A=$T/a
init_archive "$A" early-stop

# stop_at_start SIGNAL: start custodyd (SIGINT ignored, as in a background job) with listen()
# delayed, send SIGNAL as soon as the socket exists, and check that it stops cleanly.
stop_at_start() {
	local sig=$1 strace_pid da="" i rc=0
	rm -f "$A/custodyd.sock"
	# (LeakSanitizer cannot run under ptrace: a sanitizer build checks leaks in the other tests)
	(trap '' INT && export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 &&
	    exec strace -f -o /dev/null -e trace=listen -e inject=listen:delay_exit=3000000 \
	    "$CUSTODYD" run "$A" </dev/null >>"$A.log" 2>&1) &
	strace_pid=$!
	DAEMON_PIDS+=("$strace_pid")
	for i in $(seq 1 1200); do
		[ -S "$A/custodyd.sock" ] && break
		kill -0 "$strace_pid" 2>/dev/null || break
		sleep 0.05
	done
	da=$(pgrep -P "$strace_pid" -x custodyd || true)
	if [ ! -S "$A/custodyd.sock" ] || [ -z "$da" ]; then
		fail "SIG$sig at start: the daemon never made its socket: $(tail -3 "$A.log")"
		return
	fi
	DAEMON_PIDS+=("$da")
	kill -"$sig" "$da"
	wait_exit "$strace_pid" 60 || rc=$?
	if kill -0 "$da" 2>/dev/null; then	# strace is gone (killed), its tracee is not
		kill -9 "$da" 2>/dev/null || true
		for i in $(seq 1 200); do
			kill -0 "$da" 2>/dev/null || break
			sleep 0.05
		done
	fi
	check "SIG$sig as soon as the socket appears: the daemon exits 0 (exit $rc)" [ "$rc" -eq 0 ]
	check "SIG$sig as soon as the socket appears: the socket is removed" \
	    [ ! -e "$A/custodyd.sock" ]
	contains "SIG$sig as soon as the socket appears: the log says it stopped" \
	    "$(tail -2 "$A.log")" "stopped"
}

stop_at_start INT
stop_at_start TERM

start_daemon "$A"
check "the archive serves afterwards" quiet cu "$A" status
stop_daemon "$DAEMON_PID" || fail "the daemon did not stop with exit 0"
done_testing
