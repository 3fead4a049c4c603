#!/usr/bin/env bash
# Forks: a feed that does not fast-forward is refused, kept as evidence and reported.
#
# Each case uses fresh offices: A, and B joined by A's invitation.
# 1. Amended history: A is backed up (stopped, cp -a), ingests X, B pulls it. A is restored from
#    the backup and ingests Y instead: A's commit at the same sequence has another id. A third
#    office D (invited by A before the backup) writes a file Z that A then pulls. `custody -A B
#    sync A` exits 1 with a line naming the fork and office A; B's ref for A's feed does not move
#    (nor on a second try); Y is not visible at B; the conflicting commit is kept under B/forks/
#    (a file that is the commit, names it, or holds its raw bytes); `status --json` has a
#    non-empty "forks" list naming A's feed, `status` and `peers` mention the fork; D's feed,
#    relayed by A in the same session, still arrives (B's ref equals D's, B's get of Z is
#    byte-identical). `custody verify` stays clean at A and B.
# 2. An old backup: A is backed up after its first file, ingests three more, B pulls them. A is
#    restored: a sync now (A only behind) is no fork and moves nothing. A ingests two new files:
#    the sync is refused as a fork the same way, and B still has every file A had sent it. A,
#    which pulled B's witness records in the same sessions, says its history was cut back.
. "$(dirname "$0")/lib.sh"

# icontains DESCRIPTION HAYSTACK NEEDLE: like contains, ignoring case.
icontains() {
	if printf '%s' "$2" | grep -qiF -- "$3"; then ok "$1"; else fail "$1: expected '$3' in: $2"; fi
}

# ingest DIR NAME: write a small random file NAME under $S/in, ingest it at DIR, print its SHA-256.
ingest() {
	{ echo "$2"; head -c 20000 /dev/urandom; } >"$S/in/$2"
	cu "$1" ingest "$S/in/$2" >/dev/null 2>"$S/ingest.err" ||
	    { cat "$S/ingest.err" >&2; echo "ingest $2 failed" >&2; exit 1; }
	sha256sum <"$S/in/$2" | cut -d' ' -f1
}

# same_file DIR NAME: DIR's get of $S/in/NAME is byte-identical.
same_file() {
	local sha
	sha=$(sha256sum <"$S/in/$2" | cut -d' ' -f1)
	rm -f "$S/out"
	cu "$1" get "$sha" -o "$S/out" >/dev/null 2>&1 && cmp -s "$S/in/$2" "$S/out"
}

# restart_a: stop A (it must exit 0) and start it again on its port; sets DA.
restart_a() {
	stop_daemon "$DA" || fail "A stops cleanly"
	start_daemon "$A" --listen "127.0.0.1:$PA"
	DA=$DAEMON_PID
}

# restore_a: stop A, replace its archive with the backup, start it again; sets DA.
restore_a() {
	stop_daemon "$DA" || fail "A stops cleanly"
	rm -rf "$A"
	cp -a "$S/a.bak" "$A"
	start_daemon "$A" --listen "127.0.0.1:$PA"
	DA=$DAEMON_PID
}

# fork_kept DIR: a file under DIR/forks/ is one of A's commits that DIR lacks (the conflicting
# ones), names it, or holds its raw bytes (its tree line).
fork_kept() {
	local f c tree ids=()
	[ -d "$1/forks" ] || return 1
	for c in $(git --git-dir="$A/git" rev-list "refs/feeds/$HA"); do
		git --git-dir="$1/git" cat-file -e "$c^{commit}" 2>/dev/null || ids+=("$c")
	done
	[ "${#ids[@]}" -gt 0 ] || return 1
	while IFS= read -r -d '' f; do
		for c in "${ids[@]}"; do
			tree=$(git --git-dir="$A/git" rev-parse "$c^{tree}")
			case "$f" in *"$c"*) return 0 ;; esac
			grep -aqF -e "$c" -e "tree $tree" "$f" && return 0
			[ "$(git hash-object -t commit "$f" 2>/dev/null)" = "$c" ] && return 0
		done
	done < <(find "$1/forks" -type f -print0)
	return 1
}

# fork_reported WHAT: B refuses A's feed as a fork and says so everywhere (B sync A just ran,
# with exit status $rc and output $out; B's ref for A was $REFKEEP).
fork_reported() {
	local what=$1 st
	check "$what: B sync A exits 1" [ "$rc" -eq 1 ]
	if printf '%s\n' "$out" | grep -i fork | grep -qw A; then
		ok "$what: sync prints a fork line naming A"
	else
		fail "$what: sync prints a fork line naming A: $out"
	fi
	check "$what: B's ref for A's feed did not move" [ "$(feed_ref "$B" "$HA")" = "$REFKEEP" ]
	st=$(cu "$B" --json status 2>&1)
	check "$what: B's status --json lists the fork of A's feed" py '
import json, re, sys
j = json.loads(sys.argv[1])
f = j["forks"]
assert isinstance(f, list) and f, "forks: %r" % (f,)
d = json.dumps(f)
assert sys.argv[2][:16] in d or re.search(r"\bA\b", d), d' "$st" "$HA"
	icontains "$what: B's status mentions the fork" "$(cu "$B" status 2>&1)" fork
	icontains "$what: B's peers shows the fork" "$(cu "$B" peers 2>&1)" fork
	check "$what: B's peers --json: A's entry mentions the fork" py '
import json, sys
p = [e for e in json.loads(sys.argv[1]) if e["name"] == "A"]
assert p and "fork" in json.dumps(p[0]).lower(), p' "$(cu "$B" --json peers 2>&1)"
	check "$what: a conflicting commit of A is kept under B/forks/" fork_kept "$B"
}

