/* Unit tests for core/skills: SKILL.md parsing, every rejection reason, the
 * folder loader and the reference-counted registry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "skills.h"

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GOOD_HEAD "---\nname: my-skill\ndescription: Does one thing well.\n"

/* ---- helpers ----------------------------------------------------------- */

static int parse_str(const char *text, skill *s, char *err, size_t errlen)
{
    return skill_parse(text, strlen(text), "/x/my-skill", SKILL_SOURCE_USER, s, err, errlen);
}

/* Asserts that text is rejected with a one-line message containing frag. */
static void expect_reject_n(const char *text, size_t len, const char *frag)
{
    skill s;
    char err[256];
    memset(err, 'x', sizeof err);
    int rc = skill_parse(text, len, "/x/y", SKILL_SOURCE_USER, &s, err, sizeof err);
    if (rc != SKILLS_EPARSE || !strstr(err, frag)) {
        print_error("rc=%d err=\"%s\", expected fragment \"%s\"\n", rc, err, frag);
        fail();
    }
    assert_null(strchr(err, '\n'));
    assert_true(strlen(err) < sizeof err);
    /* A failed parse leaves nothing to free. */
    assert_null(s.name);
    assert_null(s.description);
    assert_null(s.instructions);
    assert_null(s.allowed_tools);
}

static void expect_reject(const char *text, const char *frag)
{
    expect_reject_n(text, strlen(text), frag);
}

static char tmp_root[64];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int make_tmp(void **state)
{
    (void)state;
    strcpy(tmp_root, "/tmp/comfyd-skills-XXXXXX");
    return mkdtemp(tmp_root) ? 0 : -1;
}

