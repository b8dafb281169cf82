#include "agent.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "ctxwin.h"
#include "log.h"
#include "text.h"

/* The conversation of one run: messages pointing at borrowed history and at
 * strings the run owns (kept in `owned` until the end). */
typedef struct conv {
    prov_msg *msgs;
    size_t n, cap;
    char **owned;
    size_t n_owned, cap_owned;
} conv;

static int conv_push(conv *c, prov_msg m)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        prov_msg *nm = realloc(c->msgs, cap * sizeof *nm);
        if (!nm) return -1;
        c->msgs = nm;
        c->cap = cap;
    }
    c->msgs[c->n++] = m;
    return 0;
}

/* Takes ownership of s (freed at the end of the run); NULL stays NULL. */
static char *conv_own(conv *c, char *s)
{
    if (!s) return NULL;
    if (c->n_owned == c->cap_owned) {
        size_t cap = c->cap_owned ? c->cap_owned * 2 : 16;
        char **no = realloc(c->owned, cap * sizeof *no);
        if (!no) {
            free(s);
            return NULL;
        }
        c->owned = no;
        c->cap_owned = cap;
    }
    c->owned[c->n_owned++] = s;
    return s;
}

static void conv_free(conv *c)
{
    for (size_t i = 0; i < c->n_owned; i++)
        free(c->owned[i]);
    free(c->owned);
    free(c->msgs);
}

/* {"<key>": "<text>"} with text escaped; NULL when out of memory. */
static char *json_obj1(const char *key, const char *text, size_t len)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g) return NULL;
    char *out = NULL;
    if (yajl_gen_map_open(g) == yajl_gen_status_ok &&
        yajl_gen_string(g, (const unsigned char *)key, strlen(key)) == yajl_gen_status_ok &&
        yajl_gen_string(g, (const unsigned char *)text, len) == yajl_gen_status_ok &&
        yajl_gen_map_close(g) == yajl_gen_status_ok) {
        const unsigned char *b;
        size_t n;
        yajl_gen_get_buf(g, &b, &n);
        out = text_dupn((const char *)b, n);
    }
    yajl_gen_free(g);
    return out;
}

static char *json_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *json_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return json_obj1("error", msg, strlen(msg));
}

int agent_tool_allowed(const agent_skill *skill, const agent_tool *tool)
{
    if (!tool || !tool->name || !tool->fn) return 0;
    if (skill->read_only && !tool->read_only) return 0;
    if (skill->n_allowed_tools == 0) return 1;
    for (size_t i = 0; i < skill->n_allowed_tools; i++)
        if (skill->allowed_tools[i] && strcmp(skill->allowed_tools[i], tool->name) == 0) return 1;
    return 0;
}

/* Images attached by the calls of the current reply. The bytes and labels
 * are owned by the conversation (freed with it); im[] points at them until
 * they are moved into a USER message. */
struct agent_images {
    conv *cv;
    int vision;
    prov_image im[AGENT_MAX_TURN_IMAGES];
    size_t n;     /* waiting for the message */
    size_t total; /* attached in the turn, waiting ones included */
};

static int mime_ok(const char *mime)
{
    static const char *const ok[] = {"image/png", "image/jpeg", "image/webp", "image/gif"};
    for (size_t i = 0; mime && i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(mime, ok[i]) == 0) return 1;
    return 0;
}

int agent_call_attach_image(const agent_call_ctx *ctx, const char *mime, const void *data,
                            size_t len, const char *label)
{
    agent_images *ai = ctx ? ctx->images : NULL;
    if (!ai || !ai->vision || !ctx->vision || ai->total >= AGENT_MAX_TURN_IMAGES) return -1;
    if (!mime_ok(mime) || !data || len == 0 || len > PROV_MAX_IMAGE_BYTES) return -1;
    char *copy = malloc(len);
    if (!copy) return -1;
    memcpy(copy, data, len);
    if (!conv_own(ai->cv, copy)) return -1;
    const char *m = conv_own(ai->cv, text_dup(mime));
    const char *l = label ? conv_own(ai->cv, text_dup(label)) : NULL;
    if (!m || (label && !l)) return -1;
    ai->im[ai->n++] =
        (prov_image){.mime = m, .data = (const unsigned char *)copy, .len = len, .label = l};
    ai->total++;
    return 0;
}

