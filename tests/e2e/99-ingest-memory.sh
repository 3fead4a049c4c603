#!/usr/bin/env bash
# The memory of an ingest does not grow with its files the way it did: a commit of thousands
# of files makes each file's evidence record when the commit and the index ask for it (never
# all at once), and keeps the sealed objects in an unnamed file under tmp/ until they are
# packed. Two daemons ingest 1,000 and 9,000 small files in one batch each; the second's peak
# memory is at most 24 MiB above the first's (it was about 45 MiB above when every record and
# object of the commit stayed in memory: 5.6 KiB a file). Both archives verify, git accepts the
# pack, and nothing is left under tmp/.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || { echo "SKIP: git is not installed"; exit 77; }

python3 - "$T/small" "$T/big" <<'PY'
import os, sys
for path, n in ((sys.argv[1], 1000), (sys.argv[2], 9000)):
    os.makedirs(path)
    for i in range(n):
        with open(os.path.join(path, "page-%05d.txt" % i), "w") as f:
            f.write("scanned page %d of %s\n" % (i, os.path.basename(path)))
PY

declare -A HWM
for name in small big; do
	A=$T/a-$name
	init_archive "$A" "$name"
	start_daemon "$A"
	out=$(cu "$A" ingest "$T/$name" 2>&1) || fail "$name: the ingest: $out"
	n=$(ls "$T/$name" | wc -l)
	contains "$name: the $n files are committed as one batch" "$out" \
	    "committed $n files as seq 1"
	HWM[$name]=$(awk '/VmHWM/ {print $2}' "/proc/$DAEMON_PID/status")
	check "$name: custody verify is clean" quiet cu "$A" verify
	check "$name: git fsck accepts the repository" quiet git --git-dir="$A/git" fsck --strict
	check "$name: nothing is left under tmp/" [ -z "$(ls -A "$A/tmp")" ]
	stop_daemon "$DAEMON_PID" || fail "$name: the daemon stops"
done
grown=$(((HWM[big] - HWM[small]) / 1024))
if asan_build; then
	echo "(AddressSanitizer keeps freed memory in quarantine: peak memory is not compared;" \
	    "it grew by $grown MiB)"
else
	check "8,000 more files add at most 24 MiB to custodyd's peak memory ($grown MiB)" \
	    [ "$grown" -le 24 ]
fi
done_testing
