/* jsonpb: JSON <-> protobuf-c messages (see jsonpb.h for the mapping).
 *
 * Decoding runs in two steps: yajl's callbacks build a small tree in an arena
 * while enforcing every limit, then the tree is converted into the message.
 * The tree lets a flattened oneof find its "type" key wherever it stands in
 * the object, and keeps the converter free of parser state. Encoding walks
 * the message and writes through yajl_gen. */
#include "jsonpb.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "text.h"

/* Integers up to 2^53 survive a trip through a JavaScript number. */
#define SAFE_INT ((int64_t)1 << 53)
/* Longest key or value quoted in an error message. */
#define ERR_QUOTE_MAX 64
/* Arena block size: a typical request fits in one or two blocks. */
#define ARENA_BLOCK 16384

/* ---------------------------------------------------------------------------
 * Options, allocation, errors
 * ------------------------------------------------------------------------- */

static void *sys_alloc(void *ud, size_t n)
{
    (void)ud;
    return malloc(n);
}

static void sys_free(void *ud, void *p)
{
    (void)ud;
    free(p);
}

static ProtobufCAllocator sys_allocator = {sys_alloc, sys_free, NULL};

/* Message types whose flattening was already decided in this call (the
 * check compares every member field name with every other field name). */
#define FLAT_CACHE 32

typedef struct flat_cache {
    const ProtobufCMessageDescriptor *d[FLAT_CACHE];
    long q[FLAT_CACHE];
    unsigned n;
} flat_cache;

/* Options with the defaults filled in, plus per-call scratch. */
typedef struct cfg {
    size_t max_input, max_string, max_array, max_total;
    unsigned max_depth;
    int ignore_unknown, emit_defaults, flatten_all;
    const ProtobufCMessageDescriptor *const *flatten;
    size_t n_flatten;
    const char *type_key;
    size_t type_key_len;
    jsonpb_enum_style enum_style;
    const jsonpb_enum_override *enum_over;
    size_t n_enum_over;
    ProtobufCAllocator *a;
    char *err;
    size_t errlen;
    flat_cache *fc; /* mutable through a const cfg */
} cfg;

static int cfg_init(cfg *c, const jsonpb_opts *o, char *err, size_t errlen, flat_cache *fc)
{
    static const jsonpb_opts zero;
    if (!o) o = &zero;
    c->fc = fc;
    fc->n = 0;
    c->max_input = o->max_input_bytes ? o->max_input_bytes : JSONPB_MAX_INPUT_BYTES;
    c->max_depth = o->max_depth ? o->max_depth : JSONPB_MAX_DEPTH;
    c->max_string = o->max_string_bytes ? o->max_string_bytes : JSONPB_MAX_STRING_BYTES;
    c->max_array = o->max_array_elements ? o->max_array_elements : JSONPB_MAX_ARRAY_ELEMENTS;
    c->max_total = o->max_total_elements ? o->max_total_elements : JSONPB_MAX_TOTAL_ELEMENTS;
    c->ignore_unknown = o->ignore_unknown_fields;
    c->emit_defaults = o->emit_defaults;
    c->flatten_all = o->flatten_all;
    c->flatten = o->flatten;
    c->n_flatten = o->flatten ? o->n_flatten : 0;
    c->type_key = o->type_key ? o->type_key : JSONPB_DEFAULT_TYPE_KEY;
    c->type_key_len = strlen(c->type_key);
    c->enum_style = o->enum_style;
    c->enum_over = o->enum_overrides;
    c->n_enum_over = o->enum_overrides ? o->n_enum_overrides : 0;
    c->a = o->allocator ? o->allocator : &sys_allocator;
    c->err = errlen ? err : NULL;
    c->errlen = err ? errlen : 0;
    if (c->err) c->err[0] = '\0';
    if (c->max_depth > JSONPB_MAX_DEPTH_LIMIT || c->type_key_len == 0) return JSONPB_EINVAL;
    if ((unsigned)c->enum_style > JSONPB_ENUM_LOWER) return JSONPB_EINVAL;
    for (size_t i = 0; i < c->n_enum_over; i++)
        if (!c->enum_over[i].e || (unsigned)c->enum_over[i].style > JSONPB_ENUM_LOWER)
            return JSONPB_EINVAL;
    return 0;
}

static void *xalloc(const cfg *c, size_t n)
{
    return c->a->alloc(c->a->allocator_data, n ? n : 1);
}

static void xfree(const cfg *c, void *p)
{
    if (p) c->a->free(c->a->allocator_data, p);
}

static char *xdupn(const cfg *c, const char *s, size_t n)
{
    char *p = xalloc(c, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* Largest prefix length <= n of s (valid UTF-8) that does not split a
 * character, so truncated messages stay valid UTF-8. */
static size_t utf8_clip(const char *s, size_t n)
{
    size_t i = n, cont = 0;
    while (i > 0 && cont < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--, cont++;
    if (i == 0) return n;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return n - (i - 1) < need ? i - 1 : n;
}

/* One step of a JSON path, linked to its parent on the C stack. */
typedef struct pathseg {
    const struct pathseg *up;
    const char *key; /* member name, or NULL for an array index */
    size_t klen;
    size_t idx;
} pathseg;

typedef struct sbuf {
    char *p;
    size_t cap, len;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->cap == 0) return;
    size_t room = b->cap - 1 - b->len;
    if (n > room) n = utf8_clip(s, room);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    size_t len = (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1;
    sb_put(b, tmp, utf8_clip(tmp, len));
}

static void sb_key(sbuf *b, const char *k, size_t n)
{
    sb_put(b, k, n > ERR_QUOTE_MAX ? utf8_clip(k, ERR_QUOTE_MAX) : n);
}

static void sb_path(sbuf *b, const pathseg *p)
{
    if (!p) return;
    sb_path(b, p->up);
    if (p->key) {
        if (b->len) sb_put(b, ".", 1);
        sb_key(b, p->key, p->klen);
    } else {
        sb_printf(b, "[%zu]", p->idx);
    }
}

/* Records the error (path, then message) and returns code. */
static int fail(const cfg *c, int code, const pathseg *p, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(const cfg *c, int code, const pathseg *p, const char *fmt, ...)
{
    if (!c->err) return code;
    sbuf b = {c->err, c->errlen, 0};
    b.p[0] = '\0';
    sb_path(&b, p);
    if (b.len) sb_put(&b, ": ", 2);
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n > 0) sb_put(&b, msg, utf8_clip(msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1));
    return code;
}

/* A value quoted in a message, clipped to ERR_QUOTE_MAX bytes. */
static int quote_len(const char *s, size_t n)
{
    return (int)(n > ERR_QUOTE_MAX ? utf8_clip(s, ERR_QUOTE_MAX) : n);
}

/* ---------------------------------------------------------------------------
 * Descriptor analysis (generic; nothing here knows comfyd's messages)
 * ------------------------------------------------------------------------- */

#define MEMBER(m, off) ((void *)((char *)(m) + (off)))
#define CMEMBER(m, off) ((const void *)((const char *)(m) + (off)))

static int is_oneof(const ProtobufCFieldDescriptor *f)
{
    return (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
}

/* Optional (proto2-style) scalars carry a has_ flag; strings and messages
 * use NULL instead. */
static int has_flag(const ProtobufCFieldDescriptor *f)
{
    return f->label == PROTOBUF_C_LABEL_OPTIONAL && !is_oneof(f) &&
           f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE;
}

static size_t type_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default:
        return 4; /* 32-bit integers and enums */
    }
}

static int is_int_type(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 1;
    default:
        return 0;
    }
}

/* key[0..klen) equals the lowerCamel JSON name of a proto field name
 * ("node_type" -> "nodeType"), computed on the fly. */
static int camel_eq(const char *name, const char *key, size_t klen)
{
    size_t k = 0;
    int up = 0;
    for (const char *p = name; *p; p++) {
        if (*p == '_') {
            up = 1;
            continue;
        }
        char ch = up && *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
        up = 0;
        if (k >= klen || key[k] != ch) return 0;
        k++;
    }
    return k == klen;
}

static int name_is(const char *name, const char *key, size_t klen)
{
    return (strlen(name) == klen && memcmp(name, key, klen) == 0) || camel_eq(name, key, klen);
}

static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *d,
                                                  const char *key, size_t klen)
{
    for (unsigned i = 0; i < d->n_fields; i++)
        if (name_is(d->fields[i].name, key, klen)) return &d->fields[i];
    return NULL;
}

