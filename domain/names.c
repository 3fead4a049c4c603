/* Names normalised for matching: the same person written two ways gives the same string. */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "custody/records.h"

/* Unify the Arabic letter variants; -1 for a code point that is dropped. */
static utf8proc_int32_t
names_arabic(utf8proc_int32_t c)
{
	switch (c) {
	case 0x0622: case 0x0623: case 0x0625: case 0x0671:
		return 0x0627;		/* alef forms: bare alef */
	case 0x0629:
		return 0x0647;		/* ta marbuta: ha */
	case 0x0649:
		return 0x064a;		/* alef maqsura: ya */
	case 0x0640:
		return -1;		/* tatweel */
	}
	if ((c >= 0x064b && c <= 0x065f) || c == 0x0670)
		return -1;		/* tashkeel that survived the mark stripping */
	return c;
}

/* How a code point takes part in a name: 1 kept, 0 dropped, 2 a word break. */
static int
names_class(utf8proc_int32_t c)
{
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
	case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
	case UTF8PROC_CATEGORY_PO:
	case UTF8PROC_CATEGORY_CF:
	case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
		return 0;
	case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
	case UTF8PROC_CATEGORY_CC:
		return 2;
	default:
		return 1;
	}
}

/*
 * The blank owed before c (when a run of blanks came between it and what was written) into
 * out at *o; whether c itself is written: marks and format characters are dropped, blanks
 * only noted in *space.
 */
static int
names_keep(int32_t c, char *out, size_t *o, int *space)
{
	switch (names_class(c)) {
	case 0:
		return 0;
	case 2:
		*space = 1;
		return 0;
	}
	if (*space && *o > 0)
		out[(*o)++] = ' ';
	*space = 0;
	return 1;
}

/*
 * name_normalize of an ASCII name, without utf8proc_map: NFKC and stripping marks leave ASCII
 * as it is and case folding lowers A-Z, so only the classes of names_class remain (an import
 * normalises every victim's name for its tokens).
 */
static char *
names_ascii(const char *name, size_t n)
{
	char *out;
	size_t i, o = 0;
	int c, space = 0;

	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		c = (unsigned char)name[i];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (names_keep(c, out, &o, &space))
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

/*
 * NFKC, case fold and strip marks with utf8proc, then unify Arabic letter variants, drop
 * punctuation and format characters, and collapse blanks. Caller frees; NULL on invalid UTF-8
 * (or no memory).
 */
char *
name_normalize(const char *name)
{
	utf8proc_uint8_t *mapped = NULL, *out = NULL;
	utf8proc_ssize_t len, pos, step;
	utf8proc_int32_t c;
	size_t o = 0, i;
	int space = 0;

	if (name == NULL)
		return NULL;
	for (i = 0; name[i] != '\0' && (unsigned char)name[i] < 0x80; i++)
		;
	if (name[i] == '\0')
		return names_ascii(name, i);
	len = utf8proc_map((const utf8proc_uint8_t *)name, (utf8proc_ssize_t)strlen(name),
	    &mapped, UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
	    UTF8PROC_STRIPMARK | UTF8PROC_STABLE);
	if (len < 0)
		return NULL;
	if ((out = malloc((size_t)len + 1)) == NULL)
		goto done;
	for (pos = 0; pos < len; pos += step) {
		step = utf8proc_iterate(mapped + pos, len - pos, &c);
		if (step <= 0) {
			free(out);
			out = NULL;
			goto done;
		}
		if ((c = names_arabic(c)) < 0)
			continue;
		/* every replacement is no longer than what it replaces: o stays <= pos */
		if (names_keep(c, (char *)out, &o, &space))
			o += (size_t)utf8proc_encode_char(c, out + o);
	}
	out[o] = '\0';
done:
	free(mapped);
	return (char *)out;
}
