#!/usr/bin/env bash
# Stock git accepts the feed, and the archive holds nothing in the clear.
#
# After a few ingests, the allowed-signers file from `custody keys allowed-signers` lets stock
# `git verify-commit` accept EVERY commit of the office feed (git rev-list refs/feeds/HEX), and
# the same commits fail against an allowed-signers file holding another key. `git fsck --full`
# reports no corruption. Neither the files of the archive directory (index.sqlite and its WAL
# included) nor the inflated git objects contain a distinctive file name, file content, note
# text or the plaintext SHA-256 of the evidence.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || { echo "SKIP: git is not installed"; exit 77; }
command -v ssh-keygen >/dev/null || { echo "SKIP: ssh-keygen is not installed"; exit 77; }

# quiet COMMAND...: run it without output.
quiet() {
	"$@" >/dev/null 2>&1
}

A=$T/archive
IN=$T/in
mkdir -p "$IN"
init_archive "$A" Interop-Office
start_daemon "$A"

NAME="Kassandra-Zeugin-Q7x9-Dateiname.txt"
CONTENT="distinctive-content-MARKER-5521-the-convoy-left-at-dawn"
NOTE="Sensitive-Note-ZX81-source-met-at-the-bakery"
printf '%s\n' "$CONTENT" >"$IN/$NAME"
head -c 100000 /dev/urandom >"$IN/one.bin"
head -c 5000 /dev/urandom >"$IN/two.bin"
printf 'second text %s\n' "$CONTENT" >"$IN/three.txt"

rc=0
cu "$A" ingest --note "$NOTE" "$IN/$NAME" >/dev/null 2>&1 || rc=$?
cu "$A" ingest "$IN/one.bin" "$IN/two.bin" >/dev/null 2>&1 || rc=$?
cu "$A" ingest --incident inc-2024-007 "$IN/three.txt" >/dev/null 2>&1 || rc=$?
cu "$A" ingest "$IN/one.bin" >/dev/null 2>&1 || rc=$?	# a duplicate: a fourth commit
check "four ingests exit 0" [ "$rc" -eq 0 ]
SHA=$(sha256sum "$IN/$NAME" | cut -c1-64)

G=(git --git-dir="$A/git")
refs=$("${G[@]}" for-each-ref --format='%(refname)' refs/feeds/)
HEX=$(cat "$A/keys/office.pub" | cut -d' ' -f2 | base64 -d | tail -c 32 | od -An -tx1 | tr -d ' \n')
check "the only ref is refs/feeds/<office key hex>" [ "$refs" = "refs/feeds/$HEX" ]
commits=$("${G[@]}" rev-list "refs/feeds/$HEX")
ncommits=$(echo "$commits" | wc -l)
check "the feed has 4 commits" [ "$ncommits" -eq 4 ]

# --- allowed signers and git verify-commit -----------------------------------------------
rc=0
cu "$A" keys allowed-signers >"$T/allowed_signers" 2>"$T/as.err" || rc=$?
check "keys allowed-signers exits 0" [ "$rc" -eq 0 ]
contains "allowed-signers holds the office key" "$(cat "$T/allowed_signers")" \
    "$(cut -d' ' -f1,2 "$A/keys/office.pub")"
good=0
for c in $commits; do
	rc=0
	out=$("${G[@]}" -c gpg.ssh.allowedSignersFile="$T/allowed_signers" verify-commit "$c" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ] && [[ "$out" == *'Good "git" signature'* ]]; then
		good=$((good + 1))
	else
		echo "verify-commit $c (rc $rc): $out" >&2
	fi
done
check "git verify-commit accepts every commit of the feed ($good of $ncommits)" [ "$good" -eq "$ncommits" ]

ssh-keygen -q -t ed25519 -N '' -C other -f "$T/other" >/dev/null
printf 'Interop-Office namespaces="git" %s\n' "$(cut -d' ' -f1,2 "$T/other.pub")" >"$T/other_signers"
bad=0
for c in $commits; do
	"${G[@]}" -c gpg.ssh.allowedSignersFile="$T/other_signers" verify-commit "$c" >/dev/null 2>&1 ||
	    bad=$((bad + 1))
done
check "git verify-commit refuses every commit with another key allowed ($bad of $ncommits)" \
    [ "$bad" -eq "$ncommits" ]
: >"$T/empty_signers"
refute "git verify-commit refuses the head with an empty allowed-signers file" \
    quiet "${G[@]}" -c gpg.ssh.allowedSignersFile="$T/empty_signers" verify-commit "refs/feeds/$HEX"

# --- git fsck ----------------------------------------------------------------------------
rc=0
fsck=$("${G[@]}" fsck --full --strict 2>&1) || rc=$?
check "git fsck --full --strict exits 0" [ "$rc" -eq 0 ]
if grep -Eiq 'error|corrupt|missing|broken|bad|invalid' <<<"$fsck"; then
	fail "git fsck reports a problem: $fsck"
else
	ok "git fsck reports no corruption"
fi

# --- nothing in the clear ----------------------------------------------------------------
cu "$A" show "$SHA" >"$T/show.json" 2>&1 || true
contains "control: the name is recorded (show decrypts it)" "$(cat "$T/show.json")" "$NAME"
contains "control: the note is recorded (show decrypts it)" "$(cat "$T/show.json")" "$NOTE"
cu "$A" get "$SHA" -o "$T/back" >/dev/null 2>&1 || true
check "control: the content comes back" cmp -s "$IN/$NAME" "$T/back"
"${G[@]}" cat-file --batch-all-objects --batch >"$T/objects.txt"
check "control: the inflated objects hold the commits' trailers" grep -aqF "Custody-Seq: 4" "$T/objects.txt"

# no_plaintext LABEL: none of the markers is in the archive directory or in any git object.
no_plaintext() {
	local m what
	for m in "$NAME" "$CONTENT" "$NOTE" "$SHA" "inc-2024-007"; do
		case $m in
		"$NAME") what="the file name" ;;
		"$CONTENT") what="the file content" ;;
		"$NOTE") what="the note" ;;
		"$SHA") what="the evidence SHA-256" ;;
		*) what="the incident id" ;;
		esac
		if grep -raF -l -- "$m" "$A" >"$T/hits" 2>/dev/null; then
			fail "$1: $what is in the clear in $(tr '\n' ' ' <"$T/hits")"
		else
			ok "$1: $what is not in any archive file"
		fi
		if grep -aqF -- "$m" "$T/objects.txt"; then
			fail "$1: $what is in the clear in a git object"
		else
			ok "$1: $what is not in any git object"
		fi
	done
	if grep -raF -l -- "$NAME" "$A/index.sqlite"* >/dev/null 2>&1; then
		fail "$1: the index holds the file name"
	else
		ok "$1: the index holds no file name"
	fi
}
no_plaintext "daemon running"
stop_daemon "$DAEMON_PID" || fail "the daemon did not stop with exit 0"
"${G[@]}" cat-file --batch-all-objects --batch >"$T/objects.txt"
no_plaintext "daemon stopped"
done_testing
