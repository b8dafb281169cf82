/* Unit tests for core/graph_rebase: the commutation check of a stale patch
 * against every pair of a command kind of the patch and a kind of change in
 * the operation log (same target: the expected verdict; another target:
 * always commutes, but for clear_graph), slot names, refs, the conflict's
 * fields from a real log (graph_apply_workflow) and the cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "graph.h"
#include "graph_rebase.h"
#include "jsonpb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURES COMFYD_SOURCE_DIR "/tests/fixtures/"

static nodeinfo *schema;
static char *default_wf;
static size_t default_wf_len;

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = 0;
        *len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static int setup(void **state)
{
    (void)state;
    size_t len;
    char *json = read_file(FIXTURES "object_info.json", &len);
    char err[256] = "";
    if (!json || nodeinfo_create(&schema, json, len, NODEINFO_FRONTEND_TYPES, err, sizeof err)) {
        fprintf(stderr, "schema: %s\n", err);
        free(json);
        return -1;
    }
    free(json);
    default_wf = read_file(FIXTURES "txt2img_workflow.json", &default_wf_len);
    return default_wf ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    nodeinfo_unref(schema);
    free(default_wf);
    return 0;
}

static graph *parse_default(uint64_t rev)
{
    graph *g = NULL;
    char err[256] = "";
    int rc = graph_parse_workflow(&g, default_wf, default_wf_len, schema, rev, err, sizeof err);
    if (rc) fprintf(stderr, "parse: %s\n", err);
    assert_int_equal(rc, GRAPH_OK);
    return g;
}

static const ProtobufCMessageDescriptor *const flat[] = {&comfyd__v1__command__descriptor};

static ProtobufCMessage *decode(const ProtobufCMessageDescriptor *d, const char *json)
{
    jsonpb_opts o = {0};
    o.flatten = flat;
    o.n_flatten = 1;
    ProtobufCMessage *m = NULL;
    char err[256] = "";
    int rc = jsonpb_decode(d, json, strlen(json), &o, &m, err, sizeof err);
    if (rc) fprintf(stderr, "decode %s: %s\n", json, err);
    assert_int_equal(rc, 0);
    return m;
}

static Comfyd__V1__Command *cmd(const char *json)
{
    return (Comfyd__V1__Command *)decode(&comfyd__v1__command__descriptor, json);
}

/* A logged change as graph_diff.c writes it: nodes by id, slots by index, the
 * node first in the summary. command NULL: a change without a command. */
static Comfyd__V1__GraphOp *logged(uint64_t rev, const char *command, const char *summary)
{
    Comfyd__V1__GraphOp *op = malloc(sizeof *op);
    assert_non_null(op);
    comfyd__v1__graph_op__init(op);
    op->revision = rev;
    op->origin = COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER;
    op->command = command ? cmd(command) : NULL;
    op->summary = strdup(summary);
    return op;
}

static void op_free(Comfyd__V1__GraphOp *op)
{
    protobuf_c_message_free_unpacked(&op->base, NULL);
}

/* The patch's command kinds, each aimed at #3 KSampler (input 0 "model",
 * widget "seed"), in the Command oneof's order. */
enum {
    P_CREATE,
    P_REMOVE,
    P_CONNECT,
    P_DISCONNECT,
    P_SET_WIDGET,
    P_MOVE,
    P_CLEAR,
    P_GET,
    P_ARRANGE,
    P_MODE,
    P__N
};
static const char *const patch_cmds[P__N] = {
    [P_CREATE] = "{\"type\":\"create_node\",\"node_type\":\"KSampler\",\"x\":0,\"y\":0}",
    [P_REMOVE] = "{\"type\":\"remove_node\",\"node_id\":3}",
    [P_CONNECT] = "{\"type\":\"connect\",\"from_id\":4,\"from_slot\":0,\"to_id\":3,\"to_slot\":0}",
    [P_DISCONNECT] = "{\"type\":\"disconnect\",\"node_id\":3,\"slot\":0}",
    [P_SET_WIDGET] = "{\"type\":\"set_widget\",\"node_id\":3,\"name\":\"seed\",\"value\":5}",
    [P_MOVE] = "{\"type\":\"move_node\",\"node_id\":3,\"x\":10,\"y\":20}",
    [P_CLEAR] = "{\"type\":\"clear_graph\"}",
    [P_GET] = "{\"type\":\"get_graph\"}",
    [P_ARRANGE] = "{\"type\":\"arrange\",\"node_ids\":[3]}",
    [P_MODE] = "{\"type\":\"set_node_mode\",\"node_id\":3,\"mode\":\"bypass\"}",
};

