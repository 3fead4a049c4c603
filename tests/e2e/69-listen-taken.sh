#!/usr/bin/env bash
# A daemon told to listen for peers on a port that another process holds does not start: it
# names the address it cannot listen on, exits non-zero, and leaves no local socket behind, for
# whoever starts it takes the socket as the sign that it serves. It made its socket first and
# the port second, so the socket stayed: a script (or a test) that waited for it went on to a
# daemon that was gone, and its next call got "Connection refused". On a free port the same
# archive then starts and serves.
. "$(dirname "$0")/lib.sh"

A=$T/a
init_archive "$A" taken
P=$(free_port)

# another process on the port, listening
python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
print("ready", flush=True)
time.sleep(600)
' "$P" >"$T/holder.out" &
HOLDER=$!
for i in $(seq 1 100); do
	grep -q ready "$T/holder.out" && break
	sleep 0.05
done
check "another process holds 127.0.0.1:$P" grep -q ready "$T/holder.out"

rc=0
"$CUSTODYD" run "$A" --listen "127.0.0.1:$P" >"$T/run.out" 2>&1 </dev/null || rc=$?
check "custodyd run on a taken port exits non-zero" [ "$rc" -ne 0 ]
contains "it names the address it cannot listen on" "$(cat "$T/run.out")" \
    "cannot listen on 127.0.0.1:$P"
check "it leaves no socket behind" [ ! -e "$A/custodyd.sock" ]
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null || true

start_daemon "$A" --listen "127.0.0.1:$P"
out=$(cu "$A" status 2>&1) || fail "status once the port is free: $out"
contains "once the port is free the daemon serves its office" "$out" "taken"
check "and listens for peers on the port" python3 -c '
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5).close()
' "$P"
stop_daemon "$DAEMON_PID" || fail "the daemon stops with exit 0"
check "its socket is gone after the stop" [ ! -e "$A/custodyd.sock" ]
done_testing
