/* A person event as the computations take it, from its canonical JSON record. */
#include <string.h>

#include "custody/common.h"
#include "custody/persons.h"

/* A string member, or NULL. */
static const char *
person_json_str(const json_t *doc, const char *name)
{
	return json_string_value(json_object_get(doc, name));
}

/* The event of a canonical person event record (type, date, party, governorate). */
int
person_json_event(struct person_event *e, const json_t *doc)
{
	const char *type = person_json_str(doc, "type"), *date = person_json_str(doc, "date");
	int t;

	memset(e, 0, sizeof *e);
	if (type == NULL || (t = person_event_type_from_name(type, strlen(type))) < 0)
		return custody_fail(CUSTODY_EINVAL, "person event: unknown type \"%.32s\"",
		    type ? type : "");
	if (date == NULL || cdate_parse(&e->date, date) < 0) {
		memset(e, 0, sizeof *e);
		return custody_fail(CUSTODY_EINVAL, "person event: bad date \"%.32s\"",
		    date ? date : "");
	}
	e->type = (enum person_event_type)t;
	e->party = person_json_str(doc, "party");
	e->governorate = person_json_str(doc, "governorate");
	return 0;
}

/* The age of a canonical person record, -1 when not known. */
int
person_json_age(const json_t *doc)
{
	const json_t *age = json_object_get(doc, "age");

	if (!json_is_integer(age) || json_integer_value(age) < 0 ||
	    json_integer_value(age) > 1000)
		return -1;
	return (int)json_integer_value(age);
}
