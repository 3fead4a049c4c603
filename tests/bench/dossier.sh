#!/usr/bin/env bash
# Dossier speed against its peer, same machine, same data, same run: custody extract of
# NFILES evidence files (SIZE_MB in all, default 1024) against `tar cf - DIR | age -e -r KEY`
# of the same files. Both write to the same disk; the custody figure includes its fsync, so
# the pipeline is timed with and without a sync. Also: daemon peak RSS, and verify-dossier.
# Usage: tests/bench/dossier.sh [BUILD_DIR]   (needs age, tar)
set -euo pipefail
BUILD=${1:-build}
CUSTODYD=$(realpath "$BUILD/custodyd")
CUSTODY=$(realpath "$BUILD/custody")
SIZE_MB=${SIZE_MB:-1024}
NFILES=${NFILES:-8}
for t in age age-keygen tar; do
	command -v $t >/dev/null || { echo "missing $t (apt-get install age tar)"; exit 1; }
done

"$(dirname "$0")/warm-memory.sh"
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/custody-bench.XXXXXX")
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT

secs() {
	local s e
	s=$(date +%s.%N)
	"$@" >/dev/null 2>&1
	e=$(date +%s.%N)
	awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

"$CUSTODYD" init "$W/arch" --office bench --no-passphrase >/dev/null
"$CUSTODYD" run "$W/arch" >"$W/arch.log" 2>&1 &
PID=$!
while [ ! -S "$W/arch/custodyd.sock" ]; do sleep 0.05; done
C() { "$CUSTODY" -A "$W/arch" "$@"; }

echo "== $NFILES files, ${SIZE_MB} MiB of evidence"
mkdir "$W/files"
per=$(( (SIZE_MB << 20) / NFILES ))
for i in $(seq 1 "$NFILES"); do
	head -c "$per" /dev/urandom >"$W/files/evidence-$i.bin"
done
C incident add --id bench-1 --date 2024-12-05 --governorate aleppo >/dev/null 2>&1
C ingest --incident bench-1 "$W"/files/* >/dev/null
age-keygen -o "$W/age.key" 2>/dev/null
KEY=$(age-keygen -y "$W/age.key")
C recipient add bench "$KEY" >/dev/null 2>&1
cat "$W"/files/* >/dev/null

sync
t_custody=$(secs "$CUSTODY" -A "$W/arch" extract --recipient bench --incident bench-1 -o "$W/d.age")
rss=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
size=$(stat -c %s "$W/d.age")
t_verify=$(secs "$CUSTODY" verify-dossier "$W/d.age" -i "$W/age.key")
rm -f "$W/d.age"
sync
t_pipe=$(secs sh -c "tar cf - -C '$W' files | age -e -r '$KEY' -o '$W/p.age'")
rm -f "$W/p.age"
sync
t_pipesync=$(secs sh -c "tar cf - -C '$W' files | age -e -r '$KEY' -o '$W/p.age' && sync")
rm -f "$W/p.age"
printf '%-40s %8.2f s  (%s MiB)\n' "custody extract" "$t_custody" $((size >> 20))
printf '%-40s %8.2f s\n' "tar cf - | age -e" "$t_pipe" "tar cf - | age -e && sync" "$t_pipesync" \
    "custody verify-dossier" "$t_verify"
echo "ratio custody/tar|age:       $(ratio "$t_custody" "$t_pipe")   (target <= 1.3)"
echo "ratio custody/tar|age+sync:  $(ratio "$t_custody" "$t_pipesync")   (the same durability)"
echo "custodyd peak RSS:           $((rss / 1024)) MiB"
