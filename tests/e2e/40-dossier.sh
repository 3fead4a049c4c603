#!/usr/bin/env bash
# Dossiers (proto/DOSSIER.md), end to end with stock tools as the independent verifiers.
#
# Office A records an incident with a victim (notes, a protected source) and two evidence files,
# plus a victim and a file of another incident that must stay out. Office B syncs A and A syncs
# B back, so A holds B's witness records. A registers a recipient and extracts the incident:
# stock `age -d | tar x` opens it, `sha256sum -c manifest-sha256.txt` passes, `ssh-keygen -Y
# verify` accepts the tag-manifest signature, stock `git hash-object` gives every proof object
# its name; the evidence is byte-identical; the notes, the source's name and contact appear
# nowhere in the bag; the extract is a custody event in A's feed. `custody verify-dossier`
# proves every item (with B as witness) from the age file and from the directory, with no
# archive and no daemon. Then each tamper makes it fail and name what failed; a recipient that
# withholds a field the record does not seal gets "attested" items; bad requests fail clearly
# and leave no file behind; nothing protected reaches a daemon's log.
. "$(dirname "$0")/lib.sh"

A=$T/a B=$T/b IN=$T/in
mkdir -p "$IN"
PA=$(free_port) PB=$(free_port)

init_archive "$A" alpha
start_daemon "$A" --listen "127.0.0.1:$PA"
"$CUSTODYD" init "$B" --office bravo --joining --no-passphrase >"$B.init" 2>"$B.init.err"
quiet cu "$A" invite bravo "$(head -n1 "$B.init")" -o "$B.inv" --address "127.0.0.1:$PA"
quiet "$CUSTODYD" join "$B" "$B.inv"
start_daemon "$B" --listen "127.0.0.1:$PB"
check "A pins B" quiet cu "$A" peer add bravo "127.0.0.1:$PB" "$(head -n1 "$B.init")"

# --- A's records and evidence -----------------------------------------------------------------
head -c 3000000 /dev/urandom >"$IN/video.mp4"
printf 'The checkpoint closed at 06:00.\n' >"$IN/testimony 1.txt"
printf 'unrelated\n' >"$IN/other.txt"
quiet cu "$A" incident add --id inc-1 --date 2024-12-05 --governorate aleppo --title "market"
quiet cu "$A" incident add --id inc-2 --date 2024-12-07 --governorate idlib
S=$(cu "$A" source add --name "Samira Haddad" --contact "+963 555 0101" --notes "lives by the mill" 2>/dev/null)
V=$(cu "$A" victim add --name "Omar Khalil" --date-documented 2024-12-06 --age 34 \
    --incident-id inc-1 --source-id "$S" --notes "shrapnel wounds, seen by Dr K" 2>/dev/null)
V2=$(cu "$A" victim add --name "Other Person" --date-documented 2024-12-08 --incident-id inc-2 2>/dev/null)
quiet cu "$A" ingest --incident inc-1 "$IN/video.mp4" "$IN/testimony 1.txt"
quiet cu "$A" ingest --incident inc-2 "$IN/other.txt"
SV=$(sha256sum <"$IN/video.mp4" | cut -d' ' -f1)
ST=$(sha256sum <"$IN/testimony 1.txt" | cut -d' ' -f1)
SO=$(sha256sum <"$IN/other.txt" | cut -d' ' -f1)
check "B syncs A" quiet cu "$B" sync alpha
check "A syncs B (B's witness records)" quiet cu "$A" sync bravo

# --- recipients ---------------------------------------------------------------------------------
age-keygen -o "$T/inv.key" 2>/dev/null
KEY=$(age-keygen -y "$T/inv.key")
check "recipient add" quiet cu "$A" recipient add un-iim "$KEY"
out=$(cu "$A" recipient list 2>&1)
contains "recipient list names it" "$out" "un-iim  $KEY"
contains "and withholds source identities and victim notes by default" "$out" \
    "source.contact, source.name, source.notes, victim.notes"
refute "a bad age key is refused" quiet cu "$A" recipient add bad age1notakey
out=$(cu "$A" recipient add bad "$KEY" --withhold victim.shoe_size 2>&1) && fail "unknown field accepted"
contains "an unknown field is named" "$out" "victim.shoe_size"

