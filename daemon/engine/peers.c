/* The pinned peers: an in-memory registry kept in step with custody.conf's [peer NAME] sections. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/onion.h"
#include "log.h"
#include "peers.h"

static pthread_mutex_t peers_lock = PTHREAD_MUTEX_INITIALIZER;
static struct peers_entry *peers_v;
static size_t peers_n;

/* Load the peers custody.conf pins (those with a key). */
int
peers_init(struct archive *a)
{
	const struct conf *c = &a->conf;
	struct peers_entry *e;
	size_t i;

	pthread_mutex_lock(&peers_lock);
	free(peers_v);
	peers_v = calloc(c->npeers + 1, sizeof *peers_v);
	peers_n = 0;
	for (i = 0; peers_v != NULL && i < c->npeers; i++) {
		if (!c->peers[i].has_key) {
			log_warn("peer %zu of custody.conf has no key: ignored", i + 1);
			continue;
		}
		e = &peers_v[peers_n++];
		snprintf(e->name, sizeof e->name, "%s", c->peers[i].name);
		snprintf(e->address, sizeof e->address, "%s", c->peers[i].address ?
		    c->peers[i].address : "");
		memcpy(e->pk, c->peers[i].pk, ED25519_PK_LEN);
		e->rate = c->peers[i].has_rate ? c->peers[i].rate : c->sync_rate;
		snprintf(e->proxy, sizeof e->proxy, "%s", c->peers[i].proxy != NULL ?
		    c->peers[i].proxy : c->sync_proxy != NULL ? c->sync_proxy : "");
	}
	pthread_mutex_unlock(&peers_lock);
	return peers_v == NULL ? CUSTODY_ENOMEM : 0;
}

void
peers_shutdown(void)
{
	pthread_mutex_lock(&peers_lock);
	free(peers_v);
	peers_v = NULL;
	peers_n = 0;
	pthread_mutex_unlock(&peers_lock);
}

/* Split HOST:PORT ([v6]:PORT too); hosts are names or addresses, ports 1-65535. */
int
peers_split_address(char *host, size_t hostlen, char *port, size_t portlen, const char *address)
{
	const char *colon, *h = address, *p;
	size_t n;
	unsigned long v;
	char *end;

	if ((colon = strrchr(address, ':')) == NULL)
		return custody_fail(CUSTODY_EINVAL, "address %.64s is not HOST:PORT", address);
	n = (size_t)(colon - address);
	if (address[0] == '[') {
		if (n < 2 || address[n - 1] != ']')
			return custody_fail(CUSTODY_EINVAL, "address %.64s is not [V6]:PORT",
			    address);
		h = address + 1;
		n -= 2;
	}
	if (n == 0 || n >= hostlen)
		return custody_fail(CUSTODY_EINVAL, "address %.64s has no usable host", address);
	for (p = h; p < h + n; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != ':')
			return custody_fail(CUSTODY_EINVAL, "address %.64s: bad host", address);
	if (onion_is(h, n) && onion_check(h, n) < 0)	/* a typo would go to the proxy */
		return CUSTODY_EINVAL;	/* custody_error says why */
	errno = 0;
	v = strtoul(colon + 1, &end, 10);
	if (!isdigit((unsigned char)colon[1]) || *end != '\0' || errno != 0 || v == 0 ||
	    v > 65535 || strlen(colon + 1) >= portlen)
		return custody_fail(CUSTODY_EINVAL, "address %.64s: bad port", address);
	memcpy(host, h, n);
	host[n] = '\0';
	snprintf(port, portlen, "%lu", v);
	return 0;
}

/* Write custody.conf anew: text, to a temporary file, synced, renamed over the old one. */
static int
peers_write_conf(struct archive *a, const char *text, size_t len)
{
	char *file = archive_file(a, "custody.conf");
	int error;

	if (file == NULL)
		return CUSTODY_ENOMEM;
	error = conf_rewrite_all(file, text, len);
	free(file);
	return error;
}

/*
 * custody.conf's text (into out) with the section [peer name] changed: dropped whole when
 * address is NULL; else its address lines dropped and one written after the header unless
 * address is "", every other line kept.
 */
