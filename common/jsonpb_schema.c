/* jsonpb_schema: JSON Schemas from message descriptors (see
 * jsonpb_schema.h). The descriptor tests follow jsonpb.c (jsonpb_is_wrapper
 * is its own): a schema says
 * what the decoder takes. */
#include "jsonpb_schema.h"

#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "jsonpb.h"
#include "jsontree.h"
#include "text.h"

typedef struct schema_ctx {
    const jsonpb_schema_opts *o;
    char path[512];
    int no_doc; /* the items of an array: the array has the path's doc */
} schema_ctx;

/* ---- output helpers ---- */

static int g_str(yajl_gen g, const char *s)
{
    s = s ? s : "";
    return yajl_gen_string(g, (const unsigned char *)s, strlen(s)) != yajl_gen_status_ok;
}

static int g_kv(yajl_gen g, const char *k, const char *v)
{
    return g_str(g, k) || g_str(g, v);
}

static int g_bool(yajl_gen g, int b)
{
    return yajl_gen_bool(g, b != 0) != yajl_gen_status_ok;
}

/* Writes the members of the JSON object text "{" members "}" (trusted)
 * into the map g has open. */
static int g_raw_members(yajl_gen g, const char *members)
{
    if (!members || !*members) return 0;
    size_t n = strlen(members);
    char *t = malloc(n + 3);
    if (!t) return 1;
    t[0] = '{';
    memcpy(t + 1, members, n);
    memcpy(t + 1 + n, "}", 2);
    char ebuf[64];
    yajl_val v = yajl_tree_parse(t, ebuf, sizeof ebuf);
    free(t);
    int bad = !YAJL_IS_OBJECT(v);
    for (size_t i = 0; !bad && i < v->u.object.len; i++)
        bad = g_str(g, v->u.object.keys[i]) ||
              jsontree_gen(g, v->u.object.values[i]) != yajl_gen_status_ok;
    yajl_tree_free(v);
    return bad;
}

/* ---- paths and docs ---- */

static int path_listed(const char *path, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] && !strcmp(list[i], path)) return 1;
    return 0;
}

static const jsonpb_field_doc *doc_entry(const schema_ctx *c, const char *path)
{
    for (size_t i = 0; c->o && i < c->o->n_docs; i++)
        if (c->o->docs[i].path && !strcmp(c->o->docs[i].path, path)) return &c->o->docs[i];
    return NULL;
}

/* Writes the description of the current path, or of the message md (may
 * be NULL) when the path has none, and the path's keywords, into the open
 * map. */
static int g_doc(yajl_gen g, const schema_ctx *c, const ProtobufCMessageDescriptor *md)
{
    const jsonpb_field_doc *e = c->no_doc ? NULL : doc_entry(c, c->path);
    if (!e && md) e = doc_entry(c, md->name);
    if (e && e->description && g_kv(g, "description", e->description)) return 1;
    for (size_t i = 0; !c->no_doc && c->o && i < c->o->n_keywords; i++)
        if (c->o->keywords[i].path && !strcmp(c->o->keywords[i].path, c->path))
            return g_raw_members(g, c->o->keywords[i].members);
    return 0;
}

static int skipped(const schema_ctx *c)
{
    return c->o && path_listed(c->path, c->o->skip, c->o->n_skip);
}

static int required(const schema_ctx *c)
{
    return c->o && path_listed(c->path, c->o->required, c->o->n_required);
}

/* Appends "." name (or name at the top) to the path; restore with the
 * returned length. Returns (size_t)-1 when the path does not fit. */
static size_t path_push(schema_ctx *c, const char *name)
{
    size_t plen = strlen(c->path);
    size_t n = strlen(name);
    if (plen + 1 + n + 1 > sizeof c->path) return (size_t)-1;
    if (plen) c->path[plen] = '.';
    memcpy(c->path + plen + (plen ? 1 : 0), name, n + 1);
    return plen;
}

/* ---- descriptor tests (jsonpb.c's) ---- */

