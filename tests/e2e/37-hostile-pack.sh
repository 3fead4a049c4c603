#!/usr/bin/env bash
# A seized member office (its archive and real key in the adversary's hands, its daemon replaced
# by the adversary's own tool, evil-peer) sends what no honest office would: a delta bomb (a tiny
# pack with one delta of copy instructions whose result is 512 MiB), a pack of garbage objects
# leading to a head that is not in it, a blob stream longer than its signed record states, a
# blob whose size grows between messages, and a blob's true bytes 2 MiB to an answer (more than
# the 1 MiB an answer may carry, which the receiver's buffers hold). Each is refused with a clear error, the victim's
# daemon stays under 128 MiB of memory (VmHWM of the real process), nothing is left on its disk
# (no new object in git/objects, no quarantine or .part file in tmp/, no blob), and its other
# feeds still sync afterwards. Also: a sync request sent before PeerHello is refused, and when
# A is honest again its feed, a pack of several MiB that A's daemon sends one 1 MiB piece at a
# time as the last is written, arrives whole.
. "$(dirname "$0")/lib.sh"

EVIL=${BUILD:-}/evil-peer
[ -x "$EVIL" ] || { echo "SKIP: no evil-peer binary (BUILD unset)"; exit 77; }
MEM_LIMIT_KB=$((128 * 1024))
SANITIZED=0
grep -qa __asan_init "$CUSTODYD" && SANITIZED=1

# objects DIR: every file under DIR/git/objects, sorted.
objects() {
	(cd "$1/git/objects" && find . -type f | sort)
}

# vmhwm PID: the peak resident memory of a process, in kB.
vmhwm() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}

A=$T/a B=$T/b C=$T/c
two_offices
PC=$(free_port)
join_office "$C" C "$A" "$PA"
start_daemon "$C" --listen "127.0.0.1:$PC"
DC=$DAEMON_PID
cu "$B" peer add C "127.0.0.1:$PC" "$(head -n1 "$C.init")" >/dev/null
cu "$C" peer add B "127.0.0.1:$PB" "$(head -n1 "$B.init")" >/dev/null
HA=$(key_hex "$A") HC=$(key_hex "$C")
check "B first takes A's feed" quiet cu "$B" sync A
head -c 3000000 /dev/urandom >"$T/big"
cu "$A" ingest "$T/big" >/dev/null
# 80 victims with 50 KB of notes each: about 4 MB of encrypted records in one pack
python3 - "$T/victims.csv" <<'PY'
import base64, os, sys
with open(sys.argv[1], "w") as f:
    f.write("id,name,sex,age,status,date_of_death,date_documented,governorate,notes\n")
    for i in range(80):
        notes = base64.b64encode(os.urandom(37500)).decode()
        f.write("big%d,Person %d,male,30,civilian,2024-12-01,2024-12-02,idlib,%s\n" % (i, i, notes))
PY
check "A imports 80 large victim records" quiet cu "$A" import victims "$T/victims.csv"
echo "from C" >"$T/c1"
cu "$C" ingest "$T/c1" >/dev/null
HEADA=$(feed_ref "$A" "$HA")
SEQA=$(git --git-dir="$A/git" rev-list --count "$HEADA")
REFKEEP=$(feed_ref "$B" "$HA")
stop_daemon "$DA" || fail "A stops cleanly"

# --- the adversary's packs --------------------------------------------------------------------
python3 - "$T" <<'PY'
import hashlib, os, struct, sys, zlib
def entry(kind, size):
    b = bytearray([(kind << 4) | (size & 15)])
    size >>= 4
    while size:
        b[-1] |= 0x80
        b.append(size & 0x7f)
        size >>= 7
    return bytes(b)
def varint(n):
    b = bytearray()
    while True:
        b.append(n & 0x7f)
        n >>= 7
        if not n:
            return bytes(b)
        b[-1] |= 0x80
def pack(objs):
    body = b"PACK" + struct.pack(">II", 2, len(objs)) + b"".join(objs)
    return body + hashlib.sha1(body).digest()
base = bytes(65536)
base_id = hashlib.sha1(b"blob 65536\0" + base).digest()
# 8192 copy instructions (0x80: copy 0x10000 bytes from offset 0): a 512 MiB result
delta = varint(len(base)) + varint(512 << 20) + b"\x80" * 8192
bomb = pack([entry(3, len(base)) + zlib.compress(base, 9),
             entry(7, len(delta)) + base_id + zlib.compress(delta, 9)])
open(sys.argv[1] + "/bomb.pack", "wb").write(bomb)
print("delta bomb: %d bytes" % len(bomb), file=sys.stderr)
junk = [os.urandom(1000) for _ in range(300)]
open(sys.argv[1] + "/garbage.pack", "wb").write(
    pack([entry(3, len(j)) + zlib.compress(j) for j in junk]))
