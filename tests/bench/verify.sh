#!/usr/bin/env bash
# Verify and reindex at scale: import N victims (default 250,000; the rows of import.sh), stop
# the daemon, start it again (so that its peak RSS is verify's alone), run `custody verify`, then
# stop it and run `custodyd reindex`. Prints wall times and peak RSS (VmHWM) of the daemon during
# verify and of the reindex process, with the mapped-file part of the verify daemon's RSS.
# CPU seconds (user + system) are printed too: on a shared machine, steadier than wall time.
# Usage: N=1000000 tests/bench/verify.sh [BUILD_DIR]
set -euo pipefail
BUILD=${1:-build}
CUSTODYD=$(realpath "$BUILD/custodyd")
CUSTODY=$(realpath "$BUILD/custody")
N=${N:-250000}
"$(dirname "$0")/warm-memory.sh"
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/custody-bench.XXXXXX")
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.2f", e - s }'; }
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
mib() { awk -v k="$1" 'BEGIN { printf "%d", k / 1024 }'; }
start() {
	"$CUSTODYD" run "$W/arch" >>"$W/arch.log" 2>&1 &
	PID=$!
	until "$CUSTODY" -A "$W/arch" status >/dev/null 2>&1; do
		kill -0 "$PID" 2>/dev/null || { echo "custodyd stopped: $(tail -3 "$W/arch.log")"; exit 1; }
		sleep 0.05
	done
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=; }

# the same rows as tests/bench/import.sh
python3 "$(dirname "$0")/victims.py" "$W/victims.csv" "$N"
"$CUSTODYD" init "$W/arch" --office bench --no-passphrase >/dev/null
start
s=$(now)
"$CUSTODY" -A "$W/arch" import victims "$W/victims.csv" >/dev/null
t_import=$(since "$s")
# small commits after the import, as an office's feed would have: two new victims, an edit
for i in 1 2; do "$CUSTODY" -A "$W/arch" victim add --name "Later $i" --sex female \
    --date-documented 2024-02-0$i >/dev/null 2>&1; done
"$CUSTODY" -A "$W/arch" victim edit V0000001 --notes "corrected" >/dev/null 2>&1
stop

echo "== verify and reindex over $N victims ($(du -sh "$W/arch/git" | cut -f1) of git)"
start
s=$(now)
"$CUSTODY" -A "$W/arch" verify >"$W/verify.out" 2>&1 || { echo "verify failed:"; cat "$W/verify.out"; exit 1; }
t_verify=$(since "$s")
rss_verify=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
file_verify=$(awk '/RssFile/ {print $2}' /proc/$PID/status)
cpu_verify=$(cpu "$PID")
stop
s=$(now)
/usr/bin/time -f '%M %U %S' -o "$W/reindex.rss" "$CUSTODYD" reindex "$W/arch" >/dev/null 2>&1
t_reindex=$(since "$s")
rss_reindex=$(tail -1 "$W/reindex.rss" | cut -d' ' -f1)
cpu_reindex=$(tail -1 "$W/reindex.rss" | awk '{ printf "%.2f", $2 + $3 }')
start
"$CUSTODY" -A "$W/arch" verify >"$W/verify2.out" 2>&1 || { echo "verify after reindex failed:"; cat "$W/verify2.out"; exit 1; }
stop

printf '%-36s %8.2f s\n' "custody import victims" "$t_import"
printf '%-36s %8.2f s   daemon CPU %s s, peak RSS %d MiB (mapped files at the end %d MiB)\n' \
    "custody verify (daemon restarted)" "$t_verify" "$cpu_verify" "$(mib "$rss_verify")" \
    "$(mib "$file_verify")"
printf '%-36s %8.2f s   CPU %s s, peak RSS %d MiB\n' "custodyd reindex" "$t_reindex" \
    "$cpu_reindex" "$(mib "$rss_reindex")"
tail -2 "$W/verify.out" | sed 's/^/verify: /'
