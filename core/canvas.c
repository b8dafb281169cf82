/* canvas: the canvas manager's common part (canvas.h): the checks of
 * request strings, the node-type schemas (configured and sent by tabs),
 * provenance and committing a tab's state, the map of canvases, and the
 * manager's creation and shutdown. The rest is split by concern (see
 * canvas_int.h). */
#include "canvas_int.h"

const char *canvas_code_name(Comfyd__V1__GraphErrorCode code)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&comfyd__v1__graph_error_code__descriptor, code);
    static const char prefix[] = "GRAPH_ERROR_CODE_";
    if (!v) return "UNSPECIFIED";
    if (strncmp(v->name, prefix, sizeof prefix - 1) == 0) return v->name + sizeof prefix - 1;
    return v->name;
}

/* A string field from a peer: at most max bytes of UTF-8. */
int cv_check_str(const char *s, size_t max, canvas_error *err, const char *fmt, ...)
{
    const char *why = text_field_problem(s, max);
    if (!why) return CANVAS_OK;
    char field[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(field, sizeof field, fmt, ap);
    va_end(ap);
    if (strlen(s) > max) return EINVALF(err, "%s %s (at most %zu bytes)", field, why, max);
    return EINVALF(err, "%s %s", field, why);
}

/* canvas_id: optional unless required; printable UTF-8. */
int cv_check_canvas_id(const char *id, int required, canvas_error *err)
{
    size_t len = id ? strlen(id) : 0;
    if (!len) return required ? EINVALF(err, "canvas_id is required") : CANVAS_OK;
    if (cv_check_str(id, CANVAS_MAX_ID, err, "canvas_id")) return CANVAS_EINVAL;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)id[i] < 0x20 || id[i] == 0x7f)
            return EINVALF(err, "canvas_id holds a control character");
    return CANVAS_OK;
}

int cv_check_key(const char *key, canvas_error *err)
{
    return cv_check_str(key, CANVAS_MAX_KEY, err, "idempotency_key");
}

/* Copies a tab's text into a caller-facing message: cut, and replaced
 * when it is not UTF-8. */
char *cv_tab_text(const char *s)
{
    if (!s || !*s) return NULL;
    size_t full = strlen(s), len = full;
    if (len > CANVAS_MAX_TAB_ERROR) len = CANVAS_MAX_TAB_ERROR;
    /* A cut backs off to a character boundary before the bytes are judged. */
    while (len < full && len && ((unsigned char)s[len] & 0xc0) == 0x80)
        len--;
    if (!text_utf8_valid(s, len)) return xstrdup("(the tab's message is not valid UTF-8)");
    return text_dupn(s, len);
}

/* Deep copy of a message through its wire form (malloc'd, freed with
 * protobuf_c_message_free_unpacked). */
ProtobufCMessage *cv_pb_dup(const ProtobufCMessage *m)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = xcalloc(1, len);
    protobuf_c_message_pack(m, buf);
    ProtobufCMessage *c = protobuf_c_message_unpack(m->descriptor, NULL, len, buf);
    free(buf);
    if (!c) abort();
    return c;
}

void cv_pb_free(void *m)
{
    if (m) protobuf_c_message_free_unpacked(m, NULL);
}

void cv_rev_reserve(canvas_mgr *m, uint64_t rev)
{
    if (!m->o.db || rev <= atomic_load(&m->rev_reserved)) return;
    pthread_mutex_lock(&m->rev_mu);
    if (rev > atomic_load(&m->rev_reserved)) {
        uint64_t upto = rev + CANVAS_REV_BLOCK;
        int rc = store_counter_raise(m->o.db, CANVAS_REV_COUNTER, upto);
        if (rc == STORE_OK)
            atomic_store(&m->rev_reserved, upto);
        else
            LOG_E(MOD, "cannot reserve canvas revisions up to %llu: %s", (unsigned long long)upto,
                  store_strerror(rc));
    }
    pthread_mutex_unlock(&m->rev_mu);
}

