#!/usr/bin/env bash
# Report and query speed over a large index: builds a fresh archive whose index holds NVICTIMS
# (default 1,000,000) victims spread over 2022-2024 (8 parties, 14 governorates, ~49,000
# incidents; 85% civilians), then times report_build (the SQL and the tallying: the daemon's
# share) for a year and a month by both bases, and a few queries, warm cache, RUNS times each.
# Targets from the issue, measured from the client: year < 250 ms, month < 50 ms.
# Usage: tests/bench/report.sh [BUILD_DIR]  (BUILD_DIR holds libcustody_core.a and
#   libcustody_proto.a, best a Release build:
#   cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release && make -C build-bench custody_core)
# Environment: NVICTIMS, RUNS; BENCH_ARCHIVE=DIR keeps the filled archive there and reuses it
# when it exists (filling 1,000,000 victims takes about a minute); MMAP_MB=N sets the index
# connection's PRAGMA mmap_size (the daemon's default is SQLite's: none).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(realpath "${1:-build}")
NVICTIMS=${NVICTIMS:-1000000}
RUNS=${RUNS:-7}
for lib in libcustody_core.a libcustody_proto.a; do
	[ -f "$BUILD/$lib" ] || { echo "missing $BUILD/$lib (make -C $BUILD custody_core)"; exit 1; }
done
if grep -q 'CUSTODY_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; then
	echo "warning: $BUILD is a sanitizer build; timings will be several times slower" >&2
fi

W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/custody-report-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

cat >"$W/driver.c" <<'EOF'
/* Fill an index with synthetic victims, then time reports and queries on it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "report.h"

/*
 * Deterministic rows: h and g are two hashes of the row number. Tokens are 16 bytes
 * ('%016d' of a number). documented: a day of 2022-2024; death 0-60 days earlier, 85% known
 * to the day, 7% to the month, 3% to the year, 5% unknown. child/woman as the indexer sets
 * them. Incidents: 45 a day, about a third of the victims linked to one of their day's.
 */
static const char fill[] =
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < :count),"
    " r AS (SELECT x, (x * 2654435761) % 4294967296 AS h, (x * 40503 + 12345) % 1000003 AS g"
    "  FROM n),"
    " d AS (SELECT x, h, g, h % 1096 AS day, (h / 1096) % 100 AS p, g % 100 AS q,"
    "  (h / 109600) % 91 AS age, g % 61 AS back FROM r),"
    " e AS (SELECT d.*, date('2022-01-01', '+' || day || ' days') AS documented,"
    "  date('2022-01-01', '+' || day || ' days', '-' || back || ' days') AS dd,"
    "  CASE WHEN q < 10 THEN NULL ELSE age END AS a,"
    "  CASE WHEN p < 55 THEN 'male' WHEN p < 90 THEN 'female' ELSE 'unknown' END AS sex"
    "  FROM d)"
    " INSERT INTO victims(tok, office, lamport, documented, death, death_from, death_to, sex,"
    "  age, age_group, status, child, woman, categories, governorate, party, cause, incident)"
    " SELECT CAST(printf('%016d', x) AS BLOB), 'bench', x, documented,"
    "  CASE WHEN q < 85 THEN dd WHEN q < 92 THEN substr(dd, 1, 7) WHEN q < 95 THEN"
    "   substr(dd, 1, 4) END,"
    "  CASE WHEN q < 85 THEN dd WHEN q < 92 THEN substr(dd, 1, 7) || '-01' WHEN q < 95 THEN"
    "   substr(dd, 1, 4) || '-01-01' END,"
    "  CASE WHEN q < 85 THEN dd WHEN q < 92 THEN date(substr(dd, 1, 7) || '-01', '+1 month',"
    "   '-1 day') WHEN q < 95 THEN substr(dd, 1, 4) || '-12-31' END,"
    "  sex, a, CASE WHEN a IS NULL THEN 'unknown' WHEN a < 18 THEN 'child' ELSE 'adult' END,"
    "  CASE WHEN (g / 100) % 100 < 85 THEN 'civilian' WHEN (g / 100) % 100 < 95 THEN"
    "   'combatant' ELSE 'unknown' END,"
    "  a IS NOT NULL AND a < 18, sex = 'female' AND a IS NOT NULL AND a >= 18,"
    "  CASE WHEN (g / 10000) % 100 < 2 THEN 1 WHEN (g / 10000) % 100 < 3 THEN 2"
    "   WHEN (g / 10000) % 100 < 4 THEN 4 ELSE 0 END,"
    "  CASE WHEN (h / 9) % 20 < 1 THEN NULL ELSE json_extract('[\"aleppo\",\"damascus\","
    "   \"rif_dimashq\",\"homs\",\"hama\",\"idlib\",\"latakia\",\"tartus\",\"daraa\","
    "   \"suwayda\",\"quneitra\",\"deir_ez_zor\",\"raqqa\",\"hasakah\"]',"
    "   '$[' || ((h / 7) % 14) || ']') END,"
    "  CASE WHEN (g / 7) % 20 < 1 THEN NULL ELSE json_extract('[\"regime\",\"russia\","
    "   \"isis\",\"sdf\",\"opposition\",\"hts\",\"coalition\",\"other\"]',"
    "   '$[' || ((g / 11) % 8) || ']') END,"
    "  json_extract('[\"torture\",\"shelling\",\"airstrike\",\"shooting\",\"explosion\","
    "   \"siege\",\"unknown\",\"shelling\",\"airstrike\",\"shooting\",\"shelling\","
    "   \"airstrike\",\"shooting\",\"shelling\",\"airstrike\",\"shooting\",\"shelling\","
    "   \"airstrike\",\"shooting\",\"shelling\"]', '$[' || ((h / 13) % 20) || ']'),"
    "  CASE WHEN (g / 3) % 3 = 0 THEN CAST(printf('%016d', day * 45 + (h / 17) % 45) AS BLOB)"
    "  END"
    " FROM e";
