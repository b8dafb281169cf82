/* jsonpb_decode: the parsed tree converted into a protobuf-c message
 * (jsonpb.h). */
#include "jsonpb_int.h"

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
        return jp_fail(c, JSONPB_ETYPE, p, "expected an integer");
    int neg;
    uint64_t mag = 0;
    int r = number_integer(v->s, &neg, &mag);
    if (r == INT_FRACTION)
        return jp_fail(c, JSONPB_ETYPE, p, "expected an integer, got %.*s",
                       jp_quote_len(v->s, v->len), v->s);
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
        return jp_fail(c, JSONPB_ERANGE, p, "%.*s is out of range for %s",
                       jp_quote_len(v->s, v->len), v->s, int_type_name(t));
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
            return jp_fail(c, JSONPB_ERANGE, p, "%.*s is out of range for %s",
                           jp_quote_len(v->s, v->len), v->s, is_float ? "float" : "double");
    } else {
        return jp_fail(c, JSONPB_ETYPE, p, "expected a number");
    }
    if (is_float)
        *(float *)slot = (float)d;
    else
        *(double *)slot = d;
    return 0;
}

/* "BatchMode" -> "BATCH_MODE_": the prefix protobuf style puts on values. */
size_t jp_enum_prefix(const char *short_name, char *buf, size_t cap)
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
        size_t pl = jp_enum_prefix(ed->short_name, pre, sizeof pre);
        for (unsigned i = 0; i < ed->n_values; i++) {
            const char *name = ed->values[i].name;
            size_t nl = strlen(name);
            if (nl == pl + v->len && strncmp(name, pre, pl) == 0 && ieq(name + pl, v->s, v->len)) {
                *out = ed->values[i].value;
                return 0;
            }
        }
        return jp_fail(c, JSONPB_EUNKNOWN_VALUE, p, "unknown value '%.*s' for %s",
                       jp_quote_len(v->s, v->len), v->s, ed->name);
    }
    if (v->type == J_NUM) {
        int32_t n;
        int r = dec_int(c, PROTOBUF_C_TYPE_INT32, v, p, &n);
        if (r) return r;
        if (!protobuf_c_enum_descriptor_get_value(ed, n))
            return jp_fail(c, JSONPB_EUNKNOWN_VALUE, p, "unknown value %d for %s", (int)n,
                           ed->name);
        *out = n;
        return 0;
    }
    return jp_fail(c, JSONPB_ETYPE, p, "expected an enum value name");
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
    if (v->type != J_STR) return jp_fail(c, JSONPB_ETYPE, p, "expected a base64 string");
    size_t n = v->len;
    while (n > 0 && v->s[n - 1] == '=' && v->len - n < 2)
        n--;
    if (n % 4 == 1 || (n != v->len && v->len % 4 != 0))
        return jp_fail(c, JSONPB_ETYPE, p, "expected a base64 string");
    uint8_t *buf = jp_xalloc(c, n / 4 * 3 + 3);
    if (!buf) return jp_fail(c, JSONPB_ENOMEM, p, "out of memory");
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int x = b64val((unsigned char)v->s[i]);
        if (x < 0) {
            jp_xfree(c, buf);
            return jp_fail(c, JSONPB_ETYPE, p, "expected a base64 string");
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
    if (v->type == J_NULL) return jp_fail(c, JSONPB_ETYPE, p, "null is not allowed here");
    switch (f->type) {
    case PROTOBUF_C_TYPE_FLOAT:
        return dec_double(c, 1, v, p, slot);
    case PROTOBUF_C_TYPE_DOUBLE:
        return dec_double(c, 0, v, p, slot);
    case PROTOBUF_C_TYPE_BOOL:
        if (v->type != J_BOOL) return jp_fail(c, JSONPB_ETYPE, p, "expected a boolean");
        *(protobuf_c_boolean *)slot = v->b;
        return 0;
    case PROTOBUF_C_TYPE_ENUM:
        return dec_enum(c, f->descriptor, v, p, slot);
    case PROTOBUF_C_TYPE_STRING: {
        if (v->type != J_STR) return jp_fail(c, JSONPB_ETYPE, p, "expected a string");
        char *s = jp_xdupn(c, v->s, v->len);
        if (!s) return jp_fail(c, JSONPB_ENOMEM, p, "out of memory");
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
    if (jp_is_oneof(f))
        *(uint32_t *)MEMBER(m, f->quantifier_offset) = f->id;
    else if (jp_has_flag(f))
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
    const jnode **v = jp_xalloc(c, obj->len * sizeof *v);
    if (!v) return jp_fail(c, JSONPB_ENOMEM, p, "out of memory");
    size_t n = 0;
    for (const jnode *e = obj->child; e; e = e->next)
        v[n++] = e;
    qsort(v, n, sizeof *v, cmp_keys);
    for (size_t i = 1; i < n; i++) {
        if (cmp_keys(&v[i - 1], &v[i]) == 0) {
            pathseg ps = {p, v[i]->key, v[i]->klen, 0};
            jp_xfree(c, v);
            return jp_fail(c, JSONPB_EDUPLICATE, &ps, "duplicate key");
        }
    }
    jp_xfree(c, v);
    return 0;
}

static int dec_map_key(const cfg *c, const ProtobufCFieldDescriptor *kf, const jnode *e,
                       const pathseg *p, void *slot)
{
    if (kf->type == PROTOBUF_C_TYPE_STRING) {
        char *s = jp_xdupn(c, e->key, e->klen);
        if (!s) return jp_fail(c, JSONPB_ENOMEM, p, "out of memory");
        *(char **)slot = s;
        return 0;
    }
    if (kf->type == PROTOBUF_C_TYPE_BOOL) {
        int t = e->klen == 4 && memcmp(e->key, "true", 4) == 0;
        if (!t && !(e->klen == 5 && memcmp(e->key, "false", 5) == 0))
            return jp_fail(c, JSONPB_ETYPE, p, "expected a map key 'true' or 'false'");
        *(protobuf_c_boolean *)slot = t;
        return 0;
    }
    int integral;
    if (!number_syntax(e->key, e->klen, &integral) || !integral)
        return jp_fail(c, JSONPB_ETYPE, p, "expected an integer map key");
    jnode k = {.type = J_STR, .s = e->key, .len = e->klen};
    return dec_int(c, kf->type, &k, p, slot);
}

static int dec_map(const cfg *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                   const jnode *v, const pathseg *p)
{
    if (v->type != J_OBJ) return jp_fail(c, JSONPB_ETYPE, p, "expected an object");
    if (v->len == 0) return 0;
    int r = check_unique_keys(c, v, p);
    if (r) return r;
    const ProtobufCMessageDescriptor *ed = f->descriptor;
    size_t *n = MEMBER(m, f->quantifier_offset);
    ProtobufCMessage **arr = jp_xalloc(c, v->len * sizeof *arr);
    if (!arr) return jp_fail(c, JSONPB_ENOMEM, p, "out of memory");
    *(ProtobufCMessage ***)MEMBER(m, f->offset) = arr;
    for (const jnode *e = v->child; e; e = e->next) {
        pathseg ps = {p, e->key, e->klen, 0};
        if (e->type == J_NULL) return jp_fail(c, JSONPB_ETYPE, &ps, "null is not allowed here");
        ProtobufCMessage *entry = jp_xalloc(c, ed->sizeof_message);
        if (!entry) return jp_fail(c, JSONPB_ENOMEM, &ps, "out of memory");
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
    if (jp_is_map(m->descriptor, f)) return dec_map(c, m, f, v, p);
    if (v->type != J_ARR) return jp_fail(c, JSONPB_ETYPE, p, "expected an array");
    if (v->len == 0) return 0;
    size_t es = jp_type_size(f->type);
    char *arr = jp_xalloc(c, v->len * es);
    if (!arr) return jp_fail(c, JSONPB_ENOMEM, p, "out of memory");
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
        return jp_fail(c, JSONPB_EDUPLICATE, p, "field given more than once");
    seen[fi / 64] |= UINT64_C(1) << (fi % 64);
    if (e->type == J_NULL) return 0; /* null means absent */
    if (f->label == PROTOBUF_C_LABEL_REPEATED) return dec_repeated(c, m, f, e, p);
    if (jp_is_oneof(f)) {
        uint32_t cur = *(const uint32_t *)CMEMBER(m, f->quantifier_offset);
        if (cur) {
            const ProtobufCFieldDescriptor *o = protobuf_c_message_descriptor_get_field(d, cur);
            return jp_fail(c, JSONPB_EDUPLICATE, p, "'%s' and '%s' are members of the same oneof",
                           o ? o->name : "?", f->name);
        }
    }
    int r = dec_value(c, f, e, p, MEMBER(m, f->offset));
    if (!r) mark_set(m, f);
    return r;
}

/* Looks up the jp_flattened member named by the type key. */
static int dec_type(const cfg *c, const ProtobufCMessageDescriptor *d, long q, const jnode *t,
                    const pathseg *p, const ProtobufCFieldDescriptor **out)
{
    if (t->type != J_STR) return jp_fail(c, JSONPB_ETYPE, p, "expected a string");
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (jp_is_oneof(f) && (long)f->quantifier_offset == q &&
            jp_name_is(f->name, t->s, t->len)) {
            *out = f;
            return 0;
        }
    }
    char names[400];
    sbuf nb = {names, sizeof names, 0};
    names[0] = '\0';
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!jp_is_oneof(f) || (long)f->quantifier_offset != q) continue;
        if (nb.len) jp_sb_put(&nb, ", ", 2);
        jp_sb_put(&nb, f->name, strlen(f->name));
    }
    return jp_fail(c, JSONPB_EUNKNOWN_VALUE, p, "unknown type '%.*s'; expected one of %s",
                   jp_quote_len(t->s, t->len), t->s, names);
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
    b->bits = jp_xalloc(c, words * sizeof(uint64_t));
    if (!b->bits) return JSONPB_ENOMEM;
    memset(b->bits, 0, words * sizeof(uint64_t));
    return 0;
}

