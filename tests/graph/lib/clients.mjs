// The peers the graph tests drive comfyd-bridge with: curl (HTTP/1.1 and
// h2c by prior knowledge), a WebSocket client for WS /comfy/graph/ws and
// /comfy/session/ws, and raw TCP sockets for what no well-behaved client
// sends.

import { spawn } from "node:child_process";
import { connect as tcpConnect } from "node:net";
import { randomBytes } from "node:crypto";
import WebSocket from "ws";

// ------------------------------------------------------------------ curl

// Runs curl once. opts: body (object → JSON, string/Buffer as is), headers
// (object; null value drops the header), h2 (prior knowledge), token
// (default the stack's; false for none), timeoutS.
// Resolves { status, httpVersion, headers, text, json }.
export function curl(stack, method, path, opts = {}) {
  const { body, h2 = false, timeoutS = 30 } = opts;
  const token = opts.token === undefined ? stack.token : opts.token;
  const headers = { "content-type": "application/json", ...(opts.headers ?? {}) };
  if (token) headers.authorization ??= `Bearer ${token}`;
  const args = ["-sS", "-X", method, "-D", "-", "-o", "-", "-w", "\n%{http_code} %{http_version}", "--max-time", String(timeoutS)];
  if (h2) args.push("--http2-prior-knowledge");
  else args.push("--http1.1");
  // curl would otherwise wait for "100 Continue" before larger bodies.
  args.push("-H", "Expect:");
  for (const [k, v] of Object.entries(headers)) {
    if (v === null) args.push("-H", `${k}:`);
    else args.push("-H", `${k}: ${v}`);
  }
  let input = null;
  if (body !== undefined) {
    input = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
    args.push("--data-binary", "@-");
  }
  const url = opts.url ?? `${stack.base}${path}`;
  args.push(url);
  return new Promise((resolve, reject) => {
    const p = spawn("curl", args, { stdio: ["pipe", "pipe", "pipe"] });
    const out = [];
    const err = [];
    p.stdout.on("data", (d) => out.push(d));
    p.stderr.on("data", (d) => err.push(d));
    p.stdin.on("error", () => {});
    if (input) p.stdin.end(input);
    else p.stdin.end();
    p.on("error", reject);
    p.on("close", (code) => {
      const all = Buffer.concat(out).toString("utf8");
      const nl = all.lastIndexOf("\n");
      const [statusText, httpVersion] = all.slice(nl + 1).split(" ");
      let rest = all.slice(0, nl);
      const status = Number(statusText);
      if (code !== 0 && !status) {
        return reject(new Error(`curl ${method} ${path} failed (${code}): ${Buffer.concat(err).toString()}`));
      }
      // Header blocks (an interim 1xx may precede the final one).
      const hdrs = {};
      while (/^HTTP\/[0-9.]+ \d{3}/.test(rest)) {
        const end = rest.indexOf("\r\n\r\n");
        if (end < 0) break;
        const block = rest.slice(0, end);
        rest = rest.slice(end + 4);
        if (/^HTTP\/[0-9.]+ 1\d\d/.test(block)) continue;
        for (const line of block.split("\r\n").slice(1)) {
          const i = line.indexOf(":");
          if (i > 0) hdrs[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
        }
      }
      let json;
      try {
        json = rest.length ? JSON.parse(rest) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ status, httpVersion, headers: hdrs, text: rest, json, curlExit: code });
    });
  });
}

export const post = (stack, path, body, opts = {}) => curl(stack, "POST", path, { ...opts, body });
export const get = (stack, path, opts = {}) => curl(stack, "GET", path, opts);

// ------------------------------------------------------------- WebSocket

// Opens a WebSocket; resolves once open. opts: token (default the stack's;
// false: none), query (extra), headers, origin, protocols (subprotocols
// offered; the token then travels only if given here or in the query).
export function openWs(stack, path, opts = {}) {
  const token = opts.token === undefined ? stack.token : opts.token;
  const q = new URLSearchParams(opts.query ?? {});
  if (token) q.set("token", token);
  const qs = q.toString();
  const url = `${stack.wsBase}${path}${qs ? "?" + qs : ""}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts.protocols ?? [], { headers: opts.headers ?? {}, origin: opts.origin, maxPayload: 64 << 20 });
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => {
      const e = new Error(`WebSocket upgrade refused: HTTP ${res.statusCode}`);
      e.status = res.statusCode;
      reject(e);
    });
    ws.once("error", reject);
  });
}

// WS /comfy/graph/ws: request/response by request_id.
export class GraphWs {
  constructor(ws) {
    this.ws = ws;
    this.pending = new Map();
    this.next = 1;
    this.unmatched = [];
    ws.on("message", (data) => {
      let msg;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        this.unmatched.push(String(data));
        return;
      }
      const p = this.pending.get(String(msg.request_id));
      if (p) {
        this.pending.delete(String(msg.request_id));
        clearTimeout(p.timer);
        p.resolve(msg);
      } else this.unmatched.push(msg);
    });
    ws.on("close", () => {
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error("graph ws closed"));
      }
      this.pending.clear();
    });
  }

  static async open(stack, opts) {
    return new GraphWs(await openWs(stack, "/comfy/graph/ws", opts));
  }

  // Sends {request_id, ...msg}; resolves with the answer carrying it.
  request(msg, guardMs = 20000) {
    const id = msg.request_id ?? `r${this.next++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(String(id));
        reject(new Error(`no answer to ${id} within ${guardMs} ms`));
      }, guardMs);
      this.pending.set(String(id), { resolve, reject, timer });
      this.ws.send(JSON.stringify({ ...msg, request_id: id }));
    });
  }

  close() {
    this.ws.close();
  }
}

