#include "skills.h"

#include "text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

struct skills {
    atomic_size_t refs;
    skill *items; /* sorted by name */
    size_t n_items;
    skills_error *errors; /* in discovery order */
    size_t n_errors;
};

/* ---- small helpers ---------------------------------------------------- */

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

/* Copies at most 48 bytes of an outside string into a message, with control
 * characters and quotes replaced, so that messages stay one short line. */
static void quote_snippet(char *dst, size_t dstlen, const char *s, size_t n)
{
    size_t cut = n;
    if (cut > 48) cut = 48;
    if (cut + 4 > dstlen) cut = dstlen > 4 ? dstlen - 4 : 0;
    /* Never cut inside a UTF-8 sequence. */
    while (cut > 0 && cut < n && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    size_t o = 0;
    for (size_t i = 0; i < cut; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[o++] = (c < 0x20 || c == 0x7f || c == '\'') ? '?' : (char)c;
    }
    if (cut < n && dstlen >= 4) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    if (dstlen > 0) dst[o] = 0;
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) c++;
    return c;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* ---- front matter ----------------------------------------------------- */

/* 1 when line[0..n) is a front matter delimiter: "---" followed only by
 * spaces, tabs or a CR (files edited on Windows). */
static int is_delim(const char *line, size_t n)
{
    if (n < 3 || memcmp(line, "---", 3) != 0) return 0;
    for (size_t i = 3; i < n; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r') return 0;
    return 1;
}

static size_t line_end(const char *s, size_t len, size_t from)
{
    const char *nl = memchr(s + from, '\n', len - from);
    return nl ? (size_t)(nl - s) : len;
}

static int valid_name(const char *s, size_t n, char *err, size_t errlen)
{
    if (n == 0) {
        text_err(err, errlen, 0, "front matter: 'name' is empty");
        return 0;
    }
    if (n > SKILLS_MAX_NAME) {
        text_err(err, errlen, 0, "front matter: 'name' is longer than %d characters",
                 SKILLS_MAX_NAME);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            text_err(err, errlen, 0,
                     "front matter: 'name' must be lowercase letters, digits and hyphens");
            return 0;
        }
    }
    int double_hyphen = 0;
    for (size_t i = 1; i < n; i++)
        if (s[i] == '-' && s[i - 1] == '-') double_hyphen = 1;
    if (s[0] == '-' || s[n - 1] == '-' || double_hyphen) {
        text_err(err, errlen, 0,
                 "front matter: 'name' must not start or end with a hyphen or contain '--'");
        return 0;
    }
    return 1;
}

static int tool_char_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return 0;
    return 1;
}

/* Appends one allowed tool (already trimmed, non-empty), ignoring repeats. */
static int add_tool(skill *out, const char *s, size_t n, char *err, size_t errlen)
{
    if (n > SKILLS_MAX_TOOL_NAME || !tool_char_ok(s, n)) {
        char q[64];
        quote_snippet(q, sizeof q, s, n);
        text_err(err, errlen, 0,
                 "front matter: 'allowed-tools' entry '%s' is longer than %d bytes or has "
                 "control characters",
                 q, SKILLS_MAX_TOOL_NAME);
        return SKILLS_EPARSE;
    }
    for (size_t i = 0; i < out->n_allowed_tools; i++)
        if (strlen(out->allowed_tools[i]) == n && memcmp(out->allowed_tools[i], s, n) == 0)
            return SKILLS_OK;
    if (out->n_allowed_tools >= SKILLS_MAX_TOOLS) {
        text_err(err, errlen, 0, "front matter: 'allowed-tools' has more than %d entries",
                 SKILLS_MAX_TOOLS);
        return SKILLS_EPARSE;
    }
    if (!out->allowed_tools) {
        out->allowed_tools = calloc(SKILLS_MAX_TOOLS, sizeof *out->allowed_tools);
        if (!out->allowed_tools) return SKILLS_ENOMEM;
    }
    char *d = dupn(s, n);
    if (!d) return SKILLS_ENOMEM;
    out->allowed_tools[out->n_allowed_tools++] = d;
    return SKILLS_OK;
}

