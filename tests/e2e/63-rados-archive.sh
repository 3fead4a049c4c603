#!/usr/bin/env bash
# An archive whose blobs live in a RADOS pool ([blobs] store = rados), against a real one-node
# Ceph cluster (tests/ceph/cluster.sh; CUSTODY_CEPH_DIR names a running one to reuse).
#
# A real daemon ingests evidence (one file larger than a RADOS part, so a manifest and parts);
# nothing of it lands under the archive's blobs/ or stays in tmp/, every blob is an object in
# the pool; `custody get` gives every file back byte-identical; `custody verify` passes; an
# extract of the incident is accepted by `custody verify-dossier`. Then a byte flipped in one
# blob's object with the stock `rados` tool makes `custody verify` fail naming that blob (and
# get refuse it), the others still verify. After a restart, the startup sweeps of the pool
# keep every blob and move an object no record names to orphans/ on the office's disk. An
# archive whose cluster does not answer still starts: records and status work, ingest fails
# saying Ceph is unreachable.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rados-lib.sh"

need_ceph
command -v age-keygen >/dev/null || { echo "SKIP: age-keygen missing (age)"; exit 77; }
ceph_up

# blob_of SHA: the blob name of an evidence record.
blob_of() {
	cu "$A" show "$1" 2>/dev/null | sed -n 's/^ *"blob": "\([0-9a-f]*\)".*/\1/p'
}
# flip FILE OFFSET: invert the byte at OFFSET.
flip() {
	python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); b = f.read(1)
f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xff]))' "$1" "$2"
}

A=$T/a IN=$T/in OUT=$T/out
mkdir -p "$IN" "$OUT"
rados_archive "$A" alpha
start_daemon "$A"
DA=$DAEMON_PID
contains "the daemon says which blob store" "$(cat "$A.log")" "rados"

head -c 70000000 /dev/urandom >"$IN/video.mp4"	# over a 64 MiB part: a manifest and parts
head -c 200000 /dev/urandom >"$IN/photo.jpg"
printf 'The checkpoint closed at 06:00.\n' >"$IN/testimony.txt"
quiet cu "$A" incident add --id inc-1 --date 2024-12-05 --governorate aleppo --title "market"
out=$(cu "$A" ingest --incident inc-1 "$IN/video.mp4" "$IN/photo.jpg" "$IN/testimony.txt" 2>&1) ||
    fail "ingest into the RADOS store: $out"
head -c 1000 /dev/urandom >"$IN/scan.pdf"
check "ingest prints sha256sum's line" test "$(cu "$A" ingest "$IN/scan.pdf" 2>/dev/null)" = \
    "$(sha256sum "$IN/scan.pdf")"
check "nothing under the archive's blobs/" test -z "$(find "$A/blobs" -type f)"
check "nothing left in tmp/" test -z "$(ls -A "$A/tmp")"
objects=$(radosc ls)
for f in video.mp4 photo.jpg testimony.txt; do
	sha=$(sha256sum <"$IN/$f" | cut -c1-64)
	b=$(blob_of "$sha")
	check "$f: its record names a blob" test -n "$b"
	check "$f: the blob is an object in the pool" grep -qx "$b" <<<"$objects"
	check "$f: get exits 0" quiet cu "$A" get "$sha" -o "$OUT/$f"
	check "$f: get gives it back byte-identical" cmp -s "$IN/$f" "$OUT/$f"
done
check "the large blob went into part objects" grep -q '^part\.' <<<"$objects"
VIDEO=$(sha256sum <"$IN/video.mp4" | cut -c1-64) PHOTO=$(sha256sum <"$IN/photo.jpg" | cut -c1-64)
BV=$(blob_of "$VIDEO") BP=$(blob_of "$PHOTO")
radosc get "$BP" "$T/bp.raw"
check "the object holds the blob's bytes: they hash to its name" \
    test "$(sha256sum <"$T/bp.raw" | cut -c1-64)" = "$BP"
