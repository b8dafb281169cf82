/* Unit tests of core/lease_graph.c: taking, renewing, expiring and
 * releasing leases; conflicts between holders; patches of another caller
 * refused with the holder and the expiry, the holder's passing; group
 * membership (nodes inside the box, a create inside it, a group by id);
 * the user's edits marked for the diff; the bounds. Real workflows through
 * graph_parse_workflow and graph_apply_workflow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lease_graph.h"

/* Three nodes: 1 and 2 inside group "Sampler" (id 7), 3 outside. */
static const char wf[] =
    "{\"last_node_id\":3,\"last_link_id\":0,"
    "\"nodes\":[{\"id\":1,\"type\":\"A\",\"pos\":[10,10],\"size\":[100,50],"
    "\"widgets_values\":{\"seed\":1}},"
    "{\"id\":2,\"type\":\"A\",\"pos\":[200,10],\"size\":[100,50],\"widgets_values\":{\"seed\":2}},"
    "{\"id\":3,\"type\":\"A\",\"pos\":[900,900],\"size\":[100,50],\"widgets_values\":{\"seed\":3}}]"
    ","
    "\"links\":[],\"groups\":[{\"id\":7,\"title\":\"Sampler\",\"bounding\":[0,-30,400,200]},"
    "{\"id\":8,\"title\":\"Empty\",\"bounding\":[2000,2000,10,10]}]}";

/* The user moved node 1 and set node 3's seed. */
static const char wf_user[] =
    "{\"last_node_id\":3,\"last_link_id\":0,"
    "\"nodes\":[{\"id\":1,\"type\":\"A\",\"pos\":[20,10],\"size\":[100,50],"
    "\"widgets_values\":{\"seed\":1}},"
    "{\"id\":2,\"type\":\"A\",\"pos\":[200,10],\"size\":[100,50],\"widgets_values\":{\"seed\":2}},"
    "{\"id\":3,\"type\":\"A\",\"pos\":[900,900],\"size\":[100,50],\"widgets_values\":{\"seed\":4}}]"
    ","
    "\"links\":[],\"groups\":[{\"id\":7,\"title\":\"Sampler\",\"bounding\":[0,-30,400,200]}]}";

#define T0 1000000

static provn_actor actor(Comfyd__V1__ActorKind kind, const char *sid, const char *skill,
                         const char *name)
{
    provn_actor a;
    assert_int_equal(provn_actor_make(&a, kind, sid, skill, name, NULL, 0), PROVN_OK);
    return a;
}

static provn_actor skill(const char *sid, const char *name)
{
    return actor(COMFYD__V1__ACTOR_KIND__ACTOR_KIND_SKILL, sid, name, NULL);
}

static provn_actor mcp(const char *name)
{
    return actor(COMFYD__V1__ACTOR_KIND__ACTOR_KIND_MCP, NULL, NULL, name);
}

static graph *wf_graph(void)
{
    graph *g = NULL;
    char err[256] = "";
    int rc = graph_parse_workflow(&g, wf, strlen(wf), NULL, 1, err, sizeof err);
    if (rc) fprintf(stderr, "parse: %s\n", err);
    assert_int_equal(rc, GRAPH_OK);
    return g;
}

static void lease_free(Comfyd__V1__Lease *l)
{
    if (l) protobuf_c_message_free_unpacked(&l->base, NULL);
}

/* A set_widget of node id's seed. */
typedef struct {
    Comfyd__V1__Command cmd;
    Comfyd__V1__SetWidgetCommand sw;
    Comfyd__V1__NodeRef ref;
    Comfyd__V1__Value v;
} set_cmd;

static void set_seed(set_cmd *s, int64_t id)
{
    comfyd__v1__command__init(&s->cmd);
    comfyd__v1__set_widget_command__init(&s->sw);
    comfyd__v1__node_ref__init(&s->ref);
    comfyd__v1__value__init(&s->v);
    s->ref.node_case = COMFYD__V1__NODE_REF__NODE_ID;
    s->ref.id = id;
    s->v.kind_case = COMFYD__V1__VALUE__KIND_INTEGER;
    s->v.integer = 5;
    s->sw.node_id = &s->ref;
    s->sw.name = "seed";
    s->sw.value = &s->v;
    s->cmd.command_case = COMFYD__V1__COMMAND__COMMAND_SET_WIDGET;
    s->cmd.set_widget = &s->sw;
}

