/* Unit tests of common/jsonpb: the proto3 JSON mapping with the seeds' shapes,
 * round trips through the comfyd.v1 contract, and every decode error with
 * its path. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comfyd/v1/graph.pb-c.h"
#include "comfyd/v1/session.pb-c.h"
#include "google/protobuf/wrappers.pb-c.h"
#include "jsonpb.h"
#include "jsonpb_schema.h"

#include <yajl/yajl_tree.h>

static const ProtobufCMessageDescriptor *const flat_list[] = {&comfyd__v1__command__descriptor};

/* The bridge's options for graph commands: Command is flattened. */
static jsonpb_opts flat_opts(void)
{
    jsonpb_opts o = {0};
    o.flatten = flat_list;
    o.n_flatten = 1;
    return o;
}

static char errbuf[512];

static int dec(const ProtobufCMessageDescriptor *d, const char *json, const jsonpb_opts *o,
               ProtobufCMessage **m)
{
    return jsonpb_decode(d, json, strlen(json), o, m, errbuf, sizeof errbuf);
}

/* Decodes json, expecting failure with code and exactly the message msg
 * (or just the code when msg is NULL). */
static void expect_err(const ProtobufCMessageDescriptor *d, const char *json, const jsonpb_opts *o,
                       int code, const char *msg)
{
    ProtobufCMessage *m = (ProtobufCMessage *)1;
    int r = dec(d, json, o, &m);
    if (r != code) fail_msg("%s: got %d (%s), want %d", json, r, errbuf, code);
    assert_null(m);
    if (msg) assert_string_equal(errbuf, msg);
}

/* jsonpb_encode_gen's text for m through a plain yajl generator (malloc'd). */
static char *encode_via_yajl(const ProtobufCMessage *m, const jsonpb_opts *o)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    int r = jsonpb_encode_gen(g, m, o, errbuf, sizeof errbuf);
    if (r) fail_msg("encode_gen: %d %s", r, errbuf);
    const unsigned char *buf;
    size_t len;
    yajl_gen_get_buf(g, &buf, &len);
    char *s = malloc(len + 1);
    memcpy(s, buf, len);
    s[len] = '\0';
    yajl_gen_free(g);
    return s;
}

/* Encodes m, checks the text (from jsonpb_encode's own writer and from
 * jsonpb_encode_gen through yajl: the two must agree byte for byte) and
 * returns nothing (the text is freed). */
static void expect_json(const ProtobufCMessage *m, const jsonpb_opts *o, const char *want)
{
    char *out = NULL;
    size_t len = 0;
    int r = jsonpb_encode(m, o, &out, &len, errbuf, sizeof errbuf);
    if (r) fail_msg("encode: %d %s", r, errbuf);
    assert_int_equal(len, strlen(out));
    assert_string_equal(out, want);
    char *via = encode_via_yajl(m, o);
    assert_string_equal(via, want);
    free(via);
    free(out);
}

/* Packed protobuf bytes of two messages are equal. */
static void assert_same_message(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    size_t na = protobuf_c_message_get_packed_size(a);
    size_t nb = protobuf_c_message_get_packed_size(b);
    assert_int_equal(na, nb);
    uint8_t *pa = malloc(na + 1), *pb = malloc(nb + 1);
    protobuf_c_message_pack(a, pa);
    protobuf_c_message_pack(b, pb);
    assert_memory_equal(pa, pb, na);
    free(pa);
    free(pb);
}

/* encode(m) decodes back to the same message and encodes to the same text. */
static void assert_round_trip(const ProtobufCMessage *m, const jsonpb_opts *o)
{
    char *j1 = NULL, *j2 = NULL;
    size_t l1, l2;
    assert_int_equal(jsonpb_encode(m, o, &j1, &l1, errbuf, sizeof errbuf), 0);
    ProtobufCMessage *back = NULL;
    int r = jsonpb_decode(m->descriptor, j1, l1, o, &back, errbuf, sizeof errbuf);
    if (r) fail_msg("re-decode of %s: %d %s", j1, r, errbuf);
    assert_same_message(m, back);
    assert_int_equal(jsonpb_encode(back, o, &j2, &l2, errbuf, sizeof errbuf), 0);
    assert_string_equal(j1, j2);
    free(j1);
    free(j2);
    protobuf_c_message_free_unpacked(back, NULL);
}

/* The seed-004 style text-to-image batch, with refs, both slot forms, all
 * value kinds, wrappers and enums. */
static const char *TXT2IMG =
    "{\"commands\":["
    "{\"type\":\"create_node\",\"node_type\":\"CheckpointLoaderSimple\",\"ref\":\"ckpt\","
    "\"x\":100,\"y\":100,\"widgets\":{\"ckpt_name\":\"sd15.safetensors\"}},"
    "{\"type\":\"create_node\",\"node_type\":\"CLIPTextEncode\",\"ref\":\"pos\",\"x\":400.5,"
    "\"y\":50},"
    "{\"node_type\":\"KSampler\",\"type\":\"create_node\",\"ref\":\"ks\",\"x\":800,\"y\":100,"
    "\"widgets\":{\"seed\":42,\"cfg\":7.5,\"sampler_name\":\"euler\",\"add_noise\":true}},"
    "{\"type\":\"connect\",\"from_id\":\"ckpt\",\"from_slot\":1,\"to_id\":\"pos\","
    "\"to_slot\":\"clip\"},"
    "{\"type\":\"set_widget\",\"node_id\":\"pos\",\"name\":\"text\",\"value\":\"a cat\"},"
    "{\"type\":\"set_widget\",\"node_id\":1,\"name\":\"steps\",\"value\":30},"
    "{\"type\":\"set_widget\",\"node_id\":\"ks\",\"name\":\"denoise\",\"value\":0.75},"
    "{\"type\":\"set_widget\",\"node_id\":\"ks\",\"name\":\"cfg\",\"value\":8.0},"
    "{\"type\":\"move_node\",\"node_id\":\"ks\",\"x\":820.25,\"y\":-90},"
    "{\"type\":\"disconnect\",\"node_id\":\"ks\",\"slot\":\"model\"},"
    "{\"type\":\"remove_node\",\"node_id\":5},"
    "{\"type\":\"get_graph\"}"
    "],\"base_revision\":12,\"idempotencyKey\":\"k-1\",\"mode\":\"partial\","
    "\"timeout_ms\":\"5000\"}";

static const char *TXT2IMG_OUT =
    "{\"commands\":["
    "{\"type\":\"create_node\",\"node_type\":\"CheckpointLoaderSimple\",\"x\":100,\"y\":100,"
    "\"ref\":\"ckpt\",\"widgets\":{\"ckpt_name\":\"sd15.safetensors\"}},"
    "{\"type\":\"create_node\",\"node_type\":\"CLIPTextEncode\",\"x\":400.5,\"y\":50,"
    "\"ref\":\"pos\"},"
    "{\"type\":\"create_node\",\"node_type\":\"KSampler\",\"x\":800,\"y\":100,\"ref\":\"ks\","
    "\"widgets\":{\"seed\":42,\"cfg\":7.5,\"sampler_name\":\"euler\",\"add_noise\":true}},"
    "{\"type\":\"connect\",\"from_id\":\"ckpt\",\"from_slot\":1,\"to_id\":\"pos\","
    "\"to_slot\":\"clip\"},"
    "{\"type\":\"set_widget\",\"node_id\":\"pos\",\"name\":\"text\",\"value\":\"a cat\"},"
    "{\"type\":\"set_widget\",\"node_id\":1,\"name\":\"steps\",\"value\":30},"
    "{\"type\":\"set_widget\",\"node_id\":\"ks\",\"name\":\"denoise\",\"value\":0.75},"
    "{\"type\":\"set_widget\",\"node_id\":\"ks\",\"name\":\"cfg\",\"value\":8.0},"
    "{\"type\":\"move_node\",\"node_id\":\"ks\",\"x\":820.25,\"y\":-90},"
    "{\"type\":\"disconnect\",\"node_id\":\"ks\",\"slot\":\"model\"},"
    "{\"type\":\"remove_node\",\"node_id\":5},"
    "{\"type\":\"get_graph\"}"
    "],\"base_revision\":12,\"idempotency_key\":\"k-1\",\"mode\":\"BATCH_MODE_PARTIAL\","
    "\"timeout_ms\":5000}";

