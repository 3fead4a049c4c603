#!/usr/bin/env bash
# Round trip through a real daemon.
#
# `custodyd init` prints the office's OpenSSH public key line and a fingerprint line equal to
# `ssh-keygen -l` of keys/office.pub, and refuses a non-empty directory. Files (random binary,
# text, PNG, empty, a name with spaces and UTF-8) are ingested: the printed `SHA256  NAME` lines
# equal sha256sum's; `custody get ID -o FILE` and `-o -` give the same bytes back; get refuses to
# overwrite a file; every get that gives plaintext is a custody event (`custody audit` lists it);
# show prints the evidence record; status counts evidence, records and commits (the batch is one
# custody event naming its files, which `custody audit` lists one line each);
# ingesting the same bytes again adds a custody event and a commit but no blob and no evidence;
# log lists every commit with a good signature; every --json output parses and holds the right
# values; the key files are 0600 and the socket 0660.
. "$(dirname "$0")/lib.sh"

A=$T/archive
IN=$T/in
OUT=$T/out
mkdir -p "$IN" "$OUT"

# jfields FILE EXPR...: parse FILE as one JSON document j (failing when it is not valid JSON),
# then print each Python EXPR evaluated on j, one per line (an error prints "<error>").
# One python3 per document: its start-up is slow on a loaded machine.
jfields() {
	python3 - "$@" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for e in sys.argv[2:]:
    try:
        print(eval(e))
    except Exception:
        print("<error>")
PY
}

# jload FILE EXPR...: jfields into the array J; JOK=1 when FILE was valid JSON.
jload() {
	local out
	J=()
	JOK=0
	if out=$(jfields "$@" 2>/dev/null); then
		JOK=1
		mapfile -t J <<<"$out"
	fi
}

# --- init --------------------------------------------------------------------------------
rc=0
"$CUSTODYD" init "$A" --office Roundtrip-Office --no-passphrase >"$T/init.out" 2>"$T/init.err" || rc=$?
check "init exits 0" [ "$rc" -eq 0 ]
check "init prints two lines" [ "$(wc -l <"$T/init.out")" -eq 2 ]
check "init line 1 is the OpenSSH public key of keys/office.pub" \
    [ "$(sed -n 1p "$T/init.out")" = "$(cat "$A/keys/office.pub")" ]
contains "public key line is an ssh-ed25519 key named after the office" \
    "$(sed -n 1p "$T/init.out")" "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5"
fp=$(ssh-keygen -l -f "$A/keys/office.pub")
check "init line 2 equals ssh-keygen -l of keys/office.pub" [ "$(sed -n 2p "$T/init.out")" = "$fp" ]
contains "fingerprint line names SHA256, the office and ED25519" "$fp" "SHA256:"
contains "fingerprint line names the office" "$fp" "Roundtrip-Office (ED25519)"

mkdir "$T/nonempty"
echo precious >"$T/nonempty/notes"
rc=0
msg=$("$CUSTODYD" init "$T/nonempty" --office Other --no-passphrase 2>&1) || rc=$?
check "init refuses a non-empty directory (exit != 0)" [ "$rc" -ne 0 ]
contains "init says the directory is not empty" "$msg" "not empty"
check "the non-empty directory is untouched" \
    [ "$(ls -A "$T/nonempty")" = "notes" -a "$(cat "$T/nonempty/notes")" = precious ]

# --- key and socket modes ----------------------------------------------------------------
start_daemon "$A"
for f in office.key data.key; do
	check "keys/$f is mode 0600" [ "$(stat -c %a "$A/keys/$f")" = 600 ]
done
check "the socket is a socket of mode 0660" \
    [ -S "$A/custodyd.sock" -a "$(stat -c %a "$A/custodyd.sock")" = 660 ]

# --- ingest ------------------------------------------------------------------------------
# Several 64 KiB chunks of bytes libmagic recognises as nothing. They come from a fixed seed:
# one run in a hundred, fresh random bytes look to libmagic like a fax or a DOS program.
python3 -c 'import random, sys; sys.stdout.buffer.write(b"\0" + random.Random(10).randbytes(300000))' \
    >"$IN/random.bin"