/* The kinds of change the log holds. "Same": on what the patch's command
 * targets (#3, its input 0, its widget seed); "other": on something else
 * (#7, whose input 0 is fed from #4's output 0 as the patch's connect
 * is: outputs feed many links). */
enum {
    L_CREATE,
    L_REMOVE,
    L_CONNECT,
    L_DISCONNECT,
    L_SET_WIDGET,
    L_MOVE,
    L_MODE,
    L_EDIT,
    L_CLEAR,
    L__N
};
static const struct {
    const char *same_cmd, *same_sum, *other_cmd, *other_sum;
} logged_kinds[L__N] = {
    /* A cleared canvas hands out #3 again: the patch's #3 is gone. */
    [L_CREATE] = {"{\"type\":\"create_node\",\"node_type\":\"KSampler\"}",
                  "added #3 KSampler at (0, 0)",
                  "{\"type\":\"create_node\",\"node_type\":\"KSampler\"}",
                  "added #12 KSampler at (0, 0)"},
    [L_REMOVE] = {"{\"type\":\"remove_node\",\"node_id\":3}", "removed #3 KSampler",
                  "{\"type\":\"remove_node\",\"node_id\":7}", "removed #7 CLIPTextEncode"},
    [L_CONNECT] = {"{\"type\":\"connect\",\"from_id\":4,\"from_slot\":0,\"to_id\":3,\"to_slot\":0}",
                   "connected #4 CheckpointLoaderSimple.MODEL to #3 KSampler.model",
                   "{\"type\":\"connect\",\"from_id\":4,\"from_slot\":0,\"to_id\":7,\"to_slot\":0}",
                   "connected #4 CheckpointLoaderSimple.MODEL to #7 CLIPTextEncode.clip"},
    [L_DISCONNECT] = {"{\"type\":\"disconnect\",\"node_id\":3,\"slot\":0}",
                      "disconnected #3 KSampler.model",
                      "{\"type\":\"disconnect\",\"node_id\":3,\"slot\":1}",
                      "disconnected #3 KSampler.positive"},
    [L_SET_WIDGET] = {"{\"type\":\"set_widget\",\"node_id\":3,\"name\":\"seed\",\"value\":7}",
                      "set #3 KSampler.seed to 7",
                      "{\"type\":\"set_widget\",\"node_id\":3,\"name\":\"steps\",\"value\":30}",
                      "set #3 KSampler.steps to 30"},
    [L_MOVE] = {"{\"type\":\"move_node\",\"node_id\":3,\"x\":1,\"y\":2}",
                "moved #3 KSampler to (1, 2)",
                "{\"type\":\"move_node\",\"node_id\":7,\"x\":1,\"y\":2}",
                "moved #7 CLIPTextEncode to (1, 2)"},
    [L_MODE] = {"{\"type\":\"set_node_mode\",\"node_id\":3,\"mode\":\"never\"}",
                "muted #3 KSampler",
                "{\"type\":\"set_node_mode\",\"node_id\":7,\"mode\":\"never\"}",
                "muted #7 CLIPTextEncode"},
    /* A title change: no command, the node in the summary. */
    [L_EDIT] = {NULL, "renamed #3 KSampler to \"Sampler #9\"", NULL,
                "renamed #7 CLIPTextEncode to \"neg\""},
    /* The log never holds clear_graph (a clear is logged as removals); if
     * it did, it would touch everything, also as "other". */
    [L_CLEAR] = {"{\"type\":\"clear_graph\"}", "cleared", "{\"type\":\"clear_graph\"}", "cleared"},
};

