// An unbuilt checkout linked into the real ComfyUI (run.sh --unbuilt): the
// tracked files of this worktree without build/, no COMFYD_BIN_DIR. The
// supervisor builds it in the background (DATA/build.log), the panel shows
// the supervisor's reason while it builds, and once the build is done the
// panel connects and answers a message, without a ComfyUI restart.
//
// run.sh puts a gate in front of ninja: the compile starts only when this
// test opens it, after the page has shown "building", so a fast machine
// cannot finish the build before the page looks. The build is real.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";

const E = {
  url: process.env.COMFYUI_URL,
  comfyPid: Number(process.env.COMFYUI_PID),
  data: process.env.COMFYD_E2E_DATA,
  artifacts: process.env.COMFYD_E2E_ARTIFACTS,
  checkout: process.env.COMFYD_E2E_CHECKOUT,
  gate: process.env.COMFYD_E2E_GATE,
  buildMs: Number(process.env.COMFYD_E2E_BUILD_TIMEOUT_S || 600) * 1000,
};
assert.ok(E.url && E.comfyPid && E.data && E.artifacts && E.checkout && E.gate, "run through tests/comfyui/run.sh BUILD_DIR --unbuilt");

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
const pageErrors = [];

/** Waits until fn() is truthy (an fn that throws is tried again). */
async function until(fn, what, ms = 20000, every = 200) {
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
  return { status: r.status, body: await r.json() };
}

/** The children of ComfyUI by command name. */
function children() {
  const out = execFileSync("ps", ["-o", "pid=,comm=", "--ppid", String(E.comfyPid)], { encoding: "utf8" });
  return out
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter(([pid]) => pid)
    .map(([pid, comm]) => ({ pid: Number(pid), comm }));
}

const buildLog = () => (existsSync(join(E.data, "build.log")) ? readFileSync(join(E.data, "build.log"), "utf8") : "");
const panel = () => page.locator(".comfyd-panel");
const status = () => panel().locator("[data-test=status]").innerText();
const notice = async () => ((await panel().locator("[data-test=notice]").count()) ? panel().locator("[data-test=notice]").innerText() : "");

async function setting(id, value) {
  const r = await fetch(`${E.url}/api/settings/${encodeURIComponent(id)}`, { method: "POST", body: JSON.stringify(value) });
  assert.equal(r.status, 200, `setting ${id}`);
}

before(async () => {
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
  page.on("pageerror", (e) => {
    const text = String(e?.stack ?? e);
    if (/\/extensions\/|comfyd/i.test(text)) pageErrors.push(text);
  });
});

