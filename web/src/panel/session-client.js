// The panel's WebSocket to the bridge's WS /comfy/session/ws: requests
// answered by request_id, and the joined session's event stream fed into
// the session store. After a reconnect it joins again with the last seq it
// has, so the core replays exactly the missed events (or sends a fresh
// sync_state when they are gone).
//
// The bridge can be up while the core is not (comfyd crashed or restarts):
// a join or a request then fails with UNAVAILABLE. The client reports the
// outage (onOutage), probes the core with backoff through the same socket,
// and when the core answers again it joins once more with the last seq and
// reports the recovery (onRecovered), so the panel's caller can resend what
// it could not deliver.

import { backoffDelay, wsProtocols, wsUrl } from "../connection.js";
import { applyEvent, resetState, seqOf } from "./session-store.js";

/** How long a request waits for its answer. */
export const REQUEST_TIMEOUT_MS = 15000;

/** Join failures that trying again cannot fix (the session is gone, the
 * request is wrong): shown as an error, not retried. Every other failure
 * of a join means the core is away for now. */
const FATAL_JOIN_CODES = new Set(["NOT_FOUND", "INVALID_ARGUMENT", "PERMISSION_DENIED", "UNAUTHENTICATED", "FAILED_PRECONDITION"]);

/** Codes of a request that failed because the core (or the socket) is
 * away, not because of the request: such a request can be sent again. */
const OUTAGE_CODES = new Set(["UNAVAILABLE", "DEADLINE_EXCEEDED", "DISCONNECTED"]);

export function isOutageError(e) {
  return OUTAGE_CODES.has(String(e?.code ?? ""));
}

function requestError(message, code) {
  const e = new Error(message);
  e.code = code;
  return e;
}

