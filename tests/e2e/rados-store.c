/*
 * custody-rados-store: the blob store interface (daemon/engine/blobstore.h) on the command
 * line, for tests/e2e/62-rados-store.sh and tests/bench/rados.sh. CONF is an INI file whose
 * [blobs] section names the store, as custody.conf's does.
 *
 *	custody-rados-store CONF put FILE [PAUSE]	store FILE's bytes under their SHA-256 and
 *				print it; with PAUSE, stop after PAUSE bytes, print "paused" and
 *				wait (to be killed)
 *	custody-rados-store CONF put-many DIR		store every file of DIR; print a count
 *	custody-rados-store CONF get NAME OUT [OFFSET]	read NAME (from OFFSET) into OUT; from 0,
 *				fail unless the bytes hash to NAME
 *	custody-rados-store CONF stat NAME		print its size
 *	custody-rados-store CONF rm NAME
 *	custody-rados-store CONF ls			print every final name
 *	custody-rados-store CONF sweep			remove temporaries; print how many
 *	custody-rados-store CONF health			"ok", or why not
 *	custody-rados-store CONF outage CLUSTER_SH DIR	with one store: a put, the OSD stopped,
 *				a put that must fail in time, the OSD started, a put and get
 *
 * Exits 0 on success, 1 on failure (the reason on stderr), 2 on misuse, 77 when this build
 * has no RADOS store. Prints the peak RSS on stderr at the end ("rss_kib N").
 */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ini.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "custody/common.h"
#include "blobstore.h"

#define PIECE (1u << 20)

static struct blobstore_conf conf;
static char *conf_bad;

