/* comfy_event: ComfyUI's JSON messages, parsed (see comfy_event.h). */
#include "comfy_event.h"
#include "jsontree.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "nodeinfo.h"
#include "text.h"

static const nodeinfo_json_limits LIMITS = {COMFY_MAX_JSON, COMFY_MAX_DEPTH, COMFY_MAX_VALUES};

static void seterr(char *err, size_t errlen, const char *msg)
{
    if (err && errlen) snprintf(err, errlen, "%s", msg);
}

static yajl_val get(yajl_val obj, const char *key)
{
    if (!obj || !YAJL_IS_OBJECT(obj)) return NULL;
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (!strcmp(obj->u.object.keys[i], key)) return obj->u.object.values[i];
    return NULL;
}

/* A copy of a string (or an integer, as ComfyUI's ids sometimes are) cut at
 * max bytes on a UTF-8 boundary; "" for anything else. Never NULL. */
static char *str_of(yajl_val v, size_t max)
{
    if (v && YAJL_IS_STRING(v)) {
        const char *s = v->u.string;
        return text_dupn(s, text_utf8_cut(s, strlen(s), max));
    }
    if (v && YAJL_IS_INTEGER(v)) {
        char b[32];
        snprintf(b, sizeof b, "%lld", (long long)v->u.number.i);
        return text_dup(b);
    }
    return text_dup("");
}

static char *str_at(yajl_val obj, const char *key, size_t max)
{
    return str_of(get(obj, key), max);
}

static double num_of(yajl_val v)
{
    if (!v || !YAJL_IS_NUMBER(v)) return 0;
    double d = YAJL_IS_DOUBLE(v) ? v->u.number.d : (double)v->u.number.i;
    return isfinite(d) ? d : 0;
}

/* v as JSON text; "" when it does not fit max bytes (a pass-through that
 * is cut would not parse). Never NULL. */
static char *json_of(yajl_val v, size_t max)
{
    if (!v) return text_dup("");
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g) return text_dup("");
    char *out = NULL;
    if (jsontree_gen(g, v) == yajl_gen_status_ok) {
        const unsigned char *b;
        size_t n;
        yajl_gen_get_buf(g, &b, &n);
        if (n <= max) out = text_dupn((const char *)b, n);
    }
    yajl_gen_free(g);
    return out ? out : text_dup("");
}

static char **str_list(yajl_val arr, size_t max_items, size_t max_len, size_t *n)
{
    *n = 0;
    if (!arr || !YAJL_IS_ARRAY(arr) || !arr->u.array.len) return NULL;
    size_t cnt = arr->u.array.len < max_items ? arr->u.array.len : max_items;
    char **out = calloc(cnt, sizeof *out);
    if (!out) return NULL;
    for (size_t i = 0; i < cnt; i++)
        out[i] = str_of(arr->u.array.values[i], max_len);
    *n = cnt;
    return out;
}

