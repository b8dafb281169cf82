#include "vision.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

/* Markers of vision-capable model names, lower case, matched anywhere in
 * the name (after a provider prefix such as "openai/" or a tag such as
 * ":latest" alike). Families whose every current model takes images
 * (gpt-4o, gpt-4.1, gpt-5, claude-3 and later, gemini, pixtral, llava,
 * gemma3, ...) and the usual "vision" / "-vl" naming of the others. */
static const char *const markers[] = {
    "gpt-4o",
    "gpt-4.1",
    "gpt-4-turbo",
    "gpt-4-vision",
    "gpt-5",
    "o4-mini",
    "claude-3",
    "claude-sonnet-4",
    "claude-opus-4",
    "claude-haiku-4",
    "gemini",
    "gemma3",
    "gemma-3",
    "llava",
    "bakllava",
    "pixtral",
    "vision",
    "-vl",
    "_vl",
    "vl-",
    "minicpm-v",
    "moondream",
    "internvl",
    "molmo",
    "llama4",
    "llama-4",
    "mistral-small-3",
    "grok-2-vision",
    "grok-4",
    "qvq",
    "multimodal",
};

/* Case-insensitive substring search; NUL-terminated ASCII needle. */
static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++) {
        size_t i = 0;
        while (i < n && p[i] && tolower((unsigned char)p[i]) == (unsigned char)needle[i])
            i++;
        if (i == n) return 1;
    }
    return 0;
}

int vision_mode_parse(const char *s)
{
    if (!s || !*s || strcmp(s, "auto") == 0) return VISION_AUTO;
    if (strcmp(s, "on") == 0) return VISION_ON;
    if (strcmp(s, "off") == 0) return VISION_OFF;
    return -1;
}

const char *vision_mode_name(int mode)
{
    switch (mode) {
    case VISION_ON:
        return "on";
    case VISION_OFF:
        return "off";
    default:
        return "auto";
    }
}

int vision_model_capable(const char *model)
{
    if (!model || !*model) return 0;
    for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++)
        if (contains_ci(model, markers[i])) return 1;
    return 0;
}

int vision_enabled(int mode, const char *provider, const char *model)
{
    if (provider && strcmp(provider, "echo") == 0) return 0;
    if (!provider || !*provider) return 0; /* the default provider is echo */
    if (mode == VISION_ON) return 1;
    if (mode == VISION_OFF) return 0;
    return vision_model_capable(model);
}
