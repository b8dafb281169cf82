// Runs in the agent panel: the store keeps the newest state of each run by
// prompt id, places it at the turn that queued it, and runView says what
// the panel shows (progress, node running, errors, thumbnails).
import { beforeEach, describe, expect, it } from "vitest";
import { FakeSocket, ManualTimers, fakeConnection, flush } from "./fakes.js";
import { applyEvent, createState } from "../../../web/src/panel/session-store.js";
import { MAX_RUNS, applyRun, isNewer, outputPath, promptIdOfResult, runView, runsByTurn, turnOfRun } from "../../../web/src/panel/runs.js";
import { PanelController } from "../../../web/src/panel/controller.js";

const ev = (event, seq, data) => ({ event, seq, data: { session_id: "s1", ...data } });
const runUpdate = (run) => ({ event: "run_update", data: { session_id: "s1", run: { session_id: "s1", ...run } } });
const user = (id, at, content = "go") => ({ id, role: "user", content, state: "done", created_at_ms: at });
const reply = (id, turn, at, skill = "workflow-builder") => ({ id, role: "assistant", skill, turn_id: turn, content: "ok", state: "done", created_at_ms: at });
const sync = (seq, history, status = "idle") =>
  ev("sync_state", seq, { session: { id: "s1", title: "t", status, config: {} }, history, partials: [], status });

const RUNNING = {
  prompt_id: "p-1",
  seq: 5,
  status: "running",
  queued_at_ms: 1500,
  started_at_ms: 1600,
  executing_node: "3",
  progress: [
    { node_id: "2", value: 1, max: 1 },
    { node_id: "3", value: 7, max: 20 },
  ],
  executed_nodes: ["1", "2"],
  cached_nodes: ["4"],
};

describe("run store", () => {
  let s;
  beforeEach(() => {
    s = createState();
    s.sessionId = "s1";
  });

  it("keeps the newest state of a run: an older update arriving late is dropped", () => {
    expect(applyEvent(s, runUpdate({ prompt_id: "p-1", seq: 2, status: "queued" }))).toBe(true);
    expect(applyEvent(s, runUpdate({ ...RUNNING, seq: 9, status: "succeeded", executing_node: "" }))).toBe(true);
    // The running state (seq 5) comes after the final one (seq 9): ignored.
    expect(applyEvent(s, runUpdate(RUNNING))).toBe(false);
    expect(s.runs["p-1"].status).toBe("succeeded");
    expect(s.runs["p-1"].seq).toBe(9);
    // The same state again changes nothing.
    expect(applyEvent(s, runUpdate({ prompt_id: "p-1", seq: 9, status: "succeeded" }))).toBe(false);
  });

  it("without seqs, a final state is never undone by an unfinished one", () => {
    expect(isNewer({ status: "failed" }, { status: "running" })).toBe(false);
    expect(isNewer({ status: "running" }, { status: "failed" })).toBe(true);
    expect(isNewer({ status: "RUN_STATUS_SUCCEEDED" }, { status: "RUN_STATUS_QUEUED" })).toBe(false);
  });

  it("run updates carry no seq: they leave the session's seq alone and survive a sync_state", () => {
    applyEvent(s, sync(10, [user(100, 1000)]));
    applyEvent(s, runUpdate(RUNNING));
    expect(s.lastSeq).toBe(10);
    // A later snapshot (a gap, a rejoin) replaces the history, not the runs.
    applyEvent(s, sync(20, [user(100, 1000), reply(101, 100, 3000)]));
    expect(s.runs["p-1"].status).toBe("running");
    // An event of seq 11 after the snapshot of 20 is still a replay.
    expect(applyEvent(s, ev("debug_log", 11, { message: "old" }))).toBe(false);
  });

  it("ignores runs of another session and malformed runs", () => {
    expect(applyEvent(s, { event: "run_update", data: { session_id: "s2", run: { prompt_id: "x", session_id: "s2", status: "running" } } })).toBe(false);
    expect(applyRun(s, { prompt_id: "y", session_id: "s2", status: "running" })).toBe(false);
    expect(applyRun(s, { status: "running" })).toBe(false);
    expect(applyRun(s, null)).toBe(false);
    expect(Object.keys(s.runs)).toEqual([]);
  });

  it("keeps at most MAX_RUNS runs, dropping the oldest finished ones first", () => {
    applyRun(s, { prompt_id: "live", status: "running", queued_at_ms: 1, seq: 1 });
    for (let i = 0; i < MAX_RUNS + 5; i++) applyRun(s, { prompt_id: `r${i}`, status: "succeeded", queued_at_ms: 10 + i, seq: 1 });
    expect(Object.keys(s.runs).length).toBe(MAX_RUNS);
    expect(s.runs.live).toBeDefined();
    expect(s.runs.r0).toBeUndefined();
    expect(s.runs[`r${MAX_RUNS + 4}`]).toBeDefined();
  });
});

