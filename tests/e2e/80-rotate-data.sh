#!/usr/bin/env bash
# Data-key rotation: a revoked office's keys open nothing written after the rotation.
#
# alpha, bravo and charlie (three real offices over TCP) sync. alpha runs `custody keys
# rotate-data` (epoch 1, sealed to all three): bravo and charlie take it in a sync and read
# alpha's victim V1 and file F1 written under it; bravo's keys alone (epoch 0) open the epoch
# record. The test keeps charlie's keys directory. alpha signs charlie's revocation after its
# commit K+2. charlie rotates (epoch 2) and, with its own tools, makes epoch 2^32-1 (K+2) and
# epoch 5 (K+3, past the cut); alpha, where the revocation is still pending, takes all three. bravo co-signs:
# effective, bravo rotates by itself (epoch 2, leaving charlie out, naming the revocation).
# alpha pulls bravo: effective there, charlie's epochs are retired, bravo's epoch is the newest
# and alpha does not rotate again. bravo takes charlie's epochs up to the cut through alpha
# (retired) but refuses its commit past the cut. alpha then adds victim V2 and ingests F2; bravo reads both, under
# bravo's epoch. With charlie's keys, kept and current, on copies of bravo's git/ and blobs/:
# V1 and F1 open (the control), V2 and F2 do not. An epoch record whose creator is not its
# signer is refused by bravo like a fork and left out by its own office's index. bravo, its
# keyring lost, takes every epoch in again from the feeds in a reindex.
. "$(dirname "$0")/lib.sh"

PROBE=${BUILD:-}/custody-keyprobe
[ -x "$PROBE" ] || { echo "SKIP: custody-keyprobe is not built (set BUILD)"; exit 77; }

# epochs DIR: the epochs DIR's keyring holds ("N CREATORHEX"), sorted
epochs() { "$PROBE" "$1" epochs | sort -n; }

# probe_dir DIR OFFICE KEYS FILES: an archive DIR of OFFICE's conf and the keys directory KEYS
# on copies of the git/ and blobs/ of the archive FILES
probe_dir() {
	rm -rf "$1"
	mkdir -p "$1/tmp"
	cp "$2/custody.conf" "$1/"
	cp -a "$3" "$1/keys"
	cp -a "$4/git" "$1/git"
	cp -a "$4/blobs" "$1/blobs"
}

OUT=$T/out
mkdir -p "$OUT"
three_pinned
for x in "$B alpha" "$B charlie" "$A bravo" "$A charlie" "$C alpha" "$C bravo"; do
	set -- $x
	check "$(basename "$1") syncs with $2" quiet cu "$1" sync "$2"
done

# --- keys rotate-data by hand ------------------------------------------------------------------
out=$(cu "$A" keys rotate-data --help 2>&1)
contains "keys rotate-data --help says what it does" "$out" "data-key epoch"
out=$(cu "$A" keys rotate-data extra 2>&1) && fail "keys rotate-data takes no argument: $out"
ok "keys rotate-data refuses an argument"
out=$(cu "$A" keys rotate-data --json)
check "alpha: epoch 1, sealed to alpha, bravo and charlie" py '
import json, sys
r = json.loads(sys.argv[1])
assert r["epoch"] == 1 and sorted(r["offices"]) == ["alpha", "bravo", "charlie"], r
' "$out"
check "alpha holds epoch 1" [ "$(epochs "$A")" = "1 $HA" ]
probe_dir "$T/b-on-a" "$B" "$B/keys" "$A"
check "alpha's epoch record opens with epoch 0 alone (bravo's keys before any sync)" \
    quiet "$PROBE" "$T/b-on-a" record "$HA" "epoch-1-$HA"
V1=$(cu "$A" victim add --name "Before Revocation" --date-documented 2024-12-01)
head -c 30000 /dev/urandom >"$IN/f1.bin"
SHA_F1=$(sha256sum <"$IN/f1.bin" | cut -d' ' -f1)
check "alpha ingests F1 under epoch 1" quiet cu "$A" ingest "$IN/f1.bin"
for o in "$B" "$C"; do
	check "$(basename "$o") pulls alpha" quiet cu "$o" sync alpha
	check "$(basename "$o") takes epoch 1" [ "$(epochs "$o")" = "1 $HA" ]
	check "$(basename "$o") reads V1" quiet cu "$o" victim show "$V1"
done
check "alpha pulls charlie (its witness commit)" quiet cu "$A" sync charlie
check "bravo pulls charlie" quiet cu "$B" sync charlie

cp -a "$C/keys" "$T/charlie-keys"	# the seized office's keys, as the adversary keeps them

# --- revocation: effective at bravo, which rotates; alpha takes bravo's epoch -----------------
K=$(seq_of "$A" "$HC")
check "alpha and bravo hold charlie's feed up to K=$K" [ "$(seq_of "$B" "$HC")" -eq "$K" ]
check "charlie's own feed is at K" [ "$(seq_of "$C" "$HC")" -eq "$K" ]
CUT=$((K + 2))
MAX=4294967295
check "alpha signs charlie's revocation after $CUT" \
    quiet cu "$A" office revoke charlie --reason "laptop seized" --from-seq "$CUT"
