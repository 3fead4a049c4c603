#!/usr/bin/env bash
# Dossiers across key rotations (proto/DOSSIER.md, "Keys").
#
# alpha records an incident, a victim and a file under its first key, rotates its key (`custody
# keys rotate`), then records a second victim and file under the new key, and extracts the
# incident: the dossier holds commits signed by both keys, its tag manifest signed by the new
# one. `custody verify-dossier` proves every item offline; `ssh-keygen -Y verify` accepts the
# tag manifest with the bag's allowed_signers; stock `git verify-commit`, with the same file,
# accepts every commit of the bag (written into an empty repository with stock git).
# Then the exporter lies (forge-office signs with alpha's real keys): (1) it takes the handover
# out of custody/offices.json and re-signs: the items its new key signed are refused, naming
# their commits; (2) it re-signs the tag manifest with its handed-over old key: refused; (3) a
# seized copy of alpha run with the old key edits a victim after the handover and exports it
# with the handover put in: the commit is refused, named, as signed by a key handed over before
# it; (4) its feed holds a handover signed by another key than the one that signed the feed
# then (forged on a copy of its archive from before the rotation, which then extracts):
# refused, naming the handover.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || { echo "SKIP: git is not installed"; exit 77; }
command -v ssh-keygen >/dev/null || { echo "SKIP: ssh-keygen is not installed"; exit 77; }
command -v age-keygen >/dev/null || { echo "SKIP: age is not installed"; exit 77; }
need_forge_office

A=$T/alpha IN=$T/in
mkdir -p "$IN"
init_archive "$A" alpha
start_daemon "$A"
DA=$DAEMON_PID
HA=$(key_hex "$A")
printf 'first file, before the rotation\n' >"$IN/before.txt"
printf 'second file, after the rotation\n' >"$IN/after.txt"

quiet cu "$A" incident add --id inc-1 --date 2024-12-05 --governorate aleppo --title "market"
V1=$(cu "$A" victim add --name "First Victim" --date-documented 2024-12-06 --incident-id inc-1 2>/dev/null)
check "alpha ingests a file under its first key" quiet cu "$A" ingest --incident inc-1 "$IN/before.txt"
cp "$A/keys/office.key" "$T/alpha-old.key"	# what an adversary who copied the disk holds
age-keygen -o "$T/inv.key" 2>/dev/null
quiet cu "$A" recipient add un-iim "$(age-keygen -y "$T/inv.key")"
cp -a "$A" "$T/alpha-pre"			# alpha before its rotation, for case (3)
rm -f "$T/alpha-pre/custodyd.sock"
out=$(cu "$A" keys rotate 2>&1) || fail "alpha rotates its key: $out"
HSEQ=$(feed_len "$A" "$HA")
sleep 1.1	# the new key's commits come at a later second than the handover
V2=$(cu "$A" victim add --name "Second Victim" --date-documented 2024-12-07 --incident-id inc-1 2>/dev/null)
check "alpha records a victim under its new key" [ -n "$V2" ]
check "alpha ingests a file under its new key" quiet cu "$A" ingest --incident inc-1 "$IN/after.txt"

out=$(cu "$A" extract --recipient un-iim --incident inc-1 -o "$T/d.age" 2>&1) || fail "extract: $out"
contains "the dossier holds both victims and both files" "$out" "2 victims, 2 evidence files"
mkdir "$T/x"
age -d -i "$T/inv.key" "$T/d.age" | tar x -C "$T/x"
BAG=$(ls -d "$T"/x/dossier-*)

# --- the bag holds commits by both keys and the chain between them -----------------------------
check "offices.json gives alpha's handover, from its first key" py '
import json, sys
o = json.load(open(sys.argv[1]))
a = [x for x in o["offices"] if x["key"] == sys.argv[2]][0]
h = a["handovers"]
assert len(h) == 1 and h[0]["from"] == sys.argv[2] and h[0]["seq"] == int(sys.argv[3]), h
assert h[0]["feed"] == sys.argv[2] and h[0]["record_key"], h' "$BAG/custody/offices.json" "$HA" "$HSEQ"
check "allowed_signers: alpha's first key valid before the handover" \
    grep -q "^alpha namespaces=\"custody-dossier,git\",valid-before=\"[0-9]*Z\" ssh-ed25519" "$BAG/allowed_signers"
check "allowed_signers: alpha's new key valid after it" \
    grep -q "^alpha namespaces=\"custody-dossier,git\",valid-after=\"[0-9]*Z\" ssh-ed25519" "$BAG/allowed_signers"
OLDLINE=$(grep valid-before "$BAG/allowed_signers" | cut -d' ' -f3-4)
NEWLINE=$(grep valid-after "$BAG/allowed_signers" | cut -d' ' -f3-4)
check "the first line is alpha's identity key" [ "$(head -n1 "$BAG/allowed_signers" | cut -d' ' -f3-4)" = "$(cut -d' ' -f1-2 "$A/keys/office.pub")" ]