# --- 1. an amended commit ---------------------------------------------------------------------
S=$T/s1
mkdir -p "$S/in"
A=$S/a B=$S/b D=$S/d
PA=$(free_port) PB=$(free_port) PD=$(free_port)
init_archive "$A" A
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
join_office "$B" B "$A" "$PA"
start_daemon "$B" --listen "127.0.0.1:$PB"
join_office "$D" D "$A" "$PA"
start_daemon "$D" --listen "127.0.0.1:$PD"
cu "$A" peer add B "127.0.0.1:$PB" "$(head -n1 "$B.init")" >/dev/null
cu "$A" peer add D "127.0.0.1:$PD" "$(head -n1 "$D.init")" >/dev/null
HA=$(key_hex "$A") HD=$(key_hex "$D")
ingest "$A" w.txt >/dev/null
stop_daemon "$DA" || fail "A stops cleanly"
cp -a "$A" "$S/a.bak"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
ingest "$A" x.txt >/dev/null
N=$(feed_len "$A" "$HA")	# X's commit (A then witnesses B's feed, taken in the same session)
rc=0
out=$(cu "$B" sync A 2>&1) || rc=$?
check "amend: B first pulls A (exit 0)" [ "$rc" -eq 0 ]
REFKEEP=$(feed_ref "$A" "$HA")
check "amend: B's ref for A equals A's" [ "$(feed_ref "$B" "$HA")" = "$REFKEEP" ]
check "amend: B has X" same_file "$B" x.txt

restore_a
ingest "$A" y.txt >/dev/null
FORKC=$(feed_ref "$A" "$HA")
check "amend: restored A wrote seq $N again ($(feed_len "$A" "$HA"))" [ "$(feed_len "$A" "$HA")" -eq "$N" ]
check "amend: with another id" [ -n "$FORKC" -a "$FORKC" != "$REFKEEP" ]
ingest "$D" z.txt >/dev/null
check "amend: A pulls D's feed (D wrote Z)" quiet cu "$A" sync D
check "amend: A has Z" same_file "$A" z.txt
check "amend: custody verify is clean at restored A" quiet cu "$A" verify

rc=0
out=$(cu "$B" sync A 2>&1) || rc=$?
fork_reported amend
refute "amend: Y is not visible at B" same_file "$B" y.txt
check "amend: B still has X" same_file "$B" x.txt
check "amend: D's feed, relayed by A in the same session, arrived at B" \
    [ -n "$(feed_ref "$D" "$HD")" -a "$(feed_ref "$B" "$HD")" = "$(feed_ref "$D" "$HD")" ]
check "amend: B's get of D's Z is byte-identical" same_file "$B" z.txt
rc=0
cu "$B" --json sync A >"$S/sync2.json" 2>"$S/sync2.err" || rc=$?
check "amend: a second sync is refused too (exit 1)" [ "$rc" -eq 1 ]
check "amend: its --json lists the fork and moves nothing of A's" py '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["forks"], j
assert not any(m.startswith("feed A:") for m in j["moved"]), j["moved"]' "$S/sync2.json"
check "amend: B's ref for A's feed still did not move" [ "$(feed_ref "$B" "$HA")" = "$REFKEEP" ]
check "amend: custody verify is clean at B" quiet cu "$B" verify
check "amend: custody verify is clean at A" quiet cu "$A" verify

# --- 2. an old backup -----------------------------------------------------------------------
S=$T/s2
mkdir -p "$S/in"
A=$S/a B=$S/b
two_offices
HA=$(key_hex "$A")
ingest "$A" f1.txt >/dev/null
stop_daemon "$DA" || fail "A stops cleanly"
cp -a "$A" "$S/a.bak"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
for f in f2.txt f3.txt f4.txt; do ingest "$A" $f >/dev/null; done
rc=0
out=$(cu "$B" sync A 2>&1) || rc=$?
check "old backup: B first pulls A (exit 0)" [ "$rc" -eq 0 ]
REFKEEP=$(feed_ref "$A" "$HA")
check "old backup: B's ref for A equals A's" [ "$(feed_ref "$B" "$HA")" = "$REFKEEP" ]
N=$(feed_len "$A" "$HA")

restore_a
rc=0
out=$(cu "$B" sync A 2>&1) || rc=$?
check "old backup: restored A, only behind, is no fork (exit 0)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || echo "$out" >&2
case "$out" in *fork*) fail "old backup: behind is no fork: $out" ;; *) ok "old backup: no fork line" ;; esac
check "old backup: and B's ref does not move" [ "$(feed_ref "$B" "$HA")" = "$REFKEEP" ]
check "old backup: no fork evidence yet" [ -z "$(find "$B/forks" -type f 2>/dev/null)" ]

ingest "$A" g1.txt >/dev/null
ingest "$A" g2.txt >/dev/null
check "old backup: A is now behind B's copy (seq $(feed_len "$A" "$HA") < $N)" \
    [ "$(feed_len "$A" "$HA")" -lt "$N" ]
rc=0
out=$(cu "$B" sync A 2>&1) || rc=$?
fork_reported "old backup"
for f in f1.txt f2.txt f3.txt f4.txt; do
	check "old backup: B still has $f" same_file "$B" $f
done
refute "old backup: G1 is not visible at B" same_file "$B" g1.txt
check "old backup: custody verify is clean at B" quiet cu "$B" verify
# the session moves data both ways: restored A took B's witness of its lost commits, and says so
rc=0
vo=$(cu "$A" verify 2>&1) || rc=$?
check "old backup: custody verify at restored A exits 1" [ "$rc" -eq 1 ]
contains "old backup: and says its history was cut back" "$vo" "the history was cut back"
check "A stops cleanly" stop_daemon "$DA"
done_testing
