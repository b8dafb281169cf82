/* HTTP /comfy/sessions: session search, export, compaction, fork, revert
 * and checkpoints over HTTP/JSON (docs/bridge-protocol.md, docs/sessions.md):
 *   GET  /comfy/sessions/search?q=&session_id=&limit=   SearchSessions
 *   GET  /comfy/sessions/{id}/export?format=md|json     ExportSession
 *   POST /comfy/sessions/{id}/compact                   CompactSession
 *   POST /comfy/sessions/{id}/fork    {message_id, title}       ForkSession
 *   POST /comfy/sessions/{id}/revert  {message_id, restore_canvas, force}
 *                                                       RevertSession
 *   POST /comfy/sessions/{id}/unrevert                  UnrevertSession
 *   GET  /comfy/sessions/{id}/checkpoints               ListCheckpoints
 * Search and compaction answer JSON like the graph endpoints; an export is
 * answered with the document itself and a download file name. A malformed
 * query is the core's INVALID_ARGUMENT, so a 400 with its sentence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_int.h"
#include "text.h"

#define SESSIONS_PREFIX "/comfy/sessions/"
#define SESSIONS_MAX_ID 64 /* a session id segment; real ids are 36 bytes */

static void http_done(app_call *c)
{
    bnet_req *r = bnet_req_find(c->a->net, c->req_id);
    if (r) app__respond_call(c, r);
}

static void export_done(app_call *c)
{
    bnet_req *r = bnet_req_find(c->a->net, c->req_id);
    if (!r) return;
    if (c->code != GRPC_STATUS_OK || !c->resp) {
        app__respond_call(c, r);
        return;
    }
    const Comfyd__V1__ExportSessionResponse *e = (const Comfyd__V1__ExportSessionResponse *)c->resp;
    char disp[128];
    /* The core makes the name from a checked session id: safe in a header. */
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", e->filename);
    for (char *p = disp; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) *p = '_';
    bnet_header h[] = {{"cache-control", "no-store"},
                       {"x-content-type-options", "nosniff"},
                       {"content-disposition", disp}};
    bnet_respond(r, 200, e->content_type, h, 3, e->content, strlen(e->content));
    app_metrics_http(&c->a->m, APP_ROUTE_SESSIONS, 200);
}

static void h_search(bnet_req *r, app_ctx *a)
{
    const app_route route = APP_ROUTE_SESSIONS;
    char q[APP_MAX_QUERY_VALUE], sid[APP_MAX_QUERY_VALUE], lim[16];
    long nq = bnet_req_query_param(r, "q", q, sizeof q);
    long ns = bnet_req_query_param(r, "session_id", sid, sizeof sid);
    long nl = bnet_req_query_param(r, "limit", lim, sizeof lim);
    if (nq < -1 || ns < -1 || nl < -1 || (nq > 0 && !text_utf8_valid(q, (size_t)nq)) ||
        (ns > 0 && !text_utf8_valid(sid, (size_t)ns))) {
        app__respond_error(a, r, route, 400,
                           "a query parameter is too long, badly escaped or not UTF-8", NULL);
        return;
    }
    if (nq < 0) {
        app__respond_error(a, r, route, 400, "q: missing; e.g. ?q=lighthouse", NULL);
        return;
    }
    Comfyd__V1__SearchSessionsRequest m = COMFYD__V1__SEARCH_SESSIONS_REQUEST__INIT;
    m.query = q;
    if (ns >= 0) m.session_id = sid;
    if (nl >= 0) {
        char *end = NULL;
        unsigned long v = nl > 0 && lim[0] >= '0' && lim[0] <= '9' ? strtoul(lim, &end, 10) : 0;
        if (!end || *end || v > 200) {
            app__respond_error(a, r, route, 400, "limit: expected an integer from 0 to 200", NULL);
            return;
        }
        m.limit = (uint32_t)v;
    }
    app_call *c = app__call_new(a, APP_M_SEARCH_SESSIONS, http_done);
    c->req_id = bnet_req_id(r);
    c->route = route;
    app__call_start(c, &m.base, APP_UNARY_TIMEOUT_MS);
}

/* POST .../{id}/fork and .../{id}/revert: the body is the request as JSON
 * (an empty body is {}); the session is the path's. Unknown fields and bad
 * values are a 400 naming the field. */
static void post_json(bnet_req *r, app_ctx *a, const char *id, app_method method,
                      const ProtobufCMessageDescriptor *d)
{
    const app_route route = APP_ROUTE_SESSIONS;
    size_t len = 0;
    const char *body = bnet_req_body(r, &len);
    if (!body || !len) {
        body = "{}";
        len = 2;
    }
    ProtobufCMessage *m = NULL;
    char err[512] = "";
    jsonpb_opts o = {0};
    if (jsonpb_decode(d, body, len, &o, &m, err, sizeof err) != JSONPB_OK || !m) {
        app__respond_error(a, r, route, 400, err[0] ? err : "the body is not a JSON object", NULL);
        return;
    }
    /* Both requests have session_id as their field 1 (a string). */
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(d, "session_id");
    char **sid = (char **)((char *)m + f->offset);
    if (*sid && **sid && strcmp(*sid, id) != 0) {
        app__respond_error(a, r, route, 400,
                           "session_id: the body names another session than the path", NULL);
        protobuf_c_message_free_unpacked(m, NULL);
        return;
    }
    if (*sid != protobuf_c_empty_string) free(*sid);
    *sid = text_dup(id);
    app_call *c = app__call_new(a, method, http_done);
    c->req_id = bnet_req_id(r);
    c->route = route;
    app__call_start(c, m, APP_UNARY_TIMEOUT_MS);
    protobuf_c_message_free_unpacked(m, NULL);
}

