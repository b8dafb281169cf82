/* The OpenAI-compatible chat-completions provider (see provider.h).
 *
 * One model call is one HTTP request on a private libcurl easy handle,
 * driven by a private multi handle in short polls so that the cancel flag
 * and the idle timeout are looked at every PROVIDER_OPENAI_POLL_MS. The
 * response body goes through the SSE parser (sse.h); every event's data is
 * one JSON chunk, parsed with yajl callbacks that pick out the few fields
 * used and skip the rest.
 *
 * The provider's files: provider_openai.c UTF-8, the call's state, the
 * transport callbacks, errors and retries, the call itself;
 * provider_openai_chunk.c one JSON chunk of the response;
 * provider_openai_body.c the request's JSON body. Private header
 * provider_openai_int.h. */
#include "provider_openai_int.h"

/* ---- UTF-8 ----------------------------------------------------------------- */

/* Length of the well-formed UTF-8 character at s[0..n) (the rules of
 * text_utf8_valid: no overlongs, surrogates, code points above U+10FFFF or
 * NUL); 0 when s holds a valid beginning of one that needs more bytes; -1
 * when invalid. */
int oai_u8_len(const unsigned char *s, size_t n)
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

void oai_failf(call *c, int rc, const char *fmt, ...)
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
void oai_emit_content(call *c, const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t used = 0;
    if (c->ncarry) {
        for (;;) {
            int r = oai_u8_len(c->carry, c->ncarry);
            if (r < 0) goto invalid;
            if (r > 0) break;
            if (used == n) return; /* still incomplete */
            c->carry[c->ncarry++] = s[used++];
        }
    }
    size_t i = used;
    size_t tail = n;
    while (i < n) {
        int r = oai_u8_len(s + i, n - i);
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
        oai_failf(c, PROV_FAILED, "the model's answer is longer than %d bytes", PROV_MAX_CONTENT);
        return;
    }
    size_t start = c->content.n;
    if (text_buf_addn_max(&c->content, c->carry, c->ncarry, PROV_MAX_CONTENT) != 0 ||
        text_buf_addn_max(&c->content, s + used, tail - used, PROV_MAX_CONTENT) != 0) {
        oai_failf(c, PROV_FAILED, "out of memory");
        return;
    }
    c->ncarry = 0;
    if (c->sink->delta(c->sink->ud, c->content.p + start, total) != 0) {
        oai_failf(c, PROV_ABORTED, "the reply was stopped");
        return;
    }
keep:
    if (tail < n) {
        memcpy(c->carry + c->ncarry, s + tail, n - tail);
        c->ncarry += n - tail;
    }
    return;
invalid:
    oai_failf(c, PROV_FAILED, "the model server sent text that is not valid UTF-8");
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
        oai_quote(q, sizeof q, d, n);
        oai_failf(c, PROV_FAILED, "the model server reported an error: %s", q);
        return 1;
    }
    if (!(ev->type_len == 7 && memcmp(ev->type, "message", 7) == 0)) return 0;
    c->chunks++;
    oai_parse_chunk(c, d, n);
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
        oai_quote(c->ctype, sizeof c->ctype, ct ? ct : "", ct ? strlen(ct) : 0);
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
        oai_failf(c, PROV_FAILED, "the model server's response is larger than %d MiB",
                  PROVIDER_OPENAI_MAX_BODY / (1024 * 1024));
        return 0;
    }
    if (c->mode == 2) {
        if (text_buf_addn_max(&c->jsonbody, ptr, n, PROVIDER_OPENAI_MAX_BODY) != 0) {
            oai_failf(c, PROV_FAILED, "out of memory");
            return 0;
        }
        return n;
    }
    int rc = sse_feed(c->sse, ptr, n);
    if (rc == SSE_ETOOBIG)
        oai_failf(c, PROV_FAILED, "the model server sent an event larger than %d bytes",
                  SSE_DEFAULT_MAX_DATA);
    else if (rc == SSE_ENOMEM)
        oai_failf(c, PROV_FAILED, "out of memory");
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

/* ---- errors ------------------------------------------------------------------ */

static int tok_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_' || ch == '*' || ch == '.' || ch == '+' || ch == '/' || ch == '=';
}

/* 1 when a word of a message may be (part of) the key: any piece of it
 * between mask characters ('*', '.') of 4 or more bytes occurs in the key,
 * as servers oai_quote keys with their middle masked. */
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
                oai_quote(dst, dstlen, sv, strlen(sv));
                break;
            }
        }
        yajl_tree_free(root);
        return;
    }
    if (text_utf8_valid(body->p, body->n)) oai_quote(dst, dstlen, body->p, body->n);
}

