/* custody.conf: office name, socket, local roles (INI, parsed by libinih). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "archive.h"
#include "custody/persons.h"
#include "custody/socks5.h"

static const char *role_names[] = { "none", "viewer", "analyst", "documenter", "admin" };

/* The name of a role. */
const char *
role_name(enum role r)
{
	return role_names[r];
}

struct conf_parse {
	struct conf	*conf;
	char		 bad[256];
};

static int
conf_set(char **field, const char *value)
{
	free(*field);
	return (*field = strdup(value)) != NULL;
}

/*
 * A bandwidth in bytes per second: digits with an optional k, m or g (times 1024, 1024^2,
 * 1024^3); 0 is no limit.
 */
static int
conf_rate(struct conf_parse *p, const char *what, const char *value, uint64_t *out)
{
	const char *s = value;
	uint64_t v = 0, mul = 1;

	if (!isdigit((unsigned char)*s))
		goto bad;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (UINT64_C(1) << 40))
			goto bad;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	switch (tolower((unsigned char)*s)) {
	case 'k': mul = 1024; s++; break;
	case 'm': mul = 1024 * 1024; s++; break;
	case 'g': mul = 1024 * 1024 * 1024; s++; break;
	}
	if (*s != '\0' || v > (UINT64_C(1) << 40) / mul)
		goto bad;
	*out = v * mul;
	return 1;
bad:
	snprintf(p->bad, sizeof p->bad, "%s = %.32s: not a rate (bytes per second, like 256k, 2m "
	    "or 1g; 0 for no limit)", what, value);
	return 0;
}

/* A SOCKS5 proxy URL (proto/socks5.c) or none, kept as "" (no proxy). */
static int
conf_proxy(struct conf_parse *p, const char *what, const char *value, char **field)
{
	struct socks5_proxy px;

	if (strcmp(value, "none") == 0 || value[0] == '\0')
		return conf_set(field, "");
	if (socks5_url_parse(&px, value) == 0)
		return conf_set(field, value);
	snprintf(p->bad, sizeof p->bad, "%s = %.64s: %s", what, value, custody_error());
	return 0;
}

/* A setting of a [peer NAME] section; settings this version does not know are left alone. */
static int
conf_peer(struct conf_parse *p, const char *pname, const char *name, const char *value)
{
	struct conf *c = p->conf;
	struct conf_peer *cp = NULL, *grown;
	size_t i;

	for (i = 0; i < c->npeers; i++)
		if (strcmp(c->peers[i].name, pname) == 0)
			cp = &c->peers[i];
	if (cp == NULL) {
		if (archive_check_name(pname) < 0) {
			snprintf(p->bad, sizeof p->bad, "[peer %.64s]: not a valid office name", pname);
			return 0;
		}
		if ((grown = realloc(c->peers, (c->npeers + 1) * sizeof *grown)) == NULL)
			return 0;
		c->peers = grown;
		cp = &c->peers[c->npeers];
		memset(cp, 0, sizeof *cp);
		if ((cp->name = strdup(pname)) == NULL)
			return 0;
		c->npeers++;
	}
	if (strcmp(name, "address") == 0)
		return conf_set(&cp->address, value);
	if (strcmp(name, "key") == 0) {
		if (sshkey_parse_pub(cp->pk, NULL, value) < 0) {
			snprintf(p->bad, sizeof p->bad, "[peer %.64s] key: not an ssh-ed25519 key",
			    pname);
			return 0;
		}
		cp->has_key = 1;
	}
	if (strcmp(name, "rate") == 0) {
		char what[96];

		snprintf(what, sizeof what, "[peer %.64s] rate", pname);
		cp->has_rate = 1;
		return conf_rate(p, what, value, &cp->rate);
	}
	if (strcmp(name, "proxy") == 0) {
		char what[96];

		snprintf(what, sizeof what, "[peer %.64s] proxy", pname);
		return conf_proxy(p, what, value, &cp->proxy);
	}
	return 1;
}

