/*
 * custody extract: a dossier for one recipient (proto/DOSSIER.md), streamed into the client's
 * descriptor as age(tar(BagIt)). Nothing is staged on disk and memory does not grow with the
 * evidence: files are decrypted chunk by chunk into the tar, the tar into age. What grows with
 * the item count is the selection and the manifests.
 * What goes in is chosen by extract-select.c.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <utf8proc.h>

#include "custody/age.h"
#include "custody/bagit.h"
#include "custody/recobj.h"
#include "custody/tar.h"
#include "dossier.h"
#include "evidence.h"
#include "extract.h"
#include "log.h"
#include "media.h"
#include "report.h"
#include "revocations.h"
#include "sync-feeds.h"

/* The tar, the age writer, the manifests and the proofs of one extract. */
struct extract {
	struct archive		*a;
	int			 fd;		/* the client's file */
	const char		*actor;		/* who extracts (user@office) */
	uint64_t		*progress;	/* bytes written so far, read by another thread */
	json_t			*recipient;
	json_t			*policy;	/* "kind.field" -> true */
	struct age_recipient	 rcpt;
	struct selection	 sel;
	char			 root[48];	/* dossier-ID */
	char			 now[32];
	struct tar_writer	 tw;
	struct age_writer	*aw;
	uint64_t		 written;
	json_t			*dirs;		/* tar directories written */
	json_t			*offices;	/* feed hex -> true */
	struct cbuf		 manifest, tagmanifest;
	uint64_t		 octets, files;
	unsigned		 count[K_COUNT];
	struct proof_ctx	 proof;
};

/* ---- output: tar entries into age into the descriptor ------------------------------------ */

#define X_FLUSH (8u << 20)

static int
x_file_out(void *arg, const void *p, size_t n)
{
	struct extract *x = arg;
	int error;

	if ((error = write_all(x->fd, p, n)) < 0)
		return custody_fail(error, "writing the dossier: %s", strerror(errno));
	/* start writeback as we go, so that the fsync at the end has little left to wait for */
	if ((x->written + n) / X_FLUSH != x->written / X_FLUSH)
		sync_file_range(x->fd, (off_t)(x->written / X_FLUSH * X_FLUSH), X_FLUSH,
		    SYNC_FILE_RANGE_WRITE);
	x->written += n;
	__atomic_store_n(x->progress, x->written, __ATOMIC_RELAXED);
	return 0;
}

static int
x_tar_out(void *arg, const void *p, size_t n)
{
	struct extract *x = arg;

	return age_writer_write(x->aw, p, n);
}

/* A tar directory entry for every parent of rel not written yet. */
static int
x_dirs(struct extract *x, const char *rel)
{
	char path[TAR_MAX_NAME];
	char *slash;
	int error;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", x->root, rel) >= sizeof path)
		return custody_fail(CUSTODY_EINVAL, "path too long in the dossier: %s", rel);
	for (slash = path; (slash = strchr(slash, '/')) != NULL; slash++) {
		*slash = '\0';
		if (json_object_get(x->dirs, path) == NULL) {
			if ((error = tar_write_entry(&x->tw, path, TAR_DIR, 0, 0755,
			    time(NULL))) < 0)
				return error;
			json_object_set_new(x->dirs, path, json_true());
		}
		*slash = '/';
	}
	return 0;
}

static int
x_entry(struct extract *x, const char *rel, uint64_t size)
{
	char path[TAR_MAX_NAME];
	int error;

	if ((error = x_dirs(x, rel)) < 0)
		return error;
	snprintf(path, sizeof path, "%s/%s", x->root, rel);
	return tar_write_entry(&x->tw, path, TAR_FILE, size, 0644, time(NULL));
}

static void
x_sha256_hex(char hex[static SHA256_HEX_LEN + 1], const void *p, size_t n)
{
	uint8_t md[SHA256_LEN];

	EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL);
	hex_encode(hex, md, SHA256_LEN);
}

/* A whole file from memory, listed in the payload manifest (data/) or the tag manifest. */
static int
x_file(struct extract *x, const char *rel, const void *p, size_t n)
{
	char hex[SHA256_HEX_LEN + 1];
	int payload = strncmp(rel, "data/", 5) == 0, error;

	if ((error = x_entry(x, rel, n)) < 0 || (error = tar_write_data(&x->tw, p, n)) < 0)
		return error;
	x_sha256_hex(hex, p, n);
	if (payload) {
		x->octets += n;
		x->files++;
	}
	return bagit_write_manifest_line(payload ? &x->manifest : &x->tagmanifest, hex, rel);
}