/* Two field names that a decoder could confuse (same proto or JSON name). */
static int names_collide(const char *a, const char *b)
{
    char cb[256];
    size_t n = 0;
    int up = 0;
    for (const char *p = b; *p && n < sizeof cb - 1; p++) {
        if (*p == '_') {
            up = 1;
            continue;
        }
        cb[n++] = up && *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
        up = 0;
    }
    return name_is(a, b, strlen(b)) || name_is(a, cb, n);
}

/* google.protobuf.*Value: one scalar field "value". */
int jsonpb_is_wrapper(const ProtobufCMessageDescriptor *d)
{
    size_t n = strlen(d->name);
    return d->n_fields == 1 && strncmp(d->name, "google.protobuf.", 16) == 0 && n > 21 &&
           strcmp(d->name + n - 5, "Value") == 0 && strcmp(d->fields[0].name, "value") == 0 &&
           d->fields[0].label != PROTOBUF_C_LABEL_REPEATED &&
           d->fields[0].type != PROTOBUF_C_TYPE_MESSAGE &&
           d->fields[0].type != PROTOBUF_C_TYPE_ENUM;
}

/* Members of a scalar union, by JSON kind. */
typedef struct sunion {
    const ProtobufCFieldDescriptor *i, *f, *s, *b;
} sunion;

static int scalar_union(const ProtobufCMessageDescriptor *d, sunion *u)
{
    memset(u, 0, sizeof *u);
    if (d->n_fields == 0) return 0;
    for (unsigned k = 0; k < d->n_fields; k++) {
        const ProtobufCFieldDescriptor *f = &d->fields[k];
        if (!is_oneof(f) || f->quantifier_offset != d->fields[0].quantifier_offset) return 0;
        const ProtobufCFieldDescriptor **slot;
        if (is_int_type(f->type))
            slot = &u->i;
        else if (f->type == PROTOBUF_C_TYPE_FLOAT || f->type == PROTOBUF_C_TYPE_DOUBLE)
            slot = &u->f;
        else if (f->type == PROTOBUF_C_TYPE_STRING)
            slot = &u->s;
        else if (f->type == PROTOBUF_C_TYPE_BOOL)
            slot = &u->b;
        else
            return 0;
        if (*slot) return 0; /* two members of one JSON kind: ambiguous */
        *slot = f;
    }
    return 1;
}

/* Map fields are repeated "<Name>Entry" messages nested in the parent with
 * fields key = 1 and value = 2 (that is how protoc lowers map<K,V>). */
static int is_map(const ProtobufCMessageDescriptor *parent, const ProtobufCFieldDescriptor *f)
{
    if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE) return 0;
    const ProtobufCMessageDescriptor *e = f->descriptor;
    if (e->n_fields != 2 || e->fields[0].id != 1 || e->fields[1].id != 2 ||
        strcmp(e->fields[0].name, "key") || strcmp(e->fields[1].name, "value"))
        return 0;
    size_t pn = strlen(parent->name);
    if (strncmp(e->name, parent->name, pn) != 0 || e->name[pn] != '.') return 0;
    const char *s = e->short_name;
    int up = 1;
    for (const char *p = f->name; *p; p++) {
        if (*p == '_') {
            up = 1;
            continue;
        }
        char ch = up && *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
        up = 0;
        if (*s++ != ch) return 0;
    }
    return strcmp(s, "Entry") == 0;
}

/* The one oneof of d whose members are all singular messages, as the
 * quantifier offset shared by its members; -1 when d has no such oneof
 * or the flattened form could be ambiguous. */
static long flat_oneof(const cfg *c, const ProtobufCMessageDescriptor *d)
{
    long q = -1;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!is_oneof(f)) continue;
        if (q >= 0 && (unsigned)q != f->quantifier_offset) return -1;
        if (f->type != PROTOBUF_C_TYPE_MESSAGE) return -1;
        q = (long)f->quantifier_offset;
    }
    if (q < 0) return -1;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (name_is(f->name, c->type_key, c->type_key_len)) return -1;
        if (!is_oneof(f)) continue;
        const ProtobufCMessageDescriptor *md = f->descriptor;
        for (unsigned k = 0; k < md->n_fields; k++) {
            const char *mn = md->fields[k].name;
            if (name_is(mn, c->type_key, c->type_key_len)) return -1;
            for (unsigned j = 0; j < d->n_fields; j++)
                if (names_collide(mn, d->fields[j].name)) return -1;
        }
    }
    return q;
}

static long flattened(const cfg *c, const ProtobufCMessageDescriptor *d)
{
    int on = c->flatten_all;
    for (size_t i = 0; !on && i < c->n_flatten; i++)
        on = c->flatten[i] == d;
    if (!on) return -1;
    flat_cache *fc = c->fc;
    for (unsigned i = 0; i < fc->n; i++)
        if (fc->d[i] == d) return fc->q[i];
    long q = flat_oneof(c, d);
    if (fc->n < FLAT_CACHE) {
        fc->d[fc->n] = d;
        fc->q[fc->n++] = q;
    }
    return q;
}

/* ---------------------------------------------------------------------------
 * Parse tree
 * ------------------------------------------------------------------------- */

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct jnode {
    struct jnode *next;  /* next element of the parent */
    struct jnode *child; /* first element (J_ARR, J_OBJ) */
    const char *key;     /* member name inside a J_OBJ (NUL-terminated) */
    size_t klen;
    const char *s; /* J_STR text or J_NUM literal (NUL-terminated) */
    size_t len;    /* bytes of s, or elements of J_ARR/J_OBJ */
    unsigned char type, b, integral;
} jnode;

typedef struct ablock {
    struct ablock *next;
    size_t used, cap;
    max_align_t data[];
} ablock;

typedef struct arena {
    const cfg *c;
    ablock *head;
} arena;

static void *arena_alloc(arena *ar, size_t n)
{
    n = (n + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);
    ablock *h = ar->head;
    if (!h || h->cap - h->used < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        ablock *b = xalloc(ar->c, sizeof *b + cap);
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

static void arena_free(arena *ar)
{
    for (ablock *b = ar->head, *n; b; b = n) {
        n = b->next;
        xfree(ar->c, b);
    }
    ar->head = NULL;
}

typedef struct frame {
    jnode *node, *last;
    const char *key; /* key of the member being read (J_OBJ) */
    size_t klen;
} frame;

typedef struct builder {
    const cfg *c;
    arena ar;
    yajl_handle h;
    frame *stack;
    unsigned depth;
    jnode *root;
    size_t total;
    size_t bad_escape; /* offset of the first unpaired surrogate escape */
    int code;          /* error raised by a callback */
} builder;

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
            sb_printf(&sb, "[%zu]", f->node->len - (top ? 0 : 1));
        } else if (f->key) {
            if (sb.len) sb_put(&sb, ".", 1);
            sb_key(&sb, f->key, f->klen);
        }
    }
    if (sb.len) sb_put(&sb, ": ", 2);
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n > 0)
        sb_put(&sb, msg, utf8_clip(msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1));
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

