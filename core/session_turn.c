/* session_turn: a session's turns (core/session.h): the runner thread
 * that takes messages off the queue one at a time, and a turn's skills,
 * each in its own agent loop (agent.h) on its own thread, whose deltas,
 * tool calls and usage become events. */
#include "session_int.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxwin.h"
#include "log.h"
#include "providers.h"
#include "text.h"
#include "vision.h"

/* ---- turns ---------------------------------------------------------------- */

static int run_delta(void *ud, const char *text, size_t len)
{
    skill_run *r = ud;
    session *s = r->s;
    if (r->reply.n + len > SESS_MAX_REPLY) {
        snprintf(r->err, sizeof r->err, "reply exceeds %d bytes", SESS_MAX_REPLY);
        return 1;
    }
    if (len && !text_utf8_valid(text, len)) {
        snprintf(r->err, sizeof r->err, "provider produced invalid UTF-8");
        return 1;
    }
    /* Grown outside the lock; the append under it does not allocate. */
    if (text_buf_reserve(&r->reply, len)) return 1;
    pthread_mutex_lock(&s->mu);
    text_buf_addn(&r->reply, text, len);
    Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
    Comfyd__V1__StreamDelta sd = COMFYD__V1__STREAM_DELTA__INIT;
    sd.turn_id = r->t->msg_id;
    sd.skill = r->name;
    char *piece = text_dupn(text, len);
    sd.delta = piece;
    sd.index = r->deltas++;
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_STREAM_DELTA;
    ev.stream_delta = &sd;
    sess_publish_locked(s, &ev);
    pthread_mutex_unlock(&s->mu);
    free(piece);
    return 0;
}

static void run_log(void *ud, int level, const char *message)
{
    skill_run *r = ud;
    pthread_mutex_lock(&r->s->mu);
    sess_publish_log_locked(r->s, level, r->t->msg_id, r->name, "provider", "%s", message);
    pthread_mutex_unlock(&r->s->mu);
}

/* Bytes of tool arguments or results quoted in a debug_log line; the full
 * text is in the ToolCall / ToolResult event. */
#define SESS_LOG_QUOTE 200

static void run_tool_call(void *ud, const char *call_id, const char *name, const char *args)
{
    skill_run *r = ud;
    session *s = r->s;
    pthread_mutex_lock(&s->mu);
    Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
    Comfyd__V1__ToolCall tc = COMFYD__V1__TOOL_CALL__INIT;
    tc.turn_id = r->t->msg_id;
    tc.skill = r->name;
    tc.call_id = (char *)call_id;
    tc.name = (char *)name;
    tc.arguments_json = (char *)args;
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_TOOL_CALL;
    ev.tool_call = &tc;
    sess_publish_locked(s, &ev);
    size_t n = strlen(args);
    int cut = n > SESS_LOG_QUOTE;
    if (cut) {
        n = SESS_LOG_QUOTE;
        while (n > 0 && ((unsigned char)args[n] & 0xC0) == 0x80)
            n--;
    }
    sess_publish_log_locked(s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_INFO, r->t->msg_id, r->name,
                            "agent", "tool call %s %.*s%s", name, (int)n, args, cut ? "..." : "");
    pthread_mutex_unlock(&s->mu);
}

static void run_tool_result(void *ud, const char *call_id, const char *name, int ok,
                            const char *result)
{
    skill_run *r = ud;
    session *s = r->s;
    pthread_mutex_lock(&s->mu);
    Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
    Comfyd__V1__ToolResult tr = COMFYD__V1__TOOL_RESULT__INIT;
    tr.turn_id = r->t->msg_id;
    tr.skill = r->name;
    tr.call_id = (char *)call_id;
    tr.ok = ok != 0;
    tr.result_json = (char *)result;
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_TOOL_RESULT;
    ev.tool_result = &tr;
    sess_publish_locked(s, &ev);
    if (ok) {
        sess_publish_log_locked(s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_INFO, r->t->msg_id, r->name,
                                "agent", "tool %s ok (%zu bytes)", name, strlen(result));
    } else {
        size_t n = strlen(result);
        int cut = n > SESS_LOG_QUOTE;
        if (cut) {
            n = SESS_LOG_QUOTE;
            while (n > 0 && ((unsigned char)result[n] & 0xC0) == 0x80)
                n--;
        }
        sess_publish_log_locked(s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_WARN, r->t->msg_id, r->name,
                                "agent", "tool %s failed: %.*s%s", name, (int)n, result,
                                cut ? "..." : "");
    }
    pthread_mutex_unlock(&s->mu);
}

