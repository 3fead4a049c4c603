/*
 * custodyd join ARCHIVE INVITATION: a joining office opens the invitation an existing office
 * made for its key, takes the archive data key from it, records the inviter as its first peer
 * and writes its office record and its copy of the invitation. keys/data.key is written last: it is the commit point,
 * and its presence is what "joined" means.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "custody/invite.h"
#include "log.h"
#include "offices.h"

/* Read the invitation file: a regular file of at most INVITE_MAX bytes. */
static int
join_read(char **text, size_t *len, const char *file, char **cause)
{
	struct stat st;
	ssize_t r;
	int fd;

	*text = NULL;
	if ((fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		custody_cause(cause, "cannot open %s: %s", file, strerror(errno));
		return CUSTODY_EIO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > INVITE_MAX) {
		custody_cause(cause, "%s is not an invitation (not a regular file of at most %d bytes)",
		    file, INVITE_MAX);
		close(fd);
		return CUSTODY_EINVAL;
	}
	if ((*text = malloc(INVITE_MAX + 1)) == NULL) {
		close(fd);
		return CUSTODY_ENOMEM;
	}
	r = read_full(fd, *text, INVITE_MAX + 1);
	close(fd);
	if (r < 0 || r > INVITE_MAX) {
		custody_cause(cause, "cannot read %s", file);
		free(*text);
		*text = NULL;
		return CUSTODY_EIO;
	}
	*len = (size_t)r;
	return 0;
}

/* Append a [peer NAME] section for the inviter to custody.conf, unless one is there already. */
static int
join_conf_peer(struct archive *a, const struct invite *inv, char **cause)
{
	char *path = archive_file(a, "custody.conf"), *conf = NULL, *key = NULL, head[96];
	struct cbuf b = { 0 };
	size_t len = 0;
	FILE *f;
	int fd = -1, error;

	if ((f = fopen(path, "re")) == NULL) {
		custody_cause(cause, "cannot read %s: %s", path, strerror(errno));
		error = CUSTODY_EIO;
		goto done;
	}
	if (getdelim(&conf, &len, '\0', f) < 0 && !feof(f)) {
		fclose(f);
		custody_cause(cause, "cannot read %s", path);
		error = CUSTODY_EIO;
		goto done;
	}
	fclose(f);
	snprintf(head, sizeof head, "[peer %s]\n", inv->inviter);
	if (conf != NULL && (strncmp(conf, head, strlen(head)) == 0 ||
	    (strstr(conf, head) != NULL && strstr(conf, head)[-1] == '\n'))) {
		error = 0;
		goto done;
	}
	if ((error = sshkey_format_pub(&key, inv->inviter_pk, NULL)) < 0 ||
	    (error = cbuf_printf(&b, "%s\n# the office that invited this one (custodyd join)\n%s",
	    conf != NULL && *conf != '\0' && conf[strlen(conf) - 1] != '\n' ? "\n" : "",
	    head)) < 0 ||
	    (inv->address[0] != '\0' &&
	    (error = cbuf_printf(&b, "address = %s\n", inv->address)) < 0) ||
	    (error = cbuf_printf(&b, "key = %s\n", key)) < 0)
		goto done;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    write_all(fd, b.data, b.len) < 0 || fsync(fd) != 0) {
		custody_cause(cause, "cannot write %s: %s", path, strerror(errno));
		error = CUSTODY_EIO;
	}
done:
	if (fd >= 0)
		close(fd);
	cbuf_free(&b);
	free(conf);
	free(key);
	free(path);
	return error;
}

/*
 * Write this office's record and its copy of the signed invitation that admitted it in our own
 * feed (one commit): what binds our name to our key, and leads every office to the founder.
 */
static int
join_records(struct archive *a, const struct invite *inv, const char *text, size_t len,
    char **cause)
{
	json_t *docs[2] = { NULL, NULL };
	char summary[200], *copy = NULL;
	int error;

	if ((copy = strndup(text, len)) == NULL || strlen(copy) != len) {
		custody_cause(cause, "the invitation holds a NUL byte");
		error = copy == NULL ? CUSTODY_ENOMEM : CUSTODY_EINVAL;
		goto done;
	}
	if ((error = offices_record(&docs[0], a->conf.office, a->office_pk, "")) < 0 ||
	    (error = offices_invite_record(&docs[1], a->conf.office, a->office_pk, copy)) < 0)
		goto done;
	snprintf(summary, sizeof summary, "join: office %s, invited by %s", a->conf.office,
	    inv->inviter);
	if ((error = offices_write(a, docs, 2, summary)) < 0)
		custody_cause(cause, "cannot write the office records: %s", custody_error());
done:
	json_decref(docs[0]);
	json_decref(docs[1]);
	free(copy);
	return error;
}

/* Join with an invitation; nothing is written unless every check passes. */
int
join_archive(const char *path, const char *invitation, const char *passphrase, char **cause)
{
	struct archive *a = NULL;
	struct invite inv;
	struct stat st;
	uint8_t *dk = NULL;
	char *text = NULL, *file = NULL, lk[LOG_KEY_LEN];
	size_t len;
	int error;

	if ((error = archive_open_ext(&a, path, passphrase, 1, 1, cause)) < 0)
		return error;
	file = archive_file(a, "keys/data.key");
	if (lstat(file, &st) == 0 || errno != ENOENT) {
		custody_cause(cause, "this office has already joined (%s exists)", file);
		error = CUSTODY_EEXIST;
		goto done;
	}
	if ((error = join_read(&text, &len, invitation, cause)) < 0)
		goto done;
	if ((dk = sodium_malloc(DATA_KEY_LEN)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	if ((error = invite_open(dk, &inv, text, len, a->office_sk)) < 0) {
		custody_cause(cause, "%s: %s", invitation, custody_error());
		goto done;
	}
	error = CUSTODY_EINVAL;
	if ((int64_t)time(NULL) > inv.expires_at) {
		custody_cause(cause, "%s expired at %s (made %s): ask office %s for a new invitation",
		    invitation, inv.expires, inv.created, inv.inviter);
		goto done;
	}
	if (strcmp(inv.office, a->conf.office) != 0) {
		custody_cause(cause, "%s invites office %s, but this office is %s", invitation,
		    inv.office, a->conf.office);
		goto done;
	}
	if (strcmp(inv.inviter, a->conf.office) == 0 ||
	    memcmp(inv.inviter_pk, a->office_pk, ED25519_PK_LEN) == 0) {
		custody_cause(cause, "%s: an office cannot invite itself", invitation);
		goto done;
	}
	keys_set_data(a, dk);
	if ((error = index_open(a, cause)) < 0 || (error = join_records(a, &inv, text, len, cause)) < 0 ||
	    (error = join_conf_peer(a, &inv, cause)) < 0)
		goto done;
	free(file);
	file = archive_file(a, "keys");
	if ((error = keys_write_data(file, a->office_pk, dk, cause)) < 0)
		goto done;
	if (fsync_dir(file) < 0) {
		custody_cause(cause, "cannot sync %s", file);
		error = CUSTODY_EIO;
		goto done;
	}
	log_info("joined: invited by %s%s%s", log_key(lk, inv.inviter_pk),
	    inv.address[0] ? " at " : "", inv.address);
	error = 0;
done:
	sodium_free(dk);
	free(text);
	free(file);
	archive_close(a);
	return error;
}
