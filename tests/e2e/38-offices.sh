#!/usr/bin/env bash
# A seized member office cannot rename offices or invent new ones.
#
# alpha founds the archive and invites bravo and charlie. bravo is seized: with its real key and
# its daemon stopped, the adversary's tooling (forge-office, linking the engine) writes in
# bravo's feed an office record renaming bravo "alpha", one renaming alpha's key "beta", and one
# for an invented office "ghost" with a fresh key, whose own feed (signed by that key) witnesses
# alpha's feed. Then alpha and charlie sync from bravo (twice). At alpha and charlie:
# `keys allowed-signers` binds alpha to alpha's key only and bravo to bravo's key, names no
# "beta" and no ghost; stock `ssh-keygen -Y verify -I alpha` with that file refuses a signature
# made by bravo's key (one of bravo's commits), `-I bravo` accepts it, and `git verify-commit`
# names bravo as its signer; `show` of alpha's evidence lists no witness by the ghost's key; the
# daemon log, `custody verify` and `custody status` report the refused records with bravo's key
# fingerprint. Last, a feed of a key no invitation admitted that is already in alpha's repository
# (forged there the same way, "phantom", witnessing alpha's feed) counts for nothing: alpha's
# `show` lists bravo's witness and not the phantom's, and a dossier of alpha's file holds bravo's
# witness and not a byte of the phantom's key; `verify-dossier` accepts it.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || { echo "SKIP: git is not installed"; exit 77; }
command -v ssh-keygen >/dev/null || { echo "SKIP: ssh-keygen is not installed"; exit 77; }
need_forge_office

# signers_of FILE PRINCIPAL: the key blobs FILE binds to PRINCIPAL, one a line.
signers_of() {
	awk -v p="$2" '$1 == p { print $NF }' "$1"
}

A=$T/alpha B=$T/bravo C=$T/charlie IN=$T/in
mkdir -p "$IN"
three_offices
check "alpha pins bravo" quiet cu "$A" peer add bravo "127.0.0.1:$PB" "$(key_line "$B")"
check "alpha pins charlie" quiet cu "$A" peer add charlie "127.0.0.1:$PC" "$(key_line "$C")"
check "charlie pins bravo" quiet cu "$C" peer add bravo "127.0.0.1:$PB" "$(key_line "$B")"
check "bravo pins charlie" quiet cu "$B" peer add charlie "127.0.0.1:$PC" "$(key_line "$C")"
HA=$(key_hex "$A") HB=$(key_hex "$B")
KA=$(key_line "$A" | cut -d' ' -f2) KB=$(key_line "$B" | cut -d' ' -f2)
FPB=$(ssh-keygen -l -f "$B/keys/office.pub" | cut -d' ' -f2)

head -c 30000 /dev/urandom >"$IN/photo.bin"
check "alpha ingests a file" quiet cu "$A" ingest "$IN/photo.bin"
SHA=$(sha256sum <"$IN/photo.bin" | cut -d' ' -f1)
check "bravo pulls alpha" quiet cu "$B" sync alpha
check "charlie pulls alpha" quiet cu "$C" sync alpha
check "bravo pulls charlie" quiet cu "$B" sync charlie

# --- bravo is seized ---------------------------------------------------------------------------
stop_daemon "$DB" || fail "bravo stops cleanly"
check "forge: bravo renames itself alpha" quiet "$FORGE" "$B" office alpha "$(key_line "$B")"
check "forge: bravo renames alpha beta" quiet "$FORGE" "$B" office beta "$(key_line "$A")"
GHOST=$("$FORGE" "$B" ghost ghost "$HA" 2>"$T/forge.err") || { cat "$T/forge.err" >&2; GHOST=; }
check "forge: bravo invents office ghost, which witnesses alpha's feed" [ -n "$GHOST" ]
KG=$(echo "$GHOST" | cut -d' ' -f2)
HG=$(python3 -c 'import base64,sys; print(base64.b64decode(sys.argv[1])[-32:].hex())' "$KG")
check "forge: the ghost's feed is in bravo's repository" [ -n "$(feed_ref "$B" "$HG")" ]
start_daemon "$B" --listen "127.0.0.1:$PB"
DB=$DAEMON_PID

for X in "$A" "$C"; do
	n=$(basename "$X")
	cu "$X" sync bravo >"$X.sync1" 2>&1 || true
	cu "$X" sync bravo >"$X.sync2" 2>&1 || true
	check "$n: has bravo's forged feed (the commits are bravo's, signed)" \
	    [ "$(feed_ref "$X" "$HB")" = "$(feed_ref "$B" "$HB")" ]

	# allowed-signers: the names the invitations bound, and nothing else
	rc=0
	cu "$X" keys allowed-signers >"$X.signers" 2>&1 || rc=$?
	check "$n: keys allowed-signers exits 0" [ "$rc" -eq 0 ]
	check "$n: alpha is bound to alpha's key only ($(signers_of "$X.signers" alpha | wc -l) keys)" \
	    [ "$(signers_of "$X.signers" alpha)" = "$KA" ]
	check "$n: bravo is bound to bravo's key" [ "$(signers_of "$X.signers" bravo)" = "$KB" ]
	refute "$n: no office is named beta" grep -q '^beta ' "$X.signers"
	refute "$n: no office is named ghost" grep -q '^ghost ' "$X.signers"
	refute "$n: the ghost's key is not listed" grep -qF "$KG" "$X.signers"

	# stock ssh-keygen and git: bravo's signature is bravo's, never alpha's
	c=$(feed_ref "$X" "$HB")
	git --git-dir="$X/git" cat-file commit "$c" >"$T/commit"
	python3 - "$T/commit" "$T/payload" "$T/sig" <<'EOF'
