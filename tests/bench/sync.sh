#!/usr/bin/env bash
# Sync speed between two offices on loopback, same machine, same run:
#  1. SIZE_MB (default 1024) of new evidence from A to B: `custody sync` against
#     `rsync -a --fsync A/blobs/ EMPTY/`, which is as durable as custody (every file on disk before
#     rsync exits, as a blob is before B acknowledges it): wall seconds, CPU seconds (user + sys of
#     both daemons and the client, against rsync's processes) and both ratios (target <= 1.2x in
#     wall time), REPS times (default 3) on fresh offices, then the median ratios;
#  2. one new record into archives that already share N records (default 100,000): wall time of
#     `custody sync` (target <= 100 ms), next to the same with archives of 10 records, to show
#     that the cost follows what changed, not the size of the archive; a new record at each
#     office, moved both ways by B's one sync (B pulls A's, A pulls B's on the same session);
#  3. a peer's first sync of FIRST_N records (default 1,000,000): wall time and the peak RSS of
#     both daemons (the serving one restarted after the import, so its peak is the sync's own),
#     next to the same at FIRST_N/10, to show whether memory grows with the feed.
# Usage: tests/bench/sync.sh [BUILD_DIR]   (needs rsync, python3, /usr/bin/time); ONLY=N runs
# section N alone.
set -euo pipefail
BUILD=$(realpath "${1:-build}")
CUSTODYD=$BUILD/custodyd
CUSTODY=$BUILD/custody
SIZE_MB=${SIZE_MB:-1024}
N=${N:-100000}
"$(dirname "$0")/warm-memory.sh"
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/custody-bench.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
ms() { echo $(( $(date +%s%N) / 1000000 )); }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
run() {
	"$CUSTODYD" run "$1" --listen "127.0.0.1:$2" >>"$1.log" 2>&1 &
	PIDS+=($!)
	echo "$2" >"$1.port"
	while [ ! -S "$1/custodyd.sock" ]; do sleep 0.05; done
}
# pair NAME: offices $W/NAME-a and $W/NAME-b, B joined by A's invitation, pinned both ways.
pair() {
	local a=$W/$1-a b=$W/$1-b pa pb
	pa=$(port) pb=$(port)
	"$CUSTODYD" init "$a" --office A --no-passphrase >/dev/null
	run "$a" "$pa"
	"$CUSTODYD" init "$b" --office B --no-passphrase --joining >"$b.init" 2>/dev/null
	"$CUSTODY" -A "$a" invite B "$(head -n1 "$b.init")" -o "$b.inv" --address "127.0.0.1:$pa" >/dev/null
	"$CUSTODYD" join "$b" "$b.inv" >/dev/null 2>&1
	run "$b" "$pb"
	"$CUSTODY" -A "$a" peer add B "127.0.0.1:$pb" "$(head -n1 "$b.init")" >/dev/null
}
victims() {
	python3 - "$1" "$2" "$3" <<'PY'
import csv, sys
path, n, start = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "name", "sex", "age", "date_of_death", "date_documented", "governorate", "cause", "party"])
    for i in range(start, start + n):
        w.writerow(["B%07d" % i, "Person %d" % i, "male", 30, "2024-01-%02d" % (1 + i % 28), "2024-02-01", "aleppo", "shelling", "russia"])
PY
}

ONLY=${ONLY:-}
# cpu PID: the user + sys clock ticks of a process, all its threads, so far.
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# big_once R: one measurement on fresh offices; writes "wall_sync cpu_sync wall_rsync cpu_rsync"
# (seconds) to $W/once.
big_once() {
	local a=$W/big$1-a b=$W/big$1-b apid bpid ca cb sum s t_sync t_rsync cu_sync cu_rsync
	pair "big$1"
	apid=${PIDS[-2]} bpid=${PIDS[-1]}
	"$CUSTODY" -A "$a" ingest "$W/big.bin" >/dev/null 2>&1
	sync
	ca=$(cpu "$apid") cb=$(cpu "$bpid")
	s=$(ms)
	/usr/bin/time -f '%U %S' -o "$W/time.sync" "$CUSTODY" -A "$b" sync A >/dev/null
	t_sync=$(( $(ms) - s ))
	cu_sync=$(awk -v a="$(( $(cpu "$apid") - ca + $(cpu "$bpid") - cb ))" -v tck="$(getconf CLK_TCK)" \
	    '{ printf "%.2f", a / tck + $1 + $2 }' "$W/time.sync")
	mkdir "$W/empty"
	s=$(ms)
	/usr/bin/time -f '%U %S' -o "$W/time.rsync" rsync -a --fsync "$a/blobs/" "$W/empty/"
	t_rsync=$(( $(ms) - s ))
	cu_rsync=$(awk '{ printf "%.2f", $1 + $2 }' "$W/time.rsync")
	sum=$(sha256sum "$W/big.bin" | cut -c1-64)
	cmp <("$CUSTODY" -A "$b" get "$sum" -o -) "$W/big.bin" ||
	    { echo "B's copy differs from what A ingested" >&2; exit 1; }
	kill "$apid" "$bpid"
	wait "$apid" "$bpid" 2>/dev/null || true
	rm -rf "$a" "$b" "$W/empty"
	echo "$(awk -v t="$t_sync" 'BEGIN { printf "%.2f", t / 1000 }') $cu_sync" \
	    "$(awk -v t="$t_rsync" 'BEGIN { printf "%.2f", t / 1000 }') $cu_rsync" >"$W/once"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
if [ -z "$ONLY" ] || [ "$ONLY" = 1 ]; then
REPS=${REPS:-3}
echo "== $SIZE_MB MiB of new evidence, A to B, $REPS runs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
head -c $((SIZE_MB << 20)) /dev/urandom >"$W/big.bin"
printf '%-4s %22s %22s %16s\n' run "custody sync wall/cpu" "rsync --fsync wall/cpu" "ratio wall/cpu"
: >"$W/ratios"
for r in $(seq 1 "$REPS"); do
	big_once "$r"
	read -r ws cs wr cr <"$W/once"
	rw=$(awk -v a="$ws" -v b="$wr" 'BEGIN { printf "%.2f", a / b }')
	rc=$(awk -v a="$cs" -v b="$cr" 'BEGIN { printf "%.2f", a / b }')
	echo "$rw $rc" >>"$W/ratios"
	printf '%-4s %10s s %7s s %10s s %7s s %8s %6s\n' "$r" "$ws" "$cs" "$wr" "$cr" "$rw" "$rc"
done
echo "B's copies are byte-identical; median ratio custody/rsync: wall $(cut -d' ' -f1 "$W/ratios" |
    median) (target <= 1.2), cpu $(cut -d' ' -f2 "$W/ratios" | median); load after:" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$W/big.bin"
