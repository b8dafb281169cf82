/* embed_client: the embeddings endpoint over libcurl, answers read with
 * yajl's tree parser (embed_client.h). */
#include "embed_client.h"

#include "text.h"
#include "vecrank.h"

#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int embed_url_ok(const char *u, char *err, size_t errlen)
{
    if (!u || !*u) {
        seterr(err, errlen, "the embeddings URL is empty");
        return 0;
    }
    if (strlen(u) > EMBED_URL_MAX) {
        seterr(err, errlen, "the embeddings URL is longer than %d bytes", EMBED_URL_MAX);
        return 0;
    }
    if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) {
        seterr(err, errlen, "the embeddings URL must start with http:// or https://");
        return 0;
    }
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            seterr(err, errlen, "the embeddings URL holds a space or a control character");
            return 0;
        }
    return 1;
}

/* The answer, bounded by EMBED_RESPONSE_MAX; over when it passed that. */
typedef struct rbuf {
    text_buf t;
    int over;
} rbuf;

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    rbuf *b = ud;
    size_t n = size * nmemb;
    int rc = text_buf_addn_max(&b->t, ptr, n, EMBED_RESPONSE_MAX);
    if (rc == TEXT_BUF_ETOOBIG) b->over = 1;
    return rc ? 0 : n; /* 0 aborts the transfer */
}

/* Replaces every occurrence of key in s with "***". */
static void scrub(char *s, const char *key)
{
    size_t kl = key ? strlen(key) : 0;
    if (kl < 4) return;
    for (char *p = strstr(s, key); p; p = strstr(p, key)) {
        memcpy(p, "***", 3);
        memmove(p + 3, p + kl, strlen(p + kl) + 1);
    }
}

static int build_body(const embed_cfg *c, const char *const *texts, size_t n, char **out,
                      size_t *len)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g) return -1;
    int ok = yajl_gen_map_open(g) == yajl_gen_status_ok;
    ok = ok && yajl_gen_string(g, (const unsigned char *)"model", 5) == yajl_gen_status_ok;
    ok = ok && yajl_gen_string(g, (const unsigned char *)c->model, strlen(c->model)) ==
                   yajl_gen_status_ok;
    ok = ok && yajl_gen_string(g, (const unsigned char *)"input", 5) == yajl_gen_status_ok;
    ok = ok && yajl_gen_array_open(g) == yajl_gen_status_ok;
    for (size_t i = 0; ok && i < n; i++)
        ok = yajl_gen_string(g, (const unsigned char *)texts[i], strlen(texts[i])) ==
             yajl_gen_status_ok;
    ok = ok && yajl_gen_array_close(g) == yajl_gen_status_ok;
    ok = ok && yajl_gen_map_close(g) == yajl_gen_status_ok;
    const unsigned char *buf = NULL;
    size_t blen = 0;
    ok = ok && yajl_gen_get_buf(g, &buf, &blen) == yajl_gen_status_ok;
    char *copy = ok ? malloc(blen + 1) : NULL;
    if (copy) {
        memcpy(copy, buf, blen);
        copy[blen] = '\0';
    }
    yajl_gen_free(g);
    if (!copy) return -1;
    *out = copy;
    *len = blen;
    return 0;
}

/* Reads {"data": [{"index": i, "embedding": [..]}, ...]}: every input
 * exactly once, all of one dimension, finite numbers. */
static int parse_answer(const char *body, size_t n, float **out, size_t *dim, char *err,
                        size_t errlen)
{
    char perr[128] = "";
    yajl_val root = yajl_tree_parse(body, perr, sizeof perr);
    if (!root) {
        seterr(err, errlen, "the embeddings answer is not JSON");
        return -1;
    }
    const char *path_data[] = {"data", NULL};
    yajl_val data = yajl_tree_get(root, path_data, yajl_t_array);
    int rc = -1;
    float *v = NULL;
    size_t d = 0;
    unsigned char *seen = calloc(n, 1);
    if (!seen) goto done;
    if (!data || YAJL_GET_ARRAY(data)->len != n) {
        seterr(err, errlen, "the embeddings answer has no data array of %zu entries", n);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        yajl_val item = YAJL_GET_ARRAY(data)->values[i];
        const char *pi[] = {"index", NULL}, *pe[] = {"embedding", NULL};
        yajl_val idx = yajl_tree_get(item, pi, yajl_t_number);
        yajl_val emb = yajl_tree_get(item, pe, yajl_t_array);
        size_t at = i;
        if (idx) {
            if (!YAJL_IS_INTEGER(idx) || YAJL_GET_INTEGER(idx) < 0 ||
                (size_t)YAJL_GET_INTEGER(idx) >= n) {
                seterr(err, errlen, "the embeddings answer has a bad index");
                goto done;
            }
            at = (size_t)YAJL_GET_INTEGER(idx);
        }
        if (seen[at]) {
            seterr(err, errlen, "the embeddings answer repeats index %zu", at);
            goto done;
        }
        seen[at] = 1;
        size_t len = emb ? YAJL_GET_ARRAY(emb)->len : 0;
        if (len == 0 || len > VECRANK_DIM_MAX || (d && len != d)) {
            seterr(err, errlen, "the embeddings answer has a vector of %zu numbers%s", len,
                   d && len != d ? " (the others differ)" : "");
            goto done;
        }
        if (!d) {
            d = len;
            v = calloc(n * d, sizeof *v);
            if (!v) {
                seterr(err, errlen, "out of memory");
                goto done;
            }
        }
        for (size_t k = 0; k < len; k++) {
            yajl_val x = YAJL_GET_ARRAY(emb)->values[k];
            double f = YAJL_IS_NUMBER(x) ? YAJL_GET_DOUBLE(x) : NAN;
            if (!isfinite(f)) {
                seterr(err, errlen, "the embeddings answer has a value that is not a number");
                goto done;
            }
            v[at * d + k] = (float)f;
        }
    }
    rc = 0;
    *out = v;
    *dim = d;
    v = NULL;
done:
    free(seen);
    free(v);
    yajl_tree_free(root);
    return rc;
}

