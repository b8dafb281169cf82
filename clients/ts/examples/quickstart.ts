// comfyd client example: a session with two skills, a streamed reply, and a
// graph built through a headless canvas.
//
//   node examples/dist/quickstart.js [TARGET]
//
// TARGET is 127.0.0.1:50051, unix:/path/c.sock or http://HOST:PORT
// (default: $COMFYD_ADDR, else 127.0.0.1:50051). Exits 0 when every step
// succeeded, 1 otherwise. The graph part is skipped (still exit 0) when the
// service does not offer GraphService.
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import {
  type AttachCanvasResponse,
  type ChatMessage,
  type Command,
  type CommandResult,
  CommandResultSchema,
  type ComfydTransport,
  type CreateNodeCommand,
  createComfydTransport,
  GraphErrorCode,
  GraphService,
  type NodeRef,
  type NodeType,
  type PatchRequest,
  type PatchResult,
  PatchResultSchema,
  Role,
  SessionService,
  SessionStatus,
  SkillService,
  type SlotRef,
  type Value,
} from "comfyd-client";

const SKILLS = ["workflow-builder", "prompt-writer"];
// Deadlines: calls answer at once; a turn of the echo provider takes a few
// seconds; a patch waits for this process's own editor loop.
const CALL_TIMEOUT_MS = 10_000;
const TURN_TIMEOUT_MS = 120_000;
const PATCH_TIMEOUT_MS = 10_000;

// The node types the headless canvas declares (ComfyUI's /object_info
// format), so the example works without a ComfyUI install.
const OBJECT_INFO = {
  CheckpointLoaderSimple: {
    input: {
      required: {
        ckpt_name: [["sd_xl_base_1.0.safetensors", "v1-5-pruned-emaonly.safetensors"], {}],
      },
    },
    input_order: { required: ["ckpt_name"] },
    output: ["MODEL", "CLIP", "VAE"],
    output_is_list: [false, false, false],
    output_name: ["MODEL", "CLIP", "VAE"],
    name: "CheckpointLoaderSimple",
    display_name: "Load Checkpoint",
    description: "",
    python_module: "nodes",
    category: "loaders",
    output_node: false,
  },
  CLIPTextEncode: {
    input: {
      required: {
        text: ["STRING", { multiline: true, dynamicPrompts: true }],
        clip: ["CLIP", {}],
      },
    },
    input_order: { required: ["text", "clip"] },
    output: ["CONDITIONING"],
    output_is_list: [false],
    output_name: ["CONDITIONING"],
    name: "CLIPTextEncode",
    display_name: "CLIP Text Encode (Prompt)",
    description: "",
    python_module: "nodes",
    category: "conditioning",
    output_node: false,
  },
};

class ExampleError extends Error {}

/**
 * Creates a session with two skills, sends a message and prints the reply
 * deltas until the turn is over. Returns the replies by skill.
 */
