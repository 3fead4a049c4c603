/*
 * The blobs of a pull: each blob the incoming records name and this office lacks is fetched
 * into tmp/sync-NAME.part, from where an earlier session left it, with a window of requests in
 * flight, and placed under its name once its hash is checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "log.h"
#include "sync-session.h"
#include "sync-verify.h"

/*
 * Move a received blob into the store once its bytes hash to its name (sum, computed as they
 * arrived). The name is what the owner's signed record holds, so this pins every byte; the
 * plaintext was checked by the office that ingested it, and custody verify checks it again.
 */
int
sync_place_blob(struct archive *a, const struct sync_need *nd, const char *partial,
    const uint8_t sum[static SHA256_LEN])
{
	struct blob_info b = { 0 };
	char hex[SHA256_HEX_LEN + 1];

	hex_encode(hex, sum, SHA256_LEN);
	if (strcmp(hex, nd->name) != 0)
		return custody_fail(CUSTODY_EPROTO, "blob %s: the bytes received hash to %s",
		    nd->name, hex);
	snprintf(b.name, sizeof b.name, "%s", nd->name);
	snprintf(b.tmp, sizeof b.tmp, "%s", strrchr(partial, '/') + 1);
	return blob_commit(a, &b);
}

/* Ask for the bytes of a blob from offset on. */
static int
session_ask_blob(struct session *s, const char *name, uint64_t offset)
{
	Custody__BlobRequest br = CUSTODY__BLOB_REQUEST__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;

	br.name = (char *)name;
	br.offset = offset;
	env.body_case = CUSTODY__ENVELOPE__BODY_BLOB_REQUEST;
	env.blob_request = &br;
	if (session_send(s, &env) < 0)
		return custody_fail(CUSTODY_EIO, "cannot send to %s", s->peer->name);
	return 0;
}

/* Hash the first len bytes of a partial blob (what an earlier session received). */
static int
session_hash_part(int fd, EVP_MD_CTX *sha, uint64_t len)
{
	uint8_t *buf;
	ssize_t r;
	int error = 0;

	if (len == 0)
		return lseek(fd, 0, SEEK_SET) == 0 ? 0 : CUSTODY_EIO;
	if ((buf = malloc(SYNC_BLOB_CHUNK)) == NULL)
		return CUSTODY_ENOMEM;
	if (lseek(fd, 0, SEEK_SET) != 0)
		error = CUSTODY_EIO;
	while (error == 0 && len > 0) {
		r = read_full(fd, buf, len < SYNC_BLOB_CHUNK ? len : SYNC_BLOB_CHUNK);
		if (r <= 0)
			error = custody_fail(CUSTODY_EIO, "cannot read a partial blob");
		else {
			EVP_DigestUpdate(sha, buf, (size_t)r);
			len -= (uint64_t)r;
		}
	}
	free(buf);
	return error;
}

/*
 * Fetch one blob into tmp/sync-NAME.part, from where an earlier session left it. Up to
 * SYNC_WINDOW requests are in flight, so the link stays busy; answers come in order.
 */
