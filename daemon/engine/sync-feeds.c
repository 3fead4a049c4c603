/* Feeds as replication sees them: their heads, a commit at a sequence, forks kept as evidence. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "offices.h"
#include "sync-feeds.h"

/* Every feed ref with its sequence and head. */
int
sync_list_feeds(struct archive *a, struct sync_feed **out, size_t *n)
{
	git_repository *repo = archive_repo(a);
	git_reference_iterator *it = NULL;
	git_reference *ref;
	struct sync_feed *v = NULL, *f;
	const char *name;
	uint64_t lamport;
	git_oid head;
	int error = 0;

	*out = NULL;
	*n = 0;
	if (repo == NULL)
		return CUSTODY_EIO;
	if (git_reference_iterator_glob_new(&it, repo, FEEDFMT_REF_GLOB) < 0)
		return custody_fail(CUSTODY_EIO, "cannot list feeds");
	while (error == 0 && git_reference_next(&ref, it) == 0) {
		if ((name = feedfmt_ref_office(git_reference_name(ref))) != NULL) {
			if ((f = reallocarray(v, *n + 1, sizeof *v)) == NULL) {
				error = CUSTODY_ENOMEM;
			} else {
				v = f;
				f = &v[*n];
				memset(f, 0, sizeof *f);
				snprintf(f->hex, sizeof f->hex, "%s", name);
				hex_decode(f->pk, ED25519_PK_LEN, name);
				if (feed_head(a, name, &head, &f->seq, &lamport) == 0) {
					git_oid_tostr(f->head, sizeof f->head, &head);
					(*n)++;
				}
			}
		}
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	if (error < 0) {
		free(v);
		*n = 0;
		return error;
	}
	*out = v;
	return 0;
}

/* The commit at sequence seq of the chain whose head (at head_seq) is head. */
int
sync_commit_at(struct archive *a, const git_oid *head, uint64_t head_seq, uint64_t seq,
    git_oid *out)
{
	git_repository *repo = archive_repo(a);
	git_commit *c = NULL, *p;
	uint64_t at = head_seq;

	if (seq == 0 || seq > head_seq)
		return custody_fail(CUSTODY_EINVAL, "no commit %llu in a feed of %llu",
		    (unsigned long long)seq, (unsigned long long)head_seq);
	if (git_commit_lookup(&c, repo, head) < 0)
		return custody_fail(CUSTODY_EIO, "feed head unreadable");
	while (at > seq) {
		if (git_commit_parentcount(c) == 0 || git_commit_parent(&p, c, 0) < 0) {
			git_commit_free(c);
			return custody_fail(CUSTODY_EIO, "feed history unreadable");
		}
		git_commit_free(c);
		c = p;
		at--;
	}
	*out = *git_commit_id(c);
	git_commit_free(c);
	return 0;
}

/* The name an office is known by (office records), else its key's first hex digits. */
char *
sync_office_name(struct archive *a, const uint8_t pk[static ED25519_PK_LEN])
{
	struct office *v = NULL;
	size_t n = 0, i;
	char hex[65], *name = NULL;

	if (sodium_memcmp(pk, a->office_pk, ED25519_PK_LEN) == 0)
		return strdup(a->conf.office);
	if (offices_list(a, &v, &n) == 0)
		for (i = 0; i < n && name == NULL; i++)
			if (sodium_memcmp(v[i].pk, pk, ED25519_PK_LEN) == 0)
				name = strdup(v[i].name);
	free(v);
	if (name == NULL) {
		hex_encode(hex, pk, ED25519_PK_LEN);
		hex[16] = '\0';
		name = strdup(hex);
	}
	return name;
}

/* How many fork commits of a feed forks/ holds. */
static int
sync_count_forks(const char *dir, const char *office_hex)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, office_hex, 64) == 0 && de->d_name[64] == '-')
			n++;
	closedir(d);
	return n;
}

/*
 * Write the n bytes at p as path, a new name (EEXIST when it is taken): written under tmp/ and
 * synced, then linked into place. A file whose bytes the disk lost would otherwise hold the
 * name for good, and the evidence could never be kept whole.
 */
