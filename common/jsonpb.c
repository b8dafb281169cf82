/* jsonpb: JSON <-> protobuf-c messages (see jsonpb.h for the mapping):
 * options, allocation, errors and the analysis of descriptors.
 *
 * Decoding runs in two steps: yajl's callbacks build a small tree in an arena
 * while enforcing every limit (jsonpb_tree.c), then the tree is converted
 * into the message (jsonpb_decode.c). The tree lets a flattened oneof find
 * its "type" key wherever it stands in the object, and keeps the converter
 * free of parser state. Encoding walks the message and writes through
 * yajl_gen (jsonpb_encode.c). See jsonpb_int.h. */
#include "jsonpb_int.h"

#include <pthread.h>

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

int jp_cfg_init(cfg *c, const jsonpb_opts *o, char *err, size_t errlen, flat_cache *fc)
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

void *jp_xalloc(const cfg *c, size_t n)
{
    return c->a->alloc(c->a->allocator_data, n ? n : 1);
}

void jp_xfree(const cfg *c, void *p)
{
    if (p) c->a->free(c->a->allocator_data, p);
}

char *jp_xdupn(const cfg *c, const char *s, size_t n)
{
    char *p = jp_xalloc(c, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* Largest prefix length <= n of s (valid UTF-8) that does not split a
 * character, so truncated messages stay valid UTF-8. */
size_t jp_utf8_clip(const char *s, size_t n)
{
    size_t i = n, cont = 0;
    while (i > 0 && cont < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--, cont++;
    if (i == 0) return n;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return n - (i - 1) < need ? i - 1 : n;
}

void jp_sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->cap == 0) return;
    size_t room = b->cap - 1 - b->len;
    if (n > room) n = jp_utf8_clip(s, room);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void jp_sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    size_t len = (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1;
    jp_sb_put(b, tmp, jp_utf8_clip(tmp, len));
}

void jp_sb_key(sbuf *b, const char *k, size_t n)
{
    jp_sb_put(b, k, n > ERR_QUOTE_MAX ? jp_utf8_clip(k, ERR_QUOTE_MAX) : n);
}

static void sb_path(sbuf *b, const pathseg *p)
{
    if (!p) return;
    sb_path(b, p->up);
    if (p->key) {
        if (b->len) jp_sb_put(b, ".", 1);
        jp_sb_key(b, p->key, p->klen);
    } else {
        jp_sb_printf(b, "[%zu]", p->idx);
    }
}

int jp_fail(const cfg *c, int code, const pathseg *p, const char *fmt, ...)
{
    if (!c->err) return code;
    sbuf b = {c->err, c->errlen, 0};
    b.p[0] = '\0';
    sb_path(&b, p);
    if (b.len) jp_sb_put(&b, ": ", 2);
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n > 0)
        jp_sb_put(&b, msg, jp_utf8_clip(msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1));
    return code;
}

/* A value quoted in a message, clipped to ERR_QUOTE_MAX bytes. */
int jp_quote_len(const char *s, size_t n)
{
    return (int)(n > ERR_QUOTE_MAX ? jp_utf8_clip(s, ERR_QUOTE_MAX) : n);
}

/* ---------------------------------------------------------------------------
 * Descriptor analysis (generic; nothing here knows comfyd's messages)
 * ------------------------------------------------------------------------- */

int jp_is_oneof(const ProtobufCFieldDescriptor *f)
{
    return (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
}

/* Optional (proto2-style) scalars carry a has_ flag; strings and messages
 * use NULL instead. */
int jp_has_flag(const ProtobufCFieldDescriptor *f)
{
    return f->label == PROTOBUF_C_LABEL_OPTIONAL && !jp_is_oneof(f) &&
           f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE;
}

size_t jp_type_size(ProtobufCType t)
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

int jp_name_is(const char *name, const char *key, size_t klen)
{
    return (strlen(name) == klen && memcmp(name, key, klen) == 0) || camel_eq(name, key, klen);
}

const ProtobufCFieldDescriptor *jp_find_field(const ProtobufCMessageDescriptor *d, const char *key,
                                              size_t klen)
{
    for (unsigned i = 0; i < d->n_fields; i++)
        if (jp_name_is(d->fields[i].name, key, klen)) return &d->fields[i];
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
    return jp_name_is(a, b, strlen(b)) || jp_name_is(a, cb, n);
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

int jp_scalar_union(const ProtobufCMessageDescriptor *d, sunion *u)
{
    memset(u, 0, sizeof *u);
    if (d->n_fields == 0) return 0;
    for (unsigned k = 0; k < d->n_fields; k++) {
        const ProtobufCFieldDescriptor *f = &d->fields[k];
        if (!jp_is_oneof(f) || f->quantifier_offset != d->fields[0].quantifier_offset) return 0;
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
int jp_is_map(const ProtobufCMessageDescriptor *parent, const ProtobufCFieldDescriptor *f)
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
 * or the jp_flattened form could be ambiguous. */
static long flat_oneof(const cfg *c, const ProtobufCMessageDescriptor *d)
{
    long q = -1;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!jp_is_oneof(f)) continue;
        if (q >= 0 && (unsigned)q != f->quantifier_offset) return -1;
        if (f->type != PROTOBUF_C_TYPE_MESSAGE) return -1;
        q = (long)f->quantifier_offset;
    }
    if (q < 0) return -1;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (jp_name_is(f->name, c->type_key, c->type_key_len)) return -1;
        if (!jp_is_oneof(f)) continue;
        const ProtobufCMessageDescriptor *md = f->descriptor;
        for (unsigned k = 0; k < md->n_fields; k++) {
            const char *mn = md->fields[k].name;
            if (jp_name_is(mn, c->type_key, c->type_key_len)) return -1;
            for (unsigned j = 0; j < d->n_fields; j++)
                if (names_collide(mn, d->fields[j].name)) return -1;
        }
    }
    return q;
}

/* flat_oneof's answers for the life of the process: they depend only on
 * the descriptor and the type key, and one costs a comparison of every
 * member's field names with every field name of d (thousands for the graph
 * Command, once per encode or decode call before: ~5 % of the bridge's CPU
 * per graph command). Descriptors are static; a full table just stops
 * remembering. */
#define FLAT_MEMO 64
#define FLAT_MEMO_KEY 32

static struct {
    const ProtobufCMessageDescriptor *d;
    char key[FLAT_MEMO_KEY];
    size_t klen;
    long q;
} flat_memo[FLAT_MEMO];
static unsigned flat_memo_n;
static pthread_mutex_t flat_memo_mu = PTHREAD_MUTEX_INITIALIZER;

static int memo_get(const cfg *c, const ProtobufCMessageDescriptor *d, long *q)
{
    int hit = 0;
    pthread_mutex_lock(&flat_memo_mu);
    for (unsigned i = 0; i < flat_memo_n && !hit; i++)
        if (flat_memo[i].d == d && flat_memo[i].klen == c->type_key_len &&
            memcmp(flat_memo[i].key, c->type_key, c->type_key_len) == 0) {
            *q = flat_memo[i].q;
            hit = 1;
        }
    pthread_mutex_unlock(&flat_memo_mu);
    return hit;
}

static void memo_put(const cfg *c, const ProtobufCMessageDescriptor *d, long q)
{
    if (c->type_key_len > FLAT_MEMO_KEY) return;
    pthread_mutex_lock(&flat_memo_mu);
    if (flat_memo_n < FLAT_MEMO) {
        flat_memo[flat_memo_n].d = d;
        memcpy(flat_memo[flat_memo_n].key, c->type_key, c->type_key_len);
        flat_memo[flat_memo_n].klen = c->type_key_len;
        flat_memo[flat_memo_n].q = q;
        flat_memo_n++;
    }
    pthread_mutex_unlock(&flat_memo_mu);
}

long jp_flattened(const cfg *c, const ProtobufCMessageDescriptor *d)
{
    int on = c->flatten_all;
    for (size_t i = 0; !on && i < c->n_flatten; i++)
        on = c->flatten[i] == d;
    if (!on) return -1;
    flat_cache *fc = c->fc;
    for (unsigned i = 0; i < fc->n; i++)
        if (fc->d[i] == d) return fc->q[i];
    long q;
    if (!memo_get(c, d, &q)) {
        q = flat_oneof(c, d);
        memo_put(c, d, q);
    }
    if (fc->n < FLAT_CACHE) {
        fc->d[fc->n] = d;
        fc->q[fc->n++] = q;
    }
    return q;
}
