/* GraphService: the gRPC face of the canvas manager (canvas.h), and the
 * loader of --object-info.
 *
 * How errors reach a caller:
 * - Execute and ExecuteBatch answer graph-level errors inside an OK
 *   response: ok=false, every error in errors[] (ExecuteResponse: in
 *   result.error) and the per-command results[], so a caller sees every
 *   problem of a batch at once. That includes request-level ones such as
 *   NO_LIVE_CANVAS, AMBIGUOUS_CANVAS, CANVAS_NOT_FOUND, STALE_REVISION and
 *   EDITOR_TIMEOUT / EDITOR_GONE / EDITOR_FAILED (index -1).
 * - Queue, Load, Save, GetGraph, GetDiff, ListNodeTypes and ReportEditor
 *   have no error fields, so their graph errors are gRPC statuses whose
 *   message starts with the GraphErrorCode name ("NO_LIVE_CANVAS: ..."):
 *   FAILED_PRECONDITION for NO_LIVE_CANVAS, AMBIGUOUS_CANVAS,
 *   STALE_REVISION and IDEMPOTENCY_KEY_REUSED; NOT_FOUND for
 *   CANVAS_NOT_FOUND and WORKFLOW_NOT_FOUND; INVALID_ARGUMENT for
 *   INVALID_NAME; DEADLINE_EXCEEDED for EDITOR_TIMEOUT; UNAVAILABLE for
 *   EDITOR_GONE; ABORTED for EDITOR_FAILED.
 * - Everywhere: INVALID_ARGUMENT for a malformed request (an empty command,
 *   too many commands, strings too long or not UTF-8); RESOURCE_EXHAUSTED
 *   for a limit (canvases, a canvas's queue, idempotency keys in flight) or
 *   a response above 4 MiB; ALREADY_EXISTS when Save would overwrite
 *   without overwrite; UNAVAILABLE at shutdown (open AttachCanvas streams
 *   end with it too).
 *
 * Requests that wait for a tab keep a reference to their call and are
 * answered from whichever thread completes them; no handler thread ever
 * waits for a tab. The wait is capped by the caller's own gRPC deadline. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "comfyd_error.h"
#include "log.h"
#include "svc.h"
#include "text.h"

#define MOD "graph"

static grpc_status_code code_status(Comfyd__V1__GraphErrorCode code)
{
    switch (code) {
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_CANVAS_NOT_FOUND:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_WORKFLOW_NOT_FOUND:
        return GRPC_STATUS_NOT_FOUND;
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_NAME:
        return GRPC_STATUS_INVALID_ARGUMENT;
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_EDITOR_TIMEOUT:
        return GRPC_STATUS_DEADLINE_EXCEEDED;
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_EDITOR_GONE:
        return GRPC_STATUS_UNAVAILABLE;
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_EDITOR_FAILED:
        return GRPC_STATUS_ABORTED;
    default:
        return GRPC_STATUS_FAILED_PRECONDITION;
    }
}

static grpc_status_code canvas_status(int rc, Comfyd__V1__GraphErrorCode code)
{
    switch (rc) {
    case CANVAS_EINVAL:
        return GRPC_STATUS_INVALID_ARGUMENT;
    case CANVAS_EFULL:
    case CANVAS_ENOMEM:
        return GRPC_STATUS_RESOURCE_EXHAUSTED;
    case CANVAS_ESHUTDOWN:
        return GRPC_STATUS_UNAVAILABLE;
    case CANVAS_EGRAPH:
        return code_status(code);
    case CANVAS_EEXIST:
        return GRPC_STATUS_ALREADY_EXISTS;
    default:
        return GRPC_STATUS_INTERNAL;
    }
}

/* Fails call. A graph error travels as data in the trailing metadata
 * (CFD_MD_GRAPH_ERROR: the GraphErrorCode's name), which the bridge maps
 * to its answer; the message, for people, starts with the short name. */
