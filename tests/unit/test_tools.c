/* Unit tests for core/tools: the graph tools and the canvas note against a
 * real canvas manager, the fixture schema and workflows, and a fake tab.
 * The tab runs on its own thread, as a browser would: it takes the
 * PatchRequests and EditorQueueRequests the manager sends and answers them
 * through canvas_report with per-command results and the post-state
 * workflow the test chose, or stays silent. Tool functions are called from
 * the test thread exactly as the agent loop calls them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "skills.h"
#include "text.h"
#include "session.h"
#include "tools.h"

#define FIXTURES COMFYD_SOURCE_DIR "/tests/fixtures/"
/* The cancel bound the issue sets for a turn. */
#define CANCEL_BOUND_MS 100
#define MAX_IDS 32

static nodeinfo *schema;
static char *txt2img;

static const char empty_wf[] = "{\"last_node_id\": 0, \"last_link_id\": 0, \"nodes\": [], "
                               "\"links\": [], \"version\": 0.4}";

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = 0;
    } else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
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

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the fake tab ---- */

typedef struct tab {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    canvas_mgr *m;
    char canvas_id[64];
    uint64_t tab_id;
    pthread_t thread;
    int stop;
    /* Messages sent by the manager, not yet handled (copies). */
    Comfyd__V1__AttachCanvasResponse *inbox[16];
    size_t n_inbox;
    /* How to answer the next patch: the post-state (owned), the ids the
     * tab assigns to create_node commands and the link ids of connects. */
    char *post;
    int64_t node_ids[MAX_IDS];
    size_t n_node_ids;
    int64_t link_ids[MAX_IDS];
    size_t n_link_ids;
    int silent;    /* receive, never answer */
    uint64_t held; /* request id of the patch held while silent */
    /* What the tab saw. */
    int patches, queues;
    size_t last_n_commands;
    uint64_t tab_rev;
} tab;

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

static int tab_send(void *ud, const Comfyd__V1__AttachCanvasResponse *msg)
{
    tab *t = ud;
    pthread_mutex_lock(&t->mu);
    int full = t->n_inbox == sizeof t->inbox / sizeof t->inbox[0];
    if (!full) t->inbox[t->n_inbox++] = pb_copy(&msg->base);
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    return full ? -1 : 0;
}

static void tab_end(void *ud, int code, const char *message)
{
    (void)ud, (void)code, (void)message;
}

static void tab_release(void *ud)
{
    (void)ud;
}

static const canvas_tab_ops tab_ops = {tab_send, tab_end, tab_release};

static void answer_patch(tab *t, const Comfyd__V1__PatchRequest *pr, const char *post)
{
    Comfyd__V1__CommandResult r[64];
    Comfyd__V1__CommandResult *rp[64];
    size_t n = pr->n_commands < 64 ? pr->n_commands : 64, ni = 0, li = 0;
    for (size_t i = 0; i < n; i++) {
        const Comfyd__V1__Command *c = pr->commands[i];
        comfyd__v1__command_result__init(&r[i]);
        r[i].index = (int32_t)i;
        r[i].ok = 1;
        if (c->command_case == COMFYD__V1__COMMAND__COMMAND_CREATE_NODE && ni < t->n_node_ids)
            r[i].node_id = t->node_ids[ni++];
        else if (c->command_case == COMFYD__V1__COMMAND__COMMAND_CONNECT && li < t->n_link_ids)
            r[i].link_id = t->link_ids[li++];
        else if (c->command_case == COMFYD__V1__COMMAND__COMMAND_SET_WIDGET &&
                 c->set_widget->node_id->node_case == COMFYD__V1__NODE_REF__NODE_ID)
            r[i].node_id = c->set_widget->node_id->id;
        rp[i] = &r[i];
    }
    Comfyd__V1__PatchResult res = COMFYD__V1__PATCH_RESULT__INIT;
    res.request_id = pr->request_id;
    res.ok = 1;
    res.results = rp;
    res.n_results = n;
    res.workflow_json = (char *)post;
    pthread_mutex_lock(&t->mu);
    res.tab_revision = ++t->tab_rev;
    pthread_mutex_unlock(&t->mu);
    Comfyd__V1__ReportEditorRequest rep = COMFYD__V1__REPORT_EDITOR_REQUEST__INIT;
    rep.canvas_id = t->canvas_id;
    rep.report_case = COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_PATCH_RESULT;
    rep.patch_result = &res;
    uint64_t rev;
    canvas_error e = {0};
    canvas_report(t->m, &rep, &rev, &e);
}

static void answer_queue(tab *t, const Comfyd__V1__EditorQueueRequest *q)
{
    Comfyd__V1__EditorQueueResult res = COMFYD__V1__EDITOR_QUEUE_RESULT__INIT;
    char pid[32];
    snprintf(pid, sizeof pid, "prompt-%d", t->queues);
    res.request_id = q->request_id;
    res.ok = 1;
    res.prompt_id = pid;
    res.number = t->queues;
    Comfyd__V1__ReportEditorRequest rep = COMFYD__V1__REPORT_EDITOR_REQUEST__INIT;
    rep.canvas_id = t->canvas_id;
    rep.report_case = COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_QUEUE_RESULT;
    rep.queue_result = &res;
    uint64_t rev;
    canvas_error e = {0};
    canvas_report(t->m, &rep, &rev, &e);
}

