// Seed 000's session protocol as written, over the real session WebSocket
// (real comfyd and comfyd-bridge). Each client here uses only what the seed's
// text says: the handshake {"event": "join", "data": {"session_id":
// "UUID-v4-String", "client_version": "1.0.0"}} with an id the client made
// up, answered by sync_state; configure / config_update; skill_execute with
// prompt (and no session_id, as the seed's test sends it) answered by a
// stream; and the event table's spellings connect and stream_token.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe } from "node:test";
import { useStack, itWithLogs } from "../lib/harness.mjs";
import { openWs } from "../lib/clients.mjs";

// Hang guard for one awaited event, not a performance limit.
const GUARD_MS = 20000;

// A seed-only client: sends {event, data}, collects everything received.
async function seedClient(stack) {
  const ws = await openWs(stack, "/comfy/session/ws");
  const received = [];
  const waiters = [];
  ws.on("message", (d) => {
    const m = JSON.parse(d.toString());
    received.push(m);
    for (const w of [...waiters]) {
      if (w.pred(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        clearTimeout(w.t);
        w.resolve(m);
      }
    }
  });
  return {
    ws,
    received,
    emit: (event, data) => ws.send(JSON.stringify(data === undefined ? { event } : { event, data })),
    next: (pred, what) => {
      const seen = received.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        w.t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no ${what}; received: ${JSON.stringify(received).slice(0, 1500)}`));
        }, GUARD_MS);
        waiters.push(w);
      });
    },
    close: () => ws.close(),
  };
}

const ev = (name) => (m) => m.event === name;

describe("seed 000's session handshake as written", () => {
  const h = useStack();
  const it = itWithLogs(h);

  it("join with a made-up UUID v4 creates that session: sync_state, configure, skill_execute streams", async () => {
    const c = await seedClient(h.stack);
    const sid = randomUUID();
    c.emit("join", { session_id: sid, client_version: "1.0.0" });
    const sync = await c.next(ev("sync_state"), "sync_state after join");
    assert.equal(sync.data.session_id, sid);
    assert.equal(sync.data.status, "idle");
    assert.deepEqual(sync.data.history ?? [], []);
    assert.equal(sync.data.session.id, sid);
    assert.equal(c.received.filter(ev("error")).length, 0, JSON.stringify(c.received));

    c.emit("configure", {
      session_id: sid,
      api_key: "sk-test",
      active_skills: ["prompt-writer"],
      system_prompt: "You are a coding assistant...",
    });
    const conf = await c.next(ev("configured"), "configured");
    assert.deepEqual(conf.data.session.config.active_skills, ["prompt-writer"]);
    assert.equal(conf.data.session.config.api_key_set, true);

    // The seed's test: skill_execute with a prompt and no session_id.
    c.emit("skill_execute", { prompt: "Hello" });
    const ack = await c.next(ev("ack"), "ack of skill_execute");
    assert.equal(ack.data.message.content, "Hello");
    const first = await c.next((m) => m.event === "stream_delta" && m.data.session_id === sid, "stream_delta");
    assert.equal(first.data.skill, "prompt-writer");
    await c.next((m) => m.event === "status_update" && m.data.status === "idle" && m.seq > first.seq, "idle");
    const text = c.received
      .filter(ev("stream_delta"))
      .map((m) => m.data.delta)
      .join("");
    assert.ok(text.length > 0);

    // A second panel (or a reload) joins the same id: the same session, its
    // history, not a new one.
    const c2 = await seedClient(h.stack);
    c2.emit("join", { session_id: sid, client_version: "1.0.0" });
    const sync2 = await c2.next(ev("sync_state"), "sync_state of the existing session");
    assert.equal(sync2.data.session_id, sid);
    assert.ok(sync2.data.history.some((m) => m.role === "user" && m.content === "Hello"), JSON.stringify(sync2.data.history));
    c2.close();
    c.close();
  });

  it("the event table's spellings: connect, config_update, and stream_token back", async () => {
    const c = await seedClient(h.stack);
    const sid = randomUUID();
    // UUIDs are case-insensitive: comfyd's ids are lower-case.
    c.emit("connect", { session_id: sid.toUpperCase() });
    const sync = await c.next(ev("sync_state"), "sync_state after connect");
    assert.equal(sync.data.session_id, sid);
    c.emit("config_update", { session_id: sid, api_key: "sk-other" });
    const conf = await c.next(ev("configured"), "configured after config_update");
    assert.equal(conf.data.session.config.api_key_set, true);
    c.emit("update_skills", { skills: ["prompt-writer"] });
    await c.next((m) => m.event === "configured" && m !== conf, "configured after update_skills");
    c.emit("skill_execute", { prompt: "Hello", skill_id: "prompt-writer" });
    const tok = await c.next(ev("stream_token"), "stream_token");
    assert.equal(tok.data.session_id, sid);
    assert.equal(typeof tok.data.token, "string");
    assert.equal(tok.data.token, tok.data.delta);
    assert.equal(tok.data.skill, "prompt-writer");
    await c.next((m) => m.event === "status_update" && m.data.status === "idle" && m.seq > tok.seq, "idle");
    assert.equal(c.received.filter(ev("stream_delta")).length, 0, "a connect socket gets stream_token only");
    c.close();
  });

  it("the seed's own test: connect, then skill_execute at once, gets stream_token", async () => {
    // socket_client.emit('connect', {'session_id': ...}); socket_client.emit('skill_execute',
    // {'prompt': 'Hello'}): nothing waited for in between, the session is new.
    const c = await seedClient(h.stack);
    const sid = randomUUID();
    c.emit("connect", { session_id: sid });
    c.emit("skill_execute", { prompt: "Hello", skill_id: "prompt-writer" });
    const ack = await c.next((m) => m.event === "ack" || m.event === "error", "ack of skill_execute");
    assert.equal(ack.event, "ack", JSON.stringify(ack));
    const tok = await c.next(ev("stream_token"), "stream_token");
    assert.equal(tok.data.session_id, sid);
    assert.equal(c.received.filter(ev("sync_state")).length, 1);
    assert.ok(c.received.indexOf(c.received.find(ev("sync_state"))) < c.received.indexOf(tok));
    c.close();
  });

  it("a panel that rejoins with its last seq and sends at once is answered (nothing to wait for)", async () => {
    const c = await seedClient(h.stack);
    const sid = randomUUID();
    c.emit("join", { session_id: sid });
    await c.next(ev("sync_state"), "sync_state");
    c.emit("user_message", { content: "first" });
    // No skill is active, so the turn ends with the core's "no active skills"
    // reply and status `error`; what matters here is that the turn is over.
    const over = (m) => m.event === "status_update" && ["idle", "error"].includes(m.data.status);
    await c.next((m) => over(m) && c.received.some(ev("ack")), "the turn's end");
    const last = Math.max(...c.received.filter((m) => m.seq !== undefined).map((m) => m.seq));
    c.close();
    // The reload: join with the last seq (no event is due), then send.
    const r = await seedClient(h.stack);
    r.emit("join", { session_id: sid, last_seq: last });
    r.emit("user_message", { content: "second" });
    const ack = await r.next((m) => m.event === "ack" || m.event === "error", "ack after a rejoin");
    assert.equal(ack.event, "ack", JSON.stringify(ack));
    await r.next((m) => m.event === "message_added" && m.data.message?.content === "second", "the new message");
    assert.equal(r.received.filter(ev("sync_state")).length, 0, "no snapshot: nothing was missed");
    r.close();
  });

  it("two panels join the same new id at once: one session, both follow it", async () => {
    const sid = randomUUID();
    const a = await seedClient(h.stack);
    const b = await seedClient(h.stack);
    a.emit("join", { session_id: sid });
    b.emit("join", { session_id: sid });
    await a.next(ev("sync_state"), "a: sync_state");
    await b.next(ev("sync_state"), "b: sync_state");
    a.emit("user_message", { session_id: sid, content: "one" });
    await b.next((m) => m.event === "message_added" && m.data.message?.content === "one", "b sees a's message");
    // The turn ends at once with the core's "no active skills" notice (no
    // skill is active here), to both; no other error from the joins or the
    // message.
    const over = (m) => m.event === "status_update" && ["idle", "error"].includes(m.data.status);
    await a.next(over, "a: the turn's end");
    await b.next(over, "b: the turn's end");
    const errors = [...a.received, ...b.received].filter((m) => m.event === "error" && m.data?.code !== "no_active_skills");
    assert.deepEqual(errors, []);
    a.close();
    b.close();
  });

  it("bad ids and requests without a session are refused clearly; the socket stays usable", async () => {
    const c = await seedClient(h.stack);
    c.ws.send(JSON.stringify({ event: "join", request_id: "j1", data: { session_id: "test_sess_001" } }));
    const e1 = await c.next((m) => m.event === "error" && m.request_id === "j1", "error for a non-UUID id");
    assert.equal(e1.data.code, "INVALID_ARGUMENT");
    assert.match(e1.data.message, /session_id: 'test_sess_001' is not a session id: use a UUID/);
    c.ws.send(JSON.stringify({ event: "connect", request_id: "j2", data: { session_id: "x".repeat(5000) } }));
    const e2 = await c.next((m) => m.event === "error" && m.request_id === "j2", "error for a long id");
    assert.ok(e2.data.message.length < 400, e2.data.message);
    c.ws.send(JSON.stringify({ event: "skill_execute", request_id: "s1", data: { prompt: "Hello" } }));
    const e3 = await c.next((m) => m.event === "error" && m.request_id === "s1", "error without a session");
    assert.equal(e3.data.code, "INVALID_ARGUMENT");
    assert.match(e3.data.message, /join it first/);
    // Still usable: a good join works.
    const sid = randomUUID();
    c.emit("join", { session_id: sid });
    const sync = await c.next(ev("sync_state"), "sync_state after the errors");
    assert.equal(sync.data.session_id, sid);
    c.close();
  });
});
