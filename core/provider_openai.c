/* The OpenAI-compatible chat-completions provider (see provider.h).
 *
 * One model call is one HTTP request on a private libcurl easy handle,
 * driven by a private multi handle in short polls so that the cancel flag
 * and the idle timeout are looked at every PROVIDER_OPENAI_POLL_MS. The
 * response body goes through the SSE parser (sse.h); every event's data is
 * one JSON chunk, parsed with yajl callbacks that pick out the few fields
 * used and skip the rest. */
#include "provider.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#include "log.h"
#include "sse.h"
#include "text.h"

/* Bytes of a server's message quoted in an error. */
#define OAI_MAX_QUOTE 300
/* Bytes of the request URL: a session's base_url (at most 2048) plus the path. */
#define OAI_MAX_URL 2200

/* ---- buffers --------------------------------------------------------------- */

/* Growing strings with a hard bound: common/text.h's text_buf. */
typedef text_buf buf;

/* ---- UTF-8 ----------------------------------------------------------------- */

/* Length of the well-formed UTF-8 character at s[0..n) (the rules of
 * text_utf8_valid: no overlongs, surrogates, code points above U+10FFFF or
 * NUL); 0 when s holds a valid beginning of one that needs more bytes; -1
 * when invalid. */
static int u8_len(const unsigned char *s, size_t n)
{
    unsigned char b = s[0];
    int need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b == 0) return -1;
    if (b < 0x80) return 1;
    if (b >= 0xC2 && b <= 0xDF) {
        need = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 3;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 4;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
    } else {
        return -1;
    }
    for (int i = 1; i < need; i++) {
        if ((size_t)i >= n) return 0;
        unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
        if (s[i] < l || s[i] > h) return -1;
    }
    return need;
}

/* ---- the state of one model call ------------------------------------------ */

typedef struct acc_call {
    buf id, name, args;
} acc_call;

typedef struct call {
    const prov_request *req;
    const prov_sink *sink;
    CURL *eh;
    char curl_err[CURL_ERROR_SIZE];

    /* Per attempt. */
    long status;
    int mode;        /* 0 unknown, 1 event stream, 2 one JSON body */
    char ctype[80];  /* the response's Content-Type, for messages */
    uint32_t chunks; /* JSON chunks parsed */
    int64_t retry_after_ms;
    uint64_t body_bytes;
    buf errbody;
    buf jsonbody;
    sse_parser *sse;
    int64_t last_rx_ms;

    /* The reply being assembled. */
    buf content;
    unsigned char carry[4]; /* an incomplete UTF-8 character held back */
    size_t ncarry;
    acc_call calls[PROV_MAX_TOOL_CALLS];
    size_t ncalls;
    buf finish;
    int saw_done, saw_finish;
    uint64_t ptok, ctok;
    int usage;

    int cancel_seen;
    int fail;      /* prov_err once the call cannot go on; 0 before */
    char err[512]; /* the message for PROV_FAILED */
} call;