static int is_oneof(const ProtobufCFieldDescriptor *f)
{
    return (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
}

static int is_map(const ProtobufCFieldDescriptor *f)
{
    if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE) return 0;
    const ProtobufCMessageDescriptor *e = f->descriptor;
    size_t n = strlen(e->name);
    return e->n_fields == 2 && e->fields[0].id == 1 && e->fields[1].id == 2 &&
           !strcmp(e->fields[0].name, "key") && !strcmp(e->fields[1].name, "value") && n > 5 &&
           !strcmp(e->name + n - 5, "Entry");
}

/* The JSON kind of a scalar field ("integer", "number", "string",
 * "boolean"), NULL for others. */
static const char *json_kind(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return "integer";
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return "number";
    case PROTOBUF_C_TYPE_STRING:
        return "string";
    case PROTOBUF_C_TYPE_BOOL:
        return "boolean";
    default:
        return NULL;
    }
}

/* A message whose fields are all members of one oneof, one per JSON kind:
 * a bare scalar in JSON. */
static int is_scalar_union(const ProtobufCMessageDescriptor *d)
{
    if (d->n_fields == 0) return 0;
    for (unsigned k = 0; k < d->n_fields; k++) {
        const ProtobufCFieldDescriptor *f = &d->fields[k];
        const char *kind = json_kind(f->type);
        if (!is_oneof(f) || f->quantifier_offset != d->fields[0].quantifier_offset || !kind ||
            f->label == PROTOBUF_C_LABEL_REPEATED)
            return 0;
        for (unsigned j = 0; j < k; j++)
            if (!strcmp(json_kind(d->fields[j].type), kind)) return 0;
    }
    return 1;
}

/* d is to be flattened: named in the options, with one oneof whose
 * members are all messages and no field called "type". */
static int is_flat(const schema_ctx *c, const ProtobufCMessageDescriptor *d)
{
    int on = 0;
    for (size_t i = 0; c->o && !on && i < c->o->n_flatten; i++)
        on = c->o->flatten[i] == d;
    if (!on) return 0;
    long q = -1;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!strcmp(f->name, "type")) return 0;
        if (!is_oneof(f)) continue;
        if ((q >= 0 && (unsigned)q != f->quantifier_offset) || f->type != PROTOBUF_C_TYPE_MESSAGE)
            return 0;
        q = (long)f->quantifier_offset;
        const ProtobufCMessageDescriptor *md = f->descriptor;
        for (unsigned k = 0; k < md->n_fields; k++)
            if (!strcmp(md->fields[k].name, "type")) return 0;
    }
    return q >= 0;
}

/* ---- the schema ---- */

static int schema_msg(yajl_gen g, schema_ctx *c, const ProtobufCMessageDescriptor *d,
                      unsigned depth, int top);

/* The schema of one value of field f (not its repetition); nullable for
 * the value of a wrapper, where null means absent. */
