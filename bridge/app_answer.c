/* app_answer: answers over HTTP and the WebSocket bookkeeping shared by the
 * endpoints (app_int.h). */
#include "app_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpb.h"
#include "log.h"

#define MOD "comfyd-bridge"

void app__respond_json(app_ctx *a, bnet_req *r, app_route route, int status, char *body, size_t len)
{
    static const char fallback[] = "{\"error\":\"out of memory\"}";
    int rc;
    if (body)
        rc = bnet_respond(r, status, "application/json", NULL, 0, body, len);
    else
        rc = bnet_respond(r, status = 500, "application/json", NULL, 0, fallback,
                          sizeof fallback - 1);
    free(body);
    if (rc != BNET_OK) {
        LOG_W(MOD, "cannot answer %s: %s", LOG_ESC(bnet_req_path(r)), bnet_strerror(rc));
        /* bnet keeps r: an answer that could not be queued still ends it. */
        if (bnet_respond_error(r, 500, "internal error") != BNET_OK) return;
        status = 500;
    }
    app_metrics_http(&a->m, route, status);
}

void app__respond_error(app_ctx *a, bnet_req *r, app_route route, int status, const char *message,
                        const char *code)
{
    char *body = NULL;
    size_t len = 0;
    app_error_body(message, code, NULL, &body, &len);
    app__respond_json(a, r, route, status, body, len);
}

int app__admit(app_ctx *a, bnet_req *r, app_route route)
{
    if (!a->draining) return 1;
    app__respond_error(a, r, route, 503, "shutting down", NULL);
    return 0;
}

/* 1 when resp is a patch answer whose preview ended without applying it. */
static int preview_settled(const ProtobufCMessage *resp)
{
    const Comfyd__V1__PreviewResult *p = NULL;
    if (resp && resp->descriptor == &comfyd__v1__execute_response__descriptor)
        p = ((const Comfyd__V1__ExecuteResponse *)resp)->preview;
    else if (resp && resp->descriptor == &comfyd__v1__execute_batch_response__descriptor)
        p = ((const Comfyd__V1__ExecuteBatchResponse *)resp)->preview;
    return p && (p->outcome == COMFYD__V1__PREVIEW_OUTCOME__PREVIEW_OUTCOME_REJECTED ||
                 p->outcome == COMFYD__V1__PREVIEW_OUTCOME__PREVIEW_OUTCOME_TIMED_OUT ||
                 p->outcome == COMFYD__V1__PREVIEW_OUTCOME__PREVIEW_OUTCOME_UNAVAILABLE);
}

int app__call_outcome(const app_call *c, const char **code, char *msg, size_t msglen)
{
    if (c->code != GRPC_STATUS_OK) {
        Comfyd__V1__GraphErrorCode gc = c->graph_code;
        if (c->code == GRPC_STATUS_UNAVAILABLE) {
            *code = app_grpc_code_name(c->code);
            snprintf(msg, msglen, "core unavailable: %s", c->details[0] ? c->details : "no answer");
            return 503;
        }
        if (gc) {
            *code = app_graph_code_name(gc);
            snprintf(msg, msglen, "%s", c->details);
            return app_status_for_graph(gc);
        }
        *code = app_grpc_code_name(c->code);
        snprintf(msg, msglen, "%s", c->details[0] ? c->details : app_grpc_code_name(c->code));
        return app_status_for_grpc(c->code);
    }
    const Comfyd__V1__GraphError *ge = app_first_graph_error(c->resp);
    int failed = ge != NULL;
    if (!failed && c->resp && c->resp->descriptor == &comfyd__v1__execute_response__descriptor)
        failed = !((const Comfyd__V1__ExecuteResponse *)c->resp)->ok;
    if (!failed && c->resp &&
        c->resp->descriptor == &comfyd__v1__execute_batch_response__descriptor)
        failed = !((const Comfyd__V1__ExecuteBatchResponse *)c->resp)->ok;
    /* A preview the user rejected, that timed out or that no tab could
     * show is an answer, not a failure: nothing was applied and the body
     * says why (docs/concurrent-editing.md). */
    if (failed && preview_settled(c->resp)) failed = 0;
    if (!failed) {
        *code = NULL;
        msg[0] = '\0';
        return 200;
    }
    if (!ge) {
        *code = "UNSPECIFIED";
        snprintf(msg, msglen, "the command failed without an error code");
        return 422;
    }
    *code = app_graph_code_name(ge->code);
    snprintf(msg, msglen, "%s: %s", *code, ge->message ? ge->message : "");
    return app_status_for_graph(ge->code);
}

