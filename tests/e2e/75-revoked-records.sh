#!/usr/bin/env bash
# Records a revoked office wrote past its cut count for nothing, even where they were taken
# before the revocation took effect.
#
# alpha, bravo and charlie (three real offices over TCP) all hold alpha's victims v1 and v2
# and charlie's c1; alpha alone takes charlie's c2 (its commit K). alpha signs the revocation
# of charlie after K (pending). charlie (seized) then moves v1 and its own c1 to another party
# and adds n1, a duplicate of v2 (commits past K); bravo takes them, signs the revocation, and
# pulls alpha's signature: effective. At bravo: `query victims`, `victim list`, `victim
# show`, `duplicates` and `report` give the values from before the cut and know nothing of n1,
# the same after `custodyd reindex`; bravo's report is alpha's (which never took those
# commits); git still holds charlie's commits. A dossier bravo extracts gives charlie's key
# valid-before in allowed_signers, holds nothing charlie wrote past its cut, and verifies.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || { echo "SKIP: git is not installed"; exit 77; }

# ids DIR ARGS...: the sorted record ids a json listing (query victims, victim list) gives
ids() {
	local dir=$1
	shift
	cu "$dir" "$@" --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
rows = d if isinstance(d, list) else d.get("victims", d.get("rows", []))
print(" ".join(sorted(r["id"] for r in rows)))'
}

A=$T/alpha B=$T/bravo C=$T/charlie
three_offices
pin_three
HC=$(key_hex "$C")

check "alpha adds v1" quiet cu "$A" victim add --id v1 --name "Ahmad Haddad" --sex male --age 30 \
    --date-documented 2024-12-02 --date-of-death 2024-12-01 --governorate idlib \
    --cause shelling --party syrian_regime
check "alpha adds v2" quiet cu "$A" victim add --id v2 --name "Omar Khalil" --sex male --age 40 \
    --date-documented 2024-12-03 --date-of-death 2024-12-02 --governorate homs \
    --cause shelling --party russia
check "charlie adds c1 (before the cut)" quiet cu "$C" victim add --id c1 --name "Sami Nasser" \
    --sex male --age 22 --date-documented 2024-12-05 --date-of-death 2024-12-04 \
    --governorate aleppo --cause shooting --party russia
for x in "$B alpha" "$C alpha" "$C bravo" "$B charlie" "$A bravo" "$A charlie"; do
	set -- $x
	check "$(basename "$1") syncs with $2" quiet cu "$1" sync "$2"
done
check "bravo pulls charlie once more" quiet cu "$B" sync charlie
check "alpha pulls charlie once more" quiet cu "$A" sync charlie
# c2: charlie's last commit before the cut, which only alpha witnesses before it
check "charlie adds c2 (its last commit before the cut)" quiet cu "$C" victim add --id c2 \
    --name "Hadi Saleh" --sex male --age 51 --date-documented 2024-12-06 \
    --date-of-death 2024-12-06 --governorate hama --cause airstrike --party sdf
check "alpha pulls charlie's c2" quiet cu "$A" sync charlie
K=$(seq_of "$A" "$HC")
check "alpha holds all of charlie's feed (K=$K)" \
    [ "$K" -ge 1 -a "$(feed_ref "$A" "$HC")" = "$(feed_ref "$C" "$HC")" ]
cu "$A" report --month 2024-12 --format json >"$T/a.report"

check "alpha signs charlie's revocation after commit $K" \
    quiet cu "$A" office revoke charlie --reason "laptop seized" --from-seq "$K"

# --- charlie, seized, rewrites v1's party and adds n1 (a duplicate of v2), past the cut ----------
sleep 1.1	# charlie's next commits are at a later second than its last counted one
check "charlie moves v1 to another party" quiet cu "$C" victim edit v1 --party isis
check "charlie moves its own c1 to another party" quiet cu "$C" victim edit c1 --party isis
check "charlie adds n1" quiet cu "$C" victim add --id n1 --name "Omar Khalil" --sex male \
    --age 40 --date-documented 2024-12-04 --date-of-death 2024-12-02 --governorate homs \
    --cause shelling --party isis
