#!/usr/bin/env bash
# Stored evidence sizes do not confirm a known file.
#
# Office A ingests files of many sizes (empty, one byte, around the 64 KiB chunk, 3 MiB, and a
# file ending in 0x80 and zeros, like the padding): every file under blobs/ has a Padmé length
# (at most 12% above the unpadded stream), `get` gives every file back byte-identical, `show`
# states its true size and `verify` is clean. Office B syncs A: the blobs it stores are the same
# bytes, its `get` is byte-identical and its `verify` is clean.
. "$(dirname "$0")/lib.sh"

A=$T/a B=$T/b IN=$T/in
mkdir -p "$IN"
PA=$(free_port) PB=$(free_port)
init_archive "$A" padded-a
start_daemon "$A" --listen "127.0.0.1:$PA"

SIZES=(0 1 17 1000 65535 65536 65537 200003 3145739)
files=()
for s in "${SIZES[@]}"; do
	head -c "$s" /dev/urandom >"$IN/f$s.bin"
	files+=("$IN/f$s.bin")
done
python3 -c 'import sys; sys.stdout.buffer.write(b"x" * 70000 + b"\x80" + b"\0" * 70000)' >"$IN/looks-padded.bin"
files+=("$IN/looks-padded.bin")
check "ingest of ${#files[@]} files" quiet cu "$A" ingest "${files[@]}"

# padme_ok FILE...: each file's size is a Padmé length, at most 12% above its plaintext + 66.
padme_ok() {
	python3 - "$@" <<'PY'
import os, sys
def padme(n):
    if n < 2:
        return n
    e = n.bit_length() - 1
    mask = (1 << (e - e.bit_length())) - 1
    return (n + mask) & ~mask
bad = [f for f in sys.argv[1:] if padme(os.path.getsize(f)) != os.path.getsize(f)]
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
}
mapfile -t blobs < <(find "$A/blobs" -type f)
check "one blob per file (${#blobs[@]})" [ "${#blobs[@]}" -eq "${#files[@]}" ]
check "every blob has a Padmé length" padme_ok "${blobs[@]}"
total_in=$(cat "${files[@]}" | wc -c)
total_blob=$(cat "${blobs[@]}" | wc -c)
check "the blobs are at most 12% larger than the files, with the chunk overhead" \
    [ $((total_blob * 100)) -le $(((total_in + ${#files[@]} * 120) * 112)) ]

# gets_back DIR: every file comes back from DIR byte-identical, show gives its true size.
gets_back() {
	local f sha bad=0
	for f in "${files[@]}"; do
		sha=$(sha256sum <"$f" | cut -d' ' -f1)
		rm -f "$T/back"
		if ! cu "$1" get "$sha" -o "$T/back" >/dev/null 2>&1 || ! cmp -s "$f" "$T/back"; then
			echo "get $f from $1 differs" >&2
			bad=1
		fi
		if ! cu "$1" show "$sha" | grep -q "\"size\": $(stat -c %s "$f")\b"; then
			echo "show $f at $1: not its true size" >&2
			bad=1
		fi
	done
	return $bad
}
check "A: get gives every file back byte-identical, show its true size" gets_back "$A"
check "A: verify is clean" quiet cu "$A" verify

"$CUSTODYD" init "$B" --office padded-b --joining --no-passphrase >"$B.init" 2>"$B.init.err"
quiet cu "$A" invite padded-b "$(head -n1 "$B.init")" -o "$B.inv" --address "127.0.0.1:$PA"
quiet "$CUSTODYD" join "$B" "$B.inv"
start_daemon "$B" --listen "127.0.0.1:$PB"
quiet cu "$A" peer add padded-b "127.0.0.1:$PB" "$(head -n1 "$B.init")"
check "B syncs A" quiet cu "$B" sync padded-a
same=1
for f in "${blobs[@]}"; do
	cmp -s "$f" "$B/blobs/${f#"$A/blobs/"}" || same=0
done
check "B stores the same blob files" [ "$same" -eq 1 ]
check "B: get gives every file back byte-identical, show its true size" gets_back "$B"
check "B: verify is clean" quiet cu "$B" verify

done_testing
