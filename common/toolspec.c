/* toolspec: the graph tools' definitions, argument checks and results,
 * shared by the agent's tools and the bridge's MCP endpoint (see
 * toolspec.h). */
#include "toolspec.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "jsonpb.h"
#include "jsonpb_schema.h"
#include "text.h"

/* ---- small helpers ---- */

/* Shortest text of d that reads back as d. */
static void fmt_double(char *buf, size_t len, double d)
{
    if (!isfinite(d)) {
        snprintf(buf, len, "%s", isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, d);
        if (strtod(buf, NULL) == d) return;
    }
}

/* ---- JSON output ---- */

static int g_str(yajl_gen g, const char *s)
{
    s = s ? s : "";
    return yajl_gen_string(g, (const unsigned char *)s, strlen(s)) != yajl_gen_status_ok;
}

static int g_strn(yajl_gen g, const char *s, size_t n)
{
    return yajl_gen_string(g, (const unsigned char *)s, n) != yajl_gen_status_ok;
}

static int g_kv(yajl_gen g, const char *k, const char *v)
{
    return g_str(g, k) || g_str(g, v);
}

static int g_u64(yajl_gen g, uint64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%llu", (unsigned long long)v);
    return yajl_gen_number(g, num, (size_t)n) != yajl_gen_status_ok;
}

static int g_i64(yajl_gen g, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%lld", (long long)v);
    return yajl_gen_number(g, num, (size_t)n) != yajl_gen_status_ok;
}

static int g_double(yajl_gen g, double d)
{
    char num[40];
    if (!isfinite(d)) return g_str(g, d != d ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
    fmt_double(num, sizeof num, d);
    return yajl_gen_number(g, num, strlen(num)) != yajl_gen_status_ok;
}

static int g_bool(yajl_gen g, int b)
{
    return yajl_gen_bool(g, b != 0) != yajl_gen_status_ok;
}

/* A text cut to max bytes (with "..." when cut). */
static int g_cut(yajl_gen g, const char *s, size_t max)
{
    s = s ? s : "";
    size_t len = strlen(s), n = text_utf8_cut(s, len, max);
    if (n == len) return g_strn(g, s, len);
    char *t = text_printf("%.*s...", (int)n, s);
    int rc = !t || g_str(g, t);
    free(t);
    return rc;
}

static int g_value(yajl_gen g, const Comfyd__V1__Value *v)
{
    if (!v) return yajl_gen_null(g) != yajl_gen_status_ok;
    return jsonpb_encode_gen(g, &v->base, NULL, NULL, 0) != JSONPB_OK;
}

static yajl_gen gen_new(void)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g) yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    return g;
}

/* The generated text (malloc'd) and frees g; NULL when bad or out of memory. */
static char *gen_done(yajl_gen g, int bad)
{
    char *out = NULL;
    if (!bad) {
        const unsigned char *b;
        size_t n;
        if (yajl_gen_get_buf(g, &b, &n) == yajl_gen_status_ok) out = text_dupn((const char *)b, n);
    }
    yajl_gen_free(g);
    return out;
}

/* ---- node types ---- */

static int g_opt_num(yajl_gen g, const char *key, const Google__Protobuf__DoubleValue *d)
{
    if (!d) return 0;
    return g_str(g, key) || g_double(g, d->value);
}

char *toolspec_schema_result(const Comfyd__V1__NodeType *nt)
{
    yajl_gen g = gen_new();
    if (!g) return NULL;
    int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "name", nt->name) ||
              g_kv(g, "display_name", nt->display_name) || g_kv(g, "category", nt->category);
    if (!bad && nt->description && *nt->description)
        bad = g_str(g, "description") || g_cut(g, nt->description, TOOLSPEC_MAX_DESCRIPTION);
    bad = bad || g_str(g, "output_node") || g_bool(g, nt->output_node) || g_str(g, "inputs") ||
          yajl_gen_array_open(g) != yajl_gen_status_ok;
    for (size_t i = 0; !bad && i < nt->n_inputs; i++) {
        const Comfyd__V1__InputSpec *in = nt->inputs[i];
        bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "name", in->name) ||
              g_kv(g, "type", in->type) || g_str(g, "required") || g_bool(g, in->required);
        if (!bad && in->is_widget) bad = g_str(g, "widget") || g_bool(g, 1);
        if (!bad && in->default_value) bad = g_str(g, "default") || g_value(g, in->default_value);
        bad = bad || g_opt_num(g, "min", in->min) || g_opt_num(g, "max", in->max) ||
              g_opt_num(g, "step", in->step);
        if (!bad && in->n_options) {
            bad = g_str(g, "options") || yajl_gen_array_open(g) != yajl_gen_status_ok;
            for (size_t k = 0; !bad && k < in->n_options && k < TOOLSPEC_MAX_OPTIONS; k++)
                bad = g_str(g, in->options[k]);
            bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok;
            if (!bad && in->n_options > TOOLSPEC_MAX_OPTIONS)
                bad = g_str(g, "options_total") || g_u64(g, in->n_options);
        }
        if (!bad && in->multiline) bad = g_str(g, "multiline") || g_bool(g, 1);
        if (!bad && in->tooltip && *in->tooltip)
            bad = g_str(g, "tooltip") || g_cut(g, in->tooltip, TOOLSPEC_MAX_DESCRIPTION);
        bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    }
    bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok || g_str(g, "outputs") ||
          yajl_gen_array_open(g) != yajl_gen_status_ok;
    for (size_t i = 0; !bad && i < nt->n_outputs; i++) {
        const Comfyd__V1__OutputSpec *o = nt->outputs[i];
        bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_str(g, "slot") || g_u64(g, i) ||
              g_kv(g, "name", o->name) || g_kv(g, "type", o->type);
        if (!bad && o->is_list) bad = g_str(g, "is_list") || g_bool(g, 1);
        bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    }
    bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok ||
          yajl_gen_map_close(g) != yajl_gen_status_ok;
    return gen_done(g, bad);
}

char *toolspec_search_result(const Comfyd__V1__ListNodeTypesResponse *resp)
{
    yajl_gen g = gen_new();
    int bad = !g;
    bad = bad || yajl_gen_map_open(g) != yajl_gen_status_ok || g_str(g, "total") ||
          g_u64(g, resp->total) || g_str(g, "node_types") ||
          yajl_gen_array_open(g) != yajl_gen_status_ok;
    for (size_t i = 0; !bad && i < resp->n_node_types; i++) {
        const Comfyd__V1__NodeType *nt = resp->node_types[i];
        bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "name", nt->name);
        if (!bad && nt->display_name && *nt->display_name && strcmp(nt->display_name, nt->name))
            bad = g_kv(g, "display_name", nt->display_name);
        bad = bad || g_kv(g, "category", nt->category);
        if (!bad && nt->description && *nt->description)
            bad = g_str(g, "description") || g_cut(g, nt->description, TOOLSPEC_MAX_DESCRIPTION);
        bad = bad || g_str(g, "outputs") || yajl_gen_array_open(g) != yajl_gen_status_ok;
        for (size_t k = 0; !bad && k < nt->n_outputs; k++)
            bad = g_str(g, nt->outputs[k]->type);
        bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok;
        if (!bad && nt->output_node) bad = g_str(g, "output_node") || g_bool(g, 1);
        bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    }
    bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok;
    if (!bad && resp->total > resp->n_node_types) {
        char more[160];
        snprintf(more, sizeof more, "%u more matches: narrow the query or raise limit (at most %d)",
                 (unsigned)(resp->total - resp->n_node_types), TOOLSPEC_SEARCH_MAX);
        bad = g_kv(g, "more", more);
    }
    bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    return g ? gen_done(g, bad) : NULL;
}

