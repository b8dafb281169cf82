/* Unit tests of core/provenance.c: actors and their limits, records that
 * follow the operations graph_diff.c logs (created, moved, set, connected,
 * disconnected, removed), the revision -> actor ring, the Graph and GraphOp
 * fields filled from them, and extra.comfyd.provenance written, injected
 * into a workflow and read back (malformed ones refused, unknown ids
 * ignored). The ops come from graph_apply_workflow on real workflows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "provenance.h"

/* Two nodes with named widgets and one link 1 -> 2. */
static const char wf_a[] =
    "{\"last_node_id\":2,\"last_link_id\":1,"
    "\"nodes\":[{\"id\":1,\"type\":\"A\",\"pos\":[0,0],\"outputs\":[{\"name\":\"o\",\"type\":\"X\","
    "\"links\":[1]}],\"widgets_values\":{\"seed\":1,\"steps\":20}},"
    "{\"id\":2,\"type\":\"B\",\"pos\":[100,0],\"inputs\":[{\"name\":\"i\",\"type\":\"X\","
    "\"link\":1}],\"widgets_values\":{\"text\":\"hi\"}}],"
    "\"links\":[[1,1,0,2,0,\"X\"]],\"extra\":{\"ds\":{\"scale\":1}}}";

/* The same, node 1 moved and its steps changed. */
static const char wf_b[] =
    "{\"last_node_id\":2,\"last_link_id\":1,"
    "\"nodes\":[{\"id\":1,\"type\":\"A\",\"pos\":[50,0],\"outputs\":[{\"name\":\"o\",\"type\":"
    "\"X\","
    "\"links\":[1]}],\"widgets_values\":{\"seed\":1,\"steps\":30}},"
    "{\"id\":2,\"type\":\"B\",\"pos\":[100,0],\"inputs\":[{\"name\":\"i\",\"type\":\"X\","
    "\"link\":1}],\"widgets_values\":{\"text\":\"hi\"}}],"
    "\"links\":[[1,1,0,2,0,\"X\"]]}";

/* Node 2 removed (and its link with it). */
static const char wf_c[] =
    "{\"last_node_id\":2,\"last_link_id\":1,"
    "\"nodes\":[{\"id\":1,\"type\":\"A\",\"pos\":[50,0],\"outputs\":[{\"name\":\"o\",\"type\":"
    "\"X\","
    "\"links\":[]}],\"widgets_values\":{\"seed\":1,\"steps\":30}}],\"links\":[]}";

static const char empty_wf[] = "{\"nodes\":[],\"links\":[]}";

static provn_actor actor(Comfyd__V1__ActorKind kind, const char *sid, const char *skill,
                         const char *name)
{
    provn_actor a;
    char err[160] = "";
    int rc = provn_actor_make(&a, kind, sid, skill, name, err, sizeof err);
    if (rc) fprintf(stderr, "actor: %s\n", err);
    assert_int_equal(rc, PROVN_OK);
    return a;
}

/* Applies json to g at rev and records its ops as who's. */
static void commit(provn *p, graph *g, const char *json, uint64_t rev, const provn_actor *who)
{
    Comfyd__V1__GraphOp **ops = NULL;
    size_t n = 0;
    char err[256] = "";
    int rc = graph_apply_workflow(g, json, strlen(json), rev,
                                  COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_AGENT, 1000 + (int64_t)rev,
                                  &ops, &n, err, sizeof err);
    if (rc) fprintf(stderr, "apply: %s\n", err);
    assert_int_equal(rc, GRAPH_OK);
    assert_int_equal(provn_record(p, ops, n, who, rev, 1000 + (int64_t)rev), PROVN_OK);
    graph_ops_free(ops, n);
}

static graph *empty_graph(void)
{
    graph *g = NULL;
    assert_int_equal(graph_parse_workflow(&g, empty_wf, strlen(empty_wf), NULL, 1, NULL, 0),
                     GRAPH_OK);
    return g;
}

static Comfyd__V1__Graph *filled(const provn *p, const graph *g)
{
    Comfyd__V1__Graph *m = graph_to_proto(g);
    assert_non_null(m);
    assert_int_equal(provn_fill_graph(p, m), PROVN_OK);
    return m;
}

static const Comfyd__V1__Node *node_of(const Comfyd__V1__Graph *m, int64_t id)
{
    for (size_t i = 0; i < m->n_nodes; i++)
        if (m->nodes[i]->id == id) return m->nodes[i];
    fail_msg("no node %lld", (long long)id);
    return NULL;
}

