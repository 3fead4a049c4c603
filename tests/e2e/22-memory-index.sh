#!/usr/bin/env bash
# [index] store = memory: a powered-off disk holds no index.
#
# An archive whose custody.conf says `[index] store = memory` imports incidents and victims and
# ingests a file: while its daemon runs and after it stops, no index.sqlite (nor its WAL,
# shared-memory or journal file) exists anywhere under the archive, and no file there holds a
# victim's date of death in the clear. Queries, the monthly report, status and duplicates
# answer the same after a restart (the index is rebuilt from git at start) as before it, and
# the same as an archive with the index on disk. An archive switched from a file index to
# memory has its old index.sqlite removed at start. A bad value is refused with a clear error.
. "$(dirname "$0")/lib.sh"
DATA=$(dirname "$0")/data

A=$T/mem F=$T/file
init_archive "$A" mem-office
init_archive "$F" file-office
printf '\n[index]\nstore = memory\n' >>"$A/custody.conf"

# index_files DIR: the index files under DIR, one per line (nothing when there is none).
index_files() {
	find "$1" -name 'index.sqlite*' 2>/dev/null || true
}

# answers DIR: what queries and reports say, in one text: lines sorted (rows come in no set
# order), the office's key and the revisions' times left out (two archives have two keys, and
# on a loaded machine their imports may fall in different seconds).
answers() {
	{
		cu "$1" query victims --party russia --child --format json
		cu "$1" query victims --incident INC-2 --format csv
		cu "$1" report --month 2024-12 --format json
		cu "$1" report --year 2024 --basis death --format json
		cu "$1" status --json | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["evidence"], j["records"])'
	} | grep -v -e '"office": "[0-9a-f]*"' -e '"time": "[0-9TZ:-]*"' | sort
}

start_daemon "$A"
PIDA=$DAEMON_PID
start_daemon "$F"
PIDF=$DAEMON_PID
printf 'a testimony\n' >"$T/t.txt"
for D in "$A" "$F"; do
	check "$(basename "$D"): incidents import" quiet cu "$D" import incidents "$DATA/incidents.csv"
	check "$(basename "$D"): victims import" quiet cu "$D" import victims "$DATA/victims-dec2024.csv"
	check "$(basename "$D"): ingest" quiet cu "$D" ingest "$T/t.txt"
done
check "control: the file index exists" [ -n "$(index_files "$F")" ]
check "no index file while the daemon runs" [ -z "$(index_files "$A")" ]
answers "$A" >"$T/mem-before" 2>&1 || fail "answers from the memory index"
answers "$F" >"$T/file-answers" 2>&1 || fail "answers from the file index"
check "control: the answers are not empty" [ "$(wc -c <"$T/mem-before")" -gt 500 ]
check "the memory index answers as the file index does" cmp -s "$T/mem-before" "$T/file-answers"
DEATH=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "date_of_death") c = i }
    NR > 1 && $c != "" { print $c; exit }' "$DATA/victims-dec2024.csv")
check "control: the victims have a date of death ($DEATH)" [ -n "$DEATH" ]

check "the daemon stops cleanly" stop_daemon "$PIDA"
check "no index file after it stopped" [ -z "$(index_files "$A")" ]
refute "no file under the archive holds a date of death in the clear" grep -rqF -- "$DEATH" "$A"
start_daemon "$A"
answers "$A" >"$T/mem-after" 2>&1 || fail "answers after the restart"
check "after a restart, queries and reports answer as before" cmp -s "$T/mem-before" "$T/mem-after"
check "still no index file" [ -z "$(index_files "$A")" ]
stop_daemon "$DAEMON_PID" || fail "the daemon did not stop cleanly"

# --- switching an archive with an index on disk to memory ----------------------------------
stop_daemon "$PIDF" || fail "the file daemon did not stop cleanly"
printf '\n[index]\nstore = memory\n' >>"$F/custody.conf"
start_daemon "$F"
check "switched to memory: the old index file is gone" [ -z "$(index_files "$F")" ]
answers "$F" >"$T/file-switched" 2>&1 || fail "answers after the switch"
check "and the answers are the same" cmp -s "$T/file-switched" "$T/file-answers"
stop_daemon "$DAEMON_PID" || fail "the switched daemon did not stop cleanly"

# --- a bad value ----------------------------------------------------------------------------
sed -i 's/^store = memory$/store = ram/' "$F/custody.conf"
rc=0
out=$("$CUSTODYD" run "$F" 2>&1) || rc=$?
check "store = ram is refused" [ "$rc" -ne 0 ]
contains "with a clear error" "$out" "[index] store must be file or memory"

done_testing
