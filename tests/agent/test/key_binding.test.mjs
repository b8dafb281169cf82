// The stored API key over the session socket (WS /comfy/session/ws): a
// `configure` that only moves base_url to another listener drops the key
// (the `configured` answer says so) and the next turn sends no
// Authorization header there; the key given with the first endpoint was
// used there only. Two scripted model servers record every request.

import assert from "node:assert/strict";
import { after, before, describe } from "node:test";
import { useStack, itWithLogs } from "../../graph/lib/harness.mjs";
import { SessionWs, eventsOf, startFakeLlm } from "../lib.mjs";
import { mkdirSync } from "node:fs";
import path from "node:path";

const KEY = "sk-session-socket-key-42";

describe("API key bound to its endpoint", () => {
  const holder = useStack();
  const it = itWithLogs(holder);
  let good;
  let other;
  before(async () => {
    const a = path.join(holder.stack.root, "good");
    const b = path.join(holder.stack.root, "other");
    mkdirSync(a);
    mkdirSync(b);
    good = await startFakeLlm(a);
    other = await startFakeLlm(b);
  });
  after(() => {
    good?.stop();
    other?.stop();
  });

  it("a configure of base_url alone drops the key and says so; the new host never sees it", async () => {
    const s = await SessionWs.open(holder.stack);
    const created = await s.request("create", {
      title: "key",
      api_key: KEY,
      config: { provider: "openai", model: "text-stream", base_url: good.baseUrl, active_skills: ["prompt-writer"] },
    });
    const sid = created.data.session.id;
    assert.equal(created.data.session.config.api_key_set, true);
    const from0 = s.events.length;
    s.ws.send(JSON.stringify({ event: "join", data: { session_id: sid } }));
    await s.waitFor((e) => e.event === "sync_state", "sync_state", { from: from0 });

    let { from } = await s.send(sid, "first");
    await s.turnEnd(from);
    assert.deepEqual(good.requests().map((r) => r.authorization), [`Bearer ${KEY}`]);

    const conf = await s.request("configure", { session_id: sid, base_url: other.baseUrl });
    assert.equal(conf.event, "configured");
    assert.equal(conf.data.api_key_cleared, true, JSON.stringify(conf.data));
    assert.match(conf.data.notice, /base_url/);
    assert.equal(conf.data.session.config.api_key_set, false);
    await s.waitFor((e) => e.event === "debug_log" && e.data.level === "WARN" && /API key was removed/.test(e.data.message), "warning in the log");

    ({ from } = await s.send(sid, "second"));
    const evs = await s.turnEnd(from);
    assert.equal(eventsOf(evs, "message_added").length >= 2, true);
    const sent = other.requests();
    assert.equal(sent.length, 1);
    assert.ok(!sent[0].authorization, `the old key reached the new host: ${sent[0].authorization}`);
    assert.ok(!holder.stack.core.log().includes(KEY) && !holder.stack.bridge.log().includes(KEY), "the key is never logged");
    s.close();
  });
});