fi

one_record() {
	local name=$1 shared=$2 best=999999 i s t
	pair "$name"
	victims "$W/$name.csv" "$shared" 0
	"$CUSTODY" -A "$W/$name-a" import victims "$W/$name.csv" >/dev/null
	"$CUSTODY" -A "$W/$name-b" sync A >/dev/null
	"$CUSTODY" -A "$W/$name-b" sync A >/dev/null	# the witness commits of the first sync
	for i in 1 2 3; do
		"$CUSTODY" -A "$W/$name-a" victim add --id "NEW-A$i" --name "New A $i" --date-documented 2024-03-01 >/dev/null 2>&1
		"$CUSTODY" -A "$W/$name-b" victim add --id "NEW-B$i" --name "New B $i" --date-documented 2024-03-01 >/dev/null 2>&1
		s=$(ms); "$CUSTODY" -A "$W/$name-b" sync A >/dev/null; t=$(( $(ms) - s ))
		[ "$t" -lt "$best" ] && best=$t
		# both ways: each office now shows the other's new record
		"$CUSTODY" -A "$W/$name-a" victim show "NEW-B$i" >/dev/null 2>&1 &&
		    "$CUSTODY" -A "$W/$name-b" victim show "NEW-A$i" >/dev/null 2>&1 ||
		    { echo "the new records did not move both ways" >&2; exit 1; }
	done
	echo "$best"
}
if [ -z "$ONLY" ] || [ "$ONLY" = 2 ]; then
echo "== one new record at each office, moved both ways by one sync, best of 3"
t_small=$(one_record small 10)
t_large=$(one_record large "$N")
printf '%-44s %6d ms\n' "custody sync, archives sharing 10 records" "$t_small"
printf '%-44s %6d ms   (target <= 100, both ways)\n' "custody sync, archives sharing $N records" "$t_large"
fi

# first_sync NAME N: B's first sync of N records from A; prints "ms rssA rssB" (MiB).
hwm() { awk '/^VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$1/status"; }
first_sync() {
	local name=$1 n=$2 a=$W/$1-a b=$W/$1-b pa pb apid bpid s t
	pair "$name"
	apid=${PIDS[-2]} bpid=${PIDS[-1]}
	victims "$W/$name.csv" "$n" 0
	"$CUSTODY" -A "$a" import victims "$W/$name.csv" >/dev/null
	rm -f "$W/$name.csv"
	pa=$(cat "$a.port") pb=$(cat "$b.port")
	# no sync on a timer meanwhile: the one measured is alone, and A's feed stays as it is
	sed -i 's/^interval = .*/interval = 0/' "$a/custody.conf" "$b/custody.conf"
	kill "$apid" "$bpid"
	while kill -0 "$apid" 2>/dev/null || kill -0 "$bpid" 2>/dev/null; do sleep 0.05; done
	rm -f "$a/custodyd.sock" "$b/custodyd.sock"
	run "$a" "$pa"
	apid=${PIDS[-1]}
	run "$b" "$pb"
	bpid=${PIDS[-1]}
	s=$(ms); "$CUSTODY" -A "$b" sync A >/dev/null; t=$(( $(ms) - s ))
	git --git-dir="$a/git" for-each-ref --format='%(objectname) %(refname)' refs/feeds |
	    while read -r obj ref; do
		# B's own feed (which A may have pulled meanwhile) moves on with B's witness record
		git --git-dir="$b/git" merge-base --is-ancestor "$obj" "$ref" 2>/dev/null ||
		    { echo "B does not hold $ref as A does after the first sync" >&2; exit 1; }
	    done
	echo "$t $(hwm "$apid") $(hwm "$bpid")"
	kill "$apid" "$bpid"
	wait "$apid" "$bpid" 2>/dev/null || true
	rm -rf "$a" "$b"
}
if [ -z "$ONLY" ] || [ "$ONLY" = 3 ]; then
FIRST_N=${FIRST_N:-1000000}
echo "== a peer's first sync of many records"
for n in $((FIRST_N / 10)) "$FIRST_N"; do
	read -r t ra rb < <(first_sync "first$n" "$n")
	printf '%-44s %8d ms   serving RSS %4d MiB, receiving RSS %4d MiB\n' \
	    "first sync of $n records" "$t" "$ra" "$rb"
done
fi