check "bravo pulls alpha (pending there)" quiet cu "$B" sync alpha
check "bravo holds no epoch of its own yet" [ "$(epochs "$B")" = "1 $HA" ]

# charlie, seized, rotates before its cut (epoch 2, sealed to all, as custodyd does), then with
# its own tools makes epoch 2^32-1 (its commit at the cut): were that ever the newest, nobody
# could rotate past it and every office would go on writing under a key charlie holds. Then
# epoch 5, past its cut.
out=$(cu "$C" keys rotate-data)
contains "charlie makes its epoch 2 (its commit $((K + 1)))" "$out" "data-key epoch 2 (commit $((K + 1)))"
stop_daemon "$DC" || fail "charlie stops"
check "charlie forges epoch $MAX (its commit $CUT)" \
    [ "$("$PROBE" "$C" forge-epoch "$HC" "$MAX")" = "$CUT" ]
check "charlie forges epoch 5 (its commit $((CUT + 1)), past the cut)" \
    [ "$("$PROBE" "$C" forge-epoch "$HC" 5)" = "$((CUT + 1))" ]
start_daemon "$C" --listen "127.0.0.1:$PC"
DC=$DAEMON_PID
check "alpha pulls charlie, not yet revoked there" quiet cu "$A" sync charlie
# (charlie pulled alpha on the same session: its witness commit may follow)
check "alpha holds charlie's feed to $((CUT + 1))" [ "$(seq_of "$A" "$HC")" -ge $((CUT + 1)) ]
contains "alpha took charlie's epoch $MAX meanwhile" "$(epochs "$A")" "$MAX $HC"

check "bravo co-signs: effective" \
    quiet cu "$B" office revoke charlie --reason "laptop seized" --from-seq "$CUT"
check "bravo rotated by itself: epoch 2" [ "$(epochs "$B")" = "$(printf '1 %s\n2 %s' "$HA" "$HB")" ]
out=$("$PROBE" "$B" record "$HB" "epoch-2-$HB")
check "bravo's epoch 2 names the revocation and leaves charlie out" py '
import json, sys
r = json.loads(sys.argv[1])
assert r["revocation"] == "revocation-%s-%s" % (sys.argv[3], sys.argv[4]), r
assert sorted(c["to"] for c in r["copies"]) == sorted([sys.argv[2], sys.argv[5]]), r
' "$out" "$HA" "$HC" "$CUT" "$HB"

# bravo pulls alpha on the same session (its turn): charlie's commits past the cut, refused there
rc=0
cu "$A" sync bravo >"$T/a.sync" 2>&1 || rc=$?
check "alpha pulls bravo: effective there too" [ "$rc" -eq 0 ]
check "alpha took bravo's epoch 2" eval '"$PROBE" "$A" epochs | grep -qx "2 $HB"'
check "alpha made no epoch of its own (charlie's are retired, bravo's is the newest)" \
    [ "$(epochs "$A" | grep -c " $HA\$")" -eq 1 ]
check "alpha's log says nothing of a failed rotation" eval '! grep -q "rotation after a revocation failed" "$A.log"'

rc=0
cu "$B" sync alpha >"$T/b.sync" 2>&1 || rc=$?
check "bravo refused charlie's commit past the cut on its turn of alpha's sync" \
    grep -q "^to bravo: refused: " "$T/a.sync"
check "and keeps it in forks/" sh -c "ls '$B/forks' | grep -q '^$HC-$((CUT + 1))-'"
check "bravo holds charlie's feed to the cut (got $(seq_of "$B" "$HC"))" [ "$(seq_of "$B" "$HC")" -eq "$CUT" ]
# alpha's records written meanwhile use charlie's epoch 2^32-1, which only charlie's feed brings:
# bravo takes alpha's feed after charlie's, in the same session
check "bravo holds alpha's feed in that same sync" [ "$(feed_ref "$B" "$HA")" = "$(feed_ref "$A" "$HA")" ]
contains "bravo took charlie's epoch $MAX, signed before its cut" "$(epochs "$B")" "$MAX $HC"
check "bravo did not take charlie's epoch 5, past its cut" eval '! "$PROBE" "$B" epochs | grep -qx "5 $HC"'
check "alpha pulls bravo again" quiet cu "$A" sync bravo
check "bravo pulls alpha again" eval 'cu "$B" sync alpha >/dev/null 2>&1 || true'
for o in "$A" "$B"; do
	n=$(epochs "$o" | grep -vc " $HC\$" || true)
	check "$(basename "$o"): no rotation storm (2 epochs not charlie's, got $n)" [ "$n" -eq 2 ]
done

