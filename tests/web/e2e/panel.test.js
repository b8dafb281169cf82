// The agent panel node in the stock frontend, against the real comfyd (its
// offline echo provider) through comfyd-bridge's session WebSocket.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { bridge, env, graphOf, launch, openComfy, txt2imgCommands, until, waitAttached } from "./helpers.js";

const SECRET = "sk-test-DO-NOT-SAVE-4242";
const SKILLS = ["prompt-writer", "workflow-builder"];

let browser;
let page;
let panelId;

const panel = () => page.locator(".comfyd-panel");
const status = () => panel().locator("[data-test=status]").innerText();

/** The replies shown, per turn: [[skill, text], ...]. */
const replies = () =>
  page.evaluate(() =>
    Array.from(document.querySelectorAll(".comfyd-panel .cd-turn")).map((t) =>
      Array.from(t.querySelectorAll(".cd-reply")).map((r) => [r.dataset.skill, r.querySelector(".cd-text").textContent]),
    ),
  );

/** The status line and the replies, read at one moment. */
const view = () =>
  page.evaluate(() => ({
    status: document.querySelector(".comfyd-panel [data-test=status]")?.textContent ?? "",
    replies: Array.from(document.querySelectorAll(".comfyd-panel .cd-turn")).map((t) =>
      Array.from(t.querySelectorAll(".cd-reply")).map((r) => [r.dataset.skill, r.querySelector(".cd-text").textContent]),
    ),
  }));

async function waitIdleWithReplies(turns) {
  return until(async () => {
    const { status: st, replies: r } = await view();
    const done = st.startsWith("idle") && r.length === turns && r.at(-1).length === SKILLS.length && r.at(-1).every(([, t]) => t.length > 0);
    return done ? r : null;
  }, `${turns} turn(s) with a reply of each skill`, 30000);
}

async function panelWidgets() {
  return page.evaluate((id) => {
    const n = window.comfyAPI.app.app.rootGraph.getNodeById(id);
    return Object.fromEntries(n.widgets.filter((w) => w.name !== "comfyd_panel").map((w) => [w.name, w.value]));
  }, panelId);
}

async function send(text) {
  const input = panel().locator("[data-test=input]");
  await input.click();
  await input.fill(text);
  await input.press("Enter");
}

beforeAll(async () => {
  browser = await launch();
  page = await openComfy(browser.context);
  await bridge("POST", "/comfy/graph/batch", { commands: [{ type: "clear_graph" }] });
  // The panel node is created like any node type, by an outside caller.
  const r = await bridge("POST", "/comfy/graph/batch", {
    commands: [...txt2imgCommands(), { type: "create_node", node_type: "ComfydAgentPanel", ref: "panel", x: 1230, y: 540 }],
  });
  expect(r.body.ok, JSON.stringify(r.body)).toBe(true);
  panelId = r.body.refs.panel;
  await page.evaluate((id) => {
    const app = window.comfyAPI.app.app;
    app.rootGraph.getNodeById(id).setSize([620, 440]);
    app.canvas.ds.scale = 0.62;
    app.canvas.ds.offset = [40, 30];
    app.canvas.setDirty(true, true);
  }, panelId);
});

afterAll(async () => {
  await browser?.close();
});

