#!/usr/bin/env bash
# An import larger than what custodyd holds in memory: past 65,536 rows, the places of the
# kept rows and the pack's index entries go through sorted runs in unnamed files under tmp/,
# and each record goes from its CSV row to its sealed object without being parsed again. Every
# record is written once, in one commit and one pack that stock git accepts (verify-pack,
# fsck --strict, verify-commit); a record written this way reads back with exactly the fields
# of the same row written by a small import (the path of `victim add`), protected notes
# included; the index rows the import writes are, table for table, those `custodyd reindex`
# derives from git; the same import again writes nothing; nothing is left under tmp/; killed
# (-9) while it writes every record again, the archive holds none of the new commit or all of
# it.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || { echo "SKIP: git is not installed"; exit 77; }
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 is not installed"; exit 77; }

N=66000
python3 - "$T/big.csv" "$T/small.csv" "$N" <<'PY'
import csv, sys
big, small, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
govs = ["damascus", "aleppo", "idlib", "hama", "homs", "daraa"]
first = ["Ahmad", "Fatima", "Omar", "Layla", "\u0623\u062d\u0645\u062f", "Hana \"Umm Ali\""]
header = ["id", "name", "sex", "age", "status", "categories", "date_of_death",
          "date_documented", "governorate", "area", "cause", "party", "notes"]
rows = []
for i in range(n):
    rows.append(["L%06d" % i, "%s Family %d" % (first[i % len(first)], i % 97),
                 ["male", "female"][i % 2], i % 90, "civilian" if i % 10 else "combatant",
                 ["", "medical", "media", "civil_defense"][i % 4],
                 "2023-%02d-%02d" % (i % 12 + 1, i % 28 + 1),
                 "2024-%02d-%02d" % (i % 12 + 1, i % 28 + 1), govs[i % len(govs)],
                 "district %d, \\ {x}" % (i % 40), "shelling", "russia",
                 "witness \"%d\" on file" % i if i % 3 == 0 else ""])
for path, part in ((big, rows), (small, rows[:40])):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(part)
PY

A=$T/a S=$T/s
init_archive "$A" A
init_archive "$S" S
start_daemon "$A"
DA=$DAEMON_PID
start_daemon "$S"
HA=$(key_hex "$A")
G=(git --git-dir="$A/git")

rc=0
out=$(cu "$A" import victims "$T/big.csv" 2>&1) || rc=$?
check "A imports $N victims" [ "$rc" -eq 0 ]
contains "all of them written" "$out" "imported $N victims (0 unchanged), commit"
check "as one commit" [ "$(feed_len "$A" "$HA")" -eq 1 ]
pack=$(ls "$A/git/objects/pack/"*.idx)
check "in one pack" [ "$(printf '%s\n' "$pack" | wc -l)" -eq 1 ]
vp=$("${G[@]}" verify-pack -v "$pack" 2>&1) || fail "git verify-pack -v accepts the pack: $vp"
nblobs=$(printf '%s\n' "$vp" | awk '$2 == "blob"' | wc -l)
ntrees=$(printf '%s\n' "$vp" | awk '$2 == "tree"' | wc -l)
check "the pack holds the $N records once each ($nblobs blobs)" [ "$nblobs" -eq "$N" ]
check "and more objects than one run of index entries ($((nblobs + ntrees)))" \
    [ $((nblobs + ntrees)) -gt 65536 ]
check "git fsck --strict accepts the repository" quiet "${G[@]}" fsck --full --strict
cu "$A" keys allowed-signers >"$T/allowed" 2>/dev/null
check "git verify-commit accepts the commit" quiet "${G[@]}" \
    -c gpg.ssh.allowedSignersFile="$T/allowed" verify-commit "refs/feeds/$HA"
check "nothing is left under tmp/" [ -z "$(ls -A "$A/tmp")" ]