async function chat(transport: ComfydTransport): Promise<Map<string, string>> {
  const skills = createClient(SkillService, transport);
  const sessions = createClient(SessionService, transport);

  const loaded = await skills.listSkills({}, { timeoutMs: CALL_TIMEOUT_MS });
  const names = loaded.skills.map((s) => s.name);
  console.log(`skills: ${names.join(", ")}`);
  const missing = SKILLS.filter((s) => !names.includes(s));
  if (missing.length > 0) throw new ExampleError(`comfyd does not have the skills ${missing.join(", ")}`);

  const created = await sessions.createSession(
    { title: "client example (ts)", config: { provider: "echo", activeSkills: SKILLS } },
    { timeoutMs: CALL_TIMEOUT_MS },
  );
  const sid = created.session?.id ?? "";
  console.log(`session ${sid}: skills ${created.session?.config?.activeSkills.join(", ")}`);

  // Subscribe first, so no event of the turn is missed; the stream opens
  // with a sync_state snapshot.
  // The turn's deadline is a timer of our own: a timeoutMs deadline would
  // keep its timer (and the process) alive after the stream is left.
  const stop = new AbortController();
  const deadline = setTimeout(() => stop.abort(), TURN_TIMEOUT_MS);
  const events = sessions.subscribe({ sessionId: sid }, { signal: stop.signal })[Symbol.asyncIterator]();
  const streamed = new Map<string, string[]>();
  const stored = new Map<string, ChatMessage>();
  try {
    const first = await events.next();
    if (first.done || first.value.event?.kind.case !== "syncState")
      throw new ExampleError("the stream did not open with sync_state");

    const sent = await sessions.sendMessage(
      {
        sessionId: sid,
        content: "Build a minimal text-to-image workflow and suggest a prompt for a lighthouse at dusk.",
        clientMessageId: randomUUID(),
      },
      { timeoutMs: CALL_TIMEOUT_MS },
    );
    const turn = sent.message?.id ?? 0n;
    console.log(`sent message ${turn}`);

    let running = false;
    for (;;) {
      const item = await events.next();
      if (item.done) throw new ExampleError("the event stream ended before the turn finished");
      const kind = item.value.event?.kind;
      if (kind === undefined) continue;
      if (kind.case === "streamDelta" && kind.value.turnId === turn) {
        const d = kind.value;
        streamed.set(d.skill, [...(streamed.get(d.skill) ?? []), d.delta]);
        console.log(`delta [${d.skill}] ${JSON.stringify(d.delta)}`);
      } else if (kind.case === "messageAdded" && kind.value.message?.turnId === turn) {
        const m = kind.value.message;
        if (m.role === Role.ASSISTANT) stored.set(m.skill, m);
      } else if (kind.case === "error" && kind.value.turnId === turn) {
        console.log(`error [${kind.value.skill}] ${kind.value.code}: ${kind.value.message}`);
      } else if (kind.case === "statusUpdate") {
        // WORKING names the turn; the IDLE or ERROR that ends it may carry
        // turn_id 0.
        const st = kind.value.status;
        if (st === SessionStatus.WORKING && kind.value.turnId === turn) {
          running = true;
        } else if (running && (st === SessionStatus.IDLE || st === SessionStatus.ERROR)) {
          console.log(`turn ${turn} finished: ${st === SessionStatus.IDLE ? "idle" : "error"}`);
          if (st !== SessionStatus.IDLE) throw new ExampleError("the turn failed");
          break;
        }
      }
    }
  } finally {
    clearTimeout(deadline);
    stop.abort();
    await events.return?.().catch(() => undefined);
  }

  const replies = new Map<string, string>();
  for (const skill of SKILLS) {
    const parts = streamed.get(skill) ?? [];
    const text = parts.join("");
    const msg = stored.get(skill);
    if (msg === undefined) throw new ExampleError(`no reply was stored for ${skill}`);
    if (msg.content !== text) throw new ExampleError(`the deltas of ${skill} do not add up to its stored reply`);
    console.log(`reply from ${skill} (${parts.length} deltas): ${text}`);
    replies.set(skill, text);
  }
  return replies;
}

// ---- a minimal headless editor ----

// The workflow as LiteGraph serialises it (the fields comfyd reads).
type WfInput = { name: string; type: string; link: number | null };
type WfOutput = { name: string; type: string; links: number[]; slot_index: number };
type WfNode = {
  id: number;
  type: string;
  title?: string;
  pos: [number, number];
  size: [number, number];
  flags: Record<string, never>;
  order: number;
  mode: number;
  inputs: WfInput[];
  outputs: WfOutput[];
  properties: Record<string, string>;
  widgets_values: unknown[];
};
type WfLink = [number, number, number, number, number, string];
type Workflow = {
  last_node_id: number;
  last_link_id: number;
  nodes: WfNode[];
  links: WfLink[];
  groups: unknown[];
  config: Record<string, unknown>;
  extra: Record<string, unknown>;
  version: number;
};

function emptyWorkflow(): Workflow {
  return { last_node_id: 0, last_link_id: 0, nodes: [], links: [], groups: [], config: {}, extra: {}, version: 0.4 };
}

function valueToJson(v: Value | undefined): unknown {
  switch (v?.kind.case) {
    case "integer":
      return Number(v.kind.value);
    case "number":
    case "text":
    case "boolean":
      return v.kind.value;
    default:
      return null;
  }
}

/**
 * Keeps a LiteGraph workflow, applies the patches comfyd sends
 * (create_node, connect, set_widget, move_node) as one step each, and
 * reports the workflow after the patch. A patch with a command it cannot
 * apply changes nothing and is reported as failed.
 */
class Editor {
  workflow = emptyWorkflow();
  tabRevision = 1n;
  types = new Map<string, NodeType>();
  revision = 0n;

