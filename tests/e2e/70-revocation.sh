#!/usr/bin/env bash
# A seized office is cut off by a quorum of the others, and cannot cut them off in turn.
#
# alpha founds the archive and invites bravo and charlie; all three sync over TCP. With three
# offices the default quorum is more than half of the other two: both. alpha signs the
# revocation of charlie (after the last commit of it another office witnessed): pending, one of
# two, and nothing changes yet. Bad input is refused: an unknown name, this office itself, no
# reason. charlie is seized: its daemon ingests one more file, then the adversary's tooling
# (forge-office, with charlie's real key) writes a counter-revocation of alpha. bravo, not yet a
# signer, pulls all of it from charlie; bravo's own tooling writes two revocation records of
# alpha (one with a made-up id) that must count as one signer, once. bravo signs charlie's
# revocation: effective. Then at alpha (which syncs from bravo) and at bravo: charlie's commits
# past the cut are refused and kept in forks/ (alpha never takes them; bravo, which held them,
# keeps them in git but no longer counts them), charlie's old file is shown "signed before
# its office was revoked", charlie's counter-revocation of alpha does not count, `peers`,
# `status` and `office revocations` say charlie is revoked, alpha neither dials charlie nor
# serves it, `keys allowed-signers` gives charlie's key valid-before, and stock
# `git verify-commit` with that file accepts charlie's old commit and refuses its new one.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || { echo "SKIP: git is not installed"; exit 77; }
command -v ssh-keygen >/dev/null || { echo "SKIP: ssh-keygen is not installed"; exit 77; }
need_forge_office

three_pinned

head -c 20000 /dev/urandom >"$IN/a.bin"
head -c 20000 /dev/urandom >"$IN/c1.bin"
head -c 20000 /dev/urandom >"$IN/c2.bin"
SHA_C1=$(sha256sum <"$IN/c1.bin" | cut -d' ' -f1)
SHA_C2=$(sha256sum <"$IN/c2.bin" | cut -d' ' -f1)
check "alpha ingests a file" quiet cu "$A" ingest "$IN/a.bin"
check "charlie ingests a file" quiet cu "$C" ingest "$IN/c1.bin"
for x in "$B alpha" "$B charlie" "$A bravo" "$A charlie" "$C alpha" "$C bravo"; do
	set -- $x
	check "$(basename "$1") syncs with $2" quiet cu "$1" sync "$2"
done
N=$(seq_of "$A" "$HC")
OLD_C=$(feed_ref "$A" "$HC")
check "alpha holds charlie's feed" [ "$N" -ge 1 ]

# --- bad input ----------------------------------------------------------------------------------
out=$(cu "$A" office revoke nobody --reason seized 2>&1) && fail "revoking an unknown name succeeds"
contains "an unknown name is refused" "$out" "no admitted office is named 'nobody'"
out=$(cu "$A" office revoke alpha --reason x 2>&1) && fail "an office revokes itself"
contains "an office cannot revoke itself" "$out" "cannot revoke itself"
out=$(cu "$A" office revoke charlie 2>&1) && fail "a revocation without a reason succeeds"
contains "a reason is required" "$out" "--reason"
out=$(cu "$A" office revoke charlie --reason x --from-seq -3 2>&1) && fail "--from-seq -3 accepted"
contains "--from-seq takes a number" "$out" "--from-seq takes a commit number"
check "office revoke --help" quiet cu "$A" office revoke --help

# --- alpha alone: pending --------------------------------------------------------------------------
check "alpha signs charlie's revocation" quiet cu "$A" office revoke charlie --reason "laptop seized"
R=$(cu "$A" office revocations --json)
check "one signer of three offices: pending" py '
import json, sys
r = json.loads(sys.argv[1]); n = int(sys.argv[2])
assert len(r) == 1, r
assert r[0]["office"] == "charlie" and r[0]["status"] == "pending", r
assert r[0]["from_seq"] == n, (r, n)
assert r[0]["quorum"] == 2 and [s["office"] for s in r[0]["signers"]] == ["alpha"], r
' "$R" "$N"
contains "status says pending" "$(cu "$A" status 2>&1)" "pending, 1 of 2 signers: alpha"
check "pending: alpha still syncs with charlie" quiet cu "$A" sync charlie
HELD_C=$(feed_ref "$A" "$HC")	# what alpha holds of charlie before the revocation counts