printf 'Witness account, page 1.\nThe checkpoint was closed at 06:00.\n' >"$IN/notes.txt"
: >"$IN/empty"
{ printf '\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR'; head -c 1000 /dev/urandom; } >"$IN/photo.png"	# a PNG begins with its IHDR chunk
UNAME="witness statement – Ωmega ü 1.txt"
printf 'statement in a file with spaces and UTF-8 in its name\n' >"$IN/$UNAME"
files=("$IN/random.bin" "$IN/notes.txt" "$IN/empty" "$IN/photo.png" "$IN/$UNAME")

rc=0
cu "$A" ingest "${files[@]}" >"$T/ingest.out" 2>"$T/ingest.err" || rc=$?
check "ingest exits 0" [ "$rc" -eq 0 ]
sha256sum "${files[@]}" >"$T/sha256sum.out"
check "ingest prints exactly sha256sum's lines" cmp -s "$T/ingest.out" "$T/sha256sum.out"
contains "ingest reports the commit on stderr" "$(cat "$T/ingest.err")" "committed 5 files as seq 1"
blobs_after_first=$(find "$A/blobs" -type f | wc -l)
check "5 distinct files make 5 blob files" [ "$blobs_after_first" -eq 5 ]

# --- get ---------------------------------------------------------------------------------
i=0
for f in "${files[@]}"; do
	sha=$(sha256sum "$f" | cut -c1-64)
	rc=0
	cu "$A" get "$sha" -o "$OUT/$i" >"$T/get.out" 2>&1 || rc=$?
	check "get $(basename "$f") exits 0" [ "$rc" -eq 0 ]
	check "get $(basename "$f") is byte-identical" cmp -s "$f" "$OUT/$i"
	rc=0
	cu "$A" get "$sha" -o - >"$OUT/$i.stdout" 2>"$T/get.err" || rc=$?
	check "get $(basename "$f") -o - exits 0" [ "$rc" -eq 0 ]
	check "get $(basename "$f") -o - is byte-identical" cmp -s "$f" "$OUT/$i.stdout"
	i=$((i + 1))
done
check "get leaves no partial files beside the output" \
    [ -z "$(find "$OUT" -name '*.partial-*')" ]
SHA_RANDOM=$(sha256sum "$IN/random.bin" | cut -c1-64)
SHA_UNAME=$(sha256sum "$IN/$UNAME" | cut -c1-64)
SHA_EMPTY=$(sha256sum "$IN/empty" | cut -c1-64)
check "the empty file's id is the SHA-256 of nothing" \
    [ "$SHA_EMPTY" = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ]
echo "keep me" >"$OUT/exists"
rc=0
msg=$(cu "$A" get "$SHA_RANDOM" -o "$OUT/exists" 2>&1) || rc=$?
check "get refuses to overwrite an existing file" [ "$rc" -ne 0 ]
contains "get says the file exists" "$msg" "already exists"
check "the existing file is unchanged" [ "$(cat "$OUT/exists")" = "keep me" ]
rc=0
cu "$A" get "$SHA_RANDOM" -f -o "$OUT/exists" >/dev/null 2>&1 || rc=$?
check "get -f exits 0" [ "$rc" -eq 0 ]
check "get -f replaces the file with the evidence" cmp -s "$IN/random.bin" "$OUT/exists"
rc=0
msg=$(cu "$A" get 0000000000000000000000000000000000000000000000000000000000000000 \
    -o "$OUT/none" 2>&1) || rc=$?
check "get of an unknown id fails" [ "$rc" -ne 0 ]
check "get of an unknown id leaves no file" [ ! -e "$OUT/none" ]
check "get of an unknown id leaves no partial file" [ -z "$(find "$OUT" -name 'none*')" ]

