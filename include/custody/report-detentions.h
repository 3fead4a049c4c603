/*
 * The detention report of a period (`custody report detentions`): arrests and abductions,
 * releases and deaths in custody in the period, and the status of every person on its last
 * day. A pure computation over a stream of persons with their events, so that it runs in
 * bounded memory over the whole index: it keeps counters, one counter set per party and per
 * governorate (vocabulary words: a handful; at most REPORT_DETENTIONS_KEYS of each) and the
 * id of the last person, never the persons or their events.
 *
 * Definitions (issue "the missing, the detained, and the sites"):
 * - In the period: an event whose WHOLE date lies in from..to (both inclusive), that is
 *   from <= its first day and its last day <= to. A day-precise date counts when it is in the
 *   period; a month-precise one only when the whole month is (so "2024-12" is in December's
 *   and 2024's report, not in a report of 2024-12-01..2024-12-15); a year-precise one only in
 *   a period holding the whole year. This holds for arrests, releases and deaths alike.
 * - arrests: arrest and abduction events in the period. children and women: those of them
 *   whose person is a child or a woman (person_child_woman(): as for victims). They count
 *   arrests, not distinct persons: a child arrested twice in the period counts twice, so
 *   children <= arrests and every by_party entry sums to the totals.
 * - by_party: {"PARTY": {"arrests", "children", "women"}} by the event's party; an event
 *   without one (party is required for arrests, so only an unchecked record) under "unknown".
 * - by_governorate: {"GOV": {"arrests", "percent"}} by the event's governorate, else the
 *   person's, else "unknown"; percent of arrests, one decimal, half away from zero, worked
 *   out in integers (no binary fraction decides a half), so the shares may not sum to 100.0.
 * - released: release events in the period. died_in_custody: {"count", "by_party"} of
 *   death_in_custody events in the period, by the event's party ("unknown" when none).
 * - status_at_end: persons by person_status_at() on the period's last day, counting every
 *   person with an event dated (start) on or before it that decides a status: a person whose
 *   only such events are inquiries has no status and is in no key. Always the seven keys.
 * - disappeared_after_days: the N used ([persons] disappeared_after_days).
 * - Objects keyed by party or governorate hold only non-zero entries, sorted by key (an empty
 *   object when none). Key order otherwise as the shape:
 *   {"period": {"from", "to"}, "arrests", "children", "women", "by_party", "by_governorate",
 *    "released", "died_in_custody": {"count", "by_party"}, "status_at_end": {"detained",
 *    "disappeared", "released", "died_in_custody", "found_dead", "identified", "missing"},
 *    "disappeared_after_days"}.
 *   Percentages are json reals already rounded: dump with JSON_REAL_PRECISION (4 or more).
 */
#ifndef CUSTODY_REPORT_DETENTIONS_H
#define CUSTODY_REPORT_DETENTIONS_H

#include <stddef.h>

#include <jansson.h>

#include "custody/common.h"
#include "custody/persons.h"

/* At most this many distinct parties, and as many governorates, in one report. */
#define REPORT_DETENTIONS_KEYS 1024

/*
 * One person with all their events (any order). sex (male|female|unknown), age (-1 when not
 * known), age_group (child|adult|unknown) decide child and woman; governorate is the
 * person's (NULL or "" when none). id, when not NULL, must grow strictly (strcmp) from one
 * person to the next: persons come in id order, each once with all their events. Everything
 * is borrowed for the call only.
 */
struct report_detentions_person {
	const char			*id;
	const char			*sex;
	int				 age;
	const char			*age_group;
	const char			*governorate;
	const struct person_event	*events;
	size_t				 nevents;
};

struct report_detentions;

/*
 * A report of from..to ("YYYY-MM-DD", real days, from <= to). CUSTODY_EINVAL for a bad
 * period, CUSTODY_ENOMEM. *out belongs to the caller (report_detentions_free).
 */
int report_detentions_new(struct report_detentions **out, const char *from, const char *to,
    unsigned disappeared_after_days);
/*
 * Count one person. CUSTODY_EINVAL when the person's id does not come after the previous
 * one's, or a party or governorate is not UTF-8 text; CUSTODY_ETOOBIG past
 * REPORT_DETENTIONS_KEYS parties or governorates; CUSTODY_ENOMEM. After an error the report
 * is still consistent (the person is either counted whole or not at all) but should be freed.
 */
int report_detentions_add(struct report_detentions *, const struct report_detentions_person *);
/*
 * The report's JSON (the shape above); *out belongs to the caller. CUSTODY_ENOMEM. It sorts
 * the report's parties and governorates (no count changes): more persons may be added after.
 */
int report_detentions_json(json_t **out, struct report_detentions *);
void report_detentions_free(struct report_detentions *);

/*
 * The next person of a stream: return 1 with *person set (valid until the next call), 0 at
 * the end, or a negative code, which stops the report and is returned unchanged.
 */
typedef int (*report_detentions_next)(void *arg,
    const struct report_detentions_person **person);
/* The whole report of a stream of persons, as report_detentions_json gives it. */
int report_detentions_run(json_t **out, const char *from, const char *to,
    unsigned disappeared_after_days, report_detentions_next next, void *arg);

/*
 * Output of a report's JSON (as report_detentions_json makes it, or as it came from the
 * daemon: missing members read as 0 or empty). label, when not NULL, turns a party or
 * governorate word into the text to show (buf of len bytes may hold it); NULL shows words
 * as they are. Bytes that are not printable are shown as \xNN.
 *
 * text: a title ("Detention report for December 2024", "... for 2024" or "..., FROM to TO"),
 * then tables indented by two spaces: Arrests (arrests, children, women), Arrests by party
 * (with a Total row), Arrests by governorate (arrests and share), Released, Deaths in custody
 * by party, Status on TO (the seven statuses, their total), and a closing line saying after
 * how many days a detention without news counts as a disappearance. Parties and
 * governorates are listed by count, largest first, "unknown" last.
 *
 * csv: RFC 4180 with CRLF, header "section,key,metric,value", one row a number:
 *   period,,from|to,DATE
 *   totals,all,arrests|children|women|released|disappeared_after_days,N
 *   by_party,PARTY,arrests|children|women,N
 *   by_governorate,GOV,arrests|percent,N (percent with one decimal)
 *   died_in_custody,all,count,N
 *   died_in_custody_by_party,PARTY,died_in_custody,N
 *   status_at_end,all,STATUS,N (the seven, in the JSON's order)
 * The keys in the order of the JSON (sorted); a field with , " CR or LF is quoted.
 */
typedef const char *(*report_detentions_label)(char *buf, size_t len, const char *word);
int report_detentions_text(struct cbuf *out, const json_t *report, report_detentions_label);
int report_detentions_csv(struct cbuf *out, const json_t *report);

#endif
