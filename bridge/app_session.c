/* app_session: WS /comfy/session/ws, the agent panel's socket (seed 000).
 * Client events become SessionService/SkillService calls answered on the
 * socket; "join" subscribes the socket to one session (a room) with manual
 * flow control, and every event of the session is forwarded in the seed's
 * shape {"event": kind, "seq": N, "data": {...}}. */
#include <stdlib.h>
#include <string.h>

#include "app_int.h"
#include "comfyd/v1/skill.pb-c.h"
#include "log.h"
#include "text.h"

#define MOD "comfyd-bridge"

/* How a renamed key's value is written. */
enum { W_AS_IS = 0, W_NAMES = 1 /* array -> {"names": array} */, W_ARRAY = 2 /* x -> [x] */ };

typedef struct key_rename {
    const char *from, *to;
    int wrap;
} key_rename;

static const key_rename r_join[] = {{"last_seq", "after_seq", W_AS_IS}};
static const key_rename r_configure[] = {{"active_skills", "active_skills", W_NAMES},
                                         {"skills", "active_skills", W_NAMES}};
static const key_rename r_skill[] = {{"prompt", "content", W_AS_IS},
                                     {"skill_id", "skills", W_ARRAY}};

static const struct {
    const char *event;
    app_method method;
    const ProtobufCMessageDescriptor *req;
    const char *answer;
    const key_rename *renames;
    size_t n_renames;
} kinds[APP_SESS__COUNT] = {
    [APP_SESS_CREATE] = {"create", APP_M_CREATE_SESSION,
                         &comfyd__v1__create_session_request__descriptor, "created", NULL, 0},
    [APP_SESS_LIST] = {"list", APP_M_LIST_SESSIONS, &comfyd__v1__list_sessions_request__descriptor,
                       "sessions", NULL, 0},
    [APP_SESS_LIST_SKILLS] = {"list_skills", APP_M_LIST_SKILLS,
                              &comfyd__v1__list_skills_request__descriptor, "skills", NULL, 0},
    [APP_SESS_JOIN] = {"join", APP_M_SUBSCRIBE, &comfyd__v1__subscribe_request__descriptor, NULL,
                       r_join, 1},
    [APP_SESS_CONFIGURE] = {"configure", APP_M_CONFIGURE_SESSION,
                            &comfyd__v1__configure_session_request__descriptor, "configured",
                            r_configure, 2},
    [APP_SESS_UPDATE_SKILLS] = {"update_skills", APP_M_CONFIGURE_SESSION,
                                &comfyd__v1__configure_session_request__descriptor, "configured",
                                r_configure, 2},
    [APP_SESS_USER_MESSAGE] = {"user_message", APP_M_SEND_MESSAGE,
                               &comfyd__v1__send_message_request__descriptor, "ack", NULL, 0},
    [APP_SESS_SKILL_EXECUTE] = {"skill_execute", APP_M_SEND_MESSAGE,
                                &comfyd__v1__send_message_request__descriptor, "ack", r_skill, 2},
    [APP_SESS_CANCEL] = {"cancel", APP_M_CANCEL, &comfyd__v1__cancel_request__descriptor,
                         "cancelled", NULL, 0},
    [APP_SESS_COMPACT] = {"compact", APP_M_COMPACT_SESSION,
                          &comfyd__v1__compact_session_request__descriptor, "compacted", NULL, 0},
    [APP_SESS_SEARCH] = {"search", APP_M_SEARCH_SESSIONS,
                         &comfyd__v1__search_sessions_request__descriptor, "search_results", NULL,
                         0},
    [APP_SESS_FORK] = {"fork", APP_M_FORK_SESSION, &comfyd__v1__fork_session_request__descriptor,
                       "forked", NULL, 0},
    [APP_SESS_REVERT] = {"revert", APP_M_REVERT_SESSION,
                         &comfyd__v1__revert_session_request__descriptor, "revert_result", NULL, 0},
    [APP_SESS_UNREVERT] = {"unrevert", APP_M_UNREVERT_SESSION,
                           &comfyd__v1__unrevert_session_request__descriptor, "unrevert_result",
                           NULL, 0},
};

/* The seed's other spellings of the same events. */
static const struct {
    const char *event;
    app_sess_kind kind;
} aliases[] = {
    {"connect", APP_SESS_JOIN},              /* seed 000's event table */
    {"config_update", APP_SESS_CONFIGURE},   /* its Vue watcher */
    {"chat_message", APP_SESS_USER_MESSAGE}, /* its room example */
};

const char *app_session_method(app_sess_kind kind)
{
    return (unsigned)kind < APP_SESS__COUNT ? app_method_name(kinds[kind].method) : "unknown";
}

const char *app_session_answer_event(app_sess_kind kind)
{
    return (unsigned)kind < APP_SESS__COUNT ? kinds[kind].answer : NULL;
}

