/* Unit tests for core/nodeindex (word search over node types, through
 * nodeinfo_search): the real /object_info fixture (568 types) and a large
 * install (tests/fixtures/object_info_large.json, 2851 types: the real
 * ComfyUI server's /object_info, the fixture's custom packs and synthetic
 * packs shaped like popular ones, see make_object_info_large.py). The
 * searches are the ones users and agents type: two words in any order,
 * a pack's spelling, a misspelling. Also prints the index build time and
 * the per-query latency (no timed assertions: the machine may be busy). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "nodeindex.h"
#include "nodeinfo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIXTURE COMFYD_SOURCE_DIR "/tests/fixtures/object_info.json"
#define LARGE COMFYD_SOURCE_DIR "/tests/fixtures/object_info_large.json"

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

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static nodeinfo *load(const char *path, unsigned flags)
{
    size_t len;
    char *json = read_file(path, &len);
    nodeinfo *ni = NULL;
    char err[256] = "";
    double t0 = now_us();
    int rc = nodeinfo_create(&ni, json, len, flags, err, sizeof err);
    double t1 = now_us();
    free(json);
    if (rc != NODEINFO_OK) fprintf(stderr, "%s: %s\n", path, err);
    assert_int_equal(rc, NODEINFO_OK);
    printf("# %s: %zu types parsed and indexed in %.1f ms\n", strrchr(path, '/') + 1,
           nodeinfo_count(ni), (t1 - t0) / 1000);
    return ni;
}

static int setup_fixture(void **state)
{
    *state = load(FIXTURE, 0);
    return 0;
}

static int setup_large(void **state)
{
    *state = load(LARGE, NODEINFO_FRONTEND_TYPES);
    return 0;
}

static int teardown(void **state)
{
    nodeinfo_unref(*state);
    return 0;
}

#define MAXR 600

/* The rank (0-based) of name in the results for query, or -1. */
static int rank_of(nodeinfo *ni, const char *query, const char *name)
{
    const nodeinfo_type *out[MAXR];
    size_t total = 0;
    size_t n = nodeinfo_search(ni, query, NULL, out, MAXR, &total);
    assert_true(n <= total);
    for (size_t i = 0; i < n; i++)
        if (strcmp(out[i]->name, name) == 0) return (int)i;
    return -1;
}

static const char *first(nodeinfo *ni, const char *query)
{
    const nodeinfo_type *out[1];
    return nodeinfo_search(ni, query, NULL, out, 1, NULL) ? out[0]->name : "(none)";
}

/* ---- the fixture ---- */

static void two_words_find_the_node_meant(void **state)
{
    nodeinfo *ni = *state;
    /* Words of a CamelCase name, in its order or the display name's. */
    assert_string_equal(first(ni, "controlnet apply"), "ControlNetApply");
    assert_int_equal(rank_of(ni, "controlnet apply", "ControlNetApplyAdvanced"), 1);
    assert_string_equal(first(ni, "apply controlnet"), "ControlNetApplyAdvanced");
    assert_true(rank_of(ni, "apply controlnet", "ControlNetApply") >= 0);
    assert_string_equal(first(ni, "latent upscale"), "LatentUpscale");
    assert_string_equal(first(ni, "upscale latent"), "LatentUpscale");
    assert_string_equal(first(ni, "latent_upscale"), "LatentUpscale");
    /* Acronyms split: VAEDecode is vae + decode. */
    assert_string_equal(first(ni, "vae decode"), "VAEDecode");
    assert_string_equal(first(ni, "clip text encode"), "CLIPTextEncode");
    assert_string_equal(first(ni, "text encode clip"), "CLIPTextEncode");
    /* Common words in a sentence do not get in the way. */
    assert_true(rank_of(ni, "apply the controlnet to an image", "ControlNetApplyAdvanced") <= 2);
}

static void one_word_ranks_the_usual_node_high(void **state)
{
    nodeinfo *ni = *state;
    int r = rank_of(ni, "lora", "LoraLoader");
    printf("# lora: LoraLoader at rank %d\n", r);
    assert_true(r >= 0 && r < 3);
    r = rank_of(ni, "LoRA", "LoraLoader");
    assert_true(r >= 0 && r < 3);
    assert_string_equal(first(ni, "ksampler"), "KSampler");
    assert_string_equal(first(ni, "checkpoint"), "CheckpointLoaderSimple");
}

static void misspellings_still_find_the_node(void **state)
{
    nodeinfo *ni = *state;
    assert_string_equal(first(ni, "ksampeler"), "KSampler");
    assert_string_equal(first(ni, "ksamlper"), "KSampler"); /* transposition */
    assert_string_equal(first(ni, "Ksampler"), "KSampler");
    assert_true(rank_of(ni, "controlnett apply", "ControlNetApply") < 3);
    assert_true(rank_of(ni, "latnet upscale", "LatentUpscale") < 3);
    assert_true(rank_of(ni, "upscale latnet", "LatentUpscale") < 3);
}

