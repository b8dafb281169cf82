/* provider_openai_chunk: one JSON chunk of a chat-completions response
 * (an SSE event's data, or the whole body), parsed with yajl callbacks into
 * the call's reply. */
#include "provider_openai_int.h"

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
    if (r == -1) oai_failf(k->c, PROV_FAILED, "the model's %s is longer than %zu bytes", what, max);
    if (r == -2) oai_failf(k->c, PROV_FAILED, "out of memory");
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
            oai_failf(c, PROV_FAILED,
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
            oai_failf(c, PROV_FAILED, "the model asked for more than %d tool calls at once",
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
    if (k->ch_content.n) oai_emit_content(c, k->ch_content.p, k->ch_content.n);
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
    oai_failf(k->c, PROV_FAILED, "cannot re-encode tool arguments");
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
                    oai_failf(k->c, PROV_FAILED,
                              "the model asked for more than %d tool calls at once",
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
                oai_failf(k->c, PROV_FAILED, "out of memory");
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
void oai_quote(char *dst, size_t dstlen, const char *s, size_t n)
{
    size_t o = 0;
    if (n > OAI_MAX_QUOTE) n = OAI_MAX_QUOTE;
    for (size_t i = 0; i < n && o + 1 < dstlen;) {
        int r = oai_u8_len((const unsigned char *)s + i, n - i);
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
void oai_parse_chunk(call *c, const char *data, size_t len)
{
    chunk *k = calloc(1, sizeof *k);
    if (!k) {
        oai_failf(c, PROV_FAILED, "out of memory");
        return;
    }
    k->c = c;
    k->depth = -1;
    yajl_handle h = yajl_alloc(&chunk_callbacks, NULL, k);
    if (!h) {
        free(k);
        oai_failf(c, PROV_FAILED, "out of memory");
        return;
    }
    /* Strings are checked by oai_emit_content and at the end instead, so that a
     * character split across two chunks is joined rather than refused. */
    yajl_config(h, yajl_dont_validate_strings, 1);
    yajl_status st = yajl_parse(h, (const unsigned char *)data, len);
    if (st == yajl_status_ok) st = yajl_complete_parse(h);
    if (!c->fail) {
        if (k->not_object) {
            oai_failf(c, PROV_FAILED,
                      "the model server sent a malformed JSON chunk (not an object)");
        } else if (k->too_deep) {
            oai_failf(c, PROV_FAILED, "the model server sent a JSON chunk nested over %d levels",
                      PROV_MAX_JSON_DEPTH);
        } else if (st != yajl_status_ok) {
            unsigned char *m = yajl_get_error(h, 0, NULL, 0);
            const char *msg = m ? (const char *)m : "parse error";
            oai_failf(c, PROV_FAILED, "the model server sent a malformed JSON chunk: %.*s",
                      (int)strcspn(msg, ".\n"), msg);
            if (m) yajl_free_error(h, m);
        } else if (k->has_error) {
            char q[OAI_MAX_QUOTE + 1];
            oai_quote(q, sizeof q, k->error_msg.p ? k->error_msg.p : "", k->error_msg.n);
            oai_failf(c, PROV_FAILED, "the model server reported an error: %s",
                      q[0] ? q : "(no message)");
        }
    }
    yajl_free(h);
    if (k->raw) yajl_gen_free(k->raw);
    choice_reset(k);
    text_buf_free(&k->error_msg);
    free(k);
}
