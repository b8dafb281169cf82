/* libFuzzer target for ComfyUI's message parsers (core/comfy_event): any
 * bytes in as a WebSocket event, a /prompt answer, a /history entry and a
 * /queue answer must parse or fail cleanly, and what parses stays within
 * the named limits. Run from the repository root. */
#include "comfy_event.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(int ok)
{
    if (!ok) abort();
}

static void check_str(const char *s, size_t max)
{
    check(s != NULL);
    check(strlen(s) <= max);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    char err[256];
    comfy_event ev;
    if (comfy_event_parse(json, size, &ev, err, sizeof err) == 0) {
        check_str(ev.type_name, COMFY_MAX_ID);
        check_str(ev.prompt_id, COMFY_MAX_ID);
        check_str(ev.node, COMFY_MAX_ID);
        check_str(ev.exception_message, COMFY_MAX_TEXT);
        check_str(ev.output_json, COMFY_MAX_OUTPUT_JSON);
        check(ev.n_nodes <= COMFY_MAX_NODES);
        check(ev.n_traceback <= COMFY_MAX_TRACEBACK_LINES);
        check(ev.n_files <= COMFY_MAX_FILES);
        for (size_t i = 0; i < ev.n_traceback; i++)
            check_str(ev.traceback[i], COMFY_MAX_TRACEBACK_LINE);
        comfy_event_clear(&ev);
    } else {
        check(err[0] != 0);
    }
    comfy_prompt_answer a;
    if (comfy_prompt_answer_parse(json, size, &a, err, sizeof err) == 0) {
        check_str(a.prompt_id, COMFY_MAX_ID);
        check_str(a.error_message, COMFY_MAX_TEXT);
        check(a.n_node_errors <= COMFY_MAX_ERRORS);
        comfy_prompt_answer_clear(&a);
    }
    comfy_history h;
    if (comfy_history_parse(json, size, "p", &h, err, sizeof err) == 0) {
        check(h.n_messages <= COMFY_MAX_MESSAGES);
        check(h.n_outputs <= COMFY_MAX_NODES);
        comfy_history_clear(&h);
    }
    comfy_queue q;
    if (comfy_queue_parse(json, size, &q, err, sizeof err) == 0) {
        check(q.n_running <= COMFY_MAX_NODES && q.n_pending <= COMFY_MAX_NODES);
        comfy_queue_clear(&q);
    }
    return 0;
}
