#!/usr/bin/env bash
# A fuzzing campaign: every harness of BUILD (default build-fuzz, made with
# `CC=clang cmake -B build-fuzz -DCUSTODY_FUZZ=ON`) for SECONDS (default 600) each, JOBS
# (default 2) at a time, from its seed corpus into a scratch corpus. Prints executions per
# harness and stops at the first crash, leak or sanitizer report (its input is kept).
# Usage: tests/fuzz/campaign.sh [SECONDS] [BUILD]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH=${1:-600}
BUILD=${2:-build-fuzz}
JOBS=${JOBS:-2}
W=$(mktemp -d "${TMPDIR:-/tmp}/custody-fuzz.XXXXXX")
echo "corpora and logs in $W"

one() {
	local h=$1 name
	name=${h#"$BUILD"/fuzz_}
	mkdir -p "$W/$name" "$W/$name.crash"
	if "$h" -max_total_time="$SECONDS_EACH" -print_final_stats=1 -artifact_prefix="$W/$name.crash/" \
	    "$W/$name" "tests/fuzz/corpus/$name" >"$W/$name.log" 2>&1; then
		printf '%-12s %12s executions in %s s, %s new inputs, no crash\n' "$name" \
		    "$(awk '/number_of_executed_units/ {print $2}' "$W/$name.log")" "$SECONDS_EACH" \
		    "$(awk '/new_units_added/ {print $2}' "$W/$name.log")"
	else
		echo "$name: FAILED (see $W/$name.log and $W/$name.crash/)"
		return 1
	fi
}
export -f one
export W BUILD SECONDS_EACH
ls "$BUILD"/fuzz_* | xargs -P "$JOBS" -I{} bash -c 'one {}'