static void batch_txt2img_decodes_into_typed_commands(void **state)
{
    (void)state;
    jsonpb_opts o = flat_opts();
    Comfyd__V1__ExecuteBatchRequest *b = NULL;
    assert_int_equal(
        dec(&comfyd__v1__execute_batch_request__descriptor, TXT2IMG, &o, (ProtobufCMessage **)&b),
        0);
    assert_int_equal(b->n_commands, 12);
    assert_non_null(b->base_revision);
    assert_int_equal(b->base_revision->value, 12);
    assert_string_equal(b->idempotency_key, "k-1");
    assert_int_equal(b->mode, COMFYD__V1__BATCH_MODE__BATCH_MODE_PARTIAL);
    assert_int_equal(b->timeout_ms, 5000);

    Comfyd__V1__Command *c = b->commands[0];
    assert_int_equal(c->command_case, COMFYD__V1__COMMAND__COMMAND_CREATE_NODE);
    assert_string_equal(c->create_node->node_type, "CheckpointLoaderSimple");
    assert_string_equal(c->create_node->ref, "ckpt");
    assert_true(c->create_node->x->value == 100.0);
    assert_int_equal(c->create_node->n_widgets, 1);
    assert_string_equal(c->create_node->widgets[0]->key, "ckpt_name");
    assert_int_equal(c->create_node->widgets[0]->value->kind_case, COMFYD__V1__VALUE__KIND_TEXT);
    assert_string_equal(c->create_node->widgets[0]->value->text, "sd15.safetensors");

    Comfyd__V1__CreateNodeCommand *ks = b->commands[2]->create_node;
    assert_int_equal(ks->n_widgets, 4);
    assert_int_equal(ks->widgets[0]->value->kind_case, COMFYD__V1__VALUE__KIND_INTEGER);
    assert_int_equal(ks->widgets[0]->value->integer, 42);
    assert_int_equal(ks->widgets[1]->value->kind_case, COMFYD__V1__VALUE__KIND_NUMBER);
    assert_true(ks->widgets[1]->value->number == 7.5);
    assert_int_equal(ks->widgets[3]->value->kind_case, COMFYD__V1__VALUE__KIND_BOOLEAN);
    assert_true(ks->widgets[3]->value->boolean);

    Comfyd__V1__ConnectCommand *cn = b->commands[3]->connect;
    assert_int_equal(b->commands[3]->command_case, COMFYD__V1__COMMAND__COMMAND_CONNECT);
    assert_int_equal(cn->from_id->node_case, COMFYD__V1__NODE_REF__NODE_REF);
    assert_string_equal(cn->from_id->ref, "ckpt");
    assert_int_equal(cn->from_slot->slot_case, COMFYD__V1__SLOT_REF__SLOT_INDEX);
    assert_int_equal(cn->from_slot->index, 1);
    assert_int_equal(cn->to_slot->slot_case, COMFYD__V1__SLOT_REF__SLOT_NAME);
    assert_string_equal(cn->to_slot->name, "clip");

    Comfyd__V1__SetWidgetCommand *sw = b->commands[5]->set_widget;
    assert_int_equal(sw->node_id->node_case, COMFYD__V1__NODE_REF__NODE_ID);
    assert_int_equal(sw->node_id->id, 1);
    assert_int_equal(sw->value->kind_case, COMFYD__V1__VALUE__KIND_INTEGER);
    assert_int_equal(sw->value->integer, 30);
    sw = b->commands[6]->set_widget;
    assert_int_equal(sw->value->kind_case, COMFYD__V1__VALUE__KIND_NUMBER);
    assert_true(sw->value->number == 0.75);
    /* 8.0 has a fraction part in the text: the number member, not integer. */
    sw = b->commands[7]->set_widget;
    assert_int_equal(sw->value->kind_case, COMFYD__V1__VALUE__KIND_NUMBER);
    assert_true(sw->value->number == 8.0);

    assert_true(b->commands[8]->move_node->y == -90.0);
    assert_int_equal(b->commands[11]->command_case, COMFYD__V1__COMMAND__COMMAND_GET_GRAPH);
    assert_non_null(b->commands[11]->get_graph);
    protobuf_c_message_free_unpacked(&b->base, NULL);
}

static void batch_txt2img_encodes_in_seed_shape_and_round_trips(void **state)
{
    (void)state;
    jsonpb_opts o = flat_opts();
    ProtobufCMessage *m = NULL;
    assert_int_equal(dec(&comfyd__v1__execute_batch_request__descriptor, TXT2IMG, &o, &m), 0);
    expect_json(m, &o, TXT2IMG_OUT);
    assert_round_trip(m, &o);
    protobuf_c_message_free_unpacked(m, NULL);
}

static void base_revision_wrapper_keeps_presence(void **state)
{
    (void)state;
    jsonpb_opts o = flat_opts();
    Comfyd__V1__ExecuteBatchRequest *b = NULL;
    const ProtobufCMessageDescriptor *d = &comfyd__v1__execute_batch_request__descriptor;

    assert_int_equal(dec(d, "{\"commands\":[]}", &o, (ProtobufCMessage **)&b), 0);
    assert_null(b->base_revision);
    expect_json(&b->base, &o, "{}");
    protobuf_c_message_free_unpacked(&b->base, NULL);

    assert_int_equal(dec(d, "{\"base_revision\":null}", &o, (ProtobufCMessage **)&b), 0);
    assert_null(b->base_revision);
    protobuf_c_message_free_unpacked(&b->base, NULL);

    /* Present at the default value: still written, even without defaults. */
    assert_int_equal(dec(d, "{\"baseRevision\":0}", &o, (ProtobufCMessage **)&b), 0);
    assert_non_null(b->base_revision);
    assert_int_equal(b->base_revision->value, 0);
    expect_json(&b->base, &o, "{\"base_revision\":0}");
    assert_round_trip(&b->base, &o);
    protobuf_c_message_free_unpacked(&b->base, NULL);

    expect_err(d, "{\"base_revision\":{\"value\":1}}", &o, JSONPB_ETYPE,
               "base_revision: expected an integer");
    expect_err(d, "{\"base_revision\":-1}", &o, JSONPB_ERANGE,
               "base_revision: -1 is out of range for uint64");
}

static void configure_session_wrappers_and_skill_list(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &comfyd__v1__configure_session_request__descriptor;
    Comfyd__V1__ConfigureSessionRequest *c = NULL;
    assert_int_equal(dec(d,
                         "{\"session_id\":\"s1\",\"title\":\"\",\"model\":\"llama3\","
                         "\"tokenDelayMs\":25,\"active_skills\":{\"names\":[\"coder\",\"critic\"]},"
                         "\"api_key\":null}",
                         NULL, (ProtobufCMessage **)&c),
                     0);
    assert_string_equal(c->session_id, "s1");
    assert_non_null(c->title);
    assert_string_equal(c->title->value, "");
    assert_null(c->provider);
    assert_null(c->api_key);
    assert_string_equal(c->model->value, "llama3");
    assert_int_equal(c->token_delay_ms->value, 25);
    assert_int_equal(c->active_skills->n_names, 2);
    assert_string_equal(c->active_skills->names[1], "critic");
    expect_json(&c->base, NULL,
                "{\"session_id\":\"s1\",\"title\":\"\",\"model\":\"llama3\","
                "\"active_skills\":{\"names\":[\"coder\",\"critic\"]},\"token_delay_ms\":25}");
    assert_round_trip(&c->base, NULL);
    protobuf_c_message_free_unpacked(&c->base, NULL);

    /* An empty skill list is present and differs from an absent one. */
    assert_int_equal(dec(d, "{\"active_skills\":{\"names\":[]}}", NULL, (ProtobufCMessage **)&c),
                     0);
    assert_non_null(c->active_skills);
    assert_int_equal(c->active_skills->n_names, 0);
    expect_json(&c->base, NULL, "{\"active_skills\":{}}");
    assert_round_trip(&c->base, NULL);
    protobuf_c_message_free_unpacked(&c->base, NULL);

    expect_err(d, "{\"title\":5}", NULL, JSONPB_ETYPE, "title: expected a string");
    expect_err(d, "{\"active_skills\":{\"names\":[\"a\",null]}}", NULL, JSONPB_ETYPE,
               "active_skills.names[1]: null is not allowed here");
}

static void session_event_stream_delta_nested_and_flattened(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &comfyd__v1__session_event__descriptor;
    const char *nested = "{\"seq\":\"9007199254740993\",\"time_ms\":1700000000000,"
                         "\"session_id\":\"s\",\"stream_delta\":{\"turn_id\":3,\"skill\":\"coder\","
                         "\"delta\":\" import\",\"index\":12}}";
    Comfyd__V1__SessionEvent *e = NULL;
    assert_int_equal(dec(d, nested, NULL, (ProtobufCMessage **)&e), 0);
    assert_int_equal(e->seq, 9007199254740993ULL);
    assert_int_equal(e->time_ms, 1700000000000LL);
    assert_int_equal(e->kind_case, COMFYD__V1__SESSION_EVENT__KIND_STREAM_DELTA);
    assert_string_equal(e->stream_delta->delta, " import");
    assert_int_equal(e->stream_delta->index, 12);
    expect_json(&e->base, NULL, nested);
    assert_round_trip(&e->base, NULL);

    jsonpb_opts all = {.flatten_all = 1};
    const char *flat = "{\"type\":\"stream_delta\",\"seq\":\"9007199254740993\","
                       "\"time_ms\":1700000000000,\"session_id\":\"s\",\"turn_id\":3,"
                       "\"skill\":\"coder\",\"delta\":\" import\",\"index\":12}";
    expect_json(&e->base, &all, flat);
    assert_round_trip(&e->base, &all);
    ProtobufCMessage *f = NULL;
    assert_int_equal(dec(d, flat, &all, &f), 0);
    assert_same_message(&e->base, f);
    protobuf_c_message_free_unpacked(f, NULL);
    /* The nested form is accepted while flattening too. */
    assert_int_equal(dec(d, nested, &all, &f), 0);
    assert_same_message(&e->base, f);
    protobuf_c_message_free_unpacked(f, NULL);
    protobuf_c_message_free_unpacked(&e->base, NULL);
}

