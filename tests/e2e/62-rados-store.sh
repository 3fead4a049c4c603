#!/usr/bin/env bash
# The RADOS blob store (daemon/engine/blobstore-rados.c) against a real one-node Ceph cluster
# (tests/ceph/cluster.sh; CUSTODY_CEPH_DIR names a running one to reuse). A blob larger than
# Ceph's object and write limits goes in and comes back byte-identical, whole and from an
# offset; a writer killed with SIGKILL halfway through a blob leaves nothing under the blob's
# name, only temporaries that the sweep finds and removes; a byte flipped in a stored object is
# caught when the blob is read back and hashed; with the OSD stopped a write fails within the
# timeout with a clear error, and the same store object works again once the OSD is back.
. "$(dirname "$0")/lib.sh"

STORE=${BUILD:?set BUILD to the build directory}/custody-rados-store
CLUSTER=$(cd "$(dirname "$0")/../ceph" && pwd)/cluster.sh
for cmd in ceph-mon ceph-osd ceph rados; do
	command -v "$cmd" >/dev/null || { echo "SKIP: $cmd missing (ceph-mon ceph-osd ceph-common)"; exit 77; }
done
[ -x "$STORE" ] || { echo "SKIP: $STORE not built"; exit 77; }
rc=0
"$STORE" /dev/null health >/dev/null 2>&1 || rc=$?
[ $rc -ne 77 ] || { echo "SKIP: custody was built without librados (librados-dev)"; exit 77; }

CEPH=${CUSTODY_CEPH_DIR:-}
if [ -z "$CEPH" ]; then
	CEPH=$T/ceph
	trap '"$CLUSTER" stop "$CEPH" || true; cleanup' EXIT
	"$CLUSTER" start "$CEPH"
fi
cat >"$T/store.conf" <<EOF
[blobs]
store = rados
pool = custody
ceph_conf = $CEPH/ceph.conf
client = client.custody
timeout = 10
EOF
st() {
	"$STORE" "$T/store.conf" "$@" 2>>"$T/store.err"
}
st health >"$T/health" || true
check "the store answers" grep -qx ok "$T/health"
radosc() {
	timeout 60 rados -c "$CEPH/ceph.conf" -n client.custody -p custody "$@"
}

# A round trip of 300 MiB: five parts of 64 MiB, each written in 8 MiB pieces.
head -c 300M /dev/urandom >"$T/big"
name=$(st put "$T/big")
check "put of 300 MiB gives the SHA-256 of its bytes" test "$name" = "$(sha256sum <"$T/big" | cut -c1-64)"
check "it is in several part objects" test "$(radosc ls | grep -c '^part\.')" -ge 3
check "stat says its size" test "$(st stat "$name")" = $((300 << 20))
check "get of it hashes to its name" st get "$name" "$T/back"
check "and is byte-identical" cmp -s "$T/big" "$T/back"
check "get from an offset" st get "$name" "$T/tail" 123456789
check "gives the rest, byte-identical" cmp -s "$T/tail" <(tail -c +123456790 "$T/big")
check "list names it" grep -qx "$name" <(st ls)

# A small blob is one object, written whole.
head -c 100000 /dev/urandom >"$T/small"
small=$(st put "$T/small")
check "a small blob is one object under its name" test "$(radosc stat "$small" | grep -o 'size [0-9]*')" = "size 100000"

# SIGKILL halfway through a 300 MiB blob: nothing under its name, the sweep removes the parts.
head -c 300M /dev/urandom >"$T/big2"
name2=$(sha256sum <"$T/big2" | cut -c1-64)
before=$(radosc ls | grep -c '^part\.' || true)
"$STORE" "$T/store.conf" put "$T/big2" 150000000 >"$T/paused" 2>>"$T/store.err" &
writer=$!
for _ in $(seq 300); do
	grep -q paused "$T/paused" && break
	sleep 0.2
done
check "the writer paused halfway" grep -q paused "$T/paused"
sleep 1	# its writes in flight land
kill -9 "$writer"
wait "$writer" 2>/dev/null || true
refute "nothing under the killed blob's name" radosc stat "$name2" 2>/dev/null
refute "the store does not know it" st stat "$name2"
refute "list does not name it" grep -qx "$name2" <(st ls)
left=$(radosc ls | grep -c '^part\.' || true)
check "the killed writer left temporaries ($left parts, $before before)" test "$left" -gt "$before"
removed=$(st sweep)
check "the sweep removes exactly them ($removed)" test "$removed" -eq $((left - before))
check "and leaves the committed blob's parts" test "$(radosc ls | grep -c '^part\.')" -eq "$before"
check "the committed blob still reads back" st get "$name" "$T/back"
check "a second sweep finds nothing" test "$(st sweep)" -eq 0

# flip FILE OFFSET: invert the byte at OFFSET (writing a fixed byte would change nothing when
# the byte already had that value).
flip() {
	python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); b = f.read(1)
f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xff]))' "$1" "$2"
}
# A byte flipped in a part object, then in a small blob's object, written with `rados put`.
part=$(radosc ls | grep '^part\.' | sort | sed -n 3p)
radosc get "$part" "$T/part"
flip "$T/part" 4242
radosc put "$part" "$T/part"
refute "a flipped byte in $part is caught" st get "$name" "$T/back"
contains "and named" "$(tail -n 3 "$T/store.err")" "blob $name: its bytes hash to"
radosc get "$small" "$T/obj"
flip "$T/obj" 77
radosc put "$small" "$T/obj"
refute "a flipped byte in a small blob's object is caught" st get "$small" "$T/back"
truncate -s 1000 "$T/part"
radosc put "$part" "$T/part"
refute "a truncated part is caught" st get "$name" "$T/back"
contains "as short" "$(tail -n 3 "$T/store.err")" "is short"
check "remove drops a blob" st rm "$name"
check "and its five parts" test "$(radosc ls | grep -c '^part\.' || true)" -eq $((before - 5))

# The OSD stopped under a live store: a write fails in time, clearly; then it works again.
out=$(st outage "$CLUSTER" "$CEPH")
echo "$out"
contains "a put with the OSD down fails" "$out" "down_put failed"
contains "saying ceph is unreachable" "$out" "ceph unreachable: pool custody"
secs=$(echo "$out" | sed -n 's/^down_put failed seconds \([0-9]*\).*/\1/p')
check "within the timeout (${secs} s)" test "${secs:-99}" -le 15
contains "health says why" "$out" "down_health failed"
hsecs=$(echo "$out" | sed -n 's/^down_health failed seconds \([0-9]*\).*/\1/p')
check "health answers within seconds, not the op timeout (${hsecs} s)" test "${hsecs:-99}" -le 4
contains "health is back with the OSD" "$out" "up_health ok"
contains "a missing name is told apart" "$out" "up_stat_absent notfound"
check "the store object wrote and read again after the outage" test "$(echo "$out" | grep -c '^[0-9a-f]\{64\}$')" -eq 2
done_testing
