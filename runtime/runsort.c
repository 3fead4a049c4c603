/*
 * An external merge sort of fixed-size items (custody/runsort.h): runs sorted in memory and
 * written one after another to a scratch file, then merged through a binary heap.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "custody/runsort.h"

#define RUNSORT_PIECE 1024	/* items of a run read at a time while merging */

struct runsort_run {
	uint64_t	 start;		/* byte offset of its first item in the scratch file */
	size_t		 n, read;	/* items; items read */
	uint8_t		*buf;
	size_t		 bn, bi;	/* items in buf; the next */
};

struct runsort {
	size_t			 size, run;
	int			(*cmp)(const void *, const void *);
	int			 fd;
	uint8_t			*mem;		/* the run being gathered */
	size_t			 n, cap;
	size_t			 total;
	uint64_t		 end;		/* bytes of the scratch file */
	struct runsort_run	*runs;
	size_t			 nruns;
	size_t			*heap, nheap, at;
	int			 sorted;
};

static int
runsort_sys(const char *what)
{
	return custody_fail(errno == ENOSPC ? CUSTODY_ENOSPC : CUSTODY_EIO,
	    "sorting: cannot %s the scratch file: %s", what, strerror(errno));
}

/* A sorter of items of size bytes, run of them in memory, fd its scratch file or -1. */
int
runsort_new(struct runsort **out, size_t size, size_t run,
    int (*cmp)(const void *, const void *), int fd)
{
	struct runsort *rs;

	*out = NULL;
	if (size == 0 || run == 0)
		return custody_fail(CUSTODY_EINVAL, "sorting: empty items or runs");
	if ((rs = calloc(1, sizeof *rs)) == NULL)
		return CUSTODY_ENOMEM;
	rs->size = size;
	rs->run = run;
	rs->cmp = cmp;
	rs->fd = fd;
	*out = rs;
	return 0;
}

/* The run gathered in memory, sorted and appended to the scratch file. */
static int
runsort_out(struct runsort *rs)
{
	struct runsort_run *r;
	size_t len = rs->n * rs->size, done = 0;
	ssize_t w;

	if (rs->n == 0)
		return 0;
	if ((r = reallocarray(rs->runs, rs->nruns + 1, sizeof *r)) == NULL)
		return CUSTODY_ENOMEM;
	rs->runs = r;
	qsort(rs->mem, rs->n, rs->size, rs->cmp);
	while (done < len) {
		if ((w = pwrite(rs->fd, rs->mem + done, len - done, (off_t)(rs->end + done))) < 0) {
			if (errno == EINTR)
				continue;
			return runsort_sys("write");
		}
		done += (size_t)w;
	}
	r[rs->nruns++] = (struct runsort_run){ .start = rs->end, .n = rs->n };
	rs->end += len;
	rs->n = 0;
	return 0;
}

/* Add one item (size bytes). */
int
runsort_add(struct runsort *rs, const void *item)
{
	uint8_t *m;
	size_t cap;
	int error;

	if (rs->sorted)
		return custody_fail(CUSTODY_EINVAL, "sorting: an item after the sort");
	if (rs->n == rs->run && rs->fd >= 0 && (error = runsort_out(rs)) < 0)
		return error;
	if (rs->n == rs->cap) {
		cap = rs->cap ? 2 * rs->cap : 1024;
		if (rs->fd >= 0 && cap > rs->run)
			cap = rs->run;
		if ((m = reallocarray(rs->mem, cap, rs->size)) == NULL)
			return CUSTODY_ENOMEM;
		rs->mem = m;
		rs->cap = cap;
	}
	memcpy(rs->mem + rs->n * rs->size, item, rs->size);
	rs->n++;
	rs->total++;
	return 0;
}

/* Every item in: one run sorted in memory, or every run in the scratch file. */
int
runsort_sort(struct runsort *rs)
{
	int error;

	if (rs->sorted)
		return 0;
	rs->sorted = 1;
	if (rs->nruns == 0) {
		if (rs->n > 1)
			qsort(rs->mem, rs->n, rs->size, rs->cmp);
		return 0;
	}
	if ((error = runsort_out(rs)) < 0)
		return error;
	free(rs->mem);		/* the merge reads each run in pieces */
	rs->mem = NULL;
	rs->cap = 0;
	return 0;
}

