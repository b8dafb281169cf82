/* provider_openai_int: what the files of the OpenAI-compatible provider
 * share and nothing else links: the state of one model call and the
 * helpers one file defines and another calls. provider_openai.h stays the
 * provider's API; provider_openai.c's top comment lists which file holds
 * what. */
#ifndef COMFYD_PROVIDER_OPENAI_INT_H
#define COMFYD_PROVIDER_OPENAI_INT_H

#include "provider_openai.h"

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

/* Fails the call with rc and a formatted message (provider_openai.c). */
void oai_failf(call *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Length of the well-formed UTF-8 character at s[0..n); 0 incomplete, -1 invalid. */
int oai_u8_len(const unsigned char *s, size_t n);
/* Streams answer text, holding back a character cut at the end. */
void oai_emit_content(call *c, const char *text, size_t n);
/* Copies a server's message into dst as one printable line (provider_openai_chunk.c). */
void oai_quote(char *dst, size_t dstlen, const char *s, size_t n);
/* Parses one JSON chunk of the response into the call (provider_openai_chunk.c). */
void oai_parse_chunk(call *c, const char *data, size_t len);
/* Builds the JSON body into *out (malloc'd); 0, or -1 with err (provider_openai_body.c). */
int oai_build_body(const prov_request *r, char **out, size_t *outlen, char *err, size_t errlen);

#endif
