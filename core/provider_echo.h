/* provider_echo: the built-in offline provider (provider.h's vtable). */
#ifndef COMFYD_PROVIDER_ECHO_H
#define COMFYD_PROVIDER_ECHO_H

#include "provider.h"

/* The built-in offline provider: streams back a reply derived from the
 * input, word by word, and says plainly that it is an echo:
 *
 *   "[echo provider · skill <skill_name>] You said: <user text>"
 *
 * where <user text> is the newest user message, followed by " (N earlier
 * messages in this conversation)" when user messages come before it; images
 * of that message are listed before that as " [N images received: <label>
 * (<mime>, <len> bytes); ...]". It
 * never calls tools. Deltas are tokens (a word plus the whitespace after
 * it) and concatenate to the reply exactly; token_delay_ms is waited
 * between two deltas, looking at *cancel at least every 10 ms. The reply's
 * usage counts words as tokens: prompt = words of every message; completion
 * = tokens streamed (also after a cancel or an abort). finish_reason is
 * "stop" when it ran to the end. Returns PROV_OK, PROV_CANCELLED,
 * PROV_ABORTED (delta() returned non-zero) or PROV_FAILED.
 *
 * Test hook: a user text containing PROVIDER_ECHO_FAIL_MARKER fails at once
 * with PROV_FAILED and "echo provider: failure requested by the message",
 * so that callers can exercise their error path without a real model. */
#define PROVIDER_ECHO_FAIL_MARKER "[echo:fail]"
/* Bytes of user text said back; the rest is cut with " [...truncated]"
 * (the reply is a demonstration, not a copy service). */
#define PROVIDER_ECHO_MAX_ECHO (16 * 1024)
const provider *provider_echo(void);

#endif