# --- charlie is seized ------------------------------------------------------------------------------
sleep 1.1	# charlie's next commit is at a later second than its last counted one
check "seized charlie ingests another file" quiet cu "$C" ingest "$IN/c2.bin"
stop_daemon "$DC" || fail "charlie stops cleanly"
check "forge: charlie revokes alpha" quiet "$FORGE" "$C" revoke "$HA" 0
start_daemon "$C" --listen "127.0.0.1:$PC"
DC=$DAEMON_PID
check "bravo pulls alpha (the pending revocation)" quiet cu "$B" sync alpha
check "bravo pulls charlie, not yet revoked there" quiet cu "$B" sync charlie
NEW_SEQ=$(($(seq_of "$B" "$HC") - 1))	# the seized daemon's ingest; its head is the forgery
check "bravo holds charlie's new commits" [ "$NEW_SEQ" -gt "$N" ]
NEW_C=$(git --git-dir="$B/git" rev-parse "refs/feeds/$HC~1")

# bravo's own tooling: two revocation records of alpha from bravo, count once
stop_daemon "$DB" || fail "bravo stops cleanly"
check "forge: bravo revokes alpha after 1" quiet "$FORGE" "$B" revoke "$HA" 1
check "forge: bravo revokes alpha after 1 again (another id)" quiet "$FORGE" "$B" revoke "$HA" 1 \
    "revocation-$HA-1-again"
start_daemon "$B" --listen "127.0.0.1:$PB"
DB=$DAEMON_PID
R=$(cu "$B" office revocations --json)
check "bravo: two records from bravo are one pending signer; charlie's alone pending" py '
import json, sys
r = {(x["office"], x["from_seq"]): x for x in json.loads(sys.argv[1])}
a1 = r[("alpha", 1)]
assert a1["status"] == "pending" and [s["office"] for s in a1["signers"]] == ["bravo"], a1
a0 = r[("alpha", 0)]
assert a0["status"] == "pending" and [s["office"] for s in a0["signers"]] == ["charlie"], a0
' "$R"

# --- bravo co-signs: effective ---------------------------------------------------------------
check "bravo co-signs charlie's revocation" quiet cu "$B" office revoke charlie --reason seized
cu "$A" sync bravo >"$T/a.sync" 2>&1 || true	# reports the refusal: exits 1

for X in "$A" "$B"; do
	n=$(basename "$X")
	R=$(cu "$X" office revocations --json)
	check "$n: charlie revoked after $N by alpha and bravo; charlie's revocation of alpha does not count" py '
import json, sys
r = {(x["office"], x["from_seq"]): x for x in json.loads(sys.argv[1])}
n = int(sys.argv[2])
c = r[("charlie", n)]
assert c["status"] == "effective", c
assert sorted(s["office"] for s in c["signers"] if s["counted"]) == ["alpha", "bravo"], c
for k, x in r.items():
    if k[0] == "alpha":
        assert x["status"] == "pending", x
        assert all(not s["counted"] for s in x["signers"] if s["office"] == "charlie"), x
' "$R" "$N"
	contains "$n: status says charlie is revoked" "$(cu "$X" status 2>&1)" \
	    "office charlie ($(ssh-keygen -l -f "$C/keys/office.pub" | cut -d' ' -f2)) REVOKED after its commit $N"
	out=$(cu "$X" peers --json)
	check "$n: peers says charlie is revoked" py '
