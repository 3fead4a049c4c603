/* One extract's parts (extract.c, extract-select.c); the request: service-extract.c. */
#ifndef CUSTODY_EXTRACT_H
#define CUSTODY_EXTRACT_H

#include "archive.h"
#include "custody.pb-c.h"

/* The kinds of record a dossier holds, in the order it holds them; xkinds names them. */
enum { K_INCIDENT, K_VICTIM, K_EVIDENCE, K_SOURCE, K_PERSON, K_PERSON_EVENT, K_SITE, K_COUNT };
extern const char *const xkinds[K_COUNT];

/* One selected record. */
struct xsel {
	int		 kind;
	int		 primary;	/* asked for, not brought in by a link */
	char		*id;
	char		 office[65];
	uint8_t		 tok[TOKEN_LEN];
	json_t		*doc;		/* during selection only */
};

/* The records a dossier holds. */
struct selection {
	struct archive		*a;
	struct xsel		*v;
	size_t			 n, cap;
	json_t			*seen;		/* id -> true */
	json_t			*policy;	/* "kind.field" withheld -> true */
	uint64_t		 evidence_bytes;
	const char		*consent_class;	/* the recipient's; NULL: it receives no persons */
	json_t			*left;		/* person id left out -> true */
	unsigned		 events_left;	/* events of the persons left out */
};

/*
 * The records of an ExtractRequest, then one step out: an incident brings its victims and the
 * evidence linked to it; a victim its incident and its evidence; evidence the incidents,
 * victims, persons and sites it is linked to; a person its events and its evidence; a site
 * asked for the events there (with their persons) and its evidence; an event its site; and
 * every victim, evidence item and event its sources. A person comes in only when its consent
 * lists s->consent_class: one left out is counted in s->left and its events in
 * s->events_left, and neither comes in. A link the policy withholds is followed neither way:
 * the records it names come in only if asked for, or through another link. s->a, s->seen,
 * s->left, s->policy and s->consent_class are set by the caller.
 */
int selection_build(struct selection *s, const Custody__ExtractRequest *m);
/* qsort order: by kind, then id. */
int selection_cmp(const void *, const void *);
void selection_free(struct selection *);

/* extract.c: what one extract wrote (an ExtractReply's figures). */
struct extract_result {
	char		 dossier[48];
	char		 tagmanifest_sha256[SHA256_HEX_LEN + 1];
	char		 commit[GIT_OID_HEXSZ + 1];	/* of its custody event; "" if none */
	uint64_t	 seq, size, evidence_bytes;
	size_t		 records;
	unsigned	 incidents, victims, evidence, sources, persons, person_events, sites;
	unsigned	 persons_left_out, person_events_left_out;
	char		 consent_class[16];
};
int extract_write(struct extract_result *, struct archive *, const Custody__ExtractRequest *,
    int fd, const char *actor, uint64_t *progress, uint64_t *total);

#endif