static int
x_json_file(struct extract *x, const char *rel, json_t *doc)
{
	char *s = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	size_t n;
	int error;

	if (s == NULL)
		return CUSTODY_ENOMEM;
	n = strlen(s);
	if (bytes_grow((void **)&s, n + 1, n + 2) < 0) {
		sodium_memzero(s, n);
		free(s);
		return CUSTODY_ENOMEM;
	}
	s[n] = '\n';
	error = x_file(x, rel, s, n + 1);
	sodium_memzero(s, n + 1);
	free(s);
	return error;
}

static int
x_object_cb(void *arg, const char *name, const void *body, size_t len)
{
	char rel[128];

	snprintf(rel, sizeof rel, "custody/objects/%s", name);
	return x_file(arg, rel, body, len);
}

/* An evidence file name fit for a bag: no '/', control characters or leading dot. */
static char *
x_safe_name(const char *name)
{
	char *s;
	size_t i;

	if (name == NULL || name[0] == '\0' ||
	    utf8proc_iterate((const uint8_t *)name, -1, &(utf8proc_int32_t){ 0 }) < 0)
		return strdup("file");
	if ((s = strdup(name)) == NULL)
		return NULL;
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] == '/' || s[i] == '\\' || (unsigned char)s[i] < 0x20 || s[i] == 0x7f ||
		    (i == 0 && s[i] == '.'))
			s[i] = '_';
	return s;
}

/* Whether the recipient's policy withholds field of kind. */
static int
x_withheld(const struct extract *x, const char *kind, const char *field)
{
	char name[160];

	snprintf(name, sizeof name, "%s.%s", kind, field);
	return json_object_get(x->policy, name) != NULL;
}

/*
 * The name of an evidence file in the bag: its original name made safe, or, when the policy
 * withholds the name, "file" with the extension of its media type (none when that is
 * withheld too).
 */
static char *
x_evidence_name(const struct extract *x, json_t *doc)
{
	const char *ext;
	char buf[16];

	if (!x_withheld(x, "evidence", "name"))
		return x_safe_name(json_string_value(json_object_get(doc, "name")));
	ext = x_withheld(x, "evidence", "media_type") ? NULL :
	    media_extension(json_string_value(json_object_get(doc, "media_type")));
	snprintf(buf, sizeof buf, "file%s%s", ext != NULL ? "." : "", ext != NULL ? ext : "");
	return strdup(buf);
}

/* ---- items --------------------------------------------------------------------------------- */

/* The current tar entry's data (blob_stream's output). */
static int
x_tar_data(void *arg, const void *p, size_t n)
{
	struct extract *x = arg;

	return tar_write_data(&x->tw, p, n);
}

/* Stream one evidence file into the bag, checking it against its record. */
static int
x_evidence(struct extract *x, json_t *doc, const char *rel)
{
	const char *sha = json_string_value(json_object_get(doc, "sha256"));
	const char *blob = json_string_value(json_object_get(doc, "blob"));
	uint64_t size = (uint64_t)json_integer_value(json_object_get(doc, "size")), got = 0;
	uint8_t key[32], sum[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];
	int error;

	if (sha == NULL || blob == NULL || !hex_is_lower(blob, SHA256_HEX_LEN))
		return custody_fail(CUSTODY_EINVAL, "evidence %s has no blob", record_id(doc));
	if ((error = evidence_file_key(x->a, doc, key)) < 0)
		return error;
	if ((error = x_entry(x, rel, size)) == 0)
		error = blob_stream(x->a, blob, key, size, x_tar_data, x, sum, &got);
	sodium_memzero(key, sizeof key);
	if (error < 0)
		return error;
	hex_encode(hex, sum, SHA256_LEN);
	if (got != size || strcmp(hex, sha) != 0)
		return custody_fail(CUSTODY_ECRYPTO, "evidence %s is damaged: its bytes hash to %s",
		    sha, hex);
	x->octets += size;
	x->files++;
	return bagit_write_manifest_line(&x->manifest, sha, rel);
}

