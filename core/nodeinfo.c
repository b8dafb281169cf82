#include "nodeinfo.h"
#include "text.h"

#include "jsonscan.h"
#include "nodeindex.h"

#include <ctype.h>
#include <math.h> /* isfinite, NAN: macros only */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The module links no libm (its dependencies are fixed), so the little
 * rounding it needs is done here. */
static double num_abs(double d)
{
    return d < 0 ? -d : d;
}

/* floor() for finite values; values beyond 2^52 are already integral. */
static double num_floor(double d)
{
    if (!(d > -0x1p52 && d < 0x1p52)) return d;
    double t = (double)(long long)d;
    return t > d ? t - 1 : t;
}

/* The schema lives in one arena: it is immutable, freed as a whole, and made
 * of many small strings (a large install has ~10^5 combo options). */
#define ARENA_CHUNK_BYTES (64u * 1024u)

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    max_align_t data[];
} arena_chunk;

struct nodeinfo {
    atomic_ulong refs;
    arena_chunk *arena;
    nodeinfo_type *types; /* sorted by name */
    nodeindex *index;     /* the words of types, for nodeinfo_search */
    size_t n_types;
    size_t skipped;
    char *skip_reason;
    size_t odd;
    char *odd_reason;
};

/* ---- arena ---- */

static void *arena_alloc(arena_chunk **head, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    if (n == 0) n = sizeof(max_align_t);
    arena_chunk *c = *head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK_BYTES ? n : ARENA_CHUNK_BYTES;
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = *head;
        *head = c;
    }
    void *p = (unsigned char *)c->data + c->used;
    c->used += n;
    return p;
}

static char *arena_strdup(arena_chunk **head, const char *s)
{
    size_t n = strlen(s);
    char *p = arena_alloc(head, n + 1);
    if (p) memcpy(p, s, n + 1);
    return p;
}

static void arena_free(arena_chunk *c)
{
    while (c) {
        arena_chunk *next = c->next;
        free(c);
        c = next;
    }
}

/* ---- bounded JSON ---- */

int nodeinfo_json_parse(const char *json, size_t len, const nodeinfo_json_limits *lim,
                        yajl_val *out, char *err, size_t errlen)
{
    *out = NULL;
    if (!json || len == 0) {
        text_err(err, errlen, 0, "empty JSON");
        return NODEINFO_EINVAL;
    }
    if (len > lim->max_bytes) {
        text_err(err, errlen, 0, "JSON is %zu bytes, the limit is %zu", len, lim->max_bytes);
        return NODEINFO_ETOOBIG;
    }
    if (memchr(json, 0, len)) {
        text_err(err, errlen, 0, "JSON contains a NUL byte");
        return NODEINFO_EINVAL;
    }
    /* Pass 1: limits, nothing retained. yajl_tree has no limits of its own
     * and frees recursively. Comments pass, as yajl_tree_parse takes them. */
    const jsonscan_limits scan = {.max_depth = lim->max_depth, .max_values = lim->max_values};
    char why[64];
    int rc = jsonscan(json, len, &scan, why, sizeof why);
    if (rc == JSONSCAN_EDEPTH || rc == JSONSCAN_EVALUES) {
        text_err(err, errlen, 0, "%s (limits: depth %zu, values %zu)",
                 rc == JSONSCAN_EDEPTH ? "JSON nested too deeply" : "too many JSON values",
                 lim->max_depth, lim->max_values);
        return NODEINFO_ETOOBIG;
    }
    if (rc != JSONSCAN_OK) {
        text_err(err, errlen, 0, "invalid JSON: %s", why);
        return NODEINFO_EINVAL;
    }

    /* Pass 2: the tree (yajl_tree_parse wants a NUL-terminated string). */
    char *copy = malloc(len + 1);
    if (!copy) return NODEINFO_ENOMEM;
    memcpy(copy, json, len);
    copy[len] = 0;
    char ebuf[256] = "";
    yajl_val v = yajl_tree_parse(copy, ebuf, sizeof ebuf);
    free(copy);
    if (!v) {
        if (!strcmp(ebuf, "out of memory")) {
            text_err(err, errlen, 0, "cannot build JSON tree: out of memory");
            return NODEINFO_ENOMEM;
        }
        ebuf[strcspn(ebuf, "\n")] = '\0'; /* yajl adds the input around the error */
        text_err(err, errlen, 0, "invalid JSON: %s", ebuf[0] ? ebuf : "syntax error");
        return NODEINFO_EINVAL;
    }
    *out = v;
    return NODEINFO_OK;
}

/* ---- yajl tree helpers ---- */

static yajl_val obj_get(yajl_val obj, const char *key)
{
    if (!YAJL_IS_OBJECT(obj)) return NULL;
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (strcmp(obj->u.object.keys[i], key) == 0) return obj->u.object.values[i];
    return NULL;
}

static int truthy(yajl_val v)
{
    if (!v || YAJL_IS_NULL(v) || YAJL_IS_FALSE(v)) return 0;
    if (YAJL_IS_STRING(v)) return v->u.string[0] != 0;
    if (YAJL_IS_NUMBER(v)) return YAJL_IS_DOUBLE(v) ? v->u.number.d != 0 : 1;
    return 1;
}

static int num_of(yajl_val v, double *d)
{
    if (!YAJL_IS_NUMBER(v)) return 0;
    if (YAJL_IS_DOUBLE(v)) {
        *d = v->u.number.d;
    } else if (YAJL_IS_INTEGER(v)) {
        *d = (double)v->u.number.i;
    } else {
        return 0;
    }
    return isfinite(*d);
}

/* A JSON scalar as a value, strings copied into the arena. Returns 1 when
 * set, 0 for non-scalars, -1 on out of memory. When with_text, numbers and
 * booleans also get their text form in s (combo options). */
