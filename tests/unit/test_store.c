/* Unit tests for core/store: each test gets a fresh temporary directory
 * holding the database file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "log.h"
#include "store.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct fixture {
    char dir[64];
    char path[128];
    store *st;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/test_store.XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/comfyd.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->st);
    DIR *d = opendir(f->dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            char p[512];
            snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static fixture *opened(void **state)
{
    fixture *f = *state;
    assert_int_equal(store_open(&f->st, f->path), STORE_OK);
    assert_non_null(f->st);
    return f;
}

static void reopen(fixture *f)
{
    store_close(f->st);
    f->st = NULL;
    assert_int_equal(store_open(&f->st, f->path), STORE_OK);
}

static void add_session(store *st, const char *id, int64_t updated_ms)
{
    store_session s = {0};
    snprintf(s.id, sizeof s.id, "%s", id);
    s.title = "t";
    s.created_ms = updated_ms;
    s.updated_ms = updated_ms;
    assert_int_equal(store_session_insert(st, &s, NULL), STORE_OK);
}

static uint64_t add_message(store *st, const char *sid, store_role role, store_msg_state state,
                            const char *content, const char *client_id)
{
    store_message m = {0};
    snprintf(m.session_id, sizeof m.session_id, "%s", sid);
    m.role = role;
    m.state = state;
    m.content = (char *)content;
    m.client_id = (char *)client_id;
    m.created_ms = 5000;
    assert_int_equal(store_message_insert(st, &m), STORE_OK);
    assert_true(m.id > 0);
    return m.id;
}

/* A second, plain SQLite connection to look at what is on disk. */
static sqlite3 *raw_open(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                     SQLITE_OK);
    return db;
}

static int64_t raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = raw_open(path);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static uint32_t message_count(store *st, const char *sid)
{
    store_session s;
    assert_int_equal(store_session_get(st, sid, &s), STORE_OK);
    uint32_t n = s.message_count;
    store_session_clear(&s);
    return n;
}

/* ---- schema -------------------------------------------------------------- */

static void test_open_creates_schema_with_wal_private_file(void **state)
{
    fixture *f = opened(state);
    sqlite3 *db = raw_open(f->path);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), 7);
    assert_int_not_equal(raw_int(db, "PRAGMA application_id"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE name IN"
                                 " ('sessions', 'messages', 'sessions_by_updated',"
                                 " 'messages_by_session', 'messages_pending')"),
                     5);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM pragma_foreign_key_list('messages')"
                                 " WHERE \"table\" = 'sessions' AND on_delete = 'CASCADE'"),
                     1);
    sqlite3_close(db);
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 077, 0);
}

static void test_open_makes_existing_empty_file_private(void **state)
{
    fixture *f = *state;
    int fd = open(f->path, O_CREAT | O_WRONLY, 0644);
    assert_true(fd >= 0);
    fchmod(fd, 0644);
    close(fd);
    opened(state);
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
}

static void test_reopen_keeps_schema_version(void **state)
{
    fixture *f = opened(state);
    reopen(f);
    sqlite3 *db = raw_open(f->path);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), 7);
    sqlite3_close(db);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
}

static void test_garbage_file_gives_eschema_and_is_left_untouched(void **state)
{
    fixture *f = *state;
    unsigned char junk[8192];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (unsigned char)(x >> 16);
    }
    write_file(f->path, junk, sizeof junk);
    assert_int_equal(store_open(&f->st, f->path), STORE_ESCHEMA);
    assert_null(f->st);

    unsigned char back[sizeof junk + 1];
    FILE *fp = fopen(f->path, "rb");
    assert_non_null(fp);
    assert_int_equal(fread(back, 1, sizeof back, fp), sizeof junk);
    fclose(fp);
    assert_memory_equal(back, junk, sizeof junk);
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    assert_int_not_equal(access(wal, F_OK), 0);

    write_file(f->path, "hello world\n", 12); /* shorter than a header */
    assert_int_equal(store_open(&f->st, f->path), STORE_ESCHEMA);
    assert_null(f->st);
}

static void test_newer_schema_version_gives_eschema(void **state)
{
    fixture *f = opened(state);
    store_close(f->st);
    f->st = NULL;
    raw_exec(f->path, "PRAGMA user_version = 8");
    assert_int_equal(store_open(&f->st, f->path), STORE_ESCHEMA);
    assert_null(f->st);
}

static void test_other_applications_database_gives_eschema(void **state)
{
    fixture *f = *state;
    raw_exec(f->path, "CREATE TABLE notes(x TEXT)");
    assert_int_equal(store_open(&f->st, f->path), STORE_ESCHEMA);
    unlink(f->path);
    raw_exec(f->path, "PRAGMA application_id = 42");
    assert_int_equal(store_open(&f->st, f->path), STORE_ESCHEMA);
    assert_null(f->st);
}

static void test_open_bad_paths(void **state)
{
    fixture *f = *state;
    store *st = (store *)1;
    assert_int_equal(store_open(&st, ""), STORE_EINVAL);
    assert_null(st);
    assert_int_equal(store_open(&st, NULL), STORE_EINVAL);
    assert_int_equal(store_open(&st, ":memory:"), STORE_EINVAL);
    assert_int_equal(store_open(NULL, f->path), STORE_EINVAL);
    assert_int_equal(store_open(&st, f->dir), STORE_EIO); /* a directory */
    char missing[200];
    snprintf(missing, sizeof missing, "%s/no/such/dir.db", f->dir);
    assert_int_equal(store_open(&st, missing), STORE_EIO);
    assert_null(st);
}

/* ---- sessions ------------------------------------------------------------ */

