#!/usr/bin/env bash
# `cmake --install` into a staging prefix installs custody in bin/, custodyd in sbin/, the three
# man pages, custodyd@.service (its ExecStart naming the installed custodyd), the sysusers.d and
# tmpfiles.d files; and the installed programs work: both report the project's VERSION, the
# installed custodyd makes an archive and serves the installed custody, which ingests a file
# and gets the same bytes back. The sysusers.d file, applied to an empty root with stock
# systemd-sysusers, makes the user custody.
. "$(dirname "$0")/lib.sh"

[ -n "${BUILD:-}" ] && [ -f "$BUILD/cmake_install.cmake" ] ||
    { echo "SKIP: BUILD does not name a configured build directory"; exit 77; }
S=$T/stage
cmake --install "$BUILD" --prefix "$S" >"$T/install.log" 2>&1 ||
    { cat "$T/install.log" >&2; echo "cmake --install failed" >&2; exit 1; }

VERSION=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BUILD/CMakeCache.txt")
check "the project has a VERSION" [ -n "$VERSION" ]
check "custody is in bin/" [ -x "$S/bin/custody" ]
check "custodyd is in sbin/" [ -x "$S/sbin/custodyd" ]
check "custodyd is not in bin/" [ ! -e "$S/bin/custodyd" ]
for page in man1/custody.1 man8/custodyd.8 man5/custody.conf.5; do
	f=$S/share/man/$page
	check "$page is installed" [ -s "$f" ]
	name=${page#*/}
	check "$page is a man page of ${name%.*}" grep -q "^\.TH \"${name%.*}\" \"${name##*.}\"" "$f"
done
U=$S/lib/systemd/system/custodyd@.service
check "custodyd@.service is installed" [ -s "$U" ]
check "its ExecStart is the installed custodyd" grep -qx "ExecStart=$S/sbin/custodyd run %f \$CUSTODYD_OPTIONS" "$U"
check "the sysusers.d file is installed" [ -s "$S/lib/sysusers.d/custody.conf" ]
check "the tmpfiles.d file is installed" grep -q '^d /var/lib/custody ' "$S/lib/tmpfiles.d/custody.conf"

contains "installed custody --version" "$("$S/bin/custody" --version)" "custody $VERSION "
check "installed custodyd --version" [ "$("$S/sbin/custodyd" --version)" = "custodyd $VERSION" ]

CUSTODYD=$S/sbin/custodyd
CUSTODY=$S/bin/custody
A=$T/archive
init_archive "$A" staged-office
check "the installed custodyd made an archive" grep -q '^name = staged-office$' "$A/custody.conf"
start_daemon "$A"
contains "the installed custody reaches it" "$(cu "$A" status)" "staged-office"
head -c 100000 /dev/urandom >"$T/evidence.bin"
id=$(cu "$A" ingest "$T/evidence.bin" | cut -d' ' -f1)
check "ingest prints the file's SHA-256" [ "$id" = "$(sha256sum "$T/evidence.bin" | cut -d' ' -f1)" ]
cu "$A" get "$id" -o "$T/back.bin" || fail "get"
check "get gives the same bytes back" cmp -s "$T/evidence.bin" "$T/back.bin"
contains "status reports the release" "$(cu "$A" --json status)" "\"$VERSION\""

if command -v systemd-sysusers >/dev/null; then
	mkdir -p "$T/root/etc" "$T/root/usr/lib/sysusers.d"
	cp "$S/lib/sysusers.d/custody.conf" "$T/root/usr/lib/sysusers.d/"
	systemd-sysusers --root="$T/root" >"$T/sysusers.log" 2>&1 || fail "systemd-sysusers: $(cat "$T/sysusers.log")"
	check "sysusers.d makes the user custody" grep -q '^custody:x:[0-9]*:[0-9]*:.*:/var/lib/custody:' "$T/root/etc/passwd"
	check "and its group" grep -q '^custody:x:' "$T/root/etc/group"
else
	echo "note: systemd-sysusers is not installed: the sysusers.d file is not applied"
fi
done_testing
