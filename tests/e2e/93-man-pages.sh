#!/usr/bin/env bash
# The man pages keep up with the programs: custody(1) names every command `custody --help` lists
# and every option of every command's usage line and of the global usage; custodyd(8) every
# subcommand and option of custodyd's usage texts; custody.conf(5) every section and key the
# configuration parser knows and every key of the custody.conf `custodyd init` writes. A
# command, option or key added without its documentation fails here.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
MAN=$SRC/dist/man
# documented PAGE WORD: the scdoc source of PAGE shows WORD in bold (*WORD*).
documented() {
	grep -qF "*$2*" "$MAN/$1.scd"
}
# options TEXT: every -x and --long-option in TEXT, one a line (not the -MM of YYYY[-MM]).
options() {
	grep -oE '(^|[^a-zA-Z0-9-])--?[a-zA-Z][a-zA-Z0-9-]*' <<<"$1" | sed 's/^[^-]*//' |
	    grep -E '^(--[a-z]|-[a-zA-Z]$)' | sort -u
}

help=$("$CUSTODY" --help)
cmds=$(sed -n '/^commands:/,/^$/p' <<<"$help" | sed -n 's/^  \([a-z].*[a-z]\)   *[A-Z].*/\1/p' |
    sed 's/  *$//')
check "custody --help lists commands" [ "$(wc -l <<<"$cmds")" -gt 30 ]
while read -r c; do
	check "custody(1) has the command '$c'" documented custody.1 "$c"
	usage=$("$CUSTODY" $c --help | sed -n 1p)
	for o in $(options "${usage#usage: custody $c}"); do
		check "custody(1) has $c's option $o" documented custody.1 "$o"
	done
done <<<"$cmds"
for o in $(options "$(sed '/^commands:/,$d' <<<"$help")"); do
	check "custody(1) has the global option $o" documented custody.1 "$o"
done

dusage=$("$CUSTODYD" 2>&1 || true)
subs=$(sed -n 's/^ *\(usage: \)\{0,1\}custodyd \([a-z][a-z]*\) .*/\2/p' <<<"$dusage" | sort -u)
check "custodyd's usage lists subcommands" [ "$(wc -l <<<"$subs")" -ge 6 ]
all=$dusage
for s in $subs; do
	check "custodyd(8) has the command '$s'" documented custodyd.8 "$s"
	all+=$'\n'$("$CUSTODYD" "$s" --help 2>&1 || true)
done
for o in $(options "$(grep -E '^ *(usage: )?custodyd|^  +\[' <<<"$all")"); do
	check "custodyd(8) has the option $o" documented custodyd.8 "$o"
done

CONF=$(grep -rl 'ini_parse' "$SRC/daemon" | sed -n 1p)
check "the configuration parser is found" [ -n "$CONF" ]
keys=$(grep -oE 'strcmp\(name, "[a-z_]+"\)' "$CONF" | sed 's/.*"\(.*\)".*/\1/')
sections=$(grep -oE 'strn?cmp\(section, "[a-z_ ]+"' "$CONF" | sed 's/.*"\(.*\)"/\1/; s/ $/ NAME/' |
    sort -u)
A=$T/a
init_archive "$A" man-office
keys+=$'\n'$(sed -n 's/^[#;]* *\([a-z_][a-z_]*\) *=.*/\1/p' "$A/custody.conf")
for k in $(sort -u <<<"$keys"); do
	check "custody.conf(5) has the key $k" documented custody.conf.5 "$k"
done
while read -r s; do
	check "custody.conf(5) has the section [$s]" grep -qF "## [$s" "$MAN/custody.conf.5.scd"
done <<<"$sections"
done_testing