static void test_session_insert_get_update_round_trip(void **state)
{
    fixture *f = opened(state);
    char *skills[] = {"planner", "graph-editor", "critic"};
    store_session s = {.id = "2b1e0c8e-1111-4a4a-9f9f-000000000001",
                       .title = "Portrait \xc3\xa9tude",
                       .provider = "openai",
                       .model = "gpt-x",
                       .base_url = "http://127.0.0.1:11434/v1",
                       .system_prompt = "Be brief.\nAlways.",
                       .skills = skills,
                       .n_skills = 3,
                       .token_delay_ms = 7,
                       .vision = 1,
                       .created_ms = 1000,
                       .updated_ms = 2000,
                       .seq_reserved = 11,
                       .prompt_tokens = 3,
                       .completion_tokens = 4};
    assert_int_equal(store_session_insert(f->st, &s, NULL), STORE_OK);
    assert_int_equal(store_session_insert(f->st, &s, NULL), STORE_CONFLICT);

    store_session g;
    assert_int_equal(store_session_get(f->st, s.id, &g), STORE_OK);
    assert_string_equal(g.id, s.id);
    assert_string_equal(g.title, s.title);
    assert_string_equal(g.provider, "openai");
    assert_string_equal(g.model, "gpt-x");
    assert_string_equal(g.base_url, s.base_url);
    assert_string_equal(g.system_prompt, s.system_prompt);
    assert_int_equal(g.n_skills, 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(g.skills[i], skills[i]);
    assert_int_equal(g.token_delay_ms, 7);
    assert_int_equal(g.vision, 1);
    assert_int_equal(g.api_key_set, 0);
    assert_int_equal(g.created_ms, 1000);
    assert_int_equal(g.updated_ms, 2000);
    assert_int_equal(g.seq_reserved, 11);
    assert_int_equal(g.prompt_tokens, 3);
    assert_int_equal(g.completion_tokens, 4);
    assert_int_equal(g.message_count, 0);
    store_session_clear(&g);

    add_message(f->st, s.id, STORE_ROLE_USER, STORE_MSG_DONE, "hi", NULL);
    add_message(f->st, s.id, STORE_ROLE_ASSISTANT, STORE_MSG_DONE, "hello", NULL);
    assert_int_equal(message_count(f->st, s.id), 2);

    store_session u = {
        .title = "Renamed", .model = "other", .token_delay_ms = 0, .vision = 2, .updated_ms = 9000};
    memcpy(u.id, s.id, sizeof u.id);
    u.vision = 3; /* no such mode */
    assert_int_equal(store_session_update(f->st, &u), STORE_EINVAL);
    u.vision = 2;
    assert_int_equal(store_session_update(f->st, &u), STORE_OK);
    assert_int_equal(store_session_get(f->st, s.id, &g), STORE_OK);
    assert_int_equal(g.vision, 2);
    assert_string_equal(g.title, "Renamed");
    assert_string_equal(g.provider, ""); /* NULL in means empty */
    assert_string_equal(g.model, "other");
    assert_string_equal(g.system_prompt, "");
    assert_int_equal(g.n_skills, 0);
    assert_null(g.skills);
    assert_int_equal(g.updated_ms, 9000);
    assert_int_equal(g.created_ms, 1000); /* not rewritten */
    assert_int_equal(g.seq_reserved, 11); /* not rewritten */
    assert_int_equal(g.message_count, 2);
    store_session_clear(&g);

    snprintf(u.id, sizeof u.id, "missing");
    assert_int_equal(store_session_update(f->st, &u), STORE_NOT_FOUND);
    assert_int_equal(store_session_get(f->st, "missing", &g), STORE_NOT_FOUND);
    assert_null(g.title);
}

static void test_session_invalid_arguments_are_rejected(void **state)
{
    fixture *f = opened(state);
    store_session s = {0};
    assert_int_equal(store_session_insert(f->st, &s, NULL), STORE_EINVAL); /* empty id */
    memset(s.id, 'a', sizeof s.id); /* no NUL within the field */
    assert_int_equal(store_session_insert(f->st, &s, NULL), STORE_EINVAL);
    snprintf(s.id, sizeof s.id, "ok");
    s.title = "bad \xff utf-8";
    assert_int_equal(store_session_insert(f->st, &s, NULL), STORE_EINVAL);
    s.title = NULL;
    char *bad_skill[] = {"two\nlines"};
    s.skills = bad_skill;
    s.n_skills = 1;
    assert_int_equal(store_session_insert(f->st, &s, NULL), STORE_EINVAL);
    char *empty_skill[] = {""};
    s.skills = empty_skill;
    assert_int_equal(store_session_insert(f->st, &s, NULL), STORE_EINVAL);
    s.skills = NULL;
    s.n_skills = STORE_SKILLS_MAX + 1;
    assert_int_equal(store_session_insert(f->st, &s, NULL), STORE_EINVAL);
    s.n_skills = 0;
    s.seq_reserved = (uint64_t)INT64_MAX + 1;
    assert_int_equal(store_session_insert(f->st, &s, NULL), STORE_EINVAL);
    s.seq_reserved = 0;
    assert_int_equal(store_session_insert(NULL, &s, NULL), STORE_EINVAL);
    char longid[STORE_ID_MAX + 2];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    assert_int_equal(store_session_delete(f->st, longid), STORE_EINVAL);

    /* Nothing above was written. */
    store_session *list = NULL;
    size_t n = 1;
    assert_int_equal(store_session_list_all(f->st, &list, &n), STORE_OK);
    assert_int_equal(n, 0);
    assert_null(list);
    assert_int_equal(store_session_insert(f->st, &s, NULL), STORE_OK);
}

static int contains(const store_session *s, const char *needle)
{
    const char *fields[] = {s->id, s->title, s->provider, s->model, s->base_url, s->system_prompt};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i] && strstr(fields[i], needle)) return 1;
    for (size_t i = 0; i < s->n_skills; i++)
        if (strstr(s->skills[i], needle)) return 1;
    return 0;
}

