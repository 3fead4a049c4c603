#!/usr/bin/env bash
# Starting and stopping the daemon, and what it refuses.
#
# SIGTERM (and SIGINT) stop custodyd with exit 0 and remove its socket. A second daemon on the
# same archive is refused with a message about another custodyd, and the first keeps serving.
# keys/office.key (or keys/data.key) readable by others makes `run` refuse, naming the file and
# its mode; so does an archive directory writable by its group. An archive made with
# --passphrase-file refuses to run without the passphrase, refuses a wrong one with a clear
# message and without changing any file, and runs with the right one. `custodyd init` twice on
# one directory is refused and leaves the keys alone. The client says clearly when no daemon
# runs (no socket, or a stale socket left by a killed daemon).
. "$(dirname "$0")/lib.sh"

# try_run DIR [ARGS...]: run the daemon in the foreground, expecting a refusal; sets RUN_RC and
# RUN_OUT. A daemon that starts instead is stopped after 20 s (RUN_RC 124).
try_run() {
	RUN_RC=0
	RUN_OUT=$(timeout 20 "$CUSTODYD" run "$@" </dev/null 2>&1) || RUN_RC=$?
}

# snap DIR: every path with its type, mode, size and content hash, but the lock file.
snap() {
	(cd "$1" && find . -path ./custodyd.lock -prune -o -printf '%p %y %m %s\n' | sort &&
	    find . -path ./custodyd.lock -prune -o -type f -print0 | sort -z | xargs -0 sha256sum) ||
	    echo "cannot read $1"
}

# try_start DIR [ARGS...]: like start_daemon, but a daemon that dies or never listens is a
# failed assertion (returns 1), not the end of the script.
try_start() {
	local dir=$1 i
	shift
	rm -f "$dir/custodyd.sock"
	"$CUSTODYD" run "$dir" "$@" </dev/null >>"$dir.log" 2>&1 &
	DAEMON_PID=$!
	DAEMON_PIDS+=("$DAEMON_PID")
	for i in $(seq 1 200); do
		[ -S "$dir/custodyd.sock" ] && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "the daemon on $dir did not start: $(tail -3 "$dir.log")"
	return 1
}

A=$T/archive
IN=$T/in
mkdir -p "$IN"
printf 'some evidence\n' >"$IN/e.txt"
init_archive "$A" Daemon-Office

# --- SIGTERM -----------------------------------------------------------------------------
start_daemon "$A"
cu "$A" ingest "$IN/e.txt" >/dev/null 2>&1 || fail "ingest before SIGTERM"
check "the socket exists while the daemon runs" [ -S "$A/custodyd.sock" ]
rc=0
stop_daemon "$DAEMON_PID" || rc=$?
check "SIGTERM: the daemon exits 0" [ "$rc" -eq 0 ]
check "SIGTERM: the socket is removed" [ ! -e "$A/custodyd.sock" ]
contains "SIGTERM: the log says it stopped" "$(cat "$A.log")" "stopped"

start_daemon "$A"
rc=0
stop_daemon "$DAEMON_PID" INT || rc=$?
check "SIGINT: the daemon exits 0" [ "$rc" -eq 0 ]
check "SIGINT: the socket is removed" [ ! -e "$A/custodyd.sock" ]

# --- a second daemon ---------------------------------------------------------------------
start_daemon "$A"
FIRST=$DAEMON_PID
try_run "$A"
check "a second daemon on the same archive is refused" [ "$RUN_RC" -ne 0 -a "$RUN_RC" -ne 124 ]
contains "the refusal is about another custodyd" "$RUN_OUT" "another custodyd"
check "the first daemon is still alive" kill -0 "$FIRST"
check "the first daemon's socket is still there" [ -S "$A/custodyd.sock" ]
rc=0
st=$(cu "$A" status 2>&1) || rc=$?
check "the first daemon still serves (status exits 0)" [ "$rc" -eq 0 ]
contains "the first daemon still serves (status counts the evidence)" "$st" "evidence     1"
stop_daemon "$FIRST" || fail "the first daemon did not stop with exit 0"

# --- key file and directory permissions --------------------------------------------------
chmod 0644 "$A/keys/office.key"
try_run "$A"
check "office.key mode 0644: run is refused" [ "$RUN_RC" -ne 0 -a "$RUN_RC" -ne 124 ]
contains "office.key mode 0644: the message names the file" "$RUN_OUT" "keys/office.key"
contains "office.key mode 0644: the message names the mode" "$RUN_OUT" "0644"
check "office.key mode 0644: no socket" [ ! -e "$A/custodyd.sock" ]
chmod 0600 "$A/keys/office.key"

chmod 0640 "$A/keys/data.key"
try_run "$A"
check "data.key mode 0640: run is refused" [ "$RUN_RC" -ne 0 -a "$RUN_RC" -ne 124 ]
contains "data.key mode 0640: the message names the file" "$RUN_OUT" "keys/data.key"
contains "data.key mode 0640: the message names the mode" "$RUN_OUT" "0640"
chmod 0600 "$A/keys/data.key"

chmod g+w "$A"
try_run "$A"
check "archive directory writable by its group: run is refused" [ "$RUN_RC" -ne 0 -a "$RUN_RC" -ne 124 ]
contains "archive directory writable by its group: the message says so" "$RUN_OUT" "writable by group"
chmod g-w "$A"

start_daemon "$A"
rc=0
cu "$A" status >/dev/null 2>&1 || rc=$?
check "with the modes fixed, the daemon runs and serves" [ "$rc" -eq 0 ]
stop_daemon "$DAEMON_PID" || fail "the daemon did not stop with exit 0"

