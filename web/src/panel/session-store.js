// The agent panel's view of one session, built only from the session
// socket's events. Every event carries the session's sequence number: an
// event at or below the last one seen is a duplicate and is dropped, so a
// replay after a reconnect (join with last_seq) never shows a token twice;
// sync_state replaces the whole view, so a snapshot after a gap loses
// nothing. Deltas also carry their index within a reply, which catches a
// delta arriving twice within one stream.
//
// Runs (run_update, no seq) are kept apart by prompt id: see runs.js.
//
// Pure: no I/O. The panel wraps the state in Vue's reactive().

import { applyRun, noteToolResult } from "./runs.js";

/** Debug log lines kept in the panel (older ones are dropped). */
export const MAX_LOG_LINES = 500;
/** Turns kept in the view (the history itself stays in the core). */
export const MAX_TURNS = 200;

/** "idle" for "SESSION_STATUS_IDLE", "user" for "ROLE_USER", ... */
export function shortEnum(v, prefix) {
  if (v === undefined || v === null) return "";
  let s = String(v);
  if (prefix && s.toUpperCase().startsWith(prefix)) s = s.slice(prefix.length);
  return s.toLowerCase();
}

export function createState() {
  return {
    sessionId: "",
    session: null, // Session as the core last described it
    config: null, // SessionConfig (api_key_set, never the key)
    title: "",
    status: "unknown", // idle | working | error | unknown
    statusDetail: "",
    queuedTurns: 0,
    lastSeq: 0,
    turns: [], // [{id, content, state, error, replies: {skill: reply}, order: [skill]}]
    logs: [], // [{seq, level, module, skill, message}]
    lastError: null,
    needsResync: false,
    runs: {}, // prompt_id -> Run, the newest state seen
    runTurns: {}, // prompt_id -> turn id, when known exactly
    workingTurn: 0, // the turn the session works on now (status_update)
    summaries: [], // [{id, coversTo, content}]: compacted turns (docs/sessions.md)
    lastRevert: null, // {to, hidden}: the revert seen last, until undone or the session moves on
  };
}

/** The newest summary, or null: turns up to its coversTo are compacted. */
export function latestSummary(s) {
  let best = null;
  for (const x of s.summaries) if (!best || x.coversTo > best.coversTo) best = x;
  return best;
}

/** Forgets everything about the session (switching to another one). */
export function resetState(s, sessionId = "") {
  Object.assign(s, createState(), { sessionId });
}

function findTurn(s, id) {
  const key = Number(id) || 0;
  for (let i = s.turns.length - 1; i >= 0; i--) if (s.turns[i].id === key) return s.turns[i];
  return null;
}

function ensureTurn(s, id) {
  let t = findTurn(s, id);
  if (t) return t;
  t = { id: Number(id) || 0, content: "", state: "", error: "", replies: {}, order: [] };
  // Keep turns ordered by id (ids increase with time in the core's store).
  let i = s.turns.length;
  while (i > 0 && s.turns[i - 1].id > t.id) i--;
  s.turns.splice(i, 0, t);
  if (s.turns.length > MAX_TURNS) s.turns.splice(0, s.turns.length - MAX_TURNS);
  // The stored object, not t: under Vue's reactive() that is the proxy, so
  // the caller's changes reach the view.
  return findTurn(s, t.id) ?? t;
}

function ensureReply(t, skill) {
  // A reply without a skill is comfyd's own (why nothing ran, say).
  const k = skill || "comfyd";
  if (!t.replies[k]) {
    t.replies[k] = { skill: k, content: "", next: 0, state: "streaming", error: "" };
    t.order.push(k);
  }
  return t.replies[k];
}

function pushLog(s, line) {
  s.logs.push(line);
  if (s.logs.length > MAX_LOG_LINES) s.logs.splice(0, s.logs.length - MAX_LOG_LINES);
}

