/* Unit tests for the store's embeddings (store.h: the queue the triggers
 * fill, vectors, the scan's filters, hits by entry), the same contract on
 * both engines: on SQLite always (a temp file), and on PostgreSQL when
 * COMFYD_TEST_PG names a database (tests/postgres/run.sh sets it; skipped
 * otherwise). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "log.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_engines.h"

/* The queued entries among want[0..n) (other tests may share a PostgreSQL
 * database: only ours are looked at). */
static size_t queued_of(store *st, const uint64_t *want, size_t n, int64_t now)
{
    store_embed_job *j = NULL;
    size_t nj = 0, found = 0;
    assert_int_equal(store_embed_next(st, now, 1024, &j, &nj), STORE_OK);
    for (size_t i = 0; i < nj; i++)
        for (size_t k = 0; k < n; k++)
            if (j[i].entry == want[k]) found++;
    store_embed_jobs_free(j, nj);
    return found;
}

typedef struct seen {
    uint64_t entries[64];
    float first[64];
    size_t n;
} seen;

static void on_vec(void *ud, uint64_t entry, const float *v)
{
    seen *s = ud;
    if (s->n < 64) {
        s->entries[s->n] = entry;
        s->first[s->n++] = v[0];
    }
}

static int has(const seen *s, uint64_t e)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->entries[i] == e) return 1;
    return 0;
}

