#!/usr/bin/env bash
# A long list goes out while it is made, as fast as the client reads it, not held whole: a
# client that asks for 30,000 victims and reads nothing for seconds costs custodyd a few parts
# of the answer, not the answer (which grew the daemon by about 2 KiB a record), and keeps
# no one else waiting, nor do five such clients at once (more than its workers); once it
# reads, every record comes, in lists that end as they should. A
# client killed while it reads nothing frees what it held: the daemon answers the others, and
# the whole list still comes to the next client, whose own memory does not grow with it, as CSV
# or as JSON. (Memory is not measured under AddressSanitizer, whose allocator keeps freed
# memory.)
. "$(dirname "$0")/lib.sh"
A=$T/a
N=30000
init_archive "$A" lists
ASAN=0
asan_build && ASAN=1
start_daemon "$A"
python3 "$(dirname "$0")/../bench/victims.py" "$T/victims.csv" "$N"
check "$N victims imported" quiet cu "$A" import victims "$T/victims.csv"
# a new daemon: its peak is the lists', not the import's
stop_daemon "$DAEMON_PID"
start_daemon "$A"
cu "$A" status >/dev/null
rss() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$DAEMON_PID/status"; }
base=$(rss VmHWM)

raw=$(dirname "$0")/rawclient.py
python3 "$raw" "$A/custodyd.sock" list-stall "victim $N 6" >"$T/stall.out" 2>&1 &
RAW=$!
for i in $(seq 1 50); do grep -q stalled "$T/stall.out" && break; sleep 0.1; done
sleep 3
grown=$(( $(rss VmHWM) - base ))
s=$(date +%s.%N)
check "custodyd answers a status meanwhile" quiet cu "$A" status
check "and a list of ten" [ "$(cu "$A" victim list --limit 10 --format csv | wc -l)" -eq 11 ]
took=$(awk -v s="$s" -v e="$(date +%s.%N)" 'BEGIN { printf "%d", e - s }')
check "without waiting for the client that reads nothing (${took} s)" [ "$took" -lt 3 ]
if [ "$ASAN" = 1 ]; then
	echo "(AddressSanitizer keeps freed memory in quarantine: the growth is not measured)"
else
	check "the client that reads nothing grew custodyd by < 16 MiB ($((grown / 1024)) MiB)" \
	    [ "$grown" -lt $((16 << 10)) ]
fi
wait "$RAW"
contains "once it reads, every record comes" "$(cat "$T/stall.out")" "records $N in "

# more clients that read nothing than custodyd has workers: each holds the thread that waits
# for it, not one the others need (pool.c starts another)
stalled=()
for i in 1 2 3 4 5; do
	python3 "$raw" "$A/custodyd.sock" list-stall "victim $N 12" >"$T/stalled$i.out" 2>&1 &
	stalled+=("$!")
done
for i in $(seq 1 50); do
	[ "$(cat "$T"/stalled?.out | grep -c stalled)" -eq 5 ] && break
	sleep 0.1
done
sleep 2
s=$(date +%s.%N)
check "five clients read nothing: custodyd answers a status" quiet cu "$A" status
check "a list" [ "$(cu "$A" victim list --limit 10 --format csv | wc -l)" -eq 11 ]
check "and records a victim" quiet cu "$A" victim add --id late-1 --name "Late One" \
    --date-documented 2024-12-06
took=$(awk -v s="$s" -v e="$(date +%s.%N)" 'BEGIN { printf "%d", e - s }')
check "without waiting for any of them (${took} s)" [ "$took" -lt 4 ]
wait "${stalled[@]}"
for i in 1 2 3 4 5; do
	contains "once it reads, client $i gets every record" "$(cat "$T/stalled$i.out")" \
	    "records $N in "
done
check "the victim recorded meanwhile is there" quiet cu "$A" victim show late-1

# clients killed while they read nothing: what they held goes
killed=()
for i in 1 2 3; do
	python3 "$raw" "$A/custodyd.sock" list-stall "victim $N 60" >"$T/killed$i.out" 2>&1 &
	killed+=("$!")
done
sleep 2
kill -9 "${killed[@]}"
wait "${killed[@]}" 2>/dev/null || true
check "custodyd lives on" kill -0 "$DAEMON_PID"
/usr/bin/time -f %M -o "$T/csv.kb" "$CUSTODY" -A "$A" victim list --limit $((N + 1)) --format csv \
    >"$T/all.csv"
check "the next client gets the whole list" [ "$(wc -l <"$T/all.csv")" -eq $((N + 2)) ]
check "each victim once" [ "$(tail -n +2 "$T/all.csv" | sort -u | wc -l)" -eq $((N + 1)) ]
/usr/bin/time -f %M -o "$T/json.kb" "$CUSTODY" -A "$A" victim list --limit $((N + 1)) --format json \
    >"$T/all.json"
check "the same victims as JSON, in the same order" [ "$(py 'import csv, json, sys
ids = [r["id"] for r in json.load(open(sys.argv[1]))]
print(ids == [r["id"] for r in csv.DictReader(open(sys.argv[2], newline=""))])' \
    "$T/all.json" "$T/all.csv")" = True ]
# the client prints CSV and JSON as the records come: it holds none of the list either
if [ "$ASAN" = 0 ]; then
	for f in csv json; do
		kb=$(tail -n 1 "$T/$f.kb")
		check "custody lists $N victims as $f in less than 32 MiB ($((kb / 1024)) MiB)" \
		    [ "$kb" -lt $((32 << 10)) ]
	done
fi
done_testing