static const Comfyd__V1__Provenance *widget_prov(const Comfyd__V1__Node *n, const char *name)
{
    for (size_t i = 0; i < n->n_widgets; i++)
        if (strcmp(n->widgets[i]->name, name) == 0) return n->widgets[i]->provenance;
    fail_msg("no widget %s", name);
    return NULL;
}

static void assert_by(const Comfyd__V1__Provenance *pv, Comfyd__V1__ActorKind kind,
                      const char *name, uint64_t rev)
{
    assert_non_null(pv);
    assert_non_null(pv->actor);
    assert_int_equal(pv->actor->kind, kind);
    assert_string_equal(pv->actor->name, name);
    assert_int_equal(pv->revision, rev);
    assert_int_equal(pv->time_ms, 1000 + (int64_t)rev);
}

static void actors_are_bounded_printable_names(void **state)
{
    (void)state;
    provn_actor a;
    char err[160];
    char long_name[PROVN_MAX_NAME + 2];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = 0;
    assert_int_equal(provn_actor_make(&a, COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC, NULL, NULL,
                                      long_name, err, sizeof err),
                     PROVN_EINVAL);
    assert_non_null(strstr(err, "comfyd-caller"));
    /* Refused: an unnamed caller is left. */
    assert_int_equal(a.kind, COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC);
    assert_string_equal(a.name, "");
    long_name[PROVN_MAX_NAME] = 0; /* exactly the limit */
    assert_int_equal(provn_actor_make(&a, COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC, NULL, NULL,
                                      long_name, err, sizeof err),
                     PROVN_OK);
    assert_int_equal(provn_actor_make(&a, COMFYD__V1__ACTOR_KIND__ACTOR_KIND_MCP, NULL, NULL,
                                      "bad\nname", err, sizeof err),
                     PROVN_EINVAL);
    assert_int_equal(provn_actor_make(&a, COMFYD__V1__ACTOR_KIND__ACTOR_KIND_SKILL, "", "builder",
                                      NULL, err, sizeof err),
                     PROVN_EINVAL);
    assert_non_null(strstr(err, "session_id"));
    assert_int_equal(provn_actor_make(&a, 99, NULL, NULL, NULL, err, sizeof err), PROVN_EINVAL);
    char buf[64];
    a = actor(COMFYD__V1__ACTOR_KIND__ACTOR_KIND_SKILL, "s-1", "builder", NULL);
    assert_string_equal(provn_actor_text(&a, buf, sizeof buf), "skill:builder@s-1");
    a = actor(COMFYD__V1__ACTOR_KIND__ACTOR_KIND_MCP, NULL, NULL, "claude-code");
    assert_string_equal(provn_actor_text(&a, buf, sizeof buf), "mcp:claude-code");
    a = actor(COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC, NULL, NULL, "");
    assert_string_equal(provn_actor_text(&a, buf, sizeof buf), "grpc");
    a = actor(COMFYD__V1__ACTOR_KIND__ACTOR_KIND_USER, NULL, NULL, NULL);
    assert_string_equal(provn_actor_text(&a, buf, sizeof buf), "user");
    assert_true(provn_name_valid("ci-bot 1.0", PROVN_MAX_NAME));
    assert_false(provn_name_valid("", PROVN_MAX_NAME));
    assert_false(provn_name_valid("caf\xc3\xa9", PROVN_MAX_NAME));
}