check "bravo pulls charlie, not yet revoked there" quiet cu "$B" sync charlie
SEQ=$(seq_of "$B" "$HC")
check "bravo holds charlie's commits past $K (up to $SEQ)" [ "$SEQ" -ge $((K + 2)) ]
# the setup is what it claims: before the revocation is effective, charlie's edits count
check "before: bravo's v1 is charlie's isis" \
    eval 'cu "$B" victim show v1 --json | grep -q "\"party\": *\"isis\""'
check "before: bravo lists n1" eval '[[ " $(ids "$B" victim list) " == *" n1 "* ]]'
check "before: bravo's query finds charlie's isis victims" \
    [ "$(ids "$B" query victims --party isis)" = "c1 n1 v1" ]
check "before: bravo holds c2" [ "$(ids "$B" query victims --party sdf)" = "c2" ]
check "before: bravo's duplicates name n1" eval 'cu "$B" duplicates --json | grep -q "\"n1\""'
cu "$B" report --month 2024-12 --format json >"$T/b0.report"
check "before: bravo's report differs from alpha's" eval '! cmp -s "$T/b0.report" "$T/a.report"'

# bravo signs too, then learns of alpha's signature by a sync: effective there (and bravo's own
# first witness of charlie's c2 is past the cut)
check "bravo signs charlie's revocation after $K" \
    quiet cu "$B" office revoke charlie --reason "laptop seized" --from-seq "$K"
check "bravo: pending" eval 'cu "$B" office revocations --json | grep -q pending'
check "bravo pulls alpha (its signature)" quiet cu "$B" sync alpha
R=$(cu "$B" office revocations --json)
check "bravo: effective" py '
import json, sys
r = json.loads(sys.argv[1])
assert any(x["office"] == "charlie" and x["status"] == "effective" for x in r), r
' "$R"

# after_cut LABEL: bravo counts nothing charlie wrote past its cut
after_cut() {
	local l=$1 out
	out=$(cu "$B" victim show v1 --json)
	contains "$l: v1's party is alpha's again" "$out" '"party": "syrian_regime"'
	check "$l: query victims --party isis finds nothing" \
	    [ -z "$(ids "$B" query victims --party isis)" ]
	check "$l: query victims --party syrian_regime finds v1" \
	    [ "$(ids "$B" query victims --party syrian_regime)" = "v1" ]
	check "$l: query victims --party russia finds c1 and v2" \
	    [ "$(ids "$B" query victims --party russia)" = "c1 v2" ]
	check "$l: query victims finds c1, c2, v1 and v2 only" \
	    [ "$(ids "$B" query victims)" = "c1 c2 v1 v2" ]
	check "$l: victim list gives c1, c2, v1 and v2 only" \
	    [ "$(ids "$B" victim list)" = "c1 c2 v1 v2" ]
	out=$(cu "$B" victim show c1 --json)
	contains "$l: charlie's own c1 is as before its cut" "$out" '"party": "russia"'
	out=$(cu "$B" history c1 --json)
	check "$l: c1's history ends before the cut" py '
import json, sys
h = json.loads(sys.argv[1])
revs = h if isinstance(h, list) else h["revisions"]
last = revs[-1]
doc = last["record"]
assert doc["party"] == "russia", revs
' "$out"
	out=$(cu "$B" history v1 --json)
	check "$l: v1's history ends with alpha's revision" py '
import json, sys
h = json.loads(sys.argv[1])
revs = h if isinstance(h, list) else h["revisions"]
last = revs[-1]
doc = last["record"]
assert doc["party"] == "syrian_regime", revs
' "$out"
	out=$(cu "$B" duplicates --json)
	check "$l: duplicates do not name n1" eval '! grep -q "\"n1\"" <<<"$out"'
	cu "$B" report --month 2024-12 --format json >"$T/b.report"
	cmp -s "$T/b.report" "$T/a.report" && ok "$l: bravo's report is alpha's, byte for byte" ||
	    fail "$l: reports differ: $(diff "$T/a.report" "$T/b.report" | head -5)"
}
after_cut "effective"

