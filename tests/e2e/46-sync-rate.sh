#!/usr/bin/env bash
# Bandwidth limits: [sync] rate and [peer NAME] rate in custody.conf.
#
# A ingests 2 MiB of random evidence; B, C and D join by A's invitation. A runs with
# `[sync] rate = 256k` and `[peer C] rate = 0`, `[peer D] rate = 0` (per-peer overrides); D runs
# with its own `[sync] rate = 256k`. B's pull is limited by what A sends (the answering side,
# global rate): it takes at least 5 s (2 MiB at 256 KiB/s is 8 s, less a quarter-second burst).
# D's pull is limited by what D reads (the dialling side): at least 5 s too. C's pull, with no
# limit on either side, is clearly faster than both (compared, not timed against a constant).
# Every copy is byte-identical and `custody verify` is clean. E, pulling at A's global rate, has
# its daemon killed (-9) once its tmp/sync-*.part (written in 1 MiB answers) holds 90% of the
# blob: the next sync says "resuming blob ... at byte N" with N at least that 90%, and the copy is
# byte-identical. A daemon whose custody.conf holds a bad rate (`[sync] rate = fast`,
# `[peer X] rate = 12q`) refuses to start, naming the key and the value.
. "$(dirname "$0")/lib.sh"

A=$T/a B=$T/b C=$T/c D=$T/d E=$T/e IN=$T/in OUT=$T/out
mkdir -p "$IN" "$OUT"

# set_sync_rate DIR VALUE: a rate line in DIR's [sync] section.
set_sync_rate() {
	sed -i "/^\[sync\]/a rate = $2" "$1/custody.conf"
}

# timed_sync DIR PEER: sync DIR with PEER; sets RC, OUTPUT and MS (milliseconds it took).
timed_sync() {
	local t0 t1
	t0=$(date +%s%N)
	RC=0
	OUTPUT=$(cu "$1" sync "$2" 2>&1) || RC=$?
	t1=$(date +%s%N)
	MS=$(((t1 - t0) / 1000000))
}

PA=$(free_port)
init_archive "$A" A
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
head -c $((2 << 20)) /dev/urandom >"$IN/video.bin"
check "A ingests 2 MiB" quiet cu "$A" ingest "$IN/video.bin"
SV=$(sha256sum <"$IN/video.bin" | cut -d' ' -f1)
for o in B C D E; do
	eval "dir=\$$o"
	join_office "$dir" "$o" "$A" "$PA"
done
check "A stops" stop_daemon "$DA"
set_sync_rate "$A" 256k
printf '\n[peer C]\nrate = 0\n\n[peer D]\nrate = 0\n' >>"$A/custody.conf"
set_sync_rate "$D" 256k
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
start_daemon "$B"
start_daemon "$C"
DC=$DAEMON_PID
start_daemon "$D"
start_daemon "$E"
DE=$DAEMON_PID

# got DIR LABEL: DIR's copy of the video is byte-identical and DIR verifies clean.
got() {
	rm -f "$OUT/$2"
	if cu "$1" get "$SV" -o "$OUT/$2" >/dev/null 2>&1 && cmp -s "$IN/video.bin" "$OUT/$2"
	then ok "$2: the 2 MiB arrive byte-identical"
	else fail "$2: the 2 MiB arrive byte-identical"
	fi
	check "$2: custody verify is clean" quiet cu "$1" verify
}

timed_sync "$B" A
MB=$MS
check "B sync A (A sends at 256k) exits 0" [ "$RC" -eq 0 ]
[ "$RC" -eq 0 ] || echo "$OUTPUT" >&2
check "B sync A took at least 5 s ($MB ms)" [ "$MB" -ge 5000 ]
got "$B" B

timed_sync "$D" A
MD=$MS
check "D sync A (D reads at 256k) exits 0" [ "$RC" -eq 0 ]
[ "$RC" -eq 0 ] || echo "$OUTPUT" >&2
check "D sync A took at least 5 s ($MD ms)" [ "$MD" -ge 5000 ]
got "$D" D

timed_sync "$C" A
MC=$MS
check "C sync A (no limit for C) exits 0" [ "$RC" -eq 0 ]
[ "$RC" -eq 0 ] || echo "$OUTPUT" >&2
check "C's unlimited sync ($MC ms) is clearly faster than B's ($MB ms)" [ $((MC * 2)) -lt "$MB" ]
check "C's unlimited sync ($MC ms) is clearly faster than D's ($MD ms)" [ $((MC * 2)) -lt "$MD" ]
got "$C" C

# E's daemon dies with 90% of the blob received; the next sync resumes it
NINETY=$(((2 << 20) * 9 / 10))
cu "$E" sync A >/dev/null 2>&1 &
SYNC=$!
PART=0
for i in $(seq 1 600); do
	PART=$(find "$E/tmp" -maxdepth 1 -name 'sync-*.part' -printf '%s\n' 2>/dev/null | sort -n | tail -n1)
	PART=${PART:-0}
	[ "$PART" -ge "$NINETY" ] && break
	kill -0 "$SYNC" 2>/dev/null || break
	sleep 0.05
done
check "E's part reached 90% of the blob ($PART bytes) during the sync" [ "$PART" -ge "$NINETY" ]
kill -9 "$DE"
wait "$DE" 2>/dev/null || true
wait "$SYNC" 2>/dev/null || true
start_daemon "$E"
timed_sync "$E" A
check "E's next sync exits 0" [ "$RC" -eq 0 ]
[ "$RC" -eq 0 ] || echo "$OUTPUT" >&2
at=$(sed -n 's/.*resuming blob .* at byte \([0-9]*\).*/\1/p' "$E.log" | tail -n1)
check "E's log says it resumed the blob at byte ${at:-none}, at least 90% in" \
    [ "${at:-0}" -ge "$NINETY" ]
got "$E" E

# bad values: the daemon refuses to start and names the key and the value
check "C stops" stop_daemon "$DC"
cp "$C/custody.conf" "$T/c.conf"
set_sync_rate "$C" fast
rc=0
out=$(timeout 30 "$CUSTODYD" run "$C" 2>&1) || rc=$?
check "a daemon with [sync] rate = fast refuses to start" [ "$rc" -ne 0 -a "$rc" -ne 124 ]
contains "and says which key and value" "$out" "[sync] rate = fast: not a rate"
cp "$T/c.conf" "$C/custody.conf"
printf '\n[peer X]\nrate = 12q\n' >>"$C/custody.conf"
rc=0
out=$(timeout 30 "$CUSTODYD" run "$C" 2>&1) || rc=$?
check "a daemon with [peer X] rate = 12q refuses to start" [ "$rc" -ne 0 -a "$rc" -ne 124 ]
contains "and says which key and value" "$out" "[peer X] rate = 12q: not a rate"
check "custody.conf restored, C starts" cp "$T/c.conf" "$C/custody.conf"
start_daemon "$C"
check "C still verifies clean" quiet cu "$C" verify

done_testing
