/* POSIX ustar/pax: a streaming writer and a strict streaming reader. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/tar.h"

/* ustar header field offsets and sizes. */
#define H_NAME		0
#define H_MODE		100
#define H_UID		108
#define H_GID		116
#define H_SIZE		124
#define H_MTIME		136
#define H_CHKSUM	148
#define H_TYPE		156
#define H_MAGIC		257
#define H_VERSION	263
#define H_PREFIX	345

#define OCTAL11_MAX	077777777777ULL	/* largest value of an 11-digit field */

/* Reason why name may not be an entry name, or NULL. */
const char *
tar_name_check(const char *name)
{
	const char *c, *e;
	size_t len;

	if (*name == '\0')
		return "empty name";
	if (strlen(name) > TAR_MAX_NAME)
		return "name too long";
	if (*name == '/')
		return "absolute name";
	for (c = name; ; c = e + 1) {
		if ((e = strchr(c, '/')) == NULL)
			e = c + strlen(c);
		len = (size_t)(e - c);
		if (len == 0)
			return "empty name component";
		if ((len == 1 && c[0] == '.') ||
		    (len == 2 && c[0] == '.' && c[1] == '.'))
			return "\".\" or \"..\" name component";
		if (*e == '\0')
			return NULL;
	}
}

/* ---- writer ---- */

/* Set up a writer sending bytes to fn. */
void
tar_writer_init(struct tar_writer *w, tar_write_fn fn, void *arg)
{
	memset(w, 0, sizeof *w);
	w->fn = fn;
	w->arg = arg;
}

/* Write n bytes, remembering failure. */
static int
tw_out(struct tar_writer *w, const void *p, size_t n)
{
	int error;

	if ((error = w->fn(w->arg, p, n)) < 0)
		w->failed = 1;
	return error;
}

/* Put v as zero-padded octal in a field of len bytes (len-1 digits and NUL). */
static void
put_octal(uint8_t *field, size_t len, uint64_t v)
{
	snprintf((char *)field, len, "%0*llo", (int)(len - 1),
	    (unsigned long long)v);
}

/* Fill in and write one header block. */
static int
tw_header(struct tar_writer *w, const char *name, char type, uint64_t size,
    uint32_t mode, uint64_t mtime)
{
	uint8_t h[TAR_BLOCK];
	unsigned sum = 0;
	size_t i;

	memset(h, 0, sizeof h);
	memcpy(h + H_NAME, name, strnlen(name, 100));
	put_octal(h + H_MODE, 8, mode & 07777);
	put_octal(h + H_UID, 8, 0);
	put_octal(h + H_GID, 8, 0);
	put_octal(h + H_SIZE, 12, size);
	put_octal(h + H_MTIME, 12, mtime);
	h[H_TYPE] = (uint8_t)type;
	memcpy(h + H_MAGIC, "ustar", 6);
	memcpy(h + H_VERSION, "00", 2);
	memset(h + H_CHKSUM, ' ', 8);
	for (i = 0; i < sizeof h; i++)
		sum += h[i];
	snprintf((char *)h + H_CHKSUM, 7, "%06o", sum & 0777777);
	h[H_CHKSUM + 6] = '\0';
	h[H_CHKSUM + 7] = ' ';
	return tw_out(w, h, sizeof h);
}

/* Zeros up to the next block boundary after len bytes. */
static int
tw_pad(struct tar_writer *w, uint64_t len)
{
	static const uint8_t zero[TAR_BLOCK];
	size_t pad = (size_t)((TAR_BLOCK - len % TAR_BLOCK) % TAR_BLOCK);

	return pad ? tw_out(w, zero, pad) : 0;
}

/* Append one pax record "LEN key=value\n", LEN counting itself. */
static int
pax_record(struct cbuf *b, const char *key, const char *value)
{
	size_t body = strlen(key) + strlen(value) + 3, len = body + 1, digits;
	char tmp[24];

	for (;;) {
		digits = (size_t)snprintf(tmp, sizeof tmp, "%zu", len);
		if (body + digits == len)
			break;
		len = body + digits;
	}
	return cbuf_printf(b, "%zu %s=%s\n", len, key, value);
}