# --- show --------------------------------------------------------------------------------
rc=0
cu "$A" show "$SHA_UNAME" >"$T/show.json" 2>&1 || rc=$?
check "show exits 0" [ "$rc" -eq 0 ]
jload "$T/show.json" 'j["kind"]' 'j["sha256"]' 'j["size"]' 'j["media_type"]' 'j["name"]' '"key" in j'
check "show prints valid JSON" [ "$JOK" = 1 ]
check "show: kind is evidence" [ "${J[0]}" = evidence ]
check "show: sha256" [ "${J[1]}" = "$SHA_UNAME" ]
check "show: size" [ "${J[2]}" = "$(stat -c %s "$IN/$UNAME")" ]
check "show: media_type text/plain" [ "${J[3]}" = text/plain ]
check "show: name is the UTF-8 base name" [ "${J[4]}" = "$UNAME" ]
check "show: the wrapped file key is not shown" [ "${J[5]}" = False ]
cu "$A" show "$(sha256sum "$IN/photo.png" | cut -c1-64)" >"$T/show-png.json" 2>&1 || true
jload "$T/show-png.json" 'j["media_type"]'
check "show: a PNG is image/png" [ "${J[0]}" = image/png ]
cu "$A" show "$SHA_RANDOM" >"$T/show-rnd.json" 2>&1 || true
jload "$T/show-rnd.json" 'j["media_type"]' 'j["size"]'
check "show: random bytes are application/octet-stream" [ "${J[0]}" = application/octet-stream ]
check "show: size of the random file" [ "${J[1]}" = 300001 ]

# --- custody events of the gets ---------------------------------------------------------------
# gets: the feed's commits summarised "get evidence" in custody log (each one custody event, signed)
gets() {
	cu "$A" log | grep -c ' get evidence$' || true
}
G=$(gets)
check "each of the 11 gets that gave plaintext is a custody event ($G)" [ "$G" -eq 11 ]
contains "audit lists them, with who" "$(cu "$A" audit "$SHA_RANDOM" 2>&1)" "get      $(id -un)@"
aud=$(cu "$A" audit 2>&1)
check "audit names each of the batch's 5 files in its one ingest event" \
    [ "$(grep -c "  ingest   $(id -un)@" <<<"$aud")" -eq 5 ]
contains "audit: the file with a UTF-8 name" "$aud" "$UNAME"
check "audit of one file shows only that file of the batch" \
    [ "$(cu "$A" audit "$SHA_RANDOM" 2>&1 | grep -c '  ingest  ')" -eq 1 ]

# --- status ------------------------------------------------------------------------------
cu "$A" status >"$T/status.txt" 2>&1 || true
st=$(cat "$T/status.txt")
contains "status: evidence 5" "$st" "evidence     5"
contains "status: records $((6 + G)) (5 evidence, the batch's custody event, the gets')" "$st" \
    "records      $((6 + G))"
contains "status: commits $((1 + G))" "$st" "commits      $((1 + G))"
contains "status: the office" "$st" "Roundtrip-Office"
contains "status: the fingerprint" "$st" "$(echo "$fp" | cut -d' ' -f2)"

# --- the same bytes again ----------------------------------------------------------------
cp "$IN/random.bin" "$IN/random-copy.bin"
rc=0
cu "$A" --json ingest "$IN/random-copy.bin" >"$T/ingest2.json" 2>"$T/ingest2.err" || rc=$?
check "second ingest of the same bytes exits 0" [ "$rc" -eq 0 ]
jload "$T/ingest2.json" 'j["files"][0]["sha256"]' 'j["files"][0]["duplicate"]' 'j["seq"]' \
    'j["files"][0]["size"]' 'j["files"][0]["name"]' 'len(j["files"])'
check "ingest --json is valid JSON" [ "$JOK" = 1 ]
check "ingest --json: the same sha256" [ "${J[0]}" = "$SHA_RANDOM" ]
check "ingest --json: marked duplicate" [ "${J[1]}" = True ]
check "ingest --json: seq $((2 + G))" [ "${J[2]}" = $((2 + G)) ]
check "ingest --json: size" [ "${J[3]}" = 300001 ]
check "ingest --json: name" [ "${J[4]}" = random-copy.bin ]
check "ingest --json: one file" [ "${J[5]}" = 1 ]
check "no second blob for the same bytes" [ "$(find "$A/blobs" -type f | wc -l)" -eq "$blobs_after_first" ]
cu "$A" --json status >"$T/status.json" 2>&1 || true
jload "$T/status.json" 'j["evidence"]' 'j["records"]' 'j["commits"]' 'j["office"]' 'j["public_key"]'
check "status --json is valid JSON" [ "$JOK" = 1 ]
check "status --json: evidence still 5" [ "${J[0]}" = 5 ]
check "status --json: one more record (the custody event)" [ "${J[1]}" = $((7 + G)) ]
check "status --json: commits $((2 + G))" [ "${J[2]}" = $((2 + G)) ]
check "status --json: office" [ "${J[3]}" = Roundtrip-Office ]
check "status --json: public key" [ "${J[4]}" = "$(cat "$A/keys/office.pub")" ]
cu "$A" show "$SHA_RANDOM" >"$T/show-rnd2.json" 2>&1 || true
jload "$T/show-rnd2.json" 'j["name"]'
check "the evidence keeps its first name" [ "${J[0]}" = random.bin ]