/*
 * Whether the evidence doc names a person the dossier does not hold (one left out for its
 * consent, or never reached): its persons are then withheld, lest the ids tell of them.
 */
static int
x_foreign_persons(const struct extract *x, const struct xsel *s, json_t *doc)
{
	json_t *v;
	size_t i;

	if (s->kind != K_EVIDENCE)
		return 0;
	json_array_foreach(json_object_get(doc, "persons"), i, v)
		if (!json_is_string(v) || json_object_get(x->sel.seen,
		    json_string_value(v)) == NULL)
			return 1;
	return 0;
}

/* Take the withheld fields out of doc; decide which keys the proof may carry. */
static int
x_withhold(struct extract *x, struct xsel *s, json_t *doc, json_t *proof,
    const uint8_t key[static 32], json_t **withheld)
{
	const char *kind = xkinds[s->kind], *const *sf;
	char name[160], b64[64], tokhex[TOKEN_HEX_LEN + 1];
	int give_key = 1, sealed;
	json_t *fkeys = json_object(), *v;
	const char *field;
	uint8_t fk[32];
	void *tmp;
	size_t n;

	*withheld = json_array();
	if (fkeys == NULL || *withheld == NULL)
		return CUSTODY_ENOMEM;
	hex_encode(tokhex, s->tok, TOKEN_LEN);
	/* records open with their keys in sorted order, so withheld comes out sorted */
	json_object_foreach_safe(doc, tmp, field, v) {
		/* a date's precision (DATE_precision) goes with the date */
		n = strlen(field);
		if (n > 10 && strcmp(field + n - 10, "_precision") == 0)
			n -= 10;
		snprintf(name, sizeof name, "%s.%.*s", kind, (int)n, field);
		if (json_object_get(x->policy, name) == NULL &&
		    !(s->kind == K_EVIDENCE && strcmp(field, "key") == 0) &&
		    !(strcmp(field, "persons") == 0 && x_foreign_persons(x, s, doc)))
			continue;
		for (sealed = 0, sf = recobj_sealed_fields(kind); *sf != NULL; sf++)
			if (strcmp(*sf, field) == 0)
				sealed = 1;
		/* an evidence record's file key is wrapped by the archive key: no disclosure */
		if (!sealed && !(s->kind == K_EVIDENCE && strcmp(field, "key") == 0))
			give_key = 0;
		json_array_append_new(*withheld, json_string(field));
		json_object_del(doc, field);
	}
	for (sf = recobj_sealed_fields(kind); *sf != NULL; sf++) {
		if (json_object_get(doc, *sf) == NULL)
			continue;
		record_field_key(x->a, tokhex, *sf, fk);
		sodium_bin2base64(b64, sizeof b64, fk, sizeof fk, sodium_base64_VARIANT_ORIGINAL);
		sodium_memzero(fk, sizeof fk);
		json_object_set_new(fkeys, *sf, json_string(b64));
	}
	if (give_key) {
		sodium_bin2base64(b64, sizeof b64, key, 32, sodium_base64_VARIANT_ORIGINAL);
		json_object_set_new(proof, "record_key", json_string(b64));
		if (json_object_size(fkeys) > 0)
			json_object_set(proof, "field_keys", fkeys);
	}
	sodium_memzero(b64, sizeof b64);
	json_decref(fkeys);
	if (json_array_size(*withheld) > 0)
		json_object_set(doc, "withheld", *withheld);
	return 0;
}

static int
x_office_seen(struct extract *x, const char *hex)
{
	return json_object_set_new(x->offices, hex, json_true()) == 0 ? 0 : CUSTODY_ENOMEM;
}

