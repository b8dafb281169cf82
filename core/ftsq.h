/* ftsq: a user's search query turned into a safe SQLite FTS5 MATCH
 * expression.
 *
 * The user's syntax is small and documented (docs/sessions.md):
 *   word          a term; every term must match (AND)
 *   "two words"   a phrase
 *   word*         a prefix
 *   a OR b        either (OR binds two neighbouring terms or phrases)
 *   -word         excluded (NOT); at least one term must not be excluded
 * Every term and phrase is written out as an FTS5 string ("..." with '"'
 * doubled), so no user text can reach FTS5 as syntax: column filters,
 * NEAR, ^ or parentheses in a query are only ever searched for as text.
 * Malformed input (an unclosed quote, OR at either end or twice, a query
 * with nothing to search for, too long) gives -1 and a sentence for the
 * user. */
#ifndef COMFYD_FTSQ_H
#define COMFYD_FTSQ_H

#include <stddef.h>

#define FTSQ_MAX_QUERY 1024 /* bytes of a query: a search box, not a document */
#define FTSQ_MAX_TERMS 32   /* terms and phrases; more never narrows usefully */

/* Returns 0 with *out a malloc'd MATCH expression (caller frees), or -1
 * with *out NULL and a one-line reason in err[0..errlen). */
int ftsq_build(const char *query, char **out, char *err, size_t errlen);

#endif
