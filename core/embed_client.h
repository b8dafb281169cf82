/* embed_client: one call of an OpenAI-compatible embeddings endpoint
 * (POST BASE/embeddings, {"model", "input": [texts]}), as OpenAI, Ollama,
 * llama.cpp's server and vLLM serve it.
 *
 * The API key is sent only to BASE's own origin: redirects are never
 * followed, only http and https are spoken, and error texts are scrubbed of
 * the key before anyone sees them. */
#ifndef COMFYD_EMBED_CLIENT_H
#define COMFYD_EMBED_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#define EMBED_URL_MAX 2048
#define EMBED_BATCH_MAX 64             /* texts of one call */
#define EMBED_RESPONSE_MAX (64u << 20) /* bytes of one answer */
#define EMBED_CONNECT_TIMEOUT_MS 5000

typedef struct embed_cfg {
    const char *base_url; /* e.g. http://127.0.0.1:11434/v1 (no trailing /embeddings) */
    const char *model;
    const char *api_key; /* NULL or "": no Authorization header */
    uint32_t timeout_ms; /* the whole exchange */
} embed_cfg;

/* Whether base_url is an http(s) URL this client can call; 0 and a reason
 * in err otherwise. */
int embed_url_ok(const char *base_url, char *err, size_t errlen);

/* Embeds texts[0..n) (1..EMBED_BATCH_MAX). On success returns 0 with *out
 * a malloc'd n * *dim floats (text i at out + i * dim, in input order) and
 * *status the HTTP status. On failure returns -1, *status the HTTP status
 * (0 when no answer came) and a one-line reason without the key. */
int embed_call(const embed_cfg *c, const char *const *texts, size_t n, float **out, size_t *dim,
               long *status, char *err, size_t errlen);

#endif
