#!/usr/bin/env bash
# A large import is written as a stream: one commit whose records and trees are in one new pack
# that custodyd writes itself (stored deflate), merged with the feed's trees. Stock git accepts
# it (fsck --strict, verify-pack, verify-commit), importing the same file again writes nothing,
# a second file with some rows changed and some new writes exactly those, every record reads
# back, and a peer's sync of the feed accepts it and reports the same figures.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || { echo "SKIP: git is not installed"; exit 77; }

N=3000
gen() {	# gen FILE CHANGED NEW: N rows; the first CHANGED of another party; NEW rows more
	python3 - "$1" "$2" "$3" "$N" <<'PY'
import csv, sys
path, changed, new, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
govs = ["damascus", "aleppo", "idlib", "hama", "homs", "daraa"]
with open(path, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "name", "sex", "age", "status", "date_of_death", "date_documented",
                "governorate", "cause", "party", "notes"])
    for i in range(n + new):
        party = "russia" if i < changed else "syrian_regime"
        w.writerow(["S%05d" % i, "Name %d Family %d" % (i, i % 97), ["male", "female"][i % 2],
                    i % 80, "civilian", "2023-%02d-%02d" % (i % 12 + 1, i % 28 + 1),
                    "2023-%02d-%02d" % (i % 12 + 1, i % 28 + 1), govs[i % len(govs)],
                    "shelling", party, "note %d" % i if i % 5 == 0 else ""])
PY
}

A=$T/a
B=$T/b
two_offices
HA=$(key_hex "$A")
G=(git --git-dir="$A/git")
gen "$T/one.csv" 0 0
gen "$T/two.csv" 10 5

packs() { ls "$A/git/objects/pack/" | grep -c '\.pack$' || true; }
p0=$(packs)
c0=$(feed_len "$A" "$HA")
rc=0
out=$(cu "$A" import victims "$T/one.csv" 2>&1) || rc=$?
check "A imports $N victims" [ "$rc" -eq 0 ]
contains "all of them written" "$out" "imported $N victims (0 unchanged), commit"
check "as one commit" [ "$(feed_len "$A" "$HA")" -eq $((c0 + 1)) ]
check "in one new pack" [ "$(packs)" -eq $((p0 + 1)) ]
pack=$(ls -t "$A/git/objects/pack/"*.idx | sed -n 1p)
vp=$("${G[@]}" verify-pack -v "$pack" 2>&1) || fail "git verify-pack -v accepts the pack: $vp"
nblobs=$(printf '%s\n' "$vp" | awk '$2 == "blob"' | wc -l)
check "the pack holds the $N sealed records ($nblobs blobs)" [ "$nblobs" -eq "$N" ]
check "git fsck --strict accepts the repository" quiet "${G[@]}" fsck --full --strict
nrec=$("${G[@]}" ls-tree -r --name-only "refs/feeds/$HA" | grep -c '^records/' || true)
check "the head's tree holds every record at records/AA/BB/TOKEN ($nrec)" [ "$nrec" -ge "$N" ]
bad=$("${G[@]}" ls-tree -r --name-only "refs/feeds/$HA" | awk -F/ '
	$1 == "records" && !(NF == 4 && substr($4, 1, 2) == $2 && substr($4, 3, 2) == $3)' | head -3)
check "every record path fans out by its token (${bad:-all do})" [ -z "$bad" ]
cu "$A" keys allowed-signers >"$T/allowed" 2>/dev/null
check "git verify-commit accepts the import's commit" quiet "${G[@]}" \
    -c gpg.ssh.allowedSignersFile="$T/allowed" verify-commit "refs/feeds/$HA"
check "custody verify is clean" quiet cu "$A" verify

out=$(cu "$A" import victims "$T/one.csv" 2>&1)
contains "the same import again changes nothing" "$out" "($N unchanged), nothing changed"
check "and writes no commit" [ "$(feed_len "$A" "$HA")" -eq $((c0 + 1)) ]
check "nor a pack" [ "$(packs)" -eq $((p0 + 1)) ]

out=$(cu "$A" import victims "$T/two.csv" 2>&1)
contains "a file with 10 rows changed and 5 new writes those 15" "$out" \
    "imported $((N + 5)) victims ($((N - 10)) unchanged), commit"
check "as one more commit" [ "$(feed_len "$A" "$HA")" -eq $((c0 + 2)) ]
check "git fsck --strict still accepts the repository" quiet "${G[@]}" fsck --full --strict
n2=$("${G[@]}" ls-tree -r --name-only "refs/feeds/$HA" | grep -c '^records/' || true)
check "the new tree keeps the unchanged records and adds the new ($nrec -> $n2)" \
    [ "$n2" -eq $((nrec + 5)) ]
contains "a changed row reads back changed" "$(cu "$A" victim show S00003 --json)" \
    '"party": "russia"'
contains "an unchanged row reads back" "$(cu "$A" victim show S02999 --json)" \
    '"party": "syrian_regime"'
contains "a new row reads back" "$(cu "$A" victim show S03004 --json)" '"id": "S03004"'
contains "its protected notes too" "$(cu "$A" victim show S03000 --json)" '"notes": "note 3000"'
check "custody verify is clean after both" quiet cu "$A" verify
cu "$A" report --year 2023 --format json >"$T/a-report.json"
check "A's year report counts every victim, and the changed party" py '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["victims"] == int(sys.argv[2]), r["victims"]
assert r["by_party"]["russia"]["victims"] == 10, r["by_party"]' "$T/a-report.json" $((N + 5))

# incidents whose ids are victims' already: refused, nothing written
python3 - "$T/inc.csv" <<'PY'
import csv, sys
with open(sys.argv[1], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "date", "governorate", "party", "type"])
    for i in range(100):
        w.writerow(["I%05d" % i if i != 77 else "S00077", "2023-05-01", "idlib", "russia",
                    "shelling"])
