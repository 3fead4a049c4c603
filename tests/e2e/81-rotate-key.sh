#!/usr/bin/env bash
# An office rotates its signing key, and every other office follows the handover.
#
# alpha founds the archive and invites bravo and charlie; all three sync over TCP. alpha ingests a
# file, then rotates its key (`custody keys rotate`): a handover commit signed by its old key names
# the new one, and alpha's next records are signed by the new key. bravo pulls from alpha (dialling
# the key it pinned: alpha still answers on it for peers that have not seen the handover), holds
# every commit, and from then on dials alpha's new key; alpha dials bravo with its new key and
# bravo accepts it, and refuses a seized copy of alpha dialling with the old key. charlie never
# talks to alpha again: it takes alpha's rotated feed from bravo.
# Stock `git verify-commit`, with the allowed-signers file `keys allowed-signers` writes at bravo
# (both keys, valid-before / valid-after the handover's time), accepts every commit of alpha's
# feed, old and new. `custody verify` is clean at all three; alpha's key files are in place, and a
# restart of alpha keeps signing with the new key.
#
# Then the seized-office attacks, with forge-office signing with real keys (alpha's daemon
# stopped): (1) a handover in alpha's feed signed by charlie's key, not alpha's; (2) a commit
# after the handover signed by alpha's old key (kept by the test as the adversary would have
# it); (3) a second handover, signed by the new key, back to the old key, then a commit by the
# old key. Each time bravo refuses the commit, keeps it under forks/ with the reason, holds
# alpha's feed up to the commit before it, and still syncs the honest feeds.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || { echo "SKIP: git is not installed"; exit 77; }
command -v ssh-keygen >/dev/null || { echo "SKIP: ssh-keygen is not installed"; exit 77; }
need_forge_office

three_pinned
for i in 1 2 3 4; do head -c 5000 /dev/urandom >"$IN/a$i.bin"; done
head -c 5000 /dev/urandom >"$IN/c1.bin"

check "alpha ingests a file" quiet cu "$A" ingest "$IN/a1.bin"
for x in "$B alpha" "$C alpha" "$A bravo"; do
	set -- $x
	check "$(basename "$1") syncs with $2" quiet cu "$1" sync "$2"
done
cp "$A/keys/office.key" "$T/alpha-old.key"	# what an adversary who copied the disk holds
cp -a "$A" "$T/alpha-seized"			# the whole of it, to run as alpha later
rm -f "$T/alpha-seized/custodyd.sock"
OLD_LEN=$(feed_len "$A" "$HA")

# --- rotation -------------------------------------------------------------------------------------
check "keys rotate --help" quiet cu "$A" keys rotate --help
out=$(cu "$B" keys rotate extra 2>&1) && fail "keys rotate takes an argument"
out=$(cu "$A" keys rotate 2>&1) || fail "alpha rotates its key: $out"
contains "rotate names the handover commit" "$out" "handover: commit $((OLD_LEN + 1))"
HSEQ=$((OLD_LEN + 1))
HANDOVER=$(feed_ref "$A" "$HA")
check "alpha's feed keeps its name (its first key)" [ "$(key_hex "$A")" = "$HA" ]
check "alpha keeps its previous key for the channel only" test -f "$A/keys/office.key.prev"
check "alpha's keys/identity names its first key" grep -qx "$HA" "$A/keys/identity"
out=$(cu "$A" keys show 2>&1)
contains "keys show still gives alpha's first key" "$out" "$(key_line "$A")"
contains "keys show gives the signing key since the rotation" "$out" "signing key (since custody keys rotate): ssh-ed25519"
check "no .next key file is left" bash -c "! ls '$A/keys/'*.next 2>/dev/null | grep -q ."
check "alpha's key file changed" bash -c "! cmp -s '$A/keys/office.key' '$T/alpha-old.key'"
sleep 1.1	# the new key's commits come at a later second than the handover
check "alpha ingests a file under its new key" quiet cu "$A" ingest "$IN/a2.bin"
check "alpha records an incident under its new key" quiet cu "$A" ingest "$IN/a3.bin"
NEW_HEAD=$(feed_ref "$A" "$HA")
out=$(cu "$A" verify 2>&1) || fail "alpha verifies clean after its rotation: $out"
out=$(cu "$A" log 2>&1)
refute "custody log shows no bad signature after the rotation" grep -q "BAD" <<<"$out"
out=$(cu "$A" invite delta "$(key_line "$C")" -o "$T/delta.inv" 2>&1) && fail "a rotated office invites"
contains "a rotated office refuses to sign invitations, saying why" "$out" "rotated its key"

