/* providers: the registry of the built-in providers, by name. It is the
 * only place that knows every implementation (provider_echo.h,
 * provider_openai.h); the implementations know only the interface
 * (provider.h). */
#ifndef COMFYD_PROVIDERS_H
#define COMFYD_PROVIDERS_H

#include "provider.h"

/* Looks a provider up by name ("echo", "openai"; NULL or "" is "echo");
 * NULL when unknown. */
const provider *provider_find(const char *name);
/* Comma-separated list of known provider names, for error messages. */
const char *provider_names(void);

#endif
