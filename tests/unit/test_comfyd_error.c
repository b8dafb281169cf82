/* The one error space (comfyd_error.h): every code of every band has a
 * name, no two codes share a value, every code lies in a band, and every
 * module's alias is a named code of its own band or of the shared one
 * (its out of memory is CFD_ERR_NOMEM). The list below names every
 * enumerator of cfd_err; a band's names counted by walking its hundred
 * values must match it, so a name without a code (or a code left out
 * here) fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "agent.h"
#include "app.h"
#include "blobstore.h"
#include "bnet.h"
#include "canvas.h"
#include "canvas_reg.h"
#include "cfg.h"
#include "checkpoint.h"
#include "comfyd_error.h"
#include "evring.h"
#include "graph.h"
#include "jsonpb.h"
#include "jsonpb_schema.h"
#include "jsonscan.h"
#include "lease.h"
#include "lease_graph.h"
#include "mcp.h"
#include "net_buf.h"
#include "net_h2.h"
#include "net_http1.h"
#include "net_msg.h"
#include "net_policy.h"
#include "net_ws.h"
#include "nodeinfo.h"
#include "opts.h"
#include "provenance.h"
#include "provider.h"
#include "rpcc.h"
#include "rpcs.h"
#include "runs.h"
#include "session.h"
#include "skills.h"
#include "sse.h"
#include "store.h"
#include "tools.h"
#include "wfstore.h"

#include <string.h>

#define UNKNOWN "unknown error"

typedef struct {
    int code;
    const char *name;
} code_name;

#define C(x)                                                                                       \
    {                                                                                              \
        x, #x                                                                                      \
    }

/* Every enumerator of cfd_err but CFD_OK. */
static const code_name codes[] = {
    C(CFD_ERR_NOMEM),
    C(CFD_ERR_INVALID),
    C(CFD_ERR_GRPC),
    C(CFD_ERR_RPCS_CLOSED),
    C(CFD_ERR_RPCS_FULL),
    C(CFD_ERR_RPCS_BIND),
    C(CFD_ERR_RPCC_CLOSED),
    C(CFD_ERR_RPCC_BUSY),
    C(CFD_ERR_RPCC_TOOBIG),
    C(CFD_ERR_RPCC_METHODS),
    C(CFD_ERR_NET_STATE),
    C(CFD_ERR_NET_FULL),
    C(CFD_ERR_NET_CLOSED),
    C(CFD_ERR_NET_STOPPED),
    C(CFD_ERR_NET_EXISTS),
    C(CFD_ERR_NET_LISTEN),
    C(CFD_ERR_NET_TOKEN),
    C(CFD_ERR_NET_POLICY_HOST),
    C(CFD_ERR_NET_POLICY_ORIGIN),
    C(CFD_ERR_NET_POLICY_TOKEN),
    C(CFD_ERR_NET_POLICY_IO),
    C(CFD_ERR_NET_POLICY_PERM),
    C(CFD_ERR_NET_H2_PROTO),
    C(CFD_ERR_NET_H2_STREAM),
    C(CFD_ERR_NET_H2_FATAL),
    C(CFD_ERR_NET_HTTP1_PARSE),
    C(CFD_ERR_NET_HTTP1_REJECTED),
    C(CFD_ERR_NET_HTTP1_CLOSED),
    C(CFD_ERR_NET_WS_CLOSED),
    C(CFD_ERR_NET_WS_QUEUE_FULL),
    C(CFD_ERR_NET_WS_FATAL),
    C(CFD_ERR_NET_MSG_TARGET),
    C(CFD_ERR_APP_JSON),
    C(CFD_ERR_APP_INPUT),
    C(CFD_ERR_APP_TOOBIG),
    C(CFD_ERR_APP_START),
    C(CFD_ERR_STORE_NOT_FOUND),
    C(CFD_ERR_STORE_CONFLICT),
    C(CFD_ERR_STORE_IO),
    C(CFD_ERR_STORE_SCHEMA),
    C(CFD_ERR_STORE_UNAVAIL),
    C(CFD_ERR_STORE_BUSY),
    C(CFD_ERR_WFSTORE_NOENT),
    C(CFD_ERR_WFSTORE_EXIST),
    C(CFD_ERR_WFSTORE_TOOBIG),
    C(CFD_ERR_WFSTORE_IO),
    C(CFD_ERR_CANVAS_FULL),
    C(CFD_ERR_CANVAS_SHUTDOWN),
    C(CFD_ERR_CANVAS_GRAPH),
    C(CFD_ERR_CANVAS_EXIST),
    C(CFD_ERR_CANVAS_IO),
    C(CFD_ERR_RUNS_NOTFOUND),
    C(CFD_ERR_RUNS_OVER),
    C(CFD_ERR_RUNS_UNAVAIL),
    C(CFD_ERR_RUNS_FULL),
    C(CFD_ERR_RUNS_IO),
    C(CFD_ERR_RUNS_SHUTDOWN),
    C(CFD_ERR_GRAPH_TOOBIG),
    C(CFD_ERR_GRAPH_REVISION),
    C(CFD_ERR_GRAPH_TRUNCATED),
    C(CFD_ERR_GRAPH_DIGEST),
    C(CFD_ERR_NODEINFO_TOOBIG),
    C(CFD_ERR_NODEINFO_VALUE),
    C(CFD_ERR_JSONPB_SYNTAX),
    C(CFD_ERR_JSONPB_UTF8),
    C(CFD_ERR_JSONPB_TYPE),
    C(CFD_ERR_JSONPB_RANGE),
    C(CFD_ERR_JSONPB_UNKNOWN_FIELD),
    C(CFD_ERR_JSONPB_UNKNOWN_VALUE),
    C(CFD_ERR_JSONPB_MISSING),
    C(CFD_ERR_JSONPB_DUPLICATE),
    C(CFD_ERR_JSONPB_LIMIT),
    C(CFD_ERR_SSE_TOOBIG),
    C(CFD_ERR_SSE_STOPPED),
    C(CFD_ERR_SSE_PARTIAL),
    C(CFD_ERR_MCP_PARSE),
    C(CFD_ERR_MCP_INVALID),
    C(CFD_ERR_MCP_TOOBIG),
    C(CFD_ERR_MCP_PARAMS),
    C(CFD_ERR_MCP_FULL),
    C(CFD_ERR_MCP_AGAIN),
    C(CFD_ERR_BLOB_TOOBIG),
    C(CFD_ERR_BLOB_TYPE),
    C(CFD_ERR_BLOB_IO),
    C(CFD_ERR_BLOB_NOTFOUND),
    C(CFD_ERR_CKPT_STALE),
    C(CFD_ERR_CKPT_CANVAS),
    C(CFD_ERR_CKPT_IO),
    C(CFD_ERR_LEASE_UNAVAIL),
    C(CFD_ERR_LEASE_IO),
    C(CFD_ERR_AGENT_STEPS),
    C(CFD_ERR_AGENT_LOOP),
    C(CFD_ERR_AGENT_CONTEXT),
    C(CFD_ERR_PROV_CANCELLED),
    C(CFD_ERR_PROV_FAILED),
    C(CFD_ERR_PROV_ABORTED),
    C(CFD_ERR_EVRING_GAP),
    C(CFD_ERR_EVRING_ABORTED),
    C(CFD_ERR_SKILLS_PARSE),
    C(CFD_ERR_SKILLS_IO),
    C(CFD_ERR_SESS_NOT_FOUND),
    C(CFD_ERR_SESS_FULL),
    C(CFD_ERR_SESS_IO),
    C(CFD_ERR_SESS_SHUTDOWN),
    C(CFD_ERR_SESS_BUSY),
    C(CFD_ERR_SESS_EXIST),
    C(CFD_ERR_SESS_UNAVAIL),
    C(CFD_ERR_SESS_PRECOND),
    C(CFD_ERR_JSONSCAN_DEPTH),
    C(CFD_ERR_JSONSCAN_VALUES),
    C(CFD_ERR_OPTS_USAGE),
    C(CFD_ERR_LGRAPH_LEASED),
    C(CFD_ERR_LGRAPH_NOTFOUND),
    C(CFD_ERR_LGRAPH_FULL),
    C(CFD_ERR_CREG_UNAVAIL),
};
#define N_CODES (sizeof codes / sizeof codes[0])