static void words_match_categories_descriptions_and_types(void **state)
{
    nodeinfo *ni = *state;
    const nodeinfo_type *out[600];
    size_t total = 0;
    /* Every result of a type word has it somewhere: "conditioning" is a
     * category, an input and an output type. */
    size_t n = nodeinfo_search(ni, "conditioning", NULL, out, 600, &total);
    assert_true(n > 20);
    /* A node named for it comes before one that only takes it. */
    assert_true(rank_of(ni, "conditioning", "ConditioningCombine") <
                rank_of(ni, "conditioning", "KSampler"));
    assert_true(rank_of(ni, "conditioning", "KSampler") >= 0);
    /* A description word: KSampler's says "denoise". */
    assert_true(rank_of(ni, "denoise latent", "KSampler") >= 0);
    /* Words matching nothing find nothing. */
    assert_int_equal(nodeinfo_search(ni, "qqqqzzzz xxxxyyyy", NULL, out, 600, &total), 0);
    assert_int_equal(total, 0);
}

static void search_is_bounded_by_max_and_words(void **state)
{
    nodeinfo *ni = *state;
    const nodeinfo_type *out[3];
    size_t total = 0;
    assert_int_equal(nodeinfo_search(ni, "image", NULL, out, 3, &total), 3);
    assert_true(total > 3);
    /* A long query of many words and separators: bounded, no crash. */
    char q[4096];
    size_t k = 0;
    while (k + 8 < sizeof q) {
        memcpy(q + k, "lora_-/.", 8);
        k += 8;
    }
    q[k] = 0;
    nodeinfo_search(ni, q, NULL, out, 3, &total);
    memset(q, 'a', sizeof q - 1);
    q[sizeof q - 1] = 0;
    nodeinfo_search(ni, q, NULL, out, 3, &total);
    assert_int_equal(nodeinfo_search(ni, "\xff\xfe \xc3\xa9", NULL, out, 3, &total), 0);
}

/* ---- the large install ---- */

static void large_install_finds_custom_pack_nodes(void **state)
{
    nodeinfo *ni = *state;
    assert_string_equal(first(ni, "face detailer"), "FaceDetailer");
    assert_string_equal(first(ni, "FaceDetailer"), "FaceDetailer");
    assert_string_equal(first(ni, "facedetailer pipe"), "FaceDetailerPipe");
    assert_true(rank_of(ni, "face detailer", "FaceDetailerPipe") == 1);
    assert_true(rank_of(ni, "detailer", "FaceDetailer") < 5);
    assert_string_equal(first(ni, "face detialer"), "FaceDetailer");
    assert_string_equal(first(ni, "sam loader"), "SAMLoader");
    assert_string_equal(first(ni, "ultralytics"), "UltralyticsDetectorProvider");
    /* Names with spaces, and "text find" as a WAS user types it. */
    assert_string_equal(first(ni, "text find"), "Text Find");
    assert_string_equal(first(ni, "power lora"), "Power Lora Loader (rgthree)");
    assert_string_equal(first(ni, "show text"), "ShowText|pysssss");
}

static void large_install_keeps_core_nodes_on_top(void **state)
{
    nodeinfo *ni = *state;
    assert_string_equal(first(ni, "controlnet apply"), "ControlNetApply");
    assert_true(rank_of(ni, "controlnet apply", "ControlNetApplyAdvanced") < 3);
    assert_string_equal(first(ni, "latent upscale"), "LatentUpscale");
    int r = rank_of(ni, "lora", "LoraLoader");
    printf("# large, lora: LoraLoader at rank %d\n", r);
    assert_true(r >= 0 && r < 3);
    assert_true(rank_of(ni, "lora loader", "LoraLoader") == 0);
    assert_true(rank_of(ni, "load lora", "LoraLoader") < 3);
    assert_string_equal(first(ni, "ksampeler"), "KSampler");
    assert_string_equal(first(ni, "ksampler"), "KSampler");
    assert_string_equal(first(ni, "vae decode"), "VAEDecode");
    assert_string_equal(first(ni, "upscale image"), "ImageScale");
}

static void large_install_keeps_every_odd_shape(void **state)
{
    nodeinfo *ni = *state;
    assert_int_equal(nodeinfo_skipped(ni), 0);
    assert_int_equal(nodeinfo_count(ni), 2851 + 4);
    assert_true(nodeinfo_oddities(ni) >= 3);
    assert_non_null(nodeinfo_odd_reason(ni));
    /* "output": "STRING" is one STRING output. */
    const nodeinfo_type *t = nodeinfo_find(ni, "Text Find");
    assert_non_null(t);
    assert_int_equal(t->n_outputs, 1);
    assert_string_equal(t->outputs[0].type, "STRING");
    assert_string_equal(t->outputs[0].name, "STRING");
    assert_false(t->outputs[0].is_list);
    assert_int_equal(t->n_inputs, 3);
    /* A bare string as an input spec; no display_name nor output_name. */
    t = nodeinfo_find(ni, "Text Random Line");
    assert_non_null(t);
    assert_string_equal(t->display_name, "Text Random Line");
    assert_int_equal(t->n_inputs, 1);
    assert_true(t->inputs[0].is_widget);
    assert_string_equal(t->outputs[0].name, "STRING");
    /* Empty and typeless specs become "*" sockets; a number output too. */
    t = nodeinfo_find(ni, "Number Counter");
    assert_non_null(t);
    assert_int_equal(t->n_inputs, 3);
    assert_string_equal(nodeinfo_input_find(t, "mode")->type, "*");
    assert_string_equal(nodeinfo_input_find(t, "start")->type, "*");
    assert_int_equal(t->n_outputs, 2);
    assert_string_equal(t->outputs[1].type, "*");
    assert_string_equal(t->python_module, "");
    /* "input": [] and "output": null: a node with no sockets. */
    t = nodeinfo_find(ni, "Cache Node");
    assert_non_null(t);
    assert_int_equal(t->n_inputs, 0);
    assert_int_equal(t->n_outputs, 0);
    assert_string_equal(t->description, "");
    /* All of them are found by their words. */
    assert_string_equal(first(ni, "random line"), "Text Random Line");
    assert_string_equal(first(ni, "number counter"), "Number Counter");
    assert_string_equal(first(ni, "cache"), "Cache Node");
}