check "bravo still holds charlie's commits in git" \
    [ "$(git --git-dir="$B/git" rev-list --count "refs/feeds/$HC")" -eq "$SEQ" ]

check "bravo stops" stop_daemon "$DB"
check "custodyd reindex" quiet "$CUSTODYD" reindex "$B"
start_daemon "$B" --listen "127.0.0.1:$PB"
DB=$DAEMON_PID
after_cut "reindexed"

# --- a dossier bravo extracts: charlie's key only before its cut, nothing of it past the cut ----
if command -v age-keygen >/dev/null && command -v age >/dev/null; then
	age-keygen -o "$T/r.key" 2>/dev/null
	check "bravo adds a recipient" quiet cu "$B" recipient add un-iim "$(age-keygen -y "$T/r.key")"
	out=$(cu "$B" extract --recipient un-iim --from 2024-12-01 --to 2024-12-31 -o "$T/d.age" 2>&1)
	check "bravo extracts December" [ $? -eq 0 ]
	contains "four victims went in" "$out" "4 victims"
	mkdir -p "$T/x"
	check "age -d | tar x opens it" sh -c "age -d -i '$T/r.key' '$T/d.age' | tar x -C '$T/x'"
	BAG=$(ls -d "$T"/x/dossier-*)
	check "allowed_signers gives charlie's key valid-before" grep -q \
	    "^charlie namespaces=\"custody-dossier,git\",valid-before=\"[0-9]\{14\}Z\" ssh-ed25519 " \
	    "$BAG/allowed_signers"
	check "allowed_signers leaves alpha unlimited" \
	    grep -q "^alpha namespaces=\"custody-dossier,git\" ssh-ed25519 " "$BAG/allowed_signers"
	check "the bag has c1, c2, v1 and v2, not n1" [ "$(ls "$BAG/data/records/victim" | sort |
	    tr '\n' ' ')" = "c1.json c2.json v1.json v2.json " ]
	refute "n1 is nowhere in the bag" grep -rqa '"n1"' "$BAG"
	check "v1 in the bag is alpha's" grep -q '"party": *"syrian_regime"' "$BAG/data/records/victim/v1.json"
	check "c1 in the bag is from before charlie's cut" \
	    grep -q '"party": *"russia"' "$BAG/data/records/victim/c1.json"
	refute "isis, charlie's word past its cut, is nowhere in the bag" grep -rqa isis "$BAG"
	past=0
	for o in $(git --git-dir="$B/git" rev-list --max-count=$((SEQ - K)) "refs/feeds/$HC"); do
		ls "$BAG/custody/objects/" | grep -q "^$o" && past=$((past + 1))
	done
	check "no commit of charlie's past its cut is in the bag ($past)" [ "$past" -eq 0 ]
	out=$(env -u CUSTODY_ARCHIVE HOME=$T/nohome "$CUSTODY" verify-dossier "$T/d.age" -i "$T/r.key" 2>&1)
	check "verify-dossier accepts it" [ $? -eq 0 ]
	[ -n "$out" ] && echo "$out" | head -20
	if command -v ssh-keygen >/dev/null; then
		GV="git --git-dir=$B/git -c gpg.ssh.allowedSignersFile=$BAG/allowed_signers"
		check "stock git verify-commit, with the bag's allowed_signers, accepts charlie's commit $K" \
		    quiet $GV verify-commit "refs/feeds/$HC~$((SEQ - K))"
		refute "... and refuses its commit past the cut" quiet $GV verify-commit "refs/feeds/$HC"
	fi
else
	NOAGE=1
fi

for d in "alpha $DA" "bravo $DB" "charlie $DC"; do
	set -- $d
	check "$1 stops cleanly" stop_daemon "$2"
done

done_testing
[ -z "${NOAGE:-}" ] || { echo "SKIP: age is not installed: the dossier part did not run"; exit 77; }