static int parse_tree(builder *b, const char *json, size_t len)
{
    const cfg *c = b->c;
    b->bad_escape = scan_surrogates(json, len);
    b->stack = xalloc(c, sizeof(frame) * c->max_depth);
    if (!b->stack) return fail(c, JSONPB_ENOMEM, NULL, "out of memory");
    b->h = yajl_alloc(&callbacks, NULL, b);
    if (!b->h) return fail(c, JSONPB_ENOMEM, NULL, "out of memory");
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

/* ---------------------------------------------------------------------------
 * Tree -> message
 * ------------------------------------------------------------------------- */

/* s[0..len) is a JSON number; *integral when it has no fraction/exponent. */
static int number_syntax(const char *s, size_t len, int *integral)
{
    size_t i = 0;
    *integral = 1;
    if (i < len && s[i] == '-') i++;
    if (i >= len) return 0;
    if (s[i] == '0') {
        i++;
    } else if (s[i] >= '1' && s[i] <= '9') {
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    } else {
        return 0;
    }
    if (i < len && s[i] == '.') {
        *integral = 0;
        if (++i >= len || s[i] < '0' || s[i] > '9') return 0;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        *integral = 0;
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= len || s[i] < '0' || s[i] > '9') return 0;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    return i == len;
}

enum { INT_OK, INT_FRACTION, INT_OVERFLOW };

static int is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* Exact integer value of JSON number text (valid syntax, NUL-terminated) as
 * sign and magnitude, computed from the decimal digits so that "1e3" is
 * 1000 and "1.0000000000000001" is not an integer (no rounding through
 * double). */
static int number_integer(const char *s, int *neg, uint64_t *mag)
{
    const char *p = s;
    *neg = *p == '-';
    p += *neg;
    const char *ds = p;
    while (is_digit(*p))
        p++;
    const char *point = p; /* one past the integer digits */
    if (*p == '.')
        for (p++; is_digit(*p);)
            p++;
    const char *de = p;
    long e = 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        int eneg = *p == '-';
        if (*p == '+' || *p == '-') p++;
        for (; is_digit(*p); p++)
            if (e < 100000) e = e * 10 + (*p - '0'); /* saturates: far beyond 20 digits */
        if (eneg) e = -e;
    }
    const char *first = NULL, *last = NULL; /* first and last non-zero digit */
    for (const char *q = ds; q < de; q++) {
        if (is_digit(*q) && *q != '0') {
            if (!first) first = q;
            last = q;
        }
    }
    *mag = 0;
    if (!first) return INT_OK;
        /* Decimal exponent of a digit's place: ones are 0, tenths are -1. */
#define PLACE(q) ((q) < point ? (long)(point - (q)-1) : -(long)((q)-point))
    long low = PLACE(last) + e, high = PLACE(first) + e;
#undef PLACE
    if (low < 0) return INT_FRACTION;
    if (high >= 20) return INT_OVERFLOW;
    uint64_t v = 0;
    for (const char *q = first; q <= last; q++) {
        if (!is_digit(*q)) continue;
        unsigned d = (unsigned)(*q - '0');
        if (v > (UINT64_MAX - d) / 10) return INT_OVERFLOW;
        v = v * 10 + d;
    }
    for (long k = 0; k < low; k++) {
        if (v > UINT64_MAX / 10) return INT_OVERFLOW;
        v *= 10;
    }
    *mag = v;
    return INT_OK;
}

static const char *int_type_name(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return "uint32";
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return "int64";
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return "uint64";
    default:
        return "int32";
    }
}

/* Decodes a number or decimal string into an integer of type t. */
static int dec_int(const cfg *c, ProtobufCType t, const jnode *v, const pathseg *p, void *slot)
{
    int integral;
    if (v->type != J_NUM && (v->type != J_STR || !number_syntax(v->s, v->len, &integral)))
        return fail(c, JSONPB_ETYPE, p, "expected an integer");
    int neg;
    uint64_t mag = 0;
    int r = number_integer(v->s, &neg, &mag);
    if (r == INT_FRACTION)
        return fail(c, JSONPB_ETYPE, p, "expected an integer, got %.*s", quote_len(v->s, v->len),
                    v->s);
    int64_t lo = 0;
    uint64_t hi = 0;
    switch (t) {
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        hi = UINT32_MAX;
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        hi = UINT64_MAX;
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        lo = INT64_MIN;
        hi = INT64_MAX;
        break;
    default:
        lo = INT32_MIN;
        hi = INT32_MAX;
        break;
    }
    /* Magnitude limit of the negative side: |lo| without overflow. */
    uint64_t neglim = lo ? (uint64_t)(-(lo + 1)) + 1 : 0;
    if (r == INT_OVERFLOW || (neg && mag > neglim) || (!neg && mag > hi))
        return fail(c, JSONPB_ERANGE, p, "%.*s is out of range for %s", quote_len(v->s, v->len),
                    v->s, int_type_name(t));
    int64_t sv = neg ? (mag == neglim && lo ? lo : -(int64_t)mag) : (int64_t)mag;
    switch (t) {
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *(uint32_t *)slot = (uint32_t)mag;
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *(uint64_t *)slot = mag;
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        *(int64_t *)slot = sv;
        break;
    default:
        *(int32_t *)slot = (int32_t)sv;
        break;
    }
    return 0;
}

static int dec_double(const cfg *c, int is_float, const jnode *v, const pathseg *p, void *slot)
{
    double d;
    int integral;
    if (v->type == J_STR && strcmp(v->s, "NaN") == 0) {
        d = NAN;
    } else if (v->type == J_STR && strcmp(v->s, "Infinity") == 0) {
        d = INFINITY;
    } else if (v->type == J_STR && strcmp(v->s, "-Infinity") == 0) {
        d = -INFINITY;
    } else if (v->type == J_NUM || (v->type == J_STR && number_syntax(v->s, v->len, &integral))) {
        /* strtof for floats: rounding through double could differ. */
        d = is_float ? strtof(v->s, NULL) : strtod(v->s, NULL);
        if (!isfinite(d))
            return fail(c, JSONPB_ERANGE, p, "%.*s is out of range for %s", quote_len(v->s, v->len),
                        v->s, is_float ? "float" : "double");
    } else {
        return fail(c, JSONPB_ETYPE, p, "expected a number");
    }
    if (is_float)
        *(float *)slot = (float)d;
    else
        *(double *)slot = d;
    return 0;
}

/* "BatchMode" -> "BATCH_MODE_": the prefix protobuf style puts on values. */
static size_t enum_prefix(const char *short_name, char *buf, size_t cap)
{
    size_t n = 0;
    for (const char *p = short_name; *p && n + 3 < cap; p++) {
        int upper = *p >= 'A' && *p <= 'Z';
        if (upper && p > short_name &&
            ((p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= '0' && p[-1] <= '9')))
            buf[n++] = '_';
        buf[n++] = *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
    }
    buf[n++] = '_';
    buf[n] = '\0';
    return n;
}

static int ieq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char x = a[i] >= 'a' && a[i] <= 'z' ? (char)(a[i] - 'a' + 'A') : a[i];
        char y = b[i] >= 'a' && b[i] <= 'z' ? (char)(b[i] - 'a' + 'A') : b[i];
        if (x != y) return 0;
    }
    return 1;
}

static int dec_enum(const cfg *c, const ProtobufCEnumDescriptor *ed, const jnode *v,
                    const pathseg *p, int *out)
{
    if (v->type == J_STR) {
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(ed, v->s);
        if (ev) {
            *out = ev->value;
            return 0;
        }
        char pre[256];
        size_t pl = enum_prefix(ed->short_name, pre, sizeof pre);
        for (unsigned i = 0; i < ed->n_values; i++) {
            const char *name = ed->values[i].name;
            size_t nl = strlen(name);
            if (nl == pl + v->len && strncmp(name, pre, pl) == 0 && ieq(name + pl, v->s, v->len)) {
                *out = ed->values[i].value;
                return 0;
            }
        }
        return fail(c, JSONPB_EUNKNOWN_VALUE, p, "unknown value '%.*s' for %s",
                    quote_len(v->s, v->len), v->s, ed->name);
    }
    if (v->type == J_NUM) {
        int32_t n;
        int r = dec_int(c, PROTOBUF_C_TYPE_INT32, v, p, &n);
        if (r) return r;
        if (!protobuf_c_enum_descriptor_get_value(ed, n))
            return fail(c, JSONPB_EUNKNOWN_VALUE, p, "unknown value %d for %s", (int)n, ed->name);
        *out = n;
        return 0;
    }
    return fail(c, JSONPB_ETYPE, p, "expected an enum value name");
}

static int b64val(int ch)
{
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+' || ch == '-') return 62;
    if (ch == '/' || ch == '_') return 63;
    return -1;
}