/* One record: its file, its evidence file, its proofs and chain of custody. */
static int
x_item(struct extract *x, struct xsel *s)
{
	const char *kind = xkinds[s->kind];
	json_t *proof = NULL, *doc = NULL, *commits = NULL, *wits = NULL, *withheld = NULL;
	json_t *item = NULL, *chain = NULL, *w;
	char rel[TAR_MAX_NAME], evrel[TAR_MAX_NAME] = "", when[32], *name = NULL;
	uint8_t key[32];
	size_t i;
	int error;

	if ((error = proof_build(&x->proof, s->office, s->tok, &proof, &doc, key, &commits,
	    &wits, when)) < 0) {
		custody_fail(error, "%s %s: %s", kind, s->id, custody_error());
		goto done;
	}
	if ((error = x_office_seen(x, s->office)) < 0)
		goto done;
	json_array_foreach(wits, i, w)
		if ((error = x_office_seen(x, json_string_value(json_object_get(w, "office")))) <
		    0)
			goto done;
	if ((chain = json_array()) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	if (s->kind == K_EVIDENCE) {
		/* who acquired it is the record's acquired_by: absent when that is withheld */
		json_array_append_new(chain, json_pack("{s:s,s:s,s:s}", "event", "acquired",
		    "time", json_string_value(json_object_get(doc, "acquired_at")) ?: "",
		    "office", json_string_value(json_object_get(doc, "office")) ?: ""));
		if (!x_withheld(x, "evidence", "acquired_by"))
			json_object_set_new(json_array_get(chain, 0), "by", json_string(
			    json_string_value(json_object_get(doc, "acquired_by")) ?: ""));
	}
	json_array_append_new(chain, json_pack("{s:s,s:s,s:O,s:O,s:s}", "event", "recorded",
	    "office", s->office, "seq", json_object_get(proof, "seq"), "commit",
	    json_object_get(proof, "commit"), "time", when));
	json_array_foreach(wits, i, w)
		json_array_append_new(chain, json_pack("{s:s,s:O,s:O,s:O}", "event", "witnessed",
		    "office", json_object_get(w, "office"), "seq", json_object_get(w, "seq"),
		    "time", json_object_get(w, "time")));
	json_array_append_new(chain, json_pack("{s:s,s:s,s:s,s:s,s:s}", "event", "exported",
	    "office", x->a->office_hex, "by", x->actor, "time", x->now, "recipient",
	    json_string_value(json_object_get(x->recipient, "name"))));
	if (s->kind == K_EVIDENCE) {
		const char *sha = json_string_value(json_object_get(doc, "sha256"));

		if (sha == NULL || !hex_is_lower(sha, SHA256_HEX_LEN) ||
		    (name = x_evidence_name(x, doc)) == NULL) {
			error = custody_fail(CUSTODY_EINVAL, "evidence %s: bad record", s->id);
			goto done;
		}
		snprintf(evrel, sizeof evrel, "data/evidence/%s/%s", sha, name);
		if ((error = x_evidence(x, doc, evrel)) < 0)
			goto done;
	}
	if ((error = x_withhold(x, s, doc, proof, key, &withheld)) < 0)
		goto done;
	snprintf(rel, sizeof rel, "data/records/%s/%s.json", kind, s->id);
	if ((error = x_json_file(x, rel, doc)) < 0)
		goto done;
	if ((item = json_pack("{s:s,s:s,s:s,s:O,s:O,s:O,s:O,s:O}", "kind", kind, "id", s->id,
	    "record", rel, "withheld", withheld, "proof", proof, "commits", commits,
	    "witnesses", wits, "custody", chain)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	if (evrel[0] != '\0')
		json_object_set_new(item, "evidence", json_string(evrel));
	snprintf(rel, sizeof rel, "custody/items/%s/%s.json", kind, s->id);
	if ((error = x_json_file(x, rel, item)) < 0)
		goto done;
	x->count[s->kind]++;
done:
	sodium_memzero(key, sizeof key);
	free(name);
	json_decref(item);
	json_decref(chain);
	json_decref(withheld);
	json_decref(proof);
	json_decref(doc);
	json_decref(commits);
	json_decref(wits);
	return error;
}

/* ---- the tag files ----------------------------------------------------------------------- */

static int
x_offices(struct extract *x, struct cbuf *signers)
{
	json_t *list = json_array(), *doc = NULL, *v, *hand = NULL;
	uint8_t pk[ED25519_PK_LEN];
	char *line = NULL, *fp = NULL, *name, before[32];
	const char *hex;
	int error = 0, pass, revoked;

	if (list == NULL)
		return CUSTODY_ENOMEM;
	/* the exporter first, then the others */
	for (pass = 0; pass < 2 && error == 0; pass++) {
		json_object_foreach(x->offices, hex, v) {
			if ((strcmp(hex, x->a->office_hex) == 0) != (pass == 0))
				continue;
			if (hex_decode(pk, sizeof pk, hex) < 0) {
				error = custody_fail(CUSTODY_EINVAL, "bad office key %s", hex);
				break;
			}
			name = pass == 0 ? strdup(x->a->conf.office) : sync_office_name(x->a, pk);
			if (name == NULL && (name = strndup(hex, 16)) == NULL) {
				error = CUSTODY_ENOMEM;
				break;
			}
			/* a revoked office's key, only for its commits before the cut */
			if ((error = revoked = revocations_valid_before(x->a, pk, before)) < 0 ||
			    (error = sshkey_format_pub(&line, pk, NULL)) < 0 ||
			    (error = sshkey_fingerprint(&fp, pk)) < 0 ||
			    (error = extract_keys(&x->proof, signers, name, pk, revoked ? before :
			    NULL, &hand)) < 0) {
				free(name);
				break;
			}
			json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s}", "key", hex,
			    "name", name, "public_key", line, "fingerprint", fp));
			if (hand != NULL)
				json_object_set_new(json_array_get(list, json_array_size(list) - 1),
				    "handovers", hand);
			hand = NULL;
			free(name);
			free(line);
			free(fp);
			line = fp = NULL;
		}
	}
	if (error == 0 && (doc = json_pack("{s:s,s:O}", "exporter", x->a->office_hex,
	    "offices", list)) == NULL)
		error = CUSTODY_ENOMEM;
	if (error == 0)
		error = x_json_file(x, "custody/offices.json", doc);
	free(line);
	free(fp);
	json_decref(list);
	json_decref(doc);
	return error;
}

