/*
 * custody sites: the sites as a table, CSV, or an RFC 7946 GeoJSON FeatureCollection (for a GIS:
 * the geometry when given, else a Point at lon/lat), each with how many pieces of evidence are
 * linked to it and how many persons have events naming it, which custodyd counts over its
 * index (SiteCountsRequest). Coordinates a role may not see are "withheld" by the daemon: such
 * a site is a Feature with a null geometry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "records-cmd.h"
#include "records-out.h"

#define SITES_OPT_TYPE 't'
#define SITES_OPT_STATUS 's'

static int cmd_sites_exec(const struct cmd_ctx *, const struct cmd_args *);

static const struct option cmd_sites_options[] = {
	{ "format", required_argument, NULL, RC_OPT_FORMAT },
	{ "type", required_argument, NULL, SITES_OPT_TYPE },
	{ "status", required_argument, NULL, SITES_OPT_STATUS },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_sites_entry = {
	.name = "sites",
	.usage = "[--format table|csv|geojson] [--type T] [--status S]",
	.help = "Print the sites (of a type, in a status) as a table, CSV or a GeoJSON\n"
	    "FeatureCollection, with the counts of their linked evidence and of the persons\n"
	    "whose events name them.",
	.options = cmd_sites_options,
	.lower = 0,
	.upper = 0,
	.exec = cmd_sites_exec,
};

/* Every current record of kind, on the open connection. */
static json_t *
sites_list(struct client *c, const char *kind)
{
	Envelope req = CUSTODY__ENVELOPE__INIT;
	Custody__ListRequest lr = CUSTODY__LIST_REQUEST__INIT;

	lr.kind = (char *)kind;
	req.body_case = CUSTODY__ENVELOPE__BODY_LIST_REQUEST;
	req.list_request = &lr;
	if (client_send(c, &req, NULL, 0) < 0)
		client_fatal("%s", custody_error());
	return rc_recv_list(c);
}

/* Check --type and --status as a site's fields would be; exits on a bad one. */
static void
sites_check_filters(const struct cmd_args *args, const char *type, const char *status)
{
	const char *names[] = { "type", "status" };
	const char *values[] = { *type ? type : "other", status };
	struct record_problems probs = { 0 };
	json_t *rec;

	if (record_from_fields(&rec, &probs, NULL, "site", names, values, 2) == 0) {
		json_decref(rec);
		return;
	}
	cmd_usage_error(args->entry, "--%s: %s", probs.v[0].column, probs.v[0].problem);
}

/* Set "evidence" and "persons" of each site kept, as custodyd counts them. */
static void
sites_counts(struct client *c, json_t *kept)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__SiteCountsRequest sr = CUSTODY__SITE_COUNTS_REQUEST__INIT;
	Custody__SiteCountsReply *cr;
	json_t *s;
	size_t i, n = json_array_size(kept);

	if (n == 0)
		return;
	if ((sr.site = calloc(n, sizeof *sr.site)) == NULL)
		client_fatal("out of memory");
	json_array_foreach(kept, i, s)
		sr.site[i] = (char *)json_string_value(json_object_get(s, "id"));
	sr.n_site = n;
	req.body_case = CUSTODY__ENVELOPE__BODY_SITE_COUNTS_REQUEST;
	req.site_counts_request = &sr;
	reply = client_call(c, &req, NULL, 0, CUSTODY__ENVELOPE__BODY_SITE_COUNTS_REPLY);
	cr = reply->site_counts_reply;
	if (cr->n_evidence != n || cr->n_persons != n)
		client_fatal("custodyd sent %zu and %zu counts for %zu sites", cr->n_evidence,
		    cr->n_persons, n);
	json_array_foreach(kept, i, s) {
		json_object_set_new(s, "evidence", json_integer((json_int_t)cr->evidence[i]));
		json_object_set_new(s, "persons", json_integer((json_int_t)cr->persons[i]));
	}
	wire_free(reply);
	free(sr.site);
}

/* A number from a coordinate string, or NULL when it is not one (withheld). */
static json_t *
sites_degrees(const json_t *v)
{
	const char *s = json_string_value(v);
	char *end;
	double d;

	if (s == NULL || *s == '\0')
		return NULL;
	d = strtod(s, &end);
	return *end == '\0' ? json_real(d) : NULL;
}

