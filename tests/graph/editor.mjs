// Headless editor: a ComfyUI tab without a browser. It holds a real
// LiteGraph graph (@comfyorg/litegraph) whose node types are built from an
// /object_info document the way ComfyUI's frontend builds them, attaches it
// as a canvas on comfyd-bridge's WS /comfy/editor/ws, and applies every
// patch the core sends to that graph, answering with per-command results
// and the serialized post-state (docs/bridge-protocol.md).
//
// As a library: import { HeadlessEditor, loadLiteGraph, ... }.
// As a program (runs until killed, for the benchmark and the tests that
// kill an editor mid-request):
//   node editor.mjs --url ws://127.0.0.1:8189 --token-file DIR/token \
//        --object-info tests/fixtures/object_info.json --canvas-id tab-1 \
//        [--title T] [--workflow FILE] [--unfocused] [--delay-ms N] [--silent]
//        [--skip-types A,B] [--no-reconnect]
// It prints "editor: attached CANVAS REVISION" each time it is attached.

import { EventEmitter } from "node:events";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
// The tab's executor: patches (and arrange and the placement of nodes
// created without coordinates, layout.js) are applied by the modules the
// extension runs.
import { applyPatch, setWidget } from "../../web/src/executor/commands.js";
// What a patch changed, reported instead of the whole workflow.
import { graphIds, graphDelta } from "../../web/src/executor/delta.js";
// The provenance the core hands back, kept in extra.comfyd.provenance.
import { heldProvenance, keepProvenance } from "../../web/src/executor/graphops.js";
// What a preview shows (ghost nodes, changed widgets, removed nodes).
import { describePreview } from "../../web/src/executor/preview.js";

// ---------------------------------------------------------------- LiteGraph

let litegraphModule = null;

// LiteGraph touches a few browser globals at import and when nodes are
// created; these are the smallest stand-ins that let it run in Node (no
// canvas is ever drawn).
function installBrowserStubs() {
  if (!globalThis.window) globalThis.window = globalThis;
  if (!globalThis.document) {
    globalThis.document = {
      createElement: () => ({ getContext: () => null, style: {} }),
      addEventListener() {},
      removeEventListener() {},
    };
  }
  if (!globalThis.localStorage) {
    const store = new Map();
    globalThis.localStorage = {
      getItem: (k) => (store.has(k) ? store.get(k) : null),
      setItem: (k, v) => store.set(k, String(v)),
      removeItem: (k) => store.delete(k),
    };
  }
}

export async function loadLiteGraph() {
  if (litegraphModule) return litegraphModule;
  installBrowserStubs();
  litegraphModule = await import("@comfyorg/litegraph");
  return litegraphModule;
}

// ------------------------------------------------------- object_info → types

const WIDGET_TYPES = new Set(["INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"]);
export const CONTROL_VALUES = ["fixed", "increment", "decrement", "randomize"];
const UPLOAD_KEYS = ["image_upload", "audio_upload", "video_upload", "file_upload"];

// The inputs of a node type in the order the frontend creates them:
// required then optional, each in "input_order" when given (names it does
// not list follow in object order); hidden inputs never appear.
export function orderedInputs(info) {
  const out = [];
  for (const group of ["required", "optional"]) {
    const specs = info.input?.[group] ?? {};
    const order = info.input_order?.[group] ?? [];
    const names = [...order.filter((n) => n in specs), ...Object.keys(specs).filter((n) => !order.includes(n))];
    for (const name of names) {
      const spec = specs[name];
      const type = spec[0];
      const opts = (spec.length > 1 && spec[1]) || {};
      const combo = Array.isArray(type) ? type : type === "COMBO" ? (opts.options ?? []) : null;
      const kind = combo ? "COMBO" : String(type);
      const isWidget = WIDGET_TYPES.has(kind) && !opts.forceInput;
      out.push({ name, kind, type: combo ? "COMBO" : String(type), opts, combo, isWidget, optional: group === "optional" });
    }
  }
  return out;
}

function decimalsOf(x) {
  const s = String(x);
  const i = s.indexOf(".");
  return i < 0 ? 0 : s.length - i - 1;
}