# --- bravo follows the handover ---------------------------------------------------------------------
out=$(cu "$B" sync alpha 2>&1) || fail "bravo pulls alpha's rotated feed: $out"
check "bravo holds alpha's whole feed" [ "$(feed_ref "$B" "$HA")" = "$NEW_HEAD" ]
out=$(cu "$B" verify 2>&1) || fail "bravo verifies alpha's rotated feed clean: $out"
out=$(cu "$B" sync alpha 2>&1) || fail "bravo dials alpha's new key: $out"
check "alpha ingests another file" quiet cu "$A" ingest "$IN/a4.bin"
out=$(cu "$A" sync bravo 2>&1) || fail "alpha dials bravo with its new key: $out"
out=$(cu "$B" sync alpha 2>&1) || fail "bravo syncs with alpha again: $out"
check "bravo holds alpha's newest commit" [ "$(feed_ref "$B" "$HA")" = "$(feed_ref "$A" "$HA")" ]
grep -q "rotated\|new key\|handed" "$B.log" || true

# a seized copy of alpha with its old key dials bravo, which knows of the handover: refused
start_daemon "$T/alpha-seized"
out=$(cu "$T/alpha-seized" sync bravo 2>&1) && fail "alpha's old key still syncs with bravo: $out"
check "bravo refuses alpha's handed-over key and logs why" grep -q "was handed over to a new key" "$B.log"
stop_daemon "$DAEMON_PID" || fail "the seized copy stops cleanly"

# a data-key epoch made after the rotation is sealed to alpha's new key: alpha reads what follows
out=$(cu "$B" keys rotate-data 2>&1) || fail "bravo rotates the data key: $out"
head -c 4000 /dev/urandom >"$IN/b1.bin"
SHA_B1=$(sha256sum <"$IN/b1.bin" | cut -d' ' -f1)
check "bravo ingests a file under the new epoch" quiet cu "$B" ingest "$IN/b1.bin"
out=$(cu "$A" sync bravo 2>&1) || fail "alpha takes bravo's epoch and file: $out"
check "alpha, rotated, opens bravo's file written under the new epoch" \
    quiet cu "$A" get "$SHA_B1" -o "$T/b1.out"
check "and it is byte-identical" cmp -s "$IN/b1.bin" "$T/b1.out"
out=$(cu "$B" sync alpha 2>&1) || fail "bravo takes alpha's witness of it: $out"

# --- charlie takes alpha's feed from bravo only -----------------------------------------------------
out=$(cu "$C" sync bravo 2>&1) || fail "charlie syncs with bravo: $out"
check "charlie holds alpha's rotated feed via bravo" [ "$(feed_ref "$C" "$HA")" = "$(feed_ref "$A" "$HA")" ]
out=$(cu "$C" verify 2>&1) || fail "charlie verifies clean: $out"

# --- stock git verify-commit ------------------------------------------------------------------------
cu "$B" keys allowed-signers >"$B.signers" 2>&1
check "allowed-signers: alpha's first key valid before the handover" \
    grep -q "^alpha namespaces=\"git,custody-dossier\",valid-before=\"[0-9]*Z\" ssh-ed25519" "$B.signers"
check "allowed-signers: alpha's new key valid after it" \
    grep -q "^alpha namespaces=\"git,custody-dossier\",valid-after=\"[0-9]*Z\" ssh-ed25519" "$B.signers"
bad=0 n=0
for c in $(git --git-dir="$B/git" rev-list "refs/feeds/$HA"); do
	n=$((n + 1))
	git --git-dir="$B/git" -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$B.signers" \
	    verify-commit "$c" >/dev/null 2>&1 || { bad=$((bad + 1)); echo "  refused: $c" >&2; }
done
check "stock git verify-commit accepts all $n commits of alpha's feed at bravo" [ "$bad" -eq 0 ]
check "alpha's feed has commits on both sides of the handover" [ "$n" -gt "$HSEQ" ]

# --- restart -----------------------------------------------------------------------------------------
stop_daemon "$DA" || fail "alpha stops cleanly"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
check "alpha ingests after a restart" quiet cu "$A" ingest "$IN/c1.bin"
out=$(cu "$B" sync alpha 2>&1) || fail "bravo takes alpha's commit after its restart: $out"
check "bravo holds it" [ "$(feed_ref "$B" "$HA")" = "$(feed_ref "$A" "$HA")" ]

# --- the seized office's attacks ------------------------------------------------------------------------
# Each runs on a copy of alpha's archive, forged with forge-office and served on alpha's port.
init_archive "$T/spare" spare	# only its key: the one a forged handover names
H=$(feed_ref "$B" "$HA") HLEN=$(feed_len "$B" "$HA")
stop_daemon "$DA" || fail "alpha stops cleanly"
# attack NAME DESCRIPTION BADSEQ REASON: serve the forged copy $T/evil-NAME to bravo, which must
# refuse commit BADSEQ of alpha's feed, keep it under forks/ saying REASON, and stay at H.
attack() {
	local E=$T/evil-$1 bad
	start_daemon "$E" --listen "127.0.0.1:$PA"
	bad=$(git --git-dir="$E/git" rev-list "refs/feeds/$HA" | sed -n "$(( $(feed_len "$E" "$HA") - $3 + 1 ))p")
	out=$(cu "$B" sync alpha 2>&1) || true
	contains "$2: bravo refuses it and says so" "$out" "kept as evidence"
	check "$2: bravo still holds alpha's feed at its last honest commit" [ "$(feed_ref "$B" "$HA")" = "$H" ]
	check "$2: the commit is kept in bravo's forks/" test -f "$B/forks/$HA-$3-$bad.commit"
	check "$2: forks/log says why" grep -q "refused $bad: .*$4" "$B/forks/log"
	stop_daemon "$DAEMON_PID" || fail "$2: the forged copy stops cleanly"
}
evil() {
	rm -rf "$T/evil-$1"
	cp -a "$A" "$T/evil-$1"
	rm -f "$T/evil-$1/custodyd.sock"
}
evil wrongkey
check "forge: a handover in alpha's feed signed by charlie's key" \
    quiet "$FORGE" "$T/evil-wrongkey" handover "$T/spare/keys/office.key" "$C/keys/office.key"