/* Splits "Read, Grep get_graph" on commas and whitespace. Whitespace inside
 * parentheses is kept so Claude Code patterns like "Bash(git add:*)" stay one
 * entry. */
static int add_tool_list(skill *out, const char *s, size_t n, char *err, size_t errlen)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (s[i] == ',' || is_space(s[i])))
            i++;
        size_t start = i;
        int depth = 0;
        while (i < n) {
            char c = s[i];
            if (c == '(') depth++;
            if (c == ')' && depth > 0) depth--;
            if (depth == 0 && (c == ',' || is_space(c))) break;
            i++;
        }
        if (i > start) {
            int rc = add_tool(out, s + start, i - start, err, errlen);
            if (rc != SKILLS_OK) return rc;
        }
    }
    return SKILLS_OK;
}

/* Returns the scalar's text, or NULL (with err set) when the node is not a
 * scalar or holds a NUL or an escape that is not valid UTF-8. */
static const char *scalar_text(yaml_node_t *v, const char *key, size_t *n, char *err, size_t errlen)
{
    if (!v || v->type != YAML_SCALAR_NODE) {
        text_err(err, errlen, 0, "front matter: '%s' must be a string", key);
        return NULL;
    }
    const char *s = (const char *)v->data.scalar.value;
    *n = v->data.scalar.length;
    /* Double-quoted escapes such as "\0" reach here after the file-level
     * UTF-8 check, so the value is checked again. */
    if (*n > 0 && !text_utf8_valid(s, *n)) {
        text_err(err, errlen, 0, "front matter: '%s' holds a NUL or invalid character escape", key);
        return NULL;
    }
    return s;
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_space(**s))
        (*s)++, (*n)--;
    while (*n > 0 && is_space((*s)[*n - 1]))
        (*n)--;
}

