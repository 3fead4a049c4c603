#!/usr/bin/env bash
# Peers over TCP: the Noise channel and pinned keys (no replication yet).
#
# Two daemons on loopback, each pinning the other (`custody peer add`, written to custody.conf):
# `custody sync` succeeds and `custody peers` shows the last success. A peer that pinned us
# under another key drops us after the handshake: our last error says so and its log names our
# fingerprint. A third office listening where we expect the peer (a man in the middle with its
# own key) cannot read our first message and hangs up, never learning who called. Garbage bytes,
# an oversized first frame and first messages not made for the listener's key drop the connection
# with no byte in reply (36-peer-probe.sh probes further); the daemon stays up and its git refs do
# not change.
# `peer remove` unpins, keeping the rest of custody.conf.
. "$(dirname "$0")/lib.sh"

# refs DIR: every ref of the archive's git repository with its target.
refs() {
	git --git-dir="$1/git" for-each-ref --format='%(refname) %(objectname)' 2>&1
}

A=$T/a B=$T/b C=$T/c
init_archive "$A" alpha
init_archive "$B" beta
init_archive "$C" gamma
KA=$(sed -n 1p "$A.init") KB=$(sed -n 1p "$B.init") KC=$(sed -n 1p "$C.init")
FA=$(sed -n 2p "$A.init" | cut -d' ' -f2)
PA=$(free_port) PB=$(free_port) PC=$(free_port)

start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
# B listens from custody.conf rather than the command line
sed -i "s/^socket = custodyd.sock$/socket = custodyd.sock\nlisten = 127.0.0.1:$PB/" "$B/custody.conf"
start_daemon "$B"
DB=$DAEMON_PID

check "peer add on A" quiet cu "$A" peer add beta "127.0.0.1:$PB" "$KB"
check "peer add on B" quiet cu "$B" peer add alpha "127.0.0.1:$PA" "$KA"
check "custody.conf of A has the [peer beta] section" grep -q '^\[peer beta\]' "$A/custody.conf"
check "custody.conf of A keeps its other sections" grep -q '^massacre_threshold = 5' "$A/custody.conf"
refute "a second peer add under the same name with another key is refused" \
    quiet cu "$A" peer add beta "127.0.0.1:$PB" "$KC"
check "a second peer add with the same key is accepted (45-peer-set.sh)" \
    quiet cu "$A" peer add beta "127.0.0.1:$PB" "$KB"
refute "peer add with a malformed address is refused" \
    quiet cu "$A" peer add delta "nowhere" "$KC"

RA=$(refs "$A") RB=$(refs "$B")
OUT=$(cu "$A" sync beta 2>&1) && ok "sync A -> B succeeds" || fail "sync A -> B: $OUT"
OUT=$(cu "$A" peers 2>&1)
contains "peers shows B's address" "$OUT" "127.0.0.1:$PB"
case "$OUT" in *"last success: never"*) fail "peers: no last success: $OUT" ;; *) ok "peers shows a last success" ;; esac
check "B logged the hello, naming A by its key" grep -q "peer office $(key_hex "$A" | cut -c1-16) .* says hello" "$B.log"
OUT=$(cu "$A" --json peers)
check "peers --json has last_success" python3 -c '
import json, sys; p = json.loads(sys.argv[1]); assert p[0]["name"] == "beta" and p[0]["last_success"] > 0 and p[0]["last_error"] == ""' "$OUT"

# B pins A under the wrong key (C's): B drops A after the handshake and logs A's fingerprint.
check "peer remove alpha on B" quiet cu "$B" peer remove alpha
refute "custody.conf of B no longer pins alpha" grep -q '^\[peer alpha\]' "$B/custody.conf"
check "custody.conf of B keeps its other sections" grep -q '^\[roles\]' "$B/custody.conf"
check "pin alpha on B under gamma's key" quiet cu "$B" peer add alpha "127.0.0.1:$PA" "$KC"
OUT=$(cu "$A" sync beta 2>&1) && fail "sync with a peer that pinned another key succeeded" ||
    ok "sync with a peer that pinned another key fails"