static int
peers_conf_rewrite(struct archive *a, struct cbuf *out, const char *name, const char *address)
{
	char *file = archive_file(a, "custody.conf"), *line = NULL, header[OFFICE_NAME_MAX + 8];
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int in = 0, error = 0;
	const char *t;

	if (file == NULL)
		return CUSTODY_ENOMEM;
	snprintf(header, sizeof header, "[peer %s]", name);
	if ((f = fopen(file, "re")) == NULL) {
		free(file);
		return custody_fail(CUSTODY_EIO, "cannot read custody.conf: %s", strerror(errno));
	}
	while (error == 0 && (n = getline(&line, &cap, f)) >= 0) {
		for (t = line; *t == ' ' || *t == '\t'; t++)
			;
		if (*t == '[')
			in = strncmp(t, header, strlen(header)) == 0 &&
			    strspn(t + strlen(header), " \t\r\n") == strlen(t + strlen(header));
		else if (in && address != NULL && strncmp(t, "address", 7) == 0 &&
		    strspn(t + 7, " \t=") > 0)
			continue;
		if (in && address == NULL)
			continue;
		if ((error = cbuf_put(out, line, (size_t)n)) == 0 && *t == '[' && in &&
		    address[0] != '\0')
			error = cbuf_printf(out, "%saddress = %s\n", line[n - 1] == '\n' ? "" :
			    "\n", address);
	}
	if (ferror(f))
		error = custody_fail(CUSTODY_EIO, "cannot read custody.conf");
	fclose(f);
	free(line);
	free(file);
	return error;
}

/* Set the address of peer i (lock held): custody.conf first, then the registry. */
static int
peers_set_locked(struct archive *a, size_t i, const char *address)
{
	struct cbuf text = { 0 };
	char lk[LOG_KEY_LEN];
	int error;

	if ((error = peers_conf_rewrite(a, &text, peers_v[i].name, address)) == 0 &&
	    (error = peers_write_conf(a, (char *)text.data, text.len)) == 0) {
		snprintf(peers_v[i].address, sizeof peers_v[i].address, "%s", address);
		log_info("peer %s now at %s", log_key(lk, peers_v[i].pk), address[0] != '\0' ?
		    address : "no address (it dials us)");
	}
	cbuf_free(&text);
	return error;
}

/* Check a peer address: HOST:PORT, or "" when allow_none (a peer that only dials us). */
static int
peers_check_address(const char *address, int allow_none)
{
	char host[256], port[8];

	if (address[0] == '\0' && allow_none)
		return 0;
	if (strlen(address) >= sizeof ((struct peers_entry *)0)->address)
		return custody_fail(CUSTODY_EINVAL, "address %.64s... is too long", address);
	return peers_split_address(host, sizeof host, port, sizeof port, address);
}

/*
 * Pin a peer: custody.conf first, then the registry. A peer already pinned under that name with
 * that key gets the new address; under another key it is refused (unpin it first).
 */
