/* toolspec_result: the results of the node type, get_graph and patch
 * tools (toolspec.h): schemas, search hits, the graph's outline and full
 * form, a patch's outcome with its hints. */
#include "toolspec_int.h"

/* ---- node types ---- */

static int g_opt_num(yajl_gen g, const char *key, const Google__Protobuf__DoubleValue *d)
{
    if (!d) return 0;
    return ts_g_str(g, key) || ts_g_double(g, d->value);
}

char *toolspec_schema_result(const Comfyd__V1__NodeType *nt)
{
    yajl_gen g = ts_gen_new();
    if (!g) return NULL;
    int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || ts_g_kv(g, "name", nt->name) ||
              ts_g_kv(g, "display_name", nt->display_name) || ts_g_kv(g, "category", nt->category);
    if (!bad && nt->description && *nt->description)
        bad = ts_g_str(g, "description") || ts_g_cut(g, nt->description, TOOLSPEC_MAX_DESCRIPTION);
    bad = bad || ts_g_str(g, "output_node") || ts_g_bool(g, nt->output_node) ||
          ts_g_str(g, "inputs") || yajl_gen_array_open(g) != yajl_gen_status_ok;
    for (size_t i = 0; !bad && i < nt->n_inputs; i++) {
        const Comfyd__V1__InputSpec *in = nt->inputs[i];
        bad = yajl_gen_map_open(g) != yajl_gen_status_ok || ts_g_kv(g, "name", in->name) ||
              ts_g_kv(g, "type", in->type) || ts_g_str(g, "required") || ts_g_bool(g, in->required);
        if (!bad && in->is_widget) bad = ts_g_str(g, "widget") || ts_g_bool(g, 1);
        if (!bad && in->default_value)
            bad = ts_g_str(g, "default") || ts_g_value(g, in->default_value);
        bad = bad || g_opt_num(g, "min", in->min) || g_opt_num(g, "max", in->max) ||
              g_opt_num(g, "step", in->step);
        if (!bad && in->n_options) {
            bad = ts_g_str(g, "options") || yajl_gen_array_open(g) != yajl_gen_status_ok;
            for (size_t k = 0; !bad && k < in->n_options && k < TOOLSPEC_MAX_OPTIONS; k++)
                bad = ts_g_str(g, in->options[k]);
            bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok;
            if (!bad && in->n_options > TOOLSPEC_MAX_OPTIONS)
                bad = ts_g_str(g, "options_total") || ts_g_u64(g, in->n_options);
        }
        if (!bad && in->multiline) bad = ts_g_str(g, "multiline") || ts_g_bool(g, 1);
        if (!bad && in->tooltip && *in->tooltip)
            bad = ts_g_str(g, "tooltip") || ts_g_cut(g, in->tooltip, TOOLSPEC_MAX_DESCRIPTION);
        bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    }
    bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok || ts_g_str(g, "outputs") ||
          yajl_gen_array_open(g) != yajl_gen_status_ok;
    for (size_t i = 0; !bad && i < nt->n_outputs; i++) {
        const Comfyd__V1__OutputSpec *o = nt->outputs[i];
        bad = yajl_gen_map_open(g) != yajl_gen_status_ok || ts_g_str(g, "slot") || ts_g_u64(g, i) ||
              ts_g_kv(g, "name", o->name) || ts_g_kv(g, "type", o->type);
        if (!bad && o->is_list) bad = ts_g_str(g, "is_list") || ts_g_bool(g, 1);
        bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    }
    bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok ||
          yajl_gen_map_close(g) != yajl_gen_status_ok;
    return ts_gen_done(g, bad);
}