static void run_usage(void *ud, uint64_t prompt, uint64_t completion)
{
    skill_run *r = ud;
    r->prompt_tokens += prompt;
    r->completion_tokens += completion;
}

typedef struct turn_ctx {
    agent_turn base; /* everything but the skill */
} turn_ctx;

typedef struct run_arg {
    skill_run *r;
    const turn_ctx *ctx;
} run_arg;

static void *skill_thread(void *arg)
{
    run_arg *a = arg;
    skill_run *r = a->r;
    agent_turn t = a->ctx->base;
    agent_skill sk = {
        .name = r->name,
        .instructions = r->instructions,
        .allowed_tools = r->allowed_tools,
        .n_allowed_tools = r->n_allowed_tools,
        /* SKILL.md has no read-only key yet: allowed-tools is the bound. */
        .read_only = 0,
        .preview_policy = r->preview_policy,
    };
    t.skill = &sk;
    t.cancel = &r->t->cancel;
    agent_sink sink = {
        .ud = r,
        .delta = run_delta,
        .log = run_log,
        .tool_call = run_tool_call,
        .tool_result = run_tool_result,
        .usage = run_usage,
    };
    char aerr[sizeof r->err];
    r->rc = agent_run(&t, &sink, &r->stats, aerr, sizeof aerr);
    /* run_delta may have set the reason for a refusal; keep it then. */
    if (r->rc != AGENT_ABORTED || !r->err[0]) snprintf(r->err, sizeof r->err, "%s", aerr);
    if (r->rc == AGENT_ABORTED && !r->err[0])
        snprintf(r->err, sizeof r->err, "the reply was stopped");
    free(a);
    return NULL;
}

static int cmp_run(const void *a, const void *b)
{
    return strcmp(((const skill_run *)a)->name, ((const skill_run *)b)->name);
}

/* Runs one turn: every skill concurrently, then stores the replies in
 * skill-name order. Called on the session's runner thread without locks. */
