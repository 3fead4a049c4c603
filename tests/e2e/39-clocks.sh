#!/usr/bin/env bash
# Lamport clocks from a seized office are bounded, and a record's revision stamp is its commit's.
#
# Offices A and B (joined by A's invitation). A records victim v1 (party russia); B pulls it.
# B is seized: with its real key, custody-forge (tests/e2e/forge.c, linking the project's own
# library) signs a commit in B's feed that edits A's victim (party sdf) with Custody-Lamport
# 9223372036854775807; B's own daemon then refuses to write a clock past it. A syncs from B: the
# commit is refused like a fork (sync exits 1 and says why, A's copy of B's feed does not move,
# the commit is kept under A/forks/ and listed by status). A then edits v1 (party hts): that is
# the current value in show, query and report, and history agrees (A's edit last, nothing of
# B's). Before clocks were bounded, A's edit got a clock past INT64_MAX, turned negative, and
# lost to the forged one forever.
# Then B, its feed reset, signs commits whose record stamps disagree with the commit (rev.lamport
# huge under a sane trailer; rev.office A's key): each is refused the same way, A stays clean,
# and custody verify at B itself reports the stamp.
. "$(dirname "$0")/lib.sh"

FORGE=${BUILD:+$BUILD/custody-forge}
if [ -z "$FORGE" ] || [ ! -x "$FORGE" ]; then
	echo "SKIP: custody-forge not built (set BUILD to the build directory)"
	exit 77
fi

# field DIR ID NAME: the field NAME of record ID as DIR's show gives it.
field() {
	cu "$1" victim show "$2" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$3"
}

# query_ids DIR PARTY: the ids DIR's query for victims of PARTY returns, comma-separated.
query_ids() {
	cu "$1" query victims --party "$2" --format json |
	    python3 -c 'import json,sys; print(",".join(sorted(x["id"] for x in json.load(sys.stdin))))'
}

# report_party DIR PARTY: how many December 2024 victims DIR's report puts under PARTY.
report_party() {
	cu "$1" report --month 2024-12 --format json | python3 -c '
import json, sys
def find(o):
    if isinstance(o, dict):
        if "by_party" in o and isinstance(o["by_party"], dict):
            return o["by_party"]
        for v in o.values():
            r = find(v)
            if r is not None:
                return r
print(find(json.load(sys.stdin)).get(sys.argv[1], {}).get("victims", 0))' "$2"
}

# refused_by_a WHAT PATTERN: A's sync from B exits 1 naming the refusal (PATTERN), keeps the
# commit B now serves as evidence, and its copy of B's feed does not move.
refused_by_a() {
	local what=$1 pat=$2 forged rc=0 out
	forged=$(feed_ref "$B" "$HB")
	out=$(cu "$A" sync B 2>&1) || rc=$?
	check "$what: A's sync from B exits 1" [ "$rc" -eq 1 ]
	if printf '%s\n' "$out" | grep -i refused | grep -qi -- "$pat"; then
		ok "$what: the sync says the commit is refused ($pat)"
	else
		fail "$what: the sync says the commit is refused ($pat): $out"
	fi
	check "$what: A's copy of B's feed did not move" [ "$(feed_ref "$A" "$HB")" = "$BKEEP" ]
	check "$what: the forged commit is kept under A/forks/" \
	    [ -n "$(find "$A/forks" -name "*$forged*" -type f 2>/dev/null)" ]
	check "$what: the kept commit is the forged one, byte for byte" \
	    [ "$(git hash-object -t commit "$(find "$A/forks" -name "*$forged*" | sed -n 1p)")" = "$forged" ]
	check "$what: A's status lists it" py_status_lists "$forged"
	check "$what: custody verify stays clean at A" quiet cu "$A" verify
}

py_status_lists() {
	cu "$A" --json status | python3 -c '
import json, sys
f = json.load(sys.stdin)["forks"]
sys.exit(0 if any(sys.argv[1] in l for l in f) else 1)' "$1"
}

A=$T/a B=$T/b
two_offices
HA=$(key_hex "$A") HB=$(key_hex "$B")

check "A records v1" quiet cu "$A" victim add --id v1 --name "Victim One" \
    --date-documented 2024-12-03 --party russia --governorate idlib
check "B pulls A" quiet cu "$B" sync A
check "B shows v1 (party russia)" [ "$(field "$B" v1 party)" = russia ]
check "A pulls B's honest feed" quiet cu "$A" sync B
BKEEP=$(feed_ref "$A" "$HB")
check "A holds B's feed" [ -n "$BKEEP" ]