/* The tab's thread: answers what the manager sends, outside its locks. */
static void *tab_main(void *arg)
{
    tab *t = arg;
    pthread_mutex_lock(&t->mu);
    for (;;) {
        while (!t->stop && t->n_inbox == 0)
            pthread_cond_wait(&t->cv, &t->mu);
        if (t->stop) break;
        Comfyd__V1__AttachCanvasResponse *msg = t->inbox[0];
        memmove(t->inbox, t->inbox + 1, --t->n_inbox * sizeof *t->inbox);
        char *post = NULL;
        int silent = t->silent;
        if (msg->kind_case == COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_PATCH) {
            t->patches++;
            t->last_n_commands = msg->patch->n_commands;
            if (silent) t->held = msg->patch->request_id;
            post = t->post ? text_dup(t->post) : NULL;
        } else if (msg->kind_case == COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_QUEUE) {
            t->queues++;
        }
        pthread_cond_broadcast(&t->cv);
        pthread_mutex_unlock(&t->mu);
        if (msg->kind_case == COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_PATCH && !silent && post)
            answer_patch(t, msg->patch, post);
        else if (msg->kind_case == COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_QUEUE && !silent)
            answer_queue(t, msg->queue);
        free(post);
        protobuf_c_message_free_unpacked(&msg->base, NULL);
        pthread_mutex_lock(&t->mu);
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

/* Attaches a tab for canvas_id with wf; returns it with its thread running. */
static tab *tab_attach(canvas_mgr *m, const char *canvas_id, const char *wf, int focused)
{
    tab *t = calloc(1, sizeof *t);
    assert_non_null(t);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    t->m = m;
    snprintf(t->canvas_id, sizeof t->canvas_id, "%s", canvas_id);
    Comfyd__V1__AttachCanvasRequest req = COMFYD__V1__ATTACH_CANVAS_REQUEST__INIT;
    req.canvas_id = (char *)canvas_id;
    req.title = "test";
    req.workflow_json = (char *)wf;
    req.focused = focused;
    canvas_error e = {0};
    assert_int_equal(canvas_attach(m, &req, &tab_ops, t, &t->tab_id, &e), CANVAS_OK);
    /* The Attached message is the first one; nothing to answer. */
    pthread_mutex_lock(&t->mu);
    assert_int_equal(t->n_inbox, 1);
    assert_int_equal(t->inbox[0]->kind_case, COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_ATTACHED);
    protobuf_c_message_free_unpacked(&t->inbox[0]->base, NULL);
    t->n_inbox = 0;
    pthread_mutex_unlock(&t->mu);
    assert_int_equal(pthread_create(&t->thread, NULL, tab_main, t), 0);
    return t;
}

/* Sets how the next patch is answered (post is copied). */
static void tab_expect(tab *t, const char *post, const int64_t *nodes, size_t n_nodes,
                       const int64_t *links, size_t n_links)
{
    pthread_mutex_lock(&t->mu);
    free(t->post);
    t->post = post ? text_dup(post) : NULL;
    if (n_nodes) memcpy(t->node_ids, nodes, n_nodes * sizeof *nodes);
    t->n_node_ids = n_nodes;
    if (n_links) memcpy(t->link_ids, links, n_links * sizeof *links);
    t->n_link_ids = n_links;
    pthread_mutex_unlock(&t->mu);
}

static int tab_patches(tab *t)
{
    pthread_mutex_lock(&t->mu);
    int n = t->patches;
    pthread_mutex_unlock(&t->mu);
    return n;
}

/* Stops the thread; the manager must be shut down first (no more sends). */
static void tab_free(tab *t)
{
    pthread_mutex_lock(&t->mu);
    t->stop = 1;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    for (size_t i = 0; i < t->n_inbox; i++)
        protobuf_c_message_free_unpacked(&t->inbox[i]->base, NULL);
    free(t->post);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    free(t);
}

/* The user changed the tab's graph to wf. */
static uint64_t user_edit(tab *t, const char *wf)
{
    Comfyd__V1__UserEdit u = COMFYD__V1__USER_EDIT__INIT;
    u.workflow_json = (char *)wf;
    pthread_mutex_lock(&t->mu);
    u.tab_revision = ++t->tab_rev;
    pthread_mutex_unlock(&t->mu);
    canvas_mgr *m = t->m;
    const char *cid = t->canvas_id;
    Comfyd__V1__ReportEditorRequest req = COMFYD__V1__REPORT_EDITOR_REQUEST__INIT;
    req.canvas_id = (char *)cid;
    req.report_case = COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_USER_EDIT;
    req.user_edit = &u;
    canvas_error e = {0};
    uint64_t r = 0;
    assert_int_equal(canvas_report(m, &req, &r, &e), CANVAS_OK);
    return r;
}

static uint64_t revision_of(canvas_mgr *m, const char *cid)
{
    Comfyd__V1__GetGraphRequest req = COMFYD__V1__GET_GRAPH_REQUEST__INIT;
    req.canvas_id = (char *)cid;
    Comfyd__V1__GetGraphResponse *r = NULL;
    canvas_error e = {0};
    assert_int_equal(canvas_get_graph(m, &req, &r, &e), CANVAS_OK);
    uint64_t rev = r->graph->revision;
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return rev;
}

/* ---- calling tools ---- */

typedef struct fx {
    canvas_mgr *m;
    tools *t;
} fx;

static agent_call_ctx ctx_of(const char *session, uint64_t turn, const char *skill,
                             const char *call_id, const atomic_int *cancel)
{
    agent_call_ctx c = {.session_id = session,
                        .turn_id = turn,
                        .skill = skill,
                        .call_id = call_id,
                        .cancel = cancel};
    return c;
}

/* Runs the tool called name; returns its rc and the result in *out
 * (parsed; free with yajl_tree_free) and the text in *text (freed by the
 * caller, may be NULL). */
static int call(fx *f, const agent_call_ctx *c, const char *name, const char *args, yajl_val *out,
                char **text)
{
    size_t n;
    const agent_tool *table = tools_table(&n);
    const agent_tool *tool = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].name, name) == 0) tool = &table[i];
    assert_non_null(tool);
    char *res = NULL;
    int rc = tool->fn(f->t, c, args, &res);
    assert_non_null(res);
    char err[256];
    yajl_val v = yajl_tree_parse(res, err, sizeof err);
    if (!v) fprintf(stderr, "not JSON: %s (%s)\n", res, err);
    assert_non_null(v);
    if (out)
        *out = v;
    else
        yajl_tree_free(v);
    if (text)
        *text = res;
    else
        free(res);
    return rc;
}

static yajl_val get(yajl_val v, const char *key)
{
    const char *path[] = {key, NULL};
    return yajl_tree_get(v, path, yajl_t_any);
}

static const char *get_str(yajl_val v, const char *key)
{
    yajl_val s = get(v, key);
    return s && YAJL_IS_STRING(s) ? s->u.string : NULL;
}

static long long get_int(yajl_val v, const char *key)
{
    yajl_val s = get(v, key);
    assert_non_null(s);
    assert_true(YAJL_IS_INTEGER(s));
    return YAJL_GET_INTEGER(s);
}

static int get_bool(yajl_val v, const char *key)
{
    yajl_val s = get(v, key);
    assert_non_null(s);
    assert_true(YAJL_IS_TRUE(s) || YAJL_IS_FALSE(s));
    return YAJL_IS_TRUE(s);
}

/* The outline line of node id (borrowed from v), or NULL. */
static const char *outline_line(yajl_val v, int64_t id)
{
    yajl_val nodes = get(v, "nodes");
    assert_non_null(nodes);
    assert_true(YAJL_IS_ARRAY(nodes));
    char head[32];
    int hl = snprintf(head, sizeof head, "#%lld ", (long long)id);
    for (size_t i = 0; i < nodes->u.array.len; i++) {
        const char *s = nodes->u.array.values[i]->u.string;
        if (strncmp(s, head, (size_t)hl) == 0) return s;
    }
    return NULL;
}

/* ---- fixture ---- */

static int setup(void **state)
{
    (void)state;
    char *json = read_file(FIXTURES "object_info.json");
    char err[256] = "";
    if (!json ||
        nodeinfo_create(&schema, json, strlen(json), NODEINFO_FRONTEND_TYPES, err, sizeof err)) {
        fprintf(stderr, "schema: %s\n", err);
        free(json);
        return -1;
    }
    free(json);
    txt2img = read_file(FIXTURES "txt2img_workflow.json");
    return txt2img ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    nodeinfo_unref(schema);
    free(txt2img);
    return 0;
}

static int each_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    canvas_mgr_opts o = {0};
    if (!f || canvas_mgr_create(&f->m, &o) != CANVAS_OK) return -1;
    canvas_mgr_set_schema(f->m, schema);
    tools_opts to = {.cm = f->m};
    if (tools_create(&f->t, &to) != TOOLS_OK) return -1;
    *state = f;
    return 0;
}

static int each_teardown(void **state)
{
    fx *f = *state;
    canvas_mgr_destroy(f->m);
    tools_destroy(f->t);
    free(f);
    return 0;
}

