// Preview before apply in the stock ComfyUI frontend: an outside caller's
// patch with apply_mode "preview" is drawn over the canvas with Accept and
// Reject (web/src/executor/preview.js); Accept applies it as one undo step,
// Reject changes nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { bridge, env, graphOf, launch, openComfy, txt2imgCommands, until } from "./helpers.js";

let browser;
let page;

const batch = (commands, extra = {}) => bridge("POST", "/comfy/graph/batch", { commands, ...extra });
const steps = async (sampler) => (await graphOf(page)).nodes.find((n) => n.id === sampler)?.widgets_values?.[2];

beforeAll(async () => {
  browser = await launch();
  page = await openComfy(browser.context);
});

afterAll(async () => {
  await browser?.close();
});

describe("preview before apply in the stock frontend", () => {
  let refs;

  it("the tab attaches able to show previews", async () => {
    await batch([{ type: "clear_graph" }]);
    const r = await batch(txt2imgCommands());
    expect(r.body.ok).toBe(true);
    refs = r.body.refs;
  });

  it("accepted: drawn first, applied on Accept, one Ctrl+Z takes it all back", async () => {
    const before = await graphOf(page);
    const pending = batch(
      [
        { type: "set_widget", node_id: refs.sampler, name: "steps", value: 42 },
        { type: "remove_node", node_id: refs.save },
        { type: "create_node", node_type: "PreviewImage", ref: "pv", x: 1450, y: 500 },
        { type: "connect", from_id: refs.decode, from_slot: 0, to_id: "pv", to_slot: 0 },
      ],
      { apply_mode: "preview", preview_timeout_ms: 60000 },
    );
    const bar = page.locator(".comfyd-preview");
    await bar.waitFor({ state: "visible", timeout: 20000 });
    expect(await bar.textContent()).toContain("removes work");
    // Nothing changed while the user looks at it.
    expect((await graphOf(page)).nodes).toHaveLength(before.nodes.length);
    expect(await steps(refs.sampler)).toBe(20);
    await page.screenshot({ path: join(env().artifacts, "preview-overlay.png") });
    await page.locator(".comfyd-preview-accept").click();
    const r = await pending;
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.ok, JSON.stringify(r.body)).toBe(true);
    expect(r.body.preview.outcome).toBe("PREVIEW_OUTCOME_ACCEPTED");
    await bar.waitFor({ state: "detached", timeout: 5000 });
    const after = await graphOf(page);
    expect(after.nodes.map((n) => n.type).sort()).toContain("PreviewImage");
    expect(after.nodes.find((n) => n.id === refs.save)).toBeUndefined();
    expect(await steps(refs.sampler)).toBe(42);
    // One undo step takes back the whole accepted patch.
    await page.mouse.click(700, 860);
    await page.keyboard.press("Control+z");
    await until(async () => (await steps(refs.sampler)) === 20 || null, "the accepted preview to be undone");
    const undone = await graphOf(page);
    expect(undone.nodes.map((n) => n.type).sort()).toEqual(before.nodes.map((n) => n.type).sort());
    expect(undone.nodes.find((n) => n.id === refs.save)).toBeDefined();
  });

  it("rejected: nothing changes and the caller is told", async () => {
    // The undo above is a user edit: let it reach the core first.
    await page.waitForTimeout(2000);
    const before = await graphOf(page);
    const pending = batch([{ type: "clear_graph" }], { apply_mode: "preview", preview_timeout_ms: 60000 });
    await page.locator(".comfyd-preview").waitFor({ state: "visible", timeout: 20000 });
    await page.locator(".comfyd-preview-reject").click();
    const r = await pending;
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.ok).toBe(false);
    expect(r.body.preview.outcome).toBe("PREVIEW_OUTCOME_REJECTED");
    await page.locator(".comfyd-preview").waitFor({ state: "detached", timeout: 5000 });
    const after = await graphOf(page);
    expect(after.nodes.map((n) => [n.id, n.type, n.widgets_values])).toEqual(before.nodes.map((n) => [n.id, n.type, n.widgets_values]));
  });
});