static int
x_export(struct extract *x)
{
	json_t *items = json_array(), *doc = NULL, *withhold = json_array(), *v;
	const char *k;
	size_t i;
	int error = CUSTODY_ENOMEM;

	if (items == NULL || withhold == NULL)
		goto done;
	for (i = 0; i < x->sel.n; i++)
		json_array_append_new(items, json_pack("{s:s,s:s}", "kind",
		    xkinds[x->sel.v[i].kind], "id", x->sel.v[i].id));
	json_object_foreach(x->policy, k, v)
		json_array_append_new(withhold, json_string(k));
	json_array_append_new(withhold, json_string("evidence.key"));
	if ((doc = json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:O,s:O},s:O,s:O}", "dossier", x->root,
	    "office", x->a->office_hex, "office_name", x->a->conf.office, "exported_at", x->now,
	    "exported_by", x->actor, "recipient", "name",
	    json_object_get(x->recipient, "name"), "key", json_object_get(x->recipient, "key"),
	    "withhold", withhold, "items", items)) == NULL)
		goto done;
	error = x_json_file(x, "custody/export.json", doc);
done:
	json_decref(items);
	json_decref(withhold);
	json_decref(doc);
	return error;
}

/* The manifests, bag-info, the signature: everything after the payload. */
static int
x_finish_bag(struct extract *x, char tmhex[static SHA256_HEX_LEN + 1])
{
	struct cbuf decl = { 0 }, info = { 0 }, signers = { 0 }, sigline = { 0 };
	char date[16], rcpt[256], *sig = NULL;
	struct bagit_tag tags[7];
	int error;

	if ((error = x_export(x)) < 0 || (error = x_offices(x, &signers)) < 0)
		goto done;
	snprintf(date, sizeof date, "%.10s", x->now);
	snprintf(rcpt, sizeof rcpt, "%s %s",
	    json_string_value(json_object_get(x->recipient, "name")),
	    json_string_value(json_object_get(x->recipient, "key")));
	tags[0] = (struct bagit_tag){ "Source-Organization", x->a->conf.office };
	tags[1] = (struct bagit_tag){ "Bagging-Date", date };
	tags[2] = (struct bagit_tag){ "External-Identifier", x->root };
	tags[3] = (struct bagit_tag){ "Custody-Office-Fingerprint", x->a->fingerprint };
	tags[4] = (struct bagit_tag){ "Custody-Recipient", rcpt };
	tags[5] = (struct bagit_tag){ "Custody-Exported-By", x->actor };
	tags[6] = (struct bagit_tag){ "Custody-Exported-At", x->now };
	if ((error = bagit_write_declaration(&decl)) < 0 ||
	    (error = bagit_write_info(&info, tags, 7, x->octets, x->files)) < 0 ||
	    (error = x_file(x, "manifest-sha256.txt", x->manifest.data, x->manifest.len)) < 0 ||
	    (error = x_file(x, "bagit.txt", decl.data, decl.len)) < 0 ||
	    (error = x_file(x, "bag-info.txt", info.data, info.len)) < 0 ||
	    (error = x_file(x, "allowed_signers", signers.data, signers.len)) < 0)
		goto done;
	/* the tag manifest lists the files above; it is not listed in itself */
	x_sha256_hex(tmhex, x->tagmanifest.data, x->tagmanifest.len);
	if ((error = x_entry(x, "tagmanifest-sha256.txt", x->tagmanifest.len)) < 0 ||
	    (error = tar_write_data(&x->tw, x->tagmanifest.data, x->tagmanifest.len)) < 0)
		goto done;
	if ((error = sshsig_sign(&sig, x->a->office_sk, "custody-dossier", "sha512",
	    x->tagmanifest.data, x->tagmanifest.len)) < 0 ||
	    (error = cbuf_printf(&sigline, "%s\n", sig)) < 0 ||
	    (error = x_entry(x, "tagmanifest-sha256.txt.sig", sigline.len)) < 0 ||
	    (error = tar_write_data(&x->tw, sigline.data, sigline.len)) < 0)
		goto done;
	error = tar_write_finish(&x->tw);
done:
	free(sig);
	cbuf_free(&decl);
	cbuf_free(&info);
	cbuf_free(&signers);
	cbuf_free(&sigline);
	return error;
}