static void failf(call *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void failf(call *c, int rc, const char *fmt, ...)
{
    if (c->fail) return; /* the first failure is the cause */
    c->fail = rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
}

static int cancelled(const prov_request *r)
{
    return r->cancel && atomic_load_explicit(r->cancel, memory_order_acquire) != 0;
}

static void logf_(call *c, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void logf_(call *c, int level, const char *fmt, ...)
{
    if (!c->sink->log) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->sink->log(c->sink->ud, level, msg);
}

/* Streams answer text: holds back a character cut at the end of s until the
 * next piece completes it, so every delta is whole UTF-8. */
static void emit_content(call *c, const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t used = 0;
    if (c->ncarry) {
        for (;;) {
            int r = u8_len(c->carry, c->ncarry);
            if (r < 0) goto invalid;
            if (r > 0) break;
            if (used == n) return; /* still incomplete */
            c->carry[c->ncarry++] = s[used++];
        }
    }
    size_t i = used;
    size_t tail = n;
    while (i < n) {
        int r = u8_len(s + i, n - i);
        if (r < 0) goto invalid;
        if (r == 0) {
            tail = i;
            break;
        }
        i += (size_t)r;
    }
    size_t total = c->ncarry + (tail - used);
    if (total == 0) goto keep;
    if (c->content.n + total > PROV_MAX_CONTENT) {
        failf(c, PROV_FAILED, "the model's answer is longer than %d bytes", PROV_MAX_CONTENT);
        return;
    }
    size_t start = c->content.n;
    if (text_buf_addn_max(&c->content, c->carry, c->ncarry, PROV_MAX_CONTENT) != 0 ||
        text_buf_addn_max(&c->content, s + used, tail - used, PROV_MAX_CONTENT) != 0) {
        failf(c, PROV_FAILED, "out of memory");
        return;
    }
    c->ncarry = 0;
    if (c->sink->delta(c->sink->ud, c->content.p + start, total) != 0) {
        failf(c, PROV_ABORTED, "the reply was stopped");
        return;
    }
keep:
    if (tail < n) {
        memcpy(c->carry + c->ncarry, s + tail, n - tail);
        c->ncarry += n - tail;
    }
    return;
invalid:
    failf(c, PROV_FAILED, "the model server sent text that is not valid UTF-8");
}

/* ---- one JSON chunk ---------------------------------------------------------
 * Fields used, by path:
 *   choices[].index, choices[].finish_reason,
 *   choices[].delta (or .message).content / .refusal,
 *   choices[].delta.tool_calls[].index / .id / .function.name / .function.arguments
 *     (arguments as a string piece, or as a JSON value some servers send),
 *   usage.prompt_tokens / usage.completion_tokens,
 *   error.message, or error as a string.
 * A choice is applied when its object closes, since "index" may come after
 * "delta"; only the choice with index 0 is used. */

typedef enum {
    X_ROOT,
    X_CHOICES,
    X_CHOICE,
    X_DELTA,
    X_CALLS,
    X_CALL,
    X_FUNC,
    X_USAGE,
    X_ERROR,
    X_SKIP,
} ctx_kind;

typedef enum {
    K_OTHER,
    K_CHOICES,
    K_USAGE,
    K_ERROR,
    K_INDEX,
    K_DELTA,
    K_MESSAGE,
    K_FINISH,
    K_CONTENT,
    K_REFUSAL,
    K_TOOL_CALLS,
    K_ID,
    K_FUNCTION,
    K_NAME,
    K_ARGUMENTS,
    K_PROMPT_TOKENS,
    K_COMPLETION_TOKENS,
} key_kind;

typedef struct frame {
    ctx_kind kind;
    key_kind key; /* the current key, in objects */
    int is_array;
    size_t count; /* elements started, in arrays */
} frame;

typedef struct piece {
    int has_index;
    long long index;
    buf id, name, args;
} piece;

typedef struct chunk {
    call *c;
    frame st[PROV_MAX_JSON_DEPTH + 1];
    int depth; /* index of the top frame; -1 before the root */
    int not_object;
    int too_deep;
    /* The choice being read. */
    int ch_has_index;
    long long ch_index;
    size_t ch_pos;
    buf ch_content;
    buf ch_finish;
    piece pieces[PROV_MAX_TOOL_CALLS];
    size_t npieces;
    /* An error object. */
    int has_error;
    buf error_msg;
    /* Arguments sent as a JSON value: re-encoded into raw. */
    yajl_gen raw;
    int raw_depth;
} chunk;

static key_kind classify(const unsigned char *s, size_t n)
{
    static const struct {
        const char *name;
        key_kind k;
    } keys[] = {
        {"choices", K_CHOICES},
        {"usage", K_USAGE},
        {"error", K_ERROR},
        {"index", K_INDEX},
        {"delta", K_DELTA},
        {"message", K_MESSAGE},
        {"finish_reason", K_FINISH},
        {"content", K_CONTENT},
        {"refusal", K_REFUSAL},
        {"tool_calls", K_TOOL_CALLS},
        {"id", K_ID},
        {"function", K_FUNCTION},
        {"name", K_NAME},
        {"arguments", K_ARGUMENTS},
        {"prompt_tokens", K_PROMPT_TOKENS},
        {"completion_tokens", K_COMPLETION_TOKENS},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strlen(keys[i].name) == n && memcmp(keys[i].name, s, n) == 0) return keys[i].k;
    return K_OTHER;
}

static void pieces_free(chunk *k)
{
    for (size_t i = 0; i < k->npieces; i++) {
        text_buf_free(&k->pieces[i].id);
        text_buf_free(&k->pieces[i].name);
        text_buf_free(&k->pieces[i].args);
    }
    k->npieces = 0;
}

static void choice_reset(chunk *k)
{
    k->ch_has_index = 0;
    k->ch_index = 0;
    text_buf_free(&k->ch_content);
    text_buf_free(&k->ch_finish);
    pieces_free(k);
}

static int add_checked(chunk *k, buf *b, const void *s, size_t n, size_t max, const char *what)
{
    int r = text_buf_addn_max(b, s, n, max);
    if (r == -1) failf(k->c, PROV_FAILED, "the model's %s is longer than %zu bytes", what, max);
    if (r == -2) failf(k->c, PROV_FAILED, "out of memory");
    return r == 0;
}

static int parse_ll(const char *s, size_t n, long long *out)
{
    char tmp[32];
    if (n == 0 || n >= sizeof tmp) return 0;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    char *end;
    errno = 0;
    long long v = strtoll(tmp, &end, 10);
    if (errno || *end) return 0;
    *out = v;
    return 1;
}

/* Finds the tool call a piece belongs to, creating it. NULL on error. */
static acc_call *target_call(call *c, const piece *p)
{
    size_t slot;
    if (p->has_index) {
        if (p->index < 0 || p->index >= PROV_MAX_TOOL_CALLS) {
            failf(c, PROV_FAILED,
                  "the model asked for more than %d tool calls at once (index %lld)",
                  PROV_MAX_TOOL_CALLS, p->index);
            return NULL;
        }
        slot = (size_t)p->index;
    } else {
        /* No index (some servers send every call whole): match by id, else
         * a new call when it has an id, else the latest one. */
        slot = c->ncalls;
        for (size_t i = 0; i < c->ncalls && p->id.n; i++)
            if (c->calls[i].id.n == p->id.n && memcmp(c->calls[i].id.p, p->id.p, p->id.n) == 0)
                slot = i;
        /* Without an id, a name starts a new call once the latest has one. */
        if (slot == c->ncalls && !p->id.n && c->ncalls > 0 &&
            !(p->name.n && c->calls[c->ncalls - 1].name.n))
            slot = c->ncalls - 1;
        if (slot >= PROV_MAX_TOOL_CALLS) {
            failf(c, PROV_FAILED, "the model asked for more than %d tool calls at once",
                  PROV_MAX_TOOL_CALLS);
            return NULL;
        }
    }
    if (slot >= c->ncalls) c->ncalls = slot + 1;
    return &c->calls[slot];
}

static void apply_choice(chunk *k)
{
    call *c = k->c;
    if (k->ch_has_index ? k->ch_index != 0 : k->ch_pos != 0) return;
    if (k->ch_content.n) emit_content(c, k->ch_content.p, k->ch_content.n);
    for (size_t i = 0; i < k->npieces && !c->fail; i++) {
        piece *p = &k->pieces[i];
        acc_call *t = target_call(c, p);
        if (!t) return;
        if (!t->id.n && p->id.n &&
            !add_checked(k, &t->id, p->id.p, p->id.n, PROV_MAX_CALL_ID, "tool call id"))
            return;
        if (!t->name.n && p->name.n &&
            !add_checked(k, &t->name, p->name.p, p->name.n, PROV_MAX_TOOL_NAME, "tool name"))
            return;
        if (p->args.n &&
            !add_checked(k, &t->args, p->args.p, p->args.n, PROV_MAX_TOOL_ARGS, "tool arguments"))
            return;
    }
    if (k->ch_finish.n && !c->fail) {
        text_buf_free(&c->finish);
        if (!add_checked(k, &c->finish, k->ch_finish.p, k->ch_finish.n, 64, "finish reason"))
            return;
        c->saw_finish = 1;
    }
}

static frame *top(chunk *k)
{
    return &k->st[k->depth];
}

/* Scalars: t is 's' string, 'n' number, 'b' boolean, '0' null. */
static int on_scalar(chunk *k, char t, const char *s, size_t n)
{
    if (k->c->fail) return 0;
    if (k->depth < 0) {
        k->not_object = 1;
        return 0;
    }
    frame *f = top(k);
    if (f->is_array) {
        f->count++;
        return 1;
    }
    piece *p = k->npieces ? &k->pieces[k->npieces - 1] : NULL;
    switch (f->kind) {
    case X_ROOT:
        if (f->key == K_ERROR && t == 's') {
            k->has_error = 1;
            return add_checked(k, &k->error_msg, s, n > OAI_MAX_QUOTE ? OAI_MAX_QUOTE : n,
                               OAI_MAX_QUOTE, "error");
        }
        break;
    case X_CHOICE:
        if (f->key == K_INDEX && t == 'n') {
            if (!parse_ll(s, n, &k->ch_index)) return 1;
            k->ch_has_index = 1;
        } else if (f->key == K_FINISH && t == 's') {
            text_buf_free(&k->ch_finish);
            return add_checked(k, &k->ch_finish, s, n, 64, "finish reason");
        }
        break;
    case X_DELTA:
        if ((f->key == K_CONTENT || f->key == K_REFUSAL) && t == 's')
            return add_checked(k, &k->ch_content, s, n, PROV_MAX_CONTENT, "answer");
        break;
    case X_CALL:
        if (!p) break;
        if (f->key == K_INDEX && t == 'n') {
            if (parse_ll(s, n, &p->index)) p->has_index = 1;
        } else if (f->key == K_ID && t == 's') {
            return add_checked(k, &p->id, s, n, PROV_MAX_CALL_ID, "tool call id");
        }
        break;
    case X_FUNC:
        if (!p) break;
        if (f->key == K_NAME && t == 's')
            return add_checked(k, &p->name, s, n, PROV_MAX_TOOL_NAME, "tool name");
        if (f->key == K_ARGUMENTS && t == 's')
            return add_checked(k, &p->args, s, n, PROV_MAX_TOOL_ARGS, "tool arguments");
        break;
    case X_USAGE:
        if (t == 'n') {
            long long v;
            if (!parse_ll(s, n, &v) || v < 0) break;
            if (f->key == K_PROMPT_TOKENS) k->c->ptok = (uint64_t)v, k->c->usage = 1;
            if (f->key == K_COMPLETION_TOKENS) k->c->ctok = (uint64_t)v, k->c->usage = 1;
        }
        break;
    case X_ERROR:
        k->has_error = 1;
        if (f->key == K_MESSAGE && t == 's') {
            text_buf_free(&k->error_msg);
            return add_checked(k, &k->error_msg, s, n > OAI_MAX_QUOTE ? OAI_MAX_QUOTE : n,
                               OAI_MAX_QUOTE, "error");
        }
        break;
    default:
        break;
    }
    return 1;
}

static int raw_ok(chunk *k, yajl_gen_status st)
{
    if (st == yajl_gen_status_ok) return 1;
    failf(k->c, PROV_FAILED, "cannot re-encode tool arguments");
    return 0;
}

/* The arguments value is complete: keep its JSON text as the piece's. */
static int raw_done(chunk *k)
{
    const unsigned char *b;
    size_t n;
    yajl_gen_get_buf(k->raw, &b, &n);
    piece *p = k->npieces ? &k->pieces[k->npieces - 1] : NULL;
    int ok = !p || add_checked(k, &p->args, b, n, PROV_MAX_TOOL_ARGS, "tool arguments");
    yajl_gen_free(k->raw);
    k->raw = NULL;
    return ok;
}

static int cb_null(void *ud)
{
    chunk *k = ud;
    if (k->raw) return raw_ok(k, yajl_gen_null(k->raw));
    return on_scalar(k, '0', "", 0);
}

static int cb_bool(void *ud, int v)
{
    chunk *k = ud;
    if (k->raw) return raw_ok(k, yajl_gen_bool(k->raw, v));
    return on_scalar(k, 'b', v ? "true" : "false", v ? 4 : 5);
}

static int cb_number(void *ud, const char *s, size_t n)
{
    chunk *k = ud;
    if (k->raw) return raw_ok(k, yajl_gen_number(k->raw, s, n));
    return on_scalar(k, 'n', s, n);
}

static int cb_string(void *ud, const unsigned char *s, size_t n)
{
    chunk *k = ud;
    if (k->raw) return raw_ok(k, yajl_gen_string(k->raw, s, n));
    return on_scalar(k, 's', (const char *)s, n);
}

static int cb_key(void *ud, const unsigned char *s, size_t n)
{
    chunk *k = ud;
    if (k->raw) return raw_ok(k, yajl_gen_string(k->raw, s, n));
    if (k->depth >= 0) top(k)->key = classify(s, n);
    return 1;
}

static int open_container(chunk *k, int is_array)
{
    if (k->c->fail) return 0;
    if (k->raw) {
        if (++k->raw_depth > PROV_MAX_JSON_DEPTH) {
            k->too_deep = 1;
            return 0;
        }
        return raw_ok(k, is_array ? yajl_gen_array_open(k->raw) : yajl_gen_map_open(k->raw));
    }
    if (k->depth + 1 > PROV_MAX_JSON_DEPTH) {
        k->too_deep = 1;
        return 0;
    }
    ctx_kind nk = X_SKIP;
    if (k->depth < 0) {
        if (is_array) {
            k->not_object = 1;
            return 0;
        }
        nk = X_ROOT;
    } else {
        frame *f = top(k);
        if (f->is_array) {
            size_t pos = f->count++;
            if (f->kind == X_CHOICES && !is_array) {
                choice_reset(k);
                k->ch_pos = pos;
                nk = X_CHOICE;
            } else if (f->kind == X_CALLS && !is_array) {
                if (k->npieces >= PROV_MAX_TOOL_CALLS) {
                    failf(k->c, PROV_FAILED, "the model asked for more than %d tool calls at once",
                          PROV_MAX_TOOL_CALLS);
                    return 0;
                }
                memset(&k->pieces[k->npieces++], 0, sizeof k->pieces[0]);
                nk = X_CALL;
            }
        } else if (f->kind == X_FUNC && f->key == K_ARGUMENTS) {
            /* Arguments as a JSON value rather than a string. */
            k->raw = yajl_gen_alloc(NULL);
            if (!k->raw) {
                failf(k->c, PROV_FAILED, "out of memory");
                return 0;
            }
            k->raw_depth = 1;
            return raw_ok(k, is_array ? yajl_gen_array_open(k->raw) : yajl_gen_map_open(k->raw));
        } else if (is_array) {
            if (f->kind == X_ROOT && f->key == K_CHOICES) nk = X_CHOICES;
            if (f->kind == X_DELTA && f->key == K_TOOL_CALLS) nk = X_CALLS;
        } else {
            if (f->kind == X_ROOT && f->key == K_USAGE) nk = X_USAGE;
            if (f->kind == X_ROOT && f->key == K_ERROR) nk = X_ERROR;
            if (f->kind == X_CHOICE && (f->key == K_DELTA || f->key == K_MESSAGE)) nk = X_DELTA;
            if (f->kind == X_CALL && f->key == K_FUNCTION) nk = X_FUNC;
        }
    }
    k->depth++;
    frame *n = top(k);
    n->kind = nk;
    n->key = K_OTHER;
    n->is_array = is_array;
    n->count = 0;
    if (nk == X_ERROR) k->has_error = 1;
    return 1;
}

static int close_container(chunk *k, int is_array)
{
    if (k->raw) {
        if (!raw_ok(k, is_array ? yajl_gen_array_close(k->raw) : yajl_gen_map_close(k->raw)))
            return 0;
        if (--k->raw_depth == 0) return raw_done(k);
        return 1;
    }
    ctx_kind kind = top(k)->kind;
    k->depth--;
    if (kind == X_CHOICE) {
        apply_choice(k);
        choice_reset(k);
    }
    return !k->c->fail;
}

static int cb_start_map(void *ud)
{
    return open_container(ud, 0);
}

static int cb_end_map(void *ud)
{
    return close_container(ud, 0);
}

static int cb_start_array(void *ud)
{
    return open_container(ud, 1);
}

static int cb_end_array(void *ud)
{
    return close_container(ud, 1);
}

static const yajl_callbacks chunk_callbacks = {
    .yajl_null = cb_null,
    .yajl_boolean = cb_bool,
    .yajl_number = cb_number,
    .yajl_string = cb_string,
    .yajl_start_map = cb_start_map,
    .yajl_map_key = cb_key,
    .yajl_end_map = cb_end_map,
    .yajl_start_array = cb_start_array,
    .yajl_end_array = cb_end_array,
};

/* Copies a server's message into dst as one printable line. */
static void quote(char *dst, size_t dstlen, const char *s, size_t n)
{
    size_t o = 0;
    if (n > OAI_MAX_QUOTE) n = OAI_MAX_QUOTE;
    for (size_t i = 0; i < n && o + 1 < dstlen;) {
        int r = u8_len((const unsigned char *)s + i, n - i);
        if (r <= 0) break;
        if (r == 1) {
            char ch = s[i];
            dst[o++] = (ch == '\n' || ch == '\r' || ch == '\t') ? ' ' : (ch < 0x20 ? '?' : ch);
        } else {
            if (o + (size_t)r + 1 > dstlen) break;
            memcpy(dst + o, s + i, (size_t)r);
            o += (size_t)r;
        }
        i += (size_t)r;
    }
    while (o > 0 && dst[o - 1] == ' ')
        o--;
    dst[o] = 0;
}

/* Parses one JSON chunk (an event's data, or a whole non-streamed body). */
static void parse_chunk(call *c, const char *data, size_t len)
{
    chunk *k = calloc(1, sizeof *k);
    if (!k) {
        failf(c, PROV_FAILED, "out of memory");
        return;
    }
    k->c = c;
    k->depth = -1;
    yajl_handle h = yajl_alloc(&chunk_callbacks, NULL, k);
    if (!h) {
        free(k);
        failf(c, PROV_FAILED, "out of memory");
        return;
    }
    /* Strings are checked by emit_content and at the end instead, so that a
     * character split across two chunks is joined rather than refused. */
    yajl_config(h, yajl_dont_validate_strings, 1);
    yajl_status st = yajl_parse(h, (const unsigned char *)data, len);
    if (st == yajl_status_ok) st = yajl_complete_parse(h);
    if (!c->fail) {
        if (k->not_object) {
            failf(c, PROV_FAILED, "the model server sent a malformed JSON chunk (not an object)");
        } else if (k->too_deep) {
            failf(c, PROV_FAILED, "the model server sent a JSON chunk nested over %d levels",
                  PROV_MAX_JSON_DEPTH);
        } else if (st != yajl_status_ok) {
            unsigned char *m = yajl_get_error(h, 0, NULL, 0);
            const char *msg = m ? (const char *)m : "parse error";
            failf(c, PROV_FAILED, "the model server sent a malformed JSON chunk: %.*s",
                  (int)strcspn(msg, ".\n"), msg);
            if (m) yajl_free_error(h, m);
        } else if (k->has_error) {
            char q[OAI_MAX_QUOTE + 1];
            quote(q, sizeof q, k->error_msg.p ? k->error_msg.p : "", k->error_msg.n);
            failf(c, PROV_FAILED, "the model server reported an error: %s",
                  q[0] ? q : "(no message)");
        }
    }
    yajl_free(h);
    if (k->raw) yajl_gen_free(k->raw);
    choice_reset(k);
    text_buf_free(&k->error_msg);
    free(k);
}

/* ---- transport callbacks ---------------------------------------------------- */

static int on_event(void *ud, const sse_event *ev)
{
    call *c = ud;
    if (c->saw_done) return 0; /* nothing counts after [DONE] */
    const char *d = ev->data;
    size_t n = ev->data_len;
    while (n && (*d == ' ' || *d == '\t' || *d == '\n'))
        d++, n--;
    while (n && (d[n - 1] == ' ' || d[n - 1] == '\t' || d[n - 1] == '\n'))
        n--;
    if (n == 0) return 0;
    if (n == 6 && memcmp(d, "[DONE]", 6) == 0) {
        c->saw_done = 1;
        return 0;
    }
    if (ev->type_len == 5 && memcmp(ev->type, "error", 5) == 0) {
        /* Some servers report a failure mid-stream as an "error" event. */
        char q[OAI_MAX_QUOTE + 1];
        quote(q, sizeof q, d, n);
        failf(c, PROV_FAILED, "the model server reported an error: %s", q);
        return 1;
    }
    if (!(ev->type_len == 7 && memcmp(ev->type, "message", 7) == 0)) return 0;
    c->chunks++;
    parse_chunk(c, d, n);
    return c->fail != 0;
}

static int status_ok(long s)
{
    return s >= 200 && s < 300;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    call *c = ud;
    size_t n = size * nmemb;
    c->last_rx_ms = text_mono_ms();
    if (c->fail) return 0;
    if (cancelled(c->req)) {
        c->cancel_seen = 1;
        return 0; /* stops the transfer at once */
    }
    if (c->mode == 0) {
        curl_easy_getinfo(c->eh, CURLINFO_RESPONSE_CODE, &c->status);
        char *ct = NULL;
        curl_easy_getinfo(c->eh, CURLINFO_CONTENT_TYPE, &ct);
        c->mode = (ct && strstr(ct, "json") && !strstr(ct, "event-stream")) ? 2 : 1;
        quote(c->ctype, sizeof c->ctype, ct ? ct : "", ct ? strlen(ct) : 0);
    }
    c->body_bytes += n;
    if (!status_ok(c->status)) {
        /* Keep the start of an error body for its message; stop reading
         * there, as the status already says what happened. */
        size_t room = PROVIDER_OPENAI_MAX_ERROR_BODY - c->errbody.n;
        if (room == 0) return 0;
        if (text_buf_addn_max(&c->errbody, ptr, n < room ? n : room,
                              PROVIDER_OPENAI_MAX_ERROR_BODY) == -2)
            return 0;
        return n;
    }
    if (c->body_bytes > PROVIDER_OPENAI_MAX_BODY) {
        failf(c, PROV_FAILED, "the model server's response is larger than %d MiB",
              PROVIDER_OPENAI_MAX_BODY / (1024 * 1024));
        return 0;
    }
    if (c->mode == 2) {
        if (text_buf_addn_max(&c->jsonbody, ptr, n, PROVIDER_OPENAI_MAX_BODY) != 0) {
            failf(c, PROV_FAILED, "out of memory");
            return 0;
        }
        return n;
    }
    int rc = sse_feed(c->sse, ptr, n);
    if (rc == SSE_ETOOBIG)
        failf(c, PROV_FAILED, "the model server sent an event larger than %d bytes",
              SSE_DEFAULT_MAX_DATA);
    else if (rc == SSE_ENOMEM)
        failf(c, PROV_FAILED, "out of memory");
    return c->fail ? 0 : n;
}

static size_t on_header(char *b, size_t size, size_t nmemb, void *ud)
{
    call *c = ud;
    size_t n = size * nmemb;
    c->last_rx_ms = text_mono_ms();
    if (cancelled(c->req)) {
        c->cancel_seen = 1;
        return 0;
    }
    if (n >= 5 && memcmp(b, "HTTP/", 5) == 0) {
        c->retry_after_ms = -1; /* a new response (after a 100 Continue, say) */
        return n;
    }
    int ms = 0;
    size_t skip = 0;
    if (n > 15 && strncasecmp(b, "retry-after-ms:", 15) == 0) {
        skip = 15;
        ms = 1;
    } else if (n > 12 && strncasecmp(b, "retry-after:", 12) == 0) {
        skip = 12;
    }
    if (skip) {
        size_t i = skip;
        while (i < n && (b[i] == ' ' || b[i] == '\t'))
            i++;
        int64_t v = 0;
        size_t d = i;
        while (i < n && b[i] >= '0' && b[i] <= '9' && v < INT64_MAX / 1000 / 10)
            v = v * 10 + (b[i++] - '0');
        /* Seconds only: an HTTP date falls back to the backoff. */
        if (i > d) c->retry_after_ms = ms ? v : v * 1000;
    }
    return n;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    call *c = ud;
    if (cancelled(c->req)) {
        c->cancel_seen = 1;
        return 1;
    }
    return 0;
}

/* ---- request ---------------------------------------------------------------- */

static int gstr(yajl_gen g, const char *s)
{
    return yajl_gen_string(g, (const unsigned char *)s, strlen(s)) == yajl_gen_status_ok;
}

static const char *role_name(prov_role r)
{
    switch (r) {
    case PROV_ROLE_SYSTEM:
        return "system";
    case PROV_ROLE_ASSISTANT:
        return "assistant";
    case PROV_ROLE_TOOL:
        return "tool";
    default:
        return "user";
    }
}

static int image_mime_ok(const char *mime)
{
    static const char *const ok[] = {"image/png", "image/jpeg", "image/webp", "image/gif"};
    for (size_t i = 0; mime && i < sizeof ok / sizeof *ok; i++)
        if (strcmp(mime, ok[i]) == 0) return 1;
    return 0;
}

/* A user message with images as OpenAI's content parts: the text, then per
 * image its label (when given) and an image_url part holding a data: URL,
 * which every OpenAI-compatible server with vision accepts (no upload step,
 * no URL the model's host would have to reach). Returns 1, or 0 with err. */
static int gen_parts(yajl_gen g, const char *text, const prov_image *im, size_t n, char *err,
                     size_t errlen)
{
    if (n > PROV_MAX_IMAGES) {
        snprintf(err, errlen, "%zu images in one message (the limit is %d)", n, PROV_MAX_IMAGES);
        return 0;
    }
    int ok = yajl_gen_array_open(g) == yajl_gen_status_ok;
    if (ok && *text)
        ok = yajl_gen_map_open(g) == yajl_gen_status_ok && gstr(g, "type") && gstr(g, "text") &&
             gstr(g, "text") && gstr(g, text) && yajl_gen_map_close(g) == yajl_gen_status_ok;
    for (size_t i = 0; ok && i < n; i++) {
        if (!image_mime_ok(im[i].mime) || !im[i].data || !im[i].len) {
            snprintf(err, errlen, "image %zu: not a PNG, JPEG, WebP or GIF file", i + 1);
            return 0;
        }
        if (im[i].len > PROV_MAX_IMAGE_BYTES) {
            snprintf(err, errlen, "image %zu: %zu bytes (the limit is %u)", i + 1, im[i].len,
                     PROV_MAX_IMAGE_BYTES);
            return 0;
        }
        if (im[i].label && *im[i].label)
            ok = yajl_gen_map_open(g) == yajl_gen_status_ok && gstr(g, "type") && gstr(g, "text") &&
                 gstr(g, "text") && gstr(g, im[i].label) &&
                 yajl_gen_map_close(g) == yajl_gen_status_ok;
        text_buf url = {0};
        text_buf_addf(&url, "data:%s;base64,", im[i].mime);
        text_buf_add_base64(&url, im[i].data, im[i].len);
        if (url.oom) {
            free(url.p);
            snprintf(err, errlen, "out of memory");
            return 0;
        }
        ok = ok && yajl_gen_map_open(g) == yajl_gen_status_ok && gstr(g, "type") &&
             gstr(g, "image_url") && gstr(g, "image_url") &&
             yajl_gen_map_open(g) == yajl_gen_status_ok && gstr(g, "url") &&
             yajl_gen_string(g, (const unsigned char *)url.p, url.n) == yajl_gen_status_ok &&
             yajl_gen_map_close(g) == yajl_gen_status_ok &&
             yajl_gen_map_close(g) == yajl_gen_status_ok;
        free(url.p);
    }
    ok = ok && yajl_gen_array_close(g) == yajl_gen_status_ok;
    if (!ok) snprintf(err, errlen, "image parts cannot be encoded");
    return ok;
}

/* Builds the JSON body into *out (malloc'd). Returns 0 or -1 with err. */
static int build_body(const prov_request *r, char **out, size_t *outlen, char *err, size_t errlen)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    if (errlen) err[0] = 0;
    int ok = yajl_gen_map_open(g) == yajl_gen_status_ok && gstr(g, "model") && gstr(g, r->model) &&
             gstr(g, "stream") && yajl_gen_bool(g, 1) == yajl_gen_status_ok &&
             gstr(g, "stream_options") && yajl_gen_map_open(g) == yajl_gen_status_ok &&
             gstr(g, "include_usage") && yajl_gen_bool(g, 1) == yajl_gen_status_ok &&
             yajl_gen_map_close(g) == yajl_gen_status_ok && gstr(g, "messages") &&
             yajl_gen_array_open(g) == yajl_gen_status_ok;
    for (size_t i = 0; ok && i < r->n_messages; i++) {
        const prov_msg *m = &r->messages[i];
        const char *content = m->content ? m->content : "";
        ok = yajl_gen_map_open(g) == yajl_gen_status_ok && gstr(g, "role") &&
             gstr(g, role_name(m->role));
        if (ok && m->role == PROV_ROLE_ASSISTANT && m->n_tool_calls) {
            ok = gstr(g, "content") &&
                 (*content ? gstr(g, content) : yajl_gen_null(g) == yajl_gen_status_ok) &&
                 gstr(g, "tool_calls") && yajl_gen_array_open(g) == yajl_gen_status_ok;
            for (size_t j = 0; ok && j < m->n_tool_calls; j++) {
                const prov_tool_call *tc = &m->tool_calls[j];
                ok = yajl_gen_map_open(g) == yajl_gen_status_ok && gstr(g, "id") &&
                     gstr(g, tc->id ? tc->id : "") && gstr(g, "type") && gstr(g, "function") &&
                     gstr(g, "function") && yajl_gen_map_open(g) == yajl_gen_status_ok &&
                     gstr(g, "name") && gstr(g, tc->name ? tc->name : "") && gstr(g, "arguments") &&
                     gstr(g,
                          tc->arguments_json && *tc->arguments_json ? tc->arguments_json : "{}") &&
                     yajl_gen_map_close(g) == yajl_gen_status_ok &&
                     yajl_gen_map_close(g) == yajl_gen_status_ok;
            }
            ok = ok && yajl_gen_array_close(g) == yajl_gen_status_ok;
        } else if (ok && m->role == PROV_ROLE_USER && m->n_images) {
            ok = gstr(g, "content") && gen_parts(g, content, m->images, m->n_images, err, errlen);
        } else if (ok) {
            ok = gstr(g, "content") && gstr(g, content);
            if (ok && m->role == PROV_ROLE_TOOL)
                ok = gstr(g, "tool_call_id") && gstr(g, m->tool_call_id ? m->tool_call_id : "");
        }
        ok = ok && yajl_gen_map_close(g) == yajl_gen_status_ok;
        if (!ok && !err[0])
            snprintf(err, errlen, "message %zu cannot be encoded (not valid UTF-8?)", i);
    }
    ok = ok && yajl_gen_array_close(g) == yajl_gen_status_ok;
    if (ok && r->n_tools) {
        ok = gstr(g, "tools") && yajl_gen_array_open(g) == yajl_gen_status_ok;
        for (size_t i = 0; ok && i < r->n_tools; i++) {
            const prov_tool *t = &r->tools[i];
            const char *params = t->parameters_json && *t->parameters_json
                                     ? t->parameters_json
                                     : "{\"type\":\"object\",\"properties\":{}}";
            char *canon = NULL;
            char perr[160];
            if (prov_json_canonical(params, strlen(params), &canon, perr, sizeof perr) != 0) {
                snprintf(err, errlen, "tool %s: parameters are not valid JSON: %s", t->name, perr);
                ok = 0;
                break;
            }
            /* yajl has no call to insert JSON text; a "number" is written
             * verbatim, and canon was just checked to be one JSON value. */
            ok = yajl_gen_map_open(g) == yajl_gen_status_ok && gstr(g, "type") &&
                 gstr(g, "function") && gstr(g, "function") &&
                 yajl_gen_map_open(g) == yajl_gen_status_ok && gstr(g, "name") &&
                 gstr(g, t->name) && gstr(g, "description") &&
                 gstr(g, t->description ? t->description : "") && gstr(g, "parameters") &&
                 yajl_gen_number(g, canon, strlen(canon)) == yajl_gen_status_ok &&
                 yajl_gen_map_close(g) == yajl_gen_status_ok &&
                 yajl_gen_map_close(g) == yajl_gen_status_ok;
            free(canon);
            if (!ok && !err[0]) snprintf(err, errlen, "tool %zu cannot be encoded", i);
        }
        ok = ok && yajl_gen_array_close(g) == yajl_gen_status_ok;
    }
    ok = ok && yajl_gen_map_close(g) == yajl_gen_status_ok;
    if (ok) {
        const unsigned char *b;
        size_t n;
        yajl_gen_get_buf(g, &b, &n);
        *out = malloc(n + 1);
        if (*out) {
            memcpy(*out, b, n);
            (*out)[n] = 0;
            *outlen = n;
        } else {
            snprintf(err, errlen, "out of memory");
            ok = 0;
        }
    } else if (!err[0]) {
        snprintf(err, errlen, "the request cannot be encoded (not valid UTF-8?)");
    }
    yajl_gen_free(g);
    return ok ? 0 : -1;
}

/* ---- errors ------------------------------------------------------------------ */

static int tok_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_' || ch == '*' || ch == '.' || ch == '+' || ch == '/' || ch == '=';
}

