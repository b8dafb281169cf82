/* jsonscan: a bounded pre-scan of JSON text, before a tree is built.
 *
 * yajl_tree has no limits of its own and frees recursively, so a peer's
 * JSON goes through this scan first: one pass over the bytes, nothing
 * allocated, counting nesting and values against the caller's limits.
 * It also refuses what yajl would take but must not pass on: NUL bytes,
 * and (when asked) "\u0000" escapes, lone surrogate escapes and comments.
 * Syntax errors are left to the parser that follows; the counts are exact
 * for valid JSON. Pure and thread-safe. */
#ifndef COMFYD_JSONSCAN_H
#define COMFYD_JSONSCAN_H

#include "comfyd_error.h"

#include <stddef.h>

/* Deepest nesting any caller may allow (the scan keeps one bit a level). */
#define JSONSCAN_MAX_DEPTH 1024

typedef enum {
    JSONSCAN_OK = CFD_OK,
    JSONSCAN_EINVAL = CFD_ERR_INVALID,         /* not acceptable JSON; why says what */
    JSONSCAN_EDEPTH = CFD_ERR_JSONSCAN_DEPTH,  /* nested deeper than max_depth */
    JSONSCAN_EVALUES = CFD_ERR_JSONSCAN_VALUES /* more than max_values values */
} jsonscan_err;

typedef struct jsonscan_limits {
    size_t max_depth;  /* containers inside containers; at most JSONSCAN_MAX_DEPTH */
    size_t max_values; /* objects, arrays, strings, numbers, literals */
    int count_keys;    /* object keys count as values too */
    int strict;        /* refuse "\u0000", lone surrogate escapes and comments */
} jsonscan_limits;

/* Scans s[0..len) (need not be NUL terminated). Returns JSONSCAN_OK or an
 * error; on JSONSCAN_EINVAL, why (when not NULL) gets a short reason in
 * English without a "JSON" prefix, for the caller to phrase. */
int jsonscan(const char *s, size_t len, const jsonscan_limits *lim, char *why, size_t whylen);

#endif
