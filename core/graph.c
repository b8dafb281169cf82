#include "graph.h"
#include "text.h"

#include <errno.h>
#include <math.h> /* isfinite, NAN: macros only */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yajl/yajl_gen.h>

#include "text.h"

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

/* Slot name arrays on the stack are sized for both kinds of node. */
_Static_assert(NODEINFO_MAX_INPUTS <= GRAPH_MAX_SLOTS && NODEINFO_MAX_OUTPUTS <= GRAPH_MAX_SLOTS,
               "schema slots must fit the graph's slot limit");

/* Values of the frontend's control_after_generate widget. */
/* set_node_mode's names and the LiteGraph modes they stand for. */
static const struct {
    const char *name;
    int32_t mode;
} node_modes[] = {{"always", 0}, {"never", 2}, {"mute", 2}, {"bypass", 4}};

static const char *const control_words[] = {"fixed", "increment", "decrement", "randomize"};

/* Positions closer than this are the same (LiteGraph stores float32). */
#define POS_EPSILON 1e-3
/* Bytes of a value quoted in a summary or message. */
#define QUOTE_MAX 60
/* Slot names listed in a SLOT_NOT_FOUND message. */
#define LISTED_SLOTS 12

typedef struct {
    graph_node *nodes; /* sorted by id */
    size_t n_nodes;
    graph_link *links; /* sorted by id */
    size_t n_links;
    int64_t last_node_id, last_link_id;
    /* Nodes carry a socket for every widget input (newer frontends). */
    int widget_sockets;
} mirror;

typedef struct {
    uint64_t rev;
    uint8_t *buf; /* a packed comfyd.v1.GraphOp */
    size_t len;
} logged_op;

struct graph {
    nodeinfo *schema;
    mirror m;
    char *json;
    size_t json_len;
    /* The workflow as a tree, kept once a delta was applied (deltas edit
     * it; json is then written from it when asked for). */
    yajl_val root;
    int json_stale; /* json predates the deltas applied to root */
    uint64_t revision;
    logged_op *log; /* ring of GRAPH_OPLOG_MAX */
    size_t log_head, log_count;
    /* Every op with a revision above this is in the log. */
    uint64_t log_floor;
};

const char *graph_strerror(int err)
{
    switch (err) {
    case GRAPH_OK:
        return "ok";
    case GRAPH_EINVAL:
        return "invalid workflow";
    case GRAPH_ETOOBIG:
        return "workflow exceeds a limit";
    case GRAPH_ENOMEM:
        return "out of memory";
    case GRAPH_EREVISION:
        return "revision not above the current one";
    case GRAPH_ETRUNCATED:
        return "operation log no longer reaches that revision";
    case GRAPH_EDIGEST:
        return "the graph after the delta does not have the tab's digest";
    }
    return "unknown error";
}

/* ---- small string helpers ---- */

typedef struct {
    char *buf;
    size_t cap, len;
} strbuf;

static void sb_add(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(strbuf *b, const char *fmt, ...)
{
    if (b->cap == 0 || b->len >= b->cap - 1) return;
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

/* Appends s quoted, cut at QUOTE_MAX bytes on a UTF-8 boundary. */
static void sb_quote(strbuf *b, const char *s)
{
    size_t n = strlen(s), k = n;
    if (k > QUOTE_MAX) {
        k = QUOTE_MAX;
        while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--;
    }
    sb_add(b, "\"%.*s%s\"", (int)k, s, k < n ? "..." : "");
}

static void sb_nvalue(strbuf *b, const nodeinfo_value *v)
{
    char num[40];
    switch (v->kind) {
    case NODEINFO_V_INT:
        sb_add(b, "%lld", (long long)v->i);
        break;
    case NODEINFO_V_NUMBER:
        fmt_num(num, sizeof num, v->d);
        sb_add(b, "%s", num);
        break;
    case NODEINFO_V_TEXT:
        sb_quote(b, v->s);
        break;
    case NODEINFO_V_BOOL:
        sb_add(b, "%s", v->b ? "true" : "false");
        break;
    case NODEINFO_V_JSON:
        sb_add(b, "a JSON value");
        break;
    default:
        sb_add(b, "null");
        break;
    }
}

/* One line: control characters become spaces. */
static void one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20) *s = ' ';
}

/* ---- mirror memory ---- */

static void value_free(nodeinfo_value *v)
{
    if (v->kind == NODEINFO_V_TEXT || v->kind == NODEINFO_V_JSON) free(v->s);
    memset(v, 0, sizeof *v);
}

static void node_free(graph_node *n)
{
    free(n->type);
    free(n->title);
    for (size_t i = 0; i < n->n_inputs; i++) {
        free(n->inputs[i].name);
        free(n->inputs[i].type);
        free(n->inputs[i].widget);
    }
    free(n->inputs);
    for (size_t i = 0; i < n->n_outputs; i++) {
        free(n->outputs[i].name);
        free(n->outputs[i].type);
        free(n->outputs[i].links);
    }
    free(n->outputs);
    for (size_t i = 0; i < n->n_widgets; i++) {
        free(n->widgets[i].name);
        value_free(&n->widgets[i].value);
    }
    free(n->widgets);
}

static void mirror_free(mirror *m)
{
    for (size_t i = 0; i < m->n_nodes; i++)
        node_free(&m->nodes[i]);
    free(m->nodes);
    for (size_t i = 0; i < m->n_links; i++)
        free(m->links[i].type);
    free(m->links);
    memset(m, 0, sizeof *m);
}