/* 1 when a word of a message may be (part of) the key: any piece of it
 * between mask characters ('*', '.') of 4 or more bytes occurs in the key,
 * as servers quote keys with their middle masked. */
static int leaks_key(const char *w, size_t n, const char *key, size_t klen)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (w[i] == '*' || w[i] == '.'))
            i++;
        size_t j = i;
        while (j < n && w[j] != '*' && w[j] != '.')
            j++;
        if (j - i >= 4 && memmem(key, klen, w + i, j - i)) return 1;
        i = j;
    }
    return 0;
}

/* Removes the key, whole or in quoted pieces, from a message. */
static void scrub(char *s, size_t cap, const char *key)
{
    if (!key || !*key || !s) return;
    size_t klen = strlen(key);
    char out[1024];
    size_t o = 0;
    static const char red[] = "[redacted]";
    for (size_t i = 0; s[i] && o + 1 < sizeof out;) {
        if (strncmp(s + i, key, klen) == 0) {
            size_t k = sizeof red - 1;
            if (o + k >= sizeof out) break;
            memcpy(out + o, red, k);
            o += k;
            i += klen;
        } else if (tok_char(s[i])) {
            size_t j = i;
            while (s[j] && tok_char(s[j]))
                j++;
            const char *w = s + i;
            size_t wn = j - i;
            if (leaks_key(w, wn, key, klen)) w = red, wn = sizeof red - 1;
            if (o + wn >= sizeof out) break;
            memcpy(out + o, w, wn);
            o += wn;
            i = j;
        } else {
            out[o++] = s[i++];
        }
    }
    out[o] = 0;
    if (o >= cap) {
        o = cap - 1;
        while (o > 0 && ((unsigned char)out[o] & 0xC0) == 0x80)
            o--;
        out[o] = 0;
    }
    memcpy(s, out, o + 1);
}

