// The canvas executor's command set: the graph commands of the core's
// PatchRequest (create_node, remove_node, connect, disconnect, set_widget,
// move_node, clear_graph, get_graph, arrange, set_node_mode) applied to a
// live LiteGraph graph.
//
// Pure functions over a LiteGraph-like graph (ctx.graph, ctx.LiteGraph):
// no DOM, no globals, so the headless editor of the tests
// (tests/graph/editor.mjs) runs this very module in Node.
//
// Only these commands exist: a command is looked up in a fixed table and
// its fields are checked and copied into a plain object before anything
// touches the graph. Nothing is evaluated, no method is called by a name
// that came over the wire.
//
// A patch is applied in order. Commands may name nodes created earlier in
// the same patch by their ref. In ATOMIC mode (the default) the first
// failure rolls the graph back to its state before the patch (the rollback
// reloads the snapshot with graph.configure, so ids and counters come back
// too) and every command is reported as not applied. In PARTIAL mode a
// failed command is undone on its own and the others stay.
//
// Nodes created without coordinates are placed when the patch's commands
// have run, so that the links the patch makes decide where they go
// (layout.js: to the right of what feeds them, left to right along their
// links, never on another node).

import {
  closest,
  comboValues,
  inputIndex,
  nodeById,
  nodesOf,
  outputIndex,
  widgetByName,
  widgetNames,
  workflowSignature,
} from "./graphops.js";
import { LAYOUT, arrangeNodes, placeNewNodes } from "./layout.js";

/** Limits of what a patch may ask for (the core's limits, repeated so a
 * misbehaving peer cannot make the tab do unbounded work). */
export const LIMITS = Object.freeze({
  // GRAPH_MAX_BATCH of the core.
  commands: 1000,
  // GRAPH_MAX_NAME: type, slot, widget names and titles.
  name: 1024,
  // CANVAS_MAX_TEXT: text widget values (long prompts are a few KB).
  text: 256 * 1024,
  // GRAPH_MAX_COORD: keeps nodes reachable and coordinates exact.
  coord: 1e7,
  // GRAPH_MAX_WIDGETS: widgets set by one create_node.
  widgets: 1024,
  // GRAPH_MAX_REF.
  ref: 128,
  // GRAPH_MAX_NODES: node_ids of one arrange.
  nodes: 10000,
});

/** set_node_mode's names and the LiteGraph modes they stand for (the
 * core's node_modes in core/graph.c). */
export const NODE_MODES = Object.freeze({ always: 0, never: 2, mute: 2, bypass: 4 });

export class CommandError extends Error {
  constructor(code, message, suggestions = []) {
    super(message);
    this.code = code;
    this.suggestions = suggestions;
  }
}

const fail = (code, message, suggestions) => {
  throw new CommandError(code, message, suggestions);
};

const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

function str(v, what, max = LIMITS.name, { optional = false } = {}) {
  if (v === undefined || v === null) {
    if (optional) return "";
    fail("INVALID_COMMAND", `${what} is required`);
  }
  if (typeof v !== "string") fail("INVALID_COMMAND", `${what} must be a string`);
  if (v.length > max) fail("INVALID_COMMAND", `${what} is longer than ${max} characters`);
  return v;
}

function coord(v, what, { optional = false } = {}) {
  if (v === undefined || v === null) return optional ? null : 0;
  if (typeof v !== "number" || !Number.isFinite(v) || Math.abs(v) > LIMITS.coord)
    fail("INVALID_COMMAND", `${what} must be a number within ±${LIMITS.coord}`);
  return v;
}

/** NodeRef: an id (integer) or a ref (string); {"id": n} / {"ref": s} too. */
function nodeRef(v, what) {
  if (isObj(v)) {
    if ("id" in v) v = v.id;
    else if ("ref" in v) v = v.ref;
  }
  if (typeof v === "number" && Number.isSafeInteger(v)) return { id: v };
  if (typeof v === "string" && v.length > 0 && v.length <= LIMITS.ref) {
    // A decimal string is an id written as a string (64-bit ids may come so).
    if (/^-?\d+$/.test(v) && Number.isSafeInteger(Number(v))) return { id: Number(v), ref: v };
    return { ref: v };
  }
  return fail("INVALID_COMMAND", `${what} must be a node id or a ref`);
}

