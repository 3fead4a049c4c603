#!/usr/bin/env bash
# daemon/ is two layers: the engine (archive, keys, blobs, feeds, records, index, sync
# verification) and the service (the loop, clients, request handlers, sync sessions). The
# service calls the engine with plain parameters; the engine never includes a service header,
# never names the service's objects (struct server, client, request) or a message's envelope,
# and never uses a symbol the service defines. Every request a client sends goes through the
# one handler table in server.c (batches and ingest included), so its role is checked in one
# place. A file of one layer that reaches into the other, or a handler left out of the table,
# fails here.
#
# The service: whatever lies under daemon/service/, and daemon/custodyd.c, the program that
# wires the two; the engine: whatever lies under daemon/engine/. Nothing else lies in daemon/.
. "$(dirname "$0")/lib.sh"

SRC=${LAYERS_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
SERVICE_FILES="custodyd.c"

# is_service FILE: FILE (a path under daemon/) belongs to the service.
is_service() {
	local base pat
	case "$1" in */daemon/service/*) return 0 ;; esac
	base=$(basename "$1")
	for pat in $SERVICE_FILES; do
		# shellcheck disable=SC2254
		case "$base" in $pat) return 0 ;; esac
	done
	return 1
}

# is_service_obj OBJ: OBJ (an object of the library, NAME.c.o) was built from a service file.
is_service_obj() {
	[ -f "$SRC/daemon/service/${1%.o}" ]
}

engine=() service_headers=()
while IFS= read -r f; do
	if is_service "$f"; then
		case "$f" in *.h) service_headers+=("$(basename "$f")") ;; esac
	else
		engine+=("$f")
	fi
done < <(find "$SRC/daemon" -name '*.[ch]' | sort)
# Each file says its layer by where it lies.
stray=$(find "$SRC/daemon" -type f -name '*.[ch]' ! -path '*/daemon/engine/*' \
    ! -path '*/daemon/service/*' ! -path '*/daemon/custodyd.c' | sed "s|^$SRC/||")
check "every file of daemon/ lies in engine/ or service/${stray:+ (not: $stray)}" [ -z "$stray" ]
check "the engine has files" [ "${#engine[@]}" -gt 30 ]
check "the service has headers" [ "${#service_headers[@]}" -ge 3 ]

# No engine file includes a service header, or names the service's objects.
for f in "${engine[@]}"; do
	rel=${f#"$SRC"/}
	bad=
	for h in "${service_headers[@]}"; do
		if grep -Eq "^#[[:space:]]*include[[:space:]]+\"([^\"]*/)?$h\"" "$f"; then
			bad="$bad $h"
		fi
	done
	if [ -n "$bad" ]; then
		fail "engine file $rel includes the service's$bad"
	fi
	if grep -Eq 'struct[[:space:]]+(server|client|request)\b' "$f"; then
		fail "engine file $rel names the service's objects: $(grep -Eo \
		    'struct[[:space:]]+(server|client|request)\b' "$f" | sort -u | tr '\n' ' ')"
	fi
	# the engine takes a message's body, never its envelope, and encodes no reply
	if grep -Eq '\bEnvelope\b|\bwire_(encode|error)\(' "$f"; then
		fail "engine file $rel handles envelopes or replies: $(grep -Eo \
		    '\bEnvelope\b|\bwire_(encode|error)\(' "$f" | sort -u | tr '\n' ' ')"
	fi
	if grep -Eq '^service_[a-z_]*\(' "$f"; then
		fail "engine file $rel defines a request handler: $(grep -Eo '^service_[a-z_]*' "$f" |
		    tr '\n' ' ')"
	fi
done
ok "checked ${#engine[@]} engine files against ${#service_headers[@]} service headers"

# What the includes cannot show, the linker does: no engine object uses a symbol a service
# object defines (a call through a prototype written by hand, say).
lib=${BUILD:-$(dirname "$CUSTODYD")}/libcustody_core.a
if [ -z "${LAYERS_SRC:-}" ]; then
	check "the engine's library is built ($lib)" [ -f "$lib" ]
	command -v nm >/dev/null || { echo "SKIP: nm (binutils) is not installed"; exit 77; }
	svc_syms=$T/service-symbols
	: >"$svc_syms"
	while read -r o sym; do
		if is_service_obj "$o"; then echo "$sym" >>"$svc_syms"; fi
	done < <(nm -A --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ { split($1, p, ":"); print p[2], $3 }')
	check "the service's objects define symbols" [ -s "$svc_syms" ]
	while read -r o sym; do
		if ! is_service_obj "$o" && grep -qxF "$sym" "$svc_syms"; then
			fail "engine object $o uses the service's $sym"
		fi
	done < <(nm -A --undefined-only "$lib" | awk '{ split($1, p, ":"); print p[2], $NF }')
	ok "checked the engine's objects against $(wc -l <"$svc_syms") service symbols"
fi

# Every handler a service header declares (a request's work or done, or a step run on the
# loop) is a row of the handler table: no request is dispatched around it.
server_c=$(find "$SRC/daemon" -name server.c | head -n 1)
table=$(sed -n '/^} server_handlers\[\] = {/,/^};/p' "$server_c")
check "server.c has the handler table" [ -n "$table" ]
handlers=$(for h in "${service_headers[@]}"; do
	find "$SRC/daemon" -name "$h" -exec cat {} +
done | grep -Eo '^(int|void) service_[a-z_]*\((struct request \*|struct client \*, Envelope \*)\);' |
    sed -E 's/^(int|void) (service_[a-z_]*)\(.*/\2/' | sort -u)
check "the service declares handlers" [ "$(wc -l <<<"$handlers")" -gt 30 ]
for h in $handlers; do
	if ! grep -Eq "\b$h\b" <<<"$table"; then
		fail "handler $h is not in server.c's handler table"
	fi
done
# client_dispatch answers the hello itself; every other message goes to the table.
dispatch=$(sed -n '/^client_dispatch(/,/^}/p' "$server_c")
cases=$(grep -Eo 'case CUSTODY__ENVELOPE__BODY_[A-Z_]+' <<<"$dispatch" || true)
check "client_dispatch picks no message out of the table${cases:+: $cases}" [ -z "$cases" ]
ok "checked $(wc -l <<<"$handlers") handlers against the table"

done_testing
