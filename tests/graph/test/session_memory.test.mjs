// Session memory over the bridge (real comfyd and comfyd-bridge): search and
// compact on the session WebSocket, GET /comfy/sessions/search with clear
// 400s for malformed queries, export as Markdown and JSON, compact over HTTP.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe } from "node:test";
import { useStack, itWithLogs } from "../lib/harness.mjs";
import { openWs, get, post } from "../lib/clients.mjs";

const GUARD_MS = 20000;

async function client(stack) {
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
    received,
    emit: (event, data) => ws.send(JSON.stringify({ event, data })),
    next: (pred, what) =>
      new Promise((resolve, reject) => {
        const w = { pred, resolve };
        w.t = setTimeout(() => reject(new Error(`no ${what}; got ${JSON.stringify(received).slice(-1500)}`)), GUARD_MS);
        waiters.push(w);
      }),
    close: () => ws.close(),
  };
}

describe("session memory over the bridge", () => {
  const h = useStack();
  const it = itWithLogs(h);

  it("search and compact on the socket, search, export and compact over HTTP", async () => {
    const c = await client(h.stack);
    const sid = randomUUID();
    c.emit("join", { session_id: sid });
    await c.next((m) => m.event === "sync_state", "sync_state");
    c.emit("configure", { session_id: sid, active_skills: ["prompt-writer"] });
    await c.next((m) => m.event === "configured", "configured");
    for (const text of ["a kingfisher diving into a pond", "now make it a rainy evening"]) {
      // Both waiters before the message: an echo turn can finish before a
      // waiter registered after the ack would see its idle status.
      const ack = c.next((m) => m.event === "ack", "ack");
      const idle = c.next(
        (m) => m.event === "status_update" && m.data.status === "idle" && m.data.detail === "turn finished",
        "idle");
      c.emit("user_message", { session_id: sid, content: text });
      await ack;
      await idle;
    }

    // Search on the socket: every session unless one is named.
    const res = c.next((m) => m.event === "search_results" || m.event === "error", "search_results");
    c.emit("search", { query: "kingfisher", request_id: "s1" });
    const sr = await res;
    assert.equal(sr.event, "search_results", JSON.stringify(sr));
    assert.ok(sr.data.hits.some((x) => x.session_id === sid && x.kind === "message" && /\[kingfisher\]/.test(x.snippet)), JSON.stringify(sr));
    const bad = c.next((m) => m.event === "error", "error for a malformed query");
    c.emit("search", { query: "OR kingfisher" });
    const be = await bad;
    assert.equal(be.data.code, "INVALID_ARGUMENT", JSON.stringify(be));
    assert.doesNotMatch(be.data.message, /sql|fts5/i);

    // Compact on the socket: the summary arrives as a message too.
    const added = c.next((m) => m.event === "message_added" && m.data.message.kind === "summary", "summary message_added");
    const done = c.next((m) => m.event === "compacted" || m.event === "error", "compacted");
    c.emit("compact", {});
    const cp = await done;
    assert.equal(cp.event, "compacted", JSON.stringify(cp));
    assert.equal(cp.data.compacted, true);
    assert.equal(cp.data.messages_compacted, 2);
    const sm = await added;
    assert.ok(sm.data.message.covers_to > 0);
    assert.match(sm.data.message.content, /kingfisher/);

    // HTTP search.
    const q = await get(h.stack, "/comfy/sessions/search?q=" + encodeURIComponent("rainy evening"));
    assert.equal(q.status, 200, q.text);
    assert.ok(q.json.hits.some((x) => x.session_id === sid), q.text);
    for (const badq of ['"open', "-only", "", "%ff"]) {
      const r = await get(h.stack, "/comfy/sessions/search?q=" + (badq === "%ff" ? badq : encodeURIComponent(badq)));
      assert.equal(r.status, 400, `${badq}: ${r.text}`);
      assert.doesNotMatch(r.text, /sql|fts5|syntax error/i);
    }
    assert.equal((await get(h.stack, "/comfy/sessions/search")).status, 400);

    // Export.
    const md = await get(h.stack, `/comfy/sessions/${sid}/export?format=md`);
    assert.equal(md.status, 200, md.text);
    assert.match(md.headers["content-type"], /^text\/markdown/);
    assert.match(md.headers["content-disposition"], /attachment; filename="session-.*\.md"/);
    assert.match(md.text, /^# a kingfisher diving into a pond/);
    assert.match(md.text, /\*\*Summary\*\*/);
    const js = await get(h.stack, `/comfy/sessions/${sid}/export?format=json`);
    assert.equal(js.status, 200);
    assert.equal(js.json.id, sid);
    assert.ok(js.json.messages.some((m) => m.kind === "summary"));
    assert.equal((await get(h.stack, `/comfy/sessions/${sid}/export?format=pdf`)).status, 400);
    assert.equal((await get(h.stack, `/comfy/sessions/${randomUUID()}/export`)).status, 404);

    // Compact over HTTP: only the newest turn is left, nothing to do.
    const again = await post(h.stack, `/comfy/sessions/${sid}/compact`, {});
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.compacted ?? false, false);
    c.close();
  });
});