/* Start an entry: optional pax header, then the ustar header. */
int
tar_write_entry(struct tar_writer *w, const char *name, int type,
    uint64_t size, uint32_t mode, int64_t mtime)
{
	struct cbuf pax = { 0 };
	char *full = NULL, num[24], paxname[100];
	const char *why, *base;
	uint64_t mt;
	int error;

	if (w->failed || w->finished || w->left != 0)
		return custody_fail(CUSTODY_EINVAL, "tar: previous entry "
		    "incomplete or archive finished");
	if ((type != TAR_FILE && type != TAR_DIR) || (type == TAR_DIR && size))
		return custody_fail(CUSTODY_EINVAL, "tar: bad entry type");
	if ((why = tar_name_check(name)) != NULL)
		return custody_fail(CUSTODY_EINVAL, "tar: %s: %s", name, why);
	if (asprintf(&full, "%s%s", name, type == TAR_DIR ? "/" : "") < 0)
		return CUSTODY_ENOMEM;
	mt = mtime < 0 ? 0 : (uint64_t)mtime > OCTAL11_MAX ? OCTAL11_MAX :
	    (uint64_t)mtime;
	if (strlen(full) > 100 && (error = pax_record(&pax, "path", full)) < 0)
		goto done;
	if (size > OCTAL11_MAX) {
		snprintf(num, sizeof num, "%llu", (unsigned long long)size);
		if ((error = pax_record(&pax, "size", num)) < 0)
			goto done;
	}
	if (pax.len > 0) {
		base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
		snprintf(paxname, sizeof paxname, "PaxHeaders/%.80s", base);
		if ((error = tw_header(w, paxname, 'x', pax.len, 0644, mt)) < 0 ||
		    (error = tw_out(w, pax.data, pax.len)) < 0 ||
		    (error = tw_pad(w, pax.len)) < 0)
			goto done;
	}
	if ((error = tw_header(w, full, type == TAR_DIR ? '5' : '0',
	    size > OCTAL11_MAX ? 0 : size, mode, mt)) < 0)
		goto done;
	w->left = w->size = size;
done:
	cbuf_free(&pax);
	free(full);
	return error;
}

/* Write part of the current entry's data. */
int
tar_write_data(struct tar_writer *w, const void *p, size_t n)
{
	int error;

	if (w->failed || n > w->left)
		return custody_fail(CUSTODY_EINVAL, "tar: more data than the "
		    "entry's size");
	if (n == 0)
		return 0;
	if ((error = tw_out(w, p, n)) < 0)
		return error;
	w->left -= n;
	return w->left == 0 ? tw_pad(w, w->size) : 0;
}

/* Two zero blocks end the archive. */
int
tar_write_finish(struct tar_writer *w)
{
	static const uint8_t zero[2 * TAR_BLOCK];
	int error;

	if (w->failed || w->finished || w->left != 0)
		return custody_fail(CUSTODY_EINVAL, "tar: entry incomplete");
	if ((error = tw_out(w, zero, sizeof zero)) < 0)
		return error;
	w->finished = 1;
	return 0;
}

/* Write to the descriptor *(int *)arg. */
int
tar_write_fd(void *arg, const void *p, size_t n)
{
	return write_all(*(int *)arg, p, n);
}

/* ---- reader ---- */

enum {
	TR_HEADER,	/* collecting a 512-byte header */
	TR_PAX,		/* collecting a pax extended header's data */
	TR_DATA,	/* passing an entry's data on */
	TR_PAD,		/* skipping padding */
	TR_END,		/* two zero blocks seen */
	TR_ERROR,
};

struct tar_reader {
	struct tar_reader_cb	 cb;
	void			*arg;
	uint64_t		 max_size;
	int			 state;
	int			 error;
	uint8_t			 block[TAR_BLOCK];
	size_t			 have;
	int			 zeros;		/* zero blocks in a row */
	uint64_t		 left;		/* data or padding still to come */
	uint64_t		 padding;	/* padding after the data */
	struct cbuf		 pax;
	uint64_t		 pax_size;
	char			*pax_path;	/* from the pending pax header */
	int			 pax_has_size;
	uint64_t		 pax_sz;
	int			 pax_has_mtime;
	int64_t			 pax_mtime;
	struct tar_entry	 e;
};