/** SlotRef: an index (integer) or a name (string); absent means 0. */
function slotRef(v, what) {
  if (v === undefined || v === null) return 0;
  if (isObj(v)) {
    if ("index" in v) v = v.index;
    else if ("name" in v) v = v.name;
    else return 0;
  }
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v < 1 << 16) return v;
  if (typeof v === "string" && v.length > 0 && v.length <= LIMITS.name) return v;
  return fail("INVALID_COMMAND", `${what} must be a slot index or name`);
}

/** Value: a bare scalar, or the object form of the proto oneof. */
function scalar(v, what) {
  if (isObj(v)) {
    const keys = ["number", "integer", "text", "boolean"].filter((k) => k in v);
    if (keys.length !== 1) fail("INVALID_COMMAND", `${what} must be a number, a string or a boolean`);
    v = v[keys[0]];
  }
  if (typeof v === "number") {
    if (!Number.isFinite(v)) fail("VALUE_INVALID", `${what} must be a finite number`);
    return v;
  }
  if (typeof v === "boolean") return v;
  if (typeof v === "string") {
    if (v.length > LIMITS.text) fail("VALUE_INVALID", `${what} is longer than ${LIMITS.text} characters`);
    return v;
  }
  return fail("INVALID_COMMAND", `${what} must be a number, a string or a boolean`);
}

// The command table: type -> field parser. Anything else is refused.
const PARSERS = {
  create_node(c) {
    const out = {
      node_type: str(c.node_type, "node_type"),
      x: coord(c.x, "x", { optional: true }),
      y: coord(c.y, "y", { optional: true }),
      ref: str(c.ref, "ref", LIMITS.ref, { optional: true }),
      title: str(c.title, "title", LIMITS.name, { optional: true }),
      widgets: [],
    };
    if (!out.node_type) fail("INVALID_COMMAND", "node_type is required");
    if (c.widgets !== undefined && c.widgets !== null) {
      if (!isObj(c.widgets)) fail("INVALID_COMMAND", "widgets must be an object of name: value");
      const names = Object.keys(c.widgets);
      if (names.length > LIMITS.widgets) fail("INVALID_COMMAND", `more than ${LIMITS.widgets} widgets`);
      for (const n of names) out.widgets.push([str(n, "widget name"), scalar(c.widgets[n], `widgets.${n}`)]);
    }
    return out;
  },
  remove_node: (c) => ({ node_id: nodeRef(c.node_id, "node_id") }),
  connect: (c) => ({
    from_id: nodeRef(c.from_id, "from_id"),
    from_slot: slotRef(c.from_slot, "from_slot"),
    to_id: nodeRef(c.to_id, "to_id"),
    to_slot: slotRef(c.to_slot, "to_slot"),
  }),
  disconnect: (c) => ({ node_id: nodeRef(c.node_id, "node_id"), slot: slotRef(c.slot, "slot") }),
  set_widget: (c) => ({
    node_id: nodeRef(c.node_id, "node_id"),
    name: str(c.name, "name"),
    value: scalar(c.value, "value"),
  }),
  move_node: (c) => ({ node_id: nodeRef(c.node_id, "node_id"), x: coord(c.x, "x"), y: coord(c.y, "y") }),
  clear_graph: () => ({}),
  get_graph: () => ({}),
  arrange(c) {
    const ids = c.node_ids ?? [];
    if (!Array.isArray(ids)) fail("INVALID_COMMAND", "node_ids must be an array of node ids or refs");
    if (ids.length > LIMITS.nodes) fail("INVALID_COMMAND", `node_ids: more than ${LIMITS.nodes}`);
    const spacing = coord(c.spacing, "spacing", { optional: true });
    if (spacing !== null && (spacing < 0 || spacing > LAYOUT.maxSpacing))
      fail("INVALID_COMMAND", `spacing must be between 0 and ${LAYOUT.maxSpacing}`);
    return {
      node_ids: ids.map((v, i) => nodeRef(v, `node_ids[${i}]`)),
      x: coord(c.x, "x", { optional: true }),
      y: coord(c.y, "y", { optional: true }),
      spacing,
    };
  },
  set_node_mode(c) {
    const mode = str(c.mode, "mode");
    if (!Object.hasOwn(NODE_MODES, mode))
      fail("INVALID_COMMAND", `mode "${mode.slice(0, 40)}" is not one of ${Object.keys(NODE_MODES).join(", ")}`);
    return { node_id: nodeRef(c.node_id, "node_id"), mode: NODE_MODES[mode] };
  },
};