static int
sync_keep_file(struct archive *a, const char *path, const void *p, size_t n)
{
	char *tmp = archive_file(a, "tmp/fork-XXXXXX");
	int fd, error = 0;

	if (tmp == NULL)
		return CUSTODY_ENOMEM;
	if ((fd = mkstemp(tmp)) < 0) {
		free(tmp);
		return custody_fail(CUSTODY_EIO, "cannot create a file under tmp/: %s",
		    strerror(errno));
	}
	if (write_all(fd, p, n) < 0 || fsync(fd) != 0 || link(tmp, path) != 0)
		error = custody_fail(errno == EEXIST ? CUSTODY_EEXIST : CUSTODY_EIO, "%s: %s",
		    path, strerror(errno));
	close(fd);
	unlink(tmp);
	free(tmp);
	return error;
}

/* forks/log's appends, so that one that fails can be taken back whole */
static pthread_mutex_t sync_log_lock = PTHREAD_MUTEX_INITIALIZER;

/* Whether the log open as fd has a line naming commit id (its lines are few: one a file). */
static int
sync_log_names(int fd, const char *id)
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int dup, found = 0;

	if ((dup = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0 || (f = fdopen(dup, "r")) == NULL) {
		if (dup >= 0)
			close(dup);
		return 0;
	}
	rewind(f);
	while (!found && (n = getline(&buf, &cap, f)) > 0)
		found = strstr(buf, id) != NULL;
	free(buf);
	fclose(f);
	return found;
}

/*
 * Append line, which names commit id, to forks/log and sync it, unless the log names it
 * already; when that fails, the log is cut back to where it was, so that the line is written
 * once, with the commit it names kept. A commit kept by a sync that stopped before its line
 * (a crash) gets it from the next sync that meets it.
 */