static void run_turn(session *s, pending *p)
{
    sess_mgr *m = s->m;
    turn *t = calloc(1, sizeof *t);
    if (!t) abort();
    t->msg_id = p->msg_id;
    t->user_text = p->content;
    atomic_init(&t->cancel, 0);

    /* The tool table and the note callback as they are now. */
    pthread_mutex_lock(&m->mu);
    size_t n_tools = m->n_tools;
    /* The caller's tools, then the memory tools (remember, recall). */
    agent_tool *tools = malloc((n_tools + SESS_N_MEMORY_TOOLS) * sizeof *tools);
    if (!tools) abort();
    if (n_tools) memcpy(tools, m->tools, n_tools * sizeof *tools);
    for (size_t i = 0; i < SESS_N_MEMORY_TOOLS; i++) {
        tools[n_tools + i] = sess_memory_tool_defs[i];
        tools[n_tools + i].ud = m;
    }
    n_tools += SESS_N_MEMORY_TOOLS;
    void *tools_ud = m->tools_ud;
    sess_note_fn note_fn = m->note;
    void *note_ud = m->note_ud;
    sess_turn_end_fn end_fn = m->turn_end;
    void *end_ud = m->turn_end_ud;
    pthread_mutex_unlock(&m->mu);

    /* Resolve skills and configuration under the lock. */
    skills *reg = sess_mgr_skills(m);
    pthread_mutex_lock(&s->mu);
    char **names = p->skills ? p->skills : s->meta.skills;
    size_t n = p->skills ? p->n_skills : s->meta.n_skills;
    t->runs = calloc(n ? n : 1, sizeof *t->runs);
    if (!t->runs) abort();
    for (size_t i = 0; i < n; i++) {
        const skill *sk = skills_find(reg, names[i]);
        skill_run *r = &t->runs[t->n_runs];
        r->s = s;
        r->t = t;
        r->name = text_dup(names[i]);
        r->instructions = text_dup(sk ? sk->instructions : "");
        if (sk && sk->n_allowed_tools) {
            r->allowed_tools = calloc(sk->n_allowed_tools, sizeof(char *));
            if (!r->allowed_tools) abort();
            for (size_t j = 0; j < sk->n_allowed_tools; j++)
                r->allowed_tools[j] = text_dup(sk->allowed_tools[j]);
            r->n_allowed_tools = sk->n_allowed_tools;
        }
        r->preview_policy = sk ? (int)sk->preview : PREVIEW_POLICY_DEFAULT;
        if (!sk) snprintf(r->err, sizeof r->err, "skill '%s' is no longer loaded", names[i]);
        t->n_runs++;
    }
    qsort(t->runs, t->n_runs, sizeof *t->runs, cmp_run);
    char *provider_name = text_dup(s->meta.provider);
    char *model = text_dup(s->meta.model ? s->meta.model : "");
    char *base_url = text_dup(s->meta.base_url ? s->meta.base_url : "");
    char *system_prompt = text_dup(s->meta.system_prompt ? s->meta.system_prompt : "");
    uint32_t delay = s->meta.token_delay_ms ? s->meta.token_delay_ms : m->default_delay_ms;
    int vision = vision_enabled(s->meta.vision, provider_name, model);
    uint32_t window = sess_window(m, &s->meta);
    uint32_t ratio = s->ratio_milli;
    s->cur = t;
    s->starting = 0;
    s->status = COMFYD__V1__SESSION_STATUS__SESSION_STATUS_WORKING;
    if (!p->stored_running) store_message_finish(m->st, t->msg_id, STORE_MSG_RUNNING, NULL, NULL);
    char detail[64];
    snprintf(detail, sizeof detail, "running %zu skill%s", t->n_runs, t->n_runs == 1 ? "" : "s");
    sess_publish_status_locked(s, t->msg_id, NULL, detail);
    /* The key is read under the same lock as base_url and provider: a
     * configure in between could otherwise pair a new key with the old
     * host (configure writes both with the lock held). */
    char *api_key = NULL;
    store_session_get_api_key(m->st, s->meta.id, &api_key);
    pthread_mutex_unlock(&s->mu);
    skills_unref(reg);

    const provider *prov = provider_find(provider_name);
    /* One note per turn, shared by its skills: the callback may report
     * "changes since the last turn" and so must not be asked twice. */
    char *note = note_fn && t->n_runs ? note_fn(note_ud, s->meta.id) : NULL;
    turn_att ta;
    if (!p->no_attachments)
        sess_turn_attachments(m, t->msg_id, t->user_text, vision, &ta);
    else
        memset(&ta, 0, sizeof ta);

    turn_ctx ctx = {0};
    ctx.base.prov = prov;
    ctx.base.system_prompt = system_prompt;
    ctx.base.context_note = note;
    ctx.base.user_text = ta.text ? ta.text : t->user_text;
    ctx.base.user_images = ta.images;
    ctx.base.n_user_images = ta.n_images;
    ctx.base.tools = tools;
    ctx.base.n_tools = n_tools;
    ctx.base.tools_ud = tools_ud;
    ctx.base.model = model;
    ctx.base.base_url = base_url;
    ctx.base.api_key = api_key;
    ctx.base.token_delay_ms = delay;
    ctx.base.vision = vision;
    ctx.base.connect_timeout_ms = m->llm_connect_timeout_ms;
    ctx.base.idle_timeout_ms = m->llm_idle_timeout_ms;
    ctx.base.session_id = s->meta.id;
    ctx.base.turn_id = t->msg_id;

    /* The context: what every model call sends besides the history must
     * fit the prompt budget; the history gets the rest, compacted when it
     * does not fit (or has more than SESS_PROVIDER_HISTORY messages). */
    uint64_t budget = ctx_prompt_budget(window);
    uint64_t fixed = 0;
    for (size_t i = 0; i < t->n_runs; i++) {
        skill_run *r = &t->runs[i];
        if (r->err[0]) continue;
        agent_skill sk = {.name = r->name,
                          .instructions = r->instructions,
                          .allowed_tools = r->allowed_tools,
                          .n_allowed_tools = r->n_allowed_tools};
        agent_turn tt = ctx.base;
        tt.skill = &sk;
        uint64_t f = ctx_scale(agent_fixed_tokens(&tt), ratio);
        if (f > fixed) fixed = f;
    }
    hist h;
    char ctx_err[sizeof t->runs[0].err] = "";
    int hrc = sess_hist_load(m, s->meta.id, t->msg_id, &h);
    if (hrc != STORE_OK) {
        memset(&h, 0, sizeof h);
        snprintf(ctx_err, sizeof ctx_err, "cannot read the history: %s", store_strerror(hrc));
    } else if (t->n_runs && prov && fixed > budget) {
        snprintf(ctx_err, sizeof ctx_err,
                 "the message with the skill's instructions, the canvas note and the tool schemas "
                 "needs about %llu tokens, more than the prompt budget of %llu (context window "
                 "%u): raise context_window or shorten the message",
                 (unsigned long long)fixed, (unsigned long long)budget, window);
    } else if (t->n_runs && prov) {
        uint64_t allowance = budget - fixed;
        if (sess_hist_tokens(&h, ratio) > allowance || h.n_sel > SESS_PROVIDER_HISTORY) {
            prov_cfg pc = {.prov = prov,
                           .provider_name = provider_name,
                           .model = model,
                           .base_url = base_url,
                           .api_key = api_key,
                           .connect_timeout_ms = m->llm_connect_timeout_ms,
                           .idle_timeout_ms = m->llm_idle_timeout_ms};
            char cerr[200] = "";
            long k = sess_compact_hist(s, &pc, &h, allowance, SESS_PROVIDER_HISTORY / 2, ratio,
                                       &t->cancel, budget, cerr, sizeof cerr);
            if (k < 0)
                snprintf(ctx_err, sizeof ctx_err, "compaction failed: %s", cerr);
            else if (sess_hist_tokens(&h, ratio) > allowance)
                snprintf(ctx_err, sizeof ctx_err,
                         "the history does not fit the prompt budget of %llu tokens even after "
                         "compaction: raise context_window",
                         (unsigned long long)budget);
        }
    }
    prov_msg *hm = calloc(h.n_sel ? h.n_sel : 1, sizeof *hm);
    if (!hm) abort();
    for (size_t i = 0; i < h.n_sel; i++) {
        const store_message *r = &h.rows[h.sel[i]];
        hm[i].role = (prov_role)r->role;
        hm[i].skill = r->skill;
        hm[i].content = r->content ? r->content : "";
    }
    ctx.base.history = hm;
    ctx.base.n_history = h.n_sel;
    ctx.base.summary = h.summary.id ? h.summary.content : NULL;
    ctx.base.budget_tokens = budget;
    ctx.base.ratio_milli = ratio;
    if (ctx_err[0]) {
        for (size_t i = 0; i < t->n_runs; i++) {
            if (t->runs[i].err[0]) continue;
            t->runs[i].rc = AGENT_ECONTEXT;
            snprintf(t->runs[i].err, sizeof t->runs[i].err, "%s", ctx_err);
        }
    }

    if (t->n_runs == 0) {
        pthread_mutex_lock(&s->mu);
        sess_publish_log_locked(s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_WARN, t->msg_id, NULL,
                                "session",
                                "no active skills: nothing to run (configure active_skills)");
        pthread_mutex_unlock(&s->mu);
    }
    /* A lone skill runs on this thread: a thread of its own would only add
     * its start and a hand-off before the first token. */
    size_t n_start = 0;
    for (size_t i = 0; i < t->n_runs; i++)
        if (!t->runs[i].err[0] && prov) n_start++;
    for (size_t i = 0; i < t->n_runs; i++) {
        skill_run *r = &t->runs[i];
        if (r->err[0] || !prov) {
            if (r->rc != AGENT_ECONTEXT) r->rc = AGENT_FAILED;
            if (!prov) snprintf(r->err, sizeof r->err, "unknown provider '%s'", provider_name);
            continue;
        }
        pthread_mutex_lock(&s->mu);
        sess_publish_log_locked(s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_INFO, t->msg_id, r->name,
                                "skill", "skill %s started (provider %s)", r->name, prov->name);
        pthread_mutex_unlock(&s->mu);
        run_arg *a = malloc(sizeof *a);
        if (!a) abort();
        a->r = r;
        a->ctx = &ctx;
        if (n_start == 1) {
            skill_thread(a); /* frees a */
            continue;
        }
        if (pthread_create(&r->thread, NULL, skill_thread, a) != 0) {
            free(a);
            r->rc = AGENT_FAILED;
            snprintf(r->err, sizeof r->err, "cannot start a worker thread");
            r->thread = 0;
            continue;
        }
    }
    for (size_t i = 0; i < t->n_runs; i++)
        if (t->runs[i].thread) pthread_join(t->runs[i].thread, NULL);
    /* Before the replies are published: a client that sees them finds
     * what the turn held (its skills' leases) given back. */
    if (end_fn) end_fn(end_ud, s->meta.id);

    if (api_key) {
        memset(api_key, 0, strlen(api_key));
        free(api_key);
    }
    free(note);
    free(tools);
    free(hm);
    sess_hist_clear(&h);
    sess_turn_att_clear(&ta);

    /* Store the replies in a stable (name) order, the user message's final
     * state and the usage with one commit, then publish their events: a
     * client that sees the reply and sends again finds the store free. */
    pthread_mutex_lock(&s->mu);
    int cancelled = atomic_load(&t->cancel) != 0;
    int failed = 0;
    uint64_t ptok = 0, ctok = 0;
    size_t n_am = 0;
    store_message *ams = calloc(t->n_runs + 1, sizeof *ams);
    skill_run **am_run = calloc(t->n_runs + 1, sizeof *am_run); /* NULL: the no-skills reply */
    const char **am_code = calloc(t->n_runs + 1, sizeof *am_code);
    if (!ams || !am_run || !am_code) abort();
    for (size_t i = 0; i < t->n_runs && !s->deleted; i++) {
        skill_run *r = &t->runs[i];
        ptok += r->prompt_tokens;
        ctok += r->completion_tokens;
        store_message *am = &ams[n_am];
        memcpy(am->session_id, s->meta.id, sizeof am->session_id);
        am->role = STORE_ROLE_ASSISTANT;
        am->skill = r->name;
        am->content = r->reply.p ? r->reply.p : "";
        am->turn_id = t->msg_id;
        am->created_ms = text_now_ms();
        const char *code = "provider_error";
        if (r->rc == AGENT_OK) {
            am->state = STORE_MSG_DONE;
        } else if (r->rc == AGENT_CANCELLED || (r->rc == AGENT_ABORTED && cancelled)) {
            am->state = t->interrupted ? STORE_MSG_INTERRUPTED : STORE_MSG_CANCELLED;
            am->error =
                t->interrupted ? "interrupted: the service stopped during this turn" : "cancelled";
        } else {
            am->state = STORE_MSG_FAILED;
            am->error = r->err[0] ? r->err : "the provider failed";
            if (r->rc == AGENT_ESTEPS) code = "agent_step_limit";
            if (r->rc == AGENT_ELOOP) code = "agent_loop";
            if (r->rc == AGENT_ECONTEXT) code = "context_overflow";
            failed++;
        }
        am_run[n_am] = r;
        am_code[n_am] = code;
        n_am++;
    }
    if (t->n_runs == 0 && !s->deleted && !cancelled && !t->interrupted) {
        /* Nothing ran: answer the turn with a reply that says why, so no
         * surface (panel, MCP, HTTP) shows a message left without an answer.
         * It is stored FAILED, so it never enters a provider's history. */
        store_message *am = &ams[n_am++];
        memcpy(am->session_id, s->meta.id, sizeof am->session_id);
        am->role = STORE_ROLE_ASSISTANT;
        am->content = "";
        am->turn_id = t->msg_id;
        am->created_ms = text_now_ms();
        am->state = STORE_MSG_FAILED;
        am->error = SESS_NO_SKILLS_NOTICE;
        failed++;
    }
    /* Calibrate the estimate with the model server's own count (the echo
     * provider counts words, which says nothing about a tokenizer). */
    for (size_t i = 0; prov && strcmp(prov->name, "echo") != 0 && i < t->n_runs; i++) {
        const agent_stats *st = &t->runs[i].stats;
        if (st->first_prompt_reported && st->first_prompt_estimate)
            s->ratio_milli = ctx_ratio(st->first_prompt_reported, st->first_prompt_estimate);
    }
    store_msg_state ust = t->interrupted ? STORE_MSG_INTERRUPTED
                          : cancelled    ? STORE_MSG_CANCELLED
                          : failed       ? STORE_MSG_FAILED
                                         : STORE_MSG_DONE;
    /* An interrupted turn stays RUNNING in the store so the next start marks
     * it interrupted, exactly as after a crash. */
    int finish_user = !t->interrupted && !s->deleted;
    if (s->deleted) ptok = ctok = 0;
    int src = STORE_OK;
    if (n_am || finish_user || ptok || ctok)
        src = store_turn_end(m->st, s->meta.id, ams, n_am, finish_user ? t->msg_id : 0,
                             finish_user ? ust : 0, ptok, ctok);
    if (src != STORE_OK) {
        LOG_E(MOD, "session %s: cannot store the end of turn %" PRIu64 ": %s", s->meta.id,
              t->msg_id, store_strerror(src));
        for (size_t j = 0; j < n_am; j++) {
            sess_publish_error_locked(s, "store_error", "the reply could not be stored", t->msg_id,
                                      ams[j].skill);
            if (am_run[j] && ams[j].state != STORE_MSG_FAILED) failed++;
        }
        if (finish_user) {
            ust = cancelled ? STORE_MSG_CANCELLED : STORE_MSG_FAILED;
            store_message_finish(m->st, t->msg_id, ust, NULL, NULL);
        }
        n_am = 0;
        ptok = ctok = 0;
    }
    for (size_t j = 0; j < n_am; j++) {
        store_message *am = &ams[j];
        skill_run *r = am_run[j];
        if (r && am->state == STORE_MSG_FAILED) {
            sess_publish_error_locked(s, am_code[j], am->error, t->msg_id, r->name);
            sess_publish_log_locked(s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_ERROR, t->msg_id, r->name,
                                    "skill", "skill %s failed: %s", r->name, am->error);
        }
        if (r && r->stats.steps)
            sess_publish_log_locked(
                s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_DEBUG, t->msg_id, r->name, "skill",
                "skill %s: %u model call%s, %u tool call%s, %" PRIu64 " prompt + %" PRIu64
                " completion tokens",
                r->name, r->stats.steps, r->stats.steps == 1 ? "" : "s", r->stats.tool_calls,
                r->stats.tool_calls == 1 ? "" : "s", r->prompt_tokens, r->completion_tokens);
        s->meta.message_count++;
        sess_publish_message_locked(s, am);
        if (!r)
            sess_publish_error_locked(s, "no_active_skills", SESS_NO_SKILLS_NOTICE, t->msg_id,
                                      NULL);
    }
    if (t->n_runs == 0 && src != STORE_OK && !s->deleted && !cancelled && !t->interrupted)
        sess_publish_error_locked(s, "no_active_skills", SESS_NO_SKILLS_NOTICE, t->msg_id, NULL);
    free(ams);
    free(am_run);
    free(am_code);
    if (ptok || ctok) {
        s->meta.prompt_tokens += ptok;
        s->meta.completion_tokens += ctok;
        sess_publish_log_locked(s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_INFO, t->msg_id, NULL,
                                "session",
                                "turn usage: %" PRIu64 " prompt + %" PRIu64
                                " completion tokens (session total %" PRIu64 " + %" PRIu64 ")",
                                ptok, ctok, s->meta.prompt_tokens, s->meta.completion_tokens);
    }
    if (cancelled && !t->interrupted)
        sess_publish_error_locked(s, "cancelled", "the turn was cancelled", t->msg_id, NULL);
    s->cur = NULL;
    s->status = failed ? COMFYD__V1__SESSION_STATUS__SESSION_STATUS_ERROR
                       : COMFYD__V1__SESSION_STATUS__SESSION_STATUS_IDLE;
    if (!t->interrupted)
        sess_publish_status_locked(s, failed ? t->msg_id : 0, NULL,
                                   failed      ? "turn failed"
                                   : cancelled ? "turn cancelled"
                                               : "turn finished");
    pthread_mutex_unlock(&s->mu);

    for (size_t i = 0; i < t->n_runs; i++) {
        free(t->runs[i].name);
        free(t->runs[i].instructions);
        sess_free_strv(t->runs[i].allowed_tools, t->runs[i].n_allowed_tools);
        text_buf_free(&t->runs[i].reply);
    }
    free(t->runs);
    free(t);
    free(provider_name);
    free(model);
    free(base_url);
    free(system_prompt);
}