int embed_call(const embed_cfg *c, const char *const *texts, size_t n, float **out, size_t *dim,
               long *status, char *err, size_t errlen)
{
    *out = NULL;
    *dim = 0;
    *status = 0;
    if (!c || !c->model || !*c->model) {
        seterr(err, errlen, "no embeddings model");
        return -1;
    }
    if (!embed_url_ok(c->base_url, err, errlen)) return -1;
    if (n == 0 || n > EMBED_BATCH_MAX || !texts) {
        seterr(err, errlen, "1..%d texts per call", EMBED_BATCH_MAX);
        return -1;
    }
    pthread_once(&curl_once, curl_init_once);
    char url[EMBED_URL_MAX + 16];
    size_t ul = strlen(c->base_url);
    while (ul && c->base_url[ul - 1] == '/')
        ul--;
    snprintf(url, sizeof url, "%.*s/embeddings", (int)ul, c->base_url);
    char *body = NULL;
    size_t blen = 0;
    if (build_body(c, texts, n, &body, &blen) != 0) {
        seterr(err, errlen, "cannot build the request (a text is not UTF-8?)");
        return -1;
    }
    CURL *eh = curl_easy_init();
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    char auth[4200];
    if (c->api_key && *c->api_key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->api_key);
        hdrs = curl_slist_append(hdrs, auth);
        memset(auth, 0, sizeof auth);
    }
    rbuf rb = {0};
    char cerr[CURL_ERROR_SIZE] = "";
    int rc = -1;
    if (!eh || !hdrs) {
        seterr(err, errlen, "out of memory");
        goto done;
    }
    curl_easy_setopt(eh, CURLOPT_URL, url);
    curl_easy_setopt(eh, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(eh, CURLOPT_FOLLOWLOCATION, 0L); /* the key stays with this origin */
    curl_easy_setopt(eh, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(eh, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(eh, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(eh, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    curl_easy_setopt(eh, CURLOPT_USERAGENT, "comfyd");
    curl_easy_setopt(eh, CURLOPT_CONNECTTIMEOUT_MS, (long)EMBED_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(eh, CURLOPT_TIMEOUT_MS, (long)(c->timeout_ms ? c->timeout_ms : 30000));
    curl_easy_setopt(eh, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(eh, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(eh, CURLOPT_WRITEDATA, &rb);
    CURLcode res = curl_easy_perform(eh);
    curl_easy_getinfo(eh, CURLINFO_RESPONSE_CODE, status);
    if (res != CURLE_OK) {
        seterr(err, errlen, "%s",
               rb.over   ? "the answer is too large"
               : cerr[0] ? cerr
                         : curl_easy_strerror(res));
        goto done;
    }
    if (*status < 200 || *status > 299) {
        /* The server's own message when it sent one ({"error": {"message"}}). */
        char msg[256] = "";
        yajl_val root = rb.t.p ? yajl_tree_parse(rb.t.p, NULL, 0) : NULL;
        const char *pm[] = {"error", "message", NULL};
        yajl_val m = root ? yajl_tree_get(root, pm, yajl_t_string) : NULL;
        if (m) snprintf(msg, sizeof msg, ": %s", YAJL_GET_STRING(m));
        yajl_tree_free(root);
        seterr(err, errlen, "HTTP %ld from the embeddings endpoint%s", *status, msg);
        goto done;
    }
    rc = parse_answer(rb.t.p ? rb.t.p : "", n, out, dim, err, errlen);
done:
    if (err && c->api_key) scrub(err, c->api_key);
    curl_slist_free_all(hdrs);
    if (eh) curl_easy_cleanup(eh);
    free(body);
    free(rb.t.p);
    return rc;
}