char *toolspec_search_result(const Comfyd__V1__ListNodeTypesResponse *resp)
{
    yajl_gen g = ts_gen_new();
    int bad = !g;
    bad = bad || yajl_gen_map_open(g) != yajl_gen_status_ok || ts_g_str(g, "total") ||
          ts_g_u64(g, resp->total) || ts_g_str(g, "node_types") ||
          yajl_gen_array_open(g) != yajl_gen_status_ok;
    for (size_t i = 0; !bad && i < resp->n_node_types; i++) {
        const Comfyd__V1__NodeType *nt = resp->node_types[i];
        bad = yajl_gen_map_open(g) != yajl_gen_status_ok || ts_g_kv(g, "name", nt->name);
        if (!bad && nt->display_name && *nt->display_name && strcmp(nt->display_name, nt->name))
            bad = ts_g_kv(g, "display_name", nt->display_name);
        bad = bad || ts_g_kv(g, "category", nt->category);
        if (!bad && nt->description && *nt->description)
            bad = ts_g_str(g, "description") ||
                  ts_g_cut(g, nt->description, TOOLSPEC_MAX_DESCRIPTION);
        bad = bad || ts_g_str(g, "outputs") || yajl_gen_array_open(g) != yajl_gen_status_ok;
        for (size_t k = 0; !bad && k < nt->n_outputs; k++)
            bad = ts_g_str(g, nt->outputs[k]->type);
        bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok;
        if (!bad && nt->output_node) bad = ts_g_str(g, "output_node") || ts_g_bool(g, 1);
        bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    }
    bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok;
    if (!bad && resp->total > resp->n_node_types) {
        char more[160];
        snprintf(more, sizeof more, "%u more matches: narrow the query or raise limit (at most %d)",
                 (unsigned)(resp->total - resp->n_node_types), TOOLSPEC_SEARCH_MAX);
        bad = ts_g_kv(g, "more", more);
    }
    bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    return g ? ts_gen_done(g, bad) : NULL;
}