attack wrongkey "a handover signed by another key" $((HLEN + 1)) "a handover signed by"
evil oldkey
check "forge: a commit after the handover signed by alpha's old key" \
    quiet "$FORGE" "$T/evil-oldkey" event "$T/alpha-old.key"
attack oldkey "a commit by the old key after the handover" $((HLEN + 1)) "after the feed handed its key over"
evil backagain
check "forge: a handover back to alpha's old key, signed by its new key" \
    quiet "$FORGE" "$T/evil-backagain" handover "$T/alpha-old.key" -
check "forge: then a commit signed by the old key" \
    quiet "$FORGE" "$T/evil-backagain" event "$T/alpha-old.key"
attack backagain "a handover back to a key the feed used" $((HLEN + 1)) "already used"

# honest feeds still sync: charlie's, and alpha's own once the real alpha is back
check "charlie ingests a file" quiet cu "$C" ingest "$IN/c1.bin"
out=$(cu "$B" sync charlie 2>&1) || fail "bravo syncs with charlie after the attacks: $out"
check "bravo holds charlie's feed" [ "$(feed_ref "$B" "$HC")" = "$(feed_ref "$C" "$HC")" ]
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
check "the real alpha ingests a file" quiet cu "$A" ingest "$IN/a1.bin"
out=$(cu "$B" sync alpha 2>&1) || fail "bravo syncs with the real alpha after the attacks: $out"
check "bravo holds the real alpha's feed" [ "$(feed_ref "$B" "$HA")" = "$(feed_ref "$A" "$HA")" ]
out=$(cu "$B" verify 2>&1) || fail "bravo verifies clean after the attacks: $out"

# --- alpha loses its disk after the rotation; shares made since bring it back ---------------------
check "alpha splits its keys after the rotation" quiet cu "$A" keys split --shares 3 --threshold 2 -o "$T/a-shares"
out=$(cu "$B" sync alpha 2>&1) || fail "bravo syncs alpha before alpha's loss: $out"
LAST=$(feed_ref "$A" "$HA") LASTSEQ=$(feed_len "$A" "$HA")
stop_daemon "$DA" || fail "alpha stops cleanly"
rm -rf "$A" "$A.log"
out=$("$CUSTODYD" recover "$A" --office alpha --share "$T/a-shares/share-1-of-3.bin" \
    --share "$T/a-shares/share-3-of-3.txt" --no-passphrase \
    --peer bravo "127.0.0.1:$PB" "$(key_line "$B")" 2>&1) || fail "alpha recovers from two shares: $out"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
out=$(cu "$A" sync bravo 2>&1) && fail "the first sync of a rotated, recovered alpha goes on with the wrong feed"
contains "it finds its feed by the handover and asks for a reindex and restart" "$out" "custodyd reindex"
check "the recovered alpha knows its first key again" grep -qx "$HA" "$A/keys/identity"
check "and its keys/office.pub names it" [ "$(key_hex "$A")" = "$HA" ]
stop_daemon "$DA" || fail "the recovered alpha stops cleanly"
check "custodyd reindex" quiet "$CUSTODYD" reindex "$A"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
out=$(cu "$A" sync bravo 2>&1) || fail "the recovered alpha syncs with bravo: $out"
check "alpha holds its own feed again (then its witness of bravo's)" \
    git --git-dir="$A/git" merge-base --is-ancestor "$LAST" "refs/feeds/$HA"
check "the recovered alpha ingests a file" quiet cu "$A" ingest "$IN/a2.bin"
NEXT=$(git --git-dir="$A/git" rev-list --reverse "$LAST..refs/feeds/$HA" | sed -n 1p)
check "its next commit extends its old feed" [ "$(git --git-dir="$A/git" rev-parse "${NEXT:-none}^" 2>/dev/null)" = "$LAST" ]
out=$(cu "$B" sync alpha 2>&1) || fail "bravo takes the recovered alpha's commits: $out"
check "bravo holds them" [ "$(feed_ref "$B" "$HA")" = "$(feed_ref "$A" "$HA")" ]
out=$(cu "$A" verify 2>&1) || fail "the recovered alpha verifies clean: $out"

done_testing