static void fail(rpcs_call *call, int rc, Comfyd__V1__GraphErrorCode code, const char *msg)
{
    if (!msg || !*msg) msg = cfd_strerror(rc);
    if (rc != CANVAS_EGRAPH) {
        rpcs_call_finish(call, canvas_status(rc, code), msg);
        return;
    }
    char text[RPCS_MAX_STATUS_BYTES + 1];
    snprintf(text, sizeof text, "%s: %s", canvas_code_name(code), msg);
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&comfyd__v1__graph_error_code__descriptor, code);
    rpcs_call_finish_md(call, code_status(code), text, v ? CFD_MD_GRAPH_ERROR : NULL,
                        v ? v->name : NULL);
}

static void reply(rpcs_call *call, const ProtobufCMessage *m)
{
    if (rpcs_call_reply(call, m) == RPCS_EINVAL)
        rpcs_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED,
                         "the response would be larger than 4 MiB: ask for less");
}

/* The caller's deadline as a cap on waiting for a tab (0: none). */
static uint32_t limit_of(rpcs_call *call)
{
    int64_t left = rpcs_call_deadline_ms(call);
    if (left == INT64_MAX || left > CANVAS_MAX_TIMEOUT_MS) return 0;
    return left < 1 ? 1 : (uint32_t)left;
}

/* Completion of a request that waited: the call's reference is ours. */
static void on_result(void *ud, const canvas_result *r)
{
    rpcs_call *call = ud;
    if (r->err == CANVAS_OK)
        reply(call, r->resp);
    else
        fail(call, r->err, r->code, r->message);
    rpcs_call_unref(call);
}

/* After submitting a request that may wait: the reference taken for
 * on_result is dropped again when the request was refused. */
static void submitted(rpcs_call *call, int rc, const canvas_error *e)
{
    if (rc == CANVAS_OK) return;
    fail(call, rc, e->code, e->message);
    rpcs_call_unref(call);
}

/* Who a call is from (provenance.h): an MCP client the bridge names in
 * PROVN_MD_MCP_CLIENT, else a caller naming itself in PROVN_MD_CALLER, else
 * an unnamed gRPC caller. 0, or -1 with the call failed (INVALID_ARGUMENT:
 * a name too long or not printable ASCII). */
static int caller_of(rpcs_call *call, provn_actor *a)
{
    char name[PROVN_MAX_NAME + 2];
    Comfyd__V1__ActorKind kind = COMFYD__V1__ACTOR_KIND__ACTOR_KIND_MCP;
    const char *key = PROVN_MD_MCP_CLIENT;
    long n = rpcs_call_metadata(call, key, name, sizeof name);
    if (n < 0) {
        kind = COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC;
        key = PROVN_MD_CALLER;
        n = rpcs_call_metadata(call, key, name, sizeof name);
    }
    char e[160];
    if (n > PROVN_MAX_NAME ||
        provn_actor_make(a, kind, NULL, NULL, n < 0 ? NULL : name, e, sizeof e)) {
        rpcs_call_finishf(call, GRPC_STATUS_INVALID_ARGUMENT,
                          "metadata %s must be 1..%d printable ASCII characters", key,
                          PROVN_MAX_NAME);
        return -1;
    }
    return 0;
}

static void h_execute(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    if (svc_fwd_maybe(ctx, call, "Execute", msg)) return;
    canvas_error e = {0};
    provn_actor who;
    if (caller_of(call, &who)) return;
    rpcs_call_ref(call);
    int rc = canvas_execute_as(ctx->cm, (const Comfyd__V1__ExecuteRequest *)msg, &who,
                               limit_of(call), on_result, call, &e);
    submitted(call, rc, &e);
}

static void h_execute_batch(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    if (svc_fwd_maybe(ctx, call, "ExecuteBatch", msg)) return;
    canvas_error e = {0};
    provn_actor who;
    if (caller_of(call, &who)) return;
    rpcs_call_ref(call);
    int rc = canvas_execute_batch_as(ctx->cm, (const Comfyd__V1__ExecuteBatchRequest *)msg, &who,
                                     limit_of(call), on_result, call, &e);
    submitted(call, rc, &e);
}

static void h_queue(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    if (svc_fwd_maybe(ctx, call, "Queue", msg)) return;
    canvas_error e = {0};
    rpcs_call_ref(call);
    const Comfyd__V1__QueueRequest *req = (const Comfyd__V1__QueueRequest *)msg;
    /* With --comfyui the core posts the prompt and follows the run. */
    int rc = ctx->runs ? runs_queue(ctx->runs, req, limit_of(call), on_result, call, &e)
                       : canvas_queue(ctx->cm, req, limit_of(call), on_result, call, &e);
    submitted(call, rc, &e);
}

