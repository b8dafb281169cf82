/* preview_policy: see preview_policy.h. */
#include "preview_policy.h"

#include <string.h>

static const char *const names[] = {
    [PREVIEW_POLICY_AUTO] = "auto",
    [PREVIEW_POLICY_PREVIEW] = "preview",
    [PREVIEW_POLICY_CONFIRM_DESTRUCTIVE] = "confirm-destructive",
};

int preview_policy_parse(const char *s, preview_policy *out)
{
    if (!s) return -1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (preview_policy)i;
            return 0;
        }
    return -1;
}

const char *preview_policy_name(preview_policy p)
{
    return (unsigned)p < sizeof names / sizeof names[0] ? names[p] : "auto";
}

int preview_cmd_destructive(const Comfyd__V1__Command *c)
{
    if (!c) return 0;
    switch (c->command_case) {
    case COMFYD__V1__COMMAND__COMMAND_REMOVE_NODE:
    case COMFYD__V1__COMMAND__COMMAND_DISCONNECT:
    case COMFYD__V1__COMMAND__COMMAND_CLEAR_GRAPH:
        return 1;
    default:
        return 0;
    }
}

static int mutating(const Comfyd__V1__Command *c)
{
    return c && c->command_case != COMFYD__V1__COMMAND__COMMAND_GET_GRAPH &&
           c->command_case != COMFYD__V1__COMMAND__COMMAND__NOT_SET;
}

Comfyd__V1__ApplyMode preview_policy_mode(preview_policy p, const Comfyd__V1__Command *const *cmds,
                                          size_t n)
{
    int any = 0, destructive = 0;
    for (size_t i = 0; i < n; i++) {
        any |= mutating(cmds[i]);
        destructive |= preview_cmd_destructive(cmds[i]);
    }
    int ask = p == PREVIEW_POLICY_PREVIEW               ? any
              : p == PREVIEW_POLICY_CONFIRM_DESTRUCTIVE ? destructive
                                                        : 0;
    return ask ? COMFYD__V1__APPLY_MODE__APPLY_MODE_PREVIEW_IF_SHOWN
               : COMFYD__V1__APPLY_MODE__APPLY_MODE_APPLY;
}
