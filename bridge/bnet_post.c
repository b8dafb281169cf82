/* bnet_post: work posted to the loop thread from other threads (bnet_int.h). */
#include "bnet_int.h"

/* ---- posting from other threads ---- */

int bnet_post(bnet *s, void (*fn)(void *), void *ud)
{
    if (!fn) return BNET_E_ARG;
    post_item *it = malloc(sizeof *it);
    if (!it) return BNET_E_NOMEM;
    it->fn = fn;
    it->ud = ud;
    it->next = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->post_stopped) {
        pthread_mutex_unlock(&s->mu);
        free(it);
        return BNET_E_STOPPED;
    }
    if (s->post_tail)
        s->post_tail->next = it;
    else
        s->post_head = it;
    s->post_tail = it;
    /* Under the lock so that bnet_stop cannot close the handle between the
     * check above and the wake-up (libuv 1.44 gives no ordering guarantee
     * of its own). */
    uv_async_send(s->async);
    pthread_mutex_unlock(&s->mu);
    return BNET_OK;
}

void bn_run_posted(bnet *s)
{
    pthread_mutex_lock(&s->mu);
    post_item *it = s->post_head;
    s->post_head = s->post_tail = NULL;
    pthread_mutex_unlock(&s->mu);
    while (it) {
        post_item *next = it->next;
        it->fn(it->ud);
        free(it);
        it = next;
    }
}

void bn_on_async(uv_async_t *a)
{
    bn_run_posted(a->data);
}