static int dec_bytes(const cfg *c, const jnode *v, const pathseg *p, ProtobufCBinaryData *out)
{
    if (v->type != J_STR) return fail(c, JSONPB_ETYPE, p, "expected a base64 string");
    size_t n = v->len;
    while (n > 0 && v->s[n - 1] == '=' && v->len - n < 2)
        n--;
    if (n % 4 == 1 || (n != v->len && v->len % 4 != 0))
        return fail(c, JSONPB_ETYPE, p, "expected a base64 string");
    uint8_t *buf = xalloc(c, n / 4 * 3 + 3);
    if (!buf) return fail(c, JSONPB_ENOMEM, p, "out of memory");
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int x = b64val((unsigned char)v->s[i]);
        if (x < 0) {
            xfree(c, buf);
            return fail(c, JSONPB_ETYPE, p, "expected a base64 string");
        }
        acc = acc << 6 | (uint32_t)x;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (uint8_t)(acc >> bits);
        }
    }
    out->data = buf;
    out->len = o;
    return 0;
}

static int dec_msg(const cfg *c, const ProtobufCMessageDescriptor *d, const jnode *v,
                   const pathseg *p, ProtobufCMessage **out);

/* Decodes one value (never null) of field f's type into slot. */
static int dec_value(const cfg *c, const ProtobufCFieldDescriptor *f, const jnode *v,
                     const pathseg *p, void *slot)
{
    if (v->type == J_NULL) return fail(c, JSONPB_ETYPE, p, "null is not allowed here");
    switch (f->type) {
    case PROTOBUF_C_TYPE_FLOAT:
        return dec_double(c, 1, v, p, slot);
    case PROTOBUF_C_TYPE_DOUBLE:
        return dec_double(c, 0, v, p, slot);
    case PROTOBUF_C_TYPE_BOOL:
        if (v->type != J_BOOL) return fail(c, JSONPB_ETYPE, p, "expected a boolean");
        *(protobuf_c_boolean *)slot = v->b;
        return 0;
    case PROTOBUF_C_TYPE_ENUM:
        return dec_enum(c, f->descriptor, v, p, slot);
    case PROTOBUF_C_TYPE_STRING: {
        if (v->type != J_STR) return fail(c, JSONPB_ETYPE, p, "expected a string");
        char *s = xdupn(c, v->s, v->len);
        if (!s) return fail(c, JSONPB_ENOMEM, p, "out of memory");
        *(char **)slot = s;
        return 0;
    }
    case PROTOBUF_C_TYPE_BYTES:
        return dec_bytes(c, v, p, slot);
    case PROTOBUF_C_TYPE_MESSAGE:
        return dec_msg(c, f->descriptor, v, p, slot);
    default:
        return dec_int(c, f->type, v, p, slot);
    }
}

/* Stores a decoded singular value's presence (oneof case or has_ flag). */
static void mark_set(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    if (is_oneof(f))
        *(uint32_t *)MEMBER(m, f->quantifier_offset) = f->id;
    else if (has_flag(f))
        *(protobuf_c_boolean *)MEMBER(m, f->quantifier_offset) = 1;
}

static int cmp_keys(const void *a, const void *b)
{
    const jnode *x = *(const jnode *const *)a, *y = *(const jnode *const *)b;
    if (x->klen != y->klen) return x->klen < y->klen ? -1 : 1;
    return memcmp(x->key, y->key, x->klen);
}

/* Rejects an object that names a key twice (sort, then compare neighbours). */
static int check_unique_keys(const cfg *c, const jnode *obj, const pathseg *p)
{
    if (obj->len < 2) return 0;
    const jnode **v = xalloc(c, obj->len * sizeof *v);
    if (!v) return fail(c, JSONPB_ENOMEM, p, "out of memory");
    size_t n = 0;
    for (const jnode *e = obj->child; e; e = e->next)
        v[n++] = e;
    qsort(v, n, sizeof *v, cmp_keys);
    for (size_t i = 1; i < n; i++) {
        if (cmp_keys(&v[i - 1], &v[i]) == 0) {
            pathseg ps = {p, v[i]->key, v[i]->klen, 0};
            xfree(c, v);
            return fail(c, JSONPB_EDUPLICATE, &ps, "duplicate key");
        }
    }
    xfree(c, v);
    return 0;
}

static int dec_map_key(const cfg *c, const ProtobufCFieldDescriptor *kf, const jnode *e,
                       const pathseg *p, void *slot)
{
    if (kf->type == PROTOBUF_C_TYPE_STRING) {
        char *s = xdupn(c, e->key, e->klen);
        if (!s) return fail(c, JSONPB_ENOMEM, p, "out of memory");
        *(char **)slot = s;
        return 0;
    }
    if (kf->type == PROTOBUF_C_TYPE_BOOL) {
        int t = e->klen == 4 && memcmp(e->key, "true", 4) == 0;
        if (!t && !(e->klen == 5 && memcmp(e->key, "false", 5) == 0))
            return fail(c, JSONPB_ETYPE, p, "expected a map key 'true' or 'false'");
        *(protobuf_c_boolean *)slot = t;
        return 0;
    }
    int integral;
    if (!number_syntax(e->key, e->klen, &integral) || !integral)
        return fail(c, JSONPB_ETYPE, p, "expected an integer map key");
    jnode k = {.type = J_STR, .s = e->key, .len = e->klen};
    return dec_int(c, kf->type, &k, p, slot);
}

static int dec_map(const cfg *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                   const jnode *v, const pathseg *p)
{
    if (v->type != J_OBJ) return fail(c, JSONPB_ETYPE, p, "expected an object");
    if (v->len == 0) return 0;
    int r = check_unique_keys(c, v, p);
    if (r) return r;
    const ProtobufCMessageDescriptor *ed = f->descriptor;
    size_t *n = MEMBER(m, f->quantifier_offset);
    ProtobufCMessage **arr = xalloc(c, v->len * sizeof *arr);
    if (!arr) return fail(c, JSONPB_ENOMEM, p, "out of memory");
    *(ProtobufCMessage ***)MEMBER(m, f->offset) = arr;
    for (const jnode *e = v->child; e; e = e->next) {
        pathseg ps = {p, e->key, e->klen, 0};
        if (e->type == J_NULL) return fail(c, JSONPB_ETYPE, &ps, "null is not allowed here");
        ProtobufCMessage *entry = xalloc(c, ed->sizeof_message);
        if (!entry) return fail(c, JSONPB_ENOMEM, &ps, "out of memory");
        ed->message_init(entry);
        r = dec_map_key(c, &ed->fields[0], e, &ps, MEMBER(entry, ed->fields[0].offset));
        if (!r) r = dec_value(c, &ed->fields[1], e, &ps, MEMBER(entry, ed->fields[1].offset));
        if (r) {
            protobuf_c_message_free_unpacked(entry, c->a);
            return r;
        }
        arr[(*n)++] = entry;
    }
    return 0;
}

static int dec_repeated(const cfg *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                        const jnode *v, const pathseg *p)
{
    if (is_map(m->descriptor, f)) return dec_map(c, m, f, v, p);
    if (v->type != J_ARR) return fail(c, JSONPB_ETYPE, p, "expected an array");
    if (v->len == 0) return 0;
    size_t es = type_size(f->type);
    char *arr = xalloc(c, v->len * es);
    if (!arr) return fail(c, JSONPB_ENOMEM, p, "out of memory");
    memset(arr, 0, v->len * es);
    size_t *n = MEMBER(m, f->quantifier_offset);
    *(void **)MEMBER(m, f->offset) = arr;
    size_t i = 0;
    for (const jnode *e = v->child; e; e = e->next, i++) {
        pathseg ps = {p, NULL, 0, i};
        int r = dec_value(c, f, e, &ps, arr + i * es);
        if (r) return r;
        *n = i + 1; /* only complete elements are visible to the free path */
    }
    return 0;
}