/* The verdict for the same target: 1 conflicts, 0 commutes. */
static const int conflicts_same[P__N][L__N] = {
    /*               CREATE REMOVE CONNECT DISCON WIDGET MOVE MODE EDIT CLEAR */
    [P_CREATE] = {0, 0, 0, 0, 0, 0, 0, 0, 0},     [P_REMOVE] = {1, 1, 1, 1, 1, 1, 1, 1, 1},
    [P_CONNECT] = {1, 1, 1, 1, 0, 0, 0, 0, 1},    [P_DISCONNECT] = {1, 1, 1, 1, 0, 0, 0, 0, 1},
    [P_SET_WIDGET] = {1, 1, 0, 0, 1, 0, 0, 1, 1}, [P_MOVE] = {1, 1, 0, 0, 0, 1, 0, 0, 1},
    [P_CLEAR] = {1, 1, 1, 1, 1, 1, 1, 1, 1},      [P_GET] = {0, 0, 0, 0, 0, 0, 0, 0, 0},
    [P_ARRANGE] = {1, 1, 0, 0, 0, 1, 0, 0, 1},    [P_MODE] = {1, 1, 0, 0, 0, 0, 1, 1, 1},
};

static size_t check(const graph *g, Comfyd__V1__GraphOp *const *ops, size_t n_ops,
                    Comfyd__V1__Command *const *cmds, size_t n, graph_conflicts *out)
{
    assert_int_equal(graph_rebase_check(g, (const Comfyd__V1__GraphOp *const *)ops, n_ops,
                                        (const Comfyd__V1__Command *const *)cmds, n, out),
                     GRAPH_OK);
    return out->n + out->more;
}

static void every_pair_of_command_kinds(void **state)
{
    (void)state;
    graph *g = parse_default(20);
    for (int p = 0; p < P__N; p++) {
        Comfyd__V1__Command *c = cmd(patch_cmds[p]);
        for (int l = 0; l < L__N; l++) {
            for (int other = 0; other < 2; other++) {
                Comfyd__V1__GraphOp *op =
                    other ? logged(12, logged_kinds[l].other_cmd, logged_kinds[l].other_sum)
                          : logged(12, logged_kinds[l].same_cmd, logged_kinds[l].same_sum);
                graph_conflicts gc;
                size_t n = check(g, &op, 1, &c, 1, &gc);
                /* Another input or widget of #3 still meets a removal of #3. */
                int other_on_3 = l == L_DISCONNECT || l == L_SET_WIDGET;
                int want = other ? (p == P_CLEAR || (l == L_CLEAR && p != P_CREATE && p != P_GET) ||
                                    (p == P_REMOVE && other_on_3))
                                 : conflicts_same[p][l];
                if ((n != 0) != want)
                    fail_msg("patch %s vs logged %s (%s): %zu conflicts, want %s", patch_cmds[p],
                             other ? logged_kinds[l].other_sum : logged_kinds[l].same_sum,
                             other ? "other" : "same", n, want ? "a conflict" : "none");
                if (n) {
                    assert_int_equal(n, 1);
                    assert_int_equal(gc.n_cmds, 1);
                    assert_int_equal(gc.v[0]->index, 0);
                    assert_int_equal(gc.v[0]->revision, 12);
                    assert_int_equal(gc.v[0]->origin, COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER);
                    assert_string_equal(gc.v[0]->summary, other ? logged_kinds[l].other_sum
                                                                : logged_kinds[l].same_sum);
                    assert_string_equal(gc.v[0]->change, logged_kinds[l].same_cmd
                                                             ? graph_cmd_name(op->command)
                                                             : "edit");
                }
                graph_conflicts_clear(&gc);
                op_free(op);
            }
        }
        protobuf_c_message_free_unpacked(&c->base, NULL);
    }
    graph_destroy(g);
}

/* The fields of each kind of conflict: input (its name now and its link
 * now), widget (its value now), node gone. */