out=$(cu "$A" verify 2>&1) && rc=0 || rc=$?
check "custody verify passes ($(echo "$out" | tail -n1))" test "$rc" -eq 0
contains "and counts the blobs it read" "$out" "blobs"

# An extract reads the blobs from the pool; the dossier verifies offline.
age-keygen -o "$T/inv.key" 2>/dev/null
check "recipient add" quiet cu "$A" recipient add un-iim "$(age-keygen -y "$T/inv.key")"
out=$(cu "$A" extract --recipient un-iim --incident inc-1 -o "$T/d.age" 2>&1) || fail "extract: $out"
contains "the extract holds the three files" "$out" "3 evidence files"
out=$(env -u CUSTODY_ARCHIVE HOME=$T/nohome "$CUSTODY" verify-dossier "$T/d.age" -i "$T/inv.key" 2>&1) &&
    rc=0 || rc=$?
check "verify-dossier accepts it ($(echo "$out" | tail -n1))" test "$rc" -eq 0

# A byte flipped in the photo's object, behind the daemon's back.
flip "$T/bp.raw" 5000
radosc put "$BP" "$T/bp.raw"
out=$(cu "$A" verify 2>&1) && rc=0 || rc=$?
check "verify fails once a byte of an object is flipped" test "$rc" -eq 1
contains "naming the blob" "$out" "blob $BP"
refute "and not the others" grep -q "blob $BV" <<<"$out"
refute "get refuses the altered evidence" quiet cu "$A" get "$PHOTO" -o "$OUT/photo2"
check "and writes no file" test ! -e "$OUT/photo2"
check "get of the large file still works" quiet cu "$A" get "$VIDEO" -o "$OUT/video2"
check "byte-identical" cmp -s "$IN/video.mp4" "$OUT/video2"

# A restart: the startup sweeps of the pool keep every blob and move an orphan aside.
head -c 5000 /dev/urandom >"$T/orphan"
ORPHAN=$(sha256sum <"$T/orphan" | cut -c1-64)
radosc put "$ORPHAN" "$T/orphan"
check "the daemon stops" stop_daemon "$DA"
start_daemon "$A"
DA=$DAEMON_PID
for _ in $(seq 100); do [ -e "$A/orphans/$ORPHAN" ] && break; sleep 0.1; done
check "an object no record names is moved to orphans/" cmp -s "$T/orphan" "$A/orphans/$ORPHAN"
refute "and is gone from the pool" radosc stat "$ORPHAN" 2>/dev/null
for b in $BV $BP; do
	check "blob ${b:0:12} is still in the pool" quiet radosc stat "$b"
done
check "get after the restart" quiet cu "$A" get "$VIDEO" -o "$OUT/video3"
check "byte-identical" cmp -s "$IN/video.mp4" "$OUT/video3"
check "nothing under blobs/ still" test -z "$(find "$A/blobs" -type f)"
check "the daemon stops again" stop_daemon "$DA"

# A cluster that does not answer: the daemon starts; records work; ingest fails, clearly.
B=$T/b
init_archive "$B" bravo
python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' >"$T/deadport"
sed "s/^mon host = .*/mon host = v2:127.0.0.1:$(cat "$T/deadport")/" "$CEPH/ceph.conf" >"$T/dead.conf"
cat >>"$B/custody.conf" <<EOF

[blobs]
store = rados
pool = custody
ceph_conf = $T/dead.conf
client = client.custody
timeout = 2
EOF
start_daemon "$B"
DB=$DAEMON_PID
contains "the daemon says the blob store is unreachable" "$(cat "$B.log")" "ceph unreachable"
check "records work without the blob store" quiet cu "$B" incident add --id inc-9 --date 2024-12-05 \
    --governorate idlib
check "status answers" quiet cu "$B" status
out=$(cu "$B" ingest "$IN/testimony.txt" 2>&1) && fail "ingest with no cluster succeeded" || true
contains "ingest fails saying Ceph is unreachable" "$out" "ceph unreachable"
check "nothing recorded for it" test "$(cu "$B" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["evidence"])')" = 0
check "the daemon stops" stop_daemon "$DB"
done_testing