export class SessionClient {
  /**
   * deps: {connection, WebSocket, timers?, log?, state (session store),
   *        onOpen?(), onClose?(), onChange?(), onOffline?(reason),
   *        onOutage?(reason), onRecovered?(), onJoin?(sessionId)}
   */
  constructor(deps) {
    this.d = deps;
    this.t = deps.timers ?? globalThis;
    this.log = deps.log ?? (() => {});
    this.state = deps.state;
    this.socket = null;
    this.open = false;
    this.nextId = 1;
    this.pending = new Map(); // request_id -> {resolve, reject, timer}
    this.joined = ""; // the session this socket follows
    this.joinRid = 0;
    this.attempt = 0;
    this.stopped = true;
    this.reconnectTimer = null;
    this.outage = ""; // why the core is away ("" while it answers)
    this.probeTimer = null;
    this.probeAttempt = 0;
    this.joinFailed = false; // the last join was refused for an outage
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    this.t.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.t.clearTimeout(this.probeTimer);
    this.probeTimer = null;
    this.drop(requestError("panel closed", "CLOSED"));
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onopen = s.onmessage = s.onclose = s.onerror = null;
      try {
        s.close(1000, "panel closed");
      } catch {
        /* closed */
      }
    }
  }

  drop(err) {
    for (const [, p] of this.pending) {
      this.t.clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }

  async connect() {
    if (this.stopped) return;
    let conn;
    try {
      conn = await this.d.connection.get();
    } catch (e) {
      this.log("warn", `comfyd: no connection info (${e?.message ?? e})`);
      this.d.onOffline?.(String(e?.message ?? e));
      this.d.connection.invalidate?.();
      return this.retry();
    }
    if (this.stopped) return;
    let s;
    try {
      s = new this.d.WebSocket(wsUrl(conn, "/comfy/session/ws"), wsProtocols(conn));
    } catch {
      return this.retry();
    }
    this.socket = s;
    s.onopen = () => {
      this.open = true;
      this.attempt = 0;
      if (this.joined) this.sendJoin(this.joined);
      // Still away as far as we know: ask at once whether it is back.
      if (this.outage) this.scheduleProbe(0);
      this.d.onOpen?.();
    };
    s.onmessage = (ev) => this.onMessage(ev.data);
    s.onerror = () => {};
    s.onclose = (ev) => {
      if (this.socket !== s) return;
      if (!this.open) this.d.onOffline?.(`comfyd-bridge does not answer at ${conn.bridgeUrl ?? conn.wsBase}`);
      this.socket = null;
      this.open = false;
      this.drop(requestError("connection lost", "DISCONNECTED"));
      this.t.clearTimeout(this.probeTimer);
      this.probeTimer = null;
      this.d.onClose?.(ev?.code);
      if (ev?.code === 1008 || ev?.code === 1006) this.d.connection.invalidate?.();
      this.retry();
    };
  }

  retry() {
    if (this.stopped || this.reconnectTimer) return;
    this.reconnectTimer = this.t.setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, backoffDelay(this.attempt++));
  }

  send(msg) {
    if (!this.socket || !this.open) return false;
    this.socket.send(JSON.stringify(msg));
    return true;
  }

  /** Sends {event, data, request_id}; resolves with the answer's data. */
  request(event, data = {}) {
    const request_id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (!this.send({ event, data, request_id })) {
        reject(requestError("not connected to comfyd", "DISCONNECTED"));
        return;
      }
      const timer = this.t.setTimeout(() => {
        this.pending.delete(request_id);
        const e = requestError(`${event}: no answer from comfyd`, "DEADLINE_EXCEEDED");
        this.coreAway(e.message);
        reject(e);
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(request_id, { resolve, reject, timer });
    });
  }

  /** Follows a session: its events from last_seq on (0: a fresh snapshot). */
  join(sessionId) {
    if (sessionId !== this.state.sessionId) resetState(this.state, sessionId);
    this.joined = sessionId;
    if (sessionId && this.open) this.sendJoin(sessionId);
  }

  sendJoin(sessionId, fresh = false) {
    // join is answered by the stream itself (sync_state or the replay),
    // only a failure comes back with its request_id.
    const last = fresh || this.state.sessionId !== sessionId ? 0 : this.state.lastSeq;
    this.joinFailed = false;
    this.joinRid = this.nextId++;
    this.send({ event: "join", data: { session_id: sessionId, last_seq: last }, request_id: this.joinRid });
    // Run updates are not replayed: what changed while away is read anew
    // (after the join, so no change falls between the list and the stream).
    this.d.onJoin?.(sessionId);
  }

  onMessage(data) {
    let m;
    try {
      m = JSON.parse(data);
    } catch {
      return;
    }
    if (!m || typeof m !== "object") return;
    const rid = m.request_id;
    if (rid !== undefined && rid === this.joinRid && m.event === "error") {
      const code = String(m.data?.code ?? "join_failed");
      const message = String(m.data?.message ?? "");
      if (FATAL_JOIN_CODES.has(code)) {
        this.state.lastError = { code, message, skill: "" };
        this.d.onChange?.();
        return;
      }
      // The session's stream ended or could not start: the core is away
      // (or restarting). Join again, with the last seq, once it answers.
      this.joinFailed = true;
      this.coreAway(message || code);
      return;
    }
    if (rid !== undefined && this.pending.has(rid)) {
      const p = this.pending.get(rid);
      this.pending.delete(rid);
      this.t.clearTimeout(p.timer);
      if (m.event === "error") {
        const err = requestError(m.data?.message ?? "request failed", m.data?.code ?? "error");
        if (isOutageError(err)) this.coreAway(err.message);
        else this.coreBack();
        p.reject(err);
      } else {
        this.coreBack();
        p.resolve(m.data ?? {});
      }
      if (m.event !== "configured") return;
    }
    if (seqOf(m) && m.event !== "error") this.coreBack();
    if (applyEvent(this.state, m)) this.d.onChange?.();
    if (this.state.needsResync && this.joined) {
      this.state.needsResync = false;
      this.sendJoin(this.joined, true);
    }
  }

  /** The core is away: say so once, and probe it with backoff. */
  coreAway(reason) {
    if (this.stopped) return;
    if (!this.outage) {
      this.outage = String(reason || "core unavailable");
      this.probeAttempt = 0;
      this.log("warn", `comfyd: core unavailable (${this.outage}); reconnecting`);
      this.d.onOutage?.(this.outage);
    }
    this.scheduleProbe();
  }

  scheduleProbe(delay) {
    if (this.stopped || this.probeTimer || !this.open) return;
    const ms = delay ?? backoffDelay(this.probeAttempt++);
    this.probeTimer = this.t.setTimeout(() => {
      this.probeTimer = null;
      this.probe();
    }, ms);
  }

  /** One cheap request through the bridge: an answer means the core is
   * back (coreBack runs from onMessage), an outage error schedules the
   * next probe (coreAway). */
  probe() {
    if (this.stopped || !this.outage || !this.open) return;
    this.request("list", { page_size: 1 }).catch(() => {});
  }

  /** The core answered: end the outage, join again from the last seq. */
  coreBack() {
    if (!this.outage) return;
    this.outage = "";
    this.probeAttempt = 0;
    this.t.clearTimeout(this.probeTimer);
    this.probeTimer = null;
    this.log("info", "comfyd: core available again");
    if (this.joined && this.joinFailed && this.open) this.sendJoin(this.joined);
    this.d.onRecovered?.();
  }
}
