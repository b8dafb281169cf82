#include "jsontree.h"

#include <string.h>

yajl_gen_status jsontree_gen(yajl_gen g, yajl_val v)
{
    if (!v) return yajl_gen_null(g);
    yajl_gen_status s = yajl_gen_status_ok;
    switch (v->type) {
    case yajl_t_string:
        return yajl_gen_string(g, (const unsigned char *)v->u.string, strlen(v->u.string));
    case yajl_t_number:
        return yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
    case yajl_t_object:
        if ((s = yajl_gen_map_open(g))) return s;
        for (size_t i = 0; i < v->u.object.len; i++) {
            const char *k = v->u.object.keys[i];
            if ((s = yajl_gen_string(g, (const unsigned char *)k, strlen(k))) ||
                (s = jsontree_gen(g, v->u.object.values[i])))
                return s;
        }
        return yajl_gen_map_close(g);
    case yajl_t_array:
        if ((s = yajl_gen_array_open(g))) return s;
        for (size_t i = 0; i < v->u.array.len; i++)
            if ((s = jsontree_gen(g, v->u.array.values[i]))) return s;
        return yajl_gen_array_close(g);
    case yajl_t_true:
        return yajl_gen_bool(g, 1);
    case yajl_t_false:
        return yajl_gen_bool(g, 0);
    default:
        return yajl_gen_null(g);
    }
}