import sys
lines = open(sys.argv[1], 'rb').read().split(b'\n')
out, sig, i = [], [], 0
while i < len(lines):
    if lines[i].startswith(b'gpgsig '):
        sig.append(lines[i][7:])
        i += 1
        while i < len(lines) and lines[i].startswith(b' '):
            sig.append(lines[i][1:])
            i += 1
        continue
    out.append(lines[i])
    i += 1
open(sys.argv[2], 'wb').write(b'\n'.join(out))
open(sys.argv[3], 'wb').write(b'\n'.join(sig) + b'\n')
EOF
	check "$n: ssh-keygen -Y verify -I bravo accepts bravo's commit signature" \
	    quiet ssh-keygen -Y verify -f "$X.signers" -I bravo -n git -s "$T/sig" <"$T/payload"
	refute "$n: ssh-keygen -Y verify -I alpha refuses bravo's signature" \
	    quiet ssh-keygen -Y verify -f "$X.signers" -I alpha -n git -s "$T/sig" <"$T/payload"
	out=$(git --git-dir="$X/git" -c gpg.ssh.allowedSignersFile="$X.signers" verify-commit \
	    "$c" 2>&1) || true
	contains "$n: git verify-commit names bravo as the signer" "$out" 'signature for bravo'
	case "$out" in *'for alpha'*) fail "$n: git verify-commit names alpha: $out" ;;
	*) ok "$n: git verify-commit does not name alpha" ;; esac

	# the invented office witnesses nothing
	check "$n: show of alpha's file lists no witness by the ghost" py '
import json, sys
j = json.loads(sys.argv[1])
w = j.get("witnessed_by") or []
names = [e.get("office") for e in w] + [e.get("key") for e in w]
assert sys.argv[2] not in names and "ghost" not in names, w' \
	    "$(cu "$X" show "$SHA" --json 2>&1)" "$HG"

	# the refusal is reported: log and verify, naming bravo's key
	check "$n: the log reports a refused office record from bravo's feed" \
	    grep -q "refused: office record in feed $FPB" "$X.log"
	rc=0
	out=$(cu "$X" verify 2>&1) || rc=$?
	contains "$n: custody verify reports the refused records" "$out" "refused"
	contains "$n: naming bravo's key" "$out" "$FPB"
	out=$(cu "$X" status 2>&1) || true
	contains "$n: custody status lists the refused records" "$out" "REFUSED"
	check "$n: status --json: refused_offices names bravo's key and the renames" py '
import json, sys
r = json.loads(sys.argv[1])["refused_offices"]
s = "\n".join(r)
assert sys.argv[2] in s and "to \x27alpha\x27" in s and "\x27beta\x27" in s \
    and "\x27ghost\x27" in s, r' "$(cu "$X" --json status 2>&1)" "$FPB"
done

# charlie still syncs with alpha, and alpha still knows charlie by its name
check "charlie still pulls alpha" quiet cu "$C" sync alpha
check "alpha's allowed-signers names charlie" grep -q "^charlie .*$(key_line "$C" | cut -d" " -f2)" "$A.signers"
# --- a feed of a key no invitation admitted, already in alpha's repository ----------------------
stop_daemon "$DA" || fail "alpha stops cleanly"
PHANTOM=$("$FORGE" "$A" ghost phantom "$HA" 2>"$T/forge.err") || { cat "$T/forge.err" >&2; PHANTOM=; }
check "forge: a phantom office's feed witnessing alpha's feed is in alpha's repository" \
    [ -n "$PHANTOM" ]
KP=$(echo "$PHANTOM" | cut -d' ' -f2)
HP=$(python3 -c 'import base64,sys; print(base64.b64decode(sys.argv[1])[-32:].hex())' "$KP")
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
check "alpha: show lists bravo's witness, not the phantom's" py '
import json, sys
w = json.loads(sys.argv[1]).get("witnessed_by") or []
keys = [e.get("key") for e in w]
assert sys.argv[3] in keys and sys.argv[2] not in keys, w' \
    "$(cu "$A" show "$SHA" --json 2>&1)" "$HP" "$HB"
if command -v age >/dev/null && command -v age-keygen >/dev/null; then
	age-keygen -o "$T/r.key" 2>/dev/null
	check "alpha: recipient add" quiet cu "$A" recipient add court "$(age-keygen -y "$T/r.key")"
	out=$(cu "$A" extract --recipient court --evidence "$SHA" -o "$T/d.age" 2>&1) ||
	    fail "alpha: extract: $out"
	mkdir "$T/x"
	check "age -d | tar x opens the dossier" \
	    sh -c "age -d -i '$T/r.key' '$T/d.age' | tar x -C '$T/x'"
	check "the dossier holds bravo's witness" grep -rqa "$HB" "$T/x"
	refute "the phantom's key appears nowhere in the dossier" grep -rqa -e "$HP" -e "$KP" "$T/x"
	check "verify-dossier accepts it" quiet "$CUSTODY" verify-dossier "$T/d.age" -i "$T/r.key"
else
	echo "age is not installed: the dossier part is left out"
fi

check "alpha stops cleanly" stop_daemon "$DA"
check "bravo stops cleanly" stop_daemon "$DB"
check "charlie stops cleanly" stop_daemon "$DC"
done_testing