/* The server's message from an error body: error.message, error (a
 * string), message or detail of a JSON object, else the text itself. */
static void server_message(const buf *body, char *dst, size_t dstlen)
{
    dst[0] = 0;
    if (!body->n) return;
    char ebuf[64];
    yajl_val root = yajl_tree_parse(body->p, ebuf, sizeof ebuf);
    if (root) {
        static const char *p_err_msg[] = {"error", "message", NULL};
        static const char *p_err[] = {"error", NULL};
        static const char *p_msg[] = {"message", NULL};
        static const char *p_detail[] = {"detail", NULL};
        const char **paths[] = {p_err_msg, p_err, p_msg, p_detail};
        for (size_t i = 0; i < 4; i++) {
            yajl_val v = yajl_tree_get(root, paths[i], yajl_t_string);
            const char *sv = v ? YAJL_GET_STRING(v) : NULL;
            if (sv) {
                quote(dst, dstlen, sv, strlen(sv));
                break;
            }
        }
        yajl_tree_free(root);
        return;
    }
    if (text_utf8_valid(body->p, body->n)) quote(dst, dstlen, body->p, body->n);
}

static void http_error(call *c, long status, int retries)
{
    char msg[OAI_MAX_QUOTE + 1];
    server_message(&c->errbody, msg, sizeof msg);
    const char *sep = msg[0] ? ": " : "";
    if (status == 401 || status == 403) {
        failf(c, PROV_FAILED, "the model server refused the API key (HTTP %ld)%s%s%s", status,
              c->req->api_key ? "" : "; no API key is set for this session", sep, msg);
    } else if (status == 404) {
        failf(c, PROV_FAILED,
              "model '%.100s' not found (HTTP 404): check the model name and base_url%s%s",
              c->req->model, sep, msg);
    } else if (status == 429) {
        failf(c, PROV_FAILED, "rate limited by the model server (HTTP 429, %d retries)%s%s",
              retries, sep, msg);
    } else if (status >= 500) {
        failf(c, PROV_FAILED, "the model server failed (HTTP %ld, %d retries)%s%s", status, retries,
              sep, msg);
    } else {
        failf(c, PROV_FAILED, "the model server answered HTTP %ld%s%s", status, sep, msg);
    }
}