export const COMMAND_TYPES = Object.freeze(Object.keys(PARSERS));
const MUTATING = new Set(COMMAND_TYPES.filter((t) => t !== "get_graph"));
// Commands whose every check comes before the change they make (a widget
// callback that throws afterwards keeps the value, see setWidget): when one
// fails the graph is as it was, so a patch of one of them alone needs no
// pre-state for a rollback.
const FAILS_CLEAN = new Set(["move_node", "set_widget", "get_graph"]);

/** Checks a command in the flat form ({"type": ..., fields}) or the nested
 * one ({"create_node": {...}}) and returns {type, ...fields}. Throws
 * CommandError INVALID_COMMAND. */
export function normalizeCommand(raw) {
  if (!isObj(raw)) fail("INVALID_COMMAND", "a command must be an object");
  let type = raw.type;
  let fields = raw;
  if (type === undefined) {
    const nested = Object.keys(raw).filter((k) => Object.hasOwn(PARSERS, k));
    if (nested.length !== 1) fail("INVALID_COMMAND", "missing field: type");
    type = nested[0];
    fields = isObj(raw[type]) ? raw[type] : {};
  }
  if (typeof type !== "string" || !Object.hasOwn(PARSERS, type))
    fail("INVALID_COMMAND", `unknown type '${String(type).slice(0, 64)}'; expected one of ${COMMAND_TYPES.join(", ")}`);
  return { type, ...PARSERS[type](fields) };
}

const NUMBER_WIDGETS = new Set(["number", "slider", "knob"]);
const TEXT_WIDGETS = new Set(["text", "string", "customtext", "textarea", "markdown"]);

/** Checks v against the widget's kind and options; returns the value to set. */
export function checkWidgetValue(w, node, v) {
  const type = String(w.type ?? "");
  const o = w.options ?? {};
  if (type === "combo") {
    const values = comboValues(w, node);
    if (values && !values.some((x) => x === v))
      fail("VALUE_INVALID", `${JSON.stringify(v)} is not one of the ${values.length} options of ${w.name}`, closest(v, values.filter((x) => typeof x === "string")));
    return v;
  }
  if (NUMBER_WIDGETS.has(type)) {
    if (typeof v !== "number") fail("VALUE_INVALID", `${w.name} takes a number`);
    if (o.precision === 0 && !Number.isInteger(v)) fail("VALUE_INVALID", `${w.name} takes an integer`);
    if (typeof o.min === "number" && v < o.min) fail("VALUE_INVALID", `${w.name}: ${v} is below the minimum ${o.min}`);
    if (typeof o.max === "number" && v > o.max) fail("VALUE_INVALID", `${w.name}: ${v} is above the maximum ${o.max}`);
    return v;
  }
  if (type === "toggle" || type === "boolean") {
    if (typeof v !== "boolean") fail("VALUE_INVALID", `${w.name} takes true or false`);
    return v;
  }
  if (TEXT_WIDGETS.has(type)) {
    if (typeof v !== "string") fail("VALUE_INVALID", `${w.name} takes a string`);
    return v;
  }
  if (type === "button") fail("VALUE_INVALID", `${w.name} is a button, it has no value`);
  return v;
}

/** The value a widget holds now, as a scalar for the reply (or undefined). */
export function readWidget(w) {
  const v = w.value;
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" || typeof v === "boolean") return v;
  return undefined;
}