# --- extract ------------------------------------------------------------------------------------
seq0=$(git --git-dir="$A/git" rev-list --count "refs/feeds/$(key_hex "$A")")
out=$(cu "$A" extract --recipient un-iim --incident inc-1 -o "$T/d.age" 2>&1) || fail "extract: $out"
contains "extract counts what went in" "$out" "1 incidents, 1 victims, 2 evidence files"
contains "and the source" "$out" "1 sources"
check "the dossier file is there" [ -s "$T/d.age" ]
check "and nothing partial is left" [ -z "$(ls "$T" | grep partial || true)" ]
seq1=$(git --git-dir="$A/git" rev-list --count "refs/feeds/$(key_hex "$A")")
check "the extract is one commit in A's feed" [ "$seq1" -eq $((seq0 + 1)) ]
contains "its summary says so" "$(cu "$A" log --limit 1 2>&1)" "extract a dossier"
aud=$(cu "$A" audit "$V" 2>&1)
contains "custody audit of the victim shows the extract" "$aud" "extract  root@alpha"
contains "naming the recipient" "$aud" "for un-iim"

# --- stock tools -------------------------------------------------------------------------------
mkdir "$T/x"
check "age -d | tar x opens it" sh -c "age -d -i '$T/inv.key' '$T/d.age' | tar x -C '$T/x'"
BAG=$(ls -d "$T"/x/dossier-*)
check "one bag dossier-ID" [ -d "$BAG" -a "$(ls "$T/x" | wc -l)" -eq 1 ]
contains "extract printed the tag manifest's SHA-256 as the dossier hash" "$out" \
    "$(sha256sum <"$BAG/tagmanifest-sha256.txt" | cut -d' ' -f1)"
check "sha256sum -c manifest-sha256.txt" quiet sh -c "cd '$BAG' && sha256sum -c manifest-sha256.txt"
check "sha256sum -c tagmanifest-sha256.txt" quiet sh -c "cd '$BAG' && sha256sum -c tagmanifest-sha256.txt"
check "ssh-keygen -Y verify accepts the tag manifest signature" quiet sh -c "cd '$BAG' && \
    ssh-keygen -Y verify -f allowed_signers -I alpha -n custody-dossier \
    -s tagmanifest-sha256.txt.sig <tagmanifest-sha256.txt"
check "the signer is A's office key" grep -q "$(cut -d' ' -f1-2 "$A/keys/office.pub")" \
    "$BAG/allowed_signers"
