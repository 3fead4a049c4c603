#!/usr/bin/env bash
# A recovered office stays "recovering" (writes nothing) until its own feed is back: a sync with
# a peer that does not hold that feed says so and leaves it recovering, so that the office
# never starts a second feed at seq 1 beside its old one.
#
# alpha, bravo and charlie are three real offices over TCP. charlie syncs alpha before bravo
# writes anything, and never again: it knows bravo but holds none of its feed. bravo ingests a
# file, alpha syncs bravo. bravo makes 3 shares, alpha takes its keys-split event, and bravo
# loses its whole archive directory. Recovered with charlie as its only peer, bravo syncs
# charlie: the sync says bravo is still recovering because charlie holds none of its feed;
# bravo has no feed of its own, refuses an ingest, and the recovering mark stays, also across a
# restart. bravo then pins alpha and syncs it: its own feed comes back at its old head, the
# mark goes, custody verify is clean, and its next commit extends the old feed (parent = old
# head, seq = old + 1); alpha takes it with no fork.
. "$(dirname "$0")/lib.sh"

A=$T/alpha B=$T/bravo C=$T/charlie IN=$T/in SH=$T/shares
mkdir -p "$IN"
three_offices
pin_three
HB=$(key_hex "$B")

check "charlie syncs alpha (it learns of bravo)" quiet cu "$C" sync alpha
head -c 50000 /dev/urandom >"$IN/f.bin"
check "bravo ingests a file" quiet cu "$B" ingest "$IN/f.bin"
check "bravo makes 3 shares, any 2" quiet cu "$B" keys split --shares 3 --threshold 2 -o "$SH"
check "alpha syncs bravo" quiet cu "$A" sync bravo
OLD=$(feed_ref "$B" "$HB")
OLDSEQ=$(seq_of "$B" "$HB")
check "alpha holds bravo's feed (seq $OLDSEQ)" [ "$(feed_ref "$A" "$HB")" = "$OLD" ]
check "charlie holds none of it" [ -z "$(feed_ref "$C" "$HB")" ]

# --- bravo loses everything; recovered with charlie as its only peer -------------------------
check "bravo stops" stop_daemon "$DB"
rm -rf "$B" "$B.log"
check "bravo is recovered from 2 shares, with charlie as peer" quiet "$CUSTODYD" recover "$B" \
    --office bravo --share "$SH/share-1-of-3.bin" --share "$SH/share-3-of-3.txt" \
    --no-passphrase --peer charlie "127.0.0.1:$PC" "$(key_line "$C")"
start_daemon "$B" --listen "127.0.0.1:$PB"
DB=$DAEMON_PID
out=$(cu "$B" sync charlie 2>&1) || fail "bravo sync charlie: $out"
contains "the sync says bravo is still recovering, and why" "$out" \
    "still recovering: charlie holds none of this office's own feed"
check "bravo took charlie's feed" [ -n "$(feed_ref "$B" "$(key_hex "$C")")" ]
check "bravo holds no feed of its own" [ -z "$(feed_ref "$B" "$HB")" ]
check "bravo is still marked recovering" [ -e "$B/recovering" ]
out=$(cu "$B" ingest "$IN/f.bin" 2>&1) && fail "bravo ingested while recovering: $out"
contains "bravo refuses to write, saying why" "$out" "this office is being recovered"
check "and starts no feed at seq 1" [ -z "$(feed_ref "$B" "$HB")" ]
check "bravo restarts" stop_daemon "$DB"
start_daemon "$B" --listen "127.0.0.1:$PB"
DB=$DAEMON_PID
refute "still recovering after a restart" quiet cu "$B" ingest "$IN/f.bin"
check "still no feed of its own" [ -z "$(feed_ref "$B" "$HB")" ]

# --- alpha holds bravo's feed: the recovery ends ----------------------------------------------
check "bravo pins alpha" quiet cu "$B" peer add alpha "127.0.0.1:$PA" "$(key_line "$A")"
out=$(cu "$B" sync alpha 2>&1) || fail "bravo sync alpha: $out"
case "$out" in *"still recovering"*) fail "still recovering after alpha: $out" ;;
*) ok "the sync with alpha ends the recovery" ;; esac
check "bravo's own feed is back past its old head" \
    git --git-dir="$B/git" merge-base --is-ancestor "$OLD" "refs/feeds/$HB"
check "the recovering mark is gone" [ ! -e "$B/recovering" ]
check "custody verify is clean at bravo" quiet cu "$B" verify
sha=$(sha256sum <"$IN/f.bin" | cut -d' ' -f1)
check "bravo gives its file back" quiet cu "$B" get "$sha" -o "$T/f.out"
check "byte-identical" cmp -s "$IN/f.bin" "$T/f.out"
head -c 1000 /dev/urandom >"$IN/g.bin"
check "bravo ingests a new file" quiet cu "$B" ingest "$IN/g.bin"
NEW=$(feed_ref "$B" "$HB")
FIRST=$(git --git-dir="$B/git" rev-list --reverse "$OLD..$NEW" 2>/dev/null | sed -n 1p || true)
check "the first commit after recovery has the old head as parent" \
    [ "$(git --git-dir="$B/git" rev-parse "${FIRST:-none}^" 2>/dev/null)" = "$OLD" ]
check "the feed is linear, $(seq_of "$B" "$HB") commits from seq 1" \
    [ "$(git --git-dir="$B/git" rev-list --count "$NEW")" -gt "$OLDSEQ" ]
out=$(cu "$A" sync bravo 2>&1) || fail "alpha sync bravo after recovery: $out"
case "$out" in *FORK*|*fork*) fail "alpha sees a fork of bravo: $out" ;;
*) ok "alpha sees no fork of bravo" ;; esac
check "alpha takes bravo's continued feed" [ "$(feed_ref "$A" "$HB")" = "$NEW" ]

for d in "alpha $DA" "bravo $DB" "charlie $DC"; do
	set -- $d
	check "$1 stops cleanly" stop_daemon "$2"
done

done_testing
