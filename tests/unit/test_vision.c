/* vision: the session config's modes and the model-name heuristic of auto. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vision.h"

static void modes_parse_and_print(void **state)
{
    (void)state;
    assert_int_equal(vision_mode_parse(NULL), VISION_AUTO);
    assert_int_equal(vision_mode_parse(""), VISION_AUTO);
    assert_int_equal(vision_mode_parse("auto"), VISION_AUTO);
    assert_int_equal(vision_mode_parse("on"), VISION_ON);
    assert_int_equal(vision_mode_parse("off"), VISION_OFF);
    assert_int_equal(vision_mode_parse("ON"), -1);
    assert_int_equal(vision_mode_parse("yes"), -1);
    assert_int_equal(vision_mode_parse("on "), -1);
    assert_string_equal(vision_mode_name(VISION_AUTO), "auto");
    assert_string_equal(vision_mode_name(VISION_ON), "on");
    assert_string_equal(vision_mode_name(VISION_OFF), "off");
    assert_string_equal(vision_mode_name(99), "auto");
}

static void auto_knows_vision_models_by_name(void **state)
{
    (void)state;
    const char *yes[] = {"gpt-4o",         "gpt-4o-mini",       "openai/gpt-4.1",
                         "GPT-5",          "claude-3-5-sonnet", "anthropic/claude-sonnet-4",
                         "gemini-2.5-pro", "llava:13b",         "llama3.2-vision:11b",
                         "qwen2.5-vl-7b",  "Qwen/Qwen2-VL-7B",  "gemma3:4b",
                         "pixtral-12b",    "minicpm-v",         "mistral-small-3.1"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        assert_true(vision_model_capable(yes[i]));
    const char *no[] = {"",           "gpt-3.5-turbo", "llama3:8b", "qwen2.5-coder:7b",
                        "mistral-7b", "deepseek-r1",   "phi3",      "fake",
                        "agent-loop"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        assert_false(vision_model_capable(no[i]));
    assert_false(vision_model_capable(NULL));
}

static void enabled_follows_mode_provider_and_model(void **state)
{
    (void)state;
    assert_true(vision_enabled(VISION_ON, "openai", "llama3:8b"));
    assert_false(vision_enabled(VISION_OFF, "openai", "gpt-4o"));
    assert_true(vision_enabled(VISION_AUTO, "openai", "gpt-4o"));
    assert_false(vision_enabled(VISION_AUTO, "openai", "llama3:8b"));
    /* The echo provider has nothing to look with, whatever the mode. */
    assert_false(vision_enabled(VISION_ON, "echo", "gpt-4o"));
    assert_false(vision_enabled(VISION_ON, "", "gpt-4o"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(modes_parse_and_print),
        cmocka_unit_test(auto_knows_vision_models_by_name),
        cmocka_unit_test(enabled_follows_mode_provider_and_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