/* ---- the request ------------------------------------------------------------------------- */

/*
 * The custody event of this extract, in the office's own feed. The dossier's hash is its tag
 * manifest's: that covers every file of the bag, and the recipient can compute it.
 */
static int
x_event(struct extract *x, const char *tmhex, struct records_written *w)
{
	json_t *items = json_array(), *ev;
	char *eid = record_random_id();
	size_t i;
	int error;

	if (items == NULL || eid == NULL) {
		json_decref(items);
		free(eid);
		return CUSTODY_ENOMEM;
	}
	for (i = 0; i < x->sel.n; i++)
		json_array_append_new(items, json_pack("s++", xkinds[x->sel.v[i].kind], ":",
		    x->sel.v[i].id));
	ev = json_pack("{s:s,s:s,s:s,s:s,s:O,s:O,s:o,s:s,s:I,s:s,s:s}", "kind", "event", "id",
	    eid, "action", "extract", "dossier", x->root, "recipient",
	    json_object_get(x->recipient, "name"), "recipient_key",
	    json_object_get(x->recipient, "key"), "items", items, "tagmanifest_sha256", tmhex, "size", (json_int_t)x->written, "actor", x->actor,
	    "time", x->now);
	free(eid);
	if (ev == NULL)
		return CUSTODY_ENOMEM;
	error = records_write_changed(x->a, &ev, 1, "extract a dossier", 0, w);
	json_decref(ev);
	return error;
}

static void
x_free(struct extract *x)
{
	selection_free(&x->sel);
	json_decref(x->recipient);
	json_decref(x->policy);
	json_decref(x->dirs);
	json_decref(x->offices);
	json_decref(x->proof.objects);
	proof_free(&x->proof);
	age_writer_free(x->aw);
	cbuf_free(&x->manifest);
	cbuf_free(&x->tagmanifest);
}

/*
 * Write the dossier an ExtractRequest asks for into fd (a regular file), then its custody
 * event. *progress and *total (bytes) are read by another thread while it runs.
 */