static void h_load(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    if (svc_fwd_maybe(ctx, call, "Load", msg)) return;
    canvas_error e = {0};
    provn_actor who;
    if (caller_of(call, &who)) return;
    rpcs_call_ref(call);
    int rc = canvas_load_as(ctx->cm, (const Comfyd__V1__LoadRequest *)msg, &who, limit_of(call),
                            on_result, call, &e);
    submitted(call, rc, &e);
}

/* Requests answered at once: rc, then the response to send and free. */
static void answer(rpcs_call *call, int rc, void *resp, const canvas_error *e)
{
    if (rc != CANVAS_OK) {
        fail(call, rc, e->code, e->message);
        return;
    }
    reply(call, resp);
    protobuf_c_message_free_unpacked(resp, NULL);
}

static void h_get_graph(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    if (svc_fwd_maybe(ctx, call, "GetGraph", msg)) return;
    canvas_error e = {0};
    Comfyd__V1__GetGraphResponse *r = NULL;
    int rc = canvas_get_graph(ctx->cm, (const Comfyd__V1__GetGraphRequest *)msg, &r, &e);
    answer(call, rc, r, &e);
}

static void h_get_diff(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    if (svc_fwd_maybe(ctx, call, "GetDiff", msg)) return;
    canvas_error e = {0};
    Comfyd__V1__GetDiffResponse *r = NULL;
    int rc = canvas_get_diff(ctx->cm, (const Comfyd__V1__GetDiffRequest *)msg, &r, &e);
    answer(call, rc, r, &e);
}

static void h_lease(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    canvas_error e = {0};
    provn_actor who;
    if (caller_of(call, &who)) return;
    Comfyd__V1__LeaseResponse *r = NULL;
    int rc = canvas_lease(ctx->cm, (const Comfyd__V1__LeaseRequest *)msg, &who, &r, &e);
    answer(call, rc, r, &e);
}

static void h_node_history(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    if (svc_fwd_maybe(ctx, call, "GetNodeHistory", msg)) return;
    canvas_error e = {0};
    Comfyd__V1__GetNodeHistoryResponse *r = NULL;
    int rc = canvas_node_history(ctx->cm, (const Comfyd__V1__GetNodeHistoryRequest *)msg, &r, &e);
    answer(call, rc, r, &e);
}

static void h_list_node_types(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    canvas_error e = {0};
    Comfyd__V1__ListNodeTypesResponse *r = NULL;
    int rc = canvas_list_node_types(ctx->cm, (const Comfyd__V1__ListNodeTypesRequest *)msg, &r, &e);
    answer(call, rc, r, &e);
}

static void h_list_canvases(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    (void)msg;
    svc_ctx *ctx = ud;
    canvas_error e = {0};
    Comfyd__V1__ListCanvasesResponse *r = NULL;
    int rc = canvas_list(ctx->cm, &r, &e);
    answer(call, rc, r, &e);
}

static void h_save(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    if (svc_fwd_maybe(ctx, call, "Save", msg)) return;
    canvas_error e = {0};
    Comfyd__V1__SaveResponse *r = NULL;
    int rc = canvas_save(ctx->cm, (const Comfyd__V1__SaveRequest *)msg, &r, &e);
    answer(call, rc, r, &e);
}

static void h_list_workflows(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    (void)msg;
    svc_ctx *ctx = ud;
    canvas_error e = {0};
    Comfyd__V1__ListWorkflowsResponse *r = NULL;
    int rc = canvas_list_workflows(ctx->cm, &r, &e);
    answer(call, rc, r, &e);
}

/* The tab's stream as canvas_tab_ops: the manager holds a call reference
 * from attach until release. */
static int tab_send(void *ud, const Comfyd__V1__AttachCanvasResponse *m)
{
    return rpcs_call_send(ud, &m->base) == RPCS_OK ? 0 : -1;
}

static void tab_end(void *ud, int code, const char *message)
{
    rpcs_call_finish(ud, (grpc_status_code)code, message);
}

