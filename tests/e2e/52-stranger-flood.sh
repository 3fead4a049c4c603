#!/usr/bin/env bash
# A stranger on the network cannot lock pinned offices out of the peer port. For 40 s a flooder
# on another loopback address (127.0.0.5) holds 200 idle TCP connections to A's peer port and
# reopens each one as soon as it is dropped (as the handshake timer or an eviction drops it).
# Meanwhile B, a pinned office, pulls from A every 2 s a feed that A keeps growing: every one
# of B's syncs must succeed and bring B to A's head, and A must keep answering status. The
# unauthenticated connections get their own small budget with a per-address limit; evictions
# are logged a few lines at a time, not one line per connection. Afterwards A holds no more
# descriptors than before the flood, and stops cleanly.
. "$(dirname "$0")/lib.sh"

if ! python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.5", 0))' 2>/dev/null; then
	echo "SKIP: cannot bind a socket to 127.0.0.5"
	exit 77
fi

A=$T/a B=$T/b
two_offices
HA=$(key_hex "$A")
echo first >"$T/f0"
cu "$A" ingest "$T/f0" >/dev/null
check "B syncs with A before the flood" quiet cu "$B" sync A
sleep 0.5
# sockets_of PID: how many sockets the process holds
sockets_of() {
	find "/proc/$1/fd" -lname 'socket:*' 2>/dev/null | wc -l
}
socks_before=$(sockets_of "$DA")
rss_before=$(awk '/^VmRSS/ {print $2}' "/proc/$DA/status")

FLOOD_SECONDS=40
python3 - "$PA" "$FLOOD_SECONDS" "$T/flood.out" <<'PY' &
import errno, selectors, socket, sys, time
port, seconds, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
sel = selectors.DefaultSelector()
opened = failed = 0

def open_one():
    global opened, failed
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.bind(("127.0.0.5", 0))
        rc = s.connect_ex(("127.0.0.1", port))
    except OSError:
        rc = -1
    if rc not in (0, errno.EINPROGRESS):
        s.close()
        failed += 1
        return False
    opened += 1
    sel.register(s, selectors.EVENT_READ)
    return True

want = 200
end = time.monotonic() + seconds
while time.monotonic() < end:
    while len(sel.get_map()) < want and open_one():
        pass
    # a held connection becomes readable only when A drops it (or sends something)
    for k, _ in sel.select(timeout=0.1):
        s = k.fileobj
        sel.unregister(s)
        s.close()
    time.sleep(0.05)	# reopen what was dropped, some twenty times a second
with open(out, "w") as f:
    print("opened %d failed %d held %d" % (opened, failed, len(sel.get_map())), file=f)
PY
FLOODER=$!
sleep 3	# let the flood fill A's peer port

ok_syncs=0 failed_syncs=0 lagging=0 i=0 status_fail=0
t_end=$(( $(date +%s) + FLOOD_SECONDS - 6 ))
while [ "$(date +%s)" -lt "$t_end" ]; do
	i=$((i + 1))
	echo "file $i" >"$T/f$i"
	quiet cu "$A" ingest "$T/f$i"
	if out=$(timeout 30 "$CUSTODY" -A "$B" sync A 2>&1); then
		ok_syncs=$((ok_syncs + 1))
		[ "$(feed_ref "$B" "$HA")" = "$(feed_ref "$A" "$HA")" ] || lagging=$((lagging + 1))
	else
		failed_syncs=$((failed_syncs + 1))
		echo "  sync $i failed: $(echo "$out" | tail -n1)" >&2
	fi
	quiet timeout 10 "$CUSTODY" -A "$A" status || status_fail=$((status_fail + 1))
	sleep 2
done
wait "$FLOODER" || true
flood=$(cat "$T/flood.out" 2>/dev/null || echo "no report")
echo "flood: $flood; B's syncs: $ok_syncs ok, $failed_syncs failed"
check "the flooder kept its connections open and reopened them ($flood)" \
    py 'import sys; n = int(sys.argv[1].split()[1]); assert n >= 400, n' "$flood"
check "B synced at least 5 times during the flood ($ok_syncs)" [ "$ok_syncs" -ge 5 ]
check "every one of B's syncs succeeded ($failed_syncs failed)" [ "$failed_syncs" -eq 0 ]
check "and each brought B to A's head ($lagging did not)" [ "$lagging" -eq 0 ]
check "A answered status throughout ($status_fail failed)" [ "$status_fail" -eq 0 ]
check "A is alive" kill -0 "$DA"
check "A logged that it evicted unauthenticated connections" \
    grep -q "evicted .* unauthenticated" "$A.log"
lines=$(grep -c "127\.0\.0\.5" "$A.log" || true)
check "in a few lines, not one per connection ($lines lines name the flooder)" [ "$lines" -le 60 ]

# nothing left over: the flooder is gone, so are its connections
socks_after=
for _ in $(seq 50); do
	socks_after=$(sockets_of "$DA")
	[ "$socks_after" -le "$socks_before" ] && break
	sleep 0.2
done
check "A holds no more sockets than before the flood ($socks_after, was $socks_before)" \
    [ "$socks_after" -le "$socks_before" ]
rss_after=$(awk '/^VmRSS/ {print $2}' "/proc/$DA/status")
if grep -qa __asan_init "$CUSTODYD"; then
	echo "(AddressSanitizer keeps freed memory in quarantine: its leak check stands in for the RSS check)"
else
	check "A's memory did not grow by more than 32 MiB (${rss_before} kB, now ${rss_after} kB)" \
	    [ "$rss_after" -le $((rss_before + 32768)) ]
fi
check "A's archive verifies" quiet cu "$A" verify
check "B's archive verifies" quiet cu "$B" verify
check "A stops cleanly" stop_daemon "$DA"
check "B stops cleanly" stop_daemon "$DB"
done_testing