/* Refill run r's piece: 0, or 1 when the run is over. */
static int
runsort_fill(struct runsort *rs, struct runsort_run *r)
{
	size_t want = r->n - r->read < RUNSORT_PIECE ? r->n - r->read : RUNSORT_PIECE;
	ssize_t got;

	if (want == 0)
		return 1;
	do
		got = pread(rs->fd, r->buf, want * rs->size, (off_t)(r->start +
		    r->read * rs->size));
	while (got < 0 && errno == EINTR);
	if (got != (ssize_t)(want * rs->size))
		return got < 0 ? runsort_sys("read") :
		    custody_fail(CUSTODY_EIO, "sorting: the scratch file was cut short");
	r->read += want;
	r->bn = want;
	r->bi = 0;
	return 0;
}

static int
runsort_less(const struct runsort *rs, size_t x, size_t y)
{
	const struct runsort_run *a = &rs->runs[x], *b = &rs->runs[y];

	return rs->cmp(a->buf + a->bi * rs->size, b->buf + b->bi * rs->size) < 0;
}

/* Move the heap's entry at i down to its place. */
static void
runsort_down(struct runsort *rs, size_t i)
{
	size_t l, m, t;

	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < rs->nheap && runsort_less(rs, rs->heap[l], rs->heap[m]))
			m = l;
		if (l + 1 < rs->nheap && runsort_less(rs, rs->heap[l + 1], rs->heap[m]))
			m = l + 1;
		if (m == i)
			return;
		t = rs->heap[i];
		rs->heap[i] = rs->heap[m];
		rs->heap[m] = t;
		i = m;
	}
}

/* Read the items again from the first, in order. */
int
runsort_rewind(struct runsort *rs)
{
	struct runsort_run *r;
	size_t i;
	int error;

	if (!rs->sorted)
		return custody_fail(CUSTODY_EINVAL, "sorting: read before the sort");
	rs->at = 0;
	if (rs->nruns == 0)
		return 0;
	if (rs->heap == NULL && (rs->heap = calloc(rs->nruns, sizeof *rs->heap)) == NULL)
		return CUSTODY_ENOMEM;
	rs->nheap = 0;
	for (i = 0; i < rs->nruns; i++) {
		r = &rs->runs[i];
		if (r->buf == NULL && (r->buf = calloc(RUNSORT_PIECE, rs->size)) == NULL)
			return CUSTODY_ENOMEM;
		r->read = 0;
		if ((error = runsort_fill(rs, r)) < 0)
			return error;
		if (error == 0)
			rs->heap[rs->nheap++] = i;
	}
	for (i = rs->nheap; i-- > 0;)
		runsort_down(rs, i);
	return 0;
}

/* The next item in order: 0 and *item, 1 after the last, or an error. */
int
runsort_next(struct runsort *rs, const void **item)
{
	struct runsort_run *r;
	int error;

	*item = NULL;
	if (rs->nruns == 0) {
		if (rs->at == rs->n)
			return 1;
		*item = rs->mem + rs->at++ * rs->size;
		return 0;
	}
	if (rs->nheap == 0)
		return 1;
	r = &rs->runs[rs->heap[0]];
	/* the item stays in the piece until the next call: keep it in mem's place */
	if (rs->cap == 0) {
		if ((rs->mem = malloc(rs->size)) == NULL)
			return CUSTODY_ENOMEM;
		rs->cap = 1;
	}
	memcpy(rs->mem, r->buf + r->bi++ * rs->size, rs->size);
	if (r->bi == r->bn) {
		if ((error = runsort_fill(rs, r)) < 0)
			return error;
		if (error == 1)
			rs->heap[0] = rs->heap[--rs->nheap];
	}
	runsort_down(rs, 0);
	rs->at++;
	*item = rs->mem;
	return 0;
}

/* Items added. */
size_t
runsort_count(const struct runsort *rs)
{
	return rs->total;
}

/* Runs written to the scratch file. */
size_t
runsort_runs(const struct runsort *rs)
{
	return rs->nruns;
}

/* Items memory has room for now (at most a run, with a scratch file). */
size_t
runsort_held(const struct runsort *rs)
{
	return rs->cap;
}

void
runsort_free(struct runsort *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	if (rs->fd >= 0)
		close(rs->fd);
	for (i = 0; i < rs->nruns; i++)
		free(rs->runs[i].buf);
	free(rs->runs);
	free(rs->heap);
	free(rs->mem);
	free(rs);
}