  constructor(
    readonly graph: Client<typeof GraphService>,
    readonly canvasId: string,
  ) {}

  /** Reads the AttachCanvas stream until it ends or signal aborts. */
  async run(signal: AbortSignal, onAttached: () => void): Promise<void> {
    const stream = this.graph.attachCanvas(
      {
        canvasId: this.canvasId,
        title: "client example",
        workflowJson: JSON.stringify(this.workflow),
        objectInfoJson: JSON.stringify(OBJECT_INFO),
        focused: true,
        tabRevision: this.tabRevision,
      },
      { signal },
    );
    try {
      for await (const msg of stream) await this.handle(msg, onAttached);
    } catch (e) {
      if (!(signal.aborted && ConnectError.from(e).code === Code.Canceled)) throw e;
    }
  }

  private async handle(msg: AttachCanvasResponse, onAttached: () => void): Promise<void> {
    const k = msg.kind;
    switch (k.case) {
      case "attached":
        this.revision = k.value.revision;
        onAttached();
        return;
      case "patch":
        return this.onPatch(k.value);
      case "queue":
        // Queue and load need a ComfyUI behind the tab.
        return this.report({
          case: "queueResult",
          value: { requestId: k.value.requestId, ok: false, error: "this editor cannot queue" },
        });
      case "load":
        return this.report({
          case: "loadResult",
          value: { requestId: k.value.requestId, ok: false, error: "this editor cannot load" },
        });
    }
  }

  private async report(
    report:
      | { case: "patchResult"; value: PatchResult }
      | { case: "queueResult"; value: { requestId: bigint; ok: boolean; error: string } }
      | { case: "loadResult"; value: { requestId: bigint; ok: boolean; error: string } },
  ): Promise<void> {
    const rep = await this.graph.reportEditor({ canvasId: this.canvasId, report }, { timeoutMs: CALL_TIMEOUT_MS });
    this.revision = rep.revision;
  }

  private async onPatch(p: PatchRequest): Promise<void> {
    const wf = structuredClone(this.workflow);
    const refs = new Map<string, number>();
    let res: PatchResult;
    try {
      const results = p.commands.map((c, i) => this.apply(wf, c, i, refs));
      this.workflow = wf;
      this.tabRevision += 1n;
      res = create(PatchResultSchema, {
        requestId: p.requestId,
        ok: true,
        results,
        workflowJson: JSON.stringify(wf),
        tabRevision: this.tabRevision,
      });
    } catch (e) {
      if (!(e instanceof ExampleError)) throw e;
      res = create(PatchResultSchema, { requestId: p.requestId, ok: false, error: e.message });
    }
    await this.report({ case: "patchResult", value: res });
  }

  private apply(wf: Workflow, cmd: Command, index: number, refs: Map<string, number>): CommandResult {
    const c = cmd.command;
    switch (c.case) {
      case "createNode": {
        const node = this.newNode(wf, c.value);
        if (c.value.ref !== "") refs.set(c.value.ref, node.id);
        return create(CommandResultSchema, { index, ok: true, nodeId: BigInt(node.id) });
      }
      case "connect": {
        const src = findNode(wf, c.value.fromId, refs);
        const dst = findNode(wf, c.value.toId, refs);
        const out = slotIndex(src.outputs, c.value.fromSlot, "output");
        const inp = slotIndex(dst.inputs, c.value.toSlot, "input");
        const linkId = connect(wf, src, out, dst, inp);
        return create(CommandResultSchema, { index, ok: true, nodeId: BigInt(dst.id), linkId: BigInt(linkId) });
      }
      case "setWidget": {
        const node = findNode(wf, c.value.nodeId, refs);
        const names = this.widgetNames(node.type);
        const i = names.indexOf(c.value.name);
        if (i < 0) throw new ExampleError(`node ${node.id} has no widget ${c.value.name}`);
        node.widgets_values[i] = valueToJson(c.value.value);
        return create(CommandResultSchema, { index, ok: true, nodeId: BigInt(node.id), value: c.value.value });
      }
      case "moveNode": {
        const node = findNode(wf, c.value.nodeId, refs);
        node.pos = [c.value.x, c.value.y];
        return create(CommandResultSchema, { index, ok: true, nodeId: BigInt(node.id) });
      }
      default:
        throw new ExampleError(`this editor does not apply ${c.case ?? "an empty command"}`);
    }
  }