# --- after the rotation: alpha writes, bravo reads -------------------------------------------
V2=$(cu "$A" victim add --name "After Revocation" --date-documented 2024-12-02)
head -c 40000 /dev/urandom >"$IN/f2.bin"
SHA_F2=$(sha256sum <"$IN/f2.bin" | cut -d' ' -f1)
check "alpha ingests F2" quiet cu "$A" ingest "$IN/f2.bin"
cu "$B" sync alpha >/dev/null 2>&1	# reports charlie's refused commit again
check "bravo holds alpha's feed" [ "$(feed_ref "$B" "$HA")" = "$(feed_ref "$A" "$HA")" ]
check "bravo reads V2" quiet cu "$B" victim show "$V2"
check "bravo gets F2" quiet cu "$B" get "$SHA_F2" -o "$OUT/f2"
check "bravo's F2 is byte-identical" cmp -s "$IN/f2.bin" "$OUT/f2"
WRAP_V2=$("$PROBE" "$B" record "$HA" "$SHA_F2")
check "F2's file key is wrapped under bravo's epoch 2" py '
import base64, json, sys
k = base64.b64decode(json.loads(sys.argv[1])["key"])
assert k[:4] == b"CEP1" and int.from_bytes(k[4:8], "big") == 2, k[:8]
assert k[8:12] == bytes.fromhex(sys.argv[2])[:4], k[8:12]
' "$WRAP_V2" "$HB"

# --- charlie's keys on bravo's files ---------------------------------------------------------
field() { py 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
F1=$("$PROBE" "$B" record "$HA" "$SHA_F1")
F2=$("$PROBE" "$B" record "$HA" "$SHA_F2")
for keys in "$T/charlie-keys" "$C/keys"; do
	P=$T/probe-$(echo "$keys" | tr / -)
	probe_dir "$P" "$C" "$keys" "$B"
	what="charlie's $( [ "$keys" = "$C/keys" ] && echo current || echo kept) keys"
	check "$what open V1 (before the rotation: the control)" quiet "$PROBE" "$P" record "$HA" "$V1"
	check "$what open F1's file key and bytes (the control)" quiet "$PROBE" "$P" blob \
	    "$(field "$F1" blob)" "$(field "$F1" key)" "$SHA_F1" "$OUT/c-f1"
	check "$what: F1 decrypted is F1" cmp -s "$IN/f1.bin" "$OUT/c-f1"
	out=$("$PROBE" "$P" record "$HA" "$V2" 2>&1) && fail "$what open V2: $out"
	contains "$what do not open V2 (epoch 2)" "$out" "epoch 2"
	out=$("$PROBE" "$P" record "$HA" "$SHA_F2" 2>&1) && fail "$what open F2's record: $out"
	ok "$what do not open F2's record"
	out=$("$PROBE" "$P" blob "$(field "$F2" blob)" "$(field "$F2" key)" "$SHA_F2" "$OUT/c-f2" 2>&1) &&
	    fail "$what open F2: $out"
	contains "$what do not open F2's file key" "$out" "does not hold"
done

# --- the keyring comes back from the feeds -------------------------------------------------------
# bravo loses keys/epochs.key (as a recovered office has none): a rebuild of the index takes
# every epoch sealed to it in again, whatever order the feeds come in (alpha's records need
# bravo's epoch, bravo's need alpha's)
EP_B=$(epochs "$B")
stop_daemon "$DB" || fail "bravo stops"
rm "$B/keys/epochs.key"
out=$("$CUSTODYD" reindex "$B" 2>&1) && ok "bravo: reindex without its keyring" ||
    fail "bravo: reindex without its keyring: $out"
check "bravo holds the same epochs again" [ "$(epochs "$B")" = "$EP_B" ]
start_daemon "$B" --listen "127.0.0.1:$PB"
DB=$DAEMON_PID
check "bravo reads V2 again" quiet cu "$B" victim show "$V2"
rm -f "$OUT/f2"
check "bravo gets F2 again" quiet cu "$B" get "$SHA_F2" -o "$OUT/f2"

# --- an epoch record whose creator is not its signer --------------------------------------------
SEQ_A=$(seq_of "$B" "$HA")
stop_daemon "$DA" || fail "alpha stops"
FORGED=$("$PROBE" "$A" forge-epoch "$HB" 9) || fail "alpha's forged epoch commit"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
rc=0
cu "$B" sync alpha >"$T/b.sync2" 2>&1 || rc=$?
check "bravo reports the refused commit (exit 1, got $rc)" [ "$rc" -eq 1 ]
contains "bravo says why" "$(cat "$T/b.sync2")" "creator other than the office that signed it"
check "bravo's alpha feed stays at $SEQ_A" [ "$(seq_of "$B" "$HA")" -eq "$SEQ_A" ]
check "bravo keeps the forged commit as evidence" grep -q "creator other than" "$B/forks/log"
case "$(epochs "$B")" in
*"$HB"*"$HB"*) fail "bravo took an epoch alpha made in bravo's name" ;;
*) ok "bravo took no epoch alpha made in its name" ;;
esac
check "alpha's own index left the forged epoch out" [ "$(epochs "$A" | grep -c " $HB\$")" -eq 1 ]

out=$(cu "$B" verify 2>&1) && ok "bravo: custody verify is clean" || fail "bravo: custody verify: $out"
done_testing