// The value a widget takes after the user (or an agent) sets it: ComfyUI's
// INT widgets round to whole numbers, FLOAT widgets to their "round"
// option; LiteGraph's number widget then clamps to min/max.
function widgetCallback(inp) {
  if (inp.kind === "INT") {
    return function (v) {
      this.value = Math.round(Number(v));
    };
  }
  if (inp.kind === "FLOAT") {
    const round = inp.opts.round ?? inp.opts.step;
    if (typeof round === "number" && round > 0) {
      const digits = decimalsOf(round);
      return function (v) {
        this.value = Number((Math.round(Number(v) / round) * round).toFixed(digits));
      };
    }
  }
  return function () {};
}

function defaultValue(inp) {
  const d = inp.opts.default;
  switch (inp.kind) {
    case "INT":
    case "FLOAT":
      return typeof d === "number" ? d : typeof inp.opts.min === "number" ? inp.opts.min : 0;
    case "STRING":
      return typeof d === "string" ? d : "";
    case "BOOLEAN":
      return typeof d === "boolean" ? d : false;
    case "COMBO":
      return d !== undefined && inp.combo.includes(d) ? d : (inp.combo[0] ?? "");
    default:
      return d;
  }
}

function hasControlAfterGenerate(inp) {
  if (inp.kind !== "INT" && inp.kind !== "COMBO") return false;
  if (inp.opts.control_after_generate === false) return false;
  if (inp.opts.control_after_generate) return true;
  return inp.kind === "INT" && (inp.name === "seed" || inp.name === "noise_seed");
}

// Registers one LiteGraph node class per object_info entry. skip: names
// not to register (a tab without some custom node pack). Returns the count.
export function registerObjectInfo(lg, objectInfo, { skip = [] } = {}) {
  const { LiteGraph, LGraphNode } = lg;
  const skipped = new Set(skip);
  let n = 0;
  for (const [name, info] of Object.entries(objectInfo)) {
    if (skipped.has(name)) continue;
    const inputs = orderedInputs(info);
    const outTypes = info.output ?? [];
    const outNames = info.output_name ?? [];
    const outLists = info.output_is_list ?? [];
    const displayName = info.display_name || name;
    class ComfyNode extends LGraphNode {
      static comfyClass = name;
      static title = displayName;
      static category = info.category ?? "";
      static nodeData = info;
      constructor(title) {
        super(title ?? displayName);
        this.comfyClass = name;
        this.serialize_widgets = true;
        this.properties = { "Node name for S&R": name };
        for (const inp of inputs) {
          if (!inp.isWidget) {
            this.addInput(inp.name, inp.type, inp.optional ? { shape: LiteGraph.CIRCLE_SHAPE } : undefined);
            continue;
          }
          const value = defaultValue(inp);
          const cb = widgetCallback(inp);
          switch (inp.kind) {
            case "INT":
            case "FLOAT": {
              const o = { min: inp.opts.min, max: inp.opts.max, step: 10 * (inp.opts.step ?? 1) };
              o.precision = inp.kind === "INT" ? 0 : decimalsOf(inp.opts.round ?? inp.opts.step ?? 0.01);
              this.addWidget("number", inp.name, value, cb, o);
              break;
            }
            case "STRING":
              this.addWidget("text", inp.name, value, cb, { multiline: !!inp.opts.multiline });
              break;
            case "BOOLEAN":
              this.addWidget("toggle", inp.name, value, cb, { on: inp.opts.label_on, off: inp.opts.label_off });
              break;
            case "COMBO":
              this.addWidget("combo", inp.name, value, cb, { values: inp.combo.slice() });
              break;
          }
          if (hasControlAfterGenerate(inp)) {
            this.addWidget("combo", "control_after_generate", "randomize", () => {}, { values: CONTROL_VALUES.slice() });
          }
          if (inp.kind === "COMBO" && UPLOAD_KEYS.some((k) => inp.opts[k])) {
            // ComfyUI's upload button; its value ("image") is serialized.
            const b = this.addWidget("button", "upload", "image", () => {}, {});
            b.serialize = true;
          }
        }
        outTypes.forEach((t, i) => {
          const type = Array.isArray(t) ? "COMBO" : String(t === "" ? "*" : t);
          this.addOutput(outNames[i] ?? type, type, outLists[i] ? { shape: LiteGraph.GRID_SHAPE } : undefined);
        });
        const size = this.computeSize();
        this.size = [Math.max(size[0], 220), size[1]];
      }
    }
    LiteGraph.registerNodeType(name, ComfyNode);
    n++;
  }
  return n;
}