void app__respond_call(app_call *c, bnet_req *r)
{
    const char *code;
    char msg[RPCC_MAX_DETAILS_BYTES + 64];
    int status = app__call_outcome(c, &code, msg, sizeof msg);
    char *body = NULL;
    size_t len = 0;
    if (status == 200) {
        /* The answer is the message alone: jsonpb's own buffer, no copy. */
        jsonpb_opts o;
        app__encode_opts(&o, app__style_graph);
        int rc = jsonpb_encode(c->resp, &o, &body, &len, NULL, 0);
        if (rc == JSONPB_ENOMEM) {
            body = NULL; /* app__respond_json answers 500 */
        } else if (rc) {
            app__respond_error(c->a, r, c->route, 502, "the core's answer cannot be encoded", NULL);
            return;
        }
    } else if (app_error_body(msg, code, c->code == GRPC_STATUS_OK ? c->resp : NULL, &body, &len)) {
        body = NULL;
    }
    app__respond_json(c->a, r, c->route, status, body, len);
}

/* ---- WebSockets ---- */

void app__ws_opened(app_ctx *a, app_ws *w, bnet_ws *ws, app_ws_kind kind)
{
    w->a = a;
    w->ws = ws;
    w->kind = kind;
    w->prev = NULL;
    w->next = a->ws_list;
    if (a->ws_list) a->ws_list->prev = w;
    a->ws_list = w;
    a->m.ws_opened[kind]++;
    a->m.ws_open[kind]++;
    bnet_ws_set_data(ws, w);
}

void app__ws_closed(app_ws *w)
{
    app_ctx *a = w->a;
    if (w->prev)
        w->prev->next = w->next;
    else
        a->ws_list = w->next;
    if (w->next) w->next->prev = w->prev;
    if (a->m.ws_open[w->kind]) a->m.ws_open[w->kind]--;
    w->ws = NULL;
}

static int ws_send(app_ws *w, int kind, char *json, size_t len)
{
    if (!json) return BNET_E_NOMEM;
    int rc = w->ws ? bnet_ws_send(w->ws, kind, json, len) : BNET_E_CLOSED;
    if (rc == BNET_OK) w->a->m.ws_out[w->kind]++;
    free(json);
    return rc;
}

int app__ws_send(app_ws *w, char *json, size_t len)
{
    return ws_send(w, BNET_WS_TEXT, json, len);
}

int app__ws_send_checked(app_ws *w, char *json, size_t len)
{
    return ws_send(w, BNET_WS_TEXT_CHECKED, json, len);
}

int app__ws_close(app_ws *w, uint16_t code, const char *reason)
{
    if (!w->ws) return BNET_E_CLOSED;
    int rc = bnet_ws_close(w->ws, code, reason);
    if (rc == BNET_E_ARG && code >= 1012 && code <= 1014) {
        /* A network layer that only takes RFC 6455's own codes: 1001
         * (going away) also tells a client to come back. */
        LOG_D(MOD, "close code %u refused; closing with 1001", code);
        rc = bnet_ws_close(w->ws, 1001, reason);
    }
    return rc;
}

int app__ws_upgrade(const bnet_req *req, void *ud)
{
    (void)req;
    const app_ctx *a = ud;
    return a->draining ? 503 : 0;
}
