/* app_editor: WS /comfy/editor/ws, a browser tab's canvas. The tab's first
 * message attaches it (GraphService.AttachCanvas, a server stream whose
 * messages are forwarded as JSON with manual flow control); its later
 * messages are reports (GraphService.ReportEditor), sent one at a time in
 * arrival order once the core confirmed the attachment, each answered with
 * report_ack. The stream ending closes the socket (1012: reconnect); the
 * socket closing cancels the stream, which the core sees as the tab gone. */
#include <stdlib.h>
#include <string.h>

#include "app_int.h"
#include "log.h"
#include "text.h"

#define MOD "comfyd-bridge"

/* ---- pure parts ---- */

static int fail(char *err, size_t errlen, int rc, const char *msg)
{
    if (err && errlen) snprintf(err, errlen, "%s", msg);
    return rc;
}

int app_editor_parse_attach(const char *json, size_t len, Comfyd__V1__AttachCanvasRequest **out,
                            char *err, size_t errlen)
{
    *out = NULL;
    yajl_val v = NULL;
    int rc = app__json_parse(json, len, &v, err, errlen);
    if (rc) return rc;
    yajl_val t = app__json_get(v, "type");
    if (!YAJL_IS_OBJECT(v) || !YAJL_IS_STRING(t) || strcmp(t->u.string, "attach")) {
        rc = fail(err, errlen, APP_E_INPUT,
                  "the first message must be {\"type\":\"attach\",\"canvas_id\":...}");
    } else {
        static const char *const skip[] = {"type"};
        ProtobufCMessage *m = NULL;
        rc = app__decode_obj(v, skip, 1, NULL, NULL, &comfyd__v1__attach_canvas_request__descriptor,
                             0, &m, err, errlen);
        *out = (Comfyd__V1__AttachCanvasRequest *)m;
    }
    yajl_tree_free(v);
    return rc;
}

int app_editor_parse_report(const char *json, size_t len, const char *canvas_id,
                            Comfyd__V1__ReportEditorRequest **out, char *err, size_t errlen)
{
    *out = NULL;
    yajl_val v = NULL;
    int rc = app__json_parse(json, len, &v, err, errlen);
    if (rc) return rc;
    static const char *const skip[] = {"canvas_id"};
    ProtobufCMessage *m = NULL;
    rc = app__decode_obj(v, skip, 1, NULL, NULL, &comfyd__v1__report_editor_request__descriptor, 0,
                         &m, err, errlen);
    yajl_tree_free(v);
    if (rc) return rc;
    Comfyd__V1__ReportEditorRequest *r = (Comfyd__V1__ReportEditorRequest *)m;
    char *id = malloc(strlen(canvas_id) + 1);
    if (!id) {
        protobuf_c_message_free_unpacked(m, NULL);
        return fail(err, errlen, APP_E_NOMEM, "out of memory");
    }
    strcpy(id, canvas_id);
    if (r->canvas_id && r->canvas_id != (char *)protobuf_c_empty_string) free(r->canvas_id);
    r->canvas_id = id;
    *out = r;
    return APP_OK;
}

int app_editor_message_json(const Comfyd__V1__AttachCanvasResponse *m, char **out, size_t *len)
{
    yajl_gen g = app__gen();
    if (!g) return APP_E_NOMEM;
    if (app__encode(g, &m->base, NULL, 0)) {
        yajl_gen_free(g);
        return APP_E_NOMEM;
    }
    return app__gen_finish(g, out, len);
}

int app_editor_ack_json(const char *kind, uint64_t revision, char **out, size_t *len)
{
    return app_editor_ack_prov_json(kind, revision, NULL, out, len);
}