/* The txt2img workflow by refs in the seed's flat form, as a model sends it. */
static const char txt2img_patch[] =
    "{\"commands\":["
    "{\"type\":\"create_node\",\"node_type\":\"CheckpointLoaderSimple\",\"ref\":\"ckpt\","
    "\"widgets\":{\"ckpt_name\":\"sd_xl_base_1.0.safetensors\"}},"
    "{\"type\":\"create_node\",\"node_type\":\"CLIPTextEncode\",\"ref\":\"pos\",\"widgets\":{"
    "\"text\":\"a glass bottle\"}},"
    "{\"type\":\"create_node\",\"node_type\":\"CLIPTextEncode\",\"ref\":\"neg\",\"widgets\":{"
    "\"text\":\"text, watermark\"}},"
    "{\"type\":\"create_node\",\"node_type\":\"EmptyLatentImage\",\"ref\":\"latent\","
    "\"widgets\":{\"width\":512,\"height\":512}},"
    "{\"type\":\"create_node\",\"node_type\":\"KSampler\",\"ref\":\"ks\",\"x\":900,\"y\":200,"
    "\"widgets\":{\"steps\":20,\"cfg\":8}},"
    "{\"type\":\"create_node\",\"node_type\":\"VAEDecode\",\"ref\":\"decode\"},"
    "{\"type\":\"create_node\",\"node_type\":\"SaveImage\",\"ref\":\"save\"},"
    "{\"type\":\"connect\",\"from_id\":\"ckpt\",\"from_slot\":\"MODEL\",\"to_id\":\"ks\","
    "\"to_slot\":\"model\"},"
    "{\"type\":\"connect\",\"from_id\":\"ckpt\",\"from_slot\":1,\"to_id\":\"pos\",\"to_slot\":"
    "\"clip\"},"
    "{\"type\":\"connect\",\"from_id\":\"ckpt\",\"from_slot\":1,\"to_id\":\"neg\",\"to_slot\":"
    "\"clip\"},"
    "{\"type\":\"connect\",\"from_id\":\"pos\",\"from_slot\":0,\"to_id\":\"ks\",\"to_slot\":"
    "\"positive\"},"
    "{\"type\":\"connect\",\"from_id\":\"neg\",\"from_slot\":0,\"to_id\":\"ks\",\"to_slot\":"
    "\"negative\"},"
    "{\"type\":\"connect\",\"from_id\":\"latent\",\"from_slot\":0,\"to_id\":\"ks\",\"to_slot\":"
    "\"latent_image\"},"
    "{\"type\":\"connect\",\"from_id\":\"ks\",\"from_slot\":0,\"to_id\":\"decode\",\"to_slot\":"
    "\"samples\"},"
    "{\"type\":\"connect\",\"from_id\":\"ckpt\",\"from_slot\":\"VAE\",\"to_id\":\"decode\","
    "\"to_slot\":\"vae\"},"
    "{\"type\":\"connect\",\"from_id\":\"decode\",\"from_slot\":\"IMAGE\",\"to_id\":\"save\","
    "\"to_slot\":\"images\"}]}";
/* The ids the fixture workflow has for those nodes and links. */
static const int64_t txt2img_nodes[7] = {4, 6, 7, 5, 3, 8, 9};
static const int64_t txt2img_links[9] = {1, 3, 5, 4, 6, 2, 7, 8, 9};

/* ---- tests ---- */

static void table_names_flags_and_schemas_are_what_the_skills_use(void **state)
{
    (void)state;
    size_t n;
    const agent_tool *t = tools_table(&n);
    static const char *const names[] = {"get_graph",
                                        "search_node_types",
                                        "get_node_schema",
                                        "validate_patch",
                                        "apply_patch",
                                        "queue",
                                        "run",
                                        "get_run",
                                        "cancel_run",
                                        "view_output",
                                        "lease"};
    static const int ro[] = {1, 1, 1, 1, 0, 0, 0, 1, 0, 1, 0};
    assert_int_equal(n, 11);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(t[i].name, names[i]);
        assert_int_equal(t[i].read_only, ro[i]);
        assert_non_null(t[i].fn);
        assert_true(strlen(t[i].description) > 20);
        char err[256];
        yajl_val v = yajl_tree_parse(t[i].parameters_json, err, sizeof err);
        if (!v) fprintf(stderr, "%s: %s\n", t[i].name, err);
        assert_non_null(v);
        assert_string_equal(get_str(v, "type"), "object");
        assert_true(YAJL_IS_OBJECT(get(v, "properties")));
        yajl_tree_free(v);
    }
    /* The patch schema names every mutating command of the contract. */
    const char *p = t[4].parameters_json;
    const char *cmds[] = {"create_node", "remove_node", "connect", "disconnect",   "set_widget",
                          "move_node",   "clear_graph", "arrange", "set_node_mode"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char q[64];
        snprintf(q, sizeof q, "{\"const\":\"%s\"}", cmds[i]);
        assert_non_null(strstr(p, q));
    }
    /* get_graph is a tool of its own, not a patch command. */
    assert_null(strstr(p, "{\"const\":\"get_graph\"}"));
}

static size_t offered(const agent_skill *sk, const char **out)
{
    size_t n, k = 0;
    const agent_tool *t = tools_table(&n);
    for (size_t i = 0; i < n; i++)
        if (agent_tool_allowed(sk, &t[i])) out[k++] = t[i].name;
    return k;
}

static void builtin_skills_get_exactly_their_allowed_tools_and_read_only_cannot_patch(void **s)
{
    (void)s;
    skills_root root = {COMFYD_SOURCE_DIR "/skills", SKILL_SOURCE_BUILTIN};
    skills *reg = NULL;
    assert_int_equal(skills_load(&reg, &root, 1), SKILLS_OK);
    static const struct {
        const char *skill;
        const char *tools;
    } want[] = {
        {"graph-doctor", "get_graph search_node_types get_node_schema validate_patch get_run "
                         "view_output"},
        {"prompt-writer", "get_graph get_node_schema validate_patch apply_patch"},
        {"workflow-builder",
         "get_graph search_node_types get_node_schema validate_patch apply_patch queue run "
         "get_run view_output"},
    };
    for (size_t i = 0; i < 3; i++) {
        const skill *sk = skills_find(reg, want[i].skill);
        assert_non_null(sk);
        agent_skill as = {.name = sk->name,
                          .instructions = sk->instructions,
                          .allowed_tools = sk->allowed_tools,
                          .n_allowed_tools = sk->n_allowed_tools};
        const char *got[16];
        size_t k = offered(&as, got);
        char line[256] = "";
        for (size_t j = 0; j < k; j++) {
            strcat(line, j ? " " : "");
            strcat(line, got[j]);
        }
        assert_string_equal(line, want[i].tools);
        /* Every tool a skill names exists (a graph tool or a memory
         * tool of the session manager): a typo would silently drop it. */
        size_t n, nm;
        const agent_tool *t = tools_table(&n);
        const agent_tool *mt = sess_memory_tools(&nm);
        for (size_t j = 0; j < sk->n_allowed_tools; j++) {
            int found = 0;
            for (size_t m = 0; m < n; m++)
                found |= strcmp(t[m].name, sk->allowed_tools[j]) == 0;
            for (size_t m = 0; m < nm; m++)
                found |= strcmp(mt[m].name, sk->allowed_tools[j]) == 0;
            if (!found) fail_msg("%s names an unknown tool %s", sk->name, sk->allowed_tools[j]);
        }
    }
    /* A read-only skill gets the read-only tools whatever it lists. */
    const skill *wb = skills_find(reg, "workflow-builder");
    agent_skill ro = {.name = "ro",
                      .allowed_tools = wb->allowed_tools,
                      .n_allowed_tools = wb->n_allowed_tools,
                      .read_only = 1};
    const char *got[16];
    size_t k = offered(&ro, got);
    assert_int_equal(k, 6); /* the four graph reads, get_run and view_output */
    for (size_t j = 0; j < k; j++) {
        assert_string_not_equal(got[j], "apply_patch");
        assert_string_not_equal(got[j], "queue");
        assert_string_not_equal(got[j], "run");
    }
    skills_unref(reg);
}

/* Without --comfyui the run tools say so; their arguments are checked
 * first. */
static void run_tools_without_runs_say_so(void **state)
{
    fx *f = *state;
    agent_call_ctx c = ctx_of("s1", 1, "workflow-builder", "call_r", NULL);
    yajl_val v;
    assert_int_equal(call(f, &c, "run", "{}", &v, NULL), AGENT_TOOL_ERROR);
    assert_string_equal(get_str(v, "code"), "FAILED_PRECONDITION");
    assert_non_null(strstr(get_str(v, "error"), "--comfyui"));
    yajl_tree_free(v);
    assert_int_equal(call(f, &c, "get_run", "{\"prompt_id\":\"x\"}", &v, NULL), AGENT_TOOL_ERROR);
    assert_string_equal(get_str(v, "code"), "FAILED_PRECONDITION");
    yajl_tree_free(v);
    assert_int_equal(
        call(f, &c, "view_output", "{\"prompt_id\":\"x\",\"node_id\":\"3\"}", &v, NULL),
        AGENT_TOOL_ERROR);
    yajl_tree_free(v);
}

