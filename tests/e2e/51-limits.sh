#!/usr/bin/env bash
# Connections that hold the daemon: an idle client is closed after [daemon] idle_timeout with
# a reason; a client trickling its hello a byte at a time is dropped at the hello deadline
# (10 s), not kept alive by each byte, and so is one trickling bytes after its Error (2 s);
# with its descriptors exhausted by idle connections
# (custodyd limited to 64), the daemon drops the idlest and still serves a new client, and
# the archive verifies.
. "$(dirname "$0")/lib.sh"

RAW=$(cd "$(dirname "$0")" && pwd)
A=$T/a
init_archive "$A" limits
sed -i 's/^idle_timeout = .*/idle_timeout = 2/' "$A/custody.conf"
start_daemon "$A"

out=$(python3 - "$A/custodyd.sock" "$RAW" <<'PY'
import socket, sys, time
sys.path.insert(0, sys.argv[2])
import rawclient as rc
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(rc.hello())
s.settimeout(10)
t0 = time.monotonic()
buf = b""
while True:
    c = s.recv(4096)
    if not c:
        break
    buf += c
print("closed after %.1f s" % (time.monotonic() - t0), "timed out" in buf.decode("latin-1"))
PY
)
contains "an idle client is closed after idle_timeout (2 s): $out" "$out" "closed after 2"
contains "with a reason" "$out" "True"

out=$(python3 - "$A/custodyd.sock" "$RAW" <<'PY'
import socket, sys, time
sys.path.insert(0, sys.argv[2])
import rawclient as rc
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
t0 = time.monotonic()
try:
    for b in rc.hello():
        s.sendall(bytes([b]))
        time.sleep(1)
    s.settimeout(3)
    print("finished", "%.0f" % (time.monotonic() - t0), s.recv(100) != b"")
except OSError:
    print("dropped after %.0f s" % (time.monotonic() - t0))
PY
)
contains "a hello trickled a byte a second is dropped at the deadline: $out" "$out" "dropped after 1"

# A client answered with an Error is closed 2 s later, however it trickles bytes in meanwhile:
# reading what it still sends must not keep its connection (and a descriptor) forever.
out=$(python3 - "$A/custodyd.sock" "$RAW" <<'PY'
import socket, sys, time
sys.path.insert(0, sys.argv[2])
import rawclient as rc
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(rc.frame(b"x", ftype=9))
t0 = time.monotonic()
buf = b""
try:
    for _ in range(15):
        time.sleep(0.5)
        s.sendall(b"\0")
        s.setblocking(False)
        try:
            buf += s.recv(4096)
        except BlockingIOError:
            pass
        s.setblocking(True)
    print("kept %.0f s" % (time.monotonic() - t0))
except OSError:
    print("dropped after %.0f s" % (time.monotonic() - t0))
print("error:", b"unknown frame type 9" in buf)
PY
)
contains "a client trickling bytes after its Error is dropped: $out" "$out" "dropped after"
contains "it had the Error first" "$out" "error: True"
stop_daemon "$DAEMON_PID"

# descriptors: 64 in all, 100 idle connections, then a real client
rm -f "$A/custodyd.sock"
sed -i 's/^idle_timeout = .*/idle_timeout = 600/' "$A/custody.conf"
prlimit --nofile=64:64 "$CUSTODYD" run "$A" >>"$A.log" 2>&1 &
DAEMON_PID=$!
DAEMON_PIDS+=("$DAEMON_PID")
for _ in $(seq 1 200); do [ -S "$A/custodyd.sock" ] && break; sleep 0.05; done
python3 - "$A/custodyd.sock" "$RAW" <<'PY' &
import socket, sys, time
sys.path.insert(0, sys.argv[2])
import rawclient as rc
held = []
for i in range(100):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(sys.argv[1])
        s.sendall(rc.hello())
        held.append(s)
    except OSError:
        break
time.sleep(20)
PY
HOLDER=$!
sleep 2
check "a new client is served while idle connections exhaust the descriptors" \
    quiet timeout 15 "$CUSTODY" -A "$A" status
check "the daemon says it dropped idle connections" grep -q "out of descriptors: dropped" "$A.log"
check "the daemon is alive" kill -0 "$DAEMON_PID"
check "the archive verifies" quiet cu "$A" verify
kill "$HOLDER" 2>/dev/null || true

done_testing