static int
session_fetch_blob(struct session *s, const struct sync_need *nd)
{
	Envelope *msg;
	EVP_MD_CTX *sha = NULL;
	uint8_t sum[SHA256_LEN];
	char path[4200];
	struct stat st;
	uint64_t off, asked, size = UINT64_MAX;
	int fd, inflight = 0, error = 0;


	snprintf(path, sizeof path, "%s/tmp/sync-%s.part", s->a->path, nd->name);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 ||
	    fstat(fd, &st) != 0) {
		error = custody_fail(CUSTODY_EIO, "%s: %s", path, strerror(errno));
		goto done;
	}
	off = asked = (uint64_t)st.st_size;
	if (off > nd->max) {	/* never ours to keep: start over */
		if (ftruncate(fd, 0) != 0) {
			error = custody_fail(CUSTODY_EIO, "%s: %s", path, strerror(errno));
			goto done;
		}
		off = asked = 0;
	}
	if (off > 0)
		log_info("resuming blob %s at byte %llu", nd->name, (unsigned long long)off);
	if ((sha = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1 ||
	    (error = session_hash_part(fd, sha, off)) < 0) {
		if (error == 0)
			error = CUSTODY_ENOMEM;
		goto done;
	}
	if ((error = session_ask_blob(s, nd->name, asked)) < 0)
		goto done;
	inflight = 1;
	asked += SYNC_BLOB_CHUNK;
	while (off < size) {
		if ((msg = session_recv(s)) == NULL ||
		    msg->body_case != CUSTODY__ENVELOPE__BODY_BLOB_DATA) {
			wire_free(msg);
			error = custody_fail(CUSTODY_EIO, "%s", s->why[0] ? s->why :
			    "unexpected answer to a blob request");
			goto done;
		}
		inflight--;
		if (size == UINT64_MAX && s->res->total != NULL) {
			__atomic_add_fetch(s->res->total, msg->blob_data->size, __ATOMIC_RELAXED);
			__atomic_add_fetch(s->res->done, off, __ATOMIC_RELAXED);
		}
		if (size != UINT64_MAX && msg->blob_data->size != size) {
			error = custody_fail(CUSTODY_EPROTO, "blob %s: the peer changed its size "
			    "from %llu to %llu bytes", nd->name, (unsigned long long)size,
			    (unsigned long long)msg->blob_data->size);
			wire_free(msg);
			goto done;
		}
		if (msg->blob_data->size > nd->max || off > msg->blob_data->size) {
			error = custody_fail(CUSTODY_EPROTO, "blob %s: the peer sends %llu bytes, "
			    "more than its record allows (%llu)", nd->name,
			    (unsigned long long)msg->blob_data->size, (unsigned long long)nd->max);
			wire_free(msg);
			goto done;
		}
		size = msg->blob_data->size;
		if (s->res->done != NULL)
			__atomic_add_fetch(s->res->done, msg->blob_data->data.len, __ATOMIC_RELAXED);
		if ((msg->blob_data->data.len == 0 && off < size) ||
		    off + msg->blob_data->data.len > size) {
			wire_free(msg);
			error = custody_fail(CUSTODY_EPROTO, "blob %s: the peer sent %s", nd->name,
			    off < size ? "too many bytes" : "nothing");
			goto done;
		}
		EVP_DigestUpdate(sha, msg->blob_data->data.data, msg->blob_data->data.len);
		if ((error = write_all(fd, msg->blob_data->data.data,
		    msg->blob_data->data.len)) < 0) {
			wire_free(msg);
			custody_fail(error, "writing %s: %s", path, strerror(errno));
			goto done;
		}
		off += msg->blob_data->data.len;
		wire_free(msg);
		while (inflight < SYNC_WINDOW && asked < size) {
			if ((error = session_ask_blob(s, nd->name, asked)) < 0)
				goto done;
			inflight++;
			asked += SYNC_BLOB_CHUNK;
		}
	}
	close(fd);
	fd = -1;
	EVP_DigestFinal_ex(sha, sum, NULL);
	if ((error = sync_place_blob(s->a, nd, path, sum)) < 0)
		unlink(path);	/* bad bytes: start over next time */
done:
	/* on an error the session ends, and unread answers go with it */
	if (fd >= 0)
		close(fd);
	if (error == CUSTODY_EPROTO)
		unlink(path);	/* what the peer sent breaks the rules: nothing of it is kept */
	EVP_MD_CTX_free(sha);
	return error;
}

/* Fetch every blob the incoming records name that we do not hold. */
int
sync_fetch_blobs(struct session *s, struct sync_incoming *in)
{
	size_t i;
	int error;

	for (i = 0; i < in->nneed; i++) {
		if (blob_exists(s->a, in->need[i].name))
			continue;
		if ((error = session_fetch_blob(s, &in->need[i])) < 0)
			return error;
		in->nblobs++;
	}
	return 0;
}
