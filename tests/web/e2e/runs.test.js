// Runs in the agent panel, in the stock frontend with the real comfyd and
// comfyd-bridge. The test host is no ComfyUI, so the core follows no run
// here (tests/comfyui runs them in the real ComfyUI): the run states are
// handed to the panel's session client as the bridge's session socket
// would deliver them (`run_update` events, docs/bridge-protocol.md), and
// everything after that is the real code: the store, the view, the canvas
// selection, and the package's proxy routes to the real bridge.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { bridge, env, launch, openComfy, txt2imgCommands, until, waitAttached } from "./helpers.js";

let browser;
let page;
let ids; // refs of the txt2img batch: {ckpt, sampler, save, panel, ...}
let sessionId;

const panel = () => page.locator(".comfyd-panel");
const status = () => panel().locator("[data-test=status]").innerText();

async function send(text) {
  const input = panel().locator("[data-test=input]");
  await input.click();
  await input.fill(text);
  await input.press("Enter");
}

/** Hands a run_update to the panel's session client (its socket's path). */
const deliver = (run) =>
  page.evaluate(
    ([id, sid, r]) => {
      const ctl = window.comfyAPI.app.app.rootGraph.getNodeById(id).__comfydPanel;
      ctl.client.onMessage(JSON.stringify({ event: "run_update", data: { session_id: sid, run: { session_id: sid, origin: "session", queued_by: "graph-doctor", ...r } } }));
    },
    [ids.panel, sessionId, run],
  );

/** The runs shown: per turn, [{prompt, status, node, progress, errors, thumbs}]. */
const shown = () =>
  page.evaluate(() =>
    Array.from(document.querySelectorAll(".comfyd-panel .cd-turn")).map((t) =>
      Array.from(t.querySelectorAll("[data-test=run]")).map((r) => ({
        prompt: r.dataset.prompt,
        status: r.querySelector("[data-test=run-status]").textContent,
        node: r.querySelector("[data-test=run-node]")?.textContent.trim() ?? "",
        progress: r.querySelector("[data-test=run-progress]")?.getAttribute("value") ?? null,
        errors: Array.from(r.querySelectorAll("[data-test=run-error]")).map((e) => e.textContent.trim()),
        thumbs: Array.from(r.querySelectorAll("[data-test=run-thumb]")).map((i) => i.getAttribute("src")),
      })),
    ),
  );

beforeAll(async () => {
  browser = await launch();
  page = await openComfy(browser.context);
  await bridge("POST", "/comfy/graph/batch", { commands: [{ type: "clear_graph" }] });
  const r = await bridge("POST", "/comfy/graph/batch", {
    commands: [...txt2imgCommands(), { type: "create_node", node_type: "ComfydAgentPanel", ref: "panel", x: 1230, y: 540 }],
  });
  expect(r.body.ok, JSON.stringify(r.body)).toBe(true);
  ids = r.body.refs;
  await page.evaluate((id) => {
    const app = window.comfyAPI.app.app;
    app.rootGraph.getNodeById(id).setSize([620, 520]);
    app.canvas.ds.scale = 0.62;
    app.canvas.ds.offset = [40, 30];
    app.canvas.setDirty(true, true);
  }, ids.panel);
  await panel().waitFor();
  await until(async () => (await status()) === "no session", "the panel to connect");
  await panel().locator("[data-test=session]").selectOption("__new__");
  await until(async () => (await status()) === "idle", "a new session");
  sessionId = await page.evaluate((id) => window.comfyAPI.app.app.rootGraph.getNodeById(id).widgets.find((w) => w.name === "session_id").value, ids.panel);
  expect(sessionId).toBeTruthy();
  // Two turns answered by the echo provider.
  for (const [i, text] of ["build it", "fix it"].entries()) {
    await send(text);
    await until(async () => (await page.locator(".comfyd-panel .cd-turn").count()) === i + 1 && (await status()) === "idle" && (await page.locator(".comfyd-panel .cd-turn .cd-reply.cd-done").count()) > i, `turn ${i + 1} answered`);
  }
});

afterAll(async () => {
  await browser?.close();
});