// ------------------------------------------------------------- the applier

// A stand-in for LGraphCanvas where widget code expects one.
const NO_CANVAS = { graph_mouse: [0, 0], setDirty() {} };

// Applies patches to a LiteGraph graph with the tab's own executor
// (web/src/executor/commands.js): the same command table, checks, rollback
// and results as the ComfyUI extension, so a test of the bridge exercises
// the code the real frontend runs.
export class GraphApplier {
  // refuse: an optional test hook, (cmd) => a message or null; a command it
  // names fails with VALUE_INVALID before it touches the graph, the way the
  // real tab refuses what the core let through (a value its widget will not
  // take).
  constructor(lg, graph, { refuse = null } = {}) {
    this.lg = lg;
    this.graph = graph;
    this.refuse = refuse;
  }

  ctx() {
    return { graph: this.graph, LiteGraph: this.lg.LiteGraph, canvas: NO_CANVAS };
  }

  // Sets a widget as a user edit does; returns the value read back.
  setWidget(node, name, value) {
    return setWidget(this.ctx(), node, name, value);
  }

  // A patch as one undo step (see applyPatch in commands.js): returns
  // { ok, error, results, applied }. expectedIds: the node ids the core
  // predicted for the patch's create_node commands.
  applyPatch(commands, mode, expectedIds = []) {
    // A refused command is replaced by one the executor rejects before
    // anything is touched; its error is then the tab's refusal.
    const refused = new Map();
    const cmds = commands.map((cmd, i) => {
      const why = this.refuse?.(cmd);
      if (!why) return cmd;
      refused.set(i, String(why));
      return { type: "" };
    });
    const out = applyPatch(this.ctx(), { commands: cmds, mode, expected_node_ids: expectedIds });
    for (const [i, message] of refused) {
      const r = out.results[i];
      if (!r || r.ok || r.error.code !== "INVALID_COMMAND") continue;
      const first = out.error === r.error.message;
      r.error = { code: "VALUE_INVALID", message, index: i };
      if (first) out.error = message;
    }
    return out;
  }
}

// ------------------------------------------------------- the editor (a tab)

export function blankWorkflow() {
  return { last_node_id: 0, last_link_id: 0, nodes: [], links: [], groups: [], config: {}, extra: {}, version: 0.4 };
}

// Loads an object_info file and registers its types, once per process
// (LiteGraph keeps one registry per process; a tab that lacks some types
// is HeadlessEditor's skipTypes).
const registered = new Set();
export async function prepareLiteGraph(objectInfoPath) {
  const lg = await loadLiteGraph();
  if (!registered.has(objectInfoPath)) {
    registerObjectInfo(lg, JSON.parse(readFileSync(objectInfoPath, "utf8")));
    registered.add(objectInfoPath);
  }
  return lg;
}

// ComfyUI's API format of a LiteGraph graph, as the frontend's
// graphToPrompt builds it: every node that is not muted (mode 2) or
// bypassed (mode 4), its serialized widget values by name (the
// control_after_generate and upload widgets are not inputs), and each
// linked input as [origin node id, origin slot]. Keys are node ids as
// strings; _meta.title carries the node's title.
export function graphToPrompt(graph) {
  const workflow = graph.serialize();
  const output = {};
  for (const node of graph._nodes ?? graph.nodes ?? []) {
    if (node.mode === 2 || node.mode === 4) continue;
    const inputs = {};
    for (const w of node.widgets ?? []) {
      if (!w.name || w.name === "control_after_generate" || w.type === "button") continue;
      if (w.options?.serialize === false) continue;
      inputs[w.name] = w.value;
    }
    for (const inp of node.inputs ?? []) {
      if (inp.link == null) continue;
      const link = graph.links instanceof Map ? graph.links.get(inp.link) : graph.links?.[inp.link];
      if (!link) continue;
      inputs[inp.name] = [String(link.origin_id), link.origin_slot];
    }
    output[String(node.id)] = { inputs, class_type: node.comfyClass ?? node.type, _meta: { title: node.title } };
  }
  return { output, workflow };
}