static void debug_log_level_accepts_short_names(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &comfyd__v1__debug_log__descriptor;
    const char *in[] = {"\"INFO\"", "\"info\"", "\"LOG_LEVEL_INFO\"", "2"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        char json[64];
        snprintf(json, sizeof json, "{\"level\":%s,\"module\":\"SkillExecutor\"}", in[i]);
        Comfyd__V1__DebugLog *l = NULL;
        assert_int_equal(dec(d, json, NULL, (ProtobufCMessage **)&l), 0);
        assert_int_equal(l->level, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_INFO);
        expect_json(&l->base, NULL, "{\"level\":\"LOG_LEVEL_INFO\",\"module\":\"SkillExecutor\"}");
        protobuf_c_message_free_unpacked(&l->base, NULL);
    }
    expect_err(d, "{\"level\":\"loud\"}", NULL, JSONPB_EUNKNOWN_VALUE,
               "level: unknown value 'loud' for comfyd.v1.LogLevel");
    expect_err(d, "{\"level\":9}", NULL, JSONPB_EUNKNOWN_VALUE,
               "level: unknown value 9 for comfyd.v1.LogLevel");
    expect_err(d, "{\"level\":true}", NULL, JSONPB_ETYPE, "level: expected an enum value name");
    /* The prefix alone or a partial name is not a value. */
    expect_err(d, "{\"level\":\"LOG_LEVEL_\"}", NULL, JSONPB_EUNKNOWN_VALUE, NULL);
}

static void batch_mode_enum_forms(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &comfyd__v1__execute_batch_request__descriptor;
    const char *in[] = {"{\"mode\":\"atomic\"}", "{\"mode\":\"BATCH_MODE_ATOMIC\"}", "{\"mode\":1}",
                        "{\"mode\":\"Atomic\"}"};
    for (size_t i = 0; i < 4; i++) {
        Comfyd__V1__ExecuteBatchRequest *b = NULL;
        assert_int_equal(dec(d, in[i], NULL, (ProtobufCMessage **)&b), 0);
        assert_int_equal(b->mode, COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC);
        expect_json(&b->base, NULL, "{\"mode\":\"BATCH_MODE_ATOMIC\"}");
        protobuf_c_message_free_unpacked(&b->base, NULL);
    }
    /* An enum number no value has is written as a number. */
    Comfyd__V1__ExecuteBatchRequest b = COMFYD__V1__EXECUTE_BATCH_REQUEST__INIT;
    b.mode = 7;
    expect_json(&b.base, NULL, "{\"mode\":7}");
}

static void maps_with_scalar_union_and_int64_values(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &comfyd__v1__execute_batch_response__descriptor;
    Comfyd__V1__ExecuteBatchResponse *r = NULL;
    assert_int_equal(dec(d,
                         "{\"ok\":true,\"refs\":{\"ckpt\":1,\"ks\":\"9007199254740993\","
                         "\"neg\":-9007199254740993},\"revision\":13}",
                         NULL, (ProtobufCMessage **)&r),
                     0);
    assert_int_equal(r->n_refs, 3);
    assert_string_equal(r->refs[1]->key, "ks");
    assert_int_equal(r->refs[1]->value, 9007199254740993LL);
    assert_int_equal(r->refs[2]->value, -9007199254740993LL);
    expect_json(&r->base, NULL,
                "{\"ok\":true,\"revision\":13,\"refs\":{\"ckpt\":1,\"ks\":\"9007199254740993\","
                "\"neg\":\"-9007199254740993\"}}");
    assert_round_trip(&r->base, NULL);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    expect_err(d, "{\"refs\":{\"a\":1,\"b\":2,\"a\":3}}", NULL, JSONPB_EDUPLICATE,
               "refs.a: duplicate key");
    expect_err(d, "{\"refs\":{\"a\":null}}", NULL, JSONPB_ETYPE,
               "refs.a: null is not allowed here");
    expect_err(d, "{\"refs\":[1]}", NULL, JSONPB_ETYPE, "refs: expected an object");
    expect_err(d, "{\"refs\":{\"a\":1.5}}", NULL, JSONPB_ETYPE,
               "refs.a: expected an integer, got 1.5");

    /* map<string, Value>: bare scalars, in input order. */
    Comfyd__V1__CreateNodeCommand *c = NULL;
    assert_int_equal(dec(&comfyd__v1__create_node_command__descriptor,
                         "{\"widgets\":{\"steps\":20,\"cfg\":1e1,\"name\":\"x\",\"on\":false,"
                         "\"denoise\":-0.0}}",
                         NULL, (ProtobufCMessage **)&c),
                     0);
    assert_int_equal(c->n_widgets, 5);
    assert_int_equal(c->widgets[1]->value->kind_case, COMFYD__V1__VALUE__KIND_NUMBER);
    expect_json(&c->base, NULL,
                "{\"widgets\":{\"steps\":20,\"cfg\":10.0,\"name\":\"x\",\"on\":false,"
                "\"denoise\":-0.0}}");
    assert_round_trip(&c->base, NULL);
    protobuf_c_message_free_unpacked(&c->base, NULL);
}

static void int64_beyond_2_53_is_a_string_and_ranges_are_checked(void **state)
{
    (void)state;
    Comfyd__V1__Link l = COMFYD__V1__LINK__INIT;
    l.id = 9007199254740992LL; /* 2^53: still a number */
    l.from_id = -9007199254740993LL;
    l.to_id = INT64_MAX;
    expect_json(&l.base, NULL,
                "{\"id\":9007199254740992,\"from_id\":\"-9007199254740993\","
                "\"to_id\":\"9223372036854775807\"}");
    assert_round_trip(&l.base, NULL);

    Comfyd__V1__Graph g = COMFYD__V1__GRAPH__INIT;
    g.revision = UINT64_MAX;
    expect_json(&g.base, NULL, "{\"revision\":\"18446744073709551615\"}");
    assert_round_trip(&g.base, NULL);

    const ProtobufCMessageDescriptor *ld = &comfyd__v1__link__descriptor;
    ProtobufCMessage *m = NULL;
    assert_int_equal(dec(ld, "{\"id\":\"-9223372036854775808\",\"from_slot\":1e3}", NULL, &m), 0);
    assert_int_equal(((Comfyd__V1__Link *)m)->id, INT64_MIN);
    assert_int_equal(((Comfyd__V1__Link *)m)->from_slot, 1000);
    protobuf_c_message_free_unpacked(m, NULL);

    /* Integers written with a fraction or exponent are exact, not rounded. */
    struct {
        const char *text;
        int64_t want;
    } exact[] = {{"100e-2", 1},
                 {"0.5e1", 5},
                 {"1.5e1", 15},
                 {"-0.0", 0},
                 {"\"-9223372036854775808.0\"", INT64_MIN},
                 {"12345678901234567890e-1", 1234567890123456789LL},
                 {"0.000e99999999999999999999", 0},
                 {"9.223372036854775807e18", INT64_MAX}};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        char json[96];
        snprintf(json, sizeof json, "{\"id\":%s}", exact[i].text);
        if (dec(ld, json, NULL, &m)) fail_msg("%s: %s", json, errbuf);
        assert_int_equal(((Comfyd__V1__Link *)m)->id, exact[i].want);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    expect_err(ld, "{\"id\":1.0000000000000001}", NULL, JSONPB_ETYPE,
               "id: expected an integer, got 1.0000000000000001");
    expect_err(ld, "{\"id\":1e-400}", NULL, JSONPB_ETYPE, NULL);
    expect_err(ld, "{\"id\":9.223372036854775808e18}", NULL, JSONPB_ERANGE, NULL);
    expect_err(ld, "{\"id\":1e99999999999999999999}", NULL, JSONPB_ERANGE, NULL);
    expect_err(ld, "{\"id\":9223372036854775808}", NULL, JSONPB_ERANGE,
               "id: 9223372036854775808 is out of range for int64");
    expect_err(ld, "{\"id\":1.5}", NULL, JSONPB_ETYPE, "id: expected an integer, got 1.5");
    expect_err(ld, "{\"id\":\"12abc\"}", NULL, JSONPB_ETYPE, "id: expected an integer");
    expect_err(ld, "{\"from_slot\":-1}", NULL, JSONPB_ERANGE,
               "from_slot: -1 is out of range for uint32");
    expect_err(ld, "{\"from_slot\":4294967296}", NULL, JSONPB_ERANGE, NULL);
    expect_err(&comfyd__v1__graph__descriptor, "{\"revision\":\"18446744073709551616\"}", NULL,
               JSONPB_ERANGE, "revision: 18446744073709551616 is out of range for uint64");
    expect_err(&comfyd__v1__graph_error__descriptor, "{\"index\":2147483648}", NULL, JSONPB_ERANGE,
               "index: 2147483648 is out of range for int32");
    expect_err(&comfyd__v1__graph_error__descriptor, "{\"index\":1e400}", NULL, JSONPB_ERANGE,
               NULL);
}

static void floats_doubles_and_special_values(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *dd = &google__protobuf__double_value__descriptor;
    const ProtobufCMessageDescriptor *fd = &google__protobuf__float_value__descriptor;
    Google__Protobuf__DoubleValue *d = NULL;
    assert_int_equal(dec(dd, "\"NaN\"", NULL, (ProtobufCMessage **)&d), 0);
    assert_true(isnan(d->value));
    expect_json(&d->base, NULL, "\"NaN\"");
    protobuf_c_message_free_unpacked(&d->base, NULL);
    assert_int_equal(dec(dd, "\"-Infinity\"", NULL, (ProtobufCMessage **)&d), 0);
    assert_true(isinf(d->value) && d->value < 0);
    expect_json(&d->base, NULL, "\"-Infinity\"");
    protobuf_c_message_free_unpacked(&d->base, NULL);
    assert_int_equal(dec(dd, "0.1", NULL, (ProtobufCMessage **)&d), 0);
    expect_json(&d->base, NULL, "0.1");
    protobuf_c_message_free_unpacked(&d->base, NULL);
    assert_int_equal(dec(dd, "\"2.5e-3\"", NULL, (ProtobufCMessage **)&d), 0);
    assert_true(d->value == 2.5e-3);
    protobuf_c_message_free_unpacked(&d->base, NULL);

    Google__Protobuf__FloatValue *f = NULL;
    assert_int_equal(dec(fd, "0.1", NULL, (ProtobufCMessage **)&f), 0);
    expect_json(&f->base, NULL, "0.1");
    protobuf_c_message_free_unpacked(&f->base, NULL);

    expect_err(dd, "1e400", NULL, JSONPB_ERANGE, "1e400 is out of range for double");
    expect_err(fd, "1e39", NULL, JSONPB_ERANGE, "1e39 is out of range for float");
    expect_err(dd, "\"fast\"", NULL, JSONPB_ETYPE, "expected a number");
    expect_err(dd, "true", NULL, JSONPB_ETYPE, "expected a number");
    expect_err(dd, "null", NULL, JSONPB_ETYPE, "expected an object");
}

