#!/usr/bin/env bash
# Touch the machine's free memory once before a benchmark measures anything. On a virtual
# machine whose memory is given to it as it is first used, a page the guest has never touched
# costs seconds per GiB of kernel time the first time a program writes into it (the copy into a
# new page-cache page), and that cost lands on whichever program of the benchmark writes first,
# whatever its own speed. Writing zeros into /dev/shm and removing them makes the programs of a
# run pay what they cost on a machine with resident memory: about 4 s a GiB the first time, a
# fraction of a second a GiB once warm. WARM_GIB sets the amount (default: the available memory
# less 2 GiB, as much as /dev/shm takes); WARM_MEMORY=0 skips it.
# Usage: tests/bench/warm-memory.sh   (called by the other scripts here)
set -euo pipefail
[ "${WARM_MEMORY:-1}" = 0 ] && exit 0
avail=$(awk '/MemAvailable/ { printf "%d", $2 / 1048576 }' /proc/meminfo)
shm=$(df -P -k /dev/shm 2>/dev/null | awk 'NR == 2 { printf "%d", $4 / 1048576 }')
gib=${WARM_GIB:-$(( avail - 2 ))}
[ -n "$shm" ] && [ "$gib" -gt $(( shm - 1 )) ] && gib=$(( shm - 1 ))
[ "$gib" -gt 0 ] || exit 0
f=$(mktemp /dev/shm/custody-warm.XXXXXX)
trap 'rm -f "$f"' EXIT
s=$(date +%s.%N)
head -c $(( gib << 30 )) /dev/zero >"$f"
rm -f "$f"
awk -v s="$s" -v e="$(date +%s.%N)" -v g="$gib" \
    'BEGIN { printf "(memory warmed: %d GiB in %.1f s)\n", g, e - s }' >&2
