#!/usr/bin/env bash
# Ingesting a directory tree and lists of paths, as one batch.
#
# `custody ingest DIR` walks DIR recursively (nested directories, names with spaces and
# non-ASCII letters, an empty file) and records each regular file under DIRNAME/RELATIVE/PATH;
# a symbolic link inside the tree is not followed and a FIFO is skipped, each with a warning,
# and the summary counts them. The batch is one commit in the feed and one custody event that
# names every file (`custody audit` shows them); every file comes back byte-identical from
# `custody get`, under its relative name in `custody show`, with the media type libmagic finds
# in its content (MP4, M4A, PNG, PDF, JPEG, BMP, Matroska), whatever its file name says. A
# file twice in the tree is one piece of evidence and one duplicate. --files-from takes a
# newline-separated list and, with -0, a NUL-separated one from standard input (a name with a
# newline in it). A path that does not exist, or a FIFO named as a path, refuses the whole
# batch before anything is sent: no commit, no evidence. A name a hostile client sends with
# '..', '.', empty components and a terminal escape is recorded as a plain relative path. A
# batch whose names pass 1 MiB gets its custody event in numbered parts, naming every file.
. "$(dirname "$0")/lib.sh"

A=$T/archive
W=$T/work		# the tree and lists live here; the client runs from here
mkdir -p "$W"

# records FILE: "NAME<TAB>SHA<TAB>MEDIA<TAB>DUP" per file of an ingest --json output.
records() {
	python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
for f in j["files"]:
    print("%s\t%s\t%s\t%s" % (f["name"], f["sha256"], f["media_type"], f["duplicate"]))
' "$1"
}

# commits: the number of commits in this office's feed.
commits() {
	cu "$A" --json status | python3 -c 'import json, sys; print(json.load(sys.stdin)["commits"])'
}

# evidence: the number of evidence files.
evidence() {
	cu "$A" --json status | python3 -c 'import json, sys; print(json.load(sys.stdin)["evidence"])'
}

# ingest_events: the ingest custody events, one line each: the names of their files.
ingest_events() {
	cu "$A" --json audit | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    if e.get("action") == "ingest":
        print("|".join(f["name"] for f in e["files"]))
'
}

# --- the tree ------------------------------------------------------------------------------
mkdir -p "$W/scans/box1/sub dir" "$W/scans/ملف عربي" "$W/scans/Ωmega ü" "$W/scans/empty-dir" \
    "$W/scans/box2"
python3 - "$W/scans" <<'PY'
import os, struct, sys, zlib
d = sys.argv[1]
def put(rel, data):
    with open(os.path.join(d, rel), "wb") as f:
        f.write(data)
def box(t, payload):
    return struct.pack(">I", 8 + len(payload)) + t + payload
def chunk(t, data):
    return struct.pack(">I", len(data)) + t + data + struct.pack(">I", zlib.crc32(t + data))
def ebml(i, data):
    return i + bytes([0x80 | len(data)]) + data
mvhd = box(b"mvhd", bytes(4) + struct.pack(">IIII", 0, 0, 1000, 0) + struct.pack(">IH", 0x10000, 0x100)
           + bytes(10) + struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000) + bytes(24)
           + struct.pack(">I", 2))
# every name says .bin or nothing: the media type must come from the bytes
put("Ωmega ü/clip one.bin", box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41")
    + box(b"moov", mvhd) + box(b"mdat", os.urandom(3000)))
put("Ωmega ü/voice", box(b"ftyp", b"M4A " + struct.pack(">I", 0) + b"M4A mp42isom") + box(b"mdat", b""))
put("ملف عربي/صورة.bin", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))
put("box1/sub dir/page 2.bin", b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
put("box1/photo", b"\xff\xd8\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + os.urandom(2000) + b"\xff\xd9")
pix = b"\x00\x00\xff\x00"
put("box1/scan", b"BM" + struct.pack("<IHHI", 54 + len(pix), 0, 0, 54)
    + struct.pack("<IiiHHIIiiII", 40, 1, 1, 1, 24, 0, len(pix), 2835, 2835, 0, 0) + pix)
head = (ebml(b"\x42\x86", b"\x01") + ebml(b"\x42\xf7", b"\x01") + ebml(b"\x42\xf2", b"\x04")
        + ebml(b"\x42\xf3", b"\x08") + ebml(b"\x42\x82", b"matroska") + ebml(b"\x42\x87", b"\x04")
        + ebml(b"\x42\x85", b"\x02"))
put("box1/film", b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(head)]) + head)
p001 = os.urandom(70000)
put("box1/p001.tif", p001)
put("box2/copy of p001.tif", p001)		# the same bytes again
put("empty.txt", b"")
PY
ln -s box1/p001.tif "$W/scans/link-to-p001"
ln -s box1 "$W/scans/link-to-box1"
ln -s /etc/passwd "$W/scans/link-outside"
mkfifo "$W/scans/a fifo"
cp -a "$W/scans" "$W/pristine"	# for the comparisons, away from the tree

