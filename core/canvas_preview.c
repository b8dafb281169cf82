/* canvas_preview: preview before apply (docs/concurrent-editing.md).
 * A patch with apply_mode PREVIEW is validated as any patch when it reaches
 * the head of its canvas's queue, then sent to the tab as a PreviewRequest
 * (not applied) and stays in flight, its deadline the preview's, until the
 * tab's PreviewDecision. Accepted, it is dispatched again from the start:
 * rebased or refused against what changed meanwhile, validated against the
 * current mirror, and sent as an ordinary PatchRequest with its own
 * timeout (one undo step in the tab, committed from the tab's post-state).
 * Rejected or timed out, it is answered ok=false with preview.outcome and
 * nothing was applied. */
#include "canvas_int.h"

#include "preview_policy.h"

int cv_check_apply_mode(Comfyd__V1__ApplyMode v, uint32_t preview_ms, canvas_error *err)
{
    if (v != COMFYD__V1__APPLY_MODE__APPLY_MODE_UNSPECIFIED &&
        v != COMFYD__V1__APPLY_MODE__APPLY_MODE_APPLY &&
        v != COMFYD__V1__APPLY_MODE__APPLY_MODE_PREVIEW &&
        v != COMFYD__V1__APPLY_MODE__APPLY_MODE_PREVIEW_IF_SHOWN)
        return EINVALF(err, "apply_mode %d is not APPLY, PREVIEW or PREVIEW_IF_SHOWN", (int)v);
    if (preview_ms > CANVAS_MAX_PREVIEW_MS)
        return EINVALF(err, "preview_timeout_ms %u is above the limit of %u ms", preview_ms,
                       (unsigned)CANVAS_MAX_PREVIEW_MS);
    return 0;
}

/* The job's preview settings. The caller's own limit (limit_ms, 0: none)
 * bounds the preview and the apply after it together. */
void cv_job_preview(job *j, Comfyd__V1__ApplyMode mode, uint32_t preview_ms, uint32_t limit_ms)
{
    j->apply_mode = mode == COMFYD__V1__APPLY_MODE__APPLY_MODE_UNSPECIFIED
                        ? COMFYD__V1__APPLY_MODE__APPLY_MODE_APPLY
                        : mode;
    if (j->apply_mode == COMFYD__V1__APPLY_MODE__APPLY_MODE_APPLY) return;
    j->preview_ms = preview_ms ? preview_ms : CANVAS_DEFAULT_PREVIEW_MS;
    if (limit_ms && limit_ms < j->preview_ms) j->preview_ms = limit_ms;
}

/* Before validation: a preview nobody can show. PREVIEW_IF_SHOWN becomes
 * APPLY; PREVIEW is answered UNAVAILABLE (nothing applied). Returns 1 when
 * j was answered. */
int cv_preview_gate(canvas *cv, job *j, jlist *fin)
{
    if (j->outcome || j->apply_mode == COMFYD__V1__APPLY_MODE__APPLY_MODE_APPLY) return 0;
    if (cv->can_preview) {
        j->apply_mode = COMFYD__V1__APPLY_MODE__APPLY_MODE_PREVIEW;
        return 0;
    }
    if (j->apply_mode == COMFYD__V1__APPLY_MODE__APPLY_MODE_PREVIEW_IF_SHOWN) {
        j->apply_mode = COMFYD__V1__APPLY_MODE__APPLY_MODE_APPLY;
        return 0;
    }
    j->outcome = COMFYD__V1__PREVIEW_OUTCOME__PREVIEW_OUTCOME_UNAVAILABLE;
    cv_job_refuse(cv, j, GE(SKIPPED), fin,
                  "the tab of canvas \"%s\" cannot show a preview; nothing was applied (send it "
                  "with apply_mode APPLY to apply it at once)",
                  cv->id);
    return 1;
}

/* The requester as the overlay names it. */
static void who_text(const provn_actor *a, char *out, size_t len)
{
    switch (a->kind) {
    case COMFYD__V1__ACTOR_KIND__ACTOR_KIND_SKILL:
        snprintf(out, len, "skill %s", a->skill);
        break;
    case COMFYD__V1__ACTOR_KIND__ACTOR_KIND_MCP:
        snprintf(out, len, "MCP client %s", a->name[0] ? a->name : "(unnamed)");
        break;
    default:
        snprintf(out, len, "%s", a->name[0] ? a->name : "a gRPC caller");
        break;
    }
}

/* Sends the validated commands (cmds, j->n_sent of them) as a
 * PreviewRequest; j stays in flight until the decision or the preview's
 * deadline. */
