#!/usr/bin/env bash
# An office admitted after data-key rotations reads what was written under them.
#
# alpha and bravo (real offices over TCP) each rotate once: alpha's epoch 1 and bravo's epoch
# 2, both sealed to the two of them; alpha writes victim V1 under bravo's epoch 2. alpha then
# invites charlie, and seals its epoch 1 to charlie in a new revision of the epoch record.
# charlie joins and pulls alpha: alpha's feed waits for bravo's epoch 2, which bravo has not
# sealed to charlie yet, and the sync says so. bravo pulls alpha (learns of charlie) and seals
# its epoch 2 to charlie; alpha pulls bravo; charlie pulls alpha again and takes both feeds
# (epoch 1 from a commit later in alpha's own pack, epoch 2 from bravo's feed, pulled after
# alpha's in the same session), reads V1, and `custody verify` is clean.
. "$(dirname "$0")/lib.sh"

PROBE=${BUILD:-}/custody-keyprobe
[ -x "$PROBE" ] || { echo "SKIP: custody-keyprobe is not built (set BUILD)"; exit 77; }
epochs() { "$PROBE" "$1" epochs | sort -n; }

A=$T/alpha B=$T/bravo C=$T/charlie
PA=$(free_port) PB=$(free_port) PC=$(free_port)
init_archive "$A" alpha
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
join_office "$B" bravo "$A" "$PA"
start_daemon "$B" --listen "127.0.0.1:$PB"
DB=$DAEMON_PID
check "alpha pins bravo" quiet cu "$A" peer add bravo "127.0.0.1:$PB" "$(key_line "$B")"
check "bravo pulls alpha" quiet cu "$B" sync alpha
HA=$(key_hex "$A") HB=$(key_hex "$B")

out=$(cu "$A" keys rotate-data)
contains "alpha: epoch 1, sealed to alpha and bravo" "$out" "data-key epoch 1 (commit"
check "bravo pulls alpha (epoch 1)" quiet cu "$B" sync alpha
out=$(cu "$B" keys rotate-data)
contains "bravo: epoch 2" "$out" "data-key epoch 2 (commit"
check "alpha pulls bravo (epoch 2)" quiet cu "$A" sync bravo
check "alpha holds both epochs" [ "$(epochs "$A")" = "$(printf '1 %s\n2 %s' "$HA" "$HB")" ]
V1=$(cu "$A" victim add --name "Written Before Charlie" --date-documented 2024-12-01)

join_office "$C" charlie "$A" "$PA"
start_daemon "$C" --listen "127.0.0.1:$PC"
DC=$DAEMON_PID
check "alpha pins charlie" quiet cu "$A" peer add charlie "127.0.0.1:$PC" "$(key_line "$C")"
out=$("$PROBE" "$A" record "$HA" "epoch-1-$HA")
check "alpha sealed its epoch 1 to charlie when it invited it" py '
import json, sys
r = json.loads(sys.argv[1])
assert sorted(c["to"] for c in r["copies"]) == sorted(sys.argv[2:]), r
' "$out" "$HA" "$HB" "$(key_hex "$C")"

rc=0
cu "$C" sync alpha >"$T/c.sync" 2>&1 || rc=$?
check "charlie's first sync says what it could not take (exit 1, got $rc)" [ "$rc" -eq 1 ]
contains "charlie's first sync names the data-key epoch" "$(cat "$T/c.sync")" "data-key epoch"
check "charlie took alpha's epoch 1, from later in alpha's feed" \
    eval '"$PROBE" "$C" epochs | grep -qx "1 $HA"'

check "bravo pulls alpha (learns of charlie)" quiet cu "$B" sync alpha
out=$("$PROBE" "$B" record "$HB" "epoch-2-$HB")
check "bravo sealed its epoch 2 to charlie" py '
import json, sys
r = json.loads(sys.argv[1])
assert sys.argv[2] in [c["to"] for c in r["copies"]], r
' "$out" "$(key_hex "$C")"
check "alpha pulls bravo" quiet cu "$A" sync bravo
out=$(cu "$C" sync alpha 2>&1) && ok "charlie pulls alpha: everything taken" ||
    fail "charlie pulls alpha: $out"
check "charlie holds alpha's feed" [ "$(feed_ref "$C" "$HA")" = "$(feed_ref "$A" "$HA")" ]
check "charlie holds bravo's feed" [ "$(feed_ref "$C" "$HB")" = "$(feed_ref "$A" "$HB")" ]
check "charlie holds both epochs" [ "$(epochs "$C")" = "$(printf '1 %s\n2 %s' "$HA" "$HB")" ]
check "charlie reads V1" quiet cu "$C" victim show "$V1"
out=$(cu "$C" verify 2>&1) && ok "charlie: custody verify is clean" || fail "charlie: custody verify: $out"

done_testing