after(async () => {
  await context?.close().catch(() => {});
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test("an unbuilt checkout is built by the supervisor; the panel says so, then connects and answers without a ComfyUI restart", async () => {
  // The supervisor found no binaries and started the build of the copy.
  const c = await connection();
  assert.equal(c.status, 503, JSON.stringify(c.body));
  assert.equal(c.body.status, "building", JSON.stringify(c.body));
  assert.match(c.body.detail, /comfyd and comfyd-bridge not built yet: building the checkout/);
  assert.ok(c.body.detail.includes(join(E.data, "build.log")), c.body.detail);
  assert.ok(!c.body.token, "no token before the bridge runs");
  assert.match(buildLog(), /building comfyd comfyd-bridge in .*scripts\/build\.sh build/);
  assert.equal(existsSync(join(E.checkout, "build", "core", "comfyd")), false);

  // The page: the extension loads from the unbuilt copy (its committed
  // dist/) and a panel node shows the supervisor's reason.
  await page.goto(E.url, { waitUntil: "domcontentloaded" });
  await page.waitForFunction(() => window.comfyAPI?.app?.app?.graph && window.comfyd?.editor && window.LiteGraph?.registered_node_types?.ComfydAgentPanel, null, { timeout: 90000, polling: 200 });
  await page.evaluate(() => {
    const app = window.comfyAPI.app.app;
    app.graph.clear();
    const n = window.LiteGraph.createNode("ComfydAgentPanel");
    n.pos = [120, 80];
    app.graph.add(n);
    app.canvas.setDirty(true, true);
  });
  await panel().waitFor({ timeout: 15000 });
  // Every status and notice the panel shows from now on.
  await page.evaluate(() => {
    window.__seen = [];
    const root = document.querySelector(".comfyd-panel");
    const note = () => {
      const s = root.querySelector("[data-test=status]")?.textContent ?? "";
      const n = root.querySelector("[data-test=notice]")?.textContent ?? "";
      const last = window.__seen.at(-1);
      if (!last || last.s !== s || last.n !== n) window.__seen.push({ s, n });
    };
    note();
    new MutationObserver(note).observe(root, { childList: true, characterData: true, subtree: true });
  });
  const building = await until(async () => {
    const n = await notice();
    return (await status()) === "offline" && /not built yet: building the checkout/.test(n) ? n : null;
  }, "the panel to show the supervisor's reason", 30000);
  assert.match(building, /^comfyd is not reachable: comfyd and comfyd-bridge not built yet: building the checkout .*build\.log\); the panel connects when it is done$/);
  assert.match(await panel().locator("[data-test=skills-hint]").innerText(), /connecting to comfyd… \(.*building the checkout/);
  await page.screenshot({ path: join(E.artifacts, "unbuilt-building.png") });
  assert.equal(await panel().locator("[data-test=input]").isDisabled(), true);

  // Let the build compile (see run.sh: the gate in front of ninja).
  const t0 = Date.now();
  writeFileSync(E.gate, "");
  await until(async () => (await status()) === "no session", "the panel to connect after the build", E.buildMs, 500);
  const buildS = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`build and connect after the gate opened: ${buildS} s`);
  const seen = await page.evaluate(() => window.__seen);
  console.log(`panel: ${seen.map((x) => x.s + (x.n ? ` (${x.n.slice(0, 60)}…)` : "")).join(" > ")}`);
  // From the first "building" on, offline always with the supervisor's
  // reason until connected: never a bare "offline".
  const from = seen.findIndex((x) => /building the checkout/.test(x.n));
  const to = seen.findIndex((x) => x.s !== "offline");
  assert.ok(from >= 0 && to > from && seen.slice(from, to).every((x) => x.n.startsWith("comfyd is not reachable: ")), JSON.stringify(seen));

  // The same ComfyUI runs the binaries just built in the copy.
  const r = await connection();
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.status, "ready");
  assert.ok(r.body.token);
  assert.deepEqual(r.body.started, ["comfyd", "comfyd-bridge"]);
  process.kill(E.comfyPid, 0); // still the ComfyUI run.sh started
  const kids = children();
  for (const [name, sub] of [
    ["comfyd", "core"],
    ["comfyd-bridge", "bridge"],
  ]) {
    const k = kids.find((x) => x.comm === name);
    assert.ok(k, `${name} is a child of ComfyUI: ${JSON.stringify(kids)}`);
    assert.equal(readlinkSync(`/proc/${k.pid}/exe`), join(E.checkout, "build", sub, name));
  }
  assert.match(buildLog(), /Linking C executable core\/comfyd/);
  assert.match(buildLog(), /Linking C executable bridge\/comfyd-bridge/);

  // The panel works: the default skill answers the first message, and the
  // tab's canvas is attached.
  assert.equal(await panel().locator("input[data-skill=workflow-builder]").isChecked(), true);
  const input = panel().locator("[data-test=input]");
  await until(() => input.isEnabled(), "the input to be enabled");
  await input.click();
  await input.fill("hello from a fresh checkout");
  await input.press("Enter");
  const reply = await until(
    () =>
      page.evaluate(() => {
        const r = document.querySelector(".comfyd-panel .cd-turn .cd-reply:not(.cd-streaming)");
        return r ? { skill: r.dataset.skill, text: r.querySelector(".cd-text")?.textContent ?? "" } : null;
      }),
    "the reply",
    30000,
  );
  assert.equal(reply.skill, "workflow-builder");
  assert.match(reply.text, /hello from a fresh checkout/);
  await until(() => page.evaluate(() => window.comfyd.editor.status === "attached"), "the canvas to attach", 30000);
  await page.screenshot({ path: join(E.artifacts, "unbuilt-connected.png") });
  assert.deepEqual(pageErrors, []);
});
