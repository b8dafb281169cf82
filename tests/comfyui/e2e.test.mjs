// The extension in the real ComfyUI server (started by run.sh): the page
// loads it, the agent panel node is added from the node search and answers
// with its default skill, a session without a skill is told why nothing
// answered, replies render as sanitized Markdown, the panel survives a
// crash of comfyd (kill -9) without a reload, an outside caller edits the
// real page and queues a real prompt, and nodes it creates without
// coordinates (and `arrange`) lay out without overlap along the links, one
// Ctrl+Z undoing an arrange, the panel shows its session's runs, and the
// panel's own agent on a scripted model server goes through run -> fail ->
// fix -> run -> view_output on the real page (tests/llm/scripts/
// agent-loop-gpt-4o.json). Sequential: one ComfyUI, one page.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { inflateSync } from "node:zlib";
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
async function bridge(method, path, body, headers = {}) {
  const r = await fetch(`${conn.bridge_url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${conn.token}`, "Content-Type": "application/json", ...headers },
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

// ---- point 5: nodes created without coordinates, and `arrange` ----

/** The txt2img graph of the README and a model-free chain beside it, all
 * without coordinates. */
function unplacedCommands() {
  return [
    { type: "create_node", node_type: "CheckpointLoaderSimple", ref: "ckpt" },
    { type: "create_node", node_type: "CLIPTextEncode", ref: "pos", widgets: { text: "a cat on a sofa" } },
    { type: "create_node", node_type: "CLIPTextEncode", ref: "neg", widgets: { text: "text, watermark" } },
    { type: "create_node", node_type: "EmptyLatentImage", ref: "latent" },
    { type: "create_node", node_type: "KSampler", ref: "sampler" },
    { type: "create_node", node_type: "VAEDecode", ref: "decode" },
    { type: "create_node", node_type: "SaveImage", ref: "save" },
    { type: "connect", from_id: "ckpt", from_slot: 0, to_id: "sampler", to_slot: "model" },
    { type: "connect", from_id: "latent", from_slot: 0, to_id: "sampler", to_slot: "latent_image" },
    { type: "connect", from_id: "ckpt", from_slot: 1, to_id: "pos", to_slot: "clip" },
    { type: "connect", from_id: "pos", from_slot: 0, to_id: "sampler", to_slot: "positive" },
    { type: "connect", from_id: "ckpt", from_slot: 1, to_id: "neg", to_slot: "clip" },
    { type: "connect", from_id: "neg", from_slot: 0, to_id: "sampler", to_slot: "negative" },
    { type: "connect", from_id: "sampler", from_slot: 0, to_id: "decode", to_slot: "samples" },
    { type: "connect", from_id: "ckpt", from_slot: 2, to_id: "decode", to_slot: "vae" },
    { type: "connect", from_id: "decode", from_slot: 0, to_id: "save", to_slot: "images" },
    { type: "create_node", node_type: "EmptyImage", ref: "img" },
    { type: "create_node", node_type: "ImageInvert", ref: "inv" },
    { type: "create_node", node_type: "ImageBlur", ref: "blur" },
    { type: "create_node", node_type: "PreviewImage", ref: "preview" },
    { type: "connect", from_id: "img", from_slot: 0, to_id: "inv", to_slot: "image" },
    { type: "connect", from_id: "inv", from_slot: 0, to_id: "blur", to_slot: "image" },
    { type: "connect", from_id: "blur", from_slot: 0, to_id: "preview", to_slot: "images" },
  ];
}

/** What the real page has, after a frame: every node's box as LiteGraph
 * draws it (pos is the body's top-left; the title bar of
 * LiteGraph.NODE_TITLE_HEIGHT sits above it), and every link. */
async function pageLayout() {
  await page.evaluate(() => window.comfyAPI.app.app.canvas.setDirty(true, true));
  await page.waitForTimeout(250);
  return page.evaluate(() => {
    const g = window.comfyAPI.app.app.graph;
    const th = window.LiteGraph.NODE_TITLE_HEIGHT;
    const nodes = {};
    for (const n of g.nodes) {
      const h = n.flags?.collapsed ? 0 : n.size[1];
      nodes[n.id] = { type: n.type, pos: [n.pos[0], n.pos[1]], box: [n.pos[0], n.pos[1] - th, n.size[0], h + th] };
    }
    const links = [];
    for (const n of g.nodes)
      for (const input of n.inputs ?? []) {
        if (input.link == null) continue;
        const l = g.links.get ? g.links.get(input.link) : g.links[input.link];
        if (l) links.push([l.origin_id, n.id]);
      }
    return { th, nodes, links };
  });
}

/** Pairs of nodes whose boxes (title bars included) overlap. */
function overlapping(layout) {
  const v = Object.entries(layout.nodes);
  const out = [];
  for (let i = 0; i < v.length; i++)
    for (let j = i + 1; j < v.length; j++) {
      const [a, b] = [v[i][1].box, v[j][1].box];
      if (a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3])
        out.push(`#${v[i][0]} ${v[i][1].type} ${JSON.stringify(a)} / #${v[j][0]} ${v[j][1].type} ${JSON.stringify(b)}`);
    }
  return out;
}