/* Decodes member e into field f of m; seen is m's bitmap of given fields. */
static int dec_member(const cfg *c, ProtobufCMessage *m, uint64_t *seen,
                      const ProtobufCFieldDescriptor *f, const jnode *e, const pathseg *p)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    size_t fi = (size_t)(f - d->fields);
    if (seen[fi / 64] & (UINT64_C(1) << (fi % 64)))
        return fail(c, JSONPB_EDUPLICATE, p, "field given more than once");
    seen[fi / 64] |= UINT64_C(1) << (fi % 64);
    if (e->type == J_NULL) return 0; /* null means absent */
    if (f->label == PROTOBUF_C_LABEL_REPEATED) return dec_repeated(c, m, f, e, p);
    if (is_oneof(f)) {
        uint32_t cur = *(const uint32_t *)CMEMBER(m, f->quantifier_offset);
        if (cur) {
            const ProtobufCFieldDescriptor *o = protobuf_c_message_descriptor_get_field(d, cur);
            return fail(c, JSONPB_EDUPLICATE, p, "'%s' and '%s' are members of the same oneof",
                        o ? o->name : "?", f->name);
        }
    }
    int r = dec_value(c, f, e, p, MEMBER(m, f->offset));
    if (!r) mark_set(m, f);
    return r;
}

/* Looks up the flattened member named by the type key. */
static int dec_type(const cfg *c, const ProtobufCMessageDescriptor *d, long q, const jnode *t,
                    const pathseg *p, const ProtobufCFieldDescriptor **out)
{
    if (t->type != J_STR) return fail(c, JSONPB_ETYPE, p, "expected a string");
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (is_oneof(f) && (long)f->quantifier_offset == q && name_is(f->name, t->s, t->len)) {
            *out = f;
            return 0;
        }
    }
    char names[400];
    sbuf nb = {names, sizeof names, 0};
    names[0] = '\0';
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!is_oneof(f) || (long)f->quantifier_offset != q) continue;
        if (nb.len) sb_put(&nb, ", ", 2);
        sb_put(&nb, f->name, strlen(f->name));
    }
    return fail(c, JSONPB_EUNKNOWN_VALUE, p, "unknown type '%.*s'; expected one of %s",
                quote_len(t->s, t->len), t->s, names);
}

/* A zeroed bitmap of n bits: on the stack when small. */
typedef struct bitmap {
    uint64_t small[4];
    uint64_t *bits;
} bitmap;

static int bitmap_init(const cfg *c, bitmap *b, unsigned n)
{
    size_t words = (n + 63) / 64;
    memset(b->small, 0, sizeof b->small);
    b->bits = b->small;
    if (words <= 4) return 0;
    b->bits = xalloc(c, words * sizeof(uint64_t));
    if (!b->bits) return JSONPB_ENOMEM;
    memset(b->bits, 0, words * sizeof(uint64_t));
    return 0;
}

static void bitmap_free(const cfg *c, bitmap *b)
{
    if (b->bits != b->small) xfree(c, b->bits);
}

static int dec_object(const cfg *c, const ProtobufCMessageDescriptor *d, const jnode *v,
                      const pathseg *p, ProtobufCMessage *m)
{
    long q = flattened(c, d);
    const ProtobufCFieldDescriptor *mf = NULL; /* flattened member named by type */
    ProtobufCMessage *mm = NULL;
    bitmap seen, mseen = {{0}, NULL};
    if (bitmap_init(c, &seen, d->n_fields)) return fail(c, JSONPB_ENOMEM, p, "out of memory");
    int r = 0;
    if (q >= 0) {
        const jnode *t = NULL;
        int nested = 0; /* a member given in the nested form */
        for (const jnode *e = v->child; e; e = e->next) {
            if (e->klen != c->type_key_len || memcmp(e->key, c->type_key, e->klen)) {
                const ProtobufCFieldDescriptor *f = find_field(d, e->key, e->klen);
                nested |= f && is_oneof(f) && (long)f->quantifier_offset == q;
                continue;
            }
            pathseg ps = {p, e->key, e->klen, 0};
            if (t) {
                r = fail(c, JSONPB_EDUPLICATE, &ps, "field given more than once");
                goto out;
            }
            t = e;
            r = dec_type(c, d, q, e, &ps, &mf);
            if (r) goto out;
        }
        /* Reported before any unknown key: without the type, the member's
         * inline fields cannot be recognised. */
        if (!t && !nested) {
            r = fail(c, JSONPB_EMISSING, p, "missing field: %s", c->type_key);
            goto out;
        }
        if (mf) {
            const ProtobufCMessageDescriptor *md = mf->descriptor;
            mm = xalloc(c, md->sizeof_message);
            if (!mm || bitmap_init(c, &mseen, md->n_fields)) {
                xfree(c, mm);
                r = fail(c, JSONPB_ENOMEM, p, "out of memory");
                goto out;
            }
            md->message_init(mm);
            *(ProtobufCMessage **)MEMBER(m, mf->offset) = mm;
            mark_set(m, mf);
            /* The nested form of the same oneof would now be a conflict. */
            seen.bits[(size_t)(mf - d->fields) / 64] |= UINT64_C(1)
                                                        << ((size_t)(mf - d->fields) % 64);
        }
    }
    for (const jnode *e = v->child; e; e = e->next) {
        pathseg ps = {p, e->key, e->klen, 0};
        if (q >= 0 && e->klen == c->type_key_len && !memcmp(e->key, c->type_key, e->klen)) continue;
        const ProtobufCFieldDescriptor *f = find_field(d, e->key, e->klen);
        if (f && mf && f == mf) {
            r = fail(c, JSONPB_EDUPLICATE, &ps, "'%s' is also given by '%s'", f->name, c->type_key);
        } else if (f) {
            r = dec_member(c, m, seen.bits, f, e, &ps);
        } else if (mm && (f = find_field(mm->descriptor, e->key, e->klen)) != NULL) {
            r = dec_member(c, mm, mseen.bits, f, e, &ps);
        } else if (!c->ignore_unknown) {
            r = fail(c, JSONPB_EUNKNOWN_FIELD, &ps, "unknown field");
        }
        if (r) goto out;
    }
    if (q >= 0 && *(const uint32_t *)CMEMBER(m, (size_t)q) == 0)
        r = fail(c, JSONPB_EMISSING, p, "missing field: %s", c->type_key);
out:
    bitmap_free(c, &seen);
    if (mseen.bits) bitmap_free(c, &mseen);
    return r;
}

/* "expected an integer or a string" for a scalar union. */
static int union_kinds_fail(const cfg *c, const sunion *u, const pathseg *p)
{
    const char *k[4];
    int n = 0;
    if (u->i && !u->f) k[n++] = "an integer";
    if (u->f) k[n++] = "a number";
    if (u->s) k[n++] = "a string";
    if (u->b) k[n++] = "a boolean";
    char buf[128];
    sbuf b = {buf, sizeof buf, 0};
    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i) sb_printf(&b, "%s", i + 1 == n ? " or " : ", ");
        sb_printf(&b, "%s", k[i]);
    }
    return fail(c, JSONPB_ETYPE, p, "expected %s", buf);
}

/* The member of a scalar union that a bare JSON value selects, or NULL. */
static const ProtobufCFieldDescriptor *union_member(const sunion *u, const jnode *v)
{
    int integral;
    switch (v->type) {
    case J_NUM:
        return v->integral && u->i ? u->i : u->f;
    case J_BOOL:
        return u->b;
    case J_STR:
        if (u->s) return u->s;
        if (number_syntax(v->s, v->len, &integral) && integral && u->i) return u->i;
        return u->f;
    default:
        return NULL;
    }
}