char *toolspec_unknown_type(const char *name, const char *const *sugg, size_t n)
{
    yajl_gen g = gen_new();
    char *out = NULL;
    if (g) {
        char msg[TOOLSPEC_MAX_TYPE_NAME + 64];
        snprintf(msg, sizeof msg, "unknown node type '%s'", name);
        size_t len = strlen(msg);
        while (len && !text_utf8_valid(msg, len))
            msg[--len] = 0;
        int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "error", msg) ||
                  g_kv(g, "code", "UNKNOWN_NODE_TYPE") || g_str(g, "suggestions") ||
                  yajl_gen_array_open(g) != yajl_gen_status_ok;
        for (size_t i = 0; !bad && i < n; i++)
            bad = g_str(g, sugg[i]);
        bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok ||
              g_kv(g, "hint", "Names are exact and case-sensitive; use search_node_types.") ||
              yajl_gen_map_close(g) != yajl_gen_status_ok;
        out = gen_done(g, bad);
    }
    return out;
}

/* ---- get_graph ---- */

typedef struct gindex {
    const Comfyd__V1__Node **nodes; /* by id */
    const Comfyd__V1__Link **links; /* by id */
    size_t n_nodes, n_links;
} gindex;

static int cmp_node(const void *a, const void *b)
{
    int64_t x = (*(const Comfyd__V1__Node *const *)a)->id;
    int64_t y = (*(const Comfyd__V1__Node *const *)b)->id;
    return x < y ? -1 : x > y;
}

static int cmp_link(const void *a, const void *b)
{
    int64_t x = (*(const Comfyd__V1__Link *const *)a)->id;
    int64_t y = (*(const Comfyd__V1__Link *const *)b)->id;
    return x < y ? -1 : x > y;
}

static int gindex_build(gindex *ix, const Comfyd__V1__Graph *g)
{
    memset(ix, 0, sizeof *ix);
    ix->nodes = malloc((g->n_nodes ? g->n_nodes : 1) * sizeof *ix->nodes);
    ix->links = malloc((g->n_links ? g->n_links : 1) * sizeof *ix->links);
    if (!ix->nodes || !ix->links) {
        free(ix->nodes);
        free(ix->links);
        return -1;
    }
    for (size_t i = 0; i < g->n_nodes; i++)
        ix->nodes[i] = g->nodes[i];
    for (size_t i = 0; i < g->n_links; i++)
        ix->links[i] = g->links[i];
    ix->n_nodes = g->n_nodes;
    ix->n_links = g->n_links;
    qsort(ix->nodes, ix->n_nodes, sizeof *ix->nodes, cmp_node);
    qsort(ix->links, ix->n_links, sizeof *ix->links, cmp_link);
    return 0;
}

static void gindex_free(gindex *ix)
{
    free(ix->nodes);
    free(ix->links);
}

