#!/usr/bin/env bash
# One pack that a revocation cuts in two: the commits up to the cut are taken, the rest refused,
# and only the objects the taken commits use leave the quarantine.
#
# alpha, bravo and charlie (three real offices over TCP) all sync; alpha holds charlie's feed up
# to its commit K. alpha signs the revocation of charlie after commit K+1 (pending: one of two).
# charlie then ingests F1 (its commit K+1, before the cut) and F2 (commit K+2, after it). bravo,
# not yet a signer, pulls charlie and holds K+2; bravo co-signs the same revocation: effective.
# alpha syncs from bravo only, and gets charlie's K+1 and K+2 in one pack. At alpha: charlie's
# feed ref is exactly bravo's K+1, K+2 is kept in forks/ and forks/log says why, `get` of F1
# gives its bytes and F2 is not held, `custody verify` and stock `git fsck` are clean, no object
# that K+2 adds over K+1 (its tree, the trees and record blobs it changes) nor its commit is in
# alpha's git store, F2's encrypted blob is not in alpha's blob store, and tmp/ holds no
# quarantine.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || { echo "SKIP: git is not installed"; exit 77; }

# blobs_of DIR: the names of the encrypted blobs DIR's store holds, sorted
blobs_of() { find "$1/blobs" -type f -printf '%f\n' 2>/dev/null | sort; }

A=$T/alpha B=$T/bravo C=$T/charlie IN=$T/in OUT=$T/out
mkdir -p "$IN" "$OUT"
three_offices
pin_three
HC=$(key_hex "$C")

head -c 20000 /dev/urandom >"$IN/c0.bin"
head -c 30000 /dev/urandom >"$IN/f1.bin"
head -c 40000 /dev/urandom >"$IN/f2.bin"
SHA_F1=$(sha256sum <"$IN/f1.bin" | cut -d' ' -f1)
SHA_F2=$(sha256sum <"$IN/f2.bin" | cut -d' ' -f1)
check "charlie ingests a file" quiet cu "$C" ingest "$IN/c0.bin"
for x in "$B alpha" "$B charlie" "$A bravo" "$A charlie" "$C alpha" "$C bravo"; do
	set -- $x
	check "$(basename "$1") syncs with $2" quiet cu "$1" sync "$2"
done
check "alpha pulls charlie once more (charlie's own commits of those syncs)" quiet cu "$A" sync charlie
K=$(seq_of "$A" "$HC")
check "alpha holds charlie's feed up to K=$K" [ "$K" -ge 1 ]
check "alpha holds all of charlie's feed" [ "$(feed_ref "$A" "$HC")" = "$(feed_ref "$C" "$HC")" ]
CUT=$((K + 1))

# --- alpha signs the revocation after K+1: pending; bravo learns of it --------------------------
check "alpha signs charlie's revocation after commit $CUT (one past what it holds)" \
    quiet cu "$A" office revoke charlie --reason "laptop seized" --from-seq "$CUT"
R=$(cu "$A" office revocations --json)
check "alpha: pending, after $CUT" py '
import json, sys
r = json.loads(sys.argv[1]); n = int(sys.argv[2])
assert len(r) == 1 and r[0]["office"] == "charlie" and r[0]["status"] == "pending", r
assert r[0]["from_seq"] == n, (r, n)
' "$R" "$CUT"
check "bravo pulls alpha (the pending revocation)" quiet cu "$B" sync alpha

# --- charlie commits F1 (K+1, before the cut) and F2 (K+2, after it); bravo takes both ------------
sleep 1.1	# charlie's next commits are at a later second than its last counted one
check "charlie's feed is still at K" [ "$(seq_of "$C" "$HC")" -eq "$K" ]
check "charlie ingests F1" quiet cu "$C" ingest "$IN/f1.bin"
check "charlie ingests F2" quiet cu "$C" ingest "$IN/f2.bin"
check "charlie's feed is at K+2" [ "$(seq_of "$C" "$HC")" -eq $((K + 2)) ]
check "bravo pulls charlie, not yet revoked there" quiet cu "$B" sync charlie
# (charlie pulled bravo in the same session: a witness commit of it may follow K+2)
check "bravo holds charlie's K+2" [ "$(seq_of "$B" "$HC")" -ge $((K + 2)) ]
C1=$(git --git-dir="$B/git" rev-list --reverse "refs/feeds/$HC" | sed -n "$((K + 1))p")
C2=$(git --git-dir="$B/git" rev-list --reverse "refs/feeds/$HC" | sed -n "$((K + 2))p")
check "bravo's K+1 is charlie's K+1" \
    [ "$C1" = "$(git --git-dir="$C/git" rev-list --reverse "refs/feeds/$HC" | sed -n "$((K + 1))p")" ]
check "alpha still holds charlie's K only" [ "$(seq_of "$A" "$HC")" -eq "$K" ]

# the objects K+2 adds over K+1: its tree, and each tree and record blob it changes, unless
# K+1 uses the same object somewhere
git --git-dir="$B/git" ls-tree -r -t "$C1" | awk '{print $3}' | sort -u >"$T/c1.objs"
{ git --git-dir="$B/git" rev-parse "$C2^{tree}"
  git --git-dir="$B/git" diff-tree -r -t --no-commit-id "$C1" "$C2" | awk '{print $4}'
} | sort -u | comm -23 - "$T/c1.objs" >"$T/c2.only"
check "K+2 adds objects over K+1 ($(wc -l <"$T/c2.only"))" [ "$(wc -l <"$T/c2.only")" -ge 2 ]
check "K+2 adds a record blob" git --git-dir="$B/git" diff-tree -r --no-commit-id --diff-filter=A "$C1" "$C2"
BLOBS_A0=$(blobs_of "$A")

