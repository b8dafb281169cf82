/* Unit tests for core/preview_policy: which of a skill's patches are
 * previewed under each policy, for every command kind, and the policy's
 * place in SKILL.md's front matter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "preview_policy.h"
#include "skills.h"

#define IF_SHOWN COMFYD__V1__APPLY_MODE__APPLY_MODE_PREVIEW_IF_SHOWN
#define APPLY COMFYD__V1__APPLY_MODE__APPLY_MODE_APPLY

/* One command of each kind; destructive ones marked. */
static const struct {
    Comfyd__V1__Command__CommandCase kind;
    int destructive;
} kinds[] = {
    {COMFYD__V1__COMMAND__COMMAND_CREATE_NODE, 0}, {COMFYD__V1__COMMAND__COMMAND_REMOVE_NODE, 1},
    {COMFYD__V1__COMMAND__COMMAND_CONNECT, 0},     {COMFYD__V1__COMMAND__COMMAND_DISCONNECT, 1},
    {COMFYD__V1__COMMAND__COMMAND_SET_WIDGET, 0},  {COMFYD__V1__COMMAND__COMMAND_MOVE_NODE, 0},
    {COMFYD__V1__COMMAND__COMMAND_CLEAR_GRAPH, 1}, {COMFYD__V1__COMMAND__COMMAND_GET_GRAPH, 0},
    {COMFYD__V1__COMMAND__COMMAND_ARRANGE, 0},     {COMFYD__V1__COMMAND__COMMAND_SET_NODE_MODE, 0},
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

static Comfyd__V1__Command cmd_of(Comfyd__V1__Command__CommandCase k)
{
    Comfyd__V1__Command c = COMFYD__V1__COMMAND__INIT;
    c.command_case = k;
    return c;
}

static void names_round_trip(void **state)
{
    (void)state;
    preview_policy p = PREVIEW_POLICY_AUTO;
    assert_int_equal(preview_policy_parse("auto", &p), 0);
    assert_int_equal(p, PREVIEW_POLICY_AUTO);
    assert_int_equal(preview_policy_parse("preview", &p), 0);
    assert_int_equal(p, PREVIEW_POLICY_PREVIEW);
    assert_int_equal(preview_policy_parse("confirm-destructive", &p), 0);
    assert_int_equal(p, PREVIEW_POLICY_CONFIRM_DESTRUCTIVE);
    for (int i = 0; i < 3; i++) {
        preview_policy q;
        assert_int_equal(preview_policy_parse(preview_policy_name((preview_policy)i), &q), 0);
        assert_int_equal(q, i);
    }
    p = PREVIEW_POLICY_PREVIEW;
    assert_int_equal(preview_policy_parse("Auto", &p), -1);
    assert_int_equal(preview_policy_parse("", &p), -1);
    assert_int_equal(preview_policy_parse(NULL, &p), -1);
    assert_int_equal(p, PREVIEW_POLICY_PREVIEW); /* unchanged */
    /* The default is the zero value: a zeroed skill has it. */
    assert_int_equal(PREVIEW_POLICY_DEFAULT, 0);
    assert_int_equal(PREVIEW_POLICY_DEFAULT, PREVIEW_POLICY_CONFIRM_DESTRUCTIVE);
}

static void every_kind_under_every_policy(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_KINDS; i++) {
        Comfyd__V1__Command c = cmd_of(kinds[i].kind);
        const Comfyd__V1__Command *one[1] = {&c};
        int read_only = kinds[i].kind == COMFYD__V1__COMMAND__COMMAND_GET_GRAPH;
        assert_int_equal(preview_cmd_destructive(&c), kinds[i].destructive);
        assert_int_equal(preview_policy_mode(PREVIEW_POLICY_AUTO, one, 1), APPLY);
        assert_int_equal(preview_policy_mode(PREVIEW_POLICY_PREVIEW, one, 1),
                         read_only ? APPLY : IF_SHOWN);
        assert_int_equal(preview_policy_mode(PREVIEW_POLICY_CONFIRM_DESTRUCTIVE, one, 1),
                         kinds[i].destructive ? IF_SHOWN : APPLY);
    }
}

static void one_destructive_command_makes_the_patch_confirmed(void **state)
{
    (void)state;
    Comfyd__V1__Command a = cmd_of(COMFYD__V1__COMMAND__COMMAND_CREATE_NODE);
    Comfyd__V1__Command b = cmd_of(COMFYD__V1__COMMAND__COMMAND_SET_WIDGET);
    Comfyd__V1__Command r = cmd_of(COMFYD__V1__COMMAND__COMMAND_DISCONNECT);
    const Comfyd__V1__Command *safe[2] = {&a, &b};
    const Comfyd__V1__Command *mixed[3] = {&a, &r, &b};
    assert_int_equal(preview_policy_mode(PREVIEW_POLICY_CONFIRM_DESTRUCTIVE, safe, 2), APPLY);
    assert_int_equal(preview_policy_mode(PREVIEW_POLICY_CONFIRM_DESTRUCTIVE, mixed, 3), IF_SHOWN);
    assert_int_equal(preview_policy_mode(PREVIEW_POLICY_AUTO, mixed, 3), APPLY);
    assert_int_equal(preview_policy_mode(PREVIEW_POLICY_PREVIEW, safe, 2), IF_SHOWN);
    assert_int_equal(preview_policy_mode(PREVIEW_POLICY_PREVIEW, NULL, 0), APPLY);
    assert_int_equal(preview_cmd_destructive(NULL), 0);
}

static void skill_front_matter(void **state)
{
    (void)state;
    const char *base = "---\nname: my-skill\ndescription: Does one thing well.\n";
    char text[512];
    skill s;
    char err[256];
    snprintf(text, sizeof text, "%s---\nbody\n", base);
    assert_int_equal(
        skill_parse(text, strlen(text), "/x/my-skill", SKILL_SOURCE_USER, &s, err, sizeof err),
        SKILLS_OK);
    assert_int_equal(s.preview, PREVIEW_POLICY_DEFAULT);
    skill_clear(&s);
    snprintf(text, sizeof text, "%spreview: auto\n---\nbody\n", base);
    assert_int_equal(
        skill_parse(text, strlen(text), "/x/my-skill", SKILL_SOURCE_USER, &s, err, sizeof err),
        SKILLS_OK);
    assert_int_equal(s.preview, PREVIEW_POLICY_AUTO);
    skill_clear(&s);
    snprintf(text, sizeof text, "%spreview: preview\n---\nbody\n", base);
    assert_int_equal(
        skill_parse(text, strlen(text), "/x/my-skill", SKILL_SOURCE_USER, &s, err, sizeof err),
        SKILLS_OK);
    assert_int_equal(s.preview, PREVIEW_POLICY_PREVIEW);
    skill_clear(&s);
    static const char *const bad[] = {"sometimes", "[auto]", "confirm-destructive-and-more-text"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(text, sizeof text, "%spreview: %s\n---\nbody\n", base, bad[i]);
        assert_int_equal(
            skill_parse(text, strlen(text), "/x/my-skill", SKILL_SOURCE_USER, &s, err, sizeof err),
            SKILLS_EPARSE);
        assert_non_null(strstr(err, "preview"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_round_trip),
        cmocka_unit_test(every_kind_under_every_policy),
        cmocka_unit_test(one_destructive_command_makes_the_patch_confirmed),
        cmocka_unit_test(skill_front_matter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
