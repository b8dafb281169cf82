/* libFuzzer target for skill_parse: any bytes in, either a skill that meets
 * every documented guarantee or one short error line out.
 * Run from the repository root; -max_len=4096 keeps inputs near real sizes. */
/* clang -g -fsanitize=fuzzer,address -Icommon -Icore fuzz/fuzz_skill.c core/skills.c
 * core/preview_policy.c common/text.c -lyaml */
#include "skills.h"
#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(int ok)
{
    if (!ok) abort();
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SKILLS_MAX_NAME || s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    skill s;
    char err[256];
    memset(err, 'x', sizeof err);
    int rc =
        skill_parse((const char *)data, size, "fuzz/skill", SKILL_SOURCE_USER, &s, err, sizeof err);
    if (rc == SKILLS_OK) {
        check(valid_name(s.name));
        check(s.description[0] != 0);
        check(text_utf8_valid(s.description, strlen(s.description)));
        check(text_utf8_valid(s.instructions, strlen(s.instructions)));
        check(strcmp(s.path, "fuzz/skill") == 0);
        check(s.n_allowed_tools <= SKILLS_MAX_TOOLS);
        for (size_t i = 0; i < s.n_allowed_tools; i++) {
            size_t n = strlen(s.allowed_tools[i]);
            check(n > 0 && n <= SKILLS_MAX_TOOL_NAME);
        }
        skill_clear(&s);
    } else {
        check(rc == SKILLS_EPARSE || rc == SKILLS_ENOMEM);
        check(memchr(err, 0, sizeof err) != NULL);
        check(strchr(err, '\n') == NULL);
        check(err[0] != 0);
        check(s.name == NULL && s.allowed_tools == NULL);
    }
    return 0;
}