  private widgetNames(typeName: string): string[] {
    const nt = this.types.get(typeName);
    if (nt === undefined) throw new ExampleError(`unknown node type ${typeName}`);
    return nt.inputs.filter((i) => i.isWidget).map((i) => i.name);
  }

  private newNode(wf: Workflow, c: CreateNodeCommand): WfNode {
    const nt = this.types.get(c.nodeType);
    if (nt === undefined) throw new ExampleError(`unknown node type ${c.nodeType}`);
    const widgets: unknown[] = [];
    const inputs: WfInput[] = [];
    for (const spec of nt.inputs) {
      if (!spec.isWidget) {
        inputs.push({ name: spec.name, type: spec.type, link: null });
        continue;
      }
      let v = valueToJson(spec.defaultValue);
      if (v === null && spec.options.length > 0) v = spec.options[0];
      if (spec.name in c.widgets) v = valueToJson(c.widgets[spec.name]);
      widgets.push(v);
    }
    const known = new Set(this.widgetNames(c.nodeType));
    const unknown = Object.keys(c.widgets).filter((w) => !known.has(w));
    if (unknown.length > 0) throw new ExampleError(`${c.nodeType} has no widget ${unknown.join(", ")}`);
    const n = wf.nodes.length;
    wf.last_node_id += 1;
    const node: WfNode = {
      id: wf.last_node_id,
      type: c.nodeType,
      pos: [c.x ?? 100 + 400 * (n % 4), c.y ?? 100 + 300 * Math.floor(n / 4)],
      size: [320, 100],
      flags: {},
      order: n,
      mode: 0,
      inputs,
      outputs: nt.outputs.map((o, i) => ({ name: o.name, type: o.type, links: [], slot_index: i })),
      properties: { "Node name for S&R": c.nodeType },
      widgets_values: widgets,
    };
    if (c.title !== "") node.title = c.title;
    wf.nodes.push(node);
    return node;
  }
}

function findNode(wf: Workflow, ref: NodeRef | undefined, refs: Map<string, number>): WfNode {
  let id: number;
  if (ref?.node.case === "ref") {
    const v = refs.get(ref.node.value);
    if (v === undefined) throw new ExampleError(`no node was created as ${ref.node.value}`);
    id = v;
  } else if (ref?.node.case === "id") {
    id = Number(ref.node.value);
  } else {
    throw new ExampleError("a node reference is empty");
  }
  const node = wf.nodes.find((n) => n.id === id);
  if (node === undefined) throw new ExampleError(`node ${id} is not on the canvas`);
  return node;
}

function slotIndex(slots: { name: string }[], ref: SlotRef | undefined, what: string): number {
  if (ref?.slot.case === "index") {
    if (ref.slot.value >= slots.length) throw new ExampleError(`no ${what} slot ${ref.slot.value}`);
    return ref.slot.value;
  }
  if (ref?.slot.case === "name") {
    const name = ref.slot.value;
    const i = slots.findIndex((s) => s.name === name);
    if (i < 0) throw new ExampleError(`no ${what} slot ${name}`);
    return i;
  }
  throw new ExampleError("a slot reference is empty");
}

function connect(wf: Workflow, src: WfNode, out: number, dst: WfNode, inp: number): number {
  const old = dst.inputs[inp].link;
  if (old !== null) {
    wf.links = wf.links.filter((l) => l[0] !== old);
    for (const n of wf.nodes) for (const o of n.outputs) o.links = o.links.filter((id) => id !== old);
  }
  wf.last_link_id += 1;
  const id = wf.last_link_id;
  wf.links.push([id, src.id, out, dst.id, inp, src.outputs[out].type]);
  src.outputs[out].links.push(id);
  dst.inputs[inp].link = id;
  return id;
}

function text(value: string) {
  return { kind: { case: "text" as const, value } };
}

/**
 * Attaches a headless canvas and builds a two-node graph on it with one
 * ExecuteBatch. Returns false when the service has no GraphService.
 */