/* Reads the mapping at the document root into out. */
static int read_mapping(yaml_document_t *doc, yaml_node_t *root, skill *out, char *err,
                        size_t errlen)
{
    yaml_node_pair_t *start = root->data.mapping.pairs.start;
    yaml_node_pair_t *top = root->data.mapping.pairs.top;
    size_t n_pairs = (size_t)(top - start);
    if (n_pairs > SKILLS_MAX_KEYS) {
        text_err(err, errlen, 0, "front matter: more than %d keys", SKILLS_MAX_KEYS);
        return SKILLS_EPARSE;
    }
    yaml_node_t *name = NULL, *desc = NULL, *tools = NULL, *preview = NULL;
    for (size_t i = 0; i < n_pairs; i++) {
        yaml_node_t *k = yaml_document_get_node(doc, start[i].key);
        if (!k || k->type != YAML_SCALAR_NODE) {
            text_err(err, errlen, 0, "front matter: keys must be plain strings");
            return SKILLS_EPARSE;
        }
        const char *ks = (const char *)k->data.scalar.value;
        size_t kn = k->data.scalar.length;
        /* YAML requires unique keys but libyaml does not check: a repeated
         * key would otherwise silently pick one of two values. */
        for (size_t j = 0; j < i; j++) {
            yaml_node_t *o = yaml_document_get_node(doc, start[j].key);
            if (o->data.scalar.length == kn && memcmp(o->data.scalar.value, ks, kn) == 0) {
                char q[64];
                quote_snippet(q, sizeof q, ks, kn);
                text_err(err, errlen, 0, "front matter: duplicate key '%s'", q);
                return SKILLS_EPARSE;
            }
        }
        yaml_node_t *v = yaml_document_get_node(doc, start[i].value);
        if (kn == 4 && memcmp(ks, "name", 4) == 0)
            name = v;
        else if (kn == 11 && memcmp(ks, "description", 11) == 0)
            desc = v;
        else if (kn == 13 && memcmp(ks, "allowed-tools", 13) == 0)
            tools = v;
        else if (kn == 7 && memcmp(ks, "preview", 7) == 0)
            preview = v;
        /* Other keys (license, metadata, model, ...) belong to other tools. */
    }

    if (!name) {
        text_err(err, errlen, 0, "front matter: missing 'name'");
        return SKILLS_EPARSE;
    }
    if (!desc) {
        text_err(err, errlen, 0, "front matter: missing 'description'");
        return SKILLS_EPARSE;
    }
    size_t nn, dn;
    const char *ns = scalar_text(name, "name", &nn, err, errlen);
    if (!ns) return SKILLS_EPARSE;
    if (!valid_name(ns, nn, err, errlen)) return SKILLS_EPARSE;
    const char *ds = scalar_text(desc, "description", &dn, err, errlen);
    if (!ds) return SKILLS_EPARSE;
    trim(&ds, &dn);
    if (dn == 0) {
        text_err(err, errlen, 0, "front matter: 'description' is empty");
        return SKILLS_EPARSE;
    }
    if (utf8_chars(ds, dn) > SKILLS_MAX_DESCRIPTION) {
        text_err(err, errlen, 0, "front matter: 'description' is longer than %d characters",
                 SKILLS_MAX_DESCRIPTION);
        return SKILLS_EPARSE;
    }

    out->preview = PREVIEW_POLICY_DEFAULT;
    if (preview) {
        size_t pn;
        const char *ps = scalar_text(preview, "preview", &pn, err, errlen);
        if (!ps) return SKILLS_EPARSE;
        char name[PREVIEW_POLICY_MAX_NAME];
        if (pn >= sizeof name ||
            (memcpy(name, ps, pn), name[pn] = 0, preview_policy_parse(name, &out->preview) != 0)) {
            text_err(err, errlen, 0,
                     "front matter: 'preview' must be auto, preview or confirm-destructive");
            return SKILLS_EPARSE;
        }
    }

    if (tools) {
        if (tools->type == YAML_SCALAR_NODE) {
            size_t tn;
            const char *ts = scalar_text(tools, "allowed-tools", &tn, err, errlen);
            if (!ts) return SKILLS_EPARSE;
            int rc = add_tool_list(out, ts, tn, err, errlen);
            if (rc != SKILLS_OK) return rc;
        } else if (tools->type == YAML_SEQUENCE_NODE) {
            yaml_node_item_t *it = tools->data.sequence.items.start;
            for (; it < tools->data.sequence.items.top; it++) {
                yaml_node_t *e = yaml_document_get_node(doc, *it);
                size_t en;
                if (!e || e->type != YAML_SCALAR_NODE) {
                    text_err(err, errlen, 0,
                             "front matter: 'allowed-tools' entries must be strings");
                    return SKILLS_EPARSE;
                }
                const char *es = scalar_text(e, "allowed-tools", &en, err, errlen);
                if (!es) return SKILLS_EPARSE;
                trim(&es, &en);
                if (en == 0) {
                    text_err(err, errlen, 0, "front matter: 'allowed-tools' has an empty entry");
                    return SKILLS_EPARSE;
                }
                int rc = add_tool(out, es, en, err, errlen);
                if (rc != SKILLS_OK) return rc;
            }
        } else {
            text_err(err, errlen, 0,
                     "front matter: 'allowed-tools' must be a list or a comma-separated string");
            return SKILLS_EPARSE;
        }
    }

    out->name = dupn(ns, nn);
    out->description = dupn(ds, dn);
    if (!out->name || !out->description) return SKILLS_ENOMEM;
    return SKILLS_OK;
}

static int yaml_failure(yaml_parser_t *p, const char *fm, size_t fm_len, char *err, size_t errlen)
{
    if (p->error == YAML_MEMORY_ERROR) return SKILLS_ENOMEM;
    /* Front matter starts on the file's second line. Reader errors carry a
     * byte offset instead of a mark. */
    size_t line = p->problem_mark.line;
    if (p->error == YAML_READER_ERROR) {
        line = 0;
        for (size_t i = 0; i < p->problem_offset && i < fm_len; i++)
            if (fm[i] == '\n') line++;
    }
    const char *problem = p->problem ? p->problem : "unknown error";
    if (p->context)
        text_err(err, errlen, 0, "front matter: YAML error at line %zu: %s, %s", line + 2,
                 p->context, problem);
    else
        text_err(err, errlen, 0, "front matter: YAML error at line %zu: %s", line + 2, problem);
    return SKILLS_EPARSE;
}

