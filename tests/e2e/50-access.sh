#!/usr/bin/env bash
# Access control with real users: the daemon checks each caller's uid (SO_PEERCRED) against the
# roles of custody.conf on every request.
#
# Five throwaway accounts in a throwaway group reach the socket through a setgid directory (the
# socket is 0660, group of the directory). A user with no role is refused even status; a viewer
# reads (status, show, log) but cannot query or ingest; an analyst queries and reports but cannot
# write records; a documenter ingests, adds victims and gets evidence but cannot register
# recipients, extract or list peers; an admin does those. Each refusal names the role needed.
# Someone outside the group cannot connect at all. Needs root (useradd); skipped otherwise.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v useradd >/dev/null || ! command -v runuser >/dev/null; then
	echo "SKIP: needs root, useradd and runuser"
	exit 77
fi

SUF=$$
GRP=cust$SUF
USERS=(cv$SUF cn$SUF ca$SUF cd$SUF cm$SUF co$SUF)
VIEWER=cv$SUF NOROLE=cn$SUF ANALYST=ca$SUF DOC=cd$SUF ADMIN=cm$SUF OUTSIDER=co$SUF
remove_users() {
	local u
	for u in "${USERS[@]}"; do userdel "$u" 2>/dev/null || true; done
	groupdel "$GRP" 2>/dev/null || true
}
trap 'remove_users; cleanup' EXIT
groupadd "$GRP"
for u in "${USERS[@]}"; do
	if [ "$u" = "$OUTSIDER" ]; then useradd -M -N "$u"; else useradd -M -N -g "$GRP" "$u"; fi
done

A=$T/a SOCKDIR=$T/sock PUB=$T/pub
chmod 0755 "$T"
init_archive "$A" access
mkdir -p "$SOCKDIR" "$PUB"
chgrp "$GRP" "$SOCKDIR"
chmod 2750 "$SOCKDIR"
python3 - "$A/custody.conf" "$SOCKDIR/custodyd.sock" "$VIEWER" "$ANALYST" "$DOC" "$ADMIN" <<'PY'
import re, sys
conf, sock, viewer, analyst, doc, admin = sys.argv[1:]
s = open(conf).read()
s = re.sub(r"(?m)^viewer =.*$", "viewer = " + viewer, s)
s = re.sub(r"(?m)^analyst =.*$", "analyst = " + analyst, s)
s = re.sub(r"(?m)^documenter =.*$", "documenter = " + doc, s)
s = re.sub(r"(?m)^admin =.*$", "admin = root, " + admin, s)
s = re.sub(r"(?m)^socket =.*$", "socket = " + sock, s)
open(conf, "w").write(s)
PY
start_daemon_at() {
	"$CUSTODYD" run "$A" >>"$A.log" 2>&1 &
	DAEMON_PID=$!
	DAEMON_PIDS+=("$DAEMON_PID")
	for _ in $(seq 1 200); do
		[ -S "$SOCKDIR/custodyd.sock" ] && return 0
		sleep 0.05
	done
	cat "$A.log" >&2
	exit 1
}
start_daemon_at
check "the socket is 0660 and in the group" [ "$(stat -c '%a %G' "$SOCKDIR/custodyd.sock")" = "660 $GRP" ]

printf 'a testimony\n' >"$PUB/t.txt"
chmod 0644 "$PUB/t.txt"
chmod 0777 "$PUB"
SHA=$(sha256sum <"$PUB/t.txt" | cut -d' ' -f1)
age-keygen -o "$PUB/k" 2>/dev/null
KEY=$(age-keygen -y "$PUB/k")
quiet "$CUSTODY" --socket "$SOCKDIR/custodyd.sock" incident add --id inc-a --date 2024-12-01

# as USER ARGS...: run the client as USER; output in $OUT, status returned.
as() {
	local u=$1
	shift
	OUT=$(cd "$PUB" && HOME=$PUB runuser -u "$u" -- "$CUSTODY" --socket "$SOCKDIR/custodyd.sock" "$@" 2>&1)
}
# may USER DESC ARGS...: the request succeeds.
may() {
	local u=$1 d=$2
	shift 2
	if as "$u" "$@"; then ok "$d"; else fail "$d: $OUT"; fi
}
# may_not USER ROLE DESC ARGS...: refused, naming the role it needs.
may_not() {
	local u=$1 role=$2 d=$3
	shift 3
	if as "$u" "$@"; then fail "$d: allowed"; else contains "$d: refused" "$OUT" "needs the $role role"; fi
}

