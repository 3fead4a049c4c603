/*
 * custody.conf's [blobs] section: which blob store, and for RADOS the pool, the Ceph
 * configuration file, the cephx client name and the time an operation may take.
 *
 *   [blobs]
 *   store = rados            ; or local (the default)
 *   pool = custody
 *   ceph_conf = /etc/ceph/ceph.conf
 *   client = client.custody
 *   timeout = 10             ; seconds, 1..3600
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/common.h"
#include "blobstore.h"

#define BLOBSTORE_TIMEOUT 10

void
blobstore_conf_init(struct blobstore_conf *c)
{
	memset(c, 0, sizeof *c);
	c->kind = BLOBSTORE_LOCAL;
	c->pool = strdup("custody");
	c->ceph_conf = strdup("/etc/ceph/ceph.conf");
	c->client = strdup("client.custody");
	c->timeout = BLOBSTORE_TIMEOUT;
}

void
blobstore_conf_free(struct blobstore_conf *c)
{
	if (c == NULL)
		return;
	free(c->pool);
	free(c->ceph_conf);
	free(c->client);
	c->pool = c->ceph_conf = c->client = NULL;
}

/* Say what is wrong with a setting; -1 for the caller's return. */
static int
blobstore_conf_bad(char **bad, const char *name, const char *value, const char *why)
{
	if (asprintf(bad, "[blobs] %s = %s: %s", name, value, why) < 0)
		*bad = NULL;
	return -1;
}

/* A string setting: printable, no spaces, of a sane length. */
static int
blobstore_conf_string(char **field, char **bad, const char *name, const char *value)
{
	const char *s;
	char *v;

	if (*value == '\0' || strlen(value) > 1024)
		return blobstore_conf_bad(bad, name, value, "empty or too long");
	for (s = value; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s == 0x7f)
			return blobstore_conf_bad(bad, name, value, "has a space or control "
			    "character");
	if ((v = strdup(value)) == NULL)
		return blobstore_conf_bad(bad, name, value, "out of memory");
	free(*field);
	*field = v;
	return 1;
}

int
blobstore_conf_set(struct blobstore_conf *c, const char *section, const char *name,
    const char *value, char **bad)
{
	unsigned long v;
	char *end;

	*bad = NULL;
	if (strcmp(section, "blobs") != 0)
		return 0;
	if (strcmp(name, "store") == 0) {
		if (strcmp(value, "local") == 0)
			c->kind = BLOBSTORE_LOCAL;
		else if (strcmp(value, "rados") == 0)
			c->kind = BLOBSTORE_RADOS;
		else
			return blobstore_conf_bad(bad, name, value, "not local or rados");
		return 1;
	}
	if (strcmp(name, "pool") == 0)
		return blobstore_conf_string(&c->pool, bad, name, value);
	if (strcmp(name, "ceph_conf") == 0) {
		if (value[0] != '/')
			return blobstore_conf_bad(bad, name, value, "not an absolute path");
		return blobstore_conf_string(&c->ceph_conf, bad, name, value);
	}
	if (strcmp(name, "client") == 0) {
		if (strncmp(value, "client.", 7) != 0 || value[7] == '\0')
			return blobstore_conf_bad(bad, name, value, "not a cephx client name "
			    "(client.NAME)");
		return blobstore_conf_string(&c->client, bad, name, value);
	}
	if (strcmp(name, "timeout") == 0) {
		if (value[0] < '0' || value[0] > '9' || (v = strtoul(value, &end, 10)) < 1 ||
		    v > 3600 || *end != '\0')
			return blobstore_conf_bad(bad, name, value, "not seconds from 1 to 3600");
		c->timeout = (unsigned)v;
		return 1;
	}
	return 0;
}

int
blobstore_conf_check(const struct blobstore_conf *c, char **bad)
{
	*bad = NULL;
	if (c->pool == NULL || c->ceph_conf == NULL || c->client == NULL) {
		*bad = strdup("[blobs]: out of memory");
		return -1;
	}
	if (c->kind == BLOBSTORE_RADOS && blobstore_ops_for(BLOBSTORE_RADOS) == NULL) {
		*bad = strdup("[blobs] store = rados: this custodyd was built without librados "
		    "(librados-dev)");
		return -1;
	}
	return 0;
}

const struct blobstore_ops *
blobstore_ops_for(enum blobstore_kind kind)
{
	switch (kind) {
	case BLOBSTORE_LOCAL:
		return &blobstore_local_ops;
#ifdef CUSTODY_RADOS
	case BLOBSTORE_RADOS:
		return &blobstore_rados_ops;
#endif
	default:
		return NULL;
	}
}
