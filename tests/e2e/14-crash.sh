#!/usr/bin/env bash
# Crashes (kill -9) in the middle of writes lose nothing that was acknowledged.
#
# A few ingests are acknowledged first. Then the daemon is killed with SIGKILL at different
# moments: in the middle of a 400 MiB ingest (once ARCHIVE/tmp holds 100 MB of it), in the
# middle of a batch of 300 small files, in the commit phase of such a batch (all its blobs
# under blobs/, the feed ref not yet moved), and right when the feed ref moves (the commit
# point) for a batch and for a 64 MiB file. After each kill the daemon is restarted, and:
#   - ARCHIVE/tmp is empty, `custody verify` is clean;
#   - a client that printed its lines exited 0 (and one that failed printed no line);
#   - a batch is all or nothing: status counts grew by the whole batch or not at all;
#   - status counts (evidence, records, commits) are exactly what was acknowledged plus
#     the unacknowledged batches that were committed whole.
# At the end every acknowledged or committed file is got back byte-identical (all of them
# through rawclient.py's get-many over one connection; a sample and the big file through
# `custody get`), and every commit of the log has a good signature.
. "$(dirname "$0")/lib.sh"

RAW=$(dirname "$0")/rawclient.py
A=$T/archive
IN=$T/in
mkdir -p "$IN"
MANIFEST=$T/manifest	# "SHA256  PATH" of every file that must be in the archive
: >"$MANIFEST"
EVIDENCE=0 RECORDS=0 COMMITS=0	# what the archive must hold
shopt -s nullglob

# counts: status --json into E_NOW R_NOW C_NOW.
counts() {
	local out
	out=$(cu "$A" status --json 2>/dev/null | tr -d ' ,"') || true
	E_NOW=$(sed -n 's/^evidence://p' <<<"$out")
	R_NOW=$(sed -n 's/^records://p' <<<"$out")
	C_NOW=$(sed -n 's/^commits://p' <<<"$out")
}

