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

#include "comfyd_error.h"

#include <stddef.h>

#include "preview_policy.h"

/* Named limits (each with its reason). */
#define SKILLS_MAX_FILE_BYTES (256 * 1024) /* a SKILL.md is prose, not data */
#define SKILLS_MAX_NAME 64                 /* Claude Code's own limit */
#define SKILLS_MAX_DESCRIPTION 1024        /* Claude Code's own limit */
#define SKILLS_MAX_TOOLS 64                /* allowed-tools entries; tool sets are small */
#define SKILLS_MAX_TOOL_NAME 128           /* one entry, e.g. "Bash(git add:*)" */
#define SKILLS_MAX_KEYS 256                /* front matter keys; keeps duplicate checks cheap */
#define SKILLS_MAX_COUNT 512               /* per registry; more is a misconfiguration */
#define SKILLS_MAX_DIR_ENTRIES 4096        /* per root; a skills folder is curated by hand */

typedef enum {
    SKILLS_OK = CFD_OK,
    SKILLS_ENOMEM = CFD_ERR_NOMEM,
    /* SKILL.md is malformed: no front matter, bad YAML, missing or invalid
     * name/description, too big, not UTF-8. */
    SKILLS_EPARSE = CFD_ERR_SKILLS_PARSE,
    SKILLS_EIO = CFD_ERR_SKILLS_IO,
} skills_err;

typedef enum {
    SKILL_SOURCE_BUILTIN = 1,
    SKILL_SOURCE_USER = 2,
} skill_source;

/* Every string is owned by the skill (skill_clear frees them), NUL
 * terminated and valid UTF-8. */
typedef struct skill {
    char *name;        /* [a-z0-9-]+, at most SKILLS_MAX_NAME, no leading, trailing or double '-' */
    char *description; /* non-empty, surrounding whitespace trimmed */
    char *instructions; /* body after the front matter, blank lines around it trimmed; may be "" */
    char *path;         /* folder (the path given to skill_parse) */
    skill_source source;
    char **allowed_tools; /* empty: all tools; repeats removed, order kept */
    size_t n_allowed_tools;
    /* Which of its patches the user sees first (front matter `preview:`
     * auto, preview or confirm-destructive; preview_policy.h). */
    preview_policy preview;
} skill;

/* A folder (or root) that could not be loaded. Owned by the registry. */
typedef struct skills_error {
    char *path;    /* the skill folder, or the root folder */
    char *message; /* one line */
} skills_error;

typedef struct skills skills;

typedef struct skills_root {
    const char *dir;
    skill_source source;
} skills_root;

/* Parses one SKILL.md held in text[0..len) (borrowed; need not be NUL
 * terminated). path (borrowed, may be NULL) is copied into the skill.
 *
 * Format: an optional UTF-8 byte order mark, a "---" line, a YAML mapping, a
 * "---" line, then the instructions. Delimiter lines may carry trailing
 * spaces or a CR. Keys: `name` and `description` (required), `allowed-tools`
 * (a YAML list, or one string split on commas and whitespace outside
 * parentheses); other keys are ignored. Duplicate keys are an error.
 *
 * Returns SKILLS_OK and fills *out (free with skill_clear); SKILLS_EPARSE
 * with a one-line reason in err[0..errlen) such as "front matter: missing
 * 'description'" (YAML syntax errors name libyaml's problem and the file
 * line); SKILLS_ENOMEM. On error *out is left zeroed. */
int skill_parse(const char *text, size_t len, const char *path, skill_source source, skill *out,
                char *err, size_t errlen);
void skill_clear(skill *s);

/* Scans the roots (borrowed for the call) in order. Each root's entries are
 * visited in byte order of their names; hidden entries and plain files are
 * skipped, every other folder must hold a SKILL.md. Folders whose SKILL.md
 * is missing or fails to parse, or whose name repeats an earlier skill's
 * (the earlier root, or folder, wins), are recorded as errors and skipped; a
 * missing or unreadable root is an error entry too. Returns SKILLS_OK (even
 * with error entries) or SKILLS_ENOMEM (*out NULL). *out starts with one
 * reference, owned by the caller. */
int skills_load(skills **out, const skills_root *roots, size_t n_roots);

/* The reference count is atomic: any thread may take or drop a reference.
 * The last skills_unref frees the registry. Both accept NULL. */
void skills_ref(skills *r);
void skills_unref(skills *r);

size_t skills_count(const skills *r);
/* Sorted by name. Valid while the caller holds a reference; NULL when i is
 * out of range or the name is unknown. */
const skill *skills_at(const skills *r, size_t i);
const skill *skills_find(const skills *r, const char *name);
/* Errors in the order they were found. */
size_t skills_error_count(const skills *r);
const skills_error *skills_error_at(const skills *r, size_t i);

#endif
