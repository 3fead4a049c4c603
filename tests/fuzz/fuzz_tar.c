/* libFuzzer harness for the tar reader: the input, fed in pieces sized by its first byte. */
#include <stdint.h>
#include <stdlib.h>

#include "custody/tar.h"
#include "fuzz.h"

static int
entry_cb(void *arg, const struct tar_entry *e)
{
	return tar_name_check(e->name) == NULL ? 0 : CUSTODY_EINVAL;
}

static int
data_cb(void *arg, const void *p, size_t n)
{
	*(size_t *)arg += n;
	return 0;
}

/* Read data[1..] as an archive. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tar_reader_cb cb = { entry_cb, data_cb, NULL };
	struct tar_reader *r;
	size_t step, i, total = 0;
	int error = 0;

	if (size < 1 || tar_reader_new(&r, &cb, &total, 1 << 20) < 0)
		return 0;
	step = (size_t)data[0] + 1;
	for (i = 1; i < size && error == 0; i += step)
		error = tar_reader_feed(r, data + i, size - i < step ? size - i : step);
	if (error == 0)
		tar_reader_finish(r);
	tar_reader_free(r);
	return 0;
}