static int dec_msg(const cfg *c, const ProtobufCMessageDescriptor *d, const jnode *v,
                   const pathseg *p, ProtobufCMessage **out)
{
    sunion u;
    const ProtobufCFieldDescriptor *f = NULL;
    int wrapper = jsonpb_is_wrapper(d);
    int bare = v->type != J_OBJ && v->type != J_ARR;
    if (wrapper) {
        if (!bare) {
            /* Reports the scalar's type error; nothing is stored or allocated
             * for a non-scalar value. */
            union {
                uint64_t u;
                double d;
                char *s;
                ProtobufCBinaryData b;
            } scratch;
            return dec_value(c, &d->fields[0], v, p, &scratch);
        }
        f = &d->fields[0];
    } else if (scalar_union(d, &u) && v->type != J_OBJ) {
        f = union_member(&u, v);
        if (!f) return union_kinds_fail(c, &u, p);
    } else if (v->type != J_OBJ) {
        return fail(c, JSONPB_ETYPE, p, "expected an object");
    }
    ProtobufCMessage *m = xalloc(c, d->sizeof_message);
    if (!m) return fail(c, JSONPB_ENOMEM, p, "out of memory");
    d->message_init(m);
    int r;
    if (f) {
        r = dec_value(c, f, v, p, MEMBER(m, f->offset));
        if (!r) mark_set(m, f);
    } else {
        r = dec_object(c, d, v, p, m);
    }
    if (r) {
        protobuf_c_message_free_unpacked(m, c->a);
        return r;
    }
    *out = m;
    return 0;
}

int jsonpb_decode(const ProtobufCMessageDescriptor *d, const char *json, size_t len,
                  const jsonpb_opts *opts, ProtobufCMessage **out, char *err, size_t errlen)
{
    cfg c;
    flat_cache fc;
    if (out) *out = NULL;
    int r = cfg_init(&c, opts, err, errlen, &fc);
    if (r) return fail(&c, r, NULL, "invalid options");
    if (!d || d->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC || !out || (!json && len))
        return fail(&c, JSONPB_EINVAL, NULL, "invalid argument");
    if (len > c.max_input)
        return fail(&c, JSONPB_ELIMIT, NULL, "input of %zu bytes exceeds the limit of %zu", len,
                    c.max_input);
    builder b = {.c = &c, .ar = {&c, NULL}};
    r = parse_tree(&b, json ? json : "", len);
    if (!r) {
        if (b.root->type == J_NULL)
            r = fail(&c, JSONPB_ETYPE, NULL, "expected an object");
        else
            r = dec_msg(&c, d, b.root, NULL, out);
    }
    if (b.h) yajl_free(b.h);
    xfree(&c, b.stack);
    arena_free(&b.ar);
    return r;
}

/* ---------------------------------------------------------------------------
 * Message -> JSON
 * ------------------------------------------------------------------------- */

/* jsonpb_encode's own output. Going through yajl_gen costs a call with an
 * assert, a capacity loop and a NUL for every separator and token, plus a
 * byte-by-byte escape scan: most of encoding a large graph. The text
 * written is the same as yajl's compact output. The writers fill the
 * text_buf's room directly and put the NUL once at the end. */
typedef text_buf obuf;

/* First allocation: most answers fit; large ones double from here. */
#define OBUF_INITIAL 4096

typedef struct ectx {
    cfg c;
    yajl_gen g; /* output of the _gen functions, or NULL */
    obuf *ob;   /* else jsonpb_encode's buffer */
    int comma;  /* ob: a value ended at this level, the next one needs ',' */
} ectx;

static int gen(ectx *x, yajl_gen_status s, const pathseg *p)
{
    switch (s) {
    case yajl_gen_status_ok:
        return 0;
    case yajl_max_depth_exceeded:
        return fail(&x->c, JSONPB_ELIMIT, p, "nesting too deep");
    case yajl_gen_invalid_string:
        return fail(&x->c, JSONPB_EUTF8, p, "invalid UTF-8");
    default:
        return fail(&x->c, JSONPB_EINVAL, p, "the generator does not accept a value here");
    }
}

/* Room for n more bytes and the final NUL. */
static int ob_reserve(ectx *x, size_t n, const pathseg *p)
{
    obuf *b = x->ob;
    if (n < b->cap - b->n) return 0;
    if ((!b->cap && text_buf_reserve(b, OBUF_INITIAL - 1)) || text_buf_reserve(b, n))
        return fail(&x->c, JSONPB_ENOMEM, p, "out of memory");
    return 0;
}

/* '{' or '[' (close = 0), '}' or ']' (close = 1). */
static int w_bracket(ectx *x, int array, int close, const pathseg *p)
{
    if (!x->ob) {
        yajl_gen_status st = array ? close ? yajl_gen_array_close(x->g) : yajl_gen_array_open(x->g)
                             : close ? yajl_gen_map_close(x->g)
                                     : yajl_gen_map_open(x->g);
        return gen(x, st, p);
    }
    if (ob_reserve(x, 2, p)) return JSONPB_ENOMEM;
    obuf *b = x->ob;
    if (x->comma && !close) b->p[b->n++] = ',';
    b->p[b->n++] = close ? (array ? ']' : '}') : (array ? '[' : '{');
    x->comma = close;
    return 0;
}

/* A number or literal, written as is. */
static int w_raw(ectx *x, const char *s, size_t n, const pathseg *p)
{
    if (!x->ob) return gen(x, yajl_gen_number(x->g, s, n), p);
    if (ob_reserve(x, n + 1, p)) return JSONPB_ENOMEM;
    obuf *b = x->ob;
    if (x->comma) b->p[b->n++] = ',';
    memcpy(b->p + b->n, s, n);
    b->n += n;
    x->comma = 1;
    return 0;
}

static int w_bool(ectx *x, int v, const pathseg *p)
{
    if (!x->ob) return gen(x, yajl_gen_bool(x->g, v), p);
    return v ? w_raw(x, "true", 4, p) : w_raw(x, "false", 5, p);
}

/* Bytes a JSON string must escape, as yajl does: '"', '\\' and controls. */
static const unsigned char needs_escape[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,         1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, ['"'] = 1, ['\\'] = 1,
};

/* A string (already valid UTF-8), or a key when key is set. */
static int w_string(ectx *x, const char *s, size_t n, int key, const pathseg *p)
{
    if (!x->ob) return gen(x, yajl_gen_string(x->g, (const unsigned char *)s, n), p);
    if (ob_reserve(x, n + 4, p)) return JSONPB_ENOMEM; /* , " " : */
    obuf *b = x->ob;
    if (x->comma) b->p[b->n++] = ',';
    b->p[b->n++] = '"';
    size_t beg = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!needs_escape[ch]) continue;
        /* the run before, the escape (at most 6), and what is left */
        if (ob_reserve(x, (i - beg) + 6 + (n - i) + 2, p)) return JSONPB_ENOMEM;
        memcpy(b->p + b->n, s + beg, i - beg);
        b->n += i - beg;
        char *o = b->p + b->n;
        const char *e = ch == '"'    ? "\\\""
                        : ch == '\\' ? "\\\\"
                        : ch == '\r' ? "\\r"
                        : ch == '\n' ? "\\n"
                        : ch == '\f' ? "\\f"
                        : ch == '\b' ? "\\b"
                        : ch == '\t' ? "\\t"
                                     : NULL;
        if (e) {
            o[0] = e[0];
            o[1] = e[1];
            b->n += 2;
        } else {
            static const char hex[] = "0123456789ABCDEF";
            memcpy(o, "\\u00", 4);
            o[4] = hex[ch >> 4];
            o[5] = hex[ch & 15];
            b->n += 6;
        }
        beg = i + 1;
    }
    memcpy(b->p + b->n, s + beg, n - beg);
    b->n += n - beg;
    b->p[b->n++] = '"';
    if (key) b->p[b->n++] = ':';
    x->comma = !key;
    return 0;
}

static int enc_str(ectx *x, const char *s, size_t n, const pathseg *p)
{
    if (!text_utf8_valid(s, n)) return fail(&x->c, JSONPB_EUTF8, p, "invalid UTF-8");
    return w_string(x, s, n, 0, p);
}

static int enc_key(ectx *x, const char *k)
{
    return w_string(x, k, strlen(k), 1, NULL);
}

/* Decimal digits of v into buf (at least 21 bytes), NUL-terminated;
 * returns the length. printf costs more than the rest of encoding an
 * integer. */
static size_t fmt_u64(uint64_t v, int neg, char *buf)
{
    char tmp[24];
    size_t n = 0, o = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (neg) buf[o++] = '-';
    while (n)
        buf[o++] = tmp[--n];
    buf[o] = '\0';
    return o;
}

