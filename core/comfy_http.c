/* comfy_http: libcurl requests to ComfyUI (see comfy_http.h). */
#include "comfy_http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

struct comfy_http {
    char *base;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int comfy_http_create(comfy_http **out, const char *base_url, char *err, size_t errlen)
{
    *out = NULL;
    size_t n = base_url ? strlen(base_url) : 0;
    if (!n || n > COMFY_HTTP_MAX_URL ||
        (strncmp(base_url, "http://", 7) && strncmp(base_url, "https://", 8)) ||
        strpbrk(base_url, "?# \t\r\n")) {
        snprintf(err, errlen,
                 "the ComfyUI URL must be http:// or https://, without a query, at most %d bytes",
                 COMFY_HTTP_MAX_URL);
        return -1;
    }
    pthread_once(&curl_once, curl_init_once);
    comfy_http *c = calloc(1, sizeof *c);
    if (!c) return -1;
    c->base = text_dup(base_url);
    while (n > 0 && c->base[n - 1] == '/')
        c->base[--n] = 0;
    *out = c;
    return 0;
}

void comfy_http_destroy(comfy_http *c)
{
    if (!c) return;
    free(c->base);
    free(c);
}

const char *comfy_http_base(const comfy_http *c)
{
    return c->base;
}

/* The answer's body, bounded by the caller's max. */
typedef struct {
    text_buf b;
    size_t max;
    int over;
} sink;

static size_t on_body(char *data, size_t sz, size_t nm, void *ud)
{
    sink *s = ud;
    size_t len = sz * nm;
    int rc = text_buf_addn_max(&s->b, data, len, s->max);
    if (rc == TEXT_BUF_ETOOBIG) s->over = 1;
    return rc ? 0 : len; /* 0 aborts the transfer */
}

int comfy_http_do(comfy_http *c, const char *method, const char *path, const char *body,
                  size_t body_len, size_t max_body, long timeout_ms, comfy_http_resp *r, char *err,
                  size_t errlen)
{
    memset(r, 0, sizeof *r);
    char url[COMFY_HTTP_MAX_URL * 2];
    if (snprintf(url, sizeof url, "%s%s", c->base, path) >= (int)sizeof url) {
        snprintf(err, errlen, "the URL is too long");
        return -1;
    }
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    sink s = {.max = max_body};
    char cerr[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdr = NULL;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)COMFY_HTTP_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!strcmp(method, "POST")) {
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(body ? body_len : 0));
    }
    CURLcode rc = curl_easy_perform(h);
    int ret = -1;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
        char *ct = NULL;
        curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
        if (ct) snprintf(r->content_type, sizeof r->content_type, "%s", ct);
        r->len = s.b.n;
        r->body = text_buf_take(&s.b);
        ret = 0;
    } else if (s.over) {
        snprintf(err, errlen, "ComfyUI's answer to %s %s is larger than %zu bytes", method, path,
                 max_body);
    } else {
        snprintf(err, errlen, "ComfyUI at %s is unreachable: %s", c->base,
                 cerr[0] ? cerr : curl_easy_strerror(rc));
    }
    text_buf_free(&s.b);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return ret;
}

void comfy_http_resp_clear(comfy_http_resp *r)
{
    if (!r) return;
    free(r->body);
    memset(r, 0, sizeof *r);
}

char *comfy_http_escape(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0);
    if (!e) return NULL;
    char *out = text_dup(e);
    curl_free(e);
    return out;
}
