#!/usr/bin/env bash
# A bundle that is truncated, altered, foreign, from an unpinned office or carrying a fork is
# refused with a clear error, and nothing of it is applied.
#
# A invites B and C (invitation files only, nothing listens). A writes a bundle for B. At B, each
# of these is refused, and B's refs, blobs, index and tmp/ stay exactly as they were: the bundle
# cut short (at several places, down to its age header), the bundle with one byte flipped (in
# the age header, the first chunk, the middle, the last byte), a bundle A made for C, an empty
# file, and A's genuine bundle while B has A unpinned. Then B applies the genuine one.
# The attack: A's laptop is seized and copied while A's archive held commit N; the real A goes on
# to commit N+1 and B takes it. The adversary's copy, driven by custody's own code with A's real
# key, signs another commit N+1 and writes a bundle for B: B refuses it as a sync refuses a fork
# (ref unchanged, the forged commit kept in forks/ and reported), and nothing else is applied;
# so is its bundle of commits N+1 and N+2, which B's N+1 is not the base of.
# Then C is seized: A and B sign its revocation after its commit K (effective at B, pending at
# A), the seized C signs commit K+1 and bundles it for A, which takes it (not revoked there yet),
# and A's next bundle for B relays it: B refuses K+1 as a sync refuses it (kept in forks/, said,
# exit 1), takes A's own new commits from the same bundle, and never holds C's new file; a
# bundle the revoked C writes for B itself is refused whole.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || { echo "SKIP: git is not installed"; exit 77; }

A=$T/a B=$T/b C=$T/c IN=$T/in OUT=$T/out
mkdir -p "$IN" "$OUT"
NOPORT=$(free_port)

init_archive "$A" A
start_daemon "$A"
DA=$DAEMON_PID
join_office "$B" B "$A" "$NOPORT"
start_daemon "$B"
join_office "$C" C "$A" "$NOPORT"
start_daemon "$C"
HA=$(key_hex "$A")

head -c 300000 /dev/urandom >"$IN/one.bin"
check "A ingests a file" quiet cu "$A" ingest "$IN/one.bin"
check "A writes a bundle for B" quiet cu "$A" bundle create --for B -o "$T/ab.bundle"
check "A writes a bundle for C" quiet cu "$A" bundle create --for C -o "$T/ac.bundle"
SIZE=$(stat -c %s "$T/ab.bundle")

# state DIR: what B holds (refs, blobs, index rows, tmp/), one text
state() {
	git --git-dir="$1/git" for-each-ref
	find "$1/blobs" -type f | sort
	sqlite3 "$1/index.sqlite" "SELECT count(*) FROM records; SELECT count(*) FROM witnesses"
	ls -A "$1/tmp"
}

# refused NAME FILE WORDS: B refuses FILE, saying WORDS, and nothing changes
refused() {
	local rc=0 out
	out=$(cu "$B" bundle apply "$2" 2>&1) || rc=$?
	check "$1: refused" [ "$rc" -ne 0 ]
	contains "$1: says why" "$out" "$3"
	check "$1: B holds exactly what it held" [ "$(state "$B")" = "$S0" ]
}

S0=$(state "$B")
for cut in 20 200 $((SIZE / 2)) $((SIZE - 70000)) $((SIZE - 1)); do
	head -c "$cut" "$T/ab.bundle" >"$T/cut.bundle"
	refused "cut at $cut of $SIZE bytes" "$T/cut.bundle" "truncated"
done
: >"$T/empty.bundle"
refused "an empty file" "$T/empty.bundle" "not a bundle"
for at in 30 300 $((SIZE / 2)) $((SIZE - 1)); do
	cp "$T/ab.bundle" "$T/flip.bundle"
	python3 -c 'import sys
p, at = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read()); b[at] ^= 0x01; open(p, "wb").write(b)' "$T/flip.bundle" "$at"
	case $at in
	30) want="not for this office" ;;
	*) want="tampered" ;;
	esac
	refused "one byte flipped at $at" "$T/flip.bundle" "$want"
