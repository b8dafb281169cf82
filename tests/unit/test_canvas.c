/* Unit tests for core/canvas: the canvas manager driven from the test
 * thread with a fake tab (canvas_tab_ops that record what the tab was
 * sent) against the real graph module, the fixture schema and the
 * fixture txt2img workflow. The tab's answers are ReportEditor requests
 * built here, so every round trip is the one a browser would make. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "canvas.h"
#include "store.h"
#include "text.h"

#define FIXTURES COMFYD_SOURCE_DIR "/tests/fixtures/"
/* Hang guard for things that must happen (not a performance limit). */
#define GUARD_MS 10000
#define MAX_MSGS 64

#define GE(x) COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_##x

static nodeinfo *schema;
static char *txt2img;
static size_t txt2img_len;
static char tmpdir[256];
static wfstore *wfs;

static const char empty_wf[] = "{\"last_node_id\": 0, \"last_link_id\": 0, \"nodes\": [], "
                               "\"links\": [], \"version\": 0.4}";

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = 0;
        *len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static void *pb_copy(const ProtobufCMessage *m)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len ? len : 1);
    assert_non_null(buf);
    protobuf_c_message_pack(m, buf);
    ProtobufCMessage *c = protobuf_c_message_unpack(m->descriptor, NULL, len, buf);
    free(buf);
    assert_non_null(c);
    return c;
}

