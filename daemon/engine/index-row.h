/*
 * What the index keeps of a victim or incident revision (its row in the victims or incidents
 * table), worked out from the record once and packed into bytes: an import works it out on
 * its checking threads as each record arrives, keeps it with the record under tmp/, and
 * writes it at the commit without reading the record again (records-import.c). index_put_*
 * works out and writes a row the same way, so both give the same index.
 */
#ifndef INDEX_ROW_H
#define INDEX_ROW_H

#include <jansson.h>
#include <sqlite3.h>

#include "archive.h"

#define INDEX_ROW_STRINGS 10

/*
 * A row unpacked (its strings point into the packed bytes). Victims: s[] is date documented,
 * death, death_from, death_to, sex, age group, status, governorate, party, cause; incidents:
 * date, governorate, party, type; persons: sex, age group, governorate (categories holds the
 * consent classes, bit i for record_consent_classes[i]); person events: type, date,
 * date_from, date_to, precision, party, governorate (itok the person's token, ntok the
 * site's). NULL strings and tokens are SQL NULLs.
 */
struct index_row {
	char		 kind;		/* 'v' victim, 'i' incident, 'p' person, 'e' person
					   event, 0 no row */
	const char	*s[INDEX_ROW_STRINGS];
	int		 has_age;
	int64_t		 age, child, woman, categories;
	const uint8_t	*itok, *ntok, *dtok;	/* incident (person), name (site), duplicate;
					   persons: ntok by name, age and governorate,
					   dtok by name, birth year and governorate */
};

/* Append the packed row of doc (nothing for a kind without one) to out. */
int index_row_pack(struct archive *, const json_t *doc, struct cbuf *out);
int index_row_unpack(struct index_row *, const uint8_t *, size_t);
/* Write the row of tok (if the revision is the current one). */
int index_row_put(sqlite3 *, const uint8_t tok[static TOKEN_LEN], int64_t office,
    int64_t lamport, const struct index_row *);

#endif
