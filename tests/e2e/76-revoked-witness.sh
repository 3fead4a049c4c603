#!/usr/bin/env bash
# A revoked office's witness claims past its cut count for nothing: `custody show` does not
# name it as a witness of what it claimed to witness after the cut; its claims from before the
# cut stand.
#
# alpha, bravo and charlie (three real offices over TCP) all sync: charlie witnesses bravo's
# F0. alpha signs the revocation of charlie after charlie's commit K (pending). bravo ingests
# G; charlie (seized) syncs bravo and so witnesses G in its commit K+1, past the cut; bravo
# takes K+1 and names charlie among G's witnesses (the setup is what it claims). bravo co-signs:
# effective. bravo's `custody show G` no longer names charlie, `show F0` still does, and the
# same after `custodyd reindex`.
. "$(dirname "$0")/lib.sh"

# witnesses DIR SHA: the sorted office keys `custody show SHA` gives as witnesses.
witnesses() {
	cu "$1" show "$2" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(sorted(w.get("key", w["office"]) for w in d.get("witnessed_by", []))))'
}

A=$T/alpha B=$T/bravo C=$T/charlie IN=$T/in
mkdir -p "$IN"
three_offices
pin_three
HC=$(key_hex "$C")

head -c 20000 /dev/urandom >"$IN/f0.bin"
head -c 30000 /dev/urandom >"$IN/g.bin"
SHA_F0=$(sha256sum <"$IN/f0.bin" | cut -d' ' -f1)
SHA_G=$(sha256sum <"$IN/g.bin" | cut -d' ' -f1)
check "bravo ingests F0" quiet cu "$B" ingest "$IN/f0.bin"
for x in "$A bravo" "$C alpha" "$C bravo" "$B alpha" "$B charlie" "$A charlie"; do
	set -- $x
	check "$(basename "$1") syncs with $2" quiet cu "$1" sync "$2"
done
K=$(seq_of "$A" "$HC")
check "alpha holds all of charlie's feed (K=$K)" \
    [ "$(feed_ref "$A" "$HC")" = "$(feed_ref "$C" "$HC")" ]
check "bravo names charlie as a witness of F0" eval '[[ " $(witnesses "$B" "$SHA_F0") " == *" $HC "* ]]'

check "alpha signs charlie's revocation after commit $K" \
    quiet cu "$A" office revoke charlie --reason "laptop seized" --from-seq "$K"
check "bravo pulls alpha (the pending revocation)" quiet cu "$B" sync alpha

# --- charlie, seized, witnesses bravo's G past its cut --------------------------------------
check "bravo ingests G" quiet cu "$B" ingest "$IN/g.bin"
check "charlie syncs bravo (its witness of G, past the cut)" quiet cu "$C" sync bravo
check "charlie's feed is past K" [ "$(seq_of "$C" "$HC")" -gt "$K" ]
check "bravo pulls charlie, not yet revoked there" quiet cu "$B" sync charlie
check "bravo holds charlie's commits past K" [ "$(seq_of "$B" "$HC")" -gt "$K" ]
check "before: bravo names charlie as a witness of G" \
    eval '[[ " $(witnesses "$B" "$SHA_G") " == *" $HC "* ]]'

check "bravo co-signs charlie's revocation after $K" \
    quiet cu "$B" office revoke charlie --reason "laptop seized" --from-seq "$K"
check "bravo: effective" eval 'cu "$B" office revocations --json | grep -q "\"effective\""'

# after LABEL: bravo counts charlie's witness of G for nothing, its witness of F0 stands
after() {
	local w
	w=$(witnesses "$B" "$SHA_G")
	check "$1: bravo does not name charlie as a witness of G ($w)" \
	    eval '[[ " $w " != *" $HC "* ]]'
	w=$(witnesses "$B" "$SHA_F0")
	check "$1: bravo still names charlie as a witness of F0, before the cut" \
	    eval '[[ " $w " == *" $HC "* ]]'
}
after "effective"

check "bravo stops" stop_daemon "$DB"
check "custodyd reindex" quiet "$CUSTODYD" reindex "$B"
start_daemon "$B" --listen "127.0.0.1:$PB"
DB=$DAEMON_PID
after "reindexed"

for d in "alpha $DA" "bravo $DB" "charlie $DC"; do
	set -- $d
	check "$1 stops cleanly" stop_daemon "$2"
done

done_testing