/** Sets a widget the way a user edit does: value, then its callback (which
 * may round or clamp it), then the node's onWidgetChanged. */
export function setWidget(ctx, node, name, value) {
  const w = widgetByName(node, name);
  if (!w) fail("WIDGET_NOT_FOUND", `node #${node.id} (${node.type}) has no widget "${name}"`, closest(name, widgetNames(node)));
  const v = checkWidgetValue(w, node, value);
  const old = w.value;
  w.value = v;
  try {
    w.callback?.call(w, w.value, ctx.canvas ?? null, node, undefined, undefined);
    node.onWidgetChanged?.(w.name, w.value, old, w);
  } catch (e) {
    // The value is set; a callback that fails (an upload preview, say) does
    // not undo it.
    ctx.log?.("warn", `widget callback of ${name} failed: ${e?.message ?? e}`);
  }
  return readWidget(w);
}

function resolveNode(ctx, ref, what) {
  if (ref.ref !== undefined && ctx.refs.has(ref.ref)) return nodeById(ctx.graph, ctx.refs.get(ref.ref));
  if (ref.id !== undefined) {
    const n = nodeById(ctx.graph, ref.id);
    if (n) return n;
    fail("NODE_NOT_FOUND", `${what}: no node #${ref.id}`);
  }
  return fail("REF_NOT_FOUND", `${what}: no node was created with ref "${ref.ref}" earlier in this patch`);
}

/** The visible part of the canvas ([x, y, w, h] in canvas units), or null. */
function viewOf(ctx) {
  const v = typeof ctx.view === "function" ? ctx.view() : null;
  return Array.isArray(v) && v.length === 4 && v.every(Number.isFinite) ? v : null;
}

/** Places the nodes of this patch that were created without coordinates
 * and not moved or arranged since (run.pending: their ids). */
function placePending(run) {
  const ids = [...run.pending].filter((id) => nodeById(run.graph, id));
  run.pending.clear();
  if (ids.length) placeNewNodes(run.graph, ids, { LiteGraph: run.LiteGraph, view: viewOf(run) });
}