static const graph_node *m_find_node(const mirror *m, int64_t id)
{
    size_t lo = 0, hi = m->n_nodes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->nodes[mid].id == id) return &m->nodes[mid];
        if (m->nodes[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const graph_link *m_find_link(const mirror *m, int64_t id)
{
    size_t lo = 0, hi = m->n_links;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->links[mid].id == id) return &m->links[mid];
        if (m->links[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- workflow parsing ---- */

typedef struct {
    char *err;
    size_t errlen;
    const nodeinfo *schema;
} pctx;

#define PFAIL(c, rc, ...) text_err((c)->err, (c)->errlen, rc, __VA_ARGS__)

static yajl_val obj_get(yajl_val obj, const char *key)
{
    if (!YAJL_IS_OBJECT(obj)) return NULL;
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (strcmp(obj->u.object.keys[i], key) == 0) return obj->u.object.values[i];
    return NULL;
}

/* An integral id: a JSON integer, an integral double, or a decimal string
 * (some exporters write ids as strings). */
static int get_i64(yajl_val v, int64_t *out)
{
    if (YAJL_IS_INTEGER(v)) {
        *out = v->u.number.i;
        return 1;
    }
    if (YAJL_IS_DOUBLE(v)) {
        double d = v->u.number.d;
        if (d != num_floor(d) || num_abs(d) > 9e15) return 0;
        *out = (int64_t)d;
        return 1;
    }
    if (YAJL_IS_STRING(v)) {
        const char *s = v->u.string;
        if (!(s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))) return 0;
        char *end;
        errno = 0;
        long long x = strtoll(s, &end, 10);
        if (errno || *end || end == s) return 0;
        *out = x;
        return 1;
    }
    return 0;
}

static int get_num(yajl_val v, double *out)
{
    if (YAJL_IS_DOUBLE(v)) {
        *out = v->u.number.d;
    } else if (YAJL_IS_INTEGER(v)) {
        *out = (double)v->u.number.i;
    } else {
        return 0;
    }
    return isfinite(*out);
}

/* pos and size: [x, y] or {"0": x, "1": y} (a serialised Float32Array). */
static void get_pair(yajl_val v, double *x, double *y)
{
    *x = *y = 0;
    if (YAJL_IS_ARRAY(v)) {
        if (v->u.array.len > 0) get_num(v->u.array.values[0], x);
        if (v->u.array.len > 1) get_num(v->u.array.values[1], y);
    } else if (YAJL_IS_OBJECT(v)) {
        get_num(obj_get(v, "0"), x);
        get_num(obj_get(v, "1"), y);
    }
    if (!isfinite(*x)) *x = 0;
    if (!isfinite(*y)) *y = 0;
}

/* Copies a name-like string; fails when it is too long. *out NULL when v is
 * not a string and fallback is NULL. Returns 0, -1 (too long), -2 (memory). */
static int dup_name(yajl_val v, const char *fallback, char **out)
{
    const char *s = YAJL_IS_STRING(v) ? v->u.string : fallback;
    *out = NULL;
    if (!s) return 0;
    if (strlen(s) > GRAPH_MAX_NAME) return -1;
    *out = strdup(s);
    return *out ? 0 : -2;
}

/* A slot type: strings as they are, numbers (LiteGraph's event types) as
 * their text, anything else "*". */
static char *dup_type(yajl_val v)
{
    if (YAJL_IS_STRING(v) && strlen(v->u.string) <= GRAPH_MAX_NAME)
        return strdup(v->u.string[0] ? v->u.string : "*");
    if (YAJL_IS_NUMBER(v)) return strdup(v->u.number.r);
    return strdup("*");
}

static yajl_gen_status gen_json(yajl_gen g, yajl_val v)
{
    switch (v->type) {
    case yajl_t_string:
        return yajl_gen_string(g, (const unsigned char *)v->u.string, strlen(v->u.string));
    case yajl_t_number:
        return yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
    case yajl_t_true:
        return yajl_gen_bool(g, 1);
    case yajl_t_false:
        return yajl_gen_bool(g, 0);
    case yajl_t_null:
        return yajl_gen_null(g);
    case yajl_t_object: {
        yajl_gen_status st = yajl_gen_map_open(g);
        for (size_t i = 0; st == yajl_gen_status_ok && i < v->u.object.len; i++) {
            const char *k = v->u.object.keys[i];
            st = yajl_gen_string(g, (const unsigned char *)k, strlen(k));
            if (st == yajl_gen_status_ok) st = gen_json(g, v->u.object.values[i]);
        }
        return st == yajl_gen_status_ok ? yajl_gen_map_close(g) : st;
    }
    case yajl_t_array: {
        yajl_gen_status st = yajl_gen_array_open(g);
        for (size_t i = 0; st == yajl_gen_status_ok && i < v->u.array.len; i++)
            st = gen_json(g, v->u.array.values[i]);
        return st == yajl_gen_status_ok ? yajl_gen_array_close(g) : st;
    }
    default:
        return yajl_gen_invalid_string;
    }
}

/* A widget value from JSON, shaped by the widget's kind when known (an INT
 * widget's 5.0 is 5, a FLOAT widget's 8 is 8.0). Returns 0 or -1 (memory). */
static int json_value(yajl_val v, nodeinfo_kind kind, nodeinfo_value *out)
{
    memset(out, 0, sizeof *out);
    if (!v || YAJL_IS_NULL(v)) return 0;
    if (YAJL_IS_STRING(v)) {
        out->kind = NODEINFO_V_TEXT;
        return (out->s = strdup(v->u.string)) ? 0 : -1;
    }
    if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
        out->kind = NODEINFO_V_BOOL;
        out->b = YAJL_IS_TRUE(v);
        return 0;
    }
    if (YAJL_IS_NUMBER(v)) {
        if (YAJL_IS_INTEGER(v) && kind != NODEINFO_KIND_FLOAT) {
            out->kind = NODEINFO_V_INT;
            out->i = v->u.number.i;
        } else if (YAJL_IS_INTEGER(v)) {
            out->kind = NODEINFO_V_NUMBER;
            out->d = (double)v->u.number.i;
        } else if (YAJL_IS_DOUBLE(v)) {
            double d = v->u.number.d;
            if (kind == NODEINFO_KIND_INT && d == num_floor(d) && num_abs(d) < 9.2e18) {
                out->kind = NODEINFO_V_INT;
                out->i = (int64_t)d;
            } else {
                out->kind = NODEINFO_V_NUMBER;
                out->d = d;
            }
        }
        return 0;
    }
    /* Arrays and objects: kept as compact JSON text. */
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g) return -1;
    int rc = 0;
    if (gen_json(g, v) == yajl_gen_status_ok) {
        const unsigned char *buf;
        size_t len;
        yajl_gen_get_buf(g, &buf, &len);
        out->s = malloc(len + 1);
        if (out->s) {
            memcpy(out->s, buf, len);
            out->s[len] = 0;
            out->kind = NODEINFO_V_JSON;
        } else {
            rc = -1;
        }
    }
    yajl_gen_free(g);
    return rc;
}

static int is_control_word(yajl_val v)
{
    if (!YAJL_IS_STRING(v)) return 0;
    for (size_t i = 0; i < sizeof control_words / sizeof *control_words; i++)
        if (strcmp(v->u.string, control_words[i]) == 0) return 1;
    return 0;
}

static int add_widget(graph_node *n, const char *name, yajl_val v, nodeinfo_kind kind)
{
    graph_widget *w = &n->widgets[n->n_widgets];
    if (!(w->name = strdup(name))) return -1;
    if (json_value(v, kind, &w->value)) {
        free(w->name);
        return -1;
    }
    n->n_widgets++;
    return 0;
}

static int map_widgets(pctx *c, size_t idx, yajl_val wv, graph_node *n)
{
    if (!wv || YAJL_IS_NULL(wv)) return GRAPH_OK;
    size_t len;
    if (YAJL_IS_ARRAY(wv))
        len = wv->u.array.len;
    else if (YAJL_IS_OBJECT(wv))
        len = wv->u.object.len;
    else
        return PFAIL(c, GRAPH_EINVAL, "nodes[%zu].widgets_values is not a list or object", idx);
    if (len > GRAPH_MAX_WIDGETS)
        return PFAIL(c, GRAPH_ETOOBIG, "nodes[%zu] has %zu widget values (limit %u)", idx, len,
                     GRAPH_MAX_WIDGETS);
    if (len == 0) return GRAPH_OK;
    if (!(n->widgets = calloc(len, sizeof *n->widgets))) return GRAPH_ENOMEM;
    const nodeinfo_type *t = nodeinfo_find(c->schema, n->type);
    if (t && t->dynamic_widgets) t = NULL;
    if (YAJL_IS_OBJECT(wv)) {
        for (size_t i = 0; i < len; i++) {
            const char *k = wv->u.object.keys[i];
            if (strlen(k) > GRAPH_MAX_NAME)
                return PFAIL(c, GRAPH_ETOOBIG, "nodes[%zu] has a widget name that is too long",
                             idx);
            const nodeinfo_input *in = nodeinfo_widget_find(t, k);
            if (add_widget(n, k, wv->u.object.values[i], in ? in->kind : NODEINFO_KIND_LINK))
                return GRAPH_ENOMEM;
        }
        return GRAPH_OK;
    }
    yajl_val *vals = wv->u.array.values;
    size_t pos = 0;
    for (size_t i = 0; t && i < t->n_inputs && pos < len; i++) {
        const nodeinfo_input *in = &t->inputs[i];
        if (!in->is_widget) continue;
        if (add_widget(n, in->name, vals[pos++], in->kind)) return GRAPH_ENOMEM;
        if (in->control_after_generate && pos < len && is_control_word(vals[pos]))
            if (add_widget(n, nodeinfo_control_input()->name, vals[pos++], NODEINFO_KIND_COMBO))
                return GRAPH_ENOMEM;
    }
    for (; pos < len; pos++) {
        char name[24];
        snprintf(name, sizeof name, "#%zu", pos);
        if (add_widget(n, name, vals[pos], NODEINFO_KIND_LINK)) return GRAPH_ENOMEM;
    }
    return GRAPH_OK;
}

static int parse_slots(pctx *c, size_t idx, yajl_val v, graph_node *n)
{
    yajl_val ins = obj_get(v, "inputs"), outs = obj_get(v, "outputs");
    if (ins && !YAJL_IS_NULL(ins) && !YAJL_IS_ARRAY(ins))
        return PFAIL(c, GRAPH_EINVAL, "nodes[%zu].inputs is not a list", idx);
    if (outs && !YAJL_IS_NULL(outs) && !YAJL_IS_ARRAY(outs))
        return PFAIL(c, GRAPH_EINVAL, "nodes[%zu].outputs is not a list", idx);
    size_t ni = YAJL_IS_ARRAY(ins) ? ins->u.array.len : 0;
    size_t no = YAJL_IS_ARRAY(outs) ? outs->u.array.len : 0;
    if (ni > GRAPH_MAX_SLOTS || no > GRAPH_MAX_SLOTS)
        return PFAIL(c, GRAPH_ETOOBIG, "nodes[%zu] has more than %u slots", idx, GRAPH_MAX_SLOTS);
    if (ni && !(n->inputs = calloc(ni, sizeof *n->inputs))) return GRAPH_ENOMEM;
    if (no && !(n->outputs = calloc(no, sizeof *n->outputs))) return GRAPH_ENOMEM;
    for (size_t i = 0; i < ni; i++) {
        yajl_val s = ins->u.array.values[i];
        if (!YAJL_IS_OBJECT(s))
            return PFAIL(c, GRAPH_EINVAL, "nodes[%zu].inputs[%zu] is not an object", idx, i);
        graph_input *in = &n->inputs[n->n_inputs++];
        int r = dup_name(obj_get(s, "name"), "", &in->name);
        if (r == 0) r = dup_name(obj_get(obj_get(s, "widget"), "name"), NULL, &in->widget);
        if (r == -1)
            return PFAIL(c, GRAPH_ETOOBIG, "nodes[%zu].inputs[%zu] has a name that is too long",
                         idx, i);
        if (r || !(in->type = dup_type(obj_get(s, "type")))) return GRAPH_ENOMEM;
        int64_t link;
        if (get_i64(obj_get(s, "link"), &link) && link > 0) in->link = link;
    }
    for (size_t i = 0; i < no; i++) {
        yajl_val s = outs->u.array.values[i];
        if (!YAJL_IS_OBJECT(s))
            return PFAIL(c, GRAPH_EINVAL, "nodes[%zu].outputs[%zu] is not an object", idx, i);
        graph_output *o = &n->outputs[n->n_outputs++];
        int r = dup_name(obj_get(s, "name"), "", &o->name);
        if (r == -1)
            return PFAIL(c, GRAPH_ETOOBIG, "nodes[%zu].outputs[%zu] has a name that is too long",
                         idx, i);
        if (r || !(o->type = dup_type(obj_get(s, "type")))) return GRAPH_ENOMEM;
        yajl_val links = obj_get(s, "links");
        if (!YAJL_IS_ARRAY(links) || links->u.array.len == 0) continue;
        if (links->u.array.len > GRAPH_MAX_LINKS)
            return PFAIL(c, GRAPH_ETOOBIG, "nodes[%zu].outputs[%zu] has too many links", idx, i);
        if (!(o->links = malloc(links->u.array.len * sizeof *o->links))) return GRAPH_ENOMEM;
        for (size_t k = 0; k < links->u.array.len; k++) {
            int64_t id;
            if (get_i64(links->u.array.values[k], &id) && id > 0) o->links[o->n_links++] = id;
        }
    }
    return GRAPH_OK;
}

static int parse_node(pctx *c, size_t idx, yajl_val v, graph_node *n)
{
    if (!YAJL_IS_OBJECT(v)) return PFAIL(c, GRAPH_EINVAL, "nodes[%zu] is not an object", idx);
    if (!get_i64(obj_get(v, "id"), &n->id) || n->id <= 0)
        return PFAIL(c, GRAPH_EINVAL, "nodes[%zu].id must be a positive integer", idx);
    yajl_val type = obj_get(v, "type");
    if (!YAJL_IS_STRING(type) || !type->u.string[0])
        return PFAIL(c, GRAPH_EINVAL, "node %lld has no type", (long long)n->id);
    int r = dup_name(type, NULL, &n->type);
    if (r == -1) return PFAIL(c, GRAPH_ETOOBIG, "node %lld: type too long", (long long)n->id);
    if (r) return GRAPH_ENOMEM;
    yajl_val title = obj_get(v, "title");
    if (YAJL_IS_STRING(title)) {
        /* A title is the user's text: cut it rather than refuse the canvas. */
        size_t k = strlen(title->u.string);
        if (k > GRAPH_MAX_NAME) {
            k = GRAPH_MAX_NAME;
            while (k > 0 && ((unsigned char)title->u.string[k] & 0xC0) == 0x80)
                k--;
        }
        if (!(n->title = strndup(title->u.string, k))) return GRAPH_ENOMEM;
    }
    get_pair(obj_get(v, "pos"), &n->x, &n->y);
    get_pair(obj_get(v, "size"), &n->w, &n->h);
    int64_t mode;
    if (get_i64(obj_get(v, "mode"), &mode) && mode >= 0 && mode <= 255) n->mode = (int)mode;
    int rc = parse_slots(c, idx, v, n);
    if (rc) return rc;
    return map_widgets(c, idx, obj_get(v, "widgets_values"), n);
}

static int parse_link(pctx *c, size_t idx, yajl_val v, graph_link *l)
{
    yajl_val f[6] = {NULL};
    if (YAJL_IS_ARRAY(v)) {
        if (v->u.array.len < 5)
            return PFAIL(c, GRAPH_EINVAL, "links[%zu] has fewer than 5 entries", idx);
        for (size_t i = 0; i < 6 && i < v->u.array.len; i++)
            f[i] = v->u.array.values[i];
    } else if (YAJL_IS_OBJECT(v)) {
        static const char *const keys[6] = {"id",        "origin_id",   "origin_slot",
                                            "target_id", "target_slot", "type"};
        for (size_t i = 0; i < 6; i++)
            f[i] = obj_get(v, keys[i]);
    } else {
        return PFAIL(c, GRAPH_EINVAL, "links[%zu] is not a list or object", idx);
    }
    int64_t fs, ts;
    if (!get_i64(f[0], &l->id) || l->id <= 0 || !get_i64(f[1], &l->from_id) ||
        !get_i64(f[2], &fs) || !get_i64(f[3], &l->to_id) || !get_i64(f[4], &ts))
        return PFAIL(c, GRAPH_EINVAL, "links[%zu] needs integer id, nodes and slots", idx);
    if (fs < 0 || fs >= GRAPH_MAX_SLOTS || ts < 0 || ts >= GRAPH_MAX_SLOTS)
        return PFAIL(c, GRAPH_EINVAL, "links[%zu] has a slot outside 0..%u", idx,
                     GRAPH_MAX_SLOTS - 1);
    l->from_slot = (uint32_t)fs;
    l->to_slot = (uint32_t)ts;
    return (l->type = dup_type(f[5])) ? GRAPH_OK : GRAPH_ENOMEM;
}

static int cmp_node(const void *a, const void *b)
{
    const graph_node *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_link(const void *a, const void *b)
{
    const graph_link *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Newer frontends give every widget input a socket; older ones only those
 * converted by the user. The first node of a known type with widgets
 * decides. */
static int detect_widget_sockets(const mirror *m, const nodeinfo *schema)
{
    for (size_t i = 0; i < m->n_nodes; i++) {
        const graph_node *n = &m->nodes[i];
        const nodeinfo_type *t = nodeinfo_find(schema, n->type);
        if (!t || t->frontend_only) continue;
        size_t widgets = 0, with_socket = 0;
        for (size_t k = 0; k < t->n_inputs; k++) {
            if (!t->inputs[k].is_widget) continue;
            widgets++;
            for (size_t j = 0; j < n->n_inputs; j++) {
                const char *w = n->inputs[j].widget;
                if (w && strcmp(w, t->inputs[k].name) == 0) {
                    with_socket++;
                    break;
                }
            }
        }
        if (widgets) return with_socket == widgets;
    }
    return 0;
}

static int parse_mirror(pctx *c, const char *json, size_t len, mirror *m)
{
    memset(m, 0, sizeof *m);
    const nodeinfo_json_limits lim = {GRAPH_MAX_WORKFLOW_BYTES, GRAPH_MAX_DEPTH, GRAPH_MAX_VALUES};
    yajl_val root = NULL;
    int rc = nodeinfo_json_parse(json, len, &lim, &root, c->err, c->errlen);
    if (rc)
        return rc == NODEINFO_ETOOBIG  ? GRAPH_ETOOBIG
               : rc == NODEINFO_ENOMEM ? GRAPH_ENOMEM
                                       : GRAPH_EINVAL;
    if (!YAJL_IS_OBJECT(root)) {
        rc = PFAIL(c, GRAPH_EINVAL, "a workflow is a JSON object");
        goto done;
    }
    yajl_val nodes = obj_get(root, "nodes"), links = obj_get(root, "links");
    if ((nodes && !YAJL_IS_NULL(nodes) && !YAJL_IS_ARRAY(nodes)) ||
        (links && !YAJL_IS_NULL(links) && !YAJL_IS_ARRAY(links))) {
        rc = PFAIL(c, GRAPH_EINVAL, "\"nodes\" and \"links\" must be lists");
        goto done;
    }
    size_t nn = YAJL_IS_ARRAY(nodes) ? nodes->u.array.len : 0;
    size_t nl = YAJL_IS_ARRAY(links) ? links->u.array.len : 0;
    if (nn > GRAPH_MAX_NODES || nl > GRAPH_MAX_LINKS) {
        rc = PFAIL(c, GRAPH_ETOOBIG, "workflow has %zu nodes and %zu links (limits %u, %u)", nn, nl,
                   GRAPH_MAX_NODES, GRAPH_MAX_LINKS);
        goto done;
    }
    if ((nn && !(m->nodes = calloc(nn, sizeof *m->nodes))) ||
        (nl && !(m->links = calloc(nl, sizeof *m->links)))) {
        rc = GRAPH_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < nn; i++) {
        /* Counted first so a half-parsed node is freed with the rest. */
        graph_node *n = &m->nodes[m->n_nodes++];
        if ((rc = parse_node(c, i, nodes->u.array.values[i], n))) goto done;
    }
    for (size_t i = 0; i < nl; i++) {
        yajl_val v = links->u.array.values[i];
        if (YAJL_IS_NULL(v)) continue; /* LiteGraph leaves holes sometimes */
        graph_link *l = &m->links[m->n_links++];
        if ((rc = parse_link(c, i, v, l))) goto done;
    }
    /* qsort wants a valid pointer even for no elements. */
    if (m->n_nodes > 1) qsort(m->nodes, m->n_nodes, sizeof *m->nodes, cmp_node);
    if (m->n_links > 1) qsort(m->links, m->n_links, sizeof *m->links, cmp_link);
    for (size_t i = 1; i < m->n_nodes; i++)
        if (m->nodes[i].id == m->nodes[i - 1].id) {
            rc = PFAIL(c, GRAPH_EINVAL, "two nodes have id %lld", (long long)m->nodes[i].id);
            goto done;
        }
    for (size_t i = 1; i < m->n_links; i++)
        if (m->links[i].id == m->links[i - 1].id) {
            rc = PFAIL(c, GRAPH_EINVAL, "two links have id %lld", (long long)m->links[i].id);
            goto done;
        }
    yajl_val state = obj_get(root, "state");
    if (!get_i64(obj_get(root, "last_node_id"), &m->last_node_id))
        get_i64(obj_get(state, "lastNodeId"), &m->last_node_id);
    if (!get_i64(obj_get(root, "last_link_id"), &m->last_link_id))
        get_i64(obj_get(state, "lastLinkId"), &m->last_link_id);
    if (m->last_node_id < 0) m->last_node_id = 0;
    if (m->last_link_id < 0) m->last_link_id = 0;
    if (m->n_nodes && m->nodes[m->n_nodes - 1].id > m->last_node_id)
        m->last_node_id = m->nodes[m->n_nodes - 1].id;
    if (m->n_links && m->links[m->n_links - 1].id > m->last_link_id)
        m->last_link_id = m->links[m->n_links - 1].id;
    m->widget_sockets = detect_widget_sockets(m, c->schema);
    rc = GRAPH_OK;
done:
    if (rc == GRAPH_ENOMEM) PFAIL(c, GRAPH_ENOMEM, "out of memory parsing the workflow");
    if (rc) mirror_free(m);
    yajl_tree_free(root);
    return rc;
}

int graph_parse_workflow(graph **out, const char *json, size_t len, nodeinfo *schema,
                         uint64_t revision, char *err, size_t errlen)
{
    *out = NULL;
    graph *g = calloc(1, sizeof *g);
    if (!g || !(g->log = calloc(GRAPH_OPLOG_MAX, sizeof *g->log))) {
        free(g);
        return text_err(err, errlen, GRAPH_ENOMEM, "out of memory");
    }
    pctx c = {err, errlen, schema};
    int rc = parse_mirror(&c, json, len, &g->m);
    if (rc) {
        free(g->log);
        free(g);
        return rc;
    }
    if (!(g->json = malloc(len + 1))) {
        mirror_free(&g->m);
        free(g->log);
        free(g);
        return text_err(err, errlen, GRAPH_ENOMEM, "out of memory");
    }
    memcpy(g->json, json, len);
    g->json[len] = 0;
    g->json_len = len;
    g->schema = nodeinfo_ref(schema);
    g->revision = g->log_floor = revision;
    *out = g;
    return GRAPH_OK;
}

static void log_clear(graph *g)
{
    for (size_t i = 0; i < g->log_count; i++)
        free(g->log[(g->log_head + i) % GRAPH_OPLOG_MAX].buf);
    g->log_count = 0;
}

void graph_destroy(graph *g)
{
    if (!g) return;
    mirror_free(&g->m);
    log_clear(g);
    free(g->log);
    yajl_tree_free(g->root);
    free(g->json);
    nodeinfo_unref(g->schema);
    free(g);
}

uint64_t graph_revision(const graph *g)
{
    return g->revision;
}

nodeinfo *graph_schema(const graph *g)
{
    return g->schema;
}

const char *graph_workflow_json(const graph *g, size_t *len)
{
    if (g->json_stale) {
        /* Written on demand: a cache of root, so the graph stays const to
         * its readers. Out of memory here has no answer but to stop. */
        graph *mg = (graph *)g;
        yajl_gen gen = yajl_gen_alloc(NULL);
        const unsigned char *buf;
        size_t n;
        if (!gen || gen_json(gen, g->root) != yajl_gen_status_ok ||
            yajl_gen_get_buf(gen, &buf, &n) != yajl_gen_status_ok)
            abort();
        char *copy = malloc(n + 1);
        if (!copy) abort();
        memcpy(copy, buf, n);
        copy[n] = 0;
        yajl_gen_free(gen);
        free(mg->json);
        mg->json = copy;
        mg->json_len = n;
        mg->json_stale = 0;
    }
    if (len) *len = g->json_len;
    return g->json;
}

size_t graph_node_count(const graph *g)
{
    return g->m.n_nodes;
}

const graph_node *graph_node_at(const graph *g, size_t i)
{
    return i < g->m.n_nodes ? &g->m.nodes[i] : NULL;
}

const graph_node *graph_find_node(const graph *g, int64_t id)
{
    return m_find_node(&g->m, id);
}

size_t graph_link_count(const graph *g)
{
    return g->m.n_links;
}

const graph_link *graph_link_at(const graph *g, size_t i)
{
    return i < g->m.n_links ? &g->m.links[i] : NULL;
}

const graph_link *graph_find_link(const graph *g, int64_t id)
{
    return m_find_link(&g->m, id);
}

int64_t graph_next_node_id(const graph *g)
{
    return g->m.last_node_id + 1;
}

int64_t graph_next_link_id(const graph *g)
{
    return g->m.last_link_id + 1;
}

/* ---- protobuf building ---- */

static char *pstr(const char *s)
{
    return strdup(s ? s : "");
}

static Comfyd__V1__Position *ppos(double x, double y)
{
    Comfyd__V1__Position *p = malloc(sizeof *p);
    if (p) {
        comfyd__v1__position__init(p);
        p->x = x;
        p->y = y;
    }
    return p;
}

static const char *display_title(const nodeinfo *schema, const graph_node *n)
{
    if (n->title) return n->title;
    const nodeinfo_type *t = nodeinfo_find(schema, n->type);
    return t ? t->display_name : n->type;
}

static Comfyd__V1__Node *node_to_proto(const nodeinfo *schema, const graph_node *n)
{
    Comfyd__V1__Node *m = malloc(sizeof *m);
    if (!m) return NULL;
    comfyd__v1__node__init(m);
    m->id = n->id;
    m->mode = n->mode;
    if (!(m->type = pstr(n->type)) || !(m->title = pstr(display_title(schema, n))) ||
        !(m->pos = ppos(n->x, n->y)) || !(m->size = ppos(n->w, n->h)))
        goto fail;
    if (n->n_inputs && !(m->inputs = malloc(n->n_inputs * sizeof *m->inputs))) goto fail;
    for (size_t i = 0; i < n->n_inputs; i++) {
        Comfyd__V1__NodeInput *in = malloc(sizeof *in);
        if (!in) goto fail;
        comfyd__v1__node_input__init(in);
        m->inputs[m->n_inputs++] = in;
        in->link = n->inputs[i].link;
        if (!(in->name = pstr(n->inputs[i].name)) || !(in->type = pstr(n->inputs[i].type)) ||
            !(in->widget = pstr(n->inputs[i].widget)))
            goto fail;
    }
    if (n->n_outputs && !(m->outputs = malloc(n->n_outputs * sizeof *m->outputs))) goto fail;
    for (size_t i = 0; i < n->n_outputs; i++) {
        Comfyd__V1__NodeOutput *o = malloc(sizeof *o);
        if (!o) goto fail;
        comfyd__v1__node_output__init(o);
        m->outputs[m->n_outputs++] = o;
        if (!(o->name = pstr(n->outputs[i].name)) || !(o->type = pstr(n->outputs[i].type)))
            goto fail;
        if (n->outputs[i].n_links) {
            if (!(o->links = malloc(n->outputs[i].n_links * sizeof *o->links))) goto fail;
            memcpy(o->links, n->outputs[i].links, n->outputs[i].n_links * sizeof *o->links);
            o->n_links = n->outputs[i].n_links;
        }
    }
    if (n->n_widgets && !(m->widgets = malloc(n->n_widgets * sizeof *m->widgets))) goto fail;
    for (size_t i = 0; i < n->n_widgets; i++) {
        Comfyd__V1__Widget *w = malloc(sizeof *w);
        if (!w) goto fail;
        comfyd__v1__widget__init(w);
        m->widgets[m->n_widgets++] = w;
        if (!(w->name = pstr(n->widgets[i].name))) goto fail;
        if (n->widgets[i].value.kind != NODEINFO_V_NONE &&
            !(w->value = nodeinfo_value_to_proto(&n->widgets[i].value)))
            goto fail;
    }
    return m;
fail:
    protobuf_c_message_free_unpacked(&m->base, NULL);
    return NULL;
}

Comfyd__V1__Node *graph_node_to_proto(const graph *g, const graph_node *n)
{
    return node_to_proto(g->schema, n);
}

Comfyd__V1__Graph *graph_to_proto(const graph *g)
{
    Comfyd__V1__Graph *m = malloc(sizeof *m);
    if (!m) return NULL;
    comfyd__v1__graph__init(m);
    m->revision = g->revision;
    const mirror *mr = &g->m;
    if (mr->n_nodes && !(m->nodes = malloc(mr->n_nodes * sizeof *m->nodes))) goto fail;
    for (size_t i = 0; i < mr->n_nodes; i++) {
        if (!(m->nodes[i] = node_to_proto(g->schema, &mr->nodes[i]))) goto fail;
        m->n_nodes++;
    }
    if (mr->n_links && !(m->links = malloc(mr->n_links * sizeof *m->links))) goto fail;
    for (size_t i = 0; i < mr->n_links; i++) {
        Comfyd__V1__Link *l = malloc(sizeof *l);
        if (!l) goto fail;
        comfyd__v1__link__init(l);
        m->links[m->n_links++] = l;
        const graph_link *s = &mr->links[i];
        l->id = s->id;
        l->from_id = s->from_id;
        l->from_slot = s->from_slot;
        l->to_id = s->to_id;
        l->to_slot = s->to_slot;
        if (!(l->type = pstr(s->type))) goto fail;
    }
    return m;
fail:
    protobuf_c_message_free_unpacked(&m->base, NULL);
    return NULL;
}

/* ---- validation ---- */

/* A node of the scratch copy a batch is simulated on. */
typedef struct {
    /* > 0 on the canvas or as predicted; < 0 for the stand-in of a
     * create_node that is invalid (so later commands can still be checked
     * against its type). */
    int64_t id;
    const graph_node *base; /* the mirror's node, or NULL when created */
    const nodeinfo_type *nt;
    const char *type;
    const nodeinfo_input **cin; /* created nodes: the input of each socket */
    size_t n_in;
    int64_t *links; /* the link into each input socket, 0 when none */
    int own;        /* cin and links are malloc'd */
    int removed_by; /* the command that removed it, or -1 */
} s_node;

typedef struct {
    int64_t id, from, to;
    uint32_t fslot, tslot;
    int removed;
} s_link;

typedef struct {
    const char *name;
    size_t cmd;
    int valid;
    size_t node; /* scratch index, or SIZE_MAX when nothing stands for it */
} s_ref;

typedef struct {
    const nodeinfo *schema;
    const Comfyd__V1__Command *const *cmds;
    size_t n_cmds;
    graph_check *out;
    size_t cap_errors;
    s_node *nodes;
    size_t n_nodes, cap_nodes, n_base;
    int64_t *base_links;
    s_link *links;
    size_t n_links, cap_links;
    s_ref *refs;
    size_t n_refs;
    int64_t *created; /* ids of valid create_node commands, in order */
    size_t n_created;
    int64_t last_node_id, last_link_id, next_phantom;
    int widget_sockets;
    int failed; /* the current command has an error */
    int oom;
} scratch;

/* The command table (at the end of this file). */
typedef struct cmd_row cmd_row;
static const cmd_row *cmd_row_of(const Comfyd__V1__Command *c);

static const char *cmd_name(const Comfyd__V1__Command *c)
{
    const char *n = graph_cmd_name(c);
    return n ? n : "empty command";
}

static Comfyd__V1__GraphError *mk_error(Comfyd__V1__GraphErrorCode code, const char *msg,
                                        int32_t index, const char *const *sugg, size_t n_sugg)
{
    Comfyd__V1__GraphError *e = malloc(sizeof *e);
    if (!e) return NULL;
    comfyd__v1__graph_error__init(e);
    e->code = code;
    e->index = index;
    if (!(e->message = strdup(msg))) goto fail;
    if (n_sugg) {
        if (!(e->suggestions = malloc(n_sugg * sizeof *e->suggestions))) goto fail;
        for (size_t i = 0; i < n_sugg; i++) {
            if (!(e->suggestions[i] = strdup(sugg[i]))) goto fail;
            e->n_suggestions++;
        }
    }
    return e;
fail:
    protobuf_c_message_free_unpacked(&e->base, NULL);
    return NULL;
}

static void add_error(scratch *s, long idx, Comfyd__V1__GraphErrorCode code,
                      const char *const *sugg, size_t n_sugg, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void add_error(scratch *s, long idx, Comfyd__V1__GraphErrorCode code,
                      const char *const *sugg, size_t n_sugg, const char *fmt, ...)
{
    s->failed = 1;
    if (s->oom) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    graph_check *out = s->out;
    if (out->n_errors == s->cap_errors) {
        size_t cap = s->cap_errors ? 2 * s->cap_errors : 8;
        Comfyd__V1__GraphError **v = realloc(out->errors, cap * sizeof *v);
        if (!v) {
            s->oom = 1;
            return;
        }
        out->errors = v;
        s->cap_errors = cap;
    }
    Comfyd__V1__GraphError *e = mk_error(code, msg, (int32_t)idx, sugg, n_sugg);
    if (!e) {
        s->oom = 1;
        return;
    }
    out->errors[out->n_errors++] = e;
    if (idx >= 0 && (size_t)idx < out->n_results && !out->results[idx]->error &&
        !(out->results[idx]->error = mk_error(code, msg, (int32_t)idx, sugg, n_sugg)))
        s->oom = 1;
}

static const char *in_name(const s_node *n, size_t i)
{
    return n->base ? n->base->inputs[i].name : n->cin[i]->name;
}

static const char *in_type(const s_node *n, size_t i)
{
    return n->base ? n->base->inputs[i].type : n->cin[i]->type;
}

static const char *in_widget(const s_node *n, size_t i)
{
    if (n->base) return n->base->inputs[i].widget;
    return n->cin[i]->is_widget ? n->cin[i]->name : NULL;
}

static size_t out_count(const s_node *n)
{
    if (n->base) return n->base->n_outputs;
    return n->nt ? n->nt->n_outputs : 0;
}

static const char *out_name(const s_node *n, size_t i)
{
    return n->base ? n->base->outputs[i].name : n->nt->outputs[i].name;
}

static const char *out_type(const s_node *n, size_t i)
{
    return n->base ? n->base->outputs[i].type : n->nt->outputs[i].type;
}

static const char *slot_name(const s_node *n, int output, size_t i)
{
    return output ? out_name(n, i) : in_name(n, i);
}

static void node_label(const s_node *n, char *buf, size_t len)
{
    if (n->id > 0)
        snprintf(buf, len, "#%lld %.200s", (long long)n->id, n->type);
    else
        snprintf(buf, len, "%.200s (not created)", n->type);
}

static void scratch_free(scratch *s)
{
    for (size_t i = 0; i < s->n_nodes; i++)
        if (s->nodes[i].own) {
            free(s->nodes[i].cin);
            free(s->nodes[i].links);
        }
    free(s->nodes);
    free(s->base_links);
    free(s->links);
    free(s->refs);
    free(s->created);
}

static int scratch_init(scratch *s, const graph *g)
{
    const mirror *m = &g->m;
    size_t total_in = 0;
    for (size_t i = 0; i < m->n_nodes; i++)
        total_in += m->nodes[i].n_inputs;
    s->cap_nodes = m->n_nodes + 16;
    s->cap_links = m->n_links + 16;
    s->nodes = calloc(s->cap_nodes, sizeof *s->nodes);
    s->links = calloc(s->cap_links, sizeof *s->links);
    s->base_links = calloc(total_in + 1, sizeof *s->base_links);
    s->refs = calloc(s->n_cmds + 1, sizeof *s->refs);
    s->created = calloc(s->n_cmds + 1, sizeof *s->created);
    if (!s->nodes || !s->links || !s->base_links || !s->refs || !s->created) return GRAPH_ENOMEM;
    size_t off = 0;
    for (size_t i = 0; i < m->n_nodes; i++) {
        const graph_node *b = &m->nodes[i];
        s_node *n = &s->nodes[i];
        n->id = b->id;
        n->base = b;
        n->type = b->type;
        n->nt = nodeinfo_find(s->schema, b->type);
        n->n_in = b->n_inputs;
        n->links = s->base_links + off;
        n->removed_by = -1;
        for (size_t k = 0; k < b->n_inputs; k++)
            n->links[k] = b->inputs[k].link;
        off += b->n_inputs;
    }
    s->n_nodes = s->n_base = m->n_nodes;
    for (size_t i = 0; i < m->n_links; i++) {
        const graph_link *l = &m->links[i];
        s->links[i] = (s_link){l->id, l->from_id, l->to_id, l->from_slot, l->to_slot, 0};
    }
    s->n_links = m->n_links;
    s->last_node_id = m->last_node_id;
    s->last_link_id = m->last_link_id;
    s->widget_sockets = m->widget_sockets;
    return GRAPH_OK;
}

/* Index of the live node with this id, or -1; *removed_by gets the command
 * that removed a node with this id, when one did. */
static long find_node(const scratch *s, int64_t id, int *removed_by)
{
    *removed_by = -1;
    long dead = -1;
    for (size_t i = s->n_nodes; i > s->n_base; i--) {
        const s_node *n = &s->nodes[i - 1];
        if (n->id != id) continue;
        if (n->removed_by < 0) return (long)(i - 1);
        if (dead < 0) dead = (long)(i - 1);
    }
    size_t lo = 0, hi = s->n_base;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->nodes[mid].id == id) {
            if (s->nodes[mid].removed_by < 0) return (long)mid;
            if (dead < 0) dead = (long)mid;
            break;
        }
        if (s->nodes[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (dead >= 0) *removed_by = s->nodes[dead].removed_by;
    return -1;
}

static s_ref *find_ref(scratch *s, const char *name)
{
    for (size_t i = 0; i < s->n_refs; i++)
        if (strcmp(s->refs[i].name, name) == 0) return &s->refs[i];
    return NULL;
}

static int is_create_with_ref(const Comfyd__V1__Command *c, const char *ref)
{
    return c && c->command_case == COMFYD__V1__COMMAND__COMMAND_CREATE_NODE && c->create_node &&
           c->create_node->ref && strcmp(c->create_node->ref, ref) == 0;
}

static long resolve_node(scratch *s, size_t idx, const Comfyd__V1__NodeRef *r, const char *field)
{
    if (!r || r->node_case == COMFYD__V1__NODE_REF__NODE__NOT_SET) {
        add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                  NULL, 0, "%s: a node id or ref is required", field);
        return -1;
    }
    if (r->node_case == COMFYD__V1__NODE_REF__NODE_ID) {
        int removed_by;
        /* Ids are positive; stand-ins for invalid create_node commands use
         * negative ones and must not be reachable by id. */
        long i = r->id > 0 ? find_node(s, r->id, &removed_by) : -1;
        if (r->id <= 0) removed_by = -1;
        if (i >= 0) return i;
        if (removed_by >= 0)
            add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NODE_NOT_FOUND,
                      NULL, 0, "%s: node #%lld was removed by command %d (%s)", field,
                      (long long)r->id, removed_by, cmd_name(s->cmds[removed_by]));
        else
            add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NODE_NOT_FOUND,
                      NULL, 0, "%s: there is no node #%lld on the canvas", field, (long long)r->id);
        return -1;
    }
    const char *ref = r->ref ? r->ref : "";
    s_ref *sr = find_ref(s, ref);
    if (!sr) {
        for (size_t j = idx + 1; j < s->n_cmds; j++)
            if (is_create_with_ref(s->cmds[j], ref)) {
                add_error(s, (long)idx,
                          COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_REF_NOT_FOUND, NULL, 0,
                          "%s: ref \"%.*s\" is created by command %zu, after this one", field,
                          GRAPH_MAX_REF, ref, j);
                return -1;
            }
        const char *names[GRAPH_MAX_BATCH], *sugg[NODEINFO_MAX_SUGGESTIONS];
        for (size_t i = 0; i < s->n_refs; i++)
            names[i] = s->refs[i].name;
        size_t ns = nodeinfo_closest(ref, names, s->n_refs, sugg, NODEINFO_MAX_SUGGESTIONS);
        add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_REF_NOT_FOUND, sugg,
                  ns, "%s: no create_node before this command has ref \"%.*s\"", field,
                  GRAPH_MAX_REF, ref);
        return -1;
    }
    if (!sr->valid) {
        add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_REF_NOT_FOUND, NULL,
                  0,
                  "%s: ref \"%.*s\" is not created because command %zu (create_node) "
                  "is invalid",
                  field, GRAPH_MAX_REF, ref, sr->cmd);
        if (sr->node == SIZE_MAX) return -1;
    }
    const s_node *n = &s->nodes[sr->node];
    if (n->removed_by >= 0) {
        add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NODE_NOT_FOUND, NULL,
                  0, "%s: the node of ref \"%.*s\" was removed by command %d (%s)", field,
                  GRAPH_MAX_REF, ref, n->removed_by, cmd_name(s->cmds[n->removed_by]));
        return -1;
    }
    return (long)sr->node;
}

