#!/usr/bin/env bash
# An archive that has lived: N commits that each add a git pack (imports of 64 rows, as large
# commits and peers' syncs do), then the time of one-record commits (`custody victim add`, the
# median of ADDS) against the same in a new archive, and the packs left in git/objects/pack.
# libgit2 reads the pack directory again each time an object is in no pack and compares every
# name in it with every pack it knows, so without merging packs a commit slows with the square
# of their number (3,000 packs: 235 ms a commit against 7 ms here).
# Usage: [N=1000] [ADDS=21] tests/bench/packs.sh [BUILD_DIR]
set -euo pipefail
BUILD=${1:-build}
CUSTODYD=$(realpath "$BUILD/custodyd")
CUSTODY=$(realpath "$BUILD/custody")
N=${N:-1000}
ADDS=${ADDS:-21}
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/custody-bench.XXXXXX")
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
start() {
	"$CUSTODYD" init "$W/$1" --office bench --no-passphrase >/dev/null
	"$CUSTODYD" run "$W/$1" >"$W/$1.log" 2>&1 &
	PID=$!
	while [ ! -S "$W/$1/custodyd.sock" ]; do sleep 0.05; done
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=; }
# the median wall milliseconds of ADDS one-record commits into archive $1
adds() {
	local i s e
	for i in $(seq 1 "$ADDS"); do
		s=$(date +%s%N)
		"$CUSTODY" -A "$W/$1" victim add --name "Added $i" --date-documented 2024-01-01 \
		    >/dev/null 2>&1
		e=$(date +%s%N)
		echo $(( (e - s) / 1000 ))
	done | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1000 }'
}
packs() { find "$W/$1/git/objects/pack" -name '*.pack' | wc -l; }

python3 "$(dirname "$0")/victims.py" "$W/all.csv" $((N * 64))
echo "== $N imports of 64 victims, each a pack"
start lived
for i in $(seq 0 $((N - 1))); do
	{ head -n 1 "$W/all.csv"; sed -n "$((i * 64 + 2)),$((i * 64 + 65))p" "$W/all.csv"; } \
	    >"$W/part.csv"
	"$CUSTODY" -A "$W/lived" import victims "$W/part.csv" >/dev/null
done
t_lived=$(adds lived)
rss=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
fds=$(ls /proc/$PID/fd | wc -l)
"$CUSTODY" -A "$W/lived" verify >/dev/null
fds_verify=$(ls /proc/$PID/fd | wc -l)
stop
start new
t_new=$(adds new)
stop
echo "packs in git/objects/pack after $N imports: $(packs lived)"
echo "custody victim add (median of $ADDS): $t_lived ms after them, $t_new ms in a new archive"
echo "ratio lived/new: $(awk -v a="$t_lived" -v b="$t_new" 'BEGIN { printf "%.2f", a / b }')"
echo "custodyd: peak RSS $((rss / 1024)) MiB, $fds descriptors open," \
    "$fds_verify after custody verify"
