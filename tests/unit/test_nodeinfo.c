/* Unit tests for core/nodeinfo: parsing the real /object_info fixture (568
 * node types), input order and ranges, combo forms, the control widget,
 * search, suggestions, value checks, protobuf conversion and the JSON
 * limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "nodeinfo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURE COMFYD_SOURCE_DIR "/tests/fixtures/object_info.json"

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int setup_fixture(void **state)
{
    size_t len;
    char *json = read_file(FIXTURE, &len);
    nodeinfo *ni = NULL;
    char err[256] = "";
    int rc = nodeinfo_create(&ni, json, len, 0, err, sizeof err);
    free(json);
    if (rc != NODEINFO_OK) {
        fprintf(stderr, "fixture: %s\n", err);
        return -1;
    }
    *state = ni;
    return 0;
}

static int teardown_fixture(void **state)
{
    nodeinfo_unref(*state);
    return 0;
}

static nodeinfo *parse_ok(const char *json, unsigned flags)
{
    nodeinfo *ni = NULL;
    char err[256] = "";
    int rc = nodeinfo_create(&ni, json, strlen(json), flags, err, sizeof err);
    if (rc) fprintf(stderr, "parse: %s\n", err);
    assert_int_equal(rc, NODEINFO_OK);
    return ni;
}

static Comfyd__V1__Value val_int(int64_t i)
{
    Comfyd__V1__Value v = COMFYD__V1__VALUE__INIT;
    v.kind_case = COMFYD__V1__VALUE__KIND_INTEGER;
    v.integer = i;
    return v;
}

static Comfyd__V1__Value val_num(double d)
{
    Comfyd__V1__Value v = COMFYD__V1__VALUE__INIT;
    v.kind_case = COMFYD__V1__VALUE__KIND_NUMBER;
    v.number = d;
    return v;
}

static Comfyd__V1__Value val_text(const char *s)
{
    Comfyd__V1__Value v = COMFYD__V1__VALUE__INIT;
    v.kind_case = COMFYD__V1__VALUE__KIND_TEXT;
    v.text = (char *)s;
    return v;
}

static Comfyd__V1__Value val_bool(int b)
{
    Comfyd__V1__Value v = COMFYD__V1__VALUE__INIT;
    v.kind_case = COMFYD__V1__VALUE__KIND_BOOLEAN;
    v.boolean = b;
    return v;
}

static const nodeinfo_input *input_of(nodeinfo *ni, const char *type, const char *name)
{
    const nodeinfo_type *t = nodeinfo_find(ni, type);
    assert_non_null(t);
    const nodeinfo_input *in = nodeinfo_input_find(t, name);
    assert_non_null(in);
    return in;
}

/* Returns the check's result; msg gets the message. */
static int check(const nodeinfo_input *in, Comfyd__V1__Value v, char *msg, size_t len)
{
    return nodeinfo_check_value(in, &v, msg, len, NULL, 0, NULL);
}

static void fixture_parses_all_568_types_sorted(void **state)
{
    nodeinfo *ni = *state;
    assert_int_equal(nodeinfo_count(ni), 568);
    assert_int_equal(nodeinfo_skipped(ni), 0);
    assert_null(nodeinfo_skip_reason(ni));
    for (size_t i = 1; i < nodeinfo_count(ni); i++)
        assert_true(strcmp(nodeinfo_at(ni, i - 1)->name, nodeinfo_at(ni, i)->name) < 0);
    assert_null(nodeinfo_at(ni, 568));
    assert_null(nodeinfo_find(ni, "Ksampler")); /* lookups are exact */
    assert_null(nodeinfo_find(ni, "Note"));     /* frontend types only on request */
}