/* The USER message that shows the model the images the reply's calls
 * attached; nothing when none did. 0, or -1 when out of memory. */
static int flush_images(agent_images *ai)
{
    if (ai->n == 0) return 0;
    prov_image *copy = malloc(ai->n * sizeof *copy);
    if (!copy) return -1;
    memcpy(copy, ai->im, ai->n * sizeof *copy);
    if (!conv_own(ai->cv, (char *)copy)) return -1;
    char *text = conv_own(
        ai->cv, text_printf("The image%s the tool result%s above refer%s to, for you to look at.",
                            ai->n == 1 ? "" : "s", ai->n == 1 ? "" : "s", ai->n == 1 ? "s" : ""));
    if (!text) return -1;
    size_t n = ai->n;
    ai->n = 0;
    return conv_push(
        ai->cv, (prov_msg){.role = PROV_ROLE_USER, .content = text, .images = copy, .n_images = n});
}

typedef struct run {
    const agent_turn *t;
    const agent_sink *sink;
    int emitted;  /* answer text was streamed */
    int need_sep; /* a blank line goes before the next text */
} run;

static void logf_(run *r, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void logf_(run *r, int level, const char *fmt, ...)
{
    if (!r->sink->log) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->sink->log(r->sink->ud, level, msg);
}

static int on_delta(void *ud, const char *text, size_t len)
{
    run *r = ud;
    if (len == 0) return 0;
    if (r->need_sep) {
        r->need_sep = 0;
        if (r->sink->delta(r->sink->ud, "\n\n", 2) != 0) return 1;
    }
    r->emitted = 1;
    return r->sink->delta(r->sink->ud, text, len);
}

static void on_log(void *ud, int level, const char *message)
{
    run *r = ud;
    if (r->sink->log) r->sink->log(r->sink->ud, level, message);
}

static int cancelled(const agent_turn *t)
{
    return t->cancel && atomic_load_explicit(t->cancel, memory_order_acquire) != 0;
}

/* The system message: session prompt, the skill, the canvas note. */
static char *system_text(const agent_turn *t)
{
    const char *sp = t->system_prompt ? t->system_prompt : "";
    const char *ins = t->skill->instructions ? t->skill->instructions : "";
    const char *note = t->context_note ? t->context_note : "";
    size_t nlen = strlen(note);
    if (nlen > AGENT_MAX_NOTE) {
        nlen = AGENT_MAX_NOTE;
        while (nlen > 0 && ((unsigned char)note[nlen] & 0xC0) == 0x80)
            nlen--;
    }
    const char *sum = t->summary ? t->summary : "";
    return text_printf("%s%sYou are acting as the skill \"%s\".\n\n%s%s%.*s%s%s", sp,
                       *sp ? "\n\n" : "", t->skill->name ? t->skill->name : "", ins,
                       nlen ? "\n\n## Canvas\n\n" : "", (int)nlen, note,
                       *sum ? "\n\n## Earlier conversation (compacted)\n\n" : "", sum);
}

/* Estimated tokens of the tools offered. */
static uint64_t tools_tokens(const prov_tool *tools, size_t n)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += ctx_msg_tokens(strlen(tools[i].name) + strlen(tools[i].description) +
                              strlen(tools[i].parameters_json));
    return sum;
}

static uint64_t conv_tokens(const prov_msg *msgs, size_t n)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = msgs[i].content ? strlen(msgs[i].content) : 0;
        for (size_t j = 0; j < msgs[i].n_tool_calls; j++)
            len +=
                strlen(msgs[i].tool_calls[j].id) + strlen(msgs[i].tool_calls[j].name) +
                strlen(msgs[i].tool_calls[j].arguments_json ? msgs[i].tool_calls[j].arguments_json
                                                            : "");
        sum += ctx_msg_tokens(len);
    }
    return sum;
}

uint64_t agent_fixed_tokens(const agent_turn *t)
{
    char *sys = system_text(t);
    uint64_t sum = ctx_msg_tokens(sys ? strlen(sys) : 0);
    free(sys);
    for (size_t i = 0; i < t->n_tools; i++) {
        const agent_tool *tool = &t->tools[i];
        if (!agent_tool_allowed(t->skill, tool)) continue;
        sum +=
            ctx_msg_tokens(strlen(tool->name) + strlen(tool->description ? tool->description : "") +
                           strlen(tool->parameters_json ? tool->parameters_json : ""));
    }
    return sum + ctx_msg_tokens(t->user_text ? strlen(t->user_text) : 0);
}