void app_session_req_clear(app_session_req *r)
{
    if (r->msg) protobuf_c_message_free_unpacked(r->msg, NULL);
    free(r->request_id);
    memset(r, 0, sizeof *r);
}

static int fail(char *err, size_t errlen, int rc, const char *msg)
{
    if (err && errlen) snprintf(err, errlen, "%s", msg);
    return rc;
}

static const key_rename *find_rename(app_sess_kind k, const char *key)
{
    for (size_t i = 0; i < kinds[k].n_renames; i++)
        if (!strcmp(kinds[k].renames[i].from, key)) return &kinds[k].renames[i];
    return NULL;
}

static int emit_renamed(yajl_gen g, const key_rename *rn, yajl_val v)
{
    if (app__gen_cstr(g, rn->to)) return -1;
    if (rn->wrap == W_NAMES && YAJL_IS_ARRAY(v))
        return yajl_gen_map_open(g) != yajl_gen_status_ok || app__gen_cstr(g, "names") ||
                       app__json_emit(g, v) || yajl_gen_map_close(g) != yajl_gen_status_ok
                   ? -1
                   : 0;
    if (rn->wrap == W_ARRAY && !YAJL_IS_ARRAY(v))
        return yajl_gen_array_open(g) != yajl_gen_status_ok || app__json_emit(g, v) ||
                       yajl_gen_array_close(g) != yajl_gen_status_ok
                   ? -1
                   : 0;
    return app__json_emit(g, v);
}

/* data (an object, or NULL for {}) -> the request of kind, keys renamed. */
static int decode_data(app_sess_kind k, yajl_val data, ProtobufCMessage **out, char *err,
                       size_t errlen)
{
    yajl_gen g = app__gen();
    if (!g) return fail(err, errlen, APP_E_NOMEM, "out of memory");
    int bad = yajl_gen_map_open(g) != yajl_gen_status_ok;
    /* ListSkills takes nothing; a panel may still send data. */
    size_t n = data && k != APP_SESS_LIST_SKILLS ? data->u.object.len : 0;
    for (size_t i = 0; !bad && i < n; i++) {
        const char *key = data->u.object.keys[i];
        yajl_val v = data->u.object.values[i];
        const key_rename *rn = find_rename(k, key);
        if (rn && YAJL_IS_NULL(v)) continue;
        bad = rn ? emit_renamed(g, rn, v) : app__gen_cstr(g, key) || app__json_emit(g, v);
    }
    if (!bad) bad = yajl_gen_map_close(g) != yajl_gen_status_ok;
    if (bad) {
        yajl_gen_free(g);
        return fail(err, errlen, APP_E_NOMEM, "cannot re-encode the request");
    }
    /* Seed 000 sends extras (client_version, attachments): ignore them. */
    return app__decode_gen(g, kinds[k].req, 1, out, err, errlen);
}

/* The request's session_id field (NULL for requests without one). */
static char **session_id_field(ProtobufCMessage *m)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "session_id");
    if (!f || f->type != PROTOBUF_C_TYPE_STRING || f->label == PROTOBUF_C_LABEL_REPEATED)
        return NULL;
    return (char **)((char *)m + f->offset);
}

/* 8-4-4-4-12 hex digits, any case. */
static int uuid_shaped(const char *s)
{
    if (strlen(s) != APP_SESSION_ID_MAX) return 0;
    for (int i = 0; i < APP_SESSION_ID_MAX; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return 0;
        }
    }
    return 1;
}

/* Lower-cases a UUID session id; join needs one, since an unknown id
 * creates that session. */
static int check_session_id(app_session_req *r, char err[], size_t errlen)
{
    char **id = session_id_field(r->msg);
    if (!id) return APP_OK;
    const char *v = *id ? *id : "";
    if (uuid_shaped(v)) {
        for (char *p = *id; *p; p++)
            if (*p >= 'A' && *p <= 'F') *p = (char)(*p - 'A' + 'a');
        return APP_OK;
    }
    if (r->kind != APP_SESS_JOIN) return APP_OK; /* the core names a bad one */
    if (!v[0]) return fail(err, errlen, APP_E_INPUT, "data: missing field: session_id");
    char shown[65];
    size_t n = text_utf8_cut(v, strlen(v), 64);
    memcpy(shown, v, n);
    shown[n] = 0;
    if (err && errlen)
        snprintf(err, errlen,
                 "session_id: '%s'%s is not a session id: use a UUID (36 characters, 8-4-4-4-12 "
                 "hex digits, e.g. 0f8b8c52-7d1e-4c3a-9b2f-5e6d7c8b9a01); a new one creates "
                 "that session",
                 shown, n < strlen(v) ? "..." : "");
    return APP_E_INPUT;
}