/* Make a reader. */
int
tar_reader_new(struct tar_reader **out, const struct tar_reader_cb *cb,
    void *arg, uint64_t max_size)
{
	struct tar_reader *r;

	*out = NULL;
	if ((r = calloc(1, sizeof *r)) == NULL)
		return CUSTODY_ENOMEM;
	r->cb = *cb;
	r->arg = arg;
	r->max_size = max_size;
	*out = r;
	return 0;
}

/* Free a reader. */
void
tar_reader_free(struct tar_reader *r)
{
	if (r == NULL)
		return;
	cbuf_free(&r->pax);
	free(r->pax_path);
	free(r->e.name);
	free(r);
}

/* Stop for good with a reason. */
static int
tr_fail(struct tar_reader *r, int code, const char *why)
{
	r->state = TR_ERROR;
	r->error = code;
	return custody_fail(code, "tar: %s", why);
}

/* Parse an octal field: blanks, >= 1 digit, then only blanks or NULs. */
static int
get_octal(const uint8_t *f, size_t len, uint64_t *out)
{
	size_t i = 0;
	uint64_t v = 0;
	int digits = 0;

	while (i < len && f[i] == ' ')
		i++;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
		if (v > (UINT64_MAX >> 3))
			return -1;
		v = v << 3 | (uint64_t)(f[i] - '0');
	}
	if (digits == 0)
		return -1;
	for (; i < len; i++)
		if (f[i] != ' ' && f[i] != '\0')
			return -1;
	*out = v;
	return 0;
}

/* Parse decimal digits s[0..n); -1 on overflow or any non-digit. */
static int
get_decimal(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 19)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Parse the collected pax records into the pending overrides. */
static int
tr_pax(struct tar_reader *r)
{
	const char *p = (const char *)r->pax.data, *end = p + r->pax.len;
	const char *sp, *eq, *key, *val, *rec;
	uint64_t len, v;
	size_t klen, vlen;

	while (p < end) {
		rec = p;
		for (sp = p; sp < end && *sp != ' '; sp++)
			;
		if (sp == end || get_decimal(p, (size_t)(sp - p), &len) < 0 ||
		    len > (uint64_t)(end - rec) || len < 5 || rec[len - 1] != '\n' ||
		    (uint64_t)(sp - rec) + 2 > len)
			return tr_fail(r, CUSTODY_EINVAL, "malformed pax record");
		key = sp + 1;
		if ((eq = memchr(key, '=', (size_t)(rec + len - 1 - key))) == NULL)
			return tr_fail(r, CUSTODY_EINVAL, "pax record without =");
		klen = (size_t)(eq - key);
		val = eq + 1;
		vlen = (size_t)(rec + len - 1 - val);
		if (klen == 4 && memcmp(key, "path", 4) == 0) {
			if (memchr(val, '\0', vlen) != NULL || vlen == 0)
				return tr_fail(r, CUSTODY_EINVAL, "bad pax path");
			free(r->pax_path);
			if ((r->pax_path = strndup(val, vlen)) == NULL)
				return tr_fail(r, CUSTODY_ENOMEM, "out of memory");
		} else if (klen == 4 && memcmp(key, "size", 4) == 0) {
			if (get_decimal(val, vlen, &r->pax_sz) < 0)
				return tr_fail(r, CUSTODY_EINVAL, "bad pax size");
			r->pax_has_size = 1;
		} else if (klen == 5 && memcmp(key, "mtime", 5) == 0) {
			/* Seconds, maybe a fraction; the fraction is dropped. */
			sp = memchr(val, '.', vlen);
			if (get_decimal(val, sp ? (size_t)(sp - val) : vlen, &v) < 0 ||
			    v > INT64_MAX)
				return tr_fail(r, CUSTODY_EINVAL, "bad pax mtime");
			r->pax_mtime = (int64_t)v;
			r->pax_has_mtime = 1;
		} else if (klen > 11 && memcmp(key, "GNU.sparse.", 11) == 0)
			return tr_fail(r, CUSTODY_EINVAL, "sparse files refused");
		p = rec + len;
	}
	return 0;
}

