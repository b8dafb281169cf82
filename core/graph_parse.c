/* graph_parse: parsing a workflow's JSON (bounded and validated) into the
 * mirror, with the node types' widget order; graph_parse_workflow. */
#include "graph_int.h"

/* ---- workflow parsing ---- */

/* Values of the frontend's control_after_generate widget. */
static const char *const control_words[] = {"fixed", "increment", "decrement", "randomize"};

yajl_val gr_obj_get(yajl_val obj, const char *key)
{
    if (!YAJL_IS_OBJECT(obj)) return NULL;
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (strcmp(obj->u.object.keys[i], key) == 0) return obj->u.object.values[i];
    return NULL;
}

/* An integral id: a JSON integer, an integral double, or a decimal string
 * (some exporters write ids as strings). */
int gr_get_i64(yajl_val v, int64_t *out)
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
        get_num(gr_obj_get(v, "0"), x);
        get_num(gr_obj_get(v, "1"), y);
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

yajl_gen_status gr_gen_json(yajl_gen g, yajl_val v)
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
            if (st == yajl_gen_status_ok) st = gr_gen_json(g, v->u.object.values[i]);
        }
        return st == yajl_gen_status_ok ? yajl_gen_map_close(g) : st;
    }
    case yajl_t_array: {
        yajl_gen_status st = yajl_gen_array_open(g);
        for (size_t i = 0; st == yajl_gen_status_ok && i < v->u.array.len; i++)
            st = gr_gen_json(g, v->u.array.values[i]);
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
    if (gr_gen_json(g, v) == yajl_gen_status_ok) {
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
    yajl_val ins = gr_obj_get(v, "inputs"), outs = gr_obj_get(v, "outputs");
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
        int r = dup_name(gr_obj_get(s, "name"), "", &in->name);
        if (r == 0) r = dup_name(gr_obj_get(gr_obj_get(s, "widget"), "name"), NULL, &in->widget);
        if (r == -1)
            return PFAIL(c, GRAPH_ETOOBIG, "nodes[%zu].inputs[%zu] has a name that is too long",
                         idx, i);
        if (r || !(in->type = dup_type(gr_obj_get(s, "type")))) return GRAPH_ENOMEM;
        int64_t link;
        if (gr_get_i64(gr_obj_get(s, "link"), &link) && link > 0) in->link = link;
    }
    for (size_t i = 0; i < no; i++) {
        yajl_val s = outs->u.array.values[i];
        if (!YAJL_IS_OBJECT(s))
            return PFAIL(c, GRAPH_EINVAL, "nodes[%zu].outputs[%zu] is not an object", idx, i);
        graph_output *o = &n->outputs[n->n_outputs++];
        int r = dup_name(gr_obj_get(s, "name"), "", &o->name);
        if (r == -1)
            return PFAIL(c, GRAPH_ETOOBIG, "nodes[%zu].outputs[%zu] has a name that is too long",
                         idx, i);
        if (r || !(o->type = dup_type(gr_obj_get(s, "type")))) return GRAPH_ENOMEM;
        yajl_val links = gr_obj_get(s, "links");
        if (!YAJL_IS_ARRAY(links) || links->u.array.len == 0) continue;
        if (links->u.array.len > GRAPH_MAX_LINKS)
            return PFAIL(c, GRAPH_ETOOBIG, "nodes[%zu].outputs[%zu] has too many links", idx, i);
        if (!(o->links = malloc(links->u.array.len * sizeof *o->links))) return GRAPH_ENOMEM;
        for (size_t k = 0; k < links->u.array.len; k++) {
            int64_t id;
            if (gr_get_i64(links->u.array.values[k], &id) && id > 0) o->links[o->n_links++] = id;
        }
    }
    return GRAPH_OK;
}

int gr_parse_node(pctx *c, size_t idx, yajl_val v, graph_node *n)
{
    if (!YAJL_IS_OBJECT(v)) return PFAIL(c, GRAPH_EINVAL, "nodes[%zu] is not an object", idx);
    if (!gr_get_i64(gr_obj_get(v, "id"), &n->id) || n->id <= 0)
        return PFAIL(c, GRAPH_EINVAL, "nodes[%zu].id must be a positive integer", idx);
    yajl_val type = gr_obj_get(v, "type");
    if (!YAJL_IS_STRING(type) || !type->u.string[0])
        return PFAIL(c, GRAPH_EINVAL, "node %lld has no type", (long long)n->id);
    int r = dup_name(type, NULL, &n->type);
    if (r == -1) return PFAIL(c, GRAPH_ETOOBIG, "node %lld: type too long", (long long)n->id);
    if (r) return GRAPH_ENOMEM;
    yajl_val title = gr_obj_get(v, "title");
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
    get_pair(gr_obj_get(v, "pos"), &n->x, &n->y);
    get_pair(gr_obj_get(v, "size"), &n->w, &n->h);
    int64_t mode;
    if (gr_get_i64(gr_obj_get(v, "mode"), &mode) && mode >= 0 && mode <= 255) n->mode = (int)mode;
    int rc = parse_slots(c, idx, v, n);
    if (rc) return rc;
    return map_widgets(c, idx, gr_obj_get(v, "widgets_values"), n);
}

