// The canvas executor of a ComfyUI tab: attaches the open workflow as a
// canvas to the bridge's WS /comfy/editor/ws, applies the core's patches
// to the live graph (each as one undo step), queues and loads on request,
// and reports the user's own edits and focus changes. It reconnects with
// backoff after a bridge or core restart and re-attaches (with the current
// workflow, which resynchronises the core's mirror) after a reconnect, a
// page reload or a switch to another workflow.
//
// Protocol (docs/bridge-protocol.md):
//   tab  -> {"type":"attach", canvas_id, title, workflow_json, object_info_json, focused, tab_revision}
//   core -> attached | patch | preview | queue | load | report_ack | resync | lease_update | error
//   tab  -> patch_result | preview_decision | queue_result | load_result | user_edit (a delta when it can) | focus
// A tab with deps.preview (a PreviewOverlay, preview.js) attaches with
// can_preview and shows previews; its decision is one preview_decision.

import { backoffDelay, wsProtocols, wsUrl } from "../connection.js";
import { applyPatch } from "./commands.js";
import { workflowBaseline, workflowDelta } from "./delta.js";
import { heldProvenance, keepProvenance, workflowSignature } from "./graphops.js";
import { inUndoStep } from "./transaction.js";

/** The bridge closes a replaced attachment with 1000: another attachment of
 * the same canvas took over. Do not fight it; re-attach on focus. */
const CLOSE_REPLACED = 1000;
/** How often the graph is compared with what was last reported, for edits
 * that raise no graphChanged event. */
export const EDIT_POLL_MS = 1500;
/** Coalesces bursts of graphChanged events (a drag fires many). */
export const EDIT_DEBOUNCE_MS = 120;
/** The bridge refuses strings over 512 KiB; keep object_info below that. */
export const MAX_OBJECT_INFO_BYTES = 480 * 1024;
const SWITCHED = "the tab has switched to another workflow; this canvas is no longer open in it";
/** Waiting for the frontend's first workflow: 50 steps of 200 ms. */
const WORKFLOW_WAIT_MS = 200;
const WORKFLOW_WAIT_STEPS = 50;
/** Longest drag before its states count as edits anyway. */
const MAX_DRAG_MS = 10000;
/** A click or key re-announces focus at most this often. */
export const TOUCH_INTERVAL_MS = 1000;
/** canvas_id length of the core (CANVAS_MAX_ID). */
const MAX_CANVAS_ID = 128;
/** Messages larger than the bridge's WebSocket limit are not sent. */
export const MAX_MESSAGE_BYTES = 1024 * 1024 - 1024;
// Patch answers kept for a resync: the core holds one patch in flight per
// canvas, so the last few are plenty.
const MAX_ANSWERED = 16;

/** FNV-1a of a string, as 8 hex digits. */
export function fnv1a(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/** A canvas id: the tab, then the workflow (readable, bounded, unique). */
export function canvasIdFor(tabId, workflowKey) {
  const key = String(workflowKey || "workflow");
  const base = key.split("/").pop().replace(/[^\w .()-]/g, "_").slice(0, 48);
  const id = `${tabId}:${base}~${fnv1a(key)}`;
  return id.slice(0, MAX_CANVAS_ID);
}

/** The object_info without what the core does not need (tooltips and
 * descriptions are most of its size), as JSON; "" when still too large
 * (the core then uses its own schema). */
export function compactObjectInfo(info, maxBytes = MAX_OBJECT_INFO_BYTES) {
  if (!info || typeof info !== "object") return "";
  const drop = new Set(["tooltip", "description", "output_tooltips", "search_aliases", "python_module"]);
  const strip = (v) => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === "object") {
      const o = {};
      for (const k of Object.keys(v)) if (!drop.has(k)) o[k] = strip(v[k]);
      return o;
    }
    return v;
  };
  const text = JSON.stringify(strip(info));
  return new TextEncoder().encode(text).length <= maxBytes ? text : "";
}

