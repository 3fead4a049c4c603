#!/usr/bin/env bash
# Resuming a sync that broke off in the middle of a large blob.
#
# A ingests a large random file (BIG_MIB, 300 MiB unless set). Each transfer below is broken
# while the receiver's tmp/sync-*.part is a few MiB and still growing; after each break, nothing
# is half visible at the receiver: `custody verify` is clean, its ref for A's feed is absent or one
# of A's commits, and if it shows the big file's evidence record it can also get it
# byte-identical. The next sync exits 0, the receiver's log says "resuming blob ... at byte N"
# with 0 < N <= the part's size at the break, no part is left, and the get is byte-identical.
# 1. B (which already holds A's earlier commits) has its daemon killed (-9) mid-transfer.
# 2. A's daemon is killed (-9) while C, a new office that just joined by A's invitation, pulls
#    through a TCP relay: the sync fails (exit 1), C stays up; A restarts clean.
# 3. C's resumed sync loses its link (the relay cuts it after 16 MiB more): it fails (exit 1),
#    having resumed where A died; the next sync resumes further on, where the link dropped.
# `custody verify` is clean at A after each break and at every office at the end.
. "$(dirname "$0")/lib.sh"

BIG_MIB=${BIG_MIB:-300}

# join_office DIR NAME INVITER ADDRESS: a --joining archive invited by INVITER (to sync with it
# at ADDRESS) and joined; the joiner pins its inviter (custodyd join does it).
join_office() {
	local dir=$1 name=$2 inviter=$3 addr=$4
	"$CUSTODYD" init "$dir" --office "$name" --joining --no-passphrase >"$dir.init" \
	    2>"$dir.init.err" || { cat "$dir.init.err" >&2; exit 1; }
	cu "$inviter" invite "$name" "$(head -n1 "$dir.init")" -o "$dir.inv" --address "$addr" \
	    >/dev/null || { echo "invite $name failed" >&2; exit 1; }
	"$CUSTODYD" join "$dir" "$dir.inv" >"$dir.join" 2>&1 ||
	    { cat "$dir.join" >&2; echo "join $name failed" >&2; exit 1; }
}

# part_size DIR: size of the largest tmp/sync-*.part in DIR (0 when none).
part_size() {
	local s
	s=$(find "$1/tmp" -maxdepth 1 -name 'sync-*.part' -printf '%s\n' 2>/dev/null | sort -n | tail -n1 || true)
	echo "${s:-0}"
}

# wait_part DIR PID: wait (up to 60 s) until DIR/tmp holds a sync-*.part of at least 4 MiB that
# is still growing, while the sync client PID runs. Sets PART to the size seen.
wait_part() {
	local i a b
	PART=0
	for i in $(seq 1 1200); do
		kill -0 "$2" 2>/dev/null || { echo "  the sync ended before a part grew" >&2; return 1; }
		a=$(part_size "$1")
		if [ "$a" -ge $((4 << 20)) ]; then
			sleep 0.05
			b=$(part_size "$1")
			if [ "$b" -gt "$a" ]; then PART=$b; return 0; fi
		fi
		sleep 0.05
	done
	echo "  no growing sync-*.part of 4 MiB in $1/tmp after 60 s" >&2
	return 1
}

# bg_sync DIR PEER: start `custody -A DIR sync PEER` in the background; sets SYNC.
bg_sync() {
	timeout 300 "$CUSTODY" -A "$1" sync "$2" >"$1.sync.out" 2>&1 &
	SYNC=$!
}

# resumed_at LOG: N of the last "resuming blob ... at byte N" in LOG, or "" when there is none.
resumed_at() {
	grep -oE 'resuming blob .* at byte [0-9]+' "$1" | tail -n1 | sed -E 's/.* at byte ([0-9]+)$/\1/' || true
}