int app_editor_ack_prov_json(const char *kind, uint64_t revision, const char *provenance_json,
                             char **out, size_t *len)
{
    yajl_gen g = app__gen();
    if (!g) return APP_E_NOMEM;
    char num[24];
    int n = snprintf(num, sizeof num, "%llu", (unsigned long long)revision);
    int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || app__gen_cstr(g, "type") ||
              app__gen_cstr(g, "report_ack") || app__gen_cstr(g, "report") ||
              app__gen_str(g, kind) || app__gen_cstr(g, "revision") ||
              yajl_gen_number(g, num, (size_t)n) != yajl_gen_status_ok;
    if (!bad && provenance_json && *provenance_json)
        bad = app__gen_cstr(g, "provenance_json") || app__gen_str(g, provenance_json);
    bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    if (bad) {
        yajl_gen_free(g);
        return APP_E_NOMEM;
    }
    return app__gen_finish(g, out, len);
}

int app_editor_error_json(const char *type, const char *kind, const char *code, const char *message,
                          char **out, size_t *len)
{
    yajl_gen g = app__gen();
    if (!g) return APP_E_NOMEM;
    int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || app__gen_cstr(g, "type") ||
              app__gen_str(g, type);
    if (!bad && kind) bad = app__gen_cstr(g, "report") || app__gen_str(g, kind);
    if (!bad)
        bad = app__gen_cstr(g, "code") || app__gen_str(g, code) || app__gen_cstr(g, "message") ||
              app__gen_str(g, message) || yajl_gen_map_close(g) != yajl_gen_status_ok;
    if (bad) {
        yajl_gen_free(g);
        return APP_E_NOMEM;
    }
    return app__gen_finish(g, out, len);
}

uint16_t app_editor_close_code(grpc_status_code code)
{
    switch (code) {
    case GRPC_STATUS_OK:
    case GRPC_STATUS_UNAVAILABLE:
    case GRPC_STATUS_CANCELLED:
    case GRPC_STATUS_DEADLINE_EXCEEDED:
    case GRPC_STATUS_INTERNAL:
    case GRPC_STATUS_UNKNOWN:
        return 1012;
    case GRPC_STATUS_ABORTED:
        return 1000;
    case GRPC_STATUS_RESOURCE_EXHAUSTED:
        return 1013;
    default:
        return 1008;
    }
}

/* ---- the WebSocket ---- */

typedef struct report {
    Comfyd__V1__ReportEditorRequest *req;
    struct report *next;
} report;

typedef struct editor_ws {
    app_ws base;
    int attaching; /* the attach message was accepted: the stream runs */
    int ready;     /* the core confirmed the attachment (first message) */
    char *canvas_id;
    app_stream *stream;
    report *head, *tail; /* waiting reports, oldest first */
    size_t n_pending;
    int report_busy; /* one ReportEditor in flight */
} editor_ws;

static const char *report_kind(const Comfyd__V1__ReportEditorRequest *r)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(r->base.descriptor, (unsigned)r->report_case);
    return f ? f->name : "report";
}

static void send_error(editor_ws *w, const char *type, const char *kind, const char *code,
                       const char *message)
{
    char *json = NULL;
    size_t len = 0;
    if (app_editor_error_json(type, kind, code, message, &json, &len) == APP_OK)
        app__ws_send(&w->base, json, len);
}

static void pump(editor_ws *w);

static void report_done(app_call *c)
{
    bnet_ws *ws = bnet_ws_find(c->a->net, c->ws_id);
    if (!ws) return;
    editor_ws *w = bnet_ws_data(ws);
    w->report_busy = 0;
    if (c->code == GRPC_STATUS_OK) {
        const Comfyd__V1__ReportEditorResponse *r =
            (const Comfyd__V1__ReportEditorResponse *)c->resp;
        char *json = NULL;
        size_t len = 0;
        if (app_editor_ack_prov_json(c->text, r->revision, r->provenance_json, &json, &len) ==
            APP_OK)
            app__ws_send(&w->base, json, len);
    } else {
        const char *code;
        char msg[RPCC_MAX_DETAILS_BYTES + 64];
        app__call_outcome(c, &code, msg, sizeof msg);
        LOG_D(MOD, "editor %s: %s refused: %s", LOG_ESC(w->canvas_id), LOG_ESC(c->text),
              LOG_ESC(msg));
        send_error(w, "report_error", c->text, code, msg);
    }
    if (w->base.ws) pump(w);
}