static void list_slots(strbuf *b, const s_node *n, int output)
{
    size_t cnt = output ? out_count(n) : n->n_in;
    if (cnt == 0) {
        sb_add(b, "none");
        return;
    }
    for (size_t i = 0; i < cnt && i < LISTED_SLOTS; i++)
        sb_add(b, "%s%zu \"%.60s\"", i ? ", " : "", i, slot_name(n, output, i));
    if (cnt > LISTED_SLOTS) sb_add(b, " and %zu more", cnt - LISTED_SLOTS);
}

/* Resolves a slot of scratch node ni; -1 after adding an error. */
static long resolve_slot(scratch *s, size_t idx, size_t ni, int output,
                         const Comfyd__V1__SlotRef *r, const char *field)
{
    const s_node *n = &s->nodes[ni];
    size_t cnt = output ? out_count(n) : n->n_in;
    const char *kind = output ? "output" : "input";
    char label[256], list[1024];
    strbuf lb = {list, sizeof list, 0};
    node_label(n, label, sizeof label);
    if (!r || r->slot_case == COMFYD__V1__SLOT_REF__SLOT__NOT_SET) {
        add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                  NULL, 0, "%s: a slot index or name is required", field);
        return -1;
    }
    if (r->slot_case == COMFYD__V1__SLOT_REF__SLOT_INDEX) {
        if (r->index < cnt) return (long)r->index;
        list_slots(&lb, n, output);
        add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_SLOT_NOT_FOUND, NULL,
                  0, "%s: %s has no %s %u (%ss: %s)", field, label, kind, r->index, kind, list);
        return -1;
    }
    const char *name = r->name ? r->name : "";
    for (size_t i = 0; i < cnt; i++)
        if (strcmp(slot_name(n, output, i), name) == 0) return (long)i;
    for (size_t i = 0; !output && i < cnt; i++) {
        const char *w = in_widget(n, i);
        if (w && strcmp(w, name) == 0) return (long)i;
    }
    long found = -1;
    int many = 0;
    for (size_t i = 0; i < cnt; i++)
        if (strcasecmp(slot_name(n, output, i), name) == 0) many |= found >= 0, found = (long)i;
    if (found >= 0 && !many) return found;

    const char *names[GRAPH_MAX_SLOTS], *sugg[NODEINFO_MAX_SUGGESTIONS];
    for (size_t i = 0; i < cnt; i++)
        names[i] = slot_name(n, output, i);
    size_t ns = nodeinfo_closest(name, names, cnt, sugg, NODEINFO_MAX_SUGGESTIONS);
    if (!output && n->nt && nodeinfo_widget_find(n->nt, name)) {
        add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_SLOT_NOT_FOUND, sugg,
                  ns,
                  "%s: \"%.60s\" is a widget of %s without an input socket on this canvas "
                  "(convert the widget to an input first)",
                  field, name, label);
        return -1;
    }
    list_slots(&lb, n, output);
    add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_SLOT_NOT_FOUND, sugg, ns,
              "%s: %s has no %s \"%.60s\" (%ss: %s)", field, label, kind, name, kind, list);
    return -1;
}