# not_half_visible WHAT DIR: DIR's archive shows nothing of A's big file it cannot back.
not_half_visible() {
	local what=$1 dir=$2 r
	check "$what: custody verify is clean at the receiver" quiet cu "$dir" verify
	r=$(feed_ref "$dir" "$HA")
	if [ -z "$r" ]; then
		ok "$what: the receiver has no ref for A's feed yet"
	else
		check "$what: the receiver's ref for A's feed is one of A's commits" \
		    git --git-dir="$A/git" merge-base --is-ancestor "$r" "refs/feeds/$HA"
	fi
	if cu "$dir" show "$SBIG" >/dev/null 2>&1 || [ "$r" = "$(feed_ref "$A" "$HA")" ]; then
		rm -f "$T/got"
		check "$what: the big file's record is visible, so its blob is whole" \
		    sh -c "'$CUSTODY' -A '$dir' get $SBIG -o '$T/got' >/dev/null 2>&1 && cmp -s '$T/big' '$T/got'"
	else
		ok "$what: the big file's record is not visible yet"
	fi
}

# resumed WHAT DIR: DIR's next sync with A completes and resumed the blob (its log says so).
resumed() {
	local what=$1 dir=$2 rc=0 out n
	out=$(cu "$dir" sync A 2>&1) || rc=$?
	check "$what: the next sync exits 0" [ "$rc" -eq 0 ]
	[ "$rc" -eq 0 ] || echo "$out" >&2
	contains "$what: and moves A's feed" "$out" "feed A:"
	n=$(resumed_at "$dir.log")
	check "$what: the receiver's log says it resumed the blob at byte ${n:-<none>} > 0" \
	    [ "${n:-0}" -gt 0 ]
	check "$what: not past what it had (${n:-<none>} <= $PART_AT_KILL)" \
	    [ -n "$n" -a "${n:-0}" -le "$PART_AT_KILL" ]
	check "$what: the next sync left no part behind" [ "$(part_size "$dir")" -eq 0 ]
	rm -f "$T/got"
	check "$what: the receiver's get of the big file is byte-identical" \
	    sh -c "'$CUSTODY' -A '$dir' get $SBIG -o '$T/got' >/dev/null 2>&1 && cmp -s '$T/big' '$T/got'"
	check "$what: custody verify is clean at the receiver" quiet cu "$dir" verify
	check "$what: custody verify is clean at A" quiet cu "$A" verify
}

A=$T/a B=$T/b C=$T/c
PA=$(free_port) PB=$(free_port) PC=$(free_port) PX=$(free_port)
init_archive "$A" A
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
join_office "$B" B "$A" "127.0.0.1:$PA"
start_daemon "$B" --listen "127.0.0.1:$PB"
DB=$DAEMON_PID
cu "$A" peer add B "127.0.0.1:$PB" "$(head -n1 "$B.init")" >/dev/null
HA=$(key_hex "$A")

head -c $((BIG_MIB << 20)) /dev/urandom >"$T/big"
SBIG=$(sha256sum <"$T/big" | cut -d' ' -f1)
check "B first pulls A's office records" quiet cu "$B" sync A
check "so B has a ref for A's feed" [ -n "$(feed_ref "$B" "$HA")" ]
check "A ingests a $BIG_MIB MiB file" quiet cu "$A" ingest "$T/big"

# --- 1. the receiver is killed ----------------------------------------------------------------
bg_sync "$B" A
check "kill B: a part grows in B/tmp" wait_part "$B" "$SYNC"
kill -9 "$DB"
wait "$DB" 2>/dev/null || true
PART_AT_KILL=$(part_size "$B")
echo "  B killed with $PART_AT_KILL bytes of the blob in B/tmp (saw $PART)"
rc=0
wait "$SYNC" || rc=$?
check "kill B: the sync client fails" [ "$rc" -ne 0 -a "$rc" -ne 124 ]
check "kill B: A is still up" kill -0 "$DA"
check "kill B: custody verify is clean at A" quiet cu "$A" verify
start_daemon "$B" --listen "127.0.0.1:$PB"
DB=$DAEMON_PID
not_half_visible "kill B" "$B"
resumed "kill B" "$B"