static void note_rev(canvas_mgr *m, uint64_t rev)
{
    uint_fast64_t cur = atomic_load(&m->rev_high);
    while (cur < rev && !atomic_compare_exchange_weak(&m->rev_high, &cur, rev)) {
    }
}

/* Several cores on one PostgreSQL database reserve revisions from the same
 * counter: a tab attaching here may come from another core (a reload
 * through another bridge, its core gone), whose revisions of it are all
 * below that core's reservation. Starting above the counter as it is now
 * keeps the canvas's revisions rising across the move, as across a
 * restart. One query per attachment; SQLite's single core needs none. */
void cv_rev_catch_up(canvas_mgr *m)
{
    uint64_t reserved = 0;
    if (!m->o.db || strcmp(store_engine(m->o.db), "postgres") != 0 ||
        store_counter_get(m->o.db, CANVAS_REV_COUNTER, &reserved) != STORE_OK)
        return;
    note_rev(m, reserved);
}

/* ---- schemas ---- */

void canvas_mgr_set_schema(canvas_mgr *m, nodeinfo *ni)
{
    nodeinfo *n = ni ? nodeinfo_ref(ni) : NULL;
    pthread_mutex_lock(&m->schema_mu);
    nodeinfo *old = m->configured;
    m->configured = n;
    pthread_mutex_unlock(&m->schema_mu);
    nodeinfo_unref(old);
}

