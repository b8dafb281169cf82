// The panel's WebSocket to the bridge's WS /comfy/session/ws: requests
// answered by request_id, and the joined session's event stream fed into
// the session store. After a reconnect it joins again with the last seq it
// has, so the core replays exactly the missed events (or sends a fresh
// sync_state when they are gone).

import { backoffDelay, wsProtocols, wsUrl } from "../connection.js";
import { applyEvent, resetState } from "./session-store.js";

/** How long a request waits for its answer. */
export const REQUEST_TIMEOUT_MS = 15000;

export class SessionClient {
  /**
   * deps: {connection, WebSocket, timers?, log?, state (session store),
   *        onOpen?(), onClose?(), onChange?()}
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
    this.drop(new Error("panel closed"));
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
      this.d.onOpen?.();
    };
    s.onmessage = (ev) => this.onMessage(ev.data);
    s.onerror = () => {};
    s.onclose = (ev) => {
      if (this.socket !== s) return;
      this.socket = null;
      this.open = false;
      this.drop(new Error("connection lost"));
      this.d.onClose?.();
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
        reject(new Error("not connected to comfyd"));
        return;
      }
      const timer = this.t.setTimeout(() => {
        this.pending.delete(request_id);
        reject(new Error(`${event}: no answer from comfyd`));
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
    this.joinRid = this.nextId++;
    this.send({ event: "join", data: { session_id: sessionId, last_seq: last }, request_id: this.joinRid });
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
      this.state.lastError = { code: String(m.data?.code ?? "join_failed"), message: String(m.data?.message ?? ""), skill: "" };
      this.d.onChange?.();
      return;
    }
    if (rid !== undefined && this.pending.has(rid)) {
      const p = this.pending.get(rid);
      this.pending.delete(rid);
      this.t.clearTimeout(p.timer);
      if (m.event === "error") {
        const err = new Error(m.data?.message ?? "request failed");
        err.code = m.data?.code ?? "error";
        p.reject(err);
      } else {
        p.resolve(m.data ?? {});
      }
      if (m.event !== "configured") return;
    }
    if (applyEvent(this.state, m)) this.d.onChange?.();
    if (this.state.needsResync && this.joined) {
      this.state.needsResync = false;
      this.sendJoin(this.joined, true);
    }
  }
}
