#!/usr/bin/env bash
# custodyd passwd: the old passphrase is required (a wrong one changes nothing), a too-short new
# one is refused (nothing changes), the new one opens the key and the old one no longer does; an
# office key can lose its passphrase (unattended) and get one again. keys/office.key is replaced
# by rename (seen with strace: a rename onto it, never an unlink or truncation of it), and
# passwd killed at random moments always leaves a whole key file that opens with the old or the
# new passphrase.
. "$(dirname "$0")/lib.sh"

A=$T/a
printf 'correct horse battery\n' >"$T/p1"
printf 'new staple passphrase\n' >"$T/p2"
printf 'third of the phrases\n' >"$T/p3"
printf 'too short\n' >"$T/short"

contains "custodyd passwd --help explains it" "$("$CUSTODYD" passwd --help 2>&1)" \
    "--new-passphrase-file NEW"

# opens DIR [--passphrase-file F]: the key opens (reindex loads it)
opens() {
	local dir=$1
	shift
	"$CUSTODYD" reindex "$dir" "$@" >/dev/null 2>&1
}

"$CUSTODYD" init "$A" --office A --passphrase-file "$T/p1" >/dev/null 2>&1 ||
    { echo "init failed" >&2; exit 1; }
cp "$A/keys/office.key" "$T/key.0"
cp "$A/keys/office.pub" "$T/pub.0"

rc=0
out=$("$CUSTODYD" passwd "$A" --passphrase-file "$T/p2" --new-passphrase-file "$T/p3" 2>&1) || rc=$?
check "a wrong old passphrase is refused" [ "$rc" -ne 0 ]
contains "saying so" "$out" "wrong passphrase"
check "and the key file is unchanged" cmp -s "$A/keys/office.key" "$T/key.0"
rc=0
out=$("$CUSTODYD" passwd "$A" --passphrase-file "$T/p1" --new-passphrase-file "$T/short" 2>&1) || rc=$?
check "a too-short new passphrase is refused" [ "$rc" -ne 0 ]
contains "saying so" "$out" "at least 12"
check "and the key file is unchanged" cmp -s "$A/keys/office.key" "$T/key.0"
rc=0
out=$("$CUSTODYD" passwd "$A" --new-passphrase-file "$T/p2" </dev/null 2>&1) || rc=$?
check "without the old passphrase (and no terminal) passwd fails" [ "$rc" -ne 0 ]
check "and the key file is unchanged" cmp -s "$A/keys/office.key" "$T/key.0"

check "passwd from p1 to p2" quiet "$CUSTODYD" passwd "$A" --passphrase-file "$T/p1" \
    --new-passphrase-file "$T/p2"
check "p2 opens the key" opens "$A" --passphrase-file "$T/p2"
refute "p1 no longer does" opens "$A" --passphrase-file "$T/p1"
check "the public key is unchanged" cmp -s "$A/keys/office.pub" "$T/pub.0"
check "the key file stays private" [ "$(stat -c %a "$A/keys/office.key")" = 600 ]
check "no temporary left" [ ! -e "$A/keys/office.key.new" ]

check "an office key can be made unattended" quiet "$CUSTODYD" passwd "$A" \
    --passphrase-file "$T/p2" --no-passphrase
check "it opens without a passphrase" opens "$A"
check "and given a passphrase again (old: none)" quiet "$CUSTODYD" passwd "$A" \
    --new-passphrase-file "$T/p2"
refute "then it no longer opens without one" opens "$A"
check "p2 opens it" opens "$A" --passphrase-file "$T/p2"

# The key is replaced by rename, never removed or truncated in place.
if command -v strace >/dev/null 2>&1; then
	# (LeakSanitizer cannot run under ptrace)
	ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
	    strace -f -o "$T/strace" -e trace=%file "$CUSTODYD" passwd "$A" --passphrase-file "$T/p2" \
	    --new-passphrase-file "$T/p3" >"$T/strace.out" 2>&1 ||
	    { cat "$T/strace.out" >&2; fail "passwd under strace"; }
	check "passwd renames the new file onto keys/office.key" \
	    grep -Eq 'rename(at2?)?\(.*office\.key\.new".*office\.key"' "$T/strace"
	refute "and never unlinks or truncates keys/office.key itself" \
	    grep -Eq '(unlink(at)?\(.*office\.key"|office\.key".*O_TRUNC)' "$T/strace"
	check "p3 opens the key" opens "$A" --passphrase-file "$T/p3"
	cp "$T/p3" "$T/cur"
	cp "$T/p2" "$T/next"
else
	echo "strace missing: the rename check is left out"
	cp "$T/p2" "$T/cur"
	cp "$T/p3" "$T/next"
fi

# Killed at random moments: a whole key file, opening with one of the two, is always there.
for i in 1 2 3 4 5 6; do
	"$CUSTODYD" passwd "$A" --passphrase-file "$T/cur" --new-passphrase-file "$T/next" \
	    >/dev/null 2>&1 &
	pid=$!
	sleep "$(python3 -c 'import random; print(round(random.uniform(0.1, 2.5), 2))')"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	if [ ! -f "$A/keys/office.key" ]; then
		fail "kill $i: keys/office.key is missing"
	elif opens "$A" --passphrase-file "$T/next"; then
		ok "kill $i: the key opens with the new passphrase"
		cp "$T/cur" "$T/tmp"; cp "$T/next" "$T/cur"; cp "$T/tmp" "$T/next"
	elif opens "$A" --passphrase-file "$T/cur"; then
		ok "kill $i: the key opens with the old passphrase"
	else
		fail "kill $i: the key opens with neither passphrase"
	fi
done
check "a later passwd sweeps a left temporary" quiet "$CUSTODYD" passwd "$A" \
    --passphrase-file "$T/cur" --new-passphrase-file "$T/next"
check "no temporary left" [ ! -e "$A/keys/office.key.new" ]
check "the key opens after all" opens "$A" --passphrase-file "$T/next"

done_testing