/* [roles] protected: the roles (comma-separated names; empty for none) shown protected fields. */
static int
conf_protected(struct conf_parse *p, const char *value)
{
	char *copy, *tok, *save;
	unsigned roles = 0;
	int r, ok = 1;

	if ((copy = strdup(value)) == NULL)
		return 0;
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL && ok;
	    tok = strtok_r(NULL, ", \t", &save)) {
		for (r = ROLE_VIEWER; r <= ROLE_ADMIN; r++)
			if (strcmp(tok, role_names[r]) == 0)
				break;
		if (r > ROLE_ADMIN) {
			snprintf(p->bad, sizeof p->bad, "[roles] protected: '%.64s' is not a role "
			    "(viewer, analyst, documenter or admin)", tok);
			ok = 0;
		} else
			roles |= 1u << r;
	}
	free(copy);
	if (ok)
		p->conf->protected_roles = roles;
	return ok;
}

/* A setting of [blobs] (blobstore-conf.c). */
static int
conf_blobs(struct conf_parse *p, const char *section, const char *name, const char *value)
{
	char *bad = NULL;
	int r = blobstore_conf_set(&p->conf->blobs, section, name, value, &bad);

	if (r > 0)
		return 1;
	if (r == 0)
		snprintf(p->bad, sizeof p->bad, "unknown setting [blobs] %s", name);
	else
		snprintf(p->bad, sizeof p->bad, "%s", bad != NULL ? bad : "[blobs]: out of memory");
	free(bad);
	return 0;
}

static int
conf_handler(void *arg, const char *section, const char *name, const char *value)
{
	struct conf_parse *p = arg;
	struct conf *c = p->conf;
	int r;

	if (strcmp(section, "office") == 0 && strcmp(name, "name") == 0)
		return conf_set(&c->office, value);
	if (strcmp(section, "daemon") == 0 && strcmp(name, "socket") == 0)
		return conf_set(&c->socket, value);
	if (strcmp(section, "roles") == 0 && strcmp(name, "protected") == 0)
		return conf_protected(p, value);
	if (strcmp(section, "roles") == 0) {
		for (r = ROLE_VIEWER; r <= ROLE_ADMIN; r++)
			if (strcmp(name, role_names[r]) == 0)
				return conf_set(&c->roles[r], value);
	}
	if (strcmp(section, "vocabulary") == 0) {
		static const char *lists[] = { "party", "governorate", "cause" };

		for (r = 0; r < 3; r++)
			if (strcmp(name, lists[r]) == 0)
				return conf_set(&c->vocab[r], value);
	}
	if (strcmp(section, "report") == 0 && strcmp(name, "massacre_threshold") == 0) {
		c->massacre_threshold = atoi(value);
		if (c->massacre_threshold >= 1 && c->massacre_threshold <= 100000)
			return 1;
		snprintf(p->bad, sizeof p->bad, "[report] massacre_threshold must be 1-100000");
		return 0;
	}
	if (strcmp(section, "persons") == 0 && strcmp(name, "disappeared_after_days") == 0) {
		c->disappeared_after_days = atoi(value);
		if (c->disappeared_after_days >= 1 && c->disappeared_after_days <= 36500 &&
		    strspn(value, "0123456789") == strlen(value))
			return 1;
		snprintf(p->bad, sizeof p->bad,
		    "[persons] disappeared_after_days must be 1-36500 days");
		return 0;
	}
	if (strcmp(section, "daemon") == 0 && strcmp(name, "listen") == 0)
		return conf_set(&c->listen, value);
	if (strcmp(section, "daemon") == 0 && strcmp(name, "idle_timeout") == 0) {
		c->idle_timeout = atoi(value);
		if (c->idle_timeout >= 1 && c->idle_timeout <= 86400)
			return 1;
		snprintf(p->bad, sizeof p->bad, "[daemon] idle_timeout must be 1-86400 seconds");
		return 0;
	}
	if (strncmp(section, "peer ", 5) == 0)
		return conf_peer(p, section + 5, name, value);
	if (strcmp(section, "index") == 0 && strcmp(name, "store") == 0) {
		if (strcmp(value, "file") == 0 || strcmp(value, "memory") == 0) {
			c->index_memory = strcmp(value, "memory") == 0;
			return 1;
		}
		snprintf(p->bad, sizeof p->bad, "[index] store must be file or memory");
		return 0;
	}
	if (strcmp(section, "sync") == 0 && strcmp(name, "interval") == 0) {
		c->sync_interval = atoi(value);
		if (c->sync_interval >= 0 && c->sync_interval <= 86400)
			return 1;
		snprintf(p->bad, sizeof p->bad, "[sync] interval must be 0-86400 seconds");
		return 0;
	}
	if (strcmp(section, "sync") == 0 && strcmp(name, "rate") == 0)
		return conf_rate(p, "[sync] rate", value, &c->sync_rate);
	if (strcmp(section, "sync") == 0 && strcmp(name, "proxy") == 0)
		return conf_proxy(p, "[sync] proxy", value, &c->sync_proxy);
	if (strcmp(section, "trust") == 0 && strcmp(name, "revoke_quorum") == 0) {
		c->revoke_quorum = atoi(value);
		if (c->revoke_quorum >= 1 && c->revoke_quorum <= 1000)
			return 1;
		snprintf(p->bad, sizeof p->bad, "[trust] revoke_quorum must be 1-1000 offices");
		return 0;
	}
	if (strcmp(section, "blobs") == 0)
		return conf_blobs(p, section, name, value);
	if (strcmp(section, "daemon") == 0 || strcmp(section, "sync") == 0 ||
	    strncmp(section, "peer", 4) == 0)
		return 1;	/* read by later parts */
	snprintf(p->bad, sizeof p->bad, "unknown setting [%s] %s", section, name);
	return 0;
}

