/*
 * A BlobData framed by wire_encode_blob_data around bytes filled in afterwards decodes exactly
 * as the same message packed by protobuf-c, for every shape of size and length (zero, one-byte
 * and multi-byte varints, the 1 MiB answers of a sync), and is refused over the frame limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "custody/wire.h"

/* Frame a BlobData both ways and check that they decode alike. */
static void
check_blob_data(uint64_t size, size_t len)
{
	Custody__BlobData bd = CUSTODY__BLOB_DATA__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT, *a = NULL, *b = NULL;
	struct cbuf ours = { 0 }, theirs = { 0 };
	struct frame f;
	uint8_t *bytes, *data;
	size_t used, i;

	bytes = malloc(len + 1);
	assert_non_null(bytes);
	for (i = 0; i < len; i++)
		bytes[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(cbuf_put(&ours, "x", 1), 0);	/* appends after what is there */
	assert_int_equal(wire_encode_blob_data(&ours, size, len, &data), 0);
	assert_ptr_equal(data + len, ours.data + ours.len);
	memcpy(data, bytes, len);
	bd.data.data = bytes;
	bd.data.len = len;
	bd.size = size;
	env.body_case = CUSTODY__ENVELOPE__BODY_BLOB_DATA;
	env.blob_data = &bd;
	assert_int_equal(wire_encode(&theirs, &env), 0);
	assert_int_equal(ours.len - 1, theirs.len);	/* the same length, fields reordered */

	assert_int_equal(frame_parse(&f, &used, ours.data + 1, ours.len - 1, FRAME_MAX), 0);
	assert_int_equal(used, ours.len - 1);
	assert_int_equal(f.type, FRAME_MSG);
	assert_int_equal(wire_decode(&a, f.body, f.len), 0);
	assert_int_equal(frame_parse(&f, &used, theirs.data, theirs.len, FRAME_MAX), 0);
	assert_int_equal(wire_decode(&b, f.body, f.len), 0);
	assert_int_equal(a->body_case, CUSTODY__ENVELOPE__BODY_BLOB_DATA);
	assert_int_equal(a->blob_data->size, size);
	assert_int_equal(a->blob_data->size, b->blob_data->size);
	assert_int_equal(a->blob_data->data.len, len);
	assert_int_equal(b->blob_data->data.len, len);
	if (len > 0) {
		assert_memory_equal(a->blob_data->data.data, bytes, len);
		assert_memory_equal(b->blob_data->data.data, bytes, len);
	}
	wire_free(a);
	wire_free(b);
	cbuf_free(&ours);
	cbuf_free(&theirs);
	free(bytes);
}

static void
test_blob_data_shapes(void **state)
{
	static const uint64_t sizes[] = { 0, 1, 127, 128, 16383, 16384, 1u << 20,
	    (1ull << 32) + 5, UINT64_MAX };
	static const size_t lens[] = { 0, 1, 127, 128, 16383, 16384, 65536, 1u << 20 };
	size_t i, j;

	for (i = 0; i < sizeof sizes / sizeof *sizes; i++)
		for (j = 0; j < sizeof lens / sizeof *lens; j++)
			check_blob_data(sizes[i], lens[j]);
}

static void
test_blob_data_limit(void **state)
{
	struct cbuf b = { 0 };
	uint8_t *data = (uint8_t *)&b;

	assert_int_equal(wire_encode_blob_data(&b, 1, FRAME_MAX, &data), CUSTODY_ETOOBIG);
	assert_null(data);
	assert_int_equal(b.len, 0);
	cbuf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blob_data_shapes),
		cmocka_unit_test(test_blob_data_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