done
refused "a bundle made for C" "$T/ac.bundle" "not for this office"
check "B unpins A" quiet cu "$B" peer remove A
refused "a bundle from an office B does not pin" "$T/ab.bundle" "not a pinned peer"
check "B pins A again" quiet cu "$B" peer add A "127.0.0.1:$NOPORT" "$(key_line "$A")"
check "C applies its own bundle from A" quiet cu "$C" bundle apply "$T/ac.bundle"
refused "C's bundle, applied at B" "$T/ac.bundle" "not for this office"

out=$(cu "$B" bundle apply "$T/ab.bundle" 2>&1) || fail "B applies the genuine bundle: $out"
contains "the genuine bundle is taken" "$out" "feed A: "
check "B's ref for A's feed is A's" [ "$(feed_ref "$B" "$HA")" = "$(feed_ref "$A" "$HA")" ]

# --- the attack: a seized copy of A forks A's feed, and bundles the fork for B -------------------
check "A stops (its disk is copied)" stop_daemon "$DA"
cp -a "$A" "$T/seized"
rm -f "$T/seized/custodyd.sock"
start_daemon "$A"
head -c 1000 /dev/urandom >"$IN/real.bin"
check "the real A ingests a file (its commit N+1)" quiet cu "$A" ingest "$IN/real.bin"
check "A writes a bundle for B" quiet cu "$A" bundle create --for B -o "$T/ab2.bundle"
check "B applies it" quiet cu "$B" bundle apply "$T/ab2.bundle"
REFB=$(feed_ref "$B" "$HA")
check "B holds A's commit N+1" [ "$REFB" = "$(feed_ref "$A" "$HA")" ]

start_daemon "$T/seized"
echo "$DAEMON_PID" >"$T/seized.pid"
head -c 1000 /dev/urandom >"$IN/forged.bin"
check "the seized copy signs another commit N+1 with A's key" quiet cu "$T/seized" ingest \
    "$IN/forged.bin"
FORGED=$(feed_ref "$T/seized" "$HA")
check "the seized copy writes a bundle for B" quiet cu "$T/seized" bundle create --for B --since 1 \
    -o "$T/forged.bundle"
S0=$(state "$B")
S0=$(grep -v '^$' <<<"$S0")
rc=0
out=$(cu "$B" bundle apply "$T/forged.bundle" 2>&1) || rc=$?
check "B refuses the forged bundle" [ "$rc" -ne 0 ]
contains "and says it is a fork" "$out" "fork"
check "B's ref for A's feed did not move" [ "$(feed_ref "$B" "$HA")" = "$REFB" ]
check "the forged commit is kept in B's forks/" eval "ls '$B/forks' | grep -q '$FORGED'"
check "and is not in B's git store" eval "! git --git-dir='$B/git' cat-file -e '$FORGED' 2>/dev/null"
sha=$(sha256sum <"$IN/forged.bin" | cut -d' ' -f1)
refute "B cannot get the forged file" quiet cu "$B" get "$sha" -o "$OUT/forged"
check "B's tmp/ is empty" [ -z "$(ls -A "$B/tmp")" ]

# the fork carried further than B holds: the new commits do not extend B's
check "the seized copy signs its commit N+2" quiet cu "$T/seized" ingest "$IN/one.bin" \
    "$IN/real.bin"
check "and bundles its history from commit 1 on" quiet cu "$T/seized" bundle create --for B \
    --since 1 -o "$T/forged2.bundle"
rc=0
out=$(cu "$B" bundle apply "$T/forged2.bundle" 2>&1) || rc=$?
check "B refuses it too" [ "$rc" -ne 0 ]
contains "as a fork" "$out" "fork"
check "B's ref for A's feed did not move" [ "$(feed_ref "$B" "$HA")" = "$REFB" ]
check "B's tmp/ is empty" [ -z "$(ls -A "$B/tmp")" ]
check "custody verify passes at B" quiet cu "$B" verify
stop_daemon "$(cat "$T/seized.pid" 2>/dev/null || echo 0)" 2>/dev/null || true

