/* libFuzzer target for the graph core: the same bytes are parsed as
 * /object_info JSON (nodeinfo) and as a workflow (graph), and whatever
 * parses is driven through protobuf conversion, search, batch validation,
 * diffs and the op log, checking the documented guarantees on the way.
 * Run from the repository root after configuring a build dir BUILD (for
 * the generated protobuf-c sources); -max_len=65536 keeps inputs near real
 * workflow sizes. */
// clang-format off
/* clang -g -fsanitize=fuzzer,address,undefined -Icommon -Icore -IBUILD/gen fuzz/fuzz_graph.c core/nodeinfo.c core/nodeinfo_parse.c core/nodeinfo_check.c core/nodeinfo_pb.c core/nodeindex.c core/graph.c BUILD/gen/comfyd/v1/graph.pb-c.c BUILD/gen/google/protobuf/wrappers.pb-c.c -lprotobuf-c -lyajl -o fuzz_graph */
// clang-format on
#include "graph.h"
#include "nodeinfo.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(int ok)
{
    if (!ok) abort();
}

/* A small real schema (from the fixture) so workflows meet known types. */
static const char schema_json[] =
    "{\"KSampler\": {\"input\": {\"required\": {"
    "  \"model\": [\"MODEL\"],"
    "  \"seed\": [\"INT\", {\"default\": 0, \"min\": 0, \"max\": 18446744073709551615}],"
    "  \"steps\": [\"INT\", {\"default\": 20, \"min\": 1, \"max\": 10000}],"
    "  \"cfg\": [\"FLOAT\", {\"default\": 8.0, \"min\": 0.0, \"max\": 100.0, \"step\": 0.1}],"
    "  \"sampler_name\": [[\"euler\", \"euler_ancestral\", \"dpmpp_2m\"]],"
    "  \"scheduler\": [\"COMBO\", {\"options\": [\"normal\", \"karras\"]}],"
    "  \"positive\": [\"CONDITIONING\"], \"negative\": [\"CONDITIONING\"],"
    "  \"latent_image\": [\"LATENT\"],"
    "  \"denoise\": [\"FLOAT\", {\"default\": 1.0, \"min\": 0.0, \"max\": 1.0, \"step\": 0.01}]}},"
    " \"output\": [\"LATENT\"], \"output_is_list\": [false], \"output_name\": [\"LATENT\"],"
    " \"display_name\": \"KSampler\", \"category\": \"sampling\"},"
    " \"EmptyLatentImage\": {\"input\": {\"required\": {"
    "  \"width\": [\"INT\", {\"default\": 512, \"min\": 16, \"max\": 16384, \"step\": 8}],"
    "  \"height\": [\"INT\", {\"default\": 512, \"min\": 16, \"max\": 16384, \"step\": 8}],"
    "  \"batch_size\": [\"INT\", {\"default\": 1, \"min\": 1, \"max\": 4096}]}},"
    " \"output\": [\"LATENT\"], \"output_name\": [\"LATENT\"], \"category\": \"latent\"},"
    " \"LoadImage\": {\"input\": {\"required\": {\"image\": [[\"a.png\"], {\"image_upload\": "
    "true}]}},"
    " \"output\": [\"IMAGE\", \"MASK\"], \"output_name\": [\"IMAGE\", \"MASK\"]}}";

static const char base_workflow[] =
    "{\"last_node_id\": 2, \"last_link_id\": 1, \"nodes\": ["
    " {\"id\": 1, \"type\": \"EmptyLatentImage\", \"pos\": [0, 0],"
    "  \"outputs\": [{\"name\": \"LATENT\", \"type\": \"LATENT\", \"links\": [1]}],"
    "  \"widgets_values\": [512, 512, 1]},"
    " {\"id\": 2, \"type\": \"KSampler\", \"pos\": [300, 0],"
    "  \"inputs\": [{\"name\": \"latent_image\", \"type\": \"LATENT\", \"link\": 1}],"
    "  \"widgets_values\": [1, \"fixed\", 20, 8, \"euler\", \"normal\", 1]}],"
    " \"links\": [[1, 1, 0, 2, 0, \"LATENT\"]]}";