/** A tab id kept in sessionStorage, so a reload keeps its canvas ids. */
export function tabId(storage, random = () => Math.random().toString(36).slice(2, 10)) {
  const KEY = "comfyd.tabId";
  let id = null;
  try {
    id = storage?.getItem(KEY);
  } catch {
    id = null;
  }
  if (!id || !/^[a-z0-9]{4,16}$/.test(id)) {
    id = random();
    try {
      storage?.setItem(KEY, id);
    } catch {
      /* private mode: the id lives as long as the page */
    }
  }
  return id;
}

export class EditorClient {
  /**
   * deps: {
   *   app, api, LiteGraph,          the frontend's objects
   *   connection,                   a ConnectionProvider
   *   WebSocket,                    the WebSocket class
   *   tabId,                        from tabId()
   *   objectInfo: () => Promise<object|null>,
   *   timers: {setTimeout, clearTimeout, setInterval, clearInterval},
   *   hasFocus: () => boolean,
   *   log: (level, text) => void,
   *   isPanelNode: (node) => boolean,
   * }
   */
  constructor(deps) {
    this.d = deps;
    this.t = deps.timers ?? globalThis;
    this.log = deps.log ?? (() => {});
    this.socket = null;
    this.attached = false;
    this.canvasId = null;
    this.revision = 0; // the core's revision of this canvas
    this.tabRevision = 0; // this tab's report counter
    this.lastSig = null; // signature of the workflow last reported
    this.baseline = null; // its nodes and links, for the next edit's delta
    this.deltasSent = 0; // user edits reported as deltas
    this.patchDeltasSent = 0; // patch answers reported as deltas
    this.resyncs = 0; // deltas the core could not use
    this.answered = new Map(); // the last patch answers by request id, for a resync
    this.work = Promise.resolve(); // requests run one at a time
    this.busy = 0; // >0 while a request changes the graph
    this.attempt = 0;
    this.stopped = true;
    this.replaced = false;
    this.reconnectTimer = null;
    this.pollTimer = null;
    this.debounceTimer = null;
    this.focused = false;
    this.focusSentAt = -Infinity;
    this.waitedSteps = 0;
    this.pointerDown = false;
    this.pointerDownAt = 0;
    // A report_ack's provenance held back during an undo (storeProvenance).
    this.pendingProvenance = null;
    this.objectInfoJson = null;
    this.listeners = [];
    this.status = "idle";
    this.onStatus = null;
  }

  // ---- the graph ----

  graph() {
    return this.d.app.rootGraph ?? this.d.app.graph;
  }

  activeWorkflow() {
    return this.d.app.extensionManager?.workflow?.activeWorkflow ?? null;
  }

  /** ComfyUI's change tracker compares the workflow's extra (all but its
   * view state) with its snapshot of the current state: the snapshot gets
   * the provenance just stored too, so storing it is neither an undo step
   * nor a modification. */
  untrackProvenance() {
    const s = this.activeWorkflow()?.changeTracker?.activeState;
    const p = this.graph()?.extra?.comfyd?.provenance;
    if (!s || typeof s !== "object" || !p) return;
    const extra = s.extra && typeof s.extra === "object" ? s.extra : {};
    const comfyd = extra.comfyd && typeof extra.comfyd === "object" ? extra.comfyd : {};
    s.extra = { ...extra, comfyd: { ...comfyd, provenance: JSON.parse(JSON.stringify(p)) } };
  }

  /** Stores the provenance of a report_ack (keepProvenance) unless
   * ComfyUI is restoring an undo or redo step: its change tracker loads the
   * stored state asynchronously and only then takes it as the current one,
   * so provenance written in between would be a change it never saw, which
   * it records as a new undo step, and a quick second Ctrl+Z would undo
   * that instead of the user's edit. The newest one waits and is stored by
   * the next edit check after the restore. */
  storeProvenance(json) {
    if (this.activeWorkflow()?.changeTracker?._restoringState) {
      this.pendingProvenance = json;
      return;
    }
    this.pendingProvenance = null;
    if (keepProvenance(this.graph(), json)) this.untrackProvenance();
  }

  workflowKey() {
    const wf = this.activeWorkflow();
    return wf?.path ?? wf?.key ?? "workflow";
  }

  title() {
    const wf = this.activeWorkflow();
    return String(wf?.filename ?? wf?.path ?? "workflow").slice(0, 1024);
  }

  serialize() {
    return this.graph().serialize();
  }

