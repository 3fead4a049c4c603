#!/usr/bin/env bash
# custody and custodyd are built hardened, as readelf sees them: position-independent
# executables (PIE), full RELRO (a GNU_RELRO segment and every symbol bound at load, BIND_NOW),
# the stack protector in use (__stack_chk_fail), and in an optimised build without sanitizers
# the _FORTIFY_SOURCE checked variants of libc functions (__*_chk).
. "$(dirname "$0")/lib.sh"

command -v readelf >/dev/null || { echo "SKIP: readelf (binutils) is not installed"; exit 77; }
CACHE=${BUILD:-}/CMakeCache.txt
fortify=0
if [ -f "$CACHE" ] && ! grep -qE '^CUSTODY_(SANITIZE|FUZZ):BOOL=ON' "$CACHE" &&
    ! grep -qiE '^CMAKE_BUILD_TYPE:STRING=(Debug)?$' "$CACHE"; then
	fortify=1
fi

for bin in "$CUSTODY" "$CUSTODYD"; do
	name=$(basename "$bin")
	check "$name is a position-independent executable" \
	    sh -c "readelf -hW '$bin' | grep -q 'Type:.*DYN' && readelf -dW '$bin' | grep -q 'FLAGS_1.*PIE'"
	check "$name has a GNU_RELRO segment" sh -c "readelf -lW '$bin' | grep -q GNU_RELRO"
	check "$name binds every symbol at load (BIND_NOW)" \
	    sh -c "readelf -dW '$bin' | grep -qE '\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW'"
	check "$name uses the stack protector" \
	    sh -c "readelf -sW --dyn-syms '$bin' | grep -q '__stack_chk_fail'"
	if [ "$fortify" = 1 ]; then
		check "$name calls _FORTIFY_SOURCE's checked functions" \
		    sh -c "readelf -sW --dyn-syms '$bin' | grep -qE ' __[a-z_]+_chk(@|$)'"
	fi
done
[ "$fortify" = 1 ] || echo "note: a Debug or sanitizer build: _FORTIFY_SOURCE is not checked"
done_testing