static void test_api_key_is_write_only(void **state)
{
    fixture *f = opened(state);
    const char *key = "sk-test-0123456789abcdef";
    store_session s = {.id = "k1", .title = "with key", .created_ms = 1, .updated_ms = 1};
    assert_int_equal(store_session_insert(f->st, &s, key), STORE_OK);

    store_session g;
    assert_int_equal(store_session_get(f->st, "k1", &g), STORE_OK);
    assert_int_equal(g.api_key_set, 1);
    assert_false(contains(&g, key));
    store_session_clear(&g);
    store_session *list = NULL;
    size_t n = 0;
    assert_int_equal(store_session_page(f->st, 0, NULL, 10, &list, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].api_key_set, 1);
    assert_false(contains(&list[0], key));
    store_sessions_free(list, n);

    char *got = NULL;
    assert_int_equal(store_session_get_api_key(f->st, "k1", &got), STORE_OK);
    assert_string_equal(got, key);
    free(got);

    assert_int_equal(store_session_set_api_key(f->st, "k1", "sk-other"), STORE_OK);
    assert_int_equal(store_session_get_api_key(f->st, "k1", &got), STORE_OK);
    assert_string_equal(got, "sk-other");
    free(got);

    assert_int_equal(store_session_set_api_key(f->st, "k1", NULL), STORE_OK);
    assert_int_equal(store_session_get_api_key(f->st, "k1", &got), STORE_OK);
    assert_null(got);
    assert_int_equal(store_session_get(f->st, "k1", &g), STORE_OK);
    assert_int_equal(g.api_key_set, 0);
    store_session_clear(&g);

    assert_int_equal(store_session_set_api_key(f->st, "k1", "sk-again"), STORE_OK);
    assert_int_equal(store_session_set_api_key(f->st, "k1", ""), STORE_OK); /* "" clears too */
    assert_int_equal(store_session_get_api_key(f->st, "k1", &got), STORE_OK);
    assert_null(got);

    assert_int_equal(store_session_set_api_key(f->st, "nope", "x"), STORE_NOT_FOUND);
    got = (char *)1;
    assert_int_equal(store_session_get_api_key(f->st, "nope", &got), STORE_NOT_FOUND);
    assert_null(got);

    char big[STORE_API_KEY_MAX + 2];
    memset(big, 'k', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(store_session_set_api_key(f->st, "k1", big), STORE_EINVAL);
}

static void test_api_key_never_reaches_the_log(void **state)
{
    fixture *f = *state;
    const char *key = "sk-secret-must-not-be-logged-42";
    char logpath[160];
    snprintf(logpath, sizeof logpath, "%s/log.txt", f->dir);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(logpath, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    log_set_level(LOG_DEBUG);

    int rc1 = store_open(&f->st, f->path);
    store_session s = {.id = "k1", .created_ms = 1, .updated_ms = 1};
    int rc2 = f->st ? store_session_insert(f->st, &s, key) : -100;
    int rc3 = f->st ? store_session_insert(f->st, &s, key) : -100; /* conflict, logged */
    int rc4 = f->st ? store_session_set_api_key(f->st, "k2", key) : -100;
    store_close(f->st);
    f->st = NULL;

    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    log_set_level(LOG_INFO);
    assert_int_equal(rc1, STORE_OK);
    assert_int_equal(rc2, STORE_OK);
    assert_int_equal(rc3, STORE_CONFLICT);
    assert_int_equal(rc4, STORE_NOT_FOUND);

    char buf[16384];
    FILE *fp = fopen(logpath, "rb");
    assert_non_null(fp);
    size_t len = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[len] = '\0';
    assert_non_null(strstr(buf, "store: ")); /* the capture worked */
    assert_non_null(strstr(buf, "UNIQUE constraint failed"));
    assert_null(strstr(buf, "sk-secret"));
}

static void test_session_page_covers_every_session_once_with_ties(void **state)
{
    fixture *f = opened(state);
    enum { N = 23 };
    /* Inserted out of order; updated_ms takes only three values. */
    for (int i = 0; i < N; i++) {
        int k = (i * 7) % N;
        char id[16];
        snprintf(id, sizeof id, "s%02d", k);
        add_session(f->st, id, 1000 + (k % 3) * 10);
    }
    const size_t sizes[] = {1, 4, 7, N, 100};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        int seen[N] = {0};
        size_t total = 0;
        int64_t last_upd = 0;
        char last_id[40] = "";
        int pages = 0;
        for (;;) {
            store_session *page = NULL;
            size_t n = 0;
            assert_int_equal(
                store_session_page(f->st, last_upd, total ? last_id : NULL, sizes[si], &page, &n),
                STORE_OK);
            assert_true(n <= sizes[si]);
            if (n == 0) {
                assert_null(page);
                break;
            }
            pages++;
            for (size_t i = 0; i < n; i++) {
                int k = atoi(page[i].id + 1);
                assert_true(k >= 0 && k < N);
                seen[k]++;
                if (total) { /* strictly after the previous one in (updated DESC, id DESC) */
                    assert_true(page[i].updated_ms < last_upd || (page[i].updated_ms == last_upd &&
                                                                  strcmp(page[i].id, last_id) < 0));
                }
                last_upd = page[i].updated_ms;
                snprintf(last_id, sizeof last_id, "%s", page[i].id);
                total++;
            }
            store_sessions_free(page, n);
        }
        assert_int_equal(total, N);
        for (int k = 0; k < N; k++)
            assert_int_equal(seen[k], 1);
        assert_int_equal(pages, (N + sizes[si] - 1) / sizes[si]);
    }

    store_session *all = NULL;
    size_t n = 0;
    assert_int_equal(store_session_list_all(f->st, &all, &n), STORE_OK);
    assert_int_equal(n, N);
    assert_int_equal(all[0].updated_ms, 1020);
    assert_string_equal(all[0].id, "s20");
    assert_string_equal(all[N - 1].id, "s00");
    store_sessions_free(all, n);

    store_session *page = (store_session *)1;
    assert_int_equal(store_session_page(f->st, 0, NULL, 0, &page, &n), STORE_OK);
    assert_int_equal(n, 0);
    assert_null(page);
}

/* Attachments are written with their message in one transaction, read
 * back in order, listed for GC, refused beyond the limit and removed with
 * their session. */
static void test_attachments_round_trip_and_cascade(void **state)
{
    fixture *f = opened(state);
    add_session(f->st, "a", 1);
    store_attachment at[2] = {0};
    memset(at[0].sha256, 'a', 64);
    snprintf(at[0].mime, sizeof at[0].mime, "image/png");
    at[0].name = "cat.png";
    at[0].size = 123;
    at[0].width = 4;
    at[0].height = 3;
    memset(at[1].sha256, 'b', 64);
    snprintf(at[1].mime, sizeof at[1].mime, "text/plain");
    at[1].size = 5;
    store_message m = {0};
    snprintf(m.session_id, sizeof m.session_id, "a");
    m.role = STORE_ROLE_USER;
    m.state = STORE_MSG_QUEUED;
    m.content = "look";
    assert_int_equal(store_message_insert_with(f->st, &m, at, 2), STORE_OK);
    store_attachment *got = NULL;
    size_t n = 0;
    assert_int_equal(store_attachments_load(f->st, m.id, &got, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(got[0].sha256, at[0].sha256);
    assert_string_equal(got[0].mime, "image/png");
    assert_string_equal(got[0].name, "cat.png");
    assert_int_equal(got[0].size, 123);
    assert_int_equal(got[0].width, 4);
    assert_int_equal(got[0].height, 3);
    assert_string_equal(got[1].name, "");
    store_attachments_free(got, n);
    char **h = NULL;
    assert_int_equal(store_attachment_hashes(f->st, &h, &n), STORE_OK);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++)
        free(h[i]);
    free(h);
    /* A bad reference: nothing is inserted, not even the message. */
    store_message m2 = m;
    m2.id = 0;
    m2.turn_id = 0;
    store_attachment bad = at[0];
    bad.sha256[10] = 0;
    assert_int_equal(store_message_insert_with(f->st, &m2, &bad, 1), STORE_EINVAL);
    assert_int_equal(message_count(f->st, "a"), 1);
    assert_int_equal(store_session_delete(f->st, "a"), STORE_OK);
    assert_int_equal(store_attachment_hashes(f->st, &h, &n), STORE_OK);
    assert_int_equal(n, 0);
}

static void test_session_delete_cascades_messages(void **state)
{
    fixture *f = opened(state);
    add_session(f->st, "a", 1);
    add_session(f->st, "b", 1);
    add_message(f->st, "a", STORE_ROLE_USER, STORE_MSG_DONE, "a1", "c1");
    add_message(f->st, "a", STORE_ROLE_ASSISTANT, STORE_MSG_DONE, "a2", NULL);
    add_message(f->st, "a", STORE_ROLE_USER, STORE_MSG_QUEUED, "a3", NULL);
    add_message(f->st, "b", STORE_ROLE_USER, STORE_MSG_DONE, "b1", "c1");

    assert_int_equal(store_session_delete(f->st, "a"), STORE_OK);
    assert_int_equal(store_session_delete(f->st, "a"), STORE_NOT_FOUND);
    store_session g;
    assert_int_equal(store_session_get(f->st, "a", &g), STORE_NOT_FOUND);

    sqlite3 *db = raw_open(f->path);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM messages WHERE session_id = 'a'"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM messages WHERE session_id = 'b'"), 1);
    sqlite3_close(db);

    store_message m;
    assert_int_equal(store_message_find_client_id(f->st, "a", "c1", &m), STORE_NOT_FOUND);
    store_message *q = NULL;
    size_t n = 9;
    assert_int_equal(store_messages_queued(f->st, &q, &n), STORE_OK);
    assert_int_equal(n, 0);

    /* A new session under the old id starts empty. */
    add_session(f->st, "a", 2);
    int trunc = 1;
    assert_int_equal(store_messages_load(f->st, "a", 10, &q, &n, &trunc), STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(trunc, 0);
    assert_int_equal(message_count(f->st, "b"), 1);
}

static void test_seq_reserved_and_usage_persist(void **state)
{
    fixture *f = opened(state);
    add_session(f->st, "s", 1);
    assert_int_equal(store_session_set_seq_reserved(f->st, "s", 4096), STORE_OK);
    assert_int_equal(store_session_add_usage(f->st, "s", 10, 5), STORE_OK);
    assert_int_equal(store_session_add_usage(f->st, "s", 10, 5), STORE_OK);
    assert_int_equal(store_session_set_seq_reserved(f->st, "x", 1), STORE_NOT_FOUND);
    assert_int_equal(store_session_add_usage(f->st, "x", 1, 1), STORE_NOT_FOUND);
    assert_int_equal(store_session_set_seq_reserved(f->st, "s", (uint64_t)INT64_MAX + 1),
                     STORE_EINVAL);
    assert_int_equal(store_session_add_usage(f->st, "s", (uint64_t)INT64_MAX + 1, 0), STORE_EINVAL);
    reopen(f);
    store_session g;
    assert_int_equal(store_session_get(f->st, "s", &g), STORE_OK);
    assert_int_equal(g.seq_reserved, 4096);
    assert_int_equal(g.prompt_tokens, 20);
    assert_int_equal(g.completion_tokens, 10);
    store_session_clear(&g);

    /* Sums saturate instead of wrapping. */
    assert_int_equal(store_session_add_usage(f->st, "s", INT64_MAX, 1), STORE_OK);
    assert_int_equal(store_session_add_usage(f->st, "s", INT64_MAX, 1), STORE_OK);
    assert_int_equal(store_session_get(f->st, "s", &g), STORE_OK);
    assert_int_equal(g.prompt_tokens, INT64_MAX);
    assert_int_equal(g.completion_tokens, 12);
    store_session_clear(&g);
}

/* ---- messages ------------------------------------------------------------ */

static void test_message_insert_assigns_ids_turns_and_bumps_session(void **state)
{
    fixture *f = opened(state);
    add_session(f->st, "s", 100);
    store_message u = {.session_id = "s",
                       .role = STORE_ROLE_USER,
                       .content = "draw a cat",
                       .state = STORE_MSG_RUNNING,
                       .created_ms = 7000,
                       .client_id = "cli-1"};
    assert_int_equal(store_message_insert(f->st, &u), STORE_OK);
    assert_true(u.id > 0);
    assert_int_equal(u.turn_id, u.id);

    store_message a = {.session_id = "s",
                       .role = STORE_ROLE_ASSISTANT,
                       .skill = "planner",
                       .content = "",
                       .state = STORE_MSG_RUNNING,
                       .turn_id = u.id};
    assert_int_equal(store_message_insert(f->st, &a), STORE_OK);
    assert_true(a.id > u.id);
    assert_int_equal(a.turn_id, u.id);
    assert_true(a.created_ms > 7000); /* 0 means now */

    store_session g;
    assert_int_equal(store_session_get(f->st, "s", &g), STORE_OK);
    assert_int_equal(g.updated_ms, a.created_ms);
    assert_int_equal(g.message_count, 2);
    store_session_clear(&g);

    /* An older timestamp (a clock step back) never moves updated_ms back. */
    store_message old = {.session_id = "s",
                         .role = STORE_ROLE_SYSTEM,
                         .content = "note",
                         .state = STORE_MSG_DONE,
                         .created_ms = 50};
    assert_int_equal(store_message_insert(f->st, &old), STORE_OK);
    assert_int_equal(old.turn_id, 0); /* only user messages start a turn */
    assert_int_equal(store_session_get(f->st, "s", &g), STORE_OK);
    assert_int_equal(g.updated_ms, a.created_ms);
    store_session_clear(&g);
    assert_int_equal(store_message_finish(f->st, old.id, STORE_MSG_DONE, NULL, NULL), STORE_OK);

    store_message m;
    assert_int_equal(store_message_find_client_id(f->st, "s", "cli-1", &m), STORE_OK);
    assert_int_equal(m.id, u.id);
    assert_int_equal(m.turn_id, u.id);
    assert_int_equal(m.role, STORE_ROLE_USER);
    assert_int_equal(m.state, STORE_MSG_RUNNING);
    assert_string_equal(m.content, "draw a cat");
    assert_string_equal(m.session_id, "s");
    assert_int_equal(m.created_ms, 7000);
    assert_null(m.skill);
    assert_null(m.error);
    store_message_clear(&m);
    assert_int_equal(store_message_find_client_id(f->st, "s", "cli-2", &m), STORE_NOT_FOUND);

    assert_int_equal(store_message_finish(f->st, a.id, STORE_MSG_DONE, "a cat", NULL), STORE_OK);
    assert_int_equal(store_message_finish(f->st, u.id, STORE_MSG_FAILED, NULL, "provider down"),
                     STORE_OK);
    assert_int_equal(store_message_finish(f->st, 999999, STORE_MSG_DONE, NULL, NULL),
                     STORE_NOT_FOUND);
    assert_int_equal(store_message_finish(f->st, a.id, 0, NULL, NULL), STORE_EINVAL);
    store_message *list = NULL;
    size_t n = 0;
    int trunc = 1;
    assert_int_equal(store_messages_load(f->st, "s", 2, &list, &n, &trunc), STORE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(trunc, 1);
    store_messages_free(list, n);
    assert_int_equal(store_messages_load(f->st, "s", 3, &list, &n, &trunc), STORE_OK);
    assert_int_equal(n, 3);
    assert_int_equal(list[2].id, old.id);
    assert_int_equal(list[0].state, STORE_MSG_FAILED);
    assert_string_equal(list[0].content, "draw a cat"); /* NULL content keeps it */
    assert_string_equal(list[0].error, "provider down");
    assert_int_equal(list[1].state, STORE_MSG_DONE);
    assert_string_equal(list[1].content, "a cat");
    assert_string_equal(list[1].skill, "planner");
    assert_null(list[1].error);
    store_messages_free(list, n);

    store_message x = {
        .session_id = "nope", .role = STORE_ROLE_USER, .content = "x", .state = STORE_MSG_QUEUED};
    assert_int_equal(store_message_insert(f->st, &x), STORE_NOT_FOUND);
    assert_int_equal(x.id, 0);
    x.content = NULL;
    snprintf(x.session_id, sizeof x.session_id, "s");
    assert_int_equal(store_message_insert(f->st, &x), STORE_EINVAL);
    x.content = "x";
    x.role = 4;
    assert_int_equal(store_message_insert(f->st, &x), STORE_EINVAL);
    x.role = STORE_ROLE_USER;
    x.state = 7;
    assert_int_equal(store_message_insert(f->st, &x), STORE_EINVAL);
    assert_int_equal(message_count(f->st, "s"), 3);
}

/* The end of a turn is one commit: every reply, the user message's state
 * and the usage land together, or (a step fails) nothing does. */
static void test_turn_end_writes_all_or_nothing(void **state)
{
    fixture *f = opened(state);
    add_session(f->st, "s", 100);
    store_message u = {
        .session_id = "s", .role = STORE_ROLE_USER, .content = "hi", .state = STORE_MSG_RUNNING};
    assert_int_equal(store_message_insert(f->st, &u), STORE_OK);
    store_message r[2] = {
        {.session_id = "s",
         .role = STORE_ROLE_ASSISTANT,
         .skill = "a",
         .content = "one",
         .state = STORE_MSG_DONE,
         .turn_id = u.id},
        {.session_id = "s",
         .role = STORE_ROLE_ASSISTANT,
         .skill = "b",
         .content = "",
         .state = STORE_MSG_FAILED,
         .error = "down",
         .turn_id = u.id},
    };
    /* A failing step (no such user message) rolls the replies back. */
    assert_int_equal(store_turn_end(f->st, "s", r, 2, 999999, STORE_MSG_DONE, 3, 4),
                     STORE_NOT_FOUND);
    assert_int_equal(r[0].id, 0);
    store_message *list = NULL;
    size_t n = 0;
    int trunc = 0;
    assert_int_equal(store_messages_load(f->st, "s", 10, &list, &n, &trunc), STORE_OK);
    assert_int_equal(n, 1);
    store_messages_free(list, n);
    store_session g;
    assert_int_equal(store_session_get(f->st, "s", &g), STORE_OK);
    assert_int_equal(g.prompt_tokens, 0);
    store_session_clear(&g);

    /* Bad arguments write nothing. */
    assert_int_equal(store_turn_end(f->st, "other", r, 2, u.id, STORE_MSG_DONE, 0, 0),
                     STORE_EINVAL);
    assert_int_equal(store_turn_end(f->st, "s", r, 2, 0, STORE_MSG_DONE, 0, 0), STORE_EINVAL);
    assert_int_equal(store_turn_end(f->st, "s", NULL, 1, u.id, STORE_MSG_DONE, 0, 0), STORE_EINVAL);
    assert_int_equal(store_turn_end(f->st, "s", r, 2, u.id, 99, 0, 0), STORE_EINVAL);

    assert_int_equal(store_turn_end(f->st, "s", r, 2, u.id, STORE_MSG_FAILED, 3, 4), STORE_OK);
    assert_true(r[0].id > u.id && r[1].id > r[0].id);
    assert_int_equal(r[1].turn_id, u.id);
    reopen(f);
    assert_int_equal(store_messages_load(f->st, "s", 10, &list, &n, &trunc), STORE_OK);
    assert_int_equal(n, 3);
    assert_int_equal(list[0].state, STORE_MSG_FAILED);
    assert_string_equal(list[1].content, "one");
    assert_int_equal(list[1].state, STORE_MSG_DONE);
    assert_string_equal(list[2].error, "down");
    store_messages_free(list, n);
    assert_int_equal(store_session_get(f->st, "s", &g), STORE_OK);
    assert_int_equal(g.prompt_tokens, 3);
    assert_int_equal(g.completion_tokens, 4);
    assert_int_equal(g.message_count, 3);
    store_session_clear(&g);

    /* No replies: the state alone (a cancelled turn of a deleted skill). */
    assert_int_equal(store_turn_end(f->st, "s", NULL, 0, u.id, STORE_MSG_CANCELLED, 0, 0),
                     STORE_OK);
    assert_int_equal(store_messages_load(f->st, "s", 10, &list, &n, &trunc), STORE_OK);
    assert_int_equal(list[0].state, STORE_MSG_CANCELLED);
    store_messages_free(list, n);
}

static void test_client_id_duplicate_conflicts_and_adds_nothing(void **state)
{
    fixture *f = opened(state);
    add_session(f->st, "s", 100);
    add_session(f->st, "t", 100);
    uint64_t first = add_message(f->st, "s", STORE_ROLE_USER, STORE_MSG_QUEUED, "one", "c-1");

    store_message dup = {.session_id = "s",
                         .role = STORE_ROLE_USER,
                         .content = "one again",
                         .state = STORE_MSG_QUEUED,
                         .created_ms = 99999,
                         .client_id = "c-1"};
    assert_int_equal(store_message_insert(f->st, &dup), STORE_CONFLICT);
    assert_int_equal(dup.id, 0);
    assert_int_equal(dup.turn_id, 0);
    assert_int_equal(message_count(f->st, "s"), 1);
    store_session g;
    assert_int_equal(store_session_get(f->st, "s", &g), STORE_OK);
    assert_int_equal(g.updated_ms, 5000); /* the bump was rolled back too */
    store_session_clear(&g);
    store_message m;
    assert_int_equal(store_message_find_client_id(f->st, "s", "c-1", &m), STORE_OK);
    assert_int_equal(m.id, first);
    assert_string_equal(m.content, "one");
    store_message_clear(&m);

    /* The same key in another session, and messages without keys, are fine. */
    add_message(f->st, "t", STORE_ROLE_USER, STORE_MSG_QUEUED, "other", "c-1");
    add_message(f->st, "s", STORE_ROLE_ASSISTANT, STORE_MSG_DONE, "a", NULL);
    add_message(f->st, "s", STORE_ROLE_ASSISTANT, STORE_MSG_DONE, "b", NULL);
    assert_int_equal(message_count(f->st, "s"), 3);

    /* Ids are never reused after a conflict. */
    uint64_t next = add_message(f->st, "s", STORE_ROLE_USER, STORE_MSG_QUEUED, "two", "c-2");
    assert_true(next > first);
}

static void test_history_load_returns_newest_n_oldest_first(void **state)
{
    fixture *f = opened(state);
    add_session(f->st, "s", 1);
    add_session(f->st, "other", 1);
    uint64_t ids[10];
    char text[16];
    for (int i = 0; i < 10; i++) {
        snprintf(text, sizeof text, "m%d", i);
        ids[i] = add_message(f->st, "s", i % 2 ? STORE_ROLE_ASSISTANT : STORE_ROLE_USER,
                             STORE_MSG_DONE, text, NULL);
        add_message(f->st, "other", STORE_ROLE_USER, STORE_MSG_DONE, "noise", NULL);
    }
    store_message *list = NULL;
    size_t n = 0;
    int trunc = 0;
    assert_int_equal(store_messages_load(f->st, "s", 3, &list, &n, &trunc), STORE_OK);
    assert_int_equal(n, 3);
    assert_int_equal(trunc, 1);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(list[i].id, ids[7 + i]);
        snprintf(text, sizeof text, "m%d", 7 + i);
        assert_string_equal(list[i].content, text);
    }
    store_messages_free(list, n);

    const size_t limits[] = {10, 11, SIZE_MAX};
    for (size_t k = 0; k < 3; k++) {
        assert_int_equal(store_messages_load(f->st, "s", limits[k], &list, &n, &trunc), STORE_OK);
        assert_int_equal(n, 10);
        assert_int_equal(trunc, 0);
        for (int i = 0; i < 10; i++)
            assert_int_equal(list[i].id, ids[i]);
        store_messages_free(list, n);
    }

    assert_int_equal(store_messages_load(f->st, "s", 0, &list, &n, &trunc), STORE_OK);
    assert_int_equal(n, 0);
    assert_null(list);
    assert_int_equal(trunc, 1);
    assert_int_equal(store_messages_load(f->st, "none", 5, &list, &n, &trunc), STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(trunc, 0);
}

static void test_recover_marks_running_only_and_queued_lists_in_id_order(void **state)
{
    fixture *f = opened(state);
    add_session(f->st, "a", 1);
    add_session(f->st, "b", 1);
    uint64_t a1 = add_message(f->st, "a", STORE_ROLE_USER, STORE_MSG_QUEUED, "a1", NULL);
    uint64_t b1 = add_message(f->st, "b", STORE_ROLE_USER, STORE_MSG_RUNNING, "b1", NULL);
    uint64_t b2 = add_message(f->st, "b", STORE_ROLE_ASSISTANT, STORE_MSG_RUNNING, "part", NULL);
    uint64_t b3 = add_message(f->st, "b", STORE_ROLE_USER, STORE_MSG_QUEUED, "b3", NULL);
    uint64_t a2 = add_message(f->st, "a", STORE_ROLE_USER, STORE_MSG_DONE, "a2", NULL);
    uint64_t a3 = add_message(f->st, "a", STORE_ROLE_USER, STORE_MSG_QUEUED, "a3", "k");
    uint64_t a4 = add_message(f->st, "a", STORE_ROLE_USER, STORE_MSG_CANCELLED, "a4", NULL);

    size_t changed = 99;
    assert_int_equal(store_recover_interrupted(f->st, "service restarted", &changed), STORE_OK);
    assert_int_equal(changed, 2);
    assert_int_equal(store_recover_interrupted(f->st, "again", &changed), STORE_OK);
    assert_int_equal(changed, 0);

    store_message *list = NULL;
    size_t n = 0;
    int trunc;
    assert_int_equal(store_messages_load(f->st, "b", 10, &list, &n, &trunc), STORE_OK);
    assert_int_equal(n, 3);
    assert_int_equal(list[0].id, b1);
    assert_int_equal(list[0].state, STORE_MSG_INTERRUPTED);
    assert_string_equal(list[0].error, "service restarted");
    assert_int_equal(list[1].id, b2);
    assert_int_equal(list[1].state, STORE_MSG_INTERRUPTED);
    assert_int_equal(list[2].id, b3);
    assert_int_equal(list[2].state, STORE_MSG_QUEUED);
    assert_null(list[2].error);
    store_messages_free(list, n);
    assert_int_equal(store_messages_load(f->st, "a", 10, &list, &n, &trunc), STORE_OK);
    assert_int_equal(n, 4);
    assert_int_equal(list[1].id, a2);
    assert_int_equal(list[1].state, STORE_MSG_DONE);
    assert_int_equal(list[3].id, a4);
    assert_int_equal(list[3].state, STORE_MSG_CANCELLED);
    store_messages_free(list, n);

    assert_int_equal(store_messages_queued(f->st, &list, &n), STORE_OK);
    assert_int_equal(n, 3);
    assert_int_equal(list[0].id, a1);
    assert_int_equal(list[1].id, b3);
    assert_string_equal(list[1].session_id, "b");
    assert_int_equal(list[2].id, a3);
    assert_string_equal(list[2].client_id, "k");
    assert_int_equal(list[2].turn_id, a3);
    store_messages_free(list, n);
}

static void test_data_survives_close_and_reopen(void **state)
{
    fixture *f = opened(state);
    char *skills[] = {"echo"};
    store_session s = {.id = "persist",
                       .title = "kept",
                       .skills = skills,
                       .n_skills = 1,
                       .created_ms = 5,
                       .updated_ms = 6};
    assert_int_equal(store_session_insert(f->st, &s, "sk-kept"), STORE_OK);
    uint64_t id = add_message(f->st, "persist", STORE_ROLE_USER, STORE_MSG_QUEUED, "later", "c9");
    reopen(f);
    reopen(f);

    store_session g;
    assert_int_equal(store_session_get(f->st, "persist", &g), STORE_OK);
    assert_string_equal(g.title, "kept");
    assert_int_equal(g.n_skills, 1);
    assert_string_equal(g.skills[0], "echo");
    assert_int_equal(g.api_key_set, 1);
    assert_int_equal(g.message_count, 1);
    assert_int_equal(g.updated_ms, 5000);
    store_session_clear(&g);
    char *key = NULL;
    assert_int_equal(store_session_get_api_key(f->st, "persist", &key), STORE_OK);
    assert_string_equal(key, "sk-kept");
    free(key);
    store_message m;
    assert_int_equal(store_message_find_client_id(f->st, "persist", "c9", &m), STORE_OK);
    assert_int_equal(m.id, id);
    assert_string_equal(m.content, "later");
    store_message_clear(&m);
    /* Ids keep rising after a reopen. */
    assert_true(add_message(f->st, "persist", STORE_ROLE_USER, STORE_MSG_DONE, "x", NULL) > id);
}

/* ---- concurrency and crashes --------------------------------------------- */

enum { THREADS = 4, PER_THREAD = 40 };

typedef struct worker {
    store *st;
    int index;
    int failures;
} worker;

static void *insert_worker(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        char cid[32], text[32];
        snprintf(cid, sizeof cid, "t%d-%d", w->index, i);
        snprintf(text, sizeof text, "from %d #%d", w->index, i);
        store_message m = {.session_id = "shared",
                           .role = STORE_ROLE_USER,
                           .state = STORE_MSG_DONE,
                           .content = text,
                           .client_id = cid,
                           .created_ms = 1000 + i};
        if (store_message_insert(w->st, &m) != STORE_OK || m.id == 0 || m.turn_id != m.id)
            w->failures++;
        if (i % 8 == 0 && store_session_add_usage(w->st, "shared", 1, 2) != STORE_OK) w->failures++;
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_concurrent_inserts_from_4_threads_all_land_with_unique_ids(void **state)
{
    fixture *f = opened(state);
    add_session(f->st, "shared", 1);
    pthread_t th[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){.st = f->st, .index = i};
        assert_int_equal(pthread_create(&th[i], NULL, insert_worker, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    store_message *list = NULL;
    size_t n = 0;
    int trunc = 1;
    assert_int_equal(store_messages_load(f->st, "shared", 1000, &list, &n, &trunc), STORE_OK);
    assert_int_equal(n, THREADS * PER_THREAD);
    assert_int_equal(trunc, 0);
    uint64_t ids[THREADS * PER_THREAD];
    for (size_t i = 0; i < n; i++)
        ids[i] = list[i].id;
    store_messages_free(list, n);
    qsort(ids, n, sizeof ids[0], cmp_u64);
    for (size_t i = 1; i < n; i++)
        assert_true(ids[i] > ids[i - 1]);

    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < PER_THREAD; i++) {
            char cid[32];
            snprintf(cid, sizeof cid, "t%d-%d", t, i);
            store_message m;
            assert_int_equal(store_message_find_client_id(f->st, "shared", cid, &m), STORE_OK);
            store_message_clear(&m);
        }
    }
    store_session g;
    assert_int_equal(store_session_get(f->st, "shared", &g), STORE_OK);
    assert_int_equal(g.prompt_tokens, THREADS * (PER_THREAD / 8));
    assert_int_equal(g.completion_tokens, 2 * THREADS * (PER_THREAD / 8));
    store_session_clear(&g);
}

/* Reachable from a global at _exit, so leak checkers in the child see no
 * lost block. */
static store *child_store;

/* Child: open its own connection, insert, report the id, then die without
 * closing anything, as kill -9 right after the acknowledgement would. */
static void child_insert_and_die(const char *path, int wfd, int use_sigkill)
{
    store_message m = {.session_id = "s",
                       .role = STORE_ROLE_USER,
                       .state = STORE_MSG_QUEUED,
                       .content = "acknowledged before the crash",
                       .client_id = "crash-1",
                       .created_ms = 4242};
    int rc = store_open(&child_store, path);
    if (rc == STORE_OK) rc = store_message_insert(child_store, &m);
    uint64_t id = rc == STORE_OK ? m.id : 0;
    if (write(wfd, &id, sizeof id) != (ssize_t)sizeof id) _exit(3);
    if (use_sigkill) raise(SIGKILL);
    _exit(rc == STORE_OK ? 0 : 1);
}

static void crash_after_ack(void **state, int use_sigkill)
{
    fixture *f = opened(state);
    add_session(f->st, "s", 1);
    /* A connection must not cross fork(): the parent closes first. */
    store_close(f->st);
    f->st = NULL;

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child_insert_and_die(f->path, fds[1], use_sigkill);
    }
    close(fds[1]);
    uint64_t id = 0;
    assert_int_equal(read(fds[0], &id, sizeof id), sizeof id);
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (use_sigkill) {
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
    } else {
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_true(id > 0);

    /* The row lives only in the WAL the child left behind. */
    char wal[160];
    struct stat sb;
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    assert_int_equal(stat(wal, &sb), 0);
    assert_true(sb.st_size > 0);

    assert_int_equal(store_open(&f->st, f->path), STORE_OK);
    store_message m;
    assert_int_equal(store_message_find_client_id(f->st, "s", "crash-1", &m), STORE_OK);
    assert_int_equal(m.id, id);
    assert_int_equal(m.turn_id, id);
    assert_string_equal(m.content, "acknowledged before the crash");
    store_message_clear(&m);
    store_message *q = NULL;
    size_t n = 0;
    assert_int_equal(store_messages_queued(f->st, &q, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(q[0].id, id);
    store_messages_free(q, n);
}

static void test_child_exit_without_close_after_ack_keeps_row(void **state)
{
    crash_after_ack(state, 0);
}

static void test_child_sigkill_after_ack_keeps_row(void **state)
{
    crash_after_ack(state, 1);
}

static void test_strerror_names_every_code(void **state)
{
    (void)state;
    const int codes[] = {STORE_OK,     STORE_NOT_FOUND, STORE_CONFLICT, STORE_EIO,
                         STORE_ENOMEM, STORE_ESCHEMA,   STORE_EINVAL};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        assert_non_null(store_strerror(codes[i]));
        assert_string_not_equal(store_strerror(codes[i]), "unknown error");
    }
    assert_string_equal(store_strerror(-999), "unknown error");
}

/* SQL that takes a version 7 database back to version 6 (no embeddings). */
#define DOWNGRADE_V6                                                                               \
    "DROP TRIGGER messages_emb_ai; DROP TRIGGER messages_emb_au; DROP TRIGGER messages_emb_ad;"    \
    " DROP TRIGGER memories_emb_ai; DROP TRIGGER memories_emb_ad; DROP TABLE embeddings;"          \
    " DROP TABLE embed_queue; PRAGMA user_version = 6;"
/* SQL that takes a version 7 database back to version 5 (no fork, revert
 * or checkpoints). */
#define DOWNGRADE_V5                                                                               \
    DOWNGRADE_V6 " DROP TABLE canvas_checkpoints; ALTER TABLE messages DROP COLUMN reverted_ms;"   \
                 " ALTER TABLE sessions DROP COLUMN parent_id; ALTER TABLE sessions DROP COLUMN "  \
                 "fork_point;"                                                                     \
                 " PRAGMA user_version = 5;"
/* SQL that takes a version 6 database back to version 4 (no memory). */
#define DOWNGRADE_V4                                                                               \
    DOWNGRADE_V5 " DROP TRIGGER messages_fts_ai; DROP TRIGGER messages_fts_au;"                    \
                 " DROP TRIGGER messages_fts_ad; DROP TRIGGER memories_fts_ai;"                    \
                 " DROP TRIGGER memories_fts_ad; DROP TABLE search_idx; DROP TABLE memories;"      \
                 " DROP INDEX messages_summaries;"                                                 \
                 " ALTER TABLE messages DROP COLUMN kind; ALTER TABLE messages DROP COLUMN"        \
                 " covers_to; ALTER TABLE sessions DROP COLUMN context_window;"                    \
                 " ALTER TABLE sessions DROP COLUMN archived; PRAGMA user_version = 4;"

/* A version 1 database (sessions only) gains the graph tables and keeps
 * its sessions. */
static void test_version_1_database_is_upgraded_in_place(void **state)
{
    fixture *f = opened(state);
    add_session(f->st, "s-old", 5);
    store_close(f->st);
    f->st = NULL;
    raw_exec(f->path, DOWNGRADE_V4
             "DROP TABLE counters; DROP TABLE idem_keys; DROP TABLE message_attachments;"
             " ALTER TABLE sessions DROP COLUMN vision; PRAGMA user_version = 1");
    assert_int_equal(store_open(&f->st, f->path), STORE_OK);
    store_session s = {0};
    assert_int_equal(store_session_get(f->st, "s-old", &s), STORE_OK);
    assert_int_equal(s.vision, 0); /* auto */
    store_session_clear(&s);
    assert_int_equal(store_counter_raise(f->st, "c", 7), STORE_OK);
    sqlite3 *db = raw_open(f->path);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), 7);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM message_attachments"), 0);
    sqlite3_close(db);
}

/* A version 4 database (no memory tables) is upgraded and its existing
 * messages become searchable. */
static void test_version_4_database_gains_search_over_old_messages(void **state)
{
    fixture *f = opened(state);
    add_session(f->st, "s-old", 5);
    add_message(f->st, "s-old", STORE_ROLE_USER, STORE_MSG_DONE, "an old zebra crossing", NULL);
    store_close(f->st);
    f->st = NULL;
    raw_exec(f->path, DOWNGRADE_V4);
    assert_int_equal(store_open(&f->st, f->path), STORE_OK);
    store_hit *h = NULL;
    size_t n = 0;
    assert_int_equal(store_search(f->st, "\"zebra\"", NULL, STORE_HIT_ALL, 10, &h, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(h[0].session_id, "s-old");
    store_hits_free(h, n);
}

/* Messages, summaries and memories are found by a word, best first, and
 * deleting a session removes its index entries and memories (a global
 * memory stays). */
static void test_search_memories_summaries_and_delete(void **state)
{
    fixture *f = opened(state);
    add_session(f->st, "a", 1);
    add_session(f->st, "b", 1);
    uint64_t m1 = add_message(f->st, "a", STORE_ROLE_USER, STORE_MSG_DONE,
                              "paint a lighthouse at dusk", NULL);
    add_message(f->st, "b", STORE_ROLE_USER, STORE_MSG_DONE, "a cat on a lighthouse lighthouse",
                NULL);
    store_message sm = {0};
    snprintf(sm.session_id, sizeof sm.session_id, "a");
    sm.role = STORE_ROLE_SYSTEM;
    sm.state = STORE_MSG_DONE;
    sm.kind = STORE_KIND_SUMMARY;
    sm.covers_to = m1;
    sm.content = "summary: the user wanted a lighthouse";
    assert_int_equal(store_message_insert(f->st, &sm), STORE_OK);
    uint64_t mem = 0, gmem = 0;
    assert_int_equal(store_memory_add(f->st, "a", "prefers lighthouse scenes", &mem), STORE_OK);
    assert_int_equal(store_memory_add(f->st, NULL, "global lighthouse fact", &gmem), STORE_OK);
    assert_int_equal(store_memory_add(f->st, "nope", "x", NULL), STORE_NOT_FOUND);
    assert_int_equal(store_memory_add(f->st, NULL, "", NULL), STORE_EINVAL);

    store_hit *h = NULL;
    size_t n = 0;
    assert_int_equal(store_search(f->st, "\"lighthouse\"", NULL, STORE_HIT_ALL, 10, &h, &n),
                     STORE_OK);
    assert_int_equal(n, 5);
    /* BM25: the message saying it twice in few words ranks first. */
    assert_string_equal(h[0].session_id, "b");
    assert_non_null(strstr(h[0].snippet, "[lighthouse]"));
    int kinds[3] = {0};
    for (size_t i = 0; i < n; i++) {
        kinds[h[i].kind]++;
        assert_true(i == 0 || h[i].score >= h[i - 1].score);
    }
    assert_int_equal(kinds[STORE_HIT_MESSAGE], 2);
    assert_int_equal(kinds[STORE_HIT_SUMMARY], 1);
    assert_int_equal(kinds[STORE_HIT_MEMORY], 2);
    store_hits_free(h, n);

    /* Only memories of session a. */
    assert_int_equal(store_search(f->st, "\"lighthouse\"", "a", 1u << STORE_HIT_MEMORY, 10, &h, &n),
                     STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(h[0].id, mem);
    store_hits_free(h, n);

    /* A malformed expression is EINVAL, not EIO. */
    assert_int_equal(store_search(f->st, "\"unclosed", NULL, STORE_HIT_ALL, 10, &h, &n),
                     STORE_EINVAL);

    store_message latest;
    assert_int_equal(store_summary_latest(f->st, "a", &latest), STORE_OK);
    assert_int_equal(latest.kind, STORE_KIND_SUMMARY);
    assert_int_equal(latest.covers_to, m1);
    store_message_clear(&latest);
    store_session g = {0};
    assert_int_equal(store_session_get(f->st, "a", &g), STORE_OK);
    assert_int_equal(g.compacted_to, m1);
    store_session_clear(&g);

    assert_int_equal(store_session_delete(f->st, "a"), STORE_OK);
    sqlite3 *db = raw_open(f->path);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM search_idx WHERE session_id = 'a'"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM memories"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM search_idx"), 2);
    sqlite3_close(db);
    assert_int_equal(store_search(f->st, "\"lighthouse\"", NULL, STORE_HIT_ALL, 10, &h, &n),
                     STORE_OK);
    assert_int_equal(n, 2);
    store_hits_free(h, n);
}

/* context_window and archived round-trip through insert and update. */
static void test_context_window_and_archived_round_trip(void **state)
{
    fixture *f = opened(state);
    store_session s = {0};
    snprintf(s.id, sizeof s.id, "w");
    s.context_window = 2048;
    s.created_ms = s.updated_ms = 1;
    assert_int_equal(store_session_insert(f->st, &s, NULL), STORE_OK);
    store_session g = {0};
    assert_int_equal(store_session_get(f->st, "w", &g), STORE_OK);
    assert_int_equal(g.context_window, 2048);
    assert_int_equal(g.archived, 0);
    store_session_clear(&g);
    s.context_window = 0;
    s.archived = 1;
    assert_int_equal(store_session_update(f->st, &s), STORE_OK);
    assert_int_equal(store_session_get(f->st, "w", &g), STORE_OK);
    assert_int_equal(g.context_window, 0);
    assert_int_equal(g.archived, 1);
    store_session_clear(&g);
    /* Messages after an id, newest n, oldest first. */
    uint64_t ids[5];
    for (int i = 0; i < 5; i++)
        ids[i] = add_message(f->st, "w", STORE_ROLE_USER, STORE_MSG_DONE, "m", NULL);
    store_message *list = NULL;
    size_t n = 0;
    int trunc = 0;
    assert_int_equal(store_messages_after(f->st, "w", ids[1], 2, &list, &n, &trunc), STORE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(trunc, 1);
    assert_int_equal(list[0].id, ids[3]);
    assert_int_equal(list[1].id, ids[4]);
    store_messages_free(list, n);
}

static void test_counters_only_rise_and_persist(void **state)
{
    fixture *f = opened(state);
    uint64_t v = 99;
    assert_int_equal(store_counter_get(f->st, "canvas_rev_reserved", &v), STORE_OK);
    assert_int_equal(v, 0);
    assert_int_equal(store_counter_raise(f->st, "canvas_rev_reserved", 1024), STORE_OK);
    assert_int_equal(store_counter_raise(f->st, "canvas_rev_reserved", 10), STORE_OK);
    assert_int_equal(store_counter_get(f->st, "canvas_rev_reserved", &v), STORE_OK);
    assert_int_equal(v, 1024);
    assert_int_equal(store_counter_raise(f->st, "canvas_rev_reserved", (uint64_t)INT64_MAX + 1),
                     STORE_EINVAL);
    reopen(f);
    assert_int_equal(store_counter_get(f->st, "canvas_rev_reserved", &v), STORE_OK);
    assert_int_equal(v, 1024);
}

static void put_idem(store *st, const char *scope, int64_t created, size_t resp_len)
{
    store_idem e = {0};
    e.scope = (char *)scope;
    e.scope_len = strlen(scope) + 1; /* scopes are bytes: a NUL inside is fine */
    memset(e.req_hash, scope[0], sizeof e.req_hash);
    e.err = 0;
    e.code = 9;
    e.message = resp_len ? NULL : "refused";
    uint8_t resp[64];
    memset(resp, 'r', sizeof resp);
    e.resp = resp_len ? resp : NULL;
    e.resp_len = resp_len;
    e.created_ms = created;
    assert_int_equal(store_idem_put(st, &e), STORE_OK);
}

static void test_idempotency_keys_persist_bounded_by_age_and_count(void **state)
{
    fixture *f = opened(state);
    put_idem(f->st, "a-old", 100, 10);
    put_idem(f->st, "b", 1000, 0);
    put_idem(f->st, "c", 2000, 64);
    put_idem(f->st, "d", 3000, 1);
    put_idem(f->st, "e", 4000, 2);
    assert_int_equal(store_idem_delete(f->st, "e", 2), STORE_OK);
    assert_int_equal(store_idem_delete(f->st, "nothing", 8), STORE_OK);
    reopen(f);
    store_idem *v = NULL;
    size_t n = 0;
    /* a-old is too old; of the rest only the newest 2 stay. */
    assert_int_equal(store_idem_load(f->st, 500, 2, &v, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].scope, "d");
    assert_int_equal(v[0].scope_len, 2);
    assert_int_equal(v[0].resp_len, 1);
    assert_int_equal(v[0].created_ms, 3000);
    assert_int_equal(v[0].code, 9);
    assert_int_equal(v[0].req_hash[31], 'd');
    assert_string_equal(v[1].scope, "c");
    assert_int_equal(v[1].resp_len, 64);
    assert_int_equal(v[1].resp[63], 'r');
    store_idems_free(v, n);
    /* The pruned rows are gone for good. */
    assert_int_equal(store_idem_load(f->st, 0, 100, &v, &n), STORE_OK);
    assert_int_equal(n, 2);
    store_idems_free(v, n);
    store_idem bad = {0};
    assert_int_equal(store_idem_put(f->st, &bad), STORE_EINVAL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_open_creates_schema_with_wal_private_file),
        T(test_open_makes_existing_empty_file_private),
        T(test_reopen_keeps_schema_version),
        T(test_garbage_file_gives_eschema_and_is_left_untouched),
        T(test_newer_schema_version_gives_eschema),
        T(test_other_applications_database_gives_eschema),
        T(test_open_bad_paths),
        T(test_session_insert_get_update_round_trip),
        T(test_session_invalid_arguments_are_rejected),
        T(test_api_key_is_write_only),
        T(test_api_key_never_reaches_the_log),
        T(test_session_page_covers_every_session_once_with_ties),
        T(test_session_delete_cascades_messages),
        T(test_attachments_round_trip_and_cascade),
        T(test_seq_reserved_and_usage_persist),
        T(test_message_insert_assigns_ids_turns_and_bumps_session),
        T(test_turn_end_writes_all_or_nothing),
        T(test_client_id_duplicate_conflicts_and_adds_nothing),
        T(test_history_load_returns_newest_n_oldest_first),
        T(test_recover_marks_running_only_and_queued_lists_in_id_order),
        T(test_data_survives_close_and_reopen),
        T(test_concurrent_inserts_from_4_threads_all_land_with_unique_ids),
        T(test_child_exit_without_close_after_ack_keeps_row),
        T(test_child_sigkill_after_ack_keeps_row),
        T(test_version_1_database_is_upgraded_in_place),
        T(test_version_4_database_gains_search_over_old_messages),
        T(test_search_memories_summaries_and_delete),
        T(test_context_window_and_archived_round_trip),
        T(test_counters_only_rise_and_persist),
        T(test_idempotency_keys_persist_bounded_by_age_and_count),
        cmocka_unit_test(test_strerror_names_every_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