/* The run result: a failure report a model can act on. */
static void run_result_reports_failures_by_node(void **state)
{
    (void)state;
    Comfyd__V1__Run r = COMFYD__V1__RUN__INIT;
    r.prompt_id = "p1";
    r.canvas_id = "c1";
    r.status = COMFYD__V1__RUN_STATUS__RUN_STATUS_FAILED;
    r.prompt_error = "Prompt outputs failed validation";
    Comfyd__V1__RunNodeError e = COMFYD__V1__RUN_NODE_ERROR__INIT;
    e.node_id = "4";
    e.node_type = "CheckpointLoaderSimple";
    e.title = "Load Checkpoint";
    e.input_name = "ckpt_name";
    e.message = "Value not in list";
    char *allowed[] = {"a.safetensors", "b.safetensors"};
    e.allowed_values = allowed;
    e.n_allowed_values = 2;
    Comfyd__V1__RunNodeError *errs[] = {&e};
    r.node_errors = errs;
    r.n_node_errors = 1;
    char *res = toolspec_run_result(&r, 1, 0);
    assert_non_null(res);
    char err[256];
    yajl_val v = yajl_tree_parse(res, err, sizeof err);
    assert_non_null(v);
    assert_string_equal(get_str(v, "status"), "failed");
    assert_true(YAJL_IS_FALSE(get(v, "timed_out")));
    yajl_val f = get(v, "failure");
    yajl_val e0 = get(f, "errors")->u.array.values[0];
    assert_string_equal(get_str(e0, "node_id"), "4");
    assert_string_equal(get_str(e0, "title"), "Load Checkpoint");
    assert_string_equal(get_str(e0, "input"), "ckpt_name");
    assert_int_equal(get(e0, "allowed_values")->u.array.len, 2);
    assert_non_null(strstr(get_str(v, "hint"), "allowed_values"));
    yajl_tree_free(v);
    free(res);
}

static void get_graph_outline_has_one_line_per_node_with_widgets_and_links(void **state)
{
    fx *f = *state;
    tab *tb = tab_attach(f->m, "c1", txt2img, 1);
    agent_call_ctx c = ctx_of("s1", 1, "workflow-builder", "call_1", NULL);
    yajl_val v;
    char *text;
    assert_int_equal(call(f, &c, "get_graph", "{}", &v, &text), AGENT_TOOL_OK);
    assert_string_equal(get_str(v, "canvas_id"), "c1");
    assert_int_equal(get_int(v, "revision"), revision_of(f->m, "c1"));
    assert_false(get_bool(v, "stale"));
    assert_int_equal(get_int(v, "node_count"), 7);
    assert_int_equal(get_int(v, "link_count"), 9);
    const char *ks = outline_line(v, 3);
    assert_non_null(ks);
    assert_non_null(strstr(ks, "#3 KSampler "));
    assert_non_null(strstr(ks, " steps=20 "));
    assert_non_null(strstr(ks, " sampler_name=\"euler\""));
    assert_non_null(strstr(ks, "| in: model<-#4.MODEL positive<-#6.CONDITIONING "
                               "negative<-#7.CONDITIONING latent_image<-#5.LATENT"));
    assert_non_null(strstr(ks, "| out: LATENT->#8.samples"));
    const char *ckpt = outline_line(v, 4);
    assert_non_null(strstr(ckpt, "CLIP->#6.clip,#7.clip"));
    assert_non_null(strstr(ckpt, "ckpt_name=\"v1-5-pruned-emaonly.safetensors\""));
    /* Long prompts are cut in the outline. */
    const char *pos = outline_line(v, 6);
    assert_non_null(strstr(pos, "text=\"beautiful scenery"));
    assert_true(strlen(text) < 4096);
    yajl_tree_free(v);
    free(text);

    /* Details of one node: the Graph message, restricted. */
    assert_int_equal(
        call(f, &c, "get_graph", "{\"detail\":\"full\",\"node_ids\":[3, 99]}", &v, &text),
        AGENT_TOOL_OK);
    yajl_val nodes = get(v, "nodes");
    assert_int_equal(nodes->u.array.len, 1);
    assert_string_equal(get_str(nodes->u.array.values[0], "type"), "KSampler");
    assert_null(strstr(text, "SaveImage"));
    yajl_val links = get(v, "links");
    assert_int_equal(links->u.array.len, 5); /* 4 in, 1 out */
    yajl_tree_free(v);
    free(text);

    /* The outline of chosen nodes names the ones that do not exist. */
    assert_int_equal(call(f, &c, "get_graph", "{\"node_ids\":[9, 42]}", &v, NULL), AGENT_TOOL_OK);
    assert_int_equal(get(v, "nodes")->u.array.len, 1);
    assert_int_equal(YAJL_GET_INTEGER(get(v, "not_found")->u.array.values[0]), 42);
    yajl_tree_free(v);

    /* Bad arguments are explained, not run. */
    assert_int_equal(call(f, &c, "get_graph", "{\"detail\":\"everything\"}", &v, NULL),
                     AGENT_TOOL_ERROR);
    assert_non_null(strstr(get_str(v, "error"), "detail"));
    yajl_tree_free(v);
    assert_int_equal(call(f, &c, "get_graph", "{\"nodes\":[1]}", &v, NULL), AGENT_TOOL_ERROR);
    assert_non_null(strstr(get_str(v, "error"), "unknown argument 'nodes'"));
    yajl_tree_free(v);
    assert_int_equal(call(f, &c, "get_graph", "{\"node_ids\":[\"3\"]}", &v, NULL),
                     AGENT_TOOL_ERROR);
    assert_non_null(strstr(get_str(v, "error"), "node_ids[0]"));
    yajl_tree_free(v);
    assert_int_equal(call(f, &c, "get_graph", "{\"canvas_id\":\"nope\"}", &v, NULL),
                     AGENT_TOOL_ERROR);
    assert_string_equal(get_str(v, "code"), "CANVAS_NOT_FOUND");
    yajl_tree_free(v);
    canvas_mgr_shutdown(f->m);
    tab_free(tb);
}

static void without_a_tab_every_tool_says_no_live_canvas_with_a_hint(void **state)
{
    fx *f = *state;
    agent_call_ctx c = ctx_of("s1", 1, "graph-doctor", "call_1", NULL);
    yajl_val v;
    assert_int_equal(call(f, &c, "get_graph", "{}", &v, NULL), AGENT_TOOL_ERROR);
    assert_string_equal(get_str(v, "code"), "NO_LIVE_CANVAS");
    assert_non_null(strstr(get_str(v, "hint"), "open the workflow"));
    yajl_tree_free(v);
    /* Mutations say the same, as a failed patch and a failed queue. */
    assert_int_equal(call(f, &c, "apply_patch",
                          "{\"commands\":[{\"type\":\"move_node\",\"node_id\":3,\"x\":1,"
                          "\"y\":1}]}",
                          &v, NULL),
                     AGENT_TOOL_ERROR);
    assert_false(get_bool(v, "ok"));
    assert_string_equal(get_str(get(v, "errors")->u.array.values[0], "code"), "NO_LIVE_CANVAS");
    assert_non_null(strstr(get_str(v, "hint"), "open the workflow"));
    yajl_tree_free(v);
    assert_int_equal(call(f, &c, "queue", "{}", &v, NULL), AGENT_TOOL_ERROR);
    assert_string_equal(get_str(v, "code"), "NO_LIVE_CANVAS");
    assert_non_null(get_str(v, "hint"));
    yajl_tree_free(v);
    char *note = tools_note(f->t, "s1");
    assert_non_null(strstr(note, "No ComfyUI canvas is attached"));
    free(note);
}