/* Read custody.conf. */
int
conf_load(struct conf *c, const char *file, char **cause)
{
	struct conf_parse p = { .conf = c };
	char *bad = NULL;
	int line;

	memset(c, 0, sizeof *c);
	blobstore_conf_init(&c->blobs);
	c->sync_interval = -1;
	c->protected_roles = 1u << ROLE_DOCUMENTER | 1u << ROLE_ADMIN;
	line = ini_parse(file, conf_handler, &p);
	if (line < 0) {
		custody_cause(cause, "cannot read %s: %s", file, strerror(errno));
		return CUSTODY_EIO;
	}
	if (line > 0) {
		custody_cause(cause, "%s:%d: %s", file, line, p.bad[0] ? p.bad : "syntax error");
		return CUSTODY_EINVAL;
	}
	if (c->office == NULL || archive_check_name(c->office) < 0) {
		custody_cause(cause, "%s: [office] name is missing or not a valid office name", file);
		return CUSTODY_EINVAL;
	}
	if (blobstore_conf_check(&c->blobs, &bad) < 0) {
		custody_cause(cause, "%s: %s", file, bad != NULL ? bad : "[blobs]: out of memory");
		free(bad);
		return CUSTODY_EINVAL;
	}
	if (c->socket == NULL && (c->socket = strdup("custodyd.sock")) == NULL)
		return CUSTODY_ENOMEM;
	if (c->massacre_threshold == 0)
		c->massacre_threshold = 5;
	if (c->disappeared_after_days == 0)
		c->disappeared_after_days = PERSON_DISAPPEARED_AFTER_DAYS;
	if (c->sync_interval < 0)
		c->sync_interval = 300;
	if (c->idle_timeout == 0)
		c->idle_timeout = 600;
	return 0;
}