describe("the turn a run belongs to", () => {
  let s;
  beforeEach(() => {
    s = createState();
    s.sessionId = "s1";
  });

  it("is the turn whose tool call answered with the run's prompt id", () => {
    applyEvent(s, sync(1, [user(100, 1000), reply(101, 100, 2000), user(200, 3000)]));
    applyEvent(s, ev("tool_result", 2, { turn_id: 100, skill: "graph-doctor", call_id: "c1", ok: true, result_json: JSON.stringify({ prompt_id: "p-9", run: { prompt_id: "p-9" } }) }));
    // Times would say turn 200: the tool result knows better.
    applyEvent(s, runUpdate({ prompt_id: "p-9", seq: 1, status: "queued", queued_at_ms: 3500 }));
    expect(turnOfRun(s, s.runs["p-9"])).toBe(100);
  });

  it("is the turn working when the run first shows up live", () => {
    applyEvent(s, sync(1, [user(100, 1000), reply(101, 100, 2000), user(200, 3000)]));
    applyEvent(s, ev("status_update", 2, { status: "working", turn_id: 200 }));
    applyEvent(s, runUpdate({ prompt_id: "p-2", seq: 1, status: "queued", queued_at_ms: 0 }));
    expect(s.runTurns["p-2"]).toBe(200);
    applyEvent(s, ev("status_update", 3, { status: "idle" }));
    expect(s.workingTurn).toBe(0);
    expect(turnOfRun(s, s.runs["p-2"])).toBe(200);
  });

  it("after a reload, comes from the times: the turn being answered when it was queued", () => {
    // Turn 200 was written while turn 100 was still being answered (it
    // waited in the queue); turn 100's run was queued after that.
    applyEvent(s, sync(1, [user(100, 1000), user(200, 1200), reply(101, 100, 2000), reply(201, 200, 4000)]));
    applyRun(s, { prompt_id: "a", seq: 3, status: "succeeded", queued_at_ms: 1500 });
    applyRun(s, { prompt_id: "b", seq: 3, status: "failed", queued_at_ms: 2500 });
    applyRun(s, { prompt_id: "c", seq: 3, status: "running", queued_at_ms: 9000 });
    expect(turnOfRun(s, s.runs.a)).toBe(100);
    expect(turnOfRun(s, s.runs.b)).toBe(200);
    // After every turn is answered: the last turn.
    expect(turnOfRun(s, s.runs.c)).toBe(200);
    const groups = runsByTurn(s);
    expect(groups[100].map((r) => r.prompt_id)).toEqual(["a"]);
    expect(groups[200].map((r) => r.prompt_id)).toEqual(["b", "c"]);
  });

  it("a turn still being answered takes the runs queued after it started", () => {
    applyEvent(s, sync(1, [user(100, 1000), reply(101, 100, 2000), user(200, 3000)]));
    applyRun(s, { prompt_id: "x", seq: 1, status: "running", queued_at_ms: 3100 });
    expect(turnOfRun(s, s.runs.x)).toBe(200);
  });

  it("with no turn yet, the run waits at 0 (shown below the conversation)", () => {
    applyRun(s, { prompt_id: "x", seq: 1, status: "queued", queued_at_ms: 5 });
    expect(runsByTurn(s)[0].map((r) => r.prompt_id)).toEqual(["x"]);
  });

  it("reads the prompt id of every tool answer that names a run", () => {
    expect(promptIdOfResult('{"prompt_id":"a","run":{"prompt_id":"b"}}')).toBe("b");
    expect(promptIdOfResult('{"prompt_id":"a"}')).toBe("a");
    expect(promptIdOfResult('{"prompt_ids":["a","c"]}')).toBe("c");
    expect(promptIdOfResult("not json")).toBe("");
    expect(promptIdOfResult('{"error":{"code":"X"}}')).toBe("");
  });
});