static void search_and_schema_read_the_node_types(void **state)
{
    fx *f = *state;
    agent_call_ctx c = ctx_of("s1", 1, "workflow-builder", "call_1", NULL);
    yajl_val v;
    assert_int_equal(call(f, &c, "search_node_types", "{\"query\":\"ksampler\"}", &v, NULL),
                     AGENT_TOOL_OK);
    yajl_val types = get(v, "node_types");
    assert_true(types->u.array.len >= 2);
    assert_string_equal(get_str(types->u.array.values[0], "name"), "KSampler");
    assert_string_equal(get_str(types->u.array.values[0], "category"), "sampling");
    assert_string_equal(get(types->u.array.values[0], "outputs")->u.array.values[0]->u.string,
                        "LATENT");
    yajl_tree_free(v);
    /* Agents search with words. */
    assert_int_equal(
        call(f, &c, "search_node_types", "{\"query\":\"controlnet apply\",\"limit\":2}", &v, NULL),
        AGENT_TOOL_OK);
    types = get(v, "node_types");
    assert_int_equal(types->u.array.len, 2);
    assert_string_equal(get_str(types->u.array.values[0], "name"), "ControlNetApply");
    assert_string_equal(get_str(types->u.array.values[1], "name"), "ControlNetApplyAdvanced");
    yajl_tree_free(v);
    /* limit is capped; total still counts every match. */
    assert_int_equal(call(f, &c, "search_node_types", "{\"query\":\"\",\"limit\":1000}", &v, NULL),
                     AGENT_TOOL_OK);
    assert_int_equal(get(v, "node_types")->u.array.len, TOOLS_SEARCH_MAX);
    assert_true(get_int(v, "total") > TOOLS_SEARCH_MAX);
    assert_non_null(get_str(v, "more"));
    yajl_tree_free(v);
    assert_int_equal(
        call(f, &c, "search_node_types", "{\"query\":\"x\",\"limit\":\"ten\"}", &v, NULL),
        AGENT_TOOL_ERROR);
    assert_non_null(strstr(get_str(v, "error"), "limit"));
    yajl_tree_free(v);

    assert_int_equal(call(f, &c, "get_node_schema", "{\"node_type\":\"KSampler\"}", &v, NULL),
                     AGENT_TOOL_OK);
    assert_string_equal(get_str(v, "name"), "KSampler");
    yajl_val ins = get(v, "inputs");
    int seen_seed = 0, seen_sampler = 0, seen_model = 0;
    for (size_t i = 0; i < ins->u.array.len; i++) {
        yajl_val in = ins->u.array.values[i];
        const char *name = get_str(in, "name");
        if (strcmp(name, "seed") == 0) {
            seen_seed = 1;
            assert_string_equal(get_str(in, "type"), "INT");
            assert_true(get_bool(in, "widget"));
            assert_int_equal(get_int(in, "min"), 0);
            assert_non_null(get(in, "max"));
        } else if (strcmp(name, "sampler_name") == 0) {
            seen_sampler = 1;
            assert_string_equal(get_str(in, "type"), "COMBO");
            assert_true(get(in, "options")->u.array.len > 5);
        } else if (strcmp(name, "model") == 0) {
            seen_model = 1;
            assert_string_equal(get_str(in, "type"), "MODEL");
            assert_null(get(in, "widget"));
        }
    }
    assert_true(seen_seed && seen_sampler && seen_model);
    yajl_val outs = get(v, "outputs");
    assert_int_equal(get_int(outs->u.array.values[0], "slot"), 0);
    assert_string_equal(get_str(outs->u.array.values[0], "type"), "LATENT");
    yajl_tree_free(v);

    assert_int_equal(call(f, &c, "get_node_schema", "{\"node_type\":\"KSamplr\"}", &v, NULL),
                     AGENT_TOOL_ERROR);
    assert_string_equal(get_str(v, "code"), "UNKNOWN_NODE_TYPE");
    assert_string_equal(get(v, "suggestions")->u.array.values[0]->u.string, "KSampler");
    yajl_tree_free(v);
    assert_int_equal(call(f, &c, "get_node_schema", "{}", &v, NULL), AGENT_TOOL_ERROR);
    yajl_tree_free(v);
}

static void apply_patch_builds_txt2img_by_refs_and_a_retry_is_not_applied_twice(void **state)
{
    fx *f = *state;
    tab *tb = tab_attach(f->m, "c1", empty_wf, 1);
    tab_expect(tb, txt2img, txt2img_nodes, 7, txt2img_links, 9);
    uint64_t r0 = revision_of(f->m, "c1");
    agent_call_ctx c = ctx_of("s1", 7, "workflow-builder", "call_3", NULL);
    yajl_val v;
    assert_int_equal(call(f, &c, "validate_patch", txt2img_patch, &v, NULL), AGENT_TOOL_OK);
    assert_true(get_bool(v, "ok"));
    assert_true(get_bool(v, "validate_only"));
    assert_int_equal(tab_patches(tb), 0);
    yajl_tree_free(v);

    assert_int_equal(call(f, &c, "apply_patch", txt2img_patch, &v, NULL), AGENT_TOOL_OK);
    assert_true(get_bool(v, "ok"));
    assert_int_equal(get_int(v, "revision"), r0 + 1);
    yajl_val refs = get(v, "refs");
    assert_int_equal(get_int(refs, "ckpt"), 4);
    assert_int_equal(get_int(refs, "ks"), 3);
    assert_int_equal(get_int(refs, "save"), 9);
    yajl_val res = get(v, "results");
    assert_int_equal(res->u.array.len, 16);
    assert_int_equal(get_int(res->u.array.values[7], "link_id"), 1);
    assert_int_equal(tab_patches(tb), 1);
    assert_int_equal(tb->last_n_commands, 16);
    yajl_tree_free(v);

    /* The same call again (same session, turn, skill and call id): the
     * stored outcome, nothing sent to the tab. */
    assert_int_equal(call(f, &c, "apply_patch", txt2img_patch, &v, NULL), AGENT_TOOL_OK);
    assert_true(get_bool(v, "replayed"));
    assert_int_equal(get_int(v, "revision"), r0 + 1);
    assert_int_equal(tab_patches(tb), 1);
    yajl_tree_free(v);

    /* The canvas holds what the tab confirmed. */
    assert_int_equal(call(f, &c, "get_graph", "{}", &v, NULL), AGENT_TOOL_OK);
    assert_int_equal(get_int(v, "node_count"), 7);
    assert_int_equal(get_int(v, "link_count"), 9);
    yajl_tree_free(v);
    canvas_mgr_shutdown(f->m);
    tab_free(tb);
}

