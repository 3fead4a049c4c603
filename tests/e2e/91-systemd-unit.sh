#!/usr/bin/env bash
# custodyd@.service, as installed (cmake --install into a staging prefix), passes stock
# `systemd-analyze verify` for an archive instance, with the man pages it names (Documentation=)
# looked up among the installed ones; it runs custodyd on the archive the instance names, as the
# user custody, with the sandbox the issue asks for; and `systemd-analyze security` rates it
# no worse than "OK" (an exposure of 4.9 at most).
. "$(dirname "$0")/lib.sh"

command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze is not installed"; exit 77; }
[ -n "${BUILD:-}" ] && [ -f "$BUILD/cmake_install.cmake" ] ||
    { echo "SKIP: BUILD does not name a configured build directory"; exit 77; }
S=$T/stage
cmake --install "$BUILD" --prefix "$S" >"$T/install.log" 2>&1 ||
    { cat "$T/install.log" >&2; echo "cmake --install failed" >&2; exit 1; }
U=$S/lib/systemd/system/custodyd@.service
mkdir -p "$T/units"
INST="$T/units/custodyd@$(systemd-escape --path /var/lib/custody/office).service"
cp "$U" "$INST"

if command -v man >/dev/null; then
	MANPATH=$S/share/man systemd-analyze verify "$INST" >"$T/verify.log" 2>&1 ||
	    fail "systemd-analyze verify: $(cat "$T/verify.log")"
else
	echo "note: man is not installed: Documentation= is not looked up"
	systemd-analyze verify --man=no "$INST" >"$T/verify.log" 2>&1 ||
	    fail "systemd-analyze verify: $(cat "$T/verify.log")"
fi
check "systemd-analyze verify has nothing to say" [ ! -s "$T/verify.log" ]

for line in "ExecStart=$S/sbin/custodyd run %f \$CUSTODYD_OPTIONS" "ReadWritePaths=%f" \
    "User=custody" "NoNewPrivileges=yes" "ProtectSystem=strict" "PrivateTmp=yes" \
    "ProtectHome=yes"; do
	check "the unit has $line" grep -qxF "$line" "$U"
done
check "the unit sets LimitMEMLOCK (16 MiB or more)" \
    sh -c "grep -qE '^LimitMEMLOCK=((1[6-9]|[2-9][0-9]|[0-9]{3,})M|[0-9]+G|infinity)$' '$U'"

if systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then
	systemd-analyze security --offline=yes --threshold=49 "$INST" >"$T/security.log" 2>&1 ||
	    fail "systemd-analyze security: $(tail -3 "$T/security.log")"
	contains "systemd-analyze security rates it" "$(tail -1 "$T/security.log")" "exposure level"
fi
done_testing