static int remove_tmp(void **state)
{
    (void)state;
    return nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void mkdirf(const char *fmt, ...)
{
    char p[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p, sizeof p, fmt, ap);
    va_end(ap);
    assert_int_equal(mkdir(p, 0755), 0);
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Writes ROOT/dir/SKILL.md with the given name and description. */
static void write_skill(const char *root, const char *dir, const char *name, const char *desc)
{
    char p[512], text[512];
    snprintf(p, sizeof p, "%s/%s", root, dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/%s/SKILL.md", root, dir);
    snprintf(text, sizeof text, "---\nname: %s\ndescription: %s\n---\nBody of %s.\n", name, desc,
             name);
    write_file(p, text, strlen(text));
}

static const skills_error *find_error(const skills *r, const char *path_suffix)
{
    size_t n = strlen(path_suffix);
    for (size_t i = 0; i < skills_error_count(r); i++) {
        const skills_error *e = skills_error_at(r, i);
        size_t pn = strlen(e->path);
        if (pn >= n && strcmp(e->path + pn - n, path_suffix) == 0) return e;
    }
    return NULL;
}

/* ---- parsing: accepted forms ------------------------------------------ */

static void parse_minimal_skill_fills_every_field(void **state)
{
    (void)state;
    skill s;
    char err[256];
    assert_int_equal(
        parse_str(GOOD_HEAD "---\n\n# Title\n\nDo the thing.\n\n", &s, err, sizeof err), SKILLS_OK);
    assert_string_equal(s.name, "my-skill");
    assert_string_equal(s.description, "Does one thing well.");
    assert_string_equal(s.instructions, "# Title\n\nDo the thing.");
    assert_string_equal(s.path, "/x/my-skill");
    assert_int_equal(s.source, SKILL_SOURCE_USER);
    assert_int_equal(s.n_allowed_tools, 0);
    skill_clear(&s);
    assert_null(s.name);
}

static void parse_keeps_indentation_of_the_first_body_line(void **state)
{
    (void)state;
    skill s;
    char err[256];
    assert_int_equal(parse_str(GOOD_HEAD "---\n \n\n    code block\ntext\n", &s, err, sizeof err),
                     SKILLS_OK);
    assert_string_equal(s.instructions, "    code block\ntext");
    skill_clear(&s);
}

static void parse_empty_body_gives_empty_instructions(void **state)
{
    (void)state;
    skill s;
    char err[256];
    assert_int_equal(parse_str(GOOD_HEAD "---", &s, err, sizeof err), SKILLS_OK);
    assert_string_equal(s.instructions, "");
    skill_clear(&s);
}

static void parse_allowed_tools_as_yaml_list(void **state)
{
    (void)state;
    skill s;
    char err[256];
    assert_int_equal(
        parse_str(GOOD_HEAD "allowed-tools:\n  - get_graph\n  - apply_patch\n  - get_graph\n---\n",
                  &s, err, sizeof err),
        SKILLS_OK);
    assert_int_equal(s.n_allowed_tools, 2); /* the repeat is dropped */
    assert_string_equal(s.allowed_tools[0], "get_graph");
    assert_string_equal(s.allowed_tools[1], "apply_patch");
    skill_clear(&s);
}

static void parse_allowed_tools_as_comma_and_space_string(void **state)
{
    (void)state;
    skill s;
    char err[256];
    assert_int_equal(parse_str(GOOD_HEAD
                               "allowed-tools: Read, Grep  get_graph,Bash(git add:*)\n---\n",
                               &s, err, sizeof err),
                     SKILLS_OK);
    assert_int_equal(s.n_allowed_tools, 4);
    assert_string_equal(s.allowed_tools[0], "Read");
    assert_string_equal(s.allowed_tools[1], "Grep");
    assert_string_equal(s.allowed_tools[2], "get_graph");
    assert_string_equal(s.allowed_tools[3], "Bash(git add:*)");
    skill_clear(&s);
}

static void parse_ignores_keys_of_other_tools(void **state)
{
    (void)state;
    skill s;
    char err[256];
    const char *t = "---\nlicense: MIT\nname: my-skill\nmodel: sonnet\nmetadata:\n  version: 2\n"
                    "  tags: [a, b]\ndescription: >\n  Folded\n  text.\n---\nx\n";
    assert_int_equal(parse_str(t, &s, err, sizeof err), SKILLS_OK);
    assert_string_equal(s.description, "Folded text.");
    skill_clear(&s);
}

static void parse_accepts_bom_and_crlf(void **state)
{
    (void)state;
    skill s;
    char err[256];
    const char *t = "\xEF\xBB\xBF---\r\nname: my-skill\r\ndescription: d\r\n---  \r\nLine\r\n";
    assert_int_equal(parse_str(t, &s, err, sizeof err), SKILLS_OK);
    assert_string_equal(s.name, "my-skill");
    assert_string_equal(s.description, "d");
    assert_string_equal(s.instructions, "Line");
    skill_clear(&s);
}

static void parse_name_of_exactly_64_characters_is_accepted(void **state)
{
    (void)state;
    char name[65], text[256];
    memset(name, 'a', 64);
    name[64] = 0;
    snprintf(text, sizeof text, "---\nname: %s\ndescription: d\n---\n", name);
    skill s;
    char err[256];
    assert_int_equal(parse_str(text, &s, err, sizeof err), SKILLS_OK);
    assert_string_equal(s.name, name);
    skill_clear(&s);
}

static void parse_description_limit_counts_characters_not_bytes(void **state)
{
    (void)state;
    /* 1024 two-byte characters: 2048 bytes but within the limit. */
    size_t cap = 64 + 2048 + 16;
    char *t = malloc(cap);
    assert_non_null(t);
    int n = snprintf(t, cap, "---\nname: a\ndescription: ");
    for (int i = 0; i < 1024; i++) {
        t[n++] = '\xC3';
        t[n++] = '\xA9';
    }
    strcpy(t + n, "\n---\n");
    skill s;
    char err[256];
    assert_int_equal(parse_str(t, &s, err, sizeof err), SKILLS_OK);
    assert_int_equal(strlen(s.description), 2048);
    skill_clear(&s);
    free(t);
}

static void parse_truncates_error_to_small_buffer(void **state)
{
    (void)state;
    skill s;
    char err[8];
    memset(err, 'x', sizeof err);
    assert_int_equal(parse_str("hello", &s, err, sizeof err), SKILLS_EPARSE);
    assert_int_equal(strlen(err), 7);
}

/* ---- parsing: every rejection reason ---------------------------------- */

static void reject_invalid_utf8(void **state)
{
    (void)state;
    expect_reject(GOOD_HEAD "---\nbad \xC3\x28 byte\n", "not valid UTF-8");
}

static void reject_nul_byte(void **state)
{
    (void)state;
    const char t[] = GOOD_HEAD "---\nnul\0here\n";
    expect_reject_n(t, sizeof t - 1, "not valid UTF-8");
}

static void reject_file_over_size_limit(void **state)
{
    (void)state;
    size_t len = SKILLS_MAX_FILE_BYTES + 1;
    char *t = malloc(len);
    assert_non_null(t);
    memset(t, 'a', len);
    memcpy(t, GOOD_HEAD "---\n", strlen(GOOD_HEAD "---\n"));
    expect_reject_n(t, len, "more than the limit of 262144");
    /* Exactly at the limit it parses. */
    skill s;
    char err[256];
    assert_int_equal(skill_parse(t, len - 1, "p", SKILL_SOURCE_USER, &s, err, sizeof err),
                     SKILLS_OK);
    skill_clear(&s);
    free(t);
}

static void reject_missing_front_matter(void **state)
{
    (void)state;
    expect_reject("# Just markdown\nname: x\n", "no front matter");
    expect_reject("\n---\nname: x\ndescription: d\n---\n", "no front matter");
    expect_reject("----\nname: x\n---\n", "no front matter");
}

static void reject_empty_file(void **state)
{
    (void)state;
    expect_reject("", "no front matter");
}

static void reject_unterminated_front_matter(void **state)
{
    (void)state;
    expect_reject(GOOD_HEAD "body without a closing line\n", "front matter: not closed");
    expect_reject("---", "front matter: not closed");
}

static void reject_yaml_syntax_error_with_problem_and_line(void **state)
{
    (void)state;
    /* Line 3 of the file is the front matter's second line. */
    expect_reject("---\nname: x\ndescription: a: b\n---\n",
                  "YAML error at line 3: mapping values are not allowed");
    expect_reject("---\nname: x\ndescription: \"open\n---\n", "YAML error at line");
    expect_reject("---\nname: [x\n---\n", "YAML error at line");
}

static void reject_front_matter_that_is_not_a_mapping(void **state)
{
    (void)state;
    expect_reject("---\n- name\n- description\n---\n", "must be a YAML mapping");
    expect_reject("---\njust a sentence\n---\n", "must be a YAML mapping");
}

static void reject_empty_front_matter(void **state)
{
    (void)state;
    expect_reject("---\n---\nbody\n", "front matter: empty");
    expect_reject("---\n# only a comment\n---\nbody\n", "front matter: empty");
}

static void reject_second_yaml_document(void **state)
{
    (void)state;
    expect_reject(GOOD_HEAD "--- [second, document]\n---\n", "more than one YAML document");
    /* After "..." only an explicit document may follow. */
    expect_reject(GOOD_HEAD "...\nname: other\n---\n", "YAML error at line 5");
}

static void reject_missing_name(void **state)
{
    (void)state;
    expect_reject("---\ndescription: d\n---\n", "front matter: missing 'name'");
}

static void reject_missing_description(void **state)
{
    (void)state;
    expect_reject("---\nname: a\n---\n", "front matter: missing 'description'");
}

static void reject_name_with_invalid_characters(void **state)
{
    (void)state;
    const char *frag = "front matter: 'name' must be lowercase letters, digits and hyphens";
    expect_reject("---\nname: My-Skill\ndescription: d\n---\n", frag);
    expect_reject("---\nname: my_skill\ndescription: d\n---\n", frag);
    expect_reject("---\nname: my skill\ndescription: d\n---\n", frag);
    expect_reject("---\nname: caf\xC3\xA9\ndescription: d\n---\n", frag);
}

static void reject_name_with_bad_hyphens(void **state)
{
    (void)state;
    const char *frag = "'name' must not start or end with a hyphen or contain '--'";
    expect_reject("---\nname: -abc\ndescription: d\n---\n", frag);
    expect_reject("---\nname: abc-\ndescription: d\n---\n", frag);
    expect_reject("---\nname: a--b\ndescription: d\n---\n", frag);
}

static void reject_name_too_long(void **state)
{
    (void)state;
    char name[66], text[256];
    memset(name, 'a', 65);
    name[65] = 0;
    snprintf(text, sizeof text, "---\nname: %s\ndescription: d\n---\n", name);
    expect_reject(text, "'name' is longer than 64 characters");
}

static void reject_empty_name(void **state)
{
    (void)state;
    expect_reject("---\nname: \"\"\ndescription: d\n---\n", "'name' is empty");
    expect_reject("---\nname:\ndescription: d\n---\n", "'name' is empty");
}

static void reject_name_that_is_not_a_string(void **state)
{
    (void)state;
    expect_reject("---\nname:\n  first: a\ndescription: d\n---\n", "'name' must be a string");
    expect_reject("---\nname: [a]\ndescription: d\n---\n", "'name' must be a string");
}

static void reject_empty_description(void **state)
{
    (void)state;
    expect_reject("---\nname: a\ndescription: \"  \"\n---\n", "'description' is empty");
    expect_reject("---\nname: a\ndescription:\n---\n", "'description' is empty");
}

static void reject_description_too_long(void **state)
{
    (void)state;
    char *t = malloc(2048);
    assert_non_null(t);
    int n = snprintf(t, 2048, "---\nname: a\ndescription: ");
    memset(t + n, 'd', 1025);
    strcpy(t + n + 1025, "\n---\n");
    expect_reject(t, "'description' is longer than 1024 characters");
    free(t);
}

static void reject_description_with_nul_escape(void **state)
{
    (void)state;
    expect_reject("---\nname: a\ndescription: \"x\\0y\"\n---\n", "'description' holds a NUL");
}

static void reject_description_that_is_not_a_string(void **state)
{
    (void)state;
    expect_reject("---\nname: a\ndescription:\n  - one\n---\n", "'description' must be a string");
}

static void reject_duplicate_keys(void **state)
{
    (void)state;
    expect_reject("---\nname: a\ndescription: d\nname: b\n---\n",
                  "front matter: duplicate key 'name'");
    /* Ignored keys must be unique too: YAML requires it. */
    expect_reject(GOOD_HEAD "license: MIT\nlicense: BSD\n---\n", "duplicate key 'license'");
}

static void reject_non_string_keys(void **state)
{
    (void)state;
    expect_reject(GOOD_HEAD "? [a, b]\n: c\n---\n", "keys must be plain strings");
}

static void reject_too_many_keys(void **state)
{
    (void)state;
    size_t cap = 64 + (SKILLS_MAX_KEYS + 1) * 16;
    char *t = malloc(cap);
    assert_non_null(t);
    size_t n = (size_t)snprintf(t, cap, "%s", GOOD_HEAD);
    for (int i = 0; i < SKILLS_MAX_KEYS; i++)
        n += (size_t)snprintf(t + n, cap - n, "k%d: v\n", i);
    snprintf(t + n, cap - n, "---\n");
    expect_reject(t, "more than 256 keys");
    free(t);
}

static void reject_allowed_tools_of_wrong_shape(void **state)
{
    (void)state;
    expect_reject(GOOD_HEAD "allowed-tools:\n  read: yes\n---\n",
                  "'allowed-tools' must be a list or a comma-separated string");
    expect_reject(GOOD_HEAD "allowed-tools:\n  - [a, b]\n---\n",
                  "'allowed-tools' entries must be strings");
    expect_reject(GOOD_HEAD "allowed-tools:\n  - \"\"\n---\n",
                  "'allowed-tools' has an empty entry");
}

static void reject_too_many_allowed_tools(void **state)
{
    (void)state;
    char t[2048];
    size_t n = (size_t)snprintf(t, sizeof t, "%sallowed-tools:", GOOD_HEAD);
    for (int i = 0; i <= SKILLS_MAX_TOOLS; i++)
        n += (size_t)snprintf(t + n, sizeof t - n, " t%d", i);
    snprintf(t + n, sizeof t - n, "\n---\n");
    expect_reject(t, "'allowed-tools' has more than 64 entries");
}

static void reject_allowed_tool_name_too_long(void **state)
{
    (void)state;
    char t[512];
    int n = snprintf(t, sizeof t, "%sallowed-tools: ", GOOD_HEAD);
    memset(t + n, 'x', SKILLS_MAX_TOOL_NAME + 1);
    strcpy(t + n + SKILLS_MAX_TOOL_NAME + 1, "\n---\n");
    expect_reject(t, "is longer than 128 bytes");
}

/* ---- loading folders ------------------------------------------------- */

static void builtin_skills_load_without_errors(void **state)
{
    (void)state;
    skills_root root = {COMFYD_SOURCE_DIR "/skills", SKILL_SOURCE_BUILTIN};
    skills *r;
    assert_int_equal(skills_load(&r, &root, 1), SKILLS_OK);
    for (size_t i = 0; i < skills_error_count(r); i++)
        print_error("%s: %s\n", skills_error_at(r, i)->path, skills_error_at(r, i)->message);
    assert_int_equal(skills_error_count(r), 0);
    assert_int_equal(skills_count(r), 3);
    assert_string_equal(skills_at(r, 0)->name, "graph-doctor");
    assert_string_equal(skills_at(r, 1)->name, "prompt-writer");
    assert_string_equal(skills_at(r, 2)->name, "workflow-builder");

    static const char *tools[] = {"get_graph",
                                  "search_node_types",
                                  "get_node_schema",
                                  "validate_patch",
                                  "apply_patch",
                                  "queue",
                                  "run",
                                  "get_run",
                                  "view_output"};
    const skill *wb = skills_find(r, "workflow-builder");
    assert_non_null(wb);
    for (size_t i = 0; i < 9; i++)
        assert_non_null(strstr(wb->instructions, tools[i]));
    assert_int_equal(wb->n_allowed_tools, 11); /* and remember, recall */
    assert_string_equal(wb->allowed_tools[9], "remember");
    assert_string_equal(wb->allowed_tools[10], "recall");

    /* The doctor is read-only; the prompt writer cannot queue. */
    const skill *gd = skills_find(r, "graph-doctor");
    assert_non_null(gd);
    assert_int_not_equal(gd->n_allowed_tools, 0);
    for (size_t i = 0; i < gd->n_allowed_tools; i++) {
        assert_string_not_equal(gd->allowed_tools[i], "apply_patch");
        assert_string_not_equal(gd->allowed_tools[i], "queue");
    }
    const skill *pw = skills_find(r, "prompt-writer");
    assert_non_null(pw);
    assert_int_not_equal(pw->n_allowed_tools, 0);
    for (size_t i = 0; i < pw->n_allowed_tools; i++)
        assert_string_not_equal(pw->allowed_tools[i], "queue");
    assert_non_null(strstr(pw->instructions, "set_widget"));
    assert_non_null(strstr(pw->instructions, "CLIPTextEncode"));

    for (size_t i = 0; i < skills_count(r); i++) {
        const skill *s = skills_at(r, i);
        assert_int_equal(s->source, SKILL_SOURCE_BUILTIN);
        assert_true(strlen(s->instructions) > 1000);
    }
    skills_unref(r);
}

static void load_records_errors_skips_bad_folders_and_sorts_by_name(void **state)
{
    (void)state;
    char a[256], b[256], p[512];
    snprintf(a, sizeof a, "%s/a", tmp_root);
    snprintf(b, sizeof b, "%s/b", tmp_root);
    mkdirf("%s", a);
    mkdirf("%s", b);
    /* Root a: folder order differs from name order. */
    write_skill(a, "1-zeta", "zeta", "Last by name.");
    write_skill(a, "2-alpha", "alpha", "First by name.");
    write_skill(a, "3-alpha-again", "alpha", "Same name later in the same root.");
    mkdirf("%s/4-broken", a);
    snprintf(p, sizeof p, "%s/4-broken/SKILL.md", a);
    const char *broken = "---\nname: Broken\ndescription: d\n---\n";
    write_file(p, broken, strlen(broken));
    mkdirf("%s/5-empty", a);
    mkdirf("%s/.hidden", a);
    snprintf(p, sizeof p, "%s/README.md", a);
    write_file(p, "not a skill", 11);
    mkdirf("%s/6-dir-as-file", a);
    mkdirf("%s/6-dir-as-file/SKILL.md", a);
    /* Root b: a duplicate of a's alpha and a new one. */
    write_skill(b, "alpha", "alpha", "Shadowed by root a.");
    write_skill(b, "beta", "beta", "Only here.");

    skills_root roots[] = {{a, SKILL_SOURCE_BUILTIN}, {b, SKILL_SOURCE_USER}};
    skills *r;
    assert_int_equal(skills_load(&r, roots, 2), SKILLS_OK);
    assert_int_equal(skills_count(r), 3);
    assert_string_equal(skills_at(r, 0)->name, "alpha");
    assert_string_equal(skills_at(r, 1)->name, "beta");
    assert_string_equal(skills_at(r, 2)->name, "zeta");
    assert_null(skills_at(r, 3));

    const skill *alpha = skills_find(r, "alpha");
    assert_non_null(alpha);
    assert_string_equal(alpha->description, "First by name.");
    assert_int_equal(alpha->source, SKILL_SOURCE_BUILTIN);
    snprintf(p, sizeof p, "%s/2-alpha", a);
    assert_string_equal(alpha->path, p);
    assert_int_equal(skills_find(r, "beta")->source, SKILL_SOURCE_USER);
    assert_null(skills_find(r, "gamma"));
    assert_null(skills_find(r, ""));

    assert_int_equal(skills_error_count(r), 5);
    const skills_error *e = find_error(r, "/3-alpha-again");
    assert_non_null(e);
    assert_non_null(strstr(e->message, "skill 'alpha' is already loaded from"));
    e = find_error(r, "/b/alpha");
    assert_non_null(e);
    assert_non_null(strstr(e->message, "already loaded"));
    e = find_error(r, "/4-broken");
    assert_non_null(e);
    assert_non_null(strstr(e->message, "'name' must be lowercase"));
    e = find_error(r, "/5-empty");
    assert_non_null(e);
    assert_non_null(strstr(e->message, "no SKILL.md"));
    e = find_error(r, "/6-dir-as-file");
    assert_non_null(e);
    assert_non_null(strstr(e->message, "not a regular file"));
    assert_null(skills_error_at(r, 5));
    for (size_t i = 0; i < skills_error_count(r); i++)
        assert_null(strchr(skills_error_at(r, i)->message, '\n'));
    skills_unref(r);
}

static void load_missing_root_is_an_error_entry(void **state)
{
    (void)state;
    char missing[256];
    snprintf(missing, sizeof missing, "%s/does-not-exist", tmp_root);
    skills_root roots[] = {{missing, SKILL_SOURCE_USER},
                           {COMFYD_SOURCE_DIR "/skills", SKILL_SOURCE_BUILTIN}};
    skills *r;
    assert_int_equal(skills_load(&r, roots, 2), SKILLS_OK);
    assert_int_equal(skills_count(r), 3);
    assert_int_equal(skills_error_count(r), 1);
    assert_string_equal(skills_error_at(r, 0)->path, missing);
    assert_non_null(strstr(skills_error_at(r, 0)->message, "does not exist"));
    skills_unref(r);
}

static void load_with_no_roots_gives_empty_registry(void **state)
{
    (void)state;
    skills *r;
    assert_int_equal(skills_load(&r, NULL, 0), SKILLS_OK);
    assert_int_equal(skills_count(r), 0);
    assert_int_equal(skills_error_count(r), 0);
    assert_null(skills_find(r, "x"));
    skills_unref(r);
}

static void load_does_not_hang_on_fifo_and_reports_oversize(void **state)
{
    (void)state;
    char p[512];
    mkdirf("%s/fifo", tmp_root);
    snprintf(p, sizeof p, "%s/fifo/SKILL.md", tmp_root);
    assert_int_equal(mkfifo(p, 0600), 0);
    mkdirf("%s/big", tmp_root);
    snprintf(p, sizeof p, "%s/big/SKILL.md", tmp_root);
    size_t len = SKILLS_MAX_FILE_BYTES + 4096;
    char *t = malloc(len);
    assert_non_null(t);
    memset(t, 'a', len);
    write_file(p, t, len);
    free(t);

    skills_root root = {tmp_root, SKILL_SOURCE_USER};
    skills *r;
    assert_int_equal(skills_load(&r, &root, 1), SKILLS_OK);
    assert_int_equal(skills_count(r), 0);
    assert_int_equal(skills_error_count(r), 2);
    assert_non_null(strstr(find_error(r, "/big")->message, "more than the limit"));
    assert_non_null(strstr(find_error(r, "/fifo")->message, "not a regular file"));
    skills_unref(r);
}

static void registry_lives_until_last_unref(void **state)
{
    (void)state;
    skills_root root = {COMFYD_SOURCE_DIR "/skills", SKILL_SOURCE_BUILTIN};
    skills *r;
    assert_int_equal(skills_load(&r, &root, 1), SKILLS_OK);
    skills_ref(r);
    skills_unref(r);
    /* Still held by the first reference: contents are intact. */
    assert_string_equal(skills_at(r, 0)->name, "graph-doctor");
    skills_unref(r); /* frees; valgrind proves nothing leaks */
    skills_ref(NULL);
    skills_unref(NULL);
}

#define REF_THREADS 4
#define REF_ROUNDS 20000

static void *ref_worker(void *arg)
{
    skills *r = arg;
    for (int i = 0; i < REF_ROUNDS; i++) {
        skills_ref(r);
        if (skills_count(r) != 3) return (void *)1;
        skills_unref(r);
    }
    return NULL;
}

static void registry_refcount_is_thread_safe(void **state)
{
    (void)state;
    skills_root root = {COMFYD_SOURCE_DIR "/skills", SKILL_SOURCE_BUILTIN};
    skills *r;
    assert_int_equal(skills_load(&r, &root, 1), SKILLS_OK);
    pthread_t th[REF_THREADS];
    for (int i = 0; i < REF_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, ref_worker, r), 0);
    for (int i = 0; i < REF_THREADS; i++) {
        void *res;
        assert_int_equal(pthread_join(th[i], &res), 0);
        assert_null(res);
    }
    assert_int_equal(skills_count(r), 3);
    skills_unref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_minimal_skill_fills_every_field),
        cmocka_unit_test(parse_keeps_indentation_of_the_first_body_line),
        cmocka_unit_test(parse_empty_body_gives_empty_instructions),
        cmocka_unit_test(parse_allowed_tools_as_yaml_list),
        cmocka_unit_test(parse_allowed_tools_as_comma_and_space_string),
        cmocka_unit_test(parse_ignores_keys_of_other_tools),
        cmocka_unit_test(parse_accepts_bom_and_crlf),
        cmocka_unit_test(parse_name_of_exactly_64_characters_is_accepted),
        cmocka_unit_test(parse_description_limit_counts_characters_not_bytes),
        cmocka_unit_test(parse_truncates_error_to_small_buffer),
        cmocka_unit_test(reject_invalid_utf8),
        cmocka_unit_test(reject_nul_byte),
        cmocka_unit_test(reject_file_over_size_limit),
        cmocka_unit_test(reject_missing_front_matter),
        cmocka_unit_test(reject_empty_file),
        cmocka_unit_test(reject_unterminated_front_matter),
        cmocka_unit_test(reject_yaml_syntax_error_with_problem_and_line),
        cmocka_unit_test(reject_front_matter_that_is_not_a_mapping),
        cmocka_unit_test(reject_empty_front_matter),
        cmocka_unit_test(reject_second_yaml_document),
        cmocka_unit_test(reject_missing_name),
        cmocka_unit_test(reject_missing_description),
        cmocka_unit_test(reject_name_with_invalid_characters),
        cmocka_unit_test(reject_name_with_bad_hyphens),
        cmocka_unit_test(reject_name_too_long),
        cmocka_unit_test(reject_empty_name),
        cmocka_unit_test(reject_name_that_is_not_a_string),
        cmocka_unit_test(reject_empty_description),
        cmocka_unit_test(reject_description_too_long),
        cmocka_unit_test(reject_description_with_nul_escape),
        cmocka_unit_test(reject_description_that_is_not_a_string),
        cmocka_unit_test(reject_duplicate_keys),
        cmocka_unit_test(reject_non_string_keys),
        cmocka_unit_test(reject_too_many_keys),
        cmocka_unit_test(reject_allowed_tools_of_wrong_shape),
        cmocka_unit_test(reject_too_many_allowed_tools),
        cmocka_unit_test(reject_allowed_tool_name_too_long),
        cmocka_unit_test(builtin_skills_load_without_errors),
        cmocka_unit_test_setup_teardown(load_records_errors_skips_bad_folders_and_sorts_by_name,
                                        make_tmp, remove_tmp),
        cmocka_unit_test_setup_teardown(load_missing_root_is_an_error_entry, make_tmp, remove_tmp),
        cmocka_unit_test(load_with_no_roots_gives_empty_registry),
        cmocka_unit_test_setup_teardown(load_does_not_hang_on_fifo_and_reports_oversize, make_tmp,
                                        remove_tmp),
        cmocka_unit_test(registry_lives_until_last_unref),
        cmocka_unit_test(registry_refcount_is_thread_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