# --- 2. the sender is killed; the receiver is a new office, reaching A through a relay --------
# The relay on PX forwards to A's port; once armed (the file relay.arm exists) it cuts the
# connection after 16 MiB more from A, and disarms.
python3 - "$PX" "$PA" $((16 << 20)) "$T/relay.arm" "$T/relay.ready" <<'EOF' >"$T/relay.log" 2>&1 &
import os, socket, sys, threading
listen, target, limit, arm, ready = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]),
    sys.argv[4], sys.argv[5])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen))
srv.listen(8)
open(ready, "w").close()
lock = threading.Lock()
sent = 0
def pump(src, dst, down):
    global sent
    try:
        while True:
            d = src.recv(65536)
            if not d:
                break
            if down and os.path.exists(arm):
                with lock:
                    sent += len(d)
                    cut = sent >= limit
                if cut:
                    os.unlink(arm)
                    sent = 0
                    print("cut", flush=True)
                    break
            dst.sendall(d)
    except OSError:
        pass
    for x in (src, dst):
        try:
            x.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
while True:
    c, _ = srv.accept()
    try:
        u = socket.create_connection(("127.0.0.1", target))
    except OSError:
        c.close()
        continue
    threading.Thread(target=pump, args=(c, u, False), daemon=True).start()
    threading.Thread(target=pump, args=(u, c, True), daemon=True).start()
EOF
DAEMON_PIDS+=("$!")
for i in $(seq 1 100); do [ -e "$T/relay.ready" ] && break; sleep 0.05; done
join_office "$C" C "$A" "127.0.0.1:$PX"
start_daemon "$C" --listen "127.0.0.1:$PC"
DC=$DAEMON_PID
cu "$A" peer add C "127.0.0.1:$PC" "$(head -n1 "$C.init")" >/dev/null
bg_sync "$C" A
check "kill A: a part grows in C/tmp" wait_part "$C" "$SYNC"
kill -9 "$DA"
wait "$DA" 2>/dev/null || true
rc=0
wait "$SYNC" || rc=$?
PART_AT_KILL=$(part_size "$C")
echo "  A killed with $PART_AT_KILL bytes of the blob in C/tmp (saw $PART)"
check "kill A: C's sync fails (exit 1)" [ "$rc" -eq 1 ]
check "kill A: C is still up" kill -0 "$DC"
not_half_visible "kill A" "$C"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
check "kill A: custody verify is clean at A after its restart" quiet cu "$A" verify

# --- 3. the link drops in the middle of C's resumed transfer ---------------------------------
: >"$T/relay.arm"
rc=0
out=$(timeout 300 "$CUSTODY" -A "$C" sync A 2>&1) || rc=$?
check "link drop: the relay cut the link" grep -q "^cut" "$T/relay.log"
check "link drop: C's sync fails (exit 1)" [ "$rc" -eq 1 ]
N1=$(resumed_at "$C.log")
check "link drop: that sync had resumed where A died (${N1:-<none>} > 0)" [ "${N1:-0}" -gt 0 ]
check "link drop: and not past it (${N1:-<none>} <= $PART_AT_KILL)" \
    [ -n "$N1" -a "${N1:-0}" -le "$PART_AT_KILL" ]
PART_AT_KILL=$(part_size "$C")
echo "  the link dropped with $PART_AT_KILL bytes of the blob in C/tmp"
check "link drop: C's part grew past where it resumed" [ "$PART_AT_KILL" -gt "${N1:-0}" ]
not_half_visible "link drop" "$C"
resumed "link drop" "$C"
N2=$(resumed_at "$C.log")
check "link drop: C resumed where the link dropped, not where A died (${N2:-<none>} > ${N1:-0})" \
    [ "${N2:-0}" -gt "${N1:-0}" ]

check "custody verify is clean at B at the end" quiet cu "$B" verify
check "A stops cleanly" stop_daemon "$DA"
done_testing
