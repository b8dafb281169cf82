/* Unit tests for the store's fork, revert and canvas checkpoints (store.h),
 * the same contract on both engines: on SQLite always (a temp file), and on
 * PostgreSQL when COMFYD_TEST_PG names an empty database
 * (tests/postgres/run.sh sets it; skipped otherwise). */
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

static size_t hits(store *st, const char *word, const char *sid, unsigned kinds)
{
    store_hit *h = NULL;
    size_t n = 0;
    char match[64];
    snprintf(match, sizeof match, "\"%s\"", word);
    assert_int_equal(store_search(st, match, sid, kinds, 10, &h, &n), STORE_OK);
    store_hits_free(h, n);
    return n;
}

static void put_ckpt(store *st, const char *sid, uint64_t msg, const char *canvas, uint64_t before,
                     uint64_t after, const char *wf, int expect)
{
    store_checkpoint c = {0};
    snprintf(c.session_id, sizeof c.session_id, "%s", sid);
    c.message_id = msg;
    c.canvas_id = (char *)canvas;
    c.rev_before = before;
    c.rev_after = after;
    c.workflow = (char *)wf;
    assert_int_equal(store_checkpoint_put(st, &c), expect);
}

/* Fork copies the visible history up to the message (turn ids, summary
 * marks and attachments mapped to the copies), the configuration and key,
 * and the session memories, in one step; revert hides what follows. */