contains "the error says the peer closed after the handshake" "$OUT" "after the handshake"
OUT=$(cu "$A" peers 2>&1)
contains "peers keeps the last success" "$OUT" "last success: 2"
contains "peers shows the last error" "$OUT" "closed by the peer after the handshake"
check "B's log names A's fingerprint as refused" grep -q "refused peer .*$FA" "$B.log"

# A man in the middle: C (its own key) listens where A expects B.
start_daemon "$C" --listen "127.0.0.1:$PC"
check "C pins A (so C would talk)" quiet cu "$C" peer add alpha "127.0.0.1:$PA" "$KA"
cu "$A" peer remove beta >/dev/null
check "pin beta's key under C's address on A" quiet cu "$A" peer add beta "127.0.0.1:$PC" "$KB"
OUT=$(cu "$A" sync beta 2>&1) && fail "sync with an impostor succeeded" ||
    ok "sync with an impostor fails"
contains "the error says the impostor does not hold beta's key" "$OUT" \
    "not hold the key we dialled"
check "C never got a hello" sh -c "! grep -q 'says hello' '$C.log'"
check "C dropped the connection" grep -q "peer connection from 127.0.0.1:[0-9]* dropped" "$C.log"
refute "C never learnt A's key" grep -q "$FA" "$C.log"
cu "$A" peer remove beta >/dev/null
cu "$A" peer add beta "127.0.0.1:$PB" "$KB" >/dev/null

# Raw bytes at B's listener: garbage, an oversized handshake frame, a replayed first message.
python3 - "$PB" <<'EOF' && ok "raw bytes: every connection dropped" || fail "raw bytes: see above"
import os, socket, sys, time
port = int(sys.argv[1])
def send(data, wait=2.0):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(data)
    s.settimeout(wait)
    got = b""
    try:
        while True:
            d = s.recv(4096)
            if not d:
                break
            got += d
    except ConnectionResetError:
        pass
    except socket.timeout:
        sys.exit("connection still open after the bad bytes")
    s.close()
    if got:
        sys.exit("the listener answered %d bad bytes with %d bytes" % (len(data), len(got)))
    return got
send(os.urandom(3000))
send(b"\x00\x00\x08\x00\x04" + os.urandom(100))
send(b"\x00\x00\x00\x10\x01" + os.urandom(16))
# first handshake messages not made for B's key (an XX-style ephemeral key alone, and random
# bytes shaped like an XK message 1), alone, followed by a forged message 3, or twice
for m1 in (b"\x00\x00\x00\x20\x04" + os.urandom(32), b"\x00\x00\x00\x30\x04" + os.urandom(48)):
    send(m1)
    send(m1 + b"\x00\x00\x00\x60\x04" + os.urandom(96))
    send(m1 + m1)
EOF
check "B is still alive" kill -0 "$DB"
check "B still answers" quiet cu "$B" status
check "A's refs are unchanged" [ "$(refs "$A")" = "$RA" ]
check "B's refs are unchanged" [ "$(refs "$B")" = "$RB" ]
check "B logged dropped connections" grep -q "peer connection from 127.0.0.1:[0-9]* dropped" "$B.log"

# Put B's pin right again: sync works again, and peer remove on A unpins.
cu "$B" peer remove alpha >/dev/null
cu "$B" peer add alpha "127.0.0.1:$PA" "$KA" >/dev/null
check "sync works again after fixing the pin" quiet cu "$A" sync beta
check "peer remove beta on A" quiet cu "$A" peer remove beta
refute "sync with a removed peer is refused" quiet cu "$A" sync beta
check "A stops cleanly" stop_daemon "$DA"
check "B stops cleanly" stop_daemon "$DB"
done_testing