static void pb_free(void *m)
{
    if (m) protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- the fake tab ---- */

typedef struct tab {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    Comfyd__V1__AttachCanvasResponse *msgs[MAX_MSGS];
    size_t n, next;
    int refuse; /* send fails: a stream that is gone */
    int ended, end_code;
    char end_msg[256];
    int released;
    uint64_t tab_id;
} tab;

static int tab_send(void *ud, const Comfyd__V1__AttachCanvasResponse *m)
{
    tab *t = ud;
    if (t->refuse) return -1;
    pthread_mutex_lock(&t->mu);
    assert_true(t->n < MAX_MSGS);
    t->msgs[t->n++] = pb_copy(&m->base);
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    return 0;
}

static void tab_end(void *ud, int code, const char *message)
{
    tab *t = ud;
    pthread_mutex_lock(&t->mu);
    t->ended = 1;
    t->end_code = code;
    snprintf(t->end_msg, sizeof t->end_msg, "%s", message);
    pthread_mutex_unlock(&t->mu);
}

static void tab_release(void *ud)
{
    tab *t = ud;
    pthread_mutex_lock(&t->mu);
    t->released++;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

static const canvas_tab_ops ops = {tab_send, tab_end, tab_release};

static tab *tab_new(void)
{
    tab *t = calloc(1, sizeof *t);
    assert_non_null(t);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    return t;
}

static void tab_free(tab *t)
{
    for (size_t i = 0; i < t->n; i++)
        pb_free(t->msgs[i]);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    free(t);
}

static struct timespec deadline_in(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    return ts;
}

/* The next message the tab was sent (owned by the tab). */
static Comfyd__V1__AttachCanvasResponse *tab_next(tab *t)
{
    struct timespec ts = deadline_in(GUARD_MS);
    pthread_mutex_lock(&t->mu);
    while (t->next == t->n)
        if (pthread_cond_timedwait(&t->cv, &t->mu, &ts) != 0) break;
    Comfyd__V1__AttachCanvasResponse *m = t->next < t->n ? t->msgs[t->next++] : NULL;
    pthread_mutex_unlock(&t->mu);
    assert_non_null(m);
    return m;
}

static size_t tab_pending(tab *t)
{
    pthread_mutex_lock(&t->mu);
    size_t n = t->n - t->next;
    pthread_mutex_unlock(&t->mu);
    return n;
}

static Comfyd__V1__PatchRequest *tab_next_patch(tab *t)
{
    Comfyd__V1__AttachCanvasResponse *m = tab_next(t);
    assert_int_equal(m->kind_case, COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_PATCH);
    return m->patch;
}

/* ---- replies ---- */

typedef struct reply {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls;
    int err;
    int code;
    char msg[CANVAS_ERRLEN];
    void *resp; /* a copy */
} reply;

static void on_done(void *ud, const canvas_result *r)
{
    reply *p = ud;
    pthread_mutex_lock(&p->mu);
    p->calls++;
    p->err = r->err;
    p->code = r->code;
    snprintf(p->msg, sizeof p->msg, "%s", r->message ? r->message : "");
    pb_free(p->resp);
    p->resp = r->resp ? pb_copy(r->resp) : NULL;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static reply *reply_new(void)
{
    reply *p = calloc(1, sizeof *p);
    assert_non_null(p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    return p;
}

static int reply_done(reply *p)
{
    pthread_mutex_lock(&p->mu);
    int d = p->calls;
    pthread_mutex_unlock(&p->mu);
    return d;
}

static void reply_wait(reply *p)
{
    struct timespec ts = deadline_in(GUARD_MS);
    pthread_mutex_lock(&p->mu);
    while (!p->calls)
        if (pthread_cond_timedwait(&p->cv, &p->mu, &ts) != 0) break;
    int calls = p->calls;
    pthread_mutex_unlock(&p->mu);
    assert_int_equal(calls, 1);
}

static void reply_free(reply *p)
{
    /* The completing thread may still be leaving on_done's unlock. */
    pthread_mutex_lock(&p->mu);
    pthread_mutex_unlock(&p->mu);
    pb_free(p->resp);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}

static Comfyd__V1__ExecuteBatchResponse *batch_resp(reply *p)
{
    reply_wait(p);
    assert_int_equal(p->err, CANVAS_OK);
    assert_non_null(p->resp);
    return p->resp;
}

static Comfyd__V1__ExecuteResponse *exec_resp(reply *p)
{
    reply_wait(p);
    assert_int_equal(p->err, CANVAS_OK);
    assert_non_null(p->resp);
    return p->resp;
}

/* ---- commands (freed with protobuf_c_message_free_unpacked) ---- */

static void *alloc(size_t n)
{
    void *p = calloc(1, n);
    assert_non_null(p);
    return p;
}

static char *sdup(const char *s)
{
    char *p = strdup(s);
    assert_non_null(p);
    return p;
}

static Comfyd__V1__Value *v_int(int64_t i)
{
    Comfyd__V1__Value *v = alloc(sizeof *v);
    comfyd__v1__value__init(v);
    v->kind_case = COMFYD__V1__VALUE__KIND_INTEGER;
    v->integer = i;
    return v;
}

static Comfyd__V1__Value *v_num(double d)
{
    Comfyd__V1__Value *v = alloc(sizeof *v);
    comfyd__v1__value__init(v);
    v->kind_case = COMFYD__V1__VALUE__KIND_NUMBER;
    v->number = d;
    return v;
}

static Comfyd__V1__Value *v_text(const char *s)
{
    Comfyd__V1__Value *v = alloc(sizeof *v);
    comfyd__v1__value__init(v);
    v->kind_case = COMFYD__V1__VALUE__KIND_TEXT;
    v->text = sdup(s);
    return v;
}

static Comfyd__V1__NodeRef *nid(int64_t id)
{
    Comfyd__V1__NodeRef *r = alloc(sizeof *r);
    comfyd__v1__node_ref__init(r);
    r->node_case = COMFYD__V1__NODE_REF__NODE_ID;
    r->id = id;
    return r;
}

static Comfyd__V1__NodeRef *nref(const char *ref)
{
    Comfyd__V1__NodeRef *r = alloc(sizeof *r);
    comfyd__v1__node_ref__init(r);
    r->node_case = COMFYD__V1__NODE_REF__NODE_REF;
    r->ref = sdup(ref);
    return r;
}

static Comfyd__V1__SlotRef *sidx(uint32_t i)
{
    Comfyd__V1__SlotRef *s = alloc(sizeof *s);
    comfyd__v1__slot_ref__init(s);
    s->slot_case = COMFYD__V1__SLOT_REF__SLOT_INDEX;
    s->index = i;
    return s;
}

static Comfyd__V1__SlotRef *sname(const char *name)
{
    Comfyd__V1__SlotRef *s = alloc(sizeof *s);
    comfyd__v1__slot_ref__init(s);
    s->slot_case = COMFYD__V1__SLOT_REF__SLOT_NAME;
    s->name = sdup(name);
    return s;
}

static Comfyd__V1__Command *wrap(Comfyd__V1__Command__CommandCase kind, void *payload)
{
    Comfyd__V1__Command *c = alloc(sizeof *c);
    comfyd__v1__command__init(c);
    c->command_case = kind;
    c->create_node = payload; /* the oneof's members share the slot */
    return c;
}

static Comfyd__V1__Command *c_create(const char *type, const char *ref)
{
    Comfyd__V1__CreateNodeCommand *p = alloc(sizeof *p);
    comfyd__v1__create_node_command__init(p);
    p->node_type = sdup(type);
    if (ref) p->ref = sdup(ref);
    return wrap(COMFYD__V1__COMMAND__COMMAND_CREATE_NODE, p);
}

static Comfyd__V1__Command *with_widget(Comfyd__V1__Command *c, const char *name,
                                        Comfyd__V1__Value *v)
{
    Comfyd__V1__CreateNodeCommand *p = c->create_node;
    p->widgets = realloc(p->widgets, (p->n_widgets + 1) * sizeof *p->widgets);
    assert_non_null(p->widgets);
    Comfyd__V1__CreateNodeCommand__WidgetsEntry *e = alloc(sizeof *e);
    comfyd__v1__create_node_command__widgets_entry__init(e);
    e->key = sdup(name);
    e->value = v;
    p->widgets[p->n_widgets++] = e;
    return c;
}

static Comfyd__V1__Command *c_connect(Comfyd__V1__NodeRef *a, Comfyd__V1__SlotRef *sa,
                                      Comfyd__V1__NodeRef *b, Comfyd__V1__SlotRef *sb)
{
    Comfyd__V1__ConnectCommand *p = alloc(sizeof *p);
    comfyd__v1__connect_command__init(p);
    p->from_id = a;
    p->from_slot = sa;
    p->to_id = b;
    p->to_slot = sb;
    return wrap(COMFYD__V1__COMMAND__COMMAND_CONNECT, p);
}

static Comfyd__V1__Command *c_set(Comfyd__V1__NodeRef *n, const char *name, Comfyd__V1__Value *v)
{
    Comfyd__V1__SetWidgetCommand *p = alloc(sizeof *p);
    comfyd__v1__set_widget_command__init(p);
    p->node_id = n;
    p->name = sdup(name);
    p->value = v;
    return wrap(COMFYD__V1__COMMAND__COMMAND_SET_WIDGET, p);
}

static Comfyd__V1__Command *c_move(Comfyd__V1__NodeRef *n, double x, double y)
{
    Comfyd__V1__MoveNodeCommand *p = alloc(sizeof *p);
    comfyd__v1__move_node_command__init(p);
    p->node_id = n;
    p->x = x;
    p->y = y;
    return wrap(COMFYD__V1__COMMAND__COMMAND_MOVE_NODE, p);
}

static Comfyd__V1__Command *c_remove(Comfyd__V1__NodeRef *n)
{
    Comfyd__V1__RemoveNodeCommand *p = alloc(sizeof *p);
    comfyd__v1__remove_node_command__init(p);
    p->node_id = n;
    return wrap(COMFYD__V1__COMMAND__COMMAND_REMOVE_NODE, p);
}

static Comfyd__V1__Command *c_get(void)
{
    Comfyd__V1__GetGraphCommand *p = alloc(sizeof *p);
    comfyd__v1__get_graph_command__init(p);
    return wrap(COMFYD__V1__COMMAND__COMMAND_GET_GRAPH, p);
}

#define MAX_BATCH 32

/* An ExecuteBatchRequest that owns its commands. */
typedef struct {
    Comfyd__V1__ExecuteBatchRequest req;
    Comfyd__V1__Command *c[MAX_BATCH];
    Google__Protobuf__UInt64Value base;
} batch;

static void batch_init(batch *b, const char *canvas_id)
{
    memset(b, 0, sizeof *b);
    comfyd__v1__execute_batch_request__init(&b->req);
    google__protobuf__uint64_value__init(&b->base);
    b->req.canvas_id = (char *)canvas_id;
    b->req.commands = b->c;
}

static void add(batch *b, Comfyd__V1__Command *c)
{
    assert_true(b->req.n_commands < MAX_BATCH);
    b->c[b->req.n_commands++] = c;
}

static void set_base(batch *b, uint64_t rev)
{
    b->base.value = rev;
    b->req.base_revision = &b->base;
}

static void batch_clear(batch *b)
{
    for (size_t i = 0; i < b->req.n_commands; i++)
        pb_free(b->c[i]);
    b->req.n_commands = 0;
}

/* The default graph built from scratch, every node by ref. */
static void add_txt2img(batch *b)
{
    add(b, with_widget(c_create("CheckpointLoaderSimple", "ckpt"), "ckpt_name",
                       v_text("sd_xl_base_1.0.safetensors")));
    add(b, with_widget(c_create("CLIPTextEncode", "pos"), "text", v_text("a glass bottle")));
    add(b, with_widget(c_create("CLIPTextEncode", "neg"), "text", v_text("text, watermark")));
    Comfyd__V1__Command *latent = c_create("EmptyLatentImage", "latent");
    with_widget(latent, "width", v_int(512));
    with_widget(latent, "height", v_int(512));
    add(b, latent);
    Comfyd__V1__Command *ks = c_create("KSampler", "ks");
    with_widget(ks, "steps", v_int(20));
    with_widget(ks, "cfg", v_num(8));
    add(b, ks);
    add(b, c_create("VAEDecode", "decode"));
    add(b, with_widget(c_create("SaveImage", "save"), "filename_prefix", v_text("ComfyUI")));
    add(b, c_connect(nref("ckpt"), sname("MODEL"), nref("ks"), sname("model")));
    add(b, c_connect(nref("ckpt"), sidx(1), nref("pos"), sname("clip")));
    add(b, c_connect(nref("ckpt"), sidx(1), nref("neg"), sname("clip")));
    add(b, c_connect(nref("pos"), sidx(0), nref("ks"), sname("positive")));
    add(b, c_connect(nref("neg"), sidx(0), nref("ks"), sname("negative")));
    add(b, c_connect(nref("latent"), sidx(0), nref("ks"), sname("latent_image")));
    add(b, c_connect(nref("ks"), sidx(0), nref("decode"), sname("samples")));
    add(b, c_connect(nref("ckpt"), sname("VAE"), nref("decode"), sname("vae")));
    add(b, c_connect(nref("decode"), sname("IMAGE"), nref("save"), sname("images")));
}

/* What a tab reports for add_txt2img when its ids are those of the
 * fixture workflow (not the predicted 1..7). */
static const int64_t txt2img_nodes[7] = {4, 6, 7, 5, 3, 8, 9};
static const int64_t txt2img_links[9][2] = {{3, 1}, {6, 3}, {7, 5}, {3, 4}, {3, 6},
                                            {3, 2}, {8, 7}, {8, 8}, {9, 9}};

/* ---- tab reports ---- */

typedef struct {
    Comfyd__V1__CommandResult r[MAX_BATCH];
    Comfyd__V1__CommandResult *p[MAX_BATCH];
    size_t n;
} results;

static void result_add(results *rs, int64_t node_id, int64_t link_id)
{
    Comfyd__V1__CommandResult *r = &rs->r[rs->n];
    comfyd__v1__command_result__init(r);
    r->index = (int32_t)rs->n;
    r->ok = 1;
    r->node_id = node_id;
    r->link_id = link_id;
    rs->p[rs->n] = r;
    rs->n++;
}

static int report_patch(canvas_mgr *m, const char *cid, uint64_t request_id, int ok,
                        const char *error, const char *wf, results *rs, uint64_t tab_rev,
                        uint64_t *rev)
{
    Comfyd__V1__PatchResult pr = COMFYD__V1__PATCH_RESULT__INIT;
    pr.request_id = request_id;
    pr.ok = ok;
    if (error) pr.error = (char *)error;
    if (wf) pr.workflow_json = (char *)wf;
    if (rs) {
        pr.results = rs->p;
        pr.n_results = rs->n;
    }
    pr.tab_revision = tab_rev;
    Comfyd__V1__ReportEditorRequest req = COMFYD__V1__REPORT_EDITOR_REQUEST__INIT;
    req.canvas_id = (char *)cid;
    req.report_case = COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_PATCH_RESULT;
    req.patch_result = &pr;
    canvas_error e = {0};
    uint64_t r = 0;
    int rc = canvas_report(m, &req, &r, &e);
    if (rev) *rev = r;
    return rc;
}

static uint64_t report_user_edit(canvas_mgr *m, const char *cid, const char *wf, uint64_t tab_rev)
{
    Comfyd__V1__UserEdit u = COMFYD__V1__USER_EDIT__INIT;
    u.workflow_json = (char *)wf;
    u.tab_revision = tab_rev;
    Comfyd__V1__ReportEditorRequest req = COMFYD__V1__REPORT_EDITOR_REQUEST__INIT;
    req.canvas_id = (char *)cid;
    req.report_case = COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_USER_EDIT;
    req.user_edit = &u;
    canvas_error e = {0};
    uint64_t r = 0;
    assert_int_equal(canvas_report(m, &req, &r, &e), CANVAS_OK);
    return r;
}

static void report_focus(canvas_mgr *m, const char *cid, int focused)
{
    Comfyd__V1__Focus f = COMFYD__V1__FOCUS__INIT;
    f.focused = focused;
    Comfyd__V1__ReportEditorRequest req = COMFYD__V1__REPORT_EDITOR_REQUEST__INIT;
    req.canvas_id = (char *)cid;
    req.report_case = COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_FOCUS;
    req.focus = &f;
    canvas_error e = {0};
    uint64_t r = 0;
    assert_int_equal(canvas_report(m, &req, &r, &e), CANVAS_OK);
}

/* Attaches t as canvas cid; returns the revision of the Attached message. */
static uint64_t attach_oi(canvas_mgr *m, tab *t, const char *cid, const char *wf, const char *oi,
                          int focused)
{
    Comfyd__V1__AttachCanvasRequest req = COMFYD__V1__ATTACH_CANVAS_REQUEST__INIT;
    req.canvas_id = (char *)cid;
    req.title = "test";
    req.workflow_json = (char *)(wf ? wf : "");
    req.object_info_json = (char *)(oi ? oi : "");
    req.focused = focused;
    canvas_error e = {0};
    int rc = canvas_attach(m, &req, &ops, t, &t->tab_id, &e);
    if (rc) fprintf(stderr, "attach: %s\n", e.message);
    assert_int_equal(rc, CANVAS_OK);
    Comfyd__V1__AttachCanvasResponse *msg = tab_next(t);
    assert_int_equal(msg->kind_case, COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_ATTACHED);
    assert_string_equal(msg->attached->canvas_id, cid);
    assert_true(msg->attached->revision > 0);
    return msg->attached->revision;
}

static uint64_t attach(canvas_mgr *m, tab *t, const char *cid, const char *wf)
{
    return attach_oi(m, t, cid, wf, NULL, 0);
}

static Comfyd__V1__GetGraphResponse *get_graph(canvas_mgr *m, const char *cid)
{
    Comfyd__V1__GetGraphRequest req = COMFYD__V1__GET_GRAPH_REQUEST__INIT;
    req.canvas_id = (char *)cid;
    Comfyd__V1__GetGraphResponse *r = NULL;
    canvas_error e = {0};
    assert_int_equal(canvas_get_graph(m, &req, &r, &e), CANVAS_OK);
    return r;
}

static uint64_t revision_of(canvas_mgr *m, const char *cid)
{
    Comfyd__V1__GetGraphResponse *g = get_graph(m, cid);
    uint64_t rev = g->graph->revision;
    pb_free(g);
    return rev;
}

static const Comfyd__V1__Node *find_node(const Comfyd__V1__Graph *g, int64_t id)
{
    for (size_t i = 0; i < g->n_nodes; i++)
        if (g->nodes[i]->id == id) return g->nodes[i];
    return NULL;
}

static int64_t ref_of(const Comfyd__V1__ExecuteBatchResponse *r, const char *key)
{
    for (size_t i = 0; i < r->n_refs; i++)
        if (strcmp(r->refs[i]->key, key) == 0) return r->refs[i]->value;
    return -1;
}

/* Replaces the first occurrence of from in s (a new string). */
static char *replace_once(const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);
    assert_non_null(p);
    size_t a = (size_t)(p - s), fl = strlen(from), tl = strlen(to), sl = strlen(s);
    char *r = malloc(sl - fl + tl + 1);
    assert_non_null(r);
    memcpy(r, s, a);
    memcpy(r + a, to, tl);
    memcpy(r + a + tl, p + fl, sl - a - fl + 1);
    return r;
}

/* An Execute of one command (the request owns cmd). */
typedef struct {
    Comfyd__V1__ExecuteRequest req;
    Google__Protobuf__UInt64Value base;
} exec;

static void exec_init(exec *x, const char *cid, Comfyd__V1__Command *cmd)
{
    comfyd__v1__execute_request__init(&x->req);
    google__protobuf__uint64_value__init(&x->base);
    x->req.canvas_id = (char *)(cid ? cid : "");
    x->req.command = cmd;
}

static void exec_clear(exec *x)
{
    pb_free(x->req.command);
    x->req.command = NULL;
}

/* ---- fixture ---- */

typedef struct {
    canvas_mgr *m;
} fx;

static canvas_mgr *mgr_new(size_t max_queued)
{
    canvas_mgr_opts o = {.store = wfs, .max_queued = max_queued};
    canvas_mgr *m = NULL;
    assert_int_equal(canvas_mgr_create(&m, &o), CANVAS_OK);
    return m;
}

static int setup(void **state)
{
    (void)state;
    size_t len;
    char *json = read_file(FIXTURES "object_info.json", &len);
    char err[256] = "";
    if (!json || nodeinfo_create(&schema, json, len, NODEINFO_FRONTEND_TYPES, err, sizeof err)) {
        fprintf(stderr, "schema: %s\n", err);
        free(json);
        return -1;
    }
    free(json);
    txt2img = read_file(FIXTURES "txt2img_workflow.json", &txt2img_len);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_canvas.XXXXXX");
    if (!txt2img || !mkdtemp(tmpdir)) return -1;
    char dir[300];
    snprintf(dir, sizeof dir, "%s/workflows", tmpdir);
    return wfstore_open(&wfs, dir, err, sizeof err) == WFSTORE_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    nodeinfo_unref(schema);
    free(txt2img);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) return -1;
    wfstore_close(wfs);
    return 0;
}

static int each_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->m = mgr_new(0);
    canvas_mgr_set_schema(f->m, schema);
    *state = f;
    return 0;
}

static int each_teardown(void **state)
{
    fx *f = *state;
    canvas_mgr_destroy(f->m);
    free(f);
    return 0;
}

/* ---- tests ---- */

static void attach_sends_attached_first_and_reattach_replaces_the_old_tab(void **state)
{
    canvas_mgr *m = ((fx *)*state)->m;
    tab *t1 = tab_new(), *t2 = tab_new(), *t3 = tab_new();
    uint64_t r1 = attach(m, t1, "c1", empty_wf);
    Comfyd__V1__GetGraphResponse *g = get_graph(m, "c1");
    assert_int_equal(g->graph->n_nodes, 0);
    assert_false(g->graph->stale);
    assert_int_equal(g->graph->revision, r1);
    assert_string_equal(g->graph->canvas_id, "c1");
    pb_free(g);

    /* A page reload: the same canvas_id with the tab's (new) workflow. */
    uint64_t r2 = attach(m, t2, "c1", txt2img);
    assert_int_equal(r2, r1 + 1);
    assert_true(t1->ended);
    assert_int_equal(t1->end_code, CANVAS_END_ABORTED);
    assert_string_equal(t1->end_msg, "replaced by a new attachment");
    assert_int_equal(t1->released, 1);
    Comfyd__V1__GetDiffRequest dr = COMFYD__V1__GET_DIFF_REQUEST__INIT;
    dr.canvas_id = "c1";
    dr.since_revision = r1;
    Comfyd__V1__GetDiffResponse *d = NULL;
    canvas_error e = {0};
    assert_int_equal(canvas_get_diff(m, &dr, &d, &e), CANVAS_OK);
    assert_false(d->truncated);
    assert_int_equal(d->to_revision, r2);
    assert_true(d->n_ops >= 7);
    for (size_t i = 0; i < d->n_ops; i++)
        assert_int_equal(d->ops[i]->origin, COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_LOAD);
    pb_free(d);

    /* The stream ends: a stale mirror that still answers. */
    canvas_tab_gone(m, t2->tab_id);
    struct timespec ts = deadline_in(GUARD_MS);
    pthread_mutex_lock(&t2->mu);
    while (!t2->released)
        if (pthread_cond_timedwait(&t2->cv, &t2->mu, &ts)) break;
    pthread_mutex_unlock(&t2->mu);
    assert_int_equal(t2->released, 1);
    assert_false(t2->ended); /* its stream was over already */
    g = get_graph(m, "c1");
    assert_true(g->graph->stale);
    assert_int_equal(g->graph->n_nodes, 7);
    assert_int_equal(g->graph->revision, r2);
    pb_free(g);
    Comfyd__V1__ListCanvasesResponse *l = NULL;
    assert_int_equal(canvas_list(m, &l, &e), CANVAS_OK);
    assert_int_equal(l->n_canvases, 1);
    assert_false(l->canvases[0]->attached);
    assert_int_equal(l->canvases[0]->node_count, 7);
    pb_free(l);

    /* A mutation on the detached canvas. */
    exec x;
    exec_init(&x, "c1", c_move(nid(3), 10, 10));
    reply *p = reply_new();
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p, &e), CANVAS_OK);
    Comfyd__V1__ExecuteResponse *er = exec_resp(p);
    assert_false(er->ok);
    assert_int_equal(er->result->error->code, GE(NO_LIVE_CANVAS));
    reply_free(p);
    exec_clear(&x);

    /* Attached again: revisions keep increasing. */
    uint64_t r3 = attach(m, t3, "c1", empty_wf);
    assert_true(r3 > r2);
    tab_free(t1);
    tab_free(t2);
    canvas_mgr_shutdown(m);
    assert_int_equal(t3->end_code, CANVAS_END_UNAVAILABLE);
    tab_free(t3);
}

