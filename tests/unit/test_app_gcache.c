/* Unit tests of the encoded-graph cache (bridge/app_gcache.c): a graph is
 * encoded once per canvas and revision, the text completed from the cache
 * is what encoding the whole Graph gives, and an unchanged answer is only
 * completed from the entry its request named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app_int.h" /* the cache and the encoder are private to the app */

/* A graph of n nodes (ids 1..n) and n-1 links, with a title that holds
 * text the splice must not be fooled by. */
static Comfyd__V1__Graph *mk_graph(const char *canvas, uint64_t rev, size_t n)
{
    Comfyd__V1__Graph *g = calloc(1, sizeof *g);
    comfyd__v1__graph__init(g);
    g->canvas_id = strdup(canvas);
    g->title = strdup("\"nodes\":[],\"links\":[] in a title");
    g->revision = rev;
    g->stale = 1;
    g->nodes = calloc(n, sizeof *g->nodes);
    g->links = calloc(n, sizeof *g->links);
    for (size_t i = 0; i < n; i++) {
        Comfyd__V1__Node *x = calloc(1, sizeof *x);
        comfyd__v1__node__init(x);
        x->id = (int64_t)i + 1;
        x->type = strdup("CLIPTextEncode");
        x->title = strdup("Prompt");
        g->nodes[g->n_nodes++] = x;
        if (i + 1 < n) {
            Comfyd__V1__Link *l = calloc(1, sizeof *l);
            comfyd__v1__link__init(l);
            l->id = (int64_t)i + 1;
            l->from_id = (int64_t)i + 1;
            l->to_id = (int64_t)i + 2;
            l->type = strdup("CONDITIONING");
            g->links[g->n_links++] = l;
        }
    }
    return g;
}

static char *plain(const Comfyd__V1__Graph *g)
{
    yajl_gen gen = app__gen();
    assert_non_null(gen);
    assert_int_equal(app__encode(gen, &g->base, app__style_graph, 0), 0);
    char *s = NULL;
    size_t len = 0;
    assert_int_equal(app__gen_finish(gen, &s, &len), APP_OK);
    return s;
}

/* The head the core sends when known_revision matched. */
static Comfyd__V1__Graph *mk_head(const char *canvas, uint64_t rev)
{
    Comfyd__V1__Graph *g = mk_graph(canvas, rev, 0);
    g->unchanged = 1;
    return g;
}

static void cached_text_equals_the_whole_encoding(void **state)
{
    (void)state;
    app_gcache *c = NULL;
    assert_int_equal(app_gcache_create(&c), APP_OK);
    Comfyd__V1__Graph *g = mk_graph("c1", 7, 50);
    char *want = plain(g);
    char *got = NULL;
    size_t len = 0;
    assert_int_equal(app_gcache_graph_json(c, g, NULL, &got, &len), 1);
    assert_string_equal(got, want);
    assert_int_equal(len, strlen(want));
    free(got);

    /* A reader that names revision 7 and is told it is unchanged gets the
     * same text from the entry its request held. */
    app_gcache_ent *e = app_gcache_get(c, "c1");
    assert_non_null(e);
    assert_int_equal(app_gcache_ent_revision(e), 7);
    Comfyd__V1__Graph *h = mk_head("c1", 7);
    assert_int_equal(app_gcache_graph_json(c, h, e, &got, &len), 1);
    assert_string_equal(got, want);
    free(got);

    /* The head's own fields come from the answer, not from the cache. */
    free(h->title);
    h->title = strdup("renamed");
    h->stale = 0;
    free(g->title);
    g->title = strdup("renamed");
    g->stale = 0;
    char *want2 = plain(g);
    assert_int_equal(app_gcache_graph_json(c, h, e, &got, &len), 1);
    assert_string_equal(got, want2);
    free(got);
    free(want2);
    free(want);
    app_gcache_ent_unref(e);
    protobuf_c_message_free_unpacked(&h->base, NULL);
    protobuf_c_message_free_unpacked(&g->base, NULL);
    app_gcache_destroy(c);
}

static void unchanged_needs_the_named_entry(void **state)
{
    (void)state;
    app_gcache *c = NULL;
    assert_int_equal(app_gcache_create(&c), APP_OK);
    Comfyd__V1__Graph *g7 = mk_graph("c1", 7, 3);
    char *got = NULL;
    size_t len = 0;
    assert_int_equal(app_gcache_graph_json(c, g7, NULL, &got, &len), 1);
    free(got);
    app_gcache_ent *e7 = app_gcache_get(c, "c1");

    /* Nothing named: an unchanged head cannot be completed. */
    Comfyd__V1__Graph *h7 = mk_head("c1", 7);
    assert_int_equal(app_gcache_graph_json(c, h7, NULL, &got, &len), 0);
    assert_null(got);

    /* Revision 8 replaces the slot; the reader that named 7 still holds
     * the text of 7 and is answered from it. */
    Comfyd__V1__Graph *g8 = mk_graph("c1", 8, 4);
    assert_int_equal(app_gcache_graph_json(c, g8, NULL, &got, &len), 1);
    free(got);
    app_gcache_ent *e8 = app_gcache_get(c, "c1");
    assert_int_equal(app_gcache_ent_revision(e8), 8);
    char *want7 = plain(g7);
    assert_int_equal(app_gcache_graph_json(c, h7, e7, &got, &len), 1);
    assert_string_equal(got, want7);
    free(got);
    free(want7);

    /* An unchanged answer for another revision or canvas than the named
     * entry is never completed from it. */
    Comfyd__V1__Graph *h9 = mk_head("c1", 9);
    assert_int_equal(app_gcache_graph_json(c, h9, e8, &got, &len), 0);
    Comfyd__V1__Graph *o8 = mk_head("other", 8);
    assert_int_equal(app_gcache_graph_json(c, o8, e8, &got, &len), 0);
    assert_null(app_gcache_get(c, "other"));
    assert_null(app_gcache_get(c, ""));

    app_gcache_ent_unref(e7);
    app_gcache_ent_unref(e8);
    protobuf_c_message_free_unpacked(&h7->base, NULL);
    protobuf_c_message_free_unpacked(&h9->base, NULL);
    protobuf_c_message_free_unpacked(&o8->base, NULL);
    protobuf_c_message_free_unpacked(&g7->base, NULL);
    protobuf_c_message_free_unpacked(&g8->base, NULL);
    app_gcache_destroy(c);
}

static void many_canvases_evict_the_least_recently_used(void **state)
{
    (void)state;
    app_gcache *c = NULL;
    assert_int_equal(app_gcache_create(&c), APP_OK);
    char id[32];
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "canvas-%d", i);
        Comfyd__V1__Graph *g = mk_graph(id, (uint64_t)i + 1, 2);
        char *got = NULL;
        size_t len = 0;
        assert_int_equal(app_gcache_graph_json(c, g, NULL, &got, &len), 1);
        free(got);
        protobuf_c_message_free_unpacked(&g->base, NULL);
        /* canvas-0 is read every time: it stays. */
        app_gcache_ent_unref(app_gcache_get(c, "canvas-0"));
    }
    app_gcache_ent *e = app_gcache_get(c, "canvas-0");
    assert_non_null(e);
    app_gcache_ent_unref(e);
    assert_null(app_gcache_get(c, "canvas-1"));
    e = app_gcache_get(c, "canvas-99");
    assert_non_null(e);
    app_gcache_ent_unref(e);
    app_gcache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cached_text_equals_the_whole_encoding),
        cmocka_unit_test(unchanged_needs_the_named_entry),
        cmocka_unit_test(many_canvases_evict_the_least_recently_used),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
