#!/usr/bin/env bash
# The RADOS blob store's speed against Ceph's own client, same machine, same run, same pool of
# a one-node cluster (tests/ceph/cluster.sh, or CEPH_DIR for a running one):
#  1. one SIZE_MB (default 1024) file: the store's put (64 MiB parts, 8 MiB writes, 4 in
#     flight) against `rados --striper put` and against `rados put` of the same bytes cut into
#     the same 64 MiB pieces (target <= 1.3x), then the store's get;
#  2. N (default 10,000) small files (4-64 KiB): the store's put of all in one process against
#     `rados put` in a loop (LOOP_N of them, default N, timed and scaled to N when fewer);
#  3. the same through custodyd: `custody ingest` of the SIZE_MB file into an archive whose
#     blobs live in the pool, against the `rados put`s of part 1 (target <= 1.3x) and against an
#     archive on the local disk; then of the N small files into the pool and into the local
#     store, against the `rados put` loop of part 2. custodyd runs afresh for each ingest: its
#     CPU seconds (user+system) and peak RSS (VmHWM) are its own, read from /proc.
# with the peak RSS of each client and the OSD's RSS at the end. custodyd's start is timed too:
# it moves every blob of the pool its archive does not know (parts 1 and 2's, the other
# archive's) to its orphans/, so its first start here is slow by design of this bench. The machine may be shared:
# CPU seconds say what wall seconds cannot.
# Usage: tests/bench/rados.sh [BUILD_DIR]
set -euo pipefail
BUILD=$(realpath "${1:-build}")
STORE=$BUILD/custody-rados-store
CUSTODYD=$BUILD/custodyd
CUSTODY=$BUILD/custody
CLUSTER=$(cd "$(dirname "$0")/../ceph" && pwd)/cluster.sh
SIZE_MB=${SIZE_MB:-1024}
N=${N:-10000}
LOOP_N=${LOOP_N:-$N}
"$(dirname "$0")/warm-memory.sh"
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/custody-bench.XXXXXX")
CEPH=${CEPH_DIR:-}
cleanup() {
	[ -n "${CEPH_DIR:-}" ] || "$CLUSTER" stop "$CEPH" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT
if [ -z "$CEPH" ]; then
	CEPH=$W/ceph
	"$CLUSTER" start "$CEPH"
fi
cat >"$W/store.conf" <<EOF
[blobs]
store = rados
pool = custody
ceph_conf = $CEPH/ceph.conf
client = client.custody
EOF
radosc() { rados -c "$CEPH/ceph.conf" -n client.custody -p custody "$@"; }
RADOS=(rados -c "$CEPH/ceph.conf" -n client.custody -p custody)
# timed LABEL COMMAND...: run it, print wall seconds and peak RSS (MiB) of the command.
timed() {
	local label=$1
	shift
	/usr/bin/time -f "%e %M %U %S" -o "$W/time" "$@" >"$W/out" 2>"$W/err"
	read -r secs kib us ss <"$W/time"
	printf '%-44s %8.2f s %8d MiB  cpu %6.2f s\n' "$label" "$secs" $((kib / 1024)) \
	    "$(awk -v u="$us" -v s="$ss" 'BEGIN { print u + s }')"
	echo "$secs"  >"$W/last"
}
osd_rss() { ps -o rss= -p "$(cat "$CEPH/pids/osd")" | awk '{ printf "%d MiB", $1 / 1024 }'; }

echo "== 1. one file of $SIZE_MB MiB"
head -c "${SIZE_MB}M" /dev/urandom >"$W/big"
sync
timed "store put" "$STORE" "$W/store.conf" put "$W/big"
store=$(cat "$W/last")
name=$(cat "$W/out")
timed "rados --striper put (4 MiB objects)" "${RADOS[@]}" --striper put bench.striped "$W/big"
striper=$(cat "$W/last")
mkdir "$W/pieces"
split -b 64M -d -a 5 "$W/big" "$W/pieces/p."
chunked() {
	local f
	for f in "$W"/pieces/p.*; do
		radosc put "bench.$(basename "$f")" "$f"
	done
}
export -f chunked radosc
export W CEPH LOOP_N
timed "rados put of 64 MiB pieces" bash -c chunked
pieces=$(cat "$W/last")
timed "store get (hashed)" "$STORE" "$W/store.conf" get "$name" "$W/back"
cmp -s "$W/big" "$W/back" || { echo "the store's get differs" >&2; exit 1; }
timed "rados --striper get" "${RADOS[@]}" --striper get bench.striped "$W/back"
awk -v s="$store" -v r="$striper" -v p="$pieces" 'BEGIN {
	printf "store put / striper put: %.2fx, / 64 MiB pieces: %.2fx (target <= 1.3x)\n", s / r, s / p }'
echo "OSD RSS: $(osd_rss)"
rm -rf "$W/back" "$W/pieces"

