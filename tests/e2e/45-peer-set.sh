#!/usr/bin/env bash
# A new office's first sync, and a peer's address changed in place.
#
# As the README shows: alpha invites beta (--address alpha's port), beta joins and runs without
# --listen, and `custody sync alpha` at beta is accepted by alpha with no `peer add` there:
# inviting pinned beta's key with no address. alpha's timer (every second here) never dials
# that address-less peer and logs nothing about it. Then beta listens: `peer add` of beta's same
# key gives it that address (it used to answer "already pinned"); beta moves to another port and
# `peer set beta --address` follows it, in custody.conf (one [peer beta] section, the rest kept)
# and for the next sync without a restart, and after one. A pinned key never changes by either
# command: another key under beta's name, beta's key under another name, an unknown name, a bad
# address and a missing --address are refused and leave custody.conf as it was.
. "$(dirname "$0")/lib.sh"

A=$T/alpha B=$T/beta
PA=$(free_port) PB=$(free_port) PB2=$(free_port)
init_archive "$A" alpha
init_archive "$T/gamma" gamma
KC=$(key_line "$T/gamma")
sed -i 's/^interval = .*/interval = 1/' "$A/custody.conf"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
HA=$(key_hex "$A")

# --- the README's flow: invite, join, sync from the new office ------------------------------
"$CUSTODYD" init "$B" --office beta --joining --no-passphrase >"$B.init" 2>"$B.init.err" ||
    { cat "$B.init.err" >&2; exit 1; }
KB=$(head -n1 "$B.init")
check "alpha invites beta" quiet cu "$A" invite beta "$KB" -o "$T/beta.inv" \
    --address "127.0.0.1:$PA"
check "beta joins" quiet "$CUSTODYD" join "$B" "$T/beta.inv"
start_daemon "$B"
DB=$DAEMON_PID
HB=$(key_hex "$B")
LB="office $(cut -c1-16 <<<"$HB")"
check "alpha's custody.conf pins beta" grep -q '^\[peer beta\]' "$A/custody.conf"
refute "with no address" sh -c "sed -n '/^\[peer beta\]/,/^\[/p' '$A/custody.conf' | grep -q '^address'"
OUT=$(cu "$B" sync alpha 2>&1) && ok "beta's first sync with alpha is accepted" ||
    fail "beta's first sync with alpha: $OUT"
refute "alpha refused no peer" grep -q "refused peer" "$A.log"
check "beta holds alpha's whole feed" [ "$(seq_of "$B" "$HA")" -gt 0 -a \
    "$(seq_of "$B" "$HA")" = "$(seq_of "$A" "$HA")" ]
OUT=$(cu "$A" --json peers)
check "alpha lists beta with no address" py '
import json, sys; p = json.loads(sys.argv[1]); assert [(x["name"], x["address"]) for x in p] == [("beta", "")]' "$OUT"
sleep 3
refute "alpha's timer never dialled beta (nothing logged about it)" grep -q "sync with $LB" "$A.log"
refute "nor warned about it" grep -qE "custodyd (warning|error|fatal):.*$LB" "$A.log"
check "alpha's log says beta was pinned with no address" \
    grep -q "peer $LB pinned with no address" "$A.log"
check "alpha syncing every peer skips beta" quiet cu "$A" sync
OUT=$(cu "$A" sync beta 2>&1) && fail "alpha dialled beta, which has no address" ||
    ok "alpha does not dial beta, which has no address"
contains "and says how to give it one" "$OUT" "custody peer set beta --address"
refute "nor does it count as a failed attempt" grep -qE "custodyd (warning|error):.*$LB" "$A.log"

# --- peer add with the same key: a new address ------------------------------------------------
stop_daemon "$DB"
start_daemon "$B" --listen "127.0.0.1:$PB"
DB=$DAEMON_PID
check "peer add of beta's same key is accepted" quiet cu "$A" peer add beta "127.0.0.1:$PB" "$KB"
check "custody.conf has beta's new address" grep -qx "address = 127.0.0.1:$PB" "$A/custody.conf"
check "in one [peer beta] section" [ "$(grep -c '^\[peer beta\]' "$A/custody.conf")" = 1 ]
check "custody.conf keeps its other sections" grep -q '^massacre_threshold = 5' "$A/custody.conf"
OUT=$(cu "$A" sync beta 2>&1) && ok "alpha syncs with beta at its address" ||
    fail "alpha sync beta: $OUT"

# --- beta moves: peer set follows it, no restart ----------------------------------------------
stop_daemon "$DB"
start_daemon "$B" --listen "127.0.0.1:$PB2"
DB=$DAEMON_PID
refute "alpha cannot reach beta at its old address" quiet cu "$A" sync beta
printf '# beta moves often\n' >>"$A/custody.conf"
OUT=$(cu "$A" peer set beta --address "127.0.0.1:$PB2" 2>&1) && ok "peer set beta --address" ||
    fail "peer set: $OUT"
contains "peer set prints the new address" "$OUT" "127.0.0.1:$PB2"
check "custody.conf has the new address" grep -qx "address = 127.0.0.1:$PB2" "$A/custody.conf"
refute "and not the old one" grep -q "address = 127.0.0.1:$PB\$" "$A/custody.conf"
check "and the other lines of beta's section" grep -qx "# beta moves often" "$A/custody.conf"
check "and beta's key still" sh -c "sed -n '/^\[peer beta\]/,/^\[/p' '$A/custody.conf' | grep -qF '$(cut -d' ' -f2 <<<"$KB")'"
OUT=$(cu "$A" sync beta 2>&1) && ok "the next sync dials the new address, no restart" ||
    fail "sync after peer set: $OUT"
stop_daemon "$DA"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
contains "after a restart alpha still has the new address" "$(cu "$A" peers)" "127.0.0.1:$PB2"
check "and syncs there" quiet cu "$A" sync beta

# --- what never changes ---------------------------------------------------------------------
SUM=$(sha256sum <"$A/custody.conf")
OUT=$(cu "$A" peer add beta "127.0.0.1:$PB2" "$KC" 2>&1) &&
    fail "peer add of another key under beta's name succeeded" ||
    ok "peer add of another key under beta's name is refused"
contains "saying a pinned key changes only by remove" "$OUT" "custody peer remove beta"
OUT=$(cu "$A" peer add delta "127.0.0.1:$PB2" "$KB" 2>&1) &&
    fail "beta's key under another name succeeded" || ok "beta's key under another name is refused"
contains "naming beta" "$OUT" "already pinned as beta"
OUT=$(cu "$A" peer set nosuch --address "127.0.0.1:$PB2" 2>&1) &&
    fail "peer set of an unknown peer succeeded" || ok "peer set of an unknown peer is refused"
contains "saying so" "$OUT" "no peer called nosuch"
OUT=$(cu "$A" peer set beta --address nowhere 2>&1) &&
    fail "peer set with a bad address succeeded" || ok "peer set with a bad address is refused"
contains "saying so" "$OUT" "not HOST:PORT"
rc=0
OUT=$(cu "$A" peer set beta 2>&1) || rc=$?
check "peer set without --address is a usage error" [ "$rc" = 2 ]
contains "saying so" "$OUT" "--address HOST:PORT is required"
check "custody.conf did not change" [ "$(sha256sum <"$A/custody.conf")" = "$SUM" ]
check "alpha still syncs with beta" quiet cu "$A" sync beta

stop_daemon "$DB"
stop_daemon "$DA"
done_testing