# --- bravo co-signs: effective ----------------------------------------------------------------
check "bravo co-signs charlie's revocation after $CUT" \
    quiet cu "$B" office revoke charlie --reason "laptop seized" --from-seq "$CUT"
R=$(cu "$B" office revocations --json)
check "bravo: effective, after $CUT, signed by alpha and bravo" py '
import json, sys
r = {(x["office"], x["from_seq"]): x for x in json.loads(sys.argv[1])}
c = r[("charlie", int(sys.argv[2]))]
assert c["status"] == "effective", c
assert sorted(s["office"] for s in c["signers"] if s["counted"]) == ["alpha", "bravo"], c
' "$R" "$CUT"

# --- alpha syncs from bravo only: charlie's K+1 and K+2 in one pack ------------------------------
rc=0
cu "$A" sync bravo >"$T/a.sync" 2>&1 || rc=$?
check "alpha's sync reports the refusal (exit 1, got $rc)" [ "$rc" -eq 1 ]
contains "alpha's sync says why" "$(cat "$T/a.sync")" "revoked after its commit $CUT"
R=$(cu "$A" office revocations --json)
check "alpha: effective after $CUT" py '
import json, sys
r = {(x["office"], x["from_seq"]): x for x in json.loads(sys.argv[1])}
assert r[("charlie", int(sys.argv[2]))]["status"] == "effective", r
' "$R" "$CUT"

check "alpha: charlie's feed is exactly bravo's K+1" \
    [ "$(git --git-dir="$A/git" rev-parse "refs/feeds/$HC")" = "$C1" ]
check "alpha: charlie's K+2 is kept in forks/" test -f "$A/forks/$HC-$((K + 2))-$C2.commit"
check "alpha: forks/log says why" \
    grep -q "refused $C2: its office is revoked after its commit $CUT" "$A/forks/log"
check "alpha: charlie's K+1 is not in forks/" eval '! ls "$A/forks/" | grep -q "$C1"'

rm -f "$OUT/f1"
check "alpha: get of F1 succeeds" quiet cu "$A" get "$SHA_F1" -o "$OUT/f1"
check "alpha: F1 is byte-identical" cmp -s "$IN/f1.bin" "$OUT/f1"
out=$(cu "$A" show "$SHA_F2" 2>&1) && fail "alpha holds F2, after the cut: $out"
ok "alpha does not hold F2"
out=$(cu "$A" get "$SHA_F2" -o "$OUT/f2" 2>&1) && fail "alpha gives F2, after the cut: $out"
ok "alpha does not give F2"

out=$(cu "$A" verify 2>&1) && ok "alpha: custody verify is clean" ||
    fail "alpha: custody verify: $out"
out=$(git --git-dir="$A/git" fsck --no-dangling 2>&1) && ok "alpha: git fsck is clean" ||
    fail "alpha: git fsck: $out"
out=$(echo "$out" | grep -v '^notice: HEAD points to an unborn branch' || true)	# feeds only
[ -z "$out" ] && ok "alpha: git fsck says nothing else" || fail "alpha: git fsck says: $out"

# no object only K+2 uses entered alpha's store; everything K+1 uses did
check "alpha: K+2's commit is not in its git store" \
    eval '! git --git-dir="$A/git" cat-file -e "$C2" 2>/dev/null'
while read -r o; do
	git --git-dir="$A/git" cat-file -e "$o" 2>/dev/null &&
	    fail "alpha holds $o ($(git --git-dir="$B/git" cat-file -t "$o")), used only by K+2"
done <"$T/c2.only"
ok "alpha holds none of the $(wc -l <"$T/c2.only") objects only K+2 uses"
missing=0
while read -r o; do
	git --git-dir="$A/git" cat-file -e "$o" 2>/dev/null || missing=$((missing + 1))
done <"$T/c1.objs"
check "alpha holds every object K+1 uses ($missing missing)" [ "$missing" -eq 0 ]

# F2's encrypted blob: bravo holds one blob more than alpha, and alpha took exactly one (F1's)
BLOBS_A=$(blobs_of "$A")
NEW_A=$(comm -13 <(echo "$BLOBS_A0") <(echo "$BLOBS_A") | grep -c . || true)
check "alpha took one encrypted blob in that sync (got $NEW_A)" [ "$NEW_A" -eq 1 ]
ONLY_B=$(comm -13 <(echo "$BLOBS_A") <(blobs_of "$B") | grep -c . || true)
check "bravo holds one blob alpha does not: F2's (got $ONLY_B)" [ "$ONLY_B" -eq 1 ]

left=$(find "$A/tmp" -mindepth 1 -name 'quarantine-*' 2>/dev/null)
check "alpha: tmp/ holds no quarantine${left:+: $left}" [ -z "$left" ]

check "alpha: a second sync takes nothing more (nothing to report)" quiet cu "$A" sync bravo
check "alpha: charlie's feed stays at K+1" [ "$(feed_ref "$A" "$HC")" = "$C1" ]

# the daemons exit cleanly (under the sanitizers: nothing leaked on the partial path)
for d in "alpha $DA" "bravo $DB" "charlie $DC"; do
	set -- $d
	check "$1 stops cleanly" stop_daemon "$2"
done

done_testing
