#!/usr/bin/env bash
# Sync between an office whose blobs live in a RADOS pool and one on its local disk, real
# daemons on loopback, against a real one-node Ceph cluster (tests/ceph/cluster.sh;
# CUSTODY_CEPH_DIR names a running one to reuse).
#
# A (rados) founds and listens; B (local) joins. Each ingests files (A one larger than a RADOS
# part, served to B in ranges across its parts); one `custody sync` from B moves both ways.
# Every file comes back byte-identical from the other office's `custody get`, and the stored
# (encrypted) bytes are the same on both sides: `rados get` of the object against B's file
# under blobs/. A keeps nothing under its own blobs/. Both archives verify. Then a bundle
# written by A (blobs read from the pool) is applied by a third office C on local disk.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rados-lib.sh"

need_ceph
ceph_up

# rados_bytes NAME FILE: the stored bytes of blob NAME with the stock rados tool: its object,
# or for a blob in parts (xattr custody.parts = "1 ID SIZE PARTSIZE NPARTS") its parts in order.
rados_bytes() {
	local m id n i
	radosc get "$1" "$2" || return 1
	m=$(radosc getxattr "$1" custody.parts 2>/dev/null) || return 0
	read -r _ id _ _ n <<<"$m"
	: >"$2"
	for ((i = 0; i < n; i++)); do
		radosc get "$(printf 'part.%s.%05d' "$id" "$i")" "$T/part" || return 1
		cat "$T/part" >>"$2"
	done
}
# blob_of DIR SHA: the blob name of an evidence record as DIR's daemon shows it.
blob_of() {
	cu "$1" show "$2" 2>/dev/null | sed -n 's/^ *"blob": "\([0-9a-f]*\)".*/\1/p'
}

A=$T/a B=$T/b C=$T/c IN=$T/in OUT=$T/out
mkdir -p "$IN" "$OUT"
PA=$(free_port) PB=$(free_port)
rados_archive "$A" alpha
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
join_office "$B" bravo "$A" "$PA"
start_daemon "$B" --listen "127.0.0.1:$PB"
DB=$DAEMON_PID
check "A pins B" quiet cu "$A" peer add bravo "127.0.0.1:$PB" "$(head -n1 "$B.init")"

head -c 70000000 /dev/urandom >"$IN/a-video.mp4"	# over a 64 MiB part
head -c 300000 /dev/urandom >"$IN/a-photo.jpg"
head -c 5000000 /dev/urandom >"$IN/b-video.mp4"
printf 'seen at the bridge\n' >"$IN/b-note.txt"
check "A ingests" quiet cu "$A" ingest "$IN/a-video.mp4" "$IN/a-photo.jpg"
check "B ingests" quiet cu "$B" ingest "$IN/b-video.mp4" "$IN/b-note.txt"
out=$(cu "$B" sync alpha 2>&1) || fail "B syncs with A: $out"

for f in a-video.mp4 a-photo.jpg b-video.mp4 b-note.txt; do
	sha=$(sha256sum <"$IN/$f" | cut -c1-64)
	for o in "$A" "$B"; do
		rm -f "$OUT/$f"
		check "$f: $(basename "$o") gets it" quiet cu "$o" get "$sha" -o "$OUT/$f"
		check "$f: byte-identical from $(basename "$o")" cmp -s "$IN/$f" "$OUT/$f"
	done
	b=$(blob_of "$A" "$sha")
	check "$f: both offices name the same blob" test -n "$b" -a "$b" = "$(blob_of "$B" "$sha")"
	rm -f "$T/raw"
	check "$f: rados get of its object(s)" rados_bytes "$b" "$T/raw"
	check "$f: the stored bytes are the same in the pool and at B" \
	    cmp -s "$T/raw" "$B/blobs/${b:0:2}/$b"
done
check "A keeps nothing under its own blobs/" test -z "$(find "$A/blobs" -type f)"
check "nor in tmp/" test -z "$(find "$A/tmp" -type f)"
out=$(cu "$A" verify 2>&1) || fail "A verifies: $out"
out=$(cu "$B" verify 2>&1) || fail "B verifies: $out"

# A bundle from the office on RADOS, applied by one on local disk.
"$CUSTODYD" init "$C" --office charlie --joining --no-passphrase >"$C.init" 2>"$C.init.err"
quiet cu "$A" invite charlie "$(head -n1 "$C.init")" -o "$C.inv" --address "127.0.0.1:$PA"
quiet "$CUSTODYD" join "$C" "$C.inv"
start_daemon "$C"
DC=$DAEMON_PID
out=$(cu "$A" bundle create --for charlie -o "$T/ac.bundle" 2>&1) || fail "A writes a bundle: $out"
out=$(cu "$C" bundle apply "$T/ac.bundle" 2>&1) || fail "C applies A's bundle: $out"
for f in a-video.mp4 a-photo.jpg b-video.mp4 b-note.txt; do
	sha=$(sha256sum <"$IN/$f" | cut -c1-64)
	rm -f "$OUT/$f"
	check "$f: C gets it from the bundle" quiet cu "$C" get "$sha" -o "$OUT/$f"
	check "$f: byte-identical at C" cmp -s "$IN/$f" "$OUT/$f"
done
out=$(cu "$C" verify 2>&1) || fail "C verifies: $out"
for d in "$DA" "$DB" "$DC"; do
	check "a daemon stops" stop_daemon "$d"
done
done_testing