bad=0
for f in "$BAG"/custody/objects/*; do
	n=$(basename "$f")
	[ "$(git hash-object -t "${n#*.}" --literally "$f")" = "${n%.*}" ] || bad=$((bad + 1))
done
check "stock git gives every proof object its name" [ "$bad" -eq 0 ]
check "the video is byte-identical" cmp -s "$IN/video.mp4" "$BAG/data/evidence/$SV/video.mp4"
check "the testimony too, under its own name" cmp -s "$IN/testimony 1.txt" "$BAG/data/evidence/$ST/testimony 1.txt"
refute "the other incident's file is not in" [ -e "$BAG/data/evidence/$SO" ]
refute "nor its victim" [ -e "$BAG/data/records/victim/$V2.json" ]
check "the incident, victim and source records are in" [ -f "$BAG/data/records/incident/inc-1.json" -a \
    -f "$BAG/data/records/victim/$V.json" -a -f "$BAG/data/records/source/$S.json" ]
refute "the victim's notes appear nowhere" grep -rqa "shrapnel" "$T/x"
refute "the source's name appears nowhere" grep -rqa "Samira" "$T/x"
refute "nor its contact" grep -rqaF "+963 555" "$T/x"
check "the victim record lists notes as withheld" py '
import json, sys
r = json.load(open(sys.argv[1]))
assert "notes" not in r and r["withheld"] == ["notes"], r
assert r["name"] == "Omar Khalil" and r["age"] == 34, r' "$BAG/data/records/victim/$V.json"
check "bag-info names the office and its fingerprint" sh -c "grep -q '^Source-Organization: alpha' '$BAG/bag-info.txt' && \
    grep -q '^Custody-Office-Fingerprint: SHA256:' '$BAG/bag-info.txt' && grep -q '^Payload-Oxum: ' '$BAG/bag-info.txt'"
check "the victim's chain of custody has B's witness" py '
import json, sys
i = json.load(open(sys.argv[1]))
ev = [e["event"] for e in i["custody"]]
assert ev[0] == "recorded" and ev[-1] == "exported" and "witnessed" in ev, ev
assert len(i["witnesses"]) == 1 and i["witnesses"][0]["office"] == sys.argv[2], i["witnesses"]' \
    "$BAG/custody/items/victim/$V.json" "$(key_hex "$B")"

# --- verify-dossier, offline --------------------------------------------------------------------
out=$(env -u CUSTODY_ARCHIVE HOME=$T/nohome "$CUSTODY" verify-dossier "$T/d.age" -i "$T/inv.key" 2>&1)
rc=$?
check "verify-dossier accepts the age file (no archive, no daemon)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || echo "$out" >&2
contains "it proves the victim" "$out" "proven"
contains "naming B as witness" "$out" "bravo"
contains "and prints the exporter's fingerprint" "$out" "$(grep Fingerprint "$BAG/bag-info.txt" | cut -d' ' -f2)"
check "verify-dossier accepts the directory" quiet "$CUSTODY" verify-dossier "$BAG"
check "--expect with the right fingerprint" quiet "$CUSTODY" verify-dossier "$BAG" --expect \
    "$(grep Fingerprint "$BAG/bag-info.txt" | cut -d' ' -f2)"
refute "--expect with another fingerprint" quiet "$CUSTODY" verify-dossier "$BAG" --expect \
    "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

# --- tampering ---------------------------------------------------------------------------------
# tamper NAME: a fresh copy of the bag in $T/t/NAME, path in $TB.
tamper() {
	rm -rf "$T/t/$1"
	mkdir -p "$T/t/$1"
	cp -a "$BAG" "$T/t/$1/"
	TB=$T/t/$1/$(basename "$BAG")
}
# rehash FILE...: fix the manifest lines of the files, as a forger would.
rehash() {
	local f h m
	for f in "$@"; do
		h=$(sha256sum <"$TB/$f" | cut -d' ' -f1)
		case $f in data/*) m=manifest-sha256.txt ;; *) m=tagmanifest-sha256.txt ;; esac
		python3 -c '
import sys
m, f, h = sys.argv[1:]
lines = [l for l in open(m).read().splitlines() if l.split("  ", 1)[1] != f]
lines.append(h + "  " + f)
open(m, "w").write("\n".join(lines) + "\n")' "$TB/$m" "$f" "$h"
	done
	h=$(sha256sum <"$TB/manifest-sha256.txt" | cut -d' ' -f1)
	sed -i "s|^[0-9a-f]*  manifest-sha256.txt\$|$h  manifest-sha256.txt|" "$TB/tagmanifest-sha256.txt"
}
# refused NAME NEEDLE: verify-dossier fails on $TB and says NEEDLE.
refused() {
	local out rc=0
	out=$("$CUSTODY" verify-dossier "$TB" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		fail "$1: verify-dossier accepted it"
	else
		contains "$1: refused, naming $2" "$out" "$2"
	fi
}

tamper byte
# inverted, not overwritten: a fixed byte may be the one already there
python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xff]))' "$TB/data/evidence/$SV/video.mp4" 1000
refused "a changed payload byte" "video.mp4"

tamper removed
rm "$TB/data/records/victim/$V.json"
refused "a removed file" "$V.json"

tamper added
echo "planted" >"$TB/data/evidence/$SV/planted.txt"
refused "an added file" "planted.txt"

tamper swapped
cp "$TB/data/records/incident/inc-1.json" "$T/inc.json"
python3 -c '
import json, sys
r = json.load(open(sys.argv[1])); r["governorate"] = "idlib"; r["title"] = "elsewhere"
open(sys.argv[1], "w").write(json.dumps(r, indent=2, sort_keys=True) + "\n")' "$TB/data/records/incident/inc-1.json"
rehash data/records/incident/inc-1.json
refused "a changed record with its manifests fixed" "inc-1"

tamper forged
ssh-keygen -q -t ed25519 -N '' -f "$T/forger" -C forger
(cd "$TB" && rm tagmanifest-sha256.txt.sig &&
    ssh-keygen -q -Y sign -f "$T/forger" -n custody-dossier tagmanifest-sha256.txt)
refused "a tag manifest signed by another key" "signature"

tamper otherfeed
# B's witness record proof: a real proof, from B's feed
python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
v["proof"] = v["witnesses"][0]["proof"]
open(sys.argv[1], "w").write(json.dumps(v, indent=2, sort_keys=True) + "\n")' "$TB/custody/items/victim/$V.json"
rehash "custody/items/victim/$V.json"
refused "a proof from another feed" "$V"

tamper putback
python3 -c '
import json, sys
r = json.load(open(sys.argv[1])); r["notes"] = "shrapnel wounds, seen by Dr K"
open(sys.argv[1], "w").write(json.dumps(r, indent=2, sort_keys=True) + "\n")' "$TB/data/records/victim/$V.json"
rehash "data/records/victim/$V.json"
refused "a withheld field put back by hand" "notes"

head -c $(( $(stat -c %s "$T/d.age") - 5000 )) "$T/d.age" >"$T/trunc.age"
out=$("$CUSTODY" verify-dossier "$T/trunc.age" -i "$T/inv.key" 2>&1) && fail "a truncated age file accepted"
contains "a truncated age file is refused" "$out" "trunc"
age-keygen -o "$T/other.key" 2>/dev/null
refute "another identity cannot open it" quiet "$CUSTODY" verify-dossier "$T/d.age" -i "$T/other.key"

# --- a recipient that withholds a field records do not seal -------------------------------------
quiet cu "$A" recipient add press "$KEY" --withhold victim.name --disclose victim.notes
out=$(cu "$A" extract --recipient press --victim "$V" -o "$T/p.age" 2>&1) || fail "extract for press: $out"
out=$("$CUSTODY" verify-dossier "$T/p.age" -i "$T/inv.key" 2>&1) || fail "press dossier refused: $out"
contains "the victim is attested, not proven" "$out" "attested"
mkdir "$T/p"
age -d -i "$T/inv.key" "$T/p.age" | tar x -C "$T/p"
refute "its name is not in the bag" grep -rqa "Omar" "$T/p"
check "its notes are (disclosed), proven by their field key" grep -rqa "shrapnel" "$T/p"

# --- memory does not grow with the evidence ---------------------------------------------------
# (not under the sanitizers or valgrind, whose own memory is no measure)
if [ -z "${UNDER_VALGRIND:-}" ] && ! grep -q "^CUSTODY_SANITIZE:BOOL=ON" "${BUILD:-.}/CMakeCache.txt" 2>/dev/null; then
	head -c $((160 << 20)) /dev/urandom >"$IN/big.bin"
	quiet cu "$A" ingest --incident inc-2 "$IN/big.bin"
	check "a dossier of 160 MiB of evidence" quiet cu "$A" extract --recipient un-iim \
	    --incident inc-2 -o "$T/big.age"
	hwm=$(awk '/VmHWM/ {print $2}' "/proc/$(cat "$A/custodyd.lock")/status")
	check "custodyd's peak memory stays under 96 MiB ($((hwm / 1024)) MiB)" [ "$hwm" -lt $((96 << 10)) ]
	rss=$(python3 -c '
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if r.returncode == 0 else -1)' \
	    "$CUSTODY" verify-dossier "$T/big.age" -i "$T/inv.key")
	check "verify-dossier proves it within 64 MiB of memory ($((rss / 1024)) MiB)" \
	    [ "$rss" -gt 0 -a "$rss" -lt $((64 << 10)) ]
	rm -f "$IN/big.bin" "$T/big.age"
fi

# --- refusals -----------------------------------------------------------------------------------
out=$(cu "$A" extract --recipient nobody --incident inc-1 -o "$T/n.age" 2>&1) && fail "unknown recipient accepted"
contains "an unknown recipient is named" "$out" "nobody"
out=$(cu "$A" extract --recipient un-iim --incident inc-9 -o "$T/n.age" 2>&1) && fail "unknown incident accepted"
contains "an unknown incident is named" "$out" "inc-9"
out=$(cu "$A" extract --recipient un-iim --incident "$V" -o "$T/n.age" 2>&1) && fail "victim as incident accepted"
contains "a victim given as an incident is refused" "$out" "not an incident"
rc=0
cu "$A" extract --recipient un-iim -o "$T/n.age" >/dev/null 2>&1 || rc=$?
check "nothing selected is a usage error" [ "$rc" -eq 2 ]
refute "an existing file is not replaced" quiet cu "$A" extract --recipient un-iim --incident inc-1 -o "$T/d.age"
check "no file is left after failures" [ ! -e "$T/n.age" -a -z "$(ls "$T" | grep partial || true)" ]
check "A's archive still verifies" quiet cu "$A" verify
refute "no protected field, name or evidence text reached either daemon's log" \
    grep -qaF -e "shrapnel" -e "Samira" -e "+963 555" -e "Omar Khalil" -e "checkpoint closed" \
    "$A.log" "$B.log"

done_testing
