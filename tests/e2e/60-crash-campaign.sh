#!/usr/bin/env bash
# Crash consistency: custodyd killed -9 at a random moment, CRASH_RUNS times (default 3 here;
# `CRASH_RUNS=50` for the campaign) in each of: a batch ingest, a CSV import, a sync on the
# receiving side, a sync on the sending side, an extract, and an offline reindex. After each
# restart: `custody verify` is clean; every acknowledged item is there and byte-identical (files
# got back, all 300 imported victims listed); what was not acknowledged is all there or not at
# all; the index's commit count equals git's; an interrupted extract leaves no dossier, or one
# that verifies. Prints runs, acknowledged items checked and failures.
. "$(dirname "$0")/lib.sh"

RUNS=${CRASH_RUNS:-3}
A=$T/a B=$T/b IN=$T/in
mkdir -p "$IN"
PA=$(free_port) PB=$(free_port)
CHECKED=0 RUNS_DONE=0

# rnd MAX_MS: a random sleep of up to MAX_MS milliseconds.
rnd() {
	sleep "$(python3 -c "import random; print(random.randint(0, $1) / 1000)")"
}
# lock_free DIR: wait (up to 60 s) until no process holds DIR's custodyd.lock. A daemon killed
# is not gone at once: on a loaded machine it may still hold the lock a fixed pause later, and
# the daemon started then refused to run ("another custodyd is already running").
lock_free() {
	flock -w 60 "$1/custodyd.lock" true || fail "$1: custodyd.lock still held 60 s after a kill"
}
# restart DIR [ARGS]: kill -9 what runs on DIR (if anything), start it again.
restart() {
	local dir=$1 pid
	shift
	pid=$(cat "$dir/custodyd.lock" 2>/dev/null || true)
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
	lock_free "$dir"
	start_daemon "$dir" "$@"
}
# commits_agree DIR: the index's commit count is the sum of git's feed lengths.
commits_agree() {
	local idx git=0 r
	idx=$(cu "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["commits"])')
	for r in $(git --git-dir="$1/git" for-each-ref --format='%(refname)' refs/feeds); do
		git=$((git + $(git --git-dir="$1/git" rev-list --count "$r")))
	done
	[ "$idx" -eq "$git" ]
}
# consistent DIR WHAT: verify clean and the counts agree, or a failure naming WHAT.
consistent() {
	quiet cu "$1" verify || fail "$2: verify is not clean: $(cu "$1" verify 2>&1 | tail -3)"
	commits_agree "$1" || fail "$2: the index's commit count differs from git's"
}
# got_back DIR SHA FILE: get gives FILE's bytes.
got_back() {
	rm -f "$T/back"
	cu "$1" get "$2" -o "$T/back" >/dev/null 2>&1 && cmp -s "$3" "$T/back"
}

init_archive "$A" crash-a
start_daemon "$A" --listen "127.0.0.1:$PA"
"$CUSTODYD" init "$B" --office crash-b --joining --no-passphrase >"$B.init" 2>"$B.init.err"
quiet cu "$A" invite crash-b "$(head -n1 "$B.init")" -o "$B.inv" --address "127.0.0.1:$PA"
quiet "$CUSTODYD" join "$B" "$B.inv"
start_daemon "$B" --listen "127.0.0.1:$PB"
quiet cu "$A" peer add crash-b "127.0.0.1:$PB" "$(head -n1 "$B.init")"
quiet cu "$A" incident add --id crash-inc --date 2024-12-01

# --- a batch ingest ---------------------------------------------------------------------------
for run in $(seq 1 "$RUNS"); do
	mkdir -p "$IN/i$run"
	for k in $(seq 1 12); do head -c $((RANDOM * 2 + k)) /dev/urandom >"$IN/i$run/f$k"; done
	cu "$A" ingest --incident crash-inc "$IN/i$run"/* >"$T/ack" 2>/dev/null &
	cl=$!
	rnd 400
	restart "$A" --listen "127.0.0.1:$PA"
	acked=0
	wait "$cl" && acked=1
	consistent "$A" "ingest run $run"
	present=0
	for f in "$IN/i$run"/*; do
		sha=$(sha256sum <"$f" | cut -d' ' -f1)
		if got_back "$A" "$sha" "$f"; then
			present=$((present + 1))
		elif [ "$acked" = 1 ]; then
			fail "ingest run $run: acknowledged $(basename "$f") is not got back"
		fi
		CHECKED=$((CHECKED + acked))
	done
	[ "$present" -eq 0 ] || [ "$present" -eq 12 ] || fail "ingest run $run: $present of 12 files visible"
	RUNS_DONE=$((RUNS_DONE + 1))
done

# --- a CSV import --------------------------------------------------------------------------------
for run in $(seq 1 "$RUNS"); do
	python3 - "$IN/v$run.csv" "$run" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("id,name,date_documented,governorate\n")
    for i in range(300):
        f.write("crash-%s-%d,Name %d,2024-12-02,aleppo\n" % (sys.argv[2], i, i))
PY
	cu "$A" import victims "$IN/v$run.csv" >/dev/null 2>&1 &
	cl=$!
	rnd 600
	restart "$A" --listen "127.0.0.1:$PA"
	acked=0
	wait "$cl" && acked=1
	consistent "$A" "import run $run"
	n=$(cu "$A" victim list --json | python3 -c "import json,sys; print(sum(1 for v in json.load(sys.stdin) if v['id'].startswith('crash-$run-')))")
	if [ "$acked" = 1 ] && [ "$n" -ne 300 ]; then
		fail "import run $run: acknowledged, but $n of 300 victims"
	fi
	[ "$n" -eq 0 ] || [ "$n" -eq 300 ] || fail "import run $run: $n of 300 victims visible"
	CHECKED=$((CHECKED + acked * 300))
	RUNS_DONE=$((RUNS_DONE + 1))
done

# --- a sync, killed on either side --------------------------------------------------------------
for side in receiver sender; do
	for run in $(seq 1 "$RUNS"); do
		mkdir -p "$IN/s$side$run"
		for k in 1 2 3; do head -c $((256 << 10)) /dev/urandom >"$IN/s$side$run/f$k"; done
		quiet cu "$A" ingest "$IN/s$side$run"/*
		cu "$B" sync crash-a >/dev/null 2>&1 &
		cl=$!
		rnd 500
		if [ "$side" = receiver ]; then
			restart "$B" --listen "127.0.0.1:$PB"
		else
			restart "$A" --listen "127.0.0.1:$PA"
		fi
		wait "$cl" || true
		consistent "$A" "sync ($side killed) run $run at A"
		consistent "$B" "sync ($side killed) run $run at B"
		quiet cu "$B" sync crash-a || fail "sync ($side killed) run $run: the next sync fails"
		for f in "$IN/s$side$run"/*; do
			got_back "$B" "$(sha256sum <"$f" | cut -d' ' -f1)" "$f" ||
			    fail "sync ($side killed) run $run: $(basename "$f") not byte-identical at B"
			CHECKED=$((CHECKED + 1))
		done
		consistent "$B" "sync ($side killed) run $run at B, synced again"
		RUNS_DONE=$((RUNS_DONE + 1))
	done
done

# --- an extract ---------------------------------------------------------------------------------
age-keygen -o "$T/k" 2>/dev/null
quiet cu "$A" recipient add crash-r "$(age-keygen -y "$T/k")"
for run in $(seq 1 "$RUNS"); do
	rm -f "$T/d.age"
	cu "$A" extract --recipient crash-r --incident crash-inc -o "$T/d.age" >/dev/null 2>&1 &
	cl=$!
	rnd 400
	restart "$A" --listen "127.0.0.1:$PA"
	acked=0
	wait "$cl" && acked=1
	consistent "$A" "extract run $run"
	if [ -e "$T/d.age" ]; then
		quiet "$CUSTODY" verify-dossier "$T/d.age" -i "$T/k" ||
		    fail "extract run $run: the dossier left does not verify"
	elif [ "$acked" = 1 ]; then
		fail "extract run $run: acknowledged but no dossier"
	fi
	[ -z "$(ls "$T" | grep 'd.age.partial' || true)" ] || fail "extract run $run: a partial file is left"
	CHECKED=$((CHECKED + acked))
	RUNS_DONE=$((RUNS_DONE + 1))
done

# --- an offline reindex ----------------------------------------------------------------------------
want=$(cu "$A" status --json | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["evidence"], j["records"], j["commits"])')
kill "$(cat "$A/custodyd.lock")"
lock_free "$A"
for run in $(seq 1 "$RUNS"); do
	"$CUSTODYD" reindex "$A" >/dev/null 2>&1 &
	rp=$!
	rnd 300
	kill -9 "$rp" 2>/dev/null || true
	wait "$rp" 2>/dev/null || true
	start_daemon "$A" --listen "127.0.0.1:$PA"
	got=$(cu "$A" status --json | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["evidence"], j["records"], j["commits"])')
	[ "$got" = "$want" ] || fail "reindex run $run: counts $got, not $want"
	consistent "$A" "reindex run $run"
	kill "$(cat "$A/custodyd.lock")"
	lock_free "$A"
	RUNS_DONE=$((RUNS_DONE + 1))
done

echo "crash campaign: $RUNS_DONE runs, $CHECKED acknowledged items checked, $FAILS failures"
check "every run consistent" [ "$FAILS" -eq 0 ]
done_testing
