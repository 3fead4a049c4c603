#!/usr/bin/env bash
# Joining by invitation: a new office gets the archive key from a signed invitation.
#
# Office A is a normal archive; office B is made with --joining (its own key, no data key) and
# refuses to run until it joins. A writes an invitation for B's key (custody invite), which
# records B in A's feed. A tampered invitation, an invitation for another office's key and a
# file that is no invitation are refused by custodyd join and change nothing. B joins: its
# keys/data.key exists (0600), it runs, its custody.conf names A as a peer, joining again is
# refused. Both daemons report the same archive_id (a keyed hash under the data key), which an
# unrelated archive does not. A's `keys allowed-signers` now lists B, and stock git verify-commit
# accepts B's feed commits with A's file (and not with the file A exported before inviting B).
. "$(dirname "$0")/lib.sh"

A=$T/a
B=$T/b
C=$T/c
init_archive "$A" A
start_daemon "$A"
PID_A=$DAEMON_PID
cu "$A" keys allowed-signers >"$T/allowed.before"

rc=0
"$CUSTODYD" init "$B" --office B --joining --no-passphrase >"$T/b.init" 2>"$T/b.init.err" || rc=$?
check "init --joining exits 0" [ "$rc" -eq 0 ]
BKEY=$(head -n1 "$T/b.init")
contains "init --joining prints the public key line" "$BKEY" "ssh-ed25519 AAAA"
contains "init --joining prints the fingerprint" "$(sed -n 2p "$T/b.init")" "SHA256:"
check "a joining archive has no data key" [ ! -e "$B/keys/data.key" ]
"$CUSTODYD" init "$C" --office C --joining --no-passphrase >"$T/c.init" 2>/dev/null
CKEY=$(head -n1 "$T/c.init")

rc=0
out=$("$CUSTODYD" run "$B" 2>&1) || rc=$?
check "custodyd run refuses an office that has not joined" [ "$rc" -ne 0 ]
contains "and says why" "$out" "this office has not joined yet: run custodyd join"

# --- the invitation ---------------------------------------------------------------------
rc=0
out=$(cu "$A" invite B "$BKEY" -o "$T/inv" --address 127.0.0.1:7400 2>&1) || rc=$?
check "custody invite exits 0" [ "$rc" -eq 0 ]
contains "custody invite names the fingerprint" "$out" "$(sed -n 2p "$T/b.init" | cut -d' ' -f2)"
check "the invitation file is mode 0600" [ "$(stat -c %a "$T/inv")" = 600 ]
contains "the invitation is signed" "$(cat "$T/inv")" "-----BEGIN SSH SIGNATURE-----"
contains "A's feed records the invitation" "$(cu "$A" log)" "invite: office B"
refute "custody invite refuses to overwrite a file" quiet cu "$A" invite B "$BKEY" -o "$T/inv"
refute "custody invite refuses a known name with another key" \
    quiet cu "$A" invite B "$CKEY" -o "$T/inv-b-as-c"
check "and leaves no file behind" [ ! -e "$T/inv-b-as-c" ]
refute "custody invite refuses a known key under another name" \
    quiet cu "$A" invite C "$BKEY" -o "$T/inv-c-as-b"
refute "custody invite refuses this office's own key" \
    quiet cu "$A" invite Z "$(cat "$A/keys/office.pub")" -o "$T/inv-self"
refute "custody invite refuses a bad address" \
    quiet cu "$A" invite C "$CKEY" -o "$T/inv-c-bad" --address "no port"
check "custody invite for C exits 0" quiet cu "$A" invite C "$CKEY" -o "$T/inv-c"

# --- refused joins change nothing -------------------------------------------------------
snapshot() {
	(cd "$B" && find . -path ./custodyd.lock -prune -o -type f -print0 | sort -z |
	    xargs -0 sha256sum)
}
before=$(snapshot)
sed 's/127.0.0.1:7400/127.0.0.1:7401/' "$T/inv" >"$T/inv-tampered"
rc=0
out=$("$CUSTODYD" join "$B" "$T/inv-tampered" 2>&1) || rc=$?
check "join refuses a tampered invitation" [ "$rc" -ne 0 ]
contains "because the signature does not verify" "$out" "signature does not verify"
rc=0
out=$("$CUSTODYD" join "$B" "$T/inv-c" 2>&1) || rc=$?
check "join refuses an invitation for another office's key" [ "$rc" -ne 0 ]
contains "and says so" "$out" "another office's key"
head -c 600 /dev/urandom >"$T/garbage"
refute "join refuses a file that is no invitation" quiet "$CUSTODYD" join "$B" "$T/garbage"
refute "join refuses a missing file" quiet "$CUSTODYD" join "$B" "$T/nothing"
check "refused joins changed nothing in B" [ "$before" = "$(snapshot)" ]