static void conflict_fields(void **state)
{
    (void)state;
    graph *g = parse_default(20);
    Comfyd__V1__GraphOp *ops[3] = {
        logged(11, "{\"type\":\"disconnect\",\"node_id\":3,\"slot\":3}",
               "disconnected #3 KSampler.latent_image"),
        logged(12, "{\"type\":\"set_widget\",\"node_id\":3,\"name\":\"steps\",\"value\":20}",
               "set #3 KSampler.steps to 20"),
        logged(13, "{\"type\":\"remove_node\",\"node_id\":21}", "removed #21 VAEDecode"),
    };
    ops[2]->origin = COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_AGENT;
    Comfyd__V1__Command *cmds[4] = {
        cmd("{\"type\":\"create_node\",\"node_type\":\"VAEDecode\",\"ref\":\"d\"}"),
        /* By name: the socket "latent_image" is input 3. */
        cmd("{\"type\":\"connect\",\"from_id\":5,\"from_slot\":0,\"to_id\":3,"
            "\"to_slot\":\"latent_image\"}"),
        cmd("{\"type\":\"set_widget\",\"node_id\":3,\"name\":\"steps\",\"value\":25}"),
        cmd("{\"type\":\"move_node\",\"node_id\":21,\"x\":0,\"y\":0}"),
    };
    graph_conflicts gc;
    assert_int_equal(check(g, ops, 3, cmds, 4, &gc), 3);
    assert_int_equal(gc.n_cmds, 3);
    const Comfyd__V1__RevisionConflict *c = gc.v[0];
    assert_int_equal(c->index, 1);
    assert_int_equal(c->node_id, 3);
    assert_string_equal(c->input, "latent_image");
    assert_string_equal(c->change, "disconnect");
    assert_int_equal(c->revision, 11);
    /* Still linked in g (the mirror says what is there now). */
    assert_string_equal(c->current_link, "#5.LATENT");
    assert_false(c->node_gone);
    c = gc.v[1];
    assert_int_equal(c->index, 2);
    assert_string_equal(c->widget, "steps");
    assert_non_null(c->current_value);
    assert_int_equal(c->current_value->kind_case, COMFYD__V1__VALUE__KIND_INTEGER);
    assert_int_equal(c->current_value->integer, 20);
    assert_string_equal(c->change, "set_widget");
    c = gc.v[2];
    assert_int_equal(c->index, 3);
    assert_int_equal(c->node_id, 21);
    assert_true(c->node_gone);
    assert_int_equal(c->origin, COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_AGENT);
    char text[512];
    graph_conflict_text(gc.v[1], "set_widget", text, sizeof text);
    assert_string_equal(text, "command 2 (set_widget) and revision 12 (user: set #3 KSampler.steps "
                              "to 20) both touch #3 widget steps");
    graph_conflicts_clear(&gc);
    for (size_t i = 0; i < 4; i++)
        protobuf_c_message_free_unpacked(&cmds[i]->base, NULL);
    for (size_t i = 0; i < 3; i++)
        op_free(ops[i]);
    graph_destroy(g);
}

/* Nodes the patch creates (refs) touch nothing committed; one command
 * meeting several changes gets one conflict per change; several
 * commands meeting one change get one each. */
static void refs_and_counts(void **state)
{
    (void)state;
    graph *g = parse_default(20);
    Comfyd__V1__GraphOp *ops[2] = {
        logged(11, "{\"type\":\"set_widget\",\"node_id\":3,\"name\":\"seed\",\"value\":1}",
               "set #3 KSampler.seed to 1"),
        logged(12, "{\"type\":\"move_node\",\"node_id\":3,\"x\":1,\"y\":1}",
               "moved #3 KSampler to (1, 1)"),
    };
    Comfyd__V1__Command *cmds[4] = {
        cmd("{\"type\":\"create_node\",\"node_type\":\"KSampler\",\"ref\":\"k\"}"),
        cmd("{\"type\":\"set_widget\",\"node_id\":\"k\",\"name\":\"seed\",\"value\":5}"),
        cmd("{\"type\":\"connect\",\"from_id\":4,\"from_slot\":0,\"to_id\":\"k\",\"to_slot\":0}"),
        cmd("{\"type\":\"remove_node\",\"node_id\":3}"),
    };
    graph_conflicts gc;
    assert_int_equal(check(g, ops, 2, cmds, 3, &gc), 0);
    graph_conflicts_clear(&gc);
    assert_int_equal(check(g, ops, 2, cmds, 4, &gc), 2);
    assert_int_equal(gc.n_cmds, 1);
    assert_int_equal(gc.v[0]->revision, 11);
    assert_int_equal(gc.v[1]->revision, 12);
    graph_conflicts_clear(&gc);
    Comfyd__V1__Command *two[2] = {cmds[3], cmds[3]};
    assert_int_equal(check(g, ops, 1, two, 2, &gc), 2);
    assert_int_equal(gc.n_cmds, 2);
    assert_int_equal(gc.v[1]->index, 1);
    graph_conflicts_clear(&gc);
    for (size_t i = 0; i < 4; i++)
        protobuf_c_message_free_unpacked(&cmds[i]->base, NULL);
    for (size_t i = 0; i < 2; i++)
        op_free(ops[i]);
    graph_destroy(g);
}

/* The log graph_diff.c writes for a user's edit in the tab: a changed seed is
 * a set_widget, a new title a line without a command; both are read. */
