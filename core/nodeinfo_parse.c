/* nodeinfo_parse: parsing one node type of /object_info into the schema's
 * arena (nodeinfo.h). */
#include "nodeinfo_int.h"

/* ---- parsing one node type ---- */

static int bad(type_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(type_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, c->whylen, fmt, ap);
    va_end(ap);
    return NODEINFO_EINVAL;
}

void ni_odd(type_ctx *c, const char *fmt, ...)
{
    if (c->odd[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->odd, c->oddlen, fmt, ap);
    va_end(ap);
}

static nodeinfo_kind kind_of(const char *t)
{
    if (strcmp(t, "INT") == 0) return NODEINFO_KIND_INT;
    if (strcmp(t, "FLOAT") == 0) return NODEINFO_KIND_FLOAT;
    if (strcmp(t, "STRING") == 0) return NODEINFO_KIND_STRING;
    if (strcmp(t, "BOOLEAN") == 0) return NODEINFO_KIND_BOOLEAN;
    if (strcmp(t, "COMBO") == 0) return NODEINFO_KIND_COMBO;
    return NODEINFO_KIND_LINK;
}

static int parse_options(type_ctx *c, const char *name, yajl_val list, nodeinfo_input *in)
{
    size_t n = list->u.array.len;
    if (n > NODEINFO_MAX_OPTIONS)
        return bad(c, "input \"%s\" has %zu combo options (limit %u)", name, n,
                   NODEINFO_MAX_OPTIONS);
    nodeinfo_value *opts = ni_arena_alloc(c->arena, (n ? n : 1) * sizeof *opts);
    if (!opts) return NODEINFO_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        /* Non-scalar options cannot be chosen by a value; leave them out. */
        int r = ni_scalar_value(c->arena, list->u.array.values[i], 1, &opts[k]);
        if (r < 0) return NODEINFO_ENOMEM;
        if (r > 0) k++;
    }
    in->options = opts;
    in->n_options = k;
    return NODEINFO_OK;
}

static int parse_input(type_ctx *c, const char *name, yajl_val spec, int required,
                       nodeinfo_input *in)
{
    memset(in, 0, sizeof *in);
    if (strlen(name) > NODEINFO_MAX_NAME) return bad(c, "an input name is too long");
    in->name = ni_arena_strdup(c->arena, name);
    if (!in->name) return NODEINFO_ENOMEM;
    in->required = required;

    yajl_val t = spec, opts = NULL;
    if (YAJL_IS_ARRAY(spec)) {
        t = spec->u.array.len ? spec->u.array.values[0] : NULL;
        if (spec->u.array.len > 1 && YAJL_IS_OBJECT(spec->u.array.values[1]))
            opts = spec->u.array.values[1];
    }
    yajl_val legacy = NULL;
    if (YAJL_IS_STRING(t)) {
        if (strlen(t->u.string) > NODEINFO_MAX_NAME)
            return bad(c, "input \"%s\" has a type name that is too long", name);
        in->kind = kind_of(t->u.string);
        in->type = ni_arena_strdup(c->arena, t->u.string[0] ? t->u.string : "*");
    } else if (YAJL_IS_ARRAY(t)) {
        legacy = t;
        in->kind = NODEINFO_KIND_COMBO;
        in->type = ni_arena_strdup(c->arena, "COMBO");
    } else {
        /* The frontend makes such an input a plain socket. */
        ni_odd(c, "input \"%s\": the type is neither a string nor a list of options; kept as \"*\"",
               name);
        in->kind = NODEINFO_KIND_LINK;
        in->type = ni_arena_strdup(c->arena, "*");
    }
    if (!in->type) return NODEINFO_ENOMEM;

    in->is_widget = in->kind != NODEINFO_KIND_LINK && !ni_truthy(ni_obj_get(opts, "forceInput"));
    in->multiline = ni_truthy(ni_obj_get(opts, "multiline"));
    yajl_val tip = ni_obj_get(opts, "tooltip");
    if (YAJL_IS_STRING(tip) && !(in->tooltip = ni_arena_strdup(c->arena, tip->u.string)))
        return NODEINFO_ENOMEM;
    yajl_val def = ni_obj_get(opts, "default");
    if (def && ni_scalar_value(c->arena, def, 0, &in->def) < 0) return NODEINFO_ENOMEM;
    double d;
    if (ni_num_of(ni_obj_get(opts, "min"), &d)) in->has_min = 1, in->min = d;
    if (ni_num_of(ni_obj_get(opts, "max"), &d)) in->has_max = 1, in->max = d;
    /* A zero or negative step constrains nothing. */
    if (ni_num_of(ni_obj_get(opts, "step"), &d) && d > 0) in->has_step = 1, in->step = d;

    if (in->kind == NODEINFO_KIND_COMBO) {
        yajl_val list = legacy ? legacy : ni_obj_get(opts, "options");
        if (YAJL_IS_ARRAY(list)) {
            int rc = parse_options(c, name, list, in);
            if (rc) return rc;
        }
        in->dynamic_options = ni_truthy(ni_obj_get(opts, "image_upload")) ||
                              ni_truthy(ni_obj_get(opts, "audio_upload")) ||
                              ni_truthy(ni_obj_get(opts, "video_upload")) ||
                              ni_truthy(ni_obj_get(opts, "file_upload")) ||
                              ni_truthy(ni_obj_get(opts, "remote"));
    }
    if (in->is_widget && (in->kind == NODEINFO_KIND_INT || in->kind == NODEINFO_KIND_COMBO)) {
        yajl_val cag = ni_obj_get(opts, "control_after_generate");
        if (cag && !YAJL_IS_NULL(cag))
            in->control_after_generate = ni_truthy(cag);
        else
            in->control_after_generate =
                in->kind == NODEINFO_KIND_INT &&
                (strcmp(name, "seed") == 0 || strcmp(name, "noise_seed") == 0);
    }
    return NODEINFO_OK;
}

