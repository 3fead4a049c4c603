#!/usr/bin/env bash
# Feed replication: three offices in a line, A - B - C, C never talking to A.
#
# A is a normal archive; B joins by A's invitation, C by B's (so C never pins A). A ingests files
# and imports incidents and victims. `custody -A B sync A` pulls A's feed: it prints a line
# `feed A: N commits, 4 blobs`, exits 0, B's ref for A's feed equals A's own, B's `get` of A's
# files is byte-identical, and B appends one witness commit to its own feed; `show SHA --json` at
# B lists B in "witnessed_by" with a time. The session moves data both ways: A takes B's feed in
# it (`to A: feed B: ...`) and witnesses it, and B takes that witness commit before the session
# ends. The next sync carries B's get events to A; the one after moves nothing and writes no
# commit. `custody -A C sync B --json` gives {"peers","moved","forks"} and carries A's whole feed
# (relayed) and B's to C: C's refs for them equal their owners', C's get of A's files is
# byte-identical, C shows A's victims, C witnesses (one commit) and C's show lists B and C as
# witnesses. Stock `git verify-commit` at C accepts every commit of every feed with C's
# allowed-signers file, and refuses A's commits when A's line is taken out of it. A new commit at
# A reaches C through B; B pulls C's feed and A pulls B's (with C's relayed): A's show then lists
# B and C as witnesses. A's log never saw C. `custody verify` is clean at A, B and C.
. "$(dirname "$0")/lib.sh"

DATA=$(cd "$(dirname "$0")" && pwd)/data

# witnesses DIR SHA: the offices in "witnessed_by" of `show SHA --json` at DIR, sorted, one line;
# "<none>" when the key is absent, "<error>" when show fails or an entry has no time.
witnesses() {
	local out
	out=$(cu "$1" show "$2" --json 2>/dev/null) || { echo "<error>"; return; }
	python3 -c '
import json, sys
j = json.loads(sys.argv[1])
w = j.get("witnessed_by")
if w is None:
    print("<none>"); sys.exit()
names = set()
for e in w:
    if not e.get("office") or not e.get("time"):
        print("<error>"); sys.exit()
    names.add(e["office"])
print(" ".join(sorted(names)))' "$out" 2>/dev/null || echo "<error>"
}

# has_word LIST WORD: LIST (space-separated) holds WORD.
has_word() {
	case " $1 " in *" $2 "*) return 0 ;; *) return 1 ;; esac
}

A=$T/a B=$T/b C=$T/c IN=$T/in OUT=$T/out
mkdir -p "$IN" "$OUT"
PA=$(free_port) PB=$(free_port) PC=$(free_port)

init_archive "$A" A
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
join_office "$B" B "$A" "$PA"
start_daemon "$B" --listen "127.0.0.1:$PB"
DB=$DAEMON_PID
check "A pins B" quiet cu "$A" peer add B "127.0.0.1:$PB" "$(head -n1 "$B.init")"
join_office "$C" C "$B" "$PB"
start_daemon "$C" --listen "127.0.0.1:$PC"
DC=$DAEMON_PID
check "B pins C" quiet cu "$B" peer add C "127.0.0.1:$PC" "$(head -n1 "$C.init")"
check "C pins B (its inviter)" grep -q '^\[peer B\]' "$C/custody.conf"
refute "C does not pin A" grep -q '^\[peer A\]' "$C/custody.conf"
HA=$(key_hex "$A") HB=$(key_hex "$B") HC=$(key_hex "$C")

# --- A's evidence and records --------------------------------------------------------------
{ printf '\0'; head -c 2500000 /dev/urandom; } >"$IN/video.bin"	# many 64 KiB chunks
printf 'Witness account.\nThe checkpoint closed at 06:00.\n' >"$IN/notes.txt"
: >"$IN/empty"
{ printf '\x89PNG\r\n\x1a\n'; head -c 5000 /dev/urandom; } >"$IN/photo ü.png"
check "A ingests four files" quiet cu "$A" ingest "$IN/video.bin" "$IN/notes.txt" "$IN/empty" \
    "$IN/photo ü.png"