/** A message's attachments as the view shows them. */
export function attachmentsOf(list) {
  if (!Array.isArray(list)) return [];
  return list
    .filter((a) => a && typeof a === "object" && /^[0-9a-f]{64}$/.test(String(a.sha256 ?? "")))
    .map((a) => ({
      sha256: String(a.sha256),
      name: String(a.name ?? ""),
      mime: String(a.mime_type ?? ""),
      size: Number(a.size) || 0,
      width: Number(a.width) || 0,
      height: Number(a.height) || 0,
    }));
}

function applyMessage(s, m) {
  if (!m || typeof m !== "object") return;
  const role = shortEnum(m.role, "ROLE_");
  const state = shortEnum(m.state, "MESSAGE_STATE_");
  if (shortEnum(m.kind, "MESSAGE_KIND_") === "summary") {
    const id = Number(m.id) || 0;
    if (!s.summaries.some((x) => x.id === id))
      s.summaries.push({ id, coversTo: Number(m.covers_to) || 0, content: String(m.content ?? "") });
    return;
  }
  if (role === "user") {
    const t = ensureTurn(s, m.id);
    t.content = String(m.content ?? "");
    t.attachments = attachmentsOf(m.attachments);
    t.state = state;
    t.error = String(m.error ?? "");
    t.createdAt = Number(m.created_at_ms) || t.createdAt || 0;
    t.pending = false;
  } else if (role === "assistant" || role === "tool") {
    const t = ensureTurn(s, m.turn_id);
    const r = ensureReply(t, m.skill);
    r.id = Number(m.id) || r.id || 0;
    r.content = String(m.content ?? "");
    r.state = state || "done";
    r.error = String(m.error ?? "");
    r.createdAt = Number(m.created_at_ms) || r.createdAt || 0;
    r.final = true;
  }
}

function applySession(s, sess) {
  if (!sess || typeof sess !== "object") return;
  s.session = sess;
  if (sess.id) s.sessionId = sess.id;
  if (sess.config) s.config = sess.config;
  if (typeof sess.title === "string") s.title = sess.title;
  if (sess.status !== undefined) s.status = shortEnum(sess.status, "SESSION_STATUS_") || s.status;
  if (sess.queued_turns !== undefined) s.queuedTurns = Number(sess.queued_turns) || 0;
}

