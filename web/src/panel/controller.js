// What the agent panel does, without the view: it keeps the node's saved
// configuration (hidden widgets: session, provider, model, base URL, system
// prompt, skills), talks to the session socket, and exposes the actions
// the Vue view binds to. The API key goes to the core only: it is never
// put into a widget, a property or anything else the workflow saves.

import { isOutageError, SessionClient } from "./session-client.js";
import { applyRun, MAX_RUNS } from "./runs.js";
import { ackPendingTurn, addPendingTurn, createState, failPendingTurn, waitPendingTurn } from "./session-store.js";

/** The node's saved configuration: widget name -> default. Order matters:
 * it is the order of widgets_values in saved workflows. */
export const CONFIG_WIDGETS = Object.freeze([
  ["session_id", ""],
  ["provider", "echo"],
  ["model", ""],
  ["base_url", ""],
  ["system_prompt", ""],
  ["skills", ""],
]);

export const PROVIDERS = Object.freeze(["echo", "openai"]);

/** The skill a new panel starts with ticked, when the core has it: a first
 * message then gets an answer without a trip to the skill chips. */
export const DEFAULT_SKILL = "workflow-builder";

/** Bounds of what the panel sends (the core checks them again). */
const MAX_MESSAGE = 64 * 1024;
const MAX_FIELD = 4096;
const MAX_PROMPT = 64 * 1024;

/** Attachments (the core's named limits, checked here first so the chip
 * says why at once): files per message, bytes per file, accepted types. */