static int schema_value(yajl_gen g, schema_ctx *c, const ProtobufCFieldDescriptor *f,
                        unsigned depth, int nullable)
{
    if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        const ProtobufCMessageDescriptor *d = f->descriptor;
        if (jsonpb_is_wrapper(d)) return schema_value(g, c, &d->fields[0], depth, 1);
        if (is_scalar_union(d)) {
            int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_str(g, "type") ||
                      yajl_gen_array_open(g) != yajl_gen_status_ok;
            for (unsigned k = 0; !bad && k < d->n_fields; k++)
                bad = g_str(g, json_kind(d->fields[k].type));
            bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok || g_doc(g, c, d);
            return bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
        }
        return schema_msg(g, c, d, depth + 1, 0);
    }
    const char *type = NULL, *min = NULL, *max = NULL;
    int bad = yajl_gen_map_open(g) != yajl_gen_status_ok;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        type = "integer";
        min = "-2147483648";
        max = "2147483647";
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        type = "integer";
        min = "0";
        max = "4294967295";
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        type = "integer";
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        type = "integer";
        min = "0";
        break;
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        type = "number";
        break;
    case PROTOBUF_C_TYPE_BOOL:
        type = "boolean";
        break;
    case PROTOBUF_C_TYPE_STRING:
        type = "string";
        break;
    case PROTOBUF_C_TYPE_BYTES:
        type = "string";
        bad = bad || g_kv(g, "contentEncoding", "base64");
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *e = f->descriptor;
        /* The short lower-case names jsonpb accepts ("atomic" for
         * BATCH_MODE_ATOMIC): the prefix is what precedes UNSPECIFIED in
         * the zero value, which means "unset" and is left out. */
        size_t plen = 0;
        const char *zero = NULL;
        for (unsigned i = 0; i < e->n_values; i++)
            if (e->values[i].value == 0) zero = e->values[i].name;
        const char *u = zero ? strstr(zero, "UNSPECIFIED") : NULL;
        if (u) plen = (size_t)(u - zero);
        bad = bad || g_kv(g, "type", "string") || g_str(g, "enum") ||
              yajl_gen_array_open(g) != yajl_gen_status_ok;
        for (unsigned i = 0; !bad && i < e->n_values; i++) {
            if (e->values[i].value == 0) continue;
            char lower[128];
            const char *nm = e->values[i].name;
            if (plen && !strncmp(nm, zero, plen)) nm += plen;
            size_t k = 0;
            for (; nm[k] && k + 1 < sizeof lower; k++)
                lower[k] = nm[k] >= 'A' && nm[k] <= 'Z' ? (char)(nm[k] - 'A' + 'a') : nm[k];
            lower[k] = '\0';
            bad = g_str(g, lower);
        }
        bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok;
        break;
    }
    default:
        return 1;
    }
    if (!bad && type) {
        if (nullable)
            bad = g_str(g, "type") || yajl_gen_array_open(g) != yajl_gen_status_ok ||
                  g_str(g, type) || g_str(g, "null") ||
                  yajl_gen_array_close(g) != yajl_gen_status_ok;
        else
            bad = g_kv(g, "type", type);
    }
    if (!bad && min) bad = g_str(g, "minimum") || yajl_gen_number(g, min, strlen(min));
    if (!bad && max) bad = g_str(g, "maximum") || yajl_gen_number(g, max, strlen(max));
    bad = bad || g_doc(g, c, NULL);
    return bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
}

/* Writes the property of field f of an object whose path is c->path
 * (f's path while it is written); *req is set when f is required. Skipped
 * fields write nothing. */
static int schema_field(yajl_gen g, schema_ctx *c, const ProtobufCFieldDescriptor *f,
                        unsigned depth, int *req)
{
    size_t plen = path_push(c, f->name);
    if (plen == (size_t)-1) return 1;
    int bad = 0;
    *req = 0;
    if (skipped(c)) goto out;
    *req = required(c);
    bad = g_str(g, f->name);
    if (bad) goto out;
    if (is_map(f)) {
        const ProtobufCMessageDescriptor *e = f->descriptor;
        bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "type", "object") ||
              g_doc(g, c, NULL) || g_str(g, "additionalProperties");
        c->no_doc = 1;
        bad = bad || schema_value(g, c, &e->fields[1], depth, 0);
        c->no_doc = 0;
        bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    } else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "type", "array") ||
              g_doc(g, c, NULL);
        c->no_doc = 1;
        bad = bad || g_str(g, "items") || schema_value(g, c, f, depth, 0);
        c->no_doc = 0;
        bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    } else {
        bad = schema_value(g, c, f, depth, 0);
    }
out:
    c->path[plen] = '\0';
    return bad;
}

/* Writes the properties of d's fields but those of the oneof at offset
 * skip_q (-1: none) into the open "properties" map, and collects the
 * required ones' names into req (at most d->n_fields). */
static int schema_props(yajl_gen g, schema_ctx *c, const ProtobufCMessageDescriptor *d,
                        unsigned depth, long skip_q, const char **req, size_t *n_req)
{
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (skip_q >= 0 && is_oneof(f) && f->quantifier_offset == (unsigned)skip_q) continue;
        int r;
        if (schema_field(g, c, f, depth, &r)) return 1;
        if (r) req[(*n_req)++] = f->name;
    }
    return 0;
}

static int g_required(yajl_gen g, const char *first, const char **req, size_t n)
{
    if (!first && !n) return 0;
    int bad = g_str(g, "required") || yajl_gen_array_open(g) != yajl_gen_status_ok;
    if (!bad && first) bad = g_str(g, first);
    for (size_t i = 0; !bad && i < n; i++)
        bad = g_str(g, req[i]);
    return bad || yajl_gen_array_close(g) != yajl_gen_status_ok;
}

/* A flattened oneof: anyOf one object per member, {"type": {"const":
 * member}, the member's fields, d's other fields}. */