typedef struct {
    int code;
    const char *name;
    int band;
} alias;

#define A(x, b)                                                                                    \
    {                                                                                              \
        x, #x, b                                                                                   \
    }

/* Every module's names for the codes (their *_OK included). */
static const alias aliases[] = {
    A(RPCS_OK, CFD_BAND_RPCS),
    A(RPCS_ECLOSED, CFD_BAND_RPCS),
    A(RPCS_EFULL, CFD_BAND_RPCS),
    A(RPCS_ENOMEM, CFD_BAND_RPCS),
    A(RPCS_EINVAL, CFD_BAND_RPCS),
    A(RPCS_EBIND, CFD_BAND_RPCS),
    A(RPCS_EGRPC, CFD_BAND_RPCS),
    A(STORE_OK, CFD_BAND_STORE),
    A(STORE_NOT_FOUND, CFD_BAND_STORE),
    A(STORE_CONFLICT, CFD_BAND_STORE),
    A(STORE_EIO, CFD_BAND_STORE),
    A(STORE_ENOMEM, CFD_BAND_STORE),
    A(STORE_ESCHEMA, CFD_BAND_STORE),
    A(STORE_EINVAL, CFD_BAND_STORE),
    A(STORE_EUNAVAIL, CFD_BAND_STORE),
    A(STORE_EBUSY, CFD_BAND_STORE),
    A(WFSTORE_OK, CFD_BAND_WFSTORE),
    A(WFSTORE_EINVAL, CFD_BAND_WFSTORE),
    A(WFSTORE_ENOENT, CFD_BAND_WFSTORE),
    A(WFSTORE_EEXIST, CFD_BAND_WFSTORE),
    A(WFSTORE_ETOOBIG, CFD_BAND_WFSTORE),
    A(WFSTORE_EIO, CFD_BAND_WFSTORE),
    A(WFSTORE_ENOMEM, CFD_BAND_WFSTORE),
    A(CANVAS_OK, CFD_BAND_CANVAS),
    A(CANVAS_EINVAL, CFD_BAND_CANVAS),
    A(CANVAS_EFULL, CFD_BAND_CANVAS),
    A(CANVAS_ENOMEM, CFD_BAND_CANVAS),
    A(CANVAS_ESHUTDOWN, CFD_BAND_CANVAS),
    A(CANVAS_EGRAPH, CFD_BAND_CANVAS),
    A(CANVAS_EEXIST, CFD_BAND_CANVAS),
    A(CANVAS_EIO, CFD_BAND_CANVAS),
    A(RUNS_OK, CFD_BAND_RUNS),
    A(RUNS_EINVAL, CFD_BAND_RUNS),
    A(RUNS_ENOTFOUND, CFD_BAND_RUNS),
    A(RUNS_EOVER, CFD_BAND_RUNS),
    A(RUNS_EUNAVAIL, CFD_BAND_RUNS),
    A(RUNS_EFULL, CFD_BAND_RUNS),
    A(RUNS_EIO, CFD_BAND_RUNS),
    A(RUNS_ESHUTDOWN, CFD_BAND_RUNS),
    A(GRAPH_OK, CFD_BAND_GRAPH),
    A(GRAPH_EINVAL, CFD_BAND_GRAPH),
    A(GRAPH_ETOOBIG, CFD_BAND_GRAPH),
    A(GRAPH_ENOMEM, CFD_BAND_GRAPH),
    A(GRAPH_EREVISION, CFD_BAND_GRAPH),
    A(GRAPH_ETRUNCATED, CFD_BAND_GRAPH),
    A(GRAPH_EDIGEST, CFD_BAND_GRAPH),
    A(NODEINFO_OK, CFD_BAND_NODEINFO),
    A(NODEINFO_EINVAL, CFD_BAND_NODEINFO),
    A(NODEINFO_ETOOBIG, CFD_BAND_NODEINFO),
    A(NODEINFO_ENOMEM, CFD_BAND_NODEINFO),
    A(NODEINFO_EVALUE, CFD_BAND_NODEINFO),
    A(JSONPB_OK, CFD_BAND_JSONPB),
    A(JSONPB_ESYNTAX, CFD_BAND_JSONPB),
    A(JSONPB_EUTF8, CFD_BAND_JSONPB),
    A(JSONPB_ETYPE, CFD_BAND_JSONPB),
    A(JSONPB_ERANGE, CFD_BAND_JSONPB),
    A(JSONPB_EUNKNOWN_FIELD, CFD_BAND_JSONPB),
    A(JSONPB_EUNKNOWN_VALUE, CFD_BAND_JSONPB),
    A(JSONPB_EMISSING, CFD_BAND_JSONPB),
    A(JSONPB_EDUPLICATE, CFD_BAND_JSONPB),
    A(JSONPB_ELIMIT, CFD_BAND_JSONPB),
    A(JSONPB_EINVAL, CFD_BAND_JSONPB),
    A(JSONPB_ENOMEM, CFD_BAND_JSONPB),
    A(JSONPB_SCHEMA_OK, CFD_BAND_JSONPB),
    A(JSONPB_SCHEMA_EINVAL, CFD_BAND_JSONPB),
    A(JSONPB_SCHEMA_ENOMEM, CFD_BAND_JSONPB),
    A(SSE_OK, CFD_BAND_SSE),
    A(SSE_ENOMEM, CFD_BAND_SSE),
    A(SSE_ETOOBIG, CFD_BAND_SSE),
    A(SSE_ESTOPPED, CFD_BAND_SSE),
    A(SSE_EPARTIAL, CFD_BAND_SSE),
    A(MCP_OK, CFD_BAND_MCP),
    A(MCP_E_PARSE, CFD_BAND_MCP),
    A(MCP_E_INVALID, CFD_BAND_MCP),
    A(MCP_E_TOOBIG, CFD_BAND_MCP),
    A(MCP_E_PARAMS, CFD_BAND_MCP),
    A(MCP_E_FULL, CFD_BAND_MCP),
    A(MCP_E_AGAIN, CFD_BAND_MCP),
    A(MCP_E_ARG, CFD_BAND_MCP),
    A(MCP_E_NOMEM, CFD_BAND_MCP),
    A(BLOB_OK, CFD_BAND_BLOB),
    A(BLOB_EINVAL, CFD_BAND_BLOB),
    A(BLOB_ETOOBIG, CFD_BAND_BLOB),
    A(BLOB_ETYPE, CFD_BAND_BLOB),
    A(BLOB_EIO, CFD_BAND_BLOB),
    A(BLOB_ENOMEM, CFD_BAND_BLOB),
    A(BLOB_ENOTFOUND, CFD_BAND_BLOB),
    A(CKPT_OK, CFD_BAND_CKPT),
    A(CKPT_EINVAL, CFD_BAND_CKPT),
    A(CKPT_ENOMEM, CFD_BAND_CKPT),
    A(CKPT_ESTALE, CFD_BAND_CKPT),
    A(CKPT_ECANVAS, CFD_BAND_CKPT),
    A(CKPT_EIO, CFD_BAND_CKPT),
    A(LEASE_OK, CFD_BAND_LEASE),
    A(LEASE_EINVAL, CFD_BAND_LEASE),
    A(LEASE_EUNAVAIL, CFD_BAND_LEASE),
    A(LEASE_EIO, CFD_BAND_LEASE),
    A(LEASE_ENOMEM, CFD_BAND_LEASE),
    A(AGENT_OK, CFD_BAND_AGENT),
    A(AGENT_CANCELLED, CFD_BAND_AGENT),
    A(AGENT_FAILED, CFD_BAND_AGENT),
    A(AGENT_ABORTED, CFD_BAND_AGENT),
    A(AGENT_ESTEPS, CFD_BAND_AGENT),
    A(AGENT_ELOOP, CFD_BAND_AGENT),
    A(AGENT_ENOMEM, CFD_BAND_AGENT),
    A(AGENT_ECONTEXT, CFD_BAND_AGENT),
    A(PROV_OK, CFD_BAND_PROV),
    A(PROV_CANCELLED, CFD_BAND_PROV),
    A(PROV_FAILED, CFD_BAND_PROV),
    A(PROV_ABORTED, CFD_BAND_PROV),
    A(EVRING_OK, CFD_BAND_EVRING),
    A(EVRING_GAP, CFD_BAND_EVRING),
    A(EVRING_EINVAL, CFD_BAND_EVRING),
    A(EVRING_ENOMEM, CFD_BAND_EVRING),
    A(EVRING_ABORTED, CFD_BAND_EVRING),
    A(SKILLS_OK, CFD_BAND_SKILLS),
    A(SKILLS_ENOMEM, CFD_BAND_SKILLS),
    A(SKILLS_EPARSE, CFD_BAND_SKILLS),
    A(SKILLS_EIO, CFD_BAND_SKILLS),
    A(SESS_OK, CFD_BAND_SESS),
    A(SESS_NOT_FOUND, CFD_BAND_SESS),
    A(SESS_EINVAL, CFD_BAND_SESS),
    A(SESS_EFULL, CFD_BAND_SESS),
    A(SESS_EIO, CFD_BAND_SESS),
    A(SESS_ESHUTDOWN, CFD_BAND_SESS),
    A(SESS_EBUSY, CFD_BAND_SESS),
    A(SESS_ENOMEM, CFD_BAND_SESS),
    A(SESS_EEXIST, CFD_BAND_SESS),
    A(SESS_EUNAVAIL, CFD_BAND_SESS),
    A(SESS_EPRECOND, CFD_BAND_SESS),
    A(PROVN_OK, CFD_BAND_COMMON),
    A(PROVN_EINVAL, CFD_BAND_COMMON),
    A(PROVN_ENOMEM, CFD_BAND_COMMON),
    A(TOOLS_OK, CFD_BAND_COMMON),
    A(TOOLS_EINVAL, CFD_BAND_COMMON),
    A(TOOLS_ENOMEM, CFD_BAND_COMMON),
    A(CFG_OK, CFD_BAND_COMMON),
    A(CFG_EINVAL, CFD_BAND_COMMON),
    A(RPCC_OK, CFD_BAND_RPCC),
    A(RPCC_EINVAL, CFD_BAND_RPCC),
    A(RPCC_ENOMEM, CFD_BAND_RPCC),
    A(RPCC_ECLOSED, CFD_BAND_RPCC),
    A(RPCC_EBUSY, CFD_BAND_RPCC),
    A(RPCC_ETOOBIG, CFD_BAND_RPCC),
    A(RPCC_EGRPC, CFD_BAND_RPCC),
    A(RPCC_EMETHODS, CFD_BAND_RPCC),
    A(BNET_OK, CFD_BAND_NET),
    A(BNET_E_STATE, CFD_BAND_NET),
    A(BNET_E_FULL, CFD_BAND_NET),
    A(BNET_E_CLOSED, CFD_BAND_NET),
    A(BNET_E_STOPPED, CFD_BAND_NET),
    A(BNET_E_ARG, CFD_BAND_NET),
    A(BNET_E_EXISTS, CFD_BAND_NET),
    A(BNET_E_LISTEN, CFD_BAND_NET),
    A(BNET_E_TOKEN, CFD_BAND_NET),
    A(BNET_E_NOMEM, CFD_BAND_NET),
    A(APP_OK, CFD_BAND_APP),
    A(APP_E_JSON, CFD_BAND_APP),
    A(APP_E_INPUT, CFD_BAND_APP),
    A(APP_E_TOOBIG, CFD_BAND_APP),
    A(APP_E_ARG, CFD_BAND_APP),
    A(APP_E_START, CFD_BAND_APP),
    A(APP_E_NOMEM, CFD_BAND_APP),
    A(NET_POLICY_OK, CFD_BAND_NET),
    A(NET_POLICY_E_HOST, CFD_BAND_NET),
    A(NET_POLICY_E_ORIGIN, CFD_BAND_NET),
    A(NET_POLICY_E_TOKEN, CFD_BAND_NET),
    A(NET_POLICY_E_ARG, CFD_BAND_NET),
    A(NET_POLICY_E_IO, CFD_BAND_NET),
    A(NET_POLICY_E_PERM, CFD_BAND_NET),
    A(NET_POLICY_E_NOMEM, CFD_BAND_NET),
    A(NET_H2_OK, CFD_BAND_NET),
    A(NET_H2_E_PROTO, CFD_BAND_NET),
    A(NET_H2_E_STREAM, CFD_BAND_NET),
    A(NET_H2_E_ARG, CFD_BAND_NET),
    A(NET_H2_E_FATAL, CFD_BAND_NET),
    A(NET_H2_E_NOMEM, CFD_BAND_NET),
    A(NET_HTTP1_E_PARSE, CFD_BAND_NET),
    A(NET_HTTP1_E_REJECTED, CFD_BAND_NET),
    A(NET_HTTP1_E_CLOSED, CFD_BAND_NET),
    A(NET_HTTP1_E_NOMEM, CFD_BAND_NET),
    A(NET_WS_OK, CFD_BAND_NET),
    A(NET_WS_E_CLOSED, CFD_BAND_NET),
    A(NET_WS_E_QUEUE_FULL, CFD_BAND_NET),
    A(NET_WS_E_ARG, CFD_BAND_NET),
    A(NET_WS_E_FATAL, CFD_BAND_NET),
    A(NET_WS_E_NOMEM, CFD_BAND_NET),
    A(NET_MSG_OK, CFD_BAND_NET),
    A(NET_MSG_E_TARGET, CFD_BAND_NET),
    A(NET_MSG_E_NOMEM, CFD_BAND_NET),
    A(NET_BUF_OK, CFD_BAND_NET),
    A(NET_BUF_E_NOMEM, CFD_BAND_NET),
    A(JSONSCAN_OK, CFD_BAND_JSONSCAN),
    A(JSONSCAN_EINVAL, CFD_BAND_JSONSCAN),
    A(JSONSCAN_EDEPTH, CFD_BAND_JSONSCAN),
    A(JSONSCAN_EVALUES, CFD_BAND_JSONSCAN),
    A(OPTS_EUSAGE, CFD_BAND_OPTS),
    A(LGRAPH_OK, CFD_BAND_LGRAPH),
    A(LGRAPH_EINVAL, CFD_BAND_LGRAPH),
    A(LGRAPH_ELEASED, CFD_BAND_LGRAPH),
    A(LGRAPH_ENOTFOUND, CFD_BAND_LGRAPH),
    A(LGRAPH_EFULL, CFD_BAND_LGRAPH),
    A(LGRAPH_ENOMEM, CFD_BAND_LGRAPH),
    A(CREG_OK, CFD_BAND_CREG),
    A(CREG_EINVAL, CFD_BAND_CREG),
    A(CREG_EUNAVAIL, CFD_BAND_CREG),
    A(CREG_ENOMEM, CFD_BAND_CREG),
};
#define N_ALIASES (sizeof aliases / sizeof aliases[0])