static void free_list(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

/* The files of a node's output object: every array value whose items are
 * objects with a "filename" (images, gifs, audio, ...). */
static Comfyd__V1__OutputFile **files_of(yajl_val output, size_t *n)
{
    *n = 0;
    if (!output || !YAJL_IS_OBJECT(output)) return NULL;
    Comfyd__V1__OutputFile **out = NULL;
    size_t cnt = 0;
    for (size_t k = 0; k < output->u.object.len; k++) {
        yajl_val arr = output->u.object.values[k];
        if (!YAJL_IS_ARRAY(arr)) continue;
        for (size_t i = 0; i < arr->u.array.len && cnt < COMFY_MAX_FILES; i++) {
            yajl_val f = arr->u.array.values[i];
            yajl_val fn = get(f, "filename");
            if (!fn || !YAJL_IS_STRING(fn)) continue;
            Comfyd__V1__OutputFile **grown = realloc(out, (cnt + 1) * sizeof *out);
            if (!grown) break;
            out = grown;
            Comfyd__V1__OutputFile *o = malloc(sizeof *o);
            if (!o) break;
            comfyd__v1__output_file__init(o);
            o->kind = text_dupn(output->u.object.keys[k],
                                text_utf8_cut(output->u.object.keys[k],
                                              strlen(output->u.object.keys[k]), COMFY_MAX_ID));
            o->filename = str_of(fn, COMFY_MAX_TEXT);
            o->subfolder = str_at(f, "subfolder", COMFY_MAX_TEXT);
            o->type = str_at(f, "type", COMFY_MAX_ID);
            out[cnt++] = o;
        }
    }
    *n = cnt;
    return out;
}

static comfy_event_type type_of(const char *t)
{
    static const struct {
        const char *name;
        comfy_event_type type;
    } map[] = {
        {"status", COMFY_EV_STATUS},
        {"execution_start", COMFY_EV_EXECUTION_START},
        {"execution_cached", COMFY_EV_EXECUTION_CACHED},
        {"executing", COMFY_EV_EXECUTING},
        {"progress", COMFY_EV_PROGRESS},
        {"executed", COMFY_EV_EXECUTED},
        {"execution_success", COMFY_EV_EXECUTION_SUCCESS},
        {"execution_error", COMFY_EV_EXECUTION_ERROR},
        {"execution_interrupted", COMFY_EV_EXECUTION_INTERRUPTED},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(map[i].name, t)) return map[i].type;
    return COMFY_EV_OTHER;
}

/* Fills ev from a type name and its data object (a WebSocket message's, or
 * a history message's). */
static void event_from(comfy_event *ev, const char *type, yajl_val data)
{
    memset(ev, 0, sizeof *ev);
    ev->type = type_of(type);
    ev->type_name = text_dupn(type, text_utf8_cut(type, strlen(type), COMFY_MAX_ID));
    ev->prompt_id = str_at(data, "prompt_id", COMFY_MAX_ID);
    yajl_val node = get(data, "node");
    if (!node) node = get(data, "node_id");
    ev->node = str_of(node, COMFY_MAX_ID);
    ev->node_null = ev->type == COMFY_EV_EXECUTING && (!node || YAJL_IS_NULL(node));
    ev->value = num_of(get(data, "value"));
    ev->max = num_of(get(data, "max"));
    ev->queue_remaining = -1;
    yajl_val ts = get(data, "timestamp");
    if (ts && YAJL_IS_INTEGER(ts)) ev->timestamp_ms = ts->u.number.i;
    ev->node_type = str_at(data, "node_type", COMFY_MAX_ID);
    ev->exception_type = str_at(data, "exception_type", COMFY_MAX_TEXT);
    ev->exception_message = str_at(data, "exception_message", COMFY_MAX_TEXT);
    switch (ev->type) {
    case COMFY_EV_STATUS: {
        yajl_val ei = get(get(get(data, "status"), "exec_info"), "queue_remaining");
        if (ei && YAJL_IS_INTEGER(ei)) ev->queue_remaining = ei->u.number.i;
        break;
    }
    case COMFY_EV_EXECUTION_CACHED:
        ev->nodes = str_list(get(data, "nodes"), COMFY_MAX_NODES, COMFY_MAX_ID, &ev->n_nodes);
        break;
    case COMFY_EV_EXECUTION_ERROR: {
        /* The last lines: where the exception was raised. */
        yajl_val tb = get(data, "traceback");
        if (tb && YAJL_IS_ARRAY(tb) && tb->u.array.len) {
            size_t len = tb->u.array.len;
            size_t from = len > COMFY_MAX_TRACEBACK_LINES ? len - COMFY_MAX_TRACEBACK_LINES : 0;
            ev->traceback = calloc(len - from, sizeof *ev->traceback);
            if (ev->traceback) {
                for (size_t i = from; i < len; i++)
                    ev->traceback[ev->n_traceback++] =
                        str_of(tb->u.array.values[i], COMFY_MAX_TRACEBACK_LINE);
            }
        }
        break;
    }
    case COMFY_EV_EXECUTED: {
        yajl_val out = get(data, "output");
        ev->output_json = json_of(out, COMFY_MAX_OUTPUT_JSON);
        ev->files = files_of(out, &ev->n_files);
        break;
    }
    default:
        break;
    }
    if (!ev->output_json) ev->output_json = text_dup("");
}

void comfy_event_clear(comfy_event *ev)
{
    if (!ev) return;
    free(ev->type_name);
    free(ev->prompt_id);
    free(ev->node);
    free_list(ev->nodes, ev->n_nodes);
    free(ev->node_type);
    free(ev->exception_type);
    free(ev->exception_message);
    free_list(ev->traceback, ev->n_traceback);
    free(ev->output_json);
    for (size_t i = 0; i < ev->n_files; i++)
        protobuf_c_message_free_unpacked(&ev->files[i]->base, NULL);
    free(ev->files);
    memset(ev, 0, sizeof *ev);
}

static int parse(const char *json, size_t len, yajl_val *out, char *err, size_t errlen)
{
    char e[256] = "";
    if (nodeinfo_json_parse(json, len, &LIMITS, out, e, sizeof e) != NODEINFO_OK) {
        if (err && errlen) snprintf(err, errlen, "not a JSON message ComfyUI sends: %s", e);
        return -1;
    }
    return 0;
}

int comfy_event_parse(const char *json, size_t len, comfy_event *ev, char *err, size_t errlen)
{
    memset(ev, 0, sizeof *ev);
    yajl_val root;
    if (parse(json, len, &root, err, errlen)) return -1;
    yajl_val type = get(root, "type");
    if (!type || !YAJL_IS_STRING(type)) {
        yajl_tree_free(root);
        seterr(err, errlen, "the message has no \"type\" string");
        return -1;
    }
    yajl_val data = get(root, "data");
    if (data && !YAJL_IS_OBJECT(data)) data = NULL;
    event_from(ev, type->u.string, data);
    yajl_tree_free(root);
    return 0;
}

/* ---- POST /prompt ---- */

/* node_errors: {"<id>": {"errors": [{type, message, details,
 * extra_info: {input_name}}], "class_type": ...}}. */
static Comfyd__V1__RunNodeError **node_errors_of(yajl_val ne, size_t *n)
{
    *n = 0;
    if (!ne || !YAJL_IS_OBJECT(ne)) return NULL;
    Comfyd__V1__RunNodeError **out = NULL;
    size_t cnt = 0;
    for (size_t k = 0; k < ne->u.object.len && cnt < COMFY_MAX_ERRORS; k++) {
        yajl_val entry = ne->u.object.values[k];
        yajl_val errs = get(entry, "errors");
        size_t m = errs && YAJL_IS_ARRAY(errs) ? errs->u.array.len : 0;
        /* A node listed without errors still failed (dependent output). */
        for (size_t i = 0; i < (m ? m : 1) && cnt < COMFY_MAX_ERRORS; i++) {
            yajl_val e = m ? errs->u.array.values[i] : NULL;
            Comfyd__V1__RunNodeError **grown = realloc(out, (cnt + 1) * sizeof *out);
            if (!grown) break;
            out = grown;
            Comfyd__V1__RunNodeError *r = malloc(sizeof *r);
            if (!r) break;
            comfyd__v1__run_node_error__init(r);
            const char *key = ne->u.object.keys[k];
            r->node_id = text_dupn(key, text_utf8_cut(key, strlen(key), COMFY_MAX_ID));
            r->node_type = str_at(entry, "class_type", COMFY_MAX_ID);
            r->title = text_dup("");
            r->input_name = str_at(get(e, "extra_info"), "input_name", COMFY_MAX_ID);
            r->type = str_at(e, "type", COMFY_MAX_ID);
            r->message = str_at(e, "message", COMFY_MAX_TEXT);
            r->details = str_at(e, "details", COMFY_MAX_TEXT);
            /* extra_info.input_config: [[allowed values...], {options}] for a
             * combo. */
            yajl_val ic = get(get(e, "extra_info"), "input_config");
            yajl_val opts =
                ic && YAJL_IS_ARRAY(ic) && ic->u.array.len ? ic->u.array.values[0] : NULL;
            if (opts && YAJL_IS_ARRAY(opts) && opts->u.array.len) {
                size_t k = 0;
                for (size_t j = 0; j < opts->u.array.len; j++)
                    k += YAJL_IS_STRING(opts->u.array.values[j]);
                if (k > COMFY_MAX_ALLOWED) k = COMFY_MAX_ALLOWED;
                r->allowed_values = k ? calloc(k, sizeof *r->allowed_values) : NULL;
                for (size_t j = 0;
                     r->allowed_values && j < opts->u.array.len && r->n_allowed_values < k; j++)
                    if (YAJL_IS_STRING(opts->u.array.values[j]))
                        r->allowed_values[r->n_allowed_values++] =
                            str_of(opts->u.array.values[j], COMFY_MAX_TEXT);
            }
            out[cnt++] = r;
        }
    }
    *n = cnt;
    return out;
}

int comfy_prompt_answer_parse(const char *json, size_t len, comfy_prompt_answer *a, char *err,
                              size_t errlen)
{
    memset(a, 0, sizeof *a);
    yajl_val root;
    if (parse(json, len, &root, err, errlen)) return -1;
    if (!YAJL_IS_OBJECT(root)) {
        yajl_tree_free(root);
        seterr(err, errlen, "ComfyUI's answer to /prompt is not an object");
        return -1;
    }
    a->prompt_id = str_at(root, "prompt_id", COMFY_MAX_ID);
    a->number = num_of(get(root, "number"));
    yajl_val e = get(root, "error");
    if (e && YAJL_IS_STRING(e)) {
        a->error_type = text_dup("");
        a->error_message = str_of(e, COMFY_MAX_TEXT);
    } else {
        a->error_type = str_at(e, "type", COMFY_MAX_ID);
        a->error_message = str_at(e, "message", COMFY_MAX_TEXT);
    }
    a->node_errors = node_errors_of(get(root, "node_errors"), &a->n_node_errors);
    yajl_tree_free(root);
    return 0;
}

void comfy_prompt_answer_clear(comfy_prompt_answer *a)
{
    if (!a) return;
    free(a->prompt_id);
    free(a->error_type);
    free(a->error_message);
    for (size_t i = 0; i < a->n_node_errors; i++)
        protobuf_c_message_free_unpacked(&a->node_errors[i]->base, NULL);
    free(a->node_errors);
    memset(a, 0, sizeof *a);
}

/* ---- GET /history/{id} ---- */

int comfy_history_parse(const char *json, size_t len, const char *prompt_id, comfy_history *h,
                        char *err, size_t errlen)
{
    memset(h, 0, sizeof *h);
    yajl_val root;
    if (parse(json, len, &root, err, errlen)) return -1;
    if (!YAJL_IS_OBJECT(root)) {
        yajl_tree_free(root);
        seterr(err, errlen, "ComfyUI's history is not an object");
        return -1;
    }
    yajl_val entry = get(root, prompt_id);
    if (!entry || !YAJL_IS_OBJECT(entry)) {
        yajl_tree_free(root);
        h->status_str = text_dup("");
        return 0;
    }
    h->found = 1;
    yajl_val st = get(entry, "status");
    h->status_str = str_at(st, "status_str", COMFY_MAX_ID);
    h->completed = get(st, "completed") && YAJL_IS_TRUE(get(st, "completed"));
    yajl_val msgs = get(st, "messages");
    if (msgs && YAJL_IS_ARRAY(msgs) && msgs->u.array.len) {
        size_t cnt =
            msgs->u.array.len < COMFY_MAX_MESSAGES ? msgs->u.array.len : COMFY_MAX_MESSAGES;
        h->messages = calloc(cnt, sizeof *h->messages);
        for (size_t i = 0; h->messages && i < cnt; i++) {
            yajl_val m = msgs->u.array.values[i];
            /* ["execution_error", {...}] */
            if (!YAJL_IS_ARRAY(m) || m->u.array.len < 2 || !YAJL_IS_STRING(m->u.array.values[0]))
                continue;
            yajl_val data = m->u.array.values[1];
            event_from(&h->messages[h->n_messages], m->u.array.values[0]->u.string,
                       YAJL_IS_OBJECT(data) ? data : NULL);
            if (h->messages[h->n_messages].type == COMFY_EV_OTHER)
                comfy_event_clear(&h->messages[h->n_messages]);
            else
                h->n_messages++;
        }
    }
    yajl_val outs = get(entry, "outputs");
    if (outs && YAJL_IS_OBJECT(outs) && outs->u.object.len) {
        size_t cnt = outs->u.object.len < COMFY_MAX_NODES ? outs->u.object.len : COMFY_MAX_NODES;
        h->outputs = calloc(cnt, sizeof *h->outputs);
        for (size_t i = 0; h->outputs && i < cnt; i++) {
            Comfyd__V1__RunNodeOutput *o = malloc(sizeof *o);
            if (!o) break;
            comfyd__v1__run_node_output__init(o);
            const char *key = outs->u.object.keys[i];
            o->node_id = text_dupn(key, text_utf8_cut(key, strlen(key), COMFY_MAX_ID));
            o->output_json = json_of(outs->u.object.values[i], COMFY_MAX_OUTPUT_JSON);
            o->files = files_of(outs->u.object.values[i], &o->n_files);
            h->outputs[h->n_outputs++] = o;
        }
    }
    yajl_tree_free(root);
    return 0;
}

void comfy_history_clear(comfy_history *h)
{
    if (!h) return;
    free(h->status_str);
    for (size_t i = 0; i < h->n_messages; i++)
        comfy_event_clear(&h->messages[i]);
    free(h->messages);
    for (size_t i = 0; i < h->n_outputs; i++)
        protobuf_c_message_free_unpacked(&h->outputs[i]->base, NULL);
    free(h->outputs);
    memset(h, 0, sizeof *h);
}

/* ---- GET /queue ---- */

typedef struct {
    double number;
    char *id;
} qitem;

static int cmp_qitem(const void *a, const void *b)
{
    double x = ((const qitem *)a)->number, y = ((const qitem *)b)->number;
    return x < y ? -1 : x > y;
}

/* [[number, prompt_id, ...], ...] -> ids sorted by number. */
static char **queue_ids(yajl_val arr, size_t *n)
{
    *n = 0;
    if (!arr || !YAJL_IS_ARRAY(arr) || !arr->u.array.len) return NULL;
    size_t cnt = arr->u.array.len < COMFY_MAX_NODES ? arr->u.array.len : COMFY_MAX_NODES;
    qitem *items = calloc(cnt, sizeof *items);
    if (!items) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < cnt; i++) {
        yajl_val it = arr->u.array.values[i];
        if (!YAJL_IS_ARRAY(it) || it->u.array.len < 2 || !YAJL_IS_STRING(it->u.array.values[1]))
            continue;
        items[k].number = num_of(it->u.array.values[0]);
        items[k].id = str_of(it->u.array.values[1], COMFY_MAX_ID);
        k++;
    }
    qsort(items, k, sizeof *items, cmp_qitem);
    char **out = k ? calloc(k, sizeof *out) : NULL;
    for (size_t i = 0; i < k; i++) {
        if (out)
            out[i] = items[i].id;
        else
            free(items[i].id);
    }
    free(items);
    *n = out ? k : 0;
    return out;
}

int comfy_queue_parse(const char *json, size_t len, comfy_queue *q, char *err, size_t errlen)
{
    memset(q, 0, sizeof *q);
    yajl_val root;
    if (parse(json, len, &root, err, errlen)) return -1;
    if (!YAJL_IS_OBJECT(root)) {
        yajl_tree_free(root);
        seterr(err, errlen, "ComfyUI's queue is not an object");
        return -1;
    }
    q->running = queue_ids(get(root, "queue_running"), &q->n_running);
    q->pending = queue_ids(get(root, "queue_pending"), &q->n_pending);
    yajl_tree_free(root);
    return 0;
}

void comfy_queue_clear(comfy_queue *q)
{
    if (!q) return;
    free_list(q->running, q->n_running);
    free_list(q->pending, q->n_pending);
    memset(q, 0, sizeof *q);
}