static void bytes_are_base64(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &google__protobuf__bytes_value__descriptor;
    const char *in[] = {"\"aGVsbG8=\"", "\"aGVsbG8\""};
    for (int i = 0; i < 2; i++) {
        Google__Protobuf__BytesValue *b = NULL;
        assert_int_equal(dec(d, in[i], NULL, (ProtobufCMessage **)&b), 0);
        assert_int_equal(b->value.len, 5);
        assert_memory_equal(b->value.data, "hello", 5);
        expect_json(&b->base, NULL, "\"aGVsbG8=\"");
        protobuf_c_message_free_unpacked(&b->base, NULL);
    }
    Google__Protobuf__BytesValue *b = NULL;
    assert_int_equal(dec(d, "\"-_8\"", NULL, (ProtobufCMessage **)&b), 0);
    assert_int_equal(b->value.len, 2);
    assert_int_equal(b->value.data[0], 0xFB);
    assert_int_equal(b->value.data[1], 0xFF);
    expect_json(&b->base, NULL, "\"+/8=\"");
    protobuf_c_message_free_unpacked(&b->base, NULL);
    expect_err(d, "\"a\"", NULL, JSONPB_ETYPE, "expected a base64 string");
    expect_err(d, "\"aGV*bG8=\"", NULL, JSONPB_ETYPE, "expected a base64 string");
    expect_err(d, "\"aGVsbG8==\"", NULL, JSONPB_ETYPE, "expected a base64 string");
}

