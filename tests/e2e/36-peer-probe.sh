#!/usr/bin/env bash
# A stranger probes an office's peer port (issue: "the peer port tells strangers who we are").
#
# The probes are made by an independent Noise_XK_25519_ChaChaPoly_BLAKE2b initiator written here
# in Python (python3-cryptography for X25519 and ChaCha20-Poly1305, hashlib for BLAKE2b), first
# checked against the cacophony XK vector. Against a live custodyd listening on TCP:
# - well-formed XK first messages made for another office's key (with and without a payload),
#   one made for the right key but the old protocol version's prologue, random bytes shaped like
#   an XK first message, and an XX first message (an ephemeral key alone, which version 1 answered
#   with the office's static key): each gets zero bytes in reply and the connection closed;
# - the control: the same initiator with the office's real key (converted from its ssh-ed25519
#   key) gets message 2, which it decrypts: the probes were well formed, the silence is the key.
# Afterwards the daemon is up, its refs unchanged, and a pinned peer still syncs.
. "$(dirname "$0")/lib.sh"

if ! python3 -c 'import cryptography.hazmat.primitives.asymmetric.x25519, cryptography.hazmat.primitives.ciphers.aead' 2>/dev/null; then
	echo "SKIP: python3-cryptography is not installed (the independent Noise initiator needs it)"
	exit 77
fi

refs() {
	git --git-dir="$1/git" for-each-ref --format='%(refname) %(objectname)' 2>&1
}

A=$T/a B=$T/b
init_archive "$A" alpha
init_archive "$B" beta
KA=$(sed -n 1p "$A.init") KB=$(sed -n 1p "$B.init")
PA=$(free_port) PB=$(free_port)
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
start_daemon "$B" --listen "127.0.0.1:$PB"
DB=$DAEMON_PID
check "peer add on A" quiet cu "$A" peer add beta "127.0.0.1:$PB" "$KB"
check "peer add on B" quiet cu "$B" peer add alpha "127.0.0.1:$PA" "$KA"
check "A syncs with B before the probes" quiet cu "$A" sync beta
RB=$(refs "$B")

cat >"$T/probe.py" <<'EOF'
import base64, hashlib, hmac, json, os, socket, struct, sys, time
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization

NAME = b"Noise_XK_25519_ChaChaPoly_BLAKE2b"
RAW = dict(encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw)


def H(data):
    return hashlib.blake2b(data).digest()


def hkdf2(ck, ikm):
    t = hmac.new(ck, ikm, hashlib.blake2b).digest()
    o1 = hmac.new(t, b"\x01", hashlib.blake2b).digest()
    o2 = hmac.new(t, o1 + b"\x02", hashlib.blake2b).digest()
    return o1, o2[:32]


def aead(k, n, ad, data, decrypt=False):
    nonce = b"\0" * 4 + struct.pack("<Q", n)
    c = ChaCha20Poly1305(k)
    return c.decrypt(nonce, data, ad) if decrypt else c.encrypt(nonce, data, ad)


class Initiator:
    """The initiator of XK up to message 2 (all a prober needs)."""

    def __init__(self, rs, prologue, e=None):
        self.h = NAME.ljust(64, b"\0")
        self.ck = self.h
        self.h = H(self.h + prologue)
        self.h = H(self.h + rs)
        self.rs = rs
        self.e = e or X25519PrivateKey.generate()

    def message1(self, payload=b""):
        epub = self.e.public_key().public_bytes(**RAW)
        self.h = H(self.h + epub)
        self.ck, k = hkdf2(self.ck, self.e.exchange(X25519PublicKey.from_public_bytes(self.rs)))
        ct = aead(k, 0, self.h, payload)
        self.h = H(self.h + ct)
        return epub + ct

    def read2(self, msg):
        re = msg[:32]
        self.h = H(self.h + re)
        self.ck, k = hkdf2(self.ck, self.e.exchange(X25519PublicKey.from_public_bytes(re)))
        pt = aead(k, 0, self.h, msg[32:], decrypt=True)
        self.h = H(self.h + msg[32:])
        return pt