out=$(cu "$S" import victims "$T/small.csv" 2>&1)
contains "S imports the first 40 rows as a small batch" "$out" "imported 40 victims"
same=0
for id in L000000 L000001 L000003 L000004 L000005 L000017 L000030 L000039; do
	cu "$A" victim show "$id" --json >"$T/a.json"
	cu "$S" victim show "$id" --json >"$T/s.json"
	if py '
import json, sys
a, s = (json.load(open(p)) for p in sys.argv[1:3])
for d in (a, s):
    d.pop("rev", None)
assert a == s, (a, s)
assert a["id"] == sys.argv[3], a
' "$T/a.json" "$T/s.json" "$id"; then same=$((same + 1)); fi
done
check "8 records read back from the stream with the fields a small import writes ($same)" \
    [ "$same" -eq 8 ]
contains "protected notes read back" "$(cu "$A" victim show L000003 --json)" \
    'witness \"3\" on file'
contains "and names in Arabic script" "$(cu "$A" victim show L000004 --json)" \
    '"name": "'"$(printf '\u0623\u062d\u0645\u062f')"' Family 4"'

dump() {
	sqlite3 "$A/index.sqlite" "SELECT hex(tok), (SELECT key FROM offices WHERE id=office) AS o,
	    kind, lamport, hex(chash), seq, first_seq FROM records ORDER BY tok, o;
	    SELECT hex(tok), (SELECT key FROM offices WHERE id=office), lamport, documented,
	    death, death_from, death_to, sex, age, age_group, status, child, woman, categories,
	    governorate, party, cause, hex(incident), hex(name_tok), hex(dup_tok) FROM victims
	    ORDER BY tok;"
}
cu "$A" report --year 2023 --format json >"$T/report-import.json"
stop_daemon "$DA" || fail "A stops"
dump >"$T/index-import.txt"
check "the import's index holds a row per victim" \
    [ "$(grep -c '|victim|' "$T/index-import.txt")" -eq "$N" ]
"$CUSTODYD" reindex "$A" >/dev/null 2>&1 || fail "custodyd reindex"
dump >"$T/index-reindex.txt"
check "the import's index rows are those custodyd reindex derives from git" \
    cmp -s "$T/index-import.txt" "$T/index-reindex.txt"
start_daemon "$A"
cu "$A" report --year 2023 --format json >"$T/report-reindex.json"
check "and the year report is the same" cmp -s "$T/report-import.json" "$T/report-reindex.json"

out=$(cu "$A" import victims "$T/big.csv" 2>&1)
contains "the same import again changes nothing" "$out" "($N unchanged), nothing changed"
check "and writes no commit" [ "$(feed_len "$A" "$HA")" -eq 1 ]
check "nor a pack" [ "$(ls "$A/git/objects/pack/"*.idx | wc -l)" -eq 1 ]
check "nothing is left under tmp/ after it" [ -z "$(ls -A "$A/tmp")" ]

# every row changed, and the daemon killed while the pack is being written
sed 's/,russia,/,sdf,/' "$T/big.csv" >"$T/big2.csv"
cu "$A" import victims "$T/big2.csv" >/dev/null 2>&1 &
CL=$!
for i in $(seq 1 600); do
	[ -n "$(ls -A "$A/tmp" 2>/dev/null)" ] && break	# the pack is being written
	sleep 0.05
done
kill -9 "$DAEMON_PID"
wait "$CL" 2>/dev/null || true
wait "$DAEMON_PID" 2>/dev/null || true
start_daemon "$A"
c=$(feed_len "$A" "$HA")
check "after a crash mid-import the feed has no new commit or the whole one ($c)" \
    [ "$c" -eq 1 ] || [ "$c" -eq 2 ]
check "tmp/ is swept at the start" [ -z "$(ls -A "$A/tmp")" ]
check "git fsck --strict accepts the repository" quiet "${G[@]}" fsck --full --strict
out=$(cu "$A" import victims "$T/big2.csv" 2>&1)
contains "the import done again holds every row" "$out" "imported $N victims ("
contains "every victim reads back changed" "$(cu "$A" victim show L065999 --json)" \
    '"party": "sdf"'
check "custody verify is clean" quiet cu "$A" verify
done_testing