int app_session_parse(const char *json, size_t len, app_session_req *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    yajl_val v = NULL;
    int rc = app__json_parse(json, len, &v, err, errlen);
    if (rc) return rc;
    if (!YAJL_IS_OBJECT(v)) {
        rc = fail(err, errlen, APP_E_INPUT, "expected a JSON object");
        goto out;
    }
    yajl_val rid = app__json_get(v, "request_id");
    if (rid && !YAJL_IS_NULL(rid)) {
        if (!YAJL_IS_STRING(rid) && !YAJL_IS_NUMBER(rid)) {
            rc = fail(err, errlen, APP_E_INPUT, "request_id: expected a string or a number");
            goto out;
        }
        yajl_gen g = app__gen();
        size_t n = 0;
        if (!g || app__json_emit(g, rid)) {
            if (g) yajl_gen_free(g);
            rc = fail(err, errlen, APP_E_NOMEM, "out of memory");
            goto out;
        }
        if (app__gen_finish(g, &out->request_id, &n)) {
            rc = fail(err, errlen, APP_E_NOMEM, "out of memory");
            goto out;
        }
        if (n > APP_MAX_REQUEST_ID) {
            free(out->request_id);
            out->request_id = NULL;
            rc = fail(err, errlen, APP_E_INPUT, "request_id: too long");
            goto out;
        }
    }
    yajl_val ev = app__json_get(v, "event");
    if (!ev) {
        rc = fail(err, errlen, APP_E_INPUT, "missing field: event");
        goto out;
    }
    if (!YAJL_IS_STRING(ev)) {
        rc = fail(err, errlen, APP_E_INPUT, "event: expected a string");
        goto out;
    }
    int k = 0;
    while (k < APP_SESS__COUNT && strcmp(kinds[k].event, ev->u.string))
        k++;
    for (size_t i = 0; k == APP_SESS__COUNT && i < sizeof aliases / sizeof *aliases; i++)
        if (!strcmp(aliases[i].event, ev->u.string)) {
            k = (int)aliases[i].kind;
            out->token_events = k == APP_SESS_JOIN;
        }
    if (k == APP_SESS__COUNT) {
        if (err && errlen) {
            char shown[65];
            size_t sl = text_utf8_cut(ev->u.string, strlen(ev->u.string), 64);
            memcpy(shown, ev->u.string, sl);
            shown[sl] = 0;
            size_t n =
                (size_t)snprintf(err, errlen, "event: unknown event '%s'; expected one of ", shown);
            for (int i = 0; i < APP_SESS__COUNT && n < errlen; i++)
                n += (size_t)snprintf(err + n, errlen - n, "%s, ", kinds[i].event);
            for (size_t i = 0; i < sizeof aliases / sizeof *aliases && n < errlen; i++)
                n += (size_t)snprintf(err + n, errlen - n, "%s%s", aliases[i].event,
                                      i + 1 < sizeof aliases / sizeof *aliases ? ", " : "");
        }
        rc = APP_E_INPUT;
        goto out;
    }
    out->kind = (app_sess_kind)k;
    yajl_val data = app__json_get(v, "data");
    if (data && YAJL_IS_NULL(data)) data = NULL;
    if (data && !YAJL_IS_OBJECT(data)) {
        rc = fail(err, errlen, APP_E_INPUT, "data: expected an object");
        goto out;
    }
    if (k == APP_SESS_UPDATE_SKILLS && !app__json_get(data, "skills") &&
        !app__json_get(data, "active_skills")) {
        rc = fail(err, errlen, APP_E_INPUT, "data: missing field: skills");
        goto out;
    }
    rc = decode_data(out->kind, data, &out->msg, err, errlen);
    if (rc == APP_OK) rc = check_session_id(out, err, errlen);
    if (rc == APP_OK && k == APP_SESS_UPDATE_SKILLS) {
        /* Only the skills change, whatever else was sent. */
        Comfyd__V1__ConfigureSessionRequest *c = (Comfyd__V1__ConfigureSessionRequest *)out->msg;
        Comfyd__V1__ConfigureSessionRequest keep = COMFYD__V1__CONFIGURE_SESSION_REQUEST__INIT;
        keep.session_id = c->session_id;
        keep.active_skills = c->active_skills;
        c->session_id = (char *)protobuf_c_empty_string;
        c->active_skills = NULL;
        protobuf_c_message_free_unpacked(out->msg, NULL);
        Comfyd__V1__ConfigureSessionRequest *n = malloc(sizeof *n);
        if (!n) {
            out->msg = NULL;
            if (keep.session_id != protobuf_c_empty_string) free(keep.session_id);
            if (keep.active_skills)
                protobuf_c_message_free_unpacked(&keep.active_skills->base, NULL);
            rc = fail(err, errlen, APP_E_NOMEM, "out of memory");
            goto out;
        }
        *n = keep;
        out->msg = &n->base;
    }
out:
    yajl_tree_free(v);
    return rc;
}

/* ---- answers and events ---- */