static int
sync_keep_line(struct archive *a, const char *line, const char *id)
{
	char *log = archive_file(a, "forks/log");
	struct stat sb;
	int fd, error = 0;

	if (log == NULL)
		return CUSTODY_ENOMEM;
	pthread_mutex_lock(&sync_log_lock);
	if ((fd = open(log, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0 ||
	    fstat(fd, &sb) != 0) {
		error = custody_fail(CUSTODY_EIO, "forks/log: %s", strerror(errno));
	} else if (sync_log_names(fd, id))
		;	/* written when the commit was kept */
	else if (write_all(fd, line, strlen(line)) < 0 || fsync(fd) != 0) {
		error = custody_fail(CUSTODY_EIO, "forks/log: %s", strerror(errno));
		if (ftruncate(fd, sb.st_size) == 0)
			(void)fsync(fd);
	}
	if (fd >= 0)
		close(fd);
	pthread_mutex_unlock(&sync_log_lock);
	free(log);
	return error;
}

/*
 * Keep a commit (id its id) as evidence: forks/OFFICEHEX-SEQ-ID.commit holds its raw bytes,
 * and, the first time, logline (one line, "\n" added) goes in forks/log. What the disk does not
 * take is not kept, with a warning: the next sync that meets the commit keeps it.
 */
static int
sync_keep_commit(struct archive *a, const char *office_hex, uint64_t seq, const void *commit,
    size_t len, const char *id, const char *logline)
{
	char *dir = archive_file(a, "forks"), path[4200], line[800];
	int error;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		free(dir);
		return custody_fail(CUSTODY_EIO, "cannot create forks/: %s", strerror(errno));
	}
	if (len > SYNC_FORK_MAX_BYTES || sync_count_forks(dir, office_hex) >= SYNC_FORKS_PER_FEED)
		goto report;	/* the evidence kept is bounded: report, keep no more */
	snprintf(path, sizeof path, "%s/%s-%llu-%s.commit", dir, office_hex,
	    (unsigned long long)seq, id);
	if (snprintf(line, sizeof line, "%s\n", logline) >= (int)sizeof line)
		line[sizeof line - 2] = '\n';	/* cut short, it still ends */
	if ((error = sync_keep_file(a, path, commit, len)) == CUSTODY_EEXIST) {
		/* kept before: its line too, unless that sync stopped first */
		if (sync_keep_line(a, line, id) < 0)
			log_warn("forks/log does not name commit %s of feed %.16s: %s", id,
			    office_hex, custody_error());
		goto report;
	}
	if (error == 0 && (error = sync_keep_line(a, line, id)) < 0)
		unlink(path);	/* kept again, with its line, when it comes again */
	if (error == 0 && fsync_dir(dir) < 0)
		error = custody_fail(CUSTODY_EIO, "cannot sync forks/");
	if (error < 0)
		log_warn("the evidence of commit %s of feed %.16s is not kept: %s", id,
		    office_hex, custody_error());
report:
	free(dir);
	return 0;
}

/*
 * Keep the evidence of a fork: the other commit, signed by the feed's owner, that conflicts
 * with ours at seq. forks/OFFICEHEX-SEQ-THEIRS.commit, and a line saying so in forks/log.
 */
int
sync_record_fork(struct archive *a, const char *office_hex, uint64_t seq, const char *ours,
    const void *theirs, size_t len, char **line)
{
	char id[GIT_OID_HEXSZ + 1], log[300];
	git_oid oid;
	int error;

	*line = NULL;
	git_odb_hash(&oid, theirs, len, GIT_OBJECT_COMMIT);
	git_oid_tostr(id, sizeof id, &oid);
	snprintf(log, sizeof log, "%s %llu ours %s theirs %s", office_hex,
	    (unsigned long long)seq, ours, id);
	if ((error = sync_keep_commit(a, office_hex, seq, theirs, len, id, log)) < 0)
		return error;
	if (asprintf(line, "fork in feed %.16s at seq %llu: we hold %.12s, the peer %.12s",
	    office_hex, (unsigned long long)seq, ours, id) < 0)
		*line = NULL;
	return 0;
}

/*
 * Keep the evidence of a commit its feed's owner signed that breaks a rule no fork-free history
 * can (a clock out of bounds, a record that disagrees with its commit): refused like a fork,
 * kept the same way, why in the log line.
 */
int
sync_record_refused(struct archive *a, const char *office_hex, uint64_t seq, const char *why,
    const void *commit, size_t len, char **line)
{
	char id[GIT_OID_HEXSZ + 1], log[700];
	git_oid oid;
	int error;

	*line = NULL;
	git_odb_hash(&oid, commit, len, GIT_OBJECT_COMMIT);
	git_oid_tostr(id, sizeof id, &oid);
	snprintf(log, sizeof log, "%s %llu refused %s: %s", office_hex, (unsigned long long)seq,
	    id, why);
	if ((error = sync_keep_commit(a, office_hex, seq, commit, len, id, log)) < 0)
		return error;
	if (asprintf(line, "refused commit %.12s of feed %.16s at seq %llu, kept as evidence: %s",
	    id, office_hex, (unsigned long long)seq, why) < 0)
		*line = NULL;
	return 0;
}

/* Every fork recorded, one line each (forks/log). */
int
sync_list_forks(struct archive *a, char ***lines, size_t *n)
{
	char *path = archive_file(a, "forks/log"), buf[512], **v;
	FILE *f;

	*lines = NULL;
	*n = 0;
	if ((f = fopen(path, "r")) == NULL) {
		free(path);
		return 0;
	}
	while (fgets(buf, sizeof buf, f) != NULL) {
		buf[strcspn(buf, "\n")] = '\0';
		if ((v = reallocarray(*lines, *n + 1, sizeof *v)) == NULL)
			break;
		*lines = v;
		v[(*n)++] = strdup(buf);
	}
	fclose(f);
	free(path);
	return 0;
}

void
sync_result_add(struct sync_result *r, int fork, const char *fmt, ...)
{
	char ***v = fork ? &r->forks : &r->moved, **g, *s;
	size_t *n = fork ? &r->nforks : &r->nmoved;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL || (g = reallocarray(*v, *n + 1, sizeof *g)) == NULL) {
		free(s);
		return;
	}
	*v = g;
	g[(*n)++] = s;
}

void
sync_result_free(struct sync_result *r)
{
	size_t i;

	for (i = 0; i < r->nmoved; i++)
		free(r->moved[i]);
	for (i = 0; i < r->nforks; i++)
		free(r->forks[i]);
	free(r->moved);
	free(r->forks);
	memset(r, 0, sizeof *r);
}