static int type_eq(const char *a, size_t la, const char *b, size_t lb)
{
    while (la && *a == ' ')
        a++, la--;
    while (la && a[la - 1] == ' ')
        la--;
    while (lb && *b == ' ')
        b++, lb--;
    while (lb && b[lb - 1] == ' ')
        lb--;
    if ((la == 1 && *a == '*') || (lb == 1 && *b == '*')) return 1;
    return la == lb && strncasecmp(a, b, la) == 0;
}

/* LiteGraph's and ComfyUI's rule: "*" or empty matches anything; otherwise
 * the comma-separated lists must share an element (case-insensitive). */
static int types_compatible(const char *out, const char *in)
{
    if (!out || !in || !out[0] || !in[0]) return 1;
    for (const char *a = out; a;) {
        const char *ae = strchr(a, ',');
        size_t la = ae ? (size_t)(ae - a) : strlen(a);
        for (const char *b = in; b;) {
            const char *be = strchr(b, ',');
            size_t lb = be ? (size_t)(be - b) : strlen(b);
            if (type_eq(a, la, b, lb)) return 1;
            b = be ? be + 1 : NULL;
        }
        a = ae ? ae + 1 : NULL;
    }
    return 0;
}

static void check_coord(scratch *s, size_t idx, const char *what, double v)
{
    if (!isfinite(v) || num_abs(v) > GRAPH_MAX_COORD)
        add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                  NULL, 0, "%s must be a finite number within +-%.0f", what, GRAPH_MAX_COORD);
}

static void check_widget(scratch *s, size_t idx, const nodeinfo_type *nt, const char *label,
                         const char *name, const Comfyd__V1__Value *value)
{
    if (nt->dynamic_widgets) {
        add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_WIDGET_NOT_FOUND,
                  NULL, 0, "%s has no widgets until its output is connected to a widget input",
                  label);
        return;
    }
    const nodeinfo_input *in = nodeinfo_widget_find(nt, name);
    if (!in) {
        const nodeinfo_input *sock = nodeinfo_input_find(nt, name);
        if (sock) {
            add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_WIDGET_NOT_FOUND,
                      NULL, 0,
                      "%s: \"%s\" is a %.100s input (a socket), not a widget; connect it instead",
                      label, sock->name, sock->type);
            return;
        }
        size_t total = nodeinfo_widget_names(nt, NULL, 0);
        const char **names = malloc((total + 1) * sizeof *names);
        const char *sugg[NODEINFO_MAX_SUGGESTIONS];
        size_t ns = 0;
        char list[768];
        strbuf lb = {list, sizeof list, 0};
        if (names) {
            nodeinfo_widget_names(nt, names, total);
            ns = nodeinfo_closest(name, names, total, sugg, NODEINFO_MAX_SUGGESTIONS);
            for (size_t i = 0; i < total && i < LISTED_SLOTS; i++)
                sb_add(&lb, "%s%.60s", i ? ", " : "", names[i]);
            if (total > LISTED_SLOTS) sb_add(&lb, " and %zu more", total - LISTED_SLOTS);
        }
        if (total == 0) sb_add(&lb, "none");
        add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_WIDGET_NOT_FOUND,
                  sugg, ns, "%s has no widget \"%.60s\" (widgets: %s)", label, name, list);
        free(names);
        return;
    }
    char msg[900];
    const char *sugg[NODEINFO_MAX_SUGGESTIONS];
    size_t ns = 0;
    if (nodeinfo_check_value(in, value, msg, sizeof msg, sugg, NODEINFO_MAX_SUGGESTIONS, &ns))
        add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_VALUE_INVALID, sugg,
                  ns, "%s: %s", label, msg);
}

/* Appends a node of type nt; returns its index or -1 (memory). */
static long add_node(scratch *s, const nodeinfo_type *nt, int64_t id)
{
    if (s->n_nodes == s->cap_nodes) {
        size_t cap = 2 * s->cap_nodes;
        s_node *v = realloc(s->nodes, cap * sizeof *v);
        if (!v) return -1;
        s->nodes = v;
        s->cap_nodes = cap;
    }
    s_node *n = &s->nodes[s->n_nodes];
    memset(n, 0, sizeof *n);
    n->id = id;
    n->nt = nt;
    n->type = nt->name;
    n->removed_by = -1;
    n->own = 1;
    size_t k = 0;
    for (size_t i = 0; i < nt->n_inputs; i++)
        k += s->widget_sockets || !nt->inputs[i].is_widget;
    n->cin = malloc((k + 1) * sizeof *n->cin);
    n->links = calloc(k + 1, sizeof *n->links);
    if (!n->cin || !n->links) {
        free(n->cin);
        free(n->links);
        return -1;
    }
    for (size_t i = 0; i < nt->n_inputs; i++)
        if (s->widget_sockets || !nt->inputs[i].is_widget) n->cin[n->n_in++] = &nt->inputs[i];
    return (long)s->n_nodes++;
}

static int add_link(scratch *s, s_link l)
{
    if (s->n_links == s->cap_links) {
        size_t cap = 2 * s->cap_links;
        s_link *v = realloc(s->links, cap * sizeof *v);
        if (!v) return -1;
        s->links = v;
        s->cap_links = cap;
    }
    s->links[s->n_links++] = l;
    return 0;
}

/* Marks link id removed and clears the input it fed. */
static void drop_link(scratch *s, int64_t id)
{
    for (size_t i = 0; i < s->n_links; i++) {
        s_link *l = &s->links[i];
        if (l->id != id || l->removed) continue;
        l->removed = 1;
        int rb;
        long t = find_node(s, l->to, &rb);
        if (t >= 0 && l->tslot < s->nodes[t].n_in && s->nodes[t].links[l->tslot] == id)
            s->nodes[t].links[l->tslot] = 0;
    }
}

static void v_create(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                     Comfyd__V1__CommandResult *res)
{
    const Comfyd__V1__CreateNodeCommand *c = cmd->create_node;
    const nodeinfo_type *nt = NULL;
    const char *type = c->node_type ? c->node_type : "";
    if (!type[0]) {
        add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                  NULL, 0, "create_node needs a node_type");
    } else if (!(nt = nodeinfo_find(s->schema, type))) {
        const char *sugg[NODEINFO_MAX_SUGGESTIONS];
        size_t ns = s->schema ? nodeinfo_suggest(s->schema, type, sugg) : 0;
        if (ns)
            add_error(s, (long)idx,
                      COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_UNKNOWN_NODE_TYPE, sugg, ns,
                      "unknown node type \"%.200s\"; did you mean \"%s\"?", type, sugg[0]);
        else
            add_error(s, (long)idx,
                      COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_UNKNOWN_NODE_TYPE, NULL, 0,
                      "unknown node type \"%.200s\"", type);
    }
    const char *ref = c->ref && c->ref[0] ? c->ref : NULL;
    if (ref && strlen(ref) > GRAPH_MAX_REF) {
        add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                  NULL, 0, "ref is longer than %d bytes", GRAPH_MAX_REF);
        ref = NULL;
    }
    s_ref *dup = ref ? find_ref(s, ref) : NULL;
    if (dup) {
        add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                  NULL, 0, "ref \"%s\" is already used by command %zu", ref, dup->cmd);
        ref = NULL;
    }
    if (c->x) check_coord(s, idx, "x", c->x->value);
    if (c->y) check_coord(s, idx, "y", c->y->value);
    if (c->title && strlen(c->title) > GRAPH_MAX_NAME)
        add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                  NULL, 0, "title is longer than %d bytes", GRAPH_MAX_NAME);
    char label[256];
    snprintf(label, sizeof label, "new %.200s", type);
    if (c->n_widgets > GRAPH_MAX_WIDGETS) {
        add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                  NULL, 0, "more than %d widgets", GRAPH_MAX_WIDGETS);
    } else {
        for (size_t i = 0; i < c->n_widgets; i++) {
            const Comfyd__V1__CreateNodeCommand__WidgetsEntry *w = c->widgets[i];
            if (!w || !w->key || !w->key[0])
                add_error(s, (long)idx,
                          COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND, NULL, 0,
                          "widgets: a widget name is empty");
            else if (nt)
                check_widget(s, idx, nt, label, w->key, w->value);
        }
    }
    size_t node = SIZE_MAX;
    if (nt) {
        int64_t id = s->failed ? --s->next_phantom : ++s->last_node_id;
        long k = add_node(s, nt, id);
        if (k < 0) {
            s->oom = 1;
            return;
        }
        node = (size_t)k;
        if (!s->failed) {
            res->node_id = id;
            s->created[s->n_created++] = id;
        }
    }
    if (ref) s->refs[s->n_refs++] = (s_ref){ref, idx, !s->failed, node};
}

static void remove_node(scratch *s, size_t ni, size_t idx)
{
    s_node *n = &s->nodes[ni];
    n->removed_by = (int)idx;
    for (size_t i = 0; i < s->n_links; i++) {
        s_link *l = &s->links[i];
        if (l->removed || (l->from != n->id && l->to != n->id)) continue;
        drop_link(s, l->id);
    }
}

static void v_remove(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                     Comfyd__V1__CommandResult *res)
{
    long a = resolve_node(s, idx, cmd->remove_node->node_id, "node_id");
    if (a < 0) return;
    if (s->nodes[a].id > 0) res->node_id = s->nodes[a].id;
    if (!s->failed) remove_node(s, (size_t)a, idx);
}

static void v_connect(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                      Comfyd__V1__CommandResult *res)
{
    const Comfyd__V1__ConnectCommand *c = cmd->connect;
    long a = resolve_node(s, idx, c->from_id, "from_id");
    long b = resolve_node(s, idx, c->to_id, "to_id");
    long sa = a >= 0 ? resolve_slot(s, idx, (size_t)a, 1, c->from_slot, "from_slot") : -1;
    long sb = b >= 0 ? resolve_slot(s, idx, (size_t)b, 0, c->to_slot, "to_slot") : -1;
    if (a >= 0 && a == b) {
        add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                  NULL, 0, "cannot connect a node to itself");
        return;
    }
    if (sa < 0 || sb < 0) return;
    const s_node *from = &s->nodes[a], *to = &s->nodes[b];
    const char *ot = out_type(from, (size_t)sa), *it = in_type(to, (size_t)sb);
    if (!types_compatible(ot, it)) {
        char fl[256], tl[256];
        node_label(from, fl, sizeof fl);
        node_label(to, tl, sizeof tl);
        const char *sugg[NODEINFO_MAX_SUGGESTIONS];
        size_t ns = 0;
        for (size_t i = 0; i < to->n_in && ns < NODEINFO_MAX_SUGGESTIONS; i++)
            if (types_compatible(ot, in_type(to, i))) sugg[ns++] = in_name(to, i);
        add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_TYPE_MISMATCH, sugg,
                  ns,
                  "%s output %ld \"%.60s\" (%.100s) cannot connect to %s input %ld \"%.60s\" "
                  "(%.100s)",
                  fl, sa, out_name(from, (size_t)sa), ot, tl, sb, in_name(to, (size_t)sb), it);
        return;
    }
    if (to->id > 0) res->node_id = to->id;
    if (s->failed) return;
    int64_t old = to->links[sb];
    if (old) drop_link(s, old);
    int64_t id = ++s->last_link_id;
    if (add_link(s, (s_link){id, from->id, to->id, (uint32_t)sa, (uint32_t)sb, 0})) {
        s->oom = 1;
        return;
    }
    s->nodes[b].links[sb] = id;
    res->link_id = id;
}