char *toolspec_unknown_type(const char *name, const char *const *sugg, size_t n)
{
    yajl_gen g = ts_gen_new();
    char *out = NULL;
    if (g) {
        char msg[TOOLSPEC_MAX_TYPE_NAME + 64];
        snprintf(msg, sizeof msg, "unknown node type '%s'", name);
        size_t len = strlen(msg);
        while (len && !text_utf8_valid(msg, len))
            msg[--len] = 0;
        int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || ts_g_kv(g, "error", msg) ||
                  ts_g_kv(g, "code", "UNKNOWN_NODE_TYPE") || ts_g_str(g, "suggestions") ||
                  yajl_gen_array_open(g) != yajl_gen_status_ok;
        for (size_t i = 0; !bad && i < n; i++)
            bad = ts_g_str(g, sugg[i]);
        bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok ||
              ts_g_kv(g, "hint", "Names are exact and case-sensitive; use search_node_types.") ||
              yajl_gen_map_close(g) != yajl_gen_status_ok;
        out = ts_gen_done(g, bad);
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
        ts_fmt_double(num, sizeof num, v->number);
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
    yajl_gen gen = ts_gen_new();
    if (!gen) {
        gindex_free(&ix);
        return NULL;
    }
    int bad =
        yajl_gen_map_open(gen) != yajl_gen_status_ok || ts_g_kv(gen, "canvas_id", g->canvas_id);
    if (!bad && g->title && *g->title) bad = ts_g_kv(gen, "title", g->title);
    bad = bad || ts_g_str(gen, "revision") || ts_g_u64(gen, g->revision) ||
          ts_g_str(gen, "stale") || ts_g_bool(gen, g->stale) || ts_g_str(gen, "node_count") ||
          ts_g_u64(gen, g->n_nodes) || ts_g_str(gen, "link_count") || ts_g_u64(gen, g->n_links) ||
          ts_g_str(gen, "nodes") || yajl_gen_array_open(gen) != yajl_gen_status_ok;
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
        bad = ts_g_strn(gen, line.p, line.n);
        bytes += line.n + 4;
        free(line.p);
        shown++;
    }
    bad = bad || yajl_gen_array_close(gen) != yajl_gen_status_ok;
    if (!bad && left) {
        char more[160];
        snprintf(more, sizeof more, "%zu more nodes not shown: ask for them with node_ids", left);
        bad = ts_g_kv(gen, "more", more);
    }
    if (!bad && n_ids) {
        int any = 0;
        for (size_t i = 0; !bad && i < n_ids; i++) {
            if (ix_node(&ix, ids[i])) continue;
            if (!any) bad = ts_g_str(gen, "not_found") || yajl_gen_array_open(gen);
            any = 1;
            bad = bad || ts_g_i64(gen, ids[i]);
        }
        if (any && !bad) bad = yajl_gen_array_close(gen) != yajl_gen_status_ok;
    }
    if (!bad && g->stale)
        bad = ts_g_kv(gen, "hint",
                      "No tab is attached: this mirror may be out of date and cannot be changed.");
    bad = bad || yajl_gen_map_close(gen) != yajl_gen_status_ok;
    gindex_free(&ix);
    return ts_gen_done(gen, bad);
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
    yajl_gen g = ts_gen_new();
    if (!g) return NULL;
    int bad =
        yajl_gen_map_open(g) != yajl_gen_status_ok || ts_g_str(g, "ok") || ts_g_bool(g, r->ok);
    if (!bad && validate_only) bad = ts_g_str(g, "validate_only") || ts_g_bool(g, 1);
    bad = bad || ts_g_kv(g, "canvas_id", r->canvas_id) || ts_g_str(g, "revision") ||
          ts_g_u64(g, r->revision);
    if (!bad && r->replayed) bad = ts_g_str(g, "replayed") || ts_g_bool(g, 1);
    if (!bad && r->rebased)
        bad = ts_g_str(g, "rebased") || ts_g_bool(g, 1) || ts_g_str(g, "rebased_from") ||
              ts_g_u64(g, r->rebased_from);
    if (!bad && r->preview && r->preview->outcome) {
        /* Preview before apply: what the user decided (accepted, rejected,
         * timed_out, unavailable). */
        static const char *const outcomes[] = {"", "accepted", "rejected", "timed_out",
                                               "unavailable"};
        unsigned o = (unsigned)r->preview->outcome;
        bad = ts_g_str(g, "preview") || yajl_gen_map_open(g) != yajl_gen_status_ok ||
              ts_g_kv(g, "outcome", o < sizeof outcomes / sizeof outcomes[0] ? outcomes[o] : "") ||
              (r->preview->decided_by && *r->preview->decided_by &&
               ts_g_kv(g, "decided_by", r->preview->decided_by)) ||
              ts_g_str(g, "waited_ms") || ts_g_u64(g, r->preview->waited_ms) ||
              yajl_gen_map_close(g) != yajl_gen_status_ok;
    }
    if (!bad && r->n_refs) {
        bad = ts_g_str(g, "refs") || yajl_gen_map_open(g) != yajl_gen_status_ok;
        for (size_t i = 0; !bad && i < r->n_refs; i++)
            bad = ts_g_str(g, r->refs[i]->key) || ts_g_i64(g, r->refs[i]->value);
        bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    }
    /* Results of commands that did something; errors are listed below. */
    int any = 0;
    for (size_t i = 0; !bad && i < r->n_results; i++) {
        const Comfyd__V1__CommandResult *c = r->results[i];
        if (!c->ok || (!c->node_id && !c->link_id && !c->value)) continue;
        if (!any) bad = ts_g_str(g, "results") || yajl_gen_array_open(g) != yajl_gen_status_ok;
        any = 1;
        bad = bad || yajl_gen_map_open(g) != yajl_gen_status_ok || ts_g_str(g, "index") ||
              ts_g_i64(g, c->index);
        if (!bad && c->node_id) bad = ts_g_str(g, "node_id") || ts_g_i64(g, c->node_id);
        if (!bad && c->link_id) bad = ts_g_str(g, "link_id") || ts_g_i64(g, c->link_id);
        if (!bad && c->value) bad = ts_g_str(g, "value") || ts_g_value(g, c->value);
        bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    }
    if (any && !bad) bad = yajl_gen_array_close(g) != yajl_gen_status_ok;
    if (!bad && r->n_errors) {
        bad = ts_g_str(g, "errors") || yajl_gen_array_open(g) != yajl_gen_status_ok;
        for (size_t i = 0; !bad && i < r->n_errors; i++) {
            const Comfyd__V1__GraphError *e = r->errors[i];
            bad = yajl_gen_map_open(g) != yajl_gen_status_ok || ts_g_str(g, "index") ||
                  ts_g_i64(g, e->index) || ts_g_kv(g, "code", toolspec_code_name(e->code)) ||
                  ts_g_kv(g, "message", e->message);
            if (!bad && e->n_suggestions) {
                bad = ts_g_str(g, "suggestions") || yajl_gen_array_open(g) != yajl_gen_status_ok;
                for (size_t k = 0; !bad && k < e->n_suggestions; k++)
                    bad = ts_g_str(g, e->suggestions[k]);
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
                bad = ts_g_str(g, "conflicts") || yajl_gen_array_open(g) != yajl_gen_status_ok;
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
                bad = ts_g_str(g, "leased_node_id") || ts_g_i64(g, e->leased_node_id) ||
                      ts_g_str(g, "lease") ||
                      jsonpb_encode_gen(g, &e->lease->base, &o, NULL, 0) != 0;
            }
            bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
        }
        bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok;
    }
    if (!bad && hint) bad = ts_g_kv(g, "hint", hint);
    bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    return ts_gen_done(g, bad);
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