static int scalar_value(arena_chunk **a, yajl_val v, int with_text, nodeinfo_value *out)
{
    memset(out, 0, sizeof *out);
    if (YAJL_IS_STRING(v)) {
        out->kind = NODEINFO_V_TEXT;
        out->s = arena_strdup(a, v->u.string);
        return out->s ? 1 : -1;
    }
    if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
        out->kind = NODEINFO_V_BOOL;
        out->b = YAJL_IS_TRUE(v);
        if (with_text && !(out->s = arena_strdup(a, out->b ? "true" : "false"))) return -1;
        return 1;
    }
    if (YAJL_IS_NUMBER(v)) {
        if (YAJL_IS_INTEGER(v)) {
            out->kind = NODEINFO_V_INT;
            out->i = v->u.number.i;
            out->d = (double)out->i;
        } else if (YAJL_IS_DOUBLE(v)) {
            out->kind = NODEINFO_V_NUMBER;
            out->d = v->u.number.d;
        } else {
            return 0;
        }
        if (with_text && !(out->s = arena_strdup(a, v->u.number.r))) return -1;
        return 1;
    }
    return 0;
}

/* ---- parsing one node type ---- */

typedef struct {
    arena_chunk **arena;
    char *why; /* why the entry is skipped */
    size_t whylen;
    char *odd; /* the first repair made to the entry ("" when none) */
    size_t oddlen;
} type_ctx;

static int bad(type_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(type_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, c->whylen, fmt, ap);
    va_end(ap);
    return NODEINFO_EINVAL;
}