const APPLY = {
  create_node(ctx, c) {
    const { graph, LiteGraph } = ctx;
    const node = LiteGraph.createNode(c.node_type);
    if (!node) {
      const known = Object.keys(LiteGraph.registered_node_types ?? {});
      fail("UNKNOWN_NODE_TYPE", `unknown node type "${c.node_type}"`, closest(c.node_type, known));
    }
    if (c.title) node.title = c.title;
    // Without coordinates: a place is found when the patch has run.
    const auto = c.x === null || c.y === null;
    node.pos = auto ? [0, 0] : [c.x, c.y];
    const want = ctx.expectedId;
    if (Number.isSafeInteger(want) && want > 0 && !nodeById(graph, want)) node.id = want;
    graph.add(node);
    if (!nodeById(graph, node.id)) fail("EDITOR_FAILED", `the graph did not accept the ${c.node_type} node`);
    try {
      for (const [name, value] of c.widgets) setWidget(ctx, node, name, value);
    } catch (e) {
      graph.remove(node);
      throw e;
    }
    if (c.ref) ctx.refs.set(c.ref, node.id);
    if (auto) ctx.pending.add(node.id);
    return { node_id: node.id };
  },
  remove_node(ctx, c) {
    const node = resolveNode(ctx, c.node_id, "node_id");
    const id = node.id;
    ctx.graph.remove(node);
    if (nodeById(ctx.graph, id)) fail("EDITOR_FAILED", `node #${id} cannot be removed`);
    return { node_id: id };
  },
  connect(ctx, c) {
    const src = resolveNode(ctx, c.from_id, "from_id");
    const dst = resolveNode(ctx, c.to_id, "to_id");
    const o = outputIndex(src, c.from_slot);
    if (o < 0)
      fail("SLOT_NOT_FOUND", `node #${src.id} (${src.type}) has no output ${JSON.stringify(c.from_slot)}`,
        typeof c.from_slot === "string" ? closest(c.from_slot, (src.outputs ?? []).map((s) => s.name)) : []);
    const i = inputIndex(dst, c.to_slot);
    if (i < 0)
      fail("SLOT_NOT_FOUND", `node #${dst.id} (${dst.type}) has no input ${JSON.stringify(c.to_slot)}`,
        typeof c.to_slot === "string" ? closest(c.to_slot, (dst.inputs ?? []).map((s) => s.name)) : []);
    if (src === dst) fail("INVALID_COMMAND", `node #${src.id} cannot be linked to itself`);
    const ot = src.outputs[o].type;
    const it = dst.inputs[i].type;
    if (!ctx.LiteGraph.isValidConnection(ot, it))
      fail("TYPE_MISMATCH", `output ${o} of #${src.id} is ${ot}, input ${JSON.stringify(dst.inputs[i].name)} of #${dst.id} takes ${it}`);
    const link = src.connect(o, dst, i);
    if (!link) fail("EDITOR_FAILED", `LiteGraph refused the link #${src.id}:${o} -> #${dst.id}:${i}`);
    return { node_id: dst.id, link_id: link.id };
  },
  disconnect(ctx, c) {
    const node = resolveNode(ctx, c.node_id, "node_id");
    const i = inputIndex(node, c.slot);
    if (i < 0)
      fail("SLOT_NOT_FOUND", `node #${node.id} (${node.type}) has no input ${JSON.stringify(c.slot)}`,
        typeof c.slot === "string" ? closest(c.slot, (node.inputs ?? []).map((s) => s.name)) : []);
    const linkId = node.inputs[i].link;
    if (linkId === null || linkId === undefined) return { node_id: node.id, link_id: 0 };
    node.disconnectInput(i);
    if (node.inputs[i].link !== null && node.inputs[i].link !== undefined)
      fail("EDITOR_FAILED", `input ${i} of #${node.id} could not be disconnected`);
    return { node_id: node.id, link_id: linkId };
  },
  set_widget(ctx, c) {
    const node = resolveNode(ctx, c.node_id, "node_id");
    const value = setWidget(ctx, node, c.name, c.value);
    return value === undefined ? { node_id: node.id } : { node_id: node.id, value };
  },
  move_node(ctx, c) {
    const node = resolveNode(ctx, c.node_id, "node_id");
    node.pos = [c.x, c.y];
    ctx.pending.delete(node.id);
    return { node_id: node.id };
  },
  clear_graph(ctx) {
    // The agent panel stays: clearing the canvas from a chat must not close
    // the chat. Everything else goes, groups included.
    const keep = ctx.keepOnClear ?? (() => false);
    for (const n of nodesOf(ctx.graph)) if (!keep(n)) ctx.graph.remove(n);
    for (const g of Array.from(ctx.graph._groups ?? ctx.graph.groups ?? [])) ctx.graph.remove(g);
    return {};
  },
  get_graph() {
    return {};
  },
  arrange(ctx, c) {
    // Every node named must exist; an empty list is the whole graph but
    // the agent panel.
    const ids = c.node_ids.map((r, i) => resolveNode(ctx, r, `node_ids[${i}]`).id);
    const placed = arrangeNodes(ctx.graph, ids, {
      LiteGraph: ctx.LiteGraph,
      x: c.x ?? undefined,
      y: c.y ?? undefined,
      spacing: c.spacing ?? undefined,
      exclude: ctx.keepOnClear,
      ignore: ctx.pending,
    });
    for (const id of placed) ctx.pending.delete(id);
    return {};
  },
  set_node_mode(ctx, c) {
    const node = resolveNode(ctx, c.node_id, "node_id");
    node.mode = c.mode;
    if (node.mode !== c.mode) fail("EDITOR_FAILED", `node #${node.id} kept mode ${node.mode}`);
    return { node_id: node.id };
  },
};

export const BATCH_MODE_PARTIAL = "BATCH_MODE_PARTIAL";

function isPartial(mode) {
  return mode === BATCH_MODE_PARTIAL || mode === 2 || String(mode).toLowerCase() === "partial";
}

