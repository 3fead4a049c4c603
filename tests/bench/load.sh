#!/usr/bin/env bash
# One custodyd under load (tests/bench/load.py): CLIENTS (default 200) clients making status,
# month-report and query requests for SECONDS (default 30), with 1,000 idle connections and 20
# clients sending a byte a second, while a SIZE_MB (default 1024) ingest and a sync from another
# office (SYNC_MB of evidence, default 256) run. Prints p50/p99 latencies and errors (target:
# 0 errors, p99 status <= 50 ms). Then descriptor exhaustion: the daemon limited to 256
# descriptors, 400 idle connections, and a new client must still be served.
# Usage: tests/bench/load.sh [BUILD_DIR]
set -euo pipefail
BUILD=${1:-build}
CUSTODYD=$(realpath "$BUILD/custodyd")
CUSTODY=$(realpath "$BUILD/custody")
HERE=$(cd "$(dirname "$0")" && pwd)
SECONDS_RUN=${SECONDS_RUN:-30}
CLIENTS=${CLIENTS:-200}
SIZE_MB=${SIZE_MB:-1024}
SYNC_MB=${SYNC_MB:-256}

"$(dirname "$0")/warm-memory.sh"
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/custody-bench.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
run() { # run DIR [ARGS...]: start custodyd and wait for its socket
	local dir=$1
	shift
	"$@" "$CUSTODYD" run "$dir" >>"$dir.log" 2>&1 &
	PIDS+=($!)
	while [ ! -S "$dir/custodyd.sock" ]; do sleep 0.05; done
}

A=$W/a B=$W/b PA=$(port) PB=$(port)
"$CUSTODYD" init "$A" --office alpha --no-passphrase >/dev/null 2>&1
sed -i 's/^idle_timeout = .*/idle_timeout = 120/; s/^interval = .*/interval = 0/' "$A/custody.conf"
sed -i "s/^\[daemon\]/[daemon]\nlisten = 127.0.0.1:$PA/" "$A/custody.conf"
run "$A"
"$CUSTODYD" init "$B" --office bravo --joining --no-passphrase >"$B.init" 2>/dev/null
"$CUSTODY" -A "$A" invite bravo "$(head -n1 "$B.init")" -o "$B.inv" --address "127.0.0.1:$PA" >/dev/null
"$CUSTODYD" join "$B" "$B.inv" >/dev/null 2>&1
sed -i "s/^\[daemon\]/[daemon]\nlisten = 127.0.0.1:$PB/; s/^interval = .*/interval = 0/" "$B/custody.conf"
run "$B"
"$CUSTODY" -A "$A" peer add bravo "127.0.0.1:$PB" "$(head -n1 "$B.init")" >/dev/null

echo "== data: 20,000 victims at A, ${SYNC_MB} MiB of evidence at B"
python3 - "$W/victims.csv" <<'PY'
import random, sys
r = random.Random(1)
with open(sys.argv[1], "w") as f:
    f.write("name,sex,age,status,date_of_death,date_documented,governorate,cause,party\n")
    for i in range(20000):
        d = "2024-12-%02d" % r.randint(1, 28)
        f.write("Person %d,%s,%d,civilian,%s,%s,aleppo,shelling,russia\n" % (
            i, r.choice(["male", "female"]), r.randint(1, 90), d, d))
PY
"$CUSTODY" -A "$A" import victims "$W/victims.csv" >/dev/null 2>&1
for i in 1 2 3 4; do head -c $((SYNC_MB << 18)) /dev/urandom >"$W/b$i.bin"; done
"$CUSTODY" -A "$B" ingest "$W"/b?.bin >/dev/null
head -c $((SIZE_MB << 20)) /dev/urandom >"$W/big.bin"

echo "== $CLIENTS clients for $SECONDS_RUN s, 1000 idle, 20 slow; a ${SIZE_MB} MiB ingest and a sync meanwhile"
python3 "$HERE/load.py" "$A/custodyd.sock" "$SECONDS_RUN" "$CLIENTS" 1000 20 >"$W/load.out" 2>&1 &
LOAD=$!
sleep 3
s=$(date +%s.%N)
"$CUSTODY" -A "$A" ingest "$W/big.bin" >/dev/null 2>"$W/ingest.err" && ingest=ok || ingest=FAILED
e=$(date +%s.%N)
"$CUSTODY" -A "$A" sync bravo >"$W/sync.out" 2>&1 && sync=ok || sync=FAILED
e2=$(date +%s.%N)
rc=0
wait "$LOAD" || rc=$?
cat "$W/load.out"
printf 'ingest  %s, %.1f s;  sync %s, %.1f s\n' "$ingest" "$(echo "$e - $s" | bc)" "$sync" "$(echo "$e2 - $e" | bc)"
echo "custodyd peak RSS $(( $(awk '/VmHWM/ {print $2}' "/proc/$(cat "$A/custodyd.lock")/status") / 1024 )) MiB"

echo "== descriptor exhaustion: custodyd limited to 256 descriptors, 400 idle connections"
kill "$(cat "$A/custodyd.lock")"
while [ -e "$A/custodyd.sock" ] && kill -0 "$(cat "$A/custodyd.lock")" 2>/dev/null; do sleep 0.1; done
rm -f "$A/custodyd.sock"
run "$A" prlimit --nofile=256:256
python3 - "$A/custodyd.sock" "$HERE/../e2e" <<'PY' &
import socket, sys, time
sys.path.insert(0, sys.argv[2])
import rawclient as rc
held = []
for i in range(400):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(sys.argv[1])
        s.sendall(rc.hello())
        held.append(s)
    except OSError:
        break
time.sleep(30)
PY
HOLD=$!
PIDS+=($HOLD)
sleep 5
s=$(date +%s.%N)
if timeout 20 "$CUSTODY" -A "$A" status >/dev/null 2>&1; then
	printf 'a new client is served: status in %.2f s\n' "$(echo "$(date +%s.%N) - $s" | bc)"
else
	echo "a new client was NOT served"; rc=1
fi
grep -c "out of descriptors" "$A.log" | sed 's/^/idle connections shed: /'
kill -0 "$(cat "$A/custodyd.lock")" && echo "custodyd still running" || { echo "custodyd died"; rc=1; }
exit $rc