nodeinfo *canvas_mgr_schema(canvas_mgr *m)
{
    pthread_mutex_lock(&m->schema_mu);
    nodeinfo *ni = m->configured ? m->configured : m->uni;
    if (ni) nodeinfo_ref(ni);
    pthread_mutex_unlock(&m->schema_mu);
    return ni;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The node types of both documents in one /object_info object: every type
 * of newer, then those of older that newer lacks. NULL when either is not
 * an object or the result exceeds NODEINFO_MAX_JSON_BYTES. */
static char *merge_object_info(const char *older, size_t older_len, const char *newer,
                               size_t newer_len, size_t *out_len)
{
    nodeinfo_json_limits lim = {NODEINFO_MAX_JSON_BYTES, NODEINFO_MAX_DEPTH, NODEINFO_MAX_VALUES};
    yajl_val a = NULL, b = NULL;
    char *out = NULL;
    const char **keys = NULL;
    yajl_gen g = NULL;
    if (nodeinfo_json_parse(older, older_len, &lim, &a, NULL, 0) ||
        nodeinfo_json_parse(newer, newer_len, &lim, &b, NULL, 0) || !YAJL_IS_OBJECT(a) ||
        !YAJL_IS_OBJECT(b))
        goto done;
    size_t nb = b->u.object.len;
    keys = xcalloc(nb, sizeof *keys);
    for (size_t i = 0; i < nb; i++)
        keys[i] = b->u.object.keys[i];
    qsort(keys, nb, sizeof *keys, cmp_str);
    if (!(g = yajl_gen_alloc(NULL))) goto done;
    if (yajl_gen_map_open(g)) goto done;
    for (size_t i = 0; i < nb; i++) {
        const char *k = b->u.object.keys[i];
        if (yajl_gen_string(g, (const unsigned char *)k, strlen(k)) ||
            jsontree_gen(g, b->u.object.values[i]))
            goto done;
    }
    for (size_t i = 0; i < a->u.object.len; i++) {
        const char *k = a->u.object.keys[i];
        if (bsearch(&k, keys, nb, sizeof *keys, cmp_str)) continue;
        if (yajl_gen_string(g, (const unsigned char *)k, strlen(k)) ||
            jsontree_gen(g, a->u.object.values[i]))
            goto done;
    }
    if (yajl_gen_map_close(g)) goto done;
    const unsigned char *buf;
    size_t len;
    if (yajl_gen_get_buf(g, &buf, &len) || len > NODEINFO_MAX_JSON_BYTES) goto done;
    out = text_dupn((const char *)buf, len);
    *out_len = len;
done:
    if (g) yajl_gen_free(g);
    free(keys);
    yajl_tree_free(a);
    yajl_tree_free(b);
    return out;
}

/* Parses a tab's object_info into *out (a reference) and folds it into the
 * union of the tabs' node types. A document identical to the union is
 * parsed once (all tabs of one ComfyUI send the same). */
int cv_tab_schema(canvas_mgr *m, const char *json, size_t len, nodeinfo **out, canvas_error *err)
{
    *out = NULL;
    pthread_mutex_lock(&m->union_mu);
    if (m->uni_json && len == m->uni_len && memcmp(json, m->uni_json, len) == 0) {
        pthread_mutex_lock(&m->schema_mu);
        *out = nodeinfo_ref(m->uni);
        pthread_mutex_unlock(&m->schema_mu);
        pthread_mutex_unlock(&m->union_mu);
        return CANVAS_OK;
    }
    char e[256] = "";
    nodeinfo *ni = NULL;
    int rc = nodeinfo_create(&ni, json, len, NODEINFO_FRONTEND_TYPES, e, sizeof e);
    if (rc != NODEINFO_OK) {
        pthread_mutex_unlock(&m->union_mu);
        if (rc == NODEINFO_ENOMEM) return fail(err, CANVAS_ENOMEM, 0, "out of memory");
        return EINVALF(err, "object_info_json: %s", e);
    }
    /* Once per new document: what of it was repaired or left out. */
    if (nodeinfo_oddities(ni))
        LOG_I(MOD, "a tab's object_info: %zu node type(s) kept with odd shapes, the first: %s",
              nodeinfo_oddities(ni), nodeinfo_odd_reason(ni));
    if (nodeinfo_skipped(ni))
        LOG_W(MOD, "a tab's object_info: %zu node type(s) skipped, the first because %s",
              nodeinfo_skipped(ni), nodeinfo_skip_reason(ni));
    char *uj = NULL;
    size_t ulen = 0;
    nodeinfo *uni = NULL;
    if (m->uni_json && (uj = merge_object_info(m->uni_json, m->uni_len, json, len, &ulen)) &&
        nodeinfo_create(&uni, uj, ulen, NODEINFO_FRONTEND_TYPES, NULL, 0) != NODEINFO_OK) {
        free(uj);
        uj = NULL;
    }
    if (!uni) {
        /* The first tab, or a union that cannot be built: the newest wins. */
        uj = text_dupn(json, len);
        ulen = len;
        uni = nodeinfo_ref(ni);
    }
    free(m->uni_json);
    m->uni_json = uj;
    m->uni_len = ulen;
    pthread_mutex_lock(&m->schema_mu);
    nodeinfo *old = m->uni;
    m->uni = uni;
    pthread_mutex_unlock(&m->schema_mu);
    pthread_mutex_unlock(&m->union_mu);
    nodeinfo_unref(old);
    LOG_D(MOD, "union of the tabs' node types: %zu", nodeinfo_count(uni));
    *out = ni;
    return CANVAS_OK;
}

/* The schema requests on cv use now (a reference; may be NULL). */
nodeinfo *cv_schema(canvas *cv)
{
    return cv->tab_ni ? nodeinfo_ref(cv->tab_ni) : canvas_mgr_schema(cv->m);
}

/* Re-reads the mirror when the schema under it changed (see canvas.h). */
void cv_sync_schema(canvas *cv, nodeinfo *ni)
{
    if (graph_schema(cv->g) == ni) return;
    size_t len;
    const char *json = graph_workflow_json(cv->g, &len);
    graph *g2 = NULL;
    char e[256] = "";
    if (graph_parse_workflow(&g2, json, len, ni, graph_revision(cv->g), e, sizeof e)) {
        LOG_W(MOD, "canvas %s: cannot re-read the mirror with new node types: %s", LOG_ESC(cv->id),
              e);
        return;
    }
    graph_destroy(cv->g);
    cv->g = g2;
}

/* ---- provenance ---- */

/* Who made a commit of this origin on cv: the person at the tab, the
 * request whose tab report is being handled, or (an attach, a late or
 * unknown report) a load or an unnamed caller. */
static void cv_actor(const canvas *cv, Comfyd__V1__GraphOrigin origin, provn_actor *a)
{
    if (origin == COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER) {
        provn_actor_make(a, COMFYD__V1__ACTOR_KIND__ACTOR_KIND_USER, NULL, NULL, NULL, NULL, 0);
    } else if (cv->report_rid && cv->report_rid == cv->sent_rid) {
        *a = cv->sent_who;
    } else {
        provn_actor_make(a,
                         origin == COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_LOAD
                             ? COMFYD__V1__ACTOR_KIND__ACTOR_KIND_LOAD
                             : COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC,
                         NULL, NULL, NULL, NULL, 0);
    }
}

/* Records the ops of the commit that made rev. */
static void cv_prov_commit(canvas *cv, uint64_t rev, Comfyd__V1__GraphOrigin origin,
                           Comfyd__V1__GraphOp *const *ops, size_t n)
{
    provn_actor a;
    cv_actor(cv, origin, &a);
    if (provn_record(cv->provn, ops, n, &a, rev, n ? ops[0]->time_ms : text_now_ms()))
        LOG_W(MOD, "canvas %s: out of memory recording provenance of revision %llu",
              LOG_ESC(cv->id), (unsigned long long)rev);
    /* Links that went with a removed node leave no op of their own. */
    int removed = origin == COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_LOAD;
    for (size_t i = 0; i < n && !removed; i++)
        removed = ops[i]->command &&
                  ops[i]->command->command_case == COMFYD__V1__COMMAND__COMMAND_REMOVE_NODE;
    if (removed) provn_prune(cv->provn, cv->g);
    cv_lease_committed(cv, rev, origin, ops, n, removed);
}

/* Takes the provenance a loaded or attached workflow carries. */
void cv_prov_restore(canvas *cv, const char *json, size_t len)
{
    char e[256] = "";
    if (provn_load_json(cv->provn, cv->g, json, len, graph_revision(cv->g), e, sizeof e))
        LOG_W(MOD, "canvas %s: the workflow's provenance is not used: %s", LOG_ESC(cv->id),
              e[0] ? e : "out of memory");
}

/* Commits json as cv's state (origin as given). *changed is 0 when it is
 * byte-identical to the mirror. Returns a graph_err. */
int cv_commit(canvas *cv, const char *json, size_t len, Comfyd__V1__GraphOrigin origin,
              int *changed, char *e, size_t elen)
{
    *changed = 0;
    nodeinfo *ni = cv_schema(cv);
    cv_sync_schema(cv, ni);
    nodeinfo_unref(ni);
    size_t cur_len;
    const char *cur = graph_workflow_json(cv->g, &cur_len);
    if (cur_len == len && memcmp(cur, json, len) == 0) {
        if (origin == COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_LOAD) cv_prov_restore(cv, json, len);
        return GRAPH_OK;
    }
    uint64_t rev = graph_revision(cv->g) + 1;
    cv_rev_reserve(cv->m, rev);
    Comfyd__V1__GraphOp **ops = NULL;
    size_t n_ops = 0;
    int rc =
        graph_apply_workflow(cv->g, json, len, rev, origin, text_now_ms(), &ops, &n_ops, e, elen);
    if (rc == GRAPH_OK) {
        note_rev(cv->m, rev);
        *changed = 1;
        cv_prov_commit(cv, rev, origin, ops, n_ops);
        graph_ops_free(ops, n_ops);
        if (origin == COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_LOAD) cv_prov_restore(cv, json, len);
    }
    return rc;
}

/* The digest of a delta: 8 hex digits. */
static int parse_digest(const char *s, uint32_t *out)
{
    if (!s || strlen(s) != 8) return -1;
    uint32_t v = 0;
    for (int i = 0; i < 8; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return -1;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 0;
}

/* Applies a tab's delta to cv's mirror (origin as given). Returns a
 * graph_err: anything but GRAPH_OK and GRAPH_ENOMEM means the delta does
 * not give the tab's graph, and the tab is to send the whole workflow. An
 * empty delta changes nothing (no new revision) when its digest holds. */
int cv_commit_delta(canvas *cv, const Comfyd__V1__GraphDelta *d, Comfyd__V1__GraphOrigin origin,
                    int *changed, char *e, size_t elen)
{
    *changed = 0;
    nodeinfo *ni = cv_schema(cv);
    cv_sync_schema(cv, ni);
    nodeinfo_unref(ni);
    graph_delta gd = {
        .nodes_json = (const char *const *)d->nodes_json,
        .n_nodes_json = d->n_nodes_json,
        .removed_nodes = d->removed_node_ids,
        .n_removed_nodes = d->n_removed_node_ids,
        .links_json = (const char *const *)d->links_json,
        .n_links_json = d->n_links_json,
        .removed_links = d->removed_link_ids,
        .n_removed_links = d->n_removed_link_ids,
        .last_node_id = d->last_node_id,
        .last_link_id = d->last_link_id,
    };
    if (parse_digest(d->digest, &gd.digest)) {
        snprintf(e, elen, "delta.digest must be 8 lower-case hex digits");
        return GRAPH_EINVAL;
    }
    if (!gd.n_nodes_json && !gd.n_removed_nodes && !gd.n_links_json && !gd.n_removed_links) {
        uint32_t have = graph_digest(cv->g);
        if (have == gd.digest) return GRAPH_OK;
        snprintf(e, elen, "the mirror has digest %08x, the tab's graph %08x", have, gd.digest);
        return GRAPH_EDIGEST;
    }
    uint64_t rev = graph_revision(cv->g) + 1;
    cv_rev_reserve(cv->m, rev);
    int rc = graph_apply_delta(cv->g, &gd, rev, origin, text_now_ms(), e, elen);
    if (rc == GRAPH_OK) {
        note_rev(cv->m, rev);
        *changed = 1;
        Comfyd__V1__GraphOp **ops = NULL;
        size_t n_ops = 0;
        if (graph_diff_since(cv->g, rev - 1, &ops, &n_ops) == GRAPH_OK)
            cv_prov_commit(cv, rev, origin, ops, n_ops);
        graph_ops_free(ops, n_ops);
    }
    return rc;
}

/* ---- canvases ---- */

void cv_unref(canvas *cv)
{
    if (!cv || atomic_fetch_sub(&cv->refs, 1) != 1) return;
    graph_destroy(cv->g);
    provn_destroy(cv->provn);
    lgraph_destroy(cv->leases);
    nodeinfo_unref(cv->tab_ni);
    free(cv->id);
    free(cv->title);
    pthread_mutex_destroy(&cv->mu);
    free(cv);
}

canvas *cv_ref(canvas *cv)
{
    atomic_fetch_add(&cv->refs, 1);
    return cv;
}

/* Under m->mu. */
canvas *cv_find_locked(canvas_mgr *m, const char *id)
{
    for (size_t i = 0; i < m->n_cvs; i++)
        if (strcmp(m->cvs[i]->id, id) == 0) return m->cvs[i];
    return NULL;
}

/* Under m->mu: references to every canvas in the map. */
canvas **cv_snapshot_locked(canvas_mgr *m, size_t *n)
{
    canvas **v = xcalloc(m->n_cvs, sizeof *v);
    for (size_t i = 0; i < m->n_cvs; i++)
        v[i] = cv_ref(m->cvs[i]);
    *n = m->n_cvs;
    return v;
}

void cv_snapshot_free(canvas **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cv_unref(v[i]);
    free(v);
}

/* The canvas a request addresses (see canvas.h), with a reference; NULL
 * with err set (CANVAS_EGRAPH, or CANVAS_ESHUTDOWN). */
canvas *cv_resolve(canvas_mgr *m, const char *id, int *rc, canvas_error *err)
{
    canvas *cv = NULL;
    pthread_mutex_lock(&m->mu);
    if (m->shutdown) {
        *rc = fail(err, CANVAS_ESHUTDOWN, 0, "server shutting down");
    } else if (id && *id) {
        if (!(cv = cv_find_locked(m, id)))
            *rc = EGRAPHF(err, GE(CANVAS_NOT_FOUND), "no canvas \"%s\" (ListCanvases lists them)",
                          id);
    } else {
        canvas *best = NULL, *only = NULL;
        size_t n_att = 0;
        for (size_t i = 0; i < m->n_cvs; i++) {
            canvas *c = m->cvs[i];
            if (!c->attached) continue;
            n_att++;
            only = c;
            if (c->focus_seq && (!best || c->focus_seq > best->focus_seq)) best = c;
        }
        if (n_att == 1) {
            cv = only;
        } else if (best) {
            cv = best;
        } else if (n_att == 0) {
            *rc = EGRAPHF(err, GE(NO_LIVE_CANVAS),
                          "no ComfyUI tab has a canvas attached: open ComfyUI with the comfyd "
                          "extension in a browser");
        } else {
            char list[CANVAS_ERRLEN / 2] = "";
            size_t listed = 0;
            for (size_t i = 0; i < m->n_cvs; i++) {
                if (!m->cvs[i]->attached) continue;
                if (listed == CANVAS_MAX_LISTED_IDS) {
                    size_t l = strlen(list);
                    snprintf(list + l, sizeof list - l, " and %zu more", n_att - listed);
                    break;
                }
                size_t l = strlen(list);
                snprintf(list + l, sizeof list - l, "%s\"%s\"", listed ? ", " : "", m->cvs[i]->id);
                listed++;
            }
            *rc = EGRAPHF(err, GE(AMBIGUOUS_CANVAS),
                          "%zu canvases are attached and none has reported focus; name one with "
                          "canvas_id: %s",
                          n_att, list);
        }
    }
    if (cv) {
        cv_ref(cv);
        cv->last_used = mono();
    }
    pthread_mutex_unlock(&m->mu);
    return cv;
}

/* The mirror as a Graph message; with head_only, only its head (no nodes
 * or links, unchanged set): for a reader that holds this revision. */
Comfyd__V1__Graph *cv_graph_as(canvas *cv, int head_only)
{
    Comfyd__V1__Graph *g;
    if (head_only) {
        g = xcalloc(1, sizeof *g);
        comfyd__v1__graph__init(g);
        g->revision = graph_revision(cv->g);
        g->unchanged = 1;
    } else if (!(g = graph_to_proto(cv->g)) || provn_fill_graph(cv->provn, g)) {
        abort();
    } else {
        cv_lease_fill_graph(cv, g);
    }
    g->canvas_id = xstrdup(cv->id);
    g->title = xstrdup(cv->title);
    g->stale = cv->ops == NULL;
    return g;
}

Comfyd__V1__Graph *cv_graph(canvas *cv)
{
    return cv_graph_as(cv, 0);
}

/* ---- lifetime ---- */

int canvas_mgr_create(canvas_mgr **out, const canvas_mgr_opts *opts)
{
    *out = NULL;
    canvas_mgr *m = xcalloc(1, sizeof *m);
    if (opts) m->o = *opts;
    if (!m->o.default_timeout_ms) m->o.default_timeout_ms = CANVAS_DEFAULT_TIMEOUT_MS;
    if (m->o.default_timeout_ms > CANVAS_MAX_TIMEOUT_MS)
        m->o.default_timeout_ms = CANVAS_MAX_TIMEOUT_MS;
    if (!m->o.max_canvases) m->o.max_canvases = CANVAS_MAX_CANVASES;
    if (!m->o.max_queued) m->o.max_queued = CANVAS_MAX_QUEUED;
    if (!m->o.idem_max_keys) m->o.idem_max_keys = CANVAS_IDEM_MAX_KEYS;
    if (!m->o.idem_max_age_ms) m->o.idem_max_age_ms = CANVAS_IDEM_MAX_AGE_MS;
    m->cvs = xcalloc(m->o.max_canvases, sizeof *m->cvs);
    pthread_mutex_init(&m->mu, NULL);
    pthread_mutex_init(&m->schema_mu, NULL);
    pthread_mutex_init(&m->union_mu, NULL);
    pthread_mutex_init(&m->rev_mu, NULL);
    pthread_mutex_init(&m->wmu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->wcv, &ca);
    pthread_condattr_destroy(&ca);
    m->next_wake = INT64_MAX;
    uint64_t reserved = 0;
    if (m->o.db) {
        int rc = store_counter_get(m->o.db, CANVAS_REV_COUNTER, &reserved);
        if (rc != STORE_OK) {
            /* Refuse to start rather than hand out revisions that may repeat. */
            LOG_E(MOD, "cannot read the canvas revision counter: %s", store_strerror(rc));
            canvas_mgr_destroy(m);
            return CANVAS_EIO;
        }
        if (reserved)
            LOG_I(MOD, "canvas revisions continue above %llu", (unsigned long long)reserved);
    }
    m->idem = idem_table_create(m->o.db, m->o.idem_max_keys, m->o.idem_max_age_ms);
    atomic_init(&m->rev_high, reserved);
    atomic_init(&m->rev_reserved, reserved);
    atomic_init(&m->next_tab_id, 0);
    atomic_init(&m->next_request_id, 0);
    if (pthread_create(&m->worker, NULL, cv_worker_main, m) != 0) {
        canvas_mgr_destroy(m);
        return CANVAS_ENOMEM;
    }
    m->worker_started = 1;
    *out = m;
    return CANVAS_OK;
}

void canvas_mgr_shutdown(canvas_mgr *m)
{
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    if (m->shutdown) {
        pthread_mutex_unlock(&m->mu);
        return;
    }
    m->shutdown = 1;
    size_t n;
    canvas **v = cv_snapshot_locked(m, &n);
    pthread_mutex_unlock(&m->mu);
    pthread_mutex_lock(&m->wmu);
    m->wstop = 1;
    pthread_cond_signal(&m->wcv);
    pthread_mutex_unlock(&m->wmu);
    if (m->worker_started) pthread_join(m->worker, NULL);
    m->worker_started = 0;
    for (size_t i = 0; i < n; i++) {
        canvas *cv = v[i];
        jlist fin = {0};
        pthread_mutex_lock(&cv->mu);
        cv->closed = 1;
        cv_end_jobs(cv, CANVAS_ESHUTDOWN, 0, "server shutting down", 1, 0, "server shutting down",
                    &fin);
        cv_detach(cv, CANVAS_END_UNAVAILABLE, "server shutting down");
        pthread_mutex_unlock(&cv->mu);
        cv_fin_run(m, &fin);
    }
    cv_snapshot_free(v, n);
}

void canvas_mgr_destroy(canvas_mgr *m)
{
    if (!m) return;
    canvas_mgr_shutdown(m);
    for (size_t i = 0; i < m->n_cvs; i++)
        cv_unref(m->cvs[i]);
    free(m->cvs);
    idem_table_destroy(m->idem);
    free(m->gone);
    nodeinfo_unref(m->configured);
    nodeinfo_unref(m->uni);
    free(m->uni_json);
    pthread_mutex_destroy(&m->mu);
    pthread_mutex_destroy(&m->schema_mu);
    pthread_mutex_destroy(&m->union_mu);
    pthread_mutex_destroy(&m->rev_mu);
    pthread_mutex_destroy(&m->wmu);
    pthread_cond_destroy(&m->wcv);
    free(m);
}