describe("what the panel shows of a run", () => {
  const titles = { 3: "KSampler (main)", 9: "Save" };
  const titleOf = (id) => titles[id] ?? "";

  it("running: the node's title, its progress and the nodes done", () => {
    const v = runView(RUNNING, titleOf);
    expect(v.status).toBe("running");
    expect(v.final).toBe(false);
    expect(v.node).toEqual({ id: "3", title: "KSampler (main)" });
    expect([v.value, v.max, v.percent]).toEqual([7, 20, 35]);
    expect(v.done).toBe(3);
  });

  it("queued: its place in the queue, no node", () => {
    const v = runView({ prompt_id: "p", status: "RUN_STATUS_QUEUED", queue_position: 2 });
    expect(v.status).toBe("queued");
    expect(v.queuePosition).toBe(2);
    expect(v.node).toBe(null);
    expect(v.percent).toBe(null);
  });

  it("failed validation: each node error with its title, input and message", () => {
    const v = runView(
      {
        prompt_id: "p",
        status: "failed",
        reason: "ComfyUI refused the prompt",
        prompt_error: "Prompt outputs failed validation",
        node_errors: [
          { node_id: "4", node_type: "CheckpointLoaderSimple", title: "Load Checkpoint", input_name: "ckpt_name", type: "value_not_in_list", message: "Value not in list", details: "ckpt_name: 'x.safetensors' not in []" },
          { node_id: "9", node_type: "SaveImage", title: "", message: "Required input is missing", details: "images" },
        ],
        ended_at_ms: 2000,
        started_at_ms: 500,
      },
      titleOf,
    );
    expect(v.final).toBe(true);
    expect(v.errors).toEqual([
      { nodeId: "4", title: "Load Checkpoint", input: "ckpt_name", message: "Value not in list: ckpt_name: 'x.safetensors' not in []" },
      { nodeId: "9", title: "Save", input: "", message: "Required input is missing: images" },
    ]);
    expect(v.seconds).toBe(1.5);
  });

  it("failed execution: the exception at its node; a failure without a node says why", () => {
    const v = runView({ prompt_id: "p", status: "failed", execution_error: { node_id: "7", node_type: "VAEDecode", title: "", exception_type: "RuntimeError", exception_message: "out of memory" } });
    expect(v.errors).toEqual([{ nodeId: "7", title: "#7", input: "", message: "RuntimeError: out of memory" }]);
    const u = runView({ prompt_id: "p", status: "failed", reason: "lost contact with ComfyUI" });
    expect(u.errors).toEqual([{ nodeId: "", title: "", input: "", message: "lost contact with ComfyUI" }]);
  });

  it("succeeded: the image outputs, addressed by node and index, thumbnails scaled to 256", () => {
    const v = runView({
      prompt_id: "p/1",
      status: "succeeded",
      executing_node: "9",
      outputs: [
        { node_id: "9", files: [
          { kind: "images", filename: "ComfyUI_00001_.png", subfolder: "", type: "output" },
          { kind: "images", filename: "ComfyUI_00002_.png", subfolder: "", type: "output" },
        ] },
        { node_id: "12", files: [{ kind: "gifs", filename: "a.mp4", type: "output" }] },
        { node_id: "13", files: [{ kind: "images", filename: "latent.latent", type: "output" }] },
      ],
    });
    expect(v.node).toBe(null); // over: no node running
    expect(v.outputs).toEqual([
      { nodeId: "9", index: 0, filename: "ComfyUI_00001_.png", kind: "images" },
      { nodeId: "9", index: 1, filename: "ComfyUI_00002_.png", kind: "images" },
    ]);
    expect(outputPath("p/1", "9", 1, 256)).toBe("/comfyd/runs/p%2F1/outputs/9/1?max_side=256");
    expect(outputPath("p", "9", 0)).toBe("/comfyd/runs/p/outputs/9/0");
  });
});