/* The geometry of a site: its polygon, else a Point at lon/lat, else null. */
static json_t *
sites_geometry(const json_t *site)
{
	const char *g = json_string_value(json_object_get(site, "geometry"));
	json_t *lon, *lat, *geo;
	json_error_t jerr;

	if (g != NULL && (geo = json_loads(g, 0, &jerr)) != NULL && json_is_object(geo))
		return geo;
	lon = sites_degrees(json_object_get(site, "lon"));
	lat = sites_degrees(json_object_get(site, "lat"));
	if (lon != NULL && lat != NULL)
		return json_pack("{s:s,s:[o,o]}", "type", "Point", "coordinates", lon, lat);
	json_decref(lon);
	json_decref(lat);
	return json_null();
}

/* The FeatureCollection of the sites (their counts already set). */
static void
sites_geojson(const json_t *sites)
{
	static const char *const props[] = { "id", "type", "name", "status", "governorate",
	    "party", "first_reported", "evidence", "persons", NULL };
	const char *const *p;
	json_t *fc, *features, *f, *pr, *v;
	const json_t *s;
	size_t i;
	char *text;

	fc = json_pack("{s:s,s:[]}", "type", "FeatureCollection", "features");
	if (fc == NULL)
		client_fatal("out of memory");
	features = json_object_get(fc, "features");
	json_array_foreach(sites, i, s) {
		pr = json_object();
		for (p = props; *p != NULL; p++)
			json_object_set(pr, *p, (v = json_object_get(s, *p)) != NULL ? v :
			    json_null());
		f = json_pack("{s:s,s:O,s:o,s:o}", "type", "Feature", "id",
		    json_object_get(s, "id"), "geometry", sites_geometry(s), "properties", pr);
		if (f == NULL || json_array_append_new(features, f) < 0)
			client_fatal("out of memory");
	}
	text = json_dumps(fc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
	if (text == NULL)
		client_fatal("out of memory");
	printf("%s\n", text);
	free(text);
	json_decref(fc);
}

/* The sites as CSV: the site's fields, then the two counts. */
static void
sites_csv(const json_t *sites)
{
	const char *const *fields = record_fields("site");
	const json_t *s;
	size_t i, j;
	char *v, *u;

	for (j = 0; fields[j] != NULL; j++)
		rout_csv_field(stdout, fields[j], 0);
	rout_csv_field(stdout, "evidence", 0);
	rout_csv_field(stdout, "persons", 1);
	json_array_foreach(sites, i, s) {
		for (j = 0; fields[j] != NULL; j++) {
			v = rout_cell(s, fields[j]);
			u = client_utf8(v, NULL);
			rout_csv_field(stdout, u, 0);
			free(u);
			free(v);
		}
		v = rout_cell(s, "evidence");
		rout_csv_field(stdout, v, 0);
		free(v);
		v = rout_cell(s, "persons");
		rout_csv_field(stdout, v, 1);
		free(v);
	}
}

/* List, filter, count and print the sites. */
static int
cmd_sites_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	static const char *const cols[] = { "id", "type", "name", "status", "governorate",
	    "party", "first_reported", "evidence", "persons", NULL };
	const char *fmt = cmd_get(args, RC_OPT_FORMAT);
	const char *type = rc_opt(args, SITES_OPT_TYPE, "--type");
	const char *status = rc_opt(args, SITES_OPT_STATUS, "--status");
	json_t *sites, *kept, *s;
	const char *id, *t, *st;
	struct client c;
	size_t i;

	if (fmt == NULL)
		fmt = ctx->json ? "geojson" : "table";
	if (strcmp(fmt, "table") != 0 && strcmp(fmt, "csv") != 0 && strcmp(fmt, "geojson") != 0)
		cmd_usage_error(args->entry, "--format is table, csv or geojson, not '%s'", fmt);
	if (*type != '\0' || *status != '\0')
		sites_check_filters(args, type, status);
	client_open(&c, ctx);
	sites = sites_list(&c, "site");
	kept = json_array();
	json_array_foreach(sites, i, s) {
		id = json_string_value(json_object_get(s, "id"));
		t = json_string_value(json_object_get(s, "type"));
		st = json_string_value(json_object_get(s, "status"));
		if (id == NULL || (*type != '\0' && (t == NULL || strcasecmp(t, type) != 0)) ||
		    (*status != '\0' && (st == NULL || strcasecmp(st, status) != 0)))
			continue;
		json_object_del(s, "rev");
		json_array_append(kept, s);
	}
	sites_counts(&c, kept);
	client_close(&c);
	if (strcmp(fmt, "geojson") == 0)
		sites_geojson(kept);
	else if (strcmp(fmt, "csv") == 0)
		sites_csv(kept);
	else if (json_array_size(kept) == 0)
		fputs("no sites\n", stderr);
	else
		rout_table(kept, cols);
	json_decref(kept);
	json_decref(sites);
	return client_finish_stdout();
}