static void v_disconnect(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                         Comfyd__V1__CommandResult *res)
{
    const Comfyd__V1__DisconnectCommand *c = cmd->disconnect;
    long a = resolve_node(s, idx, c->node_id, "node_id");
    long sa = a >= 0 ? resolve_slot(s, idx, (size_t)a, 0, c->slot, "slot") : -1;
    if (a >= 0 && s->nodes[a].id > 0) res->node_id = s->nodes[a].id;
    if (sa < 0 || s->failed) return;
    /* Disconnecting an input that has no link is a no-op, not an error:
     * the outcome the caller wants already holds. */
    int64_t old = s->nodes[a].links[sa];
    if (old) {
        drop_link(s, old);
        res->link_id = old;
    }
}

static void v_set_widget(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                         Comfyd__V1__CommandResult *res)
{
    const Comfyd__V1__SetWidgetCommand *c = cmd->set_widget;
    long a = resolve_node(s, idx, c->node_id, "node_id");
    if (!c->name || !c->name[0]) {
        add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                  NULL, 0, "set_widget needs a widget name");
        return;
    }
    if (!c->value || c->value->kind_case == COMFYD__V1__VALUE__KIND__NOT_SET) {
        add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                  NULL, 0, "set_widget needs a value");
        return;
    }
    if (a < 0) return;
    const s_node *n = &s->nodes[a];
    if (n->id > 0) res->node_id = n->id;
    /* Types the schema does not know, and widgets made at run time
     * (PrimitiveNode): the tab is the only judge. */
    if (!n->nt || n->nt->dynamic_widgets) return;
    char label[256];
    node_label(n, label, sizeof label);
    check_widget(s, idx, n->nt, label, c->name, c->value);
}

static void v_move(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                   Comfyd__V1__CommandResult *res)
{
    const Comfyd__V1__MoveNodeCommand *c = cmd->move_node;
    long a = resolve_node(s, idx, c->node_id, "node_id");
    check_coord(s, idx, "x", c->x);
    check_coord(s, idx, "y", c->y);
    if (a >= 0 && s->nodes[a].id > 0) res->node_id = s->nodes[a].id;
}

/* arrange moves the nodes it names (all when none): they must exist; where
 * they go is the tab's to compute, nothing else changes. */
static void v_arrange(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                      Comfyd__V1__CommandResult *res)
{
    (void)res;
    const Comfyd__V1__ArrangeCommand *c = cmd->arrange;
    for (size_t k = 0; k < c->n_node_ids && !s->oom; k++) {
        char field[32];
        snprintf(field, sizeof field, "node_ids[%zu]", k);
        resolve_node(s, idx, c->node_ids[k], field);
    }
    if (c->x) check_coord(s, idx, "x", c->x->value);
    if (c->y) check_coord(s, idx, "y", c->y->value);
    if (c->spacing && !(c->spacing->value >= 0 && c->spacing->value <= GRAPH_MAX_SPACING))
        add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                  NULL, 0, "spacing must be a number from 0 to %.0f", GRAPH_MAX_SPACING);
}

/* set_node_mode: the node must exist at that point and the mode be one of
 * node_modes. */
static void v_set_node_mode(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                            Comfyd__V1__CommandResult *res)
{
    const Comfyd__V1__SetNodeModeCommand *c = cmd->set_node_mode;
    long a = resolve_node(s, idx, c->node_id, "node_id");
    const char *m = c->mode ? c->mode : "";
    size_t k = 0;
    while (k < sizeof node_modes / sizeof node_modes[0] && strcmp(node_modes[k].name, m) != 0)
        k++;
    if (k == sizeof node_modes / sizeof node_modes[0])
        add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                  NULL, 0, "mode \"%.40s\" is not one of always, never, mute, bypass", m);
    if (a >= 0 && s->nodes[a].id > 0) res->node_id = s->nodes[a].id;
}

static void v_clear(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                    Comfyd__V1__CommandResult *res)
{
    (void)cmd;
    (void)res;
    for (size_t i = 0; i < s->n_nodes; i++)
        if (s->nodes[i].removed_by < 0) s->nodes[i].removed_by = (int)idx;
    for (size_t i = 0; i < s->n_links; i++)
        s->links[i].removed = 1;
    for (size_t i = 0; i < s->n_nodes; i++)
        for (size_t k = 0; k < s->nodes[i].n_in; k++)
            s->nodes[i].links[k] = 0;
    /* LiteGraph's clear() starts the id counters again. */
    s->last_node_id = s->last_link_id = 0;
}

/* get_graph reads; there is nothing to simulate. */
static void v_read(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                   Comfyd__V1__CommandResult *res)
{
    (void)s, (void)idx, (void)cmd, (void)res;
}

static void validate_one(scratch *s, size_t idx, const Comfyd__V1__Command *c,
                         Comfyd__V1__CommandResult *res);

void graph_check_clear(graph_check *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n_results; i++)
        if (c->results[i]) protobuf_c_message_free_unpacked(&c->results[i]->base, NULL);
    free(c->results);
    for (size_t i = 0; i < c->n_errors; i++)
        protobuf_c_message_free_unpacked(&c->errors[i]->base, NULL);
    free(c->errors);
    free(c->expected_ids);
    for (size_t i = 0; i < c->n_refs; i++)
        protobuf_c_message_free_unpacked(&c->refs[i]->base, NULL);
    free(c->refs);
    memset(c, 0, sizeof *c);
}

static int fill_outputs(scratch *s, Comfyd__V1__BatchMode mode)
{
    graph_check *out = s->out;
    out->ok = out->n_errors == 0;
    if (!out->ok && mode != COMFYD__V1__BATCH_MODE__BATCH_MODE_PARTIAL) return GRAPH_OK;
    if (s->n_created) {
        if (!(out->expected_ids = malloc(s->n_created * sizeof *out->expected_ids)))
            return GRAPH_ENOMEM;
        memcpy(out->expected_ids, s->created, s->n_created * sizeof *s->created);
        out->n_expected_ids = s->n_created;
    }
    if (s->n_refs && !(out->refs = malloc(s->n_refs * sizeof *out->refs))) return GRAPH_ENOMEM;
    for (size_t i = 0; i < s->n_refs; i++) {
        const s_ref *r = &s->refs[i];
        if (!r->valid) continue;
        Comfyd__V1__ExecuteBatchResponse__RefsEntry *e = malloc(sizeof *e);
        if (!e) return GRAPH_ENOMEM;
        comfyd__v1__execute_batch_response__refs_entry__init(e);
        if (!(e->key = strdup(r->name))) {
            free(e);
            return GRAPH_ENOMEM;
        }
        e->value = s->nodes[r->node].id;
        out->refs[out->n_refs++] = e;
    }
    return GRAPH_OK;
}

int graph_validate(const graph *g, const nodeinfo *schema, const Comfyd__V1__Command *const *cmds,
                   size_t n, Comfyd__V1__BatchMode mode, graph_check *out)
{
    memset(out, 0, sizeof *out);
    scratch s = {.schema = schema ? schema : g->schema, .cmds = cmds, .n_cmds = n, .out = out};
    if (n > GRAPH_MAX_BATCH) {
        add_error(&s, -1, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND, NULL, 0,
                  "a batch has at most %d commands, this one has %zu", GRAPH_MAX_BATCH, n);
        if (s.oom) goto oom;
        return GRAPH_OK;
    }
    /* Reads need no simulation: the scratch copy of every node is only
     * built when some command of the batch could change the graph. */
    int reads_only = 1;
    for (size_t i = 0; i < n && reads_only; i++)
        if (cmds[i]->command_case != COMFYD__V1__COMMAND__COMMAND_GET_GRAPH) reads_only = 0;
    if (!reads_only && scratch_init(&s, g)) goto oom;
    if (n && !(out->results = calloc(n, sizeof *out->results))) goto oom;
    for (size_t i = 0; i < n; i++) {
        Comfyd__V1__CommandResult *r = malloc(sizeof *r);
        if (!r) goto oom;
        comfyd__v1__command_result__init(r);
        r->index = (int32_t)i;
        out->results[out->n_results++] = r;
    }
    for (size_t i = 0; i < n; i++) {
        s.failed = 0;
        validate_one(&s, i, cmds[i], out->results[i]);
        if (s.oom) goto oom;
        out->results[i]->ok = !s.failed;
        if (s.failed) out->results[i]->node_id = out->results[i]->link_id = 0;
    }
    if (fill_outputs(&s, mode)) goto oom;
    scratch_free(&s);
    return GRAPH_OK;
oom:
    scratch_free(&s);
    graph_check_clear(out);
    return GRAPH_ENOMEM;
}

/* ---- differences and the operation log ---- */

typedef struct {
    Comfyd__V1__GraphOp **v;
    size_t n, cap;
    uint64_t rev;
    Comfyd__V1__GraphOrigin origin;
    int64_t time_ms;
    /* What the next op is about (GraphOp.node_id, link_id, from_node_id,
     * widget): set by each op_* before op_push, for provenance and audit. */
    int64_t node, link, from;
    const char *widget;
    int oom;
} oplist;

static void op_about(oplist *l, int64_t node, int64_t link, int64_t from, const char *widget)
{
    l->node = node;
    l->link = link;
    l->from = from;
    l->widget = widget;
}

static void op_push(oplist *l, Comfyd__V1__Command *cmd, int want_cmd, char *summary)
{
    Comfyd__V1__GraphOp *op = NULL;
    if (l->oom || (want_cmd && !cmd)) goto oom;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        Comfyd__V1__GraphOp **v = realloc(l->v, cap * sizeof *v);
        if (!v) goto oom;
        l->v = v;
        l->cap = cap;
    }
    if (!(op = malloc(sizeof *op))) goto oom;
    comfyd__v1__graph_op__init(op);
    op->revision = l->rev;
    op->origin = l->origin;
    op->time_ms = l->time_ms;
    op->command = cmd;
    op->node_id = l->node;
    op->link_id = l->link;
    op->from_node_id = l->from;
    one_line(summary);
    if (!(op->summary = strdup(summary)) || (l->widget && !(op->widget = strdup(l->widget)))) {
        free(op->summary);
        op->command = NULL;
        free(op);
        goto oom;
    }
    l->v[l->n++] = op;
    return;
oom:
    l->oom = 1;
    if (cmd) protobuf_c_message_free_unpacked(&cmd->base, NULL);
}

static Comfyd__V1__NodeRef *ref_id(int64_t id)
{
    Comfyd__V1__NodeRef *r = malloc(sizeof *r);
    if (r) {
        comfyd__v1__node_ref__init(r);
        r->node_case = COMFYD__V1__NODE_REF__NODE_ID;
        r->id = id;
    }
    return r;
}