  // ---- lifecycle ----

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.focused = !!this.d.hasFocus?.();
    this.pollTimer = this.t.setInterval(() => this.checkEdits(), EDIT_POLL_MS);
    this.connect();
  }

  stop() {
    this.stopped = true;
    this.t.clearInterval(this.pollTimer);
    this.t.clearTimeout(this.reconnectTimer);
    this.t.clearTimeout(this.debounceTimer);
    this.closeSocket(1000, "tab closed");
  }

  setStatus(s) {
    this.status = s;
    this.onStatus?.(s);
  }

  closeSocket(code, reason) {
    const s = this.socket;
    this.socket = null;
    this.attached = false;
    if (s) {
      s.onopen = s.onmessage = s.onclose = s.onerror = null;
      try {
        s.close(code, reason);
      } catch {
        /* already closed */
      }
    }
  }

  scheduleReconnect() {
    if (this.stopped || this.reconnectTimer) return;
    const delay = backoffDelay(this.attempt++);
    this.setStatus("reconnecting");
    this.reconnectTimer = this.t.setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  /** The frontend opens its first workflow a moment after the extension's
   * setup: attach only then (or after WORKFLOW_WAIT_STEPS), so the canvas
   * id names that workflow and does not change right away. */
  workflowReady() {
    const store = this.d.app.extensionManager?.workflow;
    if (!(this.d.app.rootGraph ?? this.d.app.graph)) return false;
    return !store || !!store.activeWorkflow || ++this.waitedSteps > WORKFLOW_WAIT_STEPS;
  }

  async connect() {
    if (this.stopped) return;
    this.closeSocket(1000, "reconnecting");
    this.setStatus("connecting");
    if (!this.workflowReady()) {
      this.t.clearTimeout(this.reconnectTimer);
      this.reconnectTimer = this.t.setTimeout(() => {
        this.reconnectTimer = null;
        this.connect();
      }, WORKFLOW_WAIT_MS);
      return;
    }
    let conn;
    if (this.objectInfoJson === null) {
      try {
        this.objectInfoJson = compactObjectInfo(await this.d.objectInfo?.());
      } catch (e) {
        // Attach without node types (the core's schema applies); ask
        // again at the next attach.
        this.log("warn", `comfyd: cannot read /object_info (${e?.message ?? e})`);
      }
    }
    try {
      conn = await this.d.connection.get();
    } catch (e) {
      this.log("warn", `comfyd: no connection info yet (${e?.message ?? e})`);
      this.d.connection.invalidate?.();
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) return;
    let s;
    try {
      s = new this.d.WebSocket(wsUrl(conn, "/comfy/editor/ws"), wsProtocols(conn));
    } catch (e) {
      this.log("warn", `comfyd: cannot open the editor socket (${e?.message ?? e})`);
      this.scheduleReconnect();
      return;
    }
    this.socket = s;
    s.onopen = () => this.sendAttach();
    s.onmessage = (ev) => this.onMessage(ev.data);
    s.onerror = () => {};
    s.onclose = (ev) => {
      if (this.socket !== s) return;
      this.socket = null;
      this.attached = false;
      if (this.stopped) return;
      if (ev?.code === CLOSE_REPLACED) {
        // Another attachment of this canvas took over (a duplicated tab, or
        // this tab re-attached elsewhere). Re-attach when focused again.
        this.replaced = true;
        this.setStatus("replaced");
        return;
      }
      if (ev?.code === 1008 || ev?.code === 1006) this.d.connection.invalidate?.();
      this.scheduleReconnect();
    };
  }

  sendAttach() {
    const wf = this.serialize();
    this.canvasId = canvasIdFor(this.d.tabId, this.workflowKey());
    this.reported(wf);
    this.tabRevision += 1;
    const msg = {
      type: "attach",
      canvas_id: this.canvasId,
      title: this.title(),
      workflow_json: JSON.stringify(wf),
      object_info_json: this.objectInfoJson ?? "",
      focused: this.focused,
      tab_revision: this.tabRevision,
    };
    if (this.d.preview) msg.can_preview = true;
    if (!this.send(msg)) {
      // The workflow with the node types is too big: attach with the core's
      // own schema instead.
      msg.object_info_json = "";
      this.send(msg);
    }
  }

  send(msg) {
    const s = this.socket;
    if (!s || s.readyState !== 1) return false;
    const text = JSON.stringify(msg);
    if (text.length > MAX_MESSAGE_BYTES && new TextEncoder().encode(text).length > MAX_MESSAGE_BYTES) {
      this.log("error", `comfyd: a ${msg.type} message is larger than the bridge accepts`);
      return false;
    }
    s.send(text);
    return true;
  }

  onMessage(data) {
    let m;
    try {
      m = JSON.parse(data);
    } catch {
      this.log("warn", "comfyd: the bridge sent a message that is not JSON");
      return;
    }
    if (!m || typeof m !== "object") return;
    switch (m.type) {
      case "attached":
        this.attached = true;
        this.pendingProvenance = null; // the core sends this canvas's own
        this.attempt = 0;
        this.replaced = false;
        this.revision = Number(m.revision) || 0;
        this.setStatus("attached");
        // The core sends its leases after this when there are any.
        this.d.onLeases?.({ leases: [] });
        // An edit made while the socket was down is in the attach already;
        // one made between attach and attached is caught here.
        this.checkEdits();
        return;
      case "patch":
        return this.enqueue(() => this.handlePatch(m));
      case "queue":
        return this.enqueue(() => this.handleQueue(m));
      case "load":
        return this.enqueue(() => this.handleLoad(m));
      case "resync":
        return this.enqueue(() => this.resync(m));
      case "preview":
        // Not queued behind other work: the decision may take minutes, and
        // the core sends nothing else to this canvas meanwhile.
        return this.handlePreview(m);
      case "report_ack":
        if (Number.isFinite(Number(m.revision))) this.revision = Number(m.revision);
        if (m.provenance_json) this.storeProvenance(m.provenance_json);
        return;
      case "lease_update":
        // Leases on this canvas's nodes (leaseoutline.js draws them).
        this.d.onLeases?.(m);
        return;
      case "error":
        this.log("warn", `comfyd: ${m.code ?? "error"}: ${m.message ?? ""}`);
        return;
      default:
        // The command set is fixed: anything else is ignored.
        this.log("warn", `comfyd: ignored an unknown message type ${JSON.stringify(String(m.type)).slice(0, 80)}`);
    }
  }

  enqueue(fn) {
    this.work = this.work.then(fn).catch((e) => this.log("error", `comfyd: ${e?.stack ?? e}`));
    return this.work;
  }

  // ---- requests from the core ----

  /** The request is for the canvas this socket attached; when the user has
   * switched to another workflow since, refuse it (it would edit the wrong
   * workflow) and attach the one that is open now. */
  switchedAway() {
    if (canvasIdFor(this.d.tabId, this.workflowKey()) === this.canvasId) return false;
    this.enqueue(() => this.reattach());
    return true;
  }

  /** Shows a preview and answers the user's decision (false when the tab
   * cannot show one, has switched workflows, or the deadline passed). */
  async handlePreview(m) {
    const overlay = this.d.preview;
    let accepted = false;
    if (overlay && !this.switchedAway()) {
      try {
        accepted = await overlay.show(m);
      } catch (e) {
        this.log("error", `comfyd: the preview failed: ${e?.message ?? e}`);
      }
    }
    this.send({ type: "preview_decision", request_id: m.request_id, accepted: !!accepted });
  }

  handlePatch(m) {
    if (this.switchedAway())
      return this.send({ type: "patch_result", request_id: m.request_id, ok: false, error: SWITCHED, results: [], workflow_json: "", tab_revision: this.tabRevision });
    const ctx = {
      graph: this.graph(),
      LiteGraph: this.d.LiteGraph,
      canvas: this.d.app.canvas,
      keepOnClear: this.d.isPanelNode,
      view: () => this.view(),
      log: this.log,
    };
    let out;
    this.busy++;
    try {
      out = inUndoStep(this.d.app, () => applyPatch(ctx, m));
    } catch (e) {
      out = { ok: false, error: `the patch failed: ${e?.message ?? e}`, results: [] };
    } finally {
      this.busy--;
    }
    const wf = this.serialize();
    // What the patch changed against what the core last had from this tab,
    // as a user edit's delta is taken (docs/graph-delta.md): the core checks
    // it against the digest and asks for the whole workflow when they
    // disagree. A change a delta cannot carry sends the whole workflow.
    let delta = null;
    try {
      delta = workflowDelta(this.baseline, wf, this.graph());
    } catch {
      delta = null;
    }
    this.reported(wf);
    this.tabRevision += 1;
    const reply = {
      type: "patch_result",
      request_id: m.request_id,
      ok: !!out.ok,
      error: out.error ?? "",
      results: (out.results ?? []).filter(Boolean).map(cleanResult),
      tab_revision: this.tabRevision,
      provenance_revision: heldProvenance(this.graph()),
    };
    // Kept for a resync, which asks for this answer with the whole workflow.
    this.answered.set(String(m.request_id), reply);
    if (this.answered.size > MAX_ANSWERED) this.answered.delete(this.answered.keys().next().value);
    if (delta && this.send({ ...reply, delta })) this.patchDeltasSent++;
    else if (!delta) this.send({ ...reply, workflow_json: JSON.stringify(wf) });
  }

  /** The visible part of the canvas in canvas units ([x, y, w, h]), where
   * nodes created without coordinates go when it is free; null when the
   * canvas has no size yet. */
  view() {
    const c = this.d.app.canvas;
    const ds = c?.ds;
    const el = c?.canvas;
    // LiteGraph keeps the area it last drew.
    const va = ds?.visible_area;
    if (va && va[2] > 0 && va[3] > 0) return [va[0], va[1], va[2], va[3]].map(Number);
    if (!ds || !el || !ds.scale || !el.width || !el.height) return null;
    // The element's CSS size: its width and height attributes are in
    // device pixels.
    const ratio = globalThis.devicePixelRatio || 1;
    const w = (el.clientWidth || el.width / ratio) / ds.scale;
    const h = (el.clientHeight || el.height / ratio) / ds.scale;
    return [-ds.offset[0], -ds.offset[1], w, h];
  }

  async handleQueue(m) {
    if (this.switchedAway())
      return this.send({ type: "queue_result", request_id: m.request_id, ok: false, error: SWITCHED, prompt_id: "", number: 0 });
    if (m.prompt_only) return this.handlePromptOnly(m);
    const { app, api } = this.d;
    const captured = [];
    let error = "";
    const orig = api.queuePrompt;
    api.queuePrompt = async function (...args) {
      try {
        const r = await orig.apply(this, args);
        captured.push(r);
        return r;
      } catch (e) {
        error = describeQueueError(e);
        throw e;
      }
    };
    try {
      const n = Math.max(1, Math.min(100, Number(m.batch_count) || 1));
      // What app.queuePrompt() returns is not the verdict: frontend 1.27
      // returns !lastNodeErrors, false for a good prompt's "node_errors": {},
      // and false too while it is busy with an earlier queue. ComfyUI's own
      // answers (captured above) decide.
      await app.queuePrompt(0, n);
    } catch (e) {
      error = error || describeQueueError(e);
    } finally {
      api.queuePrompt = orig;
    }
    const last = captured[captured.length - 1];
    // A prompt id means ComfyUI queued it (even with some outputs refused in
    // node_errors): reporting that as a failure makes a caller queue twice.
    const ok = !!last?.prompt_id && !error;
    this.send({
      type: "queue_result",
      request_id: m.request_id,
      ok,
      error: ok ? "" : error || "the frontend did not queue the workflow",
      prompt_id: last?.prompt_id ? String(last.prompt_id) : "",
      number: Number.isSafeInteger(last?.number) ? last.number : 0,
    });
  }

  /** The core posts the prompt itself (to follow the run's events, which
   * ComfyUI sends only to the client id that queued): convert the canvas
   * with the frontend's own graphToPrompt and hand over the API prompt and
   * the workflow. The widgets' beforeQueued/afterQueued callbacks run as
   * around app.queuePrompt (a seed set to "randomize" changes after). */
  async handlePromptOnly(m) {
    const { app } = this.d;
    const graph = app.rootGraph ?? app.graph;
    const base = { type: "queue_result", request_id: m.request_id, prompt_id: "", number: 0 };
    if (typeof app.graphToPrompt !== "function")
      return this.send({ ...base, ok: false, error: "this frontend has no graphToPrompt" });
    let out;
    try {
      widgetsCallback(graph, "beforeQueued");
      const p = await app.graphToPrompt(graph);
      out = { prompt_json: JSON.stringify(p?.output ?? null), workflow_json: JSON.stringify(p?.workflow ?? null) };
      if (!p?.output || typeof p.output !== "object") throw new Error("graphToPrompt returned no prompt");
      widgetsCallback(graph, "afterQueued");
    } catch (e) {
      return this.send({ ...base, ok: false, error: `cannot convert the workflow: ${String(e?.message ?? e).slice(0, 1000)}` });
    }
    if (out.prompt_json.length + out.workflow_json.length > MAX_MESSAGE_BYTES)
      return this.send({ ...base, ok: false, error: "the workflow is too large to hand over" });
    this.send({ ...base, ok: true, error: "", ...out });
  }

  async handleLoad(m) {
    if (this.switchedAway())
      return this.send({ type: "load_result", request_id: m.request_id, ok: false, error: SWITCHED, workflow_json: "", tab_revision: this.tabRevision });
    let wf;
    let ok = false;
    let error = "";
    try {
      wf = JSON.parse(m.workflow_json);
      if (!wf || typeof wf !== "object" || !Array.isArray(wf.nodes)) throw new Error("not a workflow");
    } catch (e) {
      error = `cannot load: ${e?.message ?? e}`;
    }
    if (!error) {
      this.busy++;
      try {
        if (m.undo_step) {
          // A session revert restoring a checkpoint: the open workflow's
          // graph takes it as one undo step (Ctrl+Z brings the canvas back).
          const graph = this.d.app.rootGraph ?? this.d.app.graph;
          inUndoStep(this.d.app, () => graph.configure(wf));
        } else {
          // Into the open workflow, so the tab keeps this canvas.
          await this.d.app.loadGraphData(wf, true, true, this.activeWorkflow() ?? undefined);
        }
        ok = true;
      } catch (e) {
        error = `loading failed: ${e?.message ?? e}`;
      } finally {
        this.busy--;
      }
    }
    const post = this.serialize();
    this.reported(post);
    this.tabRevision += 1;
    this.send({
      type: "load_result",
      request_id: m.request_id,
      ok,
      error,
      workflow_json: ok ? JSON.stringify(post) : "",
      tab_revision: this.tabRevision,
    });
  }

  // ---- the user's edits and focus ----

  /** Called on graphChanged: a burst becomes one check. */
  graphChanged() {
    this.t.clearTimeout(this.debounceTimer);
    this.debounceTimer = this.t.setTimeout(() => {
      this.debounceTimer = null;
      this.checkEdits();
    }, EDIT_DEBOUNCE_MS);
  }

  /** Reports the graph when it differs from what was last reported; re-
   * attaches when the open workflow is another one. */
  checkEdits() {
    if (this.stopped || !this.attached || this.busy) return;
    // A drag in progress; a button held longer than MAX_DRAG_MS lost its
    // pointerup somewhere (outside the window), so stop waiting for it.
    if (this.pointerDown && (this.t.now?.() ?? Date.now()) - this.pointerDownAt < MAX_DRAG_MS) return;
    if (this.d.app.configuringGraph) return;
    if (this.pendingProvenance) this.storeProvenance(this.pendingProvenance);
    const id = canvasIdFor(this.d.tabId, this.workflowKey());
    if (id !== this.canvasId) {
      this.enqueue(() => this.reattach());
      return;
    }
    let wf;
    try {
      wf = this.serialize();
    } catch {
      return;
    }
    const sig = workflowSignature(wf);
    if (sig === this.lastSig) return;
    // What changed since the last report, when a delta can say it
    // (docs/graph-delta.md): the core checks it against the digest and
    // asks for the whole workflow ("resync") when they disagree.
    let delta = null;
    try {
      delta = workflowDelta(this.baseline, wf, this.graph());
    } catch {
      delta = null;
    }
    this.reported(wf, sig);
    this.tabRevision += 1;
    const held = heldProvenance(this.graph());
    if (delta && this.send({ type: "user_edit", delta, tab_revision: this.tabRevision, provenance_revision: held })) this.deltasSent++;
    else if (!delta) this.send({ type: "user_edit", workflow_json: JSON.stringify(wf), tab_revision: this.tabRevision });
  }

  /** The workflow the core now has from this tab: edits are found, and
   * their deltas taken, against it. */
  reported(wf, sig = workflowSignature(wf)) {
    this.lastSig = sig;
    this.baseline = workflowBaseline(wf);
  }

  /** The core could not use a delta: it gets the whole workflow, in the
   * answer to that patch again (request_id names it; the patch is still in
   * flight there) or, after a user edit (request_id 0), in a user_edit. */
  resync(m) {
    this.resyncs++;
    if (!this.attached) return;
    const rid = String(m.request_id ?? 0);
    const prev = rid === "0" ? null : this.answered.get(rid);
    if (rid !== "0" && !prev) {
      this.log("warn", `comfyd: a resync for request ${rid.slice(0, 40)}, which this tab no longer holds`);
      return;
    }
    let wf;
    try {
      wf = this.serialize();
    } catch {
      return;
    }
    this.reported(wf);
    if (prev) return this.send({ ...prev, workflow_json: JSON.stringify(wf), tab_revision: this.tabRevision });
    this.tabRevision += 1;
    this.send({ type: "user_edit", workflow_json: JSON.stringify(wf), tab_revision: this.tabRevision });
  }

  /** The open workflow changed: attach it on a new socket. */
  reattach() {
    if (this.stopped) return;
    this.attempt = 0;
    this.connect();
  }

  setFocus(focused) {
    if (focused === this.focused) return;
    this.focused = focused;
    if (focused && this.replaced && !this.socket) {
      this.replaced = false;
      this.connect();
      return;
    }
    if (this.attached) this.sendFocus();
  }

  /** A drag is in progress: its states in between are not edits; its end
   * (pointer up) is checked. */
  setPointerDown(down) {
    this.pointerDown = down;
    if (down) this.pointerDownAt = this.t.now?.() ?? Date.now();
    if (!down) this.graphChanged();
  }

  /** The user works in this tab (a click, a key): it is the focused one,
   * even when the browser raised no focus event (another window of the
   * same browser, a headless one). Announced at most once a second. */
  touched() {
    const now = this.t.now?.() ?? Date.now();
    if (this.focused && now - this.focusSentAt < TOUCH_INTERVAL_MS) return;
    if (!this.focused) return this.setFocus(true);
    if (this.attached) this.sendFocus();
  }

  sendFocus() {
    this.focusSentAt = this.t.now?.() ?? Date.now();
    this.send({ type: "focus", focused: this.focused });
  }
}

