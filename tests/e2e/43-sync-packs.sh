#!/usr/bin/env bash
# A large feed arrives in several packs: B's daemon asks for packs of at most 64 KiB
# (CUSTODY_SYNC_PACK_BYTES), so A's feed of four imports of 200 victims (about 17 MB) comes as
# answers of whole commits, each in many packs, every pack checked and indexed apart and every
# object of them used by the verified commits. A seized A (the adversary's own tool, evil-peer,
# with A's archive and key) then plays the multi-pack protocol against B:
#  - it answers the first request and is gone at the next: B holds the commits of the first
#    answer only (whole commits, verified), nothing else, and later resumes from there;
#  - its rewritten history (a copy of A from before the first answer's end, with other
#    imports signed by A's real key) is a fork at B's head: refused, kept as evidence;
#  - an answer cut off after 5 packs, an answer with a garbage pack after the true ones, one
#    that repeats a pack, one that brings again the objects of commits B took already, and an
#    endless answer of 300 packs: each refused with a clear error, B's ref unmoved, nothing new
#    in B's git/objects, nothing left in tmp/, B's daemon alive and under 128 MiB.
# Then the honest A brings the rest; B's copy passes stock git fsck and custody verify. C, new,
# takes the whole feed in one session of several answers. Past 32 packs each daemon merges the
# small ones (archive-packs.c): the packs that came are those left and those its log merged.
. "$(dirname "$0")/lib.sh"

EVIL=${BUILD:-}/evil-peer
[ -x "$EVIL" ] || { echo "SKIP: no evil-peer binary (BUILD unset)"; exit 77; }
MEM_LIMIT_KB=$((128 * 1024))
SANITIZED=0
grep -qa __asan_init "$CUSTODYD" && SANITIZED=1

objects() { (cd "$1/git/objects" && find . -type f | sort); }
packs_now() { ls "$1/git/objects/pack" | grep -c '\.pack$'; }
# the packs that came to archive $1: those it holds, and those merged away (k - 1 of each k
# merged into one past ARCHIVE_PACKS_MAX, as its log says)
packs_came() {
	echo $(( $(packs_now "$1") + $(sed -n 's/.*git: merged \([0-9]*\) of .*/\1/p' "$1.log" |
	    awk '{ s += $1 - 1 } END { print s + 0 }') ))
}
vmhwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
# victims FILE PREFIX: 200 victims with 16 KB of notes each
victims() {
	python3 - "$1" "$2" <<'PY'
import base64, os, sys
with open(sys.argv[1], "w") as f:
    f.write("id,name,sex,age,status,date_of_death,date_documented,governorate,notes\n")
    for i in range(200):
        notes = base64.b64encode(os.urandom(12000)).decode()
        f.write("%s%d,Person %d,male,30,civilian,2024-12-01,2024-12-02,idlib,%s\n" % (sys.argv[2], i, i, notes))
PY
}

A=$T/a B=$T/b C=$T/c AF=$T/a-fork
PA=$(free_port) PB=$(free_port) PC=$(free_port)
init_archive "$A" A
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
join_office "$B" B "$A" "$PA"
CUSTODY_SYNC_PACK_BYTES=65536 start_daemon "$B" --listen "127.0.0.1:$PB"
DB=$DAEMON_PID
cu "$A" peer add B "127.0.0.1:$PB" "$(head -n1 "$B.init")" >/dev/null
join_office "$C" C "$A" "$PA"
CUSTODY_SYNC_PACK_BYTES=65536 start_daemon "$C" --listen "127.0.0.1:$PC"
DC=$DAEMON_PID
HA=$(key_hex "$A")
cu "$A" peer add C "127.0.0.1:$PC" "$(head -n1 "$C.init")" >/dev/null
victims "$T/v1.csv" "v1-"
check "A imports 200 victims (1)" quiet cu "$A" import victims "$T/v1.csv"
SEQ1=$(seq_of "$A" "$HA")
stop_daemon "$DA" || fail "A stops cleanly"
cp -a "$A" "$AF"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
for k in 2 3 4; do
	victims "$T/v$k.csv" "v$k-"
	check "A imports 200 victims ($k)" quiet cu "$A" import victims "$T/v$k.csv"
done
HEADA=$(feed_ref "$A" "$HA")
SEQA=$(seq_of "$A" "$HA")
stop_daemon "$DA" || fail "A stops cleanly"

# evil NAME MODE [ARGS]: the adversary on A's port in MODE; B syncs A; sets out and rc.
evil() {
	local name=$1
	shift
	BEFORE=$(objects "$B")
	REFKEEP=$(feed_ref "$B" "$HA")
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
	check "$name: B's daemon is alive" kill -0 "$DB"
	hwm=$(vmhwm "$DB")
	if [ "$SANITIZED" -eq 1 ]; then
		ok "$name: peak memory ${hwm} kB (not checked under a sanitizer)"
	else
		check "$name: B's peak memory stays under 128 MiB (${hwm} kB)" [ "$hwm" -lt "$MEM_LIMIT_KB" ]
	fi
}

