#!/usr/bin/env bash
# Sync through a SOCKS5 proxy ([sync] proxy, [peer NAME] proxy), as through Tor.
#
# A real SOCKS5 server from Debian, dante-server's danted, runs on loopback with a config this
# test writes, and is stopped by its pid. B, invited by A, dials A through it with
# `[sync] proxy = socks5h://127.0.0.1:PX`: A's evidence arrives byte-identical, B verifies clean,
# and danted's log shows its connection to A's port. An onion address goes to the proxy as a
# name, unresolved (danted's log shows it trying to resolve it, and the refusal names the
# proxy's reply code). With danted killed, `custody sync` fails naming the proxy, B's timer backs
# off (2 s, then 4 s in its log), and nothing is half-written: B's feeds, blobs and records are
# unchanged and verify is clean; danted back, the sync completes. `[peer A] proxy = none` dials
# A directly with the global proxy down. Without a proxy an onion address is refused, naming
# the missing proxy and never looked up; a mistyped onion address is refused when pinned. A
# hostile proxy (a python3 script: a SOCKS4 answer, no acceptable method, a short reply, reply
# code 5) gets a clear error each time, and the daemon stays up with nothing written; one that
# never answers does not hold up the daemon's stop. With socks5:// (names resolved here) A is
# reached through danted by its address, and an onion address is refused. A bad proxy URL in
# custody.conf stops the daemon at start, naming the file's line.
. "$(dirname "$0")/lib.sh"

DANTED=$(command -v danted || true)
[ -z "$DANTED" ] && [ -x /usr/sbin/danted ] && DANTED=/usr/sbin/danted
if [ -z "$DANTED" ]; then
	echo "SKIP: danted (dante-server) is not installed"
	exit 77
fi

A=$T/a B=$T/b IN=$T/in OUT=$T/out
mkdir -p "$IN" "$OUT"
# a v3 onion address (the Tor Project's): no resolver here knows it
ONION=2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion

# wait_port PORT: wait until something listens on 127.0.0.1:PORT.
wait_port() {
	local i
	for i in $(seq 1 100); do
		python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()' \
		    "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# start_danted: danted on 127.0.0.1:$PX (foreground, its pid in DANTED_PID), logging to $T/danted.log.
start_danted() {
	cat >"$T/danted.conf" <<EOF
logoutput: $T/danted.log
internal: 127.0.0.1 port = $PX
external: 127.0.0.1
socksmethod: none
clientmethod: none
client pass {
	from: 127.0.0.0/8 to: 0.0.0.0/0
	log: connect disconnect error
}
socks pass {
	from: 127.0.0.0/8 to: 0.0.0.0/0
	command: connect
	log: connect disconnect error
}
EOF
	"$DANTED" -f "$T/danted.conf" -N 1 >>"$T/danted.out" 2>&1 &
	DANTED_PID=$!
	DAEMON_PIDS+=("$DANTED_PID")
	wait_port "$PX" || { cat "$T/danted.out" "$T/danted.log" >&2; echo "danted did not start" >&2; exit 1; }
}

# stop_danted: kill danted by its pid; its port is closed afterwards.
stop_danted() {
	kill "$DANTED_PID"
	wait "$DANTED_PID" 2>/dev/null || true
	for _ in $(seq 1 50); do
		wait_port_once || return 0
		sleep 0.1
	done
	return 1
}
wait_port_once() {
	python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()' \
	    "$PX" 2>/dev/null
}

# sync_b [PEER]: B syncs (A by default); sets RC and OUTPUT.
sync_b() {
	RC=0
	OUTPUT=$(cu "$B" sync "${1:-A}" 2>&1) || RC=$?
}

# snapshot DIR: B's feeds, blobs and records as they stand (to compare before and after).
snapshot() {
	git --git-dir="$1/git" for-each-ref --format='%(refname) %(objectname)'
	find "$1/blobs" -type f -printf '%P %s\n' | sort
	find "$1/tmp" -name 'sync-*' -printf '%P\n' | sort
	cu "$1" status 2>&1 | grep -E '^(evidence|records|commits) '
}

# got FILE: B holds FILE byte-identical.
got() {
	local sha
	sha=$(sha256sum <"$IN/$1" | cut -c1-64)
	rm -f "$OUT/$1"
	if cu "$B" get "$sha" -o "$OUT/$1" >/dev/null 2>&1 && cmp -s "$IN/$1" "$OUT/$1"
	then ok "B holds $1 byte-identical"
	else fail "B holds $1 byte-identical"
	fi
}

PA=$(free_port)
PX=$(free_port)
PH=$(free_port)
init_archive "$A" A
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
join_office "$B" B "$A" "$PA"
sed -i "/^\[sync\]/a proxy = socks5h://127.0.0.1:$PX" "$B/custody.conf"
start_daemon "$B"
DB=$DAEMON_PID
start_danted

# --- through the proxy -------------------------------------------------------------------------
head -c 300000 /dev/urandom >"$IN/one.bin"
check "A ingests one.bin" quiet cu "$A" ingest "$IN/one.bin"
sync_b
check "B syncs A through danted (exit 0)" [ "$RC" -eq 0 ]
[ "$RC" -eq 0 ] || echo "$OUTPUT" >&2
got one.bin
check "B's verify is clean" quiet cu "$B" verify
check "danted's log shows the connection to A's port $PA" \
    grep -q "tcp/connect \[.* 127\.0\.0\.1\.$PA$" "$T/danted.log"

# an onion address goes to the proxy as a name: danted cannot resolve it, and says so
KEYGEN_DIR=$T/k
mkdir -p "$KEYGEN_DIR"
ssh-keygen -q -t ed25519 -N '' -f "$KEYGEN_DIR/tor" >/dev/null
TORKEY=$(cut -d' ' -f1,2 "$KEYGEN_DIR/tor.pub")
check "B pins an office at an onion address" quiet cu "$B" peer add tor "$ONION:7400" "$TORKEY"
sync_b tor
check "its sync fails (danted cannot reach it)" [ "$RC" -ne 0 ]
contains "the error names the proxy and its reply code" "$OUTPUT" \
    "via proxy 127.0.0.1:$PX: refused: host unreachable (4)"
check "danted was asked for the name itself (socks5h: not resolved here)" \
    grep -q "resolve hostname \"$ONION\"" "$T/danted.log"
check "B removes it" quiet cu "$B" peer remove tor
refute "a mistyped onion address is refused when pinned" \
    quiet cu "$B" peer add tor "${ONION/2gzy/2gzz}:7400" "$TORKEY"
out=$(cu "$B" peer add tor "${ONION/2gzy/2gzz}:7400" "$TORKEY" 2>&1 || true)
contains "saying its checksum is wrong" "$out" "checksum does not match"

# --- the proxy down: a clear error, nothing half-written, a backoff ------------------------------
head -c 200000 /dev/urandom >"$IN/two.bin"
check "A ingests two.bin" quiet cu "$A" ingest "$IN/two.bin"
check "danted is stopped by its pid" stop_danted
before=$(snapshot "$B")
sync_b
check "B's sync fails with the proxy down" [ "$RC" -ne 0 ]
contains "naming the proxy" "$OUTPUT" \
    "127.0.0.1:$PA via proxy 127.0.0.1:$PX: cannot connect to the proxy: Connection refused"
check "B is still running" kill -0 "$DB"
check "B's feeds, blobs and records are unchanged" [ "$before" = "$(snapshot "$B")" ]
check "B's verify is clean" quiet cu "$B" verify

check "B stops" stop_daemon "$DB"
sed -i 's/^interval = .*/interval = 1/' "$B/custody.conf"
: >"$B.log"
start_daemon "$B"
DB=$DAEMON_PID
for _ in $(seq 1 100); do
	grep -q "via proxy 127.0.0.1:$PX.*next try in 4s" "$B.log" && break
	sleep 0.2
done
check "B's timer fails through the proxy and waits 2 s" \
    grep -q "sync with .*via proxy 127.0.0.1:$PX: cannot connect.*(next try in 2s)" "$B.log"
check "then 4 s (it backs off)" \
    grep -q "sync with .*via proxy 127.0.0.1:$PX: cannot connect.*(next try in 4s)" "$B.log"
check "B stops" stop_daemon "$DB"
sed -i 's/^interval = .*/interval = 300/' "$B/custody.conf"
start_daemon "$B"
DB=$DAEMON_PID
check "still nothing half-written" [ "$before" = "$(snapshot "$B")" ]
check "and B's verify is clean" quiet cu "$B" verify

# the proxy back: the sync completes
start_danted
connects=$(grep -c "tcp/connect \[.* 127\.0\.0\.1\.$PA$" "$T/danted.log" || true)
sync_b
check "with danted back, B's sync through it succeeds" [ "$RC" -eq 0 ]
[ "$RC" -eq 0 ] || echo "$OUTPUT" >&2
got two.bin
check "through danted (one more connection in its log)" \
    [ "$(grep -c "tcp/connect \[.* 127\.0\.0\.1\.$PA$" "$T/danted.log")" -gt "$connects" ]
check "B's verify is clean" quiet cu "$B" verify

# --- [peer A] proxy = none: A directly, the global proxy down ------------------------------------
check "danted stops" stop_danted
check "B stops" stop_daemon "$DB"
sed -i "/^\[peer A\]/a proxy = none" "$B/custody.conf"
start_daemon "$B"
DB=$DAEMON_PID
head -c 100000 /dev/urandom >"$IN/three.bin"
check "A ingests three.bin" quiet cu "$A" ingest "$IN/three.bin"
sync_b
check "[peer A] proxy = none: B syncs A directly, danted down" [ "$RC" -eq 0 ]
[ "$RC" -eq 0 ] || echo "$OUTPUT" >&2
got three.bin

# --- an onion address with no proxy: refused, never resolved -----------------------------------
check "A (no proxy) pins an office at an onion address" \
    quiet cu "$A" peer add tor "$ONION:7400" "$TORKEY"
RC=0
OUTPUT=$(cu "$A" sync tor 2>&1) || RC=$?
check "A's sync with it fails" [ "$RC" -ne 0 ]
contains "saying an onion address needs a proxy" "$OUTPUT" \
    "$ONION:7400: an onion address is dialled only through a proxy such as Tor"
contains "and that it was not resolved" "$OUTPUT" "not resolved through DNS"
check "A is still running" kill -0 "$DA"

# --- a hostile proxy ---------------------------------------------------------------------------
# Each connection (after wait_port's) gets the next misbehaviour: a SOCKS4 answer, no acceptable method, a reply cut
# short after 3 bytes, reply code 5.
cat >"$T/hostile.py" <<'EOF'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
def read(c, n):
    b = b""
    while len(b) < n:
        got = c.recv(n - len(b))
        if not got:
            break
        b += got
    return b
def request(c):
    head = read(c, 4)
    if len(head) == 4 and head[3] == 3:
        read(c, read(c, 1)[0] + 2)
    elif len(head) == 4:
        read(c, (4 if head[3] == 1 else 16) + 2)
for mode in sys.argv[2:]:
    c, _ = s.accept()
    read(c, 3)
    if mode == "probe":
        pass
    elif mode == "socks4":
        c.sendall(b"\x00\x5a\x00\x00\x00\x00\x00\x00")
    elif mode == "nomethod":
        c.sendall(b"\x05\xff")
    elif mode == "short":
        c.sendall(b"\x05\x00")
        request(c)
        c.sendall(b"\x05\x00\x00")
    elif mode == "silent":
        open(sys.argv[1] + ".silent", "w").close()
        time.sleep(120)
    elif mode == "refused":
        c.sendall(b"\x05\x00")
        request(c)
        c.sendall(b"\x05\x05\x00\x01\x7f\x00\x00\x01\x00\x01")
    c.close()
EOF
(cd "$T" && exec python3 "$T/hostile.py" "$PH" probe socks4 nomethod short refused silent) &
HOSTILE=$!
DAEMON_PIDS+=("$HOSTILE")
wait_port "$PH"
check "B stops" stop_daemon "$DB"
sed -i "s|^proxy = none|proxy = socks5h://127.0.0.1:$PH|" "$B/custody.conf"
start_daemon "$B"
DB=$DAEMON_PID
before=$(snapshot "$B")
for want in "not a SOCKS5 proxy: it answered version 0" \
    "it accepts none of the methods offered" \
    "it closed the connection after 3 bytes of its reply" \
    "refused: connection refused (5)"; do
	sync_b
	check "a hostile proxy: the sync fails ($want)" [ "$RC" -ne 0 ]
	contains "with a clear error naming the proxy" "$OUTPUT" "via proxy 127.0.0.1:$PH: $want"
	check "B is still running" kill -0 "$DB"
done
check "B wrote nothing" [ "$before" = "$(snapshot "$B")" ]
check "B's verify is clean" quiet cu "$B" verify
# a proxy that accepts and never answers: stopping the daemon ends the wait at once (within
# seconds, not at the 60 s timeout)
cu "$B" sync A >"$T/silent.out" 2>&1 &
SYNC=$!
for _ in $(seq 1 100); do
	[ -e "$T/$PH.silent" ] && break
	sleep 0.1
done
check "the silent proxy holds B's sync" [ -e "$T/$PH.silent" ]
sleep 1
t0=$(date +%s)
check "B, its sync waiting on a silent proxy, stops cleanly" stop_daemon "$DB"
t1=$(date +%s)
check "within 30 s ($((t1 - t0)) s)" [ $((t1 - t0)) -lt 30 ]
wait "$SYNC" 2>/dev/null || true
kill "$HOSTILE" 2>/dev/null || true
wait "$HOSTILE" 2>/dev/null || true
start_daemon "$B"
DB=$DAEMON_PID
check "B's verify is clean" quiet cu "$B" verify

# --- socks5:// (names resolved here): A by its address through danted; an onion never ---------
start_danted
check "B stops" stop_daemon "$DB"
sed -i "s|^proxy = socks5h://127.0.0.1:$PH|proxy = socks5://127.0.0.1:$PX|" "$B/custody.conf"
start_daemon "$B"
DB=$DAEMON_PID
head -c 50000 /dev/urandom >"$IN/four.bin"
check "A ingests four.bin" quiet cu "$A" ingest "$IN/four.bin"
connects=$(grep -c "tcp/connect \[.* 127\.0\.0\.1\.$PA$" "$T/danted.log" || true)
sync_b
check "[peer A] proxy = socks5://: B syncs A through danted" [ "$RC" -eq 0 ]
[ "$RC" -eq 0 ] || echo "$OUTPUT" >&2
got four.bin
check "through danted (one more connection in its log)" \
    [ "$(grep -c "tcp/connect \[.* 127\.0\.0\.1\.$PA$" "$T/danted.log")" -gt "$connects" ]
check "B pins the onion office again" quiet cu "$B" peer add tor "$ONION:7400" "$TORKEY"
check "B stops" stop_daemon "$DB"
sed -i "/^\[peer tor\]/a proxy = socks5://127.0.0.1:$PX" "$B/custody.conf"
start_daemon "$B"
DB=$DAEMON_PID
asked=$(grep -c "resolve hostname \"$ONION\"" "$T/danted.log" || true)
sync_b tor
check "an onion address through a socks5:// proxy fails" [ "$RC" -ne 0 ]
contains "saying it needs a proxy that resolves names" "$OUTPUT" \
    "an onion address needs a proxy that resolves names (socks5h://, not socks5://)"
check "danted was never asked for it again" \
    [ "$(grep -c "resolve hostname \"$ONION\"" "$T/danted.log")" -eq "$asked" ]
check "danted stops" stop_danted

# --- bad proxy URLs stop the daemon at start, naming the line ----------------------------------
check "B stops" stop_daemon "$DB"
cp "$B/custody.conf" "$T/b.conf"
sed -i "s|^proxy = socks5h://127.0.0.1:$PX|proxy = http://127.0.0.1:8080|" "$B/custody.conf"
line=$(grep -n '^proxy = http' "$B/custody.conf" | cut -d: -f1)
rc=0
out=$(timeout 30 "$CUSTODYD" run "$B" 2>&1) || rc=$?
check "[sync] proxy = http://... stops the daemon at start" [ "$rc" -ne 0 -a "$rc" -ne 124 ]
contains "naming the line and the value" "$out" \
    "custody.conf:$line: [sync] proxy = http://127.0.0.1:8080: not a SOCKS5 proxy"
cp "$T/b.conf" "$B/custody.conf"
sed -i "0,\|^proxy = socks5://127.0.0.1:$PX|s||proxy = socks5h://127.0.0.1:0|" "$B/custody.conf"
line=$(grep -n '^proxy = socks5h://127.0.0.1:0' "$B/custody.conf" | cut -d: -f1)
rc=0
out=$(timeout 30 "$CUSTODYD" run "$B" 2>&1) || rc=$?
check "[peer A] proxy with port 0 stops the daemon at start" [ "$rc" -ne 0 -a "$rc" -ne 124 ]
contains "naming the line and the peer" "$out" "custody.conf:$line: [peer A] proxy = socks5h://127.0.0.1:0"
cp "$T/b.conf" "$B/custody.conf"
start_daemon "$B"
check "restored, B verifies clean" quiet cu "$B" verify

done_testing