static nodeinfo *fixed_schema(void)
{
    static nodeinfo *ni;
    if (!ni)
        check(nodeinfo_create(&ni, schema_json, sizeof schema_json - 1, NODEINFO_FRONTEND_TYPES,
                              NULL, 0) == NODEINFO_OK);
    return ni;
}

static void roundtrip(const ProtobufCMessage *m)
{
    size_t sz = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(sz ? sz : 1);
    check(buf != NULL);
    check(protobuf_c_message_pack(m, buf) == sz);
    ProtobufCMessage *back = protobuf_c_message_unpack(m->descriptor, NULL, sz, buf);
    check(back != NULL);
    protobuf_c_message_free_unpacked(back, NULL);
    free(buf);
}

static void fuzz_schema(const char *json, size_t len)
{
    nodeinfo *ni = NULL;
    char err[256] = "";
    if (nodeinfo_create(&ni, json, len, NODEINFO_FRONTEND_TYPES, err, sizeof err)) {
        check(ni == NULL && memchr(err, 0, sizeof err) != NULL);
        return;
    }
    size_t n = nodeinfo_count(ni);
    check(n <= NODEINFO_MAX_TYPES + 4);
    for (size_t i = 0; i < n; i++) {
        const nodeinfo_type *t = nodeinfo_at(ni, i);
        check(nodeinfo_find(ni, t->name) == t);
        if (i) check(strcmp(nodeinfo_at(ni, i - 1)->name, t->name) < 0);
        check(t->n_inputs <= NODEINFO_MAX_INPUTS && t->n_outputs <= NODEINFO_MAX_OUTPUTS);
        Comfyd__V1__NodeType *m = nodeinfo_type_to_proto(t);
        check(m != NULL);
        roundtrip(&m->base);
        protobuf_c_message_free_unpacked(&m->base, NULL);
        const char *sugg[NODEINFO_MAX_SUGGESTIONS];
        check(nodeinfo_suggest(ni, t->name, sugg) <= NODEINFO_MAX_SUGGESTIONS);
        if (i > 8) break; /* the rest adds time, not paths */
    }
    const nodeinfo_type *found[8];
    size_t total;
    /* Queries from the input's bytes: the word splitter, the fuzzy match
     * and the category filter see arbitrary text. */
    char q[48] = {0};
    size_t ql = len < sizeof q - 1 ? len : sizeof q - 1;
    memcpy(q, json + len - ql, ql);
    check(nodeinfo_search(ni, q, NULL, found, 8, &total) <= 8 && total <= n);
    memcpy(q, json, ql);
    q[ql] = 0;
    check(nodeinfo_search(ni, q, q + ql / 2, found, 8, &total) <= 8 && total <= n);
    nodeinfo_unref(ni);
}

static Comfyd__V1__Command *connect_cmd(int64_t from, uint32_t fslot, int64_t to, const char *tslot)
{
    Comfyd__V1__Command *c = malloc(sizeof *c);
    Comfyd__V1__ConnectCommand *p = malloc(sizeof *p);
    Comfyd__V1__NodeRef *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    Comfyd__V1__SlotRef *sa = malloc(sizeof *sa), *sb = malloc(sizeof *sb);
    check(c && p && a && b && sa && sb);
    comfyd__v1__command__init(c);
    comfyd__v1__connect_command__init(p);
    comfyd__v1__node_ref__init(a);
    comfyd__v1__node_ref__init(b);
    comfyd__v1__slot_ref__init(sa);
    comfyd__v1__slot_ref__init(sb);
    a->node_case = b->node_case = COMFYD__V1__NODE_REF__NODE_ID;
    a->id = from;
    b->id = to;
    sa->slot_case = COMFYD__V1__SLOT_REF__SLOT_INDEX;
    sa->index = fslot;
    sb->slot_case = COMFYD__V1__SLOT_REF__SLOT_NAME;
    sb->name = strdup(tslot);
    check(sb->name != NULL);
    p->from_id = a;
    p->from_slot = sa;
    p->to_id = b;
    p->to_slot = sb;
    c->command_case = COMFYD__V1__COMMAND__COMMAND_CONNECT;
    c->connect = p;
    return c;
}