static void txt2img_batch_by_refs_is_dispatched_then_committed_with_the_tabs_ids(void **state)
{
    canvas_mgr *m = ((fx *)*state)->m;
    tab *t = tab_new();
    uint64_t r0 = attach(m, t, "c1", empty_wf);
    batch b;
    batch_init(&b, "c1");
    add_txt2img(&b);
    set_base(&b, r0);
    reply *p = reply_new();
    canvas_error e = {0};
    int64_t before = text_now_ms();
    assert_int_equal(canvas_execute_batch(m, &b.req, 0, on_done, p, &e), CANVAS_OK);

    Comfyd__V1__PatchRequest *pr = tab_next_patch(t);
    assert_int_equal(pr->n_commands, 16);
    assert_int_equal(pr->n_expected_node_ids, 7);
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(pr->expected_node_ids[i], (int64_t)i + 1);
    assert_int_equal(pr->mode, COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC);
    assert_true(pr->deadline_ms >= before + 4000);
    assert_true(pr->request_id > 0);
    assert_false(reply_done(p)); /* nothing is answered before the tab */
    assert_int_equal(revision_of(m, "c1"), r0);

    /* The tab assigns other ids than predicted and reports them. */
    results rs = {0};
    for (size_t i = 0; i < 7; i++)
        result_add(&rs, txt2img_nodes[i], 0);
    for (size_t i = 0; i < 9; i++)
        result_add(&rs, txt2img_links[i][0], txt2img_links[i][1]);
    uint64_t rev = 0;
    assert_int_equal(report_patch(m, "c1", pr->request_id, 1, NULL, txt2img, &rs, 1, &rev),
                     CANVAS_OK);
    assert_int_equal(rev, r0 + 1);
    Comfyd__V1__ExecuteBatchResponse *r = batch_resp(p);
    assert_true(r->ok);
    assert_false(r->replayed);
    assert_int_equal(r->revision, r0 + 1);
    assert_string_equal(r->canvas_id, "c1");
    assert_int_equal(r->n_errors, 0);
    assert_int_equal(r->n_results, 16);
    assert_int_equal(r->results[0]->node_id, 4);
    assert_non_null(r->results[0]->node);
    assert_string_equal(r->results[0]->node->type, "CheckpointLoaderSimple");
    assert_int_equal(r->results[4]->node_id, 3);
    assert_int_equal(r->results[7]->link_id, 1);
    assert_int_equal(r->results[15]->link_id, 9);
    assert_int_equal(r->n_refs, 7);
    assert_int_equal(ref_of(r, "ckpt"), 4);
    assert_int_equal(ref_of(r, "ks"), 3);
    assert_int_equal(ref_of(r, "save"), 9);
    Comfyd__V1__GetGraphResponse *g = get_graph(m, "c1");
    assert_int_equal(g->graph->n_nodes, 7);
    assert_int_equal(g->graph->n_links, 9);
    pb_free(g);
    reply_free(p);
    batch_clear(&b);

    /* set_widget: the value comes back as the committed workflow has it. */
    exec x;
    exec_init(&x, "c1", c_set(nid(3), "steps", v_int(30)));
    p = reply_new();
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p, &e), CANVAS_OK);
    pr = tab_next_patch(t);
    assert_int_equal(pr->n_commands, 1);
    char *wf = replace_once(txt2img, "\"randomize\", 20, 8", "\"randomize\", 30, 8");
    results one = {0};
    result_add(&one, 3, 0);
    assert_int_equal(report_patch(m, "c1", pr->request_id, 1, NULL, wf, &one, 2, &rev), CANVAS_OK);
    Comfyd__V1__ExecuteResponse *xr = exec_resp(p);
    assert_true(xr->ok);
    assert_int_equal(xr->revision, r0 + 2);
    assert_int_equal(xr->result->node_id, 3);
    assert_non_null(xr->result->value);
    assert_int_equal(xr->result->value->kind_case, COMFYD__V1__VALUE__KIND_INTEGER);
    assert_int_equal(xr->result->value->integer, 30);
    assert_non_null(xr->result->node);
    free(wf);
    reply_free(p);
    exec_clear(&x);

    /* get_graph as a command: from the mirror, no tab round trip. */
    exec_init(&x, "c1", c_get());
    p = reply_new();
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p, &e), CANVAS_OK);
    xr = exec_resp(p);
    assert_true(xr->ok);
    assert_non_null(xr->graph);
    assert_int_equal(xr->graph->n_nodes, 7);
    assert_false(xr->graph->unchanged);
    assert_int_equal(tab_pending(t), 0);
    uint64_t seen = xr->graph->revision;
    reply_free(p);
    exec_clear(&x);

    /* A reader that holds this revision gets the head only; one that holds
     * an older revision gets the whole graph. */
    exec_init(&x, "c1", c_get());
    x.req.command->get_graph->known_revision = seen;
    p = reply_new();
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p, &e), CANVAS_OK);
    xr = exec_resp(p);
    assert_true(xr->ok);
    assert_non_null(xr->graph);
    assert_true(xr->graph->unchanged);
    assert_int_equal(xr->graph->revision, seen);
    assert_int_equal(xr->graph->n_nodes, 0);
    assert_int_equal(xr->graph->n_links, 0);
    assert_string_equal(xr->graph->canvas_id, "c1");
    reply_free(p);
    exec_clear(&x);
    exec_init(&x, "c1", c_get());
    x.req.command->get_graph->known_revision = seen - 1;
    p = reply_new();
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p, &e), CANVAS_OK);
    xr = exec_resp(p);
    assert_false(xr->graph->unchanged);
    assert_int_equal(xr->graph->n_nodes, 7);
    reply_free(p);
    exec_clear(&x);
    canvas_mgr_shutdown(m);
    tab_free(t);
}

static void stale_base_revision_is_refused_and_nothing_is_sent(void **state)
{
    canvas_mgr *m = ((fx *)*state)->m;
    tab *t = tab_new();
    uint64_t r0 = attach(m, t, "c1", txt2img);
    batch b;
    batch_init(&b, "c1");
    add(&b, c_move(nid(3), 100, 100));
    set_base(&b, r0 - 1);
    reply *p = reply_new();
    canvas_error e = {0};
    assert_int_equal(canvas_execute_batch(m, &b.req, 0, on_done, p, &e), CANVAS_OK);
    Comfyd__V1__ExecuteBatchResponse *r = batch_resp(p);
    assert_false(r->ok);
    assert_int_equal(r->n_errors, 1);
    assert_int_equal(r->errors[0]->code, GE(STALE_REVISION));
    assert_int_equal(r->errors[0]->index, -1);
    assert_int_equal(r->results[0]->error->code, GE(STALE_REVISION));
    assert_int_equal(r->revision, r0);
    assert_int_equal(tab_pending(t), 0);
    reply_free(p);
    batch_clear(&b);
    canvas_mgr_shutdown(m);
    tab_free(t);
}

static void invalid_link_type_is_refused_with_nothing_sent(void **state)
{
    canvas_mgr *m = ((fx *)*state)->m;
    tab *t = tab_new();
    uint64_t r0 = attach(m, t, "c1", txt2img);
    batch b;
    batch_init(&b, "c1");
    add(&b, c_move(nid(3), 100, 100));
    /* MODEL into a CLIP input. */
    add(&b, c_connect(nid(4), sname("MODEL"), nid(6), sname("clip")));
    reply *p = reply_new();
    canvas_error e = {0};
    assert_int_equal(canvas_execute_batch(m, &b.req, 0, on_done, p, &e), CANVAS_OK);
    Comfyd__V1__ExecuteBatchResponse *r = batch_resp(p);
    assert_false(r->ok);
    assert_int_equal(r->n_errors, 1);
    assert_int_equal(r->errors[0]->code, GE(TYPE_MISMATCH));
    assert_int_equal(r->errors[0]->index, 1);
    assert_int_equal(r->results[0]->error->code, GE(SKIPPED));
    assert_false(r->results[0]->ok);
    assert_int_equal(r->revision, r0);
    assert_int_equal(tab_pending(t), 0);
    reply_free(p);

    /* validate_only: every error at once, never the tab, stale or not. */
    add(&b, c_create("KSamplr", NULL));
    b.req.validate_only = 1;
    p = reply_new();
    assert_int_equal(canvas_execute_batch(m, &b.req, 0, on_done, p, &e), CANVAS_OK);
    r = batch_resp(p);
    assert_false(r->ok);
    assert_int_equal(r->n_errors, 2);
    assert_int_equal(r->errors[1]->code, GE(UNKNOWN_NODE_TYPE));
    assert_true(r->results[0]->ok); /* valid, so reported as such */
    assert_int_equal(tab_pending(t), 0);
    reply_free(p);

    /* PARTIAL: only the valid command reaches the tab. */
    b.req.validate_only = 0;
    b.req.mode = COMFYD__V1__BATCH_MODE__BATCH_MODE_PARTIAL;
    p = reply_new();
    assert_int_equal(canvas_execute_batch(m, &b.req, 0, on_done, p, &e), CANVAS_OK);
    Comfyd__V1__PatchRequest *pr = tab_next_patch(t);
    assert_int_equal(pr->n_commands, 1);
    assert_int_equal(pr->commands[0]->command_case, COMFYD__V1__COMMAND__COMMAND_MOVE_NODE);
    assert_int_equal(pr->mode, COMFYD__V1__BATCH_MODE__BATCH_MODE_PARTIAL);
    char *wf = replace_once(txt2img, "[863, 186]", "[100, 100]");
    results rs = {0};
    result_add(&rs, 3, 0);
    assert_int_equal(report_patch(m, "c1", pr->request_id, 1, NULL, wf, &rs, 0, NULL), CANVAS_OK);
    r = batch_resp(p);
    assert_false(r->ok);
    assert_int_equal(r->revision, r0 + 1);
    assert_true(r->results[0]->ok);
    assert_int_equal(r->results[1]->error->code, GE(TYPE_MISMATCH));
    assert_int_equal(r->results[2]->error->code, GE(UNKNOWN_NODE_TYPE));
    assert_int_equal(r->n_errors, 2);
    free(wf);
    reply_free(p);

    /* Detached: validate_only still works. */
    canvas_tab_gone(m, t->tab_id);
    b.req.validate_only = 1;
    p = reply_new();
    assert_int_equal(canvas_execute_batch(m, &b.req, 0, on_done, p, &e), CANVAS_OK);
    r = batch_resp(p);
    assert_int_equal(r->n_errors, 2);
    reply_free(p);
    batch_clear(&b);
    canvas_mgr_shutdown(m);
    tab_free(t);
}

