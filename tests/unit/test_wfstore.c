/* Unit tests for core/wfstore: the name rules (nothing can leave the
 * directory), atomic saves, overwrite rules, loading and listing, in a
 * temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wfstore.h"

static char root[256];
static char dir[300];

static int setup(void **state)
{
    snprintf(root, sizeof root, "/tmp/test_wfstore.XXXXXX");
    if (!mkdtemp(root)) return -1;
    snprintf(dir, sizeof dir, "%s/workflows", root);
    wfstore *ws = NULL;
    char err[256];
    if (wfstore_open(&ws, dir, err, sizeof err) != WFSTORE_OK) return -1;
    *state = ws;
    return 0;
}

static int teardown(void **state)
{
    wfstore_close(*state);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static int name_ok(const char *name)
{
    char err[256] = "";
    return wfstore_check_name(name, err, sizeof err) == WFSTORE_OK;
}

/* Names of the directory's entries other than . and .., joined by '|'. */
static void dir_entries(char *out, size_t len)
{
    out[0] = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        strncat(out, de->d_name, len - strlen(out) - 1);
        strncat(out, "|", len - strlen(out) - 1);
    }
    closedir(d);
}

static void names_cannot_leave_the_directory(void **state)
{
    (void)state;
    assert_true(name_ok("txt2img"));
    assert_true(name_ok("My flow v2.1"));
    assert_true(name_ok("a-b_c.d"));
    char max[WFSTORE_MAX_NAME + 2];
    memset(max, 'x', WFSTORE_MAX_NAME);
    max[WFSTORE_MAX_NAME] = 0;
    assert_true(name_ok(max));

    assert_false(name_ok("../x"));
    assert_false(name_ok("/etc/passwd"));
    assert_false(name_ok("a/b"));
    assert_false(name_ok(".hidden"));
    assert_false(name_ok("."));
    assert_false(name_ok(".."));
    assert_false(name_ok("a..b"));
    assert_false(name_ok(""));
    assert_false(name_ok(NULL));
    max[WFSTORE_MAX_NAME] = 'x';
    max[WFSTORE_MAX_NAME + 1] = 0;
    assert_false(name_ok(max));
    assert_false(name_ok("caf\xc3\xa9"));              /* unicode letters */
    assert_false(name_ok("\xe5\xb7\xa5\xe4\xbd\x9c")); /* CJK */
    assert_false(name_ok("a\\b"));
    assert_false(name_ok("a\nb"));
    assert_false(name_ok("a:b"));
    assert_false(name_ok("a*"));
    /* Spaces at either end look like another name in every list. */
    assert_false(name_ok(" lead"));
    assert_false(name_ok("trail "));
    assert_false(name_ok(" "));
    assert_true(name_ok("in between"));
    char err[256] = "";
    assert_int_equal(wfstore_check_name("../x", err, sizeof err), WFSTORE_EINVAL);
    assert_non_null(strstr(err, "'.'"));
}

static void save_is_atomic_and_refuses_to_overwrite_unless_asked(void **state)
{
    wfstore *ws = *state;
    char err[256] = "";
    const char a[] = "{\"nodes\": [], \"v\": 1}";
    const char b[] = "{\"nodes\": [], \"v\": 2}";
    assert_int_equal(wfstore_save(ws, "flow", a, strlen(a), 0, err, sizeof err), WFSTORE_OK);
    char ents[1024];
    dir_entries(ents, sizeof ents);
    assert_string_equal(ents, "flow.json|"); /* no temporary file is left */
    struct stat st;
    char path[400];
    snprintf(path, sizeof path, "%s/flow.json", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    assert_int_equal(wfstore_save(ws, "flow", b, strlen(b), 0, err, sizeof err), WFSTORE_EEXIST);
    char *json = NULL;
    size_t len = 0;
    assert_int_equal(wfstore_load(ws, "flow", &json, &len, err, sizeof err), WFSTORE_OK);
    assert_string_equal(json, a); /* untouched */
    free(json);
    dir_entries(ents, sizeof ents);
    assert_string_equal(ents, "flow.json|");

    assert_int_equal(wfstore_save(ws, "flow", b, strlen(b), 1, err, sizeof err), WFSTORE_OK);
    assert_int_equal(wfstore_load(ws, "flow", &json, &len, err, sizeof err), WFSTORE_OK);
    assert_int_equal(len, strlen(b));
    assert_string_equal(json, b);
    free(json);

    assert_int_equal(wfstore_save(ws, "../x", a, strlen(a), 1, err, sizeof err), WFSTORE_EINVAL);
    snprintf(path, sizeof path, "%s/x.json", root);
    assert_int_not_equal(access(path, F_OK), 0);
}

static void a_crash_before_rename_leaves_the_old_file_and_an_invisible_temp(void **state)
{
    wfstore *ws = *state;
    char err[256] = "";
    const char a[] = "{\"old\": true}";
    assert_int_equal(wfstore_save(ws, "keep", a, strlen(a), 0, err, sizeof err), WFSTORE_OK);
    /* What an interrupted save leaves: a temporary file beside it. */
    char path[400];
    snprintf(path, sizeof path, "%s/.keep.json.0123.tmp", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"half", f);
    fclose(f);
    char *json = NULL;
    size_t len = 0;
    assert_int_equal(wfstore_load(ws, "keep", &json, &len, err, sizeof err), WFSTORE_OK);
    assert_string_equal(json, a);
    free(json);
    wfstore_entry *v = NULL;
    size_t n = 0;
    int trunc = -1;
    assert_int_equal(wfstore_list(ws, &v, &n, &trunc), WFSTORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].name, "keep");
    assert_int_equal(trunc, 0);
    wfstore_entries_free(v, n);
}