/* The band a code lies in: its first code (-1, -100, -200, ...), or 0. */
static int band_of(int code)
{
    if (code >= 0 || code <= -CFD_BANDS * CFD_BAND_SIZE) return 0;
    return code > -CFD_BAND_SIZE ? CFD_BAND_COMMON : code / CFD_BAND_SIZE * CFD_BAND_SIZE;
}

static void every_code_named_in_a_band(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CODES; i++) {
        const char *t = cfd_strerror(codes[i].code);
        if (!t || !*t || !strcmp(t, UNKNOWN) || !band_of(codes[i].code))
            fail_msg("%s (%d) has no name or lies in no band", codes[i].name, codes[i].code);
    }
}

static void no_duplicate_value(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CODES; i++)
        for (size_t j = i + 1; j < N_CODES; j++)
            if (codes[i].code == codes[j].code)
                fail_msg("%s and %s are both %d", codes[i].name, codes[j].name, codes[i].code);
}

/* Walks every band's hundred values: the named ones are exactly the list. */
static void bands_hold_only_listed_codes(void **state)
{
    (void)state;
    assert_string_equal(cfd_strerror(CFD_OK), "ok");
    size_t named = 0;
    for (int b = 0; b < CFD_BANDS; b++) {
        int first = b ? -b * CFD_BAND_SIZE : CFD_BAND_COMMON;
        size_t in_band = 0;
        for (int v = first; v > -(b + 1) * CFD_BAND_SIZE; v--) {
            if (!strcmp(cfd_strerror(v), UNKNOWN)) continue;
            size_t i = 0;
            while (i < N_CODES && codes[i].code != v)
                i++;
            if (i == N_CODES)
                fail_msg("%d is named \"%s\" but is no listed code", v, cfd_strerror(v));
            in_band++;
        }
        if (!in_band) fail_msg("band %d holds no code", first);
        named += in_band;
    }
    assert_int_equal(named, N_CODES);
    assert_string_equal(cfd_strerror(1), UNKNOWN);
    assert_string_equal(cfd_strerror(-CFD_BANDS * CFD_BAND_SIZE), UNKNOWN);
}

static void module_names_alias_their_band(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ALIASES; i++) {
        const alias *a = &aliases[i];
        if (a->code == CFD_OK) continue;
        int b = band_of(a->code);
        if (!strcmp(cfd_strerror(a->code), UNKNOWN) ||
            (b != a->band && b != CFD_BAND_COMMON &&
             !(a->band == CFD_BAND_AGENT && b == CFD_BAND_PROV)))
            fail_msg("%s (%d) is not a named code of its band %d", a->name, a->code, a->band);
        if (strstr(a->name, "NOMEM")) assert_int_equal(a->code, CFD_ERR_NOMEM);
        if (strstr(a->name, "EINVAL") || !strcmp(a->name, "MCP_E_ARG"))
            assert_int_equal(a->code, CFD_ERR_INVALID);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_code_named_in_a_band),
        cmocka_unit_test(no_duplicate_value),
        cmocka_unit_test(bands_hold_only_listed_codes),
        cmocka_unit_test(module_names_alias_their_band),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
