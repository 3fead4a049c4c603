/*
 * The two naming rules of the archive, written once for the daemon, the client, the invitation
 * and the dossier verifier.
 *
 * A record id (victims, incidents, sources, evidence, every kind): 1-128 bytes of
 * [A-Za-z0-9._:-], not starting with '.' or '-'.
 * An office name: 1-64 bytes of [A-Za-z0-9._-], not starting with '.' or '-'.
 * Both are safe as file-name components and in a BagIt path.
 */
#ifndef CUSTODY_IDS_H
#define CUSTODY_IDS_H

#include <stddef.h>

#define IDS_RECORD_MAX		128
#define IDS_OFFICE_NAME_MAX	64

/* 1 when the n bytes at s are a record id, else 0. */
int ids_record_ok(const char *s, size_t n);

/* 1 when the n bytes at s are an office name, else 0. */
int ids_office_name_ok(const char *s, size_t n);

#endif
