#include "evring.h"

#include <stdlib.h>
#include <string.h>

typedef struct evring_ent {
    uint64_t seq;
    size_t len;
    unsigned char *data; /* owned copy */
} evring_ent;

struct evring {
    evring_ent *ents; /* circular, grows up to max_events */
    size_t cap, head, count;
    size_t max_events, max_bytes, bytes;
    /* Every event with seq <= floor is gone (evicted, or before the base);
     * every held event has seq > floor. */
    uint64_t floor;
    uint64_t last; /* highest seq pushed, or the base when higher */
};

int evring_create(evring **out, size_t max_events, size_t max_bytes)
{
    *out = NULL;
    if (max_events == 0 || max_bytes == 0) return EVRING_EINVAL;
    evring *r = calloc(1, sizeof *r);
    if (!r) return EVRING_ENOMEM;
    r->max_events = max_events;
    r->max_bytes = max_bytes;
    *out = r;
    return EVRING_OK;
}

static evring_ent *at(const evring *r, size_t i)
{
    return &r->ents[(r->head + i) % r->cap];
}

static void drop_oldest(evring *r)
{
    evring_ent *e = at(r, 0);
    r->floor = e->seq;
    r->bytes -= e->len;
    free(e->data);
    e->data = NULL;
    r->head = (r->head + 1) % r->cap;
    r->count--;
}

void evring_destroy(evring *r)
{
    if (!r) return;
    while (r->count > 0)
        drop_oldest(r);
    free(r->ents);
    free(r);
}

/* Makes room for one more entry without evicting; the array grows lazily so
 * idle sessions with a large max_events stay small. */
static int reserve(evring *r)
{
    if (r->count < r->cap) return EVRING_OK;
    if (r->cap == r->max_events) return EVRING_OK; /* full: the push evicts */
    size_t cap = r->cap ? r->cap * 2 : 16;
    if (cap > r->max_events || cap < r->cap) cap = r->max_events;
    if (cap > SIZE_MAX / sizeof(evring_ent)) return EVRING_ENOMEM;
    evring_ent *n = malloc(cap * sizeof *n);
    if (!n) return EVRING_ENOMEM;
    for (size_t i = 0; i < r->count; i++)
        n[i] = *at(r, i);
    free(r->ents);
    r->ents = n;
    r->cap = cap;
    r->head = 0;
    return EVRING_OK;
}

int evring_push(evring *r, uint64_t seq, const void *data, size_t len)
{
    if (seq <= r->last || len > r->max_bytes || (!data && len > 0)) return EVRING_EINVAL;
    unsigned char *copy = malloc(len ? len : 1);
    if (!copy) return EVRING_ENOMEM;
    if (len) memcpy(copy, data, len);
    if (reserve(r) != EVRING_OK) {
        free(copy);
        return EVRING_ENOMEM;
    }
    while (r->count > 0 && (r->count == r->max_events || r->bytes > r->max_bytes - len))
        drop_oldest(r);
    evring_ent *e = &r->ents[(r->head + r->count) % r->cap];
    e->seq = seq;
    e->len = len;
    e->data = copy;
    r->count++;
    r->bytes += len;
    r->last = seq;
    return EVRING_OK;
}

int evring_covers(const evring *r, uint64_t after_seq)
{
    return after_seq >= r->floor && after_seq <= r->last;
}

int evring_has(const evring *r, uint64_t seq)
{
    size_t lo = 0, hi = r->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t s = at(r, mid)->seq;
        if (s == seq) return 1;
        if (s < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

int evring_replay(const evring *r, uint64_t after_seq, evring_visit_fn fn, void *ud)
{
    if (!evring_covers(r, after_seq)) return EVRING_GAP;
    /* Sequence numbers increase along the ring: binary search the first
     * event after after_seq. */
    size_t lo = 0, hi = r->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (at(r, mid)->seq <= after_seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < r->count; i++) {
        const evring_ent *e = at(r, i);
        if (fn(ud, e->seq, e->data, e->len) != 0) return EVRING_ABORTED;
    }
    return EVRING_OK;
}

void evring_set_base(evring *r, uint64_t base_seq)
{
    if (base_seq <= r->floor) return;
    while (r->count > 0 && at(r, 0)->seq <= base_seq)
        drop_oldest(r);
    r->floor = base_seq;
    if (r->last < base_seq) r->last = base_seq;
}

uint64_t evring_last_seq(const evring *r)
{
    return r->last;
}

size_t evring_count(const evring *r)
{
    return r->count;
}

size_t evring_bytes(const evring *r)
{
    return r->bytes;
}