# --- B, seized, runs A's victim's clock to INT64_MAX ----------------------------------------------
stop_daemon "$DB" || fail "B stops cleanly"
BGOOD=$(feed_ref "$B" "$HB")
check "B forges a commit at clock 9223372036854775807 editing A's v1" \
    quiet "$FORGE" "$B" v1 party sdf 9223372036854775807
check "the forged commit carries the clock" \
    sh -c "git --git-dir='$B/git' cat-file commit refs/feeds/$HB | grep -qx 'Custody-Lamport: 9223372036854775807'"
check "B's feed moved to the forged commit" [ "$(feed_ref "$B" "$HB")" != "$BGOOD" ]
start_daemon "$B" --listen "127.0.0.1:$PB"
DB=$DAEMON_PID
check "B itself now shows the forged party" [ "$(field "$B" v1 party)" = sdf ]
FORGED=$(feed_ref "$B" "$HB")
rc=0
out=$(cu "$B" victim edit v1 --party isis 2>&1) || rc=$?
check "B, holding clock 2^63-1, refuses to write a clock past it" [ "$rc" -ne 0 ]
contains "and says the clock is exhausted" "$out" "Lamport clock is exhausted"
check "B's feed did not move" [ "$(feed_ref "$B" "$HB")" = "$FORGED" ]
refused_by_a "clock 2^63-1" "clock"
check "A still shows v1 with party russia" [ "$(field "$A" v1 party)" = russia ]

check "A edits v1 (party hts)" quiet cu "$A" victim edit v1 --party hts
check "show: A's edit is the current value" [ "$(field "$A" v1 party)" = hts ]
check "query: v1 is among hts's victims" [ "$(query_ids "$A" hts)" = v1 ]
check "query: and not sdf's" [ -z "$(query_ids "$A" sdf)" ]
check "report: v1 counts for hts" [ "$(report_party "$A" hts)" = 1 ]
check "report: nothing for sdf" [ "$(report_party "$A" sdf)" = 0 ]
out=$(cu "$A" history v1 --json)
check "history agrees: A's edit last, with party hts, nothing from B's feed" python3 -c '
import json, sys
h = json.loads(sys.argv[1])
r = h["revisions"]
last = r[-1]
assert last["record"]["party"] == "hts", last
assert not any(x["office"].startswith(sys.argv[2][:16]) or x["office"] == "B" for x in r), r
l = [x["lamport"] for x in r]
assert all(isinstance(x, int) and 0 < x < 2**63 for x in l) and l == sorted(l), l' "$out" "$HB"
check "A's later clock stayed small" python3 -c '
import json, sys
r = json.loads(sys.argv[1])["revisions"]
sys.exit(0 if r[-1]["lamport"] < 2**32 else 1)' "$out"
check "a second sync from B is refused again" sh -c "! '$CUSTODY' -A '$A' sync B >/dev/null 2>&1"
check "and A's copy of B's feed still did not move" [ "$(feed_ref "$A" "$HB")" = "$BKEEP" ]
check "show still gives A's edit" [ "$(field "$A" v1 party)" = hts ]

# --- B's records stamped with another clock or office than their commit's -----------------------
# reforge ARGS...: stop B, put its feed back at its honest head (and drop its index, which still
# holds the forged revision), forge with ARGS (custody-forge's FIELD onwards), start B.
reforge() {
	stop_daemon "$DB" || fail "B stops cleanly"
	git --git-dir="$B/git" update-ref "refs/feeds/$HB" "$BGOOD"
	rm -f "$B/index.sqlite"
	"$FORGE" "$B" v1 party "$@" >/dev/null || fail "forge $*"
	start_daemon "$B" --listen "127.0.0.1:$PB"
	DB=$DAEMON_PID
}
reforge sdf next 9223372036854775807
refused_by_a "rev.lamport 2^63-1 under a sane trailer" "revision"
check "show still gives A's edit" [ "$(field "$A" v1 party)" = hts ]
reforge coalition next = "$HA"
refused_by_a "rev.office A's key in B's feed" "revision"
check "show still gives A's edit" [ "$(field "$A" v1 party)" = hts ]
check "query: v1 still hts's" [ "$(query_ids "$A" hts)" = v1 ]
rc=0
out=$(cu "$B" verify 2>&1) || rc=$?
check "custody verify at B reports the record stamped with A's key in B's feed" [ "$rc" -ne 0 ]
contains "and says its revision stamp is not its commit's" "$out" "revision stamp"

stop_daemon "$DB" || fail "B stops cleanly"
stop_daemon "$DA" || fail "A stops cleanly"
done_testing