# --- the first answer, then the peer is gone ---------------------------------------------------
evil once once
check "once: B's sync fails when the peer is gone" [ "$rc" -ne 0 ]
HEADB=$(feed_ref "$B" "$HA")
SEQB=$(seq_of "$B" "$HA")
check "once: B took the first answer's commits ($SEQB of $SEQA)" [ "$SEQB" -gt "$SEQ1" -a "$SEQB" -lt "$SEQA" ]
check "once: B's head is one of A's commits" git --git-dir="$A/git" merge-base --is-ancestor "$HEADB" "$HEADA"
check "once: several packs came ($(packs_came "$B"))" [ "$(packs_came "$B")" -ge 20 ]
check "once: at most 32 are left ($(packs_now "$B"))" [ "$(packs_now "$B")" -le 32 ]
check "once: nothing left in B's tmp/" [ -z "$(ls -A "$B/tmp")" ]
check "once: B shows a victim of the first import" quiet cu "$B" show v1-7
check "once: B's copy passes git fsck" quiet git --git-dir="$B/git" fsck --strict

# --- a rewritten history: a fork at B's head ---------------------------------------------------
start_daemon "$AF" --listen "127.0.0.1:$PA"
DAF=$DAEMON_PID
for k in 5 6 7; do
	victims "$T/f$k.csv" "f$k-"
	check "the copy of A imports other victims ($k)" quiet cu "$AF" import victims "$T/f$k.csv"
done
rc=0
out=$(cu "$B" sync A 2>&1) || rc=$?
echo "fork: $out"
contains "fork: B reports the rewritten history as a fork" "$out" "fork"
check "fork: B's ref did not move" [ "$(feed_ref "$B" "$HA")" = "$HEADB" ]
check "fork: kept as evidence" [ -n "$(ls "$B/forks" 2>/dev/null)" ]
stop_daemon "$DAF" || fail "the copy of A stops cleanly"

# --- the adversary's answers -------------------------------------------------------------------
git --git-dir="$A/git" rev-list --objects "$HEADB..$HEADA" | cut -d' ' -f1 |
    git --git-dir="$A/git" pack-objects --window=0 --stdout >"$T/rest.pack"
git --git-dir="$A/git" rev-list --objects "$HEADB~1..$HEADB" | cut -d' ' -f1 |
    git --git-dir="$A/git" pack-objects --window=0 --stdout >"$T/old.pack"
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
def pack(objs):
    body = b"PACK" + struct.pack(">II", 2, len(objs)) + b"".join(objs)
    return body + hashlib.sha1(body).digest()
def blob(j):
    return entry(3, len(j)) + zlib.compress(j)
open(sys.argv[1] + "/garbage.pack", "wb").write(pack([blob(os.urandom(1000)) for _ in range(30)]))
os.makedirs(sys.argv[1] + "/endless", exist_ok=True)
for i in range(300):
    open(sys.argv[1] + "/endless/%03d.pack" % i, "wb").write(pack([blob(os.urandom(100))]))
PY

evil cut cut 5
refused "an answer cut off after 5 pieces" "connection closed by the peer"
evil garbage packs "$T/rest.pack" "$T/garbage.pack" "$HEADA" "$SEQA"
refused "a garbage pack after the true ones" "objects that none of its commits use"
evil twice packs "$T/rest.pack" "$T/rest.pack" "$HEADA" "$SEQA"
refused "the same pack twice" "the same pack twice"
evil again packs "$T/rest.pack" "$T/old.pack" "$HEADA" "$SEQA"
refused "a pack bringing again what B took" "objects that none of its commits use"
evil endless packs "$T"/endless/*.pack "$HEADA" "$SEQA"
refused "an endless answer" "passes 256 packs"

# --- the honest A: the rest, in several packs ------------------------------------------------
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
out=$(cu "$B" sync A 2>&1) || fail "B's sync of the honest A: $out"
contains "B resumes from its head: $((SEQA - SEQB)) commits" "$out" "$((SEQA - SEQB)) commits"
# (A took B's feed in the same session; its witness of it came back to B)
check "B's ref for A's feed equals A's" [ "$(feed_ref "$B" "$HA")" = "$(feed_ref "$A" "$HA")" ]
check "and holds A's head of before" git --git-dir="$B/git" merge-base --is-ancestor "$HEADA" \
    "$(feed_ref "$B" "$HA")"
check "B shows a victim of the last import" quiet cu "$B" show v4-199
check "B's copy passes git fsck" quiet git --git-dir="$B/git" fsck --strict
check "B's verify is clean" quiet cu "$B" verify
check "nothing left in B's tmp/" [ -z "$(ls -A "$B/tmp")" ]

# --- a first sync of the whole feed: several answers in one session --------------------------
LA=$(feed_len "$A" "$HA")
out=$(cu "$C" sync A 2>&1) || fail "C's first sync: $out"
contains "C takes all $LA commits in one session" "$out" "$LA commits"
check "C's ref for A's feed equals A's" [ "$(feed_ref "$C" "$HA")" = "$(feed_ref "$A" "$HA")" ]
check "in several packs ($(packs_came "$C"))" [ "$(packs_came "$C")" -ge 100 ]
check "C holds at most 32 of them, merged ($(packs_now "$C"))" [ "$(packs_now "$C")" -le 32 ]
check "C shows a victim of the first import" quiet cu "$C" show v1-0
check "C shows a victim of the last import" quiet cu "$C" show v4-0
check "C's copy passes git fsck" quiet git --git-dir="$C/git" fsck --strict
check "nothing left in C's tmp/" [ -z "$(ls -A "$C/tmp")" ]
stop_daemon "$DA" || fail "A stops cleanly"
stop_daemon "$DB" || fail "B stops cleanly"
stop_daemon "$DC" || fail "C stops cleanly"
done_testing
