/* jsontree: yajl trees (yajl_tree_parse's output) written back as JSON. */
#ifndef COMFYD_JSONTREE_H
#define COMFYD_JSONTREE_H

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* Writes v (NULL writes null) to g, keys and numbers as they were parsed.
 * Returns yajl_gen_status_ok or the generator's first error. Recursion is
 * bounded by the depth the tree was parsed with (jsonscan). */
yajl_gen_status jsontree_gen(yajl_gen g, yajl_val v);

#endif