static Comfyd__V1__SlotRef *slot_index(uint32_t i)
{
    Comfyd__V1__SlotRef *r = malloc(sizeof *r);
    if (r) {
        comfyd__v1__slot_ref__init(r);
        r->slot_case = COMFYD__V1__SLOT_REF__SLOT_INDEX;
        r->index = i;
    }
    return r;
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

/* A Command holding a payload of the given size: the payload is attached
 * before it is filled, so freeing the command frees whatever was set. */
static Comfyd__V1__Command *mk_cmd(Comfyd__V1__Command__CommandCase kind, void *payload)
{
    Comfyd__V1__Command *c = payload ? malloc(sizeof *c) : NULL;
    if (!c) {
        free(payload);
        return NULL;
    }
    comfyd__v1__command__init(c);
    c->command_case = kind;
    c->create_node = payload; /* the union's members are all pointers */
    return c;
}

static void node_ref_text(strbuf *b, const graph_node *n)
{
    sb_add(b, "#%lld %.200s", (long long)n->id, n->type);
}

static void slot_text(strbuf *b, const graph_node *n, int output, uint32_t slot)
{
    const char *name = NULL;
    if (output && slot < n->n_outputs) name = n->outputs[slot].name;
    if (!output && slot < n->n_inputs) name = n->inputs[slot].name;
    node_ref_text(b, n);
    if (name && name[0])
        sb_add(b, ".%.100s", name);
    else
        sb_add(b, " %s %u", output ? "output" : "input", slot);
}

static void coords_text(strbuf *b, double x, double y)
{
    char xs[40], ys[40];
    fmt_num(xs, sizeof xs, x);
    fmt_num(ys, sizeof ys, y);
    sb_add(b, "(%s, %s)", xs, ys);
}

static void op_remove(oplist *l, const graph_node *n)
{
    char sum[512];
    strbuf b = {sum, sizeof sum, 0};
    sb_add(&b, "removed ");
    node_ref_text(&b, n);
    op_about(l, n->id, 0, 0, NULL);
    Comfyd__V1__RemoveNodeCommand *p = malloc(sizeof *p);
    if (p) comfyd__v1__remove_node_command__init(p);
    Comfyd__V1__Command *c = mk_cmd(COMFYD__V1__COMMAND__COMMAND_REMOVE_NODE, p);
    if (c && !(p->node_id = ref_id(n->id))) {
        protobuf_c_message_free_unpacked(&c->base, NULL);
        c = NULL;
    }
    op_push(l, c, 1, sum);
}

/* Widgets that a create_node command can carry: named ones with a value. */
static int settable(const graph_widget *w)
{
    return w->name[0] != '#' && w->value.kind != NODEINFO_V_NONE &&
           w->value.kind != NODEINFO_V_JSON;
}

static void op_add(oplist *l, const graph_node *n)
{
    char sum[512];
    strbuf b = {sum, sizeof sum, 0};
    sb_add(&b, "added ");
    node_ref_text(&b, n);
    op_about(l, n->id, 0, 0, NULL);
    sb_add(&b, " at ");
    coords_text(&b, n->x, n->y);
    Comfyd__V1__CreateNodeCommand *p = malloc(sizeof *p);
    if (p) comfyd__v1__create_node_command__init(p);
    Comfyd__V1__Command *c = mk_cmd(COMFYD__V1__COMMAND__COMMAND_CREATE_NODE, p);
    if (!c) return op_push(l, NULL, 1, sum);
    size_t nw = 0;
    for (size_t i = 0; i < n->n_widgets; i++)
        nw += settable(&n->widgets[i]);
    int ok = (p->node_type = strdup(n->type)) && (p->x = pdouble(n->x)) && (p->y = pdouble(n->y)) &&
             (!n->title || (p->title = strdup(n->title))) &&
             (!nw || (p->widgets = malloc(nw * sizeof *p->widgets)));
    for (size_t i = 0; ok && i < n->n_widgets; i++) {
        const graph_widget *w = &n->widgets[i];
        if (!settable(w)) continue;
        Comfyd__V1__CreateNodeCommand__WidgetsEntry *e = malloc(sizeof *e);
        if (!e) {
            ok = 0;
            break;
        }
        comfyd__v1__create_node_command__widgets_entry__init(e);
        p->widgets[p->n_widgets++] = e;
        ok = (e->key = strdup(w->name)) && (e->value = nodeinfo_value_to_proto(&w->value));
    }
    if (!ok) {
        protobuf_c_message_free_unpacked(&c->base, NULL);
        c = NULL;
    }
    op_push(l, c, 1, sum);
}

static void op_move(oplist *l, const graph_node *n)
{
    char sum[512];
    strbuf b = {sum, sizeof sum, 0};
    sb_add(&b, "moved ");
    node_ref_text(&b, n);
    op_about(l, n->id, 0, 0, NULL);
    sb_add(&b, " to ");
    coords_text(&b, n->x, n->y);
    Comfyd__V1__MoveNodeCommand *p = malloc(sizeof *p);
    if (p) comfyd__v1__move_node_command__init(p);
    Comfyd__V1__Command *c = mk_cmd(COMFYD__V1__COMMAND__COMMAND_MOVE_NODE, p);
    if (c) {
        p->x = n->x;
        p->y = n->y;
        if (!(p->node_id = ref_id(n->id))) {
            protobuf_c_message_free_unpacked(&c->base, NULL);
            c = NULL;
        }
    }
    op_push(l, c, 1, sum);
}

static void op_widget(oplist *l, const graph_node *n, const graph_widget *w)
{
    char sum[512];
    strbuf b = {sum, sizeof sum, 0};
    sb_add(&b, "set ");
    node_ref_text(&b, n);
    op_about(l, n->id, 0, 0, w->name);
    sb_add(&b, ".%.100s to ", w->name);
    sb_nvalue(&b, &w->value);
    if (w->value.kind == NODEINFO_V_NONE) {
        /* A null has no Value: the change is reported, not replayable. */
        op_push(l, NULL, 0, sum);
        return;
    }
    Comfyd__V1__SetWidgetCommand *p = malloc(sizeof *p);
    if (p) comfyd__v1__set_widget_command__init(p);
    Comfyd__V1__Command *c = mk_cmd(COMFYD__V1__COMMAND__COMMAND_SET_WIDGET, p);
    if (c && (!(p->node_id = ref_id(n->id)) || !(p->name = strdup(w->name)) ||
              !(p->value = nodeinfo_value_to_proto(&w->value)))) {
        protobuf_c_message_free_unpacked(&c->base, NULL);
        c = NULL;
    }
    op_push(l, c, 1, sum);
}

static void op_title(oplist *l, const graph_node *n)
{
    char sum[512];
    strbuf b = {sum, sizeof sum, 0};
    op_about(l, n->id, 0, 0, NULL);
    if (n->title) {
        sb_add(&b, "renamed ");
        node_ref_text(&b, n);
        sb_add(&b, " to ");
        sb_quote(&b, n->title);
    } else {
        sb_add(&b, "reset the title of ");
        node_ref_text(&b, n);
    }
    op_push(l, NULL, 0, sum);
}

static void op_mode(oplist *l, const graph_node *n)
{
    char sum[512];
    strbuf b = {sum, sizeof sum, 0};
    op_about(l, n->id, 0, 0, NULL);
    switch (n->mode) {
    case 0:
        sb_add(&b, "enabled ");
        break;
    case 2:
        sb_add(&b, "muted ");
        break;
    case 4:
        sb_add(&b, "bypassed ");
        break;
    default:
        sb_add(&b, "set mode %d on ", n->mode);
        break;
    }
    node_ref_text(&b, n);
    /* Modes 1 and 3 (on event, on trigger) have no name in set_node_mode:
     * reported, not replayable. */
    const char *name = NULL;
    for (size_t k = 0; k < sizeof node_modes / sizeof node_modes[0] && !name; k++)
        if (node_modes[k].mode == n->mode) name = node_modes[k].name;
    if (!name) return op_push(l, NULL, 0, sum);
    Comfyd__V1__SetNodeModeCommand *p = malloc(sizeof *p);
    if (p) comfyd__v1__set_node_mode_command__init(p);
    Comfyd__V1__Command *c = mk_cmd(COMFYD__V1__COMMAND__COMMAND_SET_NODE_MODE, p);
    if (c && (!(p->node_id = ref_id(n->id)) || !(p->mode = strdup(name)))) {
        protobuf_c_message_free_unpacked(&c->base, NULL);
        c = NULL;
    }
    op_push(l, c, 1, sum);
}

static const graph_widget *find_widget(const graph_node *n, const char *name);
static int value_eq(const nodeinfo_value *a, const nodeinfo_value *b);

/* The diff ops of the commands that set a field of a node: o and n are the
 * same node before and after. */
static void d_move(oplist *l, const graph_node *o, const graph_node *n)
{
    if (num_abs(n->x - o->x) > POS_EPSILON || num_abs(n->y - o->y) > POS_EPSILON) op_move(l, n);
}

static void d_widgets(oplist *l, const graph_node *o, const graph_node *n)
{
    for (size_t k = 0; k < n->n_widgets; k++) {
        const graph_widget *w = &n->widgets[k], *ow = find_widget(o, w->name);
        if (!ow || !value_eq(&w->value, &ow->value)) op_widget(l, n, w);
    }
}

static void d_mode(oplist *l, const graph_node *o, const graph_node *n)
{
    if (n->mode != o->mode) op_mode(l, n);
}

static void op_link(oplist *l, const mirror *m, const graph_link *k, int added)
{
    char sum[512];
    strbuf b = {sum, sizeof sum, 0};
    const graph_node *from = m_find_node(m, k->from_id), *to = m_find_node(m, k->to_id);
    Comfyd__V1__Command *c;
    op_about(l, k->to_id, k->id, k->from_id, NULL);
    if (added) {
        sb_add(&b, "connected ");
        if (from)
            slot_text(&b, from, 1, k->from_slot);
        else
            sb_add(&b, "#%lld output %u", (long long)k->from_id, k->from_slot);
        sb_add(&b, " to ");
        if (to)
            slot_text(&b, to, 0, k->to_slot);
        else
            sb_add(&b, "#%lld input %u", (long long)k->to_id, k->to_slot);
        Comfyd__V1__ConnectCommand *p = malloc(sizeof *p);
        if (p) comfyd__v1__connect_command__init(p);
        c = mk_cmd(COMFYD__V1__COMMAND__COMMAND_CONNECT, p);
        if (c &&
            (!(p->from_id = ref_id(k->from_id)) || !(p->from_slot = slot_index(k->from_slot)) ||
             !(p->to_id = ref_id(k->to_id)) || !(p->to_slot = slot_index(k->to_slot)))) {
            protobuf_c_message_free_unpacked(&c->base, NULL);
            c = NULL;
        }
    } else {
        sb_add(&b, "disconnected ");
        if (to)
            slot_text(&b, to, 0, k->to_slot);
        else
            sb_add(&b, "#%lld input %u", (long long)k->to_id, k->to_slot);
        if (from) {
            sb_add(&b, " from ");
            slot_text(&b, from, 1, k->from_slot);
        }
        Comfyd__V1__DisconnectCommand *p = malloc(sizeof *p);
        if (p) comfyd__v1__disconnect_command__init(p);
        c = mk_cmd(COMFYD__V1__COMMAND__COMMAND_DISCONNECT, p);
        if (c && (!(p->node_id = ref_id(k->to_id)) || !(p->slot = slot_index(k->to_slot)))) {
            protobuf_c_message_free_unpacked(&c->base, NULL);
            c = NULL;
        }
    }
    op_push(l, c, 1, sum);
}

static int value_eq(const nodeinfo_value *a, const nodeinfo_value *b)
{
    int an = a->kind == NODEINFO_V_INT || a->kind == NODEINFO_V_NUMBER;
    int bn = b->kind == NODEINFO_V_INT || b->kind == NODEINFO_V_NUMBER;
    if (an && bn) {
        if (a->kind == NODEINFO_V_INT && b->kind == NODEINFO_V_INT) return a->i == b->i;
        double x = a->kind == NODEINFO_V_INT ? (double)a->i : a->d;
        double y = b->kind == NODEINFO_V_INT ? (double)b->i : b->d;
        return x == y;
    }
    if (a->kind != b->kind) return 0;
    switch (a->kind) {
    case NODEINFO_V_TEXT:
    case NODEINFO_V_JSON:
        return strcmp(a->s, b->s) == 0;
    case NODEINFO_V_BOOL:
        return !a->b == !b->b;
    default:
        return 1;
    }
}

static const graph_widget *find_widget(const graph_node *n, const char *name)
{
    for (size_t i = 0; i < n->n_widgets; i++)
        if (strcmp(n->widgets[i].name, name) == 0) return &n->widgets[i];
    return NULL;
}

/* The same node in both mirrors: same id and type (a new type under an old
 * id is a removal and an addition). */
static const graph_node *same_node(const mirror *m, const graph_node *n)
{
    const graph_node *o = m_find_node(m, n->id);
    return o && strcmp(o->type, n->type) == 0 ? o : NULL;
}

static int same_link(const graph_link *a, const graph_link *b)
{
    return a->from_id == b->from_id && a->from_slot == b->from_slot && a->to_id == b->to_id &&
           a->to_slot == b->to_slot;
}

static int input_relinked(const mirror *m, const graph_link *k)
{
    const graph_node *to = m_find_node(m, k->to_id);
    return to && k->to_slot < to->n_inputs && to->inputs[k->to_slot].link != 0;
}

static void diff_node_fields(oplist *l, const graph_node *o, const graph_node *n);

static void diff_mirrors(const mirror *a, const mirror *b, oplist *l)
{
    /* Removed links, except those implied by a removed node or by a new
     * link into the same input (connect replaces). */
    for (size_t i = 0; i < a->n_links; i++) {
        const graph_link *k = &a->links[i];
        const graph_link *nk = m_find_link(b, k->id);
        if (nk && same_link(k, nk)) continue;
        const graph_node *from = m_find_node(a, k->from_id), *to = m_find_node(a, k->to_id);
        if ((from && !same_node(b, from)) || (to && !same_node(b, to))) continue;
        if (input_relinked(b, k)) continue;
        op_link(l, a, k, 0);
    }
    for (size_t i = 0; i < a->n_nodes; i++)
        if (!same_node(b, &a->nodes[i])) op_remove(l, &a->nodes[i]);
    for (size_t i = 0; i < b->n_nodes; i++)
        if (!same_node(a, &b->nodes[i])) op_add(l, &b->nodes[i]);
    for (size_t i = 0; i < b->n_nodes; i++) {
        const graph_node *n = &b->nodes[i], *o = same_node(a, n);
        if (!o) continue;
        /* A node's own fields: each command that sets one logs its
         * change (the title has no command). */
        if ((n->title == NULL) != (o->title == NULL) ||
            (n->title && strcmp(n->title, o->title) != 0))
            op_title(l, n);
        diff_node_fields(l, o, n);
    }
    for (size_t i = 0; i < b->n_links; i++) {
        const graph_link *k = &b->links[i];
        const graph_link *ok = m_find_link(a, k->id);
        if (ok && same_link(k, ok)) continue;
        op_link(l, b, k, 1);
    }
}

void graph_ops_free(Comfyd__V1__GraphOp **ops, size_t n_ops)
{
    for (size_t i = 0; ops && i < n_ops; i++)
        if (ops[i]) protobuf_c_message_free_unpacked(&ops[i]->base, NULL);
    free(ops);
}

static void log_push(graph *g, logged_op op)
{
    if (g->log_count == GRAPH_OPLOG_MAX) {
        logged_op *old = &g->log[g->log_head];
        if (old->rev > g->log_floor) g->log_floor = old->rev;
        free(old->buf);
        g->log_head = (g->log_head + 1) % GRAPH_OPLOG_MAX;
        g->log_count--;
    }
    g->log[(g->log_head + g->log_count) % GRAPH_OPLOG_MAX] = op;
    g->log_count++;
}

int graph_apply_workflow(graph *g, const char *json, size_t len, uint64_t revision,
                         Comfyd__V1__GraphOrigin origin, int64_t time_ms,
                         Comfyd__V1__GraphOp ***ops, size_t *n_ops, char *err, size_t errlen)
{
    if (ops) *ops = NULL;
    if (n_ops) *n_ops = 0;
    if (revision <= g->revision)
        return text_err(err, errlen, GRAPH_EREVISION, "revision %llu is not above the current %llu",
                        (unsigned long long)revision, (unsigned long long)g->revision);
    mirror m;
    pctx c = {err, errlen, g->schema};
    int rc = parse_mirror(&c, json, len, &m);
    if (rc) return rc;
    oplist l = {.rev = revision, .origin = origin, .time_ms = time_ms};
    logged_op *packed = NULL;
    char *copy = malloc(len + 1);
    if (!copy) goto oom;
    memcpy(copy, json, len);
    copy[len] = 0;
    diff_mirrors(&g->m, &m, &l);
    if (l.oom) goto oom;
    if (l.n && !(packed = calloc(l.n, sizeof *packed))) goto oom;
    for (size_t i = 0; i < l.n; i++) {
        size_t sz = protobuf_c_message_get_packed_size(&l.v[i]->base);
        if (!(packed[i].buf = malloc(sz ? sz : 1))) goto oom;
        packed[i].len = protobuf_c_message_pack(&l.v[i]->base, packed[i].buf);
        packed[i].rev = revision;
    }
    /* Commit: nothing below can fail. */
    mirror_free(&g->m);
    g->m = m;
    free(g->json);
    g->json = copy;
    g->json_len = len;
    yajl_tree_free(g->root);
    g->root = NULL;
    g->json_stale = 0;
    g->revision = revision;
    for (size_t i = 0; i < l.n; i++)
        log_push(g, packed[i]);
    free(packed);
    if (ops) {
        *ops = l.v;
        *n_ops = l.n;
    } else {
        graph_ops_free(l.v, l.n);
    }
    return GRAPH_OK;
oom:
    for (size_t i = 0; packed && i < l.n; i++)
        free(packed[i].buf);
    free(packed);
    graph_ops_free(l.v, l.n);
    free(copy);
    mirror_free(&m);
    return text_err(err, errlen, GRAPH_ENOMEM, "out of memory");
}

uint64_t graph_log_floor(const graph *g)
{
    return g->log_floor;
}

int graph_diff_since(const graph *g, uint64_t since, Comfyd__V1__GraphOp ***ops, size_t *n_ops)
{
    *ops = NULL;
    *n_ops = 0;
    if (since < g->log_floor) return GRAPH_ETRUNCATED;
    size_t first = g->log_count;
    for (size_t i = 0; i < g->log_count; i++)
        if (g->log[(g->log_head + i) % GRAPH_OPLOG_MAX].rev > since) {
            first = i;
            break;
        }
    size_t n = g->log_count - first;
    if (n == 0) return GRAPH_OK;
    Comfyd__V1__GraphOp **v = calloc(n, sizeof *v);
    if (!v) return GRAPH_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const logged_op *op = &g->log[(g->log_head + first + i) % GRAPH_OPLOG_MAX];
        if (!(v[i] = comfyd__v1__graph_op__unpack(NULL, op->len, op->buf))) {
            graph_ops_free(v, i);
            return GRAPH_ENOMEM;
        }
    }
    *ops = v;
    *n_ops = n;
    return GRAPH_OK;
}

/* ---- the digest (docs/graph-delta.md) ---- */

static void dg_word(uint32_t *h, uint32_t w)
{
    *h ^= w;
    *h *= 0x01000193u;
}

/* A number as its IEEE-754 binary64 bits, low word first; -0 is 0. */
static void dg_num(uint32_t *h, double d)
{
    if (d == 0) d = 0;
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    dg_word(h, (uint32_t)b);
    dg_word(h, (uint32_t)(b >> 32));
}

/* Decodes one UTF-8 sequence at *p (a byte that starts none stands for
 * itself). */