/** Links whose target does not start right of its origin's right edge. */
function backwards(layout) {
  return layout.links
    .filter(([f, t]) => {
      const a = layout.nodes[f].box;
      const b = layout.nodes[t].box;
      return !(a[0] + a[2] < b[0]);
    })
    .map(([f, t]) => `${layout.nodes[f].type}#${f} ${JSON.stringify(layout.nodes[f].box)} -> ${layout.nodes[t].type}#${t} ${JSON.stringify(layout.nodes[t].box)}`);
}

const positions = (layout) => Object.fromEntries(Object.entries(layout.nodes).map(([id, n]) => [id, n.pos]));

/** Waits until the core's copy of the tab's graph has the page's positions
 * (a programmatic move reaches it through the extension's change report). */
async function coreHasPage() {
  const id = await page.evaluate(() => window.comfyd.editor.canvasId);
  await until(async () => {
    const want = positions(await pageLayout());
    const g = await bridge("POST", "/comfy/graph/command", { type: "get_graph", canvas_id: id });
    const got = g.body.graph?.nodes ?? [];
    return got.length === Object.keys(want).length && got.every((n) => want[n.id] && Math.round(n.pos.x) === Math.round(want[n.id][0]) && Math.round(n.pos.y) === Math.round(want[n.id][1]));
  }, "the core to have the page's positions", 20000, 200);
}

/** One Ctrl+Z in the page, as a user does: a click on an empty spot of the
 * canvas (no node, no panel, no menu over it) first, for the focus. */
async function undoOnce() {
  const spot = await page.evaluate(() => {
    const app = window.comfyAPI.app.app;
    const el = app.canvas.canvas;
    const r = el.getBoundingClientRect();
    const th = window.LiteGraph.NODE_TITLE_HEIGHT;
    const margin = 40;
    for (let y = r.bottom - 30; y > r.top + 80; y -= 37)
      for (let x = r.left + 120; x < r.right - 30; x += 53) {
        if (document.elementFromPoint(x, y) !== el) continue;
        const [cx, cy] = app.canvas.ds.convertOffsetToCanvas([x - r.left, y - r.top]);
        const hit = app.graph.nodes.some((n) => cx > n.pos[0] - margin && cx < n.pos[0] + n.size[0] + margin && cy > n.pos[1] - th - margin && cy < n.pos[1] + n.size[1] + margin);
        if (!hit) return [x, y];
      }
    return null;
  });
  assert.ok(spot, "an empty spot of the canvas to click");
  await page.mouse.click(spot[0], spot[1]);
  await page.keyboard.press("Control+z");
}

