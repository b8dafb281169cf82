/* What the store contract tests share (test_store_fork.c, test_store_embed.c):
 * a fixture for each engine (a fresh SQLite file in a temporary folder, or
 * the PostgreSQL database named by COMFYD_TEST_PG; without it the
 * PostgreSQL cases skip) and rows to start from. Include after cmocka.h and
 * store.h. */
#ifndef COMFYD_TEST_STORE_ENGINES_H
#define COMFYD_TEST_STORE_ENGINES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fixture {
    char dir[64];
    char path[128];
    store *st;
} fixture;

static inline int setup_sqlite(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/comfyd_store_test.XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/comfyd.db", f->dir);
    if (store_open(&f->st, f->path) != STORE_OK) return -1;
    *state = f;
    return 0;
}

static inline int setup_pg(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    const char *u = getenv("COMFYD_TEST_PG");
    if (u && *u && store_open(&f->st, u) != STORE_OK) return -1;
    *state = f;
    return 0;
}

static inline int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->st);
    if (f->path[0]) {
        char p[160];
        const char *sfx[] = {"", "-wal", "-shm"};
        for (int i = 0; i < 3; i++) {
            snprintf(p, sizeof p, "%s%s", f->path, sfx[i]);
            unlink(p);
        }
        rmdir(f->dir);
    }
    free(f);
    return 0;
}

static inline store *need(void **state)
{
    fixture *f = *state;
    if (!f->st) skip();
    return f->st;
}

static inline void add_session(store *st, const char *id)
{
    char *skills[] = {"workflow-builder", "prompt-writer"};
    store_session s = {0};
    snprintf(s.id, sizeof s.id, "%s", id);
    s.title = "harbour";
    s.provider = "openai";
    s.model = "m1";
    s.base_url = "http://127.0.0.1:1/v1";
    s.system_prompt = "Be brief.";
    s.skills = skills;
    s.n_skills = 2;
    s.vision = 2;
    s.context_window = 4096;
    s.created_ms = s.updated_ms = 1000;
    assert_int_equal(store_session_insert(st, &s, "sk-secret"), STORE_OK);
}

static inline uint64_t add(store *st, const char *sid, store_role role, store_msg_state state,
                           uint64_t turn, const char *content)
{
    store_message m = {0};
    snprintf(m.session_id, sizeof m.session_id, "%s", sid);
    m.role = role;
    m.state = state;
    m.turn_id = turn;
    m.content = (char *)content;
    assert_int_equal(store_message_insert(st, &m), STORE_OK);
    return m.id;
}

#endif