async function buildGraph(transport: ComfydTransport, promptText: string): Promise<boolean> {
  const graph = createClient(GraphService, transport);
  try {
    await graph.listCanvases({}, { timeoutMs: CALL_TIMEOUT_MS });
  } catch (e) {
    if (ConnectError.from(e).code === Code.Unimplemented) return false;
    throw e;
  }

  const editor = new Editor(graph, `example-ts-${randomUUID().replaceAll("-", "").slice(0, 12)}`);
  const stop = new AbortController();
  let attached!: () => void;
  const isAttached = new Promise<void>((resolve) => (attached = resolve));
  const reader = editor.run(stop.signal, attached);
  // The editor failing ends the example as well.
  const readerFailed = reader.then(
    () => {
      throw new ExampleError("the canvas stream ended early");
    },
    (e: unknown) => {
      throw e;
    },
  );
  readerFailed.catch(() => undefined);
  const guard = <T>(p: Promise<T>): Promise<T> => Promise.race([p, readerFailed]);

  try {
    let timer: NodeJS.Timeout | undefined;
    await guard(
      Promise.race([
        isAttached,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new ExampleError("the canvas was not attached in time")), CALL_TIMEOUT_MS);
        }),
      ]),
    ).finally(() => clearTimeout(timer));
    console.log(`canvas ${editor.canvasId} attached at revision ${editor.revision}`);

    const types = await guard(
      graph.listNodeTypes({ canvasId: editor.canvasId, names: Object.keys(OBJECT_INFO) }, { timeoutMs: CALL_TIMEOUT_MS }),
    );
    editor.types = new Map(types.nodeTypes.map((t) => [t.name, t]));

    const ref = (r: string) => ({ node: { case: "ref" as const, value: r } });
    const slot = (name: string) => ({ slot: { case: "name" as const, value: name } });
    const resp = await guard(
      graph.executeBatch(
        {
          canvasId: editor.canvasId,
          commands: [
            {
              command: {
                case: "createNode",
                value: {
                  nodeType: "CheckpointLoaderSimple",
                  ref: "ckpt",
                  widgets: { ckpt_name: text("sd_xl_base_1.0.safetensors") },
                },
              },
            },
            {
              command: {
                case: "createNode",
                value: { nodeType: "CLIPTextEncode", ref: "prompt", widgets: { text: text(promptText) } },
              },
            },
            {
              command: {
                case: "connect",
                value: { fromId: ref("ckpt"), fromSlot: slot("CLIP"), toId: ref("prompt"), toSlot: slot("clip") },
              },
            },
          ],
          idempotencyKey: randomUUID(),
          timeoutMs: PATCH_TIMEOUT_MS,
        },
        { timeoutMs: CALL_TIMEOUT_MS + PATCH_TIMEOUT_MS },
      ),
    );
    if (!resp.ok) {
      const why = resp.errors.map((e) => `${GraphErrorCode[e.code]}: ${e.message}`).join("; ");
      throw new ExampleError(`the batch failed: ${why}`);
    }
    const refs = Object.entries(resp.refs)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=#${v}`)
      .join(", ");
    console.log(`batch applied at revision ${resp.revision}: ${refs}`);

    const got = (await guard(graph.getGraph({ canvasId: editor.canvasId }, { timeoutMs: CALL_TIMEOUT_MS }))).graph;
    const nodes = got?.nodes ?? [];
    const links = got?.links ?? [];
    for (const n of nodes) console.log(`node #${n.id} ${n.type} (${n.title})`);
    for (const l of links) console.log(`link ${l.id}: #${l.fromId}[${l.fromSlot}] -> #${l.toId}[${l.toSlot}] ${l.type}`);
    if (nodes.length !== 2 || links.length !== 1)
      throw new ExampleError(`the canvas has ${nodes.length} nodes and ${links.length} links, not 2 and 1`);
  } finally {
    stop.abort();
  }
  await reader;
  return true;
}

async function main(): Promise<number> {
  const target = process.argv[2] ?? process.env.COMFYD_ADDR ?? "127.0.0.1:50051";
  const started = Date.now();
  const transport = createComfydTransport(target);
  try {
    console.log(`comfyd at ${target}`);
    const replies = await chat(transport);
    const promptText = Array.from(replies.get("prompt-writer") ?? "").slice(0, 500).join("") || "a lighthouse at dusk";
    if (await buildGraph(transport, promptText)) console.log("graph built");
    else console.log("graph: this comfyd has no GraphService; skipped");
  } catch (e) {
    if (e instanceof ExampleError) console.error(`error: ${e.message}`);
    else {
      const ce = ConnectError.from(e);
      console.error(`error: ${Code[ce.code]}: ${ce.rawMessage}`);
    }
    return 1;
  } finally {
    transport.close();
  }
  console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}

process.exitCode = await main();
