#!/usr/bin/env bash
# `custody audit` of a history larger than one reply.
#
# The daemon keeps an index table of custody events (and of the items each names) and answers
# an audit a page at a time, opening only the events of the page; the client asks for pages
# until there are no more. Here the events are more than a frame can hold (four batches of 300
# files with names of 4000 bytes: over 4 MiB of names) and more than a page holds by count
# (1,500 gets, one event each): every event comes back once, in causal order, with every file
# of every batch; `audit ID` finds the events about one item through the index; and an index
# deleted and rebuilt from the feed gives the same audit.
. "$(dirname "$0")/lib.sh"

A=$T/archive
init_archive "$A" pages
start_daemon "$A"

printf 'the same bytes every time\n' >"$T/f.txt"
SHA=$(sha256sum <"$T/f.txt" | cut -c1-64)
cu "$A" ingest "$T/f.txt" >/dev/null 2>&1 || fail "the first ingest failed"
for i in 1 2 3 4; do
	out=$(RAWCLIENT_TIMEOUT=120 python3 "$(dirname "$0")/rawclient.py" "$A/custodyd.sock" \
	    ingest-long-names "$T/f.txt" 2>&1) || true
	contains "batch $i of 300 files with names of 4000 bytes is committed" "$out" "reply 106"
done
for i in $(seq 1 1500); do printf '%s  %s\n' "$SHA" "$T/f.txt"; done >"$T/gets"
out=$(RAWCLIENT_TIMEOUT=300 python3 "$(dirname "$0")/rawclient.py" "$A/custodyd.sock" \
    get-many "$T/gets" 2>&1) || true
check "1,500 gets over one connection give the bytes back" \
    [ "$(grep -c "^got $SHA" <<<"$out")" -eq 1500 ]

# summary < audit --json: "EVENTS GETS INGEST_FILES LONG_NAMES ORDERED UNIQUE BYTES"
summary() {
	python3 -c '
import json, sys
raw = sys.stdin.read()
evs = json.loads(raw)
files = [f for e in evs if e.get("action") == "ingest" for f in e.get("files", [])]
longs = sorted(f["name"] for f in files if f["name"].startswith("long/"))
want = sorted(["long/%04d-" % i + "n" * 3990 for i in range(300)] * 4)
stamps = [e["time"] for e in evs]
print(len(evs), sum(e.get("action") == "get" for e in evs), len(files), longs == want,
      stamps == sorted(stamps), len(set(e["id"] for e in evs)) == len(evs), len(raw) > 4 << 20)
'
}

json=$(cu "$A" --json audit 2>"$T/audit.err") || fail "audit --json failed: $(cat "$T/audit.err")"
check "the audit is whole: 1,509 events, 1,500 gets, 1,201 files, every long name, in order, \
each once, over 4 MiB of JSON ($(summary <<<"$json"))" \
    [ "$(summary <<<"$json")" = "1509 1500 1201 True True True True" ]

text=$(cu "$A" audit 2>&1) || fail "audit failed: $(tail -1 <<<"$text")"
check "the audit lists one line per file and per get" \
    [ "$(grep -c '  ingest  ' <<<"$text")" -eq 1201 ] && [ "$(grep -c '  get  ' <<<"$text")" -eq 1500 ]
about=$(cu "$A" audit "$SHA" 2>&1) || fail "audit of one file failed"
check "audit of the file finds all its events through the index" \
    [ "$(grep -c '  ingest  ' <<<"$about")" -eq 1201 ] && [ "$(grep -c '  get  ' <<<"$about")" -eq 1500 ]
contains "audit of an item no event names says so" \
    "$(cu "$A" audit 0000000000000000000000000000000000000000000000000000000000000000 2>&1)" \
    "no custody events about"

# --- the index derived again from the feed ---------------------------------------------------
stop_daemon "$DAEMON_PID" || fail "the daemon did not stop cleanly"
rm -f "$A/index.sqlite" "$A/index.sqlite-wal" "$A/index.sqlite-shm"
start_daemon "$A"
check "a rebuilt index gives the same audit" [ "$(cu "$A" --json audit 2>&1)" = "$json" ]

done_testing
