#!/usr/bin/env bash
# Invitations expire, can be withdrawn, and admit one key only.
#
# alpha founds the archive; charlie joins and syncs. bravo's invitation (--expires 1s) is
# refused by custodyd join once expired, with a message saying so. delta joins in time with an
# invitation of 15 seconds, but alpha first syncs with it after the expiry: alpha does not
# take delta's feed. echo's invitation is withdrawn (custody invite withdraw, which also unpins
# it) before echo joins: alpha cannot sync with echo, and charlie, whose admin pins echo and
# pulls its feed, still does not admit it (no allowed-signers line, a refusal naming the
# withdrawal), nor does alpha after pulling charlie. foxtrot joins and syncs: withdrawing its
# invitation is then refused, and a withdrawal that alpha's seized key writes anyway admits it
# still at alpha and charlie. golf's key cannot join with foxtrot's invitation. Bad --expires
# values are refused and `--help` documents the new options.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || { echo "SKIP: git is not installed"; exit 77; }
need_forge_office

# joining DIR NAME: a --joining archive (its key line in DIR.init, first line).
joining() {
	"$CUSTODYD" init "$1" --office "$2" --joining --no-passphrase >"$1.init" \
	    2>"$1.init.err" || { cat "$1.init.err" >&2; exit 1; }
}

# signer NAME FILE: true when allowed-signers FILE has a line for NAME.
signer() {
	grep -q "^$1 " "$2"
}

A=$T/alpha B=$T/bravo C=$T/charlie D=$T/delta E=$T/echo F=$T/foxtrot G=$T/golf
PA=$(free_port) PC=$(free_port) PD=$(free_port) PE=$(free_port) PF=$(free_port)
init_archive "$A" alpha
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
for x in "$B:bravo" "$C:charlie" "$D:delta" "$E:echo" "$F:foxtrot" "$G:golf"; do
	joining "${x%%:*}" "${x#*:}"
done

# --- --help and bad durations ----------------------------------------------------------------
out=$(cu "$A" invite --help 2>&1 || true)
contains "invite --help documents --expires" "$out" "--expires DURATION"
contains "and its default" "$out" "default 7d"
out=$(cu "$A" invite withdraw --help 2>&1 || true)
contains "invite withdraw --help shows its usage" "$out" "custody invite withdraw NAME"
for bad in 7x 0d 367d -1d d 99999999999s; do
	rc=0
	out=$(cu "$A" invite bravo "$(head -n1 "$B.init")" -o "$T/bad.inv" --expires "$bad" 2>&1) ||
	    rc=$?
	check "--expires $bad is refused" [ "$rc" -ne 0 ]
	contains "--expires $bad: and says how to write one" "$out" "N followed by s, m, h or d"
done
check "a refused duration leaves no file" [ ! -e "$T/bad.inv" ]

# --- charlie joins and syncs (the other office that must agree) ------------------------------
check "alpha invites charlie" quiet cu "$A" invite charlie "$(head -n1 "$C.init")" \
    -o "$C.inv" --address "127.0.0.1:$PA"
check "charlie joins" quiet "$CUSTODYD" join "$C" "$C.inv"
check "charlie's invitation states its expiry" grep -q "^expires: " "$C.inv"
start_daemon "$C" --listen "127.0.0.1:$PC"
check "alpha pins charlie" quiet cu "$A" peer add charlie "127.0.0.1:$PC" "$(key_line "$C")"
check "charlie pulls alpha" quiet cu "$C" sync alpha
check "alpha pulls charlie" quiet cu "$A" sync charlie

# --- an expired invitation is refused at join -------------------------------------------------
check "alpha invites bravo for one second" quiet cu "$A" invite bravo "$(head -n1 "$B.init")" \
    -o "$B.inv" --expires 1s
sleep 2
rc=0
out=$("$CUSTODYD" join "$B" "$B.inv" 2>&1) || rc=$?
check "custodyd join refuses an expired invitation" [ "$rc" -ne 0 ]
contains "and says it expired" "$out" "expired at"
contains "and whom to ask for a new one" "$out" "ask office alpha for a new invitation"
check "bravo holds no data key" [ ! -e "$B/keys/data.key" ]

# --- joined in time, first synced too late: the inviter does not take its feed ----------------
HD=$(key_hex "$D")
check "alpha invites delta for 15 seconds" quiet cu "$A" invite delta "$(head -n1 "$D.init")" \
    -o "$D.inv" --expires 15s
check "delta joins at once" quiet "$CUSTODYD" join "$D" "$D.inv"
start_daemon "$D" --listen "127.0.0.1:$PD"
check "alpha pins delta" quiet cu "$A" peer add delta "127.0.0.1:$PD" "$(key_line "$D")"
until=$(date -u -d "$(sed -n 's/^expires: //p' "$D.inv")" +%s)
while [ "$(date -u +%s)" -le "$until" ]; do sleep 1; done
cu "$A" sync delta >/dev/null 2>&1 || true
check "alpha did not take delta's feed: its first sync came after the expiry" \
    [ -z "$(feed_ref "$A" "$HD")" ]