static void real_log_from_a_user_edit(void **state)
{
    (void)state;
    graph *g = parse_default(10);
    const char *seed = "156680208700286";
    char *wf = malloc(default_wf_len + 64);
    assert_non_null(wf);
    const char *at = strstr(default_wf, seed);
    assert_non_null(at);
    size_t pre = (size_t)(at - default_wf);
    memcpy(wf, default_wf, pre);
    strcpy(wf + pre, "42");
    strcat(wf, at + strlen(seed));
    char err[256] = "";
    assert_int_equal(graph_apply_workflow(g, wf, strlen(wf), 11,
                                          COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER, 1, NULL,
                                          NULL, err, sizeof err),
                     GRAPH_OK);
    /* A title for #3: the node's JSON gets "title". */
    char *wf2 = malloc(strlen(wf) + 64);
    assert_non_null(wf2);
    const char *k = strstr(wf, "\"type\": \"KSampler\"");
    if (!k) k = strstr(wf, "\"type\":\"KSampler\"");
    assert_non_null(k);
    pre = (size_t)(k - wf);
    memcpy(wf2, wf, pre);
    strcpy(wf2 + pre, "\"title\": \"Main sampler\", ");
    strcat(wf2, k);
    assert_int_equal(graph_apply_workflow(g, wf2, strlen(wf2), 12,
                                          COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER, 2, NULL,
                                          NULL, err, sizeof err),
                     GRAPH_OK);
    Comfyd__V1__GraphOp **ops = NULL;
    size_t n_ops = 0;
    assert_int_equal(graph_diff_since(g, 10, &ops, &n_ops), GRAPH_OK);
    assert_int_equal(n_ops, 2);
    Comfyd__V1__Command *cmds[3] = {
        cmd("{\"type\":\"set_widget\",\"node_id\":3,\"name\":\"seed\",\"value\":5}"),
        cmd("{\"type\":\"set_widget\",\"node_id\":3,\"name\":\"steps\",\"value\":5}"),
        cmd("{\"type\":\"set_widget\",\"node_id\":6,\"name\":\"text\",\"value\":\"a cat\"}"),
    };
    graph_conflicts gc;
    /* seed: the set_widget and the title; steps: the title only (a change
     * without a command is taken as touching every widget of its node);
     * #6 commutes. */
    assert_int_equal(check(g, ops, n_ops, cmds, 3, &gc), 3);
    assert_int_equal(gc.n_cmds, 2);
    assert_string_equal(gc.v[0]->change, "set_widget");
    assert_int_equal(gc.v[0]->current_value->integer, 42);
    assert_int_equal(gc.v[0]->origin, COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER);
    assert_string_equal(gc.v[1]->change, "edit");
    assert_int_equal(gc.v[1]->revision, 12);
    assert_int_equal(gc.v[2]->index, 1);
    graph_conflicts_clear(&gc);
    assert_int_equal(check(g, ops, n_ops, cmds + 2, 1, &gc), 0);
    graph_conflicts_clear(&gc);
    for (size_t i = 0; i < 3; i++)
        protobuf_c_message_free_unpacked(&cmds[i]->base, NULL);
    graph_ops_free(ops, n_ops);
    free(wf);
    free(wf2);
    graph_destroy(g);
}

/* A clear_graph against a long log: GRAPH_REBASE_MAX_CONFLICTS listed, the
 * rest counted. An arrange of every node meets moves, additions and
 * removals anywhere, and nothing else. */
static void cap_and_arrange_all(void **state)
{
    (void)state;
    graph *g = parse_default(400);
    enum { N = GRAPH_REBASE_MAX_CONFLICTS + 44 };
    Comfyd__V1__GraphOp *ops[N];
    for (size_t i = 0; i < N; i++)
        ops[i] = logged(100 + i, "{\"type\":\"move_node\",\"node_id\":7,\"x\":1,\"y\":1}",
                        "moved #7 CLIPTextEncode to (1, 1)");
    Comfyd__V1__Command *c = cmd("{\"type\":\"clear_graph\"}");
    graph_conflicts gc;
    assert_int_equal(check(g, ops, N, &c, 1, &gc), N);
    assert_int_equal(gc.n, GRAPH_REBASE_MAX_CONFLICTS);
    assert_int_equal(gc.more, 44);
    graph_conflicts_clear(&gc);
    protobuf_c_message_free_unpacked(&c->base, NULL);
    c = cmd("{\"type\":\"arrange\"}");
    assert_int_equal(check(g, ops, 1, &c, 1, &gc), 1);
    graph_conflicts_clear(&gc);
    Comfyd__V1__GraphOp *w =
        logged(5, "{\"type\":\"set_widget\",\"node_id\":3,\"name\":\"seed\",\"value\":1}",
               "set #3 KSampler.seed to 1");
    assert_int_equal(check(g, &w, 1, &c, 1, &gc), 0);
    graph_conflicts_clear(&gc);
    op_free(w);
    protobuf_c_message_free_unpacked(&c->base, NULL);
    for (size_t i = 0; i < N; i++)
        op_free(ops[i]);
    graph_destroy(g);
}