static void idempotent_retry_returns_the_stored_response_and_the_tab_sees_one_patch(void **state)
{
    canvas_mgr *m = ((fx *)*state)->m;
    tab *t = tab_new();
    uint64_t r0 = attach(m, t, "c1", txt2img);
    exec x;
    exec_init(&x, "c1", c_move(nid(3), 100, 100));
    x.req.idempotency_key = "key-1";
    reply *p1 = reply_new(), *p2 = reply_new(), *p3 = reply_new();
    canvas_error e = {0};
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p1, &e), CANVAS_OK);
    Comfyd__V1__PatchRequest *pr = tab_next_patch(t);
    /* A retry while the first is in flight waits for the same outcome. */
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p2, &e), CANVAS_OK);
    assert_int_equal(tab_pending(t), 0);
    assert_false(reply_done(p2));
    char *wf = replace_once(txt2img, "[863, 186]", "[100, 100]");
    results rs = {0};
    result_add(&rs, 3, 0);
    assert_int_equal(report_patch(m, "c1", pr->request_id, 1, NULL, wf, &rs, 0, NULL), CANVAS_OK);
    Comfyd__V1__ExecuteResponse *a = exec_resp(p1), *b = exec_resp(p2);
    assert_true(a->ok);
    assert_false(a->replayed);
    assert_true(b->ok);
    assert_true(b->replayed);
    assert_int_equal(a->revision, r0 + 1);
    assert_int_equal(b->revision, r0 + 1);
    /* A retry later: the stored response, never applied twice. */
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p3, &e), CANVAS_OK);
    Comfyd__V1__ExecuteResponse *c = exec_resp(p3);
    assert_true(c->replayed);
    assert_int_equal(c->revision, r0 + 1);
    assert_int_equal(c->result->node_id, 3);
    assert_int_equal(tab_pending(t), 0);
    assert_int_equal(t->n, 2); /* Attached and one patch */
    assert_int_equal(revision_of(m, "c1"), r0 + 1);
    reply_free(p1);
    reply_free(p2);
    reply_free(p3);

    /* The key is per method: an ExecuteBatch with it is a new request. */
    batch bt;
    batch_init(&bt, "c1");
    add(&bt, c_move(nid(3), 200, 200));
    bt.req.idempotency_key = "key-1";
    p1 = reply_new();
    assert_int_equal(canvas_execute_batch(m, &bt.req, 0, on_done, p1, &e), CANVAS_OK);
    pr = tab_next_patch(t);
    assert_int_equal(report_patch(m, "c1", pr->request_id, 0, "no", NULL, NULL, 0, NULL),
                     CANVAS_OK);
    reply_wait(p1);
    reply_free(p1);
    batch_clear(&bt);

    /* A refusal (nothing sent) is not stored: the retry runs afresh. */
    x.req.canvas_id = "c1";
    x.req.idempotency_key = "key-2";
    x.base.value = r0; /* stale now */
    x.req.base_revision = &x.base;
    p1 = reply_new();
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p1, &e), CANVAS_OK);
    assert_int_equal(exec_resp(p1)->result->error->code, GE(STALE_REVISION));
    reply_free(p1);
    x.base.value = r0 + 1;
    p1 = reply_new();
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p1, &e), CANVAS_OK);
    pr = tab_next_patch(t);
    assert_int_equal(report_patch(m, "c1", pr->request_id, 1, NULL, wf, &rs, 0, NULL), CANVAS_OK);
    assert_false(exec_resp(p1)->replayed);
    reply_free(p1);
    free(wf);
    exec_clear(&x);

    /* Keys are bounded. */
    char longkey[CANVAS_MAX_KEY + 2];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = 0;
    exec_init(&x, "c1", c_move(nid(3), 1, 1));
    x.req.idempotency_key = longkey;
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, NULL, &e), CANVAS_EINVAL);
    assert_non_null(strstr(e.message, "idempotency_key"));
    exec_clear(&x);
    canvas_mgr_shutdown(m);
    tab_free(t);
}

/* With a store, a new manager (a restarted comfyd) continues revisions
 * above every earlier one and answers keys from before from the store; a
 * key reused for another request is refused, before and after. */
static void keys_and_revisions_outlive_the_manager_with_a_store(void **state)
{
    (void)state;
    char path[400];
    snprintf(path, sizeof path, "%s/canvas.db", tmpdir);
    store *db = NULL;
    assert_int_equal(store_open(&db, path), STORE_OK);
    canvas_mgr_opts o = {.store = wfs, .db = db};
    canvas_mgr *m = NULL;
    assert_int_equal(canvas_mgr_create(&m, &o), CANVAS_OK);
    canvas_mgr_set_schema(m, schema);
    tab *t = tab_new();
    uint64_t r0 = attach(m, t, "c1", txt2img);
    exec x, y, z;
    exec_init(&x, "c1", c_move(nid(3), 100, 100));
    x.req.idempotency_key = "keep-1";
    exec_init(&y, "c1", c_move(nid(3), 5, 5));
    y.req.idempotency_key = "keep-1";
    canvas_error e = {0};
    reply *p = reply_new();
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p, &e), CANVAS_OK);
    Comfyd__V1__PatchRequest *pr = tab_next_patch(t);
    char *wf = replace_once(txt2img, "[863, 186]", "[100, 100]");
    results rs = {0};
    result_add(&rs, 3, 0);
    assert_int_equal(report_patch(m, "c1", pr->request_id, 1, NULL, wf, &rs, 0, NULL), CANVAS_OK);
    uint64_t r1 = exec_resp(p)->revision;
    assert_int_equal(r1, r0 + 1);
    reply_free(p);
    p = reply_new();
    assert_int_equal(canvas_execute(m, &y.req, 0, on_done, p, &e), CANVAS_OK);
    assert_false(exec_resp(p)->ok);
    assert_int_equal(exec_resp(p)->result->error->code, GE(IDEMPOTENCY_KEY_REUSED));
    assert_int_equal(tab_pending(t), 0);
    reply_free(p);
    canvas_mgr_shutdown(m);
    tab_free(t);
    canvas_mgr_destroy(m);

    m = NULL;
    assert_int_equal(canvas_mgr_create(&m, &o), CANVAS_OK);
    canvas_mgr_set_schema(m, schema);
    t = tab_new();
    uint64_t r2 = attach(m, t, "c1", wf);
    assert_true(r2 > r1);
    p = reply_new();
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p, &e), CANVAS_OK);
    assert_true(exec_resp(p)->replayed);
    assert_int_equal(exec_resp(p)->revision, r1);
    assert_int_equal(exec_resp(p)->result->node_id, 3);
    assert_int_equal(tab_pending(t), 0);
    reply_free(p);
    p = reply_new();
    assert_int_equal(canvas_execute(m, &y.req, 0, on_done, p, &e), CANVAS_OK);
    assert_int_equal(exec_resp(p)->result->error->code, GE(IDEMPOTENCY_KEY_REUSED));
    reply_free(p);
    /* A base revision from before is stale, whatever the number. */
    exec_init(&z, "c1", c_move(nid(3), 7, 7));
    z.base.value = r1;
    z.req.base_revision = &z.base;
    p = reply_new();
    assert_int_equal(canvas_execute(m, &z.req, 0, on_done, p, &e), CANVAS_OK);
    assert_int_equal(exec_resp(p)->result->error->code, GE(STALE_REVISION));
    reply_free(p);
    free(wf);
    exec_clear(&x);
    exec_clear(&y);
    exec_clear(&z);
    canvas_mgr_shutdown(m);
    tab_free(t);
    canvas_mgr_destroy(m);
    store_close(db);
}

static void tab_silence_is_editor_timeout_and_the_mirror_stays(void **state)
{
    canvas_mgr *m = ((fx *)*state)->m;
    tab *t = tab_new();
    uint64_t r0 = attach(m, t, "c1", txt2img);
    exec x;
    exec_init(&x, "c1", c_move(nid(3), 100, 100));
    x.req.timeout_ms = 100;
    reply *p = reply_new();
    canvas_error e = {0};
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p, &e), CANVAS_OK);
    Comfyd__V1__PatchRequest *pr = tab_next_patch(t);
    Comfyd__V1__ExecuteResponse *r = exec_resp(p);
    assert_false(r->ok);
    assert_int_equal(r->result->error->code, GE(EDITOR_TIMEOUT));
    assert_int_equal(r->revision, r0);
    Comfyd__V1__GetGraphResponse *g = get_graph(m, "c1");
    assert_int_equal(g->graph->revision, r0);
    assert_true(find_node(g->graph, 3)->pos->x == 863);
    pb_free(g);
    reply_free(p);

    /* The caller's own deadline caps the wait too. */
    x.req.timeout_ms = 0;
    p = reply_new();
    assert_int_equal(canvas_execute(m, &x.req, 50, on_done, p, &e), CANVAS_OK);
    Comfyd__V1__PatchRequest *pr2 = tab_next_patch(t);
    assert_int_equal(exec_resp(p)->result->error->code, GE(EDITOR_TIMEOUT));
    reply_free(p);
    (void)pr2;

    /* The tab applied it after all: its late result is the truth. */
    char *wf = replace_once(txt2img, "[863, 186]", "[100, 100]");
    uint64_t rev = 0;
    assert_int_equal(report_patch(m, "c1", pr->request_id, 1, NULL, wf, NULL, 0, &rev), CANVAS_OK);
    assert_int_equal(rev, r0 + 1);
    free(wf);
    exec_clear(&x);
    canvas_mgr_shutdown(m);
    tab_free(t);
}

static void tab_gone_mid_request_is_editor_gone(void **state)
{
    canvas_mgr *m = ((fx *)*state)->m;
    tab *t = tab_new();
    uint64_t r0 = attach(m, t, "c1", txt2img);
    exec x, y;
    exec_init(&x, "c1", c_move(nid(3), 100, 100));
    exec_init(&y, "c1", c_move(nid(4), 100, 100));
    reply *p = reply_new(), *q = reply_new();
    canvas_error e = {0};
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p, &e), CANVAS_OK);
    assert_int_equal(canvas_execute(m, &y.req, 0, on_done, q, &e), CANVAS_OK);
    tab_next_patch(t);
    canvas_tab_gone(m, t->tab_id);
    Comfyd__V1__ExecuteResponse *r = exec_resp(p);
    assert_false(r->ok);
    assert_int_equal(r->result->error->code, GE(EDITOR_GONE));
    assert_int_equal(exec_resp(q)->result->error->code, GE(NO_LIVE_CANVAS));
    assert_int_equal(revision_of(m, "c1"), r0);
    assert_int_equal(t->released, 1);
    reply_free(p);
    reply_free(q);

    /* A stream that cannot take the request: nothing was sent. */
    tab *t2 = tab_new();
    attach(m, t2, "c1", txt2img);
    t2->refuse = 1;
    p = reply_new();
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p, &e), CANVAS_OK);
    assert_int_equal(exec_resp(p)->result->error->code, GE(EDITOR_GONE));
    reply_free(p);
    exec_clear(&x);
    exec_clear(&y);
    canvas_mgr_shutdown(m);
    tab_free(t);
    tab_free(t2);
}