static void ksampler_inputs_follow_input_order_with_ranges(void **state)
{
    const nodeinfo_type *t = nodeinfo_find(*state, "KSampler");
    assert_non_null(t);
    static const char *const order[] = {"model",        "seed",      "steps",    "cfg",
                                        "sampler_name", "scheduler", "positive", "negative",
                                        "latent_image", "denoise"};
    assert_int_equal(t->n_inputs, 10);
    for (size_t i = 0; i < 10; i++) {
        assert_string_equal(t->inputs[i].name, order[i]);
        assert_true(t->inputs[i].required);
    }
    assert_string_equal(t->display_name, "KSampler");
    assert_string_equal(t->category, "sampling");
    assert_false(t->output_node);
    assert_int_equal(t->n_outputs, 1);
    assert_string_equal(t->outputs[0].name, "LATENT");
    assert_string_equal(t->outputs[0].type, "LATENT");
    assert_false(t->outputs[0].is_list);

    const nodeinfo_input *model = &t->inputs[0];
    assert_int_equal(model->kind, NODEINFO_KIND_LINK);
    assert_string_equal(model->type, "MODEL");
    assert_false(model->is_widget);

    const nodeinfo_input *seed = &t->inputs[1];
    assert_int_equal(seed->kind, NODEINFO_KIND_INT);
    assert_true(seed->is_widget);
    assert_true(seed->has_min && seed->has_max);
    assert_true(seed->min == 0);
    assert_true(seed->max > 1.8e19); /* 2^64 - 1 in the schema */
    assert_int_equal(seed->def.kind, NODEINFO_V_INT);
    assert_int_equal(seed->def.i, 0);
    /* No flag in the schema: the frontend's rule for "seed" applies. */
    assert_true(seed->control_after_generate);

    const nodeinfo_input *steps = &t->inputs[2];
    assert_true(steps->min == 1 && steps->max == 10000);
    assert_int_equal(steps->def.i, 20);
    assert_false(steps->control_after_generate);

    const nodeinfo_input *cfg = &t->inputs[3];
    assert_int_equal(cfg->kind, NODEINFO_KIND_FLOAT);
    assert_true(cfg->has_step && fabs(cfg->step - 0.1) < 1e-12);
    assert_true(cfg->max == 100.0);
    assert_int_equal(cfg->def.kind, NODEINFO_V_NUMBER);
    assert_true(cfg->def.d == 8.0);

    const nodeinfo_input *sampler = &t->inputs[4];
    assert_int_equal(sampler->kind, NODEINFO_KIND_COMBO);
    assert_string_equal(sampler->type, "COMBO");
    assert_true(sampler->is_widget);
    assert_int_equal(sampler->n_options, 32);
    assert_string_equal(sampler->options[0].s, "euler");
    assert_string_equal(sampler->options[31].s, "uni_pc_bh2");
    assert_false(sampler->dynamic_options);
    assert_int_equal(t->inputs[5].n_options, 9);
    assert_string_equal(t->inputs[5].options[1].s, "karras");
    assert_non_null(sampler->tooltip);
}

static void checkpoint_loader_has_a_combo_and_three_outputs(void **state)
{
    const nodeinfo_type *t = nodeinfo_find(*state, "CheckpointLoaderSimple");
    assert_non_null(t);
    assert_string_equal(t->display_name, "Load Checkpoint");
    assert_int_equal(t->n_inputs, 1);
    assert_int_equal(t->inputs[0].kind, NODEINFO_KIND_COMBO);
    assert_int_equal(t->inputs[0].n_options, 1);
    assert_int_equal(t->inputs[0].options[0].kind, NODEINFO_V_TEXT);
    assert_string_equal(t->inputs[0].options[0].s, "sd_xl_base_1.0.safetensors");
    assert_int_equal(t->n_outputs, 3);
    assert_string_equal(t->outputs[1].name, "CLIP");
    assert_string_equal(t->outputs[2].type, "VAE");
}

static void hidden_inputs_are_skipped_and_output_node_is_kept(void **state)
{
    const nodeinfo_type *t = nodeinfo_find(*state, "SaveImage");
    assert_non_null(t);
    assert_int_equal(t->n_inputs, 2);
    assert_string_equal(t->inputs[0].name, "images");
    assert_string_equal(t->inputs[1].name, "filename_prefix");
    assert_null(nodeinfo_input_find(t, "prompt"));
    assert_true(t->output_node);
    assert_int_equal(t->n_outputs, 0);
}

static void upload_combos_and_list_outputs_are_recognised(void **state)
{
    nodeinfo *ni = *state;
    const nodeinfo_input *image = input_of(ni, "LoadImage", "image");
    assert_true(image->dynamic_options);
    char msg[512];
    assert_int_equal(check(image, val_text("just-uploaded.png"), msg, sizeof msg), NODEINFO_OK);

    const nodeinfo_type *sel = nodeinfo_find(ni, "ControlNetPreprocessorSelector");
    assert_non_null(sel);
    assert_string_equal(sel->outputs[0].type, "COMBO");

    /* Combos that list booleans keep their JSON type. */
    const nodeinfo_input *flip = input_of(ni, "SoftControlNetWeights", "flip_weights");
    assert_int_equal(flip->n_options, 2);
    assert_int_equal(flip->options[1].kind, NODEINFO_V_BOOL);
    assert_string_equal(flip->options[1].s, "true");
    assert_int_equal(check(flip, val_bool(1), msg, sizeof msg), NODEINFO_OK);
    assert_int_equal(check(flip, val_text("True"), msg, sizeof msg), NODEINFO_EVALUE);

    /* A wildcard output stays "*". */
    const nodeinfo_type *unbatch = nodeinfo_find(ni, "VHS_Unbatch");
    assert_non_null(unbatch);
    assert_string_equal(unbatch->outputs[0].type, "*");
}