static void bitmap_free(const cfg *c, bitmap *b)
{
    if (b->bits != b->small) jp_xfree(c, b->bits);
}

static int dec_object(const cfg *c, const ProtobufCMessageDescriptor *d, const jnode *v,
                      const pathseg *p, ProtobufCMessage *m)
{
    long q = jp_flattened(c, d);
    const ProtobufCFieldDescriptor *mf = NULL; /* jp_flattened member named by type */
    ProtobufCMessage *mm = NULL;
    bitmap seen, mseen = {{0}, NULL};
    if (bitmap_init(c, &seen, d->n_fields)) return jp_fail(c, JSONPB_ENOMEM, p, "out of memory");
    int r = 0;
    if (q >= 0) {
        const jnode *t = NULL;
        int nested = 0; /* a member given in the nested form */
        for (const jnode *e = v->child; e; e = e->next) {
            if (e->klen != c->type_key_len || memcmp(e->key, c->type_key, e->klen)) {
                const ProtobufCFieldDescriptor *f = jp_find_field(d, e->key, e->klen);
                nested |= f && jp_is_oneof(f) && (long)f->quantifier_offset == q;
                continue;
            }
            pathseg ps = {p, e->key, e->klen, 0};
            if (t) {
                r = jp_fail(c, JSONPB_EDUPLICATE, &ps, "field given more than once");
                goto out;
            }
            t = e;
            r = dec_type(c, d, q, e, &ps, &mf);
            if (r) goto out;
        }
        /* Reported before any unknown key: without the type, the member's
         * inline fields cannot be recognised. */
        if (!t && !nested) {
            r = jp_fail(c, JSONPB_EMISSING, p, "missing field: %s", c->type_key);
            goto out;
        }
        if (mf) {
            const ProtobufCMessageDescriptor *md = mf->descriptor;
            mm = jp_xalloc(c, md->sizeof_message);
            if (!mm || bitmap_init(c, &mseen, md->n_fields)) {
                jp_xfree(c, mm);
                r = jp_fail(c, JSONPB_ENOMEM, p, "out of memory");
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
        const ProtobufCFieldDescriptor *f = jp_find_field(d, e->key, e->klen);
        if (f && mf && f == mf) {
            r = jp_fail(c, JSONPB_EDUPLICATE, &ps, "'%s' is also given by '%s'", f->name,
                        c->type_key);
        } else if (f) {
            r = dec_member(c, m, seen.bits, f, e, &ps);
        } else if (mm && (f = jp_find_field(mm->descriptor, e->key, e->klen)) != NULL) {
            r = dec_member(c, mm, mseen.bits, f, e, &ps);
        } else if (!c->ignore_unknown) {
            r = jp_fail(c, JSONPB_EUNKNOWN_FIELD, &ps, "unknown field");
        }
        if (r) goto out;
    }
    if (q >= 0 && *(const uint32_t *)CMEMBER(m, (size_t)q) == 0)
        r = jp_fail(c, JSONPB_EMISSING, p, "missing field: %s", c->type_key);
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
        if (i) jp_sb_printf(&b, "%s", i + 1 == n ? " or " : ", ");
        jp_sb_printf(&b, "%s", k[i]);
    }
    return jp_fail(c, JSONPB_ETYPE, p, "expected %s", buf);
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
    } else if (jp_scalar_union(d, &u) && v->type != J_OBJ) {
        f = union_member(&u, v);
        if (!f) return union_kinds_fail(c, &u, p);
    } else if (v->type != J_OBJ) {
        return jp_fail(c, JSONPB_ETYPE, p, "expected an object");
    }
    ProtobufCMessage *m = jp_xalloc(c, d->sizeof_message);
    if (!m) return jp_fail(c, JSONPB_ENOMEM, p, "out of memory");
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
    int r = jp_cfg_init(&c, opts, err, errlen, &fc);
    if (r) return jp_fail(&c, r, NULL, "invalid options");
    if (!d || d->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC || !out || (!json && len))
        return jp_fail(&c, JSONPB_EINVAL, NULL, "invalid argument");
    if (len > c.max_input)
        return jp_fail(&c, JSONPB_ELIMIT, NULL, "input of %zu bytes exceeds the limit of %zu", len,
                       c.max_input);
    builder b = {.c = &c, .ar = {&c, NULL}};
    r = jp_parse_tree(&b, json ? json : "", len);
    if (!r) {
        if (b.root->type == J_NULL)
            r = jp_fail(&c, JSONPB_ETYPE, NULL, "expected an object");
        else
            r = dec_msg(&c, d, b.root, NULL, out);
    }
    if (b.h) yajl_free(b.h);
    jp_xfree(&c, b.stack);
    jp_arena_free(&b.ar);
    return r;
}