test("nodes an outside caller creates without coordinates do not overlap and follow the links; arrange is one undo step", async () => {
  const cleared = await bridge("POST", "/comfy/graph/batch", { commands: [{ type: "clear_graph" }] });
  assert.equal(cleared.status, 200, JSON.stringify(cleared.body));
  const r = await bridge("POST", "/comfy/graph/batch", { commands: unplacedCommands() });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.ok, true, JSON.stringify(r.body));
  const refs = r.body.refs;
  // 11 new nodes and the agent panel (clear_graph keeps it).
  await until(async () => Object.keys((await pageLayout()).nodes).length === 12, "the new nodes in app.graph");
  const placed = await pageLayout();
  assert.ok(placed.th > 0, `LiteGraph.NODE_TITLE_HEIGHT ${placed.th}`);
  assert.equal(placed.links.length, 12);
  await shot("layout-placed.png");
  assert.deepEqual(overlapping(placed), []);
  assert.deepEqual(backwards(placed), []);
  const panelAt = Object.values(placed.nodes).find((n) => n.type === "ComfydAgentPanel").pos;

  // The user piles nodes of both parts onto the checkpoint loader; arrange
  // spreads the whole graph again, the panel stays where it is.
  await coreHasPage();
  await page.evaluate(([onto, ids]) => {
    const g = window.comfyAPI.app.app.graph;
    const at = g.getNodeById(onto).pos;
    for (const id of ids) g.getNodeById(id).pos = [at[0] + 10, at[1] + 10];
    g.setDirtyCanvas(true, true);
  }, [refs.ckpt, [refs.sampler, refs.decode, refs.save, refs.inv, refs.preview]]);
  await coreHasPage();
  const piled = await pageLayout();
  assert.ok(overlapping(piled).length > 0, "the pile overlaps");
  const a = await bridge("POST", "/comfy/graph/command", { type: "arrange" });
  assert.equal(a.status, 200, JSON.stringify(a.body));
  const arranged = await until(async () => {
    const l = await pageLayout();
    return JSON.stringify(positions(l)) !== JSON.stringify(positions(piled)) ? l : null;
  }, "the arrange to reach the page");
  await shot("layout-arranged.png");
  assert.deepEqual(overlapping(arranged), []);
  assert.deepEqual(backwards(arranged), []);
  assert.deepEqual(Object.values(arranged.nodes).find((n) => n.type === "ComfydAgentPanel").pos, panelAt);
  // One Ctrl+Z takes the whole arrange back.
  await undoOnce();
  await until(async () => JSON.stringify(positions(await pageLayout())) === JSON.stringify(positions(piled)), "one Ctrl+Z to undo the arrange", 10000);

  // The same arrange again gives the same layout (it is deterministic).
  await coreHasPage();
  const again = await bridge("POST", "/comfy/graph/command", { type: "arrange" });
  assert.equal(again.status, 200, JSON.stringify(again.body));
  await until(async () => JSON.stringify(positions(await pageLayout())) === JSON.stringify(positions(arranged)), "the second arrange to give the same layout");

  // A subset: the model-free chain, piled onto the sampler, is arranged
  // alone; it moves clear of the other nodes, which stay.
  await coreHasPage();
  await page.evaluate(([onto, ids]) => {
    const g = window.comfyAPI.app.app.graph;
    const at = g.getNodeById(onto).pos;
    ids.forEach((id, i) => (g.getNodeById(id).pos = [at[0] + 20 * i, at[1] + 20 * i]));
    g.setDirtyCanvas(true, true);
  }, [refs.sampler, [refs.img, refs.inv, refs.blur, refs.preview]]);
  await coreHasPage();
  const before = await pageLayout();
  assert.ok(overlapping(before).length > 0, "the chain's pile overlaps");
  const chain = [refs.img, refs.inv, refs.blur, refs.preview].map(String);
  const s = await bridge("POST", "/comfy/graph/command", { type: "arrange", node_ids: chain.map(Number) });
  assert.equal(s.status, 200, JSON.stringify(s.body));
  const subset = await until(async () => {
    const l = await pageLayout();
    return JSON.stringify(positions(l)) !== JSON.stringify(positions(before)) ? l : null;
  }, "the subset arrange to reach the page");
  await shot("layout-arranged-subset.png");
  for (const [id, n] of Object.entries(subset.nodes))
    if (!chain.includes(id)) assert.deepEqual(n.pos, before.nodes[id].pos, `#${id} ${n.type} stays`);
  assert.deepEqual(overlapping(subset), []);
  assert.deepEqual(backwards(subset), []);
  await undoOnce();
  await until(async () => JSON.stringify(positions(await pageLayout())) === JSON.stringify(positions(before)), "one Ctrl+Z to undo the subset arrange", 10000);
  assert.deepEqual(pageErrors, []);
});