static const char custom_json[] =
    "{\"Custom\": {"
    " \"input\": {"
    "  \"required\": {"
    "   \"b_link\": [\"IMAGE,MASK\"],"
    "   \"a_mode\": [\"COMBO\", {\"options\": [\"x\", \"y\"], \"control_after_generate\": true,"
    "                \"default\": \"y\"}],"
    "   \"seed\": [\"INT\", {\"control_after_generate\": false}],"
    "   \"noise_seed\": [\"INT\", {\"min\": 0}],"
    "   \"forced\": [\"FLOAT\", {\"forceInput\": true}],"
    "   \"text\": [\"STRING\", {\"multiline\": true, \"default\": \"hi\"}]"
    "  },"
    "  \"optional\": {\"flag\": [\"BOOLEAN\", {\"default\": true}], \"extra\": [\"LATENT\"]},"
    "  \"hidden\": {\"unique_id\": \"UNIQUE_ID\"}"
    " },"
    " \"input_order\": {\"required\": [\"a_mode\", \"seed\", \"b_link\", \"ghost\"],"
    "                  \"optional\": [\"extra\", \"flag\"]},"
    " \"output\": [\"IMAGE\", [\"p\", \"q\"], \"\"],"
    " \"output_is_list\": [true, false],"
    " \"output_name\": [\"images\"],"
    " \"display_name\": \"My Custom\", \"category\": \"tests/custom\", \"output_node\": true"
    "}}";

static void custom_schema_covers_new_combo_order_and_flags(void **state)
{
    (void)state;
    nodeinfo *ni = parse_ok(custom_json, 0);
    const nodeinfo_type *t = nodeinfo_find(ni, "Custom");
    assert_non_null(t);
    static const char *const order[] = {"a_mode", "seed", "b_link", "noise_seed",
                                        "forced", "text", "extra",  "flag"};
    assert_int_equal(t->n_inputs, 8);
    for (size_t i = 0; i < 8; i++)
        assert_string_equal(t->inputs[i].name, order[i]);
    assert_true(t->inputs[0].required);
    assert_false(t->inputs[6].required);

    const nodeinfo_input *mode = &t->inputs[0];
    assert_int_equal(mode->kind, NODEINFO_KIND_COMBO);
    assert_int_equal(mode->n_options, 2);
    assert_true(mode->control_after_generate);
    assert_string_equal(mode->def.s, "y");
    assert_false(t->inputs[1].control_after_generate); /* explicit false wins */
    assert_true(t->inputs[3].control_after_generate);  /* "noise_seed" */
    assert_string_equal(t->inputs[2].type, "IMAGE,MASK");
    assert_false(t->inputs[2].is_widget);
    assert_false(t->inputs[4].is_widget); /* forceInput */
    assert_true(t->inputs[5].multiline);
    assert_int_equal(t->inputs[7].def.kind, NODEINFO_V_BOOL);

    assert_int_equal(t->n_outputs, 3);
    assert_string_equal(t->outputs[0].name, "images");
    assert_true(t->outputs[0].is_list);
    assert_string_equal(t->outputs[1].type, "COMBO");
    assert_string_equal(t->outputs[1].name, "COMBO");
    assert_string_equal(t->outputs[2].type, "*");
    assert_true(t->output_node);

    /* The control widget follows its widget in widget order. */
    const char *names[16];
    size_t n = nodeinfo_widget_names(t, names, 16);
    static const char *const widgets[] = {"a_mode",     "control_after_generate", "seed",
                                          "noise_seed", "control_after_generate", "text",
                                          "flag"};
    assert_int_equal(n, 7);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(names[i], widgets[i]);
    assert_ptr_equal(nodeinfo_widget_find(t, "control_after_generate"), nodeinfo_control_input());
    assert_null(nodeinfo_widget_find(t, "b_link"));
    assert_null(nodeinfo_widget_find(t, "forced"));
    nodeinfo_unref(ni);
}