static const Comfyd__V1__Node *ix_node(const gindex *ix, int64_t id)
{
    size_t lo = 0, hi = ix->n_nodes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->nodes[mid]->id == id) return ix->nodes[mid];
        if (ix->nodes[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const Comfyd__V1__Link *ix_link(const gindex *ix, int64_t id)
{
    size_t lo = 0, hi = ix->n_links;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->links[mid]->id == id) return ix->links[mid];
        if (ix->links[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* A widget value as outline text: numbers and booleans bare, text quoted
 * with \" \\ \n escapes and cut at TOOLSPEC_OUTLINE_TEXT bytes. */
static void sb_value(text_buf *b, const Comfyd__V1__Value *v)
{
    char num[40];
    if (!v) {
        text_buf_add(b, "null");
        return;
    }
    switch (v->kind_case) {
    case COMFYD__V1__VALUE__KIND_INTEGER:
        text_buf_addf(b, "%lld", (long long)v->integer);
        return;
    case COMFYD__V1__VALUE__KIND_NUMBER:
        fmt_double(num, sizeof num, v->number);
        text_buf_add(b, num);
        return;
    case COMFYD__V1__VALUE__KIND_BOOLEAN:
        text_buf_add(b, v->boolean ? "true" : "false");
        return;
    case COMFYD__V1__VALUE__KIND_TEXT: {
        const char *s = v->text ? v->text : "";
        size_t len = strlen(s), n = text_utf8_cut(s, len, TOOLSPEC_OUTLINE_TEXT);
        text_buf_add(b, "\"");
        for (size_t i = 0; i < n; i++) {
            char c = s[i];
            if (c == '"' || c == '\\') {
                char e[2] = {'\\', c};
                text_buf_addn(b, e, 2);
            } else if (c == '\n') {
                text_buf_add(b, "\\n");
            } else if ((unsigned char)c < 0x20) {
                text_buf_add(b, " ");
            } else {
                text_buf_addn(b, &c, 1);
            }
        }
        text_buf_add(b, n < len ? "...\"" : "\"");
        return;
    }
    default:
        text_buf_add(b, "null");
    }
}

/* One outline line for node n. */
static void outline_line(text_buf *b, const gindex *ix, const Comfyd__V1__Node *n)
{
    text_buf_addf(b, "#%lld %s", (long long)n->id, n->type ? n->type : "?");
    if (n->title && *n->title && strcmp(n->title, n->type ? n->type : "") != 0) {
        Comfyd__V1__Value tv = COMFYD__V1__VALUE__INIT;
        tv.kind_case = COMFYD__V1__VALUE__KIND_TEXT;
        tv.text = n->title;
        text_buf_add(b, " ");
        sb_value(b, &tv);
    }
    if (n->mode == 2) text_buf_add(b, " [muted]");
    if (n->mode == 4) text_buf_add(b, " [bypassed]");
    for (size_t i = 0; i < n->n_widgets && i < TOOLSPEC_OUTLINE_WIDGETS; i++) {
        text_buf_addf(b, " %s=", n->widgets[i]->name ? n->widgets[i]->name : "?");
        sb_value(b, n->widgets[i]->value);
    }
    if (n->n_widgets > TOOLSPEC_OUTLINE_WIDGETS)
        text_buf_addf(b, " (+%zu widgets)", n->n_widgets - TOOLSPEC_OUTLINE_WIDGETS);
    int first = 1;
    for (size_t i = 0; i < n->n_inputs; i++) {
        const Comfyd__V1__NodeInput *in = n->inputs[i];
        const char *name = in->name ? in->name : "?";
        if (!in->link) {
            /* A widget's socket is shown by its value; a bare socket left
             * open is worth seeing (a missing required link). */
            if (in->widget && *in->widget) continue;
            text_buf_addf(b, "%s%s<-none", first ? " | in: " : " ", name);
            first = 0;
            continue;
        }
        const Comfyd__V1__Link *l = ix_link(ix, in->link);
        const Comfyd__V1__Node *from = l ? ix_node(ix, l->from_id) : NULL;
        const char *slot =
            from && l->from_slot < from->n_outputs && from->outputs[l->from_slot]->name
                ? from->outputs[l->from_slot]->name
                : NULL;
        if (l && slot)
            text_buf_addf(b, "%s%s<-#%lld.%s", first ? " | in: " : " ", name, (long long)l->from_id,
                          slot);
        else if (l)
            text_buf_addf(b, "%s%s<-#%lld.%u", first ? " | in: " : " ", name, (long long)l->from_id,
                          l->from_slot);
        else
            text_buf_addf(b, "%s%s<-link%lld?", first ? " | in: " : " ", name, (long long)in->link);
        first = 0;
    }
    first = 1;
    for (size_t i = 0; i < n->n_outputs; i++) {
        const Comfyd__V1__NodeOutput *out = n->outputs[i];
        if (!out->n_links) continue;
        text_buf_addf(b, "%s%s->", first ? " | out: " : " ", out->name ? out->name : "?");
        first = 0;
        for (size_t k = 0; k < out->n_links; k++) {
            const Comfyd__V1__Link *l = ix_link(ix, out->links[k]);
            const Comfyd__V1__Node *to = l ? ix_node(ix, l->to_id) : NULL;
            const char *slot = to && l->to_slot < to->n_inputs && to->inputs[l->to_slot]->name
                                   ? to->inputs[l->to_slot]->name
                                   : NULL;
            if (k) text_buf_add(b, ",");
            if (l && slot)
                text_buf_addf(b, "#%lld.%s", (long long)l->to_id, slot);
            else if (l)
                text_buf_addf(b, "#%lld.%u", (long long)l->to_id, l->to_slot);
            else
                text_buf_addf(b, "link%lld?", (long long)out->links[k]);
        }
    }
}

static int id_wanted(const int64_t *ids, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id) return 1;
    return 0;
}

char *toolspec_graph_outline(const Comfyd__V1__Graph *g, const int64_t *ids, size_t n_ids)
{
    gindex ix;
    if (gindex_build(&ix, g) != 0) return NULL;
    yajl_gen gen = gen_new();
    if (!gen) {
        gindex_free(&ix);
        return NULL;
    }
    int bad = yajl_gen_map_open(gen) != yajl_gen_status_ok || g_kv(gen, "canvas_id", g->canvas_id);
    if (!bad && g->title && *g->title) bad = g_kv(gen, "title", g->title);
    bad = bad || g_str(gen, "revision") || g_u64(gen, g->revision) || g_str(gen, "stale") ||
          g_bool(gen, g->stale) || g_str(gen, "node_count") || g_u64(gen, g->n_nodes) ||
          g_str(gen, "link_count") || g_u64(gen, g->n_links) || g_str(gen, "nodes") ||
          yajl_gen_array_open(gen) != yajl_gen_status_ok;
    size_t shown = 0, left = 0, bytes = 0;
    for (size_t i = 0; !bad && i < ix.n_nodes; i++) {
        const Comfyd__V1__Node *n = ix.nodes[i];
        if (n_ids && !id_wanted(ids, n_ids, n->id)) continue;
        if (shown >= TOOLSPEC_MAX_OUTLINE_NODES || bytes > TOOLSPEC_MAX_RESULT - 4096) {
            left++;
            continue;
        }
        text_buf line = {0};
        outline_line(&line, &ix, n);
        if (line.oom) {
            free(line.p);
            bad = 1;
            break;
        }
        bad = g_strn(gen, line.p, line.n);
        bytes += line.n + 4;
        free(line.p);
        shown++;
    }
    bad = bad || yajl_gen_array_close(gen) != yajl_gen_status_ok;
    if (!bad && left) {
        char more[160];
        snprintf(more, sizeof more, "%zu more nodes not shown: ask for them with node_ids", left);
        bad = g_kv(gen, "more", more);
    }
    if (!bad && n_ids) {
        int any = 0;
        for (size_t i = 0; !bad && i < n_ids; i++) {
            if (ix_node(&ix, ids[i])) continue;
            if (!any) bad = g_str(gen, "not_found") || yajl_gen_array_open(gen);
            any = 1;
            bad = bad || g_i64(gen, ids[i]);
        }
        if (any && !bad) bad = yajl_gen_array_close(gen) != yajl_gen_status_ok;
    }
    if (!bad && g->stale)
        bad = g_kv(gen, "hint",
                   "No tab is attached: this mirror may be out of date and cannot be changed.");
    bad = bad || yajl_gen_map_close(gen) != yajl_gen_status_ok;
    gindex_free(&ix);
    return gen_done(gen, bad);
}

/* The Graph message restricted to the nodes asked for (all when none) and
 * the links touching them, as JSON; NULL when out of memory. */
static char *graph_full(const Comfyd__V1__Graph *g, const int64_t *ids, size_t n_ids)
{
    Comfyd__V1__Graph view = *g;
    Comfyd__V1__Node **nodes = malloc((g->n_nodes ? g->n_nodes : 1) * sizeof *nodes);
    Comfyd__V1__Link **links = malloc((g->n_links ? g->n_links : 1) * sizeof *links);
    char *out = NULL;
    if (!nodes || !links) goto done;
    view.n_nodes = 0;
    view.n_links = 0;
    for (size_t i = 0; i < g->n_nodes; i++)
        if (!n_ids || id_wanted(ids, n_ids, g->nodes[i]->id)) nodes[view.n_nodes++] = g->nodes[i];
    for (size_t i = 0; i < g->n_links; i++) {
        const Comfyd__V1__Link *l = g->links[i];
        if (!n_ids || id_wanted(ids, n_ids, l->from_id) || id_wanted(ids, n_ids, l->to_id))
            links[view.n_links++] = g->links[i];
    }
    view.nodes = nodes;
    view.links = links;
    size_t len = 0;
    jsonpb_encode(&view.base, NULL, &out, &len, NULL, 0);
done:
    free(nodes);
    free(links);
    return out;
}

/* ---- patches ---- */

static char *patch_json(const Comfyd__V1__ExecuteBatchResponse *r, int validate_only,
                        const char *hint)
{
    yajl_gen g = gen_new();
    if (!g) return NULL;
    int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_str(g, "ok") || g_bool(g, r->ok);
    if (!bad && validate_only) bad = g_str(g, "validate_only") || g_bool(g, 1);
    bad =
        bad || g_kv(g, "canvas_id", r->canvas_id) || g_str(g, "revision") || g_u64(g, r->revision);
    if (!bad && r->replayed) bad = g_str(g, "replayed") || g_bool(g, 1);
    if (!bad && r->rebased)
        bad = g_str(g, "rebased") || g_bool(g, 1) || g_str(g, "rebased_from") ||
              g_u64(g, r->rebased_from);
    if (!bad && r->preview && r->preview->outcome) {
        /* Preview before apply: what the user decided (accepted, rejected,
         * timed_out, unavailable). */
        static const char *const outcomes[] = {"", "accepted", "rejected", "timed_out",
                                               "unavailable"};
        unsigned o = (unsigned)r->preview->outcome;
        bad = g_str(g, "preview") || yajl_gen_map_open(g) != yajl_gen_status_ok ||
              g_kv(g, "outcome", o < sizeof outcomes / sizeof outcomes[0] ? outcomes[o] : "") ||
              (r->preview->decided_by && *r->preview->decided_by &&
               g_kv(g, "decided_by", r->preview->decided_by)) ||
              g_str(g, "waited_ms") || g_u64(g, r->preview->waited_ms) ||
              yajl_gen_map_close(g) != yajl_gen_status_ok;
    }
    if (!bad && r->n_refs) {
        bad = g_str(g, "refs") || yajl_gen_map_open(g) != yajl_gen_status_ok;
        for (size_t i = 0; !bad && i < r->n_refs; i++)
            bad = g_str(g, r->refs[i]->key) || g_i64(g, r->refs[i]->value);
        bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    }
    /* Results of commands that did something; errors are listed below. */
    int any = 0;
    for (size_t i = 0; !bad && i < r->n_results; i++) {
        const Comfyd__V1__CommandResult *c = r->results[i];
        if (!c->ok || (!c->node_id && !c->link_id && !c->value)) continue;
        if (!any) bad = g_str(g, "results") || yajl_gen_array_open(g) != yajl_gen_status_ok;
        any = 1;
        bad = bad || yajl_gen_map_open(g) != yajl_gen_status_ok || g_str(g, "index") ||
              g_i64(g, c->index);
        if (!bad && c->node_id) bad = g_str(g, "node_id") || g_i64(g, c->node_id);
        if (!bad && c->link_id) bad = g_str(g, "link_id") || g_i64(g, c->link_id);
        if (!bad && c->value) bad = g_str(g, "value") || g_value(g, c->value);
        bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    }
    if (any && !bad) bad = yajl_gen_array_close(g) != yajl_gen_status_ok;
    if (!bad && r->n_errors) {
        bad = g_str(g, "errors") || yajl_gen_array_open(g) != yajl_gen_status_ok;
        for (size_t i = 0; !bad && i < r->n_errors; i++) {
            const Comfyd__V1__GraphError *e = r->errors[i];
            bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_str(g, "index") ||
                  g_i64(g, e->index) || g_kv(g, "code", toolspec_code_name(e->code)) ||
                  g_kv(g, "message", e->message);
            if (!bad && e->n_suggestions) {
                bad = g_str(g, "suggestions") || yajl_gen_array_open(g) != yajl_gen_status_ok;
                for (size_t k = 0; !bad && k < e->n_suggestions; k++)
                    bad = g_str(g, e->suggestions[k]);
                bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok;
            }
            if (!bad && e->n_conflicts) {
                /* What a stale command touches that changed since its base
                 * (RevisionConflict; origin as "user", "agent", "load"). */
                static const jsonpb_enum_override lower[] = {
                    {&comfyd__v1__graph_origin__descriptor, JSONPB_ENUM_LOWER}};
                jsonpb_opts o = {0};
                o.enum_overrides = lower;
                o.n_enum_overrides = 1;
                bad = g_str(g, "conflicts") || yajl_gen_array_open(g) != yajl_gen_status_ok;
                for (size_t k = 0; !bad && k < e->n_conflicts; k++)
                    bad = jsonpb_encode_gen(g, &e->conflicts[k]->base, &o, NULL, 0) != 0;
                bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok;
            }
            if (!bad && e->lease) {
                /* LEASED: the lease in the way (holder, nodes, expires_ms)
                 * and the node of the command it covers. */
                static const jsonpb_enum_override lower[] = {
                    {&comfyd__v1__actor_kind__descriptor, JSONPB_ENUM_LOWER}};
                jsonpb_opts o = {0};
                o.enum_overrides = lower;
                o.n_enum_overrides = 1;
                bad = g_str(g, "leased_node_id") || g_i64(g, e->leased_node_id) ||
                      g_str(g, "lease") || jsonpb_encode_gen(g, &e->lease->base, &o, NULL, 0) != 0;
            }
            bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
        }
        bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok;
    }
    if (!bad && hint) bad = g_kv(g, "hint", hint);
    bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    return gen_done(g, bad);
}

/* The first request-level error code of a response (index -1), or the
 * first error's. */
static Comfyd__V1__GraphErrorCode first_code(const Comfyd__V1__ExecuteBatchResponse *r)
{
    for (size_t i = 0; i < r->n_errors; i++)
        if (r->errors[i]->index < 0) return r->errors[i]->code;
    return r->n_errors ? r->errors[0]->code : 0;
}

/* A hint for a graph-level error code (NULL: none). */
const char *toolspec_hint(Comfyd__V1__GraphErrorCode code)
{
    switch (code) {
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NO_LIVE_CANVAS:
        return "No ComfyUI tab has this canvas open: tell the user to open the workflow in "
               "ComfyUI; do not pretend a change was made.";
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_AMBIGUOUS_CANVAS:
        return "Several canvases are open and none has focus: pass canvas_id.";
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_CANVAS_NOT_FOUND:
        return "No canvas has that id; call get_graph without canvas_id for the focused one.";
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_EDITOR_TIMEOUT:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_EDITOR_GONE:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_EDITOR_FAILED:
        return "The tab did not confirm the change: call get_graph to see what the canvas holds "
               "now before trying again.";
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_LEASED:
        return "Another caller holds a lease on these nodes (the error names it and when it "
               "expires): work on other nodes, or wait and read the graph again; do not retry "
               "the same change at once.";
    default:
        return NULL;
    }
}

/* ---- the definitions ---- */

#define CANVAS_ID_PROP                                                                             \
    "\"canvas_id\":{\"type\":\"string\",\"description\":\"The canvas; omit it for the one you "    \
    "last read (or the focused one).\"}"

/* The patch tools' arguments are an ExecuteBatchRequest (see tools.c's
 * decode): their schema is generated from its descriptor, so every command
 * of the Command oneof is in it as jsonpb decodes it (flattened, refs and
 * values as bare scalars). What a descriptor cannot say is added here:
 * descriptions, the fields a command needs, and limits. get_graph is left
 * out (the get_graph tool reads), and so are the request fields the tools
 * set themselves. */
static const ProtobufCMessageDescriptor *const patch_flatten[] = {&comfyd__v1__command__descriptor};
static const char *const patch_skip[] = {"idempotency_key", "validate_only", "timeout_ms",
                                         "commands.get_graph"};
static const char *const patch_required[] = {
    "commands",
    "commands.create_node.node_type",
    "commands.remove_node.node_id",
    "commands.connect.from_id",
    "commands.connect.from_slot",
    "commands.connect.to_id",
    "commands.connect.to_slot",
    "commands.disconnect.node_id",
    "commands.disconnect.slot",
    "commands.set_widget.node_id",
    "commands.set_widget.name",
    "commands.set_widget.value",
    "commands.move_node.node_id",
    "commands.move_node.x",
    "commands.move_node.y",
};
static const jsonpb_field_doc patch_docs[] = {
    {"canvas_id", "The canvas; omit it for the one you last read (or the focused one)."},
    {"commands", "Graph commands, applied in order as one step."},
    {"base_revision",
     "The revision the patch was built on. Default: the revision of the state you last saw "
     "(your last get_graph or applied patch). When the canvas moved on since, the patch is "
     "rebased when it touches nothing that changed (the answer says rebased) and refused with "
     "STALE_REVISION and the conflicts otherwise."},
    {"on_stale",
     "rebase (default): apply a patch whose base_revision is behind when it touches nothing "
     "that changed since; reject: refuse it whenever the canvas moved on."},
    {"apply_mode",
     "apply (default): apply at once; preview: show the patch to the user (the canvas's tab, or "
     "your MCP client when it supports elicitation) and apply it only when accepted, validated "
     "again against the graph as it is then; preview_if_shown: preview only when a tab that can "
     "show it is attached. The answer's preview.outcome says accepted, rejected or timed_out "
     "(nothing was applied unless accepted)."},
    {"preview_timeout_ms",
     "How long a preview waits for the user's decision (default 60000, at most 600000)."},
    {"mode",
     "atomic (default): nothing is applied when any command is invalid; partial: the valid ones "
     "are."},
    {"comfyd.v1.NodeRef",
     "A node id on the canvas, or the ref of a create_node earlier in this patch."},
    {"comfyd.v1.SlotRef", "A slot index (0-based) or name."},
    {"commands.create_node.node_type", "Exact class name, e.g. KSampler."},
    {"commands.create_node.ref",
     "A name later commands of this patch use instead of the new node's id."},
    {"commands.create_node.x",
     "Omit x and y: the canvas places the node right of what feeds it, without overlaps."},
    {"commands.create_node.widgets", "Widget name -> value."},
    {"commands.arrange.node_ids", "The nodes to lay out; omit for the whole graph."},
    {"commands.arrange.x", "Left edge of the layout (default: the nodes' current one)."},
    {"commands.arrange.y", "Top edge."},
    {"commands.arrange.spacing", "Gap between columns and nodes (default 60)."},
};
/* The core's GRAPH_MAX_BATCH, GRAPH_MAX_NODES and GRAPH_MAX_SPACING, and
 * CANVAS_MAX_PREVIEW_MS. */
static const jsonpb_field_keywords patch_keywords[] = {
    {"preview_timeout_ms", "\"maximum\":600000"},
    {"commands", "\"minItems\":1,\"maxItems\":1000"},
    {"commands.arrange.node_ids", "\"maxItems\":10000"},
    {"commands.arrange.spacing", "\"minimum\":0,\"maximum\":10000"},
};

/* parameters_json of the patch tools is generated on first use. */
static toolspec_def defs[TOOLSPEC__COUNT] = {
    {"get_graph",
     "Reads the live canvas. detail \"outline\" (default): one line per node with id, type, "
     "title, widget values and links (in: input<-#node.output, out: output->#node.input), plus "
     "the revision and whether the mirror is stale. detail \"full\": every field of the nodes "
     "asked for in node_ids (all when omitted).",
     "{\"type\":\"object\",\"properties\":{" CANVAS_ID_PROP
     ",\"detail\":{\"enum\":[\"outline\",\"full\"]},\"node_ids\":{\"type\":\"array\",\"items\":{"
     "\"type\":\"integer\"},\"maxItems\":200,\"description\":\"Only these nodes.\"}},"
     "\"additionalProperties\":false}",
     1},
    {"search_node_types",
     "Finds node classes by words (\"controlnet apply\", \"face detailer\", \"lora\"): "
     "matched against names (CamelCase split), display names, categories, descriptions and "
     "input/output types, misspellings tolerated; exact names first, core nodes first on ties, "
     "optionally within a category.",
     "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\"},\"category\":{"
     "\"type\":\"string\",\"description\":\"e.g. sampling, loaders, image/upscaling\"},\"limit\":{"
     "\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"description\":\"Default 20.\"}},"
     "\"required\":[\"query\"],\"additionalProperties\":false}",
     1},
    {"get_node_schema",
     "One node class: its inputs (type, required, widget default, min, max, step, allowed "
     "options) and its outputs with their slot indexes.",
     "{\"type\":\"object\",\"properties\":{\"node_type\":{\"type\":\"string\",\"description\":"
     "\"Exact class name, e.g. KSampler.\"}},\"required\":[\"node_type\"],"
     "\"additionalProperties\":false}",
     1},
    {"validate_patch",
     "Checks a patch against the canvas and the node schema without changing anything and "
     "returns every error at once, with suggestions for misspelled names.",
     NULL, 1},
    {"apply_patch",
     "Applies a patch to the live canvas as one undoable step and returns what the tab "
     "confirmed: node ids for refs, link ids, values read back and the new revision. When "
     "the canvas changed since you read it, the patch is rebased if it touches nothing that "
     "changed (rebased: true), else refused with STALE_REVISION and the conflicts (which "
     "command, node, input or widget, who changed it in which revision, its value now).",
     NULL, 0},
    {
        "queue",
        "Queues the canvas's workflow in ComfyUI and returns the prompt id.",
        "{\"type\":\"object\",\"properties\":{" CANVAS_ID_PROP "},\"additionalProperties\":false}",
        0,
    },
    {"run",
     "Queues the canvas's workflow in ComfyUI and waits for it (up to wait_ms): returns the run "
     "with its status (succeeded, failed, interrupted, cancelled, unknown), its outputs (images "
     "by node and index, see view_output) or a failure report naming each failing node, its "
     "title, the input and what ComfyUI said (with the allowed values of a combo). A run still "
     "going when wait_ms passes is answered with timed_out true: follow it with get_run.",
     "{\"type\":\"object\",\"properties\":{" CANVAS_ID_PROP
     ",\"wait_ms\":{\"type\":\"integer\",\"minimum\":1000,\"maximum\":600000,\"description\":"
     "\"How long to wait for the run (default 60000). The run goes on after a timeout.\"}},"
     "\"additionalProperties\":false}",
     0},
    {"get_run",
     "The state of a run by prompt id: status, the node executing, progress, outputs or the "
     "failure report.",
     "{\"type\":\"object\",\"properties\":{\"prompt_id\":{\"type\":\"string\"}},\"required\":"
     "[\"prompt_id\"],\"additionalProperties\":false}",
     1},
    {"cancel_run",
     "Cancels a run: removes it from ComfyUI's queue, or interrupts it when it is running.",
     "{\"type\":\"object\",\"properties\":{\"prompt_id\":{\"type\":\"string\"}},\"required\":"
     "[\"prompt_id\"],\"additionalProperties\":false}",
     0},
    {"view_output",
     "Looks at an output image of a run (node_id and index as get_run lists them in outputs).",
     "{\"type\":\"object\",\"properties\":{\"prompt_id\":{\"type\":\"string\"},\"node_id\":{"
     "\"type\":\"string\"},\"index\":{\"type\":\"integer\",\"minimum\":0,\"description\":"
     "\"Default 0.\"}},\"required\":[\"prompt_id\",\"node_id\"],\"additionalProperties\":false}",
     1},
    {"lease",
     "Takes, renews, releases or lists leases on nodes of the canvas. While you hold a lease, "
     "other callers' patches that change those nodes (or create a node inside a leased group) "
     "are refused with LEASED, so concurrent skills and clients can work on separate parts of "
     "the graph. The user's edits always win: the diff marks a user edit of a leased node with "
     "lease_id. A skill's leases end with its turn; others expire after ttl_ms unless renewed. "
     "acquire: node_ids and/or group (a group's title or id) -> the lease with its id and "
     "expires_ms; renew or release: lease_id (release without one: all of yours); list: every "
     "lease of the canvas.",
     "{\"type\":\"object\",\"properties\":{" CANVAS_ID_PROP
     ",\"action\":{\"type\":\"string\",\"enum\":[\"acquire\",\"renew\",\"release\",\"list\"]},"
     "\"node_ids\":{\"type\":\"array\",\"items\":{\"type\":\"integer\",\"minimum\":1},"
     "\"maxItems\":2048},\"group\":{\"type\":\"string\",\"maxLength\":256,\"description\":"
     "\"A group of the workflow by its title or id: its nodes, and nodes created inside it.\"},"
     "\"ttl_ms\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":600000,\"description\":"
     "\"acquire, renew: how long (0 or omitted: 60000; at least 1000).\"},\"lease_id\":{"
     "\"type\":\"integer\",\"minimum\":0}},\"required\":[\"action\"],"
     "\"additionalProperties\":false}",
     0},
};

/* Argument names of each tool, as its schema lists them. */
static const char *const keys_get_graph[] = {"canvas_id", "detail", "node_ids"};
static const char *const keys_search[] = {"query", "category", "limit"};
static const char *const keys_schema[] = {"node_type"};
static const char *const keys_patch[] = {"commands",          "base_revision", "mode",
                                         "canvas_id",         "on_stale",      "apply_mode",
                                         "preview_timeout_ms"};
static const char *const keys_queue[] = {"canvas_id"};
static const char *const keys_run[] = {"canvas_id", "wait_ms"};
static const char *const keys_run_id[] = {"prompt_id"};
static const char *const keys_output[] = {"prompt_id", "node_id", "index"};
static const char *const keys_lease[] = {"canvas_id", "action", "node_ids",
                                         "group",     "ttl_ms", "lease_id"};

static const struct {
    const char *const *keys;
    size_t n;
} arg_keys[TOOLSPEC__COUNT] = {
    {keys_get_graph, 3}, {keys_search, 3}, {keys_schema, 1}, {keys_patch, 7},
    {keys_patch, 7},     {keys_queue, 1},  {keys_run, 2},    {keys_run_id, 1},
    {keys_run_id, 1},    {keys_output, 3}, {keys_lease, 6},
};

static pthread_once_t patch_once = PTHREAD_ONCE_INIT;

/* The patch tools' schema, once per process (it never changes; the text
 * stays for the process's life). */
static void patch_schema_init(void)
{
    jsonpb_schema_opts o = {
        .docs = patch_docs,
        .n_docs = sizeof patch_docs / sizeof patch_docs[0],
        .skip = patch_skip,
        .n_skip = sizeof patch_skip / sizeof patch_skip[0],
        .required = patch_required,
        .n_required = sizeof patch_required / sizeof patch_required[0],
        .flatten = patch_flatten,
        .n_flatten = 1,
        .keywords = patch_keywords,
        .n_keywords = sizeof patch_keywords / sizeof patch_keywords[0],
    };
    char *json = NULL;
    /* Fails only without memory at start-up (the descriptor is fixed and
     * the unit tests build it): nothing can run without it. */
    if (jsonpb_schema(&comfyd__v1__execute_batch_request__descriptor, &o, &json, NULL) !=
        JSONPB_SCHEMA_OK)
        abort();
    defs[TOOLSPEC_VALIDATE_PATCH].parameters_json = json;
    defs[TOOLSPEC_APPLY_PATCH].parameters_json = json;
}

const toolspec_def *toolspec_get(toolspec_id id)
{
    if ((unsigned)id >= TOOLSPEC__COUNT) return NULL;
    pthread_once(&patch_once, patch_schema_init);
    return &defs[id];
}

const char *toolspec_code_name(Comfyd__V1__GraphErrorCode code)
{
    static const char prefix[] = "GRAPH_ERROR_CODE_";
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&comfyd__v1__graph_error_code__descriptor, code);
    if (!v) return "UNSPECIFIED";
    if (strncmp(v->name, prefix, sizeof prefix - 1) == 0) return v->name + sizeof prefix - 1;
    return v->name;
}

char *toolspec_error(const char *code, const char *hint, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* vsnprintf may have cut a character in two. */
    size_t len = strlen(msg);
    while (len && !text_utf8_valid(msg, len))
        msg[--len] = 0;
    yajl_gen g = gen_new();
    if (!g) return NULL;
    int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "error", msg);
    if (!bad && code) bad = g_kv(g, "code", code);
    if (!bad && hint) bad = g_kv(g, "hint", hint);
    bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    return gen_done(g, bad);
}

int toolspec_check_args(toolspec_id id, yajl_val v, char **err)
{
    *err = NULL;
    if ((unsigned)id >= TOOLSPEC__COUNT) {
        *err = toolspec_error("INVALID_ARGUMENT", NULL, "unknown tool");
        return -1;
    }
    if (!YAJL_IS_OBJECT(v)) {
        *err = toolspec_error("INVALID_ARGUMENT", NULL, "arguments must be a JSON object");
        return -1;
    }
    const char *const *keys = arg_keys[id].keys;
    size_t n_keys = arg_keys[id].n;
    for (size_t i = 0; i < v->u.object.len; i++) {
        const char *k = v->u.object.keys[i];
        size_t j = 0;
        while (j < n_keys && strcmp(keys[j], k) != 0)
            j++;
        if (j < n_keys) continue;
        char list[256] = "";
        for (size_t m = 0; m < n_keys; m++) {
            strncat(list, m ? ", " : "", sizeof list - strlen(list) - 1);
            strncat(list, keys[m], sizeof list - strlen(list) - 1);
        }
        *err = toolspec_error("INVALID_ARGUMENT", NULL, "unknown argument '%.64s'; expected %s%s",
                              k, n_keys ? "one of " : "none", list);
        return -1;
    }
    return 0;
}

/* The value of key, NULL when absent or null. */
static yajl_val arg(yajl_val v, const char *key)
{
    for (size_t i = 0; i < v->u.object.len; i++)
        if (strcmp(v->u.object.keys[i], key) == 0)
            return YAJL_IS_NULL(v->u.object.values[i]) ? NULL : v->u.object.values[i];
    return NULL;
}

/* An optional string argument: *out borrowed from the tree ("" when
 * absent). Returns 0, or -1 with *err set. */
static int arg_str(yajl_val v, const char *key, size_t max, const char **out, char **err)
{
    yajl_val s = arg(v, key);
    *out = "";
    if (!s) return 0;
    if (!YAJL_IS_STRING(s)) {
        *err = toolspec_error("INVALID_ARGUMENT", NULL, "%s: expected a string", key);
        return -1;
    }
    if (strlen(s->u.string) > max) {
        *err = toolspec_error("INVALID_ARGUMENT", NULL, "%s: longer than %zu bytes", key, max);
        return -1;
    }
    *out = s->u.string;
    return 0;
}

int toolspec_get_graph_args(yajl_val v, const char **canvas_id, int *full,
                            int64_t ids[TOOLSPEC_MAX_NODE_IDS], size_t *n_ids, char **err)
{
    const char *detail;
    *n_ids = 0;
    *full = 0;
    if (arg_str(v, "canvas_id", TOOLSPEC_MAX_CANVAS_ID, canvas_id, err) ||
        arg_str(v, "detail", 16, &detail, err))
        return -1;
    *full = strcmp(detail, "full") == 0;
    if (!*full && *detail && strcmp(detail, "outline") != 0) {
        *err = toolspec_error("INVALID_ARGUMENT", NULL, "detail: expected \"outline\" or \"full\"");
        return -1;
    }
    yajl_val idv = arg(v, "node_ids");
    if (!idv) return 0;
    if (!YAJL_IS_ARRAY(idv) || idv->u.array.len > TOOLSPEC_MAX_NODE_IDS) {
        *err = toolspec_error("INVALID_ARGUMENT", NULL,
                              "node_ids: expected an array of at most %d node ids",
                              TOOLSPEC_MAX_NODE_IDS);
        return -1;
    }
    for (size_t i = 0; i < idv->u.array.len; i++) {
        yajl_val e = idv->u.array.values[i];
        if (!YAJL_IS_INTEGER(e)) {
            *err =
                toolspec_error("INVALID_ARGUMENT", NULL, "node_ids[%zu]: expected an integer", i);
            return -1;
        }
        ids[(*n_ids)++] = YAJL_GET_INTEGER(e);
    }
    return 0;
}

int toolspec_schema_args(yajl_val v, const char **node_type, char **err)
{
    if (arg_str(v, "node_type", TOOLSPEC_MAX_TYPE_NAME, node_type, err)) return -1;
    if (!**node_type) {
        *err = toolspec_error("INVALID_ARGUMENT", NULL, "node_type is required");
        return -1;
    }
    return 0;
}

char *toolspec_no_commands(void)
{
    return toolspec_error("INVALID_ARGUMENT", NULL,
                          "commands: give at least one command, e.g. {\"type\": \"set_widget\", "
                          "\"node_id\": 3, \"name\": \"steps\", \"value\": 20}");
}

int toolspec_graph_full(const Comfyd__V1__Graph *g, const int64_t *ids, size_t n_ids, char **out)
{
    *out = graph_full(g, ids, n_ids);
    if (!*out) return -1;
    size_t len = strlen(*out);
    if (len <= TOOLSPEC_MAX_RESULT) return 0;
    free(*out);
    *out = toolspec_error("TOO_LARGE", NULL,
                          "the full graph is %zu bytes; ask for fewer nodes with node_ids (the "
                          "outline lists them)",
                          len);
    return -1;
}

char *toolspec_patch_result(const Comfyd__V1__ExecuteBatchResponse *r, int validate_only,
                            int has_base, uint64_t base)
{
    const char *hint = NULL;
    char stale[320];
    if (!r->ok) {
        Comfyd__V1__GraphErrorCode code = first_code(r);
        int conflicts = 0;
        for (size_t i = 0; i < r->n_errors; i++)
            conflicts |= r->errors[i]->n_conflicts != 0;
        if (code == COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_STALE_REVISION && conflicts) {
            snprintf(stale, sizeof stale,
                     "The canvas changed after the state this patch was built on (base revision "
                     "%llu, now %llu) and the commands with conflicts touch what changed. "
                     "Nothing was %s. Call get_graph, rebuild those commands on the current "
                     "graph, then send the patch again.",
                     (unsigned long long)base, (unsigned long long)r->revision,
                     validate_only ? "checked" : "applied");
            hint = stale;
        } else if (code == COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_STALE_REVISION) {
            if (has_base)
                snprintf(stale, sizeof stale,
                         "The canvas changed after the state this patch was built on (base "
                         "revision %llu, now %llu). Nothing was %s. Call get_graph, rebuild the "
                         "patch on the current graph, then send it again.",
                         (unsigned long long)base, (unsigned long long)r->revision,
                         validate_only ? "checked" : "applied");
            else
                snprintf(stale, sizeof stale,
                         "The canvas changed (now at revision %llu). Nothing was %s. Call "
                         "get_graph, rebuild the patch on the current graph, then send it again.",
                         (unsigned long long)r->revision, validate_only ? "checked" : "applied");
            hint = stale;
        } else if (toolspec_hint(code)) {
            hint = toolspec_hint(code);
        } else if (validate_only) {
            hint = "Fix every error (see the suggestions) and validate again.";
        } else {
            hint = "Fix every error (see the suggestions) and send the whole patch again; an "
                   "atomic patch applies nothing when a command is invalid.";
        }
    }
    return patch_json(r, validate_only, hint);
}

/* ---- runs ---- */

static yajl_val run_arg(yajl_val args, const char *key)
{
    return args && YAJL_IS_OBJECT(args) ? arg(args, key) : NULL;
}

int toolspec_run_args(yajl_val args, const char **canvas_id, uint32_t *wait_ms, char **err)
{
    *err = NULL;
    *canvas_id = "";
    *wait_ms = TOOLSPEC_RUN_WAIT_DEFAULT_MS;
    yajl_val c = run_arg(args, "canvas_id"), w = run_arg(args, "wait_ms");
    if (c && !YAJL_IS_NULL(c)) {
        if (!YAJL_IS_STRING(c) || strlen(c->u.string) > TOOLSPEC_MAX_CANVAS_ID) {
            *err =
                toolspec_error("INVALID_ARGUMENT", NULL, "canvas_id: a string of at most %d bytes",
                               TOOLSPEC_MAX_CANVAS_ID);
            return -1;
        }
        *canvas_id = c->u.string;
    }
    if (w && !YAJL_IS_NULL(w)) {
        if (!YAJL_IS_INTEGER(w) || YAJL_GET_INTEGER(w) < 1000 ||
            YAJL_GET_INTEGER(w) > TOOLSPEC_RUN_WAIT_MAX_MS) {
            *err = toolspec_error("INVALID_ARGUMENT", NULL,
                                  "wait_ms: expected an integer from 1000 to %d",
                                  TOOLSPEC_RUN_WAIT_MAX_MS);
            return -1;
        }
        *wait_ms = (uint32_t)YAJL_GET_INTEGER(w);
    }
    return 0;
}

static int id_arg(yajl_val args, const char *key, const char **out, char **err)
{
    yajl_val v = run_arg(args, key);
    if (!v || !YAJL_IS_STRING(v) || !*v->u.string || strlen(v->u.string) > TOOLSPEC_MAX_RUN_ID) {
        *err = toolspec_error("INVALID_ARGUMENT", NULL, "%s is required: a string of 1..%d bytes",
                              key, TOOLSPEC_MAX_RUN_ID);
        return -1;
    }
    *out = v->u.string;
    return 0;
}

int toolspec_run_id_args(yajl_val args, int output, const char **prompt_id, const char **node_id,
                         uint32_t *index, char **err)
{
    *err = NULL;
    if (node_id) *node_id = "";
    if (index) *index = 0;
    if (id_arg(args, "prompt_id", prompt_id, err)) return -1;
    if (!output) return 0;
    if (id_arg(args, "node_id", node_id, err)) return -1;
    yajl_val i = run_arg(args, "index");
    if (i && !YAJL_IS_NULL(i)) {
        if (!YAJL_IS_INTEGER(i) || YAJL_GET_INTEGER(i) < 0 || YAJL_GET_INTEGER(i) > 100000) {
            *err = toolspec_error("INVALID_ARGUMENT", NULL, "index: a non-negative integer");
            return -1;
        }
        *index = (uint32_t)YAJL_GET_INTEGER(i);
    }
    return 0;
}

const char *toolspec_run_status(Comfyd__V1__RunStatus s)
{
    switch (s) {
    case COMFYD__V1__RUN_STATUS__RUN_STATUS_QUEUED:
        return "queued";
    case COMFYD__V1__RUN_STATUS__RUN_STATUS_RUNNING:
        return "running";
    case COMFYD__V1__RUN_STATUS__RUN_STATUS_SUCCEEDED:
        return "succeeded";
    case COMFYD__V1__RUN_STATUS__RUN_STATUS_FAILED:
        return "failed";
    case COMFYD__V1__RUN_STATUS__RUN_STATUS_INTERRUPTED:
        return "interrupted";
    case COMFYD__V1__RUN_STATUS__RUN_STATUS_CANCELLED:
        return "cancelled";
    case COMFYD__V1__RUN_STATUS__RUN_STATUS_UNKNOWN:
        return "unknown";
    default:
        return "unspecified";
    }
}

void toolspec_run_line(const Comfyd__V1__Run *r, char *out, size_t len)
{
    const char *st = toolspec_run_status(r->status);
    if (r->status == COMFYD__V1__RUN_STATUS__RUN_STATUS_QUEUED && r->queue_position) {
        snprintf(out, len, "queued (position %u)", r->queue_position);
        return;
    }
    if (r->status == COMFYD__V1__RUN_STATUS__RUN_STATUS_RUNNING && r->executing_node &&
        *r->executing_node) {
        const Comfyd__V1__NodeProgress *p = NULL;
        for (size_t i = 0; i < r->n_progress; i++)
            if (!strcmp(r->progress[i]->node_id, r->executing_node)) p = r->progress[i];
        if (p && p->max > 0)
            snprintf(out, len, "running node %s (%.0f/%.0f)", r->executing_node, p->value, p->max);
        else
            snprintf(out, len, "running node %s", r->executing_node);
        return;
    }
    if (r->reason && *r->reason)
        snprintf(out, len, "%s: %s", st, r->reason);
    else
        snprintf(out, len, "%s", st);
}

static int g_strs(yajl_gen g, const char *key, char *const *v, size_t n)
{
    if (g_str(g, key) || yajl_gen_array_open(g) != yajl_gen_status_ok) return -1;
    for (size_t i = 0; i < n; i++)
        if (g_cut(g, v[i], TOOLSPEC_MAX_DESCRIPTION)) return -1;
    return yajl_gen_array_close(g) != yajl_gen_status_ok;
}

/* The failure report: what a model needs to fix the workflow. */
static int g_failure(yajl_gen g, const Comfyd__V1__Run *r)
{
    if (g_str(g, "failure") || yajl_gen_map_open(g) != yajl_gen_status_ok) return -1;
    char summary[512];
    if (r->n_node_errors)
        snprintf(summary, sizeof summary, "ComfyUI refused the prompt: %s (%zu node error%s)",
                 r->prompt_error && *r->prompt_error ? r->prompt_error : "validation failed",
                 r->n_node_errors, r->n_node_errors == 1 ? "" : "s");
    else
        snprintf(summary, sizeof summary, "%s", r->reason ? r->reason : "");
    size_t sl = strlen(summary);
    while (sl && !text_utf8_valid(summary, sl))
        summary[--sl] = 0;
    if (g_kv(g, "summary", summary) || g_str(g, "errors") ||
        yajl_gen_array_open(g) != yajl_gen_status_ok)
        return -1;
    for (size_t i = 0; i < r->n_node_errors; i++) {
        const Comfyd__V1__RunNodeError *e = r->node_errors[i];
        if (yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "node_id", e->node_id) ||
            g_kv(g, "title", e->title) || g_kv(g, "node_type", e->node_type) ||
            g_kv(g, "input", e->input_name) || g_kv(g, "type", e->type) ||
            g_kv(g, "message", e->message) || g_str(g, "details") ||
            g_cut(g, e->details, TOOLSPEC_MAX_DESCRIPTION))
            return -1;
        if (e->n_allowed_values &&
            g_strs(g, "allowed_values", e->allowed_values, e->n_allowed_values))
            return -1;
        if (yajl_gen_map_close(g) != yajl_gen_status_ok) return -1;
    }
    if (yajl_gen_array_close(g) != yajl_gen_status_ok) return -1;
    const Comfyd__V1__RunExecutionError *x = r->execution_error;
    if (x) {
        if (g_str(g, "exception") || yajl_gen_map_open(g) != yajl_gen_status_ok ||
            g_kv(g, "node_id", x->node_id) || g_kv(g, "title", x->title) ||
            g_kv(g, "node_type", x->node_type) || g_kv(g, "type", x->exception_type) ||
            g_str(g, "message") || g_cut(g, x->exception_message, 2 * TOOLSPEC_MAX_DESCRIPTION))
            return -1;
        /* The last lines say where it was raised. */
        size_t from = x->n_traceback > 4 ? x->n_traceback - 4 : 0;
        if (g_strs(g, "traceback", x->traceback + from, x->n_traceback - from) ||
            yajl_gen_map_close(g) != yajl_gen_status_ok)
            return -1;
    }
    return yajl_gen_map_close(g) != yajl_gen_status_ok;
}