static size_t fmt_i64(int64_t v, char *buf)
{
    return v < 0 ? fmt_u64((uint64_t)0 - (uint64_t)v, 1, buf) : fmt_u64((uint64_t)v, 0, buf);
}

static int enc_int(ectx *x, int64_t v, const pathseg *p)
{
    char num[24];
    size_t n = fmt_i64(v, num);
    return w_raw(x, num, n, p);
}

/* Integral values below these print as plain digits with "%.6g" (float)
 * and "%.15g" (double), the first precisions fmt_double tries. */
#define FLOAT_DIGITS_MAX 1e6
#define DOUBLE_DIGITS_MAX 1e15

/* Shortest text that reads back as the same double (or float). */
static void fmt_double(double v, int is_float, char *buf, size_t cap)
{
    /* Canvas positions and sizes are mostly integral: the same digits as
     * the printf loop below, without it. -0.0 takes the loop ("-0"). */
    double lim = is_float ? FLOAT_DIGITS_MAX : DOUBLE_DIGITS_MAX;
    if (cap >= 24 && v > -lim && v < lim && v == (double)(int64_t)v && (v != 0 || !signbit(v))) {
        fmt_i64((int64_t)v, buf);
        return;
    }
    for (int prec = is_float ? 6 : 15; prec <= (is_float ? 9 : 17); prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (is_float ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v) return;
    }
}

static int enc_double(ectx *x, double v, int is_float, int in_union, const pathseg *p)
{
    if (isnan(v)) return enc_str(x, "NaN", 3, p);
    if (isinf(v)) return v > 0 ? enc_str(x, "Infinity", 8, p) : enc_str(x, "-Infinity", 9, p);
    char buf[48];
    fmt_double(v, is_float, buf, sizeof buf - 2);
    /* In a scalar union "30" would select the integer member on the way
     * back; "30.0" keeps the floating one. */
    if (in_union && !strpbrk(buf, ".eE")) strcat(buf, ".0");
    return w_raw(x, buf, strlen(buf), p);
}

static int enc_bytes(ectx *x, const ProtobufCBinaryData *b, const pathseg *p)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = (b->len + 2) / 3 * 4;
    char *out = malloc(n + 1);
    if (!out) return fail(&x->c, JSONPB_ENOMEM, p, "out of memory");
    size_t o = 0;
    for (size_t i = 0; i < b->len; i += 3) {
        uint32_t v = (uint32_t)b->data[i] << 16;
        if (i + 1 < b->len) v |= (uint32_t)b->data[i + 1] << 8;
        if (i + 2 < b->len) v |= b->data[i + 2];
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < b->len ? tab[v >> 6 & 63] : '=';
        out[o++] = i + 2 < b->len ? tab[v & 63] : '=';
    }
    int r = w_string(x, out, o, 0, p);
    free(out);
    return r;
}

static int enc_msg(ectx *x, const ProtobufCMessage *m, const pathseg *p, unsigned depth);

/* The longest enum value name written in a short style without a heap copy
 * (the contract's longest is ~40 bytes). */
#define ENUM_NAME_BUF 128

/* Writes the value name of enum e in the style asked for it. Names come
 * from the descriptor (ASCII), so they need no UTF-8 check. */
static int enc_enum(ectx *x, const ProtobufCEnumDescriptor *e, const char *name, const pathseg *p)
{
    jsonpb_enum_style st = x->c.enum_style;
    for (size_t i = 0; i < x->c.n_enum_over; i++)
        if (x->c.enum_over[i].e == e) {
            st = x->c.enum_over[i].style;
            break;
        }
    size_t n = strlen(name);
    if (st != JSONPB_ENUM_FULL && strlen(e->short_name) < 100) {
        char pre[256]; /* 2 x 100 + 2: every letter may get a '_' */
        size_t pl = enum_prefix(e->short_name, pre, sizeof pre);
        if (n > pl && !memcmp(name, pre, pl)) {
            name += pl;
            n -= pl;
        }
    }
    if (st != JSONPB_ENUM_LOWER) return w_string(x, name, n, 0, p);
    char buf[ENUM_NAME_BUF];
    char *low = n < sizeof buf ? buf : malloc(n + 1);
    if (!low) return fail(&x->c, JSONPB_ENOMEM, p, "out of memory");
    for (size_t i = 0; i < n; i++)
        low[i] = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] - 'A' + 'a') : name[i];
    int r = w_string(x, low, n, 0, p);
    if (low != buf) free(low);
    return r;
}

/* Writes one value of field f's type from slot. */
static int enc_value(ectx *x, const ProtobufCFieldDescriptor *f, const void *slot, const pathseg *p,
                     unsigned depth, int in_union)
{
    char num[32];
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return enc_int(x, *(const int32_t *)slot, p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return enc_int(x, *(const uint32_t *)slot, p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: {
        int64_t v = *(const int64_t *)slot;
        if (in_union || (v >= -SAFE_INT && v <= SAFE_INT)) return enc_int(x, v, p);
        snprintf(num, sizeof num, "%" PRId64, v);
        return enc_str(x, num, strlen(num), p);
    }
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        uint64_t v = *(const uint64_t *)slot;
        if (v <= (uint64_t)SAFE_INT) return enc_int(x, (int64_t)v, p);
        snprintf(num, sizeof num, "%" PRIu64, v);
        if (in_union) return w_raw(x, num, strlen(num), p);
        return enc_str(x, num, strlen(num), p);
    }
    case PROTOBUF_C_TYPE_FLOAT:
        return enc_double(x, *(const float *)slot, 1, in_union, p);
    case PROTOBUF_C_TYPE_DOUBLE:
        return enc_double(x, *(const double *)slot, 0, in_union, p);
    case PROTOBUF_C_TYPE_BOOL:
        return w_bool(x, *(const protobuf_c_boolean *)slot != 0, p);
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *)slot;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
        if (ev) return enc_enum(x, f->descriptor, ev->name, p);
        return enc_int(x, v, p);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)slot;
        return s ? enc_str(x, s, strlen(s), p) : enc_str(x, "", 0, p);
    }
    case PROTOBUF_C_TYPE_BYTES:
        return enc_bytes(x, slot, p);
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)slot;
        if (sub) return enc_msg(x, sub, p, depth + 1);
        /* A NULL element of a list or map is an empty message. */
        int r = w_bracket(x, 0, 0, p);
        return r ? r : w_bracket(x, 0, 1, p);
    }
    default:
        return fail(&x->c, JSONPB_EINVAL, p, "unsupported field type");
    }
}

/* proto3 default value (omitted unless emit_defaults). */
static int is_default(const ProtobufCFieldDescriptor *f, const void *slot)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return *(const uint64_t *)slot == 0;
    case PROTOBUF_C_TYPE_FLOAT: {
        float v = *(const float *)slot;
        return v == 0 && !signbit(v); /* -0.0 is a value of its own */
    }
    case PROTOBUF_C_TYPE_DOUBLE: {
        double v = *(const double *)slot;
        return v == 0 && !signbit(v);
    }
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *)slot == 0;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)slot;
        return !s || !*s;
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)slot)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(ProtobufCMessage *const *)slot == NULL;
    default:
        return *(const uint32_t *)slot == 0;
    }
}

