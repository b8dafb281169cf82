// The agent's loop on the real ComfyUI: a session of workflow-builder on
// the scripted model server (tests/llm/scripts/agent-loop-gpt-4o.json)
// builds a workflow with a checkpoint loader and no model, runs it, reads
// the failure report in its next request, fixes the workflow
// (EmptyImage -> ImageInvert -> SaveImage, 1280x720), runs it again and
// looks at the output with view_output. With vision (auto: the model name
// says gpt-4o) the image reaches the model as an image_url part of a user
// message right after the tool results, scaled down to 1024 pixels; with
// vision off the model gets the image's description and no image part.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { inflateSync } from "node:zlib";
import { HeadlessEditor, prepareLiteGraph } from "../../graph/editor.mjs";
import { Stack } from "../../graph/lib/stack.mjs";
import { SessionWs, startFakeLlm, toolMessages } from "../../agent/lib.mjs";
import { ComfyUI } from "../lib/comfyui.mjs";

const CANVAS = "tab-1:agent";
const MODEL = "agent-loop-gpt-4o";
const RUN_GUARD_MS = Number(process.env.COMFYD_RUN_GUARD_MS ?? 120000);

// Width and height from a PNG's IHDR, after checking that its pixel data
// inflates to the size they say.
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
    if (type === "IHDR") {
      w = data.readUInt32BE(0);
      h = data.readUInt32BE(4);
      ch = { 2: 3, 6: 4, 0: 1 }[data[9]];
    } else if (type === "IDAT") idat.push(data);
    off += 12 + len;
  }
  assert.equal(inflateSync(Buffer.concat(idat)).length, h * (1 + w * ch), "pixel data size");
  return [w, h];
}

// The image_url parts of the user messages of a recorded request:
// [{index, text, urls}] with index the message's position.
function imageMessages(req) {
  return (req.body.messages ?? [])
    .map((m, index) => ({ m, index }))
    .filter(({ m }) => m.role === "user" && Array.isArray(m.content))
    .map(({ m, index }) => ({
      index,
      text: m.content.filter((p) => p.type === "text").map((p) => p.text).join("\n"),
      urls: m.content.filter((p) => p.type === "image_url").map((p) => p.image_url.url),
    }))
    .filter((x) => x.urls.length);
}

const pngOfUrl = (url) => {
  assert.match(url, /^data:image\/png;base64,/);
  return Buffer.from(url.slice(url.indexOf(",") + 1), "base64");
};