static int parse_front_matter(const char *fm, size_t fm_len, skill *out, char *err, size_t errlen)
{
    yaml_parser_t p;
    yaml_document_t doc, extra;
    if (!yaml_parser_initialize(&p)) return SKILLS_ENOMEM;
    yaml_parser_set_input_string(&p, (const unsigned char *)fm, fm_len);
    yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);

    int rc;
    if (!yaml_parser_load(&p, &doc)) {
        rc = yaml_failure(&p, fm, fm_len, err, errlen);
        yaml_parser_delete(&p);
        return rc;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        text_err(err, errlen, 0, "front matter: empty, expected 'name' and 'description'");
        rc = SKILLS_EPARSE;
    } else if (root->type != YAML_MAPPING_NODE) {
        text_err(err, errlen, 0,
                 "front matter: must be a YAML mapping of 'key: value' lines, not a %s",
                 root->type == YAML_SEQUENCE_NODE ? "list" : "plain value");
        rc = SKILLS_EPARSE;
    } else {
        /* A "..." line could start a second document that would otherwise
         * be ignored without a word. */
        if (!yaml_parser_load(&p, &extra)) {
            rc = yaml_failure(&p, fm, fm_len, err, errlen);
        } else {
            int more = yaml_document_get_root_node(&extra) != NULL;
            yaml_document_delete(&extra);
            if (more) {
                text_err(err, errlen, 0, "front matter: holds more than one YAML document");
                rc = SKILLS_EPARSE;
            } else {
                rc = read_mapping(&doc, root, out, err, errlen);
            }
        }
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    return rc;
}

int skill_parse(const char *text, size_t len, const char *path, skill_source source, skill *out,
                char *err, size_t errlen)
{
    if (err && errlen) err[0] = 0;
    memset(out, 0, sizeof *out);
    if (!text && len > 0) {
        text_err(err, errlen, 0, "no text");
        return SKILLS_EPARSE;
    }
    if (len > SKILLS_MAX_FILE_BYTES) {
        text_err(err, errlen, 0, "file is %zu bytes, more than the limit of %d", len,
                 SKILLS_MAX_FILE_BYTES);
        return SKILLS_EPARSE;
    }
    if (!text_utf8_valid(text, len)) {
        text_err(err, errlen, 0, "file is not valid UTF-8 text (or holds a NUL byte)");
        return SKILLS_EPARSE;
    }
    if (len == 0) {
        text_err(err, errlen, 0, "no front matter: the file is empty");
        return SKILLS_EPARSE;
    }
    size_t pos = 0;
    /* Some editors start UTF-8 files with a byte order mark. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) pos = 3;

    size_t e = line_end(text, len, pos);
    if (!is_delim(text + pos, e - pos)) {
        text_err(err, errlen, 0, "no front matter: the file must start with a '---' line");
        return SKILLS_EPARSE;
    }
    size_t fm_start = e + 1, fm_end = 0, body = 0;
    int closed = 0;
    for (size_t i = fm_start; i < len;) {
        size_t le = line_end(text, len, i);
        if (is_delim(text + i, le - i)) {
            fm_end = i;
            body = le < len ? le + 1 : len;
            closed = 1;
            break;
        }
        i = le + 1;
    }
    if (!closed) {
        text_err(err, errlen, 0, "front matter: not closed by a '---' line");
        return SKILLS_EPARSE;
    }

    int rc = parse_front_matter(text + fm_start, fm_end - fm_start, out, err, errlen);
    if (rc != SKILLS_OK) goto fail;

    /* The body keeps its own layout; only the blank lines around it go. */
    const char *b = text + body;
    size_t bn = len - body, lead = 0;
    for (size_t i = 0; i < bn && is_space(b[i]); i++)
        if (b[i] == '\n') lead = i + 1;
    b += lead, bn -= lead;
    while (bn > 0 && is_space(b[bn - 1]))
        bn--;
    out->instructions = dupn(b, bn);
    out->path = dupn(path ? path : "", path ? strlen(path) : 0);
    if (!out->instructions || !out->path) {
        rc = SKILLS_ENOMEM;
        goto fail;
    }
    out->source = source;
    return SKILLS_OK;

fail:
    if (rc == SKILLS_ENOMEM) text_err(err, errlen, 0, "out of memory");
    skill_clear(out);
    return rc;
}

