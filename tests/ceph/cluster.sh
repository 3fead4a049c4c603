#!/usr/bin/env bash
# A single-node Ceph cluster for the tests, from Debian's packages (ceph-mon, ceph-osd,
# ceph-common), on loopback in a private directory:
#
#   cluster.sh start DIR      one monitor (msgr v2 on a free port), one bluestore OSD on a sparse
#                             file, pool "custody" of size 1, cephx with its own keyrings and a
#                             client.custody key limited to that pool; writes DIR/ceph.conf and
#                             DIR/client.keyring and says how long it took
#   cluster.sh stop DIR       stops every daemon it started, by the pid recorded in DIR, and
#                             removes DIR
#   cluster.sh osd-stop DIR   stops the OSD gracefully (an outage)
#   cluster.sh osd-start DIR  starts it again and waits until the pool takes writes
#   cluster.sh mon-stop DIR   stops the monitor gracefully (with the OSD: the whole cluster)
#   cluster.sh mon-start DIR  starts it again (its store is kept in DIR/mon)
#   cluster.sh full DIR       makes the OSD report itself full, and so the pool, and waits until
#                             the monitor has flagged the pool full (a full cluster)
#   cluster.sh unfull DIR     gives the OSD its default ratios back and waits until the pool
#                             takes writes again
#
# Bluestore rather than memstore: it survives a SIGKILL and, with osd_memory_target at 1 GiB,
# holds gigabytes in ~150 MiB of memory where memstore keeps every byte in RAM. The conf sets
# nothing a real cluster would lack but what a one-node cluster on loopback needs (pool size 1,
# no host failure domain, the loopback addresses, low disk-space warnings) and
# osd_fast_shutdown = false, so a stopped OSD saves its state. No ceph-mgr: librados needs none.
set -euo pipefail

usage() {
	echo "usage: cluster.sh start|stop|osd-stop|osd-start|mon-stop|mon-start|full|unfull DIR" >&2
	exit 2
}