test("the panel shows its session's runs: the output thumbnail, and a refused run naming the node a click selects", async () => {
  const sid = await page.evaluate(() => window.comfyAPI.app.app.graph.nodes.find((n) => n.type === "ComfydAgentPanel").widgets.find((w) => w.name === "session_id").value);
  assert.ok(sid, "the panel has a session");
  // A 64x64 EmptyImage -> ImageInvert -> SaveImage of its own (clear_graph
  // keeps the panel), queued on behalf of the panel's session, as its
  // agent's tools do.
  const built = await bridge("POST", "/comfy/graph/batch", {
    commands: [
      { type: "clear_graph" },
      { type: "create_node", node_type: "EmptyImage", ref: "img", widgets: { width: 64, height: 64, batch_size: 1, color: 16711680 } },
      { type: "create_node", node_type: "ImageInvert", ref: "inv" },
      { type: "create_node", node_type: "SaveImage", ref: "save", widgets: { filename_prefix: "comfyd_e2e" } },
      { type: "connect", from_id: "img", from_slot: 0, to_id: "inv", to_slot: "image" },
      { type: "connect", from_id: "inv", from_slot: 0, to_id: "save", to_slot: "images" },
    ],
  });
  assert.equal(built.status, 200, JSON.stringify(built.body));
  assert.equal(built.body.ok, true, JSON.stringify(built.body));
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

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The scripted OpenAI-compatible server (tests/agent/fake_llm.py over
 * tests/llm/fake_openai.py), recording every request into record. */
function startScriptedModel(record) {
  const child = spawn(
    "/usr/bin/python3",
    [join(REPO, "tests/agent/fake_llm.py"), "--scripts", join(REPO, "tests/llm/scripts"), "--port", "0", "--record", record, "--exit-on-stdin-eof"],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`fake_llm.py did not start: ${out}`)), 15000);
    child.on("exit", (code) => reject(new Error(`fake_llm.py exited (${code}): ${out}`)));
    child.stdout.on("data", (d) => {
      out += d;
      const m = /LISTENING (\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        baseUrl: `http://127.0.0.1:${m[1]}/v1`,
        requests: () =>
          readFileSync(record, "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l)),
        stop: () => {
          child.stdin.end();
          child.kill("SIGTERM");
        },
      });
    });
  });
}

/** Width and height of a PNG whose pixel data inflates to the size its
 * IHDR says. */
function pngSize(buf) {
  assert.equal(buf.subarray(0, 8).toString("hex"), "89504e470d0a1a0a", "PNG signature");
  let off = 8;
  let w = 0;
  let h = 0;
  let ch = 0;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.subarray(off + 4, off + 8).toString("latin1");
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === "IHDR") [w, h, ch] = [data.readUInt32BE(0), data.readUInt32BE(4), { 2: 3, 6: 4, 0: 1 }[data[9]]];
    else if (type === "IDAT") idat.push(data);
    off += 12 + len;
  }
  assert.equal(inflateSync(Buffer.concat(idat)).length, h * (1 + w * ch), "pixel data size");
  return [w, h];
}