static void test_fork_and_revert(void **state)
{
    store *st = need(state);
    const char *A = "fork-a", *F = "fork-f", *G = "fork-g", *B = "fork-b";
    add_session(st, A);
    add_session(st, B);
    uint64_t u1 = add(st, A, STORE_ROLE_USER, STORE_MSG_DONE, 0, "a kingfisher");
    uint64_t a1 = add(st, A, STORE_ROLE_ASSISTANT, STORE_MSG_DONE, u1, "a kingfisher reply");
    store_message sm = {0};
    snprintf(sm.session_id, sizeof sm.session_id, "%s", A);
    sm.role = STORE_ROLE_SYSTEM;
    sm.state = STORE_MSG_DONE;
    sm.kind = STORE_KIND_SUMMARY;
    sm.covers_to = a1;
    sm.content = "summary of the kingfisher";
    assert_int_equal(store_message_insert(st, &sm), STORE_OK);
    store_message u2m = {0};
    snprintf(u2m.session_id, sizeof u2m.session_id, "%s", A);
    u2m.role = STORE_ROLE_USER;
    u2m.state = STORE_MSG_DONE;
    u2m.content = "a zebra crossing";
    store_attachment att = {.size = 3, .width = 1, .height = 1};
    memset(att.sha256, 'a', 64);
    snprintf(att.mime, sizeof att.mime, "image/png");
    att.name = "z.png";
    assert_int_equal(store_message_insert_with(st, &u2m, &att, 1), STORE_OK);
    uint64_t u2 = u2m.id;
    add(st, A, STORE_ROLE_ASSISTANT, STORE_MSG_DONE, u2, "zebra reply");
    uint64_t u3 = add(st, A, STORE_ROLE_USER, STORE_MSG_RUNNING, 0, "still running");
    uint64_t b1 = add(st, B, STORE_ROLE_USER, STORE_MSG_DONE, 0, "b's message");
    assert_int_equal(store_memory_add(st, A, "the lighthouse is cobalt", NULL), STORE_OK);

    store_message got;
    assert_int_equal(store_message_get(st, u2, &got), STORE_OK);
    assert_string_equal(got.session_id, A);
    assert_int_equal(got.reverted_ms, 0);
    store_message_clear(&got);
    assert_int_equal(store_message_get(st, 987654321, &got), STORE_NOT_FOUND);

    /* Fork at u2: u1, a1, the summary and u2. */
    store_session dst = {0};
    snprintf(dst.id, sizeof dst.id, "%s", F);
    dst.title = "harbour (fork)";
    dst.created_ms = dst.updated_ms = 2000;
    size_t copied = 0;
    assert_int_equal(store_session_fork(st, A, u2, &dst, &copied), STORE_OK);
    assert_int_equal(copied, 4);
    store_session s = {0};
    assert_int_equal(store_session_get(st, F, &s), STORE_OK);
    assert_string_equal(s.parent_id, A);
    assert_int_equal(s.fork_point, u2);
    assert_string_equal(s.title, "harbour (fork)");
    assert_string_equal(s.model, "m1");
    assert_string_equal(s.system_prompt, "Be brief.");
    assert_int_equal(s.n_skills, 2);
    assert_string_equal(s.skills[1], "prompt-writer");
    assert_int_equal(s.vision, 2);
    assert_int_equal(s.context_window, 4096);
    assert_int_equal(s.message_count, 4);
    assert_true(s.api_key_set);
    uint64_t compacted = s.compacted_to;
    store_session_clear(&s);
    char *key = NULL;
    assert_int_equal(store_session_get_api_key(st, F, &key), STORE_OK);
    assert_string_equal(key, "sk-secret");
    free(key);
    store_message *ms = NULL;
    size_t n = 0;
    int trunc = 0;
    assert_int_equal(store_messages_load(st, F, 100, &ms, &n, &trunc), STORE_OK);
    assert_int_equal(n, 4);
    assert_true(ms[0].id > u3);
    assert_int_equal(ms[0].turn_id, ms[0].id);
    assert_int_equal(ms[1].turn_id, ms[0].id);
    assert_int_equal(ms[2].kind, STORE_KIND_SUMMARY);
    assert_int_equal(ms[2].covers_to, ms[1].id);
    assert_int_equal(compacted, ms[1].id);
    assert_int_equal(ms[3].turn_id, ms[3].id);
    assert_string_equal(ms[3].content, "a zebra crossing");
    store_attachment *al = NULL;
    size_t na = 0;
    assert_int_equal(store_attachments_load(st, ms[3].id, &al, &na), STORE_OK);
    assert_int_equal(na, 1);
    assert_string_equal(al[0].name, "z.png");
    store_attachments_free(al, na);
    store_messages_free(ms, n);
    assert_int_equal(hits(st, "cobalt", F, 1u << STORE_HIT_MEMORY), 1);
    assert_int_equal(hits(st, "cobalt", A, 1u << STORE_HIT_MEMORY), 1);

    /* At a running turn: copied as interrupted, never queued in the fork. */
    snprintf(dst.id, sizeof dst.id, "%s", G);
    assert_int_equal(store_session_fork(st, A, u3, &dst, &copied), STORE_OK);
    assert_int_equal(copied, 6);
    assert_int_equal(store_messages_load(st, G, 100, &ms, &n, &trunc), STORE_OK);
    assert_int_equal(ms[5].state, STORE_MSG_INTERRUPTED);
    assert_non_null(ms[5].error);
    store_messages_free(ms, n);
    assert_int_equal(store_messages_queued(st, &ms, &n), STORE_OK);
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(ms[i].session_id, G);
    store_messages_free(ms, n);

    /* Bad forks change nothing. */
    assert_int_equal(store_session_fork(st, A, u2, &dst, &copied), STORE_CONFLICT);
    snprintf(dst.id, sizeof dst.id, "fork-x");
    assert_int_equal(store_session_fork(st, A, b1, &dst, &copied), STORE_NOT_FOUND);
    assert_int_equal(store_session_fork(st, "fork-none", u1, &dst, &copied), STORE_NOT_FOUND);
    assert_int_equal(store_session_fork(st, A, 0, &dst, &copied), STORE_EINVAL);
    assert_int_equal(store_session_get(st, "fork-x", &s), STORE_NOT_FOUND);

    /* Revert A to a1: the summary, u2, its reply and u3 are hidden. */
    size_t hidden = 0;
    assert_int_equal(hits(st, "zebra", A, 1u << STORE_HIT_MESSAGE), 2);
    assert_int_equal(store_session_revert(st, A, a1, 0, 5000, &hidden), STORE_OK);
    assert_int_equal(hidden, 4);
    assert_int_equal(store_session_get(st, A, &s), STORE_OK);
    assert_int_equal(s.message_count, 2);
    assert_int_equal(s.compacted_to, 0);
    store_session_clear(&s);
    assert_int_equal(store_summary_latest(st, A, &got), STORE_NOT_FOUND);
    assert_int_equal(store_messages_load(st, A, 100, &ms, &n, &trunc), STORE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ms[1].id, a1);
    store_messages_free(ms, n);
    assert_int_equal(store_messages_after(st, A, 0, 100, &ms, &n, &trunc), STORE_OK);
    assert_int_equal(n, 2);
    store_messages_free(ms, n);
    assert_int_equal(hits(st, "zebra", A, 1u << STORE_HIT_MESSAGE), 0);
    assert_int_equal(hits(st, "zebra", F, 1u << STORE_HIT_MESSAGE), 1); /* the fork's copy stays */
    assert_int_equal(store_message_get(st, u2, &got), STORE_OK);        /* kept, marked */
    assert_int_equal(got.reverted_ms, 5000);
    store_message_clear(&got);
    assert_int_equal(store_session_revert(st, A, u2, 0, 6000, &hidden), STORE_NOT_FOUND);
    assert_int_equal(store_session_revert(st, A, b1, 0, 6000, &hidden), STORE_NOT_FOUND);
    assert_int_equal(store_session_revert(st, A, a1, 0, 6000, &hidden), STORE_OK);
    assert_int_equal(hidden, 0);
    /* A bound: messages above it (sent after the caller looked) stay. */
    uint64_t b2 = add(st, B, STORE_ROLE_ASSISTANT, STORE_MSG_DONE, b1, "b reply");
    uint64_t b3 = add(st, B, STORE_ROLE_USER, STORE_MSG_QUEUED, 0, "sent meanwhile");
    assert_int_equal(store_session_revert(st, B, b1, b2, 6000, &hidden), STORE_OK);
    assert_int_equal(hidden, 1);
    assert_int_equal(store_message_get(st, b3, &got), STORE_OK);
    assert_int_equal(got.reverted_ms, 0);
    store_message_clear(&got);
    assert_int_equal(store_session_fork(st, A, u2, &dst, &copied), STORE_NOT_FOUND);
}