describe("runs in the agent panel", () => {
  it("shows a running run at its turn: progress, the node running by its canvas title, nodes done", async () => {
    // The first turn's tool call named the run: it belongs there.
    const turn1 = await page.evaluate((id) => window.comfyAPI.app.app.rootGraph.getNodeById(id).__comfydPanel.state.turns[0].id, ids.panel);
    await page.evaluate(
      ([id, t]) => {
        const ctl = window.comfyAPI.app.app.rootGraph.getNodeById(id).__comfydPanel;
        ctl.client.onMessage(JSON.stringify({ event: "tool_result", seq: ctl.state.lastSeq + 1, data: { session_id: ctl.state.sessionId, turn_id: t, skill: "graph-doctor", call_id: "c1", ok: true, result_json: JSON.stringify({ prompt_id: "run-a" }) } }));
      },
      [ids.panel, turn1],
    );
    await deliver({ prompt_id: "run-a", seq: 2, status: "queued", queue_position: 1, queued_at_ms: Date.now() });
    await until(async () => (await shown())[0]?.[0]?.node.includes("position 1"), "the queued run at turn 1");
    await deliver({ prompt_id: "run-a", seq: 6, status: "running", executing_node: String(ids.sampler), progress: [{ node_id: String(ids.sampler), value: 7, max: 20 }], executed_nodes: [String(ids.ckpt)], cached_nodes: [String(ids.latent)] });
    // An older state arriving late changes nothing.
    await deliver({ prompt_id: "run-a", seq: 3, status: "queued", queue_position: 1 });
    const runs = await until(async () => {
      const s = await shown();
      return s[0]?.[0]?.status === "running" ? s : null;
    }, "the running run");
    expect(runs[1]).toEqual([]);
    expect(runs[0][0]).toMatchObject({ prompt: "run-a", status: "running", progress: "35" });
    expect(runs[0][0].node).toBe("KSampler · 7/20 · 2 nodes done");
  });

  it("shows a failure with the node, its input and ComfyUI's message; a click selects and centres the node", async () => {
    await deliver({
      prompt_id: "run-a",
      seq: 9,
      status: "failed",
      reason: "ComfyUI refused the prompt",
      prompt_error: "Prompt outputs failed validation",
      node_errors: [{ node_id: String(ids.ckpt), node_type: "CheckpointLoaderSimple", title: "Load Checkpoint", input_name: "ckpt_name", type: "value_not_in_list", message: "Value not in list", details: "ckpt_name: 'sd_xl_base_1.0.safetensors' not in []" }],
    });
    const runs = await until(async () => {
      const s = await shown();
      return s[0]?.[0]?.status === "failed" ? s : null;
    }, "the failed run");
    expect(runs[0][0].progress).toBe(null);
    expect(runs[0][0].errors).toEqual(["Load Checkpoint · ckpt_name: Value not in list: ckpt_name: 'sd_xl_base_1.0.safetensors' not in []"]);
    // The node is off the view's centre and not selected; then a real
    // click on the error.
    const where = (id) =>
      page.evaluate((nid) => {
        const app = window.comfyAPI.app.app;
        const c = app.canvas;
        const n = app.rootGraph.getNodeById(nid);
        const sel = Object.values(c.selected_nodes ?? {}).map((x) => x.id);
        const onScreen = c.ds.convertOffsetToCanvas([n.pos[0] + n.size[0] / 2, n.pos[1] + n.size[1] / 2]);
        return { sel, onScreen, w: c.canvas.width / (window.devicePixelRatio || 1), h: c.canvas.height / (window.devicePixelRatio || 1) };
      }, id);
    await page.evaluate(() => window.comfyAPI.app.app.canvas.deselectAll?.());
    const before = await where(ids.ckpt);
    expect(before.sel).toEqual([]);
    expect(Math.abs(before.onScreen[0] - before.w / 2)).toBeGreaterThan(before.w / 4);
    await panel().locator(`[data-test=run-error-node][data-node="${ids.ckpt}"]`).click();
    const after = await where(ids.ckpt);
    expect(after.sel).toEqual([ids.ckpt]);
    expect(Math.abs(after.onScreen[0] - after.w / 2)).toBeLessThan(after.w / 4);
    expect(Math.abs(after.onScreen[1] - after.h / 2)).toBeLessThan(after.h / 4);
    await page.evaluate(() => {
      const app = window.comfyAPI.app.app;
      app.canvas.ds.scale = 0.62;
      app.canvas.ds.offset = [40, 30];
      app.canvas.setDirty(true, true);
    });
  });

  it("shows the outputs of a run that succeeded as thumbnails through the package's route; a click shows it full size", async () => {
    const seen = [];
    page.on("request", (q) => {
      if (q.url().includes("/comfyd/runs/")) seen.push(q.url());
    });
    await deliver({
      prompt_id: "run-b",
      seq: 12,
      status: "succeeded",
      queued_at_ms: Date.now(),
      started_at_ms: 1000,
      ended_at_ms: 3500,
      executed_nodes: [String(ids.save)],
      outputs: [{ node_id: String(ids.save), files: [{ kind: "images", filename: "ComfyUI_00001_.png", subfolder: "", type: "output" }] }],
    });
    const runs = await until(async () => {
      const s = await shown();
      return s[1]?.[0]?.status === "succeeded" ? s : null;
    }, "the second run, at the last turn (queued while it was the newest)");
    expect(runs[1][0].thumbs).toEqual([`/api/comfyd/runs/run-b/outputs/${ids.save}/0?max_side=256`]);
    // The image request went through the package's route to the real
    // bridge (which knows no such run here), not into the host's 404.
    const res = await page.evaluate(async (src) => {
      const r = await fetch(src);
      return { status: r.status, body: await r.text() };
    }, runs[1][0].thumbs[0]);
    expect(res.body).not.toContain('"not found"');
    expect(res.status).toBeGreaterThanOrEqual(400);
    const unknown = await (await fetch(`${env().origin}/__test__/unknown`)).json();
    expect(unknown.filter((u) => u.includes("comfyd/runs"))).toEqual([]);
    await panel().locator("[data-test=run-thumb]").first().click();
    const overlay = page.locator("[data-test=image-overlay]");
    await overlay.waitFor();
    expect(await overlay.locator("img").getAttribute("src")).toBe(`/api/comfyd/runs/run-b/outputs/${ids.save}/0`);
    await page.screenshot({ path: join(env().artifacts, "panel-runs.png") });
    await page.keyboard.press("Escape");
    await overlay.waitFor({ state: "detached" });
    // A click closes it too.
    await panel().locator("[data-test=run-thumb]").first().click();
    await overlay.waitFor();
    await overlay.click();
    await overlay.waitFor({ state: "detached" });
    expect(seen.some((u) => u.endsWith("max_side=256"))).toBe(true);
  });

  it("after a reload, a run update lands at the turn that was answered when the run was queued", async () => {
    const turns = await page.evaluate((id) => window.comfyAPI.app.app.rootGraph.getNodeById(id).__comfydPanel.state.turns.map((t) => ({ id: t.id, at: t.createdAt, replies: t.order.map((k) => t.replies[k].createdAt) })), ids.panel);
    await page.reload({ waitUntil: "domcontentloaded" });
    await waitAttached(page);
    await panel().waitFor();
    await until(async () => (await status()) === "idle" && (await page.locator(".comfyd-panel .cd-turn").count()) === 2, "the panel to rejoin");
    // Queued while turn 1 was being answered (between its message and its reply).
    const at = Math.round((turns[0].at + Math.max(...turns[0].replies)) / 2);
    expect(at).toBeGreaterThan(turns[0].at);
    await deliver({ prompt_id: "run-c", seq: 40, status: "running", queued_at_ms: at, executing_node: String(ids.decode) });
    await deliver({ prompt_id: "run-c", seq: 39, status: "queued", queued_at_ms: at });
    const runs = await until(async () => {
      const s = await shown();
      return s[0]?.length ? s : null;
    }, "the run after the reload");
    expect(runs[0].map((r) => [r.prompt, r.status])).toEqual([["run-c", "running"]]);
    expect(runs[0][0].node).toBe("VAE Decode");
    expect(runs[1]).toEqual([]);
    expect(page.comfydErrors).toEqual([]);
  });
});