[ $# -eq 2 ] || usage
CMD=$1
D=$2

# ceph ARGS...: the admin's command line against this cluster, never waiting forever.
ceph_admin() {
	timeout 60 ceph -c "$D/ceph.conf" -n client.admin --connect-timeout 30 "$@"
}

# alive PIDFILE: whether the daemon whose pid is in PIDFILE runs.
alive() {
	[ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# stop_pid PIDFILE: SIGTERM, up to 20 s to save its state and go, then SIGKILL.
stop_pid() {
	local f=$1 pid i
	[ -s "$f" ] || return 0
	pid=$(cat "$f")
	kill -TERM "$pid" 2>/dev/null || { rm -f "$f"; return 0; }
	for i in $(seq 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$f"
}

# free_port: a loopback port the kernel picks as free.
free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_writable SECONDS: until client.custody can write to the pool.
wait_writable() {
	local i
	for i in $(seq "$1"); do
		if timeout 10 rados -c "$D/ceph.conf" -n client.custody -p custody \
		    put .probe "$D/ceph.conf" 2>/dev/null; then
			timeout 10 rados -c "$D/ceph.conf" -n client.custody -p custody \
			    rm .probe 2>/dev/null || true
			return 0
		fi
		sleep 0.5
	done
	echo "cluster.sh: the pool takes no writes (see $D/log)" >&2
	return 1
}

osd_start() {
	alive "$D/pids/osd" && return 0
	ceph-osd -c "$D/ceph.conf" -f -i 0 >>"$D/log/osd.0.out" 2>&1 &
	echo $! >"$D/pids/osd"
	wait_writable 120
}

osd_stop() {
	stop_pid "$D/pids/osd"
}

mon_start() {
	alive "$D/pids/mon" && return 0
	ceph-mon -c "$D/ceph.conf" -f -i a >>"$D/log/mon.a.out" 2>&1 &
	echo $! >"$D/pids/mon"
}

mon_stop() {
	stop_pid "$D/pids/mon"
}

# full: ratios far below what the OSD already uses, so that at its next heartbeat it reports
# itself full to the monitor (no ceph-mgr needed, unlike a pool quota), which then flags every
# pool it holds full; lowered nearfull first, so the three stay in order.
full() {
	local i
	ceph_admin osd set-nearfull-ratio 0.0001 >/dev/null 2>&1
	ceph_admin osd set-backfillfull-ratio 0.0002 >/dev/null 2>&1
	ceph_admin osd set-full-ratio 0.0003 >/dev/null 2>&1
	for i in $(seq 120); do
		ceph_admin osd dump 2>/dev/null | grep -q "^pool .* 'custody' .*flags [a-z_,]*full" &&
		    return 0
		sleep 0.5
	done
	echo "cluster.sh: the pool was never flagged full (see $D/log)" >&2
	return 1
}

# unfull: Ceph's default ratios back, raised full first, then until the pool takes writes.
unfull() {
	ceph_admin osd set-full-ratio 0.95 >/dev/null 2>&1
	ceph_admin osd set-backfillfull-ratio 0.9 >/dev/null 2>&1
	ceph_admin osd set-nearfull-ratio 0.85 >/dev/null 2>&1
	wait_writable 120
}

start() {
	local t0 fsid port osd_uuid id i
	t0=$(date +%s%N)
	for cmd in ceph-mon ceph-osd ceph ceph-authtool monmaptool rados uuidgen; do
		command -v "$cmd" >/dev/null || { echo "cluster.sh: $cmd is missing" >&2; exit 77; }
	done
	[ ! -e "$D" ] || { echo "cluster.sh: $D exists" >&2; exit 1; }
	mkdir -m 700 -p "$D"
	D=$(cd "$D" && pwd)
	mkdir -p "$D/pids" "$D/log" "$D/run" "$D/mon/ceph-a" "$D/osd/ceph-0"
	fsid=$(uuidgen)
	port=$(free_port)
	cat >"$D/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$port
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
run dir = $D/run
admin socket = $D/run/\$cluster-\$name.asok
log file = $D/log/\$name.log
osd crush chooseleaf type = 0
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon data avail warn = 2
mon data avail crit = 1
osd fast shutdown = false

[mon]
mon data = $D/mon/ceph-\$id

[osd]
osd data = $D/osd/ceph-\$id
osd objectstore = bluestore
bluestore block size = 21474836480
osd memory target = 1073741824

[mon.a]
keyring = $D/mon/ceph-a/keyring

[osd.0]
keyring = $D/osd/ceph-0/keyring

[client.admin]
keyring = $D/admin.keyring

[client.custody]
keyring = $D/client.keyring
EOF
	# keys: the monitor's, the admin's (imported into the monitor's), the OSD's
	{
		ceph-authtool --create-keyring "$D/mon.keyring" --gen-key -n mon. --cap mon 'allow *'
		ceph-authtool --create-keyring "$D/admin.keyring" --gen-key -n client.admin \
		    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *'
		ceph-authtool "$D/mon.keyring" --import-keyring "$D/admin.keyring"
		monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$port]" "$D/monmap"
	} >"$D/log/keys.out"
	ceph-mon -c "$D/ceph.conf" --mkfs -i a --monmap "$D/monmap" --keyring "$D/mon.keyring" \
	    >"$D/log/mkfs-mon.out" 2>&1
	ceph-mon -c "$D/ceph.conf" -f -i a >>"$D/log/mon.a.out" 2>&1 &
	echo $! >"$D/pids/mon"

	osd_uuid=$(uuidgen)
	id=$(ceph_admin osd new "$osd_uuid")
	[ "$id" = 0 ] || { echo "cluster.sh: osd new gave '$id'" >&2; exit 1; }
	ceph-authtool --create-keyring "$D/osd/ceph-0/keyring" --gen-key -n osd.0 >>"$D/log/keys.out"
	ceph_admin auth add osd.0 osd 'allow *' mon 'allow profile osd' \
	    -i "$D/osd/ceph-0/keyring" 2>/dev/null
	ceph-osd -c "$D/ceph.conf" -i 0 --mkfs --osd-uuid "$osd_uuid" \
	    >"$D/log/mkfs-osd.out" 2>&1
	ceph-osd -c "$D/ceph.conf" -f -i 0 >>"$D/log/osd.0.out" 2>&1 &
	echo $! >"$D/pids/osd"

	ceph_admin osd pool create custody 16 16 >/dev/null 2>&1
	ceph_admin osd pool application enable custody custody >/dev/null 2>&1
	ceph_admin auth get-or-create client.custody mon 'allow r' osd 'allow rwx pool=custody' \
	    -o "$D/client.keyring" 2>/dev/null
	chmod 600 "$D"/*.keyring
	wait_writable 240
	t0=$((($(date +%s%N) - t0) / 100000000))
	echo "cluster.sh: ceph started in $((t0 / 10)).$((t0 % 10)) s (mon on 127.0.0.1:$port, $D)"
}

stop() {
	[ -d "$D" ] || return 0
	stop_pid "$D/pids/osd"
	stop_pid "$D/pids/mon"
	rm -rf "$D"
}

case "$CMD" in
start) start ;;
stop) stop ;;
osd-stop) osd_stop ;;
osd-start) osd_start ;;
mon-stop) mon_stop ;;
mon-start) mon_start ;;
full) full ;;
unfull) unfull ;;
*) usage ;;
esac
