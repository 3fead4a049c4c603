/* libFuzzer harness for the BagIt tag-file parsers: the first byte picks the parser. */
#include <stdint.h>
#include <stdlib.h>

#include "custody/bagit.h"
#include "fuzz.h"

/* Parse data[1..] as bagit.txt, bag-info.txt, a manifest or fetch.txt. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bagit_report *r;
	struct bagit_decl decl;
	struct bagit_info bi = { 0 };
	struct bagit_fetch f = { 0 };
	struct bagit_manifest m;
	struct cbuf out = { 0 };
	uint64_t octets, files;
	int found, v1;

	if (size < 1 || bagit_report_new(&r) < 0)
		return 0;
	v1 = !(data[0] & 0x80);
	switch (data[0] & 0x7) {
	case 0:
		bagit_parse_declaration(&decl, r, data + 1, size - 1);
		break;
	case 1:
		bi.v1 = v1;
		if (bagit_info_parse(&bi, r, data + 1, size - 1) == 0)
			bagit_info_oxum(&bi, r, &found, &octets, &files);
		bagit_info_free(&bi);
		break;
	case 2:
	case 3:
		if (bagit_manifest_init(&m, (data[0] & 7) == 2 ? "manifest-sha256.txt" :
		    "tagmanifest-md5.txt", v1) == 0) {
			bagit_manifest_parse(&m, r, data + 1, size - 1);
			bagit_manifest_free(&m);
		}
		break;
	case 4:
		f.v1 = v1;
		bagit_fetch_parse(&f, r, data + 1, size - 1);
		bagit_fetch_free(&f);
		break;
	default:
		if (bagit_manifest_init(&m, "manifest-sha512.txt", v1) == 0) {
			bagit_manifest_parse(&m, r, data + 1, size - 1);
			bagit_manifest_free(&m);
		}
		break;
	}
	bagit_report_format(&out, r);
	cbuf_free(&out);
	bagit_report_free(r);
	return 0;
}
