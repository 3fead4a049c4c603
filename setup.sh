#!/usr/bin/env bash
# Set up custody on Debian 12 and run it: `./setup.sh demo` (an archive at the default location,
# a daemon, a real ingest/get/report/extract round trip) or `./setup.sh test` (every test, also
# under AddressSanitizer and UndefinedBehaviorSanitizer, a subset under valgrind, a build without
# the test dependencies installed into a staging directory and run from there, then the fuzz
# harnesses). Installs what is missing with apt-get.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES="build-essential cmake pkg-config libsodium-dev libssl-dev libgit2-dev libsqlite3-dev
	libevent-dev libjansson-dev libprotobuf-c-dev protobuf-c-compiler libinih-dev libcsv-dev
	libutf8proc-dev libcmocka-dev git openssh-client age sqlite3 python3 procps clang
	libclang-rt-14-dev valgrind strace python3-cryptography libgfshare-dev rsync libmagic-dev scdoc
	dante-server gdal-bin ceph-mon ceph-osd ceph-common uuid-runtime librados-dev"
JOBS=${JOBS:-2}

deps() {
	local missing=() p
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "installing: ${missing[*]}"
		local sudo=""
		[ "$(id -u)" -eq 0 ] || sudo=sudo
		$sudo apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
	fi
}

# build DIR [CMAKE ARGS...]
build() {
	local dir=$1
	shift
	cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
	cmake --build "$dir" -j "$JOBS" >/dev/null
}

demo() {
	deps
	build build
	local archive=${CUSTODY_ARCHIVE:-${XDG_DATA_HOME:-$HOME/.local/share}/custody}
	local bin=$PWD/build
	export CUSTODY_ARCHIVE=$archive
	if [ ! -e "$archive/custody.conf" ]; then
		echo "== creating the archive at $archive (unattended: key without passphrase)"
		"$bin/custodyd" init "$archive" --office demo-office --no-passphrase
	fi
	if ! "$bin/custody" status >/dev/null 2>&1; then
		echo "== starting custodyd (log: $archive.log)"
		nohup "$bin/custodyd" run "$archive" >>"$archive.log" 2>&1 &
		for _ in $(seq 100); do
			"$bin/custody" status >/dev/null 2>&1 && break
			sleep 0.1
		done
	fi
	WORK=$(mktemp -d)
	trap 'rm -rf "$WORK"' EXIT
	printf 'Testimony of witness W-17, recorded %s.\nThe shelling began at dawn.\n' \
	    "$(date -u +%F)" >"$WORK/testimony-W17.txt"
	head -c 5000000 /dev/urandom >"$WORK/video-clip.mp4"
	echo "== ingest"
	"$bin/custody" ingest --note "demo evidence" "$WORK/testimony-W17.txt" "$WORK/video-clip.mp4"
	local id
	id=$(sha256sum "$WORK/video-clip.mp4" | cut -d' ' -f1)
	echo "== get back and compare"
	"$bin/custody" get "$id" -o "$WORK/video-back.mp4"
	cmp "$WORK/video-clip.mp4" "$WORK/video-back.mp4" && echo "byte-identical: $id"
	echo "== show"
	"$bin/custody" show "$id"
	echo "== log"
	"$bin/custody" log --limit 5
	echo "== records: import victims, then the month's report"
	cat >"$WORK/victims.csv" <<-'CSV'
	id,name,sex,age,status,date_of_death,date_documented,governorate,cause,party,incident_id
	demo-v1,Ahmad Haddad,male,34,civilian,2024-12-01,2024-12-02,idlib,shelling,syrian_regime,demo-inc-1
	demo-v2,Layla Haddad,female,9,civilian,2024-12-01,2024-12-02,idlib,shelling,syrian_regime,demo-inc-1
	demo-v3,Hana Nasser,female,41,civilian,2024-12-09,2024-12-10,aleppo,airstrike,russia,
	CSV
	cat >"$WORK/incidents.csv" <<-'CSV'
	id,date,governorate,party,type,title
	demo-inc-1,2024-12-01,idlib,syrian_regime,shelling,Shelling of the market
	CSV
	"$bin/custody" import incidents "$WORK/incidents.csv"
	"$bin/custody" import victims "$WORK/victims.csv"
	"$bin/custody" link "$id" --incident demo-inc-1
	"$bin/custody" report --month 2024-12
	echo "== extract a dossier for an investigator, and verify it as they would (offline)"
	age-keygen -o "$WORK/investigator.key" 2>/dev/null
	"$bin/custody" recipient add demo-investigator "$(age-keygen -y "$WORK/investigator.key")"
	"$bin/custody" extract --recipient demo-investigator --incident demo-inc-1 \
	    -o "$WORK/dossier.age"
	"$bin/custody" verify-dossier "$WORK/dossier.age" -i "$WORK/investigator.key"
	echo "== verify"
	"$bin/custody" verify
	echo "== status"
	"$bin/custody" status
	echo
	echo "custodyd keeps running on $archive; stop it with: kill \$(cat $archive/custodyd.lock)"
}