static void broken_entries_are_skipped_with_a_reason(void **state)
{
    (void)state;
    /* An odd input type is repaired and the node kept; an entry that is
     * not an object, or over a limit, is skipped. */
    char json[2048], longcat[NODEINFO_MAX_NAME + 2];
    memset(longcat, 'c', sizeof longcat - 1);
    longcat[sizeof longcat - 1] = 0;
    snprintf(json, sizeof json,
             "{\"Good\": {\"input\": {}, \"output\": []},"
             " \"Odd\": {\"input\": {\"required\": {\"x\": [42]}}},"
             " \"Worse\": [1, 2],"
             " \"Long\": {\"output\": [\"A\"], \"category\": \"%s\"}}",
             longcat);
    nodeinfo *ni = parse_ok(json, 0);
    assert_int_equal(nodeinfo_count(ni), 2);
    assert_int_equal(nodeinfo_skipped(ni), 2);
    assert_non_null(strstr(nodeinfo_skip_reason(ni), "\"Worse\""));
    assert_int_equal(nodeinfo_oddities(ni), 1);
    assert_non_null(strstr(nodeinfo_odd_reason(ni), "\"Odd\""));
    assert_non_null(strstr(nodeinfo_odd_reason(ni), "input \"x\""));
    nodeinfo_unref(ni);
    /* Names in the reasons cannot forge a log line. */
    ni = parse_ok("{\"A\\nforged line\": [1], \"B\\r\": {\"output\": 5}}", 0);
    assert_null(strpbrk(nodeinfo_skip_reason(ni), "\r\n"));
    assert_non_null(strstr(nodeinfo_skip_reason(ni), "A?forged line"));
    assert_null(strpbrk(nodeinfo_odd_reason(ni), "\r\n"));
    nodeinfo_unref(ni);
    ni = parse_ok(json, 0);
    const nodeinfo_type *t = nodeinfo_find(ni, "Odd");
    assert_int_equal(t->n_inputs, 1);
    assert_string_equal(t->inputs[0].type, "*");
    assert_false(t->inputs[0].is_widget);
    nodeinfo_unref(ni);
}

static void odd_output_shapes_are_kept(void **state)
{
    (void)state;
    /* WAS's "Text Find": RETURN_TYPES = ("STRING") is a string. */
    nodeinfo *ni = parse_ok(
        "{\"Text Find\": {\"input\": {\"required\": {\"text\": [\"STRING\"]}},"
        "  \"output\": \"STRING\", \"output_is_list\": [false, false, false, false, false, false],"
        "  \"output_name\": \"STRING\", \"python_module\": \"custom_nodes.was\"},"
        " \"NoNames\": {\"output\": [\"IMAGE\", \"MASK\"], \"output_is_list\": true},"
        " \"NumOut\": {\"output\": [\"IMAGE\", 3, {\"x\": 1}], \"output_name\": [\"img\", null]},"
        " \"ObjOut\": {\"output\": {\"IMAGE\": 1}, \"input\": {\"required\": [\"a\"],"
        "  \"optional\": {\"b\": [], \"c\": [{\"default\": 1}], \"d\": \"INT\"}}}}",
        0);
    assert_int_equal(nodeinfo_count(ni), 4);
    assert_int_equal(nodeinfo_skipped(ni), 0);
    assert_int_equal(nodeinfo_oddities(ni), 3);
    const nodeinfo_type *t = nodeinfo_find(ni, "Text Find");
    assert_int_equal(t->n_outputs, 1);
    assert_string_equal(t->outputs[0].type, "STRING");
    assert_string_equal(t->outputs[0].name, "STRING");
    assert_string_equal(t->python_module, "custom_nodes.was");
    t = nodeinfo_find(ni, "NoNames");
    assert_int_equal(t->n_outputs, 2);
    assert_string_equal(t->outputs[1].name, "MASK");
    assert_true(t->outputs[0].is_list); /* a single true stands for the first */
    assert_false(t->outputs[1].is_list);
    t = nodeinfo_find(ni, "NumOut");
    assert_int_equal(t->n_outputs, 3);
    assert_string_equal(t->outputs[0].name, "img");
    assert_string_equal(t->outputs[1].type, "*");
    assert_string_equal(t->outputs[2].type, "*");
    t = nodeinfo_find(ni, "ObjOut");
    assert_int_equal(t->n_outputs, 0);
    assert_int_equal(t->n_inputs, 3);
    assert_string_equal(t->inputs[0].type, "*");
    assert_string_equal(t->inputs[1].type, "*");
    assert_string_equal(t->inputs[2].type, "INT");
    assert_true(t->inputs[2].is_widget);
    nodeinfo_unref(ni);
}

static void bad_json_is_refused_with_a_message(void **state)
{
    (void)state;
    nodeinfo *ni = (nodeinfo *)1;
    char err[256];
    assert_int_equal(nodeinfo_create(&ni, "{\"a\": ", 6, 0, err, sizeof err), NODEINFO_EINVAL);
    assert_null(ni);
    assert_non_null(strstr(err, "invalid JSON"));
    assert_int_equal(nodeinfo_create(&ni, "[1, 2]", 6, 0, err, sizeof err), NODEINFO_EINVAL);
    assert_non_null(strstr(err, "JSON object"));
    assert_int_equal(nodeinfo_create(&ni, "{} {}", 5, 0, err, sizeof err), NODEINFO_EINVAL);
    assert_int_equal(nodeinfo_create(&ni, "{\"a\"\0:1}", 8, 0, err, sizeof err), NODEINFO_EINVAL);
    assert_non_null(strstr(err, "NUL"));
    assert_int_equal(nodeinfo_create(&ni, "", 0, 0, err, sizeof err), NODEINFO_EINVAL);

    /* 100 nested arrays: over NODEINFO_MAX_DEPTH, refused before a tree. */
    char deep[256];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    assert_int_equal(nodeinfo_create(&ni, deep, 200, 0, err, sizeof err), NODEINFO_ETOOBIG);
    assert_non_null(strstr(err, "deeply"));
}