int gr_parse_link(pctx *c, size_t idx, yajl_val v, graph_link *l)
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
            f[i] = gr_obj_get(v, keys[i]);
    } else {
        return PFAIL(c, GRAPH_EINVAL, "links[%zu] is not a list or object", idx);
    }
    int64_t fs, ts;
    if (!gr_get_i64(f[0], &l->id) || l->id <= 0 || !gr_get_i64(f[1], &l->from_id) ||
        !gr_get_i64(f[2], &fs) || !gr_get_i64(f[3], &l->to_id) || !gr_get_i64(f[4], &ts))
        return PFAIL(c, GRAPH_EINVAL, "links[%zu] needs integer id, nodes and slots", idx);
    if (fs < 0 || fs >= GRAPH_MAX_SLOTS || ts < 0 || ts >= GRAPH_MAX_SLOTS)
        return PFAIL(c, GRAPH_EINVAL, "links[%zu] has a slot outside 0..%u", idx,
                     GRAPH_MAX_SLOTS - 1);
    l->from_slot = (uint32_t)fs;
    l->to_slot = (uint32_t)ts;
    return (l->type = dup_type(f[5])) ? GRAPH_OK : GRAPH_ENOMEM;
}

int gr_cmp_node(const void *a, const void *b)
{
    const graph_node *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

int gr_cmp_link(const void *a, const void *b)
{
    const graph_link *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Newer frontends give every widget input a socket; older ones only those
 * converted by the user. The first node of a known type with widgets
 * decides. */
int gr_detect_widget_sockets(const mirror *m, const nodeinfo *schema)
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

int gr_parse_mirror(pctx *c, const char *json, size_t len, mirror *m)
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
    yajl_val nodes = gr_obj_get(root, "nodes"), links = gr_obj_get(root, "links");
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
        if ((rc = gr_parse_node(c, i, nodes->u.array.values[i], n))) goto done;
    }
    for (size_t i = 0; i < nl; i++) {
        yajl_val v = links->u.array.values[i];
        if (YAJL_IS_NULL(v)) continue; /* LiteGraph leaves holes sometimes */
        graph_link *l = &m->links[m->n_links++];
        if ((rc = gr_parse_link(c, i, v, l))) goto done;
    }
    /* qsort wants a valid pointer even for no elements. */
    if (m->n_nodes > 1) qsort(m->nodes, m->n_nodes, sizeof *m->nodes, gr_cmp_node);
    if (m->n_links > 1) qsort(m->links, m->n_links, sizeof *m->links, gr_cmp_link);
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
    yajl_val state = gr_obj_get(root, "state");
    if (!gr_get_i64(gr_obj_get(root, "last_node_id"), &m->last_node_id))
        gr_get_i64(gr_obj_get(state, "lastNodeId"), &m->last_node_id);
    if (!gr_get_i64(gr_obj_get(root, "last_link_id"), &m->last_link_id))
        gr_get_i64(gr_obj_get(state, "lastLinkId"), &m->last_link_id);
    if (m->last_node_id < 0) m->last_node_id = 0;
    if (m->last_link_id < 0) m->last_link_id = 0;
    if (m->n_nodes && m->nodes[m->n_nodes - 1].id > m->last_node_id)
        m->last_node_id = m->nodes[m->n_nodes - 1].id;
    if (m->n_links && m->links[m->n_links - 1].id > m->last_link_id)
        m->last_link_id = m->links[m->n_links - 1].id;
    m->widget_sockets = gr_detect_widget_sockets(m, c->schema);
    rc = GRAPH_OK;
done:
    if (rc == GRAPH_ENOMEM) PFAIL(c, GRAPH_ENOMEM, "out of memory parsing the workflow");
    if (rc) gr_mirror_free(m);
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
    int rc = gr_parse_mirror(&c, json, len, &g->m);
    if (rc) {
        free(g->log);
        free(g);
        return rc;
    }
    if (!(g->json = malloc(len + 1))) {
        gr_mirror_free(&g->m);
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
