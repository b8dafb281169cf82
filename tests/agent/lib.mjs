// Helpers of the agent scenarios: the scripted model server (fake_llm.py
// over tests/llm/fake_openai.py) and a client of the bridge's session
// socket (WS /comfy/session/ws). The services and the headless editor come
// from tests/graph/lib.

import { spawn } from "node:child_process";
import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openWs } from "../graph/lib/clients.mjs";

export const AGENT_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(AGENT_DIR, "..", "..");
export const SCRIPTS = path.join(REPO, "tests", "llm", "scripts");
export const FIXTURES = path.join(REPO, "tests", "fixtures");

// Hang guard for what must happen (not a performance limit).
export const GUARD_MS = Number(process.env.COMFYD_AGENT_GUARD_MS ?? 60000);

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function fixtureWorkflow() {
  return JSON.parse(readFileSync(path.join(FIXTURES, "txt2img_workflow.json"), "utf8"));
}

// ------------------------------------------------------------ the model

// Starts fake_llm.py on a free port; requests are recorded in dir/llm.jsonl.
export function startFakeLlm(dir) {
  const record = path.join(dir, "llm.jsonl");
  const child = spawn(
    "/usr/bin/python3",
    [path.join(AGENT_DIR, "fake_llm.py"), "--scripts", SCRIPTS, "--port", "0", "--record", record, "--exit-on-stdin-eof"],
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
        port: Number(m[1]),
        baseUrl: `http://127.0.0.1:${m[1]}/v1`,
        // Every chat request so far, oldest first: {model, body, ...}.
        requests() {
          if (!existsSync(record)) return [];
          return readFileSync(record, "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l));
        },
        stop() {
          child.stdin.end();
          child.kill("SIGTERM");
        },
      });
    });
  });
}

// The text of the system message of a recorded request.
export function systemText(req) {
  return (req.body.messages ?? []).find((m) => m.role === "system")?.content ?? "";
}

// The tool messages of a recorded request: [{tool_call_id, content}].
export function toolMessages(req) {
  return (req.body.messages ?? []).filter((m) => m.role === "tool");
}

// ------------------------------------------------------ the session socket

export class SessionWs {
  constructor(ws) {
    this.ws = ws;
    this.events = [];
    this.waiters = new Set();
    this.next = 1;
    ws.on("message", (data) => {
      let msg;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        return;
      }
      msg.at = performance.now();
      this.events.push(msg);
      for (const w of [...this.waiters]) w.check();
    });
  }

  static async open(stack) {
    return new SessionWs(await openWs(stack, "/comfy/session/ws"));
  }

  // Resolves with the first event (from index `from` on) that pred accepts.
  waitFor(pred, what, { from = 0, guardMs = GUARD_MS } = {}) {
    return new Promise((resolve, reject) => {
      const w = {
        check: () => {
          for (let i = from; i < this.events.length; i++) {
            if (pred(this.events[i])) {
              clearTimeout(w.timer);
              this.waiters.delete(w);
              resolve(this.events[i]);
              return;
            }
          }
        },
      };
      w.timer = setTimeout(() => {
        this.waiters.delete(w);
        const seen = this.events.slice(-30).map((e) => `${e.event} ${JSON.stringify(e.data ?? {}).slice(0, 200)}`);
        reject(new Error(`${what}: not within ${guardMs} ms; last events:\n${seen.join("\n")}`));
      }, guardMs);
      this.waiters.add(w);
      w.check();
    });
  }

  // Sends {event, request_id, data}; resolves with the answer or error.
  async request(event, data) {
    const id = `q${this.next++}`;
    const from = this.events.length;
    this.ws.send(JSON.stringify({ event, request_id: id, data }));
    const ans = await this.waitFor((e) => e.request_id === id, `answer to ${event}`, { from });
    if (ans.event === "error") throw new Error(`${event}: ${ans.data?.code} ${ans.data?.message}`);
    return ans;
  }

  // Creates a session on the scripted model and joins it.
  async createSession({ model, skills, baseUrl, title = "agent test" }) {
    const created = await this.request("create", {
      title,
      config: { provider: "openai", model, base_url: baseUrl, active_skills: skills },
    });
    const id = created.data.session.id;
    const from = this.events.length;
    this.ws.send(JSON.stringify({ event: "join", data: { session_id: id } }));
    await this.waitFor((e) => e.event === "sync_state", "sync_state", { from });
    return id;
  }

  // Sends a user message; resolves with {turnId, from} (from: the event
  // index before it, for waiting on the turn's events).
  async send(sessionId, content) {
    const from = this.events.length;
    const ack = await this.request("user_message", {
      session_id: sessionId,
      content,
      client_message_id: `m${this.next++}`,
    });
    return { turnId: Number(ack.data.message.turn_id ?? ack.data.message.id), from };
  }

  // Waits for the end of the turn started at event index from; resolves
  // with the events of the turn.
  async turnEnd(from, what = "turn end") {
    const end = await this.waitFor(
      (e) => e.event === "status_update" && e.data?.status !== "working" && /^turn /.test(e.data?.detail ?? ""),
      what,
      { from },
    );
    return this.events.slice(from, this.events.indexOf(end) + 1);
  }

  close() {
    this.ws.close();
  }
}

// Events of a kind (and skill) among evs.
export function eventsOf(evs, kind, skill) {
  return evs.filter((e) => e.event === kind && (skill === undefined || e.data?.skill === skill));
}

// The assistant messages of a turn by skill: {skill: message}.
export function repliesOf(evs) {
  const out = {};
  for (const e of eventsOf(evs, "message_added")) {
    const m = e.data.message;
    if (m.role === "assistant") out[m.skill] = m;
  }
  return out;
}