static void scalar_unions_choose_member_by_json_type(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &comfyd__v1__set_widget_command__descriptor;
    struct {
        const char *value;
        int kind;
        const char *out;
    } cases[] = {
        {"30", COMFYD__V1__VALUE__KIND_INTEGER, "30"},
        {"-7", COMFYD__V1__VALUE__KIND_INTEGER, "-7"},
        {"30.5", COMFYD__V1__VALUE__KIND_NUMBER, "30.5"},
        {"1e2", COMFYD__V1__VALUE__KIND_NUMBER, "100.0"},
        {"\"30\"", COMFYD__V1__VALUE__KIND_TEXT, "\"30\""},
        {"true", COMFYD__V1__VALUE__KIND_BOOLEAN, "true"},
        {"\"\"", COMFYD__V1__VALUE__KIND_TEXT, "\"\""},
        {"0", COMFYD__V1__VALUE__KIND_INTEGER, "0"},
        {"9223372036854775807", COMFYD__V1__VALUE__KIND_INTEGER, "9223372036854775807"},
        {"{\"text\":\"x\"}", COMFYD__V1__VALUE__KIND_TEXT, "\"x\""},
        {"{}", COMFYD__V1__VALUE__KIND__NOT_SET, "{}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[128], want[128];
        snprintf(json, sizeof json, "{\"value\":%s}", cases[i].value);
        snprintf(want, sizeof want, "{\"value\":%s}", cases[i].out);
        Comfyd__V1__SetWidgetCommand *s = NULL;
        if (dec(d, json, NULL, (ProtobufCMessage **)&s)) fail_msg("%s: %s", json, errbuf);
        assert_int_equal(s->value->kind_case, cases[i].kind);
        expect_json(&s->base, NULL, want);
        assert_round_trip(&s->base, NULL);
        protobuf_c_message_free_unpacked(&s->base, NULL);
    }
    expect_err(d, "{\"value\":[1]}", NULL, JSONPB_ETYPE,
               "value: expected a number, a string or a boolean");
    expect_err(d, "{\"value\":9223372036854775808}", NULL, JSONPB_ERANGE, NULL);
    expect_err(d, "{\"node_id\":true}", NULL, JSONPB_ETYPE,
               "node_id: expected an integer or a string");
    expect_err(d, "{\"node_id\":1.5}", NULL, JSONPB_ETYPE,
               "node_id: expected an integer or a string");
    expect_err(d, "{\"node_id\":{\"id\":1,\"ref\":\"a\"}}", NULL, JSONPB_EDUPLICATE,
               "node_id.ref: 'id' and 'ref' are members of the same oneof");

    /* A non-finite number member would read back as text: object form. */
    Comfyd__V1__Value v = COMFYD__V1__VALUE__INIT;
    v.kind_case = COMFYD__V1__VALUE__KIND_NUMBER;
    v.number = INFINITY;
    expect_json(&v.base, NULL, "{\"number\":\"Infinity\"}");
    assert_round_trip(&v.base, NULL);

    /* The object form of a NodeRef is accepted. */
    Comfyd__V1__SetWidgetCommand *s = NULL;
    assert_int_equal(dec(d, "{\"nodeId\":{\"id\":\"3\"}}", NULL, (ProtobufCMessage **)&s), 0);
    assert_int_equal(s->node_id->node_case, COMFYD__V1__NODE_REF__NODE_ID);
    assert_int_equal(s->node_id->id, 3);
    expect_json(&s->base, NULL, "{\"node_id\":3}");
    protobuf_c_message_free_unpacked(&s->base, NULL);

    /* SlotRef: the uint32 member is range-checked. */
    expect_err(&comfyd__v1__disconnect_command__descriptor, "{\"slot\":-1}", NULL, JSONPB_ERANGE,
               "slot: -1 is out of range for uint32");
}

static void emit_defaults_writes_every_field(void **state)
{
    (void)state;
    Comfyd__V1__ExecuteBatchResponse r = COMFYD__V1__EXECUTE_BATCH_RESPONSE__INIT;
    expect_json(&r.base, NULL, "{}");
    jsonpb_opts o = {.emit_defaults = 1};
    expect_json(&r.base, &o,
                "{\"ok\":false,\"results\":[],\"errors\":[],\"canvas_id\":\"\",\"revision\":0,"
                "\"replayed\":false,\"refs\":{},\"rebased\":false,\"rebased_from\":0}");
    assert_round_trip(&r.base, &o);

    /* Unset messages and wrappers stay absent. */
    Comfyd__V1__ConfigureSessionRequest c = COMFYD__V1__CONFIGURE_SESSION_REQUEST__INIT;
    expect_json(&c.base, &o, "{\"session_id\":\"\"}");
}

static void encode_gen_embeds_message_in_envelope(void **state)
{
    (void)state;
    Comfyd__V1__ExecuteResponse r = COMFYD__V1__EXECUTE_RESPONSE__INIT;
    Comfyd__V1__CommandResult res = COMFYD__V1__COMMAND_RESULT__INIT;
    r.result = &res;
    res.node_id = 7;
    r.revision = 3;
    jsonpb_opts o = {.emit_defaults = 1};

    yajl_gen g = yajl_gen_alloc(NULL);
    yajl_gen_map_open(g);
    yajl_gen_string(g, (const unsigned char *)"request_id", 10);
    yajl_gen_string(g, (const unsigned char *)"abc", 3);
    yajl_gen_string(g, (const unsigned char *)"status", 6);
    yajl_gen_string(g, (const unsigned char *)"ok", 2);
    yajl_gen_string(g, (const unsigned char *)"data", 4);
    assert_int_equal(jsonpb_encode_gen(g, &r.base, &o, errbuf, sizeof errbuf), 0);
    yajl_gen_map_close(g);
    const unsigned char *buf;
    size_t len;
    yajl_gen_get_buf(g, &buf, &len);
    const char *want = "{\"request_id\":\"abc\",\"status\":\"ok\",\"data\":{\"ok\":false,"
                       "\"result\":{\"index\":0,\"ok\":false,\"node_id\":7,\"link_id\":0},"
                       "\"canvas_id\":\"\",\"revision\":3,\"replayed\":false,\"rebased\":false,"
                       "\"rebased_from\":0}}";
    assert_int_equal(len, strlen(want));
    assert_memory_equal(buf, want, len);
    yajl_gen_free(g);

    /* A generator waiting for a key does not accept a message. */
    g = yajl_gen_alloc(NULL);
    yajl_gen_map_open(g);
    assert_int_equal(jsonpb_encode_gen(g, &r.base, NULL, errbuf, sizeof errbuf), JSONPB_EINVAL);
    yajl_gen_free(g);
}

static void encode_rejects_invalid_utf8_with_path(void **state)
{
    (void)state;
    Comfyd__V1__CreateNodeCommand cn = COMFYD__V1__CREATE_NODE_COMMAND__INIT;
    cn.node_type = "K\xC3";
    Comfyd__V1__Command cmd = COMFYD__V1__COMMAND__INIT;
    cmd.command_case = COMFYD__V1__COMMAND__COMMAND_CREATE_NODE;
    cmd.create_node = &cn;
    Comfyd__V1__Command *cmds[] = {&cmd};
    Comfyd__V1__ExecuteBatchRequest b = COMFYD__V1__EXECUTE_BATCH_REQUEST__INIT;
    b.n_commands = 1;
    b.commands = cmds;
    jsonpb_opts o = flat_opts();
    char *out = (char *)1;
    size_t len;
    assert_int_equal(jsonpb_encode(&b.base, &o, &out, &len, errbuf, sizeof errbuf), JSONPB_EUTF8);
    assert_null(out);
    assert_string_equal(errbuf, "commands[0].node_type: invalid UTF-8");
    /* Not flattened, the member is nested in the path. */
    assert_int_equal(jsonpb_encode(&b.base, NULL, &out, &len, errbuf, sizeof errbuf), JSONPB_EUTF8);
    assert_string_equal(errbuf, "commands[0].create_node.node_type: invalid UTF-8");
    /* max_depth bounds message nesting on encode. */
    cn.node_type = "K";
    o.max_depth = 2;
    assert_int_equal(jsonpb_encode(&b.base, &o, &out, &len, errbuf, sizeof errbuf), JSONPB_ELIMIT);
}

static void malformed_json_is_a_syntax_error(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &comfyd__v1__execute_batch_request__descriptor;
    jsonpb_opts o = flat_opts();
    expect_err(d, "{\"commands\":[", &o, JSONPB_ESYNTAX, NULL);
    assert_non_null(strstr(errbuf, "invalid JSON"));
    expect_err(d, "{\"commands\":[{\"type\":\"get_graph\"}]} x", &o, JSONPB_ESYNTAX, NULL);
    assert_non_null(strstr(errbuf, "trailing garbage"));
    expect_err(d, "{} {}", &o, JSONPB_ESYNTAX, NULL);
    expect_err(d, "", &o, JSONPB_ESYNTAX, NULL);
    expect_err(d, "   ", &o, JSONPB_ESYNTAX, NULL);
    expect_err(d, "{'a':1}", &o, JSONPB_ESYNTAX, NULL);
    expect_err(d, "{\"mode\":1,}", &o, JSONPB_ESYNTAX, NULL);
    expect_err(d, "{/*c*/}", &o, JSONPB_ESYNTAX, NULL);
    expect_err(d, "{\"mode\":01}", &o, JSONPB_ESYNTAX, NULL);
    /* Input need not be NUL-terminated, and a NUL byte inside is an error. */
    ProtobufCMessage *m = NULL;
    assert_int_equal(jsonpb_decode(d, "{}garbage", 2, &o, &m, errbuf, sizeof errbuf), 0);
    protobuf_c_message_free_unpacked(m, NULL);
    assert_int_equal(jsonpb_decode(d, "{}\0", 3, &o, &m, errbuf, sizeof errbuf), JSONPB_ESYNTAX);
    expect_err(d, "[]", &o, JSONPB_ETYPE, "expected an object");
    expect_err(d, "null", &o, JSONPB_ETYPE, "expected an object");
    expect_err(d, "\"x\"", &o, JSONPB_ETYPE, "expected an object");
}

static char *nested_arrays(size_t depth)
{
    const char *pre = "{\"commands\":";
    size_t pl = strlen(pre);
    char *s = malloc(pl + 2 * depth + 2);
    memcpy(s, pre, pl);
    memset(s + pl, '[', depth);
    memset(s + pl + depth, ']', depth);
    s[pl + 2 * depth] = '}';
    s[pl + 2 * depth + 1] = '\0';
    return s;
}

static void depth_bomb_is_a_limit_error(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &comfyd__v1__execute_batch_request__descriptor;
    char *s = nested_arrays(63); /* with the outer object: 64 levels, allowed to parse */
    expect_err(d, s, NULL, JSONPB_ETYPE, NULL);
    assert_non_null(strstr(errbuf, "commands[0]: expected an object"));
    free(s);
    s = nested_arrays(64);
    expect_err(d, s, NULL, JSONPB_ELIMIT, NULL);
    assert_non_null(strstr(errbuf, "nesting deeper than 64 levels"));
    assert_int_equal(strncmp(errbuf, "commands[0][0][0]", 17), 0);
    free(s);
    s = nested_arrays(500000); /* ~1 MB of brackets */
    expect_err(d, s, NULL, JSONPB_ELIMIT, NULL);
    free(s);
    jsonpb_opts o = {.max_depth = 3};
    expect_err(d, "{\"commands\":[[{}]]}", &o, JSONPB_ELIMIT,
               "commands[0][0]: nesting deeper than 3 levels");
    o.max_depth = JSONPB_MAX_DEPTH_LIMIT + 1;
    expect_err(d, "{}", &o, JSONPB_EINVAL, NULL);
}

static void oversized_inputs_are_limit_errors(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &comfyd__v1__execute_batch_request__descriptor;
    size_t n = JSONPB_MAX_INPUT_BYTES + 1;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = '\0';
    expect_err(d, big, NULL, JSONPB_ELIMIT, "input of 1048577 bytes exceeds the limit of 1048576");
    /* One byte less is accepted. */
    ProtobufCMessage *m = NULL;
    big[n - 2] = '}';
    assert_int_equal(jsonpb_decode(d, big, n - 1, NULL, &m, errbuf, sizeof errbuf), 0);
    protobuf_c_message_free_unpacked(m, NULL);
    free(big);

    jsonpb_opts o = flat_opts();
    o.max_string_bytes = 4;
    expect_err(d, "{\"mode\":\"atomic\"}", &o, JSONPB_ELIMIT, "mode: string longer than 4 bytes");
    expect_err(d, "{\"canvas_identifier\":1}", &o, JSONPB_ELIMIT, "key longer than 4 bytes");
    o = flat_opts();
    o.max_array_elements = 2;
    expect_err(d,
               "{\"commands\":[{\"type\":\"get_graph\"},{\"type\":\"get_graph\"},"
               "{\"type\":\"get_graph\"}]}",
               &o, JSONPB_ELIMIT, "commands[2]: more than 2 elements");
    o = flat_opts();
    o.max_total_elements = 4;
    expect_err(d, "{\"commands\":[{\"type\":\"get_graph\"},{\"type\":\"get_graph\"}]}", &o,
               JSONPB_ELIMIT, "commands[1]: more than 4 JSON values");
    o.max_input_bytes = 8;
    expect_err(d, "{\"mode\":1}", &o, JSONPB_ELIMIT, "input of 10 bytes exceeds the limit of 8");
}

static void invalid_utf8_and_lone_surrogates_are_rejected(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &comfyd__v1__execute_batch_request__descriptor;
    jsonpb_opts o = flat_opts();
    expect_err(d, "{\"commands\":[{\"type\":\"create_node\",\"node_type\":\"K\xff\"}]}", &o,
               JSONPB_EUTF8, "commands[0].node_type: string is not valid UTF-8 or contains NUL");
    expect_err(d, "{\"canvas_id\":\"\xc0\xaf\"}", &o, JSONPB_EUTF8, NULL);     /* overlong */
    expect_err(d, "{\"canvas_id\":\"\xed\xa0\x80\"}", &o, JSONPB_EUTF8, NULL); /* surrogate */
    expect_err(d, "{\"canvas_id\":\"\\ud800\"}", &o, JSONPB_EUTF8,
               "canvas_id: string has an unpaired UTF-16 surrogate escape");
    expect_err(d, "{\"canvas_id\":\"a\\udc00b\"}", &o, JSONPB_EUTF8, NULL);
    expect_err(d, "{\"canvas_id\":\"\\ud800\\u0041\"}", &o, JSONPB_EUTF8, NULL);
    expect_err(d, "{\"canvas_id\":\"\\ud800x\"}", &o, JSONPB_EUTF8, NULL);
    expect_err(d, "{\"canvas_id\":\"a\\u0000b\"}", &o, JSONPB_EUTF8, NULL);
    expect_err(d, "{\"canvas\xff\":1}", &o, JSONPB_EUTF8, "key is not valid UTF-8 or contains NUL");
    expect_err(d, "{\"\\udfff\":1}", &o, JSONPB_EUTF8,
               "key has an unpaired UTF-16 surrogate escape");
    /* The surrogate is found in the right string, after valid ones. */
    expect_err(d,
               "{\"canvas_id\":\"\\ud83d\\ude00\",\"commands\":[{\"type\":\"create_node\","
               "\"node_type\":\"ok\",\"title\":\"\\\\ud800 is text\",\"ref\":\"\\ud800\"}]}",
               &o, JSONPB_EUTF8, "commands[0].ref: string has an unpaired UTF-16 surrogate escape");

    /* A valid pair and escaped text decode to UTF-8. */
    Comfyd__V1__ExecuteBatchRequest *b = NULL;
    assert_int_equal(dec(d, "{\"canvas_id\":\"\\ud83d\\ude00 \\\"q\\\" \\u00e9\xc3\xa9\"}", &o,
                         (ProtobufCMessage **)&b),
                     0);
    assert_string_equal(b->canvas_id, "\xf0\x9f\x98\x80 \"q\" \xc3\xa9\xc3\xa9");
    expect_json(&b->base, &o, "{\"canvas_id\":\"\xf0\x9f\x98\x80 \\\"q\\\" \xc3\xa9\xc3\xa9\"}");
    protobuf_c_message_free_unpacked(&b->base, NULL);
}

static void wrong_types_name_the_path(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &comfyd__v1__execute_batch_request__descriptor;
    jsonpb_opts o = flat_opts();
    expect_err(d,
               "{\"commands\":[{\"type\":\"get_graph\"},{\"type\":\"clear_graph\"},"
               "{\"type\":\"remove_node\",\"node_id\":[1]}]}",
               &o, JSONPB_ETYPE, "commands[2].node_id: expected an integer or a string");
    expect_err(d, "{\"commands\":{}}", &o, JSONPB_ETYPE, "commands: expected an array");
    expect_err(d, "{\"commands\":[1]}", &o, JSONPB_ETYPE, "commands[0]: expected an object");
    expect_err(d, "{\"validate_only\":\"yes\"}", &o, JSONPB_ETYPE,
               "validate_only: expected a boolean");
    expect_err(d, "{\"canvas_id\":1}", &o, JSONPB_ETYPE, "canvas_id: expected a string");
    expect_err(d, "{\"commands\":[{\"type\":\"move_node\",\"x\":\"left\"}]}", &o, JSONPB_ETYPE,
               "commands[0].x: expected a number");
    expect_err(d, "{\"commands\":[{\"type\":\"create_node\",\"widgets\":{\"a\":{\"b\":1}}}]}", &o,
               JSONPB_EUNKNOWN_FIELD, "commands[0].widgets.a.b: unknown field");
}

static void unknown_fields_are_errors_unless_ignored(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &comfyd__v1__execute_batch_request__descriptor;
    jsonpb_opts o = flat_opts();
    const char *json = "{\"request_id\":\"abc\",\"commands\":[{\"type\":\"create_node\","
                       "\"node_type\":\"K\",\"bogus\":{\"deep\":[1]}}]}";
    expect_err(d, json, &o, JSONPB_EUNKNOWN_FIELD, "request_id: unknown field");
    o.ignore_unknown_fields = 1;
    Comfyd__V1__ExecuteBatchRequest *b = NULL;
    assert_int_equal(dec(d, json, &o, (ProtobufCMessage **)&b), 0);
    assert_string_equal(b->commands[0]->create_node->node_type, "K");
    protobuf_c_message_free_unpacked(&b->base, NULL);

    /* Field names: proto name or lowerCamel, but each field only once. */
    o = flat_opts();
    expect_err(d, "{\"canvas_id\":\"a\",\"canvasId\":\"b\"}", &o, JSONPB_EDUPLICATE,
               "canvasId: field given more than once");
    expect_err(d, "{\"Canvas_id\":\"a\"}", &o, JSONPB_EUNKNOWN_FIELD, NULL);
    expect_err(d, "{\"canvasid\":\"a\"}", &o, JSONPB_EUNKNOWN_FIELD, NULL);
}

static void flattened_command_errors(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &comfyd__v1__execute_batch_request__descriptor;
    const ProtobufCMessageDescriptor *cd = &comfyd__v1__command__descriptor;
    jsonpb_opts o = flat_opts();
    expect_err(cd, "{\"node_type\":\"KSampler\",\"x\":1}", &o, JSONPB_EMISSING,
               "missing field: type");
    expect_err(d, "{\"commands\":[{\"type\":\"get_graph\"},{\"node_id\":1}]}", &o, JSONPB_EMISSING,
               "commands[1]: missing field: type");
    expect_err(d, "{\"commands\":[{}]}", &o, JSONPB_EMISSING, "commands[0]: missing field: type");
    /* Every member of the oneof, in field order. */
    char want[512] = "commands[0].type: unknown type 'foo'; expected one of create_node";
    for (unsigned k = 1; k < comfyd__v1__command__descriptor.n_fields; k++) {
        strcat(want, ", ");
        strcat(want, comfyd__v1__command__descriptor.fields[k].name);
    }
    assert_non_null(strstr(want, "move_node, clear_graph, get_graph, arrange"));
    expect_err(d, "{\"commands\":[{\"type\":\"foo\"}]}", &o, JSONPB_EUNKNOWN_VALUE, want);
    expect_err(cd, "{\"type\":7}", &o, JSONPB_ETYPE, "type: expected a string");
    expect_err(cd, "{\"type\":\"get_graph\",\"type\":\"get_graph\"}", &o, JSONPB_EDUPLICATE,
               "type: field given more than once");
    expect_err(cd, "{\"type\":\"create_node\",\"node_id\":1}", &o, JSONPB_EUNKNOWN_FIELD,
               "node_id: unknown field");
    expect_err(cd, "{\"type\":\"create_node\",\"create_node\":{}}", &o, JSONPB_EDUPLICATE,
               "create_node: 'create_node' is also given by 'type'");
    expect_err(cd, "{\"type\":\"create_node\",\"get_graph\":{}}", &o, JSONPB_EDUPLICATE,
               "get_graph: 'create_node' and 'get_graph' are members of the same oneof");
    expect_err(cd, "{\"get_graph\":{},\"clear_graph\":{}}", &o, JSONPB_EDUPLICATE, NULL);
    expect_err(cd, "{\"type\":\"set_widget\",\"node_id\":1,\"nodeId\":2}", &o, JSONPB_EDUPLICATE,
               "nodeId: field given more than once");

    /* The nested form, the camelCase type name, and type anywhere. */
    const char *forms[] = {
        "{\"create_node\":{\"node_type\":\"K\",\"x\":1}}",
        "{\"createNode\":{\"nodeType\":\"K\",\"x\":1}}",
        "{\"node_type\":\"K\",\"x\":1,\"type\":\"createNode\"}",
    };
    for (int i = 0; i < 3; i++) {
        ProtobufCMessage *m = NULL;
        if (dec(cd, forms[i], &o, &m)) fail_msg("%s: %s", forms[i], errbuf);
        expect_json(m, &o, "{\"type\":\"create_node\",\"node_type\":\"K\",\"x\":1}");
        expect_json(m, NULL, "{\"create_node\":{\"node_type\":\"K\",\"x\":1}}");
        protobuf_c_message_free_unpacked(m, NULL);
    }
    /* Without the option, "type" is just an unknown field. */
    expect_err(cd, "{\"type\":\"get_graph\"}", NULL, JSONPB_EUNKNOWN_FIELD, "type: unknown field");
    /* A null member is absent, so the type is still missing. */
    expect_err(cd, "{\"get_graph\":null}", &o, JSONPB_EMISSING, "missing field: type");

    /* Another discriminator key. */
    o.type_key = "op";
    ProtobufCMessage *m = NULL;
    assert_int_equal(dec(cd, "{\"op\":\"remove_node\",\"node_id\":4}", &o, &m), 0);
    expect_json(m, &o, "{\"op\":\"remove_node\",\"node_id\":4}");
    protobuf_c_message_free_unpacked(m, NULL);
}

/* A type key that collides with a field keeps the message nested. */
static void flattening_is_refused_when_keys_could_collide(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *cd = &comfyd__v1__command__descriptor;
    jsonpb_opts o = flat_opts();
    o.type_key = "node_id"; /* a field of several members */
    ProtobufCMessage *m = NULL;
    assert_int_equal(dec(cd, "{\"remove_node\":{\"node_id\":4}}", &o, &m), 0);
    expect_json(m, &o, "{\"remove_node\":{\"node_id\":4}}");
    protobuf_c_message_free_unpacked(m, NULL);
    /* The answer for one key is remembered for the process, never lent to
     * another: "type" (decided before "node_id" or after) still flattens. */
    o.type_key = "type";
    assert_int_equal(dec(cd, "{\"type\":\"remove_node\",\"node_id\":4}", &o, &m), 0);
    expect_json(m, &o, "{\"type\":\"remove_node\",\"node_id\":4}");
    protobuf_c_message_free_unpacked(m, NULL);
    o.type_key = "node_id";
    assert_int_equal(dec(cd, "{\"remove_node\":{\"node_id\":5}}", &o, &m), 0);
    expect_json(m, &o, "{\"remove_node\":{\"node_id\":5}}");
    protobuf_c_message_free_unpacked(m, NULL);

    /* flatten_all only flattens messages that qualify: Value stays a scalar,
     * ExecuteBatchRequest has no oneof. */
    jsonpb_opts all = {.flatten_all = 1};
    assert_int_equal(dec(&comfyd__v1__execute_batch_request__descriptor, TXT2IMG, &all, &m), 0);
    expect_json(m, &all, TXT2IMG_OUT);
    protobuf_c_message_free_unpacked(m, NULL);
}

/* Counting allocator that fails the n-th allocation. */
typedef struct failalloc {
    long live, count, fail_at;
} failalloc;

static void *fa_alloc(void *ud, size_t n)
{
    failalloc *f = ud;
    if (f->count++ == f->fail_at) return NULL;
    void *p = malloc(n);
    if (p) f->live++;
    return p;
}

static void fa_free(void *ud, void *p)
{
    failalloc *f = ud;
    if (p) f->live--;
    free(p);
}

static void every_allocation_failure_is_enomem_without_leaks(void **state)
{
    (void)state;
    failalloc fa = {0, 0, -1};
    ProtobufCAllocator a = {fa_alloc, fa_free, &fa};
    jsonpb_opts o = flat_opts();
    o.allocator = &a;
    const ProtobufCMessageDescriptor *d = &comfyd__v1__execute_batch_request__descriptor;
    ProtobufCMessage *m = NULL;
    assert_int_equal(dec(d, TXT2IMG, &o, &m), 0);
    long total = fa.count;
    assert_true(total > 50);
    protobuf_c_message_free_unpacked(m, &a);
    assert_int_equal(fa.live, 0);
    for (long i = 0; i < total; i++) {
        fa = (failalloc){0, 0, i};
        m = (ProtobufCMessage *)1;
        int r = dec(d, TXT2IMG, &o, &m);
        if (r != JSONPB_ENOMEM) fail_msg("allocation %ld: got %d", i, r);
        assert_null(m);
        if (fa.live != 0) fail_msg("allocation %ld: %ld blocks leaked", i, fa.live);
    }
}

static void enum_styles_strip_the_prefix_and_lowercase_with_overrides(void **state)
{
    (void)state;
    Comfyd__V1__ExecuteBatchRequest b = COMFYD__V1__EXECUTE_BATCH_REQUEST__INIT;
    b.mode = COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC;
    jsonpb_opts o = {.enum_style = JSONPB_ENUM_SHORT};
    expect_json(&b.base, &o, "{\"mode\":\"ATOMIC\"}");
    assert_round_trip(&b.base, &o);
    o.enum_style = JSONPB_ENUM_LOWER;
    expect_json(&b.base, &o, "{\"mode\":\"atomic\"}");
    assert_round_trip(&b.base, &o);
    /* Unknown numbers stay numbers whatever the style. */
    b.mode = 7;
    expect_json(&b.base, &o, "{\"mode\":7}");

    /* Mixed: every enum lower-case, LogLevel upper-case, as the session
     * socket writes them; the first override for a type wins. */
    const jsonpb_enum_override over[] = {
        {&comfyd__v1__log_level__descriptor, JSONPB_ENUM_SHORT},
        {&comfyd__v1__log_level__descriptor, JSONPB_ENUM_FULL},
    };
    Comfyd__V1__DebugLog l = COMFYD__V1__DEBUG_LOG__INIT;
    l.level = COMFYD__V1__LOG_LEVEL__LOG_LEVEL_WARN;
    Comfyd__V1__StatusUpdate su = COMFYD__V1__STATUS_UPDATE__INIT;
    su.status = COMFYD__V1__SESSION_STATUS__SESSION_STATUS_WORKING;
    jsonpb_opts mixed = {
        .enum_style = JSONPB_ENUM_LOWER, .enum_overrides = over, .n_enum_overrides = 2};
    expect_json(&l.base, &mixed, "{\"level\":\"WARN\"}");
    expect_json(&su.base, &mixed, "{\"status\":\"working\"}");
    assert_round_trip(&su.base, &mixed);
    mixed.n_enum_overrides = 0; /* NULL-free list of none: the default style */
    expect_json(&l.base, &mixed, "{\"level\":\"warn\"}");
    /* With emit_defaults the zero value is written too. */
    su.status = 0;
    jsonpb_opts def = {.emit_defaults = 1, .enum_style = JSONPB_ENUM_SHORT};
    char *out = NULL;
    size_t len;
    assert_int_equal(jsonpb_encode(&su.base, &def, &out, &len, errbuf, sizeof errbuf), 0);
    assert_non_null(strstr(out, "\"status\":\"UNSPECIFIED\""));
    free(out);

    /* Bad styles and overrides without a type are the caller's mistake. */
    jsonpb_opts bad = {.enum_style = (jsonpb_enum_style)3};
    assert_int_equal(jsonpb_encode(&l.base, &bad, &out, &len, errbuf, sizeof errbuf),
                     JSONPB_EINVAL);
    const jsonpb_enum_override none[] = {{NULL, JSONPB_ENUM_SHORT}};
    bad = (jsonpb_opts){.enum_overrides = none, .n_enum_overrides = 1};
    assert_int_equal(jsonpb_encode(&l.base, &bad, &out, &len, errbuf, sizeof errbuf),
                     JSONPB_EINVAL);
    assert_null(out);
}

static void encode_fields_gen_writes_members_into_an_open_map(void **state)
{
    (void)state;
    Comfyd__V1__ExecuteBatchResponse r = COMFYD__V1__EXECUTE_BATCH_RESPONSE__INIT;
    r.canvas_id = "c1";
    r.revision = 4;
    yajl_gen g = yajl_gen_alloc(NULL);
    yajl_gen_map_open(g);
    yajl_gen_string(g, (const unsigned char *)"error", 5);
    yajl_gen_string(g, (const unsigned char *)"boom", 4);
    assert_int_equal(jsonpb_encode_fields_gen(g, &r.base, NULL, errbuf, sizeof errbuf), 0);
    yajl_gen_map_close(g);
    const unsigned char *buf;
    size_t len;
    yajl_gen_get_buf(g, &buf, &len);
    const char *want = "{\"error\":\"boom\",\"canvas_id\":\"c1\",\"revision\":4}";
    assert_int_equal(len, strlen(want));
    assert_memory_equal(buf, want, len);
    yajl_gen_free(g);

    /* A flattened message writes its type key and the member's fields. */
    Comfyd__V1__SetWidgetCommand sw = COMFYD__V1__SET_WIDGET_COMMAND__INIT;
    sw.name = "steps";
    Comfyd__V1__Command cmd = COMFYD__V1__COMMAND__INIT;
    cmd.command_case = COMFYD__V1__COMMAND__COMMAND_SET_WIDGET;
    cmd.set_widget = &sw;
    jsonpb_opts o = flat_opts();
    g = yajl_gen_alloc(NULL);
    yajl_gen_map_open(g);
    assert_int_equal(jsonpb_encode_fields_gen(g, &cmd.base, &o, errbuf, sizeof errbuf), 0);
    yajl_gen_map_close(g);
    yajl_gen_get_buf(g, &buf, &len);
    want = "{\"type\":\"set_widget\",\"name\":\"steps\"}";
    assert_int_equal(len, strlen(want));
    assert_memory_equal(buf, want, len);
    yajl_gen_free(g);

    /* Wrappers and scalar unions are bare values: no fields to write. */
    Google__Protobuf__Int64Value w = GOOGLE__PROTOBUF__INT64_VALUE__INIT;
    Comfyd__V1__NodeRef ref = COMFYD__V1__NODE_REF__INIT;
    g = yajl_gen_alloc(NULL);
    yajl_gen_map_open(g);
    assert_int_equal(jsonpb_encode_fields_gen(g, &w.base, NULL, errbuf, sizeof errbuf),
                     JSONPB_EINVAL);
    assert_int_equal(jsonpb_encode_fields_gen(g, &ref.base, NULL, errbuf, sizeof errbuf),
                     JSONPB_EINVAL);
    assert_int_equal(jsonpb_encode_fields_gen(NULL, &ref.base, NULL, errbuf, sizeof errbuf),
                     JSONPB_EINVAL);
    yajl_gen_free(g);
}

/* jsonpb_encode writes without yajl: strings with every escape, long
 * texts (buffer growth), map keys and integral floating values must come
 * out exactly as yajl and printf write them. */
static void own_writer_matches_yajl_byte_for_byte(void **state)
{
    (void)state;
    char all[200];
    size_t n = 0;
    for (int c = 1; c < 128; c++)
        all[n++] = (char)c;
    memcpy(all + n, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 9); /* é € emoji */
    n += 9;
    all[n] = '\0';
    Comfyd__V1__SetWidgetCommand sw = COMFYD__V1__SET_WIDGET_COMMAND__INIT;
    sw.name = all;
    char *want = encode_via_yajl(&sw.base, NULL);
    assert_non_null(strstr(want, "\\u0001"));
    assert_non_null(strstr(want, "\\t\\n\\u000B\\f\\r"));
    expect_json(&sw.base, NULL, want);
    free(want);

    /* 100 KiB with an escape every 97 bytes: many reallocations. */
    size_t big = 100 * 1024;
    char *s = malloc(big + 1);
    for (size_t i = 0; i < big; i++)
        s[i] = i % 97 == 0 ? '"' : (char)('a' + i % 26);
    s[big] = '\0';
    sw.name = s;
    want = encode_via_yajl(&sw.base, NULL);
    expect_json(&sw.base, NULL, want);
    free(want);
    free(s);

    /* Map keys that need escapes, next to scalar-union values. */
    Comfyd__V1__Value v1 = COMFYD__V1__VALUE__INIT, v2 = COMFYD__V1__VALUE__INIT;
    v1.kind_case = COMFYD__V1__VALUE__KIND_NUMBER;
    v1.number = 3;
    v2.kind_case = COMFYD__V1__VALUE__KIND_TEXT;
    v2.text = "x\ny";
    Comfyd__V1__CreateNodeCommand__WidgetsEntry e1 =
        COMFYD__V1__CREATE_NODE_COMMAND__WIDGETS_ENTRY__INIT;
    Comfyd__V1__CreateNodeCommand__WidgetsEntry e2 =
        COMFYD__V1__CREATE_NODE_COMMAND__WIDGETS_ENTRY__INIT;
    e1.key = "a\"b";
    e1.value = &v1;
    e2.key = "tab\there";
    e2.value = &v2;
    Comfyd__V1__CreateNodeCommand__WidgetsEntry *es[] = {&e1, &e2};
    Comfyd__V1__CreateNodeCommand cn = COMFYD__V1__CREATE_NODE_COMMAND__INIT;
    cn.node_type = "K";
    cn.n_widgets = 2;
    cn.widgets = es;
    expect_json(&cn.base, NULL,
                "{\"node_type\":\"K\",\"widgets\":{\"a\\\"b\":3.0,"
                "\"tab\\there\":\"x\\ny\"}}");
    Comfyd__V1__Position pos = COMFYD__V1__POSITION__INIT;
    pos.x = -0.0;
    pos.y = 1e15;
    expect_json(&pos.base, NULL, "{\"x\":-0,\"y\":1e+15}");

    /* Integral values take a shortcut past printf: same digits. */
    const double dv[] = {0,    1,    -1,  220,   249.5, 999999, 1e6, -1e6, 123456789012345.0,
                         1e15, 1e16, 0.1, 2.5e-3};
    for (size_t i = 0; i < sizeof dv / sizeof dv[0]; i++) {
        Google__Protobuf__DoubleValue d = GOOGLE__PROTOBUF__DOUBLE_VALUE__INIT;
        Google__Protobuf__FloatValue f = GOOGLE__PROTOBUF__FLOAT_VALUE__INIT;
        d.value = dv[i];
        f.value = (float)dv[i];
        char ref[48];
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(ref, sizeof ref, "%.*g", prec, d.value);
            if (strtod(ref, NULL) == d.value) break;
        }
        expect_json(&d.base, NULL, ref);
        for (int prec = 6; prec <= 9; prec++) {
            snprintf(ref, sizeof ref, "%.*g", prec, (double)f.value);
            if (strtof(ref, NULL) == f.value) break;
        }
        expect_json(&f.base, NULL, ref);
    }
}