# tmp_bytes: bytes in ARCHIVE/tmp.
tmp_bytes() {
	local f n=0
	for f in "$A"/tmp/*; do
		n=$((n + $(stat -c %s "$f" 2>/dev/null || echo 0)))
	done
	echo "$n"
}

# blob_count: files under ARCHIVE/blobs.
blob_count() {
	find "$A/blobs" -type f | wc -l
}

# ref_now: the feed head, or "none".
ref_now() {
	local r
	r=$(git --git-dir="$A/git" for-each-ref --format='%(objectname)' refs/feeds/ 2>/dev/null)
	echo "${r:-none}"
}

# wait_until PID SECONDS COMMAND...: poll COMMAND (every 10 ms) until it succeeds (0), the
# client PID exits (2) or SECONDS pass (1).
wait_until() {
	local pid=$1 end=$((SECONDS + $2))
	shift 2
	while ! "$@"; do
		kill -0 "$pid" 2>/dev/null || return 2
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.01
	done
}

# Triggers for the kill.
tmp_over() { [ "$(tmp_bytes)" -gt "$1" ]; }
tmp_has_file() { local f=("$A"/tmp/*); [ "${#f[@]}" -gt 0 ]; }
# (if the commit point passed between two polls, kill at once all the same)
commit_phase() { ref_moved || [ "$(blob_count)" -ge $((BLOBS0 + NFILES)) ]; }
ref_moved() {
	local cur
	read -r cur <"$REFFILE" 2>/dev/null || return 1
	[ "$cur" != "$REF0" ]
}

# crash_run LABEL TRIGGER... -- FILE...: ingest FILEs in the background, wait for TRIGGER,
# kill -9 the daemon, restart it and check what the archive holds.
crash_run() {
	local label=$1 trig=() files=() n cpid rc=0 landed=0
	shift
	while [ "$1" != -- ]; do trig+=("$1"); shift; done
	shift
	files=("$@")
	n=${#files[@]}
	NFILES=$n
	counts
	local e0=$E_NOW r0=$R_NOW c0=$C_NOW
	BLOBS0=$(blob_count)
	REF0=$(ref_now)
	REFFILE=$A/git/refs/feeds/$HEX

	cu "$A" ingest "${files[@]}" >"$T/$label.out" 2>"$T/$label.err" &
	cpid=$!
	local w=0
	wait_until "$cpid" 120 "${trig[@]}" || w=$?
	kill -9 "$DAEMON_PID"
	case $w in
	1) fail "$label: the moment to kill never came (${trig[*]})" ;;
	2) echo "# $label: the client ended before the moment to kill" ;;
	esac
	ref_moved && echo "# $label: the feed ref had moved when the daemon was killed"
	wait "$DAEMON_PID" 2>/dev/null || true
	wait "$cpid" || rc=$?
	echo "# $label: killed; client exit $rc; $(wc -l <"$T/$label.out") lines;" \
	    "$(tail -1 "$T/$label.err")"

	start_daemon "$A"
	check "$label: tmp/ is empty after the restart" [ -z "$(ls -A "$A/tmp")" ]
	local vrc=0 vout
	vout=$(cu "$A" verify 2>&1) || vrc=$?
	check "$label: verify is clean after the restart" [ "$vrc" -eq 0 ]
	[ "$vrc" -eq 0 ] || echo "$vout" >&2
	counts
	local de=$((E_NOW - e0)) dr=$((R_NOW - r0)) dc=$((C_NOW - c0))
	sha256sum "${files[@]}" >"$T/$label.sums"
	if [ "$rc" -eq 0 ]; then
		check "$label: an acknowledged ingest printed sha256sum's lines" \
		    cmp -s "$T/$label.out" "$T/$label.sums"
		check "$label: an acknowledged batch is all there (+$n evidence, +$((n + 1)) records, +1 commit; got +$de, +$dr, +$dc)" \
		    [ "$de" -eq "$n" -a "$dr" -eq $((n + 1)) -a "$dc" -eq 1 ]
		landed=1
	else
		check "$label: a client that failed printed no line" [ ! -s "$T/$label.out" ]
		if [ "$dc" -eq 0 ]; then
			check "$label: an uncommitted batch left nothing (evidence +$de, records +$dr)" \
			    [ "$de" -eq 0 -a "$dr" -eq 0 ]
		else
			echo "# $label: killed after the commit point, before the acknowledgement"
			check "$label: a batch committed unacknowledged is whole (+$n evidence, +$((n + 1)) records, +1 commit; got +$de, +$dr, +$dc)" \
			    [ "$de" -eq "$n" -a "$dr" -eq $((n + 1)) -a "$dc" -eq 1 ]
			landed=1
		fi
	fi
	if [ "$landed" -eq 1 ]; then
		cat "$T/$label.sums" >>"$MANIFEST"
		EVIDENCE=$((EVIDENCE + n)) RECORDS=$((RECORDS + n + 1)) COMMITS=$((COMMITS + 1))
	fi
	check "$label: status counts what was acknowledged or committed ($EVIDENCE/$RECORDS/$COMMITS; got $E_NOW/$R_NOW/$C_NOW)" \
	    [ "$E_NOW" = "$EVIDENCE" -a "$R_NOW" = "$RECORDS" -a "$C_NOW" = "$COMMITS" ]
	local orphans=$(( $(blob_count) - EVIDENCE ))
	[ "$orphans" -gt 0 ] && echo "# note: $label: $orphans blob file(s) under blobs/ belong to no record"
	return 0
}

# --- the files -----------------------------------------------------------------------------
python3 - "$IN" <<'PY'
import os, sys
d = sys.argv[1]
for b in ("b1", "b2", "b3", "b4"):
    os.mkdir(os.path.join(d, b))
    for i in range(300):
        with open(os.path.join(d, b, "f%03d" % i), "wb") as f:
            # named inside: two random files of one byte were once the same evidence
            f.write(b"%s/%03d " % (b.encode(), i) + os.urandom(1 + (i * 37) % 4000))
for i in range(4):
    with open(os.path.join(d, "pre%d.bin" % i), "wb") as f:
        f.write(os.urandom(20000 + 10000 * i))
PY
head -c $((400 << 20)) /dev/urandom >"$IN/big400"
head -c $((64 << 20)) /dev/urandom >"$IN/big64"

init_archive "$A" Crash-Office
start_daemon "$A"

# --- acknowledged ingests before any crash ------------------------------------------------
for i in 0 1 2 3; do
	rc=0
	cu "$A" ingest "$IN/pre$i.bin" >"$T/pre$i.out" 2>/dev/null || rc=$?
	check "pre$i: acknowledged" [ "$rc" -eq 0 -a -s "$T/pre$i.out" ]
	cat "$T/pre$i.out" >>"$MANIFEST"
	EVIDENCE=$((EVIDENCE + 1)) RECORDS=$((RECORDS + 2)) COMMITS=$((COMMITS + 1))
done
HEX=$(git --git-dir="$A/git" for-each-ref --format='%(refname:lstrip=2)' refs/feeds/)
check "the feed ref is a loose ref file (the commit-point trigger reads it)" \
    [ -f "$A/git/refs/feeds/$HEX" ]

# --- the crashes ---------------------------------------------------------------------------
crash_run big-middle tmp_over 100000000 -- "$IN/big400"
crash_run batch-middle tmp_has_file -- "$IN"/b1/*
crash_run batch-commit-phase commit_phase -- "$IN"/b2/*
crash_run batch-commit-point ref_moved -- "$IN"/b3/*
crash_run big-commit-point ref_moved -- "$IN/big64"

# One more batch with no crash, then a clean stop and start.
rc=0
cu "$A" ingest "$IN"/b4/* >"$T/b4.out" 2>/dev/null || rc=$?
check "a batch after the crashes is acknowledged" [ "$rc" -eq 0 ]
cat "$T/b4.out" >>"$MANIFEST"
EVIDENCE=$((EVIDENCE + 300)) RECORDS=$((RECORDS + 301)) COMMITS=$((COMMITS + 1))
stop_daemon "$DAEMON_PID" || fail "the daemon did not stop with exit 0"
start_daemon "$A"

# --- everything acknowledged is there ------------------------------------------------------
counts
check "final status counts ($EVIDENCE/$RECORDS/$COMMITS; got $E_NOW/$R_NOW/$C_NOW)" \
    [ "$E_NOW" = "$EVIDENCE" -a "$R_NOW" = "$RECORDS" -a "$C_NOW" = "$COMMITS" ]
python3 "$RAW" "$A/custodyd.sock" get-many "$MANIFEST" >"$T/getmany.out" 2>&1 || true
want=$(wc -l <"$MANIFEST")
got=$(grep -c '^got ' "$T/getmany.out" || true)
check "every acknowledged file comes back byte-identical ($got of $want)" [ "$got" -eq "$want" ]
grep '^bad' "$T/getmany.out" >&2 || true
check "the get-many run ended" grep -qx end "$T/getmany.out"
for sample in 1 $((want / 2)) "$want"; do
	line=$(sed -n "${sample}p" "$MANIFEST")
	sha=${line:0:64} path=${line:66}
	rm -f "$T/sample"
	cu "$A" get "$sha" -o "$T/sample" >/dev/null 2>&1 || true
	check "custody get of $(basename "$path") is byte-identical" cmp -s "$path" "$T/sample"
done
if grep -q " $IN/big64\$" "$MANIFEST"; then
	rm -f "$T/sample"
	cu "$A" get "$(sha256sum "$IN/big64" | cut -c1-64)" -o "$T/sample" >/dev/null 2>&1 || true
	check "custody get of the 64 MiB file is byte-identical" cmp -s "$IN/big64" "$T/sample"
fi
cu "$A" --json log >"$T/log.json" 2>/dev/null || true
# the gets above are custody events: commits of their own
check "every commit in the log has a good signature; $COMMITS besides the gets' events" python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["entries"]
assert all(x["signature"] == "good" for x in e)
assert len([x for x in e if x["summary"] != "get evidence"]) == int(sys.argv[2])' "$T/log.json" "$COMMITS"
vrc=0
cu "$A" verify >/dev/null 2>&1 || vrc=$?
check "the final verify is clean" [ "$vrc" -eq 0 ]
check "tmp/ is empty at the end" [ -z "$(ls -A "$A/tmp")" ]
stop_daemon "$DAEMON_PID" || fail "the daemon did not stop with exit 0"
done_testing
