// The extension in the real ComfyUI server (started by run.sh): the page
// loads it, the agent panel node is added from the node search and answers
// with its default skill, a session without a skill is told why nothing
// answered, replies render as sanitized Markdown, the panel survives a
// crash of comfyd (kill -9) without a reload, and an outside caller edits
// the real page and queues a real prompt. Sequential: one ComfyUI, one page.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";

const E = {
  url: process.env.COMFYUI_URL,
  comfyPid: Number(process.env.COMFYUI_PID),
  data: process.env.COMFYD_E2E_DATA,
  artifacts: process.env.COMFYD_E2E_ARTIFACTS,
  screenshots: process.env.COMFYD_E2E_SCREENSHOTS === "1",
  docs: process.env.COMFYD_E2E_DOCS,
};
assert.ok(E.url && E.comfyPid && E.data && E.artifacts, "run through tests/comfyui/run.sh");

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let context;
let profile;
let page;
let conn; // {bridge_url, token}
const pageErrors = [];

/** Waits until fn() is truthy (an fn that throws is tried again). */
async function until(fn, what, ms = 20000, every = 100) {
  const end = Date.now() + ms;
  let last;
  let error;
  while (Date.now() < end) {
    try {
      last = await fn();
      error = null;
      if (last) return last;
    } catch (e) {
      error = e;
    }
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Error(`timed out after ${ms} ms: ${what} (${error ? `error: ${error.message}` : `last: ${JSON.stringify(last)?.slice(0, 400)}`})`);
}

async function connection() {
  const r = await fetch(`${E.url}/api/comfyd/connection`);
  const body = await r.json();
  assert.equal(r.status, 200, JSON.stringify(body));
  return body;
}

/** The bridge's HTTP API, as an outside caller: bearer token, no Origin. */
async function bridge(method, path, body) {
  const r = await fetch(`${conn.bridge_url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${conn.token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = { raw: text };
  }
  return { status: r.status, body: json };
}

/** comfyd as the supervisor inside ComfyUI started it (a child of ComfyUI). */
function comfydPid() {
  const out = execFileSync("ps", ["-o", "pid=,comm=", "--ppid", String(E.comfyPid)], { encoding: "utf8" });
  const row = out
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .find(([, comm]) => comm === "comfyd");
  return row ? Number(row[0]) : 0;
}

const panel = () => page.locator(".comfyd-panel");
const status = () => panel().locator("[data-test=status]").innerText();

/** Turns as shown: [{user, state, replies: [{skill, text, error, html}]}]. */
const turns = () =>
  page.evaluate(() =>
    Array.from(document.querySelectorAll(".comfyd-panel .cd-turn")).map((t) => ({
      user: t.querySelector(".cd-user")?.textContent ?? "",
      waiting: !!t.querySelector("[data-test=waiting]"),
      replies: Array.from(t.querySelectorAll(".cd-reply")).map((r) => ({
        skill: r.dataset.skill,
        state: r.className,
        text: r.querySelector(".cd-text")?.textContent ?? "",
        error: r.querySelector(".cd-err")?.textContent ?? "",
      })),
    })),
  );

async function send(text) {
  const input = panel().locator("[data-test=input]");
  await until(() => input.isEnabled(), "the input to be enabled");
  await input.click();
  await input.fill(text);
  await input.press("Enter");
}

/** Waits for turn n (1-based) to have a finished reply that includes text. */
async function replyOf(n, text, ms = 30000) {
  return until(async () => {
    const t = await turns();
    const st = await status();
    const r = t[n - 1]?.replies.find((x) => (x.text + x.error).includes(text) && !x.state.includes("cd-streaming"));
    return r && !st.startsWith("working") ? { turn: t[n - 1], reply: r, status: st } : null;
  }, `turn ${n} to get a reply with ${JSON.stringify(text)}`, ms);
}

async function shot(name, clip) {
  const path = join(E.artifacts, name);
  await page.screenshot({ path, clip });
  return path;
}

/** ComfyUI's own settings (stored by the server for the default user). */
async function setting(id, value) {
  const r = await fetch(`${E.url}/api/settings/${encodeURIComponent(id)}`, { method: "POST", body: JSON.stringify(value) });
  assert.equal(r.status, 200, `setting ${id}`);
}

before(async () => {
  conn = await connection();
  // No model files here: no "missing models" dialog over the page, and no
  // minimap over the panel.
  await setting("Comfy.Workflow.ShowMissingModelsWarning", false);
  await setting("Comfy.Workflow.ShowMissingNodesWarning", false);
  await setting("Comfy.Minimap.Visible", false);
  await setting("Comfy.TutorialCompleted", true);
  profile = mkdtempSync(join(tmpdir(), "comfyd-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  // Errors of this extension (its bundle is served under /extensions/);
  // the frontend's own are not this suite's business.
  page.on("pageerror", (e) => {
    const text = String(e?.stack ?? e);
    if (/\/extensions\/|comfyd/i.test(text)) pageErrors.push(text);
  });
  page.on("console", (m) => {
    if (m.type() === "error" && /comfyd/i.test(m.text())) pageErrors.push(m.text());
  });
});

after(async () => {
  await context?.close().catch(() => {});
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test("ComfyUI serves the extension and the tab attaches its canvas", async () => {
  await page.goto(E.url, { waitUntil: "domcontentloaded" });
  await page.waitForFunction(() => window.comfyAPI?.app?.app?.graph && window.comfyd?.editor?.status === "attached", null, { timeout: 90000, polling: 200 });
  // Start from an empty workflow (the default one has a checkpoint loader
  // this server has no model for).
  const r = await bridge("POST", "/comfy/graph/batch", { commands: [{ type: "clear_graph" }] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await until(() => page.evaluate(() => window.comfyAPI.app.app.graph.nodes.length === 0), "the page to be cleared");
});

test("the panel node is added from the node search at a readable size and answers the first message with the default skill", async () => {
  // As a user does: double-click the empty canvas, search, Enter.
  await page.mouse.dblclick(500, 300);
  const search = page.locator("input[placeholder='Search Nodes...']");
  await search.waitFor({ timeout: 10000 });
  await search.fill("comfyd Agent");
  await until(async () => ((await page.locator(".p-autocomplete-option").first().innerText()) || "").includes("comfyd Agent"), "the node search to offer comfyd Agent first", 10000);
  await search.press("Enter");
  await panel().waitFor({ timeout: 15000 });
  const size = await until(
    () =>
      page.evaluate(() => {
        const n = window.comfyAPI.app.app.graph.nodes.find((x) => x.type === "ComfydAgentPanel");
        return n && n.size[0] >= 420 && n.size[1] >= 520 ? [n.size[0], n.size[1]] : null;
      }),
    "the new panel node to get its default size",
    5000,
  );
  assert.ok(size[0] <= 900 && size[1] <= 900, `size ${size}`);
  const box = await panel().boundingBox();
  assert.ok(box.width >= 300 && box.height >= 380, `panel body ${JSON.stringify(box)}`);

  await until(async () => (await status()) === "no session", "the panel to connect");
  // The workflow builder is ticked without asking.
  assert.equal(await panel().locator("input[data-skill=workflow-builder]").isChecked(), true);
  await send("Build me a txt2img workflow");
  const { reply, status: st } = await replyOf(1, "Build me a txt2img workflow");
  assert.equal(reply.skill, "workflow-builder");
  assert.match(reply.text, /echo provider · skill workflow-builder/);
  assert.equal(st, "idle");
});

test("a message to a session without a skill is answered with why", async () => {
  await panel().locator("input[data-skill=workflow-builder]").uncheck();
  await until(async () => !(await panel().locator("input[data-skill=workflow-builder]").isChecked()), "the skill to be unticked");
  await send("is anyone there?");
  const { reply } = await replyOf(2, "no skill is active");
  assert.equal(reply.skill, "comfyd");
  assert.match(reply.error, /tick a skill \(for example workflow-builder\)/);
  await panel().locator("input[data-skill=workflow-builder]").check();
  await until(async () => (await status()) !== "working", "the panel to settle");
});

test("replies render Markdown, and nothing from a reply runs or loads", async () => {
  const md = [
    "a few **bold** and *soft* words",
    "",
    "- first item",
    "- second item",
    "",
    "```json",
    '{"steps": 20}',
    "```",
    "",
    "see [the docs](https://docs.comfy.org/) or `KSampler`",
    "",
    '<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script>',
    "",
    "[click me](javascript:window.__pwned=3)",
  ].join("\n");
  await send(md);
  await replyOf(3, "second item");
  const view = await page.evaluate(() => {
    const r = [...document.querySelectorAll(".comfyd-panel .cd-turn")].at(-1).querySelector(".cd-reply .cd-text");
    return {
      strong: r.querySelector("strong")?.textContent,
      em: r.querySelector("em")?.textContent,
      items: [...r.querySelectorAll("li")].map((l) => l.textContent),
      code: r.querySelector("pre code")?.textContent,
      links: [...r.querySelectorAll("a")].map((a) => [a.getAttribute("href"), a.getAttribute("rel"), a.getAttribute("target")]),
      img: r.querySelectorAll("img, script, iframe").length,
      handlers: [...r.querySelectorAll("*")].flatMap((e) => [...e.attributes].map((a) => a.name)).filter((n) => n.startsWith("on")),
      text: r.textContent,
      pwned: window.__pwned ?? null,
    };
  });
  assert.equal(view.strong, "bold");
  assert.equal(view.em, "soft");
  assert.deepEqual(view.items, ["first item", "second item"]);
  assert.equal(view.code, '{"steps": 20}\n');
  assert.deepEqual(view.links, [["https://docs.comfy.org/", "noopener noreferrer nofollow", "_blank"]]);
  assert.equal(view.img, 0);
  assert.deepEqual(view.handlers, []);
  assert.match(view.text, /<script>window.__pwned=2<\/script>/); // shown as text
  assert.equal(view.pwned, null);
});

