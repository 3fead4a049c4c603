#!/usr/bin/env bash
# Ingest speed against peers, same machine, same data, same run:
#  1. one large random file (SIZE_MB, default 1024): custody ingest against age -e (and against
#     age -e && sync FILE, taking turns REPS times, default 3), sha256sum,
#     borg create --compression none, restic backup, git add && git commit; daemon peak RSS;
#  2. NFILES (default 10000) files of 4-64 KiB in one custody ingest against restic backup, of
#     random bytes and again beginning as photos, documents, videos and recordings do.
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

# start: a daemon on a new archive, $ARCH. Nothing is removed before the end of the run: ext4
# skips the inodes freed in the last minutes when it allocates new ones, one look each, so
# removing the last part's 10,000 files would slow the next part's file creations (not its
# peers', which make few files).
NARCH=0
start() {
	NARCH=$((NARCH + 1))
	ARCH=$W/arch$NARCH
	"$CUSTODYD" init "$ARCH" --office bench --no-passphrase >/dev/null
	"$CUSTODYD" run "$ARCH" >"$ARCH.log" 2>&1 &
	PID=$!
	while [ ! -S "$ARCH/custodyd.sock" ]; do sleep 0.05; done
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

# custody acknowledges only once its bytes are on disk; age never syncs: time that too (the
# peer the target names, with the same durability). How long a sync of a gigabyte takes moves
# with the disk from minute to minute, so custody and `age -e && sync FILE` take turns, REPS
# times each, and the medians are compared.
REPS=${REPS:-3}
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
runs_custody=() runs_agesync=() cpus=()
for ((r = 0; r < REPS; r++)); do
	start
	sync
	c0=$(cpu_of "$PID")
	runs_custody+=("$(secs "$CUSTODY" -A "$ARCH" ingest "$W/big.bin")")
	cpus+=("$(awk -v a="$c0" -v b="$(cpu_of "$PID")" 'BEGIN { printf "%.2f", b - a }')")
	rss=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
	stop
	rm -f "$W/big.age"
	sync
	runs_agesync+=("$(secs sh -c "age -e -r '$AGEKEY' -o '$W/big.age' '$W/big.bin' &&
	    sync '$W/big.age'")")
done
t_custody=$(median "${runs_custody[@]}")
t_agesync=$(median "${runs_agesync[@]}")
c_custody=$(median "${cpus[@]}")
rm -f "$W/big.age"
sync
t_age=$(secs age -e -r "$AGEKEY" -o "$W/big.age" "$W/big.bin")
c_age=$(lastcpu)
echo "custody ingest, each run:     ${runs_custody[*]} s"
echo "age -e && sync FILE, each run: ${runs_agesync[*]} s"
t_sha=$(secs sha256sum "$W/big.bin")
t_borg=$(secs borg create --compression none "$W/borg::one" "$W/one")
t_restic=$(secs restic -r "$W/restic" backup "$W/one")
t_git=$(secs sh -c "cd '$W/git' && git add big.bin && git commit -qm one")
rm -f "$W/big.age"
printf '%-34s %8.2f s\n' "custody ingest (median)" "$t_custody" "age -e" "$t_age" \
    "age -e && sync FILE (median)" "$t_agesync" "sha256sum" "$t_sha" \
    "borg create --compression none" "$t_borg" "restic backup" "$t_restic" "git add && git commit" "$t_git"
echo "ratio custody/age-e:      $(ratio "$t_custody" "$t_age")   (age never syncs)"
echo "ratio custody/age-e+sync: $(ratio "$t_custody" "$t_agesync")   (target <= 1.0: the same durability)"
echo "ratio custody/sha256sum:  $(ratio "$t_custody" "$t_sha")"
echo "ratio custody/borg:       $(ratio "$t_custody" "$t_borg")"
echo "ratio custody/restic:     $(ratio "$t_custody" "$t_restic")"
echo "ratio custody/git:        $(ratio "$t_custody" "$t_git")"
echo "CPU: custodyd $c_custody s (median), age -e $c_age s"
echo "custodyd peak RSS:        $((rss / 1024)) MiB   (target <= 64)"
rm -rf "$W/git" "$W/borg" "$W/one"

fi

if [[ " $PARTS " == *" many "* ]]; then
# many KIND: NFILES files of 4-64 KiB of random bytes (KIND random: libmagic's worst case, its
# whole database tried on every file) or beginning as evidence does (KIND media: the headers of
# JPEG and PNG photos, PDF documents, MP4 videos and WAV recordings, then random bytes), in one
# custody ingest against restic backup of the same files into a new repository.
many() {
echo "== $NFILES files of 4-64 KiB, $1"
M=$W/many-$1 R=$W/restic-$1
mkdir "$M"
python3 - "$M" "$NFILES" "$1" <<'PY'
import os, random, struct, sys
d, n, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = random.Random(7)
heads = [b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00",
         b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x04\x00\x00\x00\x03\x00\x08\x02"
         b"\x00\x00\x00",
         b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
         b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41",
         b"RIFF\x24\x00\x01\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00"
         b"\x00\x7d\x00\x00\x02\x00\x10\x00data\x00\x00\x01\x00"]
for i in range(n):
    sub = os.path.join(d, "d%02d" % (i % 50))
    os.makedirs(sub, exist_ok=True)
    size = r.randint(4096, 65536)
    head = heads[i % len(heads)] if kind == "media" else b""
    with open(os.path.join(sub, "f%05d.bin" % i), "wb") as f:
        f.write(head + os.urandom(size - len(head)))
PY
restic init -q -r "$R" >/dev/null
start
c0=$(cpu_of "$PID")
t_custody=$(secs "$CUSTODY" -A "$ARCH" ingest "$M")
c_custody=$(awk -v a="$c0" -v b="$(cpu_of "$PID")" 'BEGIN { printf "%.2f", b - a }')
rss=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
n=$("$CUSTODY" -A "$ARCH" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["evidence"])')
# the media types libmagic gave the first five files (one of each kind of header)
types=$(for f in "$M"/d0[0-4]/f0000[0-4].bin; do
	"$CUSTODY" -A "$ARCH" show "$(sha256sum "$f" | cut -d' ' -f1)" 2>/dev/null |
	    python3 -c 'import json, sys; print(json.load(sys.stdin).get("media_type", "?"))'
done | tr '\n' ' ')
stop
t_restic=$(secs restic -r "$R" backup "$M")
c_restic=$(lastcpu)
# what one new file per evidence file costs on this disk, nothing else done: a copy of the tree
t_cp=$(secs sh -c "cp -r '$M' '$M-copy' && sync")
printf '%-34s %8.2f s  (%s evidence; custodyd CPU %s s)\n' "custody ingest" "$t_custody" "$n" \
    "$c_custody"
echo "media types:              $types"
printf '%-34s %8.2f s  (CPU %s s)\n' "restic backup" "$t_restic" "$c_restic"
printf '%-34s %8.2f s  (CPU %s s)\n' "cp -r && sync (a file per file)" "$t_cp" "$(lastcpu)"
echo "ratio custody/restic:     $(ratio "$t_custody" "$t_restic")   (target <= 0.5)"
echo "CPU ratio custodyd/restic: $(ratio "$c_custody" "$c_restic")"
echo "ratio custody/cp -r:      $(ratio "$t_custody" "$t_cp")"
echo "custodyd peak RSS:        $((rss / 1024)) MiB   (target <= 128)"
echo "load average at the end:  $(cut -d' ' -f1-3 /proc/loadavg)"
}
many random
many media
fi