/* Generic conversion needs no per-message code: every message type of the
 * contract encodes from its default instance and decodes back. */
static void every_contract_message_round_trips_its_default(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *ds[] = {
        &comfyd__v1__execute_request__descriptor,
        &comfyd__v1__get_graph_response__descriptor,
        &comfyd__v1__attach_canvas_response__descriptor,
        &comfyd__v1__report_editor_request__descriptor,
        &comfyd__v1__sync_state__descriptor,
        &comfyd__v1__send_message_request__descriptor,
        &comfyd__v1__list_node_types_response__descriptor,
    };
    jsonpb_opts o = {.emit_defaults = 1};
    for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
        ProtobufCMessage *m = malloc(ds[i]->sizeof_message);
        ds[i]->message_init(m);
        assert_round_trip(m, &o);
        assert_round_trip(m, NULL);
        free(m);
    }
    /* A flattened message without a member has no type: written as such,
     * and refused on the way in, as a command without a type is. */
    Comfyd__V1__AttachCanvasResponse r = COMFYD__V1__ATTACH_CANVAS_RESPONSE__INIT;
    o.flatten_all = 1;
    expect_json(&r.base, &o, "{}");
    expect_err(r.base.descriptor, "{}", &o, JSONPB_EMISSING, "missing field: type");
}