static void load_refuses_missing_names_and_symlinks(void **state)
{
    wfstore *ws = *state;
    char err[256] = "";
    char *json = (char *)1;
    size_t len = 0;
    assert_int_equal(wfstore_load(ws, "nothing", &json, &len, err, sizeof err), WFSTORE_ENOENT);
    assert_null(json);
    assert_non_null(strstr(err, "nothing"));
    assert_int_equal(wfstore_load(ws, "/etc/passwd", &json, &len, err, sizeof err), WFSTORE_EINVAL);
    char path[400];
    snprintf(path, sizeof path, "%s/link.json", dir);
    assert_int_equal(symlink("/etc/passwd", path), 0);
    /* Not found (it is not a stored workflow, and listing skips it), said
     * plainly, without the server's path. */
    err[0] = 0;
    assert_int_equal(wfstore_load(ws, "link", &json, &len, err, sizeof err), WFSTORE_ENOENT);
    assert_null(json);
    assert_non_null(strstr(err, "symbolic link"));
    assert_null(strstr(err, root));
    assert_null(strstr(err, "/"));
    /* A directory under a workflow's name: the same. */
    snprintf(path, sizeof path, "%s/dir.json", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    err[0] = 0;
    assert_int_equal(wfstore_load(ws, "dir", &json, &len, err, sizeof err), WFSTORE_ENOENT);
    assert_null(strstr(err, root));
    /* Saving over the symlink without overwrite is refused too. */
    assert_int_equal(wfstore_save(ws, "link", "{}", 2, 0, err, sizeof err), WFSTORE_EEXIST);
}

static void touch(const char *name)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"half", f);
    fclose(f);
}

/* What kill -9 during saves leaves behind goes at the next start; nothing
 * else in the directory is touched. */
static void open_removes_temporary_files_of_interrupted_saves(void **state)
{
    wfstore *ws = *state;
    char err[256] = "";
    assert_int_equal(wfstore_save(ws, "keep", "{}", 2, 0, err, sizeof err), WFSTORE_OK);
    touch(".keep.json.7d0f4a52-2c7e-4d4b-9a41-2f6c1f0e8b11.tmp");
    touch(".other name.json.0123.tmp");
    touch(".hidden");
    touch("notes.tmp");
    touch(".x.json.not-hex!.tmp");
    char path[400];
    snprintf(path, sizeof path, "%s/.dir.json.abcd.tmp", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    wfstore_close(ws);
    *state = NULL;
    size_t removed = 99;
    assert_int_equal(wfstore_open(&ws, dir, err, sizeof err), WFSTORE_OK);
    *state = ws;
    removed = wfstore_cleaned(ws);
    assert_int_equal(removed, 2);
    snprintf(path, sizeof path, "%s/.keep.json.7d0f4a52-2c7e-4d4b-9a41-2f6c1f0e8b11.tmp", dir);
    assert_int_not_equal(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/.other name.json.0123.tmp", dir);
    assert_int_not_equal(access(path, F_OK), 0);
    const char *kept[] = {"keep.json", ".hidden", "notes.tmp", ".x.json.not-hex!.tmp",
                          ".dir.json.abcd.tmp"};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, kept[i]);
        assert_int_equal(access(path, F_OK), 0);
    }
}

static void list_shows_valid_workflows_sorted_with_sizes(void **state)
{
    wfstore *ws = *state;
    char err[256] = "";
    assert_int_equal(wfstore_save(ws, "b flow", "{}", 2, 0, err, sizeof err), WFSTORE_OK);
    assert_int_equal(wfstore_save(ws, "a", "{\"x\":1}", 7, 0, err, sizeof err), WFSTORE_OK);
    char path[400];
    snprintf(path, sizeof path, "%s/not-json.txt", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(path, sizeof path, "%s/sub.json", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    wfstore_entry *v = NULL;
    size_t n = 0;
    assert_int_equal(wfstore_list(ws, &v, &n, NULL), WFSTORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].name, "a");
    assert_int_equal(v[0].bytes, 7);
    assert_true(v[0].modified_at_ms > 0);
    assert_string_equal(v[1].name, "b flow");
    assert_int_equal(v[1].bytes, 2);
    wfstore_entries_free(v, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(names_cannot_leave_the_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(save_is_atomic_and_refuses_to_overwrite_unless_asked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            a_crash_before_rename_leaves_the_old_file_and_an_invisible_temp, setup, teardown),
        cmocka_unit_test_setup_teardown(load_refuses_missing_names_and_symlinks, setup, teardown),
        cmocka_unit_test_setup_teardown(open_removes_temporary_files_of_interrupted_saves, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(list_shows_valid_workflows_sorted_with_sizes, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