static void json_limits_bound_values_and_bytes(void **state)
{
    (void)state;
    yajl_val v = NULL;
    char err[256];
    nodeinfo_json_limits lim = {.max_bytes = 64, .max_depth = 4, .max_values = 5};
    assert_int_equal(nodeinfo_json_parse("[1,2,3,4]", 9, &lim, &v, err, sizeof err), NODEINFO_OK);
    assert_true(YAJL_IS_ARRAY(v));
    yajl_tree_free(v);
    assert_int_equal(nodeinfo_json_parse("[1,2,3,4,5]", 11, &lim, &v, err, sizeof err),
                     NODEINFO_ETOOBIG);
    assert_null(v);
    assert_non_null(strstr(err, "too many"));
    char big[80];
    memset(big, ' ', sizeof big);
    big[0] = '1';
    assert_int_equal(nodeinfo_json_parse(big, sizeof big, &lim, &v, err, sizeof err),
                     NODEINFO_ETOOBIG);
    assert_int_equal(nodeinfo_json_parse("[[[[[1]]]]]", 11, &lim, &v, err, sizeof err),
                     NODEINFO_ETOOBIG);
}

static void search_ranks_exact_then_prefix_then_substring(void **state)
{
    nodeinfo *ni = *state;
    const nodeinfo_type *out[64];
    size_t total = 0;
    size_t n = nodeinfo_search(ni, "ksampler", NULL, out, 64, &total);
    assert_true(n >= 3);
    assert_int_equal(n, total);
    assert_string_equal(out[0]->name, "KSampler");
    /* Then the names that start with it (KSamplerAdvanced, KSamplerSelect),
     * then the rest, which have it as a word or close to one. */
    size_t prefixed = 1;
    while (prefixed < n && strncasecmp(out[prefixed]->name, "ksampler", 8) == 0)
        prefixed++;
    assert_true(prefixed >= 3);
    for (size_t i = prefixed; i < n; i++)
        assert_true(strncasecmp(out[i]->name, "ksampler", 8) != 0);
    /* Prefix matches ("SamplerCustom") come before names that only contain
     * the text ("KSampler"), although "K" sorts first. */
    n = nodeinfo_search(ni, "sampler", NULL, out, 64, &total);
    assert_true(n > 10);
    assert_int_equal(strncasecmp(out[0]->name, "sampler", 7), 0);
    int seen_contains = 0;
    for (size_t i = 0; i < n; i++) {
        int prefix = strncasecmp(out[i]->name, "sampler", 7) == 0 ||
                     strncasecmp(out[i]->display_name, "sampler", 7) == 0;
        if (!prefix) seen_contains = 1;
        assert_false(prefix && seen_contains);
    }
    assert_true(seen_contains);
    /* Display names count: "load checkpoint" is CheckpointLoaderSimple's. */
    n = nodeinfo_search(ni, "Load Checkpoint", NULL, out, 64, &total);
    assert_true(n >= 1);
    assert_string_equal(out[0]->name, "CheckpointLoaderSimple");
    /* max bounds the output, not the total. */
    n = nodeinfo_search(ni, "", NULL, out, 5, &total);
    assert_int_equal(n, 5);
    assert_int_equal(total, 568);
    assert_int_equal(nodeinfo_search(ni, "qqqzzz xxxyyy", NULL, out, 64, &total), 0);
    assert_int_equal(total, 0);
}

static void search_filters_by_category_and_below(void **state)
{
    nodeinfo *ni = *state;
    const nodeinfo_type *out[600];
    size_t total;
    size_t n = nodeinfo_search(ni, NULL, "Sampling", out, 600, &total);
    assert_true(n > 5);
    int saw_sub = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(strncmp(out[i]->category, "sampling", 8) == 0);
        assert_true(out[i]->category[8] == 0 || out[i]->category[8] == '/');
        saw_sub |= out[i]->category[8] == '/';
    }
    assert_true(saw_sub);
    n = nodeinfo_search(ni, "ksampler", "sampling", out, 600, &total);
    assert_string_equal(out[0]->name, "KSampler");
    assert_int_equal(nodeinfo_search(ni, "ksampler", "loaders", out, 600, &total), 0);
}

