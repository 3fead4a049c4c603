#!/usr/bin/env bash
# custodyd blobs migrate against a real one-node Ceph cluster (tests/ceph/cluster.sh;
# CUSTODY_CEPH_DIR names a running one to reuse). A target other than rados or local is refused.
# An archive holding evidence on local disk (200 small files, a few of some MiB, one over the
# RADOS store's write size) cannot be migrated while custodyd runs on it. `migrate --to rados`
# killed with SIGKILL halfway leaves some objects in the pool and some still under blobs/, and
# custodyd refuses to start, saying the migration is unfinished; run again, the migration
# completes: nothing is left under blobs/ nor any temporary in the pool, custody.conf says
# [blobs] store = rados with every other line as it was; custodyd starts on the pool, `custody
# get` gives every file back byte-identical and `custody verify` passes. `--to local` moves
# everything back, and get and verify pass again. A byte flipped in a local object: the
# migration refuses that object by name, keeps it as it was (not in the pool), exits non-zero
# and leaves the migration unfinished.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rados-lib.sh"

need_ceph
ceph_up
STORE=$BUILD/custody-rados-store

# in_pool: how many blobs (final names) the pool holds.
in_pool() {
	radosc ls | grep -c '^[0-9a-f]\{64\}$' || true
}
# on_disk: how many blobs the archive's blobs/ holds.
on_disk() {
	find "$A/blobs" -type f | wc -l
}
# blobs_store: the value of store in custody.conf's [blobs] section.
blobs_store() {
	sed -n '/^\[blobs\]/,/^\[/s/^store = //p' "$A/custody.conf"
}
# flip FILE OFFSET: invert the byte at OFFSET.
flip() {
	python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); b = f.read(1)
f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xff]))' "$1" "$2"
}

A=$T/archive IN=$T/in OUT=$T/out
mkdir -p "$IN" "$OUT"
init_archive "$A" migrating
cat >>"$A/custody.conf" <<EOF

# Where the evidence blobs live; custodyd blobs migrate sets store.
[blobs]
pool = custody
ceph_conf = $CEPH/ceph.conf
client = client.custody
timeout = 10
EOF
cp "$A/custody.conf" "$T/conf.before"

python3 - "$IN" <<'PY'
import os, sys
d = sys.argv[1]
for i in range(200):
    open(os.path.join(d, "small-%03d" % i), "wb").write(os.urandom(100 + 53 * i))
for i in range(4):
    open(os.path.join(d, "mib-%d" % i), "wb").write(os.urandom((3 << 20) + 1000 * i))
open(os.path.join(d, "large"), "wb").write(os.urandom(20 << 20))
PY
start_daemon "$A"
cu "$A" ingest "$IN"/* >"$T/ingest.out"
check "205 files ingested" test "$(wc -l <"$T/ingest.out")" -eq 205
N=$(on_disk)
check "205 blobs under blobs/ ($N)" test "$N" -eq 205

# --- usage ---------------------------------------------------------------------------------
rc=0
out=$("$CUSTODYD" blobs migrate "$A" --to s3 2>&1) || rc=$?
check "--to s3 is refused (exit $rc)" test "$rc" -ne 0
contains "naming the stores there are" "$out" "local or rados"
rc=0
"$CUSTODYD" blobs migrate "$A" >/dev/null 2>&1 || rc=$?
check "no --to is a usage error (exit $rc)" test "$rc" -eq 2

# --- refused while custodyd runs on the archive -------------------------------------------
rc=0
out=$("$CUSTODYD" blobs migrate "$A" --to rados 2>&1) || rc=$?
check "migrate refuses while custodyd runs (exit $rc)" test "$rc" -ne 0
contains "and says so" "$out" "custodyd is running on"
check "nothing moved" test "$(in_pool)" -eq 0
refute "no marker" test -e "$A/blobs-migrating"
check "custodyd stops" stop_daemon "$DAEMON_PID"

# --- killed halfway ----------------------------------------------------------------------
"$CUSTODYD" blobs migrate "$A" --to rados -v >"$T/m1.out" 2>"$T/m1.err" &
mig=$!
for _ in $(seq 1200); do
	[ "$(grep -c '^moved ' "$T/m1.out" || true)" -ge 70 ] && break
	kill -0 "$mig" 2>/dev/null || break
	sleep 0.05
done
kill -9 "$mig" 2>/dev/null || true
wait "$mig" 2>/dev/null || true
moved1=$(grep -c '^moved ' "$T/m1.out" || true)
pool1=$(in_pool) disk1=$(on_disk)
echo "killed after $moved1 objects reported moved: $pool1 in the pool, $disk1 under blobs/"
check "some objects are in the pool" test "$pool1" -gt 0
check "some are still under blobs/" test "$disk1" -gt 0
check "each object is in one place or both" test $((pool1 + disk1)) -ge "$N"
check "the marker names rados" test "$(cat "$A/blobs-migrating" 2>/dev/null)" = rados
check "custody.conf is as it was" cmp -s "$T/conf.before" "$A/custody.conf"
rc=0
"$CUSTODYD" run "$A" >"$T/run.out" 2>&1 || rc=$?
check "custodyd refuses to start meanwhile (exit $rc)" test "$rc" -ne 0
contains "saying why" "$(cat "$T/run.out")" \
    "blobs migration to rados unfinished: run custodyd blobs migrate $A --to rados again"
refute "it made no socket" test -S "$A/custodyd.sock"

# --- resumed -----------------------------------------------------------------------------
rc=0
"$CUSTODYD" blobs migrate "$A" --to rados >"$T/m2.out" 2>"$T/m2.err" || rc=$?
check "the resumed migration exits 0 ($rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || cat "$T/m2.err" >&2
summary=$(grep '^moved .* objects' "$T/m2.out" || true)
echo "$summary"
moved2=$(sed -n 's/^moved \([0-9]*\) objects.*/\1/p' <<<"$summary")
there2=$(sed -n 's/.*; \([0-9]*\) were there already.*/\1/p' <<<"$summary")
check "it handled exactly what was left under blobs/ ($moved2 + $there2 = $disk1)" \
    test "$((moved2 + there2))" -eq "$disk1"