as "$OUTSIDER" status && fail "someone outside the group connected" || ok "someone outside the group cannot connect"
as "$NOROLE" status && fail "a user with no role got status" ||
    contains "a user with no role is refused even status" "$OUT" "has no role"

may "$VIEWER" "viewer: status" status
may "$VIEWER" "viewer: show" incident show inc-a
may "$VIEWER" "viewer: log" log
may_not "$VIEWER" analyst "viewer: query" query victims
may_not "$VIEWER" documenter "viewer: ingest" ingest t.txt

may "$ANALYST" "analyst: query" query victims
may "$ANALYST" "analyst: report" report --month 2024-12
may_not "$ANALYST" documenter "analyst: victim add" victim add --name X --date-documented 2024-12-02
may_not "$ANALYST" documenter "analyst: get" get "$SHA" -o out.txt

may "$DOC" "documenter: ingest" ingest --incident inc-a t.txt
may "$DOC" "documenter: victim add" victim add --name "Y Z" --date-documented 2024-12-02 --incident-id inc-a
rm -f "$PUB/back.txt"
may "$DOC" "documenter: get" get "$SHA" -o back.txt
check "what the documenter got is the file" cmp -s "$PUB/t.txt" "$PUB/back.txt"
may_not "$DOC" admin "documenter: recipient add" recipient add r1 "$KEY"
may_not "$DOC" admin "documenter: extract" extract --recipient r1 --incident inc-a -o d.age
may_not "$DOC" admin "documenter: peers" peers

may "$ADMIN" "admin: recipient add" recipient add r1 "$KEY"
may "$ADMIN" "admin: extract" extract --recipient r1 --incident inc-a -o d.age
check "the admin's dossier is there" [ -s "$PUB/d.age" ]
may "$ADMIN" "admin: peers" peers
may_not "$DOC" admin "documenter: keys split" keys split --shares 3 --threshold 2 -o doc-shares
check "the documenter got no share" [ -z "$(ls "$PUB/doc-shares" 2>/dev/null)" ]
may "$ADMIN" "admin: keys split" keys split --shares 3 --threshold 2 -o shares
check "the admin's shares are there" [ -s "$PUB/shares/share-3-of-3.txt" ]
may_not "$DOC" admin "documenter: audit" audit
may "$ADMIN" "admin: audit" audit "$SHA"
contains "the audit shows the documenter's ingest and get" "$OUT" "get      $DOC@access"
contains "the admin's keys split is the newest custody event" \
    "$("$CUSTODY" --socket "$SOCKDIR/custodyd.sock" log --limit 1 2>&1)" "keys split"
contains "the extract the one before it (the refused split wrote nothing)" \
    "$("$CUSTODY" --socket "$SOCKDIR/custodyd.sock" log --limit 2 2>&1)" "extract a dossier"

# --- a daemon run by an ordinary user whose memlock limit is 0 ---------------------------------
# Keys stay on stacks mlock'd where the limit allows (root is not limited): here it cannot, and
# it must say so once, then serve. (AddressSanitizer makes mlock a no-op: nothing to see there.)
refute "root's daemon locked its stacks without a word" grep -q "cannot lock" "$A.log"
if grep -qa __asan_init "$CUSTODYD"; then
	echo "skipped under AddressSanitizer: the memlock case"
else
	M=$T/m
	mkdir -p "$M"
	chown "$ADMIN:$GRP" "$M"
	runuser -u "$ADMIN" -- "$CUSTODYD" init "$M/a" --office m --no-passphrase >/dev/null 2>&1
	# setpriv and prlimit exec: the signal reaches custodyd itself
	setpriv --reuid="$ADMIN" --regid="$GRP" --clear-groups prlimit --memlock=0:0 \
	    "$CUSTODYD" run "$M/a" >"$M/log" 2>&1 &
	MPID=$!
	DAEMON_PIDS+=("$MPID")
	for _ in $(seq 1 200); do
		[ -S "$M/a/custodyd.sock" ] && break
		sleep 0.05
	done
	check "its daemon serves its own user" runuser -u "$ADMIN" -- "$CUSTODY" -A "$M/a" status
	check "it says once that it cannot lock memory" \
	    [ "$(grep -c "cannot lock thread stacks in memory" "$M/log")" -eq 1 ]
	contains "and what to do" "$(cat "$M/log")" "raise the memlock limit"
	check "it stops cleanly" stop_daemon "$MPID"
fi

done_testing