static void suggestions_find_ksampler_for_typos(void **state)
{
    nodeinfo *ni = *state;
    const char *s[NODEINFO_MAX_SUGGESTIONS];
    size_t n = nodeinfo_suggest(ni, "Ksampler", s);
    assert_true(n >= 1 && n <= NODEINFO_MAX_SUGGESTIONS);
    assert_string_equal(s[0], "KSampler");
    n = nodeinfo_suggest(ni, "KSamplr", s);
    assert_true(n >= 1);
    assert_string_equal(s[0], "KSampler");
    n = nodeinfo_suggest(ni, "load checkpoint", s);
    assert_true(n >= 1);
    assert_string_equal(s[0], "CheckpointLoaderSimple");
    n = nodeinfo_suggest(ni, "CLIPTextEncod", s);
    assert_true(n >= 1);
    assert_string_equal(s[0], "CLIPTextEncode");
    assert_int_equal(nodeinfo_suggest(ni, "zzzzzzzzzzzzzzzzzzzz", s), 0);
    assert_int_equal(nodeinfo_suggest(ni, "", s), 0);
}

static void closest_ranks_near_names_over_containing_ones(void **state)
{
    (void)state;
    const char *cands[] = {"model", "positive", "negative", "latent_image", "seed"};
    const char *out[5];
    size_t n = nodeinfo_closest("modle", cands, 5, out, 5);
    assert_int_equal(n, 1);
    assert_string_equal(out[0], "model");
    n = nodeinfo_closest("latent", cands, 5, out, 5);
    assert_int_equal(n, 1);
    assert_string_equal(out[0], "latent_image");
    n = nodeinfo_closest("SEED", cands, 5, out, 1);
    assert_int_equal(n, 1);
    assert_string_equal(out[0], "seed");
}

static void int_values_need_whole_numbers_in_range(void **state)
{
    nodeinfo *ni = *state;
    const nodeinfo_input *steps = input_of(ni, "KSampler", "steps");
    char msg[512];
    assert_int_equal(check(steps, val_int(20), msg, sizeof msg), NODEINFO_OK);
    assert_int_equal(check(steps, val_num(30.0), msg, sizeof msg), NODEINFO_OK);
    assert_int_equal(check(steps, val_num(2.5), msg, sizeof msg), NODEINFO_EVALUE);
    assert_non_null(strstr(msg, "whole number"));
    assert_int_equal(check(steps, val_int(0), msg, sizeof msg), NODEINFO_EVALUE);
    assert_string_equal(msg, "steps must be >= 1, got 0");
    assert_int_equal(check(steps, val_int(10001), msg, sizeof msg), NODEINFO_EVALUE);
    assert_string_equal(msg, "steps must be <= 10000, got 10001");
    assert_int_equal(check(steps, val_text("20"), msg, sizeof msg), NODEINFO_EVALUE);
    assert_non_null(strstr(msg, "needs an integer"));
    assert_int_equal(check(steps, val_bool(1), msg, sizeof msg), NODEINFO_EVALUE);
    const nodeinfo_input *seed = input_of(ni, "KSampler", "seed");
    assert_int_equal(check(seed, val_int(INT64_MAX), msg, sizeof msg), NODEINFO_OK);
    assert_int_equal(check(seed, val_int(-1), msg, sizeof msg), NODEINFO_EVALUE);
    assert_int_equal(nodeinfo_check_value(seed, NULL, msg, sizeof msg, NULL, 0, NULL),
                     NODEINFO_EVALUE);
    assert_non_null(strstr(msg, "needs a value"));
}

static void int_steps_are_enforced_from_min(void **state)
{
    const nodeinfo_input *width = input_of(*state, "EmptyLatentImage", "width");
    char msg[512];
    assert_int_equal(check(width, val_int(512), msg, sizeof msg), NODEINFO_OK);
    assert_int_equal(check(width, val_int(16), msg, sizeof msg), NODEINFO_OK);
    assert_int_equal(check(width, val_int(510), msg, sizeof msg), NODEINFO_EVALUE);
    assert_string_equal(msg, "width must be 16 plus a multiple of 8 (e.g. 504 or 512), got 510");
}

static void float_values_ignore_ui_steps_but_keep_ranges(void **state)
{
    nodeinfo *ni = *state;
    const nodeinfo_input *cfg = input_of(ni, "KSampler", "cfg");
    char msg[512];
    /* 7.55 is off the 0.1 grid: the frontend would round it, ComfyUI takes it. */
    assert_int_equal(check(cfg, val_num(7.55), msg, sizeof msg), NODEINFO_OK);
    assert_int_equal(check(cfg, val_int(8), msg, sizeof msg), NODEINFO_OK);
    assert_int_equal(check(cfg, val_num(100.5), msg, sizeof msg), NODEINFO_EVALUE);
    assert_string_equal(msg, "cfg must be <= 100, got 100.5");
    assert_int_equal(check(cfg, val_num(NAN), msg, sizeof msg), NODEINFO_EVALUE);
    assert_int_equal(check(cfg, val_text("8"), msg, sizeof msg), NODEINFO_EVALUE);
    assert_non_null(strstr(msg, "FLOAT"));
    const nodeinfo_input *denoise = input_of(ni, "KSampler", "denoise");
    assert_int_equal(check(denoise, val_num(0.333), msg, sizeof msg), NODEINFO_OK);
}

