// Cancel stops a turn within 100 ms and frees everything: once while the
// skill's apply_patch waits for a tab that never answers (the tool's wait
// honours the turn's cancel flag), once while the model streams its reply
// (tests/llm/scripts/agent-cancel.json, agent-cancel-stream.json). The
// latency is measured from sending Cancel on the session socket to the
// "turn cancelled" status arriving on it, so it includes the bridge and
// gRPC round trips. The same scenario then runs with comfyd under
// valgrind: it must exit 0 on SIGTERM with no definite or indirect leaks
// and no memory errors (its timing is reported, not judged: valgrind
// serialises the threads).

import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { after, before, describe } from "node:test";
import { Stack, freePort } from "../../graph/lib/stack.mjs";
import { itWithLogs } from "../../graph/lib/harness.mjs";
import { SessionWs, eventsOf, fixtureWorkflow, repliesOf, sleep, startFakeLlm } from "../lib.mjs";

const CANCEL_BOUND_MS = 100;
// Under valgrind the bound only guards against a hang.
const VALGRIND_GUARD_MS = 5000;

// Starts comfyd (wrapped when wrapper is set) and the bridge (never wrapped:
// Stack reads COMFYD_IT_WRAPPER when it spawns each service).
async function startStack(wrapper) {
  const stack = new Stack({ coreArgs: ["--editor-timeout-ms", "60000"], logLevel: "info" });
  mkdirSync(stack.data, { recursive: true });
  stack.corePort = await freePort();
  stack.port = await freePort();
  const saved = process.env.COMFYD_IT_WRAPPER;
  const set = (v) => {
    if (v === undefined) delete process.env.COMFYD_IT_WRAPPER;
    else process.env.COMFYD_IT_WRAPPER = v;
  };
  try {
    set(wrapper ? wrapper(stack.root) : undefined);
    await stack.startCore();
    set(undefined);
    await stack.startBridge();
  } finally {
    set(saved);
  }
  return stack;
}

// Sends Cancel; resolves with the ms until the turn's "turn cancelled".
async function cancelLatency(s, sid, from) {
  const mark = s.events.length;
  const t0 = performance.now();
  s.ws.send(JSON.stringify({ event: "cancel", request_id: "cancel", data: { session_id: sid } }));
  const done = await s.waitFor(
    (e) => e.event === "status_update" && e.data?.detail === "turn cancelled",
    "turn cancelled",
    { from: mark },
  );
  const ms = done.at - t0;
  const evs = await s.turnEnd(from);
  return { ms, evs };
}

function scenario(name, { wrapper, boundMs }) {
  describe(name, () => {
    const holder = { stack: null };
    const it = itWithLogs(holder);
    let llm;
    const latencies = {};
    before(async () => {
      holder.stack = await startStack(wrapper);
      llm = await startFakeLlm(holder.stack.root);
    });
    after(async () => {
      llm?.stop();
      if (!holder.stack) return;
      const root = holder.stack.root;
      // Keep the folder until valgrind's log is read.
      const keep = process.env.COMFYD_IT_KEEP;
      process.env.COMFYD_IT_KEEP = "1";
      let codes;
      try {
        codes = await holder.stack.stop();
      } finally {
        if (keep === undefined) delete process.env.COMFYD_IT_KEEP;
      }
      const logs = wrapper ? readdirSync(root).filter((f) => f.startsWith("valgrind.")) : [];
      const vg = logs.map((f) => readFileSync(path.join(root, f), "utf8")).join("\n");
      if (keep === undefined) rmSync(root, { recursive: true, force: true });
      for (const [svc, code] of codes) assert.equal(code, 0, `${svc} exit code on SIGTERM:\n${vg.slice(-4000)}`);
      let summary = "";
      if (wrapper) {
        assert.ok(logs.length > 0, "valgrind wrote its log");
        assert.match(vg, /ERROR SUMMARY: 0 errors/, vg.slice(-4000));
        assert.doesNotMatch(vg, /definitely lost: [1-9]|indirectly lost: [1-9]/, vg.slice(-4000));
        summary = `; valgrind: ${/definitely lost: [^\n]*|All heap blocks were freed[^\n]*/.exec(vg)?.[0] ?? ""}`;
      }
      console.log(`${name}: cancel latency ${JSON.stringify(latencies)} ms${summary}`);
    });

    it("cancel while apply_patch waits for a silent tab", async () => {
      const stack = holder.stack;
      const ed = await stack.editor({ canvasId: "tab-cancel", workflow: fixtureWorkflow(), silent: true });
      const s = await SessionWs.open(stack);
      const sid = await s.createSession({ model: "agent-cancel", skills: ["workflow-builder"], baseUrl: llm.baseUrl });
      const { from } = await s.send(sid, "Use 25 steps.");
      const patched = new Promise((resolve) => ed.once("patch", resolve));
      await s.waitFor((e) => e.event === "tool_call" && e.data?.name === "apply_patch", "apply_patch call", { from });
      await patched; // the tool now waits for the tab
      await sleep(150);
      const { ms, evs } = await cancelLatency(s, sid, from);
      latencies.tool_wait = Math.round(ms);
      assert.ok(ms < boundMs, `cancel took ${ms.toFixed(1)} ms (bound ${boundMs})`);
      const reply = repliesOf(evs)["workflow-builder"];
      assert.equal(reply?.state, "cancelled");
      const res = eventsOf(evs, "tool_result", "workflow-builder").at(-1);
      assert.equal(res.data.ok, false);
      assert.equal(JSON.parse(res.data.result_json).code, "CANCELLED");
      // The model was not called again after the cancel.
      assert.equal(llm.requests().filter((r) => r.model === "agent-cancel").length, 2);
      assert.equal(ed.patches.length, 1);
      s.close();
    });

    it("cancel while the model streams", async () => {
      const stack = holder.stack;
      const s = await SessionWs.open(stack);
      const sid = await s.createSession({
        model: "agent-cancel-stream",
        skills: ["graph-doctor"],
        baseUrl: llm.baseUrl,
      });
      const { from } = await s.send(sid, "Check the workflow.");
      await s.waitFor((e) => e.event === "stream_delta" && e.data?.index >= 3, "streaming", { from });
      const { ms, evs } = await cancelLatency(s, sid, from);
      latencies.stream = Math.round(ms);
      assert.ok(ms < boundMs, `cancel took ${ms.toFixed(1)} ms (bound ${boundMs})`);
      const reply = repliesOf(evs)["graph-doctor"];
      assert.equal(reply?.state, "cancelled");
      assert.match(reply.content, /^word word word/);
      assert.ok(reply.content.length < 400 * 5, "the stream was cut");
      s.close();
    });
  });
}

scenario("cancel", { boundMs: CANCEL_BOUND_MS });
scenario("cancel, comfyd under valgrind", {
  wrapper: (root) =>
    `valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=9 --log-file=${root}/valgrind.%p.log`,
  boundMs: VALGRIND_GUARD_MS,
});
