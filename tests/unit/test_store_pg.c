/* Unit tests for core/store on its PostgreSQL engine: the contract of
 * store.h as test_store.c checks it on SQLite, against a real server.
 * COMFYD_TEST_PG is a URI of an empty database (tests/postgres/run.sh
 * starts a server and sets it); without it every test is skipped. */
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

static const char *uri(void)
{
    const char *u = getenv("COMFYD_TEST_PG");
    return u && *u ? u : NULL;
}

static int setup(void **state)
{
    store *st = NULL;
    if (!uri()) {
        *state = NULL;
        return 0;
    }
    if (store_open(&st, uri()) != STORE_OK) return -1;
    *state = st;
    return 0;
}

static int teardown(void **state)
{
    store_close(*state);
    return 0;
}

#define NEED_PG(st)                                                                                \
    do {                                                                                           \
        if (!(st)) skip();                                                                         \
    } while (0)

static store_session mk_session(const char *id, int64_t updated)
{
    store_session s = {0};
    snprintf(s.id, sizeof s.id, "%s", id);
    s.title = "t";
    s.provider = "echo";
    s.created_ms = 1000;
    s.updated_ms = updated;
    return s;
}

static void test_sessions_round_trip_and_page_in_byte_order(void **state)
{
    store *st = *state;
    NEED_PG(st);
    assert_string_equal(store_engine(st), "postgres");
    char *skills[] = {"prompt-writer", "graph-doctor"};
    store_session s = mk_session("pg-sess-a", 5000);
    s.title = "\u00e9t\u00e9 title";
    s.skills = skills;
    s.n_skills = 2;
    s.token_delay_ms = 7;
    s.seq_reserved = 42;
    s.vision = 2;
    assert_int_equal(store_session_insert(st, &s, "sk-secret"), STORE_OK);
    assert_int_equal(store_session_insert(st, &s, NULL), STORE_CONFLICT);

    store_session got = {0};
    assert_int_equal(store_session_get(st, "pg-sess-a", &got), STORE_OK);
    assert_string_equal(got.title, s.title);
    assert_int_equal(got.n_skills, 2);
    assert_string_equal(got.skills[1], "graph-doctor");
    assert_int_equal(got.token_delay_ms, 7);
    assert_int_equal(got.seq_reserved, 42);
    assert_int_equal(got.vision, 2);
    assert_true(got.api_key_set);
    assert_string_equal(got.base_url, "");
    store_session_clear(&got);
    char *key = NULL;
    assert_int_equal(store_session_get_api_key(st, "pg-sess-a", &key), STORE_OK);
    assert_string_equal(key, "sk-secret");
    free(key);
    assert_int_equal(store_session_set_api_key(st, "pg-sess-a", NULL), STORE_OK);
    assert_int_equal(store_session_get_api_key(st, "pg-sess-a", &key), STORE_OK);
    assert_null(key);
    assert_int_equal(store_session_get(st, "pg-nope", &got), STORE_NOT_FOUND);
    assert_int_equal(store_session_set_seq_reserved(st, "pg-nope", 1), STORE_NOT_FOUND);

    /* Same updated_ms: ids order by bytes ("B" < "a"), whatever the
     * database's locale, as on SQLite. */
    store_session b = mk_session("pg-sess-B", 5000), c = mk_session("pg-sess-c", 9000);
    assert_int_equal(store_session_insert(st, &b, NULL), STORE_OK);
    assert_int_equal(store_session_insert(st, &c, NULL), STORE_OK);
    store_session *page = NULL;
    size_t n = 0;
    assert_int_equal(store_session_page(st, 0, NULL, 2, &page, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(page[0].id, "pg-sess-c");
    assert_string_equal(page[1].id, "pg-sess-a");
    int64_t cur_ms = page[1].updated_ms;
    char cur_id[40];
    snprintf(cur_id, sizeof cur_id, "%s", page[1].id);
    store_sessions_free(page, n);
    assert_int_equal(store_session_page(st, cur_ms, cur_id, 10, &page, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(page[0].id, "pg-sess-B");
    store_sessions_free(page, n);

    /* Usage saturates at INT64_MAX instead of failing. */
    assert_int_equal(store_session_add_usage(st, "pg-sess-B", INT64_MAX, 3), STORE_OK);
    assert_int_equal(store_session_add_usage(st, "pg-sess-B", 10, 4), STORE_OK);
    assert_int_equal(store_session_get(st, "pg-sess-B", &got), STORE_OK);
    assert_int_equal(got.prompt_tokens, (uint64_t)INT64_MAX);
    assert_int_equal(got.completion_tokens, 7);
    store_session_clear(&got);

    assert_int_equal(store_session_delete(st, "pg-sess-B"), STORE_OK);
    assert_int_equal(store_session_delete(st, "pg-sess-B"), STORE_NOT_FOUND);
    /* Bad arguments are refused before the server sees them. */
    assert_int_equal(store_session_get(st, "", &got), STORE_EINVAL);
    assert_int_equal(store_session_get(st, "\xff\xfe", &got), STORE_EINVAL);
}

static store_message mk_msg(const char *sid, store_role role, const char *content, const char *cid)
{
    store_message m = {0};
    snprintf(m.session_id, sizeof m.session_id, "%s", sid);
    m.role = role;
    m.content = (char *)content;
    m.state = STORE_MSG_QUEUED;
    m.client_id = (char *)cid;
    return m;
}

static void test_messages_turns_client_ids_recovery(void **state)
{
    store *st = *state;
    NEED_PG(st);
    store_session s = mk_session("pg-msgs", 1);
    assert_int_equal(store_session_insert(st, &s, NULL), STORE_OK);

    store_message u = mk_msg("pg-msgs", STORE_ROLE_USER, "hello", "c-1");
    assert_int_equal(store_message_insert(st, &u), STORE_OK);
    assert_true(u.id > 0);
    assert_int_equal(u.turn_id, u.id); /* a user message opens its own turn */
    assert_true(u.created_ms > 1);

    store_message dup = mk_msg("pg-msgs", STORE_ROLE_USER, "again", "c-1");
    assert_int_equal(store_message_insert(st, &dup), STORE_CONFLICT);
    store_message orphan = mk_msg("pg-none", STORE_ROLE_USER, "x", NULL);
    assert_int_equal(store_message_insert(st, &orphan), STORE_NOT_FOUND);

    store_message a = mk_msg("pg-msgs", STORE_ROLE_ASSISTANT, "partial", NULL);
    a.turn_id = u.id;
    a.state = STORE_MSG_RUNNING;
    assert_int_equal(store_message_insert(st, &a), STORE_OK);
    assert_true(a.id > u.id);
    assert_int_equal(a.turn_id, u.id);

    /* The session's updated_ms followed the newest message. */
    store_session got = {0};
    assert_int_equal(store_session_get(st, "pg-msgs", &got), STORE_OK);
    assert_int_equal(got.updated_ms, a.created_ms);
    assert_int_equal(got.message_count, 2);
    store_session_clear(&got);

    store_message found = {0};
    assert_int_equal(store_message_find_client_id(st, "pg-msgs", "c-1", &found), STORE_OK);
    assert_int_equal(found.id, u.id);
    assert_string_equal(found.content, "hello");
    assert_null(found.skill);
    store_message_clear(&found);

    /* Recovery: RUNNING becomes INTERRUPTED; QUEUED user turns are listed. */
    size_t changed = 0;
    assert_int_equal(store_recover_interrupted(st, "stopped", &changed), STORE_OK);
    assert_true(changed >= 1);
    store_message *q = NULL;
    size_t nq = 0;
    assert_int_equal(store_messages_queued(st, &q, &nq), STORE_OK);
    int seen = 0;
    for (size_t i = 0; i < nq; i++)
        seen |= q[i].id == u.id;
    assert_true(seen);
    store_messages_free(q, nq);

    assert_int_equal(store_message_finish(st, u.id, STORE_MSG_DONE, NULL, NULL), STORE_OK);
    assert_int_equal(store_message_finish(st, 999999999, STORE_MSG_DONE, NULL, NULL),
                     STORE_NOT_FOUND);

    store_message *list = NULL;
    size_t n = 0;
    int trunc = 0;
    assert_int_equal(store_messages_load(st, "pg-msgs", 1, &list, &n, &trunc), STORE_OK);
    assert_int_equal(n, 1);
    assert_true(trunc);
    assert_int_equal(list[0].id, a.id);
    assert_int_equal(list[0].state, STORE_MSG_INTERRUPTED);
    assert_string_equal(list[0].error, "stopped");
    store_messages_free(list, n);
    assert_int_equal(store_messages_load(st, "pg-msgs", 10, &list, &n, &trunc), STORE_OK);
    assert_int_equal(n, 2);
    assert_false(trunc);
    assert_int_equal(list[0].id, u.id); /* oldest first */
    assert_int_equal(list[0].state, STORE_MSG_DONE);
    store_messages_free(list, n);

    /* Deleting the session takes its messages along. */
    assert_int_equal(store_session_delete(st, "pg-msgs"), STORE_OK);
    assert_int_equal(store_messages_load(st, "pg-msgs", 10, &list, &n, &trunc), STORE_OK);
    assert_int_equal(n, 0);
}

static void test_counters_and_idempotency_keys(void **state)
{
    store *st = *state;
    NEED_PG(st);
    uint64_t v = 1;
    assert_int_equal(store_counter_get(st, "pg_counter", &v), STORE_OK);
    assert_int_equal(v, 0);
    assert_int_equal(store_counter_raise(st, "pg_counter", 50), STORE_OK);
    assert_int_equal(store_counter_raise(st, "pg_counter", 20), STORE_OK); /* never lowers */
    assert_int_equal(store_counter_get(st, "pg_counter", &v), STORE_OK);
    assert_int_equal(v, 50);

    store_idem *list = NULL;
    size_t n = 0;
    assert_int_equal(store_idem_load(st, 0, 0, &list, &n), STORE_OK); /* prunes everything */
    assert_int_equal(n, 0);

    /* Binary scopes (with NUL bytes) and responses round-trip. */
    uint8_t resp[] = {0, 1, 2, 0xff, 0};
    store_idem e = {.scope = "k\0one", .scope_len = 5, .err = 0, .code = 0, .created_ms = 100};
    memset(e.req_hash, 0xab, sizeof e.req_hash);
    e.resp = resp;
    e.resp_len = sizeof resp;
    assert_int_equal(store_idem_put(st, &e), STORE_OK);
    store_idem e2 = {.scope = "k2", .scope_len = 2, .err = -3, .code = 9, .created_ms = 100};
    e2.message = "busy";
    assert_int_equal(store_idem_put(st, &e2), STORE_OK);
    store_idem old = {.scope = "old", .scope_len = 3, .created_ms = 5};
    assert_int_equal(store_idem_put(st, &old), STORE_OK);
    /* Replacing the first key makes it the newest of its millisecond. */
    e.code = 1;
    assert_int_equal(store_idem_put(st, &e), STORE_OK);

    assert_int_equal(store_idem_load(st, 50, 10, &list, &n), STORE_OK);
    assert_int_equal(n, 2); /* "old" is older than 50 ms */
    assert_int_equal(list[0].scope_len, 5);
    assert_memory_equal(list[0].scope, "k\0one", 5);
    assert_int_equal(list[0].code, 1);
    assert_int_equal(list[0].resp_len, sizeof resp);
    assert_memory_equal(list[0].resp, resp, sizeof resp);
    assert_int_equal(list[0].req_hash[31], 0xab);
    assert_null(list[0].message);
    assert_string_equal(list[1].message, "busy");
    assert_int_equal(list[1].err, -3);
    assert_null(list[1].resp);
    store_idems_free(list, n);

    assert_int_equal(store_idem_load(st, 0, 1, &list, &n), STORE_OK); /* keeps the newest */
    assert_int_equal(n, 1);
    assert_int_equal(list[0].scope_len, 5);
    store_idems_free(list, n);
    assert_int_equal(store_idem_delete(st, "k\0one", 5), STORE_OK);
    assert_int_equal(store_idem_load(st, 0, 10, &list, &n), STORE_OK);
    assert_int_equal(n, 0);
}

static void test_open_errors(void **state)
{
    store *st = *state;
    NEED_PG(st);
    store *other = NULL;
    /* Several handles (cores) may share the database (lease.h decides who
     * runs a turn); the schema is already there, so nothing migrates. */
    assert_int_equal(store_open(&other, uri()), STORE_OK);
    store_close(other);
    other = NULL;
    /* No server behind the socket: unreachable, quickly. */
    assert_int_equal(store_open(&other, "postgresql://u@/db?host=/nonexistent&connect_timeout=2"),
                     STORE_EUNAVAIL);
    assert_int_equal(store_open(&other, "postgresql://u@/db?nosuchoption=1"), STORE_EINVAL);
    assert_null(other);
}

/* Memory on PostgreSQL: context_window and archived round-trip, summaries
 * and messages after a summary, memories, and search over all three
 * (ftsq's MATCH syntax translated into a tsquery): phrases, prefixes, OR,
 * NOT, the session and kind filters, best first, and a session's delete
 * taking its entries and memories along (a global memory stays). */
/* store_turn_end is one transaction here too: a failing step leaves no
 * reply behind. */
static void test_turn_end_all_or_nothing(void **state)
{
    store *st = *state;
    NEED_PG(st);
    store_session s = mk_session("pg-turn", 1);
    assert_int_equal(store_session_insert(st, &s, NULL), STORE_OK);
    store_message u = mk_msg("pg-turn", STORE_ROLE_USER, "hi", NULL);
    u.state = STORE_MSG_RUNNING;
    assert_int_equal(store_message_insert(st, &u), STORE_OK);
    store_message r[2] = {mk_msg("pg-turn", STORE_ROLE_ASSISTANT, "one", NULL),
                          mk_msg("pg-turn", STORE_ROLE_ASSISTANT, "two", NULL)};
    r[0].turn_id = r[1].turn_id = u.id;
    r[0].skill = "a";
    r[1].skill = "b";
    assert_int_equal(store_turn_end(st, "pg-turn", r, 2, u.id + 1000000, STORE_MSG_DONE, 3, 4),
                     STORE_NOT_FOUND);
    assert_int_equal(r[0].id, 0);
    store_message *list = NULL;
    size_t n = 0;
    int trunc = 0;
    assert_int_equal(store_messages_load(st, "pg-turn", 10, &list, &n, &trunc), STORE_OK);
    assert_int_equal(n, 1);
    store_messages_free(list, n);

    assert_int_equal(store_turn_end(st, "pg-turn", r, 2, u.id, STORE_MSG_DONE, 3, 4), STORE_OK);
    assert_true(r[0].id > u.id && r[1].id > r[0].id);
    assert_int_equal(store_messages_load(st, "pg-turn", 10, &list, &n, &trunc), STORE_OK);
    assert_int_equal(n, 3);
    assert_int_equal(list[0].state, STORE_MSG_DONE);
    assert_string_equal(list[2].content, "two");
    store_messages_free(list, n);
    store_session g;
    assert_int_equal(store_session_get(st, "pg-turn", &g), STORE_OK);
    assert_int_equal(g.prompt_tokens, 3);
    assert_int_equal(g.completion_tokens, 4);
    store_session_clear(&g);
}

static void test_memory_summaries_and_search(void **state)
{
    store *st = *state;
    NEED_PG(st);
    store_session a = mk_session("pgm-a", 1), b = mk_session("pgm-b", 1);
    a.context_window = 2048;
    a.archived = 1;
    assert_int_equal(store_session_insert(st, &a, NULL), STORE_OK);
    assert_int_equal(store_session_insert(st, &b, NULL), STORE_OK);
    store_session g = {0};
    assert_int_equal(store_session_get(st, "pgm-a", &g), STORE_OK);
    assert_int_equal(g.context_window, 2048);
    assert_int_equal(g.archived, 1);
    store_session_clear(&g);
    a.context_window = 0;
    a.archived = 0;
    assert_int_equal(store_session_update(st, &a), STORE_OK);
    assert_int_equal(store_session_get(st, "pgm-a", &g), STORE_OK);
    assert_int_equal(g.context_window, 0);
    assert_int_equal(g.archived, 0);
    store_session_clear(&g);

    store_message m1 = mk_msg("pgm-a", STORE_ROLE_USER, "paint a lighthouse at dusk", NULL);
    assert_int_equal(store_message_insert(st, &m1), STORE_OK);
    store_message m2 = mk_msg("pgm-b", STORE_ROLE_USER, "a cat on a lighthouse lighthouse", NULL);
    assert_int_equal(store_message_insert(st, &m2), STORE_OK);
    store_message latest;
    assert_int_equal(store_summary_latest(st, "pgm-a", &latest), STORE_NOT_FOUND);
    store_message sm =
        mk_msg("pgm-a", STORE_ROLE_SYSTEM, "summary: the user wanted a lighthouse", NULL);
    sm.kind = STORE_KIND_SUMMARY;
    sm.covers_to = m1.id;
    assert_int_equal(store_message_insert(st, &sm), STORE_OK);
    store_message bad = mk_msg("pgm-a", STORE_ROLE_SYSTEM, "x", NULL);
    bad.kind = (store_msg_kind)7;
    assert_int_equal(store_message_insert(st, &bad), STORE_EINVAL);
    store_message m3 = mk_msg("pgm-a", STORE_ROLE_USER, "and the sea beyond", NULL);
    assert_int_equal(store_message_insert(st, &m3), STORE_OK);

    assert_int_equal(store_summary_latest(st, "pgm-a", &latest), STORE_OK);
    assert_int_equal(latest.kind, STORE_KIND_SUMMARY);
    assert_int_equal(latest.covers_to, m1.id);
    assert_int_equal(latest.id, sm.id);
    store_message_clear(&latest);
    assert_int_equal(store_session_get(st, "pgm-a", &g), STORE_OK);
    assert_int_equal(g.compacted_to, m1.id);
    store_session_clear(&g);
    store_message *list = NULL;
    size_t n = 0;
    int truncated = 0;
    assert_int_equal(store_messages_after(st, "pgm-a", m1.id, 1, &list, &n, &truncated), STORE_OK);
    assert_int_equal(n, 1);
    assert_true(truncated); /* the summary is older than m3 and above m1 */
    assert_int_equal(list[0].id, m3.id);
    store_messages_free(list, n);
    assert_int_equal(store_messages_after(st, "pgm-a", m1.id, 10, &list, &n, &truncated), STORE_OK);
    assert_int_equal(n, 2);
    assert_false(truncated);
    assert_int_equal(list[0].id, sm.id); /* oldest first */
    assert_int_equal(list[0].kind, STORE_KIND_SUMMARY);
    store_messages_free(list, n);

    uint64_t mem = 0, gmem = 0;
    assert_int_equal(store_memory_add(st, "pgm-a", "prefers lighthouse scenes", &mem), STORE_OK);
    assert_int_equal(store_memory_add(st, NULL, "global lighthouse fact", &gmem), STORE_OK);
    assert_true(mem > 0 && gmem > mem);
    assert_int_equal(store_memory_add(st, "pgm-none", "x", NULL), STORE_NOT_FOUND);
    assert_int_equal(store_memory_add(st, NULL, "", NULL), STORE_EINVAL);

    store_hit *h = NULL;
    assert_int_equal(store_search(st, "(\"lighthouse\")", NULL, STORE_HIT_ALL, 10, &h, &n),
                     STORE_OK);
    assert_int_equal(n, 5);
    assert_string_equal(h[0].session_id, "pgm-b"); /* says it twice */
    assert_non_null(strstr(h[0].snippet, "[lighthouse]"));
    int kinds[3] = {0};
    for (size_t i = 0; i < n; i++) {
        kinds[h[i].kind]++;
        assert_true(i == 0 || h[i].score >= h[i - 1].score); /* lower is better */
        if (h[i].kind == STORE_HIT_MEMORY) assert_non_null(h[i].text);
        if (h[i].id == gmem && h[i].kind == STORE_HIT_MEMORY)
            assert_string_equal(h[i].session_id, "");
    }
    assert_int_equal(kinds[STORE_HIT_MESSAGE], 2);
    assert_int_equal(kinds[STORE_HIT_SUMMARY], 1);
    assert_int_equal(kinds[STORE_HIT_MEMORY], 2);
    store_hits_free(h, n);

    /* Only memories of session a (the global one is not the session's). */
    assert_int_equal(
        store_search(st, "(\"lighthouse\")", "pgm-a", 1u << STORE_HIT_MEMORY, 10, &h, &n),
        STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(h[0].id, mem);
    store_hits_free(h, n);
    /* A phrase in order, not out of it; a prefix; OR; NOT. */
    const struct {
        const char *match;
        size_t hits;
    } cases[] = {
        {"(\"lighthouse at dusk\")", 1},
        {"(\"dusk at lighthouse\")", 0},
        {"(\"lightho\" *)", 5},
        {"(\"cat\" OR \"dusk\")", 2},
        {"(\"lighthouse\") NOT (\"cat\" OR \"dusk\")", 3},
        {"(\"it''s\") AND (\"a\\b\")", 0}, /* quotes and backslashes are only text */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(store_search(st, cases[i].match, NULL, STORE_HIT_ALL, 10, &h, &n),
                         STORE_OK);
        if (n != cases[i].hits) fail_msg("%s: %zu hits", cases[i].match, n);
        store_hits_free(h, n);
    }
    /* FTS5 syntax ftsq never writes is refused, not passed on. */
    assert_int_equal(store_search(st, "\"unclosed", NULL, STORE_HIT_ALL, 10, &h, &n), STORE_EINVAL);
    assert_int_equal(store_search(st, "body : \"x\"", NULL, STORE_HIT_ALL, 10, &h, &n),
                     STORE_EINVAL);
    assert_int_equal(store_search(st, "(\"x\")", NULL, STORE_HIT_ALL, STORE_SEARCH_MAX + 1, &h, &n),
                     STORE_EINVAL);

    assert_int_equal(store_session_delete(st, "pgm-a"), STORE_OK);
    assert_int_equal(store_search(st, "(\"lighthouse\")", NULL, STORE_HIT_ALL, 10, &h, &n),
                     STORE_OK);
    assert_int_equal(n, 2); /* b's message and the global memory */
    store_hits_free(h, n);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sessions_round_trip_and_page_in_byte_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_messages_turns_client_ids_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters_and_idempotency_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_turn_end_all_or_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_summaries_and_search, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