static void tab_failure_is_editor_failed_with_its_message(void **state)
{
    canvas_mgr *m = ((fx *)*state)->m;
    tab *t = tab_new();
    uint64_t r0 = attach(m, t, "c1", txt2img);
    exec x;
    exec_init(&x, "c1", c_move(nid(3), 100, 100));
    reply *p = reply_new();
    canvas_error e = {0};
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p, &e), CANVAS_OK);
    Comfyd__V1__PatchRequest *pr = tab_next_patch(t);
    assert_int_equal(
        report_patch(m, "c1", pr->request_id, 0, "node 3 is locked", NULL, NULL, 0, NULL),
        CANVAS_OK);
    Comfyd__V1__ExecuteResponse *r = exec_resp(p);
    assert_false(r->ok);
    assert_int_equal(r->result->error->code, GE(EDITOR_FAILED));
    assert_non_null(strstr(r->result->error->message, "node 3 is locked"));
    assert_int_equal(r->revision, r0);
    reply_free(p);

    /* Success without a post-state is a failure too; the mirror stays. */
    p = reply_new();
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p, &e), CANVAS_OK);
    pr = tab_next_patch(t);
    assert_int_equal(report_patch(m, "c1", pr->request_id, 1, NULL, NULL, NULL, 0, NULL),
                     CANVAS_EINVAL);
    assert_int_equal(exec_resp(p)->result->error->code, GE(EDITOR_FAILED));
    assert_int_equal(revision_of(m, "c1"), r0);
    reply_free(p);

    /* A post-state that is no workflow: the same. */
    p = reply_new();
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p, &e), CANVAS_OK);
    pr = tab_next_patch(t);
    assert_int_equal(report_patch(m, "c1", pr->request_id, 1, NULL, "[1,2", NULL, 0, NULL),
                     CANVAS_EINVAL);
    assert_int_equal(exec_resp(p)->result->error->code, GE(EDITOR_FAILED));
    assert_int_equal(revision_of(m, "c1"), r0);
    reply_free(p);
    exec_clear(&x);
    canvas_mgr_shutdown(m);
    tab_free(t);
}

static void user_edit_bumps_the_revision_and_shows_in_the_diff(void **state)
{
    canvas_mgr *m = ((fx *)*state)->m;
    tab *t = tab_new();
    uint64_t r0 = attach(m, t, "c1", txt2img);
    char *wf = replace_once(txt2img, "[863, 186]", "[900, 300]");
    uint64_t r1 = report_user_edit(m, "c1", wf, 5);
    assert_int_equal(r1, r0 + 1);
    /* The same workflow again is no change. */
    assert_int_equal(report_user_edit(m, "c1", wf, 6), r1);
    /* An older tab state than one already in is ignored. */
    assert_int_equal(report_user_edit(m, "c1", txt2img, 4), r1);
    Comfyd__V1__GetDiffRequest dr = COMFYD__V1__GET_DIFF_REQUEST__INIT;
    dr.canvas_id = "c1";
    dr.since_revision = r0;
    Comfyd__V1__GetDiffResponse *d = NULL;
    canvas_error e = {0};
    assert_int_equal(canvas_get_diff(m, &dr, &d, &e), CANVAS_OK);
    assert_false(d->truncated);
    assert_int_equal(d->from_revision, r0);
    assert_int_equal(d->to_revision, r1);
    assert_int_equal(d->n_ops, 1);
    assert_int_equal(d->ops[0]->origin, COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER);
    assert_int_equal(d->ops[0]->revision, r1);
    assert_int_equal(d->ops[0]->command->command_case, COMFYD__V1__COMMAND__COMMAND_MOVE_NODE);
    assert_non_null(strstr(d->ops[0]->summary, "moved"));
    pb_free(d);
    /* Before the log (and after the canvas, e.g. from an older process):
     * the whole graph. */
    dr.since_revision = r0 - 1;
    assert_int_equal(canvas_get_diff(m, &dr, &d, &e), CANVAS_OK);
    assert_true(d->truncated);
    assert_non_null(d->graph);
    assert_int_equal(d->graph->n_nodes, 7);
    pb_free(d);
    dr.since_revision = r1 + 100;
    assert_int_equal(canvas_get_diff(m, &dr, &d, &e), CANVAS_OK);
    assert_true(d->truncated);
    pb_free(d);
    free(wf);
    canvas_mgr_shutdown(m);
    tab_free(t);
}

static void addressing_prefers_the_focused_canvas_and_refuses_ambiguity(void **state)
{
    canvas_mgr *m = ((fx *)*state)->m;
    canvas_error e = {0};
    exec x;
    exec_init(&x, NULL, c_get());
    reply *p = reply_new();
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p, &e), CANVAS_OK);
    Comfyd__V1__ExecuteResponse *r = exec_resp(p);
    assert_false(r->ok);
    assert_int_equal(r->result->error->code, GE(NO_LIVE_CANVAS));
    reply_free(p);
    Comfyd__V1__GetGraphRequest gr = COMFYD__V1__GET_GRAPH_REQUEST__INIT;
    Comfyd__V1__GetGraphResponse *g = NULL;
    assert_int_equal(canvas_get_graph(m, &gr, &g, &e), CANVAS_EGRAPH);
    assert_int_equal(e.code, GE(NO_LIVE_CANVAS));

    tab *ta = tab_new(), *tb = tab_new(), *tc = tab_new();
    attach(m, ta, "a", empty_wf);
    g = get_graph(m, NULL);
    assert_string_equal(g->graph->canvas_id, "a"); /* the only one */
    pb_free(g);
    attach(m, tb, "b", txt2img);
    assert_int_equal(canvas_get_graph(m, &gr, &g, &e), CANVAS_EGRAPH);
    assert_int_equal(e.code, GE(AMBIGUOUS_CANVAS));
    assert_non_null(strstr(e.message, "\"a\""));
    assert_non_null(strstr(e.message, "\"b\""));
    report_focus(m, "b", 1);
    g = get_graph(m, NULL);
    assert_string_equal(g->graph->canvas_id, "b");
    pb_free(g);
    /* Losing focus keeps b the most recently focused. */
    report_focus(m, "b", 0);
    g = get_graph(m, NULL);
    assert_string_equal(g->graph->canvas_id, "b");
    pb_free(g);
    attach_oi(m, tc, "c", empty_wf, NULL, 1);
    g = get_graph(m, NULL);
    assert_string_equal(g->graph->canvas_id, "c");
    pb_free(g);
    gr.canvas_id = "zzz";
    assert_int_equal(canvas_get_graph(m, &gr, &g, &e), CANVAS_EGRAPH);
    assert_int_equal(e.code, GE(CANVAS_NOT_FOUND));
    x.req.canvas_id = "zzz";
    p = reply_new();
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p, &e), CANVAS_OK);
    assert_int_equal(exec_resp(p)->result->error->code, GE(CANVAS_NOT_FOUND));
    reply_free(p);
    Comfyd__V1__ListCanvasesResponse *l = NULL;
    assert_int_equal(canvas_list(m, &l, &e), CANVAS_OK);
    assert_int_equal(l->n_canvases, 3);
    assert_string_equal(l->canvases[0]->canvas_id, "c");
    assert_true(l->canvases[0]->focused);
    assert_true(l->canvases[0]->focused_at_ms > 0);
    assert_string_equal(l->canvases[1]->canvas_id, "b");
    assert_false(l->canvases[1]->focused);
    assert_string_equal(l->canvases[2]->canvas_id, "a");
    assert_int_equal(l->canvases[1]->node_count, 7);
    pb_free(l);
    exec_clear(&x);
    canvas_mgr_shutdown(m);
    tab_free(ta);
    tab_free(tb);
    tab_free(tc);
}

static void two_patches_on_one_canvas_are_dispatched_one_after_the_other(void **state)
{
    canvas_mgr *m = ((fx *)*state)->m;
    tab *t = tab_new();
    uint64_t r0 = attach(m, t, "c1", txt2img);
    exec x1, x2, x3;
    exec_init(&x1, "c1", c_move(nid(3), 100, 100));
    exec_init(&x2, "c1", c_move(nid(3), 50, 50));
    x2.base.value = r0; /* fresh now, stale once x1 is in, and x1 moved #3 too */
    x2.req.base_revision = &x2.base;
    exec_init(&x3, "c1", c_move(nid(4), 60, 60));
    reply *p1 = reply_new(), *p2 = reply_new(), *p3 = reply_new();
    canvas_error e = {0};
    assert_int_equal(canvas_execute(m, &x1.req, 0, on_done, p1, &e), CANVAS_OK);
    assert_int_equal(canvas_execute(m, &x2.req, 0, on_done, p2, &e), CANVAS_OK);
    assert_int_equal(canvas_execute(m, &x3.req, 0, on_done, p3, &e), CANVAS_OK);
    Comfyd__V1__PatchRequest *a = tab_next_patch(t);
    assert_int_equal(tab_pending(t), 0); /* one in flight */
    assert_int_equal(a->commands[0]->move_node->node_id->id, 3);
    char *wf1 = replace_once(txt2img, "[863, 186]", "[100, 100]");
    results rs = {0};
    result_add(&rs, 3, 0);
    assert_int_equal(report_patch(m, "c1", a->request_id, 1, NULL, wf1, &rs, 0, NULL), CANVAS_OK);
    assert_int_equal(exec_resp(p1)->revision, r0 + 1);
    /* x2 was checked when its turn came: stale and not commuting with x1
     * (both move #3), never sent; the conflict names x1's revision. */
    Comfyd__V1__CommandResult *c2 = exec_resp(p2)->result;
    assert_int_equal(c2->error->code, GE(STALE_REVISION));
    assert_int_equal(c2->error->n_conflicts, 1);
    assert_int_equal(c2->error->conflicts[0]->node_id, 3);
    assert_int_equal(c2->error->conflicts[0]->revision, r0 + 1);
    assert_string_equal(c2->error->conflicts[0]->change, "move_node");
    assert_int_equal(c2->error->conflicts[0]->origin, COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_AGENT);
    assert_false(exec_resp(p2)->rebased);
    Comfyd__V1__PatchRequest *b = tab_next_patch(t);
    assert_int_equal(b->commands[0]->move_node->node_id->id, 4);
    assert_true(b->request_id > a->request_id);
    assert_false(reply_done(p3));
    char *wf2 = replace_once(wf1, "[26, 474]", "[60, 60]");
    results rs2 = {0};
    result_add(&rs2, 4, 0);
    assert_int_equal(report_patch(m, "c1", b->request_id, 1, NULL, wf2, &rs2, 0, NULL), CANVAS_OK);
    Comfyd__V1__ExecuteResponse *r3 = exec_resp(p3);
    assert_true(r3->ok);
    assert_int_equal(r3->revision, r0 + 2);
    assert_true(r3->result->node->pos->x == 60);
    free(wf1);
    free(wf2);
    reply_free(p1);
    reply_free(p2);
    reply_free(p3);
    exec_clear(&x1);
    exec_clear(&x2);
    exec_clear(&x3);
    canvas_mgr_shutdown(m);
    tab_free(t);
}

/* Two callers with the same base: the second patch, commuting with the
 * first (another node), is rebased onto the first's revision and sent;
 * a third asking on_stale REJECT is refused whole as before. */