static void tab_release(void *ud)
{
    rpcs_call_unref(ud);
}

static const canvas_tab_ops tab_ops = {tab_send, tab_end, tab_release};

/* Tells the manager when an attachment's stream ends (on a gRPC thread;
 * canvas_tab_gone does not block). */
typedef struct {
    canvas_mgr *cm;
    creg *reg;
    uint64_t tab_id;
    char canvas_id[CANVAS_MAX_ID + 1];
} tab_watch;

static void tab_done(rpcs_call *call, int cancelled, void *ud)
{
    (void)call;
    (void)cancelled;
    tab_watch *w = ud;
    canvas_tab_gone(w->cm, w->tab_id);
    creg_detached(w->reg, w->canvas_id);
    free(w);
}

static void h_attach(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    canvas_error e = {0};
    tab_watch *w = malloc(sizeof *w);
    if (!w) abort();
    w->cm = ctx->cm;
    w->reg = ctx->reg;
    const Comfyd__V1__AttachCanvasRequest *req = (const Comfyd__V1__AttachCanvasRequest *)msg;
    snprintf(w->canvas_id, sizeof w->canvas_id, "%s", req->canvas_id ? req->canvas_id : "");
    rpcs_call_ref(call);
    int rc = canvas_attach(ctx->cm, req, &tab_ops, call, &w->tab_id, &e);
    if (rc != CANVAS_OK) {
        rpcs_call_unref(call);
        free(w);
        fail(call, rc, e.code, e.message);
        return;
    }
    /* The other cores forward this canvas's commands here from now on. */
    creg_attached(ctx->reg, w->canvas_id);
    rpcs_call_on_done(call, tab_done, w);
}

static void h_report(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    canvas_error e = {0};
    uint64_t rev = 0;
    char *provn_json = NULL;
    const Comfyd__V1__ReportEditorRequest *req = (const Comfyd__V1__ReportEditorRequest *)msg;
    int rc = canvas_report_ex(ctx->cm, req, &rev, &provn_json, &e);
    if (rc != CANVAS_OK) {
        fail(call, rc, e.code, e.message);
        return;
    }
    creg_reported(ctx->reg, req->canvas_id, rev,
                  req->report_case == COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_FOCUS &&
                      req->focus && req->focus->focused);
    Comfyd__V1__ReportEditorResponse r = COMFYD__V1__REPORT_EDITOR_RESPONSE__INIT;
    r.revision = rev;
    if (provn_json) r.provenance_json = provn_json;
    reply(call, &r.base);
    free(provn_json);
}

size_t svc_graph_methods(svc_ctx *ctx, rpcs_method *out, size_t max)
{
    const ProtobufCServiceDescriptor *d = &comfyd__v1__graph_service__descriptor;
    /* Execute and ExecuteBatch validate and hand the patch to the tab's
     * stream (the answer comes with the tab's report), GetGraph reads the
     * mirror: none waits, so they run on the completion-queue thread. A
     * keyed request refused at once stores its outcome (one SQLite row)
     * there too; that is the exception, not the path of a command. */
    const rpcs_method m[] = {
        {d, "Execute", RPCS_UNARY_ON_CQ, h_execute, ctx},
        {d, "ExecuteBatch", RPCS_UNARY_ON_CQ, h_execute_batch, ctx},
        {d, "GetGraph", RPCS_UNARY_ON_CQ, h_get_graph, ctx},
        {d, "GetDiff", RPCS_UNARY, h_get_diff, ctx},
        {d, "ListNodeTypes", RPCS_UNARY, h_list_node_types, ctx},
        {d, "ListCanvases", RPCS_UNARY, h_list_canvases, ctx},
        {d, "Queue", RPCS_UNARY, h_queue, ctx},
        {d, "Save", RPCS_UNARY, h_save, ctx},
        {d, "Load", RPCS_UNARY, h_load, ctx},
        {d, "ListWorkflows", RPCS_UNARY, h_list_workflows, ctx},
        {d, "GetNodeHistory", RPCS_UNARY, h_node_history, ctx},
        {d, "Lease", RPCS_UNARY, h_lease, ctx},
        {d, "AttachCanvas", RPCS_SERVER_STREAM, h_attach, ctx},
        {d, "ReportEditor", RPCS_UNARY, h_report, ctx},
    };
    size_t n = sizeof m / sizeof m[0];
    if (n > max) n = max;
    memcpy(out, m, n * sizeof m[0]);
    return n;
}

