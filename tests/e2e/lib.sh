# Shared helpers for end-to-end tests: each test sources this, gets a private directory with a
# cleanup trap, and starts real daemons on private sockets.
#
# Environment (set by ctest): CUSTODYD and CUSTODY (the binaries), VECTORS (tests/vectors).
set -euo pipefail

: "${CUSTODYD:?set CUSTODYD to the custodyd binary}"
: "${CUSTODY:?set CUSTODY to the custody binary}"

T=$(mktemp -d "${TMPDIR:-/tmp}/custody-e2e.XXXXXX")
DAEMON_PIDS=()
FAILS=0

# On a failure, what each daemon logged last, and the start of any sanitizer report in full:
# a test that fails once in many runs is read from this.
cleanup() {
	local rc=$? pid log
	for pid in "${DAEMON_PIDS[@]}"; do
		kill -9 "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		for log in "$T"/*.log; do
			[ -s "$log" ] || continue
			echo "--- the end of $(basename "$log"):" >&2
			tail -n 15 "$log" >&2
			grep -m 1 -A 40 -E "ERROR: AddressSanitizer|runtime error:" "$log" >&2 || true
		done
	fi
	if [ -n "${KEEP:-}" ]; then
		echo "kept $T" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT

# fail MESSAGE: report and count a failed assertion (the test goes on, and fails at the end).
fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}

# ok MESSAGE: report a passed assertion.
ok() {
	echo "ok: $*"
}

# check DESCRIPTION COMMAND...: the command must succeed.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}

# refute DESCRIPTION COMMAND...: the command must fail.
refute() {
	local what=$1
	shift
	if "$@"; then fail "$what"; else ok "$what"; fi
}

# contains DESCRIPTION HAYSTACK NEEDLE
contains() {
	case "$2" in
	*"$3"*) ok "$1" ;;
	*) fail "$1: expected to find '$3' in: $2" ;;
	esac
}

# init_archive DIR OFFICE: a new unattended archive.
init_archive() {
	"$CUSTODYD" init "$1" --office "$2" --no-passphrase >"$1.init" 2>&1 ||
	    { cat "$1.init" >&2; echo "init failed" >&2; exit 1; }
}

# start_daemon DIR [ARGS...]: run custodyd on DIR in the background and wait for its socket.
# Sets DAEMON_PID. Its log is DIR.log.
start_daemon() {
	local dir=$1 i
	shift
	rm -f "$dir/custodyd.sock"
	"$CUSTODYD" run "$dir" "$@" >>"$dir.log" 2>&1 &
	DAEMON_PID=$!
	DAEMON_PIDS+=("$DAEMON_PID")
	for i in $(seq 1 200); do
		[ -S "$dir/custodyd.sock" ] && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$dir.log" >&2; echo "daemon died" >&2; exit 1; }
		sleep 0.05
	done
	cat "$dir.log" >&2
	echo "daemon did not start" >&2
	exit 1
}

# stop_daemon PID [SIGNAL]: SIGTERM (or SIGNAL) and wait; the daemon must exit 0. A daemon
# still running 120 s later (its own grace for work in progress is 30 s) is reported, killed
# and returns 124, rather than holding the test until ctest's timeout with nothing said.
stop_daemon() {
	kill -"${2:-TERM}" "$1"
	wait_exit "$1" 120
}

# wait_exit PID SECONDS: wait for the background job PID and return its exit status; a job
# still running after SECONDS is reported, killed and returns 124.
wait_exit() {
	local pid=$1 i rc=0
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "still running $2 s later, killed: $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" >&2
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		return 124
	fi
	wait "$pid" || rc=$?
	return $rc
}

# cu DIR ARGS...: run the client against the archive DIR.
cu() {
	local dir=$1
	shift
	"$CUSTODY" -A "$dir" "$@"
}

# done_testing: exit non-zero when any assertion failed.
done_testing() {
	if [ "$FAILS" -gt 0 ]; then
		echo "$FAILS assertion(s) failed" >&2
		exit 1
	fi
	echo "all assertions passed"
}

# free_port: a TCP port on 127.0.0.1 nobody uses now, drawn below the kernel's ephemeral range
# (where the kernel would hand the same port to some test's outgoing connection meanwhile).
free_port() {
	python3 -c '
import random, socket
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(1000):
    p = random.randrange(10000, max(lo, 10001))
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
'
}

# asan_build: whether custodyd was built with AddressSanitizer. ldd's whole output is read
# first: `ldd | grep -q` under pipefail fails at random when grep leaves before ldd has written
# everything (ldd dies of SIGPIPE).
asan_build() {
	local libs
	libs=$(ldd "$CUSTODYD" 2>/dev/null || true)
	[[ "$libs" == *libasan* ]]
}

# need_rowclient: ROWS, the test client that sends raw record batches, or skip the test.
need_rowclient() {
	ROWS=${BUILD:+$BUILD/custody-rowclient}
	if [ -z "$ROWS" ] || [ ! -x "$ROWS" ]; then
		echo "SKIP: custody-rowclient not built (set BUILD to the build directory)"
		exit 77
	fi
}