describe("the panel controller and runs", () => {
  function make(extra = {}) {
    FakeSocket.reset();
    const gets = [];
    const ctl = new PanelController({
      connection: fakeConnection("tok"),
      WebSocket: FakeSocket,
      timers: new ManualTimers(),
      readConfig: () => ({ session_id: "s1", provider: "echo", model: "", base_url: "", system_prompt: "", skills: "" }),
      writeConfig: () => {},
      getJson: async (path) => {
        gets.push(path);
        return extra.list ? extra.list() : { runs: [] };
      },
      ...extra,
    });
    return { ctl, gets };
  }

  it("lists the session's runs after each join; a stale list never overwrites a newer update", async () => {
    let listed = [{ prompt_id: "p-1", session_id: "s1", seq: 3, status: "running", queued_at_ms: 10 }];
    const timers = new ManualTimers();
    const { ctl, gets } = make({ list: () => ({ runs: listed }), timers });
    ctl.start();
    await flush();
    const sock = FakeSocket.last();
    sock.open();
    await flush();
    expect(gets).toEqual(["/comfyd/runs?session_id=s1&page_size=100"]);
    expect(ctl.state.runs["p-1"].status).toBe("running");
    // A live update that is newer than what the next list will say.
    sock.receive(runUpdate({ prompt_id: "p-1", seq: 8, status: "succeeded" }));
    listed = [{ prompt_id: "p-1", session_id: "s1", seq: 4, status: "running" }];
    sock.drop(1012);
    await flush();
    timers.advance(20000);
    await flush();
    FakeSocket.last().open();
    await flush();
    expect(gets.length).toBe(2);
    expect(ctl.state.runs["p-1"].status).toBe("succeeded");
    ctl.stop();
  });

  it("selects and centres the failing node; says so when the node is gone; guards missing canvas APIs", () => {
    const node = { id: 4, title: "Load Checkpoint" };
    const calls = [];
    const graph = { getNodeById: (id) => (id === 4 ? node : null) };
    const canvas = { selectNode: (n, add) => calls.push(["select", n, add]), centerOnNode: (n) => calls.push(["center", n]), setDirty: () => calls.push(["dirty"]) };
    const { ctl } = make({ app: { rootGraph: graph, canvas } });
    expect(ctl.titleOf("4")).toBe("Load Checkpoint");
    expect(ctl.focusNode("4")).toBe(true);
    expect(calls).toEqual([["select", node, false], ["center", node], ["dirty"]]);
    // A node inside a subgraph ("4:2"): the subgraph node on the canvas.
    calls.length = 0;
    expect(ctl.focusNode("4:2")).toBe(true);
    expect(calls[0]).toEqual(["select", node, false]);
    expect(ctl.focusNode("77")).toBe(false);
    expect(ctl.ui.notice).toMatch(/node 77 is not on this canvas/);
    // A canvas without selectNode/centerOnNode: nothing throws.
    const bare = make({ app: { graph, canvas: {} } }).ctl;
    expect(bare.focusNode("4")).toBe(true);
    expect(make({ app: null }).ctl.focusNode("4")).toBe(false);
  });

  it("shows an output full size and closes it", () => {
    const { ctl } = make({ apiUrl: (p) => `/api${p}` });
    expect(ctl.url("/comfyd/runs/p/outputs/9/0")).toBe("/api/comfyd/runs/p/outputs/9/0");
    ctl.showImage(ctl.url("/comfyd/runs/p/outputs/9/0"));
    expect(ctl.ui.image).toBe("/api/comfyd/runs/p/outputs/9/0");
    ctl.showImage("");
    expect(ctl.ui.image).toBe("");
  });
});
