#!/usr/bin/env bash
# An import travels as rows of CSV values under a header sent once (RecordBegin columns,
# RecordBatch rows), and custodyd checks them itself as its own CSV importer would: a client
# of its own making (custody-rowclient, tests/e2e/rowclient.c) that sends what custody would
# have refused gets the same "LINE: column: problem" answers, and nothing is written: a header
# with an unknown, repeated or missing column, a row with too few or too many values, invalid
# UTF-8, a NUL byte, a value over 64 KiB, a row of 10,000 values, JSON mixed into a batch of
# rows, more rows than announced. With skip_invalid only the good rows are written; a good
# batch is written whole.
. "$(dirname "$0")/lib.sh"

need_rowclient

A=$T/a
init_archive "$A" A
start_daemon "$A"
DA=$DAEMON_PID
HA=$(key_hex "$A")
S=$A/custodyd.sock
TAB=$'\t'
H="id${TAB}name${TAB}sex${TAB}status${TAB}date_of_death${TAB}date_documented${TAB}governorate${TAB}cause${TAB}party"
# good ID [NAME]: a valid row
good() { echo "$1$TAB${2:-Ali Hasan}${TAB}male${TAB}civilian${TAB}2023-01-02${TAB}2023-01-03${TAB}aleppo${TAB}shelling${TAB}russia"; }
# send [OPTIONS...] <SPEC: the daemon's answers to the rows of SPEC
send() { "$ROWS" "$@" "$S" evil.csv victim; }

c0=$(feed_len "$A" "$HA")
r0=$(git --git-dir="$A/git" for-each-ref)
unchanged() {
	check "$1: no commit" [ "$(feed_len "$A" "$HA")" -eq "$c0" ]
	check "$1: the refs are unchanged" [ "$(git --git-dir="$A/git" for-each-ref)" = "$r0" ]
}

wide=$(python3 -c 'print("\t".join(["x"] * 10000))')
out=$({ echo "$H"; good R1; echo "R2${TAB}Ali${TAB}male"; good R3 $'Ali \\xffHasan'
    good R4 $'Ali\\x00Hasan'; good R5 '@70000*a'; echo "$wide"; good R7 $'Ali\\x01Hasan'; } | send)
contains "a row of 3 values is a problem of its line" "$out" \
    "problem 3: row: 3 fields where the header has 9"
contains "invalid UTF-8 is a problem of its column" "$out" "problem 4: name: invalid UTF-8 at byte 5"
contains "a NUL byte is a problem of its column" "$out" "problem 5: name: holds a NUL byte"
contains "a value over 64 KiB is a problem of its column" "$out" \
    "problem 6: name: longer than 65536 bytes"
contains "a row of 10,000 values is a problem of its line" "$out" \
    "problem 7: row: 10000 fields where the header has 9"
contains "a control character is a problem of its column" "$out" \
    "problem 8: name: control character at byte 4"
contains "six problems, nothing written" "$out" "done written 0 unchanged 0 total 6 commit "
unchanged "bad rows"

for bad in "${H/party/bogus}:bogus: unknown column" "$H${TAB}name:name: duplicate column" \
    "${H/${TAB}date_documented/}:date_documented: missing required column" $'id\\x00x'"${H#id}:column 1: name holds a NUL byte"; do
	out=$({ echo "${bad%%:*}"; good R1; } | send)
	contains "header: ${bad#*:}" "$out" "error -4 evil.csv:1: ${bad#*:}"
done
unchanged "bad headers"

out=$({ echo "$H"; good R1; } | send -j)
contains "JSON in a batch of rows is refused" "$out" "rows where the batch takes JSON"
unchanged "JSON mixed into rows"
# the commit sent right behind a refused batch is read while the batch is checked (the daemon
# reads one message ahead of its worker): dropped with the connection, the daemon unharmed
out=$({ echo "$H"; good R1; good R2; } | send -c 1)
contains "more rows than announced is refused" "$out" "more records than the batch announced"
unchanged "more rows than announced"
check "the daemon still serves" quiet cu "$A" status
out=$({ echo "$H"; good R1; good R2; } | send -c 5)
contains "fewer rows than announced is refused" "$out" "record_commit after 2 of 5 records"
unchanged "fewer rows than announced"
check "nothing is left under tmp/" [ -z "$(ls -A "$A/tmp")" ]
refute "no row of the refused batches was written" quiet cu "$A" victim show R1

out=$({ echo "$H"; good R1; echo "R2${TAB}Ali"; good R3 $'Ali\\xff'; } | send -s)
contains "with skip_invalid the bad rows are listed" "$out" "problem 3: row: 2 fields"
contains "and only the good one written" "$out" "done written 1 unchanged 0 total 2 commit "
out=$({ echo "$H"; for i in $(seq 100 199); do good "R$i" "Name $i"; done; } | send)
contains "a good batch of rows (a stream) is written whole" "$out" \
    "done written 100 unchanged 0 total 0 commit "
check "in two commits" [ "$(feed_len "$A" "$HA")" -eq $((c0 + 2)) ]
contains "a row reads back as its fields" "$(cu "$A" victim show R150 --json)" '"name": "Name 150"'
check "custody verify is clean" quiet cu "$A" verify
stop_daemon "$DA" || fail "A stops"
done_testing