describe("the agent's run -> fail -> fix -> view loop on the real ComfyUI", () => {
  let cui;
  let stack;
  let llm;
  let s;

  const logs = () => `${stack?.logs() ?? ""}\n---- ComfyUI ----\n${cui?.tail() ?? ""}`;

  before(async () => {
    cui = await new ComfyUI().start();
    const info = await cui.objectInfoFile();
    stack = await new Stack({ coreArgs: ["--comfyui", cui.base], objectInfo: info }).start();
    const lg = await prepareLiteGraph(info);
    const ed = new HeadlessEditor(lg, { url: stack.wsBase, token: stack.token, canvasId: CANVAS, title: "agent" });
    stack.editors.push(ed);
    await ed.connect();
    llm = await startFakeLlm(stack.root);
    s = await SessionWs.open(stack);
  });

  after(async () => {
    s?.close();
    llm?.stop();
    const codes = stack ? await stack.stop() : [];
    await cui?.stop();
    for (const [name, code] of codes) assert.equal(code, 0, `${name} exit code on SIGTERM`);
  });

  // One turn of the script on a fresh session with config extra; returns
  // the session's tool results and the model server's requests.
  async function loop(extra) {
    await fetch(`http://127.0.0.1:${llm.port}/_reset`, { method: "POST" });
    const seen = llm.requests().length;
    const sid = await s.createSession({ model: MODEL, skills: ["workflow-builder"], baseUrl: llm.baseUrl });
    if (extra) await s.request("configure", { session_id: sid, ...extra });
    const { from } = await s.send(sid, "Make me a 1280x720 picture of an inverted colour and show it to me.");
    const evs = await s.turnEnd(from, "the agent's turn").catch((e) => {
      throw new Error(`${e.message}\n${logs()}`);
    });
    const results = Object.fromEntries(
      evs.filter((e) => e.event === "tool_result").map((e) => [e.data.call_id, { ok: e.data.ok, json: JSON.parse(e.data.result_json) }]),
    );
    const reqs = llm.requests().slice(seen).filter((r) => r.model === MODEL);
    const reply = evs.filter((e) => e.event === "message_added" && e.data.message.role === "assistant").at(-1)?.data.message;
    return { sid, evs, results, reqs, reply };
  }

  it("vision (auto, a gpt-4o model): the failure is in the next request, the fixed run's image goes to the model as an image part", async () => {
    const { results, reqs, reply } = await loop();
    assert.equal(reply?.state, "done", JSON.stringify(reply));
    assert.equal(reqs.length, 4, reqs.map((r) => r.body.messages.length).join(","));

    // The failed run: ComfyUI refused the prompt naming the checkpoint
    // loader, and that report is what the model read next.
    const failed = results.call_run1.json;
    assert.equal(failed.status, "failed", JSON.stringify(failed));
    const sent = JSON.parse(toolMessages(reqs[1]).find((m) => m.tool_call_id === "call_run1").content);
    assert.deepEqual(sent, failed);
    const ne = sent.failure.errors.find((e) => e.node_type === "CheckpointLoaderSimple");
    assert.ok(ne, JSON.stringify(sent));
    assert.equal(ne.title, "Load Checkpoint");
    assert.equal(ne.input, "ckpt_name");
    assert.ok(ne.message.length > 0);
    assert.ok(Array.isArray(ne.allowed_values) || ne.allowed_values === undefined);
    assert.match(sent.failure.summary, /ComfyUI refused the prompt/);
    assert.match(sent.hint, /failure\.errors/);
    assert.equal(imageMessages(reqs[1]).length, 0, "a failed run shows no image");

    // The fixed run succeeded; its image follows the tool results.
    const ok = results.call_run2.json;
    assert.equal(ok.status, "succeeded", JSON.stringify(ok));
    const out = ok.outputs[0];
    assert.deepEqual(ok.images_shown, [{ node_id: out.node_id, index: 0 }]);
    const afterRun = imageMessages(reqs[2]);
    assert.equal(afterRun.length, 1, JSON.stringify(afterRun.map((x) => x.text)));
    const msgs2 = reqs[2].body.messages;
    assert.equal(msgs2[afterRun[0].index - 1].tool_call_id, "call_run2", "right after the run's result");

    // view_output: metadata for every model, and the picture as an
    // image_url part (a PNG data URL, scaled down to fit 1024 pixels).
    const view = results.call_view.json;
    assert.equal(view.prompt_id, ok.prompt_id);
    assert.equal(view.node_id, out.node_id);
    assert.match(view.filename, /^agent_loop_\d+_\.png$/);
    assert.deepEqual([view.width, view.height], [1280, 720]);
    assert.match(view.note, /image part, scaled down to fit 1024 pixels/);
    const last = reqs[3].body.messages;
    const shown = imageMessages(reqs[3]).filter((x) => x.index > last.findIndex((m) => m.tool_call_id === "call_view"));
    assert.equal(shown.length, 1);
    assert.equal(last[shown[0].index - 1].tool_call_id, "call_view");
    assert.equal(shown[0].urls.length, 1);
    assert.deepEqual(pngSize(pngOfUrl(shown[0].urls[0])), [1024, 576]);
    assert.match(shown[0].text, new RegExp(`node ${out.node_id}, file 0: agent_loop_\\d+_\\.png \\(1024x576\\)`));
    // The full-size output through the bridge is what ComfyUI wrote.
    const img = await fetch(`${stack.base}/comfy/runs/${ok.prompt_id}/outputs/${out.node_id}/0`, {
      headers: { authorization: `Bearer ${stack.token}` },
    });
    assert.equal(img.status, 200);
    assert.deepEqual(pngSize(Buffer.from(await img.arrayBuffer())), [1280, 720]);
  });

  it("vision off: the model gets the image's description and no image part", async () => {
    const { results, reqs, reply } = await loop({ vision: "off" });
    assert.equal(reply?.state, "done", JSON.stringify(reply));
    assert.equal(reqs.length, 4);
    for (const r of reqs) assert.deepEqual(imageMessages(r), [], "no image part");
    assert.equal(JSON.stringify(reqs.map((r) => r.body)).includes("image_url"), false);
    const ok = results.call_run2.json;
    assert.equal(ok.status, "succeeded");
    assert.equal(ok.images_shown, undefined);
    const view = JSON.parse(toolMessages(reqs[3]).find((m) => m.tool_call_id === "call_view").content);
    assert.equal(view.node_id, ok.outputs[0].node_id);
    assert.match(view.filename, /^agent_loop_\d+_\.png$/);
    assert.deepEqual([view.width, view.height], [1280, 720]);
    assert.ok(view.bytes > 0);
    assert.match(view.note, /description of the image, not the image/);
  });

  it("the session's vision setting is stored and checked", async () => {
    const sid = await s.createSession({ model: MODEL, skills: ["workflow-builder"], baseUrl: llm.baseUrl });
    const on = await s.request("configure", { session_id: sid, vision: "on" });
    assert.equal(on.data.session.config.vision, "on");
    await assert.rejects(s.request("configure", { session_id: sid, vision: "maybe" }), /INVALID_ARGUMENT.*vision must be "auto", "on" or "off"/);
    const list = await s.request("list", { page_size: 50 });
    assert.equal(list.data.sessions.find((x) => x.id === sid).config.vision, "on");
  });
});
