/*
 * Statistics reports and victim queries, as SQL over the derived index (index.c's victims and
 * incidents tables). Read-only: both run on the caller's thread handle (archive_db()).
 */
#ifndef CUSTODY_REPORT_H
#define CUSTODY_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#define REPORT_THRESHOLD 5		/* default: civilians linked to an incident for a massacre */

/*
 * The report of a period (from/to YYYY-MM-DD, inclusive; basis "documented" or "death", NULL
 * meaning documented; threshold >= 1) in the shape of the monthly-report issue. *out belongs
 * to the caller. Percentages are stored already rounded (one decimal, half away from zero):
 * print them with JSON_REAL_PRECISION. CUSTODY_EINVAL for a bad date, basis or threshold,
 * or from after to.
 */
int report_build(json_t **out, sqlite3 *db, const char *from, const char *to,
    const char *basis, int threshold);

/* The first and last day of a month ("YYYY-MM") or a year ("YYYY"): exactly one of the two. */
int report_period(char from[11], char to[11], const char *month, const char *year);

/* The EXPLAIN QUERY PLAN of the report's statements, one line each (caller frees). */
int report_plan(char **out, sqlite3 *db, const char *basis);

/*
 * Which victims a query wants; NULL (or 0) means "any". from/to bound the basis date as the
 * report does (documented, or death: a death-basis query only returns victims with a death
 * date). party and governorate "unknown" also match a victim without one (as in the report).
 * category: medical, civil_defense or media. child/woman: non-zero keeps only children/women.
 * incident: a TOKEN_LEN token. limit: at most this many victims, 0 for all. Status is not
 * filtered: combatants are returned too.
 */
struct query_filter {
	const char	*from, *to, *basis;
	const char	*party, *governorate, *cause, *category;
	int		 child, woman;
	const uint8_t	*incident;
	unsigned	 limit;
};

/*
 * Call cb with the token and office of every victim matching f, ordered by the basis date,
 * then token. cb returns 0 to go on, > 0 to stop (query_victims then returns 0) or a negative
 * code, which stops the walk and is returned unchanged. CUSTODY_EINVAL for bad filters.
 */
typedef int (*query_cb)(void *arg, const uint8_t tok[16], const char *office);
int query_victims(sqlite3 *db, const struct query_filter *f, query_cb cb, void *arg);

/* The EXPLAIN QUERY PLAN of the statement query_victims would run for f (caller frees). */
int query_plan(char **out, sqlite3 *db, const struct query_filter *f);

/* The filter a QueryRequest asks for (itok holds the incident's token, when one is given). */
struct archive;
struct Custody__QueryRequest;
void query_filter_request(struct query_filter *, uint8_t itok[static 16], const struct archive *,
    const struct Custody__QueryRequest *);

/* report.c, shared with query.c: a real calendar day "YYYY-MM-DD" (years 1900-2100). */
int report_check_date(const char *s);
/* The EXPLAIN QUERY PLAN of n statements, a line per step (caller frees *out). */
int report_explain(char **out, sqlite3 *db, const char *const *sqls, size_t n);

/*
 * The detention report of from..to (YYYY-MM-DD, inclusive) over the persons and person_events
 * tables (report-detentions.c), as report_detentions_json makes it (custody/report-
 * detentions.h). *out belongs to the caller. CUSTODY_EINVAL for a bad period.
 */
int report_detentions_build(json_t **out, sqlite3 *db, const char *from, const char *to,
    unsigned disappeared_after_days);

/*
 * Which persons a person query wants (query-persons.c); NULL or "" (0) means any. status (a
 * person_status_name) at the day at (YYYY-MM-DD, required with status); party: one of the
 * person's events names it; governorate: the person's or one of its events'; site: a
 * TOKEN_LEN token one of its events names; child/woman as persons.h decides them; limit:
 * at most this many, 0 for all.
 */
struct person_filter {
	const char	*status, *at, *party, *governorate;
	const uint8_t	*site;
	int		 child, woman;
	unsigned	 limit;
};

/*
 * Call cb with the token and office of every person matching f, in token order (cb as for
 * query_victims). CUSTODY_EINVAL for an unknown status or a bad day.
 */
int query_persons(sqlite3 *db, const struct person_filter *f, unsigned disappeared_after_days,
    query_cb cb, void *arg);

/*
 * Probable duplicates among persons (query-persons-dup.c): the same normalised name and
 * governorate with the same age or the same birth year, by keyed tokens. cb gets each person
 * of each group (numbered from 0), a group's persons together and in token order.
 */
typedef int (*person_dup_cb)(void *arg, size_t group, const uint8_t tok[16], const char *office);
int query_persons_duplicates(sqlite3 *db, person_dup_cb cb, void *arg);

/* The filter of a PersonQueryRequest (its site token in stok); "" fields mean any. */
struct Custody__PersonQueryRequest;
void person_filter_request(struct person_filter *, uint8_t stok[static 16], const struct archive *,
    const struct Custody__PersonQueryRequest *);

#endif