static void an_invalid_patch_is_refused_with_every_error_and_nothing_reaches_the_tab(void **s)
{
    fx *f = *s;
    tab *tb = tab_attach(f->m, "c1", txt2img, 1);
    agent_call_ctx c = ctx_of("s1", 1, "workflow-builder", "call_1", NULL);
    /* MODEL into a LATENT input, a misspelled widget, an unknown type. */
    const char *bad = "{\"commands\":["
                      "{\"type\":\"connect\",\"from_id\":4,\"from_slot\":\"MODEL\",\"to_id\":8,"
                      "\"to_slot\":\"samples\"},"
                      "{\"type\":\"set_widget\",\"node_id\":3,\"name\":\"step\",\"value\":30},"
                      "{\"type\":\"create_node\",\"node_type\":\"KSamplr\"}]}";
    yajl_val v;
    char *text;
    assert_int_equal(call(f, &c, "validate_patch", bad, &v, NULL), AGENT_TOOL_OK);
    assert_false(get_bool(v, "ok"));
    assert_int_equal(get(v, "errors")->u.array.len, 3);
    yajl_tree_free(v);
    assert_int_equal(call(f, &c, "apply_patch", bad, &v, &text), AGENT_TOOL_ERROR);
    assert_false(get_bool(v, "ok"));
    yajl_val errs = get(v, "errors");
    assert_int_equal(errs->u.array.len, 3);
    assert_string_equal(get_str(errs->u.array.values[0], "code"), "TYPE_MISMATCH");
    assert_int_equal(get_int(errs->u.array.values[0], "index"), 0);
    assert_string_equal(get_str(errs->u.array.values[1], "code"), "WIDGET_NOT_FOUND");
    assert_string_equal(get(errs->u.array.values[1], "suggestions")->u.array.values[0]->u.string,
                        "steps");
    assert_string_equal(get_str(errs->u.array.values[2], "code"), "UNKNOWN_NODE_TYPE");
    assert_non_null(strstr(get_str(v, "hint"), "applies nothing"));
    assert_null(get(v, "results"));
    assert_int_equal(tab_patches(tb), 0);
    yajl_tree_free(v);
    free(text);

    /* Malformed commands are named by their JSON path. */
    assert_int_equal(call(f, &c, "apply_patch", "{\"commands\":[{\"node_id\":3}]}", &v, NULL),
                     AGENT_TOOL_ERROR);
    assert_non_null(strstr(get_str(v, "error"), "commands[0]"));
    assert_non_null(strstr(get_str(v, "error"), "type"));
    yajl_tree_free(v);
    assert_int_equal(call(f, &c, "apply_patch", "{\"commands\":[]}", &v, NULL), AGENT_TOOL_ERROR);
    assert_non_null(strstr(get_str(v, "error"), "at least one command"));
    yajl_tree_free(v);
    assert_int_equal(call(f, &c, "apply_patch",
                          "{\"commands\":[{\"type\":\"clear_graph\"}],\"idempotency_key\":\"x\"}",
                          &v, NULL),
                     AGENT_TOOL_ERROR);
    assert_non_null(strstr(get_str(v, "error"), "unknown argument 'idempotency_key'"));
    yajl_tree_free(v);
    assert_int_equal(tab_patches(tb), 0);
    canvas_mgr_shutdown(f->m);
    tab_free(tb);
}

static const char set_steps_30[] =
    "{\"commands\":[{\"type\":\"set_widget\",\"node_id\":3,\"name\":\"steps\",\"value\":30}]}";
static const char set_pos_text[] =
    "{\"commands\":[{\"type\":\"set_widget\",\"node_id\":6,\"name\":\"text\",\"value\":\"a red "
    "fox\"}]}";

static void
a_patch_without_base_uses_what_the_skill_read_and_goes_stale_after_a_user_edit(void **state)
{
    fx *f = *state;
    tab *tb = tab_attach(f->m, "c1", txt2img, 1);
    agent_call_ctx c = ctx_of("s1", 2, "workflow-builder", "call_1", NULL);
    yajl_val v;
    assert_int_equal(call(f, &c, "get_graph", "{}", &v, NULL), AGENT_TOOL_OK);
    uint64_t seen_rev = (uint64_t)get_int(v, "revision");
    yajl_tree_free(v);

    /* The user moves a node after the model read the canvas. */
    char *moved = replace_once(txt2img, "\"pos\": [863, 186]", "\"pos\": [900, 250]");
    uint64_t r1 = user_edit(tb, moved);
    assert_int_equal(r1, seen_rev + 1);

    /* A patch moving the same node does not commute with the user's move:
     * refused with the conflict (who, which revision, what). */
    c.call_id = "call_2";
    char *text;
    assert_int_equal(call(f, &c, "apply_patch",
                          "{\"commands\":[{\"type\":\"move_node\",\"node_id\":3,\"x\":5,"
                          "\"y\":5}]}",
                          &v, &text),
                     AGENT_TOOL_ERROR);
    assert_false(get_bool(v, "ok"));
    assert_string_equal(get_str(get(v, "errors")->u.array.values[0], "code"), "STALE_REVISION");
    yajl_val conflict = get(get(v, "errors")->u.array.values[1], "conflicts")->u.array.values[0];
    assert_int_equal(get_int(conflict, "node_id"), 3);
    assert_int_equal(get_int(conflict, "revision"), r1);
    assert_string_equal(get_str(conflict, "origin"), "user");
    assert_string_equal(get_str(conflict, "change"), "move_node");
    assert_int_equal(get_int(v, "revision"), r1);
    assert_non_null(strstr(get_str(v, "hint"), "Call get_graph"));
    assert_int_equal(tab_patches(tb), 0);
    yajl_tree_free(v);
    free(text);

    /* Read again, then the same patch lands. */
    c.call_id = "call_3";
    assert_int_equal(call(f, &c, "get_graph", "{}", &v, NULL), AGENT_TOOL_OK);
    assert_int_equal(get_int(v, "revision"), r1);
    yajl_tree_free(v);
    char *post = replace_once(moved, "\"randomize\", 20, 8", "\"randomize\", 30, 8");
    tab_expect(tb, post, NULL, 0, NULL, 0);
    c.call_id = "call_4";
    assert_int_equal(call(f, &c, "apply_patch", set_steps_30, &v, NULL), AGENT_TOOL_OK);
    assert_true(get_bool(v, "ok"));
    assert_int_equal(get_int(v, "revision"), r1 + 1);
    yajl_tree_free(v);
    /* An explicit base_revision wins over the remembered one. */
    c.call_id = "call_5";
    char explicit_base[256];
    snprintf(explicit_base, sizeof explicit_base,
             "{\"commands\":[{\"type\":\"move_node\",\"node_id\":3,\"x\":1,\"y\":2}],"
             "\"base_revision\":%llu}",
             (unsigned long long)seen_rev);
    assert_int_equal(call(f, &c, "validate_patch", explicit_base, &v, NULL), AGENT_TOOL_OK);
    assert_false(get_bool(v, "ok"));
    assert_string_equal(get_str(get(v, "errors")->u.array.values[0], "code"), "STALE_REVISION");
    yajl_tree_free(v);
    free(moved);
    free(post);
    canvas_mgr_shutdown(f->m);
    tab_free(tb);
}

