/* Unit tests for core/graph: parsing ComfyUI's default workflow into the
 * mirror, protobuf output, batch validation (every error code, refs,
 * predicted ids, all errors at once), diffs between workflows and the
 * operation log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURES COMFYD_SOURCE_DIR "/tests/fixtures/"

static nodeinfo *schema;
static char *default_wf;
static size_t default_wf_len;

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
    default_wf = read_file(FIXTURES "txt2img_workflow.json", &default_wf_len);
    return default_wf ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    nodeinfo_unref(schema);
    free(default_wf);
    return 0;
}

static graph *parse(const char *json, uint64_t rev)
{
    graph *g = NULL;
    char err[256] = "";
    int rc = graph_parse_workflow(&g, json, strlen(json), schema, rev, err, sizeof err);
    if (rc) fprintf(stderr, "parse: %s\n", err);
    assert_int_equal(rc, GRAPH_OK);
    return g;
}

static int parse_fails(const char *json, char *err, size_t errlen)
{
    graph *g = (graph *)1;
    int rc = graph_parse_workflow(&g, json, strlen(json), schema, 1, err, errlen);
    assert_null(g);
    return rc;
}

static const graph_widget *widget(const graph_node *n, const char *name)
{
    for (size_t i = 0; i < n->n_widgets; i++)
        if (strcmp(n->widgets[i].name, name) == 0) return &n->widgets[i];
    return NULL;
}

/* ---- building commands (freed with protobuf_c_message_free_unpacked) ---- */

static void *alloc(size_t n)
{
    void *p = malloc(n);
    assert_non_null(p);
    return p;
}

static char *dup(const char *s)
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
    v->text = dup(s);
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
    r->ref = dup(ref);
    return r;
}

static Comfyd__V1__SlotRef *sidx(uint32_t i)
{
    Comfyd__V1__SlotRef *r = alloc(sizeof *r);
    comfyd__v1__slot_ref__init(r);
    r->slot_case = COMFYD__V1__SLOT_REF__SLOT_INDEX;
    r->index = i;
    return r;
}

static Comfyd__V1__SlotRef *sname(const char *name)
{
    Comfyd__V1__SlotRef *r = alloc(sizeof *r);
    comfyd__v1__slot_ref__init(r);
    r->slot_case = COMFYD__V1__SLOT_REF__SLOT_NAME;
    r->name = dup(name);
    return r;
}

static Comfyd__V1__Command *wrap(Comfyd__V1__Command__CommandCase kind, void *payload)
{
    Comfyd__V1__Command *c = alloc(sizeof *c);
    comfyd__v1__command__init(c);
    c->command_case = kind;
    c->create_node = payload;
    return c;
}