# --- a passphrase-sealed archive ---------------------------------------------------------
printf 'elevenchars\n' >"$T/short"
rc=0
out=$("$CUSTODYD" init "$T/short-arch" --office Short-Office --passphrase-file "$T/short" 2>&1) || rc=$?
check "init refuses an 11-character passphrase" [ "$rc" -ne 0 ]
contains "and says it needs at least 12 characters" "$out" "at least 12"
check "and creates nothing" [ ! -e "$T/short-arch" ]
P=$T/sealed
printf 'correct horse battery staple\n' >"$T/pass"
printf 'wrong horse\n' >"$T/wrong"
rc=0
"$CUSTODYD" init "$P" --office Sealed-Office --passphrase-file "$T/pass" >"$T/sealed.init" 2>&1 || rc=$?
check "init --passphrase-file exits 0" [ "$rc" -eq 0 ]
if [ ! -f "$P/keys/office.pub" ]; then
	fail "init --passphrase-file made no archive, so run without, with a wrong and with the" \
	    "right passphrase cannot be tested: $(tail -c 300 "$T/sealed.init")"
else
	fpline=$(ssh-keygen -l -f "$P/keys/office.pub" 2>/dev/null || echo none)
	check "init --passphrase-file prints the fingerprint of keys/office.pub" \
	    [ "$(sed -n 2p "$T/sealed.init")" = "$fpline" ]
	check "the sealed key file is 0600" [ "$(stat -c %a "$P/keys/office.key")" = 600 ]
	check "the sealed key file is larger than a plain one (salt, nonce, tag)" \
	    [ "$(stat -c %s "$P/keys/office.key")" -gt "$(stat -c %s "$A/keys/office.key")" ]
	before=$(snap "$P")

	try_run "$P"
	check "sealed archive without a passphrase: run is refused" [ "$RUN_RC" -ne 0 -a "$RUN_RC" -ne 124 ]
	contains "sealed archive without a passphrase: the message asks for it" "$RUN_OUT" "--passphrase-file"
	check "sealed archive without a passphrase: no socket" [ ! -e "$P/custodyd.sock" ]

	try_run "$P" --passphrase-file "$T/wrong"
	check "wrong passphrase: run is refused" [ "$RUN_RC" -ne 0 -a "$RUN_RC" -ne 124 ]
	contains "wrong passphrase: the message says so" "$RUN_OUT" "wrong passphrase"
	check "wrong passphrase: no socket" [ ! -e "$P/custodyd.sock" ]
	check "wrong passphrase: no file of the archive changed" [ "$before" = "$(snap "$P")" ]

	rc=0
	msg=$("$CUSTODYD" reindex "$P" --passphrase-file "$T/wrong" </dev/null 2>&1) || rc=$?
	check "wrong passphrase: reindex is refused too" [ "$rc" -ne 0 ]
	contains "wrong passphrase: reindex says so" "$msg" "wrong passphrase"
	check "wrong passphrase: reindex changed nothing" [ "$before" = "$(snap "$P")" ]

	if try_start "$P" --passphrase-file "$T/pass"; then
		rc=0
		cu "$P" ingest "$IN/e.txt" >"$T/sealed.ingest" 2>&1 || rc=$?
		check "right passphrase: the daemon runs and ingests" [ "$rc" -eq 0 ]
		contains "right passphrase: the ingest line" "$(cat "$T/sealed.ingest")" \
		    "$(sha256sum "$IN/e.txt" | cut -c1-64)"
		rc=0
		cu "$P" verify >/dev/null 2>&1 || rc=$?
		check "right passphrase: verify is clean" [ "$rc" -eq 0 ]
		stop_daemon "$DAEMON_PID" || fail "the sealed daemon did not stop with exit 0"
	else
		fail "right passphrase: the daemon does not run"
	fi
fi

# --- init twice --------------------------------------------------------------------------
pub=$(cat "$A/keys/office.pub")
key=$(sha256sum <"$A/keys/office.key")
before=$(snap "$A")
rc=0
msg=$("$CUSTODYD" init "$A" --office Daemon-Office --no-passphrase 2>&1) || rc=$?
check "init on an existing archive is refused" [ "$rc" -ne 0 ]
contains "init on an existing archive: the message says why" "$msg" "not empty"
check "init on an existing archive: the keys are unchanged" \
    [ "$(cat "$A/keys/office.pub")" = "$pub" -a "$(sha256sum <"$A/keys/office.key")" = "$key" ]
check "init on an existing archive: nothing changed" [ "$before" = "$(snap "$A")" ]

# --- the client when no daemon runs ------------------------------------------------------
rc=0
msg=$(timeout 20 "$CUSTODY" -A "$A" status 2>&1) || rc=$?
check "no daemon (no socket): the client exits 1" [ "$rc" -eq 1 ]
contains "no daemon (no socket): the client names the socket" "$msg" "cannot reach custodyd at $A/custodyd.sock"
contains "no daemon (no socket): the client says how to start it" "$msg" "custodyd run"

start_daemon "$A"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
check "after kill -9 a stale socket is left" [ -S "$A/custodyd.sock" ]
rc=0
msg=$(timeout 20 "$CUSTODY" -A "$A" status 2>&1) || rc=$?
check "no daemon (stale socket): the client exits 1" [ "$rc" -eq 1 ]
contains "no daemon (stale socket): the client names the socket" "$msg" "cannot reach custodyd at $A/custodyd.sock"
contains "no daemon (stale socket): the client says how to start it" "$msg" "custodyd run"
start_daemon "$A"
rc=0
cu "$A" status >/dev/null 2>&1 || rc=$?
check "a new daemon starts over the stale socket and serves" [ "$rc" -eq 0 ]
stop_daemon "$DAEMON_PID" || fail "the daemon did not stop with exit 0"

done_testing
