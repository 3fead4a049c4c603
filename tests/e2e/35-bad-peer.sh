#!/usr/bin/env bash
# A peer that sends what its feed's owner never signed, or a blob whose bytes are not the ones
# its record names, is refused: the sync fails and says why, and nothing of it stays in the feed
# (the ref does not move, the bad blob is not in the store, verify stays clean). Also: the daemon
# pulls on its own every [sync] interval seconds, and a sync waiting on a silent peer does not
# hold it when it is told to stop.
. "$(dirname "$0")/lib.sh"

# pair: fresh A and B, B joined by A's invitation, each pinning the other.
pair() {
	A=$T/$1-a B=$T/$1-b
	two_offices
	HA=$(key_hex "$A")
}

# --- a commit the owner did not sign -----------------------------------------------------------
pair forged
head -c 100000 /dev/urandom >"$T/f1"
cu "$A" ingest "$T/f1" >/dev/null
check "B takes A's honest feed" cu "$B" sync A
good=$(feed_ref "$B" "$HA")
echo second >"$T/f2"
cu "$A" ingest "$T/f2" >/dev/null
# A's head rewritten by hand: its message changed, its old signature kept (as in 12-tamper)
head=$(feed_ref "$A" "$HA")
git --git-dir="$A/git" cat-file commit "$head" | sed 's/^custody$/custody forged/' >"$T/forged"
forged=$(git --git-dir="$A/git" hash-object -t commit -w "$T/forged")
git --git-dir="$A/git" update-ref "refs/feeds/$HA" "$forged" "$head"
check "the forged commit differs from the signed one" [ "$forged" != "$head" ]
rc=0
out=$(cu "$B" sync A 2>&1) || rc=$?
check "sync from a peer serving a forged commit fails" [ "$rc" -ne 0 ]
contains "and says the signature is forged" "$out" "forged signature"
check "B's ref for A's feed did not move" [ "$(feed_ref "$B" "$HA")" = "$good" ]
check "B's verify is clean" cu "$B" verify
out=$(cu "$B" peers 2>&1)
contains "B's peers shows the failure" "$out" "forged"
stop_daemon "$DB"
stop_daemon "$DA"

# --- a blob whose bytes are not what its record names -------------------------------------------
pair badblob
head -c 3000000 /dev/urandom >"$T/big"
cu "$A" ingest "$T/big" >/dev/null
blob=$(find "$A/blobs" -type f | sed -n 1p)
python3 - "$blob" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[200000] ^= 1
open(p, "wb").write(bytes(b))
PY
rc=0
out=$(cu "$B" sync A 2>&1) || rc=$?
check "sync from a peer serving a damaged blob fails" [ "$rc" -ne 0 ]
contains "and names the blob" "$out" "$(basename "$blob")"
check "B's ref for A's feed was not created" [ -z "$(feed_ref "$B" "$HA")" ]
check "the bad blob is not in B's store" [ -z "$(find "$B/blobs" -name "$(basename "$blob")")" ]
check "nor a partial copy of it" [ -z "$(find "$B/tmp" -name "sync-$(basename "$blob")*")" ]
check "B's verify is clean" cu "$B" verify
stop_daemon "$DB"
stop_daemon "$DA"

# --- the timer: B pulls A without being asked ---------------------------------------------------
pair timer
stop_daemon "$DB"
sed -i 's/^interval = .*/interval = 1/' "$B/custody.conf"
start_daemon "$B" --listen "127.0.0.1:$PB"
DB=$DAEMON_PID
echo "on a timer" >"$T/t1"
sha=$(sha256sum <"$T/t1" | cut -c1-64)
cu "$A" ingest "$T/t1" >/dev/null
for _ in $(seq 40); do
	[ -n "$(feed_ref "$B" "$HA")" ] && break
	sleep 0.25
done
check "B pulled A's feed on its own" [ "$(feed_ref "$B" "$HA")" = "$(feed_ref "$A" "$HA")" ]
check "and holds A's file" cu "$B" get "$sha" -o "$T/t1.back"
check "byte-identical" cmp -s "$T/t1" "$T/t1.back"
stop_daemon "$DB"
stop_daemon "$DA"

# --- stopping while the timer's sync waits on a peer that never answers ------------------------
# A's address now leads to a listener that accepts and stays silent: B's handshake would wait
# for its 10 s timeout; a stop must end it at once, and the daemon must then leave by itself.
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
held = []
while True:
	held.append(s.accept()[0]); open(sys.argv[2], "a").close()' "$PA" "$T/silent.accepted" &
SILENT=$!
for _ in $(seq 40); do
	python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()' "$PA" 2>/dev/null && break
	sleep 0.1
done
rm -f "$T/silent.accepted"
: >"$B.log"
start_daemon "$B" --listen "127.0.0.1:$PB"
DB=$DAEMON_PID
for _ in $(seq 100); do
	[ -e "$T/silent.accepted" ] && break
	sleep 0.1
done
check "B's timer sync reached the silent peer" [ -e "$T/silent.accepted" ]
sleep 0.5
t0=$(date +%s%N)
rc=0
stop_daemon "$DB" || rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kill "$SILENT" 2>/dev/null || true
wait "$SILENT" 2>/dev/null || true
check "B stops in under 5 s while its sync waits (took ${ms} ms)" [ "$ms" -lt 5000 ]
check "and exits 0" [ "$rc" -eq 0 ]
check "its log says the sync was interrupted" grep -q "interrupted, custodyd is stopping" "$B.log"
check "and that it stopped" grep -q "info: stopped" "$B.log"
refute "without the forced exit after the grace period" grep -q "stopping anyway" "$B.log"
refute "and no backoff is recorded against A" grep -q "sync with A:.*next try" "$B.log"
done_testing