echo "== 2. $N small files"
python3 - "$W/small" "$N" <<'EOF'
import os, random, sys
d, n = sys.argv[1], int(sys.argv[2])
os.mkdir(d)
rnd = random.Random(16)
for i in range(n):
    with open(os.path.join(d, "f%06d" % i), "wb") as f:
        f.write(os.urandom(rnd.randint(4096, 65536)))
EOF
timed "store put of $N files, one process" "$STORE" "$W/store.conf" put-many "$W/small"
store=$(cat "$W/last")
loop() {
	local f i=0
	for f in "$W"/small/f*; do
		[ "$i" -lt "$LOOP_N" ] || break
		radosc put "bench.small.$i" "$f"
		i=$((i + 1))
	done
}
export -f loop
timed "rados put in a loop, $LOOP_N files" bash -c loop
loop_s=$(cat "$W/last")
awk -v s="$store" -v l="$loop_s" -v n="$N" -v ln="$LOOP_N" 'BEGIN {
	printf "store: %.0f files/s; rados put loop: %.0f files/s (%.0f s for %d); ratio %.2fx\n",
	    n / s, ln / l, l * n / ln, n, s / (l * n / ln) }'
echo "OSD RSS: $(osd_rss)"

echo "== 3. through custodyd"
# archive DIR rados|local: a new unattended archive, its blobs in the pool or on the disk.
archive() {
	"$CUSTODYD" init "$1" --office bench --no-passphrase >"$1.init" 2>&1
	[ "$2" = local ] || cat >>"$1/custody.conf" <<CONF

[blobs]
store = rados
pool = custody
ceph_conf = $CEPH/ceph.conf
client = client.custody
CONF
}
# ingest LABEL DIR PATH: custodyd afresh on DIR, `custody ingest PATH` timed; the daemon's CPU
# seconds and peak RSS; leaves the wall seconds in $W/last.
ingest() {
	local label=$1 dir=$2 pid i t0 t1 cpu hwm secs
	t0=$(date +%s%N)
	"$CUSTODYD" run "$dir" >>"$dir.log" 2>&1 &
	pid=$!
	for i in $(seq 1 6000); do	# at start it sweeps the pool: it lists every object
		[ -S "$dir/custodyd.sock" ] && break
		kill -0 "$pid" 2>/dev/null || { cat "$dir.log" >&2; exit 1; }
		sleep 0.05
	done
	[ -S "$dir/custodyd.sock" ] || { echo "custodyd did not start" >&2; kill "$pid"; exit 1; }
	printf '%-44s %8.2f s\n' "  custodyd ready (pool of $(radosc ls | wc -l) objects)" \
	    "$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { print (b - a) / 1e9 }')"
	t0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	/usr/bin/time -f "%e %U %S" -o "$W/time" "$CUSTODY" -A "$dir" ingest "$3" >"$W/out" 2>"$W/err" ||
	    { cat "$W/err" "$dir.log" >&2; kill "$pid"; exit 1; }
	t1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	hwm=$(awk '/^VmHWM/ { print int($2 / 1024) }' "/proc/$pid/status")
	kill "$pid"
	wait "$pid" || true
	read -r secs us ss <"$W/time"
	cpu=$(awk -v a="$t0" -v b="$t1" -v t="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / t }')
	printf '%-44s %8.2f s  custodyd %6.2f s cpu, peak RSS %5d MiB; client %5.2f s cpu\n' \
	    "$label" "$secs" "$cpu" "$hwm" "$(awk -v u="$us" -v s="$ss" 'BEGIN { print u + s }')"
	echo "$secs" >"$W/last"
}
archive "$W/big-rados" rados
archive "$W/big-local" local
archive "$W/small-rados" rados
archive "$W/small-local" local
sync
ingest "custody ingest of $SIZE_MB MiB, rados" "$W/big-rados" "$W/big"
irados=$(cat "$W/last")
ingest "custody ingest of $SIZE_MB MiB, local" "$W/big-local" "$W/big"
ilocal=$(cat "$W/last")
awk -v i="$irados" -v r="$striper" -v p="$pieces" -v l="$ilocal" 'BEGIN {
	printf "ingest into rados / striper put: %.2fx, / rados put of 64 MiB pieces: %.2fx (target <= 1.3x); / local ingest: %.2fx\n",
	    i / r, i / p, i / l }'
rm -f "$W/big"
ingest "custody ingest of $N files, rados" "$W/small-rados" "$W/small"
srados=$(cat "$W/last")
ingest "custody ingest of $N files, local" "$W/small-local" "$W/small"
slocal=$(cat "$W/last")
awk -v s="$srados" -v l="$slocal" -v lp="$loop_s" -v n="$N" -v ln="$LOOP_N" 'BEGIN {
	printf "%d files: ingest into rados %.0f files/s, into local %.0f files/s, rados put loop %.0f files/s\n",
	    n, n / s, n / l, ln / lp
	printf "ingest into rados / rados put loop: %.2fx; / local ingest: %.2fx\n", s / (lp * n / ln), s / l }'
echo "OSD RSS: $(osd_rss)"
