/* toolspec_int: what the files of toolspec share and nothing else links:
 * the JSON output helpers and the argument lookup one file defines and the
 * others call. toolspec.h stays the module's API; toolspec.c's top comment
 * lists which file holds what. */
#ifndef COMFYD_TOOLSPEC_INT_H
#define COMFYD_TOOLSPEC_INT_H

#include "toolspec.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "jsonpb.h"
#include "jsonpb_schema.h"
#include "text.h"

/* The g_ helpers add one value to g and return nonzero when yajl failed. */

/* Shortest text of d that reads back as d. */
void ts_fmt_double(char *buf, size_t len, double d);
/* A string. */
int ts_g_str(yajl_gen g, const char *s);
/* n bytes of s as a string. */
int ts_g_strn(yajl_gen g, const char *s, size_t n);
/* A key and its string value. */
int ts_g_kv(yajl_gen g, const char *k, const char *v);
/* An unsigned integer. */
int ts_g_u64(yajl_gen g, uint64_t v);
/* A signed integer. */
int ts_g_i64(yajl_gen g, int64_t v);
/* A number (non-finite ones as strings). */
int ts_g_double(yajl_gen g, double d);
/* A boolean. */
int ts_g_bool(yajl_gen g, int b);
/* A text cut to max bytes (with "..." when cut). */
int ts_g_cut(yajl_gen g, const char *s, size_t max);
/* A graph Value as JSON (null when v is NULL). */
int ts_g_value(yajl_gen g, const Comfyd__V1__Value *v);
/* A generator that checks UTF-8; NULL when out of memory. */
yajl_gen ts_gen_new(void);
/* The generated text (malloc'd) and frees g; NULL when bad or out of memory. */
char *ts_gen_done(yajl_gen g, int bad);
/* The value of key, NULL when absent or null. */
yajl_val ts_arg(yajl_val v, const char *key);

#endif