static const char fill_incidents[] =
    "WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 1096 * 45 - 1)"
    " INSERT INTO incidents(tok, office, lamport, date, governorate, party, type)"
    " SELECT CAST(printf('%016d', x) AS BLOB), 'bench', x,"
    "  date('2022-01-01', '+' || (x / 45) || ' days'), 'aleppo',"
    "  CASE WHEN x % 10 = 9 THEN NULL ELSE json_extract('[\"regime\",\"russia\",\"isis\","
    "   \"sdf\",\"opposition\",\"hts\",\"coalition\",\"other\"]', '$[' || (x % 8) || ']') END,"
    "  'shelling' FROM n";

static double
clock_ms(clockid_t which)
{
	struct timespec ts;

	clock_gettime(which, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double
now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

/* CPU time of this thread: what other people's load on the machine does not inflate. */
static double
cpu_ms(void)
{
	return clock_ms(CLOCK_THREAD_CPUTIME_ID);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
die(const char *what, int error)
{
	fprintf(stderr, "%s: %d %s\n", what, error, custody_error());
	exit(1);
}

/* Time report_build runs times: minimum and median. */
static void
time_report(sqlite3 *db, const char *label, const char *from, const char *to,
    const char *basis, int runs)
{
	double t[64], c[64], t0, c0;
	json_t *r = NULL;
	int i, error;

	for (i = 0; i < runs; i++) {
		json_decref(r);
		t0 = now_ms();
		c0 = cpu_ms();
		if ((error = report_build(&r, db, from, to, basis, REPORT_THRESHOLD)) < 0)
			die("report_build", error);
		t[i] = now_ms() - t0;
		c[i] = cpu_ms() - c0;
	}
	qsort(t, runs, sizeof *t, cmp_double);
	qsort(c, runs, sizeof *c, cmp_double);
	printf("report %-6s %-10s %s..%s: %7lld victims %6lld excluded %5lld massacres"
	    "  wall min %6.1f median %6.1f  cpu min %6.1f ms\n", label, basis, from, to,
	    (long long)json_integer_value(json_object_get(r, "victims")),
	    (long long)json_integer_value(json_object_get(r, "non_civilians_excluded")),
	    (long long)json_integer_value(json_object_get(json_object_get(r, "massacres"),
	    "count")), t[0], t[runs / 2], c[0]);
	json_decref(r);
}

static int
count_cb(void *arg, const uint8_t tok[16], const char *office)
{
	(*(long *)arg)++;
	return 0;
}

/* Time one query runs times. */
static void
time_query(sqlite3 *db, const char *label, const struct query_filter *f, int runs)
{
	double t[64], c[64], t0, c0;
	long n = 0;
	int i, error;

	for (i = 0; i < runs; i++) {
		n = 0;
		t0 = now_ms();
		c0 = cpu_ms();
		if ((error = query_victims(db, f, count_cb, &n)) < 0)
			die("query_victims", error);
		t[i] = now_ms() - t0;
		c[i] = cpu_ms() - c0;
	}
	qsort(t, runs, sizeof *t, cmp_double);
	qsort(c, runs, sizeof *c, cmp_double);
	printf("query  %-40s: %7ld victims  wall min %6.1f median %6.1f  cpu min %6.1f ms\n",
	    label, n, t[0], t[runs / 2], c[0]);
}

int
main(int argc, char **argv)
{
	struct query_filter q;
	struct archive *a;
	sqlite3_stmt *st;
	char *cause = NULL, *plan;
	uint8_t inc[17];
	int runs = atoi(argv[3]), error;
	sqlite3 *db;
	double t0;

	if (runs < 1 || runs > 64)
		runs = 7;
	if (access(argv[1], F_OK) == 0) {	/* an archive filled by an earlier run */
		if (archive_open(&a, argv[1], NULL, 0, &cause) < 0 || index_open(a, &cause) < 0) {
			fprintf(stderr, "archive: %s\n", cause);
			return 1;
		}
		db = archive_db(a);
		goto fill_done;
	}
	if (archive_create(argv[1], "bench", NULL, &cause) < 0 ||
	    archive_open(&a, argv[1], NULL, 0, &cause) < 0 || index_open(a, &cause) < 0) {
		fprintf(stderr, "archive: %s\n", cause);
		return 1;
	}
	db = archive_db(a);
	t0 = now_ms();
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db, fill, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "fill: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	sqlite3_bind_int64(st, 1, atoll(argv[2]));
	if (sqlite3_step(st) != SQLITE_DONE ||
	    sqlite3_exec(db, fill_incidents, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "fill: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	sqlite3_finalize(st);
	sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	printf("filled %s victims in %.1f s\n", argv[2], (now_ms() - t0) / 1e3);
fill_done:
	if (getenv("MMAP_MB") != NULL) {
		char pragma[64];

		snprintf(pragma, sizeof pragma, "PRAGMA mmap_size=%lld",
		    atoll(getenv("MMAP_MB")) << 20);
		sqlite3_exec(db, pragma, NULL, NULL, NULL);
		printf("with %s\n", pragma);
	}

	if ((error = report_plan(&plan, db, "documented")) < 0)
		die("report_plan", error);
	printf("plan (documented):\n%s", plan);
	free(plan);

	time_report(db, "year", "2024-01-01", "2024-12-31", "documented", runs);
	time_report(db, "year", "2024-01-01", "2024-12-31", "death", runs);
	time_report(db, "month", "2024-06-01", "2024-06-30", "documented", runs);
	time_report(db, "month", "2024-06-01", "2024-06-30", "death", runs);
	time_report(db, "3years", "2022-01-01", "2024-12-31", "documented", runs);

	memset(&q, 0, sizeof q);
	q.from = "2024-06-01";
	q.to = "2024-06-30";
	time_query(db, "month, all", &q, runs);
	q.limit = 100;
	time_query(db, "month, limit 100", &q, runs);
	q.limit = 0;
	q.party = "regime";
	q.child = 1;
	time_query(db, "month, party regime, children", &q, runs);
	memset(&q, 0, sizeof q);
	snprintf((char *)inc, sizeof inc, "%016d", 900 * 45 + 3);
	q.incident = inc;
	time_query(db, "one incident", &q, runs);
	memset(&q, 0, sizeof q);
	q.cause = "torture";
	q.limit = 1000;
	time_query(db, "torture, all time, limit 1000", &q, runs);
	archive_close(a);
	return 0;
}
EOF

LIBS=$(pkg-config --libs libsodium libcrypto libgit2 sqlite3 libevent_core libevent_pthreads \
	jansson libprotobuf-c inih libutf8proc)
SAN=
grep -q 'CUSTODY_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null && SAN=-fsanitize=address,undefined
cc -O2 $SAN -D_GNU_SOURCE -I"$SRC/daemon" -I"$SRC/include" -I"$BUILD/gen" -I"$BUILD/proto-gen" "$W/driver.c" \
	"$BUILD/libcustody_core.a" "$BUILD/libcustody_proto.a" $LIBS -lcsv -lpthread -lm \
	-o "$W/driver"
echo "== $NVICTIMS victims, $RUNS runs each, warm cache ($(nproc) CPUs)"
ARCH=${BENCH_ARCHIVE:-$W/arch}
"$W/driver" "$ARCH" "$NVICTIMS" "$RUNS"
ls -l "$ARCH/index.sqlite" | awk '{ printf "index.sqlite: %.0f MiB\n", $5 / 1048576 }'

# End to end, as the issue measures it: the client's wall time, against a daemon on the archive.
if [ -x "$BUILD/custodyd" ] && [ -x "$BUILD/custody" ]; then
	"$BUILD/custodyd" run "$ARCH" >"$W/daemon.log" 2>&1 &
	DPID=$!
	trap 'kill $DPID 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
	for _ in $(seq 100); do [ -S "$ARCH/custodyd.sock" ] && break; sleep 0.05; done
	client_best() {
		local best=999999 s e t i
		for i in $(seq "$RUNS"); do
			s=$(date +%s%N)
			"$BUILD/custody" -A "$ARCH" report "$@" --format json >/dev/null
			e=$(date +%s%N)
			t=$(( (e - s) / 1000000 ))
			[ "$t" -lt "$best" ] && best=$t
		done
		echo "$best"
	}
	echo "== from the client (best of $RUNS): custody report"
	echo "--year 2024:   $(client_best --year 2024) ms   (target 250 ms)"
	echo "--month 2024-06: $(client_best --month 2024-06) ms   (target 50 ms)"
	s=$(date +%s%N); "$BUILD/custody" -A "$ARCH" status >/dev/null; e=$(date +%s%N)
	echo "custody status (the client's fixed cost): $(( (e - s) / 1000000 )) ms"
fi
