/* libFuzzer harness: SSHSIG de-armoring, blob parsing, verification and public key lines. */
#include <sys/types.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "custody/common.h"
#include "custody/sshsig.h"
#include "fuzz.h"

/* Feed the input as armor, as a binary blob, and as a public key line. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pk[ED25519_PK_LEN], *blob;
	struct sshsig sig;
	size_t len;
	char *line, *comment;

	if (sshsig_dearmor(&blob, &len, (const char *)data, size) == 0) {
		if (sshsig_parse(&sig, blob, len) == 0 && sig.ns_len > 0 && sig.hashalg_len > 0)
			(void)sig.ns[sig.ns_len - 1];
		free(blob);
	}
	(void)sshsig_parse(&sig, data, size);
	(void)sshsig_verify(pk, (const char *)data, size, "git", "hello\n", 6);

	if ((line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (sshkey_parse_pub(pk, &comment, line) == 0)
		free(comment);
	free(line);
	return 0;
}