/* Sends the oldest waiting report once the attachment is confirmed and no
 * other report is in flight: the core sees the tab's reports in order. */
static void pump(editor_ws *w)
{
    if (!w->ready || w->report_busy || !w->head) return;
    report *it = w->head;
    w->head = it->next;
    if (!w->head) w->tail = NULL;
    w->n_pending--;
    w->report_busy = 1;
    app_call *c = app__call_new(w->base.a, APP_M_REPORT_EDITOR, report_done);
    c->ws_id = bnet_ws_id(w->base.ws);
    c->text = text_dup(report_kind(it->req));
    app__call_start(c, &it->req->base, APP_UNARY_TIMEOUT_MS);
    protobuf_c_message_free_unpacked(&it->req->base, NULL);
    free(it);
}

static void enqueue(editor_ws *w, Comfyd__V1__ReportEditorRequest *req)
{
    /* A user edit with the whole workflow makes an older one waiting
     * before it pointless. One with a delta builds on the older one, which
     * must go first. */
    if (w->tail &&
        w->tail->req->report_case == COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_USER_EDIT &&
        req->report_case == COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_USER_EDIT &&
        req->user_edit->workflow_json && *req->user_edit->workflow_json) {
        protobuf_c_message_free_unpacked(&w->tail->req->base, NULL);
        w->tail->req = req;
        return;
    }
    if (w->n_pending >= APP_EDITOR_MAX_PENDING) {
        protobuf_c_message_free_unpacked(&req->base, NULL);
        app__ws_close(&w->base, 1008, "too many reports waiting");
        return;
    }
    report *it = calloc(1, sizeof *it);
    if (!it) abort();
    it->req = req;
    if (w->tail)
        w->tail->next = it;
    else
        w->head = it;
    w->tail = it;
    w->n_pending++;
}

static void stream_msg(void *owner, app_stream *s, ProtobufCMessage *m)
{
    editor_ws *w = owner;
    const Comfyd__V1__AttachCanvasResponse *r = (const Comfyd__V1__AttachCanvasResponse *)m;
    int first = !w->ready && r->kind_case == COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_ATTACHED;
    char *json = NULL;
    size_t len = 0;
    int rc = app_editor_message_json(r, &json, &len);
    protobuf_c_message_free_unpacked(m, NULL);
    if (rc != APP_OK) {
        app__ws_close(&w->base, 1011, "cannot encode a message of the core");
        return;
    }
    /* Credit only for what the WebSocket queue took, and only while it is
     * below the high mark (else on drain): a tab that reads slowly slows
     * the stream down; the core's own deadlines handle a tab that stops. */
    if (app__ws_send(&w->base, json, len) == BNET_OK) app__stream_paced_credit(s, w->base.ws);
    if (first) {
        w->ready = 1;
        pump(w);
    }
}

static void stream_end(void *owner, app_stream *s, grpc_status_code code, const char *details)
{
    editor_ws *w = owner;
    app__stream_detach(s);
    w->stream = NULL;
    uint16_t close = app_editor_close_code(code);
    char reason[128];
    if (details && details[0])
        snprintf(reason, sizeof reason, "%s", details);
    else
        snprintf(reason, sizeof reason, "core stream ended: %s", app_grpc_code_name(code));
    LOG_I(MOD, "editor %s: stream ended (%s: %s); closing with %u", LOG_ESC(w->canvas_id),
          app_grpc_code_name(code), LOG_ESC(details ? details : ""), close);
    if (close != 1012 && close != 1000)
        send_error(w, "error", NULL, app_grpc_code_name(code), reason);
    app__ws_close(&w->base, close, reason);
}

/* The socket's queue fell below the low mark: the stream may go on. */
static void ws_drain(bnet_ws *ws, void *ud)
{
    (void)ud;
    editor_ws *w = bnet_ws_data(ws);
    if (w && w->stream) app__stream_resume(w->stream);
}