def x25519_from_ssh_ed25519(line):
    blob = base64.b64decode(line.split()[1])
    n = struct.unpack(">I", blob[:4])[0]
    assert blob[4:4 + n] == b"ssh-ed25519"
    key = blob[8 + n:8 + n + 32]
    p = 2**255 - 19
    y = int.from_bytes(key, "little") & ((1 << 255) - 1)
    u = (1 + y) * pow(1 - y, p - 2, p) % p
    return u.to_bytes(32, "little")


def frame(body):
    return struct.pack(">IB", len(body), 4) + body


def probe(port, data, wait=3.0):
    """Send data; return (bytes received, how the connection ended)."""
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(data)
    s.settimeout(wait)
    got, end = b"", "open"
    try:
        while True:
            d = s.recv(4096)
            if not d:
                end = "closed"
                break
            got += d
    except ConnectionResetError:
        end = "reset"
    except socket.timeout:
        pass
    s.close()
    return got, end


vectors, port, sshkey = sys.argv[1], int(sys.argv[2]), sys.argv[3]
failed = 0

# The initiator here reproduces the cacophony XK vector's first two messages.
v = json.load(open(vectors + "/noise/noise-xk-25519-chachapoly-blake2b.json"))["vectors"][0]
hx = bytes.fromhex
rs_priv = X25519PrivateKey.from_private_bytes(hx(v["resp_static"]))
ini = Initiator(hx(v["init_remote_static"]), hx(v["init_prologue"]),
                X25519PrivateKey.from_private_bytes(hx(v["init_ephemeral"])))
assert rs_priv.public_key().public_bytes(**RAW) == hx(v["init_remote_static"])
m = v["messages"]
assert ini.message1(hx(m[0]["payload"])) == hx(m[0]["ciphertext"]), "vector message 1"
assert ini.read2(hx(m[1]["ciphertext"])) == hx(m[1]["payload"]), "vector message 2"
print("ok: the probing initiator reproduces the cacophony XK vector")

rs = x25519_from_ssh_ed25519(sshkey)
other = X25519PrivateKey.generate().public_key().public_bytes(**RAW)
probes = [
    ("XK message 1 for another office's key", frame(Initiator(other, b"custody/3").message1())),
    ("XK message 1 with a payload for another office's key",
     frame(Initiator(other, b"custody/3").message1(b"who are you?"))),
    ("XK message 1 for this office's key but protocol version 1",
     frame(Initiator(rs, b"custody/1").message1())),
    ("48 random bytes shaped like XK message 1", frame(os.urandom(48))),
    ("XX message 1 (an ephemeral key alone)",
     frame(X25519PrivateKey.generate().public_key().public_bytes(**RAW))),
    ("random bytes", os.urandom(700)),
]
for what, data in probes:
    got, end = probe(port, data)
    if got or end == "open":
        print("FAIL: %s: %d bytes in reply, connection %s" % (what, len(got), end))
        failed += 1
    else:
        print("ok: %s: no byte in reply, connection %s" % (what, end))

# The control: the same initiator with the office's real key is answered, and message 2 opens.
ini = Initiator(rs, b"custody/3")
s = socket.create_connection(("127.0.0.1", port))
s.sendall(frame(ini.message1()))
s.settimeout(5)
reply = b""
while len(reply) < 5 + 48:
    d = s.recv(4096)
    if not d:
        break
    reply += d
s.close()
if len(reply) == 5 + 48 and reply[:5] == struct.pack(">IB", 48, 4) and ini.read2(reply[5:]) == b"":
    print("ok: XK message 1 for this office's key: message 2 comes back and authenticates")
else:
    print("FAIL: XK message 1 for this office's key: got %r" % reply[:16])
    failed += 1
sys.exit(1 if failed else 0)
EOF

OUT=$(python3 "$T/probe.py" "$VECTORS" "$PB" "$KB" 2>&1) && ok "every stranger's probe got no byte back" ||
    fail "the probes: see below"
echo "$OUT"
check "B is still alive" kill -0 "$DB"
check "B still answers" quiet cu "$B" status
check "B logged dropped connections" grep -q "peer connection from 127.0.0.1:[0-9]* dropped" "$B.log"
check "B's refs are unchanged" [ "$(refs "$B")" = "$RB" ]
check "A still syncs with B after the probes" quiet cu "$A" sync beta
check "B syncs with A" quiet cu "$B" sync alpha
check "A stops cleanly" stop_daemon "$DA"
check "B stops cleanly" stop_daemon "$DB"
done_testing
