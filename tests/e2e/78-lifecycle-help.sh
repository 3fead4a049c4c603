#!/usr/bin/env bash
# Every command of the key lifecycle (revocation, invitations, recovery shares, recovery,
# passphrase change, key and data-key rotation) answers --help with its usage and a sentence on what it does, exits 0,
# and is documented in README.md with that usage.
. "$(dirname "$0")/lib.sh"

README=$(cd "$(dirname "$0")/../.." && pwd)/README.md
[ -f "$README" ] || { echo "SKIP: README.md is not beside the tests"; exit 77; }

# helps DESCRIPTION USAGE COMMAND...: COMMAND --help exits 0 and prints USAGE and more.
helps() {
	local what=$1 usage=$2 out rc=0
	shift 2
	out=$("$@" --help 2>&1) || rc=$?
	check "$what --help exits 0" [ "$rc" -eq 0 ]
	contains "$what --help gives its usage" "$out" "$usage"
	check "$what --help says what it does" [ "$(printf '%s\n' "$out" | grep -c .)" -ge 2 ]
}
# documented WORDS: README.md holds WORDS.
documented() {
	if grep -qF -- "$1" "$README"; then ok "README documents '$1'"
	else fail "README does not document '$1'"; fi
}

helps "custody office revoke" "custody office revoke NAME --reason TEXT [--from-seq N]" \
    cu "$T/none" office revoke
helps "custody office revocations" "custody office revocations" cu "$T/none" office revocations
helps "custody invite" "[--expires DURATION]" cu "$T/none" invite
helps "custody invite withdraw" "custody invite withdraw NAME" cu "$T/none" invite withdraw
helps "custody keys split" "custody keys split --shares N --threshold K -o DIR" \
    cu "$T/none" keys split
helps "custody audit" "custody audit [ID]" cu "$T/none" audit
helps "custody keys rotate-data" "custody keys rotate-data" cu "$T/none" keys rotate-data
helps "custody keys rotate" "usage: custody keys rotate
" cu "$T/none" keys rotate
helps "custodyd recover" "custodyd recover ARCHIVE --office NAME --share FILE" \
    "$CUSTODYD" recover
helps "custodyd passwd" "custodyd passwd ARCHIVE [--passphrase-file OLD]" "$CUSTODYD" passwd

documented "custody office revoke NAME --reason TEXT [--from-seq N]"
documented "custody office revocations"
documented "--expires"
documented "custody invite withdraw NAME"
documented "custody keys split --shares"
documented "custody keys rotate-data"
documented "custody keys rotate "
documented "custodyd recover ARCHIVE --office NAME --share"
documented "custodyd passwd ARCHIVE"
documented "still recovering"

done_testing