/* Finds an offered tool by name. */
static const agent_tool *find_tool(const agent_tool *const *offered, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(offered[i]->name, name) == 0) return offered[i];
    return NULL;
}

/* Runs (or refuses) one call. Returns the JSON result (owned) and *ok. */
static char *run_tool(run *r, const agent_tool *const *offered, size_t n_offered,
                      const prov_tool_call *tc, const char *canon, const char *args_err,
                      agent_images *images, int *ok)
{
    const agent_turn *t = r->t;
    *ok = 0;
    const agent_tool *tool = find_tool(offered, n_offered, tc->name);
    if (!tool) {
        for (size_t i = 0; i < t->n_tools; i++)
            if (t->tools[i].name && strcmp(t->tools[i].name, tc->name) == 0)
                return json_error("the tool '%.128s' is not available to the skill %s; use only "
                                  "the tools you were given",
                                  tc->name, t->skill->name);
        return json_error("unknown tool '%.128s'; use only the tools you were given", tc->name);
    }
    if (args_err)
        return json_error("arguments are not valid JSON (%s); send a JSON object", args_err);
    if (canon[0] != '{') return json_error("arguments must be a JSON object");

    char *res = NULL;
    agent_call_ctx ctx = {
        .session_id = t->session_id ? t->session_id : "",
        .turn_id = t->turn_id,
        .skill = t->skill->name,
        .call_id = tc->id,
        .cancel = t->cancel,
        .vision = t->vision != 0,
        .images = images,
        .preview_policy = t->skill->preview_policy,
    };
    int rc = tool->fn(tool->ud ? tool->ud : t->tools_ud, &ctx, canon, &res);
    int good = rc == AGENT_TOOL_OK;
    if (!res) return good ? text_dup("{}") : json_error("the tool %s failed", tool->name);
    size_t len = strlen(res);
    char *out = NULL;
    if (len > AGENT_MAX_TOOL_RESULT) {
        out = json_error("the result of %s is larger than %d bytes; ask for less", tool->name,
                         AGENT_MAX_TOOL_RESULT);
        good = 0;
    } else if (!text_utf8_valid(res, len)) {
        out = json_error("the tool %s returned invalid UTF-8", tool->name);
        good = 0;
    } else {
        char jerr[64];
        if (prov_json_canonical(res, len, &out, jerr, sizeof jerr) != 0)
            out = json_obj1(good ? "result" : "error", res, len); /* plain text */
    }
    free(res);
    *ok = good;
    return out;
}

/* The turn's end for a provider's failure: AGENT_CANCELLED and
 * AGENT_ABORTED are the provider's own codes (comfyd_error.h); any other
 * failure is AGENT_FAILED. */
static int map_prov(int rc)
{
    return rc == PROV_CANCELLED || rc == PROV_ABORTED ? rc : AGENT_FAILED;
}

