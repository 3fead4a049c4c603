#!/usr/bin/env bash
# A feed whose pack is larger than one PackData message (1 MiB) goes out in pieces, read back
# one at a time from an unnamed file as the previous piece is written to the socket: the
# receiving office gets the whole feed, the same records, and neither office keeps anything in
# tmp/ afterwards.
. "$(dirname "$0")/lib.sh"

join_office() {
	local dir=$1 name=$2 inviter=$3 iport=$4
	"$CUSTODYD" init "$dir" --office "$name" --joining --no-passphrase >"$dir.init" 2>/dev/null
	cu "$inviter" invite "$name" "$(head -n1 "$dir.init")" -o "$dir.inv" --address "127.0.0.1:$iport" >/dev/null
	"$CUSTODYD" join "$dir" "$dir.inv" >"$dir.join" 2>&1
}

A=$T/a B=$T/b
PA=$(free_port) PB=$(free_port)
init_archive "$A" A
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
join_office "$B" B "$A" "$PA"
start_daemon "$B" --listen "127.0.0.1:$PB"
DB=$DAEMON_PID
cu "$A" peer add B "127.0.0.1:$PB" "$(head -n1 "$B.init")" >/dev/null
HA=$(key_hex "$A")
# 80 victims with 50 KB of notes each: about 4 MB of encrypted records in one pack
python3 - "$T/victims.csv" <<'PY'
import base64, os, sys
with open(sys.argv[1], "w") as f:
    f.write("id,name,sex,age,status,date_of_death,date_documented,governorate,notes\n")
    for i in range(80):
        notes = base64.b64encode(os.urandom(37500)).decode()
        f.write("big%d,Person %d,male,30,civilian,2024-12-01,2024-12-02,idlib,%s\n" % (i, i, notes))
PY
check "A imports 80 large victim records" quiet cu "$A" import victims "$T/victims.csv"
pack=$(git --git-dir="$A/git" rev-list --objects "refs/feeds/$HA" | cut -d' ' -f1 |
    git --git-dir="$A/git" pack-objects --stdout | wc -c)
check "A's feed packs to more than one message ($pack bytes)" [ "$pack" -gt $((2 * 1048576)) ]
rc=0
out=$(cu "$B" sync A 2>&1) || rc=$?
check "B pulls A's feed in one sync" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || echo "$out" >&2
check "B's ref for A's feed equals A's" [ "$(feed_ref "$B" "$HA")" = "$(feed_ref "$A" "$HA")" ]
check "B shows one of the records" quiet cu "$B" show big42
check "nothing left in A's tmp/" [ -z "$(ls -A "$A/tmp")" ]
check "nothing left in B's tmp/" [ -z "$(ls -A "$B/tmp")" ]
check "B's verify is clean" quiet cu "$B" verify
stop_daemon "$DB" || fail "B stops cleanly"
stop_daemon "$DA" || fail "A stops cleanly"
done_testing