run_suite() {
	local dir=$1
	(cd "$dir" && ctest --output-on-failure -j "$JOBS" --timeout 1200)
}

tests() {
	deps
	echo "== build"
	build build -DCUSTODY_WERROR=ON
	echo "== tests"
	run_suite build
	echo "== build with AddressSanitizer and UndefinedBehaviorSanitizer"
	build build-asan -DCMAKE_BUILD_TYPE=Debug -DCUSTODY_SANITIZE=ON -DCUSTODY_WERROR=ON
	echo "== tests under ASan+UBSan"
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	    run_suite build-asan
	echo "== under valgrind memcheck: a subset of the end-to-end tests"
	tests/valgrind/run.sh build 10-roundtrip 20-records 40-dossier
	staged
	fuzz
}

# The programs as a package builds them: without the test dependencies (cmocka hidden from
# pkg-config, BUILD_TESTING off), installed with DESTDIR into a staging directory, then run from
# there: both report their version, the installed custodyd makes an archive and serves the
# installed custody, and the man pages are where man looks for them.
staged() {
	local stage pcdir d f pid out
	echo "== build without tests, install into a staging directory, run the installed programs"
	stage=$(mktemp -d)
	pcdir=$stage/pkgconfig
	mkdir -p "$pcdir"
	for d in $(pkg-config --variable pc_path pkg-config | tr : ' '); do
		for f in "$d"/*.pc; do
			[ -e "$f" ] && [ "${f##*/}" != cmocka.pc ] && ln -sf "$f" "$pcdir/"
		done
	done
	PKG_CONFIG_LIBDIR=$pcdir build build-staged -DBUILD_TESTING=OFF -DCMAKE_INSTALL_PREFIX=/usr \
	    -DCUSTODY_WERROR=ON
	DESTDIR=$stage/root cmake --install build-staged >/dev/null
	local bin=$stage/root/usr/bin/custody sbin=$stage/root/usr/sbin/custodyd
	"$bin" --version
	"$sbin" --version
	for f in man1/custody.1 man8/custodyd.8 man5/custody.conf.5; do
		[ -s "$stage/root/usr/share/man/$f" ] || { echo "$f is not installed"; exit 1; }
	done
	[ -s "$stage/root/usr/lib/systemd/system/custodyd@.service" ] ||
	    { echo "custodyd@.service is not installed"; exit 1; }
	"$sbin" init "$stage/archive" --office staged-office --no-passphrase >/dev/null
	"$sbin" run "$stage/archive" 2>"$stage/log" &
	pid=$!
	for _ in $(seq 100); do
		"$bin" -A "$stage/archive" status >/dev/null 2>&1 && break
		sleep 0.1
	done
	out=$("$bin" -A "$stage/archive" status 2>&1) || true
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	case $out in
	*staged-office*) ;;
	*) cat "$stage/log"; echo "$out"; echo "the installed programs do not work"; exit 1 ;;
	esac
	echo "installed into $stage/root/usr and ran from there"
	rm -rf "$stage"
}

# Every libFuzzer harness (clang): its corpus replayed, then FUZZ_SECONDS (default 10) of new
# inputs each, in a scratch corpus. Any crash, leak or sanitizer report fails.
fuzz() {
	local h name work
	echo "== fuzz harnesses: corpora replayed, then ${FUZZ_SECONDS:-10} s each"
	CC=clang build build-fuzz -DCUSTODY_FUZZ=ON -DCUSTODY_WERROR=ON
	work=$(mktemp -d)
	for h in build-fuzz/fuzz_*; do
		name=${h#build-fuzz/fuzz_}
		mkdir -p "$work/$name"
		"$h" -runs=0 "tests/fuzz/corpus/$name" >"$work/$name.replay" 2>&1 ||
		    { cat "$work/$name.replay"; echo "fuzz_$name: the corpus fails"; exit 1; }
		"$h" -max_total_time="${FUZZ_SECONDS:-10}" -print_final_stats=1 "$work/$name" \
		    "tests/fuzz/corpus/$name" >"$work/$name.log" 2>&1 ||
		    { tail -40 "$work/$name.log"; echo "fuzz_$name: failed"; exit 1; }
		echo "fuzz_$name: $(awk '/number_of_executed_units/ {print $2}' "$work/$name.log") runs"
	done
	rm -rf "$work"
}

case "${1:-}" in
demo) demo ;;
staged) deps; staged ;;
test) tests ;;
deps) deps ;;
fuzz) deps; fuzz ;;
*) echo "usage: $0 demo|test|fuzz|staged|deps" >&2; exit 2 ;;
esac