test("after comfyd is killed (-9) the panel shows the outage, recovers, and answers without a reload", async () => {
  const before = comfydPid();
  assert.ok(before > 0, "comfyd runs as a child of ComfyUI");
  // Every status the panel shows from now on.
  await page.evaluate(() => {
    window.__statuses = [];
    const el = document.querySelector(".comfyd-panel [data-test=status]");
    const note = () => window.__statuses.push(el.textContent);
    new MutationObserver(note).observe(el, { childList: true, characterData: true, subtree: true });
  });
  const navigations = [];
  page.on("framenavigated", (f) => f === page.mainFrame() && navigations.push(f.url()));
  process.kill(before, "SIGKILL");
  await until(async () => (await status()).startsWith("core unavailable, reconnecting"), "the panel to show the outage", 20000, 25);
  // A message written while the core is away waits, visibly, and goes out
  // once it is back.
  await send("written during the outage");
  const during = await until(async () => (await turns()).find((t) => t.user.includes("written during the outage")), "the message to be shown");
  console.log(`message written during the outage: ${during.waiting ? "waiting for comfyd" : "sent at once (the core was back)"}`);
  // The supervisor starts comfyd again; the panel rejoins on its own.
  await until(() => comfydPid() > 0 && comfydPid() !== before, "the supervisor to start comfyd again", 30000);
  await until(async () => (await status()) === "idle", "the panel to recover", 45000);
  const seen = await page.evaluate(() => window.__statuses);
  // Never "idle" while the core was away: the first status after the kill
  // is the outage (or "offline" while the bridge closes the socket).
  const firstAway = seen.findIndex((s) => s.startsWith("core unavailable") || s === "offline");
  assert.ok(firstAway >= 0 && !seen.slice(0, firstAway).includes("idle"), seen.join(" > "));
  console.log(`statuses after the kill: ${seen.join(" > ")}`);
  let n = (await turns()).findIndex((t) => t.user.includes("written during the outage")) + 1;
  await replyOf(n, "written during the outage", 30000);
  n = (await turns()).length;
  await send("and after the outage?");
  n += 1;
  const { reply } = await replyOf(n, "and after the outage?", 30000);
  assert.equal(reply.skill, "workflow-builder");
  assert.deepEqual(navigations, [], "no reload");
  // Nothing is shown twice: one turn per message sent.
  const users = (await turns()).map((t) => t.user);
  assert.equal(new Set(users).size, users.length, users.join(" | "));
  // The tab's canvas is attached to the new core too, with the page's graph.
  const id = await page.evaluate(() => window.comfyd.editor.canvasId);
  await until(async () => {
    const g = await bridge("POST", "/comfy/graph/command", { type: "get_graph", canvas_id: id });
    const nodes = await page.evaluate(() => window.comfyAPI.app.app.graph.nodes.length);
    return g.status === 200 && !g.body.graph?.stale && g.body.graph?.nodes?.length === nodes;
  }, "the new core to have the tab's graph", 40000);
});

