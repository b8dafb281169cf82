/* jsonpb_encode: a protobuf-c message written as JSON through yajl_gen
 * (jsonpb.h). */
#include "jsonpb_int.h"

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
        return jp_fail(&x->c, JSONPB_ELIMIT, p, "nesting too deep");
    case yajl_gen_invalid_string:
        return jp_fail(&x->c, JSONPB_EUTF8, p, "invalid UTF-8");
    default:
        return jp_fail(&x->c, JSONPB_EINVAL, p, "the generator does not accept a value here");
    }
}

/* Room for n more bytes and the final NUL. */
static int ob_reserve(ectx *x, size_t n, const pathseg *p)
{
    obuf *b = x->ob;
    if (n < b->cap - b->n) return 0;
    if ((!b->cap && text_buf_reserve(b, OBUF_INITIAL - 1)) || text_buf_reserve(b, n))
        return jp_fail(&x->c, JSONPB_ENOMEM, p, "out of memory");
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
    if (!text_utf8_valid(s, n)) return jp_fail(&x->c, JSONPB_EUTF8, p, "invalid UTF-8");
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
    if (!out) return jp_fail(&x->c, JSONPB_ENOMEM, p, "out of memory");
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
        size_t pl = jp_enum_prefix(e->short_name, pre, sizeof pre);
        if (n > pl && !memcmp(name, pre, pl)) {
            name += pl;
            n -= pl;
        }
    }
    if (st != JSONPB_ENUM_LOWER) return w_string(x, name, n, 0, p);
    char buf[ENUM_NAME_BUF];
    char *low = n < sizeof buf ? buf : malloc(n + 1);
    if (!low) return jp_fail(&x->c, JSONPB_ENOMEM, p, "out of memory");
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
        return jp_fail(&x->c, JSONPB_EINVAL, p, "unsupported field type");
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
                                   : jp_fail(&x->c, JSONPB_EUTF8, &ps, "invalid UTF-8");
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
        if (jp_is_map(m->descriptor, f)) return enc_map(x, f, m, &ps, depth);
        const char *arr = *(const char *const *)slot;
        size_t es = jp_type_size(f->type);
        r = w_bracket(x, 1, 0, &ps);
        for (size_t i = 0; !r && i < n; i++) {
            pathseg is = {&ps, NULL, 0, i};
            r = enc_value(x, f, arr + i * es, &is, depth, 0);
        }
        return r ? r : w_bracket(x, 1, 1, &ps);
    }
    if (jp_is_oneof(f)) {
        if (*(const uint32_t *)CMEMBER(m, f->quantifier_offset) != f->id) return 0;
    } else if (jp_has_flag(f)) {
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
        return jp_fail(&x->c, JSONPB_EINVAL, p, "not a message");
    if (depth > x->c.max_depth)
        return jp_fail(&x->c, JSONPB_ELIMIT, p, "nesting deeper than %u levels", x->c.max_depth);
    if (jsonpb_is_wrapper(d))
        return enc_value(x, &d->fields[0], CMEMBER(m, d->fields[0].offset), p, depth, 0);
    sunion u;
    if (jp_scalar_union(d, &u)) {
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
    long q = jp_flattened(&x->c, d);
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
        if (q >= 0 && jp_is_oneof(f)) {
            /* The member's fields stand inline, in place of the oneof. */
            if (!mm || *(const uint32_t *)CMEMBER(m, (size_t)q) != f->id) continue;
            if (depth + 1 > x->c.max_depth)
                return jp_fail(&x->c, JSONPB_ELIMIT, p, "nesting deeper than %u levels",
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
    int r = jp_cfg_init(&x.c, opts, err, errlen, &fc);
    if (r) return jp_fail(&x.c, r, NULL, "invalid options");
    if (!g || !m) return jp_fail(&x.c, JSONPB_EINVAL, NULL, "invalid argument");
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
    int r = jp_cfg_init(&x.c, opts, err, errlen, &fc);
    if (r) return jp_fail(&x.c, r, NULL, "invalid options");
    if (!g || !m) return jp_fail(&x.c, JSONPB_EINVAL, NULL, "invalid argument");
    const ProtobufCMessageDescriptor *d = m->descriptor;
    if (!d || d->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC)
        return jp_fail(&x.c, JSONPB_EINVAL, NULL, "not a message");
    sunion u;
    if (jsonpb_is_wrapper(d) || jp_scalar_union(d, &u))
        return jp_fail(&x.c, JSONPB_EINVAL, NULL, "%s is a bare JSON value, not an object",
                       d->name);
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
    int r = jp_cfg_init(&x.c, opts, err, errlen, &fc);
    if (r) return jp_fail(&x.c, r, NULL, "invalid options");
    if (!m || !out || !len) return jp_fail(&x.c, JSONPB_EINVAL, NULL, "invalid argument");
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
