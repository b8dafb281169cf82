/* HTTP /comfy/runs: the core's RunService over HTTP/JSON
 * (docs/bridge-protocol.md):
 *   GET  /comfy/runs?canvas_id=&session_id=&page_size=&page_token=  ListRuns
 *   GET  /comfy/runs/{prompt_id}                                    GetRun
 *   POST /comfy/runs/{prompt_id}/cancel                             CancelRun
 *   GET  /comfy/runs/{prompt_id}/outputs/{node}/{index}             GetRunOutput
 * The output is answered with its bytes and ComfyUI's content type (images
 * are passed as they are), everything else as JSON like the graph
 * endpoints. Path segments are percent-decoded and checked (UTF-8, no '/',
 * bounded). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_int.h"
#include "text.h"

/* A prompt id or node id in a path: UUIDs and "12:3" subgraph ids. */
#define RUNS_MAX_SEGMENT 256

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into out (cap bytes). -1 for a bad escape, a
 * decoded '/' or NUL, too long or not UTF-8. */
static int decode_seg(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '%') {
            if (i + 2 >= n) return -1;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0) return -1;
            ch = (char)(hi * 16 + lo);
            i += 2;
        }
        if (ch == 0 || ch == '/' || k + 1 >= cap) return -1;
        out[k++] = ch;
    }
    out[k] = 0;
    return k && text_utf8_valid(out, k) ? 0 : -1;
}

/* Splits the path after "/comfy/runs/" into at most max segments. Returns
 * the count, or -1 for a bad segment. */
static int split(const char *path, char seg[][RUNS_MAX_SEGMENT + 1], int max)
{
    const char *p = path + strlen("/comfy/runs/");
    int n = 0;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (n == max || decode_seg(p, len, seg[n], RUNS_MAX_SEGMENT + 1)) return -1;
        n++;
        if (!e) break;
        p = e + 1;
        if (!*p) return -1; /* a trailing '/' */
    }
    return n;
}

static void h_list(bnet_req *r, void *ud)
{
    app_ctx *a = ud;
    const app_route route = APP_ROUTE_RUNS;
    if (!app__admit(a, r, route)) return;
    Comfyd__V1__ListRunsRequest q = COMFYD__V1__LIST_RUNS_REQUEST__INIT;
    char canvas[APP_MAX_QUERY_VALUE], session[APP_MAX_QUERY_VALUE], token[APP_MAX_QUERY_VALUE],
        size[16];
    long nc = bnet_req_query_param(r, "canvas_id", canvas, sizeof canvas);
    long ns = bnet_req_query_param(r, "session_id", session, sizeof session);
    long nt = bnet_req_query_param(r, "page_token", token, sizeof token);
    long nz = bnet_req_query_param(r, "page_size", size, sizeof size);
    if (nc < -1 || ns < -1 || nt < -1 || nz < -1 ||
        (nc > 0 && !text_utf8_valid(canvas, (size_t)nc)) ||
        (ns > 0 && !text_utf8_valid(session, (size_t)ns)) ||
        (nt > 0 && !text_utf8_valid(token, (size_t)nt))) {
        app__respond_error(a, r, route, 400,
                           "a query parameter is too long, badly escaped or not UTF-8", NULL);
        return;
    }
    if (nz > 0) {
        char *end = NULL;
        unsigned long v = strtoul(size, &end, 10);
        if (!end || *end || size[0] < '0' || size[0] > '9' || v > 100) {
            app__respond_error(a, r, route, 400, "page_size: expected an integer from 0 to 100",
                               NULL);
            return;
        }
        q.page_size = (uint32_t)v;
    }
    if (nc >= 0) q.canvas_id = canvas;
    if (ns >= 0) q.session_id = session;
    if (nt >= 0) q.page_token = token;
    app__call_http(a, r, route, APP_M_LIST_RUNS, &q.base, APP_UNARY_TIMEOUT_MS);
}

static void output_done(app_call *c)
{
    bnet_req *r = bnet_req_find(c->a->net, c->req_id);
    if (!r) return;
    if (c->code != GRPC_STATUS_OK || !c->resp) {
        app__respond_call(c, r);
        return;
    }
    const Comfyd__V1__GetRunOutputResponse *o = (const Comfyd__V1__GetRunOutputResponse *)c->resp;
    /* ComfyUI's type for what it serves; a header-breaking value is not. */
    const char *ct = o->content_type;
    for (const char *p = ct; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) ct = "application/octet-stream";
    if (!*ct) ct = "application/octet-stream";
    bnet_header h[] = {{"cache-control", "no-store"}, {"x-content-type-options", "nosniff"}};
    bnet_respond(r, 200, ct, h, 2, o->data.data, o->data.len);
    app_metrics_http(&c->a->m, APP_ROUTE_RUN_OUTPUT, 200);
}