static void a_stale_patch_that_commutes_is_rebased(void **state)
{
    canvas_mgr *m = ((fx *)*state)->m;
    tab *t = tab_new();
    uint64_t r0 = attach(m, t, "c1", txt2img);
    exec x1, x2, x3;
    exec_init(&x1, "c1", c_move(nid(3), 100, 100));
    exec_init(&x2, "c1", c_move(nid(4), 60, 60));
    exec_init(&x3, "c1", c_move(nid(5), 70, 70));
    exec *all[3] = {&x1, &x2, &x3};
    for (int i = 0; i < 3; i++) {
        all[i]->base.value = r0;
        all[i]->req.base_revision = &all[i]->base;
    }
    x3.req.on_stale = COMFYD__V1__ON_STALE__ON_STALE_REJECT;
    reply *p1 = reply_new(), *p2 = reply_new(), *p3 = reply_new();
    canvas_error e = {0};
    assert_int_equal(canvas_execute(m, &x1.req, 0, on_done, p1, &e), CANVAS_OK);
    assert_int_equal(canvas_execute(m, &x2.req, 0, on_done, p2, &e), CANVAS_OK);
    assert_int_equal(canvas_execute(m, &x3.req, 0, on_done, p3, &e), CANVAS_OK);
    Comfyd__V1__PatchRequest *a = tab_next_patch(t);
    char *wf1 = replace_once(txt2img, "[863, 186]", "[100, 100]");
    results rs = {0};
    result_add(&rs, 3, 0);
    assert_int_equal(report_patch(m, "c1", a->request_id, 1, NULL, wf1, &rs, 0, NULL), CANVAS_OK);
    assert_false(exec_resp(p1)->rebased);
    /* x2 reaches the tab as it is. */
    Comfyd__V1__PatchRequest *b = tab_next_patch(t);
    assert_int_equal(b->commands[0]->move_node->node_id->id, 4);
    char *wf2 = replace_once(wf1, "[26, 474]", "[60, 60]");
    results rs2 = {0};
    result_add(&rs2, 4, 0);
    assert_int_equal(report_patch(m, "c1", b->request_id, 1, NULL, wf2, &rs2, 0, NULL), CANVAS_OK);
    Comfyd__V1__ExecuteResponse *r2 = exec_resp(p2);
    assert_true(r2->ok);
    assert_true(r2->rebased);
    assert_int_equal(r2->rebased_from, r0);
    assert_int_equal(r2->revision, r0 + 2);
    Comfyd__V1__ExecuteResponse *r3 = exec_resp(p3);
    assert_false(r3->ok);
    assert_false(r3->rebased);
    assert_int_equal(r3->result->error->code, GE(STALE_REVISION));
    assert_non_null(strstr(r3->result->error->message, "on_stale is reject"));
    assert_int_equal(tab_pending(t), 0);
    free(wf1);
    free(wf2);
    reply_free(p1);
    reply_free(p2);
    reply_free(p3);
    exec_clear(&x1);
    exec_clear(&x2);
    exec_clear(&x3);
    canvas_mgr_shutdown(m);
    tab_free(t);
}

static void queue_save_and_load_go_through_the_tab_and_the_store(void **state)
{
    canvas_mgr *m = ((fx *)*state)->m;
    tab *t = tab_new();
    uint64_t r0 = attach(m, t, "c1", txt2img);
    canvas_error e = {0};

    Comfyd__V1__QueueRequest qr = COMFYD__V1__QUEUE_REQUEST__INIT;
    reply *p = reply_new();
    assert_int_equal(canvas_queue(m, &qr, 0, on_done, p, &e), CANVAS_OK);
    Comfyd__V1__AttachCanvasResponse *msg = tab_next(t);
    assert_int_equal(msg->kind_case, COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_QUEUE);
    assert_int_equal(msg->queue->batch_count, 1);
    Comfyd__V1__EditorQueueResult res = COMFYD__V1__EDITOR_QUEUE_RESULT__INIT;
    res.request_id = msg->queue->request_id;
    res.ok = 1;
    res.prompt_id = "p-1";
    res.number = 7;
    Comfyd__V1__ReportEditorRequest rep = COMFYD__V1__REPORT_EDITOR_REQUEST__INIT;
    rep.canvas_id = "c1";
    rep.report_case = COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_QUEUE_RESULT;
    rep.queue_result = &res;
    uint64_t rev;
    assert_int_equal(canvas_report(m, &rep, &rev, &e), CANVAS_OK);
    reply_wait(p);
    assert_int_equal(p->err, CANVAS_OK);
    Comfyd__V1__QueueResponse *q = p->resp;
    assert_string_equal(q->prompt_id, "p-1");
    assert_int_equal(q->number, 7);
    assert_int_equal(q->revision, r0);
    reply_free(p);

    /* A failed queue is EDITOR_FAILED, as a graph error. */
    p = reply_new();
    assert_int_equal(canvas_queue(m, &qr, 0, on_done, p, &e), CANVAS_OK);
    msg = tab_next(t);
    res.request_id = msg->queue->request_id;
    res.ok = 0;
    res.error = "prompt has no outputs";
    assert_int_equal(canvas_report(m, &rep, &rev, &e), CANVAS_OK);
    reply_wait(p);
    assert_int_equal(p->err, CANVAS_EGRAPH);
    assert_int_equal(p->code, GE(EDITOR_FAILED));
    assert_non_null(strstr(p->msg, "prompt has no outputs"));
    reply_free(p);

    Comfyd__V1__SaveRequest sr = COMFYD__V1__SAVE_REQUEST__INIT;
    sr.name = "my flow";
    Comfyd__V1__SaveResponse *s = NULL;
    assert_int_equal(canvas_save(m, &sr, &s, &e), CANVAS_OK);
    assert_int_equal(s->bytes, txt2img_len);
    assert_int_equal(s->revision, r0);
    pb_free(s);
    assert_int_equal(canvas_save(m, &sr, &s, &e), CANVAS_EEXIST);
    sr.overwrite = 1;
    assert_int_equal(canvas_save(m, &sr, &s, &e), CANVAS_OK);
    pb_free(s);
    sr.name = "../x";
    assert_int_equal(canvas_save(m, &sr, &s, &e), CANVAS_EGRAPH);
    assert_int_equal(e.code, GE(INVALID_NAME));
    Comfyd__V1__ListWorkflowsResponse *lw = NULL;
    assert_int_equal(canvas_list_workflows(m, &lw, &e), CANVAS_OK);
    assert_int_equal(lw->n_workflows, 1);
    assert_string_equal(lw->workflows[0]->name, "my flow");
    assert_int_equal(lw->workflows[0]->bytes, txt2img_len);
    pb_free(lw);

    /* Load by name: the stored workflow goes to the tab; an unchanged
     * canvas keeps its revision. */
    Comfyd__V1__LoadRequest lr = COMFYD__V1__LOAD_REQUEST__INIT;
    lr.name = "my flow";
    p = reply_new();
    assert_int_equal(canvas_load(m, &lr, 0, on_done, p, &e), CANVAS_OK);
    msg = tab_next(t);
    assert_int_equal(msg->kind_case, COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_LOAD);
    assert_string_equal(msg->load->workflow_json, txt2img);
    Comfyd__V1__EditorLoadResult lres = COMFYD__V1__EDITOR_LOAD_RESULT__INIT;
    lres.request_id = msg->load->request_id;
    lres.ok = 1;
    rep.report_case = COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_LOAD_RESULT;
    rep.load_result = &lres;
    assert_int_equal(canvas_report(m, &rep, &rev, &e), CANVAS_OK);
    reply_wait(p);
    assert_int_equal(p->err, CANVAS_OK);
    assert_int_equal(((Comfyd__V1__LoadResponse *)p->resp)->revision, r0);
    assert_int_equal(((Comfyd__V1__LoadResponse *)p->resp)->node_count, 7);
    reply_free(p);

    /* Load given JSON: committed with origin LOAD from the tab's state. */
    lr.name = "";
    lr.workflow_json = (char *)empty_wf;
    p = reply_new();
    assert_int_equal(canvas_load(m, &lr, 0, on_done, p, &e), CANVAS_OK);
    msg = tab_next(t);
    lres.request_id = msg->load->request_id;
    lres.workflow_json = (char *)empty_wf;
    assert_int_equal(canvas_report(m, &rep, &rev, &e), CANVAS_OK);
    reply_wait(p);
    assert_int_equal(((Comfyd__V1__LoadResponse *)p->resp)->revision, r0 + 1);
    assert_int_equal(((Comfyd__V1__LoadResponse *)p->resp)->node_count, 0);
    reply_free(p);

    lr.workflow_json = "";
    lr.name = "missing";
    p = reply_new();
    assert_int_equal(canvas_load(m, &lr, 0, on_done, p, &e), CANVAS_OK);
    reply_wait(p);
    assert_int_equal(p->err, CANVAS_EGRAPH);
    assert_int_equal(p->code, GE(WORKFLOW_NOT_FOUND));
    reply_free(p);
    lr.name = ".hidden";
    assert_int_equal(canvas_load(m, &lr, 0, on_done, NULL, &e), CANVAS_EGRAPH);
    assert_int_equal(e.code, GE(INVALID_NAME));
    lr.name = "";
    lr.workflow_json = "not json";
    p = reply_new();
    assert_int_equal(canvas_load(m, &lr, 0, on_done, p, &e), CANVAS_OK);
    reply_wait(p);
    assert_int_equal(p->err, CANVAS_EINVAL);
    reply_free(p);
    assert_int_equal(tab_pending(t), 0);
    canvas_mgr_shutdown(m);
    tab_free(t);
}

static void malformed_requests_and_limits_are_refused(void **state)
{
    canvas_mgr *m = ((fx *)*state)->m;
    canvas_error e = {0};
    exec x;
    exec_init(&x, "c1", NULL);
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, NULL, &e), CANVAS_EINVAL);
    assert_non_null(strstr(e.message, "command"));
    Comfyd__V1__Command empty = COMFYD__V1__COMMAND__INIT;
    x.req.command = &empty;
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, NULL, &e), CANVAS_EINVAL);
    assert_non_null(strstr(e.message, "command is empty"));
    x.req.command = c_create("KSampler\xff", NULL);
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, NULL, &e), CANVAS_EINVAL);
    assert_non_null(strstr(e.message, "node_type is not valid UTF-8"));
    exec_clear(&x);
    char *big = malloc(CANVAS_MAX_TEXT + 2);
    memset(big, 'a', CANVAS_MAX_TEXT + 1);
    big[CANVAS_MAX_TEXT + 1] = 0;
    exec_init(&x, "c1", c_set(nid(1), "text", v_text(big)));
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, NULL, &e), CANVAS_EINVAL);
    assert_non_null(strstr(e.message, "too long"));
    exec_clear(&x);
    free(big);
    exec_init(&x, "bad\nid", c_get());
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, NULL, &e), CANVAS_EINVAL);
    exec_clear(&x);

    static Comfyd__V1__Command *many[GRAPH_MAX_BATCH + 1];
    Comfyd__V1__Command *g = c_get();
    for (size_t i = 0; i < GRAPH_MAX_BATCH + 1; i++)
        many[i] = g;
    Comfyd__V1__ExecuteBatchRequest br = COMFYD__V1__EXECUTE_BATCH_REQUEST__INIT;
    br.commands = many;
    br.n_commands = GRAPH_MAX_BATCH + 1;
    assert_int_equal(canvas_execute_batch(m, &br, 0, on_done, NULL, &e), CANVAS_EINVAL);
    pb_free(g);

    Comfyd__V1__AttachCanvasRequest ar = COMFYD__V1__ATTACH_CANVAS_REQUEST__INIT;
    uint64_t id;
    assert_int_equal(canvas_attach(m, &ar, &ops, NULL, &id, &e), CANVAS_EINVAL);
    ar.canvas_id = "c1";
    ar.workflow_json = "{\"nodes\": 5";
    assert_int_equal(canvas_attach(m, &ar, &ops, NULL, &id, &e), CANVAS_EINVAL);
    assert_non_null(strstr(e.message, "workflow_json"));
    ar.workflow_json = "";
    ar.object_info_json = "[]";
    assert_int_equal(canvas_attach(m, &ar, &ops, NULL, &id, &e), CANVAS_EINVAL);
    assert_non_null(strstr(e.message, "object_info_json"));
    Comfyd__V1__ReportEditorRequest rep = COMFYD__V1__REPORT_EDITOR_REQUEST__INIT;
    rep.canvas_id = "c1";
    uint64_t rev;
    assert_int_equal(canvas_report(m, &rep, &rev, &e), CANVAS_EINVAL);
    canvas_mgr_destroy(m);

    /* A canvas's queue is bounded. */
    m = ((fx *)*state)->m = mgr_new(2);
    tab *t = tab_new();
    attach(m, t, "c1", txt2img);
    exec_init(&x, "c1", c_move(nid(3), 1, 1));
    reply *p[4];
    for (size_t i = 0; i < 4; i++) {
        p[i] = reply_new();
        assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p[i], &e), CANVAS_OK);
    }
    reply_wait(p[3]);
    assert_int_equal(p[3]->err, CANVAS_EFULL);
    for (size_t i = 0; i < 3; i++)
        assert_false(reply_done(p[i]));
    /* Shutdown answers what waits, and ends the stream. */
    canvas_mgr_shutdown(m);
    for (size_t i = 0; i < 3; i++) {
        reply_wait(p[i]);
        assert_int_equal(p[i]->err, CANVAS_ESHUTDOWN);
    }
    assert_true(t->ended);
    assert_int_equal(t->end_code, CANVAS_END_UNAVAILABLE);
    assert_int_equal(t->released, 1);
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, NULL, &e), CANVAS_ESHUTDOWN);
    for (size_t i = 0; i < 4; i++)
        reply_free(p[i]);
    exec_clear(&x);
    tab_free(t);
}