// HeadlessEditor: one tab's canvas, attached over WebSocket.
//
// options: url (ws://host:port), token, canvasId, title, workflow (object),
// focused (default true), objectInfoJson (sent in attach; default "" = the
// service's schema), delayMs (before answering patches/queue/load), silent
// (receive but never answer), skipTypes (types this tab lacks: create_node
// of them fails in the tab), refuse ((cmd) => message or null: commands
// the tab fails, see GraphApplier), reconnect (re-attach after the socket
// ends), headers (extra handshake headers), deltas (default true: patch
// results and user edits carry what changed and a digest instead of the
// whole workflow, docs/graph-delta.md), corruptDelta ((delta) => void: a
// test hook that spoils a delta before it is sent).
// Events: "attached" (revision), "patch" (msg), "queue" (msg), "load" (msg),
// "ack" (revision), "close" (code, reason), "message" (msg).
export class HeadlessEditor extends EventEmitter {
  constructor(lg, opts) {
    super();
    this.lg = lg;
    this.opts = { focused: true, objectInfoJson: "", delayMs: 0, silent: false, skipTypes: [], reconnect: false, deltas: true, ...opts };
    this.answered = new Map();
    this.resyncs = 0;
    this.graph = new lg.LGraph();
    if (this.opts.workflow) this.graph.configure(structuredClone(this.opts.workflow));
    this.applier = new GraphApplier(lg, this.graph, { refuse: this.opts.refuse });
    this.tabRevision = 0;
    this.revision = 0;
    this.patches = [];
    this.queued = [];
    this.loads = [];
    // Preview before apply: opts.preview (absent: the tab cannot show
    // previews and says so in its attach) is "accept", "reject", "ignore"
    // (never answers: the core's deadline decides) or "manual" (the test
    // calls decidePreview). Each preview is kept with what it would show.
    this.previews = [];
    this.attachedCount = 0;
    this.ws = null;
    this.stopped = false;
    this.skip = new Set(this.opts.skipTypes);
    this.promptNumber = 0;
    this.setMaxListeners(100);
  }

  get canvasId() {
    return this.opts.canvasId;
  }

  serialize() {
    return this.graph.serialize();
  }

  workflowJson() {
    return JSON.stringify(this.graph.serialize());
  }

