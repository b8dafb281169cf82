/* jsonpb_tree: JSON text parsed by yajl's callbacks into the small tree
 * the decoder converts, in an arena, with every limit of jsonpb_opts
 * enforced (jsonpb.h). */
#include "jsonpb_int.h"

/* ---------------------------------------------------------------------------
 * Parse tree
 * ------------------------------------------------------------------------- */

static void *arena_alloc(arena *ar, size_t n)
{
    n = (n + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);
    ablock *h = ar->head;
    if (!h || h->cap - h->used < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        ablock *b = jp_xalloc(ar->c, sizeof *b + cap);
        if (!b) return NULL;
        b->used = 0;
        b->cap = cap;
        if (h && n > ARENA_BLOCK / 4) {
            /* A big string gets its own block behind the current one, so
             * the current block's free space is not wasted. */
            b->next = h->next;
            h->next = b;
        } else {
            b->next = h;
            ar->head = b;
        }
        h = b;
    }
    void *p = (char *)h->data + h->used;
    h->used += n;
    return p;
}

void jp_arena_free(arena *ar)
{
    for (ablock *b = ar->head, *n; b; b = n) {
        n = b->next;
        jp_xfree(ar->c, b);
    }
    ar->head = NULL;
}

/* The path of the value being read, from the container stack. */
static int bfail(builder *b, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bfail(builder *b, int code, const char *fmt, ...)
{
    b->code = code;
    const cfg *c = b->c;
    if (!c->err) return 0;
    sbuf sb = {c->err, c->errlen, 0};
    sb.p[0] = '\0';
    for (unsigned i = 0; i < b->depth; i++) {
        const frame *f = &b->stack[i];
        int top = i + 1 == b->depth;
        if (f->node->type == J_ARR) {
            jp_sb_printf(&sb, "[%zu]", f->node->len - (top ? 0 : 1));
        } else if (f->key) {
            if (sb.len) jp_sb_put(&sb, ".", 1);
            jp_sb_key(&sb, f->key, f->klen);
        }
    }
    if (sb.len) jp_sb_put(&sb, ": ", 2);
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n > 0)
        jp_sb_put(&sb, msg, jp_utf8_clip(msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1));
    return 0; /* yajl: stop parsing */
}

static jnode *bnode(builder *b, int type)
{
    jnode *n = arena_alloc(&b->ar, sizeof *n);
    if (!n) {
        bfail(b, JSONPB_ENOMEM, "out of memory");
        return NULL;
    }
    memset(n, 0, sizeof *n);
    n->type = (unsigned char)type;
    return n;
}

/* Links n as the next value of the current container (or as the root). */
static int badd(builder *b, jnode *n)
{
    if (++b->total > b->c->max_total)
        return bfail(b, JSONPB_ELIMIT, "more than %zu JSON values", b->c->max_total);
    if (b->depth == 0) {
        b->root = n;
        return 1;
    }
    frame *f = &b->stack[b->depth - 1];
    if (f->node->len >= b->c->max_array)
        return bfail(b, JSONPB_ELIMIT, "more than %zu elements", b->c->max_array);
    if (f->node->type == J_OBJ) {
        n->key = f->key;
        n->klen = f->klen;
    }
    if (f->last)
        f->last->next = n;
    else
        f->node->child = n;
    f->last = n;
    f->node->len++;
    return 1;
}

