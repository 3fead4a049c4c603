#!/usr/bin/env bash
# Bundle speed, same machine, same run: SIZE_MB (default 1024) of new evidence carried from A to
# B by `custody bundle create` at A + `custody bundle apply` at B, against
#   tar cf - blobs | age -e -r KEY > F   +   age -d -i ID F | tar x   (+ sync -f, as durable)
# of A's blobs directory (target <= 1.3x), and against `custody sync` of the same blobs between
# two other offices over loopback. Prints wall and CPU seconds (for custody: both daemons' CPU,
# read from /proc, plus the client's) and the ratios.
# Usage: tests/bench/bundle.sh [BUILD_DIR]   (needs age, age-keygen, tar, python3)
set -euo pipefail
BUILD=$(realpath "${1:-build}")
CUSTODYD=$BUILD/custodyd
CUSTODY=$BUILD/custody
SIZE_MB=${SIZE_MB:-1024}
FILES=${FILES:-8}
"$(dirname "$0")/warm-memory.sh"
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/custody-bench.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
for t in age age-keygen tar python3; do
	command -v "$t" >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }
done
ns() { date +%s%N; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# cpu PID...: the CPU seconds (user + system) the processes used so far, in clock ticks
cpu() { local p t=0; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
TCK=$(getconf CLK_TCK)
run() {
	"$CUSTODYD" run "$1" --listen "127.0.0.1:$2" >>"$1.log" 2>&1 &
	PIDS+=($!)
	eval "PID_$3=$!"
	while [ ! -S "$1/custodyd.sock" ]; do sleep 0.05; done
}
# pair NAME: offices $W/NAME-a and $W/NAME-b, B joined by A's invitation, pinned both ways.
pair() {
	local a=$W/$1-a b=$W/$1-b pa pb
	pa=$(port) pb=$(port)
	"$CUSTODYD" init "$a" --office A --no-passphrase >/dev/null
	run "$a" "$pa" "$1_a"
	"$CUSTODYD" init "$b" --office B --no-passphrase --joining >"$b.init" 2>/dev/null
	"$CUSTODY" -A "$a" invite B "$(head -n1 "$b.init")" -o "$b.inv" --address "127.0.0.1:$pa" >/dev/null
	"$CUSTODYD" join "$b" "$b.inv" >/dev/null 2>&1
	run "$b" "$pb" "$1_b"
	"$CUSTODY" -A "$a" peer add B "127.0.0.1:$pb" "$(head -n1 "$b.init")" >/dev/null
}
secs() { awk -v n="$1" 'BEGIN { printf "%.2f", n / 1e9 }'; }
ticks() { awk -v n="$1" -v t="$TCK" 'BEGIN { printf "%.2f", n / t }'; }

echo "== $SIZE_MB MiB of new evidence in $FILES files, A to B ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
pair bun
pair net
mkdir "$W/in"
for i in $(seq 1 "$FILES"); do
	head -c $(((SIZE_MB << 20) / FILES)) /dev/urandom >"$W/in/f$i.bin"
done
"$CUSTODY" -A "$W/bun-a" ingest "$W"/in/*.bin >/dev/null 2>&1
"$CUSTODY" -A "$W/net-a" ingest "$W"/in/*.bin >/dev/null 2>&1
sync

# custody bundle create + apply (the daemons do the work: their CPU counts)
c0=$(cpu "$PID_bun_a" "$PID_bun_b")
s=$(ns)
"$CUSTODY" -A "$W/bun-a" bundle create --for B -o "$W/ab.bundle" >/dev/null
t_create=$(( $(ns) - s ))
s=$(ns)
"$CUSTODY" -A "$W/bun-b" bundle apply "$W/ab.bundle" >"$W/apply.out"
t_apply=$(( $(ns) - s ))
c_bundle=$(( $(cpu "$PID_bun_a" "$PID_bun_b") - c0 ))
grep -q "$FILES blobs" "$W/apply.out" || { cat "$W/apply.out"; echo "the bundle did not carry every file" >&2; exit 1; }
sha=$(sha256sum "$W/in/f1.bin" | cut -c1-64)
cmp <("$CUSTODY" -A "$W/bun-b" get "$sha" -o -) "$W/in/f1.bin" && echo "B's copy is byte-identical"
bsize=$(stat -c %s "$W/ab.bundle")
rm -f "$W/ab.bundle"

# tar | age -e, age -d | tar x, of the same blobs directory (then made durable like an apply)
age-keygen -o "$W/id" 2>/dev/null
KEY=$(age-keygen -y "$W/id")
mkdir "$W/untar"
TIMEFORMAT='%R %U %S'
{ time (tar cf - -C "$W/bun-a" blobs | age -e -r "$KEY" >"$W/t.age"); } 2>"$W/t1"
{ time (age -d -i "$W/id" "$W/t.age" | tar xf - -C "$W/untar"); } 2>"$W/t2"
{ time sync -f "$W/untar"; } 2>"$W/t3"
rm -rf "$W/t.age" "$W/untar"
read -r r1 u1 s1 <"$W/t1"
read -r r2 u2 s2 <"$W/t2"
read -r r3 u3 s3 <"$W/t3"

# custody sync of the same blobs between two other offices
c0=$(cpu "$PID_net_a" "$PID_net_b")
s=$(ns)
"$CUSTODY" -A "$W/net-b" sync A >/dev/null
t_sync=$(( $(ns) - s ))
c_sync=$(( $(cpu "$PID_net_a" "$PID_net_b") - c0 ))

w_bundle=$(awk -v a="$t_create" -v b="$t_apply" 'BEGIN { printf "%.2f", (a + b) / 1e9 }')
w_tar=$(awk -v a="$r1" -v b="$r2" -v c="$r3" 'BEGIN { printf "%.2f", a + b + c }')
cpu_tar=$(awk -v a="$u1" -v b="$s1" -v c="$u2" -v d="$s2" -v e="$u3" -v f="$s3" \
    'BEGIN { printf "%.2f", a + b + c + d + e + f }')
printf '%-44s %8s s wall %8s s CPU\n' \
    "custody bundle create" "$(secs "$t_create")" "" \
    "custody bundle apply" "$(secs "$t_apply")" "" \
    "  create + apply (both daemons' CPU)" "$w_bundle" "$(ticks "$c_bundle")" \
    "tar | age -e" "$r1" "$(awk -v a="$u1" -v b="$s1" 'BEGIN { printf "%.2f", a + b }')" \
    "age -d | tar x" "$r2" "$(awk -v a="$u2" -v b="$s2" 'BEGIN { printf "%.2f", a + b }')" \
    "sync -f (durable)" "$r3" "$(awk -v a="$u3" -v b="$s3" 'BEGIN { printf "%.2f", a + b }')" \
    "  tar+age both ways, durable" "$w_tar" "$cpu_tar" \
    "custody sync (both daemons' CPU)" "$(secs "$t_sync")" "$(ticks "$c_sync")"
echo "bundle file: $bsize bytes for $((SIZE_MB << 20)) bytes of evidence"
echo "ratio bundle/tar+age (wall): $(awk -v a="$w_bundle" -v b="$w_tar" 'BEGIN { printf "%.2f", a / b }')   (target <= 1.3)"
echo "ratio bundle/tar+age (CPU):  $(awk -v a="$(ticks "$c_bundle")" -v b="$cpu_tar" 'BEGIN { printf "%.2f", a / b }')"
echo "ratio bundle/sync (wall):    $(awk -v a="$w_bundle" -v b="$(secs "$t_sync")" 'BEGIN { printf "%.2f", a / b }')"