static int head(yajl_gen g, const char *event, const char *request_id)
{
    if (yajl_gen_map_open(g) != yajl_gen_status_ok || app__gen_cstr(g, "event") ||
        app__gen_cstr(g, event))
        return -1;
    if (request_id && (app__gen_cstr(g, "request_id") || app__gen_raw_value(g, request_id)))
        return -1;
    return 0;
}

static int gen_u64(yajl_gen g, uint64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%llu", (unsigned long long)v);
    return yajl_gen_number(g, num, (size_t)n) == yajl_gen_status_ok ? 0 : -1;
}

static int gen_i64(yajl_gen g, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%lld", (long long)v);
    return yajl_gen_number(g, num, (size_t)n) == yajl_gen_status_ok ? 0 : -1;
}

int app_session_answer_json(const char *event, const char *request_id, const ProtobufCMessage *resp,
                            char **out, size_t *len)
{
    yajl_gen g = app__gen();
    if (!g) return APP_E_NOMEM;
    int bad = head(g, event, request_id) || app__gen_cstr(g, "data") ||
              app__encode(g, resp, app__style_session, 0) ||
              yajl_gen_map_close(g) != yajl_gen_status_ok;
    if (bad) {
        yajl_gen_free(g);
        return APP_E_NOMEM;
    }
    return app__gen_finish(g, out, len);
}

int app_session_error_json(const char *request_id, const char *code, const char *message,
                           char **out, size_t *len)
{
    yajl_gen g = app__gen();
    if (!g) return APP_E_NOMEM;
    int bad = head(g, "error", request_id) || app__gen_cstr(g, "data") ||
              yajl_gen_map_open(g) != yajl_gen_status_ok || app__gen_cstr(g, "code") ||
              app__gen_str(g, code) || app__gen_cstr(g, "message") || app__gen_str(g, message) ||
              yajl_gen_map_close(g) != yajl_gen_status_ok ||
              yajl_gen_map_close(g) != yajl_gen_status_ok;
    if (bad) {
        yajl_gen_free(g);
        return APP_E_NOMEM;
    }
    return app__gen_finish(g, out, len);
}

/* "idle" for SESSION_STATUS_IDLE. */
static int gen_status(yajl_gen g, Comfyd__V1__SessionStatus st)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&comfyd__v1__session_status__descriptor, (int)st);
    const char *pfx = "SESSION_STATUS_";
    char buf[32];
    snprintf(buf, sizeof buf, "%s", v ? v->name + strlen(pfx) : "unspecified");
    for (char *p = buf; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    return app__gen_cstr(g, buf);
}

int app_session_event_json(const Comfyd__V1__SessionEvent *ev, char **out, size_t *len)
{
    return app_session_event_json_as(ev, 0, out, len);
}

int app_session_event_json_as(const Comfyd__V1__SessionEvent *ev, int token_events, char **out,
                              size_t *len)
{
    const ProtobufCFieldDescriptor *f =
        ev->kind_case
            ? protobuf_c_message_descriptor_get_field(ev->base.descriptor, (unsigned)ev->kind_case)
            : NULL;
    const ProtobufCMessage *member =
        f ? *(const ProtobufCMessage *const *)((const char *)ev + f->offset) : NULL;
    yajl_gen g = app__gen();
    if (!g) return APP_E_NOMEM;
    int token = token_events && ev->kind_case == COMFYD__V1__SESSION_EVENT__KIND_STREAM_DELTA &&
                ev->stream_delta;
    int bad = head(g,
                   token ? "stream_token"
                   : f   ? f->name
                         : "unknown",
                   NULL) ||
              app__gen_cstr(g, "seq") || gen_u64(g, ev->seq) || app__gen_cstr(g, "time_ms") ||
              gen_i64(g, ev->time_ms) || app__gen_cstr(g, "data") ||
              yajl_gen_map_open(g) != yajl_gen_status_ok || app__gen_cstr(g, "session_id") ||
              app__gen_str(g, ev->session_id);
    if (!bad && member) bad = app__encode(g, member, app__style_session, 1);
    if (!bad && token) bad = app__gen_cstr(g, "token") || app__gen_str(g, ev->stream_delta->delta);
    if (!bad && ev->kind_case == COMFYD__V1__SESSION_EVENT__KIND_SYNC_STATE && ev->sync_state &&
        ev->sync_state->session)
        bad = app__gen_cstr(g, "status") || gen_status(g, ev->sync_state->session->status);
    if (!bad)
        bad = yajl_gen_map_close(g) != yajl_gen_status_ok ||
              yajl_gen_map_close(g) != yajl_gen_status_ok;
    if (bad) {
        yajl_gen_free(g);
        return APP_E_NOMEM;
    }
    return app__gen_finish(g, out, len);
}

/* ---- the WebSocket ---- */

