#!/usr/bin/env bash
# The local socket is born with its mode, 0660: it never sits at its path with another mode
# (such as 0770 from custodyd's umask) waiting for a chmod. To make such an instant long enough
# to see, custodyd runs under strace with every chmod delayed by a second and a half, while a
# watcher stats the socket's path every few milliseconds from before the daemon starts: the
# first mode it sees must be 0660. The daemon then serves a client through the socket.
. "$(dirname "$0")/lib.sh"

if ! command -v strace >/dev/null ||
    ! strace -f -o /dev/null -e trace=chmod,fchmodat -e inject=chmod,fchmodat:delay_enter=1000 \
    true 2>/dev/null; then
	echo "SKIP: strace cannot trace and delay system calls here"
	exit 77
fi

A=$T/a
init_archive "$A" modes
python3 - "$A/custodyd.sock" "$T/first-mode" <<'PY' &
import os, stat, sys, time
path, out = sys.argv[1], sys.argv[2]
end = time.monotonic() + 30
while time.monotonic() < end:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        time.sleep(0.002)
        continue
    with open(out, "w") as f:
        print("%s %o" % ("socket" if stat.S_ISSOCK(st.st_mode) else "other",
                         stat.S_IMODE(st.st_mode)), file=f)
    break
PY
WATCHER=$!
sleep 0.2
# (LeakSanitizer cannot run under ptrace: a sanitizer build checks leaks in the other tests)
(export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 && exec strace -f -o /dev/null -e trace=chmod,fchmodat \
    -e inject=chmod,fchmodat:delay_enter=1500000 "$CUSTODYD" run "$A" >>"$A.log" 2>&1) &
STRACE=$!
DAEMON_PIDS+=("$STRACE")
wait "$WATCHER" || true
first=$(cat "$T/first-mode" 2>/dev/null || echo "never seen")
check "the first mode the socket's path shows is 0660 ($first)" [ "$first" = "socket 660" ]
for _ in $(seq 100); do
	quiet cu "$A" status && break
	sleep 0.1
done
check "the daemon serves a client through it" quiet cu "$A" status
check "its mode is 0660" [ "$(stat -c %a "$A/custodyd.sock")" = 660 ]
DA=$(pgrep -P "$STRACE" -x custodyd || true)
check "the daemon runs under strace" [ -n "$DA" ]
[ -n "$DA" ] && DAEMON_PIDS+=("$DA") && check "it stops cleanly" kill -TERM "$DA"
wait "$STRACE" || fail "custodyd under strace exited non-zero"
check "and removes its socket" [ ! -e "$A/custodyd.sock" ]
done_testing
