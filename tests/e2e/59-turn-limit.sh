#!/usr/bin/env bash
# A seized headquarters cannot keep a field office's link busy in its turn of a session.
#
# alpha (headquarters, listening) invites field, which joins and runs without --listen, ingests
# a 3 MB file and syncs once, honestly. Then alpha is seized: the adversary drives it with its
# real key (tests/e2e/evil-peer.c, mode turn-blob) and, when field's next sync hands it the turn,
# asks for the first piece of field's blob again and again (200 times, 200 MiB). field serves
# it at most twice, then refuses the turn with an error alpha reads, its log says so, the sync
# ends within a bounded time and fails, and field's archive verifies.
. "$(dirname "$0")/lib.sh"

EVIL=${BUILD:-}/evil-peer
[ -x "$EVIL" ] || { echo "SKIP: no evil-peer binary (BUILD unset)"; exit 77; }

A=$T/alpha F=$T/field IN=$T/in
mkdir -p "$IN"
PA=$(free_port)
init_archive "$A" alpha
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
join_office "$F" field "$A" "$PA"
start_daemon "$F"
DF=$DAEMON_PID
head -c 3000000 /dev/urandom >"$IN/video.bin"
check "field ingests a file" quiet cu "$F" ingest "$IN/video.bin"
check "field syncs alpha once, honestly" quiet cu "$F" sync alpha
BLOB=$(cd "$F/blobs" && find . -type f -size +2M | head -n1)
BLOB=${BLOB##*/}
check "field holds the file's blob" [ ${#BLOB} -eq 64 ]

# --- alpha seized: it asks for the same blob over and over in its turn ------------------------
check "alpha stops (seized)" stop_daemon "$DA"
"$EVIL" serve "$A" "127.0.0.1:$PA" turn-blob "$BLOB" 200 >"$T/evil.out" 2>"$T/evil.err" &
EP=$!
for i in $(seq 1 100); do grep -q serving "$T/evil.err" && break; sleep 0.1; done
check "the adversary listens as alpha" grep -q serving "$T/evil.err"
t0=$(date +%s)
rc=0
out=$(timeout 120 "$CUSTODY" -A "$F" sync alpha 2>&1) || rc=$?
t1=$(date +%s)
check "field's sync ends (not cut by the test's timeout)" [ "$rc" -ne 124 ]
check "and fails: alpha passed the limits of its turn" [ "$rc" -ne 0 ]
contains "field's sync says the turn was refused" "$out" "turn refused"
check "within a bounded time (60 s on a loaded machine)" [ $((t1 - t0)) -le 60 ]
for i in $(seq 1 50); do grep -q '^closed' "$T/evil.out" && break; sleep 0.1; done
n=$(grep -c '^answered: ' "$T/evil.out" || true)
check "field served the same blob range at most twice ($n)" [ "$n" -le 2 ]
check "and told alpha why" grep -q "^Error: .*more than 2 times" "$T/evil.out"
refute "alpha never got to hand the turn back" grep -q "^turn: given back" "$T/evil.out"
check "field's log says it refused the turn" grep -q "turn refused: it asked for blob" "$F.log"
kill "$EP" 2>/dev/null || true
wait "$EP" 2>/dev/null || true

rc=0
vo=$(cu "$F" verify 2>&1) || rc=$?
check "custody verify is clean at field" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || echo "$vo" >&2
check "field stops cleanly" stop_daemon "$DF"
done_testing