int cv_preview_send(canvas *cv, job *j, Comfyd__V1__Command **cmds, jlist *fin)
{
    int64_t now = mono();
    int64_t end = now + j->preview_ms;
    if (end > j->limit_end) end = j->limit_end;
    uint32_t *destructive = xcalloc(j->n_sent, sizeof *destructive);
    size_t n_destructive = 0;
    for (size_t k = 0; k < j->n_sent; k++)
        if (preview_cmd_destructive(cmds[k])) destructive[n_destructive++] = (uint32_t)k;
    char who[PROVN_MAX_NAME + 32];
    who_text(&j->who, who, sizeof who);
    Comfyd__V1__PreviewRequest pv = COMFYD__V1__PREVIEW_REQUEST__INIT;
    pv.request_id = j->request_id;
    pv.commands = cmds;
    pv.n_commands = j->n_sent;
    pv.expected_node_ids = j->check.expected_ids;
    pv.n_expected_node_ids = j->check.n_expected_ids;
    pv.deadline_ms = text_now_ms() + (end - now);
    pv.requested_by = who;
    pv.destructive = destructive;
    pv.n_destructive = n_destructive;
    Comfyd__V1__AttachCanvasResponse msg = COMFYD__V1__ATTACH_CANVAS_RESPONSE__INIT;
    msg.kind_case = COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_PREVIEW;
    msg.preview = &pv;
    int rc = cv_send_tab(cv, &msg);
    free(destructive);
    if (rc) {
        cv_job_refuse(cv, j, GE(EDITOR_GONE), fin,
                      "the tab of canvas \"%s\" is not reading its stream", cv->id);
        return -1;
    }
    j->previewing = 1;
    j->preview_at = now;
    j->deadline = end;
    cv->inflight = j;
    cv_arm(cv->m, j->deadline);
    LOG_I(MOD, "canvas %s: patch previewed for %s (%zu command(s), waiting up to %lld ms)",
          LOG_ESC(cv->id), who, j->n_sent, (long long)(end - now));
    return 0;
}

/* The tab's decision on the preview in flight (another request id: a late
 * or foreign decision, ignored). */
void cv_preview_decided(canvas *cv, const Comfyd__V1__PreviewDecision *d, jlist *fin)
{
    job *j = cv->inflight;
    if (!j || !j->previewing || j->request_id != d->request_id) return;
    cv->inflight = NULL;
    j->previewing = 0;
    int64_t now = mono();
    j->waited_ms = (uint32_t)(now - j->preview_at);
    if (!d->accepted) {
        j->outcome = COMFYD__V1__PREVIEW_OUTCOME__PREVIEW_OUTCOME_REJECTED;
        LOG_I(MOD, "canvas %s: the preview was rejected", LOG_ESC(cv->id));
        return cv_job_refuse(cv, j, GE(SKIPPED), fin,
                             "the preview was rejected; nothing was applied");
    }
    j->outcome = COMFYD__V1__PREVIEW_OUTCOME__PREVIEW_OUTCOME_ACCEPTED;
    /* From the start, against the mirror as it is now. */
    graph_check_clear(&j->check);
    memset(&j->check, 0, sizeof j->check);
    j->checked = 0;
    free(j->sent_idx);
    j->sent_idx = NULL;
    j->n_sent = 0;
    j->rebased_from = 0;
    j->deadline = now + j->timeout_ms;
    if (j->deadline > j->limit_end) j->deadline = j->limit_end;
    if (j->deadline <= now)
        /* The caller's own limit went by while the user looked: sending it
         * now would commit a patch its caller no longer waits for. */
        return cv_job_refuse(cv, j, GE(EDITOR_TIMEOUT), fin,
                             "the preview was accepted after the caller's deadline; nothing was "
                             "applied");
    j->deadline_wall = text_now_ms() + (j->deadline - now);
    j->request_id = atomic_fetch_add(&cv->m->next_request_id, 1) + 1;
    cv_arm(cv->m, j->deadline);
    cv_dispatch_patch(cv, j, fin);
}

void cv_preview_expired(canvas *cv, job *j, int64_t now, jlist *fin)
{
    j->previewing = 0;
    j->outcome = COMFYD__V1__PREVIEW_OUTCOME__PREVIEW_OUTCOME_TIMED_OUT;
    j->waited_ms = (uint32_t)(now - j->preview_at);
    cv_job_refuse(cv, j, GE(SKIPPED), fin,
                  "nobody accepted or rejected the preview within %u ms; nothing was applied",
                  j->preview_ms);
}