/* A checkpoint per (turn, canvas) keeps the workflow before the turn's
 * first change; later puts only raise rev_after; a revert hides the
 * checkpoints of hidden turns; the oldest go beyond the limits. */
static void test_checkpoints(void **state)
{
    store *st = need(state);
    const char *C = "ckpt-c";
    add_session(st, C);
    uint64_t u1 = add(st, C, STORE_ROLE_USER, STORE_MSG_DONE, 0, "build it");
    uint64_t u2 = add(st, C, STORE_ROLE_USER, STORE_MSG_DONE, 0, "change it");
    put_ckpt(st, C, u1, "tab-1", 3, 5, "{\"nodes\":[]}", STORE_OK);
    put_ckpt(st, C, u1, "tab-1", 5, 7, "{\"nodes\":[1]}", STORE_OK);
    put_ckpt(st, C, u2, "tab-1", 7, 9, "{\"nodes\":[1,2]}", STORE_OK);
    put_ckpt(st, C, u2, "tab-2", 1, 2, "{}", STORE_OK);
    put_ckpt(st, "ckpt-none", u1, "tab-1", 1, 2, "{}", STORE_NOT_FOUND);
    put_ckpt(st, C, 0, "tab-1", 1, 2, "{}", STORE_EINVAL);
    put_ckpt(st, C, u1, "", 1, 2, "{}", STORE_EINVAL);
    put_ckpt(st, C, u1, "tab-1", 1, 2, "", STORE_EINVAL);

    store_checkpoint *l = NULL;
    size_t n = 0;
    assert_int_equal(store_checkpoints_list(st, C, 1, &l, &n), STORE_OK);
    assert_int_equal(n, 3);
    assert_int_equal(l[0].message_id, u1);
    assert_int_equal(l[0].rev_before, 3);
    assert_int_equal(l[0].rev_after, 7);
    assert_string_equal(l[0].workflow, "{\"nodes\":[]}");
    assert_int_equal(l[0].bytes, strlen("{\"nodes\":[]}"));
    assert_int_equal(l[1].message_id, u2);
    store_checkpoints_free(l, n);
    assert_int_equal(store_checkpoints_list(st, C, 0, &l, &n), STORE_OK);
    assert_null(l[0].workflow);
    store_checkpoints_free(l, n);

    size_t hidden = 0;
    assert_int_equal(store_session_revert(st, C, u1, 0, 7000, &hidden), STORE_OK);
    assert_int_equal(store_checkpoints_list(st, C, 0, &l, &n), STORE_OK);
    assert_int_equal(n, 1);
    store_checkpoints_free(l, n);

    /* The count bound: the oldest go. */
    const char *D = "ckpt-d";
    add_session(st, D);
    uint64_t ids[STORE_CKPT_MAX + 3];
    for (size_t i = 0; i < STORE_CKPT_MAX + 3; i++) {
        ids[i] = add(st, D, STORE_ROLE_USER, STORE_MSG_DONE, 0, "turn");
        put_ckpt(st, D, ids[i], "tab-1", i, i + 1, "{}", STORE_OK);
    }
    assert_int_equal(store_checkpoints_list(st, D, 0, &l, &n), STORE_OK);
    assert_int_equal(n, STORE_CKPT_MAX);
    assert_int_equal(l[0].message_id, ids[3]);
    store_checkpoints_free(l, n);

    /* The bytes bound: five workflows of a fifth of it and a bit more. */
    const char *E = "ckpt-e";
    add_session(st, E);
    size_t big = STORE_CKPT_BYTES / 5 + 1;
    char *wf = malloc(big + 1);
    memset(wf, 'x', big);
    wf[big] = 0;
    for (int i = 0; i < 5; i++) {
        uint64_t m = add(st, E, STORE_ROLE_USER, STORE_MSG_DONE, 0, "big");
        put_ckpt(st, E, m, "tab-1", 1, 2, wf, STORE_OK);
    }
    free(wf);
    assert_int_equal(store_checkpoints_list(st, E, 0, &l, &n), STORE_OK);
    assert_int_equal(n, 4);
    store_checkpoints_free(l, n);

    /* Deleting the session takes its checkpoints along. */
    assert_int_equal(store_session_delete(st, E), STORE_OK);
    assert_int_equal(store_checkpoints_list(st, E, 0, &l, &n), STORE_OK);
    assert_int_equal(n, 0);
}