static void string_and_boolean_values_need_their_type(void **state)
{
    nodeinfo *ni = *state;
    char msg[512];
    const nodeinfo_input *text = input_of(ni, "CLIPTextEncode", "text");
    assert_int_equal(check(text, val_text("a cat"), msg, sizeof msg), NODEINFO_OK);
    assert_int_equal(check(text, val_int(3), msg, sizeof msg), NODEINFO_EVALUE);
    assert_string_equal(msg, "text is a STRING widget and needs text, got an integer 3");
    nodeinfo *custom = parse_ok(custom_json, 0);
    const nodeinfo_input *flag = input_of(custom, "Custom", "flag");
    assert_int_equal(check(flag, val_bool(0), msg, sizeof msg), NODEINFO_OK);
    assert_int_equal(check(flag, val_text("true"), msg, sizeof msg), NODEINFO_EVALUE);
    const nodeinfo_input *link = input_of(custom, "Custom", "b_link");
    assert_int_equal(check(link, val_text("x"), msg, sizeof msg), NODEINFO_EVALUE);
    assert_non_null(strstr(msg, "socket"));
    nodeinfo_unref(custom);
}

static void combo_values_must_be_listed_and_errors_name_ten(void **state)
{
    const nodeinfo_input *sampler = input_of(*state, "KSampler", "sampler_name");
    char msg[1024];
    const char *sugg[NODEINFO_MAX_SUGGESTIONS];
    size_t ns = 99;
    Comfyd__V1__Value v = val_text("euler_ancestral");
    assert_int_equal(nodeinfo_check_value(sampler, &v, msg, sizeof msg, sugg, 5, &ns), NODEINFO_OK);
    assert_int_equal(ns, 0);
    v = val_text("eulr");
    assert_int_equal(nodeinfo_check_value(sampler, &v, msg, sizeof msg, sugg, 5, &ns),
                     NODEINFO_EVALUE);
    assert_non_null(strstr(msg, "sampler_name must be one of \"euler\", \"euler_cfg_pp\""));
    assert_non_null(strstr(msg, "\"dpm_fast\" and 22 more (32 allowed values), got \"eulr\""));
    assert_null(strstr(msg, "dpm_adaptive")); /* the 11th is not named */
    assert_true(ns >= 1);
    assert_string_equal(sugg[0], "euler");
    v = val_int(1);
    assert_int_equal(nodeinfo_check_value(sampler, &v, msg, sizeof msg, sugg, 5, &ns),
                     NODEINFO_EVALUE);
    assert_int_equal(ns, 0);
    /* An empty list (no model files) explains itself. */
    const nodeinfo_input *clip = input_of(*state, "CLIPLoader", "clip_name");
    v = val_text("a.safetensors");
    assert_int_equal(nodeinfo_check_value(clip, &v, msg, sizeof msg, NULL, 0, NULL),
                     NODEINFO_EVALUE);
    assert_non_null(strstr(msg, "no allowed values"));
    /* The control widget is a combo of four words. */
    v = val_text("fixed");
    assert_int_equal(
        nodeinfo_check_value(nodeinfo_control_input(), &v, msg, sizeof msg, NULL, 0, NULL),
        NODEINFO_OK);
    v = val_text("random");
    assert_int_equal(
        nodeinfo_check_value(nodeinfo_control_input(), &v, msg, sizeof msg, NULL, 0, NULL),
        NODEINFO_EVALUE);
}

static void node_type_converts_to_a_freeable_message(void **state)
{
    const nodeinfo_type *t = nodeinfo_find(*state, "KSampler");
    Comfyd__V1__NodeType *m = nodeinfo_type_to_proto(t);
    assert_non_null(m);
    assert_string_equal(m->name, "KSampler");
    assert_string_equal(m->category, "sampling");
    assert_int_equal(m->n_inputs, 10);
    assert_int_equal(m->n_outputs, 1);
    Comfyd__V1__InputSpec *seed = m->inputs[1];
    assert_string_equal(seed->type, "INT");
    assert_true(seed->required && seed->is_widget);
    assert_non_null(seed->min);
    assert_null(seed->step);
    assert_int_equal(seed->default_value->kind_case, COMFYD__V1__VALUE__KIND_INTEGER);
    Comfyd__V1__InputSpec *cfg = m->inputs[3];
    assert_true(fabs(cfg->step->value - 0.1) < 1e-12);
    assert_int_equal(cfg->default_value->kind_case, COMFYD__V1__VALUE__KIND_NUMBER);
    assert_int_equal(m->inputs[4]->n_options, 32);
    assert_string_equal(m->inputs[4]->options[0], "euler");
    assert_false(m->inputs[0]->is_widget);
    assert_null(m->inputs[0]->default_value);

    /* It survives the wire. */
    size_t sz = protobuf_c_message_get_packed_size(&m->base);
    uint8_t *buf = malloc(sz);
    assert_int_equal(protobuf_c_message_pack(&m->base, buf), sz);
    Comfyd__V1__NodeType *back = comfyd__v1__node_type__unpack(NULL, sz, buf);
    assert_non_null(back);
    assert_string_equal(back->inputs[4]->options[31], "uni_pc_bh2");
    protobuf_c_message_free_unpacked(&back->base, NULL);
    free(buf);
    protobuf_c_message_free_unpacked(&m->base, NULL);

    /* Every type of the fixture converts. */
    for (size_t i = 0; i < nodeinfo_count(*state); i++) {
        Comfyd__V1__NodeType *x = nodeinfo_type_to_proto(nodeinfo_at(*state, i));
        assert_non_null(x);
        protobuf_c_message_free_unpacked(&x->base, NULL);
    }
}