contains "progress says objects and MiB" "$(cat "$T/m2.out")" "objects, "
check "nothing is left under blobs/" test "$(on_disk)" -eq 0
check "the pool holds every blob" test "$(in_pool)" -eq "$N"
check "and no temporary: a sweep of the pool finds none" \
    test "$("$STORE" "$A/custody.conf" sweep 2>/dev/null)" = 0
refute "the marker is gone" test -e "$A/blobs-migrating"
check "custody.conf: [blobs] store = rados" test "$(blobs_store)" = rados
check "and every other line as it was" \
    test "$(diff "$T/conf.before" "$A/custody.conf" | grep '^[<>]')" = "> store = rados"
rc=0
out=$("$CUSTODYD" blobs migrate "$A" --to rados 2>&1) || rc=$?
check "again: nothing to do (exit $rc)" test "$rc" -eq 0
contains "and it says so" "$out" "nothing to migrate"

# get_all: every ingested file back, byte-identical; verify passes.
get_all() {
	local sha path bad=0
	while read -r sha path; do
		cu "$A" get "$sha" -f -o "$OUT/x" >/dev/null 2>>"$T/get.err" && cmp -s "$path" "$OUT/x" ||
		    { bad=$((bad + 1)); echo "  get $path differs or failed" >&2; }
	done <"$T/ingest.out"
	return $bad
}

# --- custodyd on the pool ----------------------------------------------------------------
start_daemon "$A"
check "on rados: every file comes back byte-identical" get_all
rc=0
cu "$A" verify >"$T/verify1" 2>&1 || rc=$?
check "on rados: custody verify passes" test "$rc" -eq 0
check "custodyd stops" stop_daemon "$DAEMON_PID"

# --- and back to local -------------------------------------------------------------------
rc=0
"$CUSTODYD" blobs migrate "$A" --to local >"$T/m3.out" 2>"$T/m3.err" || rc=$?
check "--to local exits 0 ($rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || cat "$T/m3.err" >&2
check "every blob is under blobs/ again" test "$(on_disk)" -eq "$N"
check "the pool holds none" test "$(in_pool)" -eq 0
check "nor any part" test "$(radosc ls | grep -c '^part\.' || true)" -eq 0
check "custody.conf: [blobs] store = local" test "$(blobs_store)" = local
refute "the marker is gone" test -e "$A/blobs-migrating"
start_daemon "$A"
check "on local: every file comes back byte-identical" get_all
rc=0
cu "$A" verify >"$T/verify2" 2>&1 || rc=$?
check "on local: custody verify passes" test "$rc" -eq 0
check "custodyd stops" stop_daemon "$DAEMON_PID"

# --- a tampered local object -------------------------------------------------------------
victim=$(find "$A/blobs" -type f -size +4k | sort | sed -n 7p)	# past the byte flipped
vname=$(basename "$victim")
flip "$victim" 1000
sum=$(sha256sum <"$victim" | cut -c1-64)
rc=0
"$CUSTODYD" blobs migrate "$A" --to rados >"$T/m4.out" 2>"$T/m4.err" || rc=$?
check "a tampered object: the migration exits non-zero ($rc)" test "$rc" -ne 0
contains "and names it" "$(cat "$T/m4.err")" "blob $vname: its bytes at the source hash to $sum"
check "it is kept as it was" test "$(sha256sum <"$victim" | cut -c1-64)" = "$sum"
check "only it is left under blobs/" test "$(on_disk)" -eq 1
refute "it is not in the pool" quiet radosc stat "$vname"
check "the others moved" test "$(in_pool)" -eq $((N - 1))
check "the marker stays" test "$(cat "$A/blobs-migrating" 2>/dev/null)" = rados
check "custody.conf still says local" test "$(blobs_store)" = local
rc=0
"$CUSTODYD" run "$A" >"$T/run2.out" 2>&1 || rc=$?
check "custodyd refuses to start ($rc)" test "$rc" -ne 0
contains "saying why" "$(cat "$T/run2.out")" "blobs migration to rados unfinished"
done_testing