typedef struct session_ws {
    app_ws base;
    unsigned inflight; /* unary requests */
    app_stream *room;  /* the joined session's event stream */
    char *room_id;
    char *join_rid;    /* request_id of the join, for its failure */
    uint64_t last_seq; /* seq of the last event queued on the socket */
    int resumed;       /* the room's stream is the bridge's resubscription */
    int fresh_tried;   /* a resubscription from seq 0 was made without progress */
    int resume_due;    /* a resubscription waits for the socket to drain */
    int create_tried;  /* the room's session was unknown: CreateSession was asked */
    int token_events;  /* joined by "connect": deltas go out as stream_token */
    unsigned join_gen; /* counts joins, so a late CreateSession answer is dropped */
    /* The joined session's first event came: it exists and this socket is
     * subscribed. Until then, when that first event is sure to come (a
     * fresh join is answered by sync_state; a join that creates the session
     * too), requests for it wait in held, in order: the seed's client sends
     * skill_execute right after connect, and a session the join is still
     * creating would answer NOT_FOUND (or, just created, stream its reply
     * before the subscription is in place). A join with a last_seq may get
     * no event until something happens, so nothing waits for it. */
    int room_known;
    int hold;
    app_session_req held[APP_WS_MAX_INFLIGHT];
    size_t n_held;
    app_stream *runs; /* RunService.WatchRun of every run: run_update events */
} session_ws;

static void release_held(session_ws *w);

static void send_error(session_ws *w, const char *rid, const char *code, const char *message)
{
    char *json = NULL;
    size_t len = 0;
    if (app_session_error_json(rid, code, message, &json, &len) == APP_OK)
        app__ws_send(&w->base, json, len);
}

static void drop_stream(session_ws *w)
{
    if (w->room) app__stream_detach(w->room);
    w->room = NULL;
    w->resume_due = 0;
}

static void runs_stop(session_ws *w)
{
    if (w->runs) app__stream_detach(w->runs);
    w->runs = NULL;
}

static void leave(session_ws *w)
{
    release_held(w); /* they go to the core as sent */
    drop_stream(w);
    runs_stop(w);
    free(w->room_id);
    free(w->join_rid);
    w->room_id = w->join_rid = NULL;
    w->last_seq = 0;
    w->resumed = w->fresh_tried = w->create_tried = w->room_known = w->hold = 0;
    w->join_gen++;
}

static void call_done(app_call *c)
{
    bnet_ws *ws = bnet_ws_find(c->a->net, c->ws_id);
    if (!ws) return;
    session_ws *w = bnet_ws_data(ws);
    if (w->inflight) w->inflight--;
    if (c->code != GRPC_STATUS_OK) {
        const char *code;
        char msg[RPCC_MAX_DETAILS_BYTES + 64];
        app__call_outcome(c, &code, msg, sizeof msg);
        send_error(w, c->rid, code, msg);
        return;
    }
    char *json = NULL;
    size_t len = 0;
    if (app_session_answer_json(kinds[c->tag].answer, c->rid, c->resp, &json, &len) != APP_OK) {
        send_error(w, c->rid, "INTERNAL", "the core's answer cannot be encoded");
        return;
    }
    app__ws_send(&w->base, json, len);
}

static void room_msg(void *owner, app_stream *s, ProtobufCMessage *m)
{
    session_ws *w = owner;
    const Comfyd__V1__SubscribeResponse *r = (const Comfyd__V1__SubscribeResponse *)m;
    char *json = NULL;
    size_t len = 0;
    uint64_t seq = r->event ? r->event->seq : 0;
    if (!w->room_known) {
        w->room_known = 1;
        release_held(w);
    }
    int rc =
        r->event ? app_session_event_json_as(r->event, w->token_events, &json, &len) : APP_E_INPUT;
    protobuf_c_message_free_unpacked(m, NULL);
    if (rc != APP_OK) {
        /* An empty or unencodable event: skip it. */
        app__stream_paced_credit(s, w->base.ws);
        return;
    }
    /* The next message is asked for only while the socket's queue is below
     * the high mark (else on drain): a panel that reads slowly slows its
     * stream down instead of filling the bridge. A send that fails means
     * the socket is closing. */
    if (app__ws_send(&w->base, json, len) != BNET_OK) return;
    if (seq > w->last_seq) w->last_seq = seq;
    app__stream_paced_credit(s, w->base.ws);
}

static void room_end(void *owner, app_stream *s, grpc_status_code code, const char *details);

/* Subscribes the room again after the core dropped this socket as too
 * slow: from the last seq queued on it, so the panel sees no gap (the core
 * replays what it missed, or sends a sync_state when it no longer holds
 * those events). Waits until the socket's queue is below the high mark. */
