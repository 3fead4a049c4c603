#!/usr/bin/env bash
# Feed commits say nothing to whoever holds a seized disk.
#
# Office A ingests a file with a distinctive name, gets it back, adds a source, a victim and an
# incident, invites office B (which joins) and registers a recipient; B syncs A and A syncs B,
# so each disk holds both feeds. In every feed on both disks, every commit's subject is the
# fixed "custody", its body only the Custody-* trailers, its author and committer the office
# key's fingerprint with the fixed address "custody"; no inflated git object and no file under
# git/ holds an office name, the file name, a record kind or a human summary. Stock `git verify-commit`
# accepts every commit, and `custody log` still shows each commit's summary to the office.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || { echo "SKIP: git is not installed"; exit 77; }
command -v ssh-keygen >/dev/null || { echo "SKIP: ssh-keygen is not installed"; exit 77; }
command -v age-keygen >/dev/null || { echo "SKIP: age-keygen is not installed"; exit 77; }

A=$T/a B=$T/b IN=$T/in
mkdir -p "$IN"
OA=Opaque-Alpha-Office OB=Opaque-Bravo-Office
FILE="Zeugenaussage-Q4k2-Marktplatz.txt"
PA=$(free_port) PB=$(free_port)

init_archive "$A" "$OA"
start_daemon "$A" --listen "127.0.0.1:$PA"
printf 'the convoy left at dawn\n' >"$IN/$FILE"
SHA=$(sha256sum <"$IN/$FILE" | cut -d' ' -f1)
quiet cu "$A" ingest "$IN/$FILE" || fail "ingest"
quiet cu "$A" get "$SHA" -o "$T/back" || fail "get"
check "control: get gives the file back" cmp -s "$IN/$FILE" "$T/back"
quiet cu "$A" source add --name "Samira Haddad" --contact "+963 555 0101" || fail "source add"
quiet cu "$A" victim add --name "Omar Khalil" --date-documented 2024-12-06 || fail "victim add"
quiet cu "$A" incident add --id inc-opaque-1 --date 2024-12-05 --governorate aleppo || fail "incident add"
"$CUSTODYD" init "$B" --office "$OB" --joining --no-passphrase >"$B.init" 2>"$B.init.err"
quiet cu "$A" invite "$OB" "$(head -n1 "$B.init")" -o "$B.inv" --address "127.0.0.1:$PA" ||
    fail "invite"
quiet "$CUSTODYD" join "$B" "$B.inv" || fail "join"
start_daemon "$B" --listen "127.0.0.1:$PB"
age-keygen -o "$T/r.key" 2>/dev/null && quiet cu "$A" recipient add un-iim "$(age-keygen -y "$T/r.key")" ||
    fail "recipient add"
check "A pins B" quiet cu "$A" peer add "$OB" "127.0.0.1:$PB" "$(head -n1 "$B.init")"
out=$(cu "$B" sync "$OA" 2>&1) || fail "B syncs A: $out"
out=$(cu "$A" sync "$OB" 2>&1) || fail "A syncs B: $out"

# --- custody log keeps the summaries ---------------------------------------------------------
log=$(cu "$A" log 2>&1)
for s in "ingest 1 file (1 new)" "get evidence" "add 1 source record" "add 1 victim record" \
    "add 1 incident record" "invite: office $OB" "add recipient"; do
	contains "custody log shows '$s'" "$log" "$s"
done
check "custody log: every signature good" [ "$(grep -c ' good ' <<<"$log")" -eq \
    "$(git --git-dir="$A/git" rev-list --count "refs/feeds/$(key_hex "$A")")" ]
contains "custody log at B shows B's join" "$(cu "$B" log 2>&1)" "join: office $OB"

# --- the commits on both disks --------------------------------------------------------------
FPA=$(ssh-keygen -l -f "$A/keys/office.pub" | cut -d' ' -f2)
FPB=$(ssh-keygen -l -f "$B/keys/office.pub" | cut -d' ' -f2)
for D in "$A" "$B"; do
	G=(git --git-dir="$D/git")
	nfeeds=$("${G[@]}" for-each-ref refs/feeds | wc -l)
	check "$(basename "$D") holds both feeds" [ "$nfeeds" -eq 2 ]
	for ref in $("${G[@]}" for-each-ref --format='%(refname)' refs/feeds); do
		hex=${ref#refs/feeds/}
		if [ "$hex" = "$(key_hex "$A")" ]; then fp=$FPA; else fp=$FPB; fi
		n=$("${G[@]}" rev-list --count "$ref")
		subj=$("${G[@]}" log --format=%s "$ref" | sort -u)
		check "$(basename "$D") ${hex:0:8}: all $n subjects are 'custody'" [ "$subj" = custody ]
		who=$("${G[@]}" log --format='%an <%ae>|%cn <%ce>' "$ref" | sort -u)
		check "$(basename "$D") ${hex:0:8}: author and committer are the key fingerprint" \
		    [ "$who" = "$fp <custody>|$fp <custody>" ]
		body=$("${G[@]}" log --format=%b "$ref" | grep -v '^$' | grep -cv \
		    -e '^Custody-Seq: [0-9]*$' -e '^Custody-Lamport: [0-9]*$' \
		    -e "^Custody-Office: $hex\$" || true)
		check "$(basename "$D") ${hex:0:8}: bodies hold only the trailers" [ "$body" -eq 0 ]
		all=$("${G[@]}" log --format='%an %ae %cn %ce %s %b' "$ref")
		for w in "$OA" "$OB" "$FILE"; do
			refute "$(basename "$D") ${hex:0:8}: git log does not show '$w'" grep -qF -- "$w" <<<"$all"
		done
		# the words of the summaries (the author, a base64 fingerprint, is checked above)
		all=$("${G[@]}" log --format='%s %b' "$ref")
		for w in source victim incident evidence ingest invite recipient get join "add "; do
			if grep -qiF -- "$w" <<<"$all"; then
				fail "$(basename "$D") ${hex:0:8}: git log shows '$w'"
			fi
		done
	done
	"${G[@]}" cat-file --batch-all-objects --batch >"$T/objects"
	for w in "$OA" "$OB" "$FILE" "Samira" "get evidence" "invite: office" "source record"; do
		refute "$(basename "$D"): no git object holds '$w'" grep -aqF -- "$w" "$T/objects"
		refute "$(basename "$D"): no file under git/ holds '$w'" grep -raqF -- "$w" "$D/git"
	done
	cu "$D" keys allowed-signers >"$T/signers" 2>/dev/null
	bad=0
	for c in $("${G[@]}" rev-list --all); do
		"${G[@]}" -c gpg.ssh.allowedSignersFile="$T/signers" verify-commit "$c" >/dev/null 2>&1 ||
		    bad=$((bad + 1))
	done
	check "$(basename "$D"): git verify-commit accepts every commit ($bad refused)" [ "$bad" -eq 0 ]
done

done_testing