static int check_one(lgraph *t, graph *g, const provn_actor *who, const Comfyd__V1__Command *c,
                     int64_t now, lgraph_refusal *r)
{
    const Comfyd__V1__Command *cmds[] = {c};
    return lgraph_check(t, g, who, cmds, 1, now, r);
}

static void take_check_release(void **state)
{
    (void)state;
    graph *g = wf_graph();
    lgraph *t;
    assert_int_equal(lgraph_create(&t), LGRAPH_OK);
    provn_actor a = skill("S1", "builder"), b = mcp("claude-code");
    Comfyd__V1__Lease *l = NULL;
    lgraph_refusal r = {0};
    int64_t nodes[] = {3};
    assert_int_equal(lgraph_acquire(t, g, &a, nodes, 1, NULL, 5000, T0, &l, &r), LGRAPH_OK);
    assert_non_null(l);
    assert_int_equal(l->n_node_ids, 1);
    assert_int_equal(l->node_ids[0], 3);
    assert_int_equal(l->expires_ms, T0 + 5000);
    assert_int_equal(l->holder->kind, COMFYD__V1__ACTOR_KIND__ACTOR_KIND_SKILL);
    assert_string_equal(l->holder->skill, "builder");
    uint64_t id = l->id;
    lease_free(l);

    /* Another caller's patch on node 3 is refused with the holder and the
     * expiry; on node 2 it passes; the holder's own passes. */
    set_cmd s3, s2;
    set_seed(&s3, 3);
    set_seed(&s2, 2);
    assert_int_equal(check_one(t, g, &b, &s3.cmd, T0 + 10, &r), LGRAPH_ELEASED);
    assert_int_equal(r.node_id, 3);
    assert_int_equal(r.index, 0);
    assert_non_null(r.lease);
    assert_int_equal(r.lease->id, id);
    assert_int_equal(r.lease->expires_ms, T0 + 5000);
    assert_string_equal(r.lease->holder->session_id, "S1");
    assert_non_null(strstr(r.message, "#3"));
    assert_non_null(strstr(r.message, "skill:builder"));
    assert_non_null(strstr(r.message, "1005000"));
    lgraph_refusal_clear(&r);
    assert_int_equal(check_one(t, g, &b, &s2.cmd, T0 + 10, &r), LGRAPH_OK);
    assert_int_equal(check_one(t, g, &a, &s3.cmd, T0 + 10, &r), LGRAPH_OK);
    /* Another skill of the same session is another holder. */
    provn_actor a2 = skill("S1", "painter");
    assert_int_equal(check_one(t, g, &a2, &s3.cmd, T0 + 10, &r), LGRAPH_ELEASED);
    lgraph_refusal_clear(&r);
    /* The user is never refused. */
    provn_actor u = actor(COMFYD__V1__ACTOR_KIND__ACTOR_KIND_USER, NULL, NULL, NULL);
    assert_int_equal(check_one(t, g, &u, &s3.cmd, T0 + 10, &r), LGRAPH_OK);

    /* b cannot take node 3, renew or release a's lease. */
    assert_int_equal(lgraph_acquire(t, g, &b, nodes, 1, NULL, 0, T0 + 20, &l, &r), LGRAPH_ELEASED);
    assert_null(l);
    assert_int_equal(r.lease->id, id);
    lgraph_refusal_clear(&r);
    assert_int_equal(lgraph_renew(t, id, &b, 0, T0 + 20, &l, &r), LGRAPH_ELEASED);
    lgraph_refusal_clear(&r);
    unsigned rel = 9;
    assert_int_equal(lgraph_release(t, id, &b, T0 + 20, &rel, &r), LGRAPH_ELEASED);
    assert_int_equal(rel, 0);
    lgraph_refusal_clear(&r);

    /* Renew moves the expiry; past it the lease is gone (lazily). */
    assert_int_equal(lgraph_renew(t, id, &a, 8000, T0 + 4000, &l, &r), LGRAPH_OK);
    assert_int_equal(l->expires_ms, T0 + 12000);
    lease_free(l);
    assert_int_equal(check_one(t, g, &b, &s3.cmd, T0 + 11999, &r), LGRAPH_ELEASED);
    lgraph_refusal_clear(&r);
    assert_int_equal(check_one(t, g, &b, &s3.cmd, T0 + 12000, &r), LGRAPH_OK);
    assert_int_equal(lgraph_count(t, T0 + 12000), 0);
    assert_int_equal(lgraph_renew(t, id, &a, 0, T0 + 12000, &l, &r), LGRAPH_ENOTFOUND);
    assert_non_null(strstr(r.message, "not in force"));

    /* Explicit release, and release of all of a holder's leases. */
    assert_int_equal(lgraph_acquire(t, g, &b, nodes, 1, NULL, 0, T0, &l, &r), LGRAPH_OK);
    id = l->id;
    lease_free(l);
    assert_int_equal(lgraph_release(t, id, &b, T0 + 1, &rel, &r), LGRAPH_OK);
    assert_int_equal(rel, 1);
    assert_int_equal(check_one(t, g, &a, &s3.cmd, T0 + 2, &r), LGRAPH_OK);
    int64_t one[] = {1}, two[] = {2};
    assert_int_equal(lgraph_acquire(t, g, &b, one, 1, NULL, 0, T0, &l, &r), LGRAPH_OK);
    lease_free(l);
    assert_int_equal(lgraph_acquire(t, g, &b, two, 1, NULL, 0, T0, &l, &r), LGRAPH_OK);
    lease_free(l);
    assert_int_equal(lgraph_release(t, 0, &b, T0 + 1, &rel, &r), LGRAPH_OK);
    assert_int_equal(rel, 2);
    assert_int_equal(lgraph_count(t, T0 + 1), 0);

    /* The end of a session's turn releases its skills' leases only. */
    assert_int_equal(lgraph_acquire(t, g, &a, one, 1, NULL, 0, T0, &l, &r), LGRAPH_OK);
    lease_free(l);
    assert_int_equal(lgraph_acquire(t, g, &a2, two, 1, NULL, 0, T0, &l, &r), LGRAPH_OK);
    lease_free(l);
    assert_int_equal(lgraph_acquire(t, g, &b, nodes, 1, NULL, 0, T0, &l, &r), LGRAPH_OK);
    lease_free(l);
    assert_int_equal(lgraph_release_session(t, "S2"), 0);
    assert_int_equal(lgraph_release_session(t, "S1"), 2);
    assert_int_equal(lgraph_count(t, T0 + 1), 1);
    lgraph_destroy(t);
    graph_destroy(g);
}