/* Write a fresh custody.conf (refusing to replace one). */
int
conf_write_default(const char *file, const char *office, const char *admin_user)
{
	FILE *f;
	int fd;

	if ((fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640)) < 0)
		return CUSTODY_EIO;
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return CUSTODY_EIO;
	}
	fprintf(f,
	    "# custody archive configuration\n"
	    "[office]\n"
	    "name = %s\n"
	    "\n"
	    "[daemon]\n"
	    "# the local socket, relative to the archive directory\n"
	    "socket = custodyd.sock\n"
	    "# seconds a client may stay connected without a request\n"
	    "idle_timeout = 600\n"
	    "\n"
	    "# Local users and their roles: comma-separated user names or uids.\n"
	    "# The user running custodyd, and root, are always admin.\n"
	    "[roles]\n"
	    "admin = %s\n"
	    "documenter =\n"
	    "analyst =\n"
	    "viewer =\n"
	    "# The roles shown protected fields (a source's name, contact and notes, a\n"
	    "# victim's notes, a person's reporter, notes and ante-mortem data, a site's\n"
	    "# coordinates); every other role sees \"withheld\" in their place.\n"
	    "protected = documenter, admin\n"
	    "\n"
	    "# Vocabularies (comma-separated); unset means the defaults.\n"
	    "[vocabulary]\n"
	    "# party = syrian_regime, russia, sdf, sna, hts, isis, coalition, other\n"
	    "# governorate = damascus, rif_dimashq, aleppo, idlib, hama, homs, latakia, tartus,"
	    " daraa, suwayda, quneitra, deir_ez_zor, raqqa, hasakah\n"
	    "# cause = shooting, shelling, airstrike, explosion, landmine, torture, execution,"
	    " siege, drowning, other, unknown\n"
	    "\n"
	    "[report]\n"
	    "massacre_threshold = 5\n"
	    "\n"
	    "# A detention without news for more than this many days counts as a\n"
	    "# disappearance (the status of persons and the detention report).\n"
	    "[persons]\n"
	    "disappeared_after_days = 90\n"
	    "\n"
	    "# Pull from every peer this often (seconds; 0: only on custody sync).\n"
	    "[sync]\n"
	    "interval = 300\n", office, admin_user);
	if (fflush(f) != 0 || fsync(fd) != 0) {
		fclose(f);
		return CUSTODY_EIO;
	}
	return fclose(f) == 0 ? 0 : CUSTODY_EIO;
}

/* Free the parsed values. */
void
conf_free(struct conf *c)
{
	int r;

	free(c->office);
	free(c->socket);
	for (r = 0; r <= ROLE_ADMIN; r++)
		free(c->roles[r]);
	for (r = 0; r < 3; r++)
		free(c->vocab[r]);
	free(c->listen);
	for (size_t i = 0; i < c->npeers; i++) {
		free(c->peers[i].name);
		free(c->peers[i].address);
		free(c->peers[i].proxy);
	}
	free(c->peers);
	free(c->sync_proxy);
	blobstore_conf_free(&c->blobs);
	memset(c, 0, sizeof *c);
}

/* Whether uid is named in a comma-separated list of user names and uids. */
static int
conf_list_has(const char *list, uid_t uid)
{
	char *copy, *tok, *save, *end;
	struct passwd *pw;
	unsigned long n;
	int found = 0;

	if (list == NULL || (copy = strdup(list)) == NULL)
		return 0;
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL && !found;
	    tok = strtok_r(NULL, ", \t", &save)) {
		if (isdigit((unsigned char)*tok)) {
			errno = 0;
			n = strtoul(tok, &end, 10);
			found = *end == '\0' && errno == 0 && n == uid;
		} else if ((pw = getpwnam(tok)) != NULL)
			found = pw->pw_uid == uid;
	}
	free(copy);
	return found;
}

/* The role of a local caller: the highest role that names it. */
enum role
conf_role(const struct conf *c, uid_t uid, uid_t daemon_uid)
{
	int r;

	if (uid == 0 || uid == daemon_uid)
		return ROLE_ADMIN;
	for (r = ROLE_ADMIN; r >= ROLE_VIEWER; r--)
		if (conf_list_has(c->roles[r], uid))
			return (enum role)r;
	return ROLE_NONE;
}

/* Whether custody.conf shows protected fields to a role ([roles] protected). */
int
conf_reads_protected(const struct conf *c, enum role role)
{
	return role > ROLE_NONE && role <= ROLE_ADMIN && (c->protected_roles & 1u << role) != 0;
}
