#!/usr/bin/env bash
# Recovery speed: office A holds SIZE_MB (default 1024) of evidence in FILES files (default 16)
# of random data; B, its peer, has synced A fully. A makes 5 recovery shares (`custody keys
# split`), then its daemon stops. Timed, from an empty directory to a recovered, verified
# office: `custodyd recover` with 3 of the shares and B as peer, the daemon started, `custody
# sync B`, `custody verify` clean. Against it, in the same run on the same machine: `rsync -a`
# of A's whole archive directory to an empty directory. The script asserts that the recovered
# archive verifies, holds every blob of A byte for byte and A's feed at A's last head, so that
# the two times are for the same bytes.
# Usage: tests/bench/recover.sh [BUILD_DIR]   (needs rsync, python3)
set -euo pipefail
BUILD=$(realpath "${1:-build}")
CUSTODYD=$BUILD/custodyd
CUSTODY=$BUILD/custody
SIZE_MB=${SIZE_MB:-1024}
FILES=${FILES:-16}
command -v rsync >/dev/null || { echo "SKIP: rsync is not installed"; exit 77; }
"$(dirname "$0")/warm-memory.sh"
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/custody-bench.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
ms() { echo $(( $(date +%s%N) / 1000000 )); }
die() { echo "FAIL: $*" >&2; exit 1; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# run DIR [ARGS...]: start custodyd on DIR, wait for its socket; its pid is the last of PIDS.
run() {
	local dir=$1
	shift
	rm -f "$dir/custodyd.sock"
	"$CUSTODYD" run "$dir" "$@" >>"$dir.log" 2>&1 &
	PIDS+=($!)
	while [ ! -S "$dir/custodyd.sock" ]; do
		kill -0 "${PIDS[-1]}" 2>/dev/null || die "custodyd stopped: $(tail -3 "$dir.log")"
		sleep 0.05
	done
}
secs() { awk -v a="$1" 'BEGIN { printf "%.2f", a / 1000 }'; }
key_hex() {
	python3 -c 'import base64,sys; print(base64.b64decode(open(sys.argv[1]).read().split()[1])[-32:].hex())' \
	    "$1/keys/office.pub"
}

A=$W/a B=$W/b R=$W/recovered
PA=$(port) PB=$(port)
"$CUSTODYD" init "$A" --office A --no-passphrase >/dev/null 2>&1
run "$A" --listen "127.0.0.1:$PA"
PID_A=${PIDS[-1]}
"$CUSTODYD" init "$B" --office B --no-passphrase --joining >"$B.init" 2>/dev/null
"$CUSTODY" -A "$A" invite B "$(head -n1 "$B.init")" -o "$B.inv" --address "127.0.0.1:$PA" >/dev/null
"$CUSTODYD" join "$B" "$B.inv" >/dev/null 2>&1
run "$B" --listen "127.0.0.1:$PB"
"$CUSTODY" -A "$A" peer add B "127.0.0.1:$PB" "$(head -n1 "$B.init")" >/dev/null

echo "== A ingests $SIZE_MB MiB in $FILES files; B syncs A"
mkdir "$W/in"
per=$(( (SIZE_MB << 20) / FILES ))
for i in $(seq 1 "$FILES"); do
	head -c "$per" /dev/urandom >"$W/in/file-$i.bin"
	"$CUSTODY" -A "$A" ingest "$W/in/file-$i.bin" >/dev/null 2>&1
	rm "$W/in/file-$i.bin"
done
"$CUSTODY" -A "$A" keys split --shares 5 --threshold 3 -o "$W/shares" >/dev/null
"$CUSTODY" -A "$B" sync A >/dev/null
"$CUSTODY" -A "$A" sync B >/dev/null	# A witnesses B's feed, as offices do
"$CUSTODY" -A "$B" sync A >/dev/null	# and B takes that last commit of A's
HA=$(key_hex "$A")
HEAD=$(git --git-dir="$A/git" rev-parse "refs/feeds/$HA")
[ "$(git --git-dir="$B/git" rev-parse "refs/feeds/$HA")" = "$HEAD" ] || die "B does not hold A's feed"
NBLOBS=$(find "$A/blobs" -type f | wc -l)
[ "$NBLOBS" -eq "$FILES" ] || die "A holds $NBLOBS blobs, not $FILES"
kill "$PID_A"	# A is lost (its directory stays, for rsync and the comparison)
wait "$PID_A" 2>/dev/null || true
echo "A's archive directory: $(du -sh "$A" | cut -f1), $NBLOBS blobs"

echo "== recover A from 3 of 5 shares and B, to a verified office"
s=$(ms)
"$CUSTODYD" recover "$R" --office A --share "$W/shares/share-1-of-5.bin" \
    --share "$W/shares/share-3-of-5.bin" --share "$W/shares/share-5-of-5.txt" --no-passphrase \
    --peer B "127.0.0.1:$PB" "$(cut -d' ' -f1,2 "$B/keys/office.pub")" >"$W/recover.out" 2>&1 ||
    die "custodyd recover: $(cat "$W/recover.out")"
t_recover=$(( $(ms) - s ))
run "$R"
t_start=$(( $(ms) - s ))
"$CUSTODY" -A "$R" sync B >"$W/sync.out" 2>&1 || die "custody sync B: $(cat "$W/sync.out")"
t_sync=$(( $(ms) - s ))
"$CUSTODY" -A "$R" verify >"$W/verify.out" 2>&1 || die "custody verify: $(cat "$W/verify.out")"
t_total=$(( $(ms) - s ))

mkdir "$W/empty"
s=$(ms)
rsync -a "$A/" "$W/empty/"
t_rsync=$(( $(ms) - s ))

# Like with like: the recovered A holds what A held.
# (its own feed goes on from A's last head with the witness of B's feed the sync wrote)
git --git-dir="$R/git" merge-base --is-ancestor "$HEAD" "refs/feeds/$HA" ||
    die "the recovered A's feed does not hold A's last head"
[ "$(key_hex "$R")" = "$HA" ] || die "the recovered key is not A's"
n=0
while read -r f; do
	cmp -s "$A/$f" "$R/$f" || die "the recovered A lacks or differs in $f"
	n=$((n + 1))
done < <(cd "$A" && find blobs -type f)
[ "$n" -eq "$NBLOBS" ] || die "compared $n blobs, not $NBLOBS"
[ "$(find "$R/blobs" -type f | wc -l)" -eq "$NBLOBS" ] || die "the recovered A holds other blobs"
grep -q "^archive verified: .*, $NBLOBS blobs$" "$W/verify.out" ||
    die "custody verify did not check the $NBLOBS blobs: $(cat "$W/verify.out")"
cat "$W/verify.out"
echo "recovered A: its feed goes on from A's head, all $n blobs byte-identical, custody verify clean"

printf '%-44s %8s s\n' "custodyd recover (keys, archive, peer)" "$(secs "$t_recover")" \
    "  + daemon started" "$(secs "$t_start")" \
    "  + custody sync B (feeds and blobs)" "$(secs "$t_sync")" \
    "  + custody verify (clean)" "$(secs "$t_total")" \
    "rsync -a of A's archive directory" "$(secs "$t_rsync")"
echo "ratio recovered-and-verified/rsync: $(awk -v a="$t_total" -v b="$t_rsync" 'BEGIN { printf "%.2f", a / b }')"
echo "ratio recover+sync (no verify)/rsync: $(awk -v a="$t_sync" -v b="$t_rsync" 'BEGIN { printf "%.2f", a / b }')"
