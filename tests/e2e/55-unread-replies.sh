#!/usr/bin/env bash
# A client that sends requests and never reads the answers: each asks for every victim (half a
# MiB an answer), three hundred of them. The daemon stops taking its requests once a few MiB
# of answers wait unread, or once a long answer waits for it to read its last part (it is then
# dropped while it still sends), so its memory stays where it was (on the code before, every
# answer was kept: over 100 MiB in 25 s); once it has read nothing for [daemon] idle_timeout
# the daemon drops it; other clients are served meanwhile and the archive verifies.
. "$(dirname "$0")/lib.sh"

RAW=$(cd "$(dirname "$0")" && pwd)
A=$T/a
init_archive "$A" unread
sed -i 's/^idle_timeout = .*/idle_timeout = 3/' "$A/custody.conf"
python3 - "$T/victims.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("id,name,sex,age,date_documented,party,governorate,notes\n")
    for i in range(2000):
        f.write("u%d,Person number %d of the unread test,male,%d,2024-01-02,russia,aleppo,"
                "%s\n" % (i, i, 20 + i % 50, "n" * 120))
PY
# Under AddressSanitizer the allocator's own footprint (its quarantine, and at times a few
# hundred MiB more at once) is not the daemon's: there the memory is not measured.
ASAN=0
asan_build && ASAN=1
start_daemon "$A"
check "2000 victims imported" quiet cu "$A" import victims "$T/victims.csv"

out=$(python3 - "$A/custodyd.sock" "$RAW" "$DAEMON_PID" <<'PY'
import select, socket, sys, time
sys.path.insert(0, sys.argv[2])
import rawclient as rc

def rss():
    for line in open("/proc/%s/status" % sys.argv[3]):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
before = rss()
s.sendall(rc.hello())
req = rc.frame(rc.envelope(206, rc.f_bytes(1, "victim")))
t0 = time.monotonic()
dropped = False
grew = 0
try:
    for i in range(300):
        s.sendall(req)
        grew = max(grew, rss() - before)
except (BrokenPipeError, ConnectionResetError):
    # the first answer waits for it to read, so the daemon reads no further request and the
    # socket fills: the client is dropped while it still sends, once idle_timeout is over
    dropped = True
# read nothing; watch the daemon's memory until it hangs up (idle_timeout 3 s), at most 25 s
p = select.poll()
p.register(s, select.POLLHUP)
while time.monotonic() - t0 < 25 and not dropped:
    dropped = any(ev & (select.POLLHUP | select.POLLERR) for _, ev in p.poll(250))
    grew = max(grew, rss() - before)
print("grew %d KiB" % grew)
print("dropped after %.0f s" % (time.monotonic() - t0) if dropped else "open")
PY
)
grew=$(echo "$out" | sed -n 's/^grew \(-*[0-9]*\) KiB$/\1/p')
check "the flooding client's answers were counted ($out)" test -n "$grew"
if [ "$ASAN" = 1 ]; then
	echo "skipped under AddressSanitizer: the daemon's memory for answers nobody reads"
else
	check "the daemon's memory grew by less than 40 MiB for answers nobody reads (${grew} KiB)" \
	    test "${grew:-999999}" -lt 40960
fi
contains "the client that reads nothing is dropped" "$out" "dropped"
check "the daemon is alive" kill -0 "$DAEMON_PID"
check "another client is served" quiet timeout 15 "$CUSTODY" -A "$A" status
check "the archive verifies" quiet cu "$A" verify
stop_daemon "$DAEMON_PID" || fail "the daemon did not stop cleanly"

done_testing