/* Notes a repaired shape; the entry is kept. */
static void odd(type_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void odd(type_ctx *c, const char *fmt, ...)
{
    if (c->odd[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->odd, c->oddlen, fmt, ap);
    va_end(ap);
}

static nodeinfo_kind kind_of(const char *t)
{
    if (strcmp(t, "INT") == 0) return NODEINFO_KIND_INT;
    if (strcmp(t, "FLOAT") == 0) return NODEINFO_KIND_FLOAT;
    if (strcmp(t, "STRING") == 0) return NODEINFO_KIND_STRING;
    if (strcmp(t, "BOOLEAN") == 0) return NODEINFO_KIND_BOOLEAN;
    if (strcmp(t, "COMBO") == 0) return NODEINFO_KIND_COMBO;
    return NODEINFO_KIND_LINK;
}

static int parse_options(type_ctx *c, const char *name, yajl_val list, nodeinfo_input *in)
{
    size_t n = list->u.array.len;
    if (n > NODEINFO_MAX_OPTIONS)
        return bad(c, "input \"%s\" has %zu combo options (limit %u)", name, n,
                   NODEINFO_MAX_OPTIONS);
    nodeinfo_value *opts = arena_alloc(c->arena, (n ? n : 1) * sizeof *opts);
    if (!opts) return NODEINFO_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        /* Non-scalar options cannot be chosen by a value; leave them out. */
        int r = scalar_value(c->arena, list->u.array.values[i], 1, &opts[k]);
        if (r < 0) return NODEINFO_ENOMEM;
        if (r > 0) k++;
    }
    in->options = opts;
    in->n_options = k;
    return NODEINFO_OK;
}

static int parse_input(type_ctx *c, const char *name, yajl_val spec, int required,
                       nodeinfo_input *in)
{
    memset(in, 0, sizeof *in);
    if (strlen(name) > NODEINFO_MAX_NAME) return bad(c, "an input name is too long");
    in->name = arena_strdup(c->arena, name);
    if (!in->name) return NODEINFO_ENOMEM;
    in->required = required;

    yajl_val t = spec, opts = NULL;
    if (YAJL_IS_ARRAY(spec)) {
        t = spec->u.array.len ? spec->u.array.values[0] : NULL;
        if (spec->u.array.len > 1 && YAJL_IS_OBJECT(spec->u.array.values[1]))
            opts = spec->u.array.values[1];
    }
    yajl_val legacy = NULL;
    if (YAJL_IS_STRING(t)) {
        if (strlen(t->u.string) > NODEINFO_MAX_NAME)
            return bad(c, "input \"%s\" has a type name that is too long", name);
        in->kind = kind_of(t->u.string);
        in->type = arena_strdup(c->arena, t->u.string[0] ? t->u.string : "*");
    } else if (YAJL_IS_ARRAY(t)) {
        legacy = t;
        in->kind = NODEINFO_KIND_COMBO;
        in->type = arena_strdup(c->arena, "COMBO");
    } else {
        /* The frontend makes such an input a plain socket. */
        odd(c, "input \"%s\": the type is neither a string nor a list of options; kept as \"*\"",
            name);
        in->kind = NODEINFO_KIND_LINK;
        in->type = arena_strdup(c->arena, "*");
    }
    if (!in->type) return NODEINFO_ENOMEM;

    in->is_widget = in->kind != NODEINFO_KIND_LINK && !truthy(obj_get(opts, "forceInput"));
    in->multiline = truthy(obj_get(opts, "multiline"));
    yajl_val tip = obj_get(opts, "tooltip");
    if (YAJL_IS_STRING(tip) && !(in->tooltip = arena_strdup(c->arena, tip->u.string)))
        return NODEINFO_ENOMEM;
    yajl_val def = obj_get(opts, "default");
    if (def && scalar_value(c->arena, def, 0, &in->def) < 0) return NODEINFO_ENOMEM;
    double d;
    if (num_of(obj_get(opts, "min"), &d)) in->has_min = 1, in->min = d;
    if (num_of(obj_get(opts, "max"), &d)) in->has_max = 1, in->max = d;
    /* A zero or negative step constrains nothing. */
    if (num_of(obj_get(opts, "step"), &d) && d > 0) in->has_step = 1, in->step = d;

    if (in->kind == NODEINFO_KIND_COMBO) {
        yajl_val list = legacy ? legacy : obj_get(opts, "options");
        if (YAJL_IS_ARRAY(list)) {
            int rc = parse_options(c, name, list, in);
            if (rc) return rc;
        }
        in->dynamic_options =
            truthy(obj_get(opts, "image_upload")) || truthy(obj_get(opts, "audio_upload")) ||
            truthy(obj_get(opts, "video_upload")) || truthy(obj_get(opts, "file_upload")) ||
            truthy(obj_get(opts, "remote"));
    }
    if (in->is_widget && (in->kind == NODEINFO_KIND_INT || in->kind == NODEINFO_KIND_COMBO)) {
        yajl_val cag = obj_get(opts, "control_after_generate");
        if (cag && !YAJL_IS_NULL(cag))
            in->control_after_generate = truthy(cag);
        else
            in->control_after_generate =
                in->kind == NODEINFO_KIND_INT &&
                (strcmp(name, "seed") == 0 || strcmp(name, "noise_seed") == 0);
    }
    return NODEINFO_OK;
}

/* Fills order[] with the indexes of group's entries: input_order first,
 * then the others in object order. Returns the count. */
static size_t group_order(yajl_val group, yajl_val order_list, size_t *order)
{
    size_t n = group->u.object.len, k = 0;
    unsigned char taken[NODEINFO_MAX_INPUTS] = {0};
    if (YAJL_IS_ARRAY(order_list)) {
        for (size_t i = 0; i < order_list->u.array.len; i++) {
            yajl_val nm = order_list->u.array.values[i];
            if (!YAJL_IS_STRING(nm)) continue;
            for (size_t j = 0; j < n; j++) {
                if (!taken[j] && strcmp(group->u.object.keys[j], nm->u.string) == 0) {
                    taken[j] = 1;
                    order[k++] = j;
                    break;
                }
            }
        }
    }
    for (size_t j = 0; j < n; j++)
        if (!taken[j]) order[k++] = j;
    return k;
}

static int parse_inputs(type_ctx *c, yajl_val v, nodeinfo_type *t)
{
    yajl_val input = obj_get(v, "input");
    yajl_val order = obj_get(v, "input_order");
    static const char *const groups[2] = {"required", "optional"};
    yajl_val g[2] = {NULL, NULL};
    size_t total = 0;
    if (input && !YAJL_IS_NULL(input) && !YAJL_IS_OBJECT(input))
        odd(c, "\"input\" is not an object; no inputs kept");
    for (int i = 0; i < 2; i++) {
        g[i] = obj_get(input, groups[i]);
        if (g[i] && !YAJL_IS_NULL(g[i]) && !YAJL_IS_OBJECT(g[i]))
            odd(c, "\"input.%s\" is not an object; ignored", groups[i]);
        if (YAJL_IS_OBJECT(g[i])) total += g[i]->u.object.len;
    }
    if (total > NODEINFO_MAX_INPUTS)
        return bad(c, "%zu inputs (limit %u)", total, NODEINFO_MAX_INPUTS);
    nodeinfo_input *ins = arena_alloc(c->arena, (total ? total : 1) * sizeof *ins);
    if (!ins) return NODEINFO_ENOMEM;
    size_t k = 0;
    for (int i = 0; i < 2; i++) {
        if (!YAJL_IS_OBJECT(g[i])) continue;
        size_t idx[NODEINFO_MAX_INPUTS];
        size_t n = group_order(g[i], obj_get(order, groups[i]), idx);
        for (size_t j = 0; j < n; j++) {
            int rc = parse_input(c, g[i]->u.object.keys[idx[j]], g[i]->u.object.values[idx[j]],
                                 i == 0, &ins[k]);
            if (rc) return rc;
            k++;
        }
    }
    t->inputs = ins;
    t->n_inputs = k;
    return NODEINFO_OK;
}

/* Element i of a per-output list; a single value stands for a list of one
 * (some custom nodes write "output": "STRING"). */
static yajl_val per_output(yajl_val list, size_t i)
{
    if (YAJL_IS_ARRAY(list)) return i < list->u.array.len ? list->u.array.values[i] : NULL;
    return i == 0 ? list : NULL;
}

static int parse_outputs(type_ctx *c, yajl_val v, nodeinfo_type *t)
{
    yajl_val out = obj_get(v, "output");
    if (!out || YAJL_IS_NULL(out)) return NODEINFO_OK;
    size_t n;
    if (YAJL_IS_ARRAY(out)) {
        n = out->u.array.len;
    } else if (YAJL_IS_STRING(out)) {
        odd(c, "\"output\" is a string, not a list; kept as one output");
        n = 1;
    } else {
        odd(c, "\"output\" is neither a list nor a type; no outputs kept");
        return NODEINFO_OK;
    }
    if (n > NODEINFO_MAX_OUTPUTS) return bad(c, "%zu outputs (limit %u)", n, NODEINFO_MAX_OUTPUTS);
    yajl_val names = obj_get(v, "output_name");
    yajl_val lists = obj_get(v, "output_is_list");
    nodeinfo_output *outs = arena_alloc(c->arena, (n ? n : 1) * sizeof *outs);
    if (!outs) return NODEINFO_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        yajl_val o = per_output(out, i);
        const char *type;
        if (YAJL_IS_STRING(o)) {
            type = o->u.string[0] ? o->u.string : "*";
        } else if (YAJL_IS_ARRAY(o)) {
            type = "COMBO";
        } else {
            /* Keeps the later outputs' slot numbers: the frontend shows a
             * socket of any type. */
            odd(c, "output %zu is neither a type nor a list; kept as \"*\"", i);
            type = "*";
        }
        const char *name = type;
        yajl_val nm = per_output(names, i);
        if (YAJL_IS_STRING(nm) && nm->u.string[0]) name = nm->u.string;
        if (strlen(type) > NODEINFO_MAX_NAME || strlen(name) > NODEINFO_MAX_NAME)
            return bad(c, "output %zu has a name that is too long", i);
        outs[k].type = arena_strdup(c->arena, type);
        outs[k].name = arena_strdup(c->arena, name);
        if (!outs[k].type || !outs[k].name) return NODEINFO_ENOMEM;
        outs[k].is_list = YAJL_IS_TRUE(per_output(lists, i));
        k++;
    }
    t->outputs = outs;
    t->n_outputs = k;
    return NODEINFO_OK;
}

static int text_field(type_ctx *c, yajl_val v, const char *key, const char *fallback,
                      const char **out)
{
    yajl_val s = obj_get(v, key);
    *out = arena_strdup(c->arena, YAJL_IS_STRING(s) ? s->u.string : fallback);
    return *out ? NODEINFO_OK : NODEINFO_ENOMEM;
}

