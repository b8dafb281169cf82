/* comfy_http: HTTP requests to ComfyUI's API (libcurl), one easy handle per
 * request so that every function is thread-safe. Responses are bounded:
 * a body above the caller's limit ends the transfer with an error. */
#ifndef COMFYD_COMFY_HTTP_H
#define COMFYD_COMFY_HTTP_H

#include <stddef.h>

/* The base URL: "http://host:port" plus an optional path prefix. */
#define COMFY_HTTP_MAX_URL 2048
/* Connecting to a local ComfyUI takes milliseconds; a dead host must not
 * hold a caller longer than this. */
#define COMFY_HTTP_CONNECT_TIMEOUT_MS 3000

typedef struct comfy_http comfy_http;

/* Checks and copies base_url (http:// or https://, no query, at most
 * COMFY_HTTP_MAX_URL bytes; a trailing '/' is dropped). Returns 0 and *out,
 * or -1 with err. */
int comfy_http_create(comfy_http **out, const char *base_url, char *err, size_t errlen);
void comfy_http_destroy(comfy_http *c);
/* The base URL without its trailing '/'; valid for the life of c. */
const char *comfy_http_base(const comfy_http *c);

typedef struct comfy_http_resp {
    long status; /* the HTTP status */
    char *body;  /* NUL-terminated; owned (comfy_http_resp_clear) */
    size_t len;
    char content_type[128];
} comfy_http_resp;

/* method "GET" or "POST"; path starts with '/' (query included, already
 * escaped); body (JSON, may be NULL) is sent with Content-Type
 * application/json. Returns 0 when ComfyUI answered (any status) with *r
 * filled, or -1 with err saying why not (unreachable, timeout, a body over
 * max_body bytes); *r is then empty. */
int comfy_http_do(comfy_http *c, const char *method, const char *path, const char *body,
                  size_t body_len, size_t max_body, long timeout_ms, comfy_http_resp *r, char *err,
                  size_t errlen);
void comfy_http_resp_clear(comfy_http_resp *r);

/* Percent-encodes s into a new string for a query value. NULL on OOM. */
char *comfy_http_escape(const char *s);

#endif