function errorResult(index, e) {
  const code = e instanceof CommandError ? e.code : "EDITOR_FAILED";
  const message = e instanceof CommandError ? e.message : `command failed: ${e?.message ?? String(e)}`;
  const error = { code, message: message.slice(0, 1000), index };
  if (e?.suggestions?.length) error.suggestions = e.suggestions;
  return { index, ok: false, error };
}

/**
 * Applies the commands of a PatchRequest to ctx.graph.
 * ctx: {graph, LiteGraph, canvas?, view?() -> [x, y, w, h] (the visible
 *       part of the canvas, where new nodes go when it is free),
 *       keepOnClear?(node) (the agent panel: kept by clear_graph, left
 *       alone by a whole-graph arrange), log?(level, text)}.
 * patch: {commands, expected_node_ids, mode}.
 * Returns {ok, error, results, applied}: results[i] is the CommandResult of
 * commands[i] ({index, ok, node_id, link_id, value, error}); applied is
 * true when a command that changes the graph was applied (and kept). ok is "every command applied": a PARTIAL
 * patch with a failed command is ok=false and still keeps the others, so
 * the graph afterwards is what the tab reports and the core commits.
 */
export function applyPatch(ctx, patch) {
  const commands = Array.isArray(patch?.commands) ? patch.commands : [];
  if (commands.length > LIMITS.commands)
    return { ok: false, error: `more than ${LIMITS.commands} commands`, results: [], applied: false };
  const graph = ctx.graph;
  const partial = isPartial(patch?.mode);
  const expected = Array.isArray(patch?.expected_node_ids) ? patch.expected_node_ids.map(Number) : [];
  const run = { ...ctx, refs: new Map(), pending: new Set(), expectedId: undefined };
  // The pre-state for a rollback. Its signature is only needed when
  // something failed: a patch costs one serialization here, not three; a
  // lone command that fails before it changes anything needs none (on a
  // 500-node graph the serialization was half of the tab's work on a patch).
  const lone = commands.length === 1 && FAILS_CLEAN.has(commands[0]?.type);
  const before = lone ? null : graph.serialize();
  const results = new Array(commands.length);
  let created = 0;
  let failedAt = -1;
  let changed = false;

  for (let i = 0; i < commands.length; i++) {
    let cmd;
    try {
      cmd = normalizeCommand(commands[i]);
    } catch (e) {
      results[i] = errorResult(i, e);
      if (!partial) {
        failedAt = i;
        break;
      }
      continue;
    }
    run.expectedId = cmd.type === "create_node" ? expected[created++] : undefined;
    const snapshot = partial && MUTATING.has(cmd.type) && i > 0 ? graph.serialize() : null;
    try {
      results[i] = { index: i, ok: true, ...APPLY[cmd.type](run, cmd) };
      if (MUTATING.has(cmd.type)) changed = true;
    } catch (e) {
      results[i] = errorResult(i, e);
      if (!partial) {
        failedAt = i;
        break;
      }
      const base = snapshot ?? before;
      if (base && workflowSignature(graph.serialize()) !== workflowSignature(base)) restore(graph, base);
    }
  }

  if (failedAt >= 0) {
    if (before && workflowSignature(graph.serialize()) !== workflowSignature(before)) restore(graph, before);
    const why = `not applied: command ${failedAt} failed and the patch is atomic (the graph was rolled back)`;
    for (let i = 0; i < commands.length; i++) {
      if (i === failedAt) continue;
      results[i] = { index: i, ok: false, error: { code: "SKIPPED", message: why, index: i } };
    }
    graph.setDirtyCanvas?.(true, true);
    return { ok: false, error: results[failedAt].error.message, results, applied: false };
  }
  placePending(run);
  graph.setDirtyCanvas?.(true, true);
  const ok = results.every((r) => r.ok);
  const firstErr = results.find((r) => !r.ok);
  return {
    ok,
    error: ok ? "" : firstErr.error.message,
    results,
    applied: changed,
  };
}

/** Puts the graph back to a serialised state. */
export function restore(graph, state) {
  graph.configure(structuredClone(state));
  graph.setDirtyCanvas?.(true, true);
}