static int parse_type(type_ctx *c, const char *name, yajl_val v, nodeinfo_type *t)
{
    memset(t, 0, sizeof *t);
    if (!YAJL_IS_OBJECT(v)) return bad(c, "not an object");
    if (name[0] == 0) return bad(c, "empty type name");
    if (strlen(name) > NODEINFO_MAX_NAME) return bad(c, "type name too long");
    if (!(t->name = arena_strdup(c->arena, name))) return NODEINFO_ENOMEM;
    int rc;
    if ((rc = text_field(c, v, "display_name", name, &t->display_name)) ||
        (rc = text_field(c, v, "category", "", &t->category)) ||
        (rc = text_field(c, v, "description", "", &t->description)) ||
        (rc = text_field(c, v, "python_module", "", &t->python_module)))
        return rc;
    if (!t->display_name[0]) t->display_name = t->name;
    if (strlen(t->category) > NODEINFO_MAX_NAME || strlen(t->display_name) > NODEINFO_MAX_NAME ||
        strlen(t->python_module) > NODEINFO_MAX_NAME)
        return bad(c, "display name or category too long");
    t->output_node = truthy(obj_get(v, "output_node"));
    t->deprecated = truthy(obj_get(v, "deprecated"));
    t->experimental = truthy(obj_get(v, "experimental"));
    if ((rc = parse_inputs(c, v, t))) return rc;
    return parse_outputs(c, v, t);
}

/* ---- frontend-only types ---- */

static const nodeinfo_input note_inputs[] = {
    {.name = "text",
     .type = "STRING",
     .kind = NODEINFO_KIND_STRING,
     .required = 1,
     .is_widget = 1,
     .multiline = 1,
     .def = {.kind = NODEINFO_V_TEXT, .s = (char *)""}},
};
static const nodeinfo_input reroute_inputs[] = {
    {.name = "", .type = "*", .kind = NODEINFO_KIND_LINK, .required = 1},
};
static const nodeinfo_output reroute_outputs[] = {{.name = "", .type = "*"}};
static const nodeinfo_output primitive_outputs[] = {
    {.name = "connect to widget input", .type = "*"}};

static const nodeinfo_type frontend_types[] = {
    {.name = "Note",
     .display_name = "Note",
     .category = "utils",
     .description = "A text note on the canvas (frontend only).",
     .inputs = note_inputs,
     .n_inputs = 1,
     .python_module = "",
     .frontend_only = 1},
    {.name = "MarkdownNote",
     .display_name = "Markdown Note",
     .category = "utils",
     .description = "A Markdown note on the canvas (frontend only).",
     .inputs = note_inputs,
     .n_inputs = 1,
     .python_module = "",
     .frontend_only = 1},
    {.name = "Reroute",
     .display_name = "Reroute",
     .category = "utils",
     .description = "Passes one link through (frontend only).",
     .inputs = reroute_inputs,
     .n_inputs = 1,
     .outputs = reroute_outputs,
     .n_outputs = 1,
     .python_module = "",
     .frontend_only = 1},
    {.name = "PrimitiveNode",
     .display_name = "Primitive",
     .category = "utils",
     .description = "Drives a widget input from one value (frontend only).",
     .outputs = primitive_outputs,
     .n_outputs = 1,
     .python_module = "",
     .frontend_only = 1,
     .dynamic_widgets = 1},
};

/* ---- create / destroy ---- */

/* The reasons quote names from the JSON and end up in the log: control
 * characters (a newline would forge a log line) become '?'. */
static void log_safe(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = '?';
}

typedef struct {
    nodeinfo_type t;
    size_t seq;
} seq_type;

static int cmp_seq_type(const void *a, const void *b)
{
    const seq_type *x = a, *y = b;
    int c = strcmp(x->t.name, y->t.name);
    if (c) return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void nodeinfo_free(nodeinfo *ni)
{
    if (!ni) return;
    free(ni->types);
    nodeindex_destroy(ni->index);
    free(ni->skip_reason);
    free(ni->odd_reason);
    arena_free(ni->arena);
    free(ni);
}

int nodeinfo_create(nodeinfo **out, const char *json, size_t len, unsigned flags, char *err,
                    size_t errlen)
{
    *out = NULL;
    const nodeinfo_json_limits lim = {NODEINFO_MAX_JSON_BYTES, NODEINFO_MAX_DEPTH,
                                      NODEINFO_MAX_VALUES};
    yajl_val root = NULL;
    int rc = nodeinfo_json_parse(json, len, &lim, &root, err, errlen);
    if (rc) return rc;
    seq_type *tmp = NULL;
    nodeinfo *ni = calloc(1, sizeof *ni);
    if (!ni) {
        rc = NODEINFO_ENOMEM;
        goto fail;
    }
    atomic_init(&ni->refs, 1);
    if (!YAJL_IS_OBJECT(root)) {
        text_err(err, errlen, 0, "object_info must be a JSON object of node types");
        rc = NODEINFO_EINVAL;
        goto fail;
    }
    size_t n = root->u.object.len;
    size_t nfe =
        (flags & NODEINFO_FRONTEND_TYPES) ? sizeof frontend_types / sizeof *frontend_types : 0;
    if (n > NODEINFO_MAX_TYPES) {
        text_err(err, errlen, 0, "object_info has %zu node types, the limit is %u", n,
                 NODEINFO_MAX_TYPES);
        rc = NODEINFO_ETOOBIG;
        goto fail;
    }
    tmp = malloc((n + nfe + 1) * sizeof *tmp);
    if (!tmp) {
        rc = NODEINFO_ENOMEM;
        goto fail;
    }
    size_t k = 0;
    char why[256], oddity[256];
    for (size_t i = 0; i < n; i++) {
        type_ctx c = {.arena = &ni->arena,
                      .why = why,
                      .whylen = sizeof why,
                      .odd = oddity,
                      .oddlen = sizeof oddity};
        why[0] = oddity[0] = 0;
        const char *name = root->u.object.keys[i];
        rc = parse_type(&c, name, root->u.object.values[i], &tmp[k].t);
        if (rc == NODEINFO_ENOMEM) goto fail;
        if (!rc && oddity[0]) {
            if (!ni->odd_reason) {
                char line[400];
                snprintf(line, sizeof line, "node type \"%.80s\": %s", name, oddity);
                log_safe(line);
                if (!(ni->odd_reason = strdup(line))) {
                    rc = NODEINFO_ENOMEM;
                    goto fail;
                }
            }
            ni->odd++;
        }
        if (rc) {
            if (!ni->skip_reason) {
                char line[400];
                snprintf(line, sizeof line, "node type \"%.80s\": %s", name, why);
                log_safe(line);
                if (!(ni->skip_reason = strdup(line))) {
                    rc = NODEINFO_ENOMEM;
                    goto fail;
                }
            }
            ni->skipped++;
            continue;
        }
        tmp[k].seq = k;
        k++;
    }
    rc = NODEINFO_OK;
    qsort(tmp, k, sizeof *tmp, cmp_seq_type);
    /* Duplicate keys: the first one in the document wins. */
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (m > 0 && strcmp(tmp[m - 1].t.name, tmp[i].t.name) == 0) {
            ni->skipped++;
            continue;
        }
        tmp[m++] = tmp[i];
    }
    size_t before = m;
    for (size_t i = 0; i < nfe; i++) {
        int dup = 0;
        for (size_t j = 0; j < before && !dup; j++)
            dup = strcmp(tmp[j].t.name, frontend_types[i].name) == 0;
        if (!dup) tmp[m].t = frontend_types[i], tmp[m].seq = m, m++;
    }
    if (m > before) qsort(tmp, m, sizeof *tmp, cmp_seq_type);

    ni->types = malloc((m ? m : 1) * sizeof *ni->types);
    if (!ni->types) {
        rc = NODEINFO_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < m; i++)
        ni->types[i] = tmp[i].t;
    ni->n_types = m;
    /* Built once here so that each search is one pass, not a parse. */
    if ((rc = nodeindex_create(&ni->index, ni->types, m)) != NODEINFO_OK) goto fail;
    free(tmp);
    yajl_tree_free(root);
    *out = ni;
    return NODEINFO_OK;
fail:
    if (rc == NODEINFO_ENOMEM) text_err(err, errlen, 0, "out of memory parsing object_info");
    free(tmp);
    nodeinfo_free(ni);
    yajl_tree_free(root);
    return rc;
}