export const MAX_ATTACHMENTS = 8; // BLOB_MAX_PER_MESSAGE
export const MAX_ATTACHMENT_BYTES = 3 << 20; // BLOB_MAX_BYTES
export const ATTACHMENT_TYPES = Object.freeze(["image/png", "image/jpeg", "image/webp", "image/gif", "text/plain", "text/markdown", "application/json"]);
const BY_EXTENSION = { md: "text/markdown", markdown: "text/markdown", json: "application/json", txt: "text/plain", png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", webp: "image/webp", gif: "image/gif" };

/** The type a file is sent as: its own when known, else from its name. */
export function attachmentType(file) {
  const t = String(file?.type ?? "").toLowerCase();
  if (ATTACHMENT_TYPES.includes(t)) return t;
  const ext = String(file?.name ?? "").toLowerCase().split(".").pop();
  return BY_EXTENSION[ext] ?? t;
}

let chipCounter = 0;

export function parseSkills(text) {
  if (Array.isArray(text)) return text.map(String).filter(Boolean);
  return String(text ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

let counter = 0;
function clientMessageId() {
  const rnd = globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  counter += 1;
  return `panel-${rnd}-${counter}`;
}

/** The form's view of a session config (the core's or one sent). */
function configOf(c) {
  const out = {
    provider: String(c.provider || "echo"),
    model: String(c.model ?? ""),
    base_url: String(c.base_url ?? ""),
    system_prompt: String(c.system_prompt ?? ""),
  };
  if (Array.isArray(c.active_skills)) out.skills = c.active_skills.map(String);
  return out;
}

function sameValue(a, b) {
  return Array.isArray(a) || Array.isArray(b) ? JSON.stringify(a) === JSON.stringify(b) : a === b;
}

export class PanelController {
  /**
   * deps: {connection, WebSocket, reactive, timers?, log?,
   *        readConfig(): {name: value}, writeConfig(name, value),
   *        app? (the ComfyUI app: node titles, selecting a node),
   *        getJson?(path) (GET on ComfyUI's own server, same origin),
   *        apiUrl?(path) (the URL of such a path, for <img>)}
   */
  constructor(deps) {
    this.d = deps;
    this.creatingSession = null; // the pending createSession(), or null
    this.settingsQueue = Promise.resolve(); // settings changes, one at a time (settingsStep)
    const reactive = deps.reactive ?? ((x) => x);
    this.state = reactive(createState());
    this.ui = reactive({
      connected: false,
      sessions: [],
      searchQuery: "",
      searchHits: null, // null: no search shown; [] none found
      skills: [],
      skillErrors: [],
      form: this.formFromConfig(deps.readConfig()),
      apiKey: "",
      showSettings: false,
      showLog: false,
      notice: "",
      // A revert with the canvas refused because the canvas changed since
      // the agent's change: {messageId, message} (the core's sentence,
      // listing those changes), offering to restore anyway.
      staleRevert: null,
      draft: "",
      busy: false,
      offlineReason: "", // why the bridge cannot be reached (the supervisor's word)
      outage: "", // why the core is away while the bridge answers
      image: "", // URL of the output shown full size ("" = none)
      // Files picked, dropped or pasted for the next message:
      // [{key, name, mime, size, state: "uploading"|"ready"|"failed", error, sha256, preview}]
      attachments: [],
    });
    // Messages written while the core was away, sent again (same client
    // id, so the core keeps one) once it answers: [{cid, sid, content}].
    this.outbox = [];
    this.client = new SessionClient({
      connection: deps.connection,
      WebSocket: deps.WebSocket,
      timers: deps.timers,
      log: deps.log,
      state: this.state,
      onOpen: () => this.onOpen(),
      onClose: () => {
        this.ui.connected = false;
      },
      onChange: () => this.onChange(),
      onOffline: (reason) => {
        this.ui.offlineReason = reason;
      },
      onOutage: (reason) => {
        this.ui.outage = reason;
      },
      onRecovered: () => this.onRecovered(),
      onJoin: (sid) => this.refreshRuns(sid),
    });
  }

  formFromConfig(cfg) {
    const c = cfg ?? {};
    return {
      session_id: String(c.session_id ?? ""),
      provider: String(c.provider || "echo"),
      model: String(c.model ?? ""),
      base_url: String(c.base_url ?? ""),
      system_prompt: String(c.system_prompt ?? ""),
      skills: parseSkills(c.skills),
    };
  }

  start() {
    if (this.ui.form.session_id) this.client.join(this.ui.form.session_id);
    this.client.start();
  }

  stop() {
    this.client.stop();
  }

  /** The workflow was reloaded into the node (undo, load): follow it. */
  reloadConfig() {
    const f = this.formFromConfig(this.d.readConfig());
    const switched = f.session_id !== this.ui.form.session_id;
    this.ui.form = f;
    if (switched) this.client.join(f.session_id);
  }

  async onOpen() {
    this.ui.connected = true;
    this.ui.offlineReason = "";
    this.ui.notice = "";
    await Promise.allSettled([this.refreshSkills(), this.refreshSessions()]);
    if (!this.client.outage) this.flushOutbox();
  }

  /** The core answers again after an outage: refresh what failed and
   * deliver the messages written meanwhile. */
  async onRecovered() {
    this.ui.outage = "";
    this.ui.notice = "";
    this.flushOutbox();
    await Promise.allSettled([this.refreshSkills(), this.refreshSessions()]);
  }

  flushOutbox() {
    const list = this.outbox;
    this.outbox = [];
    for (const m of list) this.deliver(m);
  }

  /** Sends one user message; an outage keeps it for the recovery. */
  async deliver(m) {
    try {
      const req = { session_id: m.sid, content: m.content, client_message_id: m.cid };
      if (m.attachments?.length) req.attachments = m.attachments;
      const r = await this.client.request("user_message", req);
      if (m.sid === this.state.sessionId) ackPendingTurn(this.state, m.cid, r.message);
    } catch (e) {
      if (isOutageError(e) && !this.client.stopped) {
        waitPendingTurn(this.state, m.cid);
        this.outbox.push(m);
      } else {
        failPendingTurn(this.state, m.cid, e.message);
      }
    }
  }

  onChange() {
    // The core's configuration wins over the form for what it knows, except
    // for a field the user changed since the core last said it: that change
    // is on its way (saveConfig, toggleSkill) and an echo of an older
    // configure must not undo it (a URL typed while the model's configure
    // was answered was lost that way).
    const c = this.state.config;
    if (!c) return;
    const core = configOf(c);
    const prev = this.coreConfig?.sid === this.state.sessionId ? this.coreConfig.values : null;
    const f = this.ui.form;
    for (const [k, v] of Object.entries(core)) {
      const edited = prev && !sameValue(f[k], prev[k]);
      if (!edited && !sameValue(f[k], v)) {
        f[k] = v;
        this.d.writeConfig(k, k === "skills" ? v.join(",") : v);
      }
    }
    this.coreConfig = { sid: this.state.sessionId, values: core };
  }

  async refreshSkills() {
    try {
      const r = await this.client.request("list_skills", {});
      this.ui.skills = (r.skills ?? []).map((s) => ({ name: String(s.name), description: String(s.description ?? "") }));
      this.ui.skillErrors = (r.errors ?? []).map((e) => `${e.path}: ${e.message}`);
      this.tickDefaultSkill();
    } catch (e) {
      if (!isOutageError(e)) this.ui.notice = `skills: ${e.message}`;
    }
  }

  /** A panel without a session and without a chosen skill starts with the
   * default skill ticked (when the core has it). */
  tickDefaultSkill() {
    const f = this.ui.form;
    if (f.session_id || f.skills.length || this.skillsChosen) return;
    if (!this.ui.skills.some((k) => k.name === DEFAULT_SKILL)) return;
    f.skills = [DEFAULT_SKILL];
    this.d.writeConfig("skills", DEFAULT_SKILL);
  }

  async refreshSessions() {
    try {
      const r = await this.client.request("list", { page_size: 50 });
      this.ui.sessions = (r.sessions ?? []).map((s) => ({
        id: String(s.id),
        title: String(s.title || s.id),
        parentId: String(s.parent_id ?? ""),
        forkPoint: Number(s.fork_point) || 0,
      }));
    } catch (e) {
      if (!isOutageError(e)) this.ui.notice = `sessions: ${e.message}`;
    }
  }

  configFields() {
    const f = this.ui.form;
    return {
      provider: f.provider.slice(0, MAX_FIELD),
      model: f.model.slice(0, MAX_FIELD),
      base_url: f.base_url.slice(0, MAX_FIELD),
      system_prompt: f.system_prompt.slice(0, MAX_PROMPT),
    };
  }

  /** Creates a session and selects it. Settings changed while the core is
   * creating it wait for it (creating() below), or they would go to the
   * session shown before, and the new one would keep the old settings. */
  createSession(title = "") {
    if (!this.creatingSession) {
      this.creatingSession = this.createSessionNow(title).finally(() => {
        this.creatingSession = null;
      });
    }
    return this.creatingSession;
  }

  /** Resolves once no session is being created (never rejects). */
  async creating() {
    if (this.creatingSession) await this.creatingSession;
  }

  async createSessionNow(title) {
    this.ui.busy = true;
    try {
      const data = {
        title: String(title || `ComfyUI ${new Date().toISOString().slice(0, 16).replace("T", " ")}`).slice(0, 200),
        config: { ...this.configFields(), active_skills: [...this.ui.form.skills] },
      };
      if (this.ui.apiKey) data.api_key = this.ui.apiKey;
      const r = await this.client.request("create", data);
      this.ui.apiKey = "";
      const id = r.session?.id;
      if (!id) throw new Error("the core answered without a session id");
      // What the session starts with: edits made while it was being
      // created differ from it and are kept (onChange), then sent.
      this.coreConfig = { sid: String(id), values: configOf(data.config) };
      this.selectSession(String(id));
      await this.refreshSessions();
    } catch (e) {
      this.ui.notice = `create: ${e.message}`;
    } finally {
      this.ui.busy = false;
    }
  }

  /** Searches every session (the session picker's search box). */
  async search() {
    const q = this.ui.searchQuery.trim();
    if (!q) {
      this.ui.searchHits = null;
      return;
    }
    try {
      const r = await this.client.request("search", { query: q, limit: 20 });
      this.ui.searchHits = (r.hits ?? []).map((h) => ({
        key: `${h.kind}:${h.id}`,
        sessionId: String(h.session_id ?? ""),
        title: String(h.session_title || h.session_id || "memory"),
        kind: String(h.kind ?? ""),
        snippet: String(h.snippet ?? ""),
      }));
    } catch (e) {
      this.ui.searchHits = null;
      this.ui.notice = `search: ${e.message}`;
    }
  }

  /** Opens the session of a search hit. */
  openHit(hit) {
    this.ui.searchHits = null;
    if (hit.sessionId) this.selectSession(hit.sessionId);
  }

  /**
   * The session the shown one was forked from, or null: {id, title,
   * point} (point: the parent's message the fork was made at). The title
   * comes from the session list; a parent not listed (archived, deleted)
   * shows its id.
   */
  forkOf() {
    const sid = this.ui.form.session_id;
    const mine = this.ui.sessions.find((x) => x.id === sid);
    const sess = this.state.session && this.state.sessionId === sid ? this.state.session : null;
    const parentId = String(sess?.parent_id || mine?.parentId || "");
    if (!sid || !parentId) return null;
    const parent = this.ui.sessions.find((x) => x.id === parentId);
    return {
      id: parentId,
      title: parent ? parent.title : parentId,
      point: Number(sess?.fork_point) || mine?.forkPoint || 0,
      listed: !!parent,
    };
  }

  /** Switches to the parent of a fork. */
  openParent() {
    const f = this.forkOf();
    if (f) this.selectSession(f.id);
  }

  selectSession(id) {
    this.ui.form.session_id = id;
    this.d.writeConfig("session_id", id);
    this.client.join(id);
  }

  /** Runs a settings change after the ones before it and after a pending
   * session creation. The bridge may apply requests that are in flight
   * together in any order, so one at a time, each reading the form when it
   * goes out: an older value never wins over a newer one, and a change made
   * while a session is being created reaches the new session. */
  settingsStep(fn) {
    const run = this.settingsQueue.then(async () => {
      await this.creating();
      return fn();
    });
    this.settingsQueue = run.catch(() => {});
    return run;
  }

  /** Saves provider, model, base URL and system prompt (workflow + core). */
  saveConfig() {
    for (const [k, v] of Object.entries(this.configFields())) this.d.writeConfig(k, v);
    return this.settingsStep(async () => {
      if (!this.ui.form.session_id) return;
      try {
        await this.client.request("configure", { session_id: this.ui.form.session_id, ...this.configFields() });
        this.ui.notice = "";
      } catch (e) {
        this.ui.notice = `configure: ${e.message}`;
      }
    });
  }

  /** Sends the API key to the core and forgets it. */
  setApiKey() {
    const key = this.ui.apiKey;
    this.ui.apiKey = "";
    return this.settingsStep(async () => {
      if (!this.ui.form.session_id) {
        this.ui.notice = "create or choose a session first";
        return;
      }
      try {
        await this.client.request("configure", { session_id: this.ui.form.session_id, api_key: key });
        this.ui.notice = key ? "API key stored in comfyd" : "API key removed";
      } catch (e) {
        this.ui.notice = `API key: ${e.message}`;
      }
    });
  }

  toggleSkill(name, on) {
    this.skillsChosen = true; // the user's choice, even none, wins over the default
    const set = new Set(this.ui.form.skills);
    if (on) set.add(name);
    else set.delete(name);
    // Keep the registry's order, so columns do not jump around.
    const known = this.ui.skills.map((s) => s.name);
    const list = [...known.filter((n) => set.has(n)), ...[...set].filter((n) => !known.includes(n))];
    this.ui.form.skills = list;
    this.d.writeConfig("skills", list.join(","));
    return this.settingsStep(async () => {
      if (!this.ui.form.session_id) return;
      try {
        await this.client.request("update_skills", { session_id: this.ui.form.session_id, skills: [...this.ui.form.skills] });
      } catch (e) {
        this.ui.notice = `skills: ${e.message}`;
      }
    });
  }

  /** Adds files for the next message: each is checked, then uploaded at
   * once (the core stores it by its hash); its chip says how it went. */
  async addFiles(files) {
    const list = Array.from(files ?? []);
    const jobs = [];
    for (const f of list) {
      const mime = attachmentType(f);
      const chip = { key: `att-${++chipCounter}`, name: String(f.name || (mime.startsWith("image/") ? "pasted image" : "file")), mime, size: Number(f.size) || 0, state: "uploading", error: "", sha256: "", preview: "" };
      if (this.ui.attachments.length >= MAX_ATTACHMENTS) {
        this.ui.notice = `at most ${MAX_ATTACHMENTS} files per message`;
        break;
      }
      if (!ATTACHMENT_TYPES.includes(mime)) {
        chip.state = "failed";
        chip.error = `${mime || "this type"} is not accepted (PNG, JPEG, WebP, GIF, text, Markdown, JSON)`;
      } else if (chip.size > MAX_ATTACHMENT_BYTES) {
        chip.state = "failed";
        chip.error = `larger than ${MAX_ATTACHMENT_BYTES >> 20} MiB`;
      } else if (mime.startsWith("image/") && globalThis.URL?.createObjectURL) {
        try {
          chip.preview = URL.createObjectURL(f);
        } catch {
          chip.preview = ""; // no thumbnail before sending; the upload goes on
        }
      }
      this.ui.attachments.push(chip);
      if (chip.state === "uploading") jobs.push(this.upload(f, chip.key));
    }
    await Promise.all(jobs);
  }

  async upload(file, key) {
    const chip = () => this.ui.attachments.find((c) => c.key === key);
    try {
      if (!this.d.postBytes) throw new Error("uploads are not available here");
      const c0 = chip();
      const r = await this.d.postBytes(`/comfyd/attachments?name=${encodeURIComponent(c0?.name ?? "")}`, file, c0?.mime ?? "");
      const a = r?.attachment ?? {};
      const c = chip();
      if (!c) return;
      c.sha256 = String(a.sha256 ?? "");
      c.mime = String(a.mime_type ?? c.mime);
      c.state = c.sha256 ? "ready" : "failed";
      if (!c.sha256) c.error = "the upload gave no hash";
    } catch (e) {
      const c = chip();
      if (c) {
        c.state = "failed";
        c.error = e.message;
      }
    }
  }

  removeAttachment(key) {
    const i = this.ui.attachments.findIndex((c) => c.key === key);
    if (i < 0) return;
    const [c] = this.ui.attachments.splice(i, 1);
    if (c.preview && globalThis.URL?.revokeObjectURL) URL.revokeObjectURL(c.preview);
  }

  /** Where the panel reads a stored attachment (same origin). */
  attachmentUrl(sha256) {
    return this.url(`/comfyd/attachments/${encodeURIComponent(String(sha256 ?? ""))}`);
  }

  async send() {
    const content = this.ui.draft.trim();
    if (this.ui.attachments.some((c) => c.state === "uploading")) {
      this.ui.notice = "wait for the files to finish uploading";
      return;
    }
    const files = this.ui.attachments.filter((c) => c.state === "ready");
    if (!content && !files.length) return;
    if (content.length > MAX_MESSAGE) {
      this.ui.notice = `a message is at most ${MAX_MESSAGE} characters`;
      return;
    }
    // After the settings changed before it (and a session being created).
    await this.settingsStep(() => {});
    if (!this.ui.form.session_id) await this.createSession();
    const sid = this.ui.form.session_id;
    if (!sid) return;
    this.ui.draft = "";
    const attachments = files.map((c) => ({ sha256: c.sha256, name: c.name, mime_type: c.mime }));
    for (const c of [...this.ui.attachments]) this.removeAttachment(c.key);
    const m = { cid: clientMessageId(), sid, content, attachments };
    addPendingTurn(this.state, m.cid, content, attachments);
    if (this.client.outage) {
      // Nothing to try now: it goes out when the core is back.
      waitPendingTurn(this.state, m.cid);
      this.outbox.push(m);
      return;
    }
    await this.deliver(m);
  }

  /** The runs of the session as the core has them (after a join: run
   * updates are live only). A core without --comfyui has none. */
  async refreshRuns(sid) {
    if (!this.d.getJson || !sid) return;
    try {
      const body = await this.d.getJson(`/comfyd/runs?session_id=${encodeURIComponent(sid)}&page_size=${Math.min(100, MAX_RUNS)}`);
      if (sid !== this.state.sessionId) return;
      for (const r of Array.isArray(body?.runs) ? body.runs : []) applyRun(this.state, r);
    } catch (e) {
      this.d.log?.("debug", `comfyd: runs of ${sid}: ${e.message}`);
    }
  }

  graph() {
    const a = this.d.app;
    return a?.rootGraph ?? a?.graph ?? null;
  }

  /** The canvas node of a prompt's node id ("12", or "12:5" inside a
   * subgraph: then the subgraph node on the canvas). */
  nodeOf(id) {
    const g = this.graph();
    if (!g?.getNodeById || !id) return null;
    const s = String(id);
    const get = (k) => g.getNodeById(/^\d+$/.test(k) ? Number(k) : k) ?? null;
    return get(s) ?? (s.includes(":") ? get(s.split(":")[0]) : null);
  }

  titleOf(id) {
    const n = this.nodeOf(id);
    return n ? String(n.title || n.type || "") : "";
  }

  /** Selects and centres a node on the canvas (the failing one). */
  focusNode(id) {
    const node = this.nodeOf(id);
    const canvas = this.d.app?.canvas;
    if (!node || !canvas) {
      this.ui.notice = `node ${id} is not on this canvas`;
      return false;
    }
    if (typeof canvas.selectNode === "function") canvas.selectNode(node, false);
    else if (typeof canvas.selectItems === "function") canvas.selectItems([node]);
    if (typeof canvas.centerOnNode === "function") canvas.centerOnNode(node);
    canvas.setDirty?.(true, true);
    this.ui.notice = "";
    return true;
  }

  /** Shows an output full size ("" closes it). */
  showImage(url) {
    this.ui.image = String(url ?? "");
  }

  /** The URL of a bridge path reached through ComfyUI's server. */
  url(path) {
    return this.d.apiUrl ? this.d.apiUrl(path) : `/api${path}`;
  }

  /** A new session from this message on (ForkSession), then opens it. */
  async forkFrom(messageId) {
    const sid = this.ui.form.session_id;
    if (!sid || !messageId) return;
    try {
      const r = await this.client.request("fork", { session_id: sid, message_id: messageId });
      const id = r.session?.id;
      if (!id) throw new Error("the core answered without a session id");
      this.selectSession(String(id));
      await this.refreshSessions();
      this.ui.notice = `forked into "${r.session.title}" (${Number(r.messages_copied) || 0} message(s) copied)`;
    } catch (e) {
      this.ui.notice = `fork: ${e.message}`;
    }
  }

  /**
   * Takes the session back to this message (RevertSession): later
   * messages are hidden; with canvas, the canvas goes back to its
   * checkpoint too. A canvas the user changed since is refused with the
   * list of changes (staleRevert) until asked again with force.
   */
  async revertTo(messageId, { canvas = false, force = false } = {}) {
    const sid = this.ui.form.session_id;
    if (!sid || !messageId) return;
    this.ui.staleRevert = null;
    try {
      const r = await this.client.request("revert", { session_id: sid, message_id: messageId, restore_canvas: canvas, force });
      this.ui.notice = String(r.notice ?? "");
    } catch (e) {
      if (canvas && /^STALE_REVISION/.test(e.message)) this.ui.staleRevert = { messageId, message: e.message };
      else this.ui.notice = `revert: ${e.message}`;
    }
  }

  /**
   * Undoes the session's latest revert (UnrevertSession): the hidden
   * messages come back through the unreverted event. The core refuses
   * once the session was compacted or got new messages since.
   */
  async unrevert() {
    const sid = this.ui.form.session_id;
    if (!sid) return;
    try {
      const r = await this.client.request("unrevert", { session_id: sid });
      this.ui.notice = String(r.notice ?? "");
    } catch (e) {
      this.ui.notice = `undo revert: ${e.message}`;
      this.state.lastRevert = null;
    }
  }

  async cancel() {
    if (!this.ui.form.session_id) return;
    try {
      await this.client.request("cancel", { session_id: this.ui.form.session_id, clear_queue: false });
    } catch (e) {
      this.ui.notice = `cancel: ${e.message}`;
    }
  }
}