describe("the agent panel node", () => {
  it("mounts, connects and lists the skills", async () => {
    await panel().waitFor();
    await until(async () => (await status()) === "no session", "the panel to connect");
    const chips = await panel().locator(".cd-chip").allInnerTexts();
    expect(chips.map((c) => c.trim())).toEqual(expect.arrayContaining(["graph-doctor", ...SKILLS]));
    // The config widgets are saved with the node but not drawn.
    const w = await panelWidgets();
    expect(Object.keys(w)).toEqual(["session_id", "provider", "model", "base_url", "system_prompt", "skills"]);
  });

  it("creates a session, selects two skills and streams both replies side by side", async () => {
    await panel().locator("[data-test=session]").selectOption("__new__");
    await until(async () => (await panelWidgets()).session_id, "a session to be created");
    await until(async () => (await status()) === "idle", "the session to be joined");
    for (const k of SKILLS) await panel().locator(`input[data-skill=${k}]`).check();
    await until(async () => (await panelWidgets()).skills === SKILLS.join(","), "the skills to be saved");

    await send("Build me a txt2img workflow for a cat on a sofa");
    // While the reply streams, both skills write at the same time.
    const during = await until(async () => {
      const { status: st, replies: r } = await view();
      return r.length === 1 && r[0].length === 2 && r[0].every(([, t]) => t.length > 0) && st === "working" ? r : null;
    }, "both skills to be streaming", 20000);
    expect(during[0].map(([k]) => k)).toEqual(SKILLS);

    const r = await waitIdleWithReplies(1);
    expect(r[0].map(([k]) => k)).toEqual(SKILLS);
    expect(r[0][0][1]).not.toBe(r[0][1][1]);
    const boxes = await panel().locator(".cd-reply").evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON()));
    expect(boxes).toHaveLength(2);
    expect(Math.abs(boxes[0].top - boxes[1].top)).toBeLessThan(2);
    expect(boxes[1].left).toBeGreaterThan(boxes[0].right - 1);

    await panel().locator("[data-test=log-toggle]").click();
    // The debug log shows what the core logged for this turn.
    const logText = await until(async () => {
      const t = await panel().locator("[data-test=log]").innerText();
      return t.includes("prompt-writer") && t.includes("workflow-builder") ? t : null;
    }, "debug lines of both skills");
    expect(logText).toMatch(/INFO|DEBUG/);
    await page.screenshot({ path: join(env().artifacts, "panel.png") });
  });

  it("stores the API key in the core only, never in the workflow", async () => {
    await panel().locator("[data-test=settings]").click();
    await panel().locator("[data-test=api-key]").fill(SECRET);
    await panel().locator("[data-test=api-key-set]").click();
    await until(async () => (await panel().locator("[data-test=settings-pane]").innerText()).includes("stored in comfyd"), "the key to be stored");
    expect(await panel().locator("[data-test=api-key]").inputValue()).toBe("");
    // Everything the page saves or sends: the workflow, the prompt,
    // ComfyUI's own persistence in localStorage and sessionStorage.
    await page.mouse.click(400, 780); // an empty spot: the change tracker captures on mouseup
    const saved = await page.evaluate(async () => {
      const app = window.comfyAPI.app.app;
      const p = await app.graphToPrompt();
      const store = (s) => Object.keys(s).map((k) => `${k}=${s.getItem(k)}`).join("\n");
      return JSON.stringify([app.rootGraph.serialize(), p.workflow, p.output, store(localStorage), store(sessionStorage)]);
    });
    expect(saved).toContain("ComfydAgentPanel");
    expect(saved).not.toContain(SECRET);
    // The panel is not part of the generation.
    const prompt = await page.evaluate(async () => (await window.comfyAPI.app.app.graphToPrompt()).output);
    expect(Object.values(prompt).map((n) => n.class_type)).not.toContain("ComfydAgentPanel");
    await panel().locator("[data-test=settings]").click();
  });

  it("survives a dropped socket mid-stream without a duplicate or a lost token", async () => {
    // Keep what the panel receives, to show it when this fails.
    await page.evaluate((id) => {
      const c = window.comfyAPI.app.app.rootGraph.getNodeById(id).__comfydPanel.client;
      const orig = c.onMessage.bind(c);
      window.__events = [];
      c.onMessage = (d) => {
        const m = JSON.parse(d);
        window.__events.push(`${m.event}:${m.seq ?? ""}${m.event === "stream_delta" ? `:${m.data.skill}#${m.data.index}` : ""}${m.event === "status_update" ? `:${m.data.status}` : ""}`);
        orig(d);
      };
    }, panelId);
    await send("Now describe the lighting of the scene in some detail please");
    await until(async () => {
      const r = await replies();
      return r.length === 2 && r[1].some(([, t]) => t.length > 0);
    }, "the second reply to start");
    // The network drops the panel's socket; it reconnects and joins with
    // the last seq it saw.
    const seqAtDrop = await page.evaluate((id) => {
      const ctl = window.comfyAPI.app.app.rootGraph.getNodeById(id).__comfydPanel;
      window.__droppedSocket = ctl.client.socket;
      ctl.client.socket.close();
      return ctl.state.lastSeq;
    }, panelId);
    expect(seqAtDrop).toBeGreaterThan(0);
    const live = await waitIdleWithReplies(2);
    const events = await page.evaluate(() => window.__events.join(" "));
    const after = await page.evaluate((id) => {
      const ctl = window.comfyAPI.app.app.rootGraph.getNodeById(id).__comfydPanel;
      return { reconnected: !!ctl.client.socket && ctl.client.socket !== window.__droppedSocket, lastSeq: ctl.state.lastSeq };
    }, panelId);
    expect(after.reconnected).toBe(true);
    expect(after.lastSeq).toBeGreaterThan(seqAtDrop);
    // The core's stored replies (a fresh page gets them from sync_state)
    // are exactly what the panel showed.
    await page.reload({ waitUntil: "domcontentloaded" });
    await waitAttached(page);
    await panel().waitFor();
    const reloaded = await waitIdleWithReplies(2);
    expect(reloaded, `events the panel received: ${events}`).toEqual(live);
  });

  it("reconnects to the same session after a reload, from the saved workflow", async () => {
    const w = await panelWidgets();
    expect(w.session_id).toMatch(/\S/);
    expect(w.skills).toBe(SKILLS.join(","));
    expect(await panel().locator("[data-test=session]").inputValue()).toBe(w.session_id);
    expect(await panel().locator("input[data-skill=prompt-writer]").isChecked()).toBe(true);
    const turns = await replies();
    expect(turns).toHaveLength(2);
    expect(turns.every((t) => t.length === 2)).toBe(true);
  });

  it("looks like part of ComfyUI (screenshots for the docs)", async () => {
    const view = (scale, offset) =>
      page.evaluate(([sc, off]) => {
        const c = window.comfyAPI.app.app.canvas;
        c.deselectAll?.();
        c.ds.scale = sc;
        c.ds.offset = off;
        c.setDirty(true, true);
      }, [scale, offset]);
    // The whole workflow with the panel beside it.
    await view(0.68, [90, 30]);
    await page.waitForTimeout(400);
    const shot = join(env().artifacts, "canvas-and-panel.png");
    await page.screenshot({ path: shot });
    // The panel at 100 %, with its debug log open during a turn.
    if (!(await panel().locator("[data-test=log]").count())) await panel().locator("[data-test=log-toggle]").click();
    await send("Make the cat orange");
    await waitIdleWithReplies(3);
    await view(1, [-1020, -420]);
    await page.waitForTimeout(400);
    const box = await panel().boundingBox();
    const panelShot = join(env().artifacts, "panel-node.png");
    await page.screenshot({ path: panelShot, clip: { x: Math.max(0, box.x - 12), y: Math.max(0, box.y - 44), width: box.width + 24, height: box.height + 56 } });
    // The docs' pictures come from the real ComfyUI (tests/comfyui/run.sh --screenshots).
    expect(page.comfydErrors).toEqual([]);
    expect((await graphOf(page)).nodes.some((n) => n.type === "ComfydAgentPanel")).toBe(true);
  });
  it("queues a prompt without the panel and without the key", async () => {
    const q = await bridge("POST", "/comfy/graph/queue", {});
    expect(q.status, JSON.stringify(q.body)).toBe(200);
    const prompts = await (await fetch(`${env().origin}/__test__/prompts`)).json();
    const body = JSON.stringify(prompts.at(-1).body);
    expect(body).not.toContain(SECRET);
    expect(Object.values(prompts.at(-1).body.prompt).map((n) => n.class_type)).not.toContain("ComfydAgentPanel");
    expect(body).toContain("ComfydAgentPanel"); // in the workflow kept with the prompt
  });

  it("attaches a dropped image and a pasted text file: chips, then thumbnails in the history", async () => {
    const before = (await replies()).length;
    // A 64x48 PNG dropped on the panel, a Markdown file pasted in the
    // input, and a PDF dropped (refused on its chip, never sent).
    await page.evaluate(async () => {
      const c = document.createElement("canvas");
      c.width = 64;
      c.height = 48;
      const g = c.getContext("2d");
      g.fillStyle = "#e08020";
      g.fillRect(0, 0, 64, 48);
      const png = await new Promise((res) => c.toBlob(res, "image/png"));
      const drop = (files) => {
        const dt = new DataTransfer();
        for (const f of files) dt.items.add(f);
        document.querySelector(".comfyd-panel").dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
      };
      drop([new File([png], "cat.png", { type: "image/png" }), new File(["%PDF-1.4"], "doc.pdf", { type: "application/pdf" })]);
      const dt = new DataTransfer();
      dt.items.add(new File(["# Notes\nthe cat is orange\n"], "notes.md", { type: "" }));
      document.querySelector(".comfyd-panel [data-test=input]").dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
    });
    const chips = panel().locator("[data-test=chips] .cd-att");
    await until(async () => {
      const st = await chips.evaluateAll((els) => els.map((e) => e.dataset.state));
      return st.length === 3 && !st.includes("uploading") ? st : null;
    }, "the three chips to settle");
    expect(await chips.evaluateAll((els) => els.map((e) => e.dataset.state))).toEqual(["ready", "failed", "ready"]);
    expect(await chips.nth(1).innerText()).toContain("not accepted");
    // The image chip shows its thumbnail before the message is sent.
    expect(await chips.nth(0).locator("img").count()).toBe(1);
    // ComfyUI did not take the dropped PNG for a workflow.
    expect((await graphOf(page)).nodes.some((n) => n.type === "ComfydAgentPanel")).toBe(true);

    await send("What colour is the cat?");
    const r = await waitIdleWithReplies(before + 1);
    // The echo model says back the text file and the image's description.
    for (const [, text] of r.at(-1)) {
      expect(text).toContain("the cat is orange");
      expect(text).toMatch(/attached image cat\.png: image\/png, 64x48 pixels/);
    }
    expect(await panel().locator("[data-test=chips]").count()).toBe(0);
    const thumb = panel().locator(".cd-turn").last().locator("img[data-test=attachment]");
    await until(async () => (await thumb.evaluate((i) => i.complete && i.naturalWidth)) === 64, "the thumbnail to load from the core");
    expect(await panel().locator(".cd-turn").last().locator("a[data-test=attachment]").innerText()).toBe("notes.md");
    // Click: full size; Escape closes it.
    await thumb.click();
    const overlay = page.locator("[data-test=image-overlay]");
    await overlay.waitFor();
    expect(await overlay.locator("img").evaluate((i) => i.naturalWidth)).toBe(64);
    await overlay.press("Escape");
    await until(async () => (await overlay.count()) === 0, "the overlay to close");
    await page.screenshot({ path: join(env().artifacts, "panel-attachments.png") });
    // After a reload the history still shows them (from the core).
    await page.reload({ waitUntil: "domcontentloaded" });
    await until(async () => (await panel().locator("img[data-test=attachment]").count()) === 1, "the attachment after a reload", 30000);
  });

  it("reverts to a reply (later turns go) and forks from a message into a new session", async () => {
    const turns = () => panel().locator(".cd-turn");
    await until(async () => (await status()).startsWith("idle"), "an idle session");
    const before = (await replies()).length;
    await send("one more turn, to be reverted");
    await waitIdleWithReplies(before + 1);
    const sid = (await panelWidgets()).session_id;

    // Revert to the last reply of the turn before: the new turn goes.
    const reply = turns().nth(before - 1).locator(".cd-reply").last();
    await reply.hover();
    await reply.locator("[data-test=reply-actions] [data-test=revert]").click();
    await until(async () => (await replies()).length === before, "the reverted turn to go");
    expect((await replies()).at(-1)).toHaveLength(SKILLS.length);
    expect(await panel().locator("[data-test=notice]").innerText()).toMatch(/later message\(s\) hidden/);
    // Undo it: the turn comes back; then revert again.
    await panel().locator("[data-test=unrevert]").click();
    await until(async () => (await replies()).length === before + 1, "the un-reverted turn to come back");
    expect(await panel().locator("[data-test=notice]").innerText()).toMatch(/are back/);
    await reply.hover();
    await reply.locator("[data-test=reply-actions] [data-test=revert]").click();
    await until(async () => (await replies()).length === before, "the turn to go again");
    // The core agrees, and says so after a reload too.
    await page.reload({ waitUntil: "domcontentloaded" });
    await until(async () => (await replies()).length === before && (await status()).startsWith("idle"), "the reverted history after a reload", 30000);

    // Fork from the first user message: a new session holding just it.
    const first = turns().first().locator(".cd-user");
    await first.hover();
    await first.locator("[data-test=fork]").click();
    await until(async () => {
      const w = await panelWidgets();
      return w.session_id && w.session_id !== sid ? w.session_id : null;
    }, "the panel to open the fork");
    await until(async () => (await turns().count()) === 1 && (await replies())[0].length === 0, "the fork's one message");
    expect(await panel().locator("[data-test=session] option:checked").innerText()).toMatch(/^↳ .*\(fork\)$/);
    await until(async () => (await panel().locator("[data-test=fork-of]").count()) === 1, "the fork's parent in the header");
    expect(await panel().locator("[data-test=fork-of]").innerText()).toMatch(/^fork of .+ at message \d+$/);
    await page.screenshot({ path: join(env().artifacts, "panel-fork.png") });
    // The link switches to the parent, which is no fork.
    await panel().locator("[data-test=fork-parent]").click();
    await until(async () => (await panelWidgets()).session_id === sid, "the panel to open the parent");
    await until(async () => (await panel().locator("[data-test=fork-of]").count()) === 0, "no fork line on the parent");
  });
});