static int
conf_handler(void *arg, const char *section, const char *name, const char *value)
{
	(void)arg;
	return blobstore_conf_set(&conf, section, name, value, &conf_bad) >= 0;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Store fd's bytes under their SHA-256; pause after pause bytes when not 0. */
static int
store_put_fd(struct blobstore *s, int fd, uint64_t pause, char name[static SHA256_HEX_LEN + 1])
{
	struct blobstore_writer *w = NULL;
	EVP_MD_CTX *sha = EVP_MD_CTX_new();
	uint8_t *buf = malloc(PIECE), md[SHA256_LEN];
	uint64_t done = 0;
	ssize_t r;
	int error;

	if (sha == NULL || buf == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	EVP_DigestInit_ex(sha, EVP_sha256(), NULL);
	if ((error = blobstore_begin(s, &w)) < 0)
		goto done;
	while ((r = read(fd, buf, PIECE)) > 0) {
		EVP_DigestUpdate(sha, buf, (size_t)r);
		if ((error = blobstore_write(w, buf, (size_t)r)) < 0)
			goto done;
		done += (uint64_t)r;
		if (pause != 0 && done >= pause) {
			printf("paused\n");
			fflush(stdout);
			for (;;)
				sleep(60);
		}
	}
	if (r < 0) {
		error = custody_fail(CUSTODY_EIO, "read: %s", strerror(errno));
		goto done;
	}
	EVP_DigestFinal_ex(sha, md, NULL);
	hex_encode(name, md, SHA256_LEN);
	error = blobstore_commit(w, name);
	w = NULL;
done:
	blobstore_abort(w);
	EVP_MD_CTX_free(sha);
	free(buf);
	return error;
}

static int
store_put(struct blobstore *s, const char *path, uint64_t pause)
{
	char name[SHA256_HEX_LEN + 1];
	double t0 = now();
	int fd, error;

	if ((fd = open(path, O_RDONLY)) < 0)
		return custody_fail(CUSTODY_EIO, "%s: %s", path, strerror(errno));
	error = store_put_fd(s, fd, pause, name);
	close(fd);
	if (error == 0) {
		printf("%s\n", name);
		fprintf(stderr, "put_seconds %.2f\n", now() - t0);
	}
	return error;
}

static int
store_put_many(struct blobstore *s, const char *dir)
{
	char name[SHA256_HEX_LEN + 1], path[4096];
	struct dirent *de;
	double t0 = now();
	unsigned n = 0;
	DIR *d;
	int fd, error = 0;

	if ((d = opendir(dir)) == NULL)
		return custody_fail(CUSTODY_EIO, "%s: %s", dir, strerror(errno));
	while (error == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if ((fd = open(path, O_RDONLY)) < 0) {
			error = custody_fail(CUSTODY_EIO, "%s: %s", path, strerror(errno));
			break;
		}
		if ((error = store_put_fd(s, fd, 0, name)) == 0)
			n++;
		close(fd);
	}
	closedir(d);
	printf("%u\n", n);
	fprintf(stderr, "put_seconds %.2f\n", now() - t0);
	return error;
}

static int
store_get(struct blobstore *s, const char *name, const char *out, uint64_t offset)
{
	struct blobstore_reader *r = NULL;
	EVP_MD_CTX *sha = EVP_MD_CTX_new();
	uint8_t *buf = malloc(4 * PIECE), md[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];
	uint64_t size, total = 0;
	size_t got;
	int fd = -1, error;

	if (sha == NULL || buf == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	EVP_DigestInit_ex(sha, EVP_sha256(), NULL);
	if ((error = blobstore_read_open(s, name, offset, &r, &size)) < 0)
		goto done;
	if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0) {
		error = custody_fail(CUSTODY_EIO, "%s: %s", out, strerror(errno));
		goto done;
	}
	do {
		if ((error = blobstore_read(r, buf, 4 * PIECE, &got)) < 0)
			goto done;
		EVP_DigestUpdate(sha, buf, got);
		if (write_all(fd, buf, got) < 0) {
			error = custody_fail(CUSTODY_EIO, "%s: %s", out, strerror(errno));
			goto done;
		}
		total += got;
	} while (got > 0);
	if (total != size - offset) {
		error = custody_fail(CUSTODY_EIO, "blob %s: %llu bytes read of %llu", name,
		    (unsigned long long)total, (unsigned long long)(size - offset));
		goto done;
	}
	EVP_DigestFinal_ex(sha, md, NULL);
	hex_encode(hex, md, SHA256_LEN);
	if (offset == 0 && strcmp(hex, name) != 0)
		error = custody_fail(CUSTODY_ECRYPTO, "blob %s: its bytes hash to %s (altered)",
		    name, hex);
done:
	if (fd >= 0)
		close(fd);
	blobstore_read_close(r);
	EVP_MD_CTX_free(sha);
	free(buf);
	return error;
}

static int
store_ls_one(void *arg, const char *name)
{
	(void)arg;
	printf("%s\n", name);
	return 0;
}

/* A put with the OSD stopped fails in time; the same store works once it is back. */
static int
store_outage(struct blobstore *s, const char *cluster_sh, const char *dir)
{
	char cmd[8192], file[] = "/tmp/custody-outage-XXXXXX", *why = NULL;
	static uint8_t data[20 << 20];	/* three writes: the parted path */
	uint64_t size;
	double t0;
	int fd, error;

	if ((fd = mkstemp(file)) < 0)
		return custody_fail(CUSTODY_EIO, "mkstemp: %s", strerror(errno));
	randombytes_buf(data, sizeof data);
	write_all(fd, data, sizeof data);
	close(fd);
	if ((error = store_put(s, file, 0)) < 0)
		goto done;
	snprintf(cmd, sizeof cmd, "%s osd-stop %s", cluster_sh, dir);
	if (system(cmd) != 0) {
		error = custody_fail(CUSTODY_ERR, "%s failed", cmd);
		goto done;
	}
	data[0] ^= 1;
	if ((fd = open(file, O_WRONLY)) < 0 || write_all(fd, data, 1) < 0 || close(fd) < 0) {
		error = custody_fail(CUSTODY_EIO, "%s: %s", file, strerror(errno));
		goto done;
	}
	t0 = now();
	error = store_put(s, file, 0);
	printf("down_put %s seconds %.1f: %s\n", error < 0 ? "failed" : "succeeded",
	    now() - t0, error < 0 ? custody_error() : "");
	t0 = now();
	error = blobstore_health(s, &why);
	printf("down_health %s seconds %.1f: %s\n", error < 0 ? "failed" : "ok", now() - t0,
	    why != NULL ? why : "");
	free(why);
	why = NULL;
	snprintf(cmd, sizeof cmd, "%s osd-start %s", cluster_sh, dir);
	if (system(cmd) != 0) {
		error = custody_fail(CUSTODY_ERR, "%s failed", cmd);
		goto done;
	}
	error = blobstore_health(s, &why);
	printf("up_health %s: %s\n", error < 0 ? "failed" : "ok", why != NULL ? why : "");
	if ((error = store_put(s, file, 0)) < 0)
		goto done;
	error = blobstore_stat(s, "00000000000000000000000000000000"
	    "00000000000000000000000000000000", &size);
	printf("up_stat_absent %s\n", error == CUSTODY_ENOTFOUND ? "notfound" : "other");
	error = 0;
done:
	free(why);
	unlink(file);
	return error;
}

static long
peak_rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	if (f != NULL)
		fclose(f);
	return kib;
}

int
main(int argc, char **argv)
{
	struct blobstore *s = NULL;
	char *cause = NULL, *why = NULL;
	const char *cmd;
	uint64_t size;
	unsigned removed;
	int error = 0, rc;

	if (argc < 3)
		errx(2, "usage: custody-rados-store CONF put|put-many|get|stat|rm|ls|sweep|health|"
		    "outage ...");
#ifndef CUSTODY_RADOS
	printf("SKIP: built without librados (librados-dev)\n");
	return 77;
#endif
	if (sodium_init() < 0)
		errx(1, "sodium_init failed");
	blobstore_conf_init(&conf);
	if ((rc = ini_parse(argv[1], conf_handler, NULL)) != 0)
		errx(1, "%s: %s", argv[1], conf_bad != NULL ? conf_bad : "cannot parse");
	if (blobstore_conf_check(&conf, &conf_bad) < 0)
		errx(1, "%s: %s", argv[1], conf_bad);
	if (blobstore_open(&s, &conf, "/nonexistent", &cause) < 0)
		errx(1, "%s", cause != NULL ? cause : "cannot open the blob store");
	cmd = argv[2];
	if (strcmp(cmd, "put") == 0 && (argc == 4 || argc == 5))
		error = store_put(s, argv[3], argc == 5 ? strtoull(argv[4], NULL, 10) : 0);
	else if (strcmp(cmd, "put-many") == 0 && argc == 4)
		error = store_put_many(s, argv[3]);
	else if (strcmp(cmd, "get") == 0 && (argc == 5 || argc == 6))
		error = store_get(s, argv[3], argv[4], argc == 6 ? strtoull(argv[5], NULL, 10) : 0);
	else if (strcmp(cmd, "stat") == 0 && argc == 4) {
		if ((error = blobstore_stat(s, argv[3], &size)) == CUSTODY_ENOTFOUND)
			error = custody_fail(error, "blob %s: none", argv[3]);
		if (error == 0)
			printf("%llu\n", (unsigned long long)size);
	} else if (strcmp(cmd, "rm") == 0 && argc == 4)
		error = blobstore_remove(s, argv[3]);
	else if (strcmp(cmd, "ls") == 0 && argc == 3)
		error = blobstore_list(s, store_ls_one, NULL);
	else if (strcmp(cmd, "sweep") == 0 && argc == 3) {
		if ((error = blobstore_sweep(s, &removed)) == 0)
			printf("%u\n", removed);
	} else if (strcmp(cmd, "health") == 0 && argc == 3) {
		error = blobstore_health(s, &why);
		printf("%s\n", error == 0 ? "ok" : why);
		free(why);
		error = 0;
	} else if (strcmp(cmd, "outage") == 0 && argc == 5)
		error = store_outage(s, argv[3], argv[4]);
	else
		errx(2, "bad command line");
	blobstore_close(s);
	blobstore_conf_free(&conf);
	fprintf(stderr, "rss_kib %ld\n", peak_rss_kib());
	if (error < 0) {
		fprintf(stderr, "custody-rados-store: %s\n", custody_error()[0] != '\0' ?
		    custody_error() : custody_strerror(error));
		return 1;
	}
	return 0;
}