// ------------------------------------------------------------ raw sockets

// Sends bytes (a Buffer, a string, or an array of chunks written with
// gapMs between them) and collects everything until the peer closes or
// guardMs passes. Resolves { data (Buffer), closed (by the peer), ms }.
export function rawExchange(port, chunks, { guardMs = 5000, gapMs = 0, keepOpenMs = 0 } = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const sock = tcpConnect(port, "127.0.0.1");
    const got = [];
    let done = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(guard);
      sock.destroy();
      resolve({ data: Buffer.concat(got), closed, ms: Date.now() - t0 });
    };
    const guard = setTimeout(() => finish(false), guardMs);
    sock.on("data", (d) => got.push(d));
    sock.on("end", () => finish(true));
    sock.on("close", () => finish(true));
    sock.on("error", () => finish(true));
    sock.on("connect", async () => {
      const list = Array.isArray(chunks) ? chunks : [chunks];
      for (const c of list) {
        if (done) return;
        sock.write(c);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
      if (keepOpenMs) await new Promise((r) => setTimeout(r, keepOpenMs));
    });
  });
}

export function statusOf(raw) {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw.toString("latin1"));
  return m ? Number(m[1]) : 0;
}

// Opens a WebSocket by hand on a raw socket (for frames a library never
// sends). Resolves { sock, frames(): parsed frames so far, closed }.
export function rawWebSocket(stack, path) {
  return new Promise((resolve, reject) => {
    const sock = tcpConnect(stack.port, "127.0.0.1");
    const key = randomBytes(16).toString("base64");
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const state = { sock, frames: [], closed: false, buf: Buffer.alloc(0) };
    const guard = setTimeout(() => reject(new Error("raw WebSocket handshake timed out")), 5000);
    sock.on("connect", () => {
      sock.write(
        `GET ${path}?token=${stack.token} HTTP/1.1\r\nHost: ${stack.hostHeader}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buf.slice(0, end).toString("latin1");
        buf = buf.slice(end + 4);
        if (!/^HTTP\/1\.1 101/.test(head)) {
          clearTimeout(guard);
          sock.destroy();
          return reject(new Error(`upgrade refused: ${head.split("\r\n")[0]}`));
        }
        upgraded = true;
        clearTimeout(guard);
        resolve(state);
      }
      // Parse server frames (never masked).
      for (;;) {
        if (buf.length < 2) break;
        const op = buf[0] & 0x0f;
        let len = buf[1] & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) break;
          len = buf.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (buf.length < 10) break;
          len = Number(buf.readBigUInt64BE(2));
          off = 10;
        }
        if (buf.length < off + len) break;
        const payload = buf.slice(off, off + len);
        buf = buf.slice(off + len);
        const f = { op, payload };
        if (op === 8) f.code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        state.frames.push(f);
      }
    });
    sock.on("close", () => {
      state.closed = true;
    });
    sock.on("error", () => {
      state.closed = true;
    });
  });
}

// One client frame. mask: false sends it unmasked (a protocol error).
export function wsFrame(op, payload, { mask = true, fin = true } = {}) {
  const p = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const head = [((fin ? 0x80 : 0) | op) & 0xff];
  const m = mask ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (p.length < 126) head.push(m | p.length);
  else if (p.length < 65536) {
    head.push(m | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(p.length);
  } else {
    head.push(m | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(BigInt(p.length));
  }
  if (!mask) return Buffer.concat([Buffer.from(head), ext, p]);
  const key = randomBytes(4);
  const body = Buffer.alloc(p.length);
  for (let i = 0; i < p.length; i++) body[i] = p[i] ^ key[i & 3];
  return Buffer.concat([Buffer.from(head), ext, key, body]);
}

// Waits until the raw WebSocket got a close frame (resolves its code) or
// the TCP connection ended without one (resolves null).
export async function rawCloseCode(state, guardMs = 5000) {
  const deadline = Date.now() + guardMs;
  while (Date.now() < deadline) {
    const c = state.frames.find((f) => f.op === 8);
    if (c) return c.code;
    if (state.closed) return null;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no close frame within ${guardMs} ms`);
}