static int schema_flat(yajl_gen g, schema_ctx *c, const ProtobufCMessageDescriptor *d,
                       unsigned depth)
{
    if (depth > JSONPB_SCHEMA_MAX_DEPTH) return 1;
    int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_doc(g, c, d) || g_str(g, "anyOf") ||
              yajl_gen_array_open(g) != yajl_gen_status_ok;
    int no_doc = c->no_doc;
    c->no_doc = 0;
    for (unsigned i = 0; !bad && i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *m = &d->fields[i];
        if (!is_oneof(m)) continue;
        size_t plen = path_push(c, m->name);
        if (plen == (size_t)-1) return 1;
        if (skipped(c)) {
            c->path[plen] = '\0';
            continue;
        }
        const ProtobufCMessageDescriptor *md = m->descriptor;
        const char **req = calloc(md->n_fields + d->n_fields + 1, sizeof *req);
        size_t n_req = 0;
        bad = !req || yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "type", "object") ||
              g_doc(g, c, md) || g_str(g, "properties") ||
              yajl_gen_map_open(g) != yajl_gen_status_ok || g_str(g, "type") ||
              yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "const", m->name) ||
              yajl_gen_map_close(g) != yajl_gen_status_ok ||
              schema_props(g, c, md, depth + 1, -1, req, &n_req);
        c->path[plen] = '\0';
        bad = bad || schema_props(g, c, d, depth + 1, (long)m->quantifier_offset, req, &n_req);
        bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok ||
              g_required(g, "type", req, n_req) || g_str(g, "additionalProperties") ||
              g_bool(g, 0) || yajl_gen_map_close(g) != yajl_gen_status_ok;
        free(req);
    }
    c->no_doc = no_doc;
    return bad || yajl_gen_array_close(g) != yajl_gen_status_ok ||
           yajl_gen_map_close(g) != yajl_gen_status_ok;
}

/* Writes the object schema of d. */
static int schema_msg(yajl_gen g, schema_ctx *c, const ProtobufCMessageDescriptor *d,
                      unsigned depth, int top)
{
    if (depth > JSONPB_SCHEMA_MAX_DEPTH) return 1;
    if (!top && is_flat(c, d)) return schema_flat(g, c, d, depth);
    const char **req = calloc(d->n_fields + 1, sizeof *req);
    size_t n_req = 0;
    int no_doc = c->no_doc;
    int bad = !req || yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "type", "object") ||
              (!top && g_doc(g, c, d)) || g_str(g, "properties") ||
              yajl_gen_map_open(g) != yajl_gen_status_ok;
    c->no_doc = 0;
    bad = bad || schema_props(g, c, d, depth, -1, req, &n_req);
    c->no_doc = no_doc;
    bad = bad || (top && c->o && g_raw_members(g, c->o->extra_properties));
    bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok || g_required(g, NULL, req, n_req);
    bad = bad || g_str(g, "additionalProperties") || g_bool(g, 0) ||
          yajl_gen_map_close(g) != yajl_gen_status_ok;
    free(req);
    return bad;
}

int jsonpb_schema(const ProtobufCMessageDescriptor *d, const jsonpb_schema_opts *opts, char **out,
                  size_t *len)
{
    if (!out) return JSONPB_SCHEMA_EINVAL;
    *out = NULL;
    if (len) *len = 0;
    if (!d || d->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC) return JSONPB_SCHEMA_EINVAL;
    schema_ctx c = {opts, "", 0};
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g) return JSONPB_SCHEMA_ENOMEM;
    yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    /* Writing into a generator fails only on out-of-memory or on a nesting
     * deeper than the limit. */
    int rc = schema_msg(g, &c, d, 0, 1) ? JSONPB_SCHEMA_EINVAL : JSONPB_SCHEMA_OK;
    const unsigned char *b;
    size_t n;
    if (!rc && yajl_gen_get_buf(g, &b, &n) == yajl_gen_status_ok) {
        if ((*out = text_dupn((const char *)b, n)) == NULL)
            rc = JSONPB_SCHEMA_ENOMEM;
        else if (len)
            *len = n;
    } else if (!rc) {
        rc = JSONPB_SCHEMA_ENOMEM;
    }
    yajl_gen_free(g);
    return rc;
}