static void records_follow_the_ops(void **state)
{
    (void)state;
    provn *p = NULL;
    assert_int_equal(provn_create(&p), PROVN_OK);
    graph *g = empty_graph();
    provn_actor bot = actor(COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC, NULL, NULL, "ci-bot");
    provn_actor user = actor(COMFYD__V1__ACTOR_KIND__ACTOR_KIND_USER, NULL, NULL, NULL);
    provn_actor skill = actor(COMFYD__V1__ACTOR_KIND__ACTOR_KIND_SKILL, "s-1", "builder", NULL);

    commit(p, g, wf_a, 2, &bot);
    Comfyd__V1__Graph *m = filled(p, g);
    assert_by(node_of(m, 1)->provenance, COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC, "ci-bot", 2);
    assert_by(widget_prov(node_of(m, 1), "steps"), COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC,
              "ci-bot", 2);
    assert_by(widget_prov(node_of(m, 2), "text"), COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC, "ci-bot",
              2);
    assert_int_equal(m->n_links, 1);
    assert_by(m->links[0]->provenance, COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC, "ci-bot", 2);
    protobuf_c_message_free_unpacked(&m->base, NULL);

    /* The user moves node 1 and sets its steps: the node and that widget
     * are the user's, the rest stays the caller's. */
    commit(p, g, wf_b, 3, &user);
    m = filled(p, g);
    assert_by(node_of(m, 1)->provenance, COMFYD__V1__ACTOR_KIND__ACTOR_KIND_USER, "", 3);
    assert_by(widget_prov(node_of(m, 1), "steps"), COMFYD__V1__ACTOR_KIND__ACTOR_KIND_USER, "", 3);
    assert_by(widget_prov(node_of(m, 1), "seed"), COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC, "ci-bot",
              2);
    assert_by(node_of(m, 2)->provenance, COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC, "ci-bot", 2);
    protobuf_c_message_free_unpacked(&m->base, NULL);

    /* A skill removes node 2: its records and its link's go. */
    commit(p, g, wf_c, 4, &skill);
    provn_prune(p, g);
    assert_null(provn_node_provenance(p, 2));
    m = filled(p, g);
    assert_int_equal(m->n_nodes, 1);
    protobuf_c_message_free_unpacked(&m->base, NULL);
    /* Node 2 comes back (the same workflow as before): a new node, the
     * skill's, with nothing of the old one's records. */
    commit(p, g, wf_b, 5, &skill);
    m = filled(p, g);
    const Comfyd__V1__Node *n2 = node_of(m, 2);
    assert_int_equal(n2->provenance->actor->kind, COMFYD__V1__ACTOR_KIND__ACTOR_KIND_SKILL);
    assert_string_equal(n2->provenance->actor->session_id, "s-1");
    assert_string_equal(n2->provenance->actor->skill, "builder");
    assert_int_equal(widget_prov(n2, "text")->revision, 5);
    assert_int_equal(m->links[0]->provenance->revision, 5);
    protobuf_c_message_free_unpacked(&m->base, NULL);

    /* The log's ops get their revision's actor. */
    Comfyd__V1__GraphOp **ops = NULL;
    size_t n = 0;
    assert_int_equal(graph_diff_since(g, graph_log_floor(g), &ops, &n), GRAPH_OK);
    assert_true(n >= 5);
    assert_int_equal(provn_fill_ops(p, ops, n), PROVN_OK);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(ops[i]->actor);
        Comfyd__V1__ActorKind want = ops[i]->revision == 2 ? COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC
                                     : ops[i]->revision == 3
                                         ? COMFYD__V1__ACTOR_KIND__ACTOR_KIND_USER
                                         : COMFYD__V1__ACTOR_KIND__ACTOR_KIND_SKILL;
        assert_int_equal(ops[i]->actor->kind, want);
        assert_true(ops[i]->node_id > 0);
    }
    graph_ops_free(ops, n);
    graph_destroy(g);
    provn_destroy(p);
}

static void the_revision_ring_is_bounded(void **state)
{
    (void)state;
    provn *p = NULL;
    assert_int_equal(provn_create(&p), PROVN_OK);
    char name[32];
    for (uint64_t r = 1; r <= PROVN_MAX_REVS + 10; r++) {
        snprintf(name, sizeof name, "caller-%llu", (unsigned long long)r);
        provn_actor a = actor(COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC, NULL, NULL, name);
        assert_int_equal(provn_record(p, NULL, 0, &a, r, 0), PROVN_OK);
    }
    assert_null(provn_revision_actor(p, 10));
    const provn_actor *a = provn_revision_actor(p, 11);
    assert_non_null(a);
    assert_string_equal(a->name, "caller-11");
    a = provn_revision_actor(p, PROVN_MAX_REVS + 10);
    assert_string_equal(a->name, "caller-1034");
    assert_null(provn_revision_actor(p, PROVN_MAX_REVS + 11));
    provn_destroy(p);
}

