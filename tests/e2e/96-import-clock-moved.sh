#!/usr/bin/env bash
# An import seals each record once, as it arrives, for the commit it expects to make: the
# clock the office's next commit would take when the first rows came (its "rev" is inside
# every sealed record). When another write of the office commits while the import is still
# open (here a victim added between the import's rows and its commit), that clock is taken:
# the import's commit must take a later one, and each of its records is opened and sealed
# again with the commit's own "rev". Both commits verify (rev.lamport is the commit's
# Custody-Lamport, clocks grow along the feed), both records read back, git fsck is clean.
# An import that nothing overtakes keeps its records as sealed, with the summary it fixed
# at its start (the kind and the rows sent).
. "$(dirname "$0")/lib.sh"

need_rowclient

A=$T/a
init_archive "$A" A
start_daemon "$A"
DA=$DAEMON_PID
HA=$(key_hex "$A")
S=$A/custodyd.sock
TAB=$'\t'
H="id${TAB}name${TAB}sex${TAB}status${TAB}date_of_death${TAB}date_documented${TAB}governorate${TAB}cause${TAB}party${TAB}notes"
# rows PREFIX N: a header and N valid rows, ids PREFIX0001...
rows() {
	echo "$H"
	for i in $(seq -w 1 "$2"); do
		echo "$1$i${TAB}Name $i${TAB}female${TAB}civilian${TAB}2023-01-02${TAB}2023-01-03${TAB}aleppo${TAB}shelling${TAB}russia${TAB}note $i"
	done
}
# lamport COMMIT: its Custody-Lamport trailer
lamport() { git --git-dir="$A/git" cat-file commit "$1" | sed -n 's/^Custody-Lamport: //p'; }
# rev_lamport ID: rev.lamport of the victim's current revision
rev_lamport() {
	cu "$A" victim show "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["rev"]["lamport"])'
}
# held: the daemon's open files under tmp/ (an import's rows)
held() { ls -l "/proc/$DA/fd" 2>/dev/null | grep -c "$A/tmp/" || true; }

quiet cu "$A" victim add --id first --name "First Victim" --date-documented 2024-01-01 ||
    fail "a first victim"
c0=$(feed_len "$A" "$HA")

# an import whose batch stays open until $T/go exists
rows V 200 | "$ROWS" -w "$T/go" "$S" moved.csv victim >"$T/import.out" 2>&1 &
IMP=$!
n=0
for i in $(seq 1 200); do	# its rows are checked and sealed: their spill is open
	n=$(held)
	[ "$n" -gt 0 ] && break
	sleep 0.05
done
check "the import's rows arrived and were kept ($n files under tmp/)" [ "$n" -gt 0 ]
check "a victim added while the import is open commits" \
    quiet cu "$A" victim add --id between --name "Added Between" --date-documented 2024-02-02
add=$(feed_ref "$A" "$HA")
touch "$T/go"
wait_exit "$IMP" 120 || fail "the import client exits"
contains "the import writes its 200 records" "$(cat "$T/import.out")" "done written 200"
imp=$(feed_ref "$A" "$HA")
check "two commits: the add, then the import" [ "$(feed_len "$A" "$HA")" -eq $((c0 + 2)) ]
check "the import's commit follows the add" \
    [ "$(git --git-dir="$A/git" rev-parse "$imp^")" = "$add" ]
la=$(lamport "$add")
li=$(lamport "$imp")
check "the import's clock is past the add's ($li > $la)" [ "$li" -gt "$la" ]
check "the import's records carry its commit's clock" [ "$(rev_lamport V137)" = "$li" ]
check "the record added in between carries its own" [ "$(rev_lamport between)" = "$la" ]
contains "the import's records were sealed again for the commit" "$(cat "$A.log")" \
    "records are sealed again for the commit"
contains "a record of the import reads back whole" "$(cu "$A" victim show V200 --json)" \
    '"notes": "note 200"'
out=$(cu "$A" verify 2>&1) || fail "custody verify: $out"
check "git fsck is clean" quiet git --git-dir="$A/git" fsck --strict

# an import nothing overtakes: kept as sealed, with the summary fixed at its start
resealed=$(grep -c "sealed again" "$A.log" || true)
rows W 100 | "$ROWS" "$S" calm.csv victim >"$T/calm.out" 2>&1
contains "a second import writes its 100 records" "$(cat "$T/calm.out")" "done written 100"
calm=$(feed_ref "$A" "$HA")
check "its records carry its commit's clock" [ "$(rev_lamport W042)" = "$(lamport "$calm")" ]
check "its records were not sealed again" \
    [ "$(grep -c "sealed again" "$A.log" || true)" -eq "$resealed" ]
contains "its summary names the kind and the rows sent" "$(cu "$A" log)" \
    "import: 100 victim rows sent"
out=$(cu "$A" verify 2>&1) || fail "custody verify after the second import: $out"
stop_daemon "$DA" || fail "A stops"
done_testing
