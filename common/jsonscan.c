#include "jsonscan.h"

#include <stdint.h>
#include <stdio.h>

static int invalid(char *why, size_t whylen, const char *text)
{
    if (why && whylen) snprintf(why, whylen, "%s", text);
    return JSONSCAN_EINVAL;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char ch = s[i];
        v <<= 4;
        if (ch >= '0' && ch <= '9')
            v |= (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            v |= (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            v |= (unsigned)(ch - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Checks the escape at s[i] == '\\' in strict mode and returns the index of
 * its last byte, or (size_t)-1 with why set. Malformed escapes are left to
 * the parser. */
static size_t escape(const char *s, size_t len, size_t i, char *why, size_t whylen)
{
    if (i + 1 >= len) return i;
    i++;
    unsigned cp, lo;
    if (s[i] != 'u' || i + 4 >= len || hex4(s + i + 1, &cp)) return i;
    i += 4;
    if (cp == 0) return invalid(why, whylen, "NUL in a string"), (size_t)-1;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return invalid(why, whylen, "lone surrogate escape"), (size_t)-1;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (i + 6 >= len || s[i + 1] != '\\' || s[i + 2] != 'u' || hex4(s + i + 3, &lo) ||
            lo < 0xDC00 || lo > 0xDFFF)
            return invalid(why, whylen, "lone surrogate escape"), (size_t)-1;
        i += 6;
    }
    return i;
}

/* Index of the last byte of the comment starting at s[i] == '/', or len
 * when it does not end (the parser reports that). */
static size_t comment(const char *s, size_t len, size_t i)
{
    if (i + 1 >= len) return i;
    if (s[i + 1] == '/') {
        while (i < len && s[i] != '\n')
            i++;
        return i;
    }
    if (s[i + 1] == '*') {
        for (i += 2; i + 1 < len; i++)
            if (s[i] == '*' && s[i + 1] == '/') return i + 1;
        return len;
    }
    return i;
}

int jsonscan(const char *s, size_t len, const jsonscan_limits *lim, char *why, size_t whylen)
{
    size_t max_depth = lim->max_depth < JSONSCAN_MAX_DEPTH ? lim->max_depth : JSONSCAN_MAX_DEPTH;
    uint64_t is_obj[JSONSCAN_MAX_DEPTH / 64 + 1] = {0}; /* bit d: level d is an object */
    size_t depth = 0, values = 0;
    int in_str = 0, in_scalar = 0;
    int want_key = 0; /* inside an object, after '{' or ',': the next string is a key */
    if (why && whylen) why[0] = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '\0') return invalid(why, whylen, "NUL byte");
        if (in_str) {
            if (ch == '"') {
                in_str = 0;
            } else if (ch == '\\') {
                if (!lim->strict) {
                    i++;
                    continue;
                }
                if ((i = escape(s, len, i, why, whylen)) == (size_t)-1) return JSONSCAN_EINVAL;
            }
            continue;
        }
        int counted = 0;
        switch (ch) {
        case '"':
            in_str = 1;
            counted = !want_key || lim->count_keys;
            want_key = 0;
            break;
        case '{':
        case '[':
            if (++depth > max_depth) return JSONSCAN_EDEPTH;
            if (ch == '{')
                is_obj[depth / 64] |= UINT64_C(1) << (depth % 64);
            else
                is_obj[depth / 64] &= ~(UINT64_C(1) << (depth % 64));
            want_key = ch == '{';
            counted = 1;
            break;
        case '}':
        case ']':
            if (depth) depth--;
            want_key = 0;
            break;
        case ',':
            want_key = depth && (is_obj[depth / 64] >> (depth % 64) & 1);
            break;
        case ':':
            want_key = 0;
            break;
        case '/':
            if (lim->strict) return invalid(why, whylen, "comments are not JSON");
            i = comment(s, len, i);
            in_scalar = 0;
            continue;
        case ' ':
        case '\t':
        case '\r':
        case '\n':
            break;
        default:
            /* A number or a literal: counted at its first byte. */
            counted = !in_scalar;
            in_scalar = 1;
            want_key = 0;
            if (counted && ++values > lim->max_values) return JSONSCAN_EVALUES;
            continue;
        }
        in_scalar = 0;
        if (counted && ++values > lim->max_values) return JSONSCAN_EVALUES;
    }
    return JSONSCAN_OK;
}