static void two_skills_that_read_the_same_revision_never_overwrite_each_other(void **state)
{
    fx *f = *state;
    tab *tb = tab_attach(f->m, "c1", txt2img, 1);
    agent_call_ctx a = ctx_of("s1", 3, "workflow-builder", "call_1", NULL);
    agent_call_ctx b = ctx_of("s1", 3, "prompt-writer", "call_1", NULL);
    yajl_val v;
    assert_int_equal(call(f, &a, "get_graph", "{}", &v, NULL), AGENT_TOOL_OK);
    uint64_t r0 = (uint64_t)get_int(v, "revision");
    yajl_tree_free(v);
    assert_int_equal(call(f, &b, "get_graph", "{}", &v, NULL), AGENT_TOOL_OK);
    yajl_tree_free(v);

    char *post_a = replace_once(txt2img, "\"randomize\", 20, 8", "\"randomize\", 30, 8");
    tab_expect(tb, post_a, NULL, 0, NULL, 0);
    a.call_id = "call_2";
    assert_int_equal(call(f, &a, "apply_patch", set_steps_30, &v, NULL), AGENT_TOOL_OK);
    assert_int_equal(get_int(v, "revision"), r0 + 1);
    yajl_tree_free(v);

    /* A third skill read r0 too and sets the same widget: it does not
     * commute with the first skill's patch, and is told what is there now. */
    agent_call_ctx d = ctx_of("s1", 3, "graph-doctor", "call_1", NULL);
    char steps_40[256];
    snprintf(steps_40, sizeof steps_40,
             "{\"commands\":[{\"type\":\"set_widget\",\"node_id\":3,\"name\":\"steps\","
             "\"value\":40}],\"base_revision\":%llu}",
             (unsigned long long)r0);
    assert_int_equal(call(f, &d, "apply_patch", steps_40, &v, NULL), AGENT_TOOL_ERROR);
    assert_string_equal(get_str(get(v, "errors")->u.array.values[0], "code"), "STALE_REVISION");
    yajl_val conflict = get(get(v, "errors")->u.array.values[1], "conflicts")->u.array.values[0];
    assert_string_equal(get_str(conflict, "widget"), "steps");
    assert_string_equal(get_str(conflict, "origin"), "agent");
    assert_int_equal(get_int(conflict, "revision"), r0 + 1);
    assert_int_equal(get_int(conflict, "current_value"), 30);
    yajl_tree_free(v);
    assert_int_equal(tab_patches(tb), 1);

    /* Same call id as the other skill's first call: the key includes the
     * skill, so this is not taken for a retry. Its patch touches another
     * node: rebased onto the first skill's revision, nothing overwritten. */
    char *post_b = replace_once(post_a,
                                "beautiful scenery nature glass bottle landscape, , purple "
                                "galaxy bottle,",
                                "a red fox");
    tab_expect(tb, post_b, NULL, 0, NULL, 0);
    b.call_id = "call_2";
    assert_int_equal(call(f, &b, "apply_patch", set_pos_text, &v, NULL), AGENT_TOOL_OK);
    assert_null(get(v, "replayed"));
    assert_true(get_bool(v, "rebased"));
    assert_int_equal(get_int(v, "rebased_from"), r0);
    assert_int_equal(get_int(v, "revision"), r0 + 2);
    yajl_tree_free(v);
    assert_int_equal(call(f, &a, "get_graph", "{}", &v, NULL), AGENT_TOOL_OK);
    assert_non_null(strstr(outline_line(v, 3), "steps=30"));
    assert_non_null(strstr(outline_line(v, 6), "text=\"a red fox\""));
    yajl_tree_free(v);
    free(post_a);
    free(post_b);
    canvas_mgr_shutdown(f->m);
    tab_free(tb);
}

/* Two skills of one message lease separate parts of the graph: the one
 * that does not hold node 3 is refused with LEASED naming the holder (no
 * patch reaches the tab), takes node 6 for itself, and once the turn ends
 * (the turn-end callback) every lease of the session is given back. */
static void skills_lease_separate_parts_and_the_turn_end_releases_them(void **state)
{
    fx *f = *state;
    tab *tb = tab_attach(f->m, "c1", txt2img, 1);
    agent_call_ctx a = ctx_of("s1", 3, "workflow-builder", "call_1", NULL);
    agent_call_ctx b = ctx_of("s1", 3, "prompt-writer", "call_1", NULL);
    yajl_val v;
    assert_int_equal(call(f, &a, "lease", "{\"action\":\"acquire\",\"node_ids\":[3]}", &v, NULL),
                     AGENT_TOOL_OK);
    assert_true(get_bool(v, "ok"));
    long long id = get_int(get(v, "lease"), "id");
    assert_true(id > 0);
    yajl_tree_free(v);

    b.call_id = "call_2";
    assert_int_equal(call(f, &b, "apply_patch", set_steps_30, &v, NULL), AGENT_TOOL_ERROR);
    yajl_val e0 = get(v, "errors")->u.array.values[0];
    assert_string_equal(get_str(e0, "code"), "LEASED");
    assert_int_equal(get_int(e0, "leased_node_id"), 3);
    assert_string_equal(get_str(get(get(e0, "lease"), "holder"), "skill"), "workflow-builder");
    assert_int_equal(get_int(get(e0, "lease"), "id"), id);
    assert_non_null(strstr(get_str(v, "hint"), "lease"));
    yajl_tree_free(v);
    assert_int_equal(tab_patches(tb), 0);
    /* b cannot take node 3, but node 6 is free. */
    assert_int_equal(call(f, &b, "lease", "{\"action\":\"acquire\",\"node_ids\":[3]}", &v, NULL),
                     AGENT_TOOL_ERROR);
    assert_string_equal(get_str(get(v, "refusal"), "code"), "GRAPH_ERROR_CODE_LEASED");
    yajl_tree_free(v);
    assert_int_equal(call(f, &b, "lease", "{\"action\":\"acquire\",\"node_ids\":[6]}", &v, NULL),
                     AGENT_TOOL_OK);
    yajl_tree_free(v);
    assert_int_equal(call(f, &b, "lease", "{\"action\":\"bogus\"}", &v, NULL), AGENT_TOOL_ERROR);
    yajl_tree_free(v);

    /* The turn ends: both leases go. */
    tools_turn_end(f->t, "s1");
    assert_int_equal(call(f, &b, "lease", "{\"action\":\"list\"}", &v, NULL), AGENT_TOOL_OK);
    yajl_val l = get(v, "leases");
    assert_true(!l || (YAJL_IS_ARRAY(l) && l->u.array.len == 0));
    yajl_tree_free(v);
    char *post = replace_once(txt2img, "\"randomize\", 20, 8", "\"randomize\", 30, 8");
    tab_expect(tb, post, NULL, 0, NULL, 0);
    b.call_id = "call_3";
    assert_int_equal(call(f, &b, "apply_patch", set_steps_30, &v, NULL), AGENT_TOOL_OK);
    yajl_tree_free(v);
    free(post);
    canvas_mgr_shutdown(f->m);
    tab_free(tb);
}

typedef struct canceller {
    atomic_int *flag;
    int after_ms;
    int64_t at;
} canceller;

static void *cancel_later(void *arg)
{
    canceller *k = arg;
    usleep((useconds_t)k->after_ms * 1000);
    k->at = mono_ms();
    atomic_store(k->flag, 1);
    return NULL;
}

static void cancel_during_a_wait_for_the_tab_returns_at_once_and_frees_everything(void **state)
{
    fx *f = *state;
    tab *tb = tab_attach(f->m, "c1", txt2img, 1);
    tb->silent = 1;
    uint64_t r0 = revision_of(f->m, "c1");
    atomic_int flag;
    atomic_init(&flag, 0);
    agent_call_ctx c = ctx_of("s1", 4, "workflow-builder", "call_1", &flag);
    canceller k = {.flag = &flag, .after_ms = 50};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, cancel_later, &k), 0);
    yajl_val v;
    assert_int_equal(call(f, &c, "apply_patch", set_steps_30, &v, NULL), AGENT_TOOL_ERROR);
    int64_t returned = mono_ms();
    pthread_join(th, NULL);
    int64_t latency = returned - k.at;
    assert_string_equal(get_str(v, "code"), "CANCELLED");
    assert_true(latency < CANCEL_BOUND_MS);
    yajl_tree_free(v);
    assert_int_equal(tab_patches(tb), 1);

    /* The tab answers after all: the manager completes the request and
     * frees what the cancelled call left (valgrind checks the rest). */
    pthread_mutex_lock(&tb->mu);
    uint64_t held = tb->held;
    pthread_mutex_unlock(&tb->mu);
    Comfyd__V1__PatchRequest pr = COMFYD__V1__PATCH_REQUEST__INIT;
    Comfyd__V1__Command cmd = COMFYD__V1__COMMAND__INIT;
    Comfyd__V1__Command *cmds[1] = {&cmd};
    cmd.command_case = COMFYD__V1__COMMAND__COMMAND_MOVE_NODE;
    pr.request_id = held;
    pr.commands = cmds;
    pr.n_commands = 1;
    char *post = replace_once(txt2img, "\"randomize\", 20, 8", "\"randomize\", 30, 8");
    answer_patch(tb, &pr, post);
    free(post);
    assert_int_equal(revision_of(f->m, "c1"), r0 + 1);

    /* A second cancelled wait is left pending until shutdown completes it. */
    atomic_store(&flag, 0);
    k.after_ms = 20;
    assert_int_equal(pthread_create(&th, NULL, cancel_later, &k), 0);
    c.call_id = "call_2";
    char body[256];
    snprintf(body, sizeof body,
             "{\"commands\":[{\"type\":\"move_node\",\"node_id\":3,\"x\":5,\"y\":5}]}");
    assert_int_equal(call(f, &c, "apply_patch", body, &v, NULL), AGENT_TOOL_ERROR);
    pthread_join(th, NULL);
    assert_string_equal(get_str(v, "code"), "CANCELLED");
    yajl_tree_free(v);
    /* A flag already set returns before waiting at all. */
    c.call_id = "call_3";
    int64_t t0 = mono_ms();
    assert_int_equal(call(f, &c, "queue", "{}", &v, NULL), AGENT_TOOL_ERROR);
    assert_true(mono_ms() - t0 < CANCEL_BOUND_MS);
    yajl_tree_free(v);
    canvas_mgr_shutdown(f->m);
    tab_free(tb);
}