/* Fills order[] with the indexes of group's entries: input_order first,
 * then the others in object order. Returns the count. */
static size_t group_order(yajl_val group, yajl_val order_list, size_t *order)
{
    size_t n = group->u.object.len, k = 0;
    unsigned char taken[NODEINFO_MAX_INPUTS] = {0};
    if (YAJL_IS_ARRAY(order_list)) {
        for (size_t i = 0; i < order_list->u.array.len; i++) {
            yajl_val nm = order_list->u.array.values[i];
            if (!YAJL_IS_STRING(nm)) continue;
            for (size_t j = 0; j < n; j++) {
                if (!taken[j] && strcmp(group->u.object.keys[j], nm->u.string) == 0) {
                    taken[j] = 1;
                    order[k++] = j;
                    break;
                }
            }
        }
    }
    for (size_t j = 0; j < n; j++)
        if (!taken[j]) order[k++] = j;
    return k;
}

static int parse_inputs(type_ctx *c, yajl_val v, nodeinfo_type *t)
{
    yajl_val input = ni_obj_get(v, "input");
    yajl_val order = ni_obj_get(v, "input_order");
    static const char *const groups[2] = {"required", "optional"};
    yajl_val g[2] = {NULL, NULL};
    size_t total = 0;
    if (input && !YAJL_IS_NULL(input) && !YAJL_IS_OBJECT(input))
        ni_odd(c, "\"input\" is not an object; no inputs kept");
    for (int i = 0; i < 2; i++) {
        g[i] = ni_obj_get(input, groups[i]);
        if (g[i] && !YAJL_IS_NULL(g[i]) && !YAJL_IS_OBJECT(g[i]))
            ni_odd(c, "\"input.%s\" is not an object; ignored", groups[i]);
        if (YAJL_IS_OBJECT(g[i])) total += g[i]->u.object.len;
    }
    if (total > NODEINFO_MAX_INPUTS)
        return bad(c, "%zu inputs (limit %u)", total, NODEINFO_MAX_INPUTS);
    nodeinfo_input *ins = ni_arena_alloc(c->arena, (total ? total : 1) * sizeof *ins);
    if (!ins) return NODEINFO_ENOMEM;
    size_t k = 0;
    for (int i = 0; i < 2; i++) {
        if (!YAJL_IS_OBJECT(g[i])) continue;
        size_t idx[NODEINFO_MAX_INPUTS];
        size_t n = group_order(g[i], ni_obj_get(order, groups[i]), idx);
        for (size_t j = 0; j < n; j++) {
            int rc = parse_input(c, g[i]->u.object.keys[idx[j]], g[i]->u.object.values[idx[j]],
                                 i == 0, &ins[k]);
            if (rc) return rc;
            k++;
        }
    }
    t->inputs = ins;
    t->n_inputs = k;
    return NODEINFO_OK;
}

/* Element i of a per-output list; a single value stands for a list of one
 * (some custom nodes write "output": "STRING"). */
