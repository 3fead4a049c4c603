/* Vocabularies of the casualty records: the allowed words of party, governorate and cause. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "custody/records.h"

#define VOCAB_WORD_MAX	64
#define VOCAB_LIST_MAX	1024

static const char *const vocab_default_party[] = {
	"syrian_regime", "russia", "sdf", "sna", "hts", "isis", "coalition", "other", NULL
};
static const char *const vocab_default_governorate[] = {
	"damascus", "rif_dimashq", "aleppo", "idlib", "hama", "homs", "latakia", "tartus",
	"daraa", "suwayda", "quneitra", "deir_ez_zor", "raqqa", "hasakah", NULL
};
static const char *const vocab_default_cause[] = {
	"shooting", "shelling", "airstrike", "explosion", "landmine", "torture", "execution",
	"siege", "drowning", "other", "unknown", NULL
};

/* Free a list of n words. */
static void
vocab_list_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A heap copy of a NULL-terminated list of words. */
static int
vocab_list_copy(char ***out, size_t *nout, const char *const *src)
{
	char **v;
	size_t n, i;

	for (n = 0; src[n] != NULL; n++)
		;
	if ((v = calloc(n, sizeof *v)) == NULL)
		return CUSTODY_ENOMEM;
	for (i = 0; i < n; i++) {
		if ((v[i] = strdup(src[i])) == NULL) {
			vocab_list_free(v, i);
			return CUSTODY_ENOMEM;
		}
	}
	*out = v;
	*nout = n;
	return 0;
}

/* Fill v (uninitialised or freed) with the default vocabularies. */
int
vocab_default(struct vocab *v)
{
	int error;

	memset(v, 0, sizeof *v);
	if ((error = vocab_list_copy(&v->party, &v->nparty, vocab_default_party)) < 0 ||
	    (error = vocab_list_copy(&v->governorate, &v->ngovernorate,
	    vocab_default_governorate)) < 0 ||
	    (error = vocab_list_copy(&v->cause, &v->ncause, vocab_default_cause)) < 0) {
		vocab_free(v);
		return error;
	}
	return 0;
}

/* Check and lower-case one word of a list: [a-z0-9_-], 1-64 bytes, not starting with '-'. */
static int
vocab_word_check(char *w)
{
	size_t i, n = strlen(w);

	if (n == 0 || n > VOCAB_WORD_MAX || w[0] == '-')
		return CUSTODY_EINVAL;
	for (i = 0; i < n; i++) {
		w[i] = (char)tolower((unsigned char)w[i]);
		if (!((w[i] >= 'a' && w[i] <= 'z') || (w[i] >= '0' && w[i] <= '9') ||
		    w[i] == '_' || w[i] == '-'))
			return CUSTODY_EINVAL;
	}
	return 0;
}

/*
 * Replace the list named which ("party", "governorate" or "cause") by the comma-separated
 * words of csv (surrounding blanks ignored, upper case lowered). On any error v is unchanged.
 */
int
vocab_set(struct vocab *v, const char *which, const char *csv)
{
	char ***list, **words = NULL, *copy = NULL, *tok, *save, *end;
	size_t *nlist, n = 0, cap = 0, i;
	int error = 0;

	if (which != NULL && strcmp(which, "party") == 0) {
		list = &v->party;
		nlist = &v->nparty;
	} else if (which != NULL && strcmp(which, "governorate") == 0) {
		list = &v->governorate;
		nlist = &v->ngovernorate;
	} else if (which != NULL && strcmp(which, "cause") == 0) {
		list = &v->cause;
		nlist = &v->ncause;
	} else
		return custody_fail(CUSTODY_EINVAL, "no vocabulary \"%s\" (party, governorate, "
		    "cause)", which ? which : "");
	if (csv == NULL || (copy = strdup(csv)) == NULL)
		return csv == NULL ? custody_fail(CUSTODY_EINVAL, "no %s list", which) :
		    CUSTODY_ENOMEM;

	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ' || *tok == '\t')
			tok++;
		end = tok + strlen(tok);
		while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*tok == '\0')
			continue;
		if (vocab_word_check(tok) < 0) {
			error = custody_fail(CUSTODY_EINVAL, "%s: \"%s\" is not a word "
			    "([a-z0-9_-], at most %d)", which, tok, VOCAB_WORD_MAX);
			goto out;
		}
		for (i = 0; i < n; i++)
			if (strcmp(words[i], tok) == 0)
				break;
		if (i < n)
			continue;
		if (n == VOCAB_LIST_MAX) {
			error = custody_fail(CUSTODY_ETOOBIG, "%s: more than %d words", which,
			    VOCAB_LIST_MAX);
			goto out;
		}
		if (n == cap) {
			char **nw = reallocarray(words, cap ? 2 * cap : 16, sizeof *words);

			if (nw == NULL) {
				error = CUSTODY_ENOMEM;
				goto out;
			}
			words = nw;
			cap = cap ? 2 * cap : 16;
		}
		if ((words[n] = strdup(tok)) == NULL) {
			error = CUSTODY_ENOMEM;
			goto out;
		}
		n++;
	}
	if (n == 0) {
		error = custody_fail(CUSTODY_EINVAL, "%s: empty list", which);
		goto out;
	}
	vocab_list_free(*list, *nlist);
	*list = words;
	*nlist = n;
	words = NULL;
	n = 0;
out:
	vocab_list_free(words, n);
	free(copy);
	return error;
}

/* Release the lists; v is left empty. NULL is fine. */
void
vocab_free(struct vocab *v)
{
	if (v == NULL)
		return;
	vocab_list_free(v->party, v->nparty);
	vocab_list_free(v->governorate, v->ngovernorate);
	vocab_list_free(v->cause, v->ncause);
	memset(v, 0, sizeof *v);
}

/* True when word is in the list of v named which; the defaults when v is NULL. */
int
vocab_has(const struct vocab *v, const char *which, const char *word)
{
	const char *const *def;
	char **list;
	size_t n, i;

	if (strcmp(which, "party") == 0) {
		def = vocab_default_party;
		list = v ? v->party : NULL;
		n = v ? v->nparty : 0;
	} else if (strcmp(which, "governorate") == 0) {
		def = vocab_default_governorate;
		list = v ? v->governorate : NULL;
		n = v ? v->ngovernorate : 0;
	} else if (strcmp(which, "cause") == 0) {
		def = vocab_default_cause;
		list = v ? v->cause : NULL;
		n = v ? v->ncause : 0;
	} else
		return 0;
	if (v == NULL) {
		for (i = 0; def[i] != NULL; i++)
			if (strcmp(def[i], word) == 0)
				return 1;
		return 0;
	}
	for (i = 0; i < n; i++)
		if (list[i] != NULL && strcmp(list[i], word) == 0)
			return 1;
	return 0;
}