# quiet COMMAND...: run it without output.
quiet() {
	"$@" >/dev/null 2>&1
}

# key_hex DIR: the office's Ed25519 public key in hex (the name of its feed ref).
key_hex() {
	python3 -c 'import base64,sys; b=base64.b64decode(open(sys.argv[1]).read().split()[1]); print(b[-32:].hex())' \
	    "$1/keys/office.pub"
}

# feed_ref DIR HEX: the commit DIR holds for the feed HEX, or "" when it holds none.
feed_ref() {
	git --git-dir="$1/git" rev-parse -q --verify "refs/feeds/$2^{commit}" 2>/dev/null || true
}

# py CODE ARGS...: run Python CODE; on failure print only its last line (the assertion's message).
py() {
	local code=$1
	shift
	python3 -c "$code" "$@" 2>"$T/py.err" || { echo "  $(tail -n1 "$T/py.err")" >&2; return 1; }
}

# join_office DIR NAME INVITER INVITER_PORT: a --joining archive invited by INVITER and joined;
# the joiner pins its inviter (custodyd join does it).
join_office() {
	local dir=$1 name=$2 inviter=$3 iport=$4
	"$CUSTODYD" init "$dir" --office "$name" --joining --no-passphrase >"$dir.init" \
	    2>"$dir.init.err" || { cat "$dir.init.err" >&2; exit 1; }
	cu "$inviter" invite "$name" "$(head -n1 "$dir.init")" -o "$dir.inv" \
	    --address "127.0.0.1:$iport" >/dev/null || { echo "invite $name failed" >&2; exit 1; }
	"$CUSTODYD" join "$dir" "$dir.inv" >"$dir.join" 2>&1 ||
	    { cat "$dir.join" >&2; echo "join $name failed" >&2; exit 1; }
}

# key_line DIR: "ssh-ed25519 AAAA..." of the office (no comment).
key_line() {
	cut -d' ' -f1,2 "$1/keys/office.pub"
}

# seq_of DIR HEX: how many commits of feed HEX DIR holds.
seq_of() {
	git --git-dir="$1/git" rev-list --count "refs/feeds/$2" 2>/dev/null || echo 0
}

# three_offices: alpha (archive $A) founds and listens, invites bravo ($B) and charlie ($C), which
# join and listen; sets PA PB PC (their ports) and DA DB DC (their daemons).
three_offices() {
	PA=$(free_port) PB=$(free_port) PC=$(free_port)
	init_archive "$A" alpha
	start_daemon "$A" --listen "127.0.0.1:$PA"
	DA=$DAEMON_PID
	join_office "$B" bravo "$A" "$PA"
	join_office "$C" charlie "$A" "$PA"
	start_daemon "$B" --listen "127.0.0.1:$PB"
	DB=$DAEMON_PID
	start_daemon "$C" --listen "127.0.0.1:$PC"
	DC=$DAEMON_PID
}

# pin_three: after three_offices, alpha pins bravo and charlie, bravo and charlie pin each other
# (joining pinned alpha).
pin_three() {
	local p
	for p in "$A bravo $PB $B" "$A charlie $PC $C" "$B charlie $PC $C" "$C bravo $PB $B"; do
		set -- $p
		check "$(basename "$1") pins $2" quiet cu "$1" peer add "$2" "127.0.0.1:$3" "$(key_line "$4")"
	done
}

# two_offices: A (archive $A) founds and listens, invites B ($B), which joins, listens and is
# pinned by A; sets PA PB (their ports) and DA DB (their daemons).
two_offices() {
	PA=$(free_port) PB=$(free_port)
	init_archive "$A" A
	start_daemon "$A" --listen "127.0.0.1:$PA"
	DA=$DAEMON_PID
	join_office "$B" B "$A" "$PA"
	start_daemon "$B" --listen "127.0.0.1:$PB"
	DB=$DAEMON_PID
	cu "$A" peer add B "127.0.0.1:$PB" "$(head -n1 "$B.init")" >/dev/null
}

# feed_len DIR HEX: number of commits in the feed HEX as DIR holds it.
feed_len() {
	local r
	r=$(feed_ref "$1" "$2")
	if [ -z "$r" ]; then echo 0; else git --git-dir="$1/git" rev-list --count "$r"; fi
}

# need_forge_office: FORGE is the seized office's tooling (tests/e2e/forge-office.c), or skip.
need_forge_office() {
	FORGE=${BUILD:-}/forge-office
	[ -x "$FORGE" ] || { echo "SKIP: forge-office is not built (set BUILD)"; exit 77; }
}

# three_pinned: alpha, bravo and charlie (A, B, C) running and pinned to each other as
# three_offices and pin_three make them, IN made, and HA, HB, HC their keys in hex.
three_pinned() {
	A=$T/alpha B=$T/bravo C=$T/charlie IN=$T/in
	mkdir -p "$IN"
	three_offices
	pin_three
	HA=$(key_hex "$A") HB=$(key_hex "$B") HC=$(key_hex "$C")
}