static void http_error(call *c, long status, int retries)
{
    char msg[OAI_MAX_QUOTE + 1];
    server_message(&c->errbody, msg, sizeof msg);
    const char *sep = msg[0] ? ": " : "";
    if (status == 401 || status == 403) {
        oai_failf(c, PROV_FAILED, "the model server refused the API key (HTTP %ld)%s%s%s", status,
                  c->req->api_key ? "" : "; no API key is set for this session", sep, msg);
    } else if (status == 404) {
        oai_failf(c, PROV_FAILED,
                  "model '%.100s' not found (HTTP 404): check the model name and base_url%s%s",
                  c->req->model, sep, msg);
    } else if (status == 429) {
        oai_failf(c, PROV_FAILED, "rate limited by the model server (HTTP 429, %d retries)%s%s",
                  retries, sep, msg);
    } else if (status >= 500) {
        oai_failf(c, PROV_FAILED, "the model server failed (HTTP %ld, %d retries)%s%s", status,
                  retries, sep, msg);
    } else {
        oai_failf(c, PROV_FAILED, "the model server answered HTTP %ld%s%s", status, sep, msg);
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
            oai_failf(c, PROV_FAILED, "no data from the model server for %u.%u s", idle_ms / 1000,
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
        oai_failf(c, PROV_FAILED,
                  "the model server sent text that is not valid UTF-8 (cut character)");
    for (size_t i = 0; i < c->ncalls && !c->fail; i++) {
        acc_call *t = &c->calls[i];
        if (!t->name.n) {
            oai_failf(c, PROV_FAILED, "the model sent tool call %zu without a name", i);
            break;
        }
        if (!text_utf8_valid(t->name.p, t->name.n) ||
            (t->id.n && !text_utf8_valid(t->id.p, t->id.n)) ||
            (t->args.n && !text_utf8_valid(t->args.p, t->args.n))) {
            oai_failf(c, PROV_FAILED, "the model sent tool call %zu with invalid UTF-8", i);
            break;
        }
    }
    out->content = c->content.n ? text_buf_take(&c->content) : NULL;
    out->content_len = out->content ? strlen(out->content) : 0;
    if (!c->fail && c->ncalls) {
        out->tool_calls = calloc(c->ncalls, sizeof *out->tool_calls);
        if (!out->tool_calls) {
            oai_failf(c, PROV_FAILED, "out of memory");
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
        oai_failf(c, PROV_FAILED, "cannot connect to the model server at %s: %s", url, detail);
        break;
    case CURLE_OPERATION_TIMEDOUT:
        oai_failf(c, PROV_FAILED, "the model server at %s timed out: %s", url, detail);
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        oai_failf(c, PROV_FAILED, "TLS failed with the model server at %s: %s", url, detail);
        break;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2_STREAM:
        oai_failf(c, PROV_FAILED, "stream ended early: the connection broke (%s)", detail);
        break;
    default:
        oai_failf(c, PROV_FAILED, "request to the model server failed: %s", detail);
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
        oai_failf(c, PROV_FAILED, "the HTTP library could not start");
        goto done;
    }
    if (!req->model || !*req->model) {
        oai_failf(c, PROV_FAILED, "no model is configured for this session (set model)");
        goto done;
    }
    if ((strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0) ||
        blen + 20 >= sizeof url) {
        oai_failf(c, PROV_FAILED,
                  "base_url must be an http:// or https:// URL of at most %zu bytes",
                  sizeof url - 20);
        goto done;
    }
    for (size_t i = 0; i < blen; i++) {
        if ((unsigned char)base[i] <= 0x20 || base[i] == 0x7f) {
            oai_failf(c, PROV_FAILED, "base_url holds spaces or control characters");
            goto done;
        }
    }
    snprintf(url, sizeof url, "%.*s/chat/completions", (int)blen, base);
    url_for_log(url, shown, sizeof shown);
    if (req->api_key) {
        for (const char *k = req->api_key; *k; k++) {
            if ((unsigned char)*k <= 0x20 || (unsigned char)*k >= 0x7f) {
                oai_failf(c, PROV_FAILED, "the API key holds characters that cannot be sent");
                goto done;
            }
        }
    }
    if (oai_build_body(req, &body, &body_len, c->err, sizeof c->err) != 0) {
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
        oai_failf(c, PROV_FAILED, "out of memory");
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
            oai_failf(c, PROV_FAILED, "out of memory");
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
            oai_parse_chunk(c, c->jsonbody.p ? c->jsonbody.p : "", c->jsonbody.n);
            if (!c->fail && !c->saw_finish) c->saw_done = 1; /* a whole body is complete */
        } else if (c->sse) {
            int fr = sse_finish(c->sse);
            if (fr == SSE_EPARTIAL && !c->saw_done)
                logf_(c, LOG_DEBUG, "openai: the stream ended inside an event; it was dropped");
        }
        if (!c->fail && !c->saw_done && !c->saw_finish && c->chunks == 0 &&
            !strstr(c->ctype, "event-stream"))
            oai_failf(c, PROV_FAILED,
                      "the answer from %s is not an event stream (Content-Type '%s'): is base_url "
                      "an OpenAI-compatible API?",
                      shown, c->ctype);
        if (!c->fail && !c->saw_done && !c->saw_finish)
            oai_failf(c, PROV_FAILED,
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