static void *runner_main(void *arg)
{
    session *s = arg;
    sess_mgr *m = s->m; /* outlives s: the shutdown waits for m->runners */
    int held = 0;       /* this runner holds the session's lease (several cores) */
    for (;;) {
        pthread_mutex_lock(&s->mu);
        pthread_mutex_lock(&s->m->mu);
        int stop = s->m->shutting_down;
        pthread_mutex_unlock(&s->m->mu);
        pending *p = (stop || s->deleted || s->compacting) ? NULL : s->qhead;
        if (!p) {
            /* Under the lock: a message sent from now on starts a new
             * runner, which takes the lease again. */
            if (held) sess_runner_release(s, &held);
            s->runner_active = 0;
            pthread_mutex_unlock(&s->mu);
            break;
        }
        s->qhead = p->next;
        if (!s->qhead) s->qtail = NULL;
        s->qlen--;
        s->starting = 1;
        /* Several cores: the lease may take a while; the session works. */
        if (s->m->lease) s->status = COMFYD__V1__SESSION_STATUS__SESSION_STATUS_WORKING;
        pthread_mutex_unlock(&s->mu);
        if (s->m->lease && !sess_runner_lease(s, p, &held)) {
            sess_pending_free(p);
            pthread_mutex_lock(&s->mu);
            s->starting = 0;
            if (!s->qhead && !s->cur &&
                s->status == COMFYD__V1__SESSION_STATUS__SESSION_STATUS_WORKING) {
                s->status = COMFYD__V1__SESSION_STATUS__SESSION_STATUS_IDLE;
                sess_publish_status_locked(s, 0, NULL, "nothing left to run here");
            }
            pthread_mutex_unlock(&s->mu);
            continue;
        }
        run_turn(s, p);
        sess_pending_free(p);
        pthread_mutex_lock(&s->mu);
        s->starting = 0; /* run_turn clears it once cur is set; this covers its early ends */
        pthread_mutex_unlock(&s->mu);
    }
    sess_unref(s);
    pthread_mutex_lock(&m->mu);
    if (--m->runners == 0) pthread_cond_broadcast(&m->runners_cv);
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

/* Starts the runner thread if none is active. Called with s->mu held. */
void sess_start_runner_locked(session *s)
{
    if (s->runner_active || !atomic_load(&s->m->started_flag)) return;
    if (s->runner_joinable) {
        /* The previous runner has finished its loop (runner_active is 0), so
         * this join returns at once. */
        pthread_join(s->runner, NULL);
        s->runner_joinable = 0;
    }
    sess_ref(s);
    s->runner_active = 1;
    pthread_mutex_lock(&s->m->mu);
    s->m->runners++;
    pthread_mutex_unlock(&s->m->mu);
    if (pthread_create(&s->runner, NULL, runner_main, s) != 0) {
        LOG_E(MOD, "session %s: cannot start the runner thread", s->meta.id);
        s->runner_active = 0;
        atomic_fetch_sub(&s->refs, 1);
        pthread_mutex_lock(&s->m->mu);
        if (--s->m->runners == 0) pthread_cond_broadcast(&s->m->runners_cv);
        pthread_mutex_unlock(&s->m->mu);
        return;
    }
    s->runner_joinable = 1;
}

void sess_detach_runner_locked(session *s)
{
    if (!s->runner_joinable) return;
    pthread_detach(s->runner);
    s->runner_joinable = 0;
}