static void resume(session_ws *w)
{
    app_ctx *a = w->base.a;
    if (!w->base.ws || a->draining || !w->room_id) return;
    if (bnet_ws_queued(w->base.ws) >= BNET_WS_HIGH_WATER) {
        w->resume_due = 1; /* on_drain follows */
        return;
    }
    w->resume_due = 0;
    Comfyd__V1__SubscribeRequest q = COMFYD__V1__SUBSCRIBE_REQUEST__INIT;
    q.session_id = w->room_id;
    q.after_seq = w->last_seq;
    LOG_I(MOD, "session %s: socket %llu fell behind the core's queue; resubscribing after seq %llu",
          LOG_ESC(w->room_id), (unsigned long long)bnet_ws_id(w->base.ws),
          (unsigned long long)w->last_seq);
    int rc = app__stream_start(a, APP_M_SUBSCRIBE, &q.base, w, room_msg, room_end, &w->room);
    if (rc != RPCC_OK) {
        char msg[256];
        snprintf(msg, sizeof msg, "cannot resubscribe: %s; join again with last_seq %llu",
                 rpcc_strerror(rc), (unsigned long long)w->last_seq);
        send_error(w, w->join_rid, "UNAVAILABLE", msg);
        leave(w);
        app__ws_close(&w->base, 1013, "session stream ended: join again with the last seq");
        return;
    }
    w->resumed = 1;
}

static void create_room(session_ws *w);

static void room_end(void *owner, app_stream *s, grpc_status_code code, const char *details)
{
    session_ws *w = owner;
    uint64_t delivered = app__stream_delivered(s);
    drop_stream(w);
    if (code == GRPC_STATUS_NOT_FOUND && !delivered && !w->resumed && !w->create_tried &&
        w->base.ws && !w->base.a->draining && w->room_id) {
        /* Seed 000's handshake: the client made the id up; the join
         * creates that session, then follows it from its sync_state. */
        w->create_tried = w->hold = 1;
        create_room(w);
        return;
    }
    if (code == GRPC_STATUS_RESOURCE_EXHAUSTED && w->base.ws && !w->base.a->draining) {
        /* The core's queue for this subscriber filled (the socket fell too
         * far behind) or a replay was too long for it. */
        if (delivered) {
            w->fresh_tried = 0;
            resume(w);
            return;
        }
        if (w->resumed && !w->fresh_tried) {
            /* Too many missed events to replay at once: start from a
             * sync_state snapshot, which replaces the panel's state. */
            LOG_I(MOD, "session %s: replay refused (%s); resubscribing from a snapshot",
                  LOG_ESC(w->room_id), LOG_ESC(details ? details : ""));
            w->fresh_tried = 1;
            w->last_seq = 0;
            resume(w);
            return;
        }
    }
    char msg[RPCC_MAX_DETAILS_BYTES + 128];
    snprintf(msg, sizeof msg, "%s%s", code == GRPC_STATUS_UNAVAILABLE ? "core unavailable: " : "",
             details && details[0] ? details : "the session's event stream ended");
    LOG_D(MOD, "session %s: stream ended (%s: %s)", LOG_ESC(w->room_id), app_grpc_code_name(code),
          LOG_ESC(msg));
    int live = delivered || w->resumed;
    uint64_t last = w->last_seq;
    if (code == GRPC_STATUS_RESOURCE_EXHAUSTED && live) {
        size_t n = strlen(msg);
        snprintf(msg + n, sizeof msg - n, "; join again with last_seq %llu",
                 (unsigned long long)last);
    }
    send_error(w, w->join_rid, app_grpc_code_name(code), msg);
    leave(w);
    /* The core went away (or dropped a slow subscriber twice without
     * progress) after the room was live: close so the client reconnects and
     * joins with its last seq. */
    if (code == GRPC_STATUS_RESOURCE_EXHAUSTED && live)
        app__ws_close(&w->base, 1013, "session stream ended: join again with the last seq");
    else if (live && (code == GRPC_STATUS_UNAVAILABLE || code == GRPC_STATUS_OK ||
                      code == GRPC_STATUS_CANCELLED))
        app__ws_close(&w->base, 1012, "session stream ended: join again with the last seq");
}

static void room_created(app_call *c)
{
    bnet_ws *ws = bnet_ws_find(c->a->net, c->ws_id);
    if (!ws) return;
    session_ws *w = bnet_ws_data(ws);
    if (!w || (unsigned)c->tag != w->join_gen || !w->room_id || w->room) return; /* joined again */
    if (c->code != GRPC_STATUS_OK && c->code != GRPC_STATUS_ALREADY_EXISTS) {
        /* ALREADY_EXISTS: another socket created it first; join it. */
        const char *code;
        char msg[RPCC_MAX_DETAILS_BYTES + 64];
        app__call_outcome(c, &code, msg, sizeof msg);
        send_error(w, w->join_rid, code, msg);
        leave(w);
        return;
    }
    if (c->code == GRPC_STATUS_OK)
        LOG_I(MOD, "session %s created by a join on socket %llu", w->room_id,
              (unsigned long long)bnet_ws_id(ws));
    Comfyd__V1__SubscribeRequest q = COMFYD__V1__SUBSCRIBE_REQUEST__INIT;
    q.session_id = w->room_id;
    w->last_seq = 0;
    int rc = app__stream_start(c->a, APP_M_SUBSCRIBE, &q.base, w, room_msg, room_end, &w->room);
    if (rc != RPCC_OK) {
        send_error(w, w->join_rid, "UNAVAILABLE", rpcc_strerror(rc));
        leave(w);
    }
}