/** Seq of an event: beside "event" or inside data. */
export function seqOf(ev) {
  const v = ev?.seq ?? ev?.data?.seq;
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/**
 * Applies one message of the session socket to the state. Returns true
 * when it changed the view. Answers to requests (created, sessions, skills,
 * ack, configured, cancelled) are handled by the caller, except that
 * "configured" and "created" also refresh the session.
 */
export function applyEvent(s, ev) {
  if (!ev || typeof ev !== "object") return false;
  const name = ev.event;
  const d = ev.data && typeof ev.data === "object" ? ev.data : {};
  const seq = seqOf(ev);
  if (d.session_id && s.sessionId && d.session_id !== s.sessionId && name !== "created") return false;

  if (name === "sync_state") {
    if (seq && seq < s.lastSeq) return false;
    const keepLogs = s.logs;
    // Runs are not part of the session's history: they stay.
    const keepRuns = { runs: s.runs, runTurns: s.runTurns };
    // Messages written here and not acknowledged yet are not in the
    // snapshot: they stay (and go out when the core takes them).
    const keepPending = s.turns.filter((t) => t.pending);
    const id = d.session?.id ?? s.sessionId;
    resetState(s, id);
    s.logs = keepLogs;
    for (const [pid, run] of Object.entries(keepRuns.runs))
      if (!run.session_id || run.session_id === s.sessionId) {
        s.runs[pid] = run;
        if (keepRuns.runTurns[pid]) s.runTurns[pid] = keepRuns.runTurns[pid];
      }
    applySession(s, d.session);
    if (d.status !== undefined) s.status = shortEnum(d.status, "SESSION_STATUS_") || s.status;
    for (const m of Array.isArray(d.history) ? d.history : []) applyMessage(s, m);
    for (const p of Array.isArray(d.partials) ? d.partials : []) {
      const r = ensureReply(ensureTurn(s, p.turn_id), p.skill);
      // A reply already stored complete wins over a partial of the same
      // reply taken a moment earlier.
      if (r.final) continue;
      r.content = String(p.content ?? "");
      r.next = Number(p.delta_count) || 0;
      r.state = "streaming";
    }
    s.lastSeq = seq || s.lastSeq;
    s.needsResync = false;
    s.turns.push(...keepPending);
    return true;
  }

  if (name === "run_update") return applyRun(s, d.run, { workingTurn: s.status === "working" ? s.workingTurn : 0 });

  if (["created", "configured", "sessions", "skills", "ack", "cancelled", "forked", "revert_result", "unrevert_result"].includes(name)) {
    if (name === "configured" && d.session) applySession(s, d.session);
    return false;
  }

  if (seq) {
    if (seq <= s.lastSeq) return false; // a replayed event seen before
    s.lastSeq = seq;
  }

  switch (name) {
    case "status_update": {
      s.status = shortEnum(d.status, "SESSION_STATUS_") || s.status;
      s.statusDetail = String(d.detail ?? "");
      s.queuedTurns = Number(d.queued_turns) || 0;
      s.workingTurn = s.status === "working" ? Number(d.turn_id) || s.workingTurn : 0;
      if (s.status === "idle") {
        // A finished turn: replies still marked streaming are done.
        for (const t of s.turns)
          for (const k of t.order) if (t.replies[k].state === "streaming") t.replies[k].state = "done";
      }
      return true;
    }
    case "stream_delta": {
      const t = ensureTurn(s, d.turn_id);
      const r = ensureReply(t, d.skill);
      const index = Number(d.index);
      if (r.final) return false;
      if (Number.isInteger(index) && index >= 0) {
        if (index < r.next) return false; // seen
        if (index > r.next) {
          // A gap inside one reply: ask for a snapshot rather than show a
          // reply with a hole in it.
          s.needsResync = true;
          return false;
        }
      }
      r.content += String(d.delta ?? "");
      r.next += 1;
      r.state = "streaming";
      return true;
    }
    case "message_added":
      applyMessage(s, d.message);
      // A new message after a revert: the core no longer undoes it.
      if (s.lastRevert && (Number(d.message?.id) || 0) > s.lastRevert.to) s.lastRevert = null;
      return true;
    case "debug_log":
      pushLog(s, {
        seq,
        level: shortEnum(d.level, "LOG_LEVEL_").toUpperCase() || "INFO",
        module: String(d.module ?? ""),
        skill: String(d.skill ?? ""),
        message: String(d.message ?? ""),
      });
      return true;
    case "error": {
      s.lastError = { code: String(d.code ?? ""), message: String(d.message ?? ""), skill: String(d.skill ?? "") };
      if (d.turn_id) {
        const t = ensureTurn(s, d.turn_id);
        if (d.skill) {
          const r = ensureReply(t, d.skill);
          r.error = s.lastError.message;
          if (!r.final) r.state = d.code === "cancelled" ? "cancelled" : "failed";
        }
      }
      pushLog(s, { seq, level: "ERROR", module: "session", skill: s.lastError.skill, message: `${s.lastError.code}: ${s.lastError.message}` });
      return true;
    }
    case "config_updated":
      if (d.config) s.config = d.config;
      if (typeof d.title === "string") s.title = d.title;
      return true;
    case "tool_call":
      pushLog(s, { seq, level: "INFO", module: "tool", skill: String(d.skill ?? ""), message: `${d.name ?? "tool"}(${String(d.arguments_json ?? "").slice(0, 300)})` });
      return true;
    case "tool_result":
      noteToolResult(s, d.turn_id, d.result_json);
      pushLog(s, { seq, level: d.ok ? "INFO" : "WARN", module: "tool", skill: String(d.skill ?? ""), message: `${d.call_id ?? ""} -> ${String(d.result_json ?? "").slice(0, 300)}` });
      return true;
    case "reverted": {
      // RevertSession: the messages after to_message_id are hidden (kept in
      // the core, out of the history); their turns and replies go.
      const to = Number(d.to_message_id) || 0;
      if (!to) return false;
      s.turns = s.turns.filter((t) => t.pending || t.id <= to);
      for (const t of s.turns) {
        for (const k of [...t.order]) {
          if ((t.replies[k].id || 0) > to) {
            delete t.replies[k];
            t.order.splice(t.order.indexOf(k), 1);
          }
        }
      }
      s.summaries = s.summaries.filter((x) => x.id <= to);
      s.lastRevert = { to, hidden: Number(d.messages_hidden) || 0 };
      const restored = Array.isArray(d.restored) ? d.restored.map((r) => r.canvas_id).join(", ") : "";
      pushLog(s, { seq, level: "INFO", module: "session", skill: "", message: `reverted to message ${to}: ${Number(d.messages_hidden) || 0} later message(s) hidden${restored ? `; canvas ${restored} restored` : ""}` });
      return true;
    }
    case "unreverted": {
      // UnrevertSession: the messages a revert hid are visible again.
      const list = Array.isArray(d.messages) ? d.messages : [];
      for (const m of list) applyMessage(s, m);
      const pending = s.turns.filter((t) => t.pending);
      s.turns = s.turns.filter((t) => !t.pending).sort((a, b) => a.id - b.id).concat(pending);
      s.summaries.sort((a, b) => a.id - b.id);
      s.lastRevert = null;
      pushLog(s, { seq, level: "INFO", module: "session", skill: "", message: `revert undone: ${list.length} message(s) back` });
      return true;
    }
    case "graph_changed":
      pushLog(s, { seq, level: "INFO", module: "graph", skill: "", message: `${d.canvas_id ?? ""} r${d.revision ?? ""}: ${d.summary ?? ""}` });
      return true;
    default:
      return false;
  }
}

/** A user message shown at once, before the core acknowledged it. */
export function addPendingTurn(s, clientId, content, attachments = []) {
  const t = { id: Number.MAX_SAFE_INTEGER, clientId, content, attachments: attachmentsOf(attachments), state: "sending", error: "", replies: {}, order: [], pending: true };
  s.turns.push(t);
  return t;
}

/** The core acknowledged the message: the pending turn takes its id. */
export function ackPendingTurn(s, clientId, message) {
  const i = s.turns.findIndex((t) => t.pending && t.clientId === clientId);
  const pending = i >= 0 ? s.turns.splice(i, 1)[0] : null;
  if (!message?.id) return;
  const t = ensureTurn(s, message.id);
  if (!t.content) t.content = String(message.content ?? pending?.content ?? "");
  if (!t.attachments?.length) t.attachments = attachmentsOf(message.attachments ?? pending?.attachments);
  if (!t.state) t.state = shortEnum(message.state, "MESSAGE_STATE_");
}

/** The core is away: the pending turn waits to be sent again. */
export function waitPendingTurn(s, clientId) {
  const t = s.turns.find((x) => x.pending && x.clientId === clientId);
  if (t) {
    t.state = "waiting";
    t.error = "";
  }
}

/** The message was refused: the pending turn shows why. */
export function failPendingTurn(s, clientId, error) {
  const t = s.turns.find((x) => x.pending && x.clientId === clientId);
  if (t) {
    t.state = "failed";
    t.error = String(error ?? "not sent");
  }
}

/** Skill columns of a turn: the active skills first, then any other. */
export function columnsOf(turn, activeSkills = []) {
  const order = [];
  for (const k of activeSkills) if (turn.replies[k]) order.push(k);
  for (const k of turn.order) if (!order.includes(k)) order.push(k);
  return order.map((k) => turn.replies[k]);
}