/* GET /comfy/sessions/search, GET .../{id}/export, POST .../{id}/compact,
 * POST .../{id}/fork, POST .../{id}/revert, GET .../{id}/checkpoints. */
static void h_sessions(bnet_req *r, void *ud)
{
    app_ctx *a = ud;
    const app_route route = APP_ROUTE_SESSIONS;
    if (!app__admit(a, r, route)) return;
    const char *rest = bnet_req_path(r) + strlen(SESSIONS_PREFIX);
    int is_post = !strcmp(bnet_req_method(r), "POST");
    if (!is_post && !strcmp(rest, "search")) {
        h_search(r, a);
        return;
    }
    const char *slash = strchr(rest, '/');
    size_t idlen = slash ? (size_t)(slash - rest) : 0;
    char id[SESSIONS_MAX_ID + 1];
    if (slash && idlen > 0 && idlen <= SESSIONS_MAX_ID) {
        memcpy(id, rest, idlen);
        id[idlen] = 0;
        const char *what = slash + 1;
        if (!is_post && !strcmp(what, "export")) {
            char fmt[16];
            long nf = bnet_req_query_param(r, "format", fmt, sizeof fmt);
            Comfyd__V1__ExportSessionRequest m = COMFYD__V1__EXPORT_SESSION_REQUEST__INIT;
            m.session_id = id;
            if (nf < 0 || !strcmp(fmt, "md") || !strcmp(fmt, "markdown")) {
                m.format = COMFYD__V1__EXPORT_FORMAT__EXPORT_FORMAT_MARKDOWN;
            } else if (!strcmp(fmt, "json")) {
                m.format = COMFYD__V1__EXPORT_FORMAT__EXPORT_FORMAT_JSON;
            } else {
                app__respond_error(a, r, route, 400, "format: expected md or json", NULL);
                return;
            }
            app_call *c = app__call_new(a, APP_M_EXPORT_SESSION, export_done);
            c->req_id = bnet_req_id(r);
            c->route = route;
            app__call_start(c, &m.base, APP_UNARY_TIMEOUT_MS);
            return;
        }
        if (is_post && !strcmp(what, "compact")) {
            Comfyd__V1__CompactSessionRequest m = COMFYD__V1__COMPACT_SESSION_REQUEST__INIT;
            m.session_id = id;
            app_call *c = app__call_new(a, APP_M_COMPACT_SESSION, http_done);
            c->req_id = bnet_req_id(r);
            c->route = route;
            app__call_start(c, &m.base, APP_UNARY_TIMEOUT_MS);
            return;
        }
        if (is_post && !strcmp(what, "fork")) {
            post_json(r, a, id, APP_M_FORK_SESSION, &comfyd__v1__fork_session_request__descriptor);
            return;
        }
        if (is_post && !strcmp(what, "revert")) {
            post_json(r, a, id, APP_M_REVERT_SESSION,
                      &comfyd__v1__revert_session_request__descriptor);
            return;
        }
        if (is_post && !strcmp(what, "unrevert")) {
            Comfyd__V1__UnrevertSessionRequest m = COMFYD__V1__UNREVERT_SESSION_REQUEST__INIT;
            m.session_id = id;
            app_call *c = app__call_new(a, APP_M_UNREVERT_SESSION, http_done);
            c->req_id = bnet_req_id(r);
            c->route = route;
            app__call_start(c, &m.base, APP_UNARY_TIMEOUT_MS);
            return;
        }
        if (!is_post && !strcmp(what, "checkpoints")) {
            Comfyd__V1__ListCheckpointsRequest m = COMFYD__V1__LIST_CHECKPOINTS_REQUEST__INIT;
            m.session_id = id;
            app_call *c = app__call_new(a, APP_M_LIST_CHECKPOINTS, http_done);
            c->req_id = bnet_req_id(r);
            c->route = route;
            app__call_start(c, &m.base, APP_UNARY_TIMEOUT_MS);
            return;
        }
    }
    app__respond_error(a, r, route, 404,
                       "no such sessions endpoint: GET /comfy/sessions/search?q=, GET "
                       "/comfy/sessions/{id}/export?format=md|json, POST "
                       "/comfy/sessions/{id}/compact, POST /comfy/sessions/{id}/fork, POST "
                       "/comfy/sessions/{id}/revert, POST /comfy/sessions/{id}/unrevert, GET "
                       "/comfy/sessions/{id}/checkpoints",
                       NULL);
}

int app__sessions_http_routes(app_ctx *a)
{
    return bnet_route(a->net, "GET", SESSIONS_PREFIX, BNET_ROUTE_PREFIX, h_sessions, a) !=
                       BNET_OK ||
                   bnet_route(a->net, "POST", SESSIONS_PREFIX, BNET_ROUTE_PREFIX, h_sessions, a) !=
                       BNET_OK
               ? -1
               : 0;
}