# --- stock tools -----------------------------------------------------------------------------------
check "ssh-keygen -Y verify accepts the tag manifest (signed by alpha's new key)" quiet sh -c "cd '$BAG' && \
    ssh-keygen -Y verify -f allowed_signers -I alpha -n custody-dossier \
    -s tagmanifest-sha256.txt.sig <tagmanifest-sha256.txt"
git init -q --bare "$T/stock.git"
for f in "$BAG"/custody/objects/*; do
	n=$(basename "$f")
	git --git-dir="$T/stock.git" hash-object -w -t "${n#*.}" --literally "$f" >/dev/null
done
bad=0 nold=0 nnew=0
for f in "$BAG"/custody/objects/*.commit; do
	n=$(basename "$f" .commit)
	if git --git-dir="$T/stock.git" -c gpg.format=ssh \
	    -c gpg.ssh.allowedSignersFile="$BAG/allowed_signers" verify-commit "$n" >"$T/vc.out" 2>&1; then
		grep -q "$(ssh-keygen -lf <(echo "$OLDLINE") | cut -d' ' -f2)" "$T/vc.out" && nold=$((nold + 1))
		grep -q "$(ssh-keygen -lf <(echo "$NEWLINE") | cut -d' ' -f2)" "$T/vc.out" && nnew=$((nnew + 1))
	else
		bad=$((bad + 1))
		echo "  refused: $n" >&2
		cat "$T/vc.out" >&2
	fi
done
check "stock git verify-commit accepts every commit of the bag" [ "$bad" -eq 0 ]
check "commits signed by the first key are among them ($nold)" [ "$nold" -ge 2 ]
check "and commits signed by the new key ($nnew)" [ "$nnew" -ge 2 ]

# --- verify-dossier, offline -------------------------------------------------------------------------
out=$(env -u CUSTODY_ARCHIVE HOME=$T/nohome "$CUSTODY" verify-dossier "$T/d.age" -i "$T/inv.key" 2>&1)
rc=$?
[ "$rc" -eq 0 ] || echo "$out" >&2
check "verify-dossier accepts the dossier of a rotated office" [ "$rc" -eq 0 ]
contains "it proves the victim recorded before the rotation" "$out" "$V1"
contains "and the one recorded after it" "$out" "$V2"
refute "no item failed" grep -q "FAILED" <<<"$out"
contains "it says the exporter signed with the key its handover reached" "$out" \
    "signed with its key $(ssh-keygen -lf <(echo "$NEWLINE") | cut -d' ' -f2) since its commit $HSEQ"
check "verify-dossier accepts the directory" quiet "$CUSTODY" verify-dossier "$BAG"

# --- the exporter lies --------------------------------------------------------------------------------
cp -a "$A" "$T/alpha-copy"	# forge-office opens a copy: the daemon holds alpha's lock
rm -f "$T/alpha-copy/custodyd.sock"
tamper() {
	rm -rf "$T/t/$1"
	mkdir -p "$T/t/$1"
	cp -a "$BAG" "$T/t/$1/"
	TB=$T/t/$1/$(basename "$BAG")
}
# resign FILE KEYFILE: fix FILE's tag manifest line and sign the tag manifest with KEYFILE.
resign() {
	local h
	h=$(sha256sum <"$TB/$1" | cut -d' ' -f1)
	sed -i "s|^[0-9a-f]*  $1\$|$h  $1|" "$TB/tagmanifest-sha256.txt"
	rm -f "$TB/tagmanifest-sha256.txt.sig"
	"$FORGE" "$T/alpha-copy" sign "$2" "$TB/tagmanifest-sha256.txt" ||
	    fail "forge-office signs the tag manifest"
}
V2COMMIT=$(py '
import json, sys
print(json.load(open(sys.argv[1]))["proof"]["commit"])' "$BAG/custody/items/victim/$V2.json")

tamper nohandover
py '
import json, sys
o = json.load(open(sys.argv[1]))
for x in o["offices"]:
    x.pop("handovers", None)
open(sys.argv[1], "w").write(json.dumps(o, indent=2, sort_keys=True) + "\n")' "$TB/custody/offices.json"
resign custody/offices.json -
out=$("$CUSTODY" verify-dossier "$TB" 2>&1) && fail "a dossier without its handover is accepted"
contains "without its handover, the victim signed by the new key fails" "$out" "$V2"
contains "naming its commit" "$out" "commit $V2COMMIT"
contains "and saying no handover leads to its key" "$out" "no handover"
refute "while the exporter's signature holds" grep -q "signature does not verify" <<<"$out"

tamper oldkey
resign custody/offices.json "$T/alpha-old.key"
out=$("$CUSTODY" verify-dossier "$TB" 2>&1) && fail "a dossier signed by a handed-over key is accepted"
contains "a tag manifest signed by alpha's handed-over key is refused" "$out" "handed over at its commit $HSEQ"

# a seized copy of alpha run with its handed-over key edits the second victim and extracts (its
# dossier shows no handover: the daemon reads its feed as never rotated); the exporter puts the
# honest dossier's handover and its objects in and signs with the old key. The edit's commit,
# after the handover, and the tag manifest are signed by the handed-over key: both refused.
cp -a "$T/alpha-copy" "$T/alpha-seized"
cp "$T/alpha-old.key" "$T/alpha-seized/keys/office.key"
cp "$T/alpha-pre/keys/data.key" "$T/alpha-seized/keys/data.key"	# as sealed to the old key
start_daemon "$T/alpha-seized"
out=$(cu "$T/alpha-seized" victim edit "$V2" --age 40 2>&1) ||
    fail "the seized copy edits the second victim with the old key: $out"
out=$(cu "$T/alpha-seized" extract --recipient un-iim --incident inc-1 -o "$T/s.age" 2>&1) ||
    fail "the seized copy extracts: $out"
stop_daemon "$DAEMON_PID" || fail "the seized copy stops cleanly"
SEIZED=$(git --git-dir="$T/alpha-seized/git" rev-parse "refs/feeds/$HA~1")
SSEQ=$(( $(feed_len "$T/alpha-seized" "$HA") - 1 ))
mkdir "$T/s"
age -d -i "$T/inv.key" "$T/s.age" | tar x -C "$T/s"
TB=$(ls -d "$T"/s/dossier-*)
py '
import hashlib, json, os, shutil, sys
honest, bag = sys.argv[1:]
h = json.load(open(honest + "/custody/offices.json"))
o = json.load(open(bag + "/custody/offices.json"))
for x in o["offices"]:
    for y in h["offices"]:
        if x["key"] == y["key"] and "handovers" in y:
            x["handovers"] = y["handovers"]
open(bag + "/custody/offices.json", "w").write(json.dumps(o, indent=2, sort_keys=True) + "\n")
lines = [l for l in open(bag + "/tagmanifest-sha256.txt").read().splitlines()
         if l.split("  ", 1)[1] != "custody/offices.json"]
add = ["custody/offices.json"]
for n in os.listdir(honest + "/custody/objects"):
    if not os.path.exists(bag + "/custody/objects/" + n):
        shutil.copy(honest + "/custody/objects/" + n, bag + "/custody/objects/" + n)
        add.append("custody/objects/" + n)
for f in add:
    lines.append(hashlib.sha256(open(bag + "/" + f, "rb").read()).hexdigest() + "  " + f)
open(bag + "/tagmanifest-sha256.txt", "w").write("\n".join(lines) + "\n")' "$BAG" "$TB"
rm -f "$TB/tagmanifest-sha256.txt.sig"
check "forge: the exporter signs it with alpha's old key" \
    quiet "$FORGE" "$T/alpha-copy" sign "$T/alpha-old.key" "$TB/tagmanifest-sha256.txt"
out=$("$CUSTODY" verify-dossier "$TB" 2>&1) && fail "a commit by a handed-over key is accepted"
contains "the victim edited with the handed-over key fails" "$out" "FAILED   victim $V2"
contains "naming the commit, signed by a key handed over before it" "$out" \
    "commit $SEIZED (Custody-Seq $SSEQ) is signed by a key alpha handed over at its commit $HSEQ: refused"
contains "and the tag manifest signed by it is refused" "$out" "handed over at its commit $HSEQ, not by the key"

# alpha as it was before its rotation, its feed continued with a handover to the new key that
# another key (spare's) signed, extracts
init_archive "$T/spare" spare
check "forge: a handover in alpha's feed signed by another key" \
    quiet "$FORGE" "$T/alpha-pre" handover "$A/keys/office.key" "$T/spare/keys/office.key"
stop_daemon "$DA" || fail "alpha stops cleanly"
start_daemon "$T/alpha-pre"
out=$(cu "$T/alpha-pre" extract --recipient un-iim --incident inc-1 -o "$T/f.age" 2>&1) ||
    fail "the forged copy extracts: $out"
out=$("$CUSTODY" verify-dossier "$T/f.age" -i "$T/inv.key" 2>&1) && fail "a forged handover is accepted"
contains "a handover signed by another key is refused" "$out" "handovers[0]"
contains "saying which commit" "$out" "(Custody-Seq $HSEQ) is not signed by a key of feed"
stop_daemon "$DAEMON_PID" || fail "the forged copy stops cleanly"

done_testing