test("the panel's agent runs, reads the failure, fixes, runs again and looks at the image (scripted model)", async () => {
  const record = join(E.artifacts, "agent-loop-llm.jsonl");
  rmSync(record, { force: true });
  const llm = await startScriptedModel(record);
  const settings = panel().locator("[data-test=settings]");
  // No model files: with --screenshots run.sh puts an empty placeholder
  // checkpoint into the copy (for the pictures of the next test), which
  // would make the loader fail while executing instead of in validation.
  const placeholder = join(E.data, "..", "ComfyUI", "models", "checkpoints", "sd_xl_base_1.0.safetensors");
  const aside = `${placeholder}.aside`;
  if (existsSync(placeholder)) renameSync(placeholder, aside);
  // The panel on the right at a size that shows the whole turn, the
  // workflow the agent builds on its left (its script places the nodes).
  const frame = () =>
    page.evaluate(() => {
      const app = window.comfyAPI.app.app;
      const p = app.graph.nodes.find((n) => n.type === "ComfydAgentPanel");
      p.pos = [960, 10];
      p.setSize?.([560, 640]);
      app.canvas.ds.scale = 0.85;
      app.canvas.ds.offset = [20, 20];
      app.canvas.deselectAll?.();
      app.canvas.setDirty(true, true);
    });
  await frame();
  await page.waitForTimeout(300);
  // The core has the panel where frame() put it before the agent reads the
  // graph: reported later (a loaded machine), the move is a user change
  // since the agent's read, and its clear_graph is rightly refused as a
  // conflict instead of being previewed.
  await until(async () => {
    const g = await bridge("POST", "/comfy/graph/command", { type: "get_graph" });
    const p = g.body?.graph?.nodes?.find((n) => n.type === "ComfydAgentPanel");
    return p && Math.round(p.pos?.x) === 960 && Math.round(p.pos?.y) === 10;
  }, "the panel's new place to reach the core");
  try {
    // As a quick user does: a new session, and at once (while the core is
    // still creating it) the settings: an OpenAI-compatible endpoint and a
    // model whose name says it sees images (vision "auto"). They must land
    // on the new session, not on the one shown before.
    const picker = panel().locator("[data-test=session]");
    const before = await picker.inputValue();
    await picker.selectOption("__new__");
    await settings.click();
    const field = async (sel, value) => {
      const el = panel().locator(sel);
      if (sel.endsWith("provider]")) await el.selectOption(value);
      else {
        await el.fill(value);
        await el.dispatchEvent("change");
      }
    };
    await field("[data-test=provider]", "openai");
    await field("[data-test=model]", "agent-loop-gpt-4o");
    await field("[data-test=base-url]", llm.baseUrl);
    await settings.click();
    const sid = await until(async () => {
      const v = await picker.inputValue();
      return v && v !== before && v !== "__new__" && (await status()) === "idle" ? v : null;
    }, "the new session to be selected");
    await until(async () => {
      const e = await bridge("GET", `/comfy/sessions/${sid}/export?format=json`);
      return e.body.provider === "openai" && e.body.model === "agent-loop-gpt-4o";
    }, "the settings to reach the new session");
    // The panel keeps them in its node's widgets too: the core has them
    // before the agent reads the graph, else they are user changes since
    // its read, and its clear_graph is refused as conflicting with them.
    await until(async () => {
      const g = await bridge("POST", "/comfy/graph/command", { type: "get_graph" });
      const p = JSON.stringify(g.body?.graph?.nodes?.find((n) => n.type === "ComfydAgentPanel") ?? null);
      return p.includes("agent-loop-gpt-4o") && p.includes(llm.baseUrl);
    }, "the panel's settings to reach the core's graph");
    if (await panel().locator("input[data-skill=prompt-writer]").isChecked()) await panel().locator("input[data-skill=prompt-writer]").uncheck();
    assert.equal(await panel().locator("input[data-skill=workflow-builder]").isChecked(), true);
    const asked = "Make me a 1280×720 picture of an inverted colour and show it to me.";
    await send(asked);
    let seen = null;
    // Each of the skill's patches starts with clear_graph: workflow-builder's
    // default policy (confirm-destructive) shows it on the canvas first, and
    // the user accepts it (docs/concurrent-editing.md).
    let confirmed = 0;
    const done = await until(async () => {
      const accept = page.locator(".comfyd-preview-accept");
      if (await accept.isVisible().catch(() => false)) {
        await accept.click().catch(() => {});
        confirmed++;
      }
      const t = (seen = (await turns()).at(-1));
      const r = t?.user.includes("1280×720") && t.replies.find((x) => x.text.includes("The first run failed") && !x.state.includes("cd-streaming"));
      return r && !(await status()).startsWith("working") ? r : null;
    }, "the agent's turn to end with its answer", 180000, 200).catch(async (e) => {
      // What the panel and the model saw, for a failure in CI.
      const exp = await bridge("GET", `/comfy/sessions/${sid}/export?format=json`).catch((x) => ({ body: String(x) }));
      const got = existsSync(record) ? llm.requests().map((r) => r.model) : [];
      throw new Error(`${e.message}\nstatus: ${await status().catch(() => "?")}\nlast turn: ${JSON.stringify(seen)?.slice(0, 1500)}\nmodel requests: ${JSON.stringify(got)}\nsession: ${JSON.stringify(exp.body)?.slice(0, 3000)}`);
    });
    assert.equal(done.skill, "workflow-builder");
    assert.ok(confirmed >= 2, `the two clearing patches were previewed and accepted (${confirmed})`);

    // What the scripted server received: the failure report after the
    // first run, then the image after view_output.
    const reqs = llm.requests().filter((r) => r.model === "agent-loop-gpt-4o");
    assert.equal(reqs.length, 4, `requests: ${reqs.length}`);
    const toolMsg = (req, id) => JSON.parse(req.body.messages.find((m) => m.role === "tool" && m.tool_call_id === id).content);
    const failed = toolMsg(reqs[1], "call_run1");
    assert.equal(failed.status, "failed", JSON.stringify(failed));
    const ne = failed.failure.errors.find((e) => e.node_type === "CheckpointLoaderSimple");
    assert.ok(ne, JSON.stringify(failed));
    assert.equal(ne.title, "Load Checkpoint");
    assert.equal(ne.input, "ckpt_name");
    assert.ok(ne.message);
    const ok = toolMsg(reqs[2], "call_run2");
    assert.equal(ok.status, "succeeded", JSON.stringify(ok));
    const out = ok.outputs[0];
    const msgs = reqs[3].body.messages;
    const at = msgs.findIndex((m) => m.role === "tool" && m.tool_call_id === "call_view");
    const shown = msgs[at + 1];
    assert.equal(shown?.role, "user", "a user message follows the view_output result");
    const part = shown.content.find((p) => p.type === "image_url");
    assert.ok(part, JSON.stringify(shown).slice(0, 300));
    assert.match(part.image_url.url, /^data:image\/png;base64,/);
    assert.deepEqual(pngSize(Buffer.from(part.image_url.url.split(",")[1], "base64")), [1024, 576], "scaled down to the bound");

    // The panel: the failed run naming the node, then the output thumbnail.
    const card = (id) => panel().locator(`[data-test=run][data-prompt="${id}"]`);
    assert.equal(await card(failed.prompt_id).getAttribute("data-status"), "failed");
    const err = card(failed.prompt_id).locator("[data-test=run-error-node]").first();
    assert.match(await err.innerText(), /Load Checkpoint · ckpt_name/);
    await until(async () => (await card(ok.prompt_id).getAttribute("data-status").catch(() => "")) === "succeeded", "the fixed run to show as succeeded", 30000, 200);
    const thumb = card(ok.prompt_id).locator("[data-test=run-thumb]").first();
    const size = await until(() => thumb.evaluate((i) => (i.complete && i.naturalWidth ? [i.naturalWidth, i.naturalHeight] : null)), "the thumbnail to load", 20000);
    assert.deepEqual(size, [256, 144]);
    // The output through the bridge is what was asked for.
    const img = await fetch(`${conn.bridge_url}/comfy/runs/${ok.prompt_id}/outputs/${out.node_id}/0`, { headers: { Authorization: `Bearer ${conn.token}` } });
    assert.equal(img.status, 200);
    assert.deepEqual(pngSize(Buffer.from(await img.arrayBuffer())), [1280, 720]);
    // The canvas holds the fixed workflow.
    const types = await page.evaluate(() => window.comfyAPI.app.app.graph.nodes.map((n) => n.type).filter((t) => t !== "ComfydAgentPanel").sort());
    assert.deepEqual(types, ["EmptyImage", "ImageInvert", "SaveImage"]);

    // The picture of this run for the README: the canvas with the panel
    // beside the fixed workflow.
    await frame();
    await page.waitForTimeout(300);
    await panel().locator(".cd-turn").last().evaluate((el) => el.scrollIntoView({ block: "start" }));
    await page.mouse.move(5, 500);
    await page.waitForTimeout(600);
    const runShot = await shot("agent-run.png");
    if (E.screenshots) {
      mkdirSync(E.docs, { recursive: true });
      copyFileSync(runShot, join(E.docs, "agent-run.png"));
    }
    assert.deepEqual(pageErrors, []);
  } finally {
    llm.stop();
    if (existsSync(aside)) renameSync(aside, placeholder);
    // Back to the offline provider for the tests after this one (errors
    // here must not hide the test's own).
    await (async () => {
      await frame();
      if (!(await panel().locator("[data-test=provider]").isVisible())) await settings.click();
      await panel().locator("[data-test=provider]").selectOption("echo");
      for (const sel of ["[data-test=model]", "[data-test=base-url]"]) {
        await panel().locator(sel).fill("");
        await panel().locator(sel).dispatchEvent("change");
      }
      await settings.click();
    })().catch((e) => console.error(`restoring the echo provider: ${e.message}`));
  }
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

/** The txt2img workflow of the test above on the page: type -> node id. */
const workflowIds = () =>
  page.evaluate(() => Object.fromEntries(window.comfyAPI.app.app.graph.nodes.map((n) => [n.type === "CLIPTextEncode" ? `${n.type}:${n.widgets[0].value.slice(0, 4)}` : n.type, n.id])));

/** Shows graph point (x, y) at canvas point at (its top left when not
 * given) at scale sc, the panel moved out of the way (below the workflow). */
const focus = (x, y, sc, at = [0, 0]) =>
  page.evaluate(
    ([gx, gy, s, [ax, ay]]) => {
      const app = window.comfyAPI.app.app;
      const p = app.graph.nodes.find((n) => n.type === "ComfydAgentPanel");
      if (p) p.pos = [0, 1600];
      app.canvas.ds.scale = s;
      app.canvas.ds.offset = [ax / s - gx, ay / s - gy];
      app.canvas.deselectAll?.();
      app.canvas.setDirty(true, true);
    },
    [x, y, sc, at],
  );

/** The canvas's top left on the page (the menu bar is above it). */
const canvasBox = () => page.locator("canvas#graph-canvas, canvas.graph-canvas-container, #graph-canvas").first().boundingBox();

test("a lease by a named caller is outlined on the page with its holder, other callers are refused (docs/images/lease.png)", async () => {
  const ids = await workflowIds();
  const pos = ids["CLIPTextEncode:a ca"];
  const neg = ids["CLIPTextEncode:text"];
  assert.ok(pos > 0 && neg > 0 && ids.KSampler > 0, JSON.stringify(ids));
  // Every text drawn on the canvas from now on.
  await page.evaluate(() => {
    window.__drawnText = new Set();
    const orig = CanvasRenderingContext2D.prototype.fillText;
    window.__origFillText = orig;
    CanvasRenderingContext2D.prototype.fillText = function (t, ...rest) {
      if (window.__drawnText.size < 5000) window.__drawnText.add(String(t));
      return orig.call(this, t, ...rest);
    };
  });
  const bot = { "comfyd-caller": "layout-bot" };
  let leaseId = 0;
  try {
    const r = await bridge("POST", "/comfy/graph/lease", { action: "acquire", node_ids: [pos, neg], ttl_ms: 120000 }, bot);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.ok, true, JSON.stringify(r.body));
    leaseId = Number(r.body.lease.id);
    assert.ok(leaseId > 0);
    assert.deepEqual(r.body.lease.node_ids.map(Number).sort((a, b) => a - b), [pos, neg].sort((a, b) => a - b));
    // The tab learns of it and outlines both nodes with the holder's name.
    await until(
      () =>
        page.evaluate(
          ([a, b]) => {
            const m = window.comfyd.leases.nodes();
            return m.get(a)?.label === "leased by layout-bot" && m.get(b)?.label === "leased by layout-bot" && m.size === 2;
          },
          [pos, neg],
        ),
      "the tab to hold the lease",
    );
    // Below the workflow tabs at the canvas's top.
    await focus(-10, 60, 0.9, [0, 44]);
    await page.mouse.move(5, 880);
    await until(() => page.evaluate(() => window.__drawnText.has("leased by layout-bot")), "the outline's label to be drawn on the canvas");
    // Another caller's edit of a leased node is refused, naming the holder;
    // the holder's own goes through (and is undone after).
    const other = await bridge("POST", "/comfy/graph/batch", { commands: [{ type: "set_widget", node_id: pos, name: "text", value: "a dog" }] }, { "comfyd-caller": "someone-else" });
    assert.equal(other.status, 409, JSON.stringify(other.body));
    assert.match(JSON.stringify(other.body), /LEASED/);
    assert.match(JSON.stringify(other.body), /layout-bot/);
    const own = await bridge("POST", "/comfy/graph/batch", { commands: [{ type: "move_node", node_id: neg, x: 420, y: 450 }] }, bot);
    assert.equal(own.body.ok, true, JSON.stringify(own.body));

    await page.waitForTimeout(400);
    const c = await canvasBox();
    const leaseShot = await shot("lease.png", { x: c.x, y: c.y + 40, width: Math.min(1120, c.width), height: Math.min(600, c.height - 40) });
    if (E.screenshots) {
      mkdirSync(E.docs, { recursive: true });
      copyFileSync(leaseShot, join(E.docs, "lease.png"));
    }
    // Released: the outline goes.
    const rel = await bridge("POST", "/comfy/graph/lease", { action: "release", lease_id: leaseId }, bot);
    assert.equal(rel.status, 200, JSON.stringify(rel.body));
    assert.equal(Number(rel.body.released), 1, JSON.stringify(rel.body));
    leaseId = 0;
    await until(() => page.evaluate(() => window.comfyd.leases.nodes().size === 0), "the outline to go after the release");
    assert.deepEqual(pageErrors, []);
  } finally {
    if (leaseId) await bridge("POST", "/comfy/graph/lease", { action: "release", lease_id: leaseId }, bot).catch(() => {});
    await page.evaluate(() => {
      if (window.__origFillText) CanvasRenderingContext2D.prototype.fillText = window.__origFillText;
    });
  }
});

test("a patch sent for preview is drawn over the page with Accept / Reject; rejected, nothing changes (docs/images/preview.png)", async () => {
  const ids = await workflowIds();
  assert.ok(ids.KSampler > 0 && ids.SaveImage > 0 && ids.VAEDecode > 0, JSON.stringify(ids));
  const widgetsOf = (id) => page.evaluate((n) => Object.fromEntries(window.comfyAPI.app.app.graph.getNodeById(n).widgets.map((w) => [w.name, w.value])), id);
  const graphNow = async () => {
    const g = await bridge("POST", "/comfy/graph/command", { type: "get_graph" });
    assert.equal(g.status, 200, JSON.stringify(g.body));
    return g.body.graph;
  };
  const before = await graphNow();
  const pageBefore = await page.evaluate(() => window.comfyAPI.app.app.graph.nodes.length);
  // Preview only, do not save: the SaveImage goes, a PreviewImage takes its
  // place, and the sampler gets more steps and a lower cfg.
  const pending = bridge(
    "POST",
    "/comfy/graph/batch",
    {
      apply_mode: "preview",
      preview_timeout_ms: 120000,
      commands: [
        { type: "remove_node", node_id: ids.SaveImage },
        { type: "create_node", node_type: "PreviewImage", ref: "prev", x: 1480, y: 420 },
        { type: "connect", from_id: ids.VAEDecode, from_slot: 0, to_id: "prev", to_slot: "images" },
        { type: "set_widget", node_id: ids.KSampler, name: "steps", value: 30 },
        { type: "set_widget", node_id: ids.KSampler, name: "cfg", value: 5 },
      ],
    },
    { "comfyd-caller": "layout-bot" },
  );
  let settled = false;
  pending.finally(() => (settled = true));
  const bar = page.locator(".comfyd-preview");
  try {
    await bar.waitFor({ state: "visible", timeout: 20000 });
    const text = await bar.innerText();
    assert.match(text, /layout-bot/, text);
    assert.match(text, /proposes a change that removes work/, text);
    assert.match(text, /steps/, text);
    assert.match(text, /PreviewImage|Preview Image/, text);
    assert.equal(await page.locator(".comfyd-preview-accept").isVisible(), true);
    assert.equal(await page.locator(".comfyd-preview-reject").isVisible(), true);
    // Nothing is applied while it waits: the page and the core as before.
    assert.equal(settled, false, "the caller waits for the decision");
    const during = await graphNow();
    assert.equal(Number(during.revision), Number(before.revision));
    assert.equal(await page.evaluate(() => window.comfyAPI.app.app.graph.nodes.length), pageBefore);
    assert.equal(Number((await widgetsOf(ids.KSampler)).steps), 25);
    // The picture: the sampler, the decoder, the removed SaveImage and the
    // ghost PreviewImage above the bar (which sits at the bottom centre of
    // the window), between the frontend's corner controls.
    const c = await canvasBox();
    const b = await bar.boundingBox();
    const clip = { x: b.x - 200, y: c.y + 40, width: b.width + 400, height: b.y + b.height + 12 - (c.y + 40) };
    await focus(890, 20, 0.85, [clip.x - c.x, 44]);
    await page.mouse.move(5, 880);
    await page.waitForTimeout(500);
    const previewShot = await shot("preview.png", clip);
    if (E.screenshots) {
      mkdirSync(E.docs, { recursive: true });
      copyFileSync(previewShot, join(E.docs, "preview.png"));
    }
    await page.locator(".comfyd-preview-reject").click();
  } finally {
    if (!settled && (await bar.isVisible().catch(() => false))) await page.locator(".comfyd-preview-reject").click().catch(() => {});
  }
  const res = await pending;
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.ok, false, JSON.stringify(res.body));
  assert.match(String(res.body.preview?.outcome), /REJECTED/i, JSON.stringify(res.body));
  await until(async () => !(await bar.isVisible()), "the bar to go");
  // Rejected: the graph is as it was, in the core and on the page.
  const after = await graphNow();
  assert.equal(Number(after.revision), Number(before.revision));
  assert.deepEqual(after.nodes.map((n) => [Number(n.id), n.type]).sort(), before.nodes.map((n) => [Number(n.id), n.type]).sort());
  const pageAfter = await page.evaluate(() => window.comfyAPI.app.app.graph.nodes.map((n) => n.type).sort());
  assert.ok(pageAfter.includes("SaveImage") && !pageAfter.includes("PreviewImage"), pageAfter.join(","));
  assert.equal(pageAfter.length, pageBefore);
  const w = await widgetsOf(ids.KSampler);
  assert.equal(Number(w.steps), 25);
  assert.equal(Number(w.cfg), 6.5);
  assert.deepEqual(pageErrors, []);
});