nodeinfo *nodeinfo_ref(nodeinfo *ni)
{
    if (ni) atomic_fetch_add_explicit(&ni->refs, 1, memory_order_relaxed);
    return ni;
}

void nodeinfo_unref(nodeinfo *ni)
{
    if (!ni) return;
    if (atomic_fetch_sub_explicit(&ni->refs, 1, memory_order_acq_rel) == 1) nodeinfo_free(ni);
}

size_t nodeinfo_count(const nodeinfo *ni)
{
    return ni->n_types;
}

const nodeinfo_type *nodeinfo_at(const nodeinfo *ni, size_t i)
{
    return i < ni->n_types ? &ni->types[i] : NULL;
}

const nodeinfo_type *nodeinfo_find(const nodeinfo *ni, const char *name)
{
    if (!ni || !name) return NULL;
    size_t lo = 0, hi = ni->n_types;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ni->types[mid].name, name);
        if (c == 0) return &ni->types[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t nodeinfo_skipped(const nodeinfo *ni)
{
    return ni->skipped;
}

const char *nodeinfo_skip_reason(const nodeinfo *ni)
{
    return ni->skip_reason;
}

size_t nodeinfo_oddities(const nodeinfo *ni)
{
    return ni->odd;
}

const char *nodeinfo_odd_reason(const nodeinfo *ni)
{
    return ni->odd_reason;
}

/* ---- search ---- */

size_t nodeinfo_search(const nodeinfo *ni, const char *query, const char *category,
                       const nodeinfo_type **out, size_t max, size_t *total)
{
    size_t *idx = malloc((max ? max : 1) * sizeof *idx);
    if (!idx) {
        if (total) *total = 0;
        return 0;
    }
    size_t n = nodeindex_search(ni->index, query, category, idx, max, total);
    for (size_t i = 0; i < n; i++)
        out[i] = &ni->types[idx[i]];
    free(idx);
    return n;
}

/* ---- suggestions ---- */

/* Case-insensitive Levenshtein distance, or cap + 1 when it exceeds cap. */
static size_t edit_distance(const char *a, const char *b, size_t cap)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > NODEINFO_MAX_NAME || lb > NODEINFO_MAX_NAME) return cap + 1;
    if ((la > lb ? la - lb : lb - la) > cap) return cap + 1;
    size_t row[NODEINFO_MAX_NAME + 1];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0], best = row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            size_t v = diag + cost;
            if (row[j - 1] + 1 < v) v = row[j - 1] + 1;
            if (up + 1 < v) v = up + 1;
            row[j] = v;
            diag = up;
            if (v < best) best = v;
        }
        if (best > cap) return cap + 1;
    }
    return row[lb] <= cap ? row[lb] : cap + 1;
}

static int icontains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0) return 0;
    for (const char *p = hay; *p; p++)
        if (strncasecmp(p, needle, n) == 0) return 1;
    return 0;
}

/* Small ranked set used by every suggestion function. */
#define SUGGEST_KEEP 16

typedef struct {
    const char *out; /* what is returned */
    size_t tier, score, len;
} suggestion;

typedef struct {
    suggestion s[SUGGEST_KEEP];
    size_t n, max;
} suggest_set;

static int sugg_less(const suggestion *a, const suggestion *b)
{
    if (a->tier != b->tier) return a->tier < b->tier;
    if (a->score != b->score) return a->score < b->score;
    if (a->len != b->len) return a->len < b->len;
    return strcmp(a->out, b->out) < 0;
}

static void sugg_offer(suggest_set *set, suggestion c)
{
    for (size_t i = 0; i < set->n; i++) {
        if (strcmp(set->s[i].out, c.out) == 0) {
            if (sugg_less(&c, &set->s[i])) set->s[i] = c;
            goto resort;
        }
    }
    if (set->n < set->max) {
        set->s[set->n++] = c;
    } else if (sugg_less(&c, &set->s[set->n - 1])) {
        set->s[set->n - 1] = c;
    } else {
        return;
    }
resort:
    for (size_t i = 1; i < set->n; i++)
        for (size_t j = i; j > 0 && sugg_less(&set->s[j], &set->s[j - 1]); j--) {
            suggestion t = set->s[j];
            set->s[j] = set->s[j - 1];
            set->s[j - 1] = t;
        }
}