static yajl_val per_output(yajl_val list, size_t i)
{
    if (YAJL_IS_ARRAY(list)) return i < list->u.array.len ? list->u.array.values[i] : NULL;
    return i == 0 ? list : NULL;
}

static int parse_outputs(type_ctx *c, yajl_val v, nodeinfo_type *t)
{
    yajl_val out = ni_obj_get(v, "output");
    if (!out || YAJL_IS_NULL(out)) return NODEINFO_OK;
    size_t n;
    if (YAJL_IS_ARRAY(out)) {
        n = out->u.array.len;
    } else if (YAJL_IS_STRING(out)) {
        ni_odd(c, "\"output\" is a string, not a list; kept as one output");
        n = 1;
    } else {
        ni_odd(c, "\"output\" is neither a list nor a type; no outputs kept");
        return NODEINFO_OK;
    }
    if (n > NODEINFO_MAX_OUTPUTS) return bad(c, "%zu outputs (limit %u)", n, NODEINFO_MAX_OUTPUTS);
    yajl_val names = ni_obj_get(v, "output_name");
    yajl_val lists = ni_obj_get(v, "output_is_list");
    nodeinfo_output *outs = ni_arena_alloc(c->arena, (n ? n : 1) * sizeof *outs);
    if (!outs) return NODEINFO_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        yajl_val o = per_output(out, i);
        const char *type;
        if (YAJL_IS_STRING(o)) {
            type = o->u.string[0] ? o->u.string : "*";
        } else if (YAJL_IS_ARRAY(o)) {
            type = "COMBO";
        } else {
            /* Keeps the later outputs' slot numbers: the frontend shows a
             * socket of any type. */
            ni_odd(c, "output %zu is neither a type nor a list; kept as \"*\"", i);
            type = "*";
        }
        const char *name = type;
        yajl_val nm = per_output(names, i);
        if (YAJL_IS_STRING(nm) && nm->u.string[0]) name = nm->u.string;
        if (strlen(type) > NODEINFO_MAX_NAME || strlen(name) > NODEINFO_MAX_NAME)
            return bad(c, "output %zu has a name that is too long", i);
        outs[k].type = ni_arena_strdup(c->arena, type);
        outs[k].name = ni_arena_strdup(c->arena, name);
        if (!outs[k].type || !outs[k].name) return NODEINFO_ENOMEM;
        outs[k].is_list = YAJL_IS_TRUE(per_output(lists, i));
        k++;
    }
    t->outputs = outs;
    t->n_outputs = k;
    return NODEINFO_OK;
}

static int text_field(type_ctx *c, yajl_val v, const char *key, const char *fallback,
                      const char **out)
{
    yajl_val s = ni_obj_get(v, key);
    *out = ni_arena_strdup(c->arena, YAJL_IS_STRING(s) ? s->u.string : fallback);
    return *out ? NODEINFO_OK : NODEINFO_ENOMEM;
}

int ni_parse_type(type_ctx *c, const char *name, yajl_val v, nodeinfo_type *t)
{
    memset(t, 0, sizeof *t);
    if (!YAJL_IS_OBJECT(v)) return bad(c, "not an object");
    if (name[0] == 0) return bad(c, "empty type name");
    if (strlen(name) > NODEINFO_MAX_NAME) return bad(c, "type name too long");
    if (!(t->name = ni_arena_strdup(c->arena, name))) return NODEINFO_ENOMEM;
    int rc;
    if ((rc = text_field(c, v, "display_name", name, &t->display_name)) ||
        (rc = text_field(c, v, "category", "", &t->category)) ||
        (rc = text_field(c, v, "description", "", &t->description)) ||
        (rc = text_field(c, v, "python_module", "", &t->python_module)))
        return rc;
    if (!t->display_name[0]) t->display_name = t->name;
    if (strlen(t->category) > NODEINFO_MAX_NAME || strlen(t->display_name) > NODEINFO_MAX_NAME ||
        strlen(t->python_module) > NODEINFO_MAX_NAME)
        return bad(c, "display name or category too long");
    t->output_node = ni_truthy(ni_obj_get(v, "output_node"));
    t->deprecated = ni_truthy(ni_obj_get(v, "deprecated"));
    t->experimental = ni_truthy(ni_obj_get(v, "experimental"));
    if ((rc = parse_inputs(c, v, t))) return rc;
    return parse_outputs(c, v, t);
}
