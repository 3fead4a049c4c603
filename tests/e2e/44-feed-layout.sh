#!/usr/bin/env bash
# The feed format's layout is enforced where the archive is checked (proto/feedfmt.c):
# `custody verify` exits 1 and names the offending item when
#   1. a feed commit's tree holds an entry besides "records" (a blob "evil" at its root);
#   2. the "records" tree holds a fan-out tree whose name is not two lower-case hex digits;
#   3. a ref under refs/feeds/ is not an office key in lower-case hex (upper-case digits).
# Each tampered commit re-uses the head's signature (its tree changed, so the signature fails
# too); the layout problem must be named on its own line all the same. An untouched archive
# verifies.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || { echo "SKIP: git is not installed"; exit 77; }

printf 'layout\n' >"$T/a.txt"

# fresh NAME: a new archive with one ingest; sets A, G, HEX, HEAD, ROOT.
fresh() {
	A=$T/$1
	init_archive "$A" Layout-Office
	start_daemon "$A"
	cu "$A" ingest "$T/a.txt" >/dev/null 2>&1 || fail "$1: ingest"
	G=(git --git-dir="$A/git")
	HEX=$("${G[@]}" for-each-ref --format='%(refname:lstrip=2)' refs/feeds/)
	HEAD=$("${G[@]}" rev-parse "refs/feeds/$HEX")
	ROOT=$("${G[@]}" rev-parse "$HEAD^{tree}")
	VRC=0
	VOUT=$(cu "$A" verify 2>&1) || VRC=$?
	check "$1: verify passes before tampering" [ "$VRC" -eq 0 ]
}

# recommit TREE: a copy of the head commit on TREE, keeping the old signature; moves the ref.
recommit() {
	local new
	"${G[@]}" cat-file commit "$HEAD" | sed "1s/^tree .*/tree $1/" >"$T/commit.txt"
	new=$("${G[@]}" hash-object -t commit -w "$T/commit.txt")
	"${G[@]}" update-ref "refs/feeds/$HEX" "$new" "$HEAD"
}

# caught LABEL NEEDLE...: verify exits 1 and its output names each NEEDLE.
caught() {
	local label=$1 n
	shift
	VRC=0
	VOUT=$(cu "$A" verify 2>&1) || VRC=$?
	check "$label: verify exits 1" [ "$VRC" -eq 1 ]
	for n in "$@"; do
		contains "$label: verify names $n" "$VOUT" "$n"
	done
}

# --- 1. an entry besides "records" at the root ----------------------------------------------
fresh root-entry
evil=$(printf 'evil\n' | "${G[@]}" hash-object -w --stdin)
tree=$({ "${G[@]}" ls-tree "$ROOT"; printf '100644 blob %s\tevil\n' "$evil"; } |
    "${G[@]}" mktree)
recommit "$tree"
caught root-entry "record evil" "unexpected entry in the feed tree"
stop_daemon "$DAEMON_PID" || fail "root-entry: the daemon did not stop with exit 0"

# --- 2. a fan-out tree that is not two lower-case hex digits ---------------------------------
fresh fanout-name
records=$("${G[@]}" rev-parse "$ROOT:records")
first=$("${G[@]}" ls-tree "$records" | awk 'NR == 1 { print $3 }')
records=$({ "${G[@]}" ls-tree "$records"; printf '040000 tree %s\tZZ\n' "$first"; } |
    "${G[@]}" mktree)
tree=$(printf '040000 tree %s\trecords\n' "$records" | "${G[@]}" mktree)
recommit "$tree"
caught fanout-name "tree records/ZZ" "unexpected entry in the feed tree"
stop_daemon "$DAEMON_PID" || fail "fanout-name: the daemon did not stop with exit 0"

# --- 3. a feed ref that is not a lower-case office key ---------------------------------------
fresh ref-name
UPPER=$(tr 'a-f' 'A-F' <<<"$HEX")
"${G[@]}" update-ref "refs/feeds/$UPPER" "$HEAD"
caught ref-name "refs/feeds/$UPPER" "not a feed ref"
stop_daemon "$DAEMON_PID" || fail "ref-name: the daemon did not stop with exit 0"

done_testing
