#!/usr/bin/env bash
# Hostile bytes on the socket: each offending connection gets a clear Error and is dropped (or
# is simply dropped when it hangs up itself), and the daemon keeps serving with nothing written.
#
# tests/e2e/rawclient.py (hand-encoded protobuf) sends to a live daemon: raw garbage, a frame
# header announcing 0x7fffffff bytes (before and after the Hello), a frame over 4096 bytes
# before the Hello, Hellos with a wrong protocol version, truncated messages (the client hangs up
# after 10 of 100 bytes: dropped; or waits: the daemon times out with an Error), garbage
# protobuf, an empty message frame, an Envelope with no known body, an unknown frame type, a
# request before the Hello, messages only the server sends (Welcome, StatusReply), an IngestFile
# without a descriptor, an IngestCommit with no batch or before every file, an empty batch, a
# GetRequest without a descriptor, data frames, and a silent connection. For each it asserts
# which of "Error (with its text) then closed" or "closed without an Error" happened; after each
# the daemon is alive, `custody status` works, the feed refs, git objects and blobs are
# unchanged and ARCHIVE/tmp is empty. A well-formed ingest through rawclient.py at the end shows
# the encoder is right and the daemon still writes.
. "$(dirname "$0")/lib.sh"

RAW=$(dirname "$0")/rawclient.py
A=$T/archive
init_archive "$A" Malformed-Office
start_daemon "$A"
SOCK=$A/custodyd.sock
printf 'evidence before the attack\n' >"$T/before.txt"
cu "$A" ingest "$T/before.txt" >/dev/null 2>&1 || fail "ingest before the attack"

# state: what must not change.
state() {
	git --git-dir="$A/git" for-each-ref
	echo "objects $(find "$A/git/objects" -type f | wc -l)"
	echo "blobs $(find "$A/blobs" -type f | wc -l)"
	echo "tmp $(ls -A "$A/tmp" | wc -l)"
}
STATE0=$(state)
check "tmp/ is empty before the attack" [ -z "$(ls -A "$A/tmp")" ]

# Two slow attackers in the background: the daemon must time them out (10 s) on its own.
RAWCLIENT_TIMEOUT=40 python3 "$RAW" "$SOCK" silent >"$T/silent.out" 2>&1 &
SILENT=$!
RAWCLIENT_TIMEOUT=40 python3 "$RAW" "$SOCK" truncated-hold >"$T/hold.out" 2>&1 &
HOLD=$!

# still_serving LABEL: the daemon is alive, serves status, and nothing was written.
still_serving() {
	local rc=0 st
	check "$1: the daemon is alive" kill -0 "$DAEMON_PID"
	st=$(cu "$A" status 2>&1) || rc=$?
	check "$1: custody status still works" [ "$rc" -eq 0 ]
	contains "$1: status still counts 1 evidence" "$st" "evidence     1"
	check "$1: nothing written (refs, objects, blobs, tmp/ unchanged)" [ "$(state)" = "$STATE0" ]
}

# expect_error SCENARIO NEEDLE: an Error naming NEEDLE, then the connection closed.
expect_error() {
	local out last err code
	out=$(python3 "$RAW" "$SOCK" "$1" 2>&1) || true
	err=$(grep '^error ' <<<"$out" | sed -n 1p)
	last=$(tail -1 <<<"$out")
	code=$(cut -d' ' -f2 <<<"$err")
	check "$1: an Error comes back" [ -n "$err" ]
	contains "$1: the Error says why" "$err" "$2"
	check "$1: the Error code is a negative CUSTODY_E* code" [ "${code:-0}" -lt 0 ]
	check "$1: then the connection is closed" [ "$last" = closed -o "$last" = reset ]
	check "$1: exactly one Error" [ "$(grep -c '^error ' <<<"$out")" -eq 1 ]
	[ -n "$err" ] || echo "$1: rawclient said: $out" >&2
	still_serving "$1"
}

# expect_dropped SCENARIO: the connection is closed with no Error (the client hung up itself).
expect_dropped() {
	local out
	out=$(python3 "$RAW" "$SOCK" "$1" 2>&1) || true
	check "$1: no Error (the client hung up mid-frame)" [ -z "$(grep '^error ' <<<"$out")" ]
	check "$1: the connection is closed" [ "$(tail -1 <<<"$out")" = closed ]
	still_serving "$1"
}

