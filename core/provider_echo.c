#include "provider_echo.h"

#include "log.h"
#include "text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Longest wait between two looks at the cancel flag. */
#define ECHO_CANCEL_POLL_MS 10

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Number of words (runs of non-whitespace) in s: the echo provider's notion
 * of a token. */
static uint64_t count_words(const char *s)
{
    uint64_t n = 0;
    int in_word = 0;
    for (; s && *s; s++) {
        if (is_ws(*s)) {
            in_word = 0;
        } else if (!in_word) {
            in_word = 1;
            n++;
        }
    }
    return n;
}

static int cancelled(const prov_request *t)
{
    return t->cancel && atomic_load_explicit(t->cancel, memory_order_acquire) != 0;
}

/* The newest user message (the one being answered), or NULL. */
static const prov_msg *last_user(const prov_request *t)
{
    for (size_t i = t->n_messages; i > 0; i--)
        if (t->messages[i - 1].role == PROV_ROLE_USER) return &t->messages[i - 1];
    return NULL;
}

/* Sleeps ms milliseconds in slices, returning 1 as soon as the turn is
 * cancelled (0 when the time ran out). */
static int wait_ms(const prov_request *t, uint32_t ms)
{
    int64_t deadline = text_mono_ms() + ms;
    for (;;) {
        if (cancelled(t)) return 1;
        int64_t left = deadline - text_mono_ms();
        if (left <= 0) return 0;
        if (left > ECHO_CANCEL_POLL_MS) left = ECHO_CANCEL_POLL_MS;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)left * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
}

/* Builds the reply: it names the provider and the skill, so a reader never
 * mistakes it for a model's answer, and says the user's text back (cut to
 * PROVIDER_ECHO_MAX_ECHO bytes at a character boundary). NULL when out of
 * memory. */
static char *build_reply(const prov_request *t, size_t *out_len)
{
    static const char cut[] = " [...truncated]";
    const char *skill = t->skill_name ? t->skill_name : "";
    const prov_msg *last = last_user(t);
    const char *user = last && last->content ? last->content : "";
    size_t ulen = strlen(user), keep = ulen;
    if (keep > PROVIDER_ECHO_MAX_ECHO) {
        keep = PROVIDER_ECHO_MAX_ECHO;
        while (keep > 0 && ((unsigned char)user[keep] & 0xC0) == 0x80)
            keep--;
    }
    size_t prior = 0;
    for (size_t i = 0; i < t->n_messages && &t->messages[i] != last; i++)
        if (t->messages[i].role == PROV_ROLE_USER) prior++;

    char head[128], tail[80] = "";
    /* U+00B7 MIDDLE DOT separates the provider from the skill. */
    if (*skill)
        snprintf(head, sizeof head, "[echo provider \xc2\xb7 skill %.64s] ", skill);
    else
        snprintf(head, sizeof head, "[echo provider] ");
    if (prior > 0)
        snprintf(tail, sizeof tail, " (%zu earlier message%s in this conversation)", prior,
                 prior == 1 ? "" : "s");

    /* Images sent with the message, said deterministically so that offline
     * tests can see what reached the model. */
    char imgs[1024] = "";
    if (last && last->n_images) {
        size_t o = (size_t)snprintf(imgs, sizeof imgs, " [%zu image%s received:", last->n_images,
                                    last->n_images == 1 ? "" : "s");
        for (size_t i = 0; i < last->n_images && o < sizeof imgs; i++)
            o += (size_t)snprintf(
                imgs + o, sizeof imgs - o, "%s %.100s (%s, %zu bytes)", i ? ";" : "",
                last->images[i].label ? last->images[i].label : "image",
                last->images[i].mime ? last->images[i].mime : "?", last->images[i].len);
        if (o < sizeof imgs - 1) snprintf(imgs + o, sizeof imgs - o, "]");
    }
    size_t cap = strlen(head) + 32 + keep + sizeof cut + strlen(tail) + strlen(imgs);
    char *buf = malloc(cap);
    if (!buf) return NULL;
    int n;
    if (ulen == 0)
        n = snprintf(buf, cap, "%sYou said nothing.%s%s", head, imgs, tail);
    else
        n = snprintf(buf, cap, "%sYou said: %.*s%s%s%s", head, (int)keep, user,
                     keep < ulen ? cut : "", imgs, tail);
    *out_len = (size_t)n;
    return buf;
}

static int echo_run(const provider *p, const prov_request *t, const prov_sink *sink,
                    prov_reply *out, char *err, size_t errlen)
{
    (void)p;
    memset(out, 0, sizeof *out);
    if (err && errlen) err[0] = 0;
    const prov_msg *last = last_user(t);
    if (last && last->content && strstr(last->content, PROVIDER_ECHO_FAIL_MARKER)) {
        if (err && errlen) snprintf(err, errlen, "echo provider: failure requested by the message");
        return PROV_FAILED;
    }
    if (cancelled(t)) return PROV_CANCELLED;

    size_t len;
    char *reply = build_reply(t, &len);
    if (!reply) {
        if (err && errlen) snprintf(err, errlen, "echo provider: out of memory");
        return PROV_FAILED;
    }

    uint64_t prompt = 0;
    for (size_t i = 0; i < t->n_messages; i++)
        prompt += count_words(t->messages[i].content);

    if (sink->log) {
        char msg[128];
        snprintf(msg, sizeof msg, "echo: replying with %llu words, %u ms apart",
                 (unsigned long long)count_words(reply), (unsigned)t->token_delay_ms);
        sink->log(sink->ud, LOG_DEBUG, msg);
    }

    /* A token is a word plus the whitespace after it, so the deltas
     * concatenate to the reply exactly. */
    int rc = PROV_OK;
    uint64_t sent = 0;
    size_t i = 0, streamed = 0;
    while (i < len) {
        if (sent > 0 && t->token_delay_ms > 0 && wait_ms(t, t->token_delay_ms)) {
            rc = PROV_CANCELLED;
            break;
        }
        if (cancelled(t)) {
            rc = PROV_CANCELLED;
            break;
        }
        size_t start = i;
        while (i < len && is_ws(reply[i]))
            i++;
        while (i < len && !is_ws(reply[i]))
            i++;
        while (i < len && is_ws(reply[i]))
            i++;
        if (sink->delta(sink->ud, reply + start, i - start) != 0) {
            rc = PROV_ABORTED;
            break;
        }
        sent++;
        streamed = i;
    }
    /* The reply holds exactly what was streamed; tokens already streamed
     * were produced, whether or not the call ran to the end. */
    reply[streamed] = 0;
    out->content = reply;
    out->content_len = streamed;
    out->finish_reason = text_dup(rc == PROV_OK ? "stop" : "");
    out->prompt_tokens = prompt;
    out->completion_tokens = sent;
    out->usage_reported = 1;
    return rc;
}

static const provider echo_provider = {
    .name = "echo",
    .run = echo_run,
    .impl = NULL,
};

const provider *provider_echo(void)
{
    return &echo_provider;
}
