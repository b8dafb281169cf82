/* skills: the registry of skills loaded from SKILL.md folders.
 *
 * A skill is a folder holding SKILL.md: YAML front matter between "---"
 * lines with at least `name` and `description` (optional `allowed-tools`, a
 * list or a comma/space separated string), then the instructions. This is
 * the format Claude Code and opencode load. Each root folder given to
 * skills_load is scanned one level deep: ROOT/<folder>/SKILL.md.
 *
 * A registry is immutable once loaded and reference counted, so a reload can
 * swap it while running turns keep the one they started with. */
#ifndef COMFYD_SKILLS_H
#define COMFYD_SKILLS_H

#include <stddef.h>

/* Named limits (each with its reason). */
#define SKILLS_MAX_FILE_BYTES (256 * 1024) /* a SKILL.md is prose, not data */
#define SKILLS_MAX_NAME 64                 /* Claude Code's own limit */
#define SKILLS_MAX_DESCRIPTION 1024        /* Claude Code's own limit */
#define SKILLS_MAX_TOOLS 64
#define SKILLS_MAX_COUNT 512 /* per registry; more is a misconfiguration */

typedef enum {
    SKILLS_OK = 0,
    SKILLS_ENOMEM = -1,
    /* SKILL.md is malformed: no front matter, bad YAML, missing or invalid
     * name/description, too big, not UTF-8. */
    SKILLS_EPARSE = -2,
    SKILLS_EIO = -3,
} skills_err;

typedef enum {
    SKILL_SOURCE_BUILTIN = 1,
    SKILL_SOURCE_USER = 2,
} skill_source;

typedef struct skill {
    char *name;        /* [a-z0-9-]+, at most SKILLS_MAX_NAME */
    char *description; /* non-empty */
    char *instructions; /* body after the front matter, may be empty */
    char *path;        /* folder */
    skill_source source;
    char **allowed_tools; /* empty: all tools */
    size_t n_allowed_tools;
} skill;

typedef struct skills_error {
    char *path;
    char *message;
} skills_error;

typedef struct skills skills;

typedef struct skills_root {
    const char *dir;
    skill_source source;
} skills_root;

/* Parses one SKILL.md held in text[0..len). path is recorded in the skill.
 * On success fills *out (free with skill_clear). On SKILLS_EPARSE writes a
 * one-line reason into err[0..errlen) such as "front matter: missing
 * 'description'". */
int skill_parse(const char *text, size_t len, const char *path, skill_source source, skill *out,
                char *err, size_t errlen);
void skill_clear(skill *s);

/* Scans the roots in order. Folders whose SKILL.md fails to parse, or whose
 * name repeats an earlier skill's, are recorded as errors and skipped; a
 * missing root is an error entry too. Returns SKILLS_OK (even with error
 * entries) or SKILLS_ENOMEM. *out starts with one reference. */
int skills_load(skills **out, const skills_root *roots, size_t n_roots);

void skills_ref(skills *r);
void skills_unref(skills *r);

size_t skills_count(const skills *r);
/* Sorted by name. Valid while the caller holds a reference. */
const skill *skills_at(const skills *r, size_t i);
const skill *skills_find(const skills *r, const char *name);
size_t skills_error_count(const skills *r);
const skills_error *skills_error_at(const skills *r, size_t i);

#endif