static int retryable(long s)
{
    return s == 408 || s == 429 || (s >= 500 && s <= 599);
}

/* Sleeps ms in slices; returns 1 as soon as the call is cancelled. */
static int wait_ms(const prov_request *r, int64_t ms)
{
    int64_t deadline = text_mono_ms() + ms;
    for (;;) {
        if (cancelled(r)) return 1;
        int64_t left = deadline - text_mono_ms();
        if (left <= 0) return 0;
        if (left > PROVIDER_OPENAI_POLL_MS) left = PROVIDER_OPENAI_POLL_MS;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)left * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
}

/* ---- the call ------------------------------------------------------------------ */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ready;

static void curl_init_once(void)
{
    curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

/* The URL with any user:password@ replaced, for messages. */
static void url_for_log(const char *url, char *dst, size_t dstlen)
{
    const char *p = strstr(url, "://");
    const char *host = p ? p + 3 : url;
    const char *slash = strchr(host, '/');
    const char *at = memchr(host, '@', slash ? (size_t)(slash - host) : strlen(host));
    if (at)
        snprintf(dst, dstlen, "%.*s***@%s", (int)(host - url), url, at + 1);
    else
        snprintf(dst, dstlen, "%s", url);
}

/* Runs one HTTP exchange: the multi loop, watching cancel and idleness. */
static CURLcode perform(call *c, uint32_t idle_ms)
{
    CURLM *m = curl_multi_init();
    if (!m) return CURLE_OUT_OF_MEMORY;
    if (curl_multi_add_handle(m, c->eh) != CURLM_OK) {
        curl_multi_cleanup(m);
        return CURLE_OUT_OF_MEMORY;
    }
    CURLcode res = CURLE_OK;
    int running = 1;
    c->last_rx_ms = text_mono_ms();
    for (;;) {
        if (curl_multi_perform(m, &running) != CURLM_OK) {
            res = CURLE_OUT_OF_MEMORY;
            break;
        }
        if (!running) {
            int q;
            CURLMsg *msg;
            while ((msg = curl_multi_info_read(m, &q)))
                if (msg->msg == CURLMSG_DONE) res = msg->data.result;
            break;
        }
        if (cancelled(c->req)) {
            c->cancel_seen = 1;
            res = CURLE_ABORTED_BY_CALLBACK;
            break;
        }
        if (c->fail) {
            res = CURLE_WRITE_ERROR;
            break;
        }
        if (text_mono_ms() - c->last_rx_ms > (int64_t)idle_ms) {
            failf(c, PROV_FAILED, "no data from the model server for %u.%u s", idle_ms / 1000,
                  idle_ms % 1000 / 100);
            res = CURLE_OPERATION_TIMEDOUT;
            break;
        }
        if (curl_multi_poll(m, NULL, 0, PROVIDER_OPENAI_POLL_MS, NULL) != CURLM_OK) {
            res = CURLE_OUT_OF_MEMORY;
            break;
        }
    }
    /* Removing a handle mid-transfer closes its connection. */
    curl_multi_remove_handle(m, c->eh);
    curl_multi_cleanup(m);
    return res;
}

static void reset_attempt(call *c)
{
    c->status = 0;
    c->mode = 0;
    c->ctype[0] = 0;
    c->chunks = 0;
    c->retry_after_ms = -1;
    c->body_bytes = 0;
    text_buf_free(&c->errbody);
    text_buf_free(&c->jsonbody);
    sse_destroy(c->sse);
    c->sse = NULL;
}

/* Checks the assembled tool calls and moves the reply into out. */
static void finish_reply(call *c, prov_reply *out)
{
    if (!c->fail && c->ncarry)
        failf(c, PROV_FAILED, "the model server sent text that is not valid UTF-8 (cut character)");
    for (size_t i = 0; i < c->ncalls && !c->fail; i++) {
        acc_call *t = &c->calls[i];
        if (!t->name.n) {
            failf(c, PROV_FAILED, "the model sent tool call %zu without a name", i);
            break;
        }
        if (!text_utf8_valid(t->name.p, t->name.n) ||
            (t->id.n && !text_utf8_valid(t->id.p, t->id.n)) ||
            (t->args.n && !text_utf8_valid(t->args.p, t->args.n))) {
            failf(c, PROV_FAILED, "the model sent tool call %zu with invalid UTF-8", i);
            break;
        }
    }
    out->content = c->content.n ? text_buf_take(&c->content) : NULL;
    out->content_len = out->content ? strlen(out->content) : 0;
    if (!c->fail && c->ncalls) {
        out->tool_calls = calloc(c->ncalls, sizeof *out->tool_calls);
        if (!out->tool_calls) {
            failf(c, PROV_FAILED, "out of memory");
        } else {
            for (size_t i = 0; i < c->ncalls; i++) {
                acc_call *t = &c->calls[i];
                if (!t->id.n) {
                    /* Some local servers send no ids; the conversation needs one. */
                    char id[32];
                    snprintf(id, sizeof id, "call_%zu", i);
                    text_buf_addn_max(&t->id, id, strlen(id), PROV_MAX_CALL_ID);
                }
                out->tool_calls[i].id = text_buf_take(&t->id);
                out->tool_calls[i].name = text_buf_take(&t->name);
                out->tool_calls[i].arguments_json = text_buf_take(&t->args);
            }
            out->n_tool_calls = c->ncalls;
        }
    }
    out->finish_reason = c->finish.n && text_utf8_valid(c->finish.p, c->finish.n)
                             ? text_buf_take(&c->finish)
                             : text_dup("");
    out->prompt_tokens = c->ptok;
    out->completion_tokens = c->ctok;
    out->usage_reported = c->usage;
}

static void call_free(call *c)
{
    reset_attempt(c);
    text_buf_free(&c->content);
    text_buf_free(&c->finish);
    for (size_t i = 0; i < PROV_MAX_TOOL_CALLS; i++) {
        text_buf_free(&c->calls[i].id);
        text_buf_free(&c->calls[i].name);
        text_buf_free(&c->calls[i].args);
    }
}

/* Explains a transport failure in a sentence. */
static void transport_error(call *c, CURLcode res, const char *url)
{
    const char *detail = c->curl_err[0] ? c->curl_err : curl_easy_strerror(res);
    switch (res) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        failf(c, PROV_FAILED, "cannot connect to the model server at %s: %s", url, detail);
        break;
    case CURLE_OPERATION_TIMEDOUT:
        failf(c, PROV_FAILED, "the model server at %s timed out: %s", url, detail);
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        failf(c, PROV_FAILED, "TLS failed with the model server at %s: %s", url, detail);
        break;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2_STREAM:
        failf(c, PROV_FAILED, "stream ended early: the connection broke (%s)", detail);
        break;
    default:
        failf(c, PROV_FAILED, "request to the model server failed: %s", detail);
        break;
    }
}

