#!/usr/bin/env bash
# The daemon's log names keys and record tokens, never a name.
#
# Two offices with distinctive names run with --verbose. Office A ingests files with
# distinctive names, gets one back, records a source, a victim and an incident, invites B
# (which joins), pins it, registers a recipient, extracts a dossier for it, and fails a get on
# purpose; B syncs A and A syncs B. Neither daemon's log (nor the output of custodyd join)
# holds an office name, the recipient's name, a file name, a file's SHA-256, a record id, or
# the source's or victim's name; the control: the logs do name the commits and the offices'
# keys.
. "$(dirname "$0")/lib.sh"

command -v age-keygen >/dev/null || { echo "SKIP: age-keygen is not installed"; exit 77; }

A=$T/a B=$T/b IN=$T/in
mkdir -p "$IN"
OA=Quiet-Alpha-Q3v OB=Quiet-Bravo-K8w RCPT=Tribunal-Recipient-Z5
F1="Aussage-Nachbarin-J2m.txt" F2="Foto-Brunnen-P7c.jpg"
SRC="Samira-Haddad-W4" VIC="Omar-Khalil-T9" INC=inc-quiet-2024-31
PA=$(free_port) PB=$(free_port)

init_archive "$A" "$OA"
start_daemon "$A" --verbose --listen "127.0.0.1:$PA"
printf 'the checkpoint closed at six\n' >"$IN/$F1"
head -c 70000 /dev/urandom >"$IN/$F2"
SHA1=$(sha256sum <"$IN/$F1" | cut -d' ' -f1)
SHA2=$(sha256sum <"$IN/$F2" | cut -d' ' -f1)
check "incident add" quiet cu "$A" incident add --id "$INC" --date 2024-12-05 --governorate aleppo
S=$(cu "$A" source add --name "$SRC" --contact "+963 555 0101" 2>/dev/null)
check "victim add" quiet cu "$A" victim add --name "$VIC" --date-documented 2024-12-06 \
    --incident-id "$INC" --source-id "$S"
check "ingest" quiet cu "$A" ingest --incident "$INC" "$IN/$F1" "$IN/$F2"
check "get" quiet cu "$A" get "$SHA1" -o "$T/back"
chmod 0400 "$T/back"
refute "a get that cannot complete (the file exists)" quiet cu "$A" get "$SHA1" -o "$T/back"
"$CUSTODYD" init "$B" --office "$OB" --joining --no-passphrase >"$B.init" 2>"$B.init.err"
check "invite" quiet cu "$A" invite "$OB" "$(head -n1 "$B.init")" -o "$B.inv" --address "127.0.0.1:$PA"
"$CUSTODYD" join "$B" "$B.inv" >"$T/join.out" 2>&1 || fail "join"
start_daemon "$B" --verbose --listen "127.0.0.1:$PB"
check "peer add" quiet cu "$A" peer add "$OB" "127.0.0.1:$PB" "$(head -n1 "$B.init")"
age-keygen -o "$T/r.key" 2>/dev/null
check "recipient add" quiet cu "$A" recipient add "$RCPT" "$(age-keygen -y "$T/r.key")"
check "extract" quiet cu "$A" extract --recipient "$RCPT" --incident "$INC" -o "$T/d.age"
check "B syncs A" quiet cu "$B" sync "$OA"
check "A syncs B" quiet cu "$A" sync "$OB"
check "B gets A's file" quiet cu "$B" get "$SHA2" -o "$T/back2"
quiet cu "$A" peer remove "$OB" || fail "peer remove"

# --- the logs -------------------------------------------------------------------------------
cat "$A.log" "$B.log" "$T/join.out" >"$T/logs"
check "control: the logs are not empty" [ "$(wc -l <"$T/logs")" -gt 10 ]
contains "control: the logs name the office by its key" "$(cat "$T/logs")" \
    "office $(key_hex "$B" | cut -c1-16)"
contains "control: the logs name the commits" "$(cat "$A.log")" "commit "
for w in "$OA" "$OB" "$RCPT" "$F1" "$F2" Aussage Brunnen "$SHA1" "$SHA2" "$SRC" "$VIC" "$INC" \
    "$S"; do
	if grep -qF -- "$w" "$T/logs"; then
		fail "the logs hold '$w': $(grep -F -- "$w" "$T/logs" | head -n3)"
	else
		ok "the logs do not hold '$w'"
	fi
done

done_testing