  // Resolves with the revision once attached.
  connect({ timeoutMs = 10000 } = {}) {
    const url = `${this.opts.url}/comfy/editor/ws?token=${encodeURIComponent(this.opts.token)}`;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers: this.opts.headers ?? {}, maxPayload: 64 << 20 });
      this.ws = ws;
      let settled = false;
      const timer = setTimeout(() => finish(new Error(`not attached within ${timeoutMs} ms`)), timeoutMs);
      const finish = (err, rev) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          ws.terminate();
          reject(err);
        } else resolve(rev);
      };
      ws.on("open", () => {
        ws.send(
          JSON.stringify({
            type: "attach",
            canvas_id: this.opts.canvasId,
            title: this.opts.title ?? this.opts.canvasId,
            workflow_json: this.workflowJson(),
            object_info_json: this.opts.objectInfoJson,
            focused: this.opts.focused,
            tab_revision: this.tabRevision,
            ...(this.opts.preview ? { can_preview: true } : {}),
          }),
        );
      });
      ws.on("message", (data, isBinary) => {
        let msg;
        try {
          msg = JSON.parse(isBinary ? data.toString("utf8") : data.toString());
        } catch {
          return;
        }
        if (msg.type === "attached") {
          this.revision = Number(msg.revision ?? 0);
          this.attachedCount++;
          this.emit("attached", this.revision);
          finish(null, this.revision);
          return;
        }
        this.onMessage(msg);
      });
      ws.on("unexpected-response", (_req, res) => {
        finish(new Error(`editor handshake refused: HTTP ${res.statusCode}`));
      });
      ws.on("error", (e) => finish(e));
      ws.on("close", (code, reason) => {
        finish(new Error(`editor socket closed before attach: ${code} ${reason}`));
        if (this.ws === ws) this.ws = null;
        this.emit("close", code, String(reason));
        if (this.opts.reconnect && !this.stopped) this.scheduleReconnect();
      });
    });
  }

  scheduleReconnect() {
    if (this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(async () => {
      this.reconnectTimer = null;
      if (this.stopped) return;
      try {
        await this.connect({ timeoutMs: 5000 });
      } catch {
        // connect's close handler schedules the next attempt
        if (!this.ws && !this.stopped) this.scheduleReconnect();
      }
    }, 200);
  }

  send(obj) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(obj));
    return true;
  }

  later(fn) {
    if (this.opts.delayMs > 0) setTimeout(fn, this.opts.delayMs);
    else fn();
  }

  onMessage(msg) {
    this.emit("message", msg);
    switch (msg.type) {
      case "patch":
        this.patches.push(msg);
        this.emit("patch", msg);
        if (!this.opts.silent) this.later(() => this.answerPatch(msg));
        break;
      case "queue":
        this.emit("queue", msg);
        if (!this.opts.silent) this.later(() => this.answerQueue(msg));
        break;
      case "load":
        this.loads.push(msg);
        this.emit("load", msg);
        if (!this.opts.silent) this.later(() => this.answerLoad(msg));
        break;
      case "resync":
        if (!this.opts.silent) this.answerResync(msg);
        break;
      case "preview": {
        const shown = { msg, view: describePreview(this.graph, msg), decided: null };
        this.previews.push(shown);
        this.emit("preview", shown);
        const how = this.opts.preview;
        if (how === "accept" || how === "reject") this.later(() => this.decidePreview(msg.request_id, how === "accept"));
        break;
      }
      case "report_ack":
        this.revision = Number(msg.revision ?? this.revision);
        if (msg.provenance_json) keepProvenance(this.graph, msg.provenance_json);
        this.emit("ack", this.revision, msg.report);
        break;
      default:
        break;
    }
  }

  answerPatch(msg) {
    const commands = msg.commands ?? [];
    // A tab that lacks a node type: LiteGraph.createNode returns null.
    const { LiteGraph } = this.lg;
    const saved = [];
    for (const t of this.skip) {
      if (LiteGraph.registered_node_types[t]) {
        saved.push([t, LiteGraph.registered_node_types[t]]);
        delete LiteGraph.registered_node_types[t];
      }
    }
    let out;
    let ids = null;
    try {
      ids = this.opts.deltas ? graphIds(this.graph) : null;
      out = this.applier.applyPatch(commands, msg.mode, msg.expected_node_ids ?? []);
    } finally {
      for (const [t, cls] of saved) LiteGraph.registered_node_types[t] = cls;
    }
    // Like the real tab: every answer is a new state of the tab (a partial
    // patch keeps what worked even when a command failed).
    this.tabRevision++;
    const reply = {
      type: "patch_result",
      request_id: msg.request_id,
      ok: out.ok,
      results: out.results,
      tab_revision: this.tabRevision,
      provenance_revision: heldProvenance(this.graph),
    };
    if (!out.ok) reply.error = out.error;
    // The last answers, for a resync that asks for one again.
    this.answered.set(String(msg.request_id), reply);
    if (this.answered.size > 16) this.answered.delete(this.answered.keys().next().value);
    if (ids) {
      // The nodes the commands named; arrange moves nodes it does not name.
      const touched = new Set((out.results ?? []).map((r) => r?.node_id).filter(Boolean));
      if (commands.some((c) => c?.type === "arrange")) for (const n of this.graph._nodes ?? []) touched.add(n.id);
      reply.delta = graphDelta(this.graph, ids, touched);
      if (this.opts.corruptDelta) this.opts.corruptDelta(reply.delta);
    } else reply.workflow_json = this.workflowJson();
    this.send(reply);
    this.emit("patched", out, msg);
  }

  // The core could not apply a delta: it asks for the whole workflow, in
  // the answer to that patch again (or in a user_edit).
  answerResync(msg) {
    this.resyncs++;
    this.emit("resync", msg);
    const prev = this.answered.get(String(msg.request_id ?? 0));
    if (prev) {
      const { delta: _unused, ...rest } = prev;
      this.send({ ...rest, workflow_json: this.workflowJson(), tab_revision: this.tabRevision });
    } else this.send({ type: "user_edit", workflow_json: this.workflowJson(), tab_revision: this.tabRevision });
  }

  answerQueue(msg) {
    if (msg.prompt_only) {
      // The core posts the prompt itself: hand over the API format.
      const p = graphToPrompt(this.graph);
      this.queued.push({ prompt_only: true, prompt: p.output, workflow: p.workflow });
      this.send({
        type: "queue_result",
        request_id: msg.request_id,
        ok: true,
        prompt_id: "",
        number: 0,
        prompt_json: JSON.stringify(p.output),
        workflow_json: JSON.stringify(p.workflow),
      });
      return;
    }
    const promptId = randomUUID();
    const number = this.promptNumber++;
    this.queued.push({ prompt_id: promptId, number, batch_count: msg.batch_count ?? 1, workflow: this.serialize() });
    this.send({ type: "queue_result", request_id: msg.request_id, ok: true, prompt_id: promptId, number });
  }

  answerLoad(msg) {
    try {
      const wf = JSON.parse(msg.workflow_json);
      this.graph.configure(wf);
      this.tabRevision++;
      this.send({
        type: "load_result",
        request_id: msg.request_id,
        ok: true,
        workflow_json: this.workflowJson(),
        tab_revision: this.tabRevision,
      });
    } catch (e) {
      this.send({ type: "load_result", request_id: msg.request_id, ok: false, error: String(e?.message ?? e) });
    }
  }

  // Waits for the next report_ack of the given report kind ("user_edit",
  // "focus"; any kind when omitted) and resolves with its revision. The kind
  // matters: the ack of a patch result the core has already answered its
  // caller for may still be on its way when the next report is sent.
  nextAck(timeoutMs = 5000, kind = null) {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.off("ack", on);
        reject(new Error(`no report_ack${kind ? ` for ${kind}` : ""} within ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (rev, report) => {
        if (kind && report !== kind) return;
        clearTimeout(t);
        this.off("ack", on);
        resolve(rev);
      };
      this.on("ack", on);
    });
  }

  // The user's Accept (true) or Reject (false) of the preview request_id.
  decidePreview(requestId, accepted) {
    const shown = this.previews.find((p) => String(p.msg.request_id) === String(requestId));
    if (shown) shown.decided = accepted;
    return this.send({ type: "preview_decision", request_id: requestId, accepted });
  }

  // Resolves with the next preview shown (or one already shown and not
  // decided).
  nextPreview(timeoutMs = 10000) {
    const open = this.previews.find((p) => p.decided === null);
    if (open) return Promise.resolve(open);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.off("preview", on);
        reject(new Error(`no preview within ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (shown) => {
        clearTimeout(t);
        this.off("preview", on);
        resolve(shown);
      };
      this.on("preview", on);
    });
  }

  // A local edit (the user dragging a node, typing a value): fn changes the
  // graph, then the tab reports its workflow. Resolves with the acked
  // revision.
  async userEdit(fn, { waitAck = true } = {}) {
    // Which nodes the edit changed: each node's serialization before and
    // after (a test editor; the real tab knows from its own events).
    const nodeText = () => new Map((this.graph._nodes ?? []).map((n) => [n.id, JSON.stringify(n.serialize())]));
    const ids = this.opts.deltas ? graphIds(this.graph) : null;
    const pre = this.opts.deltas ? nodeText() : null;
    fn(this.graph, this.applier);
    this.tabRevision++;
    const ack = waitAck ? this.nextAck(5000, "user_edit") : null;
    if (this.opts.deltas) {
      const touched = new Set();
      for (const [id, text] of nodeText()) if (pre.get(id) !== text) touched.add(id);
      const delta = graphDelta(this.graph, ids, touched);
      if (this.opts.corruptDelta) this.opts.corruptDelta(delta);
      this.send({ type: "user_edit", delta, tab_revision: this.tabRevision, provenance_revision: heldProvenance(this.graph) });
    } else this.send({ type: "user_edit", workflow_json: this.workflowJson(), tab_revision: this.tabRevision });
    return ack;
  }


  async focus(focused = true, { waitAck = true } = {}) {
    this.opts.focused = focused;
    const ack = waitAck ? this.nextAck(5000, "focus") : null;
    this.send({ type: "focus", focused });
    return ack;
  }

  // Closes the socket with a close frame (a tab being closed).
  close() {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    return new Promise((resolve) => {
      const ws = this.ws;
      if (!ws || ws.readyState === WebSocket.CLOSED) return resolve();
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2000);
      ws.once("close", () => {
        clearTimeout(t);
        resolve();
      });
      ws.close(1000, "tab closed");
    });
  }

  // Drops the TCP connection without a close frame (a crashed tab).
  kill() {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.ws?.terminate();
  }

  // Node widgets by name (what the tab shows).
  widgetsOf(id) {
    const n = this.graph.getNodeById(Number(id));
    const out = {};
    for (const w of n?.widgets ?? []) out[w.name] = w.value;
    return out;
  }
}