static void frontend_types_are_added_on_request(void **state)
{
    (void)state;
    nodeinfo *ni = parse_ok("{\"Note\": {\"display_name\": \"Custom Note\"}, \"A\": {}}",
                            NODEINFO_FRONTEND_TYPES);
    assert_int_equal(nodeinfo_count(ni), 5);
    /* The JSON's own definition wins. */
    assert_string_equal(nodeinfo_find(ni, "Note")->display_name, "Custom Note");
    assert_false(nodeinfo_find(ni, "Note")->frontend_only);
    const nodeinfo_type *md = nodeinfo_find(ni, "MarkdownNote");
    assert_true(md && md->frontend_only);
    assert_non_null(nodeinfo_widget_find(md, "text"));
    const nodeinfo_type *prim = nodeinfo_find(ni, "PrimitiveNode");
    assert_true(prim && prim->dynamic_widgets);
    assert_string_equal(prim->outputs[0].type, "*");
    assert_non_null(nodeinfo_find(ni, "Reroute"));
    for (size_t i = 1; i < nodeinfo_count(ni); i++)
        assert_true(strcmp(nodeinfo_at(ni, i - 1)->name, nodeinfo_at(ni, i)->name) < 0);
    nodeinfo_unref(ni);
}

static void references_keep_the_schema_alive(void **state)
{
    (void)state;
    nodeinfo *ni = parse_ok(custom_json, 0);
    assert_ptr_equal(nodeinfo_ref(ni), ni);
    nodeinfo_unref(ni);
    /* Still usable with one reference left (valgrind checks the rest). */
    assert_non_null(nodeinfo_find(ni, "Custom"));
    nodeinfo_unref(ni);
    nodeinfo_unref(NULL);
}

int main(void)
{
    const struct CMUnitTest fixture_tests[] = {
        cmocka_unit_test(fixture_parses_all_568_types_sorted),
        cmocka_unit_test(ksampler_inputs_follow_input_order_with_ranges),
        cmocka_unit_test(checkpoint_loader_has_a_combo_and_three_outputs),
        cmocka_unit_test(hidden_inputs_are_skipped_and_output_node_is_kept),
        cmocka_unit_test(upload_combos_and_list_outputs_are_recognised),
        cmocka_unit_test(search_ranks_exact_then_prefix_then_substring),
        cmocka_unit_test(search_filters_by_category_and_below),
        cmocka_unit_test(suggestions_find_ksampler_for_typos),
        cmocka_unit_test(int_values_need_whole_numbers_in_range),
        cmocka_unit_test(int_steps_are_enforced_from_min),
        cmocka_unit_test(float_values_ignore_ui_steps_but_keep_ranges),
        cmocka_unit_test(string_and_boolean_values_need_their_type),
        cmocka_unit_test(combo_values_must_be_listed_and_errors_name_ten),
        cmocka_unit_test(node_type_converts_to_a_freeable_message),
    };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(custom_schema_covers_new_combo_order_and_flags),
        cmocka_unit_test(broken_entries_are_skipped_with_a_reason),
        cmocka_unit_test(odd_output_shapes_are_kept),
        cmocka_unit_test(bad_json_is_refused_with_a_message),
        cmocka_unit_test(json_limits_bound_values_and_bytes),
        cmocka_unit_test(closest_ranks_near_names_over_containing_ones),
        cmocka_unit_test(frontend_types_are_added_on_request),
        cmocka_unit_test(references_keep_the_schema_alive),
    };
    int failed = cmocka_run_group_tests_name("nodeinfo (fixture)", fixture_tests, setup_fixture,
                                             teardown_fixture);
    failed += cmocka_run_group_tests_name("nodeinfo", tests, NULL, NULL);
    return failed;
}
