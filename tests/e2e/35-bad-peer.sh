#!/usr/bin/env bash
# A peer that sends what its feed's owner never signed, or a blob whose bytes are not the ones
# its record names, is refused: the sync fails and says why, and nothing of it stays in the feed
# (the ref does not move, the bad blob is not in the store, verify stays clean). Also: the daemon
# pulls on its own every [sync] interval seconds.
. "$(dirname "$0")/lib.sh"

key_hex() {
	python3 -c 'import base64,sys; b=base64.b64decode(open(sys.argv[1]).read().split()[1]); print(b[-32:].hex())' "$1/keys/office.pub"
}
join_office() {
	local dir=$1 name=$2 inviter=$3 iport=$4
	"$CUSTODYD" init "$dir" --office "$name" --joining --no-passphrase >"$dir.init" 2>/dev/null
	cu "$inviter" invite "$name" "$(head -n1 "$dir.init")" -o "$dir.inv" --address "127.0.0.1:$iport" >/dev/null
	"$CUSTODYD" join "$dir" "$dir.inv" >"$dir.join" 2>&1
}
# pair: fresh A and B, B joined by A's invitation, each pinning the other.
pair() {
	A=$T/$1-a B=$T/$1-b
	PA=$(free_port) PB=$(free_port)
	init_archive "$A" A
	start_daemon "$A" --listen "127.0.0.1:$PA"
	DA=$DAEMON_PID
	join_office "$B" B "$A" "$PA"
	start_daemon "$B" --listen "127.0.0.1:$PB"
	DB=$DAEMON_PID
	cu "$A" peer add B "127.0.0.1:$PB" "$(head -n1 "$B.init")" >/dev/null
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
git --git-dir="$A/git" cat-file commit "$head" | sed 's/^ingest 1 file (1 new)$/ingest 1 file (1 new) forged/' >"$T/forged"
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
blob=$(find "$A/blobs" -type f | head -n1)
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
done_testing
