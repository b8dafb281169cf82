/* vecrank: the arithmetic of hybrid search, pure (no I/O, no allocation
 * beyond what a caller passes in).
 *
 * A search's candidates come from two places: the full-text index (a BM25
 * score, SQLite FTS5's rank or PostgreSQL's -ts_rank, lower is better and
 * never positive) and the vectors of the embedded entries (the cosine
 * similarity between the query's embedding and the entry's). They are
 * ranked by one documented score (docs/sessions.md, "Hybrid ranking"):
 *
 *   text   = bm25 / best_bm25 among the candidates    in [0, 1], 0 without a text match
 *   sim    = max(cosine, 0)                           in [0, 1], 0 without a vector
 *   hybrid = VECRANK_TEXT_WEIGHT * text + (1 - VECRANK_TEXT_WEIGHT) * sim
 *
 * A candidate found by its vector alone (no text match) is kept only when
 * its cosine reaches the caller's min_sim: every entry has some similarity
 * to every query, and a search must not answer with the whole store. An
 * entry matched by text but not embedded yet is ranked by its text part
 * alone (the embedder is behind; it must not make a fresh message lose to
 * old ones). */
#ifndef COMFYD_VECRANK_H
#define COMFYD_VECRANK_H

#include <stddef.h>
#include <stdint.h>

#define VECRANK_TEXT_WEIGHT 0.5
#define VECRANK_DIM_MAX 8192 /* floats of one vector: the largest common models use 4096 */

/* Scales v to unit length in place; returns its former length (0 leaves
 * it unchanged: a zero vector matches nothing). */
double vec_normalize(float *v, size_t dim);
/* Cosine similarity of a and b (any lengths; 0 when either is zero). */
double vec_cosine(const float *a, const float *b, size_t dim);
/* Dot product: the cosine of two unit vectors. */
double vec_dot(const float *a, const float *b, size_t dim);

typedef struct vr_cand {
    uint64_t key;  /* the caller's name for the entry */
    int has_text;  /* matched by the full-text query */
    double bm25;   /* its score there (lower is better, <= 0) when has_text */
    int has_vec;   /* its vector is known */
    double cosine; /* its similarity to the query when has_vec */
    double hybrid; /* output: higher is better */
    int keep;      /* output: 1 when it is a result */
} vr_cand;

/* Scores every candidate (hybrid, keep) and sorts c[0..n) best first,
 * kept ones before the others; ties keep the newer (larger key) first.
 * Returns the number kept. */
size_t vecrank_fuse(vr_cand *c, size_t n, double min_sim);

/* Keeps the k largest scores seen so far: a bounded heap over a caller's
 * arrays (keys[k], scores[k]), for a scan of many vectors. */
typedef struct vr_topk {
    uint64_t *keys;
    double *scores;
    size_t k, n;
} vr_topk;
void vr_topk_init(vr_topk *t, uint64_t *keys, double *scores, size_t k);
void vr_topk_push(vr_topk *t, uint64_t key, double score);
/* Sorts what it holds best first (destroys the heap order). */
void vr_topk_sort(vr_topk *t);

#endif