import json, sys
p = {x["name"]: x for x in json.loads(sys.argv[1])}
n = int(sys.argv[2])
assert p["charlie"]["revoked"] is True and p["charlie"]["revoked_after"] == n, p
assert p["alpha" if "alpha" in p else "bravo"]["revoked"] is False, p
' "$out" "$N"
	contains "$n: show marks charlie's old file signed before revocation" \
	    "$(cu "$X" show "$SHA_C1" --json 2>&1)" '"signed": "before its office was revoked"'
	cu "$X" keys allowed-signers >"$X.signers" 2>&1
	check "$n: allowed-signers gives charlie valid-before" grep -q \
	    "^charlie namespaces=\"git,custody-dossier\",valid-before=\"[0-9]\{14\}Z\" ssh-ed25519 " "$X.signers"
	check "$n: allowed-signers leaves alpha unlimited" grep -q "^alpha namespaces=\"git,custody-dossier\" ssh-ed25519" "$X.signers"
	out=$(git --git-dir="$B/git" -c gpg.ssh.allowedSignersFile="$X.signers" verify-commit "$OLD_C" 2>&1)
	check "$n: stock git verify-commit accepts charlie's old commit" [ $? -eq 0 ]
	contains "$n: ... signed by charlie" "$out" 'signature for charlie'
	out=$(git --git-dir="$B/git" -c gpg.ssh.allowedSignersFile="$X.signers" verify-commit "$NEW_C" 2>&1) &&
	    fail "$n: stock git verify-commit accepts charlie's commit after the cut: $out"
	ok "$n: stock git verify-commit refuses charlie's commit after the cut"
done

# alpha never took charlie's commits past the cut, and kept them as evidence
check "alpha: charlie's feed moves no further" [ "$(feed_ref "$A" "$HC")" = "$HELD_C" ]
check "alpha: charlie's commit after the cut is kept in forks/" \
    test -f "$A/forks/$HC-$NEW_SEQ-$NEW_C.commit"
check "alpha: forks/log says why" grep -q "refused $NEW_C: its office is revoked after its commit $N" "$A/forks/log"
contains "alpha: the sync reports the refusal" "$(cat "$T/a.sync")" "revoked after its commit $N"
out=$(cu "$A" show "$SHA_C2" 2>&1) && fail "alpha holds charlie's file after the cut: $out"
ok "alpha does not hold charlie's file after the cut"
# bravo took it before the revocation was effective: its git still holds it, but it counts for
# nothing, as at alpha (75-revoked-records.sh)
check "bravo: git still holds charlie's commit after the cut" git --git-dir="$B/git" cat-file -e "$NEW_C"
out=$(cu "$B" show "$SHA_C2" 2>&1) && fail "bravo counts charlie's file after the cut: $out"
contains "bravo: charlie's file after the cut is no record" "$out" "no such record"

# sync with charlie stops, both ways
out=$(cu "$A" sync charlie 2>&1) || true
contains "alpha does not dial charlie" "$out" "not dialled"
cu "$C" sync alpha >"$T/c.sync" 2>&1 || true
contains "alpha does not serve charlie" "$(cat "$T/c.sync")" "revoked"

cu "$C" sync bravo >"$T/c.sync2" 2>&1 || true
contains "bravo does not serve charlie" "$(cat "$T/c.sync2")" "revoked"
check "charlie's later commits are not taken again (nothing to report)" quiet cu "$A" sync bravo

# charlie's daemon, once it holds the revocation (the feeds carried by hand), revokes no one
stop_daemon "$DC" || fail "charlie stops cleanly"
git --git-dir="$C/git" fetch -q "$B/git" "+refs/feeds/$HA:refs/feeds/$HA" \
    "+refs/feeds/$HB:refs/feeds/$HB" || fail "carrying alpha's and bravo's feeds to charlie"
start_daemon "$C" --listen "127.0.0.1:$PC"
out=$(cu "$C" office revoke bravo --reason x 2>&1) && fail "a revoked office signs a revocation: $out"
contains "charlie's daemon refuses: it is revoked" "$out" "this office is revoked"

done_testing
