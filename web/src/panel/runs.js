// Runs in the agent panel: the ComfyUI runs a session's agent queued, as
// the bridge reports them (`run_update` events of the session socket, and
// the list `GET /comfy/runs?session_id=` after a join), kept by prompt id
// and placed at the turn that queued them.
//
// Pure: no I/O. The session store keeps `runs` and `runTurns` in its state;
// the view reads runView().

/** Runs kept in the view (the oldest finished ones go first). */
export const MAX_RUNS = 200;
/** Output files shown per run (thumbnails). */
export const MAX_THUMBS = 16;
/** Side of a thumbnail asked of the bridge (it scales PNGs down). */
export const THUMB_SIDE = 256;

const FINAL = new Set(["succeeded", "failed", "interrupted", "cancelled", "unknown"]);

export const isFinal = (status) => FINAL.has(status);

/** "running" for "RUN_STATUS_RUNNING" or "running". */
export function runStatus(v) {
  let s = String(v ?? "").toLowerCase();
  if (s.startsWith("run_status_")) s = s.slice("run_status_".length);
  return s || "unspecified";
}

const num = (v) => {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
};

/**
 * Which of two states of one run is newer: the core's seq increases with
 * every change. Returns true when `incoming` may replace `current`.
 */
export function isNewer(current, incoming) {
  if (!current) return true;
  const a = num(current.seq);
  const b = num(incoming.seq);
  if (a && b) return b > a;
  // Without seqs (an old core): a final state is never undone by an
  // unfinished one.
  return !(isFinal(runStatus(current.status)) && !isFinal(runStatus(incoming.status)));
}

function trimRuns(s) {
  const ids = Object.keys(s.runs);
  if (ids.length <= MAX_RUNS) return;
  const byAge = ids
    .map((id) => s.runs[id])
    .sort((a, b) => Number(isFinal(runStatus(b.status))) - Number(isFinal(runStatus(a.status))) || num(a.queued_at_ms) - num(b.queued_at_ms));
  for (const r of byAge.slice(0, ids.length - MAX_RUNS)) {
    delete s.runs[r.prompt_id];
    delete s.runTurns[r.prompt_id];
  }
}

/**
 * Stores one state of a run (from run_update or the list). An older state
 * (lower seq) than the one kept is dropped. Returns true when it changed
 * the view.
 */
export function applyRun(s, run, { workingTurn = 0 } = {}) {
  if (!run || typeof run !== "object" || typeof run.prompt_id !== "string" || !run.prompt_id) return false;
  if (run.session_id && s.sessionId && run.session_id !== s.sessionId) return false;
  const id = run.prompt_id;
  if (!isNewer(s.runs[id], run)) return false;
  s.runs[id] = run;
  // First sight of a run while a turn is working live: that turn queued
  // it (a session runs one turn at a time).
  if (!s.runTurns[id] && workingTurn && !isFinal(runStatus(run.status))) s.runTurns[id] = workingTurn;
  trimRuns(s);
  return true;
}

/** The prompt id a tool result names (queue answers QueueResponse, run
 * and get_run answer a Run or {run}), or "". */
export function promptIdOfResult(resultJson) {
  let v;
  try {
    v = typeof resultJson === "string" ? JSON.parse(resultJson) : resultJson;
  } catch {
    return "";
  }
  if (!v || typeof v !== "object") return "";
  const pick = (x) => (typeof x === "string" && x ? x : "");
  return pick(v.run?.prompt_id) || pick(v.prompt_id) || (Array.isArray(v.prompt_ids) ? pick(v.prompt_ids.at(-1)) : "");
}

/** A tool call of turn `turnId` answered with a run: the run is that turn's. */
export function noteToolResult(s, turnId, resultJson) {
  const id = promptIdOfResult(resultJson);
  const t = Number(turnId) || 0;
  if (!id || !t) return false;
  if (s.runTurns[id] === t) return false;
  s.runTurns[id] = t;
  return true;
}

/**
 * The turn a run belongs to. Known exactly from the tool result or the
 * live turn; otherwise (after a reload: tool results are not part of the
 * history) from the times: turns run one after another in id order, so
 * the run belongs to the first turn written before it was queued whose
 * replies were not all stored before it was queued. 0: no turn (none yet).
 */
