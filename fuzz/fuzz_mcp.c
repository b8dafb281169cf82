// clang-format off
// Build from the repo root (B = a configured build dir): clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Ibridge -Icommon -Icore -I$B/gen fuzz/fuzz_mcp.c bridge/mcp.c common/sse.c common/jsonscan.c common/jsontree.c common/jsonpb.c common/jsonpb_tree.c common/jsonpb_decode.c common/jsonpb_encode.c common/jsonpb_schema.c common/text.c common/log.c $B/gen/comfyd/v1/*.pb-c.c $B/gen/google/protobuf/wrappers.pb-c.c -lprotobuf-c -lyajl -lpthread -o fuzz_mcp
// clang-format on
/* Fuzz target of bridge/mcp.
 *
 * The first byte picks what the rest feeds: a JSON-RPC body (parsed,
 * classified, and every message answered the way app_mcp.c answers it),
 * an event stream cut at byte-chosen points, or an Accept header. Beyond
 * memory errors it checks the module's promises: every answer built from
 * peer input is valid JSON on one line (so it is one stdio line or one SSE
 * data line), and the SSE parser (common/sse, as comfyd-mcp sets it up)
 * hands out only complete events within the limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mcp.h"
#include "sse.h"

static void check_line(const char *json, size_t len)
{
    if (memchr(json, '\n', len) || memchr(json, '\r', len)) abort();
    yajl_val v = NULL;
    char err[128];
    if (mcp_parse(json, len, &v, err, sizeof err) != MCP_OK) abort();
    yajl_tree_free(v);
}

static void answer(yajl_val v)
{
    mcp_msg m;
    char err[256];
    char *out = NULL;
    size_t len = 0;
    if (mcp_message(v, &m, err, sizeof err) != MCP_OK) {
        if (mcp_error(m.id, MCP_RPC_INVALID_REQUEST, err, NULL, &out, &len) == MCP_OK)
            check_line(out, len);
        free(out);
        return;
    }
    if (m.kind != MCP_MSG_REQUEST) return;
    if (!strcmp(m.method, "initialize")) {
        const char *version;
        char client[MCP_MAX_CLIENT_NAME + 1];
        if (mcp_initialize_params(m.params, &version, client, sizeof client, err, sizeof err) ==
            MCP_OK) {
            mcp_server_info info = {"comfyd", client, "0", NULL};
            char *res = NULL;
            if (!mcp_version_supported(version, strlen(version))) abort();
            if (mcp_initialize_result(version, &info, &res, &len) == MCP_OK &&
                mcp_result(m.id, res, &out, &len) == MCP_OK)
                check_line(out, len);
            free(res);
        } else if (mcp_error(m.id, MCP_RPC_INVALID_PARAMS, err, NULL, &out, &len) == MCP_OK) {
            check_line(out, len);
        }
        free(out);
        return;
    }
    const char *name;
    yajl_val args;
    char token[MCP_MAX_ID_BYTES + 1];
    if (mcp_call_params(m.params, &name, &args, token, sizeof token, err, sizeof err) != MCP_OK) {
        if (mcp_error(m.id, MCP_RPC_INVALID_PARAMS, err, NULL, &out, &len) == MCP_OK)
            check_line(out, len);
        free(out);
        return;
    }
    /* The tool's name and arguments come back in a result, as errors do. */
    char *text = NULL, *res = NULL;
    size_t tl = 0;
    if (args && mcp_json_text(args, &text, &tl) == MCP_OK) {
        if (mcp_tool_result(name, text, 1, "2025-11-25", &res, &len) == MCP_OK &&
            mcp_result(m.id, res, &out, &len) == MCP_OK)
            check_line(out, len);
        free(out);
        out = NULL;
    }
    if (token[0] && mcp_progress(token, 1, 0, name, &out, &len) == MCP_OK) check_line(out, len);
    free(out);
    free(res);
    free(text);
}

typedef struct sse_state {
    size_t events;
} sse_state;

static int on_event(void *ud, const sse_event *ev)
{
    sse_state *s = ud;
    if (!ev->type || !ev->data || ev->data_len > MCP_SSE_MAX_EVENT) abort();
    s->events++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t mode = data[0] % 3;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    if (mode == 0) {
        yajl_val v = NULL;
        char err[256];
        if (mcp_parse(s, n, &v, err, sizeof err) != MCP_OK) {
            if (v) abort();
            return 0;
        }
        if (YAJL_IS_ARRAY(v)) {
            for (size_t i = 0; i < v->u.array.len && i < MCP_MAX_BATCH; i++)
                answer(v->u.array.values[i]);
        } else {
            answer(v);
        }
        yajl_tree_free(v);
    } else if (mode == 1) {
        /* The stream in pieces cut where the input has a 0x01 byte. */
        sse_state st = {0};
        sse_parser *p;
        sse_opts o = {.max_line = MCP_SSE_MAX_EVENT,
                      .max_data = MCP_SSE_MAX_EVENT,
                      .on_event = on_event,
                      .ud = &st};
        if (sse_create(&p, &o) != SSE_OK) return 0;
        size_t start = 0;
        for (size_t i = 0; i <= n; i++) {
            if (i < n && s[i] != 1) continue;
            if (sse_feed(p, s + start, i - start) != SSE_OK) break;
            start = i + 1;
        }
        sse_finish(p);
        sse_destroy(p);
    } else {
        int j, e;
        mcp_accept(s, n, &j, &e);
        if ((j != 0 && j != 1) || (e != 0 && e != 1)) abort();
    }
    return 0;
}