static Comfyd__V1__Command *c_create(const char *type, const char *ref)
{
    Comfyd__V1__CreateNodeCommand *p = alloc(sizeof *p);
    comfyd__v1__create_node_command__init(p);
    p->node_type = dup(type);
    if (ref) p->ref = dup(ref);
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
    e->key = dup(name);
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

static Comfyd__V1__Command *c_disconnect(Comfyd__V1__NodeRef *n, Comfyd__V1__SlotRef *s)
{
    Comfyd__V1__DisconnectCommand *p = alloc(sizeof *p);
    comfyd__v1__disconnect_command__init(p);
    p->node_id = n;
    p->slot = s;
    return wrap(COMFYD__V1__COMMAND__COMMAND_DISCONNECT, p);
}

static Comfyd__V1__Command *c_set(Comfyd__V1__NodeRef *n, const char *name, Comfyd__V1__Value *v)
{
    Comfyd__V1__SetWidgetCommand *p = alloc(sizeof *p);
    comfyd__v1__set_widget_command__init(p);
    p->node_id = n;
    p->name = dup(name);
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

static Comfyd__V1__Command *c_clear(void)
{
    Comfyd__V1__ClearGraphCommand *p = alloc(sizeof *p);
    comfyd__v1__clear_graph_command__init(p);
    return wrap(COMFYD__V1__COMMAND__COMMAND_CLEAR_GRAPH, p);
}

static Google__Protobuf__DoubleValue *dbl(double d)
{
    Google__Protobuf__DoubleValue *v = alloc(sizeof *v);
    google__protobuf__double_value__init(v);
    v->value = d;
    return v;
}

/* arrange of n nodes (0: the whole graph); x, y, spacing may be NULL. */
static Comfyd__V1__Command *c_arrange(Comfyd__V1__NodeRef **ids, size_t n,
                                      Google__Protobuf__DoubleValue *x,
                                      Google__Protobuf__DoubleValue *y,
                                      Google__Protobuf__DoubleValue *spacing)
{
    Comfyd__V1__ArrangeCommand *p = alloc(sizeof *p);
    comfyd__v1__arrange_command__init(p);
    if (n) {
        p->node_ids = alloc(n * sizeof *p->node_ids);
        memcpy(p->node_ids, ids, n * sizeof *ids);
        p->n_node_ids = n;
    }
    p->x = x;
    p->y = y;
    p->spacing = spacing;
    return wrap(COMFYD__V1__COMMAND__COMMAND_ARRANGE, p);
}

static Comfyd__V1__Command *c_mode(Comfyd__V1__NodeRef *n, const char *mode)
{
    Comfyd__V1__SetNodeModeCommand *p = alloc(sizeof *p);
    comfyd__v1__set_node_mode_command__init(p);
    p->node_id = n;
    if (mode) p->mode = dup(mode);
    return wrap(COMFYD__V1__COMMAND__COMMAND_SET_NODE_MODE, p);
}

#define MAX_BATCH 32

typedef struct {
    Comfyd__V1__Command *c[MAX_BATCH];
    size_t n;
    graph_check check;
} batch;

static void add(batch *b, Comfyd__V1__Command *c)
{
    assert_true(b->n < MAX_BATCH);
    b->c[b->n++] = c;
}

static void run(batch *b, const graph *g, Comfyd__V1__BatchMode mode)
{
    assert_int_equal(
        graph_validate(g, NULL, (const Comfyd__V1__Command *const *)b->c, b->n, mode, &b->check),
        GRAPH_OK);
}

static void batch_free(batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        protobuf_c_message_free_unpacked(&b->c[i]->base, NULL);
    graph_check_clear(&b->check);
    b->n = 0;
}

/* Runs one command alone; returns its first error (or NULL) and keeps
 * the check in b for further asserts. */
static const Comfyd__V1__GraphError *one(batch *b, const graph *g, Comfyd__V1__Command *c)
{
    add(b, c);
    run(b, g, COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC);
    assert_int_equal(b->check.n_results, 1);
    return b->check.results[0]->error;
}

static int has_suggestion(const Comfyd__V1__GraphError *e, const char *s)
{
    for (size_t i = 0; i < e->n_suggestions; i++)
        if (strcmp(e->suggestions[i], s) == 0) return 1;
    return 0;
}

/* The default graph built from scratch, every node by ref. */
static void add_txt2img(batch *b)
{
    add(b, with_widget(c_create("CheckpointLoaderSimple", "ckpt"), "ckpt_name",
                       v_text("sd_xl_base_1.0.safetensors")));
    add(b, with_widget(c_create("CLIPTextEncode", "pos"), "text", v_text("a glass bottle")));
    add(b, with_widget(c_create("CLIPTextEncode", "neg"), "text", v_text("text, watermark")));
    Comfyd__V1__Command *latent = c_create("EmptyLatentImage", "latent");
    with_widget(latent, "width", v_int(1024));
    with_widget(latent, "height", v_int(1024));
    with_widget(latent, "batch_size", v_int(1));
    add(b, latent);
    Comfyd__V1__Command *ks = c_create("KSampler", "ks");
    with_widget(ks, "seed", v_int(42));
    with_widget(ks, "control_after_generate", v_text("fixed"));
    with_widget(ks, "steps", v_int(25));
    with_widget(ks, "cfg", v_num(7.5));
    with_widget(ks, "sampler_name", v_text("dpmpp_2m"));
    with_widget(ks, "scheduler", v_text("karras"));
    with_widget(ks, "denoise", v_num(1.0));
    add(b, ks);
    add(b, c_create("VAEDecode", "decode"));
    add(b, with_widget(c_create("SaveImage", "save"), "filename_prefix", v_text("agent")));
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

static int64_t ref_value(const graph_check *c, const char *key)
{
    for (size_t i = 0; i < c->n_refs; i++)
        if (strcmp(c->refs[i]->key, key) == 0) return c->refs[i]->value;
    return -1;
}

/* ---- parsing ---- */

static void default_workflow_parses_into_a_typed_mirror(void **state)
{
    (void)state;
    graph *g = parse(default_wf, 5);
    assert_int_equal(graph_revision(g), 5);
    assert_int_equal(graph_node_count(g), 7);
    assert_int_equal(graph_link_count(g), 9);
    assert_int_equal(graph_next_node_id(g), 10);
    assert_int_equal(graph_next_link_id(g), 10);
    for (size_t i = 1; i < graph_node_count(g); i++)
        assert_true(graph_node_at(g, i - 1)->id < graph_node_at(g, i)->id);

    const graph_node *ks = graph_find_node(g, 3);
    assert_non_null(ks);
    assert_string_equal(ks->type, "KSampler");
    assert_null(ks->title);
    assert_true(ks->x == 863 && ks->y == 186 && ks->w == 315 && ks->h == 262);
    assert_int_equal(ks->n_inputs, 4);
    assert_string_equal(ks->inputs[3].name, "latent_image");
    assert_int_equal(ks->inputs[3].link, 2);
    assert_int_equal(ks->n_outputs, 1);
    assert_int_equal(ks->outputs[0].n_links, 1);
    assert_int_equal(ks->outputs[0].links[0], 7);

    /* widgets_values [seed, control, steps, cfg, sampler, scheduler, denoise] */
    assert_int_equal(ks->n_widgets, 7);
    const graph_widget *w = widget(ks, "seed");
    assert_int_equal(w->value.kind, NODEINFO_V_INT);
    assert_int_equal(w->value.i, 156680208700286LL);
    w = widget(ks, "control_after_generate");
    assert_non_null(w);
    assert_string_equal(w->value.s, "randomize");
    assert_int_equal(widget(ks, "steps")->value.i, 20);
    w = widget(ks, "cfg");
    assert_int_equal(w->value.kind, NODEINFO_V_NUMBER); /* FLOAT widget, JSON 8 */
    assert_true(w->value.d == 8.0);
    assert_string_equal(widget(ks, "sampler_name")->value.s, "euler");
    assert_string_equal(widget(ks, "scheduler")->value.s, "normal");
    assert_true(widget(ks, "denoise")->value.d == 1.0);

    const graph_node *ckpt = graph_find_node(g, 4);
    assert_int_equal(ckpt->n_outputs, 3);
    assert_int_equal(ckpt->outputs[1].n_links, 2);
    assert_string_equal(widget(ckpt, "ckpt_name")->value.s, "v1-5-pruned-emaonly.safetensors");
    assert_int_equal(widget(graph_find_node(g, 5), "height")->value.i, 512);
    assert_string_equal(widget(graph_find_node(g, 7), "text")->value.s, "text, watermark");
    assert_int_equal(graph_find_node(g, 8)->n_widgets, 0);

    const graph_link *l = graph_find_link(g, 8);
    assert_non_null(l);
    assert_int_equal(l->from_id, 4);
    assert_int_equal(l->from_slot, 2);
    assert_int_equal(l->to_id, 8);
    assert_int_equal(l->to_slot, 1);
    assert_string_equal(l->type, "VAE");
    assert_null(graph_find_node(g, 1));

    size_t len;
    assert_string_equal(graph_workflow_json(g, &len), default_wf);
    assert_int_equal(len, default_wf_len);
    graph_destroy(g);
}

static void workflow_variants_parse(void **state)
{
    (void)state;
    /* Object positions, string ids, object links, the newer "state",
     * widget values by name, unknown types kept by position. */
    graph *g = parse("{\"state\": {\"lastNodeId\": 20, \"lastLinkId\": 30},"
                     " \"nodes\": ["
                     "  {\"id\": \"12\", \"type\": \"EmptyLatentImage\","
                     "   \"pos\": {\"0\": 10.5, \"1\": -20}, \"mode\": 4, \"title\": \"Latent\","
                     "   \"outputs\": [{\"name\": \"LATENT\", \"type\": \"LATENT\","
                     "                  \"links\": null}],"
                     "   \"widgets_values\": {\"width\": 640, \"height\": 480.0}},"
                     "  {\"id\": 13, \"type\": \"SomeCustomNode\","
                     "   \"widgets_values\": [1, \"two\", [3, {\"x\": null}], null, true]},"
                     "  {\"id\": 14, \"type\": \"LoadImage\","
                     "   \"widgets_values\": [\"example.png\", \"image\"]}"
                     " ],"
                     " \"links\": [null, {\"id\": 7, \"origin_id\": 12, \"origin_slot\": 0,"
                     "                     \"target_id\": 13, \"target_slot\": 0,"
                     "                     \"type\": \"LATENT\"}]}",
                     1);
    assert_int_equal(graph_next_node_id(g), 21);
    assert_int_equal(graph_next_link_id(g), 31);
    const graph_node *n = graph_find_node(g, 12);
    assert_non_null(n);
    assert_true(n->x == 10.5 && n->y == -20);
    assert_int_equal(n->mode, 4);
    assert_string_equal(n->title, "Latent");
    assert_int_equal(widget(n, "width")->value.i, 640);
    assert_int_equal(widget(n, "height")->value.kind, NODEINFO_V_INT);
    assert_int_equal(widget(n, "height")->value.i, 480);

    n = graph_find_node(g, 13);
    assert_int_equal(n->n_widgets, 5);
    assert_int_equal(widget(n, "#0")->value.i, 1);
    assert_string_equal(widget(n, "#1")->value.s, "two");
    assert_int_equal(widget(n, "#2")->value.kind, NODEINFO_V_JSON);
    assert_string_equal(widget(n, "#2")->value.s, "[3,{\"x\":null}]");
    assert_int_equal(widget(n, "#3")->value.kind, NODEINFO_V_NONE);
    assert_int_equal(widget(n, "#4")->value.b, 1);

    /* A known type's extra values (the upload button) stay by position. */
    n = graph_find_node(g, 14);
    assert_string_equal(widget(n, "image")->value.s, "example.png");
    assert_string_equal(widget(n, "#1")->value.s, "image");

    const graph_link *l = graph_find_link(g, 7);
    assert_non_null(l);
    assert_int_equal(l->from_id, 12);
    assert_int_equal(graph_link_count(g), 1);
    graph_destroy(g);

    /* No control value after the seed: the next widget is not skipped. */
    g = parse("{\"nodes\": [{\"id\": 1, \"type\": \"KSampler\","
              " \"widgets_values\": [5, 20, 8, \"euler\", \"normal\", 1]}]}",
              1);
    n = graph_find_node(g, 1);
    assert_null(widget(n, "control_after_generate"));
    assert_int_equal(widget(n, "steps")->value.i, 20);
    assert_string_equal(widget(n, "scheduler")->value.s, "normal");
    graph_destroy(g);
}

static void malformed_workflows_are_refused_with_a_message(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(parse_fails("[]", err, sizeof err), GRAPH_EINVAL);
    assert_non_null(strstr(err, "JSON object"));
    assert_int_equal(parse_fails("{\"nodes\": {}}", err, sizeof err), GRAPH_EINVAL);
    assert_int_equal(parse_fails("{\"nodes\": [{\"id\": 1}]}", err, sizeof err), GRAPH_EINVAL);
    assert_string_equal(err, "node 1 has no type");
    assert_int_equal(parse_fails("{\"nodes\": [{\"id\": 0, \"type\": \"A\"}]}", err, sizeof err),
                     GRAPH_EINVAL);
    assert_int_equal(parse_fails("{\"nodes\": [{\"id\": 2, \"type\": \"A\"},"
                                 " {\"id\": 2, \"type\": \"B\"}]}",
                                 err, sizeof err),
                     GRAPH_EINVAL);
    assert_string_equal(err, "two nodes have id 2");
    assert_int_equal(parse_fails("{\"links\": [[1, 2, -1, 3, 0, \"X\"]]}", err, sizeof err),
                     GRAPH_EINVAL);
    assert_int_equal(parse_fails("{\"nodes\": [", err, sizeof err), GRAPH_EINVAL);
    assert_non_null(strstr(err, "invalid JSON"));

    char deep[400];
    memset(deep, '[', 200);
    memset(deep + 200, ']', 199);
    deep[399] = 0;
    assert_int_equal(parse_fails(deep, err, sizeof err), GRAPH_ETOOBIG);

    size_t big = GRAPH_MAX_WORKFLOW_BYTES + 1;
    char *huge = malloc(big + 1);
    assert_non_null(huge);
    memset(huge, ' ', big);
    huge[0] = '{';
    huge[big - 1] = '}';
    huge[big] = 0;
    assert_int_equal(parse_fails(huge, err, sizeof err), GRAPH_ETOOBIG);
    free(huge);
}

static void mirror_converts_to_a_graph_message(void **state)
{
    (void)state;
    graph *g = parse(default_wf, 3);
    Comfyd__V1__Graph *m = graph_to_proto(g);
    assert_non_null(m);
    assert_int_equal(m->revision, 3);
    assert_int_equal(m->n_nodes, 7);
    assert_int_equal(m->n_links, 9);
    Comfyd__V1__Node *ks = NULL, *ckpt = NULL;
    for (size_t i = 0; i < m->n_nodes; i++) {
        if (m->nodes[i]->id == 3) ks = m->nodes[i];
        if (m->nodes[i]->id == 4) ckpt = m->nodes[i];
    }
    assert_non_null(ks);
    assert_string_equal(ks->title, "KSampler");
    assert_string_equal(ckpt->title, "Load Checkpoint"); /* display name */
    assert_true(ks->pos->x == 863);
    assert_int_equal(ks->n_inputs, 4);
    assert_int_equal(ks->inputs[0]->link, 1);
    assert_int_equal(ks->n_widgets, 7);
    assert_string_equal(ks->widgets[0]->name, "seed");
    assert_int_equal(ks->widgets[0]->value->kind_case, COMFYD__V1__VALUE__KIND_INTEGER);
    assert_int_equal(ckpt->outputs[1]->n_links, 2);
    m->canvas_id = dup("tab-1");

    size_t sz = protobuf_c_message_get_packed_size(&m->base);
    uint8_t *buf = malloc(sz);
    assert_int_equal(protobuf_c_message_pack(&m->base, buf), sz);
    Comfyd__V1__Graph *back = comfyd__v1__graph__unpack(NULL, sz, buf);
    assert_non_null(back);
    assert_string_equal(back->canvas_id, "tab-1");
    assert_int_equal(back->links[8]->to_id, 9);
    protobuf_c_message_free_unpacked(&back->base, NULL);
    free(buf);
    protobuf_c_message_free_unpacked(&m->base, NULL);

    Comfyd__V1__Node *one_node = graph_node_to_proto(g, graph_find_node(g, 5));
    assert_non_null(one_node);
    assert_string_equal(one_node->type, "EmptyLatentImage");
    protobuf_c_message_free_unpacked(&one_node->base, NULL);
    graph_destroy(g);
}

/* ---- validation ---- */

static void full_txt2img_batch_by_refs_is_valid_with_expected_ids(void **state)
{
    (void)state;
    graph *g = parse(empty_wf, 1);
    batch b = {0};
    add_txt2img(&b);
    run(&b, g, COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC);
    for (size_t i = 0; i < b.check.n_errors; i++)
        fprintf(stderr, "unexpected: %s\n", b.check.errors[i]->message);
    assert_true(b.check.ok);
    assert_int_equal(b.check.n_errors, 0);
    assert_int_equal(b.check.n_results, 16);
    assert_int_equal(b.check.n_expected_ids, 7);
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(b.check.expected_ids[i], (int64_t)i + 1);
        assert_int_equal(b.check.results[i]->node_id, (int64_t)i + 1);
        assert_true(b.check.results[i]->ok);
        assert_int_equal(b.check.results[i]->index, (int32_t)i);
    }
    for (size_t i = 7; i < 16; i++)
        assert_int_equal(b.check.results[i]->link_id, (int64_t)i - 6);
    assert_int_equal(b.check.results[7]->node_id, 5); /* connect reports its target */
    assert_int_equal(b.check.n_refs, 7);
    assert_int_equal(ref_value(&b.check, "ckpt"), 1);
    assert_int_equal(ref_value(&b.check, "ks"), 5);
    assert_int_equal(ref_value(&b.check, "save"), 7);
    batch_free(&b);
    graph_destroy(g);

    /* On the default canvas the new nodes continue after last_node_id. */
    g = parse(default_wf, 1);
    add_txt2img(&b);
    run(&b, g, COMFYD__V1__BATCH_MODE__BATCH_MODE_UNSPECIFIED);
    assert_true(b.check.ok);
    assert_int_equal(b.check.expected_ids[0], 10);
    assert_int_equal(b.check.expected_ids[6], 16);
    assert_int_equal(b.check.results[15]->link_id, 18);
    batch_free(&b);
    graph_destroy(g);
}

static void unknown_node_type_suggests_close_names(void **state)
{
    (void)state;
    graph *g = parse(default_wf, 1);
    batch b = {0};
    const Comfyd__V1__GraphError *e = one(&b, g, c_create("Ksampler", NULL));
    assert_non_null(e);
    assert_int_equal(e->code, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_UNKNOWN_NODE_TYPE);
    assert_int_equal(e->index, 0);
    assert_true(e->n_suggestions >= 1);
    assert_string_equal(e->suggestions[0], "KSampler");
    assert_non_null(strstr(e->message, "did you mean \"KSampler\""));
    assert_false(b.check.ok);
    assert_false(b.check.results[0]->ok);
    assert_int_equal(b.check.results[0]->node_id, 0);
    batch_free(&b);

    e = one(&b, g, c_create("KSamplr", NULL));
    assert_string_equal(e->suggestions[0], "KSampler");
    batch_free(&b);
    /* Frontend-only types exist when the schema has them. */
    assert_null(one(&b, g, c_create("Note", NULL)));
    batch_free(&b);
    graph_destroy(g);
}

static void missing_nodes_and_refs_are_reported(void **state)
{
    (void)state;
    graph *g = parse(default_wf, 1);
    batch b = {0};
    const Comfyd__V1__GraphError *e = one(&b, g, c_move(nid(99), 0, 0));
    assert_int_equal(e->code, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NODE_NOT_FOUND);
    assert_non_null(strstr(e->message, "#99"));
    batch_free(&b);

    /* Negative ids never match, not even the stand-in of an invalid create. */
    add(&b, c_create("KSampler", "bad"));
    with_widget(b.c[0], "steps", v_int(0));
    add(&b, c_move(nid(-1), 0, 0));
    run(&b, g, COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC);
    assert_int_equal(b.check.n_errors, 2);
    assert_int_equal(b.check.errors[1]->code,
                     COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NODE_NOT_FOUND);
    batch_free(&b);

    e = one(&b, g, c_set(nref("sampler"), "seed", v_int(1)));
    assert_int_equal(e->code, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_REF_NOT_FOUND);
    batch_free(&b);

    /* A ref used before its create_node, and a close ref suggested. */
    add(&b, c_create("KSampler", "sampler"));
    add(&b, c_set(nref("samplr"), "seed", v_int(1)));
    add(&b, c_set(nref("later"), "steps", v_int(2)));
    add(&b, c_create("VAEDecode", "later"));
    run(&b, g, COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC);
    assert_int_equal(b.check.n_errors, 2);
    e = b.check.errors[0];
    assert_int_equal(e->code, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_REF_NOT_FOUND);
    assert_int_equal(e->index, 1);
    assert_true(has_suggestion(e, "sampler"));
    e = b.check.errors[1];
    assert_int_equal(e->index, 2);
    assert_non_null(strstr(e->message, "created by command 3, after this one"));
    batch_free(&b);

    /* A node removed earlier in the batch is gone for later commands. */
    add(&b, c_remove(nid(3)));
    add(&b, c_move(nid(3), 1, 1));
    run(&b, g, COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC);
    assert_int_equal(b.check.n_errors, 1);
    assert_int_equal(b.check.errors[0]->code,
                     COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NODE_NOT_FOUND);
    assert_non_null(strstr(b.check.errors[0]->message, "removed by command 0 (remove_node)"));
    assert_int_equal(b.check.results[0]->node_id, 3);
    batch_free(&b);
    graph_destroy(g);
}

static void slots_resolve_by_index_and_name(void **state)
{
    (void)state;
    graph *g = parse(default_wf, 1);
    batch b = {0};
    const Comfyd__V1__GraphError *e =
        one(&b, g, c_connect(nid(4), sidx(0), nid(3), sname("modle")));
    assert_int_equal(e->code, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_SLOT_NOT_FOUND);
    assert_true(has_suggestion(e, "model"));
    assert_non_null(strstr(e->message, "#3 KSampler has no input \"modle\""));
    batch_free(&b);

    e = one(&b, g, c_connect(nid(4), sidx(3), nid(3), sidx(0)));
    assert_int_equal(e->code, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_SLOT_NOT_FOUND);
    assert_non_null(strstr(e->message, "no output 3"));
    batch_free(&b);

    /* A widget that has no socket on this (older-style) canvas. */
    e = one(&b, g, c_connect(nid(5), sidx(0), nid(3), sname("seed")));
    assert_int_equal(e->code, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_SLOT_NOT_FOUND);
    assert_non_null(strstr(e->message, "widget"));
    batch_free(&b);

    /* Names are case-insensitive when unambiguous; replacing a link is
     * fine and the replaced input is free for the next command. */
    add(&b, c_connect(nid(4), sname("model"), nid(3), sname("MODEL")));
    add(&b, c_disconnect(nid(3), sname("model")));
    add(&b, c_disconnect(nid(3), sname("model")));
    run(&b, g, COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC);
    assert_true(b.check.ok);
    assert_int_equal(b.check.results[0]->link_id, 10);
    assert_int_equal(b.check.results[1]->link_id, 10);
    assert_int_equal(b.check.results[2]->link_id, 0); /* already free: a no-op */
    batch_free(&b);
    graph_destroy(g);
}

static void link_types_must_be_compatible(void **state)
{
    (void)state;
    graph *g = parse(default_wf, 1);
    batch b = {0};
    const Comfyd__V1__GraphError *e =
        one(&b, g, c_connect(nid(4), sname("CLIP"), nid(3), sname("model")));
    assert_int_equal(e->code, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_TYPE_MISMATCH);
    assert_non_null(strstr(e->message, "(CLIP) cannot connect to #3 KSampler input 0"));
    batch_free(&b);

    /* Comma unions match any member; "*" matches everything. */
    add(&b, c_create("LoadImage", "img"));
    add(&b, c_create("PreviewImage", "prev"));
    add(&b, c_create("Reroute", "r"));
    add(&b, c_connect(nref("img"), sidx(1), nref("r"), sidx(0)));
    add(&b, c_connect(nref("r"), sidx(0), nref("prev"), sidx(0)));
    add(&b, c_connect(nref("img"), sidx(0), nref("prev"), sname("images")));
    run(&b, g, COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC);
    assert_true(b.check.ok);
    batch_free(&b);

    e = one(&b, g, c_connect(nid(3), sidx(0), nid(3), sidx(3)));
    assert_int_equal(e->code, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND);
    batch_free(&b);
    graph_destroy(g);
}

static void widgets_and_values_are_checked(void **state)
{
    (void)state;
    graph *g = parse(default_wf, 1);
    batch b = {0};
    const Comfyd__V1__GraphError *e = one(&b, g, c_set(nid(3), "sed", v_int(1)));
    assert_int_equal(e->code, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_WIDGET_NOT_FOUND);
    assert_true(has_suggestion(e, "seed"));
    assert_non_null(strstr(e->message, "widgets: seed, control_after_generate, steps"));
    batch_free(&b);

    e = one(&b, g, c_set(nid(3), "model", v_int(1)));
    assert_int_equal(e->code, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_WIDGET_NOT_FOUND);
    assert_non_null(strstr(e->message, "a MODEL input (a socket)"));
    batch_free(&b);

    e = one(&b, g, c_set(nid(3), "sampler_name", v_text("eulr")));
    assert_int_equal(e->code, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_VALUE_INVALID);
    assert_non_null(strstr(e->message, "\"euler\""));
    assert_non_null(strstr(e->message, "and 22 more"));
    assert_true(has_suggestion(e, "euler"));
    batch_free(&b);

    static const struct {
        const char *widget;
        double value;
        const char *needle;
    } bad[] = {
        {"steps", 0, ">= 1"},
        {"seed", 1.5, "whole number"},
        {"denoise", 2, "<= 1"},
        {"cfg", -1, ">= 0"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        e = one(&b, g, c_set(nid(3), bad[i].widget, v_num(bad[i].value)));
        assert_int_equal(e->code, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_VALUE_INVALID);
        assert_non_null(strstr(e->message, bad[i].needle));
        batch_free(&b);
    }
    e = one(&b, g, c_set(nid(5), "width", v_int(510)));
    assert_non_null(strstr(e->message, "multiple of 8"));
    batch_free(&b);
    e = one(&b, g, c_set(nid(3), "cfg", v_text("high")));
    assert_int_equal(e->code, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_VALUE_INVALID);
    batch_free(&b);
    /* FLOAT steps are not enforced. */
    assert_null(one(&b, g, c_set(nid(3), "cfg", v_num(7.55))));
    assert_int_equal(b.check.results[0]->node_id, 3);
    batch_free(&b);
    assert_null(one(&b, g, c_set(nid(3), "control_after_generate", v_text("increment"))));
    batch_free(&b);
    /* create_node's widgets are checked the same way. */
    e = one(&b, g, with_widget(c_create("EmptyLatentImage", NULL), "widht", v_int(512)));
    assert_int_equal(e->code, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_WIDGET_NOT_FOUND);
    assert_true(has_suggestion(e, "width"));
    batch_free(&b);
    e = one(&b, g, with_widget(c_create("EmptyLatentImage", NULL), "batch_size", v_int(0)));
    assert_int_equal(e->code, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_VALUE_INVALID);
    batch_free(&b);
    graph_destroy(g);
}

static void invalid_commands_are_reported(void **state)
{
    (void)state;
    graph *g = parse(default_wf, 1);
    batch b = {0};
    Comfyd__V1__Command *empty = alloc(sizeof *empty);
    comfyd__v1__command__init(empty);
    const Comfyd__V1__GraphError *e = one(&b, g, empty);
    assert_int_equal(e->code, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND);
    batch_free(&b);
    e = one(&b, g, c_move(nid(3), 1e300, 0));
    assert_int_equal(e->code, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND);
    batch_free(&b);
    e = one(&b, g, c_set(nid(3), "seed", NULL));
    assert_int_equal(e->code, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND);
    batch_free(&b);
    e = one(&b, g, c_connect(nid(4), NULL, nid(3), sidx(0)));
    assert_int_equal(e->code, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND);
    batch_free(&b);
    add(&b, c_create("VAEDecode", "x"));
    add(&b, c_create("VAEDecode", "x"));
    run(&b, g, COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC);
    assert_int_equal(b.check.n_errors, 1);
    assert_non_null(strstr(b.check.errors[0]->message, "already used by command 0"));
    batch_free(&b);

    /* Too many commands: one error for the whole request. */
    Comfyd__V1__Command *many[GRAPH_MAX_BATCH + 1];
    for (size_t i = 0; i <= GRAPH_MAX_BATCH; i++)
        many[i] = NULL;
    graph_check c;
    assert_int_equal(graph_validate(g, NULL, (const Comfyd__V1__Command *const *)many,
                                    GRAPH_MAX_BATCH + 1, COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC,
                                    &c),
                     GRAPH_OK);
    assert_false(c.ok);
    assert_int_equal(c.n_results, 0);
    assert_int_equal(c.n_errors, 1);
    assert_int_equal(c.errors[0]->index, -1);
    graph_check_clear(&c);
    graph_destroy(g);
}

static void validate_only_returns_every_error_of_a_batch(void **state)
{
    (void)state;
    graph *g = parse(default_wf, 1);
    batch b = {0};
    add(&b, c_create("KSampler", "ks"));                                          /* ok */
    add(&b, c_create("Ksampler", "bad"));                                         /* unknown type */
    add(&b, c_connect(nid(4), sname("MODEL"), nref("ks"), sname("model")));       /* ok */
    add(&b, c_set(nref("ks"), "steps", v_int(-3)));                               /* out of range */
    add(&b, c_connect(nid(4), sname("CLIP"), nref("ks"), sname("latent_image"))); /* types */
    add(&b, c_move(nref("ks"), 400, 200));                                        /* ok */
    run(&b, g, COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC);
    assert_false(b.check.ok);
    assert_int_equal(b.check.n_errors, 3);
    assert_int_equal(b.check.errors[0]->index, 1);
    assert_int_equal(b.check.errors[0]->code,
                     COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_UNKNOWN_NODE_TYPE);
    assert_int_equal(b.check.errors[1]->index, 3);
    assert_int_equal(b.check.errors[1]->code,
                     COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_VALUE_INVALID);
    assert_int_equal(b.check.errors[2]->index, 4);
    assert_int_equal(b.check.errors[2]->code,
                     COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_TYPE_MISMATCH);
    static const int ok[] = {1, 0, 1, 0, 0, 1};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(b.check.results[i]->ok, ok[i]);
    assert_int_equal(b.check.results[4]->error->code,
                     COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_TYPE_MISMATCH);
    /* Atomic: nothing would be applied, so no ids are expected. */
    assert_int_equal(b.check.n_expected_ids, 0);
    assert_int_equal(b.check.n_refs, 0);
    graph_check_clear(&b.check);

    /* Partial: the valid commands would be applied. */
    run(&b, g, COMFYD__V1__BATCH_MODE__BATCH_MODE_PARTIAL);
    assert_int_equal(b.check.n_errors, 3);
    assert_int_equal(b.check.n_expected_ids, 1);
    assert_int_equal(b.check.expected_ids[0], 10);
    assert_int_equal(b.check.n_refs, 1);
    assert_int_equal(ref_value(&b.check, "ks"), 10);
    assert_int_equal(b.check.results[2]->link_id, 10);
    batch_free(&b);
    graph_destroy(g);
}

static void commands_on_an_invalid_create_are_still_checked(void **state)
{
    (void)state;
    graph *g = parse(default_wf, 1);
    batch b = {0};
    add(&b, with_widget(c_create("KSampler", "ks"), "steps", v_int(0)));
    add(&b, c_connect(nid(4), sidx(0), nref("ks"), sname("modl")));
    run(&b, g, COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC);
    /* The value, the dependent ref, and the slot typo in the same pass. */
    assert_int_equal(b.check.n_errors, 3);
    assert_int_equal(b.check.errors[0]->code,
                     COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_VALUE_INVALID);
    assert_int_equal(b.check.errors[1]->code,
                     COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_REF_NOT_FOUND);
    assert_non_null(strstr(b.check.errors[1]->message, "command 0 (create_node) is invalid"));
    assert_int_equal(b.check.errors[2]->code,
                     COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_SLOT_NOT_FOUND);
    batch_free(&b);

    /* An invalid create_node takes no id: the next valid one gets it. */
    add(&b, with_widget(c_create("KSampler", "ks"), "steps", v_int(0)));
    add(&b, c_create("VAEDecode", "dec"));
    run(&b, g, COMFYD__V1__BATCH_MODE__BATCH_MODE_PARTIAL);
    assert_int_equal(b.check.n_expected_ids, 1);
    assert_int_equal(b.check.expected_ids[0], 10);
    assert_int_equal(b.check.results[1]->node_id, 10);
    assert_int_equal(b.check.results[0]->node_id, 0);
    batch_free(&b);
    graph_destroy(g);
}

static void clear_graph_restarts_ids(void **state)
{
    (void)state;
    graph *g = parse(default_wf, 1);
    batch b = {0};
    add(&b, c_create("VAEDecode", "before"));
    add(&b, c_clear());
    add(&b, c_create("VAEDecode", "after"));
    add(&b, c_move(nid(3), 0, 0));
    add(&b, c_move(nid(1), 0, 0));
    run(&b, g, COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC);
    assert_int_equal(b.check.n_errors, 1);
    assert_int_equal(b.check.errors[0]->index, 3);
    assert_non_null(strstr(b.check.errors[0]->message, "clear_graph"));
    graph_check_clear(&b.check);
    b.n = 4; /* drop the failing move; node 1 is the new one */
    protobuf_c_message_free_unpacked(&b.c[3]->base, NULL);
    b.c[3] = b.c[4];
    run(&b, g, COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC);
    assert_true(b.check.ok);
    assert_int_equal(b.check.expected_ids[0], 10);
    assert_int_equal(b.check.expected_ids[1], 1);
    batch_free(&b);
    graph_destroy(g);
}

static void arrange_names_existing_nodes_and_bounded_numbers(void **state)
{
    (void)state;
    graph *g = parse(default_wf, 1);
    batch b = {0};
    /* The whole graph, and a subset by id with every option. */
    assert_null(one(&b, g, c_arrange(NULL, 0, NULL, NULL, NULL)));
    assert_true(b.check.ok);
    assert_int_equal(b.check.results[0]->node_id, 0);
    batch_free(&b);
    Comfyd__V1__NodeRef *some[] = {nid(3), nid(4), nid(3)};
    assert_null(one(&b, g, c_arrange(some, 3, dbl(-500), dbl(1e6), dbl(0))));
    batch_free(&b);

    /* Nodes created earlier in the batch, by ref. */
    add(&b, c_create("VAEDecode", "d"));
    add(&b, c_create("SaveImage", "s"));
    Comfyd__V1__NodeRef *refs[] = {nref("d"), nref("s"), nid(8)};
    add(&b, c_arrange(refs, 3, NULL, NULL, dbl(40)));
    run(&b, g, COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC);
    assert_true(b.check.ok);
    batch_free(&b);

    /* Every unknown or removed node is an error, and so are numbers out of
     * range; the other commands stay valid. */
    add(&b, c_remove(nid(4)));
    Comfyd__V1__NodeRef *bad[] = {nid(3), nid(99), nid(4), nref("nope")};
    add(&b, c_arrange(bad, 4, dbl(2e7), dbl(NAN), dbl(10001)));
    run(&b, g, COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC);
    assert_false(b.check.ok);
    assert_true(b.check.results[0]->ok);
    assert_false(b.check.results[1]->ok);
    assert_int_equal(b.check.n_errors, 6);
    assert_int_equal(b.check.errors[0]->code,
                     COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NODE_NOT_FOUND);
    assert_non_null(strstr(b.check.errors[0]->message, "node_ids[1]"));
    assert_non_null(strstr(b.check.errors[1]->message, "removed by command 0"));
    assert_int_equal(b.check.errors[2]->code,
                     COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_REF_NOT_FOUND);
    assert_non_null(strstr(b.check.errors[3]->message, "x must be"));
    assert_non_null(strstr(b.check.errors[4]->message, "y must be"));
    assert_non_null(strstr(b.check.errors[5]->message, "spacing"));
    for (size_t i = 0; i < b.check.n_errors; i++)
        assert_int_equal(b.check.errors[i]->index, 1);
    batch_free(&b);

    assert_non_null(strstr(one(&b, g, c_arrange(NULL, 0, NULL, NULL, dbl(-1)))->message,
                           "spacing must be a number from 0 to 10000"));
    batch_free(&b);
    graph_destroy(g);
}

/* A canvas from a newer frontend: every widget input has a socket. */
static const char sockets_wf[] =
    "{\"last_node_id\": 2, \"last_link_id\": 0, \"nodes\": ["
    " {\"id\": 1, \"type\": \"EmptyLatentImage\", \"inputs\": ["
    "   {\"name\": \"width\", \"type\": \"INT\", \"widget\": {\"name\": \"width\"}, \"link\": "
    "null},"
    "   {\"name\": \"height\", \"type\": \"INT\", \"widget\": {\"name\": \"height\"}, \"link\": "
    "null},"
    "   {\"name\": \"batch_size\", \"type\": \"INT\", \"widget\": {\"name\": \"batch_size\"},"
    "    \"link\": null}],"
    "  \"outputs\": [{\"name\": \"LATENT\", \"type\": \"LATENT\", \"links\": []}],"
    "  \"widgets_values\": [512, 512, 1]},"
    " {\"id\": 2, \"type\": \"PrimitiveNode\", \"outputs\": [{\"name\": \"INT\", \"type\": \"INT\","
    "   \"links\": []}], \"widgets_values\": [768, \"fixed\"]}"
    "]}";

static void set_node_mode_takes_the_mode_names_of_litegraph(void **state)
{
    (void)state;
    graph *g = parse(default_wf, 1);
    batch b = {0};
    static const char *const ok[] = {"always", "never", "mute", "bypass"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_null(one(&b, g, c_mode(nid(3), ok[i])));
        assert_true(b.check.ok);
        assert_int_equal(b.check.results[0]->node_id, 3);
        batch_free(&b);
    }
    /* A node created earlier in the batch, by ref. */
    add(&b, c_create("VAEDecode", "d"));
    add(&b, c_mode(nref("d"), "bypass"));
    run(&b, g, COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC);
    assert_true(b.check.ok);
    assert_int_equal(b.check.results[1]->node_id, 10);
    batch_free(&b);

    const Comfyd__V1__GraphError *e = one(&b, g, c_mode(nid(3), "Bypass"));
    assert_non_null(e);
    assert_int_equal(e->code, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND);
    assert_non_null(strstr(e->message, "always, never, mute, bypass"));
    batch_free(&b);
    e = one(&b, g, c_mode(nid(3), NULL));
    assert_non_null(e);
    batch_free(&b);
    e = one(&b, g, c_mode(nid(99), "never"));
    assert_non_null(e);
    assert_int_equal(e->code, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NODE_NOT_FOUND);
    batch_free(&b);
    e = one(&b, g, c_mode(NULL, "never"));
    assert_non_null(e);
    batch_free(&b);
    graph_destroy(g);
}

/* The command table: names from the descriptor, shape checks naming the
 * field, the read-only flag, and empty commands. */
static void command_table_names_shapes_and_flags(void **state)
{
    (void)state;
    char names[256];
    assert_string_equal(graph_cmd_names(names, sizeof names),
                        "create_node, remove_node, connect, disconnect, set_widget, move_node, "
                        "clear_graph, get_graph, arrange, set_node_mode");
    char small[12];
    assert_string_equal(graph_cmd_names(small, sizeof small), "create_node");

    Comfyd__V1__Command *m = c_mode(nid(3), "never");
    assert_string_equal(graph_cmd_name(m), "set_node_mode");
    assert_int_equal(graph_cmd_flags(m), 0);
    char err[512];
    assert_int_equal(graph_cmd_check_shape(m, 0, err, sizeof err), GRAPH_OK);
    Comfyd__V1__Command *get = wrap(COMFYD__V1__COMMAND__COMMAND_GET_GRAPH, NULL);
    /* A message without fields needs no payload. */
    assert_string_equal(graph_cmd_name(get), "get_graph");
    assert_int_equal(graph_cmd_flags(get), GRAPH_CMD_READ_ONLY);
    protobuf_c_message_free_unpacked(&get->base, NULL);

    /* A too long mode and a mode that is not UTF-8 are refused by name. */
    char *long_mode = alloc(GRAPH_MAX_NAME + 2);
    memset(long_mode, 'a', GRAPH_MAX_NAME + 1);
    long_mode[GRAPH_MAX_NAME + 1] = 0;
    free(m->set_node_mode->mode);
    m->set_node_mode->mode = long_mode;
    assert_int_equal(graph_cmd_check_shape(m, 4, err, sizeof err), GRAPH_EINVAL);
    assert_string_equal(err, "commands[4].set_node_mode.mode is too long (at most 1024 bytes)");
    long_mode[0] = (char)0xff;
    long_mode[1] = 0;
    assert_int_equal(graph_cmd_check_shape(m, 1, err, sizeof err), GRAPH_EINVAL);
    assert_string_equal(err, "commands[1].set_node_mode.mode is not valid UTF-8");
    protobuf_c_message_free_unpacked(&m->base, NULL);

    /* Empty: no case, or a case whose message is missing. */
    Comfyd__V1__Command empty = COMFYD__V1__COMMAND__INIT;
    assert_null(graph_cmd_name(&empty));
    assert_int_equal(graph_cmd_check_shape(&empty, 2, err, sizeof err), GRAPH_EINVAL);
    assert_string_equal(err, "commands[2] is empty: set one of create_node, remove_node, connect, "
                             "disconnect, set_widget, move_node, clear_graph, get_graph, "
                             "arrange, set_node_mode");
    empty.command_case = COMFYD__V1__COMMAND__COMMAND_SET_NODE_MODE;
    assert_null(graph_cmd_name(&empty));
    assert_int_equal(graph_cmd_check_shape(&empty, 0, err, sizeof err), GRAPH_EINVAL);
    empty.command_case = (Comfyd__V1__Command__CommandCase)999;
    assert_null(graph_cmd_name(&empty));
    assert_int_equal(graph_cmd_flags(&empty), 0);
}

static void widget_sockets_follow_the_canvas_style(void **state)
{
    (void)state;
    graph *g = parse(sockets_wf, 1);
    batch b = {0};
    /* Existing node: the socket of widget "height" by name. */
    assert_null(one(&b, g, c_connect(nid(2), sidx(0), nid(1), sname("height"))));
    assert_int_equal(b.check.results[0]->link_id, 1);
    batch_free(&b);
    /* New node on this canvas: sockets in schema order, widgets included. */
    add(&b, c_create("KSampler", "ks"));
    add(&b, c_connect(nid(2), sidx(0), nref("ks"), sidx(1))); /* seed */
    add(&b, c_connect(nid(1), sidx(0), nref("ks"), sname("latent_image")));
    run(&b, g, COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC);
    assert_true(b.check.ok);
    batch_free(&b);
    /* The PrimitiveNode's values stay by position, unchecked. */
    const graph_node *p = graph_find_node(g, 2);
    assert_int_equal(widget(p, "#0")->value.i, 768);
    assert_null(one(&b, g, c_set(nid(2), "value", v_int(5))));
    batch_free(&b);
    graph_destroy(g);
}

/* ---- diffs and the log ---- */

/* Replaces the first from in s (malloc'd) with to; returns the new string. */
static char *replace_once(char *s, const char *from, const char *to)
{
    assert_non_null(s);
    char *at = strstr(s, from);
    assert_non_null(at);
    size_t head = (size_t)(at - s), fl = strlen(from), tl = strlen(to);
    char *out = malloc(strlen(s) - fl + tl + 1);
    assert_non_null(out);
    memcpy(out, s, head);
    memcpy(out + head, to, tl);
    strcpy(out + head + tl, at + fl);
    free(s);
    return out;
}

static char *edited_default(void)
{
    /* The default graph after a user: moved and retitled the KSampler,
     * changed its seed, bypassed the VAE decoder, replaced SaveImage with
     * PreviewImage and unplugged the negative prompt. */
    char *s = strdup(default_wf);
    struct {
        const char *from, *to;
    } edits[] = {
        {"\"pos\": [863, 186]", "\"pos\": [400, 200], \"title\": \"My sampler\""},
        {"[156680208700286, \"randomize\"", "[42, \"fixed\""},
        {"\"order\": 5,\n      \"mode\": 0", "\"order\": 5,\n      \"mode\": 4"},
        {"\"id\": 9,\n      \"type\": \"SaveImage\"",
         "\"id\": 10,\n      \"type\": \"PreviewImage\""},
        {"[9, 8, 0, 9, 0, \"IMAGE\"]", "[10, 8, 0, 10, 0, \"IMAGE\"]"},
        {"[6, 7, 0, 3, 2, \"CONDITIONING\"],", ""},
        {"{\"name\": \"negative\", \"type\": \"CONDITIONING\", \"link\": 6}",
         "{\"name\": \"negative\", \"type\": \"CONDITIONING\", \"link\": null}"},
        {"\"last_node_id\": 9", "\"last_node_id\": 10"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof *edits; i++)
        s = replace_once(s, edits[i].from, edits[i].to);
    return s;
}

static const Comfyd__V1__GraphOp *find_op(Comfyd__V1__GraphOp **ops, size_t n, const char *sum)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ops[i]->summary, sum) == 0) return ops[i];
    return NULL;
}

static void apply_workflow_returns_the_difference_as_ops(void **state)
{
    (void)state;
    graph *g = parse(default_wf, 1);
    char *edited = edited_default();
    Comfyd__V1__GraphOp **ops = NULL;
    size_t n = 0;
    char err[256];
    assert_int_equal(graph_apply_workflow(g, edited, strlen(edited), 2,
                                          COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER, 1234, &ops,
                                          &n, err, sizeof err),
                     GRAPH_OK);
    assert_int_equal(n, 9);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ops[i]->revision, 2);
        assert_int_equal(ops[i]->origin, COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER);
        assert_int_equal(ops[i]->time_ms, 1234);
    }
    const Comfyd__V1__GraphOp *op =
        find_op(ops, n, "disconnected #3 KSampler.negative from #7 CLIPTextEncode.CONDITIONING");
    assert_non_null(op);
    assert_int_equal(op->command->command_case, COMFYD__V1__COMMAND__COMMAND_DISCONNECT);
    assert_int_equal(op->command->disconnect->node_id->id, 3);
    assert_int_equal(op->command->disconnect->slot->index, 2);

    op = find_op(ops, n, "removed #9 SaveImage");
    assert_non_null(op);
    assert_int_equal(op->command->remove_node->node_id->id, 9);

    op = find_op(ops, n, "added #10 PreviewImage at (1451, 189)");
    assert_non_null(op);
    assert_string_equal(op->command->create_node->node_type, "PreviewImage");
    assert_true(op->command->create_node->x->value == 1451);

    op = find_op(ops, n, "moved #3 KSampler to (400, 200)");
    assert_non_null(op);
    assert_int_equal(op->command->command_case, COMFYD__V1__COMMAND__COMMAND_MOVE_NODE);
    assert_true(op->command->move_node->x == 400 && op->command->move_node->y == 200);

    op = find_op(ops, n, "renamed #3 KSampler to \"My sampler\"");
    assert_non_null(op);
    assert_null(op->command); /* no title command in the contract */
    op = find_op(ops, n, "bypassed #8 VAEDecode");
    assert_non_null(op);
    assert_int_equal(op->command->command_case, COMFYD__V1__COMMAND__COMMAND_SET_NODE_MODE);
    assert_int_equal(op->command->set_node_mode->node_id->id, 8);
    assert_string_equal(op->command->set_node_mode->mode, "bypass");

    op = find_op(ops, n, "set #3 KSampler.seed to 42");
    assert_non_null(op);
    assert_string_equal(op->command->set_widget->name, "seed");
    assert_int_equal(op->command->set_widget->value->integer, 42);
    assert_non_null(find_op(ops, n, "set #3 KSampler.control_after_generate to \"fixed\""));

    op = find_op(ops, n, "connected #8 VAEDecode.IMAGE to #10 PreviewImage.images");
    assert_non_null(op);
    assert_int_equal(op->command->connect->from_id->id, 8);
    assert_int_equal(op->command->connect->to_slot->index, 0);
    /* The link that went with SaveImage is implied by its removal. */
    assert_null(find_op(ops, n, "disconnected #9 SaveImage.images from #8 VAEDecode.IMAGE"));
    graph_ops_free(ops, n);

    /* The mirror is the new workflow. */
    assert_int_equal(graph_revision(g), 2);
    assert_null(graph_find_node(g, 9));
    assert_string_equal(graph_find_node(g, 3)->title, "My sampler");
    assert_string_equal(graph_workflow_json(g, NULL), edited);

    /* A stale revision changes nothing. */
    assert_int_equal(graph_apply_workflow(g, default_wf, default_wf_len, 2,
                                          COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER, 0, NULL,
                                          NULL, err, sizeof err),
                     GRAPH_EREVISION);
    assert_int_equal(graph_revision(g), 2);
    /* Neither does a broken workflow. */
    assert_int_equal(graph_apply_workflow(g, "{", 1, 3, COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER,
                                          0, NULL, NULL, err, sizeof err),
                     GRAPH_EINVAL);
    assert_int_equal(graph_node_count(g), 7);
    free(edited);
    graph_destroy(g);
}