/** The frontend's executeWidgetsCallback over the graph's nodes. */
function widgetsCallback(graph, name) {
  const nodes = graph?._nodes ?? graph?.nodes ?? [];
  for (const node of nodes) for (const w of node.widgets ?? []) w[name]?.();
}

function describeQueueError(e) {
  const r = e?.response;
  if (r && typeof r === "object") {
    const err = typeof r.error === "object" ? r.error?.message : r.error;
    const nodes = r.node_errors && typeof r.node_errors === "object" ? Object.keys(r.node_errors) : [];
    return `${err ?? "prompt refused"}${nodes.length ? ` (nodes ${nodes.join(", ")})` : ""}`.slice(0, 1000);
  }
  return String(e?.message ?? e).slice(0, 1000);
}

/** A CommandResult with only the proto's fields and integer ids. */
function cleanResult(r) {
  const out = { index: r.index, ok: !!r.ok };
  if (Number.isSafeInteger(Number(r.node_id)) && r.node_id !== undefined) out.node_id = Number(r.node_id);
  if (Number.isSafeInteger(Number(r.link_id)) && r.link_id !== undefined) out.link_id = Number(r.link_id);
  if (r.value !== undefined) out.value = r.value;
  if (r.error) {
    out.error = { code: r.error.code, message: r.error.message, index: r.error.index ?? r.index };
    if (r.error.suggestions?.length) out.error.suggestions = r.error.suggestions.map(String);
  }
  return out;
}
