/* libFuzzer target for a lease's group (lease_graph.h): the bytes are a
 * workflow; every group it names (by title and by id, and a name that is
 * no group) is looked up, and when the workflow is a graph a lease is
 * taken on each group found, then a patch of another caller is checked
 * against it and the lease released. Malformed groups must be refused
 * with a message, never crash or leak; a found group's box must be finite
 * and bounded.
 * Run from the repository root after configuring a build dir BUILD. */
// clang-format off
/* clang -g -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Icommon -Icore -IBUILD/gen fuzz/fuzz_lease_graph.c core/lease_graph.c core/graph_rebase.c core/provenance.c core/nodeinfo.c core/nodeinfo_parse.c core/nodeinfo_check.c core/nodeinfo_pb.c core/nodeindex.c core/graph.c core/graph_parse.c core/graph_validate.c core/graph_diff.c core/graph_delta.c core/graph_cmd.c common/jsonscan.c common/jsontree.c common/text.c common/log.c BUILD/gen/comfyd/v1/graph.pb-c.c BUILD/gen/google/protobuf/wrappers.pb-c.c -lprotobuf-c -lyajl -lpthread -lm -o fuzz_lease_graph */
// clang-format on
#include "lease_graph.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(int ok)
{
    if (!ok) abort();
}

static void box_ok(const double box[4])
{
    for (int k = 0; k < 4; k++)
        check(isfinite(box[k]) && fabs(box[k]) <= GRAPH_MAX_COORD && (k < 2 || box[k] >= 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    double box[4];
    char title[LGRAPH_MAX_GROUP + 1], err[256];
    const char *names[] = {"Group", "1", "2", "", "no such group"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int rc = lgraph_find_group(json, size, names[i], box, title, sizeof title, err, sizeof err);
        check(rc == LGRAPH_OK || rc == LGRAPH_ENOTFOUND || rc == LGRAPH_EINVAL);
        if (rc == LGRAPH_OK) box_ok(box);
        if (rc == LGRAPH_EINVAL) check(err[0] != 0);
    }
    graph *g = NULL;
    if (graph_parse_workflow(&g, json, size, NULL, 1, NULL, 0) != GRAPH_OK) return 0;
    lgraph *t = NULL;
    check(lgraph_create(&t) == LGRAPH_OK);
    provn_actor a, b;
    check(provn_actor_make(&a, COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC, NULL, NULL, "a", NULL, 0) ==
          PROVN_OK);
    check(provn_actor_make(&b, COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC, NULL, NULL, "b", NULL, 0) ==
          PROVN_OK);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        Comfyd__V1__Lease *l = NULL;
        lgraph_refusal r = {0};
        int rc = lgraph_acquire(t, g, &a, NULL, 0, names[i], 0, 1000, &l, &r);
        check(rc != LGRAPH_OK || l != NULL);
        if (l) {
            check(l->n_node_ids <= LGRAPH_MAX_NODES);
            /* b removing a node of the lease is refused. */
            for (size_t k = 0; k < l->n_node_ids; k++) {
                Comfyd__V1__Command c = COMFYD__V1__COMMAND__INIT;
                Comfyd__V1__RemoveNodeCommand rm = COMFYD__V1__REMOVE_NODE_COMMAND__INIT;
                Comfyd__V1__NodeRef ref = COMFYD__V1__NODE_REF__INIT;
                ref.node_case = COMFYD__V1__NODE_REF__NODE_ID;
                ref.id = l->node_ids[k];
                rm.node_id = &ref;
                c.command_case = COMFYD__V1__COMMAND__COMMAND_REMOVE_NODE;
                c.remove_node = &rm;
                const Comfyd__V1__Command *cmds[] = {&c};
                lgraph_refusal rb = {0};
                check(lgraph_check(t, g, &b, cmds, 1, 1001, &rb) == LGRAPH_ELEASED);
                lgraph_refusal_clear(&rb);
            }
            protobuf_c_message_free_unpacked(&l->base, NULL);
        }
        lgraph_refusal_clear(&r);
    }
    unsigned n = 0;
    check(lgraph_release(t, 0, &a, 1002, &n, NULL) == LGRAPH_OK);
    check(lgraph_count(t, 1002) == 0);
    lgraph_destroy(t);
    graph_destroy(g);
    return 0;
}