int
peers_add(struct archive *a, const char *name, const char *address,
    const uint8_t pk[static ED25519_PK_LEN])
{
	struct peers_entry *grown;
	struct cbuf text = { 0 };
	char *line = NULL, lk[LOG_KEY_LEN];
	size_t i;
	int error;

	if (archive_check_name(name) < 0)
		return custody_fail(CUSTODY_EINVAL, "%.64s is not a valid peer name", name);
	if ((error = peers_check_address(address, 1)) < 0)
		return error;
	if (sodium_memcmp(pk, a->office_pk, ED25519_PK_LEN) == 0)
		return custody_fail(CUSTODY_EINVAL, "that is this office's own key");
	pthread_mutex_lock(&peers_lock);
	for (i = 0; i < peers_n; i++) {
		if (strcmp(peers_v[i].name, name) == 0) {
			if (sodium_memcmp(peers_v[i].pk, pk, ED25519_PK_LEN) == 0)
				error = peers_set_locked(a, i, address);
			else
				error = custody_fail(CUSTODY_EEXIST, "peer %s is already pinned "
				    "with another key: a pinned key does not change; unpin it "
				    "first (custody peer remove %s)", name, name);
			goto done;
		}
		if (memcmp(peers_v[i].pk, pk, ED25519_PK_LEN) == 0) {
			error = custody_fail(CUSTODY_EEXIST, "that key is already pinned as %s",
			    peers_v[i].name);
			goto done;
		}
	}
	if ((error = sshkey_format_pub(&line, pk, name)) < 0 ||
	    (error = peers_conf_rewrite(a, &text, name, NULL)) < 0)
		goto done;
	if (text.len > 0 && text.data[text.len - 1] != '\n' && (error = cbuf_puts(&text,
	    "\n")) < 0)
		goto done;
	if ((error = cbuf_printf(&text, "\n[peer %s]\n", name)) < 0 || (address[0] != '\0' &&
	    (error = cbuf_printf(&text, "address = %s\n", address)) < 0) ||
	    (error = cbuf_printf(&text, "key = %s\n", line)) < 0 ||
	    (error = peers_write_conf(a, (char *)text.data, text.len)) < 0)
		goto done;
	if ((grown = realloc(peers_v, (peers_n + 1) * sizeof *grown)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	peers_v = grown;
	memset(&peers_v[peers_n], 0, sizeof *peers_v);
	snprintf(peers_v[peers_n].name, sizeof peers_v->name, "%s", name);
	snprintf(peers_v[peers_n].address, sizeof peers_v->address, "%s", address);
	memcpy(peers_v[peers_n].pk, pk, ED25519_PK_LEN);
	peers_v[peers_n].rate = a->conf.sync_rate;
	snprintf(peers_v[peers_n].proxy, sizeof peers_v->proxy, "%s", a->conf.sync_proxy != NULL ?
	    a->conf.sync_proxy : "");
	peers_n++;
	log_info("peer %s pinned %s%s", log_key(lk, pk), address[0] != '\0' ? "at " : "with no "
	    "address (it dials us)", address);
done:
	pthread_mutex_unlock(&peers_lock);
	cbuf_free(&text);
	free(line);
	return error;
}

/* Change the address of the peer called name; CUSTODY_ENOTFOUND when there is none. */
int
peers_set_address(struct archive *a, const char *name, const char *address)
{
	size_t i;
	int error;

	if ((error = peers_check_address(address, 0)) < 0)
		return error;
	pthread_mutex_lock(&peers_lock);
	for (i = 0; i < peers_n && strcmp(peers_v[i].name, name) != 0; i++)
		;
	if (i == peers_n)
		error = custody_fail(CUSTODY_ENOTFOUND, "no peer called %.64s (custody peer add "
		    "NAME HOST:PORT KEY pins one)", name);
	else
		error = peers_set_locked(a, i, address);
	pthread_mutex_unlock(&peers_lock);
	return error;
}

/* Unpin a peer: custody.conf first, then the registry. */
int
peers_remove(struct archive *a, const char *name)
{
	struct cbuf text = { 0 };
	char lk[LOG_KEY_LEN];
	size_t i;
	int error;

	pthread_mutex_lock(&peers_lock);
	for (i = 0; i < peers_n && strcmp(peers_v[i].name, name) != 0; i++)
		;
	if (i == peers_n) {
		error = custody_fail(CUSTODY_ENOTFOUND, "no peer called %.64s", name);
		goto done;
	}
	if ((error = peers_conf_rewrite(a, &text, name, NULL)) < 0 ||
	    (error = peers_write_conf(a, (char *)text.data, text.len)) < 0)
		goto done;
	log_key(lk, peers_v[i].pk);
	memmove(&peers_v[i], &peers_v[i + 1], (peers_n - i - 1) * sizeof *peers_v);
	peers_n--;
	log_info("peer %s removed", lk);
done:
	pthread_mutex_unlock(&peers_lock);
	cbuf_free(&text);
	return error;
}

/* Look a peer up by its pinned key. */
int
peers_find_key(struct peers_entry *out, const uint8_t pk[static ED25519_PK_LEN])
{
	int error = CUSTODY_ENOTFOUND;
	size_t i;

	pthread_mutex_lock(&peers_lock);
	for (i = 0; i < peers_n && error < 0; i++)
		if (sodium_memcmp(peers_v[i].pk, pk, ED25519_PK_LEN) == 0) {
			*out = peers_v[i];
			error = 0;
		}
	pthread_mutex_unlock(&peers_lock);
	return error;
}

/* Look a peer up by name. */
int
peers_find_name(struct peers_entry *out, const char *name)
{
	int error = CUSTODY_ENOTFOUND;
	size_t i;

	pthread_mutex_lock(&peers_lock);
	for (i = 0; i < peers_n && error < 0; i++)
		if (strcmp(peers_v[i].name, name) == 0) {
			*out = peers_v[i];
			error = 0;
		}
	pthread_mutex_unlock(&peers_lock);
	return error;
}

/* Copy the registry. */
int
peers_list(struct peers_entry **out, size_t *n)
{
	pthread_mutex_lock(&peers_lock);
	*n = peers_n;
	if ((*out = calloc(peers_n + 1, sizeof **out)) != NULL)
		memcpy(*out, peers_v, peers_n * sizeof **out);
	pthread_mutex_unlock(&peers_lock);
	return *out == NULL ? CUSTODY_ENOMEM : 0;
}

/* Note the outcome of an attempt. */
void
peers_record(const char *name, const char *error)
{
	size_t i;

	pthread_mutex_lock(&peers_lock);
	for (i = 0; i < peers_n; i++) {
		if (strcmp(peers_v[i].name, name) != 0)
			continue;
		peers_v[i].last_attempt = time(NULL);
		if (error == NULL) {
			peers_v[i].last_success = peers_v[i].last_attempt;
			peers_v[i].last_error[0] = '\0';
		} else
			snprintf(peers_v[i].last_error, sizeof peers_v[i].last_error, "%s",
			    error);
	}
	pthread_mutex_unlock(&peers_lock);
}

/* Note how far behind a peer's feeds were. */
void
peers_record_behind(const uint8_t pk[static ED25519_PK_LEN], int64_t behind)
{
	size_t i;

	pthread_mutex_lock(&peers_lock);
	for (i = 0; i < peers_n; i++)
		if (sodium_memcmp(peers_v[i].pk, pk, ED25519_PK_LEN) == 0)
			peers_v[i].behind = behind;
	pthread_mutex_unlock(&peers_lock);
}