/* Scores cand against query (tier 0: edit distance within the threshold;
 * tier 1: one contains the other). Returns 0 when it is no match. */
static int sugg_score(const char *query, size_t qlen, const char *cand, suggestion *s)
{
    size_t cap = qlen / 3 + 1;
    if (cap > 4) cap = 4;
    size_t clen = strlen(cand);
    size_t d = edit_distance(query, cand, cap);
    s->len = clen;
    if (d <= cap) {
        s->tier = 0;
        s->score = d;
        return 1;
    }
    if (qlen >= 3 && icontains(cand, query)) {
        s->tier = 1;
        s->score = clen - qlen;
        return 1;
    }
    if (clen >= 4 && icontains(query, cand)) {
        s->tier = 1;
        s->score = qlen - clen;
        return 1;
    }
    return 0;
}

size_t nodeinfo_closest(const char *query, const char *const *cands, size_t n, const char **out,
                        size_t max)
{
    if (!query || !query[0] || max == 0) return 0;
    suggest_set set = {.max = max < SUGGEST_KEEP ? max : SUGGEST_KEEP};
    size_t qlen = strlen(query);
    for (size_t i = 0; i < n; i++) {
        suggestion s;
        if (!cands[i] || !sugg_score(query, qlen, cands[i], &s)) continue;
        s.out = cands[i];
        sugg_offer(&set, s);
    }
    for (size_t i = 0; i < set.n; i++)
        out[i] = set.s[i].out;
    return set.n;
}

size_t nodeinfo_suggest(const nodeinfo *ni, const char *name,
                        const char *out[NODEINFO_MAX_SUGGESTIONS])
{
    if (!name || !name[0]) return 0;
    suggest_set set = {.max = NODEINFO_MAX_SUGGESTIONS};
    size_t qlen = strlen(name);
    for (size_t i = 0; i < ni->n_types; i++) {
        const nodeinfo_type *t = &ni->types[i];
        suggestion a, b;
        int ha = sugg_score(name, qlen, t->name, &a);
        int hb = sugg_score(name, qlen, t->display_name, &b);
        if (!ha && !hb) continue;
        a.out = b.out = t->name;
        if (!ha || (hb && sugg_less(&b, &a))) a = b;
        a.len = strlen(t->name);
        sugg_offer(&set, a);
    }
    for (size_t i = 0; i < set.n; i++)
        out[i] = set.s[i].out;
    return set.n;
}

/* ---- inputs and widgets ---- */

static const nodeinfo_value control_options[] = {
    {.kind = NODEINFO_V_TEXT, .s = (char *)"fixed"},
    {.kind = NODEINFO_V_TEXT, .s = (char *)"increment"},
    {.kind = NODEINFO_V_TEXT, .s = (char *)"decrement"},
    {.kind = NODEINFO_V_TEXT, .s = (char *)"randomize"},
};

static const nodeinfo_input control_input = {
    .name = "control_after_generate",
    .type = "COMBO",
    .kind = NODEINFO_KIND_COMBO,
    .is_widget = 1,
    .def = {.kind = NODEINFO_V_TEXT, .s = (char *)"randomize"},
    .options = control_options,
    .n_options = 4,
};

const nodeinfo_input *nodeinfo_control_input(void)
{
    return &control_input;
}

const nodeinfo_input *nodeinfo_input_find(const nodeinfo_type *t, const char *name)
{
    if (!t || !name) return NULL;
    for (size_t i = 0; i < t->n_inputs; i++)
        if (strcmp(t->inputs[i].name, name) == 0) return &t->inputs[i];
    return NULL;
}

const nodeinfo_input *nodeinfo_widget_find(const nodeinfo_type *t, const char *name)
{
    if (!t || !name) return NULL;
    int has_control = 0;
    for (size_t i = 0; i < t->n_inputs; i++) {
        const nodeinfo_input *in = &t->inputs[i];
        if (!in->is_widget) continue;
        if (strcmp(in->name, name) == 0) return in;
        has_control |= in->control_after_generate;
    }
    if (has_control && strcmp(name, control_input.name) == 0) return &control_input;
    return NULL;
}

size_t nodeinfo_widget_names(const nodeinfo_type *t, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; t && i < t->n_inputs; i++) {
        const nodeinfo_input *in = &t->inputs[i];
        if (!in->is_widget) continue;
        if (n < max) out[n] = in->name;
        n++;
        if (in->control_after_generate) {
            if (n < max) out[n] = control_input.name;
            n++;
        }
    }
    return n;
}

/* ---- value checks ---- */

typedef struct {
    char *buf;
    size_t cap, len;
} strbuf;