REGULAR=(
	"box1/film" "box1/p001.tif" "box1/photo" "box1/scan" "box1/sub dir/page 2.bin"
	"box2/copy of p001.tif" "empty.txt" "ملف عربي/صورة.bin" "Ωmega ü/clip one.bin" "Ωmega ü/voice"
)
declare -A MEDIA=(
	["Ωmega ü/clip one.bin"]=video/mp4 ["Ωmega ü/voice"]=audio/x-m4a
	["ملف عربي/صورة.bin"]=image/png ["box1/sub dir/page 2.bin"]=application/pdf
	["box1/photo"]=image/jpeg ["box1/scan"]=image/bmp ["box1/film"]=video/x-matroska
)

init_archive "$A" Tree-Office
start_daemon "$A"
C0=$(commits)

# --- refused before anything is sent -------------------------------------------------------
rc=0
msg=$(cd "$W" && cu "$A" ingest scans "$W/no such file" 2>&1) || rc=$?
check "a path that does not exist fails the ingest" [ "$rc" -ne 0 ]
contains "it names the path and why" "$msg" "no such file: No such file or directory"
contains "and says nothing was sent" "$msg" "nothing was sent"
rc=0
msg=$(cd "$W" && cu "$A" ingest scans/empty.txt "scans/a fifo" 2>&1) || rc=$?
check "a FIFO named as a path fails the ingest" [ "$rc" -ne 0 ]
contains "it says what the FIFO is" "$msg" "a FIFO, not a regular file or a directory"
rc=0
msg=$(cd "$W" && cu "$A" ingest scans/empty-dir 2>&1) || rc=$?
check "a tree without a file fails the ingest" [ "$rc" -ne 0 ]
contains "saying there is nothing to ingest" "$msg" "nothing to ingest"
check "nothing was committed by the refused ingests" [ "$(commits)" = "$C0" ]
check "and no evidence recorded" [ "$(evidence)" = 0 ]
check "and no custody event" [ -z "$(ingest_events)" ]

# --- the tree as one batch -----------------------------------------------------------------
rc=0
(cd "$W" && cu "$A" --json ingest scans/ >"$T/tree.json" 2>"$T/tree.err") || rc=$?
check "ingest of the tree exits 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$T/tree.err" >&2
records "$T/tree.json" >"$T/tree.tsv" || fail "ingest --json parses"
check "one commit for the whole tree" [ "$(commits)" = $((C0 + 1)) ]
check "${#REGULAR[@]} files in the batch" [ "$(wc -l <"$T/tree.tsv")" -eq "${#REGULAR[@]}" ]
check "9 pieces of evidence (the copy is a duplicate)" [ "$(evidence)" = 9 ]
err=$(cat "$T/tree.err")
contains "a symbolic link is skipped with a warning" "$err" \
    "scans/link-to-p001: skipped: a symbolic link (not followed)"
contains "a link to a directory too" "$err" "scans/link-to-box1: skipped: a symbolic link"
contains "a FIFO is skipped with a warning" "$err" "scans/a fifo: skipped: a FIFO"
check "the summary counts 10 files, 9 new, 1 duplicate, 4 skipped" python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(not (len(j["files"]) == 10 and j["new"] == 9 and j["duplicates"] == 1 and j["skipped"] == 4))
' "$T/tree.json"
check "nothing of /etc/passwd was taken through the link" \
    [ "$(grep -c "$(sha256sum </etc/passwd | cut -c1-64)" "$T/tree.tsv")" -eq 0 ]

for rel in "${REGULAR[@]}"; do
	want=$(sha256sum <"$W/pristine/$rel" | cut -c1-64)
	line=$(awk -F'\t' -v n="scans/$rel" '$1 == n' "$T/tree.tsv")
	check "scans/$rel is in the batch under its relative name" [ -n "$line" ]
	check "scans/$rel: its sha256" [ "$(cut -f2 <<<"$line")" = "$want" ]
	rm -f "$T/got"
	quiet cu "$A" get "$want" -o "$T/got" || fail "get scans/$rel"
	check "scans/$rel comes back byte-identical" cmp -s "$T/got" "$W/pristine/$rel"
	if [ -n "${MEDIA[$rel]:-}" ]; then
		mt=$(cu "$A" show "$want" | python3 -c 'import json, sys; print(json.load(sys.stdin)["media_type"])')
		check "scans/$rel is recorded as ${MEDIA[$rel]} (got $mt)" [ "$mt" = "${MEDIA[$rel]}" ]
	fi