static void groups(void **state)
{
    (void)state;
    graph *g = wf_graph();
    lgraph *t;
    assert_int_equal(lgraph_create(&t), LGRAPH_OK);
    provn_actor a = skill("S1", "builder"), b = mcp("other");
    Comfyd__V1__Lease *l = NULL;
    lgraph_refusal r = {0};
    /* By title: nodes 1 and 2 (their centres inside the box), not 3. */
    assert_int_equal(lgraph_acquire(t, g, &a, NULL, 0, "Sampler", 0, T0, &l, &r), LGRAPH_OK);
    assert_int_equal(l->n_node_ids, 2);
    assert_int_equal(l->node_ids[0], 1);
    assert_int_equal(l->node_ids[1], 2);
    assert_string_equal(l->group, "Sampler");
    assert_non_null(l->group_pos);
    assert_true(l->group_size->x == 400);
    assert_int_equal(l->expires_ms, T0 + LGRAPH_DEFAULT_TTL_MS);
    lease_free(l);
    /* A node created inside the box by another caller is refused; outside
     * it passes; without a position it passes. */
    Comfyd__V1__Command c = COMFYD__V1__COMMAND__INIT;
    Comfyd__V1__CreateNodeCommand cn = COMFYD__V1__CREATE_NODE_COMMAND__INIT;
    Google__Protobuf__DoubleValue x = GOOGLE__PROTOBUF__DOUBLE_VALUE__INIT,
                                  y = GOOGLE__PROTOBUF__DOUBLE_VALUE__INIT;
    x.value = 50;
    y.value = 50;
    cn.node_type = "A";
    cn.x = &x;
    cn.y = &y;
    c.command_case = COMFYD__V1__COMMAND__COMMAND_CREATE_NODE;
    c.create_node = &cn;
    assert_int_equal(check_one(t, g, &b, &c, T0 + 1, &r), LGRAPH_ELEASED);
    assert_non_null(strstr(r.message, "inside a leased group"));
    assert_non_null(strstr(r.message, "Sampler"));
    lgraph_refusal_clear(&r);
    assert_int_equal(check_one(t, g, &a, &c, T0 + 1, &r), LGRAPH_OK);
    x.value = 1000;
    assert_int_equal(check_one(t, g, &b, &c, T0 + 1, &r), LGRAPH_OK);
    /* The group by id, held by another: refused on node 1. */
    assert_int_equal(lgraph_acquire(t, g, &b, NULL, 0, "7", 0, T0, &l, &r), LGRAPH_ELEASED);
    assert_int_equal(r.node_id, 1);
    lgraph_refusal_clear(&r);
    /* An empty group is a lease on its box only. */
    assert_int_equal(lgraph_acquire(t, g, &b, NULL, 0, "8", 0, T0, &l, &r), LGRAPH_OK);
    assert_int_equal(l->n_node_ids, 0);
    assert_string_equal(l->group, "Empty");
    lease_free(l);
    /* Unknown group, clear_graph over leased nodes, load over them. */
    assert_int_equal(lgraph_acquire(t, g, &b, NULL, 0, "Nope", 0, T0, &l, &r), LGRAPH_ENOTFOUND);
    assert_non_null(strstr(r.message, "no group titled \"Nope\""));
    Comfyd__V1__Command clr = COMFYD__V1__COMMAND__INIT;
    Comfyd__V1__ClearGraphCommand cg = COMFYD__V1__CLEAR_GRAPH_COMMAND__INIT;
    clr.command_case = COMFYD__V1__COMMAND__COMMAND_CLEAR_GRAPH;
    clr.clear_graph = &cg;
    assert_int_equal(check_one(t, g, &b, &clr, T0 + 1, &r), LGRAPH_ELEASED);
    lgraph_refusal_clear(&r);
    assert_int_equal(lgraph_check_all(t, &b, T0 + 1, &r), LGRAPH_ELEASED);
    lgraph_refusal_clear(&r);
    lgraph_destroy(t);
    graph_destroy(g);
}