/* ---- --object-info ---- */

struct svc_objinfo {
    canvas_mgr *cm;
    char *url;
    char *cache;
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_int stop;
    /* The document in use: to skip identical refreshes. */
    size_t last_len;
    uint64_t last_hash;
    int have; /* a document is in use */
    int failing;
};

static uint64_t hash_bytes(const char *p, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Reads a whole file of at most NODEINFO_MAX_JSON_BYTES. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", path);
        close(fd);
        return NULL;
    }
    if ((uint64_t)st.st_size > NODEINFO_MAX_JSON_BYTES) {
        snprintf(err, errlen, "%s is larger than %u bytes", path, NODEINFO_MAX_JSON_BYTES);
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)st.st_size, got = 0;
    char *buf = malloc(cap + 1);
    if (!buf) abort();
    while (got < cap) {
        ssize_t n = read(fd, buf + got, cap - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = 0;
    *len = got;
    return buf;
}

/* Parses a document and makes it the global schema. */
static int use_document(svc_objinfo *oi, canvas_mgr *cm, const char *json, size_t len,
                        const char *from)
{
    nodeinfo *ni = NULL;
    char err[256] = "";
    if (nodeinfo_create(&ni, json, len, NODEINFO_FRONTEND_TYPES, err, sizeof err) != NODEINFO_OK) {
        LOG_W(MOD, "object_info from %s is not usable: %s", from, err);
        return -1;
    }
    canvas_mgr_set_schema(cm, ni);
    if (nodeinfo_skipped(ni))
        LOG_W(MOD, "object_info from %s: %zu node type(s) skipped, the first because %s", from,
              nodeinfo_skipped(ni), nodeinfo_skip_reason(ni));
    if (nodeinfo_oddities(ni))
        LOG_I(MOD, "object_info from %s: %zu node type(s) kept with odd shapes, the first: %s",
              from, nodeinfo_oddities(ni), nodeinfo_odd_reason(ni));
    LOG_I(MOD, "object_info: %zu node types loaded from %s", nodeinfo_count(ni), from);
    nodeinfo_unref(ni);
    if (oi) {
        oi->last_len = len;
        oi->last_hash = hash_bytes(json, len);
        oi->have = 1;
    }
    return 0;
}

/* Writes the cache atomically (temporary file, fsync, rename). */
static void write_cache(const char *path, const char *json, size_t len)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        LOG_W(MOD, "cannot write %s: %s", tmp, strerror(errno));
        return;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, json + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        done += (size_t)n;
    }
    int ok = done == len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        LOG_W(MOD, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
    }
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a, (void)b, (void)c, (void)d;
    return atomic_load(&((svc_objinfo *)ud)->stop) ? 1 : 0;
}

/* One GET of the URL; 0 with the body in *b, or -1 with err. */
static int fetch(svc_objinfo *oi, text_sink *b, char *err, size_t errlen)
{
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(err, errlen, "cannot start a transfer");
        return -1;
    }
    char ebuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, oi->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)SVC_OBJINFO_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)SVC_OBJINFO_CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "comfyd");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, text_sink_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, oi);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    if (b->over) {
        snprintf(err, errlen, "the document is larger than %u bytes", NODEINFO_MAX_JSON_BYTES);
        return -1;
    }
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s", ebuf[0] ? ebuf : curl_easy_strerror(rc));
        return -1;
    }
    if (status != 200) {
        snprintf(err, errlen, "HTTP status %ld", status);
        return -1;
    }
    return 0;
}

