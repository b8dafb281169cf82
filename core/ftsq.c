#include "ftsq.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

typedef struct term {
    const char *s; /* the text, quotes removed */
    size_t len;
    int phrase, prefix, negated, or_next; /* or_next: "OR" follows it */
} term;

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* FTS5's unicode61 tokenizer drops everything but letters and digits; a
 * term made only of punctuation would be an empty phrase. Bytes >= 0x80
 * count as letters (they are parts of non-ASCII characters). */
static int has_word(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80 || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
            return 1;
    }
    return 0;
}

typedef text_buf buf;

/* -1 once out of memory, so each step can stop there. */
static int put(buf *b, const char *s, size_t n)
{
    text_buf_addn(b, s, n);
    return b->oom ? -1 : 0;
}

static int put_s(buf *b, const char *s)
{
    return put(b, s, strlen(s));
}

/* "text" with '"' doubled, then " *" for a prefix. */
static int put_term(buf *b, const term *t)
{
    if (put(b, "\"", 1)) return -1;
    for (size_t i = 0; i < t->len; i++)
        if (put(b, t->s[i] == '"' ? "\"\"" : &t->s[i], t->s[i] == '"' ? 2 : 1)) return -1;
    if (put(b, "\"", 1)) return -1;
    return t->prefix ? put_s(b, " *") : 0;
}

int ftsq_build(const char *query, char **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!query) query = "";
    size_t qlen = strnlen(query, FTSQ_MAX_QUERY + 1);
    if (qlen > FTSQ_MAX_QUERY) {
        seterr(err, errlen, "the query is longer than %d bytes", FTSQ_MAX_QUERY);
        return -1;
    }
    if (!text_utf8_valid(query, qlen)) {
        seterr(err, errlen, "the query is not valid UTF-8");
        return -1;
    }
    term terms[FTSQ_MAX_TERMS];
    size_t n = 0;
    int pending_or = 0;
    for (size_t i = 0; i < qlen;) {
        if (is_space(query[i])) {
            i++;
            continue;
        }
        int neg = 0;
        if (query[i] == '-' && i + 1 < qlen && !is_space(query[i + 1])) {
            neg = 1;
            i++;
        }
        term t = {.negated = neg};
        if (query[i] == '"') {
            size_t start = ++i;
            while (i < qlen && query[i] != '"')
                i++;
            if (i >= qlen) {
                seterr(err, errlen, "unbalanced quote: the phrase at byte %zu is not closed",
                       start - 1);
                return -1;
            }
            t.s = query + start;
            t.len = i - start;
            t.phrase = 1;
            i++;
            if (i < qlen && query[i] == '*') t.prefix = 1, i++;
        } else {
            size_t start = i;
            while (i < qlen && !is_space(query[i]) && query[i] != '"')
                i++;
            t.s = query + start;
            t.len = i - start;
            if (!neg && t.len == 2 && memcmp(t.s, "OR", 2) == 0) {
                if (n == 0 || pending_or) {
                    seterr(err, errlen, "OR must stand between two terms");
                    return -1;
                }
                pending_or = 1;
                continue;
            }
            while (t.len && t.s[t.len - 1] == '*')
                t.prefix = 1, t.len--;
        }
        if (!has_word(t.s, t.len)) {
            if (pending_or) {
                seterr(err, errlen, "OR must stand between two terms");
                return -1;
            }
            continue; /* punctuation only: nothing FTS5 could match */
        }
        if (pending_or) {
            if (t.negated || terms[n - 1].negated) {
                seterr(err, errlen, "an excluded term (-word) cannot be part of OR");
                return -1;
            }
            terms[n - 1].or_next = 1;
            pending_or = 0;
        }
        if (n == FTSQ_MAX_TERMS) {
            seterr(err, errlen, "the query has more than %d terms", FTSQ_MAX_TERMS);
            return -1;
        }
        terms[n++] = t;
    }
    if (pending_or) {
        seterr(err, errlen, "OR must stand between two terms");
        return -1;
    }
    size_t positive = 0;
    for (size_t i = 0; i < n; i++)
        positive += !terms[i].negated;
    if (positive == 0) {
        seterr(err, errlen,
               n ? "the query only excludes terms: add at least one word to search for"
                 : "the query has no word to search for");
        return -1;
    }

    /* (a OR b) AND (c) ... NOT (d OR e) */
    buf b = {0};
    int fail = 0, first = 1;
    for (size_t i = 0; i < n && !fail; i++) {
        if (terms[i].negated) continue;
        fail |= put_s(&b, first ? "(" : " AND (");
        first = 0;
        fail |= put_term(&b, &terms[i]);
        while (!fail && terms[i].or_next) {
            i++;
            fail |= put_s(&b, " OR ") | put_term(&b, &terms[i]);
        }
        fail |= put_s(&b, ")");
    }
    if (!fail && positive < n) {
        fail |= put_s(&b, " NOT (");
        int k = 0;
        for (size_t i = 0; i < n && !fail; i++) {
            if (!terms[i].negated) continue;
            if (k++) fail |= put_s(&b, " OR ");
            fail |= put_term(&b, &terms[i]);
        }
        fail |= put_s(&b, ")");
    }
    if (fail) {
        free(b.p);
        seterr(err, errlen, "out of memory");
        return -1;
    }
    *out = b.p;
    return 0;
}