/* ---- schemas (jsonpb_schema.h) ---- */

static yajl_val jget(yajl_val v, const char *k)
{
    const char *path[] = {k, NULL};
    return yajl_tree_get(v, path, yajl_t_any);
}

/* The anyOf branch of a flattened member. */
static yajl_val branch(yajl_val items, const char *member)
{
    yajl_val any = jget(items, "anyOf");
    assert_true(YAJL_IS_ARRAY(any));
    for (size_t i = 0; i < any->u.array.len; i++) {
        yajl_val t = jget(jget(jget(any->u.array.values[i], "properties"), "type"), "const");
        if (YAJL_IS_STRING(t) && !strcmp(t->u.string, member)) return any->u.array.values[i];
    }
    return NULL;
}

static int listed(yajl_val arr, const char *s)
{
    for (size_t i = 0; YAJL_IS_ARRAY(arr) && i < arr->u.array.len; i++)
        if (YAJL_IS_STRING(arr->u.array.values[i]) && !strcmp(arr->u.array.values[i]->u.string, s))
            return 1;
    return 0;
}

/* The patch schema of the graph tools: every member of the Command oneof
 * flattened (a member added to the proto appears by itself), scalar unions
 * as type lists, required paths, docs by path and by message, keywords,
 * skipped members and fields. */
