#!/usr/bin/env bash
# Ingest speed against peers, same machine, same data, same run:
#  1. one large random file (SIZE_MB, default 1024): custody ingest against age -e, sha256sum,
#     borg create --compression none, restic backup, git add && git commit; daemon peak RSS;
#  2. NFILES (default 10000) files of 4-64 KiB in one custody ingest against restic backup.
# Each part prints CPU seconds beside wall times: on a shared machine wall times move with the
# load much more. PARTS="big many" (default) chooses the parts.
# Usage: tests/bench/ingest.sh [BUILD_DIR]   (needs age, borgbackup, restic, git, python3)
set -euo pipefail
BUILD=${1:-build}
CUSTODYD=$(realpath "$BUILD/custodyd")
CUSTODY=$(realpath "$BUILD/custody")
SIZE_MB=${SIZE_MB:-1024}
NFILES=${NFILES:-10000}
PARTS=${PARTS:-big many}
for t in age age-keygen borg restic git python3; do
	command -v $t >/dev/null || { echo "missing $t (apt-get install age borgbackup restic git python3)"; exit 1; }
done

"$(dirname "$0")/warm-memory.sh"
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/custody-bench.XXXXXX")
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT

# secs COMMAND...: wall seconds of a command; lastcpu then gives its CPU seconds (user + system,
# its children included), which move much less than wall times with a shared machine's load.
secs() {
	/usr/bin/time -f '%e %U %S' -o "$W/time" "$@" >/dev/null 2>&1
	awk '{ printf "%.2f", $1 }' "$W/time"
}
lastcpu() { awk '{ printf "%.2f", $2 + $3 }' "$W/time"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# cpu_of PID: CPU seconds the process has used so far.
cpu_of() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }

start() {
	rm -rf "$W/arch" "$W/arch.log"
	"$CUSTODYD" init "$W/arch" --office bench --no-passphrase >/dev/null
	"$CUSTODYD" run "$W/arch" >"$W/arch.log" 2>&1 &
	PID=$!
	while [ ! -S "$W/arch/custodyd.sock" ]; do sleep 0.05; done
}
stop() { kill "$PID"; wait "$PID" || true; PID=; }

export BORG_PASSPHRASE=bench RESTIC_PASSWORD=bench BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
if [[ " $PARTS " == *" big "* ]]; then
echo "== one ${SIZE_MB} MiB random file"
head -c $((SIZE_MB << 20)) /dev/urandom >"$W/big.bin"
cat "$W/big.bin" >/dev/null
age-keygen -o "$W/age.key" 2>/dev/null
AGEKEY=$(age-keygen -y "$W/age.key")
borg init -e repokey-blake2 "$W/borg"
restic init -q -r "$W/restic" >/dev/null
git init -q "$W/git" && cp "$W/big.bin" "$W/git/big.bin"
mkdir "$W/one" && ln "$W/big.bin" "$W/one/big.bin"

start
sync
c0=$(cpu_of "$PID")
t_custody=$(secs "$CUSTODY" -A "$W/arch" ingest "$W/big.bin")
c_custody=$(awk -v a="$c0" -v b="$(cpu_of "$PID")" 'BEGIN { printf "%.2f", b - a }')
rss=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
stop
t_age=$(secs age -e -r "$AGEKEY" -o "$W/big.age" "$W/big.bin")
c_age=$(lastcpu)
rm -f "$W/big.age"
sync
# custody acknowledges only once its bytes are on disk; age never syncs: time that too
t_agesync=$(secs sh -c "age -e -r '$AGEKEY' -o '$W/big.age' '$W/big.bin' && sync")
t_sha=$(secs sha256sum "$W/big.bin")
t_borg=$(secs borg create --compression none "$W/borg::one" "$W/one")
t_restic=$(secs restic -r "$W/restic" backup "$W/one")
t_git=$(secs sh -c "cd '$W/git' && git add big.bin && git commit -qm one")
rm -f "$W/big.age"
printf '%-34s %8.2f s\n' "custody ingest" "$t_custody" "age -e" "$t_age" \
    "age -e && sync" "$t_agesync" "sha256sum" "$t_sha" \
    "borg create --compression none" "$t_borg" "restic backup" "$t_restic" "git add && git commit" "$t_git"
echo "ratio custody/age-e:      $(ratio "$t_custody" "$t_age")   (target <= 1.0)"
echo "ratio custody/age-e+sync: $(ratio "$t_custody" "$t_agesync")   (the same durability)"
echo "ratio custody/sha256sum:  $(ratio "$t_custody" "$t_sha")"
echo "ratio custody/borg:       $(ratio "$t_custody" "$t_borg")"
echo "ratio custody/restic:     $(ratio "$t_custody" "$t_restic")"
echo "ratio custody/git:        $(ratio "$t_custody" "$t_git")"
echo "CPU: custodyd $c_custody s, age -e $c_age s"
echo "custodyd peak RSS:        $((rss / 1024)) MiB   (target <= 64)"
rm -rf "$W/git" "$W/borg" "$W/one"

fi

if [[ " $PARTS " == *" many "* ]]; then
echo "== $NFILES files of 4-64 KiB"
mkdir "$W/many"
python3 - "$W/many" "$NFILES" <<'PY'
import os, random, sys
d, n = sys.argv[1], int(sys.argv[2])
r = random.Random(7)
for i in range(n):
    sub = os.path.join(d, "d%02d" % (i % 50))
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, "f%05d.bin" % i), "wb") as f:
        f.write(os.urandom(r.randint(4096, 65536)))
PY
[ -d "$W/restic" ] || restic init -q -r "$W/restic" >/dev/null
start
c0=$(cpu_of "$PID")
t_custody=$(secs "$CUSTODY" -A "$W/arch" ingest "$W/many")
c_custody=$(awk -v a="$c0" -v b="$(cpu_of "$PID")" 'BEGIN { printf "%.2f", b - a }')
rss=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
n=$("$CUSTODY" -A "$W/arch" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["evidence"])')
stop
t_restic=$(secs restic -r "$W/restic" backup "$W/many")
c_restic=$(lastcpu)
printf '%-34s %8.2f s  (%s evidence; custodyd CPU %s s)\n' "custody ingest" "$t_custody" "$n" \
    "$c_custody"
printf '%-34s %8.2f s  (CPU %s s)\n' "restic backup" "$t_restic" "$c_restic"
echo "ratio custody/restic:     $(ratio "$t_custody" "$t_restic")   (target <= 0.5)"
echo "CPU ratio custodyd/restic: $(ratio "$c_custody" "$c_restic")"
echo "custodyd peak RSS:        $((rss / 1024)) MiB   (target <= 128)"
echo "load average at the end:  $(cut -d' ' -f1-3 /proc/loadavg)"
fi