// ------------------------------------------------------------------ the CLI

function parseArgs(argv) {
  const a = { delayMs: 0, silent: false, focused: true, reconnect: true, skipTypes: [] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${k} needs a value`);
      return argv[++i];
    };
    switch (k) {
      case "--url": a.url = v(); break;
      case "--token": a.token = v(); break;
      case "--token-file": a.token = readFileSync(v(), "utf8").trim(); break;
      case "--object-info": a.objectInfo = v(); break;
      case "--canvas-id": a.canvasId = v(); break;
      case "--title": a.title = v(); break;
      case "--workflow": a.workflow = JSON.parse(readFileSync(v(), "utf8")); break;
      case "--unfocused": a.focused = false; break;
      case "--delay-ms": a.delayMs = Number(v()); break;
      case "--silent": a.silent = true; break;
      case "--skip-types": a.skipTypes = v().split(",").filter(Boolean); break;
      case "--no-reconnect": a.reconnect = false; break;
      default: throw new Error(`unknown argument ${k}`);
    }
  }
  for (const req of ["url", "token", "objectInfo", "canvasId"]) {
    if (!a[req]) throw new Error(`--${req.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())} is required`);
  }
  return a;
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`editor: ${e.message}\n`);
    process.exit(2);
  }
  const lg = await prepareLiteGraph(args.objectInfo);
  const ed = new HeadlessEditor(lg, args);
  ed.on("attached", (rev) => process.stdout.write(`editor: attached ${args.canvasId} ${rev}\n`));
  ed.on("patch", (msg) => process.stdout.write(`editor: patch ${msg.request_id}\n`));
  ed.on("patched", (out) => {
    if (!out.ok) process.stdout.write(`editor: patch failed: ${out.error}\n`);
  });
  ed.on("close", (code, reason) => {
    process.stdout.write(`editor: closed ${code} ${reason}\n`);
    // Without reconnecting, a socket that never attached is a failure.
    if (!args.reconnect) process.exit(ed.attachedCount ? 0 : 1);
  });
  for (const sig of ["SIGTERM", "SIGINT"]) {
    process.on(sig, async () => {
      await ed.close();
      process.exit(0);
    });
  }
  try {
    await ed.connect();
  } catch (e) {
    // With reconnect on, the socket's close handler keeps retrying.
    process.stdout.write(`editor: ${e.message}\n`);
    if (!args.reconnect) process.exit(1);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main();
}
