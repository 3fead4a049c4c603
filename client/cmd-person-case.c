/*
 * custody person case: the minimum elements the UN Working Group on Enforced or Involuntary
 * Disappearances asks of a case: identity, date of disappearance (the first last_seen, arrest
 * or abduction), place (the site's name, else the area and governorate), who is believed
 * responsible (that event's party), the steps taken (inquiry events) and the submitting office.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/persons.h"
#include "records-cmd.h"
#include "records-out.h"

static int cmd_person_case_exec(const struct cmd_ctx *, const struct cmd_args *);

static const struct option cmd_person_case_options[] = {
	{ "format", required_argument, NULL, RC_OPT_FORMAT },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_person_case_entry = {
	.name = "person case",
	.usage = "ID [--format text|json]",
	.help = "Print a person's case as the UN WGEID asks for it.\n"
	    "Identity, date of disappearance (the first last_seen, arrest or abduction), place\n"
	    "(the site's name, else the area and governorate), who is believed responsible\n"
	    "(that event's party), the steps taken (inquiry events) and the submitting office.",
	.options = cmd_person_case_options,
	.lower = 1,
	.upper = 1,
	.exec = cmd_person_case_exec,
};

static const char *
pc_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Copy member key of from into to, when it is there. */
static void
pc_copy(json_t *to, const json_t *from, const char *key)
{
	json_t *v = json_object_get(from, key);

	if (v != NULL && json_object_set(to, key, v) < 0)
		client_fatal("out of memory");
}

/* The site record with this id among recs, or NULL. */
static const json_t *
pc_site(const json_t *recs, const char *id)
{
	const json_t *r;
	size_t i;

	json_array_foreach(recs, i, r)
		if (id != NULL && strcmp(pc_str(r, "kind") ?: "", "site") == 0 &&
		    strcmp(pc_str(r, "id") ?: "", id) == 0)
			return r;
	return NULL;
}

/* Whether rec is the office record ("office-" KEY) of the office key hex, with a name. */
static int
pc_office(const json_t *rec, const char *hex)
{
	const char *id = pc_str(rec, "id");

	return hex != NULL && id != NULL && pc_str(rec, "name") != NULL &&
	    strcmp(pc_str(rec, "kind") ?: "", "office") == 0 && strncmp(id, "office-", 7) == 0 &&
	    strcmp(id + 7, hex) == 0;
}

/* The case of the person recs[0] with its events and sites, in the JSON shape printed. */
static json_t *
pc_build(const json_t *recs)
{
	const json_t *person = json_array_get(recs, 0), *r, *first = NULL, *site;
	static const char *const identity[] = { "id", "name", "sex", "age", "age_group",
	    "birth_year", "governorate", "area", NULL };
	struct person_event *ev;
	const json_t **evdoc;
	json_t *c = json_object(), *d, *place, *steps = json_array(), *step;
	size_t i, n = 0, k;

	if (c == NULL || steps == NULL || (ev = calloc(json_array_size(recs) + 1, sizeof *ev)) ==
	    NULL || (evdoc = calloc(json_array_size(recs) + 1, sizeof *evdoc)) == NULL)
		client_fatal("out of memory");
	for (i = 0; identity[i] != NULL; i++)
		pc_copy(c, person, identity[i]);
	json_array_foreach(recs, i, r) {
		if (i == 0 || strcmp(pc_str(r, "kind") ?: "", "person_event") != 0)
			continue;
		if (person_json_event(&ev[n], r) < 0)
			continue;
		evdoc[n++] = r;
		if (strcmp(pc_str(r, "type") ?: "", "inquiry") == 0) {
			if ((step = json_object()) == NULL)
				client_fatal("out of memory");
			pc_copy(step, r, "date");
			pc_copy(step, r, "id");
			pc_copy(step, r, "notes");
			json_array_append_new(steps, step);
		}
	}
	if ((k = person_case_first(ev, n)) < n)
		first = evdoc[k];
	d = json_null();
	if (first != NULL) {
		d = json_object();
		place = json_object();
		if (d == NULL || place == NULL)
			client_fatal("out of memory");
		pc_copy(d, first, "date");
		pc_copy(d, first, "type");
		pc_copy(d, first, "id");
		if ((site = pc_site(recs, pc_str(first, "site_id"))) != NULL) {
			json_object_set_new(place, "site_id", json_string(pc_str(site, "id")));
			pc_copy(place, site, "name");
			pc_copy(place, site, "type");
			pc_copy(place, site, "governorate");
		} else if (pc_str(first, "area") != NULL || pc_str(first, "governorate") != NULL) {
			pc_copy(place, first, "area");
			pc_copy(place, first, "governorate");
		} else {
			pc_copy(place, person, "area");
			pc_copy(place, person, "governorate");
		}
		json_object_set_new(d, "place", place);
		json_object_set_new(d, "party", pc_str(first, "party") ?
		    json_string(pc_str(first, "party")) : json_null());
	}
	json_object_set_new(c, "disappearance", d);
	json_object_set_new(c, "steps", steps);
	r = json_object_get(person, "rev");
	json_object_set_new(c, "office", json_null());
	json_array_foreach(recs, i, site)
		if (pc_office(site, pc_str(r, "office")))
			json_object_set_new(c, "office", json_string(pc_str(site, "name")));
	json_object_set_new(c, "office_key", pc_str(r, "office") ?
	    json_string(pc_str(r, "office")) : json_null());
	free(ev);
	free(evdoc);
	return c;
}