static void replaced_link_is_one_connect_op(void **state)
{
    (void)state;
    graph *g = parse(default_wf, 1);
    /* The same connection made again: link 1 becomes link 10. */
    char *s = strdup(default_wf);
    s = replace_once(s, "[1, 4, 0, 3, 0, \"MODEL\"]", "[10, 4, 0, 3, 0, \"MODEL\"]");
    s = replace_once(s, "\"type\": \"MODEL\", \"link\": 1}", "\"type\": \"MODEL\", \"link\": 10}");
    Comfyd__V1__GraphOp **ops;
    size_t n;
    char err[256];
    assert_int_equal(graph_apply_workflow(g, s, strlen(s), 2,
                                          COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER, 0, &ops, &n,
                                          err, sizeof err),
                     GRAPH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ops[0]->summary,
                        "connected #4 CheckpointLoaderSimple.MODEL to #3 KSampler.model");
    graph_ops_free(ops, n);
    free(s);
    graph_destroy(g);
}

static void diff_since_returns_ops_after_a_revision(void **state)
{
    (void)state;
    graph *g = parse(default_wf, 10);
    char *edited = edited_default();
    char err[256];
    assert_int_equal(graph_apply_workflow(g, edited, strlen(edited), 11,
                                          COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER, 0, NULL,
                                          NULL, err, sizeof err),
                     GRAPH_OK);
    assert_int_equal(graph_apply_workflow(g, default_wf, default_wf_len, 12,
                                          COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_AGENT, 0, NULL,
                                          NULL, err, sizeof err),
                     GRAPH_OK);
    /* No change at all is a revision without ops. */
    assert_int_equal(graph_apply_workflow(g, default_wf, default_wf_len, 13,
                                          COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER, 0, NULL,
                                          NULL, err, sizeof err),
                     GRAPH_OK);
    Comfyd__V1__GraphOp **ops;
    size_t n, n11;
    assert_int_equal(graph_diff_since(g, 10, &ops, &n), GRAPH_OK);
    assert_int_equal(n, 18);
    assert_int_equal(ops[0]->revision, 11);
    assert_int_equal(ops[17]->revision, 12);
    graph_ops_free(ops, n);
    assert_int_equal(graph_diff_since(g, 11, &ops, &n11), GRAPH_OK);
    assert_int_equal(n11, 9);
    assert_int_equal(ops[0]->origin, COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_AGENT);
    assert_non_null(find_op(ops, n11, "removed #10 PreviewImage"));
    assert_non_null(find_op(ops, n11, "enabled #8 VAEDecode"));
    assert_non_null(find_op(ops, n11, "reset the title of #3 KSampler"));
    graph_ops_free(ops, n11);
    assert_int_equal(graph_diff_since(g, 13, &ops, &n), GRAPH_OK);
    assert_int_equal(n, 0);
    assert_null(ops);
    /* Before the mirror existed: the log cannot say. */
    assert_int_equal(graph_diff_since(g, 9, &ops, &n), GRAPH_ETRUNCATED);
    free(edited);
    graph_destroy(g);
}