static const char *run_hint(const Comfyd__V1__Run *r, int timed_out)
{
    if (timed_out)
        return "The run goes on in ComfyUI; call get_run with this prompt_id to follow it.";
    switch (r->status) {
    case COMFYD__V1__RUN_STATUS__RUN_STATUS_FAILED:
        if (r->n_node_errors)
            return "Fix each input named in failure.errors (set_widget to one of allowed_values, "
                   "or connect the missing input), then run again.";
        return "Read failure.exception: change the failing node's inputs or replace the node, "
               "then run again.";
    case COMFYD__V1__RUN_STATUS__RUN_STATUS_UNKNOWN:
        return "ComfyUI lost track of the run (see reason); run again once it answers.";
    case COMFYD__V1__RUN_STATUS__RUN_STATUS_SUCCEEDED:
        return r->n_outputs ? "Look at an output with view_output (prompt_id, node_id, index)."
                            : NULL;
    default:
        return NULL;
    }
}

char *toolspec_run_result(const Comfyd__V1__Run *r, int with_timed_out, int timed_out)
{
    yajl_gen g = gen_new();
    if (!g) return NULL;
    int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "prompt_id", r->prompt_id) ||
              g_kv(g, "status", toolspec_run_status(r->status)) ||
              g_kv(g, "canvas_id", r->canvas_id) || g_str(g, "revision") || g_u64(g, r->revision);
    if (!bad && with_timed_out) bad = g_str(g, "timed_out") || g_bool(g, timed_out);
    if (!bad && r->reason && *r->reason) bad = g_str(g, "reason") || g_cut(g, r->reason, 1024);
    if (!bad && r->queue_position) bad = g_str(g, "queue_position") || g_u64(g, r->queue_position);
    if (!bad && r->executing_node && *r->executing_node)
        bad = g_kv(g, "executing_node", r->executing_node);
    if (!bad && r->n_progress && r->status == COMFYD__V1__RUN_STATUS__RUN_STATUS_RUNNING) {
        bad = g_str(g, "progress") || yajl_gen_array_open(g) != yajl_gen_status_ok;
        for (size_t i = 0; !bad && i < r->n_progress; i++)
            bad = yajl_gen_map_open(g) != yajl_gen_status_ok ||
                  g_kv(g, "node_id", r->progress[i]->node_id) || g_str(g, "value") ||
                  g_double(g, r->progress[i]->value) || g_str(g, "max") ||
                  g_double(g, r->progress[i]->max) || yajl_gen_map_close(g) != yajl_gen_status_ok;
        bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok;
    }
    if (!bad && r->started_at_ms) {
        int64_t end = r->ended_at_ms ? r->ended_at_ms : 0;
        if (end) bad = g_str(g, "elapsed_ms") || g_i64(g, end - r->started_at_ms);
    }
    if (!bad) bad = g_str(g, "outputs") || yajl_gen_array_open(g) != yajl_gen_status_ok;
    for (size_t i = 0; !bad && i < r->n_outputs; i++) {
        const Comfyd__V1__RunNodeOutput *o = r->outputs[i];
        for (size_t k = 0; !bad && k < o->n_files; k++)
            bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "node_id", o->node_id) ||
                  g_str(g, "index") || g_u64(g, k) || g_kv(g, "kind", o->files[k]->kind) ||
                  g_kv(g, "filename", o->files[k]->filename) ||
                  g_kv(g, "subfolder", o->files[k]->subfolder) ||
                  g_kv(g, "type", o->files[k]->type) || yajl_gen_map_close(g) != yajl_gen_status_ok;
    }
    bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok;
    if (!bad && (r->status == COMFYD__V1__RUN_STATUS__RUN_STATUS_FAILED || r->n_node_errors ||
                 r->execution_error))
        bad = g_failure(g, r);
    const char *hint = run_hint(r, timed_out);
    if (!bad && hint) bad = g_kv(g, "hint", hint);
    bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    return gen_done(g, bad);
}