# --- log ---------------------------------------------------------------------------------
cu "$A" log >"$T/log.txt" 2>&1 || true
check "log: a header and $((2 + G)) commits" [ "$(wc -l <"$T/log.txt")" -eq $((3 + G)) ]
check "log: every commit has a good signature" [ "$(grep -c ' good ' "$T/log.txt")" -eq $((2 + G)) ]
contains "log: the first commit's summary" "$(cat "$T/log.txt")" "ingest 5 files (5 new)"
contains "log: the second commit's summary" "$(cat "$T/log.txt")" "ingest 1 file (0 new)"
HEX=$(git --git-dir="$A/git" for-each-ref --format='%(refname:lstrip=2)' refs/feeds | sed -n 1p)
head_commit=$(git --git-dir="$A/git" rev-parse "refs/feeds/$HEX")
cu "$A" --json log >"$T/log.json" 2>&1 || true
jload "$T/log.json" 'len(j["entries"])' '[e["seq"] for e in j["entries"]]' \
    'all(e["signature"] == "good" for e in j["entries"])' 'j["entries"][0]["commit"]'
check "log --json is valid JSON" [ "$JOK" = 1 ]
check "log --json: $((2 + G)) entries" [ "${J[0]}" = $((2 + G)) ]
check "log --json: newest first, seqs $((2 + G)) down to 1" \
    [ "${J[1]}" = "$(python3 -c "print(list(range($((2 + G)), 0, -1)))")" ]
check "log --json: every signature good" [ "${J[2]}" = True ]
check "log --json: the newest entry is the feed head" [ "${J[3]}" = "$head_commit" ]

# --- the other --json outputs ------------------------------------------------------------
cu "$A" --json get "$SHA_EMPTY" -o "$OUT/empty.json-get" >"$T/get.json" 2>&1 || true
jload "$T/get.json" 'j["sha256"]' 'j["size"]'
check "get --json is valid JSON" [ "$JOK" = 1 ]
check "get --json: sha256 and size" [ "${J[0]} ${J[1]}" = "$SHA_EMPTY 0" ]
check "get --json: the empty file came back empty" [ -f "$OUT/empty.json-get" -a ! -s "$OUT/empty.json-get" ]
cu "$A" --json keys show >"$T/keys.json" 2>&1 || true
jload "$T/keys.json" 'j["fingerprint"]' 'j["public_key"]'
check "keys show --json is valid JSON" [ "$JOK" = 1 ]
check "keys show --json: the fingerprint of ssh-keygen" [ "${J[0]}" = "$(echo "$fp" | cut -d' ' -f2)" ]
check "keys show --json: the public key of keys/office.pub" [ "${J[1]}" = "$(cat "$A/keys/office.pub")" ]
cu "$A" --json verify >"$T/verify.json" 2>&1 || true
jload "$T/verify.json" '(j["ok"], j["commits"], j["records"], j["blobs"], j["problems"])'
check "verify --json is valid JSON" [ "$JOK" = 1 ]
G=$(gets)
check "verify --json: ok, $((2 + G)) commits, $((7 + G)) records, 5 blobs" \
    [ "${J[0]}" = "(True, $((2 + G)), $((7 + G)), 5, [])" ]

stop_daemon "$DAEMON_PID" && rc=0 || rc=$?
check "the daemon stops with exit 0" [ "$rc" -eq 0 ]
done_testing