PY
c2=$(feed_len "$A" "$HA")
rc=0
out=$(cu "$A" import incidents "$T/inc.csv" 2>&1) || rc=$?
check "incidents with a victim's id are refused" [ "$rc" -ne 0 ]
contains "saying which id is taken by which kind" "$out" "id S00077 is already a victim record"
check "and nothing is written" [ "$(feed_len "$A" "$HA")" -eq "$c2" ]
refute "not even the other incidents" quiet cu "$A" incident show I00001
check "and no pack is left behind" [ "$(packs)" -eq $((p0 + 2)) ]
check "nor a file under tmp/" [ -z "$(ls -A "$A/tmp")" ]

rc=0
out=$(cu "$B" sync A 2>&1) || rc=$?
check "B syncs A's feed with the imports" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || echo "$out" >&2
check "B holds A's head" [ "$(feed_ref "$B" "$HA")" = "$(feed_ref "$A" "$HA")" ]
cu "$B" report --year 2023 --format json >"$T/b-report.json"
check "B's year report equals A's" cmp -s "$T/a-report.json" "$T/b-report.json"
check "custody verify is clean at B" quiet cu "$B" verify
check "git fsck --strict accepts B's repository" quiet git --git-dir="$B/git" fsck --full --strict
out=$(cu "$B" import victims "$T/two.csv" 2>&1)
contains "B importing what A's feed already says changes nothing" "$out" \
    "($((N + 5)) unchanged), nothing changed"
gen "$T/three.csv" 20 0
out=$(cu "$B" import victims "$T/three.csv" 2>&1)
contains "B importing 10 more changes writes those 10 in its own feed" "$out" \
    "imported $N victims ($((N - 10)) unchanged), commit"
contains "and B's revision is the current one" "$(cu "$B" victim show S00015 --json)" \
    '"party": "russia"'

# A crash in the middle of an import: the archive is as before it, or holds the whole commit.
N=20000
gen "$T/big.csv" 0 0
c3=$(feed_len "$A" "$HA")
cu "$A" import victims "$T/big.csv" >/dev/null 2>&1 &
CL=$!
for i in $(seq 1 100); do
	[ -n "$(ls -A "$A/tmp" 2>/dev/null)" ] && break	# the pack is being written
	sleep 0.05
done
kill -9 "$DA"
wait "$CL" 2>/dev/null || true
wait "$DA" 2>/dev/null || true
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
c4=$(feed_len "$A" "$HA")
check "after a crash mid-import the feed has no commit or the whole one ($c3 -> $c4)" \
    [ "$c4" -eq "$c3" ] || [ "$c4" -eq $((c3 + 1)) ]
check "tmp/ is swept at the start" [ -z "$(ls -A "$A/tmp")" ]
check "git fsck --strict accepts the repository" quiet "${G[@]}" fsck --full --strict
check "custody verify is clean" quiet cu "$A" verify
out=$(cu "$A" import victims "$T/big.csv" 2>&1)
contains "the import done again holds every row" "$out" "imported $N victims ("
check "custody verify is clean after it" quiet cu "$A" verify
done_testing