/* Forget the pending pax overrides. */
static void
tr_pax_reset(struct tar_reader *r)
{
	free(r->pax_path);
	r->pax_path = NULL;
	r->pax_has_size = r->pax_has_mtime = 0;
	r->pax.len = 0;
}

/* Verify a header's checksum (unsigned, or signed as some old tars wrote). */
static int
tr_checksum_ok(const uint8_t *h)
{
	uint64_t stored;
	unsigned usum = 0;
	int ssum = 0;
	size_t i;

	if (get_octal(h + H_CHKSUM, 8, &stored) < 0)
		return 0;
	for (i = 0; i < TAR_BLOCK; i++) {
		uint8_t c = (i >= H_CHKSUM && i < H_CHKSUM + 8) ? ' ' : h[i];

		usum += c;
		ssum += (int8_t)c;
	}
	return stored == usum || (int64_t)stored == ssum;
}

/* Decode one complete header block. */
static int
tr_header(struct tar_reader *r)
{
	const uint8_t *h = r->block;
	char name[257], *full;
	const char *why;
	uint64_t size, mode, mtime;
	size_t i, nlen, plen;
	int gnu, error;

	for (i = 0; i < TAR_BLOCK && h[i] == 0; i++)
		;
	if (i == TAR_BLOCK) {
		if (r->pax_path || r->pax_has_size)
			return tr_fail(r, CUSTODY_EINVAL, "pax header without entry");
		if (++r->zeros == 2)
			r->state = TR_END;
		return 0;
	}
	if (r->zeros)
		return tr_fail(r, CUSTODY_EINVAL, "entry after a zero block");
	if (!tr_checksum_ok(h))
		return tr_fail(r, CUSTODY_EINVAL, "header checksum mismatch");
	gnu = memcmp(h + H_MAGIC, "ustar  \0", 8) == 0;
	if (!gnu && (memcmp(h + H_MAGIC, "ustar\0", 6) != 0 ||
	    memcmp(h + H_VERSION, "00", 2) != 0))
		return tr_fail(r, CUSTODY_EINVAL, "not a ustar header");
	if (get_octal(h + H_SIZE, 12, &size) < 0 ||
	    get_octal(h + H_MODE, 8, &mode) < 0 ||
	    get_octal(h + H_MTIME, 12, &mtime) < 0)
		return tr_fail(r, CUSTODY_EINVAL, "bad numeric field");

	switch (h[H_TYPE]) {
	case 'x':
		if (size > TAR_MAX_PAX)
			return tr_fail(r, CUSTODY_ETOOBIG, "pax header too large");
		if (r->pax_path || r->pax_has_size)
			return tr_fail(r, CUSTODY_EINVAL, "two pax headers in a row");
		r->pax.len = 0;
		r->pax_size = size;
		r->left = size;
		r->padding = (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;
		r->state = size ? TR_PAX : TR_HEADER;
		return 0;
	case '0': case '\0':
		r->e.type = TAR_FILE;
		break;
	case '5':
		r->e.type = TAR_DIR;
		break;
	case '1': case '2':
		return tr_fail(r, CUSTODY_EINVAL, "links refused");
	case '3': case '4': case '6':
		return tr_fail(r, CUSTODY_EINVAL, "device or fifo refused");
	case 'L': case 'K':
		return tr_fail(r, CUSTODY_EINVAL, "GNU long names refused");
	case 'g':
		return tr_fail(r, CUSTODY_EINVAL, "pax global header refused");
	default:
		return tr_fail(r, CUSTODY_EINVAL, "unsupported entry type");
	}

	if (r->pax_has_size)
		size = r->pax_sz;
	if (r->pax_has_mtime)
		mtime = (uint64_t)r->pax_mtime;
	if (r->pax_path) {
		full = r->pax_path;
		r->pax_path = NULL;
	} else {
		nlen = strnlen((const char *)h + H_NAME, 100);
		plen = gnu ? 0 : strnlen((const char *)h + H_PREFIX, 155);
		if (plen)
			snprintf(name, sizeof name, "%.*s/%.*s", (int)plen,
			    (const char *)h + H_PREFIX, (int)nlen,
			    (const char *)h + H_NAME);
		else
			snprintf(name, sizeof name, "%.*s", (int)nlen,
			    (const char *)h + H_NAME);
		if ((full = strdup(name)) == NULL)
			return tr_fail(r, CUSTODY_ENOMEM, "out of memory");
	}
	tr_pax_reset(r);
	/* Directories end in '/', files never do. */
	nlen = strlen(full);
	if (nlen > 0 && full[nlen - 1] == '/') {
		if (r->e.type != TAR_DIR) {
			free(full);
			return tr_fail(r, CUSTODY_EINVAL, "file name ends in /");
		}
		full[nlen - 1] = '\0';
	}
	free(r->e.name);
	r->e.name = full;
	if ((why = tar_name_check(full)) != NULL)
		return tr_fail(r, CUSTODY_EINVAL, why);
	if (r->e.type == TAR_DIR && size != 0)
		return tr_fail(r, CUSTODY_EINVAL, "directory with data");
	if (r->max_size && size > r->max_size)
		return tr_fail(r, CUSTODY_ETOOBIG, "entry too large");
	if (mtime > INT64_MAX)
		return tr_fail(r, CUSTODY_EINVAL, "bad mtime");
	r->e.size = size;
	r->e.mode = (uint32_t)(mode & 07777);
	r->e.mtime = (int64_t)mtime;
	if (r->cb.entry && (error = r->cb.entry(r->arg, &r->e)) < 0)
		return tr_fail(r, error, "stopped by the caller");
	r->left = size;
	r->padding = (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;
	if (size == 0) {
		if (r->cb.end && (error = r->cb.end(r->arg)) < 0)
			return tr_fail(r, error, "stopped by the caller");
		r->state = TR_HEADER;
	} else
		r->state = TR_DATA;
	return 0;
}

/* Feed archive bytes. */
int
tar_reader_feed(struct tar_reader *r, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	size_t take;
	int error;

	while (n > 0) {
		switch (r->state) {
		case TR_ERROR:
			return r->error;
		case TR_END:
			return 0;	/* the rest is record padding */
		case TR_HEADER:
			take = TAR_BLOCK - r->have < n ? TAR_BLOCK - r->have : n;
			memcpy(r->block + r->have, p, take);
			r->have += take;
			p += take;
			n -= take;
			if (r->have == TAR_BLOCK) {
				r->have = 0;
				if ((error = tr_header(r)) < 0)
					return error;
			}
			break;
		case TR_PAX:
		case TR_DATA:
			take = r->left < n ? (size_t)r->left : n;
			if (r->state == TR_PAX)
				error = cbuf_put(&r->pax, p, take);
			else
				error = r->cb.data ? r->cb.data(r->arg, p, take) : 0;
			if (error < 0)
				return tr_fail(r, error, "stopped by the caller");
			p += take;
			n -= take;
			if ((r->left -= take) > 0)
				break;
			if (r->state == TR_PAX) {
				if ((error = tr_pax(r)) < 0)
					return error;
			} else if (r->cb.end && (error = r->cb.end(r->arg)) < 0)
				return tr_fail(r, error, "stopped by the caller");
			r->left = r->padding;
			r->state = r->left ? TR_PAD : TR_HEADER;
			break;
		case TR_PAD:
			take = r->left < n ? (size_t)r->left : n;
			p += take;
			n -= take;
			if ((r->left -= take) == 0)
				r->state = TR_HEADER;
			break;
		}
	}
	return r->state == TR_ERROR ? r->error : 0;
}

/* The input ended: it must have ended the archive properly. */
int
tar_reader_finish(struct tar_reader *r)
{
	if (r->state == TR_ERROR)
		return r->error;
	if (r->state != TR_END)
		return tr_fail(r, CUSTODY_EINVAL, "archive truncated");
	return 0;
}