static void schema_of_flattened_commands_follows_the_descriptor(void **state)
{
    (void)state;
    static const ProtobufCMessageDescriptor *const flat[] = {&comfyd__v1__command__descriptor};
    static const char *const skip[] = {"timeout_ms", "commands.get_graph"};
    static const char *const req[] = {"commands", "commands.connect.from_id"};
    static const jsonpb_field_doc docs[] = {
        {"comfyd.v1.NodeRef", "A node."},
        {"commands.remove_node.node_id", "The node to remove."},
    };
    static const jsonpb_field_keywords kw[] = {{"commands", "\"maxItems\":7"}};
    jsonpb_schema_opts o = {.docs = docs,
                            .n_docs = 2,
                            .skip = skip,
                            .n_skip = 2,
                            .required = req,
                            .n_required = 2,
                            .flatten = flat,
                            .n_flatten = 1,
                            .keywords = kw,
                            .n_keywords = 1};
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(jsonpb_schema(&comfyd__v1__execute_batch_request__descriptor, &o, &out, &len),
                     JSONPB_SCHEMA_OK);
    assert_int_equal(strlen(out), len);
    char err[128];
    yajl_val v = yajl_tree_parse(out, err, sizeof err);
    assert_non_null(v);
    yajl_val props = jget(v, "properties");
    assert_null(jget(props, "timeout_ms"));
    assert_true(listed(jget(v, "required"), "commands"));
    yajl_val cmds = jget(props, "commands");
    assert_string_equal(jget(cmds, "maxItems")->u.number.r, "7");
    yajl_val items = jget(cmds, "items");
    /* One branch per member but the skipped one, in field order. */
    yajl_val any = jget(items, "anyOf");
    assert_int_equal(any->u.array.len, comfyd__v1__command__descriptor.n_fields - 1);
    assert_null(branch(items, "get_graph"));
    for (unsigned k = 0; k < comfyd__v1__command__descriptor.n_fields; k++) {
        const char *m = comfyd__v1__command__descriptor.fields[k].name;
        if (strcmp(m, "get_graph")) assert_non_null(branch(items, m));
    }
    yajl_val mode = branch(items, "set_node_mode");
    assert_true(listed(jget(mode, "required"), "type"));
    assert_string_equal(jget(jget(jget(mode, "properties"), "mode"), "type")->u.string, "string");
    assert_false(YAJL_IS_TRUE(jget(mode, "additionalProperties")));
    /* NodeRef is a bare id or ref, described by its message's doc unless
     * the path has its own. */
    yajl_val conn = branch(items, "connect");
    yajl_val from = jget(jget(conn, "properties"), "from_id");
    assert_true(listed(jget(from, "type"), "integer") && listed(jget(from, "type"), "string"));
    assert_string_equal(jget(from, "description")->u.string, "A node.");
    assert_true(listed(jget(conn, "required"), "from_id"));
    assert_false(listed(jget(conn, "required"), "to_id"));
    yajl_val rm = jget(jget(branch(items, "remove_node"), "properties"), "node_id");
    assert_string_equal(jget(rm, "description")->u.string, "The node to remove.");
    /* Value: a scalar of any kind; wrappers nullable. */
    yajl_val sw = jget(jget(branch(items, "set_widget"), "properties"), "value");
    assert_true(listed(jget(sw, "type"), "boolean") && listed(jget(sw, "type"), "number"));
    yajl_val x = jget(jget(branch(items, "create_node"), "properties"), "x");
    assert_true(listed(jget(x, "type"), "null"));
    yajl_tree_free(v);
    free(out);

    /* Without flatten the commands stay nested objects. */
    assert_int_equal(jsonpb_schema(&comfyd__v1__command__descriptor, NULL, &out, NULL),
                     JSONPB_SCHEMA_OK);
    v = yajl_tree_parse(out, err, sizeof err);
    assert_string_equal(jget(jget(jget(v, "properties"), "arrange"), "type")->u.string, "object");
    yajl_tree_free(v);
    free(out);
    assert_int_equal(jsonpb_schema(NULL, NULL, &out, NULL), JSONPB_SCHEMA_EINVAL);
    assert_null(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(batch_txt2img_decodes_into_typed_commands),
        cmocka_unit_test(batch_txt2img_encodes_in_seed_shape_and_round_trips),
        cmocka_unit_test(base_revision_wrapper_keeps_presence),
        cmocka_unit_test(configure_session_wrappers_and_skill_list),
        cmocka_unit_test(session_event_stream_delta_nested_and_flattened),
        cmocka_unit_test(debug_log_level_accepts_short_names),
        cmocka_unit_test(batch_mode_enum_forms),
        cmocka_unit_test(maps_with_scalar_union_and_int64_values),
        cmocka_unit_test(int64_beyond_2_53_is_a_string_and_ranges_are_checked),
        cmocka_unit_test(floats_doubles_and_special_values),
        cmocka_unit_test(bytes_are_base64),
        cmocka_unit_test(scalar_unions_choose_member_by_json_type),
        cmocka_unit_test(emit_defaults_writes_every_field),
        cmocka_unit_test(encode_gen_embeds_message_in_envelope),
        cmocka_unit_test(encode_rejects_invalid_utf8_with_path),
        cmocka_unit_test(malformed_json_is_a_syntax_error),
        cmocka_unit_test(depth_bomb_is_a_limit_error),
        cmocka_unit_test(oversized_inputs_are_limit_errors),
        cmocka_unit_test(invalid_utf8_and_lone_surrogates_are_rejected),
        cmocka_unit_test(wrong_types_name_the_path),
        cmocka_unit_test(unknown_fields_are_errors_unless_ignored),
        cmocka_unit_test(flattened_command_errors),
        cmocka_unit_test(flattening_is_refused_when_keys_could_collide),
        cmocka_unit_test(every_allocation_failure_is_enomem_without_leaks),
        cmocka_unit_test(every_contract_message_round_trips_its_default),
        cmocka_unit_test(enum_styles_strip_the_prefix_and_lowercase_with_overrides),
        cmocka_unit_test(schema_of_flattened_commands_follows_the_descriptor),
        cmocka_unit_test(encode_fields_gen_writes_members_into_an_open_map),
        cmocka_unit_test(own_writer_matches_yajl_byte_for_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
