# Helpers for the end-to-end tests of an archive whose blobs live in a Ceph RADOS pool; source
# after lib.sh. A test calls ceph_up to get a one-node cluster (tests/ceph/cluster.sh, stopped
# and removed at exit; CUSTODY_CEPH_DIR names a running one to reuse instead, for a test that
# does not stop it) and rados_archive to make an archive that keeps its blobs there.

CLUSTER=$(cd "$(dirname "${BASH_SOURCE[0]}")/../ceph" && pwd)/cluster.sh

# need_ceph: the Ceph tools and a custodyd built with librados, or SKIP.
need_ceph() {
	local cmd rc=0
	for cmd in ceph-mon ceph-osd ceph rados; do
		command -v "$cmd" >/dev/null ||
		    { echo "SKIP: $cmd missing (ceph-mon ceph-osd ceph-common)"; exit 77; }
	done
	[ -x "${BUILD:-}/custody-rados-store" ] ||
	    { echo "SKIP: custody-rados-store is not built (set BUILD)"; exit 77; }
	"$BUILD/custody-rados-store" /dev/null health >/dev/null 2>&1 || rc=$?
	[ $rc -ne 77 ] || { echo "SKIP: custody was built without librados (librados-dev)"; exit 77; }
}

# ceph_up [own]: CEPH is a running cluster's directory: CUSTODY_CEPH_DIR unless "own" is asked
# (a test that stops the cluster's daemons), else one started now and stopped at exit.
ceph_up() {
	CEPH=${CUSTODY_CEPH_DIR:-}
	if [ -z "$CEPH" ] || [ "${1:-}" = own ]; then
		CEPH=$T/ceph
		trap '"$CLUSTER" stop "$CEPH" || true; cleanup' EXIT
		"$CLUSTER" start "$CEPH"
	fi
}

# radosc ARGS...: Ceph's own client on the custody pool, as client.custody.
# Its stderr goes to $T/rados.err: a custodyd holding client.custody's admin socket makes every
# rados run say it cannot bind one.
radosc() {
	timeout 120 rados -c "$CEPH/ceph.conf" -n client.custody -p custody "$@" 2>>"$T/rados.err"
}

# rados_archive DIR OFFICE [TIMEOUT]: a new unattended archive whose blobs go to the pool, its
# Ceph operations failing after TIMEOUT seconds (default 10).
rados_archive() {
	init_archive "$1" "$2"
	cat >>"$1/custody.conf" <<CONF

[blobs]
store = rados
pool = custody
ceph_conf = $CEPH/ceph.conf
client = client.custody
timeout = ${3:-10}
CONF
}

# pool_sound: every object of the pool under a final name (64 hex digits) holds bytes that hash
# to that name, read with Ceph's own client: the object itself, or the parts its manifest (xattr
# custody.parts, "1 ID SIZE PARTSIZE NPARTS") names, of exactly SIZE bytes. Prints the bad ones
# and how many were checked; fails when any is bad.
pool_sound() {
	local oid m id size parts i got bad=0 n=0
	radosc ls >"$T/pool.ls" || { echo "rados ls failed"; return 1; }
	: >"$T/pool.ids"
	while read -r oid; do
		[[ "$oid" =~ ^[0-9a-f]{64}$ ]] || continue
		n=$((n + 1))
		rm -f "$T/pool.obj"
		if m=$(radosc getxattr "$oid" custody.parts 2>/dev/null); then
			read -r _ id size _ parts <<<"$m"
			echo "$id" >>"$T/pool.ids"
			: >"$T/pool.obj"
			for ((i = 0; i < parts; i++)); do
				radosc get "$(printf 'part.%s.%05d' "$id" "$i")" "$T/pool.part" &&
				    cat "$T/pool.part" >>"$T/pool.obj" || { echo "$oid: part $i missing"; bad=1; }
			done
			[ "$(stat -c %s "$T/pool.obj")" = "$size" ] ||
			    { echo "$oid: $(stat -c %s "$T/pool.obj") bytes, its manifest says $size"; bad=1; }
		else
			radosc get "$oid" "$T/pool.obj" || { echo "$oid: unreadable"; bad=1; continue; }
		fi
		got=$(sha256sum <"$T/pool.obj" | cut -c1-64)
		[ "$got" = "$oid" ] || { echo "$oid: its bytes hash to $got"; bad=1; }
	done <"$T/pool.ls"
	rm -f "$T/pool.obj" "$T/pool.part"
	echo "$n objects under final names checked"
	[ "$bad" = 0 ]
}

# pool_parts: how many part objects the pool holds.
pool_parts() {
	radosc ls | grep -c '^part\.' || true
}

# pool_no_strays: after pool_sound, every part object in the pool belongs to a blob whose
# manifest names it (what an interrupted write leaves has been swept). Prints the strays.
pool_no_strays() {
	local strays
	strays=$(grep '^part\.' "$T/pool.ls" | cut -d. -f2 | sort -u | comm -23 - <(sort -u "$T/pool.ids"))
	[ -z "$strays" ] || { echo "parts of no blob: $strays"; return 1; }
}

# field NAME: a field of `custody status --json` of the archive $A.
field() {
	cu "$A" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1]))' "$1"
}
# secs_since NS: seconds (one decimal) since the date +%s%N value NS.
secs_since() {
	local d=$((($(date +%s%N) - $1) / 100000000))
	echo "$((d / 10)).$((d % 10))"
}
