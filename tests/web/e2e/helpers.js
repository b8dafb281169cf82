// Shared pieces of the browser tests: Debian's Chromium through
// playwright-core, pages of the test host, and the bridge's HTTP API.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { inject } from "vitest";

export const env = () => inject("e2e");

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A browser context on a new, empty profile. */
export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), "comfyd-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 900 },
  });
  const close = async () => {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

/** Opens the frontend and waits until the extension's canvas is attached. */
export async function openComfy(context, { page } = {}) {
  const p = page ?? (await context.newPage());
  const errors = [];
  p.on("pageerror", (e) => errors.push(String(e?.stack ?? e)));
  p.on("console", (m) => {
    if (m.type() === "error" && /comfyd/i.test(m.text())) errors.push(m.text());
  });
  p.comfydErrors = errors;
  await p.goto(env().origin, { waitUntil: "domcontentloaded" });
  await waitAttached(p);
  return p;
}

export async function waitAttached(p, timeout = 60000) {
  await p.waitForFunction(() => window.comfyAPI?.app?.app?.rootGraph && window.comfyd?.editor?.status === "attached", null, { timeout, polling: 100 });
}

/** Calls the bridge's HTTP API as an outside caller (bearer token). */
export async function bridge(method, path, body, headers = {}) {
  const e = env();
  const r = await fetch(`${e.bridge}${path}`, {
    method,
    headers: { Authorization: `Bearer ${e.token}`, "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = { raw: text };
  }
  return { status: r.status, body: json };
}

export const graphOf = (p) => p.evaluate(() => window.comfyAPI.app.app.rootGraph.serialize());

export const canvasIdOf = (p) => p.evaluate(() => window.comfyd.editor.canvasId);

/** Waits until fn() is truthy; an fn that throws (a process that is
 * restarting, say) is tried again. */
export async function until(fn, what, ms = 20000) {
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
    await new Promise((r) => setTimeout(r, 100));
  }
  const why = error ? `error: ${error.message}` : `last: ${JSON.stringify(last)?.slice(0, 300)}`;
  throw new Error(`timed out: ${what} (${why})`);
}

/** The txt2img workflow of tests/fixtures as one batch for the bridge. */
export function txt2imgCommands() {
  return [
    { type: "create_node", node_type: "CheckpointLoaderSimple", ref: "ckpt", x: 26, y: 474, widgets: { ckpt_name: "sd_xl_base_1.0.safetensors" } },
    { type: "create_node", node_type: "CLIPTextEncode", ref: "pos", x: 415, y: 186, widgets: { text: "beautiful scenery nature glass bottle landscape, purple galaxy bottle" } },
    { type: "create_node", node_type: "CLIPTextEncode", ref: "neg", x: 413, y: 389, widgets: { text: "text, watermark" } },
    { type: "create_node", node_type: "EmptyLatentImage", ref: "latent", x: 473, y: 609, widgets: { width: 512, height: 512, batch_size: 1 } },
    { type: "create_node", node_type: "KSampler", ref: "sampler", x: 863, y: 186, widgets: { seed: 156680208700286, control_after_generate: "fixed", steps: 20, cfg: 8, sampler_name: "euler", scheduler: "normal", denoise: 1 } },
    { type: "create_node", node_type: "VAEDecode", ref: "decode", x: 1209, y: 188 },
    { type: "create_node", node_type: "SaveImage", ref: "save", x: 1451, y: 189, widgets: { filename_prefix: "ComfyUI" } },
    { type: "connect", from_id: "ckpt", from_slot: 0, to_id: "sampler", to_slot: "model" },
    { type: "connect", from_id: "latent", from_slot: 0, to_id: "sampler", to_slot: "latent_image" },
    { type: "connect", from_id: "ckpt", from_slot: 1, to_id: "pos", to_slot: "clip" },
    { type: "connect", from_id: "pos", from_slot: 0, to_id: "sampler", to_slot: "positive" },
    { type: "connect", from_id: "ckpt", from_slot: 1, to_id: "neg", to_slot: "clip" },
    { type: "connect", from_id: "neg", from_slot: 0, to_id: "sampler", to_slot: "negative" },
    { type: "connect", from_id: "sampler", from_slot: 0, to_id: "decode", to_slot: "samples" },
    { type: "connect", from_id: "ckpt", from_slot: 2, to_id: "decode", to_slot: "vae" },
    { type: "connect", from_id: "decode", from_slot: 0, to_id: "save", to_slot: "images" },
  ];
}