expect_error garbage "unknown frame type"
expect_error oversize-header "2147483647 bytes over the limit of 4096"
expect_error oversize-after-hello "2147483647 bytes over the limit of 4194304"
expect_error big-before-hello "over the limit of 4096"
expect_error bad-version "protocol version 1 is not supported"
expect_error version-zero "protocol version 0 is not supported"
expect_dropped truncated
expect_dropped truncated-after-hello
expect_error garbage-protobuf "malformed"
expect_error garbage-protobuf-before-hello "malformed"
expect_error empty-envelope "empty message frame"
expect_error no-body "unknown or empty message"
expect_error unknown-frame-type "unknown frame type 9"
expect_error status-before-hello "expected hello"
expect_error welcome "unexpected message welcome"
expect_error status-reply "unexpected message status_reply"
expect_error ingest-file-no-fd "ingest_file without a descriptor"
expect_error ingest-commit-no-batch "ingest_commit outside a batch"
expect_error ingest-commit-early "ingest_commit before every file was sent"
expect_error ingest-begin-zero "an ingest batch holds 1 to"
expect_error data-frame "unexpected data frame"
expect_error data-end-frame "unexpected data frame"
expect_error get-no-fd "get_request needs a descriptor"

# The slow attackers: timed out by the daemon, not by themselves.
wait "$SILENT" || true
wait "$HOLD" || true
contains "silent connection: the daemon times it out with an Error" "$(cat "$T/silent.out")" \
    "timed out waiting for a request"
check "silent connection: then closes it" [ "$(tail -1 "$T/silent.out")" = closed ]
contains "truncated message left hanging: the daemon times it out with an Error" \
    "$(cat "$T/hold.out")" "timed out waiting for a request"
check "truncated message left hanging: then closes it" [ "$(tail -1 "$T/hold.out")" = closed ]
still_serving "after the slow attackers"

# A record batch, then an IngestBegin while the batch is checked: that message is read ahead
# and answered on the loop, with no request of its own; the daemon must read on after it.
out=$(RAWCLIENT_TIMEOUT=5 python3 "$RAW" "$SOCK" records-then-ingest 2>&1) || true
contains "records-then-ingest: the status behind the IngestBegin is answered" "$out" "reply 101"
still_serving "records-then-ingest"

# The encoder is right: the same client can ingest for real.
printf 'evidence after the attack\n' >"$T/after.txt"
out=$(python3 "$RAW" "$SOCK" ingest-ok "$T/after.txt" 2>&1) || true
contains "a well-formed rawclient ingest gets IngestFileDone" "$out" "reply 104"
contains "a well-formed rawclient ingest gets IngestDone" "$out" "reply 106"
# Answers come in the order of the requests: a status sent right behind an IngestCommit (the
# file still being worked on) is not answered before the commit is.
head -c 30000000 /dev/urandom >"$T/big.bin"
out=$(python3 "$RAW" "$SOCK" ingest-then-status "$T/big.bin" 2>&1) || true
contains "a pipelined ingest is committed" "$out" "reply 106"
refute "and the status behind it is not answered first" grep -q "reply 101" <<<"$out"
rc=0
cu "$A" get "$(sha256sum "$T/after.txt" | cut -c1-64)" -o "$T/after.back" >/dev/null 2>&1 || rc=$?
check "the rawclient-ingested file comes back byte-identical" cmp -s "$T/after.txt" "$T/after.back"
rc=0
cu "$A" verify >/dev/null 2>&1 || rc=$?
check "verify is clean at the end" [ "$rc" -eq 0 ]
rc=0
stop_daemon "$DAEMON_PID" || rc=$?
check "the daemon stops with exit 0" [ "$rc" -eq 0 ]
if grep -q 'ERROR: AddressSanitizer\|runtime error' "$A.log"; then
	fail "the daemon log reports a sanitizer error: $(grep -m1 'ERROR: AddressSanitizer\|runtime error' "$A.log")"
else
	ok "no sanitizer error in the daemon log"
fi
done_testing
