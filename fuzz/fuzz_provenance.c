/* libFuzzer target for extra.comfyd.provenance (provenance.h): the bytes are
 * a workflow whose provenance is read into a fresh state, written back,
 * injected into the workflow and read again; the second reading must give
 * the same provenance as the first (what a save, a load or a restart does
 * to it). Malformed input must be refused without harm.
 * Run from the repository root after configuring a build dir BUILD. */
// clang-format off
/* clang -g -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Icommon -Icore -IBUILD/gen fuzz/fuzz_provenance.c core/provenance.c core/nodeinfo.c core/nodeinfo_parse.c core/nodeinfo_check.c core/nodeinfo_pb.c core/nodeindex.c core/graph.c common/jsonscan.c common/jsontree.c common/text.c common/log.c BUILD/gen/comfyd/v1/graph.pb-c.c BUILD/gen/google/protobuf/wrappers.pb-c.c -lprotobuf-c -lyajl -lpthread -o fuzz_provenance */
// clang-format on
#include "provenance.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(int ok)
{
    if (!ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    graph *g = NULL;
    if (graph_parse_workflow(&g, json, size, NULL, 5, NULL, 0) != GRAPH_OK) return 0;
    provn *p = NULL, *q = NULL;
    check(provn_create(&p) == PROVN_OK && provn_create(&q) == PROVN_OK);
    char err[256];
    if (provn_load_json(p, g, json, size, 5, err, sizeof err) == PROVN_OK) {
        size_t len = 0, recs = 0;
        char *pj = provn_to_json(p, g, 5, &len, &recs);
        check(pj != NULL && strlen(pj) == len);
        char *wf = NULL;
        size_t wf_len = 0;
        int rc = provn_inject_json(json, size, pj, len, &wf, &wf_len, err, sizeof err);
        if (rc == PROVN_OK) {
            check(provn_load_json(q, g, wf, wf_len, 5, err, sizeof err) == PROVN_OK);
            size_t len2 = 0, recs2 = 0;
            char *pj2 = provn_to_json(q, g, 5, &len2, &recs2);
            check(pj2 && recs2 == recs);
            /* The same records, actors numbered the same way. */
            check(len2 == len && memcmp(pj, pj2, len) == 0);
            free(pj2);
        }
        free(wf);
        free(pj);
        Comfyd__V1__Graph *m = graph_to_proto(g);
        check(m && provn_fill_graph(p, m) == PROVN_OK);
        protobuf_c_message_free_unpacked(&m->base, NULL);
    }
    provn_prune(p, g);
    provn_destroy(q);
    provn_destroy(p);
    graph_destroy(g);
    return 0;
}