static void large_install_category_filter_still_applies(void **state)
{
    nodeinfo *ni = *state;
    const nodeinfo_type *out[MAXR];
    size_t total = 0;
    size_t n = nodeinfo_search(ni, "detailer", "ImpactPack", out, MAXR, &total);
    assert_true(n >= 5);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(strncasecmp(out[i]->category, "impactpack", 10), 0);
    assert_int_equal(nodeinfo_search(ni, "face detailer", "loaders", out, MAXR, &total), 0);
}

static void query_latency(void **state)
{
    nodeinfo *ni = *state;
    static const char *const queries[] = {
        "controlnet apply",
        "face detailer",
        "lora",
        "ksampeler",
        "latent upscale",
        "image",
        "vae decode",
        "text find",
        "load checkpoint",
        "x",
        "apply the controlnet to an image and upscale the latent",
    };
    const size_t nq = sizeof queries / sizeof *queries;
    const nodeinfo_type *out[20];
    size_t total;
    double t0 = now_us();
    const int rounds = 20;
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < nq; i++)
            nodeinfo_search(ni, queries[i], NULL, out, 20, &total);
    double per = (now_us() - t0) / (double)(rounds * (int)nq);
    printf("# %zu types: %.0f us per query (mean of %d)\n", nodeinfo_count(ni), per,
           rounds * (int)nq);
}

static void core_nodes_win_ties(void **state)
{
    (void)state;
    /* Same words, same length; the custom one sorts first by name. */
    static const char json[] =
        "{\"ApplyStyleX\": {\"display_name\": \"Apply Style\", \"python_module\": "
        "\"custom_nodes.pack\"},"
        " \"StyleApplyX\": {\"display_name\": \"Apply Style\", \"python_module\": "
        "\"comfy_extras.nodes_style\"},"
        " \"OldStyleApply\": {\"display_name\": \"Apply Style\", \"python_module\": \"nodes\","
        " \"deprecated\": true}}";
    nodeinfo *ni = NULL;
    assert_int_equal(nodeinfo_create(&ni, json, sizeof json - 1, 0, NULL, 0), NODEINFO_OK);
    const nodeinfo_type *out[3];
    assert_int_equal(nodeinfo_search(ni, "apply style", NULL, out, 3, NULL), 3);
    assert_string_equal(out[0]->name, "StyleApplyX");
    assert_string_equal(out[1]->name, "ApplyStyleX");
    assert_string_equal(out[2]->name, "OldStyleApply"); /* deprecated last */
    assert_true(nodeindex_is_core_module("nodes"));
    assert_true(nodeindex_is_core_module("comfy_extras.nodes_mask"));
    assert_false(nodeindex_is_core_module("custom_nodes.nodes"));
    assert_false(nodeindex_is_core_module(""));
    nodeinfo_unref(ni);
}

int main(void)
{
    const struct CMUnitTest fixture_tests[] = {
        cmocka_unit_test(two_words_find_the_node_meant),
        cmocka_unit_test(one_word_ranks_the_usual_node_high),
        cmocka_unit_test(misspellings_still_find_the_node),
        cmocka_unit_test(words_match_categories_descriptions_and_types),
        cmocka_unit_test(search_is_bounded_by_max_and_words),
        cmocka_unit_test(query_latency),
    };
    const struct CMUnitTest large_tests[] = {
        cmocka_unit_test(large_install_finds_custom_pack_nodes),
        cmocka_unit_test(large_install_keeps_core_nodes_on_top),
        cmocka_unit_test(large_install_keeps_every_odd_shape),
        cmocka_unit_test(large_install_category_filter_still_applies),
        cmocka_unit_test(query_latency),
    };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(core_nodes_win_ties),
    };
    int failed =
        cmocka_run_group_tests_name("nodeindex (fixture)", fixture_tests, setup_fixture, teardown);
    failed += cmocka_run_group_tests_name("nodeindex (large install)", large_tests, setup_large,
                                          teardown);
    failed += cmocka_run_group_tests_name("nodeindex", tests, NULL, NULL);
    return failed;
}