done
name=$(cu "$A" show "$(sha256sum <"$W/pristine/ملف عربي/صورة.bin" | cut -c1-64)" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["name"])')
check "show gives the non-ASCII relative name ($name)" [ "$name" = "scans/ملف عربي/صورة.bin" ]
check "the copy is marked a duplicate" \
    [ "$(awk -F'\t' '$1 == "scans/box2/copy of p001.tif" { print $4 }' "$T/tree.tsv")" = True ]

mapfile -t evs < <(ingest_events)
check "one custody event for the batch" [ "${#evs[@]}" -eq 1 ]
for rel in "${REGULAR[@]}"; do
	contains "the event names scans/$rel" "|${evs[0]:-}|" "|scans/$rel|"
done
aud=$(cu "$A" audit 2>&1)
check "audit shows the batch's 10 files, one line each" \
    [ "$(grep -c "  ingest  " <<<"$aud")" -eq 10 ]
contains "audit names a nested file" "$aud" "scans/box1/sub dir/page 2.bin"

# --- lists of paths ------------------------------------------------------------------------
mkdir -p "$W/list/a b" "$W/list2"
printf 'first\n' >"$W/list/one.txt"
printf 'second\n' >"$W/list/a b/two.txt"
printf 'third\n' >"$W/list2/plain.txt"
printf 'fourth\n' >"$W/list2/line
break.txt"
(cd "$W" && find list -type f | sort >"$T/names.txt")
C1=$(commits)	# the gets above were custody events, each a commit
rc=0
(cd "$W" && cu "$A" --json ingest --files-from "$T/names.txt" >"$T/list.json" 2>"$T/list.err") || rc=$?
check "--files-from a newline list exits 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$T/list.err" >&2
records "$T/list.json" | cut -f1 | sort >"$T/list.names"
check "its files are named as listed" \
    [ "$(tr '\n' '|' <"$T/list.names")" = "list/a b/two.txt|list/one.txt|" ]
check "one more commit" [ "$(commits)" = $((C1 + 1)) ]

rc=0
(cd "$W" && find list2 -type f -print0 | cu "$A" --json ingest -0 --files-from - \
    >"$T/nul.json" 2>"$T/nul.err") || rc=$?
check "-0 --files-from - (a NUL list on stdin) exits 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$T/nul.err" >&2
records "$T/nul.json" | cut -f2 | sort >"$T/nul.shas"
{ sha256sum <"$W/list2/plain.txt"; sha256sum <"$W/list2/line
break.txt"; } | cut -c1-64 | sort >"$T/nul.want"
check "both files of the NUL list, the one with a newline in its name too" \
    cmp -s "$T/nul.shas" "$T/nul.want"
name=$(cu "$A" show "$(sha256sum <"$W/list2/line
break.txt" | cut -c1-64)" | python3 -c 'import json, sys; print(json.load(sys.stdin)["name"])')
check "a newline in a name is not recorded ($name)" [ "$name" = "list2/linebreak.txt" ]
check "one more commit" [ "$(commits)" = $((C1 + 2)) ]
check "three ingest events in all, one per batch" [ "$(ingest_events | wc -l)" -eq 3 ]

# --- a name from a hostile client ----------------------------------------------------------
printf 'climbing\n' >"$T/climb.txt"
out=$(python3 "$(dirname "$0")/rawclient.py" "$A/custodyd.sock" ingest-climbing-name \
    "$T/climb.txt" 2>&1) || true
contains "a client's name with '..', '.', '//' and an escape is committed" "$out" "reply 106"
name=$(cu "$A" show "$(sha256sum <"$T/climb.txt" | cut -c1-64)" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["name"])')
check "it is recorded as a plain relative path ($name)" [ "$name" = "etc/cron.d/job[31m" ]

# --- a batch whose names pass what one event holds -----------------------------------------
out=$(RAWCLIENT_TIMEOUT=120 python3 "$(dirname "$0")/rawclient.py" "$A/custodyd.sock" \
    ingest-long-names "$T/climb.txt" 2>&1) || true
contains "300 files with names of 4000 bytes are committed" "$out" "reply 106"
check "their custody event comes in 2 parts (1 of 2, 2 of 2) naming all 300 files in order" \
    python3 -c '
import json, sys
evs = [e for e in json.load(sys.stdin) if any(f["name"].startswith("long/") for f in e.get("files", []))]
evs.sort(key=lambda e: e.get("part", 0))
names = [f["name"] for e in evs for f in e["files"]]
sys.exit(not ([(e.get("part"), e.get("parts")) for e in evs] == [(1, 2), (2, 2)]
              and names == ["long/%04d-" % i + "n" * 3990 for i in range(300)]))
' < <(cu "$A" --json audit)

done_testing