# --- B joins ----------------------------------------------------------------------------
rc=0
out=$("$CUSTODYD" join "$B" "$T/inv" 2>&1) || rc=$?
check "join exits 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || echo "$out" >&2
check "B's keys/data.key exists" [ -f "$B/keys/data.key" ]
check "B's keys/data.key is mode 0600" [ "$(stat -c %a "$B/keys/data.key")" = 600 ]
conf=$(cat "$B/custody.conf")
contains "B's conf names A as a peer" "$conf" "[peer A]"
contains "with A's address" "$conf" "address = 127.0.0.1:7400"
contains "and A's key" "$conf" "key = $(cut -d' ' -f1,2 "$A/keys/office.pub")"
refute "joining twice is refused" quiet "$CUSTODYD" join "$B" "$T/inv"
check "and leaves the conf alone" [ "$conf" = "$(cat "$B/custody.conf")" ]

start_daemon "$B"
ok "B runs after joining"
contains "B's feed holds the office records" "$(cu "$B" log)" "join: office B, invited by A"
ida=$(cu "$A" --json status | sed -n 's/.*"archive_id": *"\([0-9a-f]*\)".*/\1/p')
idb=$(cu "$B" --json status | sed -n 's/.*"archive_id": *"\([0-9a-f]*\)".*/\1/p')
check "A reports an archive id" [ "${#ida}" -eq 64 ]
check "B holds A's data key (same archive id)" [ "$ida" = "$idb" ]
init_archive "$T/d" D
start_daemon "$T/d"
idd=$(cu "$T/d" --json status | sed -n 's/.*"archive_id": *"\([0-9a-f]*\)".*/\1/p')
check "an unrelated archive reports an archive id" [ "${#idd}" -eq 64 ]
check "and it differs from A's" [ "$idd" != "$ida" ]

# --- office records feed the allowed signers ---------------------------------------------
cu "$A" keys allowed-signers >"$T/allowed.a"
cu "$B" keys allowed-signers >"$T/allowed.b"
BBARE=$(echo "$BKEY" | cut -d' ' -f1,2)
ABARE=$(cut -d' ' -f1,2 "$A/keys/office.pub")
contains "A's allowed signers list B" "$(cat "$T/allowed.a")" \
    "B namespaces=\"git,custody-dossier\" $BBARE"
contains "A's allowed signers list C (invited)" "$(cat "$T/allowed.a")" "C namespaces="
contains "B's allowed signers list A" "$(cat "$T/allowed.b")" \
    "A namespaces=\"git,custody-dossier\" $ABARE"
contains "B's allowed signers list B" "$(cat "$T/allowed.b")" \
    "B namespaces=\"git,custody-dossier\" $BBARE"
check "A lists each office once" [ "$(grep -c "$BBARE" "$T/allowed.a")" -eq 1 ]

if command -v git >/dev/null; then
	G=(git --git-dir="$B/git")
	commits=$("${G[@]}" rev-list --all)
	n=0 good=0 bad=0
	for c in $commits; do
		n=$((n + 1))
		"${G[@]}" -c gpg.ssh.allowedSignersFile="$T/allowed.a" verify-commit "$c" \
		    >/dev/null 2>&1 && good=$((good + 1))
		"${G[@]}" -c gpg.ssh.allowedSignersFile="$T/allowed.before" verify-commit "$c" \
		    >/dev/null 2>&1 || bad=$((bad + 1))
	done
	check "B's feed has a commit" [ "$n" -ge 1 ]
	check "git verify-commit accepts B's commits with A's allowed signers ($good of $n)" \
	    [ "$good" -eq "$n" ]
	check "and refuses them with the file A exported before inviting B ($bad of $n)" \
	    [ "$bad" -eq "$n" ]
else
	echo "SKIP: git is not installed: no verify-commit check"
fi

check "custody verify finds no problem in A (office records included)" quiet cu "$A" verify
check "custody verify finds no problem in B" quiet cu "$B" verify
check "A stops cleanly" stop_daemon "$PID_A"
done_testing