static void ws_open(bnet_ws *ws, const bnet_req *req, void *ud)
{
    (void)req;
    editor_ws *w = calloc(1, sizeof *w);
    if (!w) {
        bnet_ws_close(ws, 1011, "out of memory");
        return;
    }
    app__ws_opened(ud, &w->base, ws, APP_WS_EDITOR);
}

static void attach(app_ctx *a, editor_ws *w, const char *data, size_t len)
{
    Comfyd__V1__AttachCanvasRequest *req = NULL;
    char err[1024];
    int rc = app_editor_parse_attach(data, len, &req, err, sizeof err);
    if (rc != APP_OK) {
        send_error(w, "error", NULL, "INVALID_ARGUMENT", err);
        app__ws_close(&w->base, 1008, err);
        return;
    }
    rc = app__stream_start(a, APP_M_ATTACH_CANVAS, &req->base, w, stream_msg, stream_end,
                           &w->stream);
    if (rc != RPCC_OK) {
        protobuf_c_message_free_unpacked(&req->base, NULL);
        LOG_W(MOD, "cannot start AttachCanvas: %s", rpcc_strerror(rc));
        send_error(w, "error", NULL, "UNAVAILABLE", rpcc_strerror(rc));
        app__ws_close(&w->base, rc == RPCC_EBUSY || rc == RPCC_ECLOSED ? 1013 : 1011,
                      rpcc_strerror(rc));
        return;
    }
    w->attaching = 1;
    w->canvas_id = text_dup(req->canvas_id);
    LOG_D(MOD, "editor %s attaching from %s", LOG_ESC(w->canvas_id), bnet_ws_peer(w->base.ws));
    protobuf_c_message_free_unpacked(&req->base, NULL);
}

static void ws_message(bnet_ws *ws, int binary, const void *data, size_t len, void *ud)
{
    app_ctx *a = ud;
    editor_ws *w = bnet_ws_data(ws);
    if (!w) return;
    a->m.ws_in[APP_WS_EDITOR]++;
    if (binary) {
        send_error(w, "error", NULL, "INVALID_ARGUMENT", "binary messages are not accepted");
        if (!w->attaching) bnet_ws_close(ws, 1003, "binary messages are not accepted");
        return;
    }
    if (!w->attaching) {
        attach(a, w, data, len);
        return;
    }
    Comfyd__V1__ReportEditorRequest *req = NULL;
    char err[1024];
    int rc = app_editor_parse_report(data, len, w->canvas_id, &req, err, sizeof err);
    if (rc != APP_OK) {
        send_error(w, "error", NULL, rc == APP_E_NOMEM ? "INTERNAL" : "INVALID_ARGUMENT", err);
        return;
    }
    enqueue(w, req);
    pump(w);
}

static void ws_close(bnet_ws *ws, uint16_t code, const char *reason, size_t rlen, void *ud)
{
    (void)reason, (void)rlen, (void)ud;
    editor_ws *w = bnet_ws_data(ws);
    if (!w) return;
    if (w->canvas_id) LOG_D(MOD, "editor %s closed (%u)", LOG_ESC(w->canvas_id), code);
    if (w->stream) app__stream_detach(w->stream); /* cancels: the core sees the tab gone */
    for (report *it = w->head, *next; it; it = next) {
        next = it->next;
        protobuf_c_message_free_unpacked(&it->req->base, NULL);
        free(it);
    }
    app__ws_closed(&w->base);
    free(w->canvas_id);
    free(w);
}

int app__editor_routes(app_ctx *a)
{
    bnet_ws_handlers h = {.on_upgrade = app__ws_upgrade,
                          .on_open = ws_open,
                          .on_message = ws_message,
                          .on_close = ws_close,
                          .on_drain = ws_drain};
    return bnet_route_ws(a->net, "/comfy/editor/ws", 0, &h, a) == BNET_OK ? 0 : -1;
}