check "A imports incidents" quiet cu "$A" import incidents "$DATA/incidents.csv"
check "A imports victims" quiet cu "$A" import victims "$DATA/victims-dec2024.csv"
SV=$(sha256sum <"$IN/video.bin" | cut -d' ' -f1)
SN=$(sha256sum <"$IN/notes.txt" | cut -d' ' -f1)
SE=$(sha256sum <"$IN/empty" | cut -d' ' -f1)
SP=$(sha256sum <"$IN/photo ü.png" | cut -d' ' -f1)
REFA=$(feed_ref "$A" "$HA")
check "A has its feed ref" [ -n "$REFA" ]

# --- B pulls A ---------------------------------------------------------------------------------
nb0=$(feed_len "$B" "$HB")
rc=0
out=$(cu "$B" sync A 2>&1) || rc=$?
check "B sync A exits 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || echo "$out" >&2
contains "B sync A prints a line for A's feed" "$out" "feed A:"
contains "with A's $(feed_len "$A" "$HA") commits and 4 blobs" "$out" \
    "feed A: $(feed_len "$A" "$HA") commits, 4 blobs"
case "$out" in *fork*) fail "B sync A reports a fork: $out" ;; *) ok "no fork reported" ;; esac
contains "A took B's feed in the same session" "$out" "to A: feed B:"
check "A holds B's feed up to B's witness commit, written as the session ended" \
    [ "$(feed_ref "$A" "$HB")" = "$(git --git-dir="$B/git" rev-parse "refs/feeds/$HB~1")" ]