static void sb_add(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(strbuf *b, const char *fmt, ...)
{
    if (!b->buf || b->cap == 0 || b->len >= b->cap - 1) return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (w > 0) b->len += (size_t)w < b->cap - b->len ? (size_t)w : b->cap - b->len - 1;
}

static void fmt_num(char *out, size_t n, double d)
{
    if (d == num_floor(d) && num_abs(d) < 1e15)
        snprintf(out, n, "%.0f", d);
    else
        snprintf(out, n, "%.10g", d);
}

/* Appends v for a message: text quoted and cut at 60 bytes. */
static void sb_value(strbuf *b, const Comfyd__V1__Value *v)
{
    char num[40];
    switch (v->kind_case) {
    case COMFYD__V1__VALUE__KIND_TEXT:
        sb_add(b, "\"%.60s%s\"", v->text, strlen(v->text) > 60 ? "..." : "");
        break;
    case COMFYD__V1__VALUE__KIND_NUMBER:
        fmt_num(num, sizeof num, v->number);
        sb_add(b, "%s", num);
        break;
    case COMFYD__V1__VALUE__KIND_INTEGER:
        sb_add(b, "%lld", (long long)v->integer);
        break;
    case COMFYD__V1__VALUE__KIND_BOOLEAN:
        sb_add(b, "%s", v->boolean ? "true" : "false");
        break;
    default:
        sb_add(b, "nothing");
        break;
    }
}

static const char *kind_word(const Comfyd__V1__Value *v)
{
    switch (v->kind_case) {
    case COMFYD__V1__VALUE__KIND_TEXT:
        return "text";
    case COMFYD__V1__VALUE__KIND_NUMBER:
        return "a number";
    case COMFYD__V1__VALUE__KIND_INTEGER:
        return "an integer";
    case COMFYD__V1__VALUE__KIND_BOOLEAN:
        return "a boolean";
    default:
        return "nothing";
    }
}

static int reject(strbuf *b, const nodeinfo_input *in, const char *what, const Comfyd__V1__Value *v)
{
    sb_add(b, "%s %s, got ", in->name, what);
    if (v->kind_case == COMFYD__V1__VALUE__KIND_TEXT)
        sb_value(b, v);
    else
        sb_add(b, "%s ", kind_word(v)), sb_value(b, v);
    return NODEINFO_EVALUE;
}

static int check_range(strbuf *b, const nodeinfo_input *in, long double x,
                       const Comfyd__V1__Value *v)
{
    char lim[40];
    if (in->has_min && x < (long double)in->min) {
        fmt_num(lim, sizeof lim, in->min);
        sb_add(b, "%s must be >= %s, got ", in->name, lim);
        sb_value(b, v);
        return NODEINFO_EVALUE;
    }
    if (in->has_max && x > (long double)in->max) {
        fmt_num(lim, sizeof lim, in->max);
        sb_add(b, "%s must be <= %s, got ", in->name, lim);
        sb_value(b, v);
        return NODEINFO_EVALUE;
    }
    return NODEINFO_OK;
}

static int option_matches(const nodeinfo_value *o, const Comfyd__V1__Value *v)
{
    switch (v->kind_case) {
    case COMFYD__V1__VALUE__KIND_TEXT:
        return o->kind == NODEINFO_V_TEXT && !strcmp(o->s, v->text);
    case COMFYD__V1__VALUE__KIND_BOOLEAN:
        return o->kind == NODEINFO_V_BOOL && !o->b == !v->boolean;
    case COMFYD__V1__VALUE__KIND_INTEGER:
        return (o->kind == NODEINFO_V_INT && o->i == v->integer) ||
               (o->kind == NODEINFO_V_NUMBER && o->d == (double)v->integer);
    case COMFYD__V1__VALUE__KIND_NUMBER:
        return (o->kind == NODEINFO_V_INT && (double)o->i == v->number) ||
               (o->kind == NODEINFO_V_NUMBER && o->d == v->number);
    default:
        return 0;
    }
}

static int check_combo(strbuf *b, const nodeinfo_input *in, const Comfyd__V1__Value *v,
                       const char **sugg, size_t max_sugg, size_t *n_sugg)
{
    if (in->dynamic_options && v->kind_case == COMFYD__V1__VALUE__KIND_TEXT) return NODEINFO_OK;
    for (size_t i = 0; i < in->n_options; i++)
        if (option_matches(&in->options[i], v)) return NODEINFO_OK;
    if (in->n_options == 0) {
        sb_add(b, "%s has no allowed values (the list is empty: no matching files installed?)",
               in->name);
        return NODEINFO_EVALUE;
    }
    sb_add(b, "%s must be one of ", in->name);
    size_t listed =
        in->n_options < NODEINFO_MAX_LISTED_OPTIONS ? in->n_options : NODEINFO_MAX_LISTED_OPTIONS;
    for (size_t i = 0; i < listed; i++) {
        const nodeinfo_value *o = &in->options[i];
        const char *sep = i == 0 ? "" : ", ";
        if (o->kind == NODEINFO_V_TEXT)
            sb_add(b, "%s\"%.60s\"", sep, o->s);
        else
            sb_add(b, "%s%.40s", sep, o->s);
    }
    if (in->n_options > listed) sb_add(b, " and %zu more", in->n_options - listed);
    sb_add(b, " (%zu allowed values), got ", in->n_options);
    sb_value(b, v);
    if (sugg && max_sugg && v->kind_case == COMFYD__V1__VALUE__KIND_TEXT) {
        const char **names = malloc(in->n_options * sizeof *names);
        if (names) {
            for (size_t i = 0; i < in->n_options; i++)
                names[i] = in->options[i].s;
            *n_sugg = nodeinfo_closest(v->text, names, in->n_options, sugg, max_sugg);
            free(names);
        }
    }
    return NODEINFO_EVALUE;
}

int nodeinfo_check_value(const nodeinfo_input *in, const Comfyd__V1__Value *v, char *msg,
                         size_t msglen, const char **sugg, size_t max_sugg, size_t *n_sugg)
{
    strbuf b = {msg, msglen, 0};
    if (msg && msglen) msg[0] = 0;
    if (n_sugg) *n_sugg = 0;
    size_t dummy;
    if (!n_sugg) n_sugg = &dummy;
    if (!v || v->kind_case == COMFYD__V1__VALUE__KIND__NOT_SET) {
        sb_add(&b, "%s needs a value", in->name);
        return NODEINFO_EVALUE;
    }
    int is_num = v->kind_case == COMFYD__V1__VALUE__KIND_NUMBER ||
                 v->kind_case == COMFYD__V1__VALUE__KIND_INTEGER;
    if (!in->is_widget) {
        sb_add(&b, "%s is a %s input (a socket), not a widget", in->name, in->type);
        return NODEINFO_EVALUE;
    }
    switch (in->kind) {
    case NODEINFO_KIND_INT: {
        if (!is_num) return reject(&b, in, "is an INT widget and needs an integer", v);
        long double x;
        if (v->kind_case == COMFYD__V1__VALUE__KIND_INTEGER) {
            x = (long double)v->integer;
        } else {
            if (!isfinite(v->number) || v->number != num_floor(v->number))
                return reject(&b, in, "is an INT widget and needs a whole number", v);
            x = (long double)v->number;
        }
        if (check_range(&b, in, x, v)) return NODEINFO_EVALUE;
        if (in->has_step) {
            long double base = in->has_min ? (long double)in->min : 0.0L;
            long double q = (x - base) / (long double)in->step;
            /* Beyond 2^62 steps the grid is finer than the numbers. */
            if (q > -0x1p62L && q < 0x1p62L) {
                long double f = (long double)(long long)q;
                if (f > q) f -= 1;
                long double r = q - f;
                /* Tolerance for steps and bounds that are not exact in binary. */
                if (r > 1e-6L && r < 1 - 1e-6L) {
                    char s1[40], s2[40], lo[40], hi[40];
                    fmt_num(s1, sizeof s1, in->step);
                    fmt_num(s2, sizeof s2, (double)base);
                    fmt_num(lo, sizeof lo, (double)(base + f * in->step));
                    fmt_num(hi, sizeof hi, (double)(base + (f + 1) * in->step));
                    sb_add(&b, "%s must be %s plus a multiple of %s (e.g. %s or %s), got ",
                           in->name, s2, s1, lo, hi);
                    sb_value(&b, v);
                    return NODEINFO_EVALUE;
                }
            }
        }
        return NODEINFO_OK;
    }
    case NODEINFO_KIND_FLOAT: {
        if (!is_num) return reject(&b, in, "is a FLOAT widget and needs a number", v);
        long double x = v->kind_case == COMFYD__V1__VALUE__KIND_INTEGER ? (long double)v->integer
                                                                        : (long double)v->number;
        if (!isfinite((double)x)) return reject(&b, in, "needs a finite number", v);
        return check_range(&b, in, x, v);
    }
    case NODEINFO_KIND_STRING:
        if (v->kind_case != COMFYD__V1__VALUE__KIND_TEXT)
            return reject(&b, in, "is a STRING widget and needs text", v);
        return NODEINFO_OK;
    case NODEINFO_KIND_BOOLEAN:
        if (v->kind_case != COMFYD__V1__VALUE__KIND_BOOLEAN)
            return reject(&b, in, "is a BOOLEAN widget and needs true or false", v);
        return NODEINFO_OK;
    case NODEINFO_KIND_COMBO:
        return check_combo(&b, in, v, sugg, max_sugg, n_sugg);
    case NODEINFO_KIND_LINK:
        break;
    }
    sb_add(&b, "%s is a %s input (a socket), not a widget", in->name, in->type);
    return NODEINFO_EVALUE;
}

/* ---- protobuf conversion ---- */

static char *pstr(const char *s)
{
    return strdup(s ? s : "");
}

Comfyd__V1__Value *nodeinfo_value_to_proto(const nodeinfo_value *v)
{
    if (!v || v->kind == NODEINFO_V_NONE) return NULL;
    Comfyd__V1__Value *m = malloc(sizeof *m);
    if (!m) return NULL;
    comfyd__v1__value__init(m);
    switch (v->kind) {
    case NODEINFO_V_INT:
        m->kind_case = COMFYD__V1__VALUE__KIND_INTEGER;
        m->integer = v->i;
        break;
    case NODEINFO_V_NUMBER:
        m->kind_case = COMFYD__V1__VALUE__KIND_NUMBER;
        m->number = v->d;
        break;
    case NODEINFO_V_BOOL:
        m->kind_case = COMFYD__V1__VALUE__KIND_BOOLEAN;
        m->boolean = v->b != 0;
        break;
    default:
        if (!(m->text = pstr(v->s))) {
            free(m);
            return NULL;
        }
        m->kind_case = COMFYD__V1__VALUE__KIND_TEXT;
        break;
    }
    return m;
}

static Google__Protobuf__DoubleValue *pdouble(double d)
{
    Google__Protobuf__DoubleValue *m = malloc(sizeof *m);
    if (m) {
        google__protobuf__double_value__init(m);
        m->value = d;
    }
    return m;
}

static Comfyd__V1__InputSpec *input_to_proto(const nodeinfo_input *in)
{
    Comfyd__V1__InputSpec *m = malloc(sizeof *m);
    if (!m) return NULL;
    comfyd__v1__input_spec__init(m);
    m->required = in->required != 0;
    m->is_widget = in->is_widget != 0;
    m->multiline = in->multiline != 0;
    if (!(m->name = pstr(in->name)) || !(m->type = pstr(in->type)) ||
        !(m->tooltip = pstr(in->tooltip)))
        goto fail;
    if (in->def.kind != NODEINFO_V_NONE && !(m->default_value = nodeinfo_value_to_proto(&in->def)))
        goto fail;
    if ((in->has_min && !(m->min = pdouble(in->min))) ||
        (in->has_max && !(m->max = pdouble(in->max))) ||
        (in->has_step && !(m->step = pdouble(in->step))))
        goto fail;
    if (in->n_options) {
        if (!(m->options = malloc(in->n_options * sizeof *m->options))) goto fail;
        for (size_t i = 0; i < in->n_options; i++) {
            if (!(m->options[i] = pstr(in->options[i].s))) goto fail;
            m->n_options++;
        }
    }
    return m;
fail:
    protobuf_c_message_free_unpacked(&m->base, NULL);
    return NULL;
}

Comfyd__V1__NodeType *nodeinfo_type_to_proto(const nodeinfo_type *t)
{
    Comfyd__V1__NodeType *m = malloc(sizeof *m);
    if (!m) return NULL;
    comfyd__v1__node_type__init(m);
    m->output_node = t->output_node != 0;
    if (!(m->name = pstr(t->name)) || !(m->display_name = pstr(t->display_name)) ||
        !(m->category = pstr(t->category)) || !(m->description = pstr(t->description)))
        goto fail;
    if (t->n_inputs) {
        if (!(m->inputs = malloc(t->n_inputs * sizeof *m->inputs))) goto fail;
        for (size_t i = 0; i < t->n_inputs; i++) {
            if (!(m->inputs[i] = input_to_proto(&t->inputs[i]))) goto fail;
            m->n_inputs++;
        }
    }
    if (t->n_outputs) {
        if (!(m->outputs = malloc(t->n_outputs * sizeof *m->outputs))) goto fail;
        for (size_t i = 0; i < t->n_outputs; i++) {
            Comfyd__V1__OutputSpec *o = malloc(sizeof *o);
            if (!o) goto fail;
            comfyd__v1__output_spec__init(o);
            m->outputs[i] = o;
            m->n_outputs++;
            o->is_list = t->outputs[i].is_list != 0;
            if (!(o->name = pstr(t->outputs[i].name)) || !(o->type = pstr(t->outputs[i].type)))
                goto fail;
        }
    }
    return m;
fail:
    protobuf_c_message_free_unpacked(&m->base, NULL);
    return NULL;
}
