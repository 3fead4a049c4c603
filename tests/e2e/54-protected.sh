#!/usr/bin/env bash
# Protected fields by role, with real users: a source's name, contact and notes and a victim's
# notes are shown only to the roles custody.conf grants them ([roles] protected, by default
# documenter and admin); every other role reads "withheld" in their place, on every path that
# returns records: show, source/victim show and list (JSON, CSV, table), history, query victims
# (JSON, CSV), duplicates and the report. The plaintext appears nowhere in what a viewer or an
# analyst receives. With "protected = analyst" the analyst reads them and no one else does; a
# protected list naming no role is refused at start. Four throwaway accounts reach the socket
# through a setgid directory, as in 50-access. Needs root (useradd); skipped otherwise.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v useradd >/dev/null || ! command -v runuser >/dev/null; then
	echo "SKIP: needs root, useradd and runuser (a real uid for each role)"
	exit 77
fi

SUF=$$
GRP=prot$SUF
VIEWER=pv$SUF ANALYST=pa$SUF DOC=pd$SUF ADMIN=pm$SUF
USERS=("$VIEWER" "$ANALYST" "$DOC" "$ADMIN")
remove_users() {
	local u
	for u in "${USERS[@]}"; do userdel "$u" 2>/dev/null || true; done
	groupdel "$GRP" 2>/dev/null || true
}
trap 'remove_users; cleanup' EXIT
groupadd "$GRP"
for u in "${USERS[@]}"; do useradd -M -N -g "$GRP" "$u"; done

A=$T/a SOCKDIR=$T/sock PUB=$T/pub SOCK=$T/sock/custodyd.sock
chmod 0755 "$T"
init_archive "$A" prot
mkdir -p "$SOCKDIR" "$PUB"
chgrp "$GRP" "$SOCKDIR"
chmod 2750 "$SOCKDIR"
chmod 0777 "$PUB"
# set_conf KEY VALUE: set a [roles] or [daemon] line of custody.conf.
set_conf() {
	python3 - "$A/custody.conf" "$1" "$2" <<'PY'
import re, sys
conf, key, value = sys.argv[1:]
s = open(conf).read()
s, n = re.subn(r"(?m)^" + re.escape(key) + r" =.*$", key + " = " + value, s)
if n == 0:
    s = s.replace("[roles]\n", "[roles]\n" + key + " = " + value + "\n", 1)
open(conf, "w").write(s)
PY
}
set_conf viewer "$VIEWER"
set_conf analyst "$ANALYST"
set_conf documenter "$DOC"
set_conf admin "root, $ADMIN"
set_conf socket "$SOCK"

start() {
	rm -f "$SOCK"
	"$CUSTODYD" run "$A" >>"$A.log" 2>&1 &
	DAEMON_PID=$!
	DAEMON_PIDS+=("$DAEMON_PID")
	for _ in $(seq 1 200); do
		[ -S "$SOCK" ] && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$A.log" >&2
	echo "daemon did not start" >&2
	exit 1
}
start

# as USER ARGS...: run the client as USER; stdout and stderr in $OUT, status returned.
as() {
	local u=$1
	shift
	OUT=$(cd "$PUB" && HOME=$PUB runuser -u "$u" -- "$CUSTODY" --socket "$SOCK" "$@" 2>&1)
}

S_NAME="Rima Sealedname$SUF"
S_CONTACT="+963-555-$SUF"
S_NOTES="met behind the sealed bakery $SUF"
V_NOTES="first sealed victim note $SUF"
V_NOTES2="second sealed victim note $SUF"
D_NOTES="duplicate sealed victim note $SUF"
SECRETS=("$S_NAME" "$S_CONTACT" "$S_NOTES" "$V_NOTES" "$V_NOTES2" "$D_NOTES")

as "$ADMIN" source add --id src-1 --name "$S_NAME" --contact "$S_CONTACT" --notes "$S_NOTES" ||
    { echo "$OUT" >&2; exit 1; }
as "$ADMIN" victim add --id vic-1 --name "Ahmad Khalil" --date-documented 2024-12-02 \
    --date-of-death 2024-12-01 --governorate idlib --source-id src-1 --notes "$V_NOTES" ||
    { echo "$OUT" >&2; exit 1; }