/* CreateSession with the joined id; room_created joins it. */
static void create_room(session_ws *w)
{
    Comfyd__V1__CreateSessionRequest q = COMFYD__V1__CREATE_SESSION_REQUEST__INIT;
    q.session_id = w->room_id;
    app_call *c = app__call_new(w->base.a, APP_M_CREATE_SESSION, room_created);
    c->ws_id = bnet_ws_id(w->base.ws);
    c->tag = (int)w->join_gen;
    app__call_start(c, &q.base, APP_UNARY_TIMEOUT_MS);
}

/* run_update: {"event": "run_update", "data": {"session_id": ..., "run":
 * Run}} for the runs the joined session's agent queued (enums short and
 * lower-case, as the other session events). */
static void runs_msg(void *owner, app_stream *s, ProtobufCMessage *m)
{
    session_ws *w = owner;
    const Comfyd__V1__WatchRunResponse *r = (const Comfyd__V1__WatchRunResponse *)m;
    if (!r->run || !w->room_id || strcmp(r->run->session_id, w->room_id)) {
        protobuf_c_message_free_unpacked(m, NULL);
        app__stream_paced_credit(s, w->base.ws);
        return;
    }
    yajl_gen g = app__gen();
    char *json = NULL;
    size_t len = 0;
    int bad = !g || yajl_gen_map_open(g) != yajl_gen_status_ok || app__gen_cstr(g, "event") ||
              app__gen_str(g, "run_update") || app__gen_cstr(g, "data") ||
              yajl_gen_map_open(g) != yajl_gen_status_ok || app__gen_cstr(g, "session_id") ||
              app__gen_str(g, w->room_id) || app__gen_cstr(g, "run") ||
              app__encode(g, &r->run->base, app__style_session, 0) ||
              yajl_gen_map_close(g) != yajl_gen_status_ok ||
              yajl_gen_map_close(g) != yajl_gen_status_ok;
    protobuf_c_message_free_unpacked(m, NULL);
    if (bad) {
        if (g) yajl_gen_free(g);
        app__stream_paced_credit(s, w->base.ws);
        return;
    }
    if (app__gen_finish(g, &json, &len) != APP_OK) return;
    if (app__ws_send(&w->base, json, len) != BNET_OK) return;
    app__stream_paced_credit(s, w->base.ws);
}

/* Without --comfyui (FAILED_PRECONDITION) or when the core goes away there
 * are no run updates; the next join asks again. */
static void runs_end(void *owner, app_stream *s, grpc_status_code code, const char *details)
{
    (void)s, (void)details;
    session_ws *w = owner;
    if (code != GRPC_STATUS_FAILED_PRECONDITION)
        LOG_D(MOD, "run updates ended: %s", app_grpc_code_name(code));
    runs_stop(w);
}

static void join(app_ctx *a, session_ws *w, app_session_req *r)
{
    const Comfyd__V1__SubscribeRequest *q = (const Comfyd__V1__SubscribeRequest *)r->msg;
    leave(w); /* one room per socket: a new join switches */
    int rc = app__stream_start(a, APP_M_SUBSCRIBE, r->msg, w, room_msg, room_end, &w->room);
    if (rc != RPCC_OK) {
        send_error(w, r->request_id, "UNAVAILABLE", rpcc_strerror(rc));
        return;
    }
    w->room_id = text_dup(q->session_id);
    w->last_seq = q->after_seq;
    w->hold = q->after_seq == 0;
    w->token_events = r->token_events;
    w->join_rid = r->request_id;
    r->request_id = NULL;
    Comfyd__V1__WatchRunRequest wr = COMFYD__V1__WATCH_RUN_REQUEST__INIT;
    if (app__stream_start(a, APP_M_WATCH_RUN, &wr.base, w, runs_msg, runs_end, &w->runs) != RPCC_OK)
        w->runs = NULL;
}

/* Requests about one session name it, or mean the joined one (seed 000's
 * skill_execute sends none). 0, or -1 after answering an error. */
static int default_session(session_ws *w, app_session_req *r)
{
    /* A search without session_id searches every session. */
    if (r->kind == APP_SESS_CREATE || r->kind == APP_SESS_JOIN || r->kind == APP_SESS_SEARCH)
        return 0;
    char **id = session_id_field(r->msg);
    if (!id || (*id && **id)) return 0;
    if (!w->room_id) {
        send_error(w, r->request_id, "INVALID_ARGUMENT",
                   "session_id: missing; name the session or join it first");
        return -1;
    }
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(r->msg->descriptor, "session_id");
    if (*id && *id != (char *)f->default_value) free(*id);
    *id = text_dup(w->room_id);
    return 0;
}