test("an outside caller edits the real page and queues a real prompt", async () => {
  const r = await bridge("POST", "/comfy/graph/batch", {
    commands: [
      { type: "create_node", node_type: "EmptyImage", ref: "img", x: 40, y: 620, widgets: { width: 64, height: 64, batch_size: 1, color: 16711680 } },
      { type: "create_node", node_type: "ImageInvert", ref: "inv", x: 360, y: 620 },
      { type: "create_node", node_type: "SaveImage", ref: "save", x: 620, y: 620, widgets: { filename_prefix: "comfyd_e2e" } },
      { type: "connect", from_id: "img", from_slot: 0, to_id: "inv", to_slot: "image" },
      { type: "connect", from_id: "inv", from_slot: 0, to_id: "save", to_slot: "images" },
    ],
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.ok, true, JSON.stringify(r.body));
  const ids = r.body.refs;
  const onPage = await until(
    () =>
      page.evaluate((want) => {
        const g = window.comfyAPI.app.app.graph;
        const got = want.map((id) => g.getNodeById(id)?.type);
        return got.every(Boolean) ? got : null;
      }, [ids.img, ids.inv, ids.save]),
    "the created nodes in app.graph",
  );
  assert.deepEqual(onPage, ["EmptyImage", "ImageInvert", "SaveImage"]);
  const q = await bridge("POST", "/comfy/graph/queue", {});
  assert.equal(q.status, 200, JSON.stringify(q.body));
  const promptId = q.body.prompt_id ?? q.body.result?.prompt_id;
  assert.ok(promptId, JSON.stringify(q.body));
  const hist = await until(async () => {
    const h = await (await fetch(`${E.url}/api/history/${promptId}`)).json();
    return h[promptId]?.status?.completed ? h[promptId] : null;
  }, "ComfyUI to run the prompt", 60000, 250);
  const images = Object.values(hist.outputs).flatMap((o) => o.images ?? []);
  assert.ok(images.some((i) => i.filename.startsWith("comfyd_e2e")), JSON.stringify(hist.outputs));
});

test("the panel shows its session's runs: the output thumbnail, and a refused run naming the node a click selects", async () => {
  const sid = await page.evaluate(() => window.comfyAPI.app.app.graph.nodes.find((n) => n.type === "ComfydAgentPanel").widgets.find((w) => w.name === "session_id").value);
  assert.ok(sid, "the panel has a session");
  // The canvas of the previous test (EmptyImage -> ImageInvert -> SaveImage),
  // queued on behalf of the panel's session, as its agent's tools do.
  const q = await bridge("POST", "/comfy/graph/queue", { origin: "RUN_ORIGIN_SESSION", session_id: sid, queued_by: "e2e" });
  assert.equal(q.status, 200, JSON.stringify(q.body));
  const ok = q.body.run?.prompt_id ?? q.body.prompt_id;
  assert.ok(ok, JSON.stringify(q.body));
  const card = (id) => panel().locator(`[data-test=run][data-prompt="${id}"]`);
  await until(async () => (await card(ok).getAttribute("data-status").catch(() => "")) === "succeeded", "the run to show as succeeded", 60000, 200);
  // The thumbnail comes through the package's route from the bridge and decodes.
  const thumb = card(ok).locator("[data-test=run-thumb]").first();
  const size = await until(() => thumb.evaluate((i) => (i.complete && i.naturalWidth ? [i.naturalWidth, i.naturalHeight] : null)), "the thumbnail to load", 20000);
  assert.deepEqual(size, [64, 64]);
  assert.match(await thumb.getAttribute("src"), new RegExp(`/api/comfyd/runs/${ok}/outputs/\\d+/0\\?max_side=256$`));

  // A checkpoint loader without any model, and no other output (ComfyUI
  // runs the valid outputs of a prompt and ignores the others): ComfyUI
  // refuses the prompt.
  const r = await bridge("POST", "/comfy/graph/batch", {
    commands: [
      { type: "clear_graph" },
      { type: "create_node", node_type: "CheckpointLoaderSimple", ref: "ckpt", x: 40, y: 900 },
      { type: "create_node", node_type: "EmptyLatentImage", ref: "latent", x: 40, y: 1100, widgets: { width: 64, height: 64, batch_size: 1 } },
      { type: "create_node", node_type: "VAEDecode", ref: "decode", x: 360, y: 900 },
      { type: "create_node", node_type: "SaveImage", ref: "save", x: 620, y: 900, widgets: { filename_prefix: "comfyd_e2e_fail" } },
      { type: "connect", from_id: "latent", from_slot: 0, to_id: "decode", to_slot: "samples" },
      { type: "connect", from_id: "ckpt", from_slot: 2, to_id: "decode", to_slot: "vae" },
      { type: "connect", from_id: "decode", from_slot: 0, to_id: "save", to_slot: "images" },
    ],
  });
  assert.equal(r.body.ok, true, JSON.stringify(r.body));
  const ckpt = r.body.refs.ckpt;
  const f = await bridge("POST", "/comfy/graph/queue", { origin: "RUN_ORIGIN_SESSION", session_id: sid, queued_by: "e2e" });
  assert.equal(f.status, 200, JSON.stringify(f.body));
  const bad = f.body.run?.prompt_id ?? f.body.prompt_id;
  await until(async () => (await card(bad).getAttribute("data-status").catch(() => "")) === "failed", "the refused run to show as failed", 30000, 200);
  const err = card(bad).locator(`[data-test=run-error-node][data-node="${ckpt}"]`);
  assert.match(await err.innerText(), /Load Checkpoint/);
  await page.evaluate(() => window.comfyAPI.app.app.canvas.deselectAll?.());
  await err.click();
  const sel = await page.evaluate(() => Object.values(window.comfyAPI.app.app.canvas.selected_nodes ?? {}).map((n) => n.id));
  assert.deepEqual(sel, [ckpt]);
  await shot("panel-runs.png");
  assert.deepEqual(pageErrors, []);
});

test("screenshots of the real ComfyUI (docs/images with --screenshots)", async () => {
  // A txt2img workflow by an outside caller, the panel beside it. (With
  // --screenshots, run.sh puts an empty placeholder checkpoint file into the
  // copy so that the loader shows a name; nothing here runs it.)
  const ckpt = E.screenshots ? { ckpt_name: "sd_xl_base_1.0.safetensors" } : undefined;
  await bridge("POST", "/comfy/graph/batch", { commands: [{ type: "clear_graph" }] });
  const r = await bridge("POST", "/comfy/graph/batch", {
    commands: [
      { type: "create_node", node_type: "CheckpointLoaderSimple", ref: "ckpt", x: 20, y: 420, widgets: ckpt },
      { type: "create_node", node_type: "CLIPTextEncode", ref: "pos", x: 420, y: 130, widgets: { text: "a cat asleep on a velvet sofa, soft window light" } },
      { type: "create_node", node_type: "CLIPTextEncode", ref: "neg", x: 420, y: 450, widgets: { text: "text, watermark" } },
      { type: "create_node", node_type: "EmptyLatentImage", ref: "latent", x: 470, y: 760, widgets: { width: 1024, height: 1024, batch_size: 1 } },
      { type: "create_node", node_type: "KSampler", ref: "sampler", x: 900, y: 130, widgets: { seed: 42, control_after_generate: "fixed", steps: 25, cfg: 6.5, sampler_name: "euler", scheduler: "normal", denoise: 1 } },
      { type: "create_node", node_type: "VAEDecode", ref: "decode", x: 1250, y: 130 },
      { type: "create_node", node_type: "SaveImage", ref: "save", x: 1480, y: 130, widgets: { filename_prefix: "cat" } },
      { type: "connect", from_id: "ckpt", from_slot: 0, to_id: "sampler", to_slot: "model" },
      { type: "connect", from_id: "latent", from_slot: 0, to_id: "sampler", to_slot: "latent_image" },
      { type: "connect", from_id: "ckpt", from_slot: 1, to_id: "pos", to_slot: "clip" },
      { type: "connect", from_id: "pos", from_slot: 0, to_id: "sampler", to_slot: "positive" },
      { type: "connect", from_id: "ckpt", from_slot: 1, to_id: "neg", to_slot: "clip" },
      { type: "connect", from_id: "neg", from_slot: 0, to_id: "sampler", to_slot: "negative" },
      { type: "connect", from_id: "sampler", from_slot: 0, to_id: "decode", to_slot: "samples" },
      { type: "connect", from_id: "ckpt", from_slot: 2, to_id: "decode", to_slot: "vae" },
      { type: "connect", from_id: "decode", from_slot: 0, to_id: "save", to_slot: "images" },
    ],
  });
  assert.equal(r.body.ok, true, JSON.stringify(r.body));
  const view = (scale, at) =>
    page.evaluate(
      ([sc, where]) => {
        const app = window.comfyAPI.app.app;
        const p = app.graph.nodes.find((n) => n.type === "ComfydAgentPanel");
        if (where === "panel") {
          app.canvas.ds.offset = [-p.pos[0] + 420, -p.pos[1] + 110];
        } else {
          p.pos = [1290, 400];
          app.canvas.ds.offset = [60, 10];
        }
        app.canvas.ds.scale = sc;
        app.canvas.deselectAll?.();
        app.canvas.setDirty(true, true);
      },
      [scale, at],
    );
  await view(0.6, "all");
  // A new session, a first message with the default skill, then a second
  // skill ticked: each answers in its own column.
  await panel().locator("[data-test=session]").selectOption("__new__");
  await until(async () => (await status()) === "idle", "a new session");
  await send("Build a txt2img workflow for a cat on a sofa:\n1. an **SDXL** checkpoint\n2. a 1024×1024 latent\n3. `euler`, 25 steps");
  await replyOf(1, "euler");
  await panel().locator("input[data-skill=prompt-writer]").check();
  await send("Make the light warmer, late afternoon");
  await until(async () => {
    const t = await turns();
    return t[1]?.replies.length === 2 && (await status()) === "idle";
  }, "both skills to answer");
  await view(0.6, "all");
  await page.mouse.move(5, 500); // no hover highlight
  await page.waitForTimeout(600);
  const canvasShot = await shot("canvas.png");
  await view(1, "panel");
  await page.waitForTimeout(600);
  const box = await panel().boundingBox();
  const panelShot = await shot("panel.png", { x: Math.max(0, box.x - 12), y: Math.max(0, box.y - 44), width: box.width + 24, height: box.height + 56 });
  if (E.screenshots) {
    mkdirSync(E.docs, { recursive: true });
    copyFileSync(canvasShot, join(E.docs, "canvas.png"));
    copyFileSync(panelShot, join(E.docs, "panel.png"));
  }
  assert.deepEqual(pageErrors, []);
});
