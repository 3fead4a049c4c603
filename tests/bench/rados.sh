#!/usr/bin/env bash
# The RADOS blob store's speed against Ceph's own client, same machine, same run, same pool of
# a one-node cluster (tests/ceph/cluster.sh, or CEPH_DIR for a running one):
#  1. one SIZE_MB (default 1024) file: the store's put (64 MiB parts, 8 MiB writes, 4 in
#     flight) against `rados --striper put` and against `rados put` of the same bytes cut into
#     the same 64 MiB pieces (target <= 1.3x), then the store's get;
#  2. N (default 10,000) small files (1-32 KiB): the store's put of all in one process against
#     `rados put` in a loop (LOOP_N of them, default N, timed and scaled to N when fewer);
# with the peak RSS of each client and the OSD's RSS at the end.
# Usage: tests/bench/rados.sh [BUILD_DIR]
set -euo pipefail
BUILD=$(realpath "${1:-build}")
STORE=$BUILD/custody-rados-store
CLUSTER=$(cd "$(dirname "$0")/../ceph" && pwd)/cluster.sh
SIZE_MB=${SIZE_MB:-1024}
N=${N:-10000}
LOOP_N=${LOOP_N:-$N}
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
	/usr/bin/time -f "%e %M" -o "$W/time" "$@" >"$W/out" 2>"$W/err"
	read -r secs kib <"$W/time"
	printf '%-44s %8.2f s %8d MiB\n' "$label" "$secs" $((kib / 1024))
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
rm -rf "$W/big" "$W/back" "$W/pieces"

echo "== 2. $N small files"
python3 - "$W/small" "$N" <<'EOF'
import os, random, sys
d, n = sys.argv[1], int(sys.argv[2])
os.mkdir(d)
rnd = random.Random(16)
for i in range(n):
    with open(os.path.join(d, "f%06d" % i), "wb") as f:
        f.write(os.urandom(rnd.randint(1024, 32768)))
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
