/*
 * Data-key rotations written to the feed (epochs.h): by hand (custody keys rotate-data), and
 * once when a revocation takes effect at this office. The keyring follows the feeds: an epoch
 * record is taken in when it is indexed (epochs_indexed) or, in a sync, as soon as its commit
 * is verified (sync-verify.c), so that the commits after it in the same pack open.
 *
 * No rotation storm: an office rotates for a revocation only when the newest epoch it holds
 * still has a copy for a revoked office (or is epoch 0). Once any office's rotation reaches
 * it, the newest excludes the revoked office and it does not rotate again; two offices
 * rotating at once make two epochs of one number, of which every office picks the same one.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "epochs.h"
#include "log.h"
#include "revocations.h"

/* One check-and-rotate at a time: a sync and a revocation settling together rotate once. */
static pthread_mutex_t epochs_rotate_lock = PTHREAD_MUTEX_INITIALIZER;

/* Whether pk is the target of an effective revocation in v. */
static int
epochs_revoked(const struct revocation *v, size_t n, const uint8_t pk[static 32])
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].effective && memcmp(v[i].target, pk, ED25519_PK_LEN) == 0)
			return 1;
	return 0;
}

/* This office, then every admitted office not revoked (*to is the caller's to free). */
static int
epochs_recipients(struct archive *a, uint8_t (**to)[32], size_t *nto)
{
	struct revocation *v = NULL;
	struct office *list = NULL;
	size_t n = 0, nv = 0, i;
	int error;

	*to = NULL;
	*nto = 0;
	if ((error = offices_list(a, &list, &n)) < 0 ||
	    (error = revocations_list(a, &v, &nv)) < 0)
		goto done;
	if ((*to = calloc(n + 1, sizeof **to)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	memcpy((*to)[(*nto)++], a->office_pk, 32);
	for (i = 0; i < n; i++)
		if (memcmp(list[i].pk, a->office_pk, 32) != 0 &&
		    !epochs_revoked(v, nv, list[i].pk))
			memcpy((*to)[(*nto)++], list[i].pk, 32);
done:
	free(list);
	free(v);
	return error;
}

/* epochs_rotate_write with the rotation lock held. */
static int
epochs_rotate_locked(struct archive *a, const char *trigger, json_t **record, uint64_t *seq)
{
	struct records_written w;
	uint8_t (*to)[32] = NULL;
	size_t nto = 0;
	json_t *doc = NULL;
	char summary[96];
	uint64_t cut;
	int error;

	if (record != NULL)
		*record = NULL;
	if (revocations_cut(a, a->office_pk, &cut))
		return custody_fail(CUSTODY_EPERM, "this office is revoked (after its commit %"
		    PRIu64 "): it makes no data-key epoch", cut);
	if ((error = epochs_recipients(a, &to, &nto)) < 0 ||
	    (error = epochs_rotate(a, (const uint8_t (*)[32])to, nto, &doc)) < 0)
		goto done;
	if (trigger != NULL && json_object_set_new(doc, "revocation", json_string(trigger)) < 0) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	snprintf(summary, sizeof summary, "data-key epoch %" PRId64,
	    (int64_t)json_integer_value(json_object_get(doc, "epoch")));
	if ((error = records_write_changed(a, &doc, 1, summary, 1, &w)) < 0)
		goto done;
	if (seq != NULL)
		*seq = w.commit.seq;
	/* indexing took it in; if the index fell behind, take it in now (it is committed) */
	if ((error = epochs_accept(a, doc, a->office_pk)) < 0)
		goto done;
	log_info("data-key epoch %" PRId64 " made, sealed to %zu offices%s%s",
	    (int64_t)json_integer_value(json_object_get(doc, "epoch")), nto,
	    trigger ? " after " : "", trigger ? trigger : "");
	if (record != NULL) {
		*record = doc;
		doc = NULL;
	}
done:
	json_decref(doc);
	free(to);
	return error;
}

int
epochs_rotate_write(struct archive *a, const char *trigger, json_t **record, uint64_t *seq)
{
	int error;

	pthread_mutex_lock(&epochs_rotate_lock);
	error = epochs_rotate_locked(a, trigger, record, seq);
	pthread_mutex_unlock(&epochs_rotate_lock);
	return error;
}

/*
 * The effective revocation (in v) of an office the newest epoch held was sealed to, or -1
 * when it was sealed to none. Epoch 0 (no later epoch held) every office holds.
 */
static ssize_t
epochs_reaches_revoked(struct archive *a, const struct revocation *v, size_t n)
{
	struct epoch ep;
	char creator[65], id[96];
	uint8_t pk[32];
	const char *to;
	json_t *doc = NULL, *copies;
	ssize_t found = -1;
	size_t i, j;

	if (!epochs_newest(a, &ep)) {
		for (i = 0; i < n; i++)
			if (v[i].effective)
				return (ssize_t)i;
		return -1;
	}
	hex_encode(creator, ep.creator, 32);
	snprintf(id, sizeof id, "epoch-%" PRIu32 "-%s", ep.num, creator);
	if (feed_read_record(a, creator, id, &doc) < 0) {
		/* held but its record is not at hand: made before a crash; rotate to be sure */
		log_warn("data-key epoch %" PRIu32 " of %.16s: its record is unreadable (%s)",
		    ep.num, creator, custody_error());
		for (i = 0; i < n; i++)
			if (v[i].effective)
				return (ssize_t)i;
		return -1;
	}
	copies = json_object_get(doc, "copies");
	for (j = 0; found < 0 && j < json_array_size(copies); j++) {
		to = json_string_value(json_object_get(json_array_get(copies, j), "to"));
		if (to == NULL || strlen(to) != 64 || hex_decode(pk, 32, to) < 0)
			continue;
		for (i = 0; i < n && found < 0; i++)
			if (v[i].effective && memcmp(v[i].target, pk, 32) == 0)
				found = (ssize_t)i;
	}
	json_decref(doc);
	return found;
}

int
epochs_after_revocations(struct archive *a)
{
	struct revocation *v = NULL;
	char id[ID_MAX + 1];
	size_t n = 0, i;
	ssize_t k;
	int error, any = 0, self = 0;

	if (a->epochs == NULL)
		return 0;
	pthread_mutex_lock(&epochs_rotate_lock);
	if ((error = revocations_list(a, &v, &n)) < 0)
		goto done;
	for (i = 0; i < n && error == 0; i++) {
		if (!v[i].effective)
			continue;
		any = 1;
		self |= memcmp(v[i].target, a->office_pk, 32) == 0;
		error = epochs_retire(a, v[i].target);
	}
	if (error < 0 || !any || self)
		goto done;
	if ((k = epochs_reaches_revoked(a, v, n)) < 0)
		goto done;
	revocations_id(id, v[k].target, v[k].from_seq);
	if ((error = epochs_rotate_locked(a, id, NULL, NULL)) == 0)
		error = 1;
done:
	pthread_mutex_unlock(&epochs_rotate_lock);
	free(v);
	return error;
}

void
epochs_indexed(struct archive *a, const char *office, uint64_t seq, const json_t *doc)
{
	uint8_t pk[32];
	uint64_t cut;
	int error;

	if (a->epochs == NULL || strlen(office) != 64 || hex_decode(pk, 32, office) < 0)
		return;
	if (revocations_cut(a, pk, &cut) && seq > cut) {
		log_warn("data-key epoch record %s of feed %.16s: its office is revoked after its "
		    "commit %" PRIu64 ": not taken", record_id(doc), office, cut);
		return;
	}
	if ((error = epochs_accept(a, doc, pk)) == CUSTODY_ENOTFOUND)
		log_info("%s: sealed to other offices only", record_id(doc));
	else if (error < 0)
		log_warn("data-key epoch record %s of feed %.16s not taken: %s", record_id(doc),
		    office, custody_error());
}

int
epochs_after_admissions(struct archive *a)
{
	struct records_written w;
	uint8_t (*to)[32] = NULL;
	uint32_t *nums = NULL;
	json_t **docs = NULL;
	char id[96];
	uint64_t cut;
	size_t nto = 0, n = 0, ndocs = 0, i;
	int error = 0, r;

	if (a->epochs == NULL || revocations_cut(a, a->office_pk, &cut))
		return 0;
	pthread_mutex_lock(&epochs_rotate_lock);
	/* the epochs this office made, by number */
	pthread_mutex_lock(&a->epochs->lock);
	if (a->epochs->n > 0 && (nums = calloc(a->epochs->n, sizeof *nums)) == NULL)
		error = CUSTODY_ENOMEM;
	for (i = 0; error == 0 && i < a->epochs->n; i++)
		if (memcmp(a->epochs->v[i].creator, a->office_pk, 32) == 0)
			nums[n++] = a->epochs->v[i].num;
	pthread_mutex_unlock(&a->epochs->lock);
	if (error < 0 || n == 0 || (error = epochs_recipients(a, &to, &nto)) < 0)
		goto done;
	if ((docs = calloc(n, sizeof *docs)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof id, "epoch-%" PRIu32 "-%s", nums[i], a->office_hex);
		if (feed_read_record(a, a->office_hex, id, &docs[ndocs]) < 0) {
			log_warn("data-key epoch %" PRIu32 " of this office: %s", nums[i],
			    custody_error());
			continue;
		}
		json_object_del(docs[ndocs], "rev");
		if ((r = epochs_extend(a, docs[ndocs], (const uint8_t (*)[32])to, nto)) < 0) {
			error = r;
			goto done;
		}
		if (r == 1)
			ndocs++;
		else {
			json_decref(docs[ndocs]);
			docs[ndocs] = NULL;
		}
	}
	if (ndocs == 0)
		goto done;
	if ((error = records_write_changed(a, docs, ndocs, "data-key epochs for offices admitted "
	    "since", 1, &w)) == 0) {
		log_info("%zu data-key epoch%s sealed to offices admitted since", ndocs,
		    ndocs == 1 ? "" : "s");
		error = 1;
	}
done:
	pthread_mutex_unlock(&epochs_rotate_lock);
	for (i = 0; docs != NULL && i < n; i++)
		json_decref(docs[i]);
	free(docs);
	free(nums);
	free(to);
	return error;
}