static void
reattach_fails_the_request_in_flight_and_sends_the_waiting_ones_to_the_new_tab(void **state)
{
    canvas_mgr *m = ((fx *)*state)->m;
    tab *t1 = tab_new(), *t2 = tab_new();
    uint64_t r0 = attach(m, t1, "c1", txt2img);
    exec x1, x2;
    exec_init(&x1, "c1", c_move(nid(3), 100, 100));
    exec_init(&x2, "c1", c_move(nid(4), 60, 60));
    reply *p1 = reply_new(), *p2 = reply_new();
    canvas_error e = {0};
    assert_int_equal(canvas_execute(m, &x1.req, 0, on_done, p1, &e), CANVAS_OK);
    assert_int_equal(canvas_execute(m, &x2.req, 0, on_done, p2, &e), CANVAS_OK);
    tab_next_patch(t1);
    /* The page reloads: its first request was lost with the old page. */
    uint64_t r1 = attach(m, t2, "c1", txt2img);
    assert_int_equal(r1, r0); /* the same workflow: no change */
    assert_int_equal(exec_resp(p1)->result->error->code, GE(EDITOR_GONE));
    Comfyd__V1__PatchRequest *pr = tab_next_patch(t2);
    assert_int_equal(pr->commands[0]->move_node->node_id->id, 4);
    char *wf = replace_once(txt2img, "[26, 474]", "[60, 60]");
    assert_int_equal(report_patch(m, "c1", pr->request_id, 1, NULL, wf, NULL, 0, NULL), CANVAS_OK);
    assert_true(exec_resp(p2)->ok);
    assert_int_equal(exec_resp(p2)->revision, r0 + 1);
    free(wf);
    reply_free(p1);
    reply_free(p2);
    exec_clear(&x1);
    exec_clear(&x2);
    canvas_mgr_shutdown(m);
    tab_free(t1);
    tab_free(t2);
}

static void a_dropped_canvas_comes_back_above_its_old_revisions(void **state)
{
    canvas_mgr *m = ((fx *)*state)->m;
    canvas_mgr_destroy(m);
    canvas_mgr_opts o = {.store = wfs, .max_canvases = 1};
    assert_int_equal(canvas_mgr_create(&m, &o), CANVAS_OK);
    ((fx *)*state)->m = m;
    tab *ta = tab_new(), *tb = tab_new(), *ta2 = tab_new(), *tc = tab_new();
    attach(m, ta, "a", txt2img);
    char *wf = replace_once(txt2img, "[863, 186]", "[900, 300]");
    uint64_t ra = report_user_edit(m, "a", wf, 0);
    free(wf);
    /* Full of attached canvases: refused. */
    Comfyd__V1__AttachCanvasRequest req = COMFYD__V1__ATTACH_CANVAS_REQUEST__INIT;
    req.canvas_id = "b";
    canvas_error e = {0};
    uint64_t id;
    assert_int_equal(canvas_attach(m, &req, &ops, tc, &id, &e), CANVAS_EFULL);
    /* A detached one makes room. */
    canvas_tab_gone(m, ta->tab_id);
    struct timespec ts = deadline_in(GUARD_MS);
    pthread_mutex_lock(&ta->mu);
    while (!ta->released)
        if (pthread_cond_timedwait(&ta->cv, &ta->mu, &ts)) break;
    pthread_mutex_unlock(&ta->mu);
    attach(m, tb, "b", empty_wf);
    Comfyd__V1__GetGraphRequest gr = COMFYD__V1__GET_GRAPH_REQUEST__INIT;
    gr.canvas_id = "a";
    Comfyd__V1__GetGraphResponse *g = NULL;
    assert_int_equal(canvas_get_graph(m, &gr, &g, &e), CANVAS_EGRAPH);
    assert_int_equal(e.code, GE(CANVAS_NOT_FOUND));
    canvas_tab_gone(m, tb->tab_id);
    ts = deadline_in(GUARD_MS);
    pthread_mutex_lock(&tb->mu);
    while (!tb->released)
        if (pthread_cond_timedwait(&tb->cv, &tb->mu, &ts)) break;
    pthread_mutex_unlock(&tb->mu);
    /* "a" again: never a revision it had before. */
    uint64_t r = attach(m, ta2, "a", txt2img);
    assert_true(r > ra);
    canvas_mgr_shutdown(m);
    tab_free(ta);
    tab_free(tb);
    tab_free(ta2);
    tab_free(tc);
}

static const char oi_a[] =
    "{\"NodeA\": {\"input\": {\"required\": {\"x\": [\"INT\", {\"default\": 1}]}}, "
    "\"output\": [\"LATENT\"], \"output_name\": [\"LATENT\"], \"name\": \"NodeA\", "
    "\"display_name\": \"Node A\", \"category\": \"test\", \"output_node\": false}}";
static const char oi_b[] =
    "{\"NodeB\": {\"input\": {\"required\": {\"samples\": [\"LATENT\"]}}, "
    "\"output\": [], \"output_name\": [], \"name\": \"NodeB\", "
    "\"display_name\": \"Node B\", \"category\": \"test/sub\", \"output_node\": true}}";

static void node_types_come_from_the_schema_or_the_union_of_the_tabs(void **state)
{
    canvas_mgr *m = ((fx *)*state)->m;
    canvas_error e = {0};
    Comfyd__V1__ListNodeTypesRequest lr = COMFYD__V1__LIST_NODE_TYPES_REQUEST__INIT;
    lr.query = "ksampler";
    Comfyd__V1__ListNodeTypesResponse *r = NULL;
    assert_int_equal(canvas_list_node_types(m, &lr, &r, &e), CANVAS_OK);
    assert_true(r->n_node_types >= 2);
    assert_string_equal(r->node_types[0]->name, "KSampler");
    assert_true(r->total >= r->n_node_types);
    pb_free(r);
    char *names[] = {"VAEDecode", "Nope", "KSampler"};
    lr.names = names;
    lr.n_names = 3;
    assert_int_equal(canvas_list_node_types(m, &lr, &r, &e), CANVAS_OK);
    assert_int_equal(r->n_node_types, 2);
    assert_int_equal(r->total, 2);
    assert_string_equal(r->node_types[0]->name, "VAEDecode");
    assert_int_equal(r->node_types[0]->n_inputs, 2);
    pb_free(r);
    lr.n_names = 0;
    lr.query = "";
    lr.limit = 5;
    assert_int_equal(canvas_list_node_types(m, &lr, &r, &e), CANVAS_OK);
    assert_int_equal(r->n_node_types, 5);
    assert_true(r->total > 500);
    pb_free(r);
    lr.canvas_id = "nope";
    assert_int_equal(canvas_list_node_types(m, &lr, &r, &e), CANVAS_EGRAPH);
    assert_int_equal(e.code, GE(CANVAS_NOT_FOUND));
    canvas_mgr_destroy(m);

    /* No --object-info: nothing is known until a tab says so. */
    m = ((fx *)*state)->m = mgr_new(0);
    tab *t = tab_new(), *ta = tab_new(), *tb = tab_new();
    attach(m, t, "c0", empty_wf);
    exec x;
    exec_init(&x, "c0", c_create("KSampler", NULL));
    x.req.validate_only = 1;
    reply *p = reply_new();
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p, &e), CANVAS_OK);
    Comfyd__V1__ExecuteResponse *xr = exec_resp(p);
    assert_int_equal(xr->result->error->code, GE(UNKNOWN_NODE_TYPE));
    assert_non_null(strstr(xr->result->error->message, "no node types are known yet"));
    reply_free(p);
    exec_clear(&x);
    attach_oi(m, ta, "a", empty_wf, oi_a, 0);
    attach_oi(m, tb, "b", empty_wf, oi_b, 0);
    lr.canvas_id = "";
    lr.limit = 0;
    lr.category = "test";
    assert_int_equal(canvas_list_node_types(m, &lr, &r, &e), CANVAS_OK);
    assert_int_equal(r->total, 2);
    assert_string_equal(r->node_types[0]->name, "NodeA");
    assert_string_equal(r->node_types[1]->name, "NodeB");
    pb_free(r);
    /* A canvas's own schema is what its tab sent. */
    lr.canvas_id = "a";
    assert_int_equal(canvas_list_node_types(m, &lr, &r, &e), CANVAS_OK);
    assert_int_equal(r->total, 1);
    assert_string_equal(r->node_types[0]->name, "NodeA");
    pb_free(r);
    /* The tab-less canvas uses the union now. */
    exec_init(&x, "c0", c_create("NodeB", NULL));
    x.req.validate_only = 1;
    p = reply_new();
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p, &e), CANVAS_OK);
    assert_true(exec_resp(p)->ok);
    reply_free(p);
    exec_clear(&x);
    canvas_mgr_shutdown(m);
    tab_free(t);
    tab_free(ta);
    tab_free(tb);
}

/* arrange's request-level checks: the length of its node list and its refs. */
static void arrange_node_lists_are_bounded(void **state)
{
    canvas_mgr *m = ((fx *)*state)->m;
    canvas_error e = {0};
    exec x;
    Comfyd__V1__ArrangeCommand *a = alloc(sizeof *a);
    comfyd__v1__arrange_command__init(a);
    a->n_node_ids = GRAPH_MAX_NODES + 1;
    a->node_ids = alloc(a->n_node_ids * sizeof *a->node_ids);
    for (size_t i = 0; i < a->n_node_ids; i++)
        a->node_ids[i] = nid((int64_t)i + 1);
    exec_init(&x, "c1", wrap(COMFYD__V1__COMMAND__COMMAND_ARRANGE, a));
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, NULL, &e), CANVAS_EINVAL);
    assert_non_null(strstr(e.message, "commands[0].arrange.node_ids: more than 10000"));
    exec_clear(&x);

    a = alloc(sizeof *a);
    comfyd__v1__arrange_command__init(a);
    a->n_node_ids = 2;
    a->node_ids = alloc(2 * sizeof *a->node_ids);
    a->node_ids[0] = nid(1);
    a->node_ids[1] = nref("bad\xff");
    exec_init(&x, "c1", wrap(COMFYD__V1__COMMAND__COMMAND_ARRANGE, a));
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, NULL, &e), CANVAS_EINVAL);
    assert_non_null(strstr(e.message, "arrange.node_ids.ref"));
    exec_clear(&x);

    /* A Command whose case is arrange but without its message. */
    Comfyd__V1__Command empty = COMFYD__V1__COMMAND__INIT;
    empty.command_case = COMFYD__V1__COMMAND__COMMAND_ARRANGE;
    x.req.command = &empty;
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, NULL, &e), CANVAS_EINVAL);
    assert_non_null(strstr(e.message, "get_graph, arrange"));
}