as "$ADMIN" victim edit vic-1 --notes "$V_NOTES2" || { echo "$OUT" >&2; exit 1; }
as "$ADMIN" victim add --id vic-2 --name "Ahmad Khalil" --date-documented 2024-12-03 \
    --date-of-death 2024-12-01 --governorate idlib --notes "$D_NOTES" ||
    { echo "$OUT" >&2; exit 1; }

# read_all USER DIR: every read path the user's role may take, one file each in DIR.
read_all() {
	local u=$1 dir=$2 role=$3
	mkdir -p "$dir"
	rd() {
		local f=$1
		shift
		if as "$u" "$@"; then printf '%s\n' "$OUT" >"$dir/$f"; else
			fail "$role: $*: $OUT"
			printf '%s\n' "$OUT" >"$dir/$f"
		fi
	}
	rd source-show source show src-1
	rd show-source show src-1
	rd source-list.json source list --format json
	rd source-list.csv source list --format csv
	rd source-list.table source list
	rd victim-show victim show vic-1
	rd show-victim show vic-1
	rd victim-list.json victim list --format json
	rd victim-list.csv victim list --format csv
	rd history-source.json --json history src-1
	rd history-victim.json --json history vic-1
	rd history-victim.text history vic-1
	if [ "$role" != viewer ]; then
		rd query.json query victims --format json
		rd query.csv query victims --format csv
		rd query.table query victims
		rd duplicates.json --json duplicates
		rd duplicates.table duplicates
		rd report.json report --month 2024-12 --format json
	fi
	if [ "$role" = admin ]; then
		rd audit audit
	fi
}

# sees DIR ROLE: DIR shows every protected value in plaintext.
sees() {
	local dir=$1 role=$2
	py '
import csv, json, sys
d, role = sys.argv[1], sys.argv[2]
sname, scontact, snotes, vnotes, vnotes2, dnotes = sys.argv[3:]
src = {"name": sname, "contact": scontact, "notes": snotes}
def load(f): return json.load(open(d + "/" + f))
for f in ("source-show", "show-source"):
    r = load(f)
    for k, v in src.items():
        assert r[k] == v, f"{role}: {f}: {k} is {r[k]!r}"
for f in ("victim-show", "show-victim"):
    assert load(f)["notes"] == vnotes2, f"{role}: {f}: notes"
s = load("source-list.json")
assert [r["name"] for r in s] == [sname], f"{role}: source list: {s}"
rows = list(csv.DictReader(open(d + "/source-list.csv")))
assert rows[0]["contact"] == scontact, f"{role}: source list csv: {rows}"
v = {r["id"]: r["notes"] for r in load("victim-list.json")}
assert v == {"vic-1": vnotes2, "vic-2": dnotes}, f"{role}: victim list: {v}"
rows = {r["id"]: r["notes"] for r in csv.DictReader(open(d + "/victim-list.csv"))}
assert rows == {"vic-1": vnotes2, "vic-2": dnotes}, f"{role}: victim list csv: {rows}"
h = [r["record"]["notes"] for r in load("history-victim.json")["revisions"]]
assert h == [vnotes, vnotes2], f"{role}: history: {h}"
h = load("history-source.json")["revisions"][0]["record"]
assert h["contact"] == scontact, f"{role}: source history: {h}"
if role != "viewer":
    q = {r["id"]: r["notes"] for r in load("query.json")}
    assert q == {"vic-1": vnotes2, "vic-2": dnotes}, f"{role}: query: {q}"
    q = {r["id"]: r["notes"] for r in csv.DictReader(open(d + "/query.csv"))}
    assert q == {"vic-1": vnotes2, "vic-2": dnotes}, f"{role}: query csv: {q}"
    g = load("duplicates.json")["groups"]
    assert sorted(r["notes"] for r in g[0]) == sorted([vnotes2, dnotes]), f"{role}: dups: {g}"
' "$dir" "$role" "${SECRETS[@]}"
}

