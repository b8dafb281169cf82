/* provider_openai: the provider for OpenAI-compatible chat-completions
 * endpoints (provider.h's vtable). */
#ifndef COMFYD_PROVIDER_OPENAI_H
#define COMFYD_PROVIDER_OPENAI_H

#include "provider.h"

/* The OpenAI-compatible provider: POST {base_url}/chat/completions with
 * "stream": true (and usage requested), "Authorization: Bearer <key>" when
 * a key is set. base_url "" means PROVIDER_OPENAI_DEFAULT_URL.
 *
 * - Answer text is streamed as it arrives; tool calls are assembled from
 *   their streamed pieces by index (several calls may stream in
 *   parallel). A server that answers with one JSON body instead of a
 *   stream is understood too.
 * - 408, 429 and 5xx answers are retried up to PROVIDER_OPENAI_RETRIES
 *   times, after the server's Retry-After (seconds, capped at
 *   PROVIDER_OPENAI_MAX_RETRY_WAIT_MS) or an exponential backoff; nothing
 *   has been streamed at that point.
 * - Failures have one-line messages: refused key (401/403), unknown model
 *   (404, naming the model), other HTTP statuses with the server's message,
 *   no connection, no data for idle_timeout_ms, a malformed JSON chunk, an
 *   error object in the stream, invalid UTF-8, a response over the bounds
 *   above, and "stream ended early" (the stream closed without [DONE] and
 *   without a finish_reason). The key is removed from every message.
 * - Cancellation is seen within PROVIDER_OPENAI_POLL_MS and closes the
 *   connection at once.
 * Needs libcurl; safe to run on many threads at once. */
#define PROVIDER_OPENAI_DEFAULT_URL "https://api.openai.com/v1"
#define PROVIDER_OPENAI_CONNECT_TIMEOUT_MS                                                         \
    10000                                     /* a server that exists answers in well under this */
#define PROVIDER_OPENAI_IDLE_TIMEOUT_MS 60000 /* local models may think long before a token */
#define PROVIDER_OPENAI_RETRIES 3             /* then the error is the user's to see */
#define PROVIDER_OPENAI_BACKOFF_MS 500        /* first wait without Retry-After; doubles */
#define PROVIDER_OPENAI_MAX_RETRY_WAIT_MS 30000 /* a turn should not stall for minutes */
#define PROVIDER_OPENAI_MAX_BODY                                                                   \
    (16 * 1024 * 1024) /* bytes of one response, all framing included */
#define PROVIDER_OPENAI_MAX_ERROR_BODY                                                             \
    (16 * 1024)                    /* bytes of an error body kept for its message                  \
                                    */
#define PROVIDER_OPENAI_POLL_MS 20 /* longest wait between looks at the cancel flag */
const provider *provider_openai(void);

#endif