/* Un-revert: the latest revert's messages come back (and into search),
 * one revert at a time; refused once the session moved on. */
static void test_unrevert(void **state)
{
    store *st = need(state);
    const char *A = "unrev-a", *B = "unrev-b";
    add_session(st, A);
    add_session(st, B);
    uint64_t u1 = add(st, A, STORE_ROLE_USER, STORE_MSG_DONE, 0, "an otter");
    add(st, A, STORE_ROLE_ASSISTANT, STORE_MSG_DONE, u1, "noted");
    uint64_t u2 = add(st, A, STORE_ROLE_USER, STORE_MSG_DONE, 0, "a beaver dam");
    add(st, A, STORE_ROLE_ASSISTANT, STORE_MSG_DONE, u2, "built");
    uint64_t u3 = add(st, A, STORE_ROLE_USER, STORE_MSG_DONE, 0, "a heron");
    size_t n = 0;
    int why = 0;
    assert_int_equal(store_session_unrevert(st, A, &n, NULL, &why), STORE_NOT_FOUND); /* none */
    assert_int_equal(store_session_unrevert(st, "unrev-none", &n, NULL, &why), STORE_NOT_FOUND);
    /* Two reverts: u3 at 5000, then u2's turn at 6000. */
    assert_int_equal(store_session_revert(st, A, u2 + 1, 0, 5000, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_session_revert(st, A, u1 + 1, 0, 6000, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(hits(st, "beaver", NULL, STORE_HIT_ALL), 0);
    /* The latest first: the beaver comes back, the heron not yet. */
    assert_int_equal(store_session_unrevert(st, A, &n, NULL, &why), STORE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(hits(st, "beaver", NULL, STORE_HIT_ALL), 1);
    assert_int_equal(hits(st, "heron", NULL, STORE_HIT_ALL), 0);
    store_message m = {0};
    assert_int_equal(store_message_get(st, u2, &m), STORE_OK);
    assert_int_equal(m.reverted_ms, 0);
    store_message_clear(&m);
    assert_int_equal(store_message_get(st, u3, &m), STORE_OK);
    assert_int_equal(m.reverted_ms, 5000);
    store_message_clear(&m);
    assert_int_equal(store_session_unrevert(st, A, &n, NULL, &why), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(hits(st, "heron", A, STORE_HIT_ALL), 1);
    store_session ss = {0};
    assert_int_equal(store_session_get(st, A, &ss), STORE_OK);
    assert_int_equal(ss.message_count, 5);
    store_session_clear(&ss);
    assert_int_equal(store_session_unrevert(st, A, &n, NULL, &why), STORE_NOT_FOUND);
    /* A message after the revert: refused, nothing changes. */
    assert_int_equal(store_session_revert(st, A, u2, 0, 7000, &n), STORE_OK);
    assert_int_equal(n, 2);
    add(st, A, STORE_ROLE_USER, STORE_MSG_DONE, 0, "a kestrel");
    assert_int_equal(store_session_unrevert(st, A, &n, NULL, &why), STORE_CONFLICT);
    assert_int_equal(why, STORE_UNREVERT_NEWER);
    assert_int_equal(hits(st, "heron", A, STORE_HIT_ALL), 0);
    /* Compacted since: a summary after the revert. */
    uint64_t b1 = add(st, B, STORE_ROLE_USER, STORE_MSG_DONE, 0, "a stoat");
    add(st, B, STORE_ROLE_ASSISTANT, STORE_MSG_DONE, b1, "seen");
    assert_int_equal(store_session_revert(st, B, b1, 0, 8000, &n), STORE_OK);
    store_message sm = {0};
    snprintf(sm.session_id, sizeof sm.session_id, "%s", B);
    sm.role = STORE_ROLE_SYSTEM;
    sm.kind = STORE_KIND_SUMMARY;
    sm.state = STORE_MSG_DONE;
    sm.covers_to = b1;
    sm.content = "Summary of 1 earlier message";
    assert_int_equal(store_message_insert(st, &sm), STORE_OK);
    assert_int_equal(store_session_unrevert(st, B, &n, NULL, &why), STORE_CONFLICT);
    assert_int_equal(why, STORE_UNREVERT_COMPACTED);
    assert_int_equal(store_session_unrevert(st, NULL, &n, NULL, &why), STORE_EINVAL);
}

static void test_unrevert_pg(void **state)
{
    test_unrevert(state);
}

static void test_fork_and_revert_pg(void **state)
{
    test_fork_and_revert(state);
}

static void test_checkpoints_pg(void **state)
{
    test_checkpoints(state);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fork_and_revert, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoints, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_fork_and_revert_pg, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoints_pg, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_unrevert, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_unrevert_pg, setup_pg, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