check "A witnessed it: its feed moved during the session" [ "$(feed_ref "$A" "$HA")" != "$REFA" ]
REFA=$(feed_ref "$A" "$HA")
check "B's ref for A's feed equals A's own (with A's witness)" [ "$(feed_ref "$B" "$HA")" = "$REFA" ]
for s in "$SV:video.bin" "$SN:notes.txt" "$SE:empty" "$SP:photo ü.png"; do
	sha=${s%%:*} name=${s#*:}
	rm -f "$OUT/b-$name"
	if cu "$B" get "$sha" -o "$OUT/b-$name" >/dev/null 2>&1 && cmp -s "$IN/$name" "$OUT/b-$name"
	then ok "B's get of A's $name is byte-identical"
	else fail "B's get of A's $name is byte-identical"
	fi
done
nb1=$(feed_len "$B" "$HB")
# the four gets are custody events of B's: one commit each
check "B witnessed: its own feed has one more commit, and four get events ($nb0 -> $nb1)" \
    [ "$nb1" -eq $((nb0 + 5)) ]
nlog=$(cu "$B" log 2>/dev/null | awk 'NR > 1 && $3 == "B"' | wc -l)
check "B's custody log shows B's $nb1 commits ($nlog)" [ "$nlog" -eq "$nb1" ]
w=$(witnesses "$B" "$SV")
check "B's show of A's video lists B in witnessed_by, with a time ($w)" has_word "$w" B
check "custody verify is clean at B after the sync" quiet cu "$B" verify

# B's witness and get events go to A; A's witness of them comes back in the same session.
rc=0
out=$(cu "$B" sync A 2>&1) || rc=$?
check "a second B sync A exits 0" [ "$rc" -eq 0 ]
contains "it carries B's witness and get events to A" "$out" "to A: feed B: 5 commits, 0 blobs"
REFA=$(feed_ref "$A" "$HA")
nb1=$(feed_len "$B" "$HB")
# Nothing new: nothing moves, no witness commit.
rc=0
out=$(cu "$B" sync A 2>&1) || rc=$?
check "a third B sync A exits 0" [ "$rc" -eq 0 ]
if printf '%s\n' "$out" | grep -q '^feed \|^to A: feed '; then
	fail "a third sync moves nothing: $out"
else
	ok "a third sync moves nothing"
fi
check "and writes no commit at B" [ "$(feed_len "$B" "$HB")" -eq "$nb1" ]
check "and leaves B's ref for A alone" [ "$(feed_ref "$B" "$HA")" = "$REFA" ]

# --- C pulls B (and A's feed, relayed) ----------------------------------------------------------
REFB=$(feed_ref "$B" "$HB")
LA=$(feed_len "$A" "$HA") LB=$(feed_len "$B" "$HB")
nc0=$(feed_len "$C" "$HC")
rc=0
cu "$C" --json sync B >"$T/c-sync.json" 2>"$T/c-sync.err" || rc=$?
check "C sync B exits 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$T/c-sync.json" "$T/c-sync.err" >&2
REFB=$(feed_ref "$B" "$HB")	# B took C's feed in the session, and witnessed it
check "C sync B --json has peers, moved (A's and B's whole feeds) and no forks" py '
import json, sys
j = json.load(open(sys.argv[1]))
assert isinstance(j["peers"], list) and j["peers"][0]["name"] == "B", j["peers"]
m = j["moved"]
assert "feed A: %s commits, 4 blobs" % sys.argv[2] in m, m
assert "feed B: %s commits, 0 blobs" % sys.argv[3] in m, m
assert j["forks"] == [], j["forks"]' "$T/c-sync.json" "$LA" "$LB"
check "C's ref for A's feed equals A's own (relayed by B)" [ "$(feed_ref "$C" "$HA")" = "$REFA" ]
check "C's ref for B's feed equals B's own" [ "$(feed_ref "$C" "$HB")" = "$REFB" ]
nrefs=$(git --git-dir="$C/git" for-each-ref refs/feeds/ | wc -l)
check "C's git lists three feeds ($nrefs)" [ "$nrefs" -eq 3 ]
for h in "$HA" "$HB" "$HC"; do
	check "C's git lists refs/feeds/${h:0:16}..." \
	    git --git-dir="$C/git" show-ref -q --verify "refs/feeds/$h"
done
for s in "$SV:video.bin" "$SN:notes.txt" "$SE:empty" "$SP:photo ü.png"; do
	sha=${s%%:*} name=${s#*:}
	rm -f "$OUT/c-$name"
	if cu "$C" get "$sha" -o "$OUT/c-$name" >/dev/null 2>&1 && cmp -s "$IN/$name" "$OUT/c-$name"
	then ok "C's get of A's $name is byte-identical"
	else fail "C's get of A's $name is byte-identical"
	fi
done
va=$(cu "$A" victim show v2 --json 2>/dev/null || true)
vc=$(cu "$C" victim show v2 --json 2>/dev/null || true)
check "C shows A's victim v2 with the same name" py '
import json, sys
a, c = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert a["name"] == c["name"] == "Fatima Zahra Qassem", (a.get("name"), c.get("name"))' "$va" "$vc"
check "C shows A's incident INC-1" quiet cu "$C" show INC-1
nc1=$(feed_len "$C" "$HC")
check "C witnessed: its own feed has one more commit, and four get events ($nc0 -> $nc1)" \
    [ "$nc1" -eq $((nc0 + 5)) ]
w=$(witnesses "$C" "$SV")
check "C's show of A's video lists B as a witness ($w)" has_word "$w" B
check "and C ($w)" has_word "$w" C
w=$(witnesses "$B" "$SV")
check "B does not list C yet ($w)" eval '[ "$w" != "<error>" -a "$w" != "<none>" ] && ! has_word "$w" C'

# Stock git at C checks every feed's signatures with C's allowed signers.
cu "$C" keys allowed-signers >"$T/allowed.c"
check "C's allowed signers list A (learnt through B)" grep -q "^A namespaces=" "$T/allowed.c"
grep -v "^A namespaces=" "$T/allowed.c" >"$T/allowed.c-noa" || true
G=(git --git-dir="$C/git")
n=0 good=0
for c in $("${G[@]}" rev-list --all); do
	n=$((n + 1))
	"${G[@]}" -c gpg.ssh.allowedSignersFile="$T/allowed.c" verify-commit "$c" >/dev/null 2>&1 &&
	    good=$((good + 1))
done
check "git verify-commit at C accepts every commit of every feed ($good of $n)" \
    [ "$n" -gt 3 -a "$good" -eq "$n" ]
n=0 good=0 bad=0
for c in $("${G[@]}" rev-list "$REFA" 2>/dev/null); do
	n=$((n + 1))
	"${G[@]}" -c gpg.ssh.allowedSignersFile="$T/allowed.c" verify-commit "$c" >/dev/null 2>&1 &&
	    good=$((good + 1))
	"${G[@]}" -c gpg.ssh.allowedSignersFile="$T/allowed.c-noa" verify-commit "$c" \
	    >/dev/null 2>&1 || bad=$((bad + 1))
done
check "git verify-commit at C accepts A's $n commits ($good)" [ "$n" -ge 3 -a "$good" -eq "$n" ]
check "and refuses them without A's key ($bad of $n)" [ "$bad" -eq "$n" ]

# --- more at A reaches C through B; A pulls B (and C, relayed) ----------------------------------
printf 'A later statement.\n' >"$IN/later.txt"
SL=$(sha256sum <"$IN/later.txt" | cut -d' ' -f1)
check "A ingests one more file" quiet cu "$A" ingest "$IN/later.txt"
out=$(cu "$B" sync A 2>&1) && ok "B sync A again exits 0" || fail "B sync A again: $out"
contains "and moves A's feed" "$out" "feed A:"
REFA=$(feed_ref "$A" "$HA")	# with A's witness of C's feed, relayed by B in the session
out=$(cu "$C" sync B 2>&1) && ok "C sync B again exits 0" || fail "C sync B again: $out"
contains "and moves A's feed" "$out" "feed A:"
contains "and B's (its witness commit)" "$out" "feed B:"
check "C's ref for A's feed follows A" [ "$(feed_ref "$C" "$HA")" = "$REFA" ]
rm -f "$OUT/c-later"
check "C's get of A's new file is byte-identical" \
    sh -c "'$CUSTODY' -A '$C' get $SL -o '$OUT/c-later' >/dev/null 2>&1 && cmp -s '$IN/later.txt' '$OUT/c-later'"
out=$(cu "$B" sync C 2>&1) && ok "B sync C exits 0" || fail "B sync C: $out"
contains "and moves C's feed" "$out" "feed C:"
check "B's ref for C's feed equals C's own" [ "$(feed_ref "$B" "$HC")" = "$(feed_ref "$C" "$HC")" ]
out=$(cu "$A" sync B 2>&1) && ok "A sync B exits 0" || fail "A sync B: $out"
contains "and moves B's feed" "$out" "feed B:"
contains "and C's (relayed by B)" "$out" "feed C:"
check "A syncs B once more (B's witness of what it took from A)" quiet cu "$A" sync B
check "A's ref for B's feed equals B's own" [ "$(feed_ref "$A" "$HB")" = "$(feed_ref "$B" "$HB")" ]
check "A's ref for C's feed equals C's own" [ "$(feed_ref "$A" "$HC")" = "$(feed_ref "$C" "$HC")" ]
w=$(witnesses "$A" "$SV")
check "A's show of its video lists B as a witness ($w)" has_word "$w" B
check "and C ($w)" has_word "$w" C
check "but not A itself ($w)" eval '[ "$w" != "<error>" -a "$w" != "<none>" ] && ! has_word "$w" A'
check "A never heard from C" sh -c "! grep -q 'peer C ' '$A.log'"

for d in A B C; do
	dir=$T/$(echo "$d" | tr A-Z a-z)
	rc=0
	out=$(cu "$dir" verify 2>&1) || rc=$?
	check "custody verify is clean at $d" [ "$rc" -eq 0 ]
	[ "$rc" -eq 0 ] || echo "$out" >&2
done
check "A stops cleanly" stop_daemon "$DA"
check "B stops cleanly" stop_daemon "$DB"
check "C stops cleanly" stop_daemon "$DC"
done_testing