int
extract_write(struct extract_result *out, struct archive *a, const Custody__ExtractRequest *m,
    int fd, const char *actor, uint64_t *progress, uint64_t *total)
{
	struct extract x = { .a = a, .fd = fd, .actor = actor, .progress = progress };
	struct records_written w;
	uint8_t rid[16];
	char tmhex[SHA256_HEX_LEN + 1];
	const char *key;
	json_t *v;
	struct stat st;
	size_t i;
	int error;

	memset(out, 0, sizeof *out);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return custody_fail(CUSTODY_EINVAL, "extract needs a regular file to write to");
	x.sel.a = a;
	x.sel.seen = json_object();
	x.sel.left = json_object();
	x.dirs = json_object();
	x.offices = json_object();
	x.policy = json_object();
	x.proof.objects = json_object();
	if (x.sel.seen == NULL || x.sel.left == NULL || x.dirs == NULL || x.offices == NULL || x.policy == NULL ||
	    x.proof.objects == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	if ((error = recipient_load(a, m->recipient, &x.recipient)) < 0)
		goto done;
	key = json_string_value(json_object_get(x.recipient, "key"));
	if (key == NULL || age_recipient_parse(&x.rcpt, key, strlen(key)) < 0) {
		error = custody_fail(CUSTODY_EINVAL, "recipient %s has no usable age key",
		    m->recipient);
		goto done;
	}
	json_array_foreach(json_object_get(x.recipient, "withhold"), i, v) {
		if (!json_is_string(v))
			continue;
		/* a policy a dossier cannot keep (written before the proofs were checked for it) */
		if (!recipient_withholdable(json_string_value(v))) {
			error = custody_fail(CUSTODY_EINVAL, "recipient %s withholds %s, which no "
			    "dossier can hide (its proofs show it): add the recipient again "
			    "without it", m->recipient, json_string_value(v));
			goto done;
		}
		json_object_set_new(x.policy, json_string_value(v), json_true());
	}
	if ((error = recipient_policy_extra(x.policy, x.recipient)) < 0)
		goto done;
	x.sel.policy = x.policy;
	x.sel.consent_class = json_string_value(json_object_get(x.recipient, "class"));
	if (x.sel.consent_class != NULL && !recipient_class_ok(x.sel.consent_class)) {
		error = custody_fail(CUSTODY_EINVAL, "recipient %s has an unknown consent class",
		    m->recipient);
		goto done;
	}
	if ((error = selection_build(&x.sel, m)) < 0)
		goto done;
	qsort(x.sel.v, x.sel.n, sizeof *x.sel.v, selection_cmp);
	__atomic_store_n(total, x.sel.evidence_bytes + 65536 * (uint64_t)x.sel.n,
	    __ATOMIC_RELAXED);
	randombytes_buf(rid, sizeof rid);
	memcpy(x.root, "dossier-", 8);
	hex_encode(x.root + 8, rid, sizeof rid);
	record_now(x.now);
	x.proof.a = a;
	x.proof.object = x_object_cb;
	x.proof.arg = &x;
	if ((x.proof.repo = archive_repo(a)) == NULL) {
		error = CUSTODY_EIO;
		goto done;
	}
	if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
		error = custody_fail(CUSTODY_EIO, "cannot write to the output file");
		goto done;
	}
	if ((error = age_writer_new(&x.aw, &x.rcpt, 1, x_file_out, &x)) < 0)
		goto done;
	tar_writer_init(&x.tw, x_tar_out, &x);
	for (i = 0; i < x.sel.n && error == 0; i++)
		error = x_item(&x, &x.sel.v[i]);
	if (error < 0 || (error = x_finish_bag(&x, tmhex)) < 0 ||
	    (error = age_writer_finish(x.aw)) < 0)
		goto done;
	if (fsync(fd) != 0) {
		error = custody_fail(CUSTODY_EIO, "writing the dossier: %s", strerror(errno));
		goto done;
	}
	if ((error = x_event(&x, tmhex, &w)) < 0)
		goto done;
	if (w.committed) {
		git_oid_tostr(out->commit, sizeof out->commit, &w.commit.oid);
		out->seq = w.commit.seq;
	}
	snprintf(out->dossier, sizeof out->dossier, "%s", x.root);
	memcpy(out->tagmanifest_sha256, tmhex, sizeof tmhex);
	out->size = x.written;
	out->records = x.sel.n;
	out->incidents = x.count[K_INCIDENT];
	out->victims = x.count[K_VICTIM];
	out->evidence = x.count[K_EVIDENCE];
	out->sources = x.count[K_SOURCE];
	out->persons = x.count[K_PERSON];
	out->person_events = x.count[K_PERSON_EVENT];
	out->sites = x.count[K_SITE];
	out->persons_left_out = (unsigned)json_object_size(x.sel.left);
	out->person_events_left_out = x.sel.events_left;
	snprintf(out->consent_class, sizeof out->consent_class, "%s", x.sel.consent_class ?: "");
	out->evidence_bytes = x.sel.evidence_bytes;
done:
	if (error < 0 && ftruncate(fd, 0) != 0)
		log_warn("extract: cannot clear the output after a failure");
	x_free(&x);
	return error;
}