static void user_edits_marked(void **state)
{
    (void)state;
    graph *g = wf_graph();
    lgraph *t;
    assert_int_equal(lgraph_create(&t), LGRAPH_OK);
    provn_actor a = skill("S1", "builder");
    Comfyd__V1__Lease *l = NULL;
    lgraph_refusal r = {0};
    int64_t one[] = {1};
    assert_int_equal(lgraph_acquire(t, g, &a, one, 1, NULL, 0, T0, &l, &r), LGRAPH_OK);
    uint64_t id = l->id;
    lease_free(l);
    Comfyd__V1__GraphOp **ops = NULL;
    size_t n = 0;
    assert_int_equal(graph_apply_workflow(g, wf_user, strlen(wf_user), 2,
                                          COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER, T0 + 5, &ops,
                                          &n, NULL, 0),
                     GRAPH_OK);
    assert_int_equal(n, 2);
    assert_int_equal(lgraph_user_edit(t, ops, n, 2, T0 + 5), LGRAPH_OK);
    assert_int_equal(lgraph_fill_ops(t, ops, n), LGRAPH_OK);
    size_t marked = 0;
    for (size_t i = 0; i < n; i++) {
        if (ops[i]->node_id == 1) {
            assert_int_equal(ops[i]->lease_id, id);
            assert_non_null(ops[i]->lease_holder);
            assert_string_equal(ops[i]->lease_holder->skill, "builder");
            marked++;
        } else {
            assert_int_equal(ops[i]->lease_id, 0);
            assert_null(ops[i]->lease_holder);
        }
    }
    assert_int_equal(marked, 1);
    graph_ops_free(ops, n);
    Comfyd__V1__Lease **v = NULL;
    assert_int_equal(lgraph_list(t, T0 + 6, &v, &n), LGRAPH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(v[0]->n_user_edited_node_ids, 1);
    assert_int_equal(v[0]->user_edited_node_ids[0], 1);
    assert_int_equal(v[0]->user_edited_revision, 2);
    lease_free(v[0]);
    free(v);
    lgraph_destroy(t);
    graph_destroy(g);
}

static void bounds(void **state)
{
    (void)state;
    graph *g = wf_graph();
    lgraph *t;
    assert_int_equal(lgraph_create(&t), LGRAPH_OK);
    Comfyd__V1__Lease *l = NULL;
    lgraph_refusal r = {0};
    int64_t one[] = {1}, gone[] = {42};
    /* Unnamed callers and the user take none; ttl bounded; nodes must be
     * there; something must be named. */
    provn_actor anon = actor(COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC, NULL, NULL, NULL);
    assert_int_equal(lgraph_acquire(t, g, &anon, one, 1, NULL, 0, T0, &l, &r), LGRAPH_EINVAL);
    assert_non_null(strstr(r.message, "named caller"));
    provn_actor a = actor(COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC, NULL, NULL, "ci-bot");
    assert_int_equal(lgraph_acquire(t, g, &a, one, 1, NULL, LGRAPH_MAX_TTL_MS + 1, T0, &l, &r),
                     LGRAPH_EINVAL);
    assert_int_equal(lgraph_acquire(t, g, &a, one, 1, NULL, LGRAPH_MIN_TTL_MS - 1, T0, &l, &r),
                     LGRAPH_EINVAL);
    assert_int_equal(lgraph_acquire(t, g, &a, gone, 1, NULL, 0, T0, &l, &r), LGRAPH_ENOTFOUND);
    assert_int_equal(r.node_id, 42);
    assert_int_equal(lgraph_acquire(t, g, &a, NULL, 0, NULL, 0, T0, &l, &r), LGRAPH_EINVAL);
    /* At most LGRAPH_MAX_LEASES in force (one holder may hold many). */
    for (int i = 0; i < LGRAPH_MAX_LEASES; i++) {
        assert_int_equal(lgraph_acquire(t, g, &a, one, 1, NULL, 0, T0, &l, &r), LGRAPH_OK);
        lease_free(l);
    }
    assert_int_equal(lgraph_acquire(t, g, &a, one, 1, NULL, 0, T0, &l, &r), LGRAPH_EFULL);
    /* Expired ones make room. */
    assert_int_equal(lgraph_acquire(t, g, &a, one, 1, NULL, 0, T0 + LGRAPH_DEFAULT_TTL_MS, &l, &r),
                     LGRAPH_OK);
    lease_free(l);
    assert_int_equal(lgraph_count(t, T0 + LGRAPH_DEFAULT_TTL_MS), 1);
    lgraph_destroy(t);
    graph_destroy(g);
}

static void find_group_input(void **state)
{
    (void)state;
    double box[4];
    char title[64], err[256];
    const char *bad[] = {
        "[]",
        "{\"groups\":[{\"title\":\"G\",\"bounding\":[0,0,10]}]}",
        "{\"groups\":[{\"title\":\"G\",\"bounding\":[0,0,-1,5]}]}",
        "{\"groups\":[{\"title\":\"G\",\"bounding\":[0,0,\"x\",5]}]}",
        "{\"groups\":[{\"title\":\"G\",\"bounding\":[1e300,0,1,5]}]}",
        "not json",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(lgraph_find_group(bad[i], strlen(bad[i]), "G", box, title, sizeof title,
                                           err, sizeof err),
                         LGRAPH_EINVAL);
    const char *none = "{\"nodes\":[]}";
    assert_int_equal(
        lgraph_find_group(none, strlen(none), "G", box, title, sizeof title, err, sizeof err),
        LGRAPH_ENOTFOUND);
    /* A title wins over an id. */
    const char *two = "{\"groups\":[{\"id\":1,\"title\":\"A\",\"bounding\":[0,0,1,1]},"
                      "{\"id\":2,\"title\":\"1\",\"bounding\":[5,5,1,1]}]}";
    assert_int_equal(
        lgraph_find_group(two, strlen(two), "1", box, title, sizeof title, err, sizeof err),
        LGRAPH_OK);
    assert_true(box[0] == 5);
    assert_int_equal(
        lgraph_find_group(two, strlen(two), "2", box, title, sizeof title, err, sizeof err),
        LGRAPH_OK);
    assert_string_equal(title, "1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(take_check_release), cmocka_unit_test(groups),
        cmocka_unit_test(user_edits_marked),  cmocka_unit_test(bounds),
        cmocka_unit_test(find_group_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
