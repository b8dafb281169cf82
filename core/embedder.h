/* embedder: keeps every indexed entry embedded and ranks searches by the
 * hybrid of BM25 and cosine similarity (docs/sessions.md, "Hybrid
 * search").
 *
 * A background thread drains the store's embedding queue (store.h) in
 * batches of EMBEDDER_BATCH through one OpenAI-compatible endpoint
 * (embed_client.h), and stores unit-length vectors. Nothing waits for it:
 * a turn only inserts rows (the queue is filled by the database's
 * triggers); a failed call is logged and retried later with a growing
 * delay; until then search works on the full-text index alone. One model
 * for the whole store: vectors of different models are not comparable,
 * and a search spans every session. */
#ifndef COMFYD_EMBEDDER_H
#define COMFYD_EMBEDDER_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define EMBEDDER_BATCH 32              /* entries per call */
#define EMBEDDER_IDLE_MS 300           /* queue poll period when it was empty */
#define EMBEDDER_RETRY_MIN_MS 1000     /* first delay after a failure, doubled per attempt */
#define EMBEDDER_RETRY_MAX_MS 600000   /* at most 10 minutes */
#define EMBEDDER_CALL_TIMEOUT_MS 60000 /* one batch */
#define EMBEDDER_QUERY_TIMEOUT_MS 5000 /* a search's query: FTS alone after that */
/* Newest vectors a search compares with the query (brute force in C); the
 * full-text candidates are compared whatever their age. */
#define EMBEDDER_SCAN_MAX 20000
#define EMBEDDER_MIN_SIM_DEFAULT 0.5

typedef struct embedder_cfg {
    const char *base_url; /* http(s)://host[:port]/v1 */
    const char *model;
    const char *api_key; /* NULL: none; sent to base_url's origin only */
    double min_sim;      /* a vector-only hit's least cosine; 0: the default */
} embedder_cfg;

typedef struct embedder embedder;

/* Starts the thread (st is borrowed and must outlive the embedder);
 * queues every entry without a vector of this model. Returns 0, or -1
 * with a reason (a bad URL, no model). */
int embedder_create(embedder **out, store *st, const embedder_cfg *cfg, char *err, size_t errlen);
/* Stops the thread (an ongoing call finishes first) and frees. NULL is a
 * no-op. */
void embedder_destroy(embedder *e);

/* Re-ranks a full-text search's hits (*hits[0..*n), best first, as
 * store_search returns them, the caller's to free) by the hybrid score
 * and adds the entries whose vectors alone are close to the query, then
 * keeps the best `limit`. The query is the user's text. On any failure of
 * the embeddings side (logged) the hits stay as they are, cut to limit:
 * search never fails for want of vectors. */
void embedder_rerank(embedder *e, const char *query, const char *session_id, unsigned kind_mask,
                     size_t limit, store_hit **hits, size_t *n);

/* Counters for logs and tests: vectors stored, failed calls. */
void embedder_stats(embedder *e, uint64_t *stored, uint64_t *failures);

#endif