static uint32_t utf8_next(const unsigned char **p)
{
    const unsigned char *s = *p;
    uint32_t c = s[0];
    int n = c >= 0xF0 && c < 0xF8 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    if (c >= 0xF8) n = 0;
    uint32_t v = n == 3 ? c & 0x07 : n == 2 ? c & 0x0F : n == 1 ? c & 0x1F : c;
    for (int i = 1; i <= n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *p = s + 1;
            return c;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    *p = s + n + 1;
    return v;
}

/* A string as JavaScript has it: its length in UTF-16 code units, then
 * each unit. */
static void dg_str(uint32_t *h, const char *s)
{
    if (!s) s = "";
    uint32_t units = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;)
        units += utf8_next(&p) > 0xFFFF ? 2 : 1;
    dg_num(h, units);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        uint32_t c = utf8_next(&p);
        if (c > 0xFFFF) {
            c -= 0x10000;
            dg_word(h, 0xD800 + (c >> 10));
            dg_word(h, 0xDC00 + (c & 0x3FF));
        } else {
            dg_word(h, c);
        }
    }
}

static uint32_t mirror_digest(const mirror *m)
{
    uint32_t h = 0x811c9dc5u;
    dg_num(&h, (double)m->n_nodes);
    for (size_t i = 0; i < m->n_nodes; i++) {
        const graph_node *n = &m->nodes[i];
        dg_num(&h, (double)n->id);
        dg_str(&h, n->type);
        dg_num(&h, n->x);
        dg_num(&h, n->y);
        dg_num(&h, n->mode);
        dg_num(&h, (double)n->n_inputs);
        for (size_t k = 0; k < n->n_inputs; k++)
            dg_num(&h, (double)n->inputs[k].link);
        dg_num(&h, (double)n->n_outputs);
        for (size_t k = 0; k < n->n_outputs; k++) {
            dg_num(&h, (double)n->outputs[k].n_links);
            for (size_t j = 0; j < n->outputs[k].n_links; j++)
                dg_num(&h, (double)n->outputs[k].links[j]);
        }
    }
    dg_num(&h, (double)m->n_links);
    for (size_t i = 0; i < m->n_links; i++) {
        const graph_link *l = &m->links[i];
        dg_num(&h, (double)l->id);
        dg_num(&h, (double)l->from_id);
        dg_num(&h, l->from_slot);
        dg_num(&h, (double)l->to_id);
        dg_num(&h, l->to_slot);
    }
    return h;
}

uint32_t graph_digest(const graph *g)
{
    return mirror_digest(&g->m);
}

/* ---- deltas ---- */

static int has_id(const int64_t *v, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == id) return 1;
    return 0;
}

/* The node or link of id in a workflow list (nodes: objects with "id";
 * links: [id, ...] or objects with "id"), or -1. */
static long tree_index(yajl_val list, int64_t id)
{
    if (!YAJL_IS_ARRAY(list)) return -1;
    for (size_t i = 0; i < list->u.array.len; i++) {
        yajl_val v = list->u.array.values[i];
        int64_t x;
        yajl_val idv = YAJL_IS_ARRAY(v) && v->u.array.len ? v->u.array.values[0] : obj_get(v, "id");
        if (get_i64(idv, &x) && x == id) return (long)i;
    }
    return -1;
}

static yajl_val new_val(yajl_type t)
{
    yajl_val v = calloc(1, sizeof *v);
    if (v) v->type = t;
    return v;
}

static yajl_val new_int(int64_t x)
{
    yajl_val v = new_val(yajl_t_number);
    if (!v) return NULL;
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)x);
    if (!(v->u.number.r = strdup(buf))) {
        free(v);
        return NULL;
    }
    v->u.number.i = x;
    v->u.number.d = (double)x;
    v->u.number.flags = YAJL_NUMBER_INT_VALID | YAJL_NUMBER_DOUBLE_VALID;
    return v;
}

/* The list under key in root, made (empty) when missing or null. NULL on
 * out of memory or when key holds something else. */
static yajl_val tree_list(yajl_val root, const char *key)
{
    for (size_t i = 0; i < root->u.object.len; i++)
        if (strcmp(root->u.object.keys[i], key) == 0) {
            yajl_val v = root->u.object.values[i];
            if (YAJL_IS_ARRAY(v)) return v;
            if (!YAJL_IS_NULL(v)) return NULL;
            v->type = yajl_t_array;
            v->u.array.values = NULL;
            v->u.array.len = 0;
            return v;
        }
    size_t n = root->u.object.len;
    const char **keys = realloc(root->u.object.keys, (n + 1) * sizeof *keys);
    if (!keys) return NULL;
    root->u.object.keys = keys;
    yajl_val *vals = realloc(root->u.object.values, (n + 1) * sizeof *vals);
    if (!vals) return NULL;
    root->u.object.values = vals;
    char *k = strdup(key);
    yajl_val v = new_val(yajl_t_array);
    if (!k || !v) {
        free(k);
        free(v);
        return NULL;
    }
    keys[n] = k;
    vals[n] = v;
    root->u.object.len = n + 1;
    return v;
}

/* Replaces the number under key in obj when obj has it (v is taken either
 * way). */
static void tree_set_num(yajl_val obj, const char *key, yajl_val v)
{
    for (size_t i = 0; YAJL_IS_OBJECT(obj) && i < obj->u.object.len; i++)
        if (strcmp(obj->u.object.keys[i], key) == 0) {
            yajl_tree_free(obj->u.object.values[i]);
            obj->u.object.values[i] = v;
            return;
        }
    yajl_tree_free(v);
}

static int reserve_list(yajl_val list, size_t more)
{
    if (!more) return 0;
    yajl_val *v = realloc(list->u.array.values, (list->u.array.len + more) * sizeof *v);
    if (!v) return -1;
    list->u.array.values = v;
    return 0;
}

/* Puts v into list in place of the entry with id, or at the end (room was
 * reserved). */
static void tree_put(yajl_val list, int64_t id, yajl_val v)
{
    long i = tree_index(list, id);
    if (i >= 0) {
        yajl_tree_free(list->u.array.values[i]);
        list->u.array.values[i] = v;
    } else {
        list->u.array.values[list->u.array.len++] = v;
    }
}

static void tree_drop(yajl_val list, int64_t id)
{
    long i = tree_index(list, id);
    if (i < 0) return;
    yajl_tree_free(list->u.array.values[i]);
    memmove(&list->u.array.values[i], &list->u.array.values[i + 1],
            (list->u.array.len - (size_t)i - 1) * sizeof *list->u.array.values);
    list->u.array.len--;
}

typedef struct {
    graph_node *nodes; /* parsed from d->nodes_json, owned until commit */
    yajl_val *node_vals;
    size_t n_nodes;
    graph_link *links;
    yajl_val *link_vals;
    size_t n_links;
    mirror next;      /* the mirror after the delta: entries borrowed */
    mirror old_sub;   /* what the delta replaces or removes: borrowed */
    mirror new_sub;   /* what it puts in: borrowed */
    yajl_val last[4]; /* last_node_id, last_link_id, state.lastNodeId, state.lastLinkId */
} dwork;

static void dwork_free(dwork *w, int keep_parsed)
{
    if (!keep_parsed) {
        for (size_t i = 0; i < w->n_nodes; i++) {
            node_free(&w->nodes[i]);
            yajl_tree_free(w->node_vals[i]);
        }
        for (size_t i = 0; i < w->n_links; i++) {
            free(w->links[i].type);
            yajl_tree_free(w->link_vals[i]);
        }
        for (size_t i = 0; i < 4; i++)
            yajl_tree_free(w->last[i]);
    }
    free(w->nodes);
    free(w->node_vals);
    free(w->links);
    free(w->link_vals);
    free(w->next.nodes);
    free(w->next.links);
    free(w->old_sub.nodes);
    free(w->old_sub.links);
    free(w->new_sub.nodes);
    free(w->new_sub.links);
}

static int parse_piece(pctx *c, const char *json, yajl_val *out)
{
    const nodeinfo_json_limits lim = {GRAPH_MAX_WORKFLOW_BYTES, GRAPH_MAX_DEPTH, GRAPH_MAX_VALUES};
    int rc = nodeinfo_json_parse(json ? json : "", json ? strlen(json) : 0, &lim, out, c->err,
                                 c->errlen);
    if (rc)
        return rc == NODEINFO_ETOOBIG  ? GRAPH_ETOOBIG
               : rc == NODEINFO_ENOMEM ? GRAPH_ENOMEM
                                       : GRAPH_EINVAL;
    return GRAPH_OK;
}

/* Parses the delta's pieces and builds the mirror after it (and the parts
 * that are diffed for the log). */
static int delta_build(const graph *g, const graph_delta *d, pctx *c, dwork *w)
{
    const mirror *m = &g->m;
    int rc;
    if (d->n_nodes_json > GRAPH_MAX_NODES || d->n_links_json > GRAPH_MAX_LINKS ||
        d->n_removed_nodes > GRAPH_MAX_NODES || d->n_removed_links > GRAPH_MAX_LINKS)
        return PFAIL(c, GRAPH_ETOOBIG, "the delta lists more nodes or links than a canvas holds");
    if ((d->n_nodes_json && (!(w->nodes = calloc(d->n_nodes_json, sizeof *w->nodes)) ||
                             !(w->node_vals = calloc(d->n_nodes_json, sizeof *w->node_vals)))) ||
        (d->n_links_json && (!(w->links = calloc(d->n_links_json, sizeof *w->links)) ||
                             !(w->link_vals = calloc(d->n_links_json, sizeof *w->link_vals)))))
        return GRAPH_ENOMEM;
    for (size_t i = 0; i < d->n_nodes_json; i++) {
        yajl_val v = NULL;
        if ((rc = parse_piece(c, d->nodes_json[i], &v))) return rc;
        w->node_vals[w->n_nodes] = v;
        graph_node *n = &w->nodes[w->n_nodes++];
        if ((rc = parse_node(c, i, v, n))) return rc;
        if (has_id(d->removed_nodes, d->n_removed_nodes, n->id))
            return PFAIL(c, GRAPH_EINVAL, "node %lld is both changed and removed",
                         (long long)n->id);
        for (size_t k = 0; k + 1 < w->n_nodes; k++)
            if (w->nodes[k].id == n->id)
                return PFAIL(c, GRAPH_EINVAL, "node %lld is listed twice", (long long)n->id);
    }
    for (size_t i = 0; i < d->n_links_json; i++) {
        yajl_val v = NULL;
        if ((rc = parse_piece(c, d->links_json[i], &v))) return rc;
        w->link_vals[w->n_links] = v;
        graph_link *l = &w->links[w->n_links++];
        if ((rc = parse_link(c, i, v, l))) return rc;
        if (has_id(d->removed_links, d->n_removed_links, l->id))
            return PFAIL(c, GRAPH_EINVAL, "link %lld is both changed and removed",
                         (long long)l->id);
        for (size_t k = 0; k + 1 < w->n_links; k++)
            if (w->links[k].id == l->id)
                return PFAIL(c, GRAPH_EINVAL, "link %lld is listed twice", (long long)l->id);
    }
    for (size_t i = 0; i < d->n_removed_nodes; i++)
        if (!m_find_node(m, d->removed_nodes[i]))
            return PFAIL(c, GRAPH_EINVAL, "removed node %lld is not on the canvas",
                         (long long)d->removed_nodes[i]);
    for (size_t i = 0; i < d->n_removed_links; i++)
        if (!m_find_link(m, d->removed_links[i]))
            return PFAIL(c, GRAPH_EINVAL, "removed link %lld is not on the canvas",
                         (long long)d->removed_links[i]);

    /* The mirror after: the old entries that stay, then the new ones,
     * sorted. Entries are shallow copies; ownership moves at commit. */
    size_t cap_n = m->n_nodes + w->n_nodes, cap_l = m->n_links + w->n_links;
    size_t cap_on = w->n_nodes + d->n_removed_nodes, cap_ol = w->n_links + d->n_removed_links;
    if (!(w->next.nodes = calloc(cap_n + 1, sizeof *w->next.nodes)) ||
        !(w->next.links = calloc(cap_l + 1, sizeof *w->next.links)) ||
        !(w->old_sub.nodes = calloc(cap_on + 1, sizeof *w->old_sub.nodes)) ||
        !(w->old_sub.links = calloc(cap_ol + 1, sizeof *w->old_sub.links)) ||
        !(w->new_sub.nodes = calloc(w->n_nodes + 1, sizeof *w->new_sub.nodes)) ||
        !(w->new_sub.links = calloc(w->n_links + 1, sizeof *w->new_sub.links)))
        return GRAPH_ENOMEM;
    for (size_t i = 0; i < m->n_nodes; i++) {
        const graph_node *o = &m->nodes[i];
        int gone = has_id(d->removed_nodes, d->n_removed_nodes, o->id);
        for (size_t k = 0; !gone && k < w->n_nodes; k++)
            gone = w->nodes[k].id == o->id;
        if (gone)
            w->old_sub.nodes[w->old_sub.n_nodes++] = *o;
        else
            w->next.nodes[w->next.n_nodes++] = *o;
    }
    for (size_t k = 0; k < w->n_nodes; k++) {
        w->next.nodes[w->next.n_nodes++] = w->nodes[k];
        w->new_sub.nodes[w->new_sub.n_nodes++] = w->nodes[k];
    }
    for (size_t i = 0; i < m->n_links; i++) {
        const graph_link *o = &m->links[i];
        int gone = has_id(d->removed_links, d->n_removed_links, o->id);
        for (size_t k = 0; !gone && k < w->n_links; k++)
            gone = w->links[k].id == o->id;
        if (gone)
            w->old_sub.links[w->old_sub.n_links++] = *o;
        else
            w->next.links[w->next.n_links++] = *o;
    }
    for (size_t k = 0; k < w->n_links; k++) {
        w->next.links[w->next.n_links++] = w->links[k];
        w->new_sub.links[w->new_sub.n_links++] = w->links[k];
    }
    mirror *ms[3] = {&w->next, &w->old_sub, &w->new_sub};
    for (size_t i = 0; i < 3; i++) {
        if (ms[i]->n_nodes > 1) qsort(ms[i]->nodes, ms[i]->n_nodes, sizeof *ms[i]->nodes, cmp_node);
        if (ms[i]->n_links > 1) qsort(ms[i]->links, ms[i]->n_links, sizeof *ms[i]->links, cmp_link);
    }
    if (w->next.n_nodes > GRAPH_MAX_NODES || w->next.n_links > GRAPH_MAX_LINKS)
        return PFAIL(c, GRAPH_ETOOBIG,
                     "the canvas would hold %zu nodes and %zu links (limits %u, %u)",
                     w->next.n_nodes, w->next.n_links, GRAPH_MAX_NODES, GRAPH_MAX_LINKS);
    /* The tab's counters (a clear_graph resets them), never below an id
     * in use. */
    w->next.last_node_id = d->last_node_id > 0 ? d->last_node_id : 0;
    w->next.last_link_id = d->last_link_id > 0 ? d->last_link_id : 0;
    if (w->next.n_nodes && w->next.nodes[w->next.n_nodes - 1].id > w->next.last_node_id)
        w->next.last_node_id = w->next.nodes[w->next.n_nodes - 1].id;
    if (w->next.n_links && w->next.links[w->next.n_links - 1].id > w->next.last_link_id)
        w->next.last_link_id = w->next.links[w->next.n_links - 1].id;
    w->next.widget_sockets = detect_widget_sockets(&w->next, c->schema);
    return GRAPH_OK;
}