static int enc_map(ectx *x, const ProtobufCFieldDescriptor *f, const ProtobufCMessage *m,
                   const pathseg *p, unsigned depth)
{
    size_t n = *(const size_t *)CMEMBER(m, f->quantifier_offset);
    ProtobufCMessage *const *arr = *(ProtobufCMessage *const *const *)CMEMBER(m, f->offset);
    const ProtobufCMessageDescriptor *ed = f->descriptor;
    const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
    int r = w_bracket(x, 0, 0, p);
    for (size_t i = 0; !r && i < n; i++) {
        const ProtobufCMessage *e = arr[i];
        if (!e) continue;
        const void *ks = CMEMBER(e, kf->offset);
        char num[32];
        const char *k = num;
        switch (kf->type) {
        case PROTOBUF_C_TYPE_STRING:
            k = *(char *const *)ks ? *(char *const *)ks : "";
            break;
        case PROTOBUF_C_TYPE_BOOL:
            k = *(const protobuf_c_boolean *)ks ? "true" : "false";
            break;
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
            snprintf(num, sizeof num, "%" PRIu32, *(const uint32_t *)ks);
            break;
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
            snprintf(num, sizeof num, "%" PRIu64, *(const uint64_t *)ks);
            break;
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
            snprintf(num, sizeof num, "%" PRId64, *(const int64_t *)ks);
            break;
        default:
            snprintf(num, sizeof num, "%" PRId32, *(const int32_t *)ks);
            break;
        }
        pathseg ps = {p, k, strlen(k), 0};
        size_t kl = strlen(k);
        r = text_utf8_valid(k, kl) ? w_string(x, k, kl, 1, &ps)
                                   : fail(&x->c, JSONPB_EUTF8, &ps, "invalid UTF-8");
        if (!r) r = enc_value(x, vf, CMEMBER(e, vf->offset), &ps, depth, 0);
    }
    return r ? r : w_bracket(x, 0, 1, p);
}

static int enc_field(ectx *x, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                     const pathseg *p, unsigned depth)
{
    const void *slot = CMEMBER(m, f->offset);
    pathseg ps = {p, f->name, strlen(f->name), 0};
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t n = *(const size_t *)CMEMBER(m, f->quantifier_offset);
        if (n == 0 && !x->c.emit_defaults) return 0;
        int r = enc_key(x, f->name);
        if (r) return r;
        if (is_map(m->descriptor, f)) return enc_map(x, f, m, &ps, depth);
        const char *arr = *(const char *const *)slot;
        size_t es = type_size(f->type);
        r = w_bracket(x, 1, 0, &ps);
        for (size_t i = 0; !r && i < n; i++) {
            pathseg is = {&ps, NULL, 0, i};
            r = enc_value(x, f, arr + i * es, &is, depth, 0);
        }
        return r ? r : w_bracket(x, 1, 1, &ps);
    }
    if (is_oneof(f)) {
        if (*(const uint32_t *)CMEMBER(m, f->quantifier_offset) != f->id) return 0;
    } else if (has_flag(f)) {
        if (!*(const protobuf_c_boolean *)CMEMBER(m, f->quantifier_offset)) return 0;
    } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        if (!*(ProtobufCMessage *const *)slot) return 0;
    } else if (f->label != PROTOBUF_C_LABEL_REQUIRED && !x->c.emit_defaults &&
               is_default(f, slot)) {
        return 0;
    }
    int r = enc_key(x, f->name);
    return r ? r : enc_value(x, f, slot, &ps, depth, 0);
}

static int enc_members(ectx *x, const ProtobufCMessage *m, const pathseg *p, unsigned depth);

static int enc_msg(ectx *x, const ProtobufCMessage *m, const pathseg *p, unsigned depth)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    if (!d || d->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC)
        return fail(&x->c, JSONPB_EINVAL, p, "not a message");
    if (depth > x->c.max_depth)
        return fail(&x->c, JSONPB_ELIMIT, p, "nesting deeper than %u levels", x->c.max_depth);
    if (jsonpb_is_wrapper(d))
        return enc_value(x, &d->fields[0], CMEMBER(m, d->fields[0].offset), p, depth, 0);
    sunion u;
    if (scalar_union(d, &u)) {
        uint32_t cs = *(const uint32_t *)CMEMBER(m, d->fields[0].quantifier_offset);
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(d, cs);
        /* NaN and infinities of a floating member are strings in JSON,
         * which would select the string member: those take the object form. */
        int nonfinite = f && ((f->type == PROTOBUF_C_TYPE_DOUBLE &&
                               !isfinite(*(const double *)CMEMBER(m, f->offset))) ||
                              (f->type == PROTOBUF_C_TYPE_FLOAT &&
                               !isfinite(*(const float *)CMEMBER(m, f->offset))));
        if (f && !nonfinite) return enc_value(x, f, CMEMBER(m, f->offset), p, depth, 1);
    }
    int r = w_bracket(x, 0, 0, p);
    if (!r) r = enc_members(x, m, p, depth);
    return r ? r : w_bracket(x, 0, 1, p);
}

/* The members of m's JSON object, into a map already open. */
static int enc_members(ectx *x, const ProtobufCMessage *m, const pathseg *p, unsigned depth)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    long q = flattened(&x->c, d);
    int r = 0;
    const ProtobufCMessage *mm = NULL;
    if (q >= 0) {
        uint32_t cs = *(const uint32_t *)CMEMBER(m, (size_t)q);
        const ProtobufCFieldDescriptor *mf = protobuf_c_message_descriptor_get_field(d, cs);
        if (mf) mm = *(ProtobufCMessage *const *)CMEMBER(m, mf->offset);
        if (mm) {
            r = enc_key(x, x->c.type_key);
            if (!r) r = enc_str(x, mf->name, strlen(mf->name), p);
        }
    }
    for (unsigned i = 0; !r && i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (q >= 0 && is_oneof(f)) {
            /* The member's fields stand inline, in place of the oneof. */
            if (!mm || *(const uint32_t *)CMEMBER(m, (size_t)q) != f->id) continue;
            if (depth + 1 > x->c.max_depth)
                return fail(&x->c, JSONPB_ELIMIT, p, "nesting deeper than %u levels",
                            x->c.max_depth);
            for (unsigned k = 0; !r && k < mm->descriptor->n_fields; k++)
                r = enc_field(x, mm, &mm->descriptor->fields[k], p, depth + 1);
            continue;
        }
        r = enc_field(x, m, f, p, depth);
    }
    return r;
}

int jsonpb_encode_gen(yajl_gen g, const ProtobufCMessage *m, const jsonpb_opts *opts, char *err,
                      size_t errlen)
{
    ectx x;
    flat_cache fc;
    int r = cfg_init(&x.c, opts, err, errlen, &fc);
    if (r) return fail(&x.c, r, NULL, "invalid options");
    if (!g || !m) return fail(&x.c, JSONPB_EINVAL, NULL, "invalid argument");
    x.g = g;
    x.ob = NULL;
    x.comma = 0;
    return enc_msg(&x, m, NULL, 1);
}

int jsonpb_encode_fields_gen(yajl_gen g, const ProtobufCMessage *m, const jsonpb_opts *opts,
                             char *err, size_t errlen)
{
    ectx x;
    flat_cache fc;
    int r = cfg_init(&x.c, opts, err, errlen, &fc);
    if (r) return fail(&x.c, r, NULL, "invalid options");
    if (!g || !m) return fail(&x.c, JSONPB_EINVAL, NULL, "invalid argument");
    const ProtobufCMessageDescriptor *d = m->descriptor;
    if (!d || d->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC)
        return fail(&x.c, JSONPB_EINVAL, NULL, "not a message");
    sunion u;
    if (jsonpb_is_wrapper(d) || scalar_union(d, &u))
        return fail(&x.c, JSONPB_EINVAL, NULL, "%s is a bare JSON value, not an object", d->name);
    x.g = g;
    x.ob = NULL;
    x.comma = 0;
    return enc_members(&x, m, NULL, 1);
}

int jsonpb_encode(const ProtobufCMessage *m, const jsonpb_opts *opts, char **out, size_t *len,
                  char *err, size_t errlen)
{
    ectx x;
    flat_cache fc;
    obuf b = {0};
    if (out) *out = NULL;
    int r = cfg_init(&x.c, opts, err, errlen, &fc);
    if (r) return fail(&x.c, r, NULL, "invalid options");
    if (!m || !out || !len) return fail(&x.c, JSONPB_EINVAL, NULL, "invalid argument");
    x.g = NULL;
    x.ob = &b;
    x.comma = 0;
    r = enc_msg(&x, m, NULL, 1);
    if (!r && !b.p) r = ob_reserve(&x, 0, NULL); /* nothing written: not expected */
    if (r) {
        free(b.p);
        return r;
    }
    b.p[b.n] = '\0'; /* every write kept a byte for it */
    *out = b.p;
    *len = b.n;
    return 0;
}