static void json_round_trip_through_a_workflow(void **state)
{
    (void)state;
    provn *p = NULL;
    assert_int_equal(provn_create(&p), PROVN_OK);
    graph *g = empty_graph();
    provn_actor bot = actor(COMFYD__V1__ACTOR_KIND__ACTOR_KIND_MCP, NULL, NULL, "claude \"code\"");
    provn_actor user = actor(COMFYD__V1__ACTOR_KIND__ACTOR_KIND_USER, NULL, NULL, NULL);
    commit(p, g, wf_a, 2, &bot);
    commit(p, g, wf_b, 3, &user);
    size_t len = 0, recs = 0;
    char *pj = provn_to_json(p, g, 3, &len, &recs);
    assert_non_null(pj);
    assert_int_equal(recs, 3); /* two nodes, one link */
    char *wf = NULL;
    size_t wf_len = 0;
    char err[256] = "";
    assert_int_equal(provn_inject_json(wf_a, strlen(wf_a), pj, len, &wf, &wf_len, err, sizeof err),
                     PROVN_OK);
    /* Other keys of extra stay. */
    assert_non_null(strstr(wf, "\"ds\":{\"scale\":1}"));
    assert_non_null(strstr(wf, "\"comfyd\":{\"provenance\":{\"v\":1"));
    /* Injecting again replaces, never duplicates. */
    char *wf2 = NULL;
    size_t wf2_len = 0;
    assert_int_equal(provn_inject_json(wf, wf_len, pj, len, &wf2, &wf2_len, err, sizeof err),
                     PROVN_OK);
    assert_string_equal(wf, wf2);
    free(wf2);

    /* A new state (a restart) reads it back for the same graph. */
    graph *g2 = NULL;
    assert_int_equal(graph_parse_workflow(&g2, wf_b, strlen(wf_b), NULL, 7, NULL, 0), GRAPH_OK);
    provn *q = NULL;
    assert_int_equal(provn_create(&q), PROVN_OK);
    assert_int_equal(provn_load_json(q, g2, wf, wf_len, 7, err, sizeof err), PROVN_OK);
    Comfyd__V1__Graph *m1 = filled(p, g), *m2 = filled(q, g2);
    assert_int_equal(m1->n_nodes, m2->n_nodes);
    for (size_t i = 0; i < m1->n_nodes; i++) {
        const Comfyd__V1__Node *a = m1->nodes[i], *b = node_of(m2, a->id);
        assert_by(b->provenance, a->provenance->actor->kind, a->provenance->actor->name,
                  a->provenance->revision);
        for (size_t k = 0; k < a->n_widgets; k++)
            assert_by(widget_prov(b, a->widgets[k]->name), a->widgets[k]->provenance->actor->kind,
                      a->widgets[k]->provenance->actor->name, a->widgets[k]->provenance->revision);
    }
    assert_by(m2->links[0]->provenance, COMFYD__V1__ACTOR_KIND__ACTOR_KIND_MCP, "claude \"code\"",
              2);
    protobuf_c_message_free_unpacked(&m1->base, NULL);
    protobuf_c_message_free_unpacked(&m2->base, NULL);

    /* Records newer than the load are not overwritten by stored ones. */
    provn_actor later = actor(COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC, NULL, NULL, "later");
    commit(q, g2, wf_c, 8, &later);
    commit(q, g2, wf_a, 9, &later);
    assert_int_equal(provn_load_json(q, g2, wf, wf_len, 7, err, sizeof err), PROVN_OK);
    Comfyd__V1__Provenance *pv = provn_node_provenance(q, 2);
    assert_string_equal(pv->actor->name, "later");
    protobuf_c_message_free_unpacked(&pv->base, NULL);

    free(wf);
    free(pj);
    graph_destroy(g2);
    graph_destroy(g);
    provn_destroy(q);
    provn_destroy(p);
}

/* The records changed after a revision only, with the actors they use. */
static void changes_since_a_revision_only(void **state)
{
    (void)state;
    provn *p = NULL;
    assert_int_equal(provn_create(&p), PROVN_OK);
    graph *g = empty_graph();
    provn_actor bot = actor(COMFYD__V1__ACTOR_KIND__ACTOR_KIND_MCP, NULL, NULL, "bot");
    provn_actor user = actor(COMFYD__V1__ACTOR_KIND__ACTOR_KIND_USER, NULL, NULL, NULL);
    commit(p, g, wf_a, 2, &bot);
    commit(p, g, wf_b, 3, &user); /* node 1 moved, its steps set */
    size_t len = 0, recs = 0;
    char *pj = provn_changes_json(p, g, 3, 2, &len, &recs);
    assert_non_null(pj);
    assert_int_equal(recs, 1);
    assert_int_equal(strlen(pj), len);
    /* Node 1 with all its records (its creation by bot among them); node 2
     * and the link are as of revision 2, left out. */
    assert_non_null(strstr(pj, "\"revision\":3,\"since\":2,"));
    assert_non_null(
        strstr(pj, "\"actors\":[{\"kind\":\"user\"},{\"kind\":\"mcp\",\"name\":\"bot\"}]"));
    assert_non_null(strstr(pj, "\"nodes\":{\"1\":{\"by\":0,\"rev\":3,"));
    assert_non_null(strstr(pj, "\"created\":{\"by\":1,\"rev\":2,"));
    assert_null(strstr(pj, "\"2\":"));
    assert_non_null(strstr(pj, "\"links\":{}"));
    free(pj);
    /* Nothing changed after 3: no records, no actors. */
    pj = provn_changes_json(p, g, 3, 3, &len, &recs);
    assert_non_null(pj);
    assert_int_equal(recs, 0);
    assert_string_equal(pj, "{\"v\":1,\"revision\":3,\"since\":3,\"actors\":[],\"nodes\":{},"
                            "\"links\":{}}");
    free(pj);
    /* since 0 is the whole provenance. */
    char *all = provn_to_json(p, g, 3, &len, &recs);
    char *all0 = provn_changes_json(p, g, 3, 0, NULL, NULL);
    assert_int_equal(recs, 3);
    assert_string_equal(all, all0);
    free(all);
    free(all0);
    graph_destroy(g);
    provn_destroy(p);
}