/* One "  Label: value" line, the value made safe for a terminal; nothing when value is NULL. */
static void
pc_line(const char *label, const char *value)
{
	char *s;

	if (value == NULL)
		return;
	s = client_safe(value);
	printf("  %-22s %s\n", label, s);
	free(s);
}

/* The case as text. */
static void
pc_text(const json_t *c)
{
	const json_t *d = json_object_get(c, "disappearance"), *place, *s;
	char buf[128], age[16], place_text[512];
	const char *party;
	size_t i;

	pc_line("Case", pc_str(c, "id"));
	pc_line("Name", pc_str(c, "name") ?: "(not known)");
	pc_line("Sex", pc_str(c, "sex"));
	if (json_is_integer(json_object_get(c, "age"))) {
		snprintf(age, sizeof age, "%lld", (long long)json_integer_value(json_object_get(c,
		    "age")));
		pc_line("Age", age);
	}
	if (json_is_integer(json_object_get(c, "birth_year"))) {
		snprintf(age, sizeof age, "%lld", (long long)json_integer_value(json_object_get(c,
		    "birth_year")));
		pc_line("Birth year", age);
	}
	if (pc_str(c, "governorate") != NULL)
		pc_line("Governorate", rout_label(buf, sizeof buf, pc_str(c, "governorate"), 0));
	if (!json_is_object(d))
		pc_line("Disappearance", "no last_seen, arrest or abduction recorded yet");
	else {
		snprintf(place_text, sizeof place_text, "%s (%s)", pc_str(d, "date") ?: "?",
		    pc_str(d, "type") ?: "?");
		pc_line("Date of disappearance", place_text);
		place = json_object_get(d, "place");
		if (pc_str(place, "name") != NULL)
			snprintf(place_text, sizeof place_text, "%s%s%s", pc_str(place, "name"),
			    pc_str(place, "governorate") ? ", " : "", pc_str(place, "governorate") ?
			    rout_label(buf, sizeof buf, pc_str(place, "governorate"), 0) : "");
		else
			snprintf(place_text, sizeof place_text, "%s%s%s", pc_str(place, "area") ?: "",
			    pc_str(place, "area") && pc_str(place, "governorate") ? ", " : "",
			    pc_str(place, "governorate") ? rout_label(buf, sizeof buf,
			    pc_str(place, "governorate"), 0) : "");
		pc_line("Place", place_text[0] ? place_text : "(not known)");
		party = pc_str(d, "party");
		pc_line("Believed responsible", party ? rout_label(buf, sizeof buf, party, 0) :
		    "(not known)");
	}
	if (json_array_size(json_object_get(c, "steps")) == 0)
		pc_line("Steps taken", "none recorded");
	json_array_foreach(json_object_get(c, "steps"), i, s) {
		snprintf(place_text, sizeof place_text, "%s inquiry%s%s", pc_str(s, "date") ?: "?",
		    pc_str(s, "notes") ? ": " : "", pc_str(s, "notes") ?: "");
		pc_line(i == 0 ? "Steps taken" : "", place_text);
	}
	pc_line("Submitting office", pc_str(c, "office") ?: pc_str(c, "office_key"));
}

static int
cmd_person_case_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT;
	Custody__PersonCaseRequest pc = CUSTODY__PERSON_CASE_REQUEST__INIT;
	enum rout_format fmt = rout_format(args, RC_OPT_FORMAT, ctx->json, ROUT_TEXT);
	struct client c;
	json_t *recs, *cs;

	if (fmt == ROUT_CSV)
		cmd_usage_error(args->entry, "--format is text or json");
	pc.id = args->argv[0];
	client_open(&c, ctx);
	req.body_case = CUSTODY__ENVELOPE__BODY_PERSON_CASE_REQUEST;
	req.person_case_request = &pc;
	if (client_send(&c, &req, NULL, 0) < 0)
		client_fatal("%s", custody_error());
	recs = rc_recv_list(&c);
	client_close(&c);
	if (json_array_size(recs) == 0 ||
	    strcmp(pc_str(json_array_get(recs, 0), "kind") ?: "", "person") != 0)
		client_fatal("custodyd sent no person for %s", args->argv[0]);
	cs = pc_build(recs);
	json_decref(recs);
	if (fmt == ROUT_JSON) {
		rout_json(cs);
		return client_finish_stdout();
	}
	pc_text(cs);
	json_decref(cs);
	return client_finish_stdout();
}