static int openai_run(const provider *p, const prov_request *req, const prov_sink *sink,
                      prov_reply *out, char *err, size_t errlen)
{
    (void)p;
    memset(out, 0, sizeof *out);
    if (err && errlen) err[0] = 0;
    call *c = calloc(1, sizeof *c);
    if (!c) {
        if (err && errlen) snprintf(err, errlen, "out of memory");
        return PROV_FAILED;
    }
    c->req = req;
    c->sink = sink;
    c->retry_after_ms = -1;
    char *body = NULL;
    size_t body_len = 0;
    struct curl_slist *hdrs = NULL;
    char url[OAI_MAX_URL], shown[sizeof url];
    const char *base =
        req->base_url && *req->base_url ? req->base_url : PROVIDER_OPENAI_DEFAULT_URL;
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;

    pthread_once(&curl_once, curl_init_once);
    if (!curl_ready) {
        failf(c, PROV_FAILED, "the HTTP library could not start");
        goto done;
    }
    if (!req->model || !*req->model) {
        failf(c, PROV_FAILED, "no model is configured for this session (set model)");
        goto done;
    }
    if ((strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0) ||
        blen + 20 >= sizeof url) {
        failf(c, PROV_FAILED, "base_url must be an http:// or https:// URL of at most %zu bytes",
              sizeof url - 20);
        goto done;
    }
    for (size_t i = 0; i < blen; i++) {
        if ((unsigned char)base[i] <= 0x20 || base[i] == 0x7f) {
            failf(c, PROV_FAILED, "base_url holds spaces or control characters");
            goto done;
        }
    }
    snprintf(url, sizeof url, "%.*s/chat/completions", (int)blen, base);
    url_for_log(url, shown, sizeof shown);
    if (req->api_key) {
        for (const char *k = req->api_key; *k; k++) {
            if ((unsigned char)*k <= 0x20 || (unsigned char)*k >= 0x7f) {
                failf(c, PROV_FAILED, "the API key holds characters that cannot be sent");
                goto done;
            }
        }
    }
    if (build_body(req, &body, &body_len, c->err, sizeof c->err) != 0) {
        c->fail = PROV_FAILED;
        goto done;
    }

    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = hdrs ? curl_slist_append(hdrs, "Accept: text/event-stream") : NULL;
    /* No "Expect: 100-continue" round trip for big conversations. */
    hdrs = hdrs ? curl_slist_append(hdrs, "Expect:") : NULL;
    if (hdrs && req->api_key && *req->api_key) {
        size_t n = strlen(req->api_key) + 32;
        char *h = malloc(n);
        if (h) {
            snprintf(h, n, "Authorization: Bearer %s", req->api_key);
            struct curl_slist *nh = curl_slist_append(hdrs, h);
            memset(h, 0, n);
            free(h);
            hdrs = nh;
        } else {
            curl_slist_free_all(hdrs);
            hdrs = NULL;
        }
    }
    if (!hdrs) {
        failf(c, PROV_FAILED, "out of memory");
        goto done;
    }

    uint32_t connect_ms =
        req->connect_timeout_ms ? req->connect_timeout_ms : PROVIDER_OPENAI_CONNECT_TIMEOUT_MS;
    uint32_t idle_ms =
        req->idle_timeout_ms ? req->idle_timeout_ms : PROVIDER_OPENAI_IDLE_TIMEOUT_MS;
    int64_t backoff = PROVIDER_OPENAI_BACKOFF_MS;
    for (int attempt = 0;; attempt++) {
        reset_attempt(c);
        sse_opts so = {.on_event = on_event, .ud = c};
        if (sse_create(&c->sse, &so) != SSE_OK || !(c->eh = curl_easy_init())) {
            failf(c, PROV_FAILED, "out of memory");
            break;
        }
        c->curl_err[0] = 0;
        curl_easy_setopt(c->eh, CURLOPT_URL, url);
        curl_easy_setopt(c->eh, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c->eh, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c->eh, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c->eh, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c->eh, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        curl_easy_setopt(c->eh, CURLOPT_USERAGENT, "comfyd");
        curl_easy_setopt(c->eh, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
        curl_easy_setopt(c->eh, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(c->eh, CURLOPT_ERRORBUFFER, c->curl_err);
        curl_easy_setopt(c->eh, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(c->eh, CURLOPT_WRITEDATA, c);
        curl_easy_setopt(c->eh, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c->eh, CURLOPT_HEADERDATA, c);
        curl_easy_setopt(c->eh, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c->eh, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c->eh, CURLOPT_XFERINFODATA, c);
        logf_(c, LOG_DEBUG, "openai: POST %s model %s (attempt %d of %d)", shown, req->model,
              attempt + 1, PROVIDER_OPENAI_RETRIES + 1);

        CURLcode res = perform(c, idle_ms);
        if (c->status == 0) curl_easy_getinfo(c->eh, CURLINFO_RESPONSE_CODE, &c->status);
        curl_easy_cleanup(c->eh);
        c->eh = NULL;
        if (c->cancel_seen || cancelled(req)) {
            c->cancel_seen = 1;
            break;
        }
        if (c->fail) break;
        if (c->status && !status_ok(c->status)) {
            if (retryable(c->status) && attempt < PROVIDER_OPENAI_RETRIES) {
                int64_t wait = c->retry_after_ms >= 0 ? c->retry_after_ms : backoff;
                if (wait > PROVIDER_OPENAI_MAX_RETRY_WAIT_MS)
                    wait = PROVIDER_OPENAI_MAX_RETRY_WAIT_MS;
                backoff *= 2;
                logf_(c, LOG_WARN, "openai: HTTP %ld; retry %d of %d in %lld ms", c->status,
                      attempt + 1, PROVIDER_OPENAI_RETRIES, (long long)wait);
                if (wait_ms(req, wait)) {
                    c->cancel_seen = 1;
                    break;
                }
                continue;
            }
            http_error(c, c->status, attempt);
            break;
        }
        if (res != CURLE_OK && !c->saw_done && !c->saw_finish) {
            transport_error(c, res, shown);
            break;
        }
        if (c->mode == 2) {
            parse_chunk(c, c->jsonbody.p ? c->jsonbody.p : "", c->jsonbody.n);
            if (!c->fail && !c->saw_finish) c->saw_done = 1; /* a whole body is complete */
        } else if (c->sse) {
            int fr = sse_finish(c->sse);
            if (fr == SSE_EPARTIAL && !c->saw_done)
                logf_(c, LOG_DEBUG, "openai: the stream ended inside an event; it was dropped");
        }
        if (!c->fail && !c->saw_done && !c->saw_finish && c->chunks == 0 &&
            !strstr(c->ctype, "event-stream"))
            failf(c, PROV_FAILED,
                  "the answer from %s is not an event stream (Content-Type '%s'): is base_url "
                  "an OpenAI-compatible API?",
                  shown, c->ctype);
        if (!c->fail && !c->saw_done && !c->saw_finish)
            failf(c, PROV_FAILED,
                  "stream ended early: the model server closed the stream before it finished");
        break;
    }

done:
    if (hdrs) {
        /* The Authorization line holds the key: wipe it before freeing. */
        for (struct curl_slist *h = hdrs; h; h = h->next)
            memset(h->data, 0, strlen(h->data));
        curl_slist_free_all(hdrs);
    }
    free(body);
    finish_reply(c, out);
    int rc = c->cancel_seen ? PROV_CANCELLED : c->fail ? c->fail : PROV_OK;
    if (rc == PROV_FAILED) {
        scrub(c->err, sizeof c->err, req->api_key);
        if (err && errlen) snprintf(err, errlen, "%s", c->err);
    } else if (rc == PROV_OK) {
        logf_(c, LOG_DEBUG, "openai: done (%s), %zu tool call%s, usage %llu+%llu%s",
              out->finish_reason[0] ? out->finish_reason : "no finish reason", out->n_tool_calls,
              out->n_tool_calls == 1 ? "" : "s", (unsigned long long)out->prompt_tokens,
              (unsigned long long)out->completion_tokens,
              out->usage_reported ? "" : " (not reported)");
    }
    call_free(c);
    free(c);
    return rc;
}

static const provider openai_provider = {
    .name = "openai",
    .run = openai_run,
    .impl = NULL,
};

const provider *provider_openai(void)
{
    return &openai_provider;
}