/* Checks and copies a string or key; NULL after an error. */
static char *bstr(builder *b, const unsigned char *s, size_t len, const char *what)
{
    if (len > b->c->max_string) {
        bfail(b, JSONPB_ELIMIT, "%s longer than %zu bytes", what, b->c->max_string);
        return NULL;
    }
    /* yajl turns an unpaired high surrogate escape into '?' (and pairs it
     * with any following \u escape), so those are found by a pre-scan; a
     * token that ends past the first one is the one that holds it. */
    if (b->bad_escape != SIZE_MAX && yajl_get_bytes_consumed(b->h) > b->bad_escape) {
        bfail(b, JSONPB_EUTF8, "%s has an unpaired UTF-16 surrogate escape", what);
        return NULL;
    }
    if (!text_utf8_valid((const char *)s, len)) {
        bfail(b, JSONPB_EUTF8, "%s is not valid UTF-8 or contains NUL", what);
        return NULL;
    }
    char *p = arena_alloc(&b->ar, len + 1);
    if (!p) {
        bfail(b, JSONPB_ENOMEM, "out of memory");
        return NULL;
    }
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

static int cb_null(void *ud)
{
    builder *b = ud;
    jnode *n = bnode(b, J_NULL);
    return n ? badd(b, n) : 0;
}

static int cb_bool(void *ud, int v)
{
    builder *b = ud;
    jnode *n = bnode(b, J_BOOL);
    if (!n) return 0;
    n->b = v != 0;
    return badd(b, n);
}

static int cb_number(void *ud, const char *s, size_t len)
{
    builder *b = ud;
    if (len > b->c->max_string)
        return bfail(b, JSONPB_ELIMIT, "number longer than %zu bytes", b->c->max_string);
    jnode *n = bnode(b, J_NUM);
    if (!n) return 0;
    char *p = arena_alloc(&b->ar, len + 1);
    if (!p) return bfail(b, JSONPB_ENOMEM, "out of memory");
    memcpy(p, s, len);
    p[len] = '\0';
    n->s = p;
    n->len = len;
    n->integral = strpbrk(p, ".eE") == NULL;
    return badd(b, n);
}

static int cb_string(void *ud, const unsigned char *s, size_t len)
{
    builder *b = ud;
    char *p = bstr(b, s, len, "string");
    if (!p) return 0;
    jnode *n = bnode(b, J_STR);
    if (!n) return 0;
    n->s = p;
    n->len = len;
    return badd(b, n);
}

static int cb_key(void *ud, const unsigned char *s, size_t len)
{
    builder *b = ud;
    frame *f = &b->stack[b->depth - 1];
    f->key = NULL;
    char *p = bstr(b, s, len, "key");
    if (!p) return 0;
    f->key = p;
    f->klen = len;
    return 1;
}

static int bopen(builder *b, int type)
{
    if (b->depth >= b->c->max_depth)
        return bfail(b, JSONPB_ELIMIT, "nesting deeper than %u levels", b->c->max_depth);
    jnode *n = bnode(b, type);
    if (!n || !badd(b, n)) return 0;
    frame *f = &b->stack[b->depth++];
    f->node = n;
    f->last = NULL;
    f->key = NULL;
    f->klen = 0;
    return 1;
}

static int cb_start_map(void *ud)
{
    return bopen(ud, J_OBJ);
}

static int cb_start_array(void *ud)
{
    return bopen(ud, J_ARR);
}

static int cb_end(void *ud)
{
    builder *b = ud;
    b->depth--;
    return 1;
}

static const yajl_callbacks callbacks = {
    cb_null,      cb_bool, NULL,   NULL,           cb_number, cb_string,
    cb_start_map, cb_key,  cb_end, cb_start_array, cb_end,
};

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Code unit of a \uXXXX escape at s[i] (s[i] == '\\'), or -1. */
static long uescape(const char *s, size_t len, size_t i)
{
    if (len - i < 6 || s[i] != '\\' || s[i + 1] != 'u') return -1;
    long v = 0;
    for (size_t k = 2; k < 6; k++) {
        int h = hexval((unsigned char)s[i + k]);
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Offset of the first \u escape that is an unpaired UTF-16 surrogate, or
 * SIZE_MAX. Quotes and backslashes never occur inside multi-byte UTF-8
 * sequences, so a byte scan finds the strings reliably; malformed escapes
 * are left to yajl. */
static size_t scan_surrogates(const char *s, size_t len)
{
    int in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (!in_str) {
            in_str = ch == '"';
            continue;
        }
        if (ch == '"') {
            in_str = 0;
        } else if (ch == '\\') {
            long u = uescape(s, len, i);
            if (u < 0) {
                i++;
                continue;
            }
            if (u >= 0xDC00 && u <= 0xDFFF) return i;
            if (u >= 0xD800 && u <= 0xDBFF) {
                long lo = uescape(s, len, i + 6);
                if (lo < 0xDC00 || lo > 0xDFFF) return i;
                i += 6;
            }
            i += 5;
        }
    }
    return SIZE_MAX;
}

int jp_parse_tree(builder *b, const char *json, size_t len)
{
    const cfg *c = b->c;
    b->bad_escape = scan_surrogates(json, len);
    b->stack = jp_xalloc(c, sizeof(frame) * c->max_depth);
    if (!b->stack) return jp_fail(c, JSONPB_ENOMEM, NULL, "out of memory");
    b->h = yajl_alloc(&callbacks, NULL, b);
    if (!b->h) return jp_fail(c, JSONPB_ENOMEM, NULL, "out of memory");
    /* Strings are checked by bstr (stricter than yajl: no NUL, no
     * surrogates), so yajl's own check would only hide the path. */
    yajl_config(b->h, yajl_dont_validate_strings, 1);
    yajl_status st = yajl_parse(b->h, (const unsigned char *)json, len);
    if (st == yajl_status_ok) st = yajl_complete_parse(b->h);
    if (st == yajl_status_ok && b->root) return 0;
    if (b->code) return b->code;
    if (st == yajl_status_ok) {
        bfail(b, JSONPB_ESYNTAX, "invalid JSON: no value");
        return JSONPB_ESYNTAX;
    }
    size_t at = yajl_get_bytes_consumed(b->h);
    unsigned char *ye = yajl_get_error(b->h, 0, (const unsigned char *)json, len);
    const char *m = ye ? (const char *)ye : "invalid JSON";
    size_t ml = strlen(m);
    while (ml && (m[ml - 1] == '\n' || m[ml - 1] == ' ' || m[ml - 1] == '.'))
        ml--;
    bfail(b, JSONPB_ESYNTAX, "invalid JSON at byte %zu: %.*s", at, (int)ml, m);
    if (ye) yajl_free_error(b->h, ye);
    return JSONPB_ESYNTAX;
}
