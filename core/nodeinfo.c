/* nodeinfo: the node types of ComfyUI's /object_info (nodeinfo.h): the
 * arena the schema lives in, the bounded JSON pre-scan, yajl tree helpers,
 * the frontend-only types ComfyUI's editor adds, creation and destruction,
 * search, and the inputs and widgets of a type.
 * The rest is split by concern (see nodeinfo_int.h). */
#include "nodeinfo_int.h"

/* The module links no libm (its dependencies are fixed), so the little
 * rounding it needs is done here. */
double ni_num_abs(double d)
{
    return d < 0 ? -d : d;
}

/* floor() for finite values; values beyond 2^52 are already integral. */
double ni_num_floor(double d)
{
    if (!(d > -0x1p52 && d < 0x1p52)) return d;
    double t = (double)(long long)d;
    return t > d ? t - 1 : t;
}

/* The schema lives in one arena: it is immutable, freed as a whole, and made
 * of many small strings (a large install has ~10^5 combo options). */
#define ARENA_CHUNK_BYTES (64u * 1024u)

/* ---- arena ---- */

void *ni_arena_alloc(arena_chunk **head, size_t n)
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

char *ni_arena_strdup(arena_chunk **head, const char *s)
{
    size_t n = strlen(s);
    char *p = ni_arena_alloc(head, n + 1);
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

yajl_val ni_obj_get(yajl_val obj, const char *key)
{
    if (!YAJL_IS_OBJECT(obj)) return NULL;
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (strcmp(obj->u.object.keys[i], key) == 0) return obj->u.object.values[i];
    return NULL;
}

int ni_truthy(yajl_val v)
{
    if (!v || YAJL_IS_NULL(v) || YAJL_IS_FALSE(v)) return 0;
    if (YAJL_IS_STRING(v)) return v->u.string[0] != 0;
    if (YAJL_IS_NUMBER(v)) return YAJL_IS_DOUBLE(v) ? v->u.number.d != 0 : 1;
    return 1;
}

int ni_num_of(yajl_val v, double *d)
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
int ni_scalar_value(arena_chunk **a, yajl_val v, int with_text, nodeinfo_value *out)
{
    memset(out, 0, sizeof *out);
    if (YAJL_IS_STRING(v)) {
        out->kind = NODEINFO_V_TEXT;
        out->s = ni_arena_strdup(a, v->u.string);
        return out->s ? 1 : -1;
    }
    if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
        out->kind = NODEINFO_V_BOOL;
        out->b = YAJL_IS_TRUE(v);
        if (with_text && !(out->s = ni_arena_strdup(a, out->b ? "true" : "false"))) return -1;
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
        if (with_text && !(out->s = ni_arena_strdup(a, v->u.number.r))) return -1;
        return 1;
    }
    return 0;
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

static uint64_t name_hash(const char *name)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return h;
}

/* Fills ni->by_name from ni->types (names are unique there). */
static int build_by_name(nodeinfo *ni)
{
    size_t cap = 16;
    while (cap < 2 * ni->n_types)
        cap *= 2;
    if (!(ni->by_name = calloc(cap, sizeof *ni->by_name))) return NODEINFO_ENOMEM;
    ni->cap_by_name = cap;
    for (size_t i = 0; i < ni->n_types; i++) {
        size_t k = (size_t)name_hash(ni->types[i].name) & (cap - 1);
        while (ni->by_name[k])
            k = (k + 1) & (cap - 1);
        ni->by_name[k] = (uint32_t)i + 1;
    }
    return NODEINFO_OK;
}

static void nodeinfo_free(nodeinfo *ni)
{
    if (!ni) return;
    free(ni->by_name);
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
        rc = ni_parse_type(&c, name, root->u.object.values[i], &tmp[k].t);
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
    if ((rc = build_by_name(ni)) != NODEINFO_OK) goto fail;
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
    if (ni->by_name) {
        size_t mask = ni->cap_by_name - 1;
        for (size_t k = (size_t)name_hash(name) & mask; ni->by_name[k]; k = (k + 1) & mask) {
            const nodeinfo_type *t = &ni->types[ni->by_name[k] - 1];
            if (strcmp(t->name, name) == 0) return t;
        }
        return NULL;
    }
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