void skill_clear(skill *s)
{
    if (!s) return;
    free(s->name);
    free(s->description);
    free(s->instructions);
    free(s->path);
    for (size_t i = 0; i < s->n_allowed_tools; i++)
        free(s->allowed_tools[i]);
    free(s->allowed_tools);
    memset(s, 0, sizeof *s);
}

/* ---- registry ---------------------------------------------------------- */

/* Growing arrays while loading. */
typedef struct loader {
    skills *r;
    size_t cap_items, cap_errors;
} loader;

static int add_error(loader *l, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int add_error(loader *l, const char *path, const char *fmt, ...)
{
    skills *r = l->r;
    if (r->n_errors == l->cap_errors) {
        size_t cap = l->cap_errors ? l->cap_errors * 2 : 8;
        skills_error *e = realloc(r->errors, cap * sizeof *e);
        if (!e) return SKILLS_ENOMEM;
        r->errors = e;
        l->cap_errors = cap;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    skills_error *e = &r->errors[r->n_errors];
    e->path = dupn(path, strlen(path));
    e->message = dupn(msg, strlen(msg));
    if (!e->path || !e->message) {
        free(e->path);
        free(e->message);
        return SKILLS_ENOMEM;
    }
    r->n_errors++;
    return SKILLS_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_skill(const void *a, const void *b)
{
    return strcmp(((const skill *)a)->name, ((const skill *)b)->name);
}

static const skill *find_loaded(const skills *r, const char *name)
{
    for (size_t i = 0; i < r->n_items; i++)
        if (strcmp(r->items[i].name, name) == 0) return &r->items[i];
    return NULL;
}

/* Reads a regular file of at most SKILLS_MAX_FILE_BYTES + 1 bytes (one more
 * than allowed, so skill_parse can report the size). Returns 0, or an errno
 * value; ENOENT when there is no such file. */
static int read_small_file(const char *path, char **data, size_t *len)
{
    /* O_NONBLOCK: a FIFO named SKILL.md must not hang the loader. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return errno;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return EINVAL;
    }
    size_t cap = SKILLS_MAX_FILE_BYTES + 1, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return ENOMEM;
    }
    while (n < cap) {
        ssize_t k = read(fd, buf + n, cap - n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return e;
        }
        if (k == 0) break;
        n += (size_t)k;
    }
    close(fd);
    *data = buf;
    *len = n;
    return 0;
}

static int load_folder(loader *l, const char *dir, skill_source source)
{
    skills *r = l->r;
    char file[PATH_MAX];
    if ((size_t)snprintf(file, sizeof file, "%s/SKILL.md", dir) >= sizeof file)
        return add_error(l, dir, "path is too long");

    char *data = NULL;
    size_t len = 0;
    int e = read_small_file(file, &data, &len);
    if (e == ENOMEM) return SKILLS_ENOMEM;
    if (e == ENOENT) return add_error(l, dir, "no SKILL.md in this folder");
    if (e == EINVAL) return add_error(l, dir, "SKILL.md is not a regular file");
    if (e) return add_error(l, dir, "cannot read SKILL.md: %s", strerror(e));

    skill s;
    char msg[256];
    int rc = skill_parse(data, len, dir, source, &s, msg, sizeof msg);
    free(data);
    if (rc == SKILLS_ENOMEM) return rc;
    if (rc != SKILLS_OK) return add_error(l, dir, "%s", msg);

    const skill *prev = find_loaded(r, s.name);
    if (prev) {
        rc = add_error(l, dir, "skill '%s' is already loaded from %s; this one is skipped", s.name,
                       prev->path);
        skill_clear(&s);
        return rc;
    }
    if (r->n_items >= SKILLS_MAX_COUNT) {
        rc = add_error(l, dir, "more than %d skills; this one is skipped", SKILLS_MAX_COUNT);
        skill_clear(&s);
        return rc;
    }
    if (r->n_items == l->cap_items) {
        size_t cap = l->cap_items ? l->cap_items * 2 : 8;
        skill *it = realloc(r->items, cap * sizeof *it);
        if (!it) {
            skill_clear(&s);
            return SKILLS_ENOMEM;
        }
        r->items = it;
        l->cap_items = cap;
    }
    r->items[r->n_items++] = s;
    return SKILLS_OK;
}

static int load_root(loader *l, const skills_root *root)
{
    const char *dir = root->dir ? root->dir : "";
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) return add_error(l, dir, "skills folder does not exist");
        return add_error(l, dir, "cannot open skills folder: %s", strerror(errno));
    }
    /* Folder names are collected and sorted so the order (and which of two
     * same-named skills wins) does not depend on the file system. */
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = SKILLS_OK, too_many = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.') continue; /* ., .. and hidden folders */
        if (n >= SKILLS_MAX_DIR_ENTRIES) {
            too_many = 1;
            break;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nn = realloc(names, nc * sizeof *nn);
            if (!nn) {
                rc = SKILLS_ENOMEM;
                goto out;
            }
            names = nn;
            cap = nc;
        }
        names[n] = dupn(ent->d_name, strlen(ent->d_name));
        if (!names[n]) {
            rc = SKILLS_ENOMEM;
            goto out;
        }
        n++;
    }
    if (too_many) {
        rc = add_error(l, dir, "more than %d entries; only the first ones are scanned",
                       SKILLS_MAX_DIR_ENTRIES);
        if (rc != SKILLS_OK) goto out;
    }
    if (n > 1) qsort(names, n, sizeof *names, cmp_str);

    for (size_t i = 0; i < n && rc == SKILLS_OK; i++) {
        char sub[PATH_MAX];
        if ((size_t)snprintf(sub, sizeof sub, "%s/%s", dir, names[i]) >= sizeof sub) {
            rc = add_error(l, dir, "path of entry '%.64s' is too long", names[i]);
            continue;
        }
        struct stat st;
        /* stat, not lstat: a skill folder may be a symbolic link. Plain
         * files next to the folders (README.md) are not skills. */
        if (stat(sub, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        rc = load_folder(l, sub, root->source);
    }
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

static void free_registry(skills *r)
{
    for (size_t i = 0; i < r->n_items; i++)
        skill_clear(&r->items[i]);
    free(r->items);
    for (size_t i = 0; i < r->n_errors; i++) {
        free(r->errors[i].path);
        free(r->errors[i].message);
    }
    free(r->errors);
    free(r);
}

int skills_load(skills **out, const skills_root *roots, size_t n_roots)
{
    *out = NULL;
    skills *r = calloc(1, sizeof *r);
    if (!r) return SKILLS_ENOMEM;
    atomic_init(&r->refs, 1);
    loader l = {.r = r};
    for (size_t i = 0; i < n_roots; i++) {
        if (load_root(&l, &roots[i]) != SKILLS_OK) {
            free_registry(r);
            return SKILLS_ENOMEM;
        }
    }
    if (r->n_items > 1) qsort(r->items, r->n_items, sizeof *r->items, cmp_skill);
    *out = r;
    return SKILLS_OK;
}

void skills_ref(skills *r)
{
    if (r) atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
}

void skills_unref(skills *r)
{
    if (!r) return;
    /* acq_rel: the last owner must see every other owner's reads finished. */
    if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1) free_registry(r);
}

size_t skills_count(const skills *r)
{
    return r ? r->n_items : 0;
}

const skill *skills_at(const skills *r, size_t i)
{
    return r && i < r->n_items ? &r->items[i] : NULL;
}

const skill *skills_find(const skills *r, const char *name)
{
    if (!r || !name) return NULL;
    size_t lo = 0, hi = r->n_items;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, r->items[mid].name);
        if (c == 0) return &r->items[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

size_t skills_error_count(const skills *r)
{
    return r ? r->n_errors : 0;
}

const skills_error *skills_error_at(const skills *r, size_t i)
{
    return r && i < r->n_errors ? &r->errors[i] : NULL;
}