export function turnOfRun(s, run) {
  const known = s.runTurns[run.prompt_id];
  if (known && s.turns.some((t) => t.id === known)) return known;
  const at = num(run.queued_at_ms);
  const turns = s.turns.filter((t) => !t.pending);
  if (!turns.length) return 0;
  if (!at) return turns.at(-1).id;
  let last = 0;
  for (const t of turns) {
    if (!t.createdAt || t.createdAt > at) continue;
    last = t.id;
    const ends = t.order.map((k) => t.replies[k]).filter((r) => r.final && r.createdAt);
    const over = ends.length === t.order.length && ends.length > 0 ? Math.max(...ends.map((r) => r.createdAt)) : Infinity;
    if (over >= at) return t.id;
  }
  return last || turns[0].id;
}

/** The runs of each turn: {turnId: [run, ...]} oldest first. */
export function runsByTurn(s) {
  const out = {};
  const list = Object.values(s.runs).sort((a, b) => num(a.queued_at_ms) - num(b.queued_at_ms) || num(a.number) - num(b.number));
  for (const r of list) {
    const t = turnOfRun(s, r);
    (out[t] ??= []).push(r);
  }
  return out;
}

/**
 * What the panel shows of a run. titleOf(nodeId) names a canvas node
 * (its title), or returns "".
 */
export function runView(run, titleOf = () => "") {
  const status = runStatus(run.status);
  const name = (id, title) => String(title || titleOf(String(id)) || (id ? `#${id}` : ""));
  const v = {
    id: run.prompt_id,
    short: String(run.prompt_id).slice(0, 8),
    status,
    final: isFinal(status),
    queuedBy: String(run.queued_by ?? ""),
    reason: String(run.reason ?? ""),
    queuePosition: num(run.queue_position),
    node: null, // {id, title} running now
    value: 0,
    max: 0,
    percent: null, // of the node running now, when it reports progress
    done: 0, // nodes executed or cached
    errors: [], // [{nodeId, title, input, message}]
    outputs: [], // [{nodeId, index, filename, kind}]
    seconds: null,
  };
  const done = new Set([...(run.executed_nodes ?? []), ...(run.cached_nodes ?? [])].map(String));
  v.done = done.size;
  if (run.executing_node && !v.final) {
    const id = String(run.executing_node);
    v.node = { id, title: name(id) };
    const p = (run.progress ?? []).find((x) => String(x.node_id) === id);
    if (p && num(p.max) > 0) {
      v.value = num(p.value);
      v.max = num(p.max);
      v.percent = Math.max(0, Math.min(100, Math.round((100 * v.value) / v.max)));
    }
  }
  for (const e of run.node_errors ?? [])
    v.errors.push({
      nodeId: String(e.node_id ?? ""),
      title: name(e.node_id, e.title),
      input: String(e.input_name ?? ""),
      message: [e.message, e.details].filter(Boolean).join(": "),
    });
  const x = run.execution_error;
  if (x && (x.node_id || x.exception_message || x.exception_type))
    v.errors.push({
      nodeId: String(x.node_id ?? ""),
      title: name(x.node_id, x.title),
      input: "",
      message: [x.exception_type, x.exception_message].filter(Boolean).join(": "),
    });
  if (!v.errors.length && (run.prompt_error || (status === "failed" && run.reason)))
    v.errors.push({ nodeId: "", title: "", input: "", message: String(run.prompt_error || run.reason) });
  for (const o of run.outputs ?? []) {
    (o.files ?? []).forEach((f, index) => {
      if (v.outputs.length >= MAX_THUMBS) return;
      if (f.kind && f.kind !== "images") return;
      if (!/\.(png|jpe?g|webp|gif)$/i.test(String(f.filename ?? ""))) return;
      v.outputs.push({ nodeId: String(o.node_id), index, filename: String(f.filename), kind: String(f.kind ?? "images") });
    });
  }
  const start = num(run.started_at_ms);
  const end = num(run.ended_at_ms);
  if (start && end >= start) v.seconds = (end - start) / 1000;
  return v;
}

/** Path of an output on the bridge (the panel reaches it through the
 * package's same-origin proxy: the bridge wants a bearer header). */
export function outputPath(promptId, nodeId, index, maxSide = 0) {
  const q = maxSide ? `?max_side=${maxSide}` : "";
  return `/comfyd/runs/${encodeURIComponent(promptId)}/outputs/${encodeURIComponent(nodeId)}/${index}${q}`;
}