static void check_embeddings(store *st, const char *a, const char *b)
{
    add_session(st, a);
    add_session(st, b);
    uint64_t m1 = add(st, a, STORE_ROLE_USER, STORE_MSG_DONE, 0, "a crimson automobile");
    uint64_t m2 = add(st, a, STORE_ROLE_ASSISTANT, STORE_MSG_DONE, m1, "noted");
    uint64_t m3 = add(st, b, STORE_ROLE_USER, STORE_MSG_DONE, 0, "a puppy in the woods");
    uint64_t empty = add(st, b, STORE_ROLE_ASSISTANT, STORE_MSG_RUNNING, m3, "");
    uint64_t mem = 0;
    assert_int_equal(store_memory_add(st, a, "likes red cars", &mem), STORE_OK);
    uint64_t e[5] = {m1 * 2, m2 * 2, m3 * 2, mem * 2 + 1, empty * 2};
    /* The triggers queued every entry with text, not the empty reply. */
    assert_int_equal(queued_of(st, e, 4, INT64_MAX / 2), 4);
    assert_int_equal(queued_of(st, e + 4, 1, INT64_MAX / 2), 0);
    /* A job carries the entry's text. */
    store_embed_job *j = NULL;
    size_t nj = 0;
    assert_int_equal(store_embed_next(st, INT64_MAX / 2, 1024, &j, &nj), STORE_OK);
    int texts = 0;
    for (size_t i = 0; i < nj; i++) {
        if (j[i].entry == m1 * 2) texts += !strcmp(j[i].text, "a crimson automobile");
        if (j[i].entry == mem * 2 + 1) texts += !strcmp(j[i].text, "likes red cars");
    }
    store_embed_jobs_free(j, nj);
    assert_int_equal(texts, 2);
    /* A failure: not due until next_ms. */
    assert_int_equal(store_embed_retry(st, e, 1, 5000), STORE_OK);
    assert_int_equal(queued_of(st, e, 1, 4999), 0);
    assert_int_equal(queued_of(st, e, 1, 5000), 1);
    /* Vectors: stored entries leave the queue. */
    float v[4] = {1, 0, 0, 0}, w[4] = {0, 1, 0, 0};
    for (int i = 0; i < 4; i++)
        assert_int_equal(store_embed_put(st, e[i], "m", i == 2 ? w : v, 4), STORE_OK);
    assert_int_equal(queued_of(st, e, 4, INT64_MAX / 2), 0);
    assert_int_equal(store_embed_put(st, 999999999998ull, "m", v, 4), STORE_NOT_FOUND);
    assert_int_equal(store_embed_put(st, e[0], "", v, 4), STORE_EINVAL);
    assert_int_equal(store_embed_put(st, e[0], "m", v, 0), STORE_EINVAL);
    /* The scan filters: kinds, session, model and dimension. */
    seen s = {0};
    assert_int_equal(store_embed_scan(st, "m", 4, a, STORE_HIT_ALL, 100, on_vec, &s), STORE_OK);
    assert_int_equal(s.n, 3);
    assert_true(has(&s, e[0]) && has(&s, e[1]) && has(&s, e[3]));
    assert_true(s.entries[0] > s.entries[1]); /* newest first */
    memset(&s, 0, sizeof s);
    assert_int_equal(store_embed_scan(st, "m", 4, a, 1u << STORE_HIT_MEMORY, 100, on_vec, &s),
                     STORE_OK);
    assert_int_equal(s.n, 1);
    assert_true(has(&s, e[3]));
    memset(&s, 0, sizeof s);
    assert_int_equal(store_embed_scan(st, "m", 4, b, STORE_HIT_ALL, 100, on_vec, &s), STORE_OK);
    assert_int_equal(s.n, 1);
    assert_true(s.first[0] == 0); /* w */
    memset(&s, 0, sizeof s);
    assert_int_equal(store_embed_scan(st, "other", 4, a, STORE_HIT_ALL, 100, on_vec, &s), STORE_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(store_embed_scan(st, "m", 8, a, STORE_HIT_ALL, 100, on_vec, &s), STORE_OK);
    assert_int_equal(s.n, 0);
    /* By entry. */
    assert_int_equal(store_embed_get(st, "m", 4, e, 4, on_vec, &s), STORE_OK);
    assert_int_equal(s.n, 4);
    /* A hit by entry: the start of its text, its session and title. */
    store_hit h;
    assert_int_equal(store_hit_get(st, e[0], &h), STORE_OK);
    assert_int_equal(h.kind, STORE_HIT_MESSAGE);
    assert_int_equal(h.id, m1);
    assert_string_equal(h.session_id, a);
    assert_string_equal(h.session_title, "harbour");
    assert_string_equal(h.snippet, "a crimson automobile");
    assert_int_equal(h.role, STORE_ROLE_USER);
    free(h.snippet), free(h.session_title), free(h.text);
    assert_int_equal(store_hit_get(st, e[3], &h), STORE_OK);
    assert_int_equal(h.kind, STORE_HIT_MEMORY);
    assert_string_equal(h.text, "likes red cars");
    free(h.snippet), free(h.session_title), free(h.text);
    /* A content change drops the vector and queues the entry again. */
    assert_int_equal(store_message_finish(st, empty, STORE_MSG_DONE, "a late reply", NULL),
                     STORE_OK);
    assert_int_equal(queued_of(st, e + 4, 1, INT64_MAX / 2), 1);
    /* A revert hides a message's vector from the scan and its hit. */
    assert_int_equal(store_session_revert(st, a, m1, 0, 7000, NULL), STORE_OK);
    memset(&s, 0, sizeof s);
    assert_int_equal(store_embed_scan(st, "m", 4, a, STORE_HIT_ALL, 100, on_vec, &s), STORE_OK);
    assert_int_equal(s.n, 2);
    assert_false(has(&s, e[1]));
    assert_int_equal(store_hit_get(st, e[1], &h), STORE_NOT_FOUND);
    /* Requeue: entries without a vector of a new model. */
    size_t q = 0;
    assert_int_equal(store_embed_requeue(st, "m2", &q), STORE_OK);
    assert_true(q >= 4);
    assert_int_equal(queued_of(st, e, 4, INT64_MAX / 2), 4);
    /* A delete takes the vectors and queue rows along. */
    assert_int_equal(store_session_delete(st, a), STORE_OK);
    memset(&s, 0, sizeof s);
    assert_int_equal(store_embed_get(st, "m", 4, e, 4, on_vec, &s), STORE_OK);
    assert_int_equal(s.n, 1); /* only b's */
    assert_int_equal(queued_of(st, e, 2, INT64_MAX / 2), 0);
    assert_int_equal(queued_of(st, e + 3, 1, INT64_MAX / 2), 0);
}

static void test_embeddings(void **state)
{
    check_embeddings(need(state), "emb-a", "emb-b");
}

static void test_embeddings_pg(void **state)
{
    char a[40], b[40];
    snprintf(a, sizeof a, "emb-a-%d", (int)getpid());
    snprintf(b, sizeof b, "emb-b-%d", (int)getpid());
    check_embeddings(need(state), a, b);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_embeddings, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_embeddings_pg, setup_pg, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