/* ---- preview before apply ---- */

#define PV(x) COMFYD__V1__PREVIEW_OUTCOME__PREVIEW_OUTCOME_##x

static uint64_t attach_previewing(canvas_mgr *m, tab *t, const char *cid, const char *wf)
{
    Comfyd__V1__AttachCanvasRequest req = COMFYD__V1__ATTACH_CANVAS_REQUEST__INIT;
    req.canvas_id = (char *)cid;
    req.title = "test";
    req.workflow_json = (char *)wf;
    req.can_preview = 1;
    canvas_error e = {0};
    assert_int_equal(canvas_attach(m, &req, &ops, t, &t->tab_id, &e), CANVAS_OK);
    Comfyd__V1__AttachCanvasResponse *msg = tab_next(t);
    assert_int_equal(msg->kind_case, COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_ATTACHED);
    return msg->attached->revision;
}

static void decide(canvas_mgr *m, const char *cid, uint64_t request_id, int accepted)
{
    Comfyd__V1__PreviewDecision d = COMFYD__V1__PREVIEW_DECISION__INIT;
    d.request_id = request_id;
    d.accepted = accepted;
    Comfyd__V1__ReportEditorRequest req = COMFYD__V1__REPORT_EDITOR_REQUEST__INIT;
    req.canvas_id = (char *)cid;
    req.report_case = COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_PREVIEW_DECISION;
    req.preview_decision = &d;
    canvas_error e = {0};
    uint64_t r = 0;
    assert_int_equal(canvas_report(m, &req, &r, &e), CANVAS_OK);
}

static Comfyd__V1__PreviewRequest *tab_next_preview(tab *t)
{
    Comfyd__V1__AttachCanvasResponse *m = tab_next(t);
    assert_int_equal(m->kind_case, COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_PREVIEW);
    return m->preview;
}

static void a_preview_waits_for_the_decision_and_applies_only_when_accepted(void **state)
{
    canvas_mgr *m = ((fx *)*state)->m;
    tab *t = tab_new();
    uint64_t r0 = attach_previewing(m, t, "c1", txt2img);
    canvas_error e = {0};

    /* Rejected: the tab saw a preview, never a patch; nothing changed. */
    batch b;
    batch_init(&b, "c1");
    add(&b, c_move(nid(3), 100, 100));
    add(&b, c_remove(nid(9)));
    b.req.apply_mode = COMFYD__V1__APPLY_MODE__APPLY_MODE_PREVIEW;
    reply *p = reply_new();
    assert_int_equal(canvas_execute_batch(m, &b.req, 0, on_done, p, &e), CANVAS_OK);
    Comfyd__V1__PreviewRequest *pv = tab_next_preview(t);
    assert_int_equal(pv->n_commands, 2);
    assert_int_equal(pv->n_destructive, 1);
    assert_int_equal(pv->destructive[0], 1);
    assert_true(pv->deadline_ms > 0);
    assert_non_null(strstr(pv->requested_by, "gRPC"));
    assert_int_equal(reply_done(p), 0);
    decide(m, "c1", pv->request_id + 1000, 1); /* another request's: ignored */
    assert_int_equal(reply_done(p), 0);
    assert_int_equal(tab_pending(t), 0);
    decide(m, "c1", pv->request_id, 0);
    Comfyd__V1__ExecuteBatchResponse *r = batch_resp(p);
    assert_false(r->ok);
    assert_non_null(r->preview);
    assert_int_equal(r->preview->outcome, PV(REJECTED));
    assert_string_equal(r->preview->decided_by, "tab");
    assert_int_equal(r->revision, r0);
    assert_int_equal(r->errors[0]->code, GE(SKIPPED));
    assert_int_equal(tab_pending(t), 0);
    assert_int_equal(revision_of(m, "c1"), r0);
    reply_free(p);

    /* Accepted: an ordinary patch follows, committed as one revision. */
    batch_clear(&b);
    add(&b, c_move(nid(3), 100, 100));
    p = reply_new();
    assert_int_equal(canvas_execute_batch(m, &b.req, 0, on_done, p, &e), CANVAS_OK);
    pv = tab_next_preview(t);
    uint64_t prid = pv->request_id;
    decide(m, "c1", prid, 1);
    Comfyd__V1__PatchRequest *pr = tab_next_patch(t);
    assert_true(pr->request_id != prid);
    assert_int_equal(pr->n_commands, 1);
    char *wf = replace_once(txt2img, "[863, 186]", "[100, 100]");
    uint64_t rev = 0;
    assert_int_equal(report_patch(m, "c1", pr->request_id, 1, NULL, wf, NULL, 0, &rev), CANVAS_OK);
    free(wf);
    r = batch_resp(p);
    assert_true(r->ok);
    assert_int_equal(r->preview->outcome, PV(ACCEPTED));
    assert_int_equal(r->revision, r0 + 1);
    reply_free(p);

    /* Nobody decides: timed out, nothing sent, the queue moves on. */
    batch_clear(&b);
    add(&b, c_move(nid(3), 5, 5));
    b.req.preview_timeout_ms = 100;
    p = reply_new();
    assert_int_equal(canvas_execute_batch(m, &b.req, 0, on_done, p, &e), CANVAS_OK);
    pv = tab_next_preview(t);
    prid = pv->request_id;
    r = batch_resp(p);
    assert_false(r->ok);
    assert_int_equal(r->preview->outcome, PV(TIMED_OUT));
    decide(m, "c1", prid, 1); /* late: ignored */
    assert_int_equal(tab_pending(t), 0);
    assert_int_equal(revision_of(m, "c1"), r0 + 1);
    reply_free(p);

    /* Accepted after the user removed the node: validated again. */
    b.req.preview_timeout_ms = 0;
    p = reply_new();
    assert_int_equal(canvas_execute_batch(m, &b.req, 0, on_done, p, &e), CANVAS_OK);
    pv = tab_next_preview(t);
    prid = pv->request_id;
    Comfyd__V1__GetGraphResponse *g = get_graph(m, "c1");
    assert_non_null(find_node(g->graph, 3));
    pb_free(g);
    /* The user's edit: the workflow without node 3 (a canvas with node 9 only). */
    uint64_t urev = report_user_edit(
        m, "c1",
        "{\"last_node_id\":9,\"last_link_id\":9,\"nodes\":[],\"links\":[],\"version\":0.4}", 0);
    assert_int_equal(urev, r0 + 2);
    decide(m, "c1", prid, 1);
    r = batch_resp(p);
    assert_false(r->ok);
    assert_int_equal(r->preview->outcome, PV(ACCEPTED));
    assert_int_equal(r->errors[0]->code, GE(NODE_NOT_FOUND));
    assert_int_equal(tab_pending(t), 0);
    reply_free(p);

    /* Limits. */
    b.req.preview_timeout_ms = CANVAS_MAX_PREVIEW_MS + 1;
    assert_int_equal(canvas_execute_batch(m, &b.req, 0, on_done, NULL, &e), CANVAS_EINVAL);
    assert_non_null(strstr(e.message, "preview_timeout_ms"));
    b.req.preview_timeout_ms = 0;
    b.req.apply_mode = 99;
    assert_int_equal(canvas_execute_batch(m, &b.req, 0, on_done, NULL, &e), CANVAS_EINVAL);
    batch_clear(&b);
    canvas_mgr_shutdown(m);
    tab_free(t);
}

static void a_tab_without_previews_makes_them_unavailable_or_direct(void **state)
{
    canvas_mgr *m = ((fx *)*state)->m;
    tab *t = tab_new();
    uint64_t r0 = attach(m, t, "c1", txt2img);
    canvas_error e = {0};
    exec x;
    exec_init(&x, "c1", c_move(nid(3), 100, 100));
    x.req.apply_mode = COMFYD__V1__APPLY_MODE__APPLY_MODE_PREVIEW;
    reply *p = reply_new();
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p, &e), CANVAS_OK);
    Comfyd__V1__ExecuteResponse *r = exec_resp(p);
    assert_false(r->ok);
    assert_int_equal(r->preview->outcome, PV(UNAVAILABLE));
    assert_int_equal(tab_pending(t), 0);
    reply_free(p);
    x.req.apply_mode = COMFYD__V1__APPLY_MODE__APPLY_MODE_PREVIEW_IF_SHOWN;
    p = reply_new();
    assert_int_equal(canvas_execute(m, &x.req, 0, on_done, p, &e), CANVAS_OK);
    Comfyd__V1__PatchRequest *pr = tab_next_patch(t);
    char *wf = replace_once(txt2img, "[863, 186]", "[100, 100]");
    assert_int_equal(report_patch(m, "c1", pr->request_id, 1, NULL, wf, NULL, 0, NULL), CANVAS_OK);
    free(wf);
    r = exec_resp(p);
    assert_true(r->ok);
    assert_null(r->preview);
    assert_int_equal(r->revision, r0 + 1);
    reply_free(p);
    exec_clear(&x);
    canvas_mgr_shutdown(m);
    tab_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            attach_sends_attached_first_and_reattach_replaces_the_old_tab, each_setup,
            each_teardown),
        cmocka_unit_test_setup_teardown(
            txt2img_batch_by_refs_is_dispatched_then_committed_with_the_tabs_ids, each_setup,
            each_teardown),
        cmocka_unit_test_setup_teardown(stale_base_revision_is_refused_and_nothing_is_sent,
                                        each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(invalid_link_type_is_refused_with_nothing_sent, each_setup,
                                        each_teardown),
        cmocka_unit_test_setup_teardown(
            idempotent_retry_returns_the_stored_response_and_the_tab_sees_one_patch, each_setup,
            each_teardown),
        cmocka_unit_test(keys_and_revisions_outlive_the_manager_with_a_store),
        cmocka_unit_test_setup_teardown(tab_silence_is_editor_timeout_and_the_mirror_stays,
                                        each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(tab_gone_mid_request_is_editor_gone, each_setup,
                                        each_teardown),
        cmocka_unit_test_setup_teardown(tab_failure_is_editor_failed_with_its_message, each_setup,
                                        each_teardown),
        cmocka_unit_test_setup_teardown(user_edit_bumps_the_revision_and_shows_in_the_diff,
                                        each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(addressing_prefers_the_focused_canvas_and_refuses_ambiguity,
                                        each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(
            two_patches_on_one_canvas_are_dispatched_one_after_the_other, each_setup,
            each_teardown),
        cmocka_unit_test_setup_teardown(a_stale_patch_that_commutes_is_rebased, each_setup,
                                        each_teardown),
        cmocka_unit_test_setup_teardown(queue_save_and_load_go_through_the_tab_and_the_store,
                                        each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(malformed_requests_and_limits_are_refused, each_setup,
                                        each_teardown),
        cmocka_unit_test_setup_teardown(node_types_come_from_the_schema_or_the_union_of_the_tabs,
                                        each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(
            reattach_fails_the_request_in_flight_and_sends_the_waiting_ones_to_the_new_tab,
            each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(a_dropped_canvas_comes_back_above_its_old_revisions,
                                        each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(arrange_node_lists_are_bounded, each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(
            a_preview_waits_for_the_decision_and_applies_only_when_accepted, each_setup,
            each_teardown),
        cmocka_unit_test_setup_teardown(a_tab_without_previews_makes_them_unavailable_or_direct,
                                        each_setup, each_teardown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