# withheld DIR ROLE: every protected value reads "withheld", the rest as recorded, and no
# protected value appears anywhere in what the role received.
withheld() {
	local dir=$1 role=$2 s
	py '
import csv, json, sys
d, role = sys.argv[1], sys.argv[2]
W = "withheld"
def load(f): return json.load(open(d + "/" + f))
for f in ("source-show", "show-source"):
    r = load(f)
    for k in ("name", "contact", "notes"):
        assert r[k] == W, f"{role}: {f}: {k} is {r[k]!r}"
    assert r["id"] == "src-1", f"{role}: {f}: id"
for f in ("victim-show", "show-victim"):
    r = load(f)
    assert r["notes"] == W and r["name"] == "Ahmad Khalil", f"{role}: {f}: {r}"
    assert r["source_id"] == "src-1", f"{role}: {f}: source_id"
s = load("source-list.json")
assert [(r["id"], r["name"], r["contact"], r["notes"]) for r in s] == \
    [("src-1", W, W, W)], f"{role}: source list: {s}"
rows = list(csv.DictReader(open(d + "/source-list.csv")))
assert [(r["name"], r["contact"], r["notes"]) for r in rows] == [(W, W, W)], \
    f"{role}: source list csv: {rows}"
v = {r["id"]: r["notes"] for r in load("victim-list.json")}
assert v == {"vic-1": W, "vic-2": W}, f"{role}: victim list: {v}"
rows = {r["id"]: r["notes"] for r in csv.DictReader(open(d + "/victim-list.csv"))}
assert rows == {"vic-1": W, "vic-2": W}, f"{role}: victim list csv: {rows}"
h = load("history-victim.json")["revisions"]
assert len(h) == 2 and all(r["record"]["notes"] == W for r in h), f"{role}: history: {h}"
h = load("history-source.json")["revisions"][0]["record"]
assert (h["name"], h["contact"], h["notes"]) == (W, W, W), f"{role}: source history: {h}"
if role != "viewer":
    q = {r["id"]: r["notes"] for r in load("query.json")}
    assert q == {"vic-1": W, "vic-2": W}, f"{role}: query: {q}"
    q = {r["id"]: r["notes"] for r in csv.DictReader(open(d + "/query.csv"))}
    assert q == {"vic-1": W, "vic-2": W}, f"{role}: query csv: {q}"
    g = load("duplicates.json")["groups"]
    assert len(g) == 1 and [r["notes"] for r in g[0]] == [W, W], f"{role}: dups: {g}"
' "$dir" "$role" || return 1
	for s in "${SECRETS[@]}" "Sealedname$SUF" "sealed" "bakery"; do
		if grep -rqiF -- "$s" "$dir"; then
			echo "  $role received '$s': $(grep -rliF -- "$s" "$dir" | xargs -n1 basename | tr '\n' ' ')" >&2
			return 1
		fi
	done
}

# --- the default: documenter and admin --------------------------------------------------------
check "custody.conf says who reads protected fields" grep -q "^protected = documenter, admin" "$A/custody.conf"
for role in admin documenter analyst viewer; do
	case $role in
	admin) u=$ADMIN ;; documenter) u=$DOC ;; analyst) u=$ANALYST ;; viewer) u=$VIEWER ;;
	esac
	read_all "$u" "$T/out-$role" "$role"
	case $role in
	admin | documenter) check "$role reads every protected field on every path" sees "$T/out-$role" "$role" ;;
	*) check "$role reads \"withheld\" on every path, and the plaintext nowhere" withheld "$T/out-$role" "$role" ;;
	esac
done
contains "the analyst's history shows the edit" "$(cat "$T/out-analyst/history-victim.text")" "revision 2"

# --- protected = analyst: the analyst reads them, and only the analyst ------------------------
stop_daemon "$DAEMON_PID" || fail "the daemon did not stop cleanly"
set_conf protected analyst
start
rm -rf "$T"/out-*
for role in analyst documenter viewer admin; do
	case $role in
	admin) u=$ADMIN ;; documenter) u=$DOC ;; analyst) u=$ANALYST ;; viewer) u=$VIEWER ;;
	esac
	read_all "$u" "$T/out-$role" "$role"
	case $role in
	analyst) check "protected = analyst: the analyst reads them" sees "$T/out-$role" "$role" ;;
	*) check "protected = analyst: $role reads \"withheld\"" withheld "$T/out-$role" "$role" ;;
	esac
done

# --- a protected list that names no role is refused -------------------------------------------
stop_daemon "$DAEMON_PID" || fail "the daemon did not stop cleanly"
set_conf protected "analyst, everyone"
if "$CUSTODYD" run "$A" >"$T/bad.log" 2>&1; then
	fail "a daemon started with protected = everyone"
else
	contains "protected = everyone is refused, naming the word" "$(cat "$T/bad.log")" \
	    "'everyone' is not a role"
fi

done_testing
