#!/usr/bin/env bash
# End-to-end tests under valgrind memcheck: custodyd and custody each run through valgrind;
# any memcheck error or definite leak in any of their processes fails.
# Usage: tests/valgrind/run.sh BUILD_DIR TEST...   (TEST: a tests/e2e script name, e.g. 10-roundtrip)
set -euo pipefail
BUILD=$(realpath "${1:?build directory}")
shift
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/custody-valgrind.XXXXXX")
trap 'rm -rf "$W"' EXIT
command -v valgrind >/dev/null || { echo "valgrind is not installed"; exit 1; }
for bin in custodyd custody; do
	cat >"$W/$bin" <<SH
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \\
    --show-leak-kinds=definite --track-fds=no --log-file="$W/log.$bin.%p" "$BUILD/$bin" "\$@"
SH
	chmod +x "$W/$bin"
done
rc=0
for t in "$@"; do
	echo "== $t under valgrind"
	if ! CUSTODYD=$W/custodyd CUSTODY=$W/custody VECTORS=$HERE/../vectors BUILD=$BUILD \
	    UNDER_VALGRIND=1 bash "$HERE/../e2e/$t.sh" >"$W/$t.out" 2>&1; then
		grep -a 'FAIL' "$W/$t.out" | head -20
		echo "$t: failed under valgrind"
		rc=1
	fi
done
n=$(ls "$W"/log.* 2>/dev/null | wc -l)
bad=0
for f in "$W"/log.*; do
	[ -s "$f" ] || continue
	echo "--- $(basename "$f")"
	cat "$f"
	bad=1
done
echo "valgrind: $n processes checked, $([ "$bad" = 0 ] && echo "no errors, no definite leaks" || echo "REPORTS ABOVE")"
[ "$bad" = 0 ] && exit $rc || exit 1