int agent_run(const agent_turn *t, const agent_sink *sink, agent_stats *stats, char *err,
              size_t errlen)
{
    agent_stats st = {0};
    if (err && errlen) err[0] = 0;
    run r = {.t = t, .sink = sink};
    conv cv = {0};
    agent_images images = {.cv = &cv, .vision = t->vision != 0};
    prov_reply replies[AGENT_MAX_STEPS];
    memset(replies, 0, sizeof replies);
    size_t n_replies = 0;
    char *prev_sig = NULL; /* name NUL arguments of the previous call */
    size_t prev_len = 0;
    int streak = 0;
    int rc = AGENT_ENOMEM;
    uint32_t max_steps =
        t->max_steps && t->max_steps < AGENT_MAX_STEPS ? t->max_steps : AGENT_MAX_STEPS;

    /* Tools the skill may use. */
    const agent_tool *offered[AGENT_MAX_TOOLS];
    prov_tool ptools[AGENT_MAX_TOOLS];
    size_t n_off = 0;
    for (size_t i = 0; i < t->n_tools; i++) {
        const agent_tool *tool = &t->tools[i];
        if (!agent_tool_allowed(t->skill, tool) || find_tool(offered, n_off, tool->name)) continue;
        if (n_off == AGENT_MAX_TOOLS) {
            logf_(&r, LOG_WARN, "agent: more than %d tools; %s and later ones not offered",
                  AGENT_MAX_TOOLS, tool->name);
            break;
        }
        offered[n_off] = tool;
        ptools[n_off].name = tool->name;
        ptools[n_off].description = tool->description ? tool->description : "";
        ptools[n_off].parameters_json = tool->parameters_json ? tool->parameters_json : "";
        n_off++;
    }

    /* The conversation. */
    char *sys = conv_own(&cv, system_text(t));
    if (!sys || conv_push(&cv, (prov_msg){.role = PROV_ROLE_SYSTEM, .content = sys}) != 0) goto out;
    for (size_t i = 0; i < t->n_history; i++) {
        prov_msg m = t->history[i];
        m.tool_calls = NULL;
        m.n_tool_calls = 0;
        m.tool_call_id = NULL;
        if (!m.content) m.content = "";
        if (m.role == PROV_ROLE_ASSISTANT && m.skill && *m.skill &&
            strcmp(m.skill, t->skill->name) != 0) {
            /* Another skill's answer: say whose, so the model does not take
             * it for its own. */
            char *c = conv_own(&cv, text_printf("[%s] %s", m.skill, m.content));
            if (!c) goto out;
            m.content = c;
        }
        if (conv_push(&cv, m) != 0) goto out;
    }
    if (conv_push(&cv, (prov_msg){.role = PROV_ROLE_USER,
                                  .content = t->user_text ? t->user_text : "",
                                  .images = t->user_images,
                                  .n_images = t->n_user_images}) != 0)
        goto out;

    prov_sink psink = {.ud = &r, .delta = on_delta, .log = on_log};
    for (uint32_t step = 0;; step++) {
        if (cancelled(t)) {
            rc = AGENT_CANCELLED;
            goto out;
        }
        prov_request req = {
            .skill_name = t->skill->name,
            .messages = cv.msgs,
            .n_messages = cv.n,
            .tools = ptools,
            .n_tools = n_off,
            .model = t->model ? t->model : "",
            .base_url = t->base_url ? t->base_url : "",
            .api_key = t->api_key,
            .connect_timeout_ms = t->connect_timeout_ms,
            .idle_timeout_ms = t->idle_timeout_ms,
            .token_delay_ms = t->token_delay_ms,
            .cancel = t->cancel,
        };
        uint64_t est = conv_tokens(cv.msgs, cv.n) + tools_tokens(ptools, n_off);
        if (step == 0) st.first_prompt_estimate = est;
        uint64_t scaled = ctx_scale(est, t->ratio_milli);
        if (t->budget_tokens && scaled > t->budget_tokens) {
            rc = AGENT_ECONTEXT;
            if (err && errlen)
                snprintf(err, errlen,
                         "model call %u would send about %llu tokens, more than the context "
                         "budget of %llu (the tool results of this turn grew too large; raise "
                         "the session's context_window or ask for less)",
                         step + 1, (unsigned long long)scaled,
                         (unsigned long long)t->budget_tokens);
            goto out;
        }
        prov_reply *rep = &replies[n_replies++];
        char perr[512] = "";
        r.need_sep = r.emitted;
        int prc = t->prov->run(t->prov, &req, &psink, rep, perr, sizeof perr);
        st.steps++;
        st.prompt_tokens += rep->prompt_tokens;
        if (step == 0 && rep->usage_reported) st.first_prompt_reported = rep->prompt_tokens;
        st.completion_tokens += rep->completion_tokens;
        if (sink->usage && (rep->prompt_tokens || rep->completion_tokens))
            sink->usage(sink->ud, rep->prompt_tokens, rep->completion_tokens);
        if (prc != PROV_OK) {
            rc = map_prov(prc);
            if (rc == AGENT_FAILED && err && errlen)
                snprintf(err, errlen, "%s", perr[0] ? perr : "the provider failed");
            goto out;
        }
        if (rep->finish_reason && strcmp(rep->finish_reason, "length") == 0)
            logf_(&r, LOG_WARN, "agent: the answer was cut at the model's output limit");
        if (rep->n_tool_calls == 0) {
            rc = AGENT_OK;
            goto out;
        }
        if (step + 1 >= max_steps) {
            rc = AGENT_ESTEPS;
            if (err && errlen)
                snprintf(err, errlen,
                         "stopped after %u model calls without a final answer (the model kept "
                         "calling tools)",
                         st.steps);
            goto out;
        }

        /* Ids must be unique within the turn (some servers number calls
         * per reply): they pair results with calls and key idempotency. */
        for (size_t i = 0; i < rep->n_tool_calls; i++) {
            prov_tool_call *tc = &rep->tool_calls[i];
            int dup = 0;
            for (size_t m = 0; m < cv.n && !dup; m++)
                for (size_t j = 0; j < cv.msgs[m].n_tool_calls && !dup; j++)
                    dup = strcmp(cv.msgs[m].tool_calls[j].id, tc->id) == 0;
            for (size_t j = 0; j < i && !dup; j++)
                dup = strcmp(rep->tool_calls[j].id, tc->id) == 0;
            if (dup) {
                char *id = text_printf("call_%u_%zu", step, i);
                if (!id) goto out;
                free(tc->id);
                tc->id = id;
            }
        }
        if (conv_push(&cv, (prov_msg){.role = PROV_ROLE_ASSISTANT,
                                      .skill = t->skill->name,
                                      .content = rep->content ? rep->content : "",
                                      .tool_calls = rep->tool_calls,
                                      .n_tool_calls = rep->n_tool_calls}) != 0)
            goto out;

        for (size_t i = 0; i < rep->n_tool_calls; i++) {
            const prov_tool_call *tc = &rep->tool_calls[i];
            if (cancelled(t)) {
                rc = AGENT_CANCELLED;
                goto out;
            }
            /* Arguments: "" means none; anything else must be JSON. */
            const char *a = tc->arguments_json ? tc->arguments_json : "";
            size_t alen = strlen(a);
            while (alen && (*a == ' ' || *a == '\n' || *a == '\t' || *a == '\r'))
                a++, alen--;
            char *canon = NULL;
            char aerr[160] = "";
            if (alen == 0)
                canon = text_dup("{}");
            else if (prov_json_canonical(a, alen, &canon, aerr, sizeof aerr) != 0)
                canon = NULL;
            const char *shown = canon ? canon : tc->arguments_json;
            st.tool_calls++;
            if (sink->tool_call) sink->tool_call(sink->ud, tc->id, tc->name, shown);

            char *sig = text_printf("%s%c%s", tc->name, 0, shown);
            size_t siglen = strlen(tc->name) + 1 + strlen(shown);
            if (!sig) {
                free(canon);
                goto out;
            }
            int same = prev_sig && prev_len == siglen && memcmp(prev_sig, sig, siglen) == 0;
            streak = same ? streak + 1 : 1;
            free(prev_sig);
            prev_sig = sig;
            prev_len = siglen;
            char *result;
            int ok = 0;
            if (streak >= AGENT_MAX_REPEATS) {
                result = json_error("not run: the same call was repeated %d times in a row",
                                    AGENT_MAX_REPEATS);
                if (sink->tool_result)
                    sink->tool_result(sink->ud, tc->id, tc->name, 0, result ? result : "{}");
                free(result);
                free(canon);
                rc = AGENT_ELOOP;
                if (err && errlen)
                    snprintf(err, errlen,
                             "stopped: the model called %.128s with the same arguments %d times "
                             "in a row",
                             tc->name, AGENT_MAX_REPEATS);
                goto out;
            }
            result = run_tool(&r, offered, n_off, tc, canon, canon ? NULL : aerr, &images, &ok);
            free(canon);
            if (!result || !conv_own(&cv, result)) goto out;
            if (sink->tool_result) sink->tool_result(sink->ud, tc->id, tc->name, ok, result);
            if (conv_push(&cv, (prov_msg){.role = PROV_ROLE_TOOL,
                                          .content = result,
                                          .tool_call_id = tc->id}) != 0)
                goto out;
        }
        /* After every tool message of the reply: OpenAI-compatible servers
         * want the results right behind the calls. */
        if (flush_images(&images) != 0) goto out;
    }

out:
    if (rc == AGENT_ENOMEM && err && errlen) snprintf(err, errlen, "out of memory");
    for (size_t i = 0; i < n_replies; i++)
        prov_reply_clear(&replies[i]);
    free(prev_sig);
    conv_free(&cv);
    if (stats) *stats = st;
    return rc;
}