static void malformed_provenance_is_refused_whole(void **state)
{
    (void)state;
    graph *g = NULL;
    assert_int_equal(graph_parse_workflow(&g, wf_a, strlen(wf_a), NULL, 1, NULL, 0), GRAPH_OK);
    provn *p = NULL;
    assert_int_equal(provn_create(&p), PROVN_OK);
    char err[256];
    static const char *const bad[] = {
        "{\"nodes\":[],\"extra\":{\"comfyd\":{\"provenance\":{\"v\":2,\"actors\":[]}}}}",
        "{\"nodes\":[],\"extra\":{\"comfyd\":{\"provenance\":[1]}}}",
        "{\"nodes\":[],\"extra\":{\"comfyd\":{\"provenance\":{\"v\":1,\"actors\":[{\"kind\":"
        "\"admin\"}],\"nodes\":{\"1\":{\"by\":0,\"rev\":1,\"at\":1}}}}}}",
        "{\"nodes\":[],\"extra\":{\"comfyd\":{\"provenance\":{\"v\":1,\"actors\":[{\"kind\":"
        "\"grpc\",\"name\":\"a\\u0001b\"}]}}}}",
        "{\"extra\":{\"comfyd\":{\"provenance\": not json",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        assert_int_equal(provn_load_json(p, g, bad[i], strlen(bad[i]), 1, err, sizeof err),
                         PROVN_EINVAL);
        assert_true(err[0] != 0);
        assert_null(provn_node_provenance(p, 1));
    }
    /* Unknown ids, out-of-range actor indexes and odd records are skipped;
     * the valid record is taken. */
    static const char ok[] =
        "{\"extra\":{\"comfyd\":{\"provenance\":{\"v\":1,\"actors\":[{\"kind\":\"user\"}],"
        "\"nodes\":{\"99\":{\"by\":0,\"rev\":1,\"at\":1},\"2\":{\"by\":5,\"rev\":1,\"at\":1},"
        "\"x\":{\"by\":0,\"rev\":1,\"at\":1},\"1\":{\"by\":0,\"rev\":4,\"at\":44}},"
        "\"links\":{\"1\":\"nope\"}}}}}";
    assert_int_equal(provn_load_json(p, g, ok, strlen(ok), 1, err, sizeof err), PROVN_OK);
    Comfyd__V1__Provenance *pv = provn_node_provenance(p, 1);
    assert_non_null(pv);
    assert_int_equal(pv->actor->kind, COMFYD__V1__ACTOR_KIND__ACTOR_KIND_USER);
    assert_int_equal(pv->revision, 4);
    protobuf_c_message_free_unpacked(&pv->base, NULL);
    assert_null(provn_node_provenance(p, 2));
    assert_null(provn_node_provenance(p, 99));
    /* A workflow without provenance changes nothing. */
    assert_int_equal(provn_load_json(p, g, wf_a, strlen(wf_a), 1, err, sizeof err), PROVN_OK);
    /* Injecting into something that is not a workflow object is refused. */
    char *out = NULL;
    size_t out_len = 0;
    assert_int_equal(provn_inject_json("[1]", 3, "{}", 2, &out, &out_len, err, sizeof err),
                     PROVN_EINVAL);
    assert_null(out);
    graph_destroy(g);
    provn_destroy(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(actors_are_bounded_printable_names),
        cmocka_unit_test(records_follow_the_ops),
        cmocka_unit_test(the_revision_ring_is_bounded),
        cmocka_unit_test(json_round_trip_through_a_workflow),
        cmocka_unit_test(changes_since_a_revision_only),
        cmocka_unit_test(malformed_provenance_is_refused_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