PY

# attack NAME MODE [ARGS]: run the adversary on A's port in MODE; B syncs A; sets out and rc.
attack() {
	local name=$1
	shift
	BEFORE=$(objects "$B")
	"$EVIL" serve "$A" "127.0.0.1:$PA" "$@" 2>"$T/evil-$name.log" &
	EVILPID=$!
	for _ in $(seq 50); do
		python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()' "$PA" 2>/dev/null && break
		sleep 0.1
	done
	rc=0
	out=$(cu "$B" sync A 2>&1) || rc=$?
	kill "$EVILPID" 2>/dev/null || true
	wait "$EVILPID" 2>/dev/null || true
	echo "$name: $out"
}

# refused NAME NEEDLE: the sync just run was refused for the right reason, and left nothing.
refused() {
	local name=$1 hwm
	check "$name: B's sync fails" [ "$rc" -ne 0 ]
	contains "$name: and says why" "$out" "$2"
	check "$name: B's ref for A's feed did not move" [ "$(feed_ref "$B" "$HA")" = "$REFKEEP" ]
	check "$name: no new object in B's git/objects" [ "$(objects "$B")" = "$BEFORE" ]
	check "$name: nothing left in B's tmp/" [ -z "$(ls -A "$B/tmp")" ]
	check "$name: no blob of A's file at B" [ -z "$(find "$B/blobs" -type f)" ]
	check "$name: B's daemon is alive" kill -0 "$DB"
	hwm=$(vmhwm "$DB")
	if [ "$SANITIZED" -eq 1 ]; then
		ok "$name: peak memory ${hwm} kB (not checked under a sanitizer)"
	else
		check "$name: B's peak memory stays under 128 MiB (${hwm} kB)" [ "$hwm" -lt "$MEM_LIMIT_KB" ]
	fi
}

attack bomb pack "$T/bomb.pack" "$HEADA" "$SEQA"
refused "delta bomb" "a delta from 65536 to 536870912 bytes"
attack garbage pack "$T/garbage.pack" 0123456789abcdef0123456789abcdef01234567 "$SEQA"
refused "garbage pack" "the head commit is not in the pack"
attack long blob-long
refused "blob longer than its record" "more than its record allows"
attack grow blob-grow
refused "blob that grows" "changed its size"
attack big blob-big
refused "blob answers of 2 MiB" "the peer sent too many bytes"

# --- a sync request before PeerHello --------------------------------------------------------
nh=$("$EVIL" nohello "$A" "127.0.0.1:$PB" "$(key_hex "$B")" 2>&1) || true
contains "a FeedsRequest before PeerHello is refused" "$nh" "before PeerHello"
refute "and answers no FeedsReply" grep -q feeds_reply <<<"$nh"
check "B's log says so" grep -q "before PeerHello: refused" "$B.log"

# --- afterwards, every other feed still syncs -------------------------------------------------
check "B still syncs C" quiet cu "$B" sync C
check "B's ref for C's feed equals C's" [ "$(feed_ref "$B" "$HC")" = "$(feed_ref "$C" "$HC")" ]
sha=$(sha256sum <"$T/c1" | cut -c1-64)
check "B's get of C's file works" quiet cu "$B" get "$sha" -o "$T/c1.back"
check "byte-identical" cmp -s "$T/c1" "$T/c1.back"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
check "the honest A, back, syncs to B" quiet cu "$B" sync A
# (A took B's feed in the same session, and its witness of it came back to B)
check "B's ref for A's feed equals A's" [ "$(feed_ref "$B" "$HA")" = "$(feed_ref "$A" "$HA")" ]
check "and holds what A held before" git --git-dir="$B/git" merge-base --is-ancestor "$HEADA" \
    "$(feed_ref "$B" "$HA")"
pack=$(git --git-dir="$A/git" rev-list --objects "$REFKEEP..$HEADA" | cut -d' ' -f1 |
    git --git-dir="$A/git" pack-objects --stdout | wc -c)
check "which took more than one PackData message ($pack bytes)" [ "$pack" -gt $((2 * 1048576)) ]
check "B shows one of A's large records" quiet cu "$B" show big42
check "nothing left in A's tmp/" [ -z "$(ls -A "$A/tmp")" ]
sha=$(sha256sum <"$T/big" | cut -c1-64)
check "B's get of A's file is byte-identical" quiet cu "$B" get "$sha" -o "$T/big.back"
check "byte-identical" cmp -s "$T/big" "$T/big.back"
check "nothing left in B's tmp/" [ -z "$(ls -A "$B/tmp")" ]
check "B's verify is clean" quiet cu "$B" verify
stop_daemon "$DA" || fail "A stops cleanly"
stop_daemon "$DB" || fail "B stops cleanly"
stop_daemon "$DC" || fail "C stops cleanly"
done_testing
