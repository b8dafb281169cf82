/* providers: the built-in providers by name (providers.h). */
#include "providers.h"

#include <string.h>

#include "provider_echo.h"
#include "provider_openai.h"

const provider *provider_find(const char *name)
{
    if (!name || !*name || strcmp(name, "echo") == 0) return provider_echo();
    if (strcmp(name, "openai") == 0) return provider_openai();
    return NULL;
}

const char *provider_names(void)
{
    return "echo, openai";
}