static void *fetch_main(void *arg)
{
    svc_objinfo *oi = arg;
    int64_t wait_ms = 0;
    for (;;) {
        pthread_mutex_lock(&oi->mu);
        if (wait_ms > 0 && !atomic_load(&oi->stop)) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            int64_t ns = ts.tv_nsec + (wait_ms % 1000) * 1000000;
            ts.tv_sec += wait_ms / 1000 + ns / 1000000000;
            ts.tv_nsec = ns % 1000000000;
            while (!atomic_load(&oi->stop) &&
                   pthread_cond_timedwait(&oi->cv, &oi->mu, &ts) != ETIMEDOUT) {
            }
        }
        pthread_mutex_unlock(&oi->mu);
        if (atomic_load(&oi->stop)) break;
        /* Most documents are megabytes: start at 64 KiB. */
        text_sink b = {.max = NODEINFO_MAX_JSON_BYTES};
        text_buf_reserve(&b.b, 1 << 16);
        char err[CURL_ERROR_SIZE + 64] = "";
        if (fetch(oi, &b, err, sizeof err) == 0) {
            if (oi->failing) LOG_I(MOD, "object_info: %s answers again", oi->url);
            oi->failing = 0;
            const char *doc = b.b.p ? b.b.p : "";
            size_t len = b.b.n;
            if (!oi->have || len != oi->last_len || hash_bytes(doc, len) != oi->last_hash) {
                if (use_document(oi, oi->cm, doc, len, oi->url) == 0)
                    write_cache(oi->cache, doc, len);
            }
        } else if (!atomic_load(&oi->stop)) {
            /* Once per outage: ComfyUI being down is normal, not news every retry. */
            if (!oi->failing)
                LOG_W(MOD, "object_info: cannot fetch %s: %s (%s)", oi->url, err,
                      oi->have ? "keeping the node types in use" : "retrying");
            oi->failing = 1;
        }
        text_buf_free(&b.b);
        wait_ms = oi->have ? SVC_OBJINFO_REFRESH_MS : SVC_OBJINFO_RETRY_MS;
    }
    return NULL;
}

int svc_objinfo_start(svc_objinfo **out, canvas_mgr *cm, const char *source, const char *data_dir)
{
    *out = NULL;
    char err[512] = "";
    if (strncmp(source, "http://", 7) != 0 && strncmp(source, "https://", 8) != 0) {
        size_t len = 0;
        char *json = read_file(source, &len, err, sizeof err);
        if (!json) {
            LOG_E(MOD, "--object-info: %s", err);
            return -1;
        }
        int rc = use_document(NULL, cm, json, len, source);
        free(json);
        if (rc) LOG_E(MOD, "--object-info: %s is not an /object_info document", source);
        return rc;
    }
    if (strlen(source) > 2048 || strpbrk(source, " \t\r\n")) {
        LOG_E(MOD, "--object-info: '%.64s' is not a usable URL", source);
        return -1;
    }
    svc_objinfo *oi = calloc(1, sizeof *oi);
    if (!oi) abort();
    oi->cm = cm;
    oi->url = text_dup(source);
    char path[4096];
    snprintf(path, sizeof path, "%s/object_info.json", data_dir);
    oi->cache = text_dup(path);
    pthread_mutex_init(&oi->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&oi->cv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&oi->stop, 0);
    /* The cache first: a slow or absent ComfyUI never leaves edits without
     * node types. */
    size_t len = 0;
    char *json = access(oi->cache, F_OK) == 0 ? read_file(oi->cache, &len, err, sizeof err) : NULL;
    if (json) {
        char from[4200];
        snprintf(from, sizeof from, "the cache %s", oi->cache);
        use_document(oi, cm, json, len, from);
        free(json);
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (pthread_create(&oi->thread, NULL, fetch_main, oi) != 0) {
        LOG_E(MOD, "cannot start the object_info fetcher");
        svc_objinfo_stop(oi);
        return -1;
    }
    oi->started = 1;
    *out = oi;
    return 0;
}

void svc_objinfo_stop(svc_objinfo *oi)
{
    if (!oi) return;
    pthread_mutex_lock(&oi->mu);
    atomic_store(&oi->stop, 1);
    pthread_cond_signal(&oi->cv);
    pthread_mutex_unlock(&oi->mu);
    if (oi->started) pthread_join(oi->thread, NULL);
    curl_global_cleanup();
    pthread_mutex_destroy(&oi->mu);
    pthread_cond_destroy(&oi->cv);
    free(oi->url);
    free(oi->cache);
    free(oi);
}