/* GET /comfy/runs/{id}, GET /comfy/runs/{id}/outputs/{node}/{index},
 * POST /comfy/runs/{id}/cancel. */
static void h_run(bnet_req *r, void *ud)
{
    app_ctx *a = ud;
    const char *path = bnet_req_path(r);
    char seg[4][RUNS_MAX_SEGMENT + 1];
    int n = split(path, seg, 4);
    int is_post = !strcmp(bnet_req_method(r), "POST");
    app_route route = n == 4 ? APP_ROUTE_RUN_OUTPUT : APP_ROUTE_RUNS;
    if (!app__admit(a, r, route)) return;
    if (n == 1 && !is_post) {
        Comfyd__V1__GetRunRequest q = COMFYD__V1__GET_RUN_REQUEST__INIT;
        q.prompt_id = seg[0];
        app__call_http(a, r, route, APP_M_GET_RUN, &q.base, APP_UNARY_TIMEOUT_MS);
        return;
    }
    if (n == 2 && is_post && !strcmp(seg[1], "cancel")) {
        Comfyd__V1__CancelRunRequest q = COMFYD__V1__CANCEL_RUN_REQUEST__INIT;
        q.prompt_id = seg[0];
        /* The core waits for ComfyUI to confirm an interrupt. */
        app__call_http(a, r, route, APP_M_CANCEL_RUN, &q.base, APP_UNARY_TIMEOUT_MS);
        return;
    }
    if (n == 4 && !is_post && !strcmp(seg[1], "outputs")) {
        char *end = NULL;
        unsigned long idx = strtoul(seg[3], &end, 10);
        if (!end || *end || seg[3][0] < '0' || seg[3][0] > '9' || idx > UINT32_MAX) {
            app__respond_error(a, r, route, 400, "the output index must be an integer", NULL);
            return;
        }
        Comfyd__V1__GetRunOutputRequest q = COMFYD__V1__GET_RUN_OUTPUT_REQUEST__INIT;
        q.prompt_id = seg[0];
        q.node_id = seg[2];
        q.index = (uint32_t)idx;
        /* ?max_side=N: a PNG scaled down to fit N pixels (the core checks
         * the bound). */
        char ms[16];
        long nm = bnet_req_query_param(r, "max_side", ms, sizeof ms);
        if (nm >= 0) {
            char *mend = NULL;
            unsigned long v = nm > 0 && ms[0] >= '0' && ms[0] <= '9' ? strtoul(ms, &mend, 10) : 0;
            if (!mend || *mend || !v || v > UINT32_MAX) {
                app__respond_error(a, r, route, 400, "max_side: expected a positive integer", NULL);
                return;
            }
            q.max_side = (uint32_t)v;
        } else if (nm < -1) {
            app__respond_error(a, r, route, 400, "max_side: too long or badly escaped", NULL);
            return;
        }
        app_call *c = app__call_new(a, APP_M_GET_RUN_OUTPUT, output_done);
        c->req_id = bnet_req_id(r);
        c->route = route;
        app__call_start(c, &q.base, APP_UNARY_TIMEOUT_MS);
        return;
    }
    if (n < 0) {
        app__respond_error(a, r, route, 400,
                           "a path segment is too long, badly escaped or not UTF-8", NULL);
        return;
    }
    app__respond_error(a, r, route, 404,
                       "no such runs endpoint: GET /comfy/runs/{prompt_id}, POST "
                       "/comfy/runs/{prompt_id}/cancel, GET "
                       "/comfy/runs/{prompt_id}/outputs/{node}/{index}",
                       NULL);
}

int app__runs_routes(app_ctx *a)
{
    return bnet_route(a->net, "GET", "/comfy/runs", 0, h_list, a) != BNET_OK ||
                   bnet_route(a->net, "GET", "/comfy/runs/", BNET_ROUTE_PREFIX, h_run, a) !=
                       BNET_OK ||
                   bnet_route(a->net, "POST", "/comfy/runs/", BNET_ROUTE_PREFIX, h_run, a) !=
                       BNET_OK
               ? -1
               : 0;
}