int graph_apply_delta(graph *g, const graph_delta *d, uint64_t revision,
                      Comfyd__V1__GraphOrigin origin, int64_t time_ms, char *err, size_t errlen)
{
    if (revision <= g->revision)
        return text_err(err, errlen, GRAPH_EREVISION, "revision %llu is not above the current %llu",
                        (unsigned long long)revision, (unsigned long long)g->revision);
    pctx c = {err, errlen, g->schema};
    dwork w;
    memset(&w, 0, sizeof w);
    oplist l = {.rev = revision, .origin = origin, .time_ms = time_ms};
    logged_op *packed = NULL;
    int rc = delta_build(g, d, &c, &w);
    if (rc) goto fail;
    uint32_t got = mirror_digest(&w.next);
    if (got != d->digest) {
        rc = text_err(err, errlen, GRAPH_EDIGEST,
                      "the graph after the delta has digest %08x, the tab's has %08x", got,
                      d->digest);
        goto fail;
    }
    /* The tree the workflow text is written from, with room for what the
     * delta adds: nothing after this can fail. */
    if (!g->root) {
        yajl_val root = NULL;
        if ((rc = parse_piece(&c, g->json, &root))) goto fail;
        if (!YAJL_IS_OBJECT(root)) {
            yajl_tree_free(root);
            rc = text_err(err, errlen, GRAPH_EINVAL, "the mirror's workflow is not an object");
            goto fail;
        }
        g->root = root;
    }
    yajl_val tnodes = tree_list(g->root, "nodes"), tlinks = tree_list(g->root, "links");
    if (!tnodes || !tlinks || reserve_list(tnodes, w.n_nodes) || reserve_list(tlinks, w.n_links) ||
        !(w.last[0] = new_int(w.next.last_node_id)) ||
        !(w.last[1] = new_int(w.next.last_link_id)) ||
        !(w.last[2] = new_int(w.next.last_node_id)) || !(w.last[3] = new_int(w.next.last_link_id)))
        goto oom;
    diff_mirrors(&w.old_sub, &w.new_sub, &l);
    if (l.oom) goto oom;
    if (l.n && !(packed = calloc(l.n, sizeof *packed))) goto oom;
    for (size_t i = 0; i < l.n; i++) {
        size_t sz = protobuf_c_message_get_packed_size(&l.v[i]->base);
        if (!(packed[i].buf = malloc(sz ? sz : 1))) goto oom;
        packed[i].len = protobuf_c_message_pack(&l.v[i]->base, packed[i].buf);
        packed[i].rev = revision;
    }

    /* Commit. */
    for (size_t i = 0; i < d->n_removed_nodes; i++)
        tree_drop(tnodes, d->removed_nodes[i]);
    for (size_t i = 0; i < w.n_nodes; i++)
        tree_put(tnodes, w.nodes[i].id, w.node_vals[i]);
    for (size_t i = 0; i < d->n_removed_links; i++)
        tree_drop(tlinks, d->removed_links[i]);
    for (size_t i = 0; i < w.n_links; i++)
        tree_put(tlinks, w.links[i].id, w.link_vals[i]);
    tree_set_num(g->root, "last_node_id", w.last[0]);
    tree_set_num(g->root, "last_link_id", w.last[1]);
    yajl_val state = obj_get(g->root, "state");
    tree_set_num(state, "lastNodeId", w.last[2]);
    tree_set_num(state, "lastLinkId", w.last[3]);
    for (size_t i = 0; i < w.old_sub.n_nodes; i++)
        node_free(&w.old_sub.nodes[i]);
    for (size_t i = 0; i < w.old_sub.n_links; i++)
        free(w.old_sub.links[i].type);
    free(g->m.nodes);
    free(g->m.links);
    g->m = w.next;
    w.next.nodes = NULL;
    w.next.links = NULL;
    g->json_stale = 1;
    g->revision = revision;
    for (size_t i = 0; i < l.n; i++)
        log_push(g, packed[i]);
    free(packed);
    graph_ops_free(l.v, l.n);
    dwork_free(&w, 1);
    return GRAPH_OK;
oom:
    rc = text_err(err, errlen, GRAPH_ENOMEM, "out of memory applying the delta");
fail:
    for (size_t i = 0; packed && i < l.n; i++)
        free(packed[i].buf);
    free(packed);
    graph_ops_free(l.v, l.n);
    dwork_free(&w, 0);
    return rc;
}

/* ---- the command table ---- */

/* Shape checks: what a peer's command may hold at all (sizes and
 * encodings), before the batch is queued. The message names the field by
 * its path in the request ("commands[2].set_widget.name"). */

typedef struct {
    char *err;
    size_t errlen;
    size_t i; /* index of the command in its batch */
} shape_ctx;

static int shape_str(const shape_ctx *x, const char *s, size_t max, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int shape_str(const shape_ctx *x, const char *s, size_t max, const char *fmt, ...)
{
    if (!s) return GRAPH_OK;
    size_t len = strlen(s);
    const char *why = NULL;
    if (len > max)
        why = "is too long";
    else if (!text_utf8_valid(s, len))
        why = "is not valid UTF-8";
    if (!why) return GRAPH_OK;
    char field[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(field, sizeof field, fmt, ap);
    va_end(ap);
    if (len > max)
        return text_err(x->err, x->errlen, GRAPH_EINVAL, "%s %s (at most %zu bytes)", field, why,
                        max);
    return text_err(x->err, x->errlen, GRAPH_EINVAL, "%s %s", field, why);
}

static int shape_value(const shape_ctx *x, const Comfyd__V1__Value *v, const char *field)
{
    if (v && v->kind_case == COMFYD__V1__VALUE__KIND_TEXT)
        return shape_str(x, v->text, GRAPH_MAX_TEXT, "commands[%zu].%s", x->i, field);
    return GRAPH_OK;
}

static int shape_node_ref(const shape_ctx *x, const Comfyd__V1__NodeRef *r, const char *field)
{
    if (r && r->node_case == COMFYD__V1__NODE_REF__NODE_REF)
        return shape_str(x, r->ref, GRAPH_MAX_REF, "commands[%zu].%s.ref", x->i, field);
    return GRAPH_OK;
}

static int shape_slot_ref(const shape_ctx *x, const Comfyd__V1__SlotRef *r, const char *field)
{
    if (r && r->slot_case == COMFYD__V1__SLOT_REF__SLOT_NAME)
        return shape_str(x, r->name, GRAPH_MAX_NAME, "commands[%zu].%s.name", x->i, field);
    return GRAPH_OK;
}

static int s_create(const shape_ctx *x, const Comfyd__V1__Command *cmd)
{
    const Comfyd__V1__CreateNodeCommand *c = cmd->create_node;
    int rc;
    if ((rc = shape_str(x, c->node_type, GRAPH_MAX_NAME, "commands[%zu].create_node.node_type",
                        x->i)) ||
        (rc = shape_str(x, c->ref, GRAPH_MAX_REF, "commands[%zu].create_node.ref", x->i)) ||
        (rc = shape_str(x, c->title, GRAPH_MAX_NAME, "commands[%zu].create_node.title", x->i)))
        return rc;
    if (c->n_widgets > GRAPH_MAX_WIDGETS)
        return text_err(x->err, x->errlen, GRAPH_EINVAL,
                        "commands[%zu].create_node.widgets: more than %d", x->i, GRAPH_MAX_WIDGETS);
    for (size_t k = 0; k < c->n_widgets; k++) {
        if (!c->widgets[k]) continue;
        if ((rc = shape_str(x, c->widgets[k]->key, GRAPH_MAX_NAME,
                            "commands[%zu].create_node.widgets key", x->i)) ||
            (rc = shape_value(x, c->widgets[k]->value, "create_node.widgets value")))
            return rc;
    }
    return GRAPH_OK;
}

static int s_remove(const shape_ctx *x, const Comfyd__V1__Command *cmd)
{
    return shape_node_ref(x, cmd->remove_node->node_id, "remove_node.node_id");
}

static int s_connect(const shape_ctx *x, const Comfyd__V1__Command *cmd)
{
    const Comfyd__V1__ConnectCommand *c = cmd->connect;
    int rc;
    if ((rc = shape_node_ref(x, c->from_id, "connect.from_id")) ||
        (rc = shape_node_ref(x, c->to_id, "connect.to_id")) ||
        (rc = shape_slot_ref(x, c->from_slot, "connect.from_slot")) ||
        (rc = shape_slot_ref(x, c->to_slot, "connect.to_slot")))
        return rc;
    return GRAPH_OK;
}

static int s_disconnect(const shape_ctx *x, const Comfyd__V1__Command *cmd)
{
    int rc;
    if ((rc = shape_node_ref(x, cmd->disconnect->node_id, "disconnect.node_id")) ||
        (rc = shape_slot_ref(x, cmd->disconnect->slot, "disconnect.slot")))
        return rc;
    return GRAPH_OK;
}

static int s_set_widget(const shape_ctx *x, const Comfyd__V1__Command *cmd)
{
    const Comfyd__V1__SetWidgetCommand *c = cmd->set_widget;
    int rc;
    if ((rc = shape_node_ref(x, c->node_id, "set_widget.node_id")) ||
        (rc = shape_str(x, c->name, GRAPH_MAX_NAME, "commands[%zu].set_widget.name", x->i)) ||
        (rc = shape_value(x, c->value, "set_widget.value")))
        return rc;
    return GRAPH_OK;
}

static int s_move(const shape_ctx *x, const Comfyd__V1__Command *cmd)
{
    return shape_node_ref(x, cmd->move_node->node_id, "move_node.node_id");
}

/* arrange: the node list's length and its refs. */
static int s_arrange(const shape_ctx *x, const Comfyd__V1__Command *cmd)
{
    const Comfyd__V1__ArrangeCommand *c = cmd->arrange;
    if (c->n_node_ids > GRAPH_MAX_NODES)
        return text_err(x->err, x->errlen, GRAPH_EINVAL,
                        "commands[%zu].arrange.node_ids: more than %d", x->i, GRAPH_MAX_NODES);
    for (size_t k = 0; k < c->n_node_ids; k++) {
        int rc = shape_node_ref(x, c->node_ids[k], "arrange.node_ids");
        if (rc) return rc;
    }
    return GRAPH_OK;
}

static int s_set_node_mode(const shape_ctx *x, const Comfyd__V1__Command *cmd)
{
    const Comfyd__V1__SetNodeModeCommand *c = cmd->set_node_mode;
    int rc;
    if ((rc = shape_node_ref(x, c->node_id, "set_node_mode.node_id")) ||
        (rc = shape_str(x, c->mode, GRAPH_MAX_NAME, "commands[%zu].set_node_mode.mode", x->i)))
        return rc;
    return GRAPH_OK;
}

/* One row per case of the Command oneof, indexed by the case (the field
 * number). shape is NULL when the command has no field to check; diff is
 * NULL for the commands that are no field of a node: the diff expresses
 * nodes and links appearing and disappearing itself (create_node,
 * remove_node, connect, disconnect), and clear_graph, get_graph and arrange
 * never show in it (their effects do). */
struct cmd_row {
    int (*shape)(const shape_ctx *x, const Comfyd__V1__Command *c);
    void (*validate)(scratch *s, size_t idx, const Comfyd__V1__Command *c,
                     Comfyd__V1__CommandResult *res);
    void (*diff)(oplist *l, const graph_node *o, const graph_node *n);
    unsigned flags; /* GRAPH_CMD_* */
};

static const cmd_row cmd_rows[] = {
    [COMFYD__V1__COMMAND__COMMAND_CREATE_NODE] = {s_create, v_create, NULL, 0},
    [COMFYD__V1__COMMAND__COMMAND_REMOVE_NODE] = {s_remove, v_remove, NULL, 0},
    [COMFYD__V1__COMMAND__COMMAND_CONNECT] = {s_connect, v_connect, NULL, 0},
    [COMFYD__V1__COMMAND__COMMAND_DISCONNECT] = {s_disconnect, v_disconnect, NULL, 0},
    [COMFYD__V1__COMMAND__COMMAND_SET_WIDGET] = {s_set_widget, v_set_widget, d_widgets, 0},
    [COMFYD__V1__COMMAND__COMMAND_MOVE_NODE] = {s_move, v_move, d_move, 0},
    [COMFYD__V1__COMMAND__COMMAND_CLEAR_GRAPH] = {NULL, v_clear, NULL, 0},
    [COMFYD__V1__COMMAND__COMMAND_GET_GRAPH] = {NULL, v_read, NULL, GRAPH_CMD_READ_ONLY},
    [COMFYD__V1__COMMAND__COMMAND_ARRANGE] = {s_arrange, v_arrange, NULL, 0},
    [COMFYD__V1__COMMAND__COMMAND_SET_NODE_MODE] = {s_set_node_mode, v_set_node_mode, d_mode, 0},
};
#define N_CMD_ROWS (sizeof cmd_rows / sizeof cmd_rows[0])

/* The oneof member of a case, from the descriptor. */
static const ProtobufCFieldDescriptor *cmd_field(unsigned kcase)
{
    return protobuf_c_message_descriptor_get_field(&comfyd__v1__command__descriptor, kcase);
}

/* The row of c's command; NULL when c is empty, its case has no row, or
 * the member's message is missing (a message without fields, as
 * clear_graph's, may be, and so may get_graph's, whose only field,
 * known_revision, is optional). */
static const cmd_row *cmd_row_of(const Comfyd__V1__Command *c)
{
    if (!c || c->command_case <= 0 || (size_t)c->command_case >= N_CMD_ROWS) return NULL;
    const cmd_row *r = &cmd_rows[c->command_case];
    if (!r->validate) return NULL;
    const ProtobufCFieldDescriptor *f = cmd_field((unsigned)c->command_case);
    if (!f) return NULL;
    const ProtobufCMessageDescriptor *md = f->descriptor;
    if (md->n_fields && !*(void *const *)((const char *)c + f->offset) &&
        c->command_case != COMFYD__V1__COMMAND__COMMAND_GET_GRAPH)
        return NULL;
    return r;
}

unsigned graph_cmd_flags(const Comfyd__V1__Command *c)
{
    const cmd_row *r = cmd_row_of(c);
    return r ? r->flags : 0;
}

const char *graph_cmd_name(const Comfyd__V1__Command *c)
{
    if (!cmd_row_of(c)) return NULL;
    return cmd_field((unsigned)c->command_case)->name;
}

char *graph_cmd_names(char *buf, size_t len)
{
    strbuf b = {buf, len, 0};
    if (len) buf[0] = '\0';
    for (size_t k = 1; k < N_CMD_ROWS; k++) {
        const ProtobufCFieldDescriptor *f = cmd_rows[k].validate ? cmd_field((unsigned)k) : NULL;
        if (f) sb_add(&b, "%s%s", b.len ? ", " : "", f->name);
    }
    return buf;
}

int graph_cmd_check_shape(const Comfyd__V1__Command *c, size_t i, char *err, size_t errlen)
{
    const cmd_row *r = cmd_row_of(c);
    if (!r) {
        char names[256];
        return text_err(err, errlen, GRAPH_EINVAL, "commands[%zu] is empty: set one of %s", i,
                        graph_cmd_names(names, sizeof names));
    }
    shape_ctx x = {err, errlen, i};
    return r->shape ? r->shape(&x, c) : GRAPH_OK;
}

static void validate_one(scratch *s, size_t idx, const Comfyd__V1__Command *c,
                         Comfyd__V1__CommandResult *res)
{
    const cmd_row *r = cmd_row_of(c);
    if (r) return r->validate(s, idx, c, res);
    add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND, NULL, 0,
              "command %zu is empty", idx);
}

static void diff_node_fields(oplist *l, const graph_node *o, const graph_node *n)
{
    for (size_t k = 1; k < N_CMD_ROWS; k++)
        if (cmd_rows[k].diff) cmd_rows[k].diff(l, o, n);
}