static void queue_goes_through_the_tab_once_per_call(void **state)
{
    fx *f = *state;
    tab *tb = tab_attach(f->m, "c1", txt2img, 1);
    agent_call_ctx c = ctx_of("s1", 5, "workflow-builder", "call_9", NULL);
    yajl_val v;
    assert_int_equal(call(f, &c, "queue", "{}", &v, NULL), AGENT_TOOL_OK);
    assert_string_equal(get_str(v, "prompt_id"), "prompt-1");
    assert_string_equal(get_str(v, "canvas_id"), "c1");
    yajl_tree_free(v);
    assert_int_equal(call(f, &c, "queue", "{}", &v, NULL), AGENT_TOOL_OK);
    assert_string_equal(get_str(v, "prompt_id"), "prompt-1");
    assert_true(get_bool(v, "replayed"));
    yajl_tree_free(v);
    c.call_id = "call_10";
    assert_int_equal(call(f, &c, "queue", "{}", &v, NULL), AGENT_TOOL_OK);
    assert_string_equal(get_str(v, "prompt_id"), "prompt-2");
    yajl_tree_free(v);
    assert_int_equal(call(f, &c, "queue", "{\"batch_count\":3}", &v, NULL), AGENT_TOOL_ERROR);
    yajl_tree_free(v);
    canvas_mgr_shutdown(f->m);
    tab_free(tb);
}

static void the_note_lists_user_edits_since_the_model_last_saw_the_canvas(void **state)
{
    fx *f = *state;
    tab *tb = tab_attach(f->m, "c1", txt2img, 1);
    uint64_t r0 = revision_of(f->m, "c1");
    char *note = tools_note(f->t, "s1");
    assert_non_null(note);
    char want[128];
    snprintf(want, sizeof want, "Canvas \"c1\" (test) is at revision %llu with 7 nodes and 9 links",
             (unsigned long long)r0);
    assert_non_null(strstr(note, want));
    assert_non_null(strstr(note, "Call get_graph"));
    free(note);

    /* Nothing happened since. */
    note = tools_note(f->t, "s1");
    assert_non_null(strstr(note, "did not change it"));
    free(note);

    /* A user edit and an agent patch: only the user's is listed. */
    char *moved = replace_once(txt2img, "\"pos\": [863, 186]", "\"pos\": [900, 250]");
    user_edit(tb, moved);
    char *post = replace_once(moved, "\"randomize\", 20, 8", "\"randomize\", 30, 8");
    tab_expect(tb, post, NULL, 0, NULL, 0);
    agent_call_ctx c = ctx_of("s2", 1, "workflow-builder", "call_1", NULL);
    yajl_val v;
    assert_int_equal(call(f, &c, "apply_patch", set_steps_30, &v, NULL), AGENT_TOOL_OK);
    yajl_tree_free(v);
    note = tools_note(f->t, "s1");
    assert_non_null(strstr(note, "the user made 1 change:"));
    assert_non_null(strstr(note, "\n- moved #3 KSampler"));
    assert_null(strstr(note, "steps"));
    assert_true(strlen(note) <= TOOLS_NOTE_MAX_BYTES);
    free(note);

    /* A session whose model read the canvas after the edit is not told. */
    agent_call_ctx c3 = ctx_of("s3", 1, "graph-doctor", "call_1", NULL);
    char *n3 = tools_note(f->t, "s3");
    free(n3);
    char *moved2 = replace_once(post, "\"pos\": [900, 250]", "\"pos\": [910, 260]");
    user_edit(tb, moved2);
    assert_int_equal(call(f, &c3, "get_graph", "{}", &v, NULL), AGENT_TOOL_OK);
    yajl_tree_free(v);
    n3 = tools_note(f->t, "s3");
    assert_non_null(strstr(n3, "did not change it"));
    free(n3);

    /* Many edits are capped. */
    char *cur = text_dup(moved2);
    for (int i = 0; i < TOOLS_NOTE_MAX_OPS + 5; i++) {
        char from[64], to[64];
        snprintf(from, sizeof from, "\"pos\": [%d, 260]", 910 + i);
        snprintf(to, sizeof to, "\"pos\": [%d, 260]", 911 + i);
        char *next = replace_once(cur, from, to);
        free(cur);
        cur = next;
        user_edit(tb, cur);
    }
    note = tools_note(f->t, "s1");
    assert_non_null(strstr(note, "... and "));
    assert_true(strlen(note) <= TOOLS_NOTE_MAX_BYTES);
    free(note);
    free(cur);
    free(moved);
    free(moved2);
    free(post);
    canvas_mgr_shutdown(f->m);
    tab_free(tb);
}

static void create_refuses_missing_options(void **state)
{
    (void)state;
    tools *t = (tools *)1;
    assert_int_equal(tools_create(&t, NULL), TOOLS_EINVAL);
    assert_null(t);
    tools_opts o = {0};
    assert_int_equal(tools_create(&t, &o), TOOLS_EINVAL);
    tools_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_names_flags_and_schemas_are_what_the_skills_use),
        cmocka_unit_test(builtin_skills_get_exactly_their_allowed_tools_and_read_only_cannot_patch),
        cmocka_unit_test(create_refuses_missing_options),
        cmocka_unit_test(run_result_reports_failures_by_node),
        cmocka_unit_test_setup_teardown(run_tools_without_runs_say_so, each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(
            get_graph_outline_has_one_line_per_node_with_widgets_and_links, each_setup,
            each_teardown),
        cmocka_unit_test_setup_teardown(without_a_tab_every_tool_says_no_live_canvas_with_a_hint,
                                        each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(search_and_schema_read_the_node_types, each_setup,
                                        each_teardown),
        cmocka_unit_test_setup_teardown(
            apply_patch_builds_txt2img_by_refs_and_a_retry_is_not_applied_twice, each_setup,
            each_teardown),
        cmocka_unit_test_setup_teardown(
            an_invalid_patch_is_refused_with_every_error_and_nothing_reaches_the_tab, each_setup,
            each_teardown),
        cmocka_unit_test_setup_teardown(
            a_patch_without_base_uses_what_the_skill_read_and_goes_stale_after_a_user_edit,
            each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(
            two_skills_that_read_the_same_revision_never_overwrite_each_other, each_setup,
            each_teardown),
        cmocka_unit_test_setup_teardown(
            cancel_during_a_wait_for_the_tab_returns_at_once_and_frees_everything, each_setup,
            each_teardown),
        cmocka_unit_test_setup_teardown(skills_lease_separate_parts_and_the_turn_end_releases_them,
                                        each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(queue_goes_through_the_tab_once_per_call, each_setup,
                                        each_teardown),
        cmocka_unit_test_setup_teardown(
            the_note_lists_user_edits_since_the_model_last_saw_the_canvas, each_setup,
            each_teardown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