/* A widget with a socket (newer frontends give every widget one): a link
 * into the socket and a value of the widget touch the same thing, both
 * ways round. */
static void a_widget_and_its_socket_are_one(void **state)
{
    (void)state;
    const char *at = "{\"name\": \"latent_image\", \"type\": \"LATENT\", \"link\": 2}";
    const char *hit = strstr(default_wf, at);
    assert_non_null(hit);
    const char *sock = ", {\"name\": \"seed\", \"type\": \"INT\", \"link\": null, \"widget\": "
                       "{\"name\": \"seed\"}}";
    size_t pre = (size_t)(hit - default_wf) + strlen(at);
    char *wf = malloc(default_wf_len + strlen(sock) + 1);
    assert_non_null(wf);
    memcpy(wf, default_wf, pre);
    strcpy(wf + pre, sock);
    strcat(wf, default_wf + pre);
    graph *g = NULL;
    char err[256] = "";
    assert_int_equal(graph_parse_workflow(&g, wf, strlen(wf), schema, 20, err, sizeof err),
                     GRAPH_OK);
    const graph_node *ks = graph_find_node(g, 3);
    assert_int_equal(ks->n_inputs, 5);
    assert_string_equal(ks->inputs[4].widget, "seed");
    Comfyd__V1__GraphOp *set =
        logged(11, "{\"type\":\"set_widget\",\"node_id\":3,\"name\":\"seed\",\"value\":1}",
               "set #3 KSampler.seed to 1");
    Comfyd__V1__GraphOp *linked =
        logged(12, "{\"type\":\"connect\",\"from_id\":5,\"from_slot\":0,\"to_id\":3,\"to_slot\":4}",
               "connected #5 EmptyLatentImage.LATENT to #3 KSampler.seed");
    Comfyd__V1__Command *connect = cmd("{\"type\":\"connect\",\"from_id\":5,\"from_slot\":0,"
                                       "\"to_id\":3,\"to_slot\":\"seed\"}");
    Comfyd__V1__Command *widget =
        cmd("{\"type\":\"set_widget\",\"node_id\":3,\"name\":\"seed\",\"value\":2}");
    Comfyd__V1__Command *steps =
        cmd("{\"type\":\"set_widget\",\"node_id\":3,\"name\":\"steps\",\"value\":2}");
    graph_conflicts gc;
    assert_int_equal(check(g, &set, 1, &connect, 1, &gc), 1);
    assert_string_equal(gc.v[0]->input, "seed");
    assert_string_equal(gc.v[0]->widget, "seed");
    assert_string_equal(gc.v[0]->current_link, "");
    graph_conflicts_clear(&gc);
    assert_int_equal(check(g, &linked, 1, &widget, 1, &gc), 1);
    assert_string_equal(gc.v[0]->widget, "seed");
    assert_string_equal(gc.v[0]->input, "seed");
    graph_conflicts_clear(&gc);
    assert_int_equal(check(g, &linked, 1, &steps, 1, &gc), 0);
    graph_conflicts_clear(&gc);
    protobuf_c_message_free_unpacked(&connect->base, NULL);
    protobuf_c_message_free_unpacked(&widget->base, NULL);
    protobuf_c_message_free_unpacked(&steps->base, NULL);
    op_free(set);
    op_free(linked);
    free(wf);
    graph_destroy(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_pair_of_command_kinds),
        cmocka_unit_test(conflict_fields),
        cmocka_unit_test(refs_and_counts),
        cmocka_unit_test(real_log_from_a_user_edit),
        cmocka_unit_test(cap_and_arrange_all),
        cmocka_unit_test(a_widget_and_its_socket_are_one),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