static void fuzz_validate(const graph *g)
{
    /* Connect the first nodes to each other by index and name. */
    Comfyd__V1__Command *cmds[4];
    size_t n = 0;
    size_t count = graph_node_count(g);
    for (size_t i = 0; i + 1 < count && n < 4; i++) {
        const graph_node *a = graph_node_at(g, i), *b = graph_node_at(g, i + 1);
        const char *name = b->n_inputs ? b->inputs[0].name : "latent_image";
        cmds[n++] = connect_cmd(a->id, 0, b->id, name);
    }
    graph_check c;
    if (graph_validate(g, NULL, (const Comfyd__V1__Command *const *)cmds, n,
                       COMFYD__V1__BATCH_MODE__BATCH_MODE_PARTIAL, &c) == GRAPH_OK) {
        check(c.n_results == n);
        check(c.ok == (c.n_errors == 0));
        for (size_t i = 0; i < c.n_results; i++)
            check(c.results[i]->ok == !c.results[i]->error);
        graph_check_clear(&c);
    }
    for (size_t i = 0; i < n; i++)
        protobuf_c_message_free_unpacked(&cmds[i]->base, NULL);
}

static void fuzz_workflow(const char *json, size_t len)
{
    nodeinfo *ni = fixed_schema();
    graph *g = NULL;
    char err[256];
    if (graph_parse_workflow(&g, json, len, ni, 1, err, sizeof err) == GRAPH_OK) {
        check(graph_node_count(g) <= GRAPH_MAX_NODES && graph_link_count(g) <= GRAPH_MAX_LINKS);
        for (size_t i = 1; i < graph_node_count(g); i++)
            check(graph_node_at(g, i - 1)->id < graph_node_at(g, i)->id);
        check(graph_next_node_id(g) > 0 && graph_next_link_id(g) > 0);
        Comfyd__V1__Graph *m = graph_to_proto(g);
        check(m != NULL);
        roundtrip(&m->base);
        protobuf_c_message_free_unpacked(&m->base, NULL);
        fuzz_validate(g);
        /* Diff towards a known workflow and back through the log. */
        Comfyd__V1__GraphOp **ops;
        size_t n_ops;
        if (graph_apply_workflow(g, base_workflow, sizeof base_workflow - 1, 2,
                                 COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER, 0, &ops, &n_ops, err,
                                 sizeof err) == GRAPH_OK) {
            for (size_t i = 0; i < n_ops; i++) {
                check(ops[i]->revision == 2 && strchr(ops[i]->summary, '\n') == NULL);
                roundtrip(&ops[i]->base);
            }
            graph_ops_free(ops, n_ops);
            int rc = graph_diff_since(g, 1, &ops, &n_ops);
            check(rc == GRAPH_OK || rc == GRAPH_ETRUNCATED);
            if (rc == GRAPH_OK) graph_ops_free(ops, n_ops);
        }
        graph_destroy(g);
    } else {
        check(g == NULL);
    }

    /* The other direction: from a known mirror to the input. */
    check(graph_parse_workflow(&g, base_workflow, sizeof base_workflow - 1, ni, 1, NULL, 0) ==
          GRAPH_OK);
    Comfyd__V1__GraphOp **ops;
    size_t n_ops;
    if (graph_apply_workflow(g, json, len, 5, COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_AGENT, 0, &ops,
                             &n_ops, err, sizeof err) == GRAPH_OK) {
        check(graph_revision(g) == 5);
        for (size_t i = 0; i < n_ops; i++)
            roundtrip(&ops[i]->base);
        graph_ops_free(ops, n_ops);
    } else {
        check(graph_revision(g) == 1 && graph_node_count(g) == 2);
    }
    graph_destroy(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_schema((const char *)data, size);
    fuzz_workflow((const char *)data, size);
    return 0;
}