check "alpha's log says why" grep -q "its invitation expired before it first synced" "$A.log"

# --- a withdrawn invitation admits nobody -----------------------------------------------------
HE=$(key_hex "$E")
check "alpha invites echo" quiet cu "$A" invite echo "$(head -n1 "$E.init")" -o "$E.inv" \
    --address "127.0.0.1:$PA"
check "alpha pins echo" quiet cu "$A" peer add echo "127.0.0.1:$PE" "$(head -n1 "$E.init")"
rc=0
out=$(cu "$A" invite withdraw echo 2>&1) || rc=$?
check "custody invite withdraw exits 0" [ "$rc" -eq 0 ]
contains "and says the invitation admits nobody now" "$out" "withdrawn"
contains "alpha's feed records the withdrawal" "$(cu "$A" log)" "invite: withdrawn"
refute "the withdrawal unpinned echo at alpha" grep -q "\[peer echo\]" "$A/custody.conf"
refute "withdrawing it again is refused" quiet cu "$A" invite withdraw echo
refute "withdrawing an office alpha never invited is refused" quiet cu "$A" invite withdraw nobody
rc=0
out=$(cu "$A" invite echo "$(head -n1 "$E.init")" -o "$T/echo-again.inv" 2>&1) || rc=$?
check "inviting the withdrawn key again is refused" [ "$rc" -ne 0 ]
contains "and says so" "$out" "withdrew its invitation of that key"
check "echo joins (offline, it cannot know)" quiet "$CUSTODYD" join "$E" "$E.inv"
start_daemon "$E" --listen "127.0.0.1:$PE"
refute "alpha cannot sync with echo" quiet cu "$A" sync echo
check "charlie pulls alpha (and the withdrawal)" quiet cu "$C" sync alpha
check "charlie's admin pins echo anyway" quiet cu "$C" peer add echo "127.0.0.1:$PE" \
    "$(key_line "$E")"
cu "$C" sync echo >/dev/null 2>&1 || true
check "alpha pulls charlie" quiet cu "$A" sync charlie
for X in "$A" "$C"; do
	n=$(basename "$X")
	cu "$X" keys allowed-signers >"$X.signers"
	refute "$n does not admit echo" signer echo "$X.signers"
	contains "$n reports the withdrawn invitation" "$(cu "$X" verify 2>&1 || true)" \
	    "was withdrawn by its inviter"
done
check "alpha holds no feed of echo" [ -z "$(feed_ref "$A" "$HE")" ]

# --- joined before the withdrawal: it stays ----------------------------------------------------
HF=$(key_hex "$F")
check "alpha invites foxtrot" quiet cu "$A" invite foxtrot "$(head -n1 "$F.init")" \
    -o "$F.inv" --expires 1h
check "foxtrot joins" quiet "$CUSTODYD" join "$F" "$F.inv"
start_daemon "$F" --listen "127.0.0.1:$PF"
check "alpha pins foxtrot" quiet cu "$A" peer add foxtrot "127.0.0.1:$PF" "$(key_line "$F")"
check "alpha pulls foxtrot" quiet cu "$A" sync foxtrot
check "alpha took foxtrot's feed (in time)" [ -n "$(feed_ref "$A" "$HF")" ]
rc=0
out=$(cu "$A" invite withdraw foxtrot 2>&1) || rc=$?
check "withdrawing a used invitation is refused" [ "$rc" -ne 0 ]
contains "and says to revoke instead" "$out" "revoke the office instead"
sleep 1
stop_daemon "$DA" || fail "alpha stops cleanly"
check "forge: alpha's seized key withdraws foxtrot's invitation anyway" \
    quiet "$FORGE" "$A" withdraw foxtrot "$(key_line "$F")"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
check "charlie pulls alpha" quiet cu "$C" sync alpha
for X in "$A" "$C"; do
	n=$(basename "$X")
	cu "$X" keys allowed-signers >"$X.signers"
	check "$n still admits foxtrot" signer foxtrot "$X.signers"
	check "$n still admits charlie" signer charlie "$X.signers"
done
check "charlie holds foxtrot's feed" [ -n "$(feed_ref "$C" "$HF")" ]

# --- one invitation, one key ---------------------------------------------------------------------
rc=0
out=$("$CUSTODYD" join "$G" "$F.inv" 2>&1) || rc=$?
check "golf cannot join with foxtrot's invitation" [ "$rc" -ne 0 ]
contains "and is told it is another office's" "$out" "another office's key"
check "golf holds no data key" [ ! -e "$G/keys/data.key" ]

done_testing