# --- a revoked office's commit past its cut, relayed by an honest office --------------------------
HC=$(key_hex "$C")
head -c 2000 /dev/urandom >"$IN/c0.bin"
check "C ingests a file" quiet cu "$C" ingest "$IN/c0.bin"
check "C writes a bundle for A" quiet cu "$C" bundle create --for A -o "$T/ca.bundle"
check "A applies it" quiet cu "$A" bundle apply "$T/ca.bundle"
check "A writes a bundle for B" quiet cu "$A" bundle create --for B -o "$T/ab3.bundle"
out=$(cu "$B" bundle apply "$T/ab3.bundle" 2>&1) || fail "B applies it: $out"
contains "B takes C's feed, relayed by A (learnt from A's records)" "$out" "feed C: "
K=$(seq_of "$B" "$HC")
check "B holds C's feed as C does (K=$K)" [ "$(feed_ref "$B" "$HC")" = "$(feed_ref "$C" "$HC")" ]
check "A signs C's revocation after commit $K" quiet cu "$A" office revoke C --reason "laptop seized" \
    --from-seq "$K"
check "A writes a bundle for B (the revocation)" quiet cu "$A" bundle create --for B -o "$T/ab4.bundle"
check "B applies it" quiet cu "$B" bundle apply "$T/ab4.bundle"
check "B co-signs C's revocation after commit $K" quiet cu "$B" office revoke C \
    --reason "laptop seized" --from-seq "$K"
check "C's revocation is effective at B" eval "cu '$B' office revocations --json | grep -q effective"
sleep 1.1
head -c 2000 /dev/urandom >"$IN/past.bin"
check "the seized C signs commit K+1" quiet cu "$C" ingest "$IN/past.bin"
check "C writes a bundle for A" quiet cu "$C" bundle create --for A -o "$T/ca2.bundle"
check "A, where the revocation is pending, takes C's K+1" quiet cu "$A" bundle apply "$T/ca2.bundle"
check "A holds C's K+1" [ "$(seq_of "$A" "$HC")" -eq $((K + 1)) ]
PAST=$(feed_ref "$A" "$HC")
printf 'A later note.\n' >"$IN/a-late.txt"
check "A ingests a file of its own" quiet cu "$A" ingest "$IN/a-late.txt"
check "A writes a bundle for B (relaying C's K+1)" quiet cu "$A" bundle create --for B \
    -o "$T/ab5.bundle"
rc=0
out=$(cu "$B" bundle apply "$T/ab5.bundle" 2>&1) || rc=$?
check "B reports a refusal (exit 1, got $rc)" [ "$rc" -eq 1 ]
contains "B says why" "$out" "revoked after its commit $K"
contains "and takes A's own new commits" "$out" "feed A: "
check "B's ref for A's feed is A's" [ "$(feed_ref "$B" "$HA")" = "$(feed_ref "$A" "$HA")" ]
check "B still holds C's feed at K" [ "$(seq_of "$B" "$HC")" -eq "$K" ]
check "C's K+1 is kept in B's forks/" eval "ls '$B/forks' | grep -q '$PAST'"
check "and is not in B's git store" eval "! git --git-dir='$B/git' cat-file -e '$PAST' 2>/dev/null"
sha=$(sha256sum <"$IN/past.bin" | cut -d' ' -f1)
refute "B cannot get C's file past the cut" quiet cu "$B" get "$sha" -o "$OUT/past"
check "C writes a bundle for B" quiet cu "$C" bundle create --for B -o "$T/cb.bundle"
S0=$(state "$B")
refused "a bundle the revoked C made" "$T/cb.bundle" "revoked"
check "custody verify passes at B" quiet cu "$B" verify

done_testing