static char *many_nodes_wf(size_t count)
{
    size_t cap = 64 + count * 64;
    char *s = malloc(cap);
    assert_non_null(s);
    size_t len = (size_t)snprintf(s, cap, "{\"nodes\": [");
    for (size_t i = 0; i < count; i++)
        len += (size_t)snprintf(s + len, cap - len,
                                "%s{\"id\": %zu, \"type\": \"VAEDecode\", \"pos\": [0, 0]}",
                                i ? "," : "", i + 1);
    snprintf(s + len, cap - len, "]}");
    return s;
}

static void op_log_is_bounded_and_reports_truncation(void **state)
{
    (void)state;
    graph *g = parse(empty_wf, 1);
    char err[256];
    char *big = many_nodes_wf(GRAPH_OPLOG_MAX / 2 + 10);
    assert_int_equal(graph_apply_workflow(g, big, strlen(big), 2,
                                          COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_LOAD, 0, NULL,
                                          NULL, err, sizeof err),
                     GRAPH_OK);
    Comfyd__V1__GraphOp **ops;
    size_t n;
    assert_int_equal(graph_diff_since(g, 1, &ops, &n), GRAPH_OK);
    assert_int_equal(n, GRAPH_OPLOG_MAX / 2 + 10);
    graph_ops_free(ops, n);
    /* Removing them all pushes the first adds out of the log. */
    assert_int_equal(graph_apply_workflow(g, empty_wf, strlen(empty_wf), 3,
                                          COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER, 0, NULL,
                                          NULL, err, sizeof err),
                     GRAPH_OK);
    assert_int_equal(graph_diff_since(g, 1, &ops, &n), GRAPH_ETRUNCATED);
    assert_int_equal(graph_diff_since(g, 2, &ops, &n), GRAPH_OK);
    assert_int_equal(n, GRAPH_OPLOG_MAX / 2 + 10);
    assert_string_equal(ops[0]->summary, "removed #1 VAEDecode");
    graph_ops_free(ops, n);
    free(big);
    graph_destroy(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_workflow_parses_into_a_typed_mirror),
        cmocka_unit_test(workflow_variants_parse),
        cmocka_unit_test(malformed_workflows_are_refused_with_a_message),
        cmocka_unit_test(mirror_converts_to_a_graph_message),
        cmocka_unit_test(full_txt2img_batch_by_refs_is_valid_with_expected_ids),
        cmocka_unit_test(unknown_node_type_suggests_close_names),
        cmocka_unit_test(missing_nodes_and_refs_are_reported),
        cmocka_unit_test(slots_resolve_by_index_and_name),
        cmocka_unit_test(link_types_must_be_compatible),
        cmocka_unit_test(widgets_and_values_are_checked),
        cmocka_unit_test(invalid_commands_are_reported),
        cmocka_unit_test(validate_only_returns_every_error_of_a_batch),
        cmocka_unit_test(commands_on_an_invalid_create_are_still_checked),
        cmocka_unit_test(clear_graph_restarts_ids),
        cmocka_unit_test(arrange_names_existing_nodes_and_bounded_numbers),
        cmocka_unit_test(set_node_mode_takes_the_mode_names_of_litegraph),
        cmocka_unit_test(command_table_names_shapes_and_flags),
        cmocka_unit_test(widget_sockets_follow_the_canvas_style),
        cmocka_unit_test(apply_workflow_returns_the_difference_as_ops),
        cmocka_unit_test(replaced_link_is_one_connect_op),
        cmocka_unit_test(diff_since_returns_ops_after_a_revision),
        cmocka_unit_test(op_log_is_bounded_and_reports_truncation),
    };
    return cmocka_run_group_tests_name("graph", tests, setup, teardown);
}