/* The socket's queue fell below the low mark: the stream may go on. */
static void ws_drain(bnet_ws *ws, void *ud)
{
    (void)ud;
    session_ws *w = bnet_ws_data(ws);
    if (!w) return;
    if (w->room) app__stream_resume(w->room);
    if (w->runs) app__stream_resume(w->runs);
    if (w->resume_due) resume(w);
}

static void ws_open(bnet_ws *ws, const bnet_req *req, void *ud)
{
    (void)req;
    session_ws *w = calloc(1, sizeof *w);
    if (!w) {
        bnet_ws_close(ws, 1011, "out of memory");
        return;
    }
    app__ws_opened(ud, &w->base, ws, APP_WS_SESSION);
}

/* Starts the unary call of r (its request_id moves to the call). */
static void dispatch(session_ws *w, app_session_req *r)
{
    if (w->inflight >= APP_WS_MAX_INFLIGHT) {
        send_error(w, r->request_id, "RESOURCE_EXHAUSTED", "too many requests in flight");
        return;
    }
    w->inflight++;
    app_call *c = app__call_new(w->base.a, kinds[r->kind].method, call_done);
    c->ws_id = bnet_ws_id(w->base.ws);
    c->tag = (int)r->kind;
    c->rid = r->request_id;
    r->request_id = NULL;
    app__call_start(c, r->msg, APP_UNARY_TIMEOUT_MS);
}

static void release_held(session_ws *w)
{
    /* dispatch may finish a call at once; held is emptied first so that
     * nothing re-enters it. */
    size_t n = w->n_held;
    app_session_req held[APP_WS_MAX_INFLIGHT];
    memcpy(held, w->held, n * sizeof *held);
    w->n_held = 0;
    for (size_t i = 0; i < n; i++) {
        if (w->base.ws && !w->base.a->draining)
            dispatch(w, &held[i]);
        else
            send_error(w, held[i].request_id, "UNAVAILABLE", "shutting down");
        app_session_req_clear(&held[i]);
    }
}

/* r is about the joined session before it is known to exist. */
static int waits_for_room(session_ws *w, app_session_req *r)
{
    if (!w->room_id || !w->hold || w->room_known || r->kind == APP_SESS_CREATE) return 0;
    char **id = session_id_field(r->msg);
    return id && *id && !strcmp(*id, w->room_id);
}

static void ws_message(bnet_ws *ws, int binary, const void *data, size_t len, void *ud)
{
    app_ctx *a = ud;
    session_ws *w = bnet_ws_data(ws);
    if (!w) return;
    a->m.ws_in[APP_WS_SESSION]++;
    if (binary) {
        send_error(w, NULL, "INVALID_ARGUMENT", "binary messages are not accepted");
        return;
    }
    app_session_req r;
    char err[1024];
    int rc = app_session_parse(data, len, &r, err, sizeof err);
    if (rc != APP_OK) {
        send_error(w, r.request_id, rc == APP_E_NOMEM ? "INTERNAL" : "INVALID_ARGUMENT", err);
        app_session_req_clear(&r);
        return;
    }
    if (a->draining) {
        send_error(w, r.request_id, "UNAVAILABLE", "shutting down");
    } else if (default_session(w, &r)) {
        /* answered */
    } else if (r.kind == APP_SESS_JOIN) {
        join(a, w, &r);
    } else if (waits_for_room(w, &r)) {
        if (w->n_held + w->inflight >= APP_WS_MAX_INFLIGHT) {
            send_error(w, r.request_id, "RESOURCE_EXHAUSTED", "too many requests in flight");
        } else {
            w->held[w->n_held++] = r; /* moved */
            return;
        }
    } else {
        dispatch(w, &r);
    }
    app_session_req_clear(&r);
}

static void ws_close(bnet_ws *ws, uint16_t code, const char *reason, size_t rlen, void *ud)
{
    (void)code, (void)reason, (void)rlen, (void)ud;
    session_ws *w = bnet_ws_data(ws);
    if (!w) return;
    for (size_t i = 0; i < w->n_held; i++) /* nobody to answer */
        app_session_req_clear(&w->held[i]);
    w->n_held = 0;
    leave(w); /* cancels the room's stream */
    app__ws_closed(&w->base);
    free(w);
}

int app__session_routes(app_ctx *a)
{
    bnet_ws_handlers h = {.on_upgrade = app__ws_upgrade,
                          .on_open = ws_open,
                          .on_message = ws_message,
                          .on_close = ws_close,
                          .on_drain = ws_drain};
    return bnet_route_ws(a->net, "/comfy/session/ws", 0, &h, a) == BNET_OK ? 0 : -1;
}
