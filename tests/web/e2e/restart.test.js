// Crashes of comfyd-bridge and of comfyd: the package's supervisor starts
// them again, and the page reconnects, attaches again and resynchronises
// without a reload.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bridge, canvasIdOf, env, graphOf, launch, openComfy, until } from "./helpers.js";

let browser;
let page;

const children = async () => (await fetch(`${env().origin}/__test__/children`)).json();

async function crash(name) {
  const before = await children();
  expect(before[name], `${name} was started by the package`).toBeGreaterThan(0);
  process.kill(before[name], "SIGKILL");
  // The supervisor notices within a second and starts it again.
  return until(async () => {
    const now = await children();
    return now[name] && now[name] !== before[name] ? now[name] : null;
  }, `${name} to be started again`, 30000);
}

const status = () => page.evaluate(() => window.comfyd.editor.status);

beforeAll(async () => {
  browser = await launch();
  page = await openComfy(browser.context);
});

afterAll(async () => {
  await browser?.close();
});

describe("after a restart", () => {
  it("of comfyd-bridge, the tab re-attaches and takes commands again", async () => {
    await crash("comfyd-bridge");
    await until(async () => (await bridge("GET", "/healthz")).status === 200, "the new bridge to answer", 30000);
    await until(async () => (await status()) === "attached" && (await bridge("GET", "/comfy/graph/canvases")).body.canvases?.length > 0, "the tab to attach again", 30000);
    const r = await bridge("POST", "/comfy/graph/batch", { canvas_id: await canvasIdOf(page), commands: [{ type: "create_node", node_type: "VAEDecode", ref: "v", x: 0, y: 0 }] });
    expect(r.body.ok, JSON.stringify(r.body)).toBe(true);
    expect((await graphOf(page)).nodes.some((n) => n.id === r.body.refs.v)).toBe(true);
  });

  it("of comfyd, the tab brings the new core's mirror up to date", async () => {
    const id = await canvasIdOf(page);
    await crash("comfyd");
    await until(async () => {
      const g = await bridge("POST", "/comfy/graph/command", { type: "get_graph", canvas_id: id });
      return g.status === 200 && !g.body.graph?.stale && g.body.graph?.nodes?.length === (await graphOf(page)).nodes.length;
    }, "the new core to have the tab's graph", 40000);
    const r = await bridge("POST", "/comfy/graph/batch", { canvas_id: id, commands: [{ type: "create_node", node_type: "SaveImage", ref: "s", x: 300, y: 0 }] });
    expect(r.body.ok, JSON.stringify(r.body)).toBe(true);
    expect((await graphOf(page)).nodes.some((n) => n.id === r.body.refs.s && n.type === "SaveImage")).toBe(true);
    expect(page.comfydErrors).toEqual([]);
  });
});
