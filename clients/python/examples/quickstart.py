"""comfyd client example: a session with two skills, a streamed reply, and a
graph built through a headless canvas.

    python examples/quickstart.py [TARGET]

TARGET is a gRPC target such as 127.0.0.1:50051 or unix:/path/c.sock
(default: $COMFYD_ADDR, else 127.0.0.1:50051). Exits 0 when every step
succeeded, 1 otherwise. The graph part is skipped (still exit 0) when the
service does not offer GraphService.
"""

import copy
import json
import os
import sys
import threading
import time
import uuid

import grpc

from comfyd.v1 import graph_pb2 as gpb
from comfyd.v1 import graph_pb2_grpc as ggrpc
from comfyd.v1 import session_pb2 as spb
from comfyd.v1 import session_pb2_grpc as sgrpc
from comfyd.v1 import skill_pb2 as kpb
from comfyd.v1 import skill_pb2_grpc as kgrpc

SKILLS = ["workflow-builder", "prompt-writer"]
# Deadlines: calls answer at once; a turn of the echo provider takes a few
# seconds; a patch waits for this process's own editor thread.
CALL_TIMEOUT_S = 10
TURN_TIMEOUT_S = 120
PATCH_TIMEOUT_MS = 10000

# The node types the headless canvas declares (ComfyUI's /object_info
# format), so the example works without a ComfyUI install.
OBJECT_INFO = {
    "CheckpointLoaderSimple": {
        "input": {
            "required": {
                "ckpt_name": [["sd_xl_base_1.0.safetensors", "v1-5-pruned-emaonly.safetensors"], {}]
            }
        },
        "input_order": {"required": ["ckpt_name"]},
        "output": ["MODEL", "CLIP", "VAE"],
        "output_is_list": [False, False, False],
        "output_name": ["MODEL", "CLIP", "VAE"],
        "name": "CheckpointLoaderSimple",
        "display_name": "Load Checkpoint",
        "description": "",
        "python_module": "nodes",
        "category": "loaders",
        "output_node": False,
    },
    "CLIPTextEncode": {
        "input": {
            "required": {
                "text": ["STRING", {"multiline": True, "dynamicPrompts": True}],
                "clip": ["CLIP", {}],
            }
        },
        "input_order": {"required": ["text", "clip"]},
        "output": ["CONDITIONING"],
        "output_is_list": [False],
        "output_name": ["CONDITIONING"],
        "name": "CLIPTextEncode",
        "display_name": "CLIP Text Encode (Prompt)",
        "description": "",
        "python_module": "nodes",
        "category": "conditioning",
        "output_node": False,
    },
}


class ExampleError(Exception):
    pass


def chat(channel):
    """Creates a session with two skills, sends a message and prints the
    reply deltas until the turn is over. Returns the replies by skill."""
    skills = kgrpc.SkillServiceStub(channel)
    sessions = sgrpc.SessionServiceStub(channel)

    loaded = skills.ListSkills(kpb.ListSkillsRequest(), timeout=CALL_TIMEOUT_S)
    names = [s.name for s in loaded.skills]
    print("skills: %s" % ", ".join(names))
    missing = [s for s in SKILLS if s not in names]
    if missing:
        raise ExampleError("comfyd does not have the skills %s" % ", ".join(missing))

    created = sessions.CreateSession(
        spb.CreateSessionRequest(
            title="client example (python)",
            config=spb.SessionConfig(provider="echo", active_skills=SKILLS),
        ),
        timeout=CALL_TIMEOUT_S,
    )
    sid = created.session.id
    print("session %s: skills %s" % (sid, ", ".join(created.session.config.active_skills)))

    # Subscribe first, so no event of the turn is missed; the stream opens
    # with a sync_state snapshot.
    stream = sessions.Subscribe(spb.SubscribeRequest(session_id=sid), timeout=TURN_TIMEOUT_S)
    events = iter(stream)
    first = next(events).event
    if first.WhichOneof("kind") != "sync_state":
        raise ExampleError("the stream opened with %s, not sync_state" % first.WhichOneof("kind"))

    sent = sessions.SendMessage(
        spb.SendMessageRequest(
            session_id=sid,
            content="Build a minimal text-to-image workflow and suggest a prompt for a lighthouse at dusk.",
            client_message_id=str(uuid.uuid4()),
        ),
        timeout=CALL_TIMEOUT_S,
    )
    turn = sent.message.id
    print("sent message %d" % turn)

    streamed = {}
    stored = {}
    running = False
    try:
        for item in events:
            ev = item.event
            kind = ev.WhichOneof("kind")
            if kind == "stream_delta" and ev.stream_delta.turn_id == turn:
                d = ev.stream_delta
                streamed.setdefault(d.skill, []).append(d.delta)
                print("delta [%s] %s" % (d.skill, json.dumps(d.delta)))
            elif kind == "message_added" and ev.message_added.message.turn_id == turn:
                m = ev.message_added.message
                if m.role == spb.ROLE_ASSISTANT:
                    stored[m.skill] = m
            elif kind == "error" and ev.error.turn_id == turn:
                print("error [%s] %s: %s" % (ev.error.skill, ev.error.code, ev.error.message))
            elif kind == "status_update":
                # WORKING names the turn; the IDLE or ERROR that ends it
                # may carry turn_id 0.
                st = ev.status_update.status
                if st == spb.SESSION_STATUS_WORKING and ev.status_update.turn_id == turn:
                    running = True
                elif running and st in (spb.SESSION_STATUS_IDLE, spb.SESSION_STATUS_ERROR):
                    idle = st == spb.SESSION_STATUS_IDLE
                    print("turn %d finished: %s" % (turn, "idle" if idle else "error"))
                    if st != spb.SESSION_STATUS_IDLE:
                        raise ExampleError("the turn failed")
                    break
        else:
            raise ExampleError("the event stream ended before the turn finished")
    finally:
        stream.cancel()

    replies = {}
    for skill in SKILLS:
        text = "".join(streamed.get(skill, []))
        msg = stored.get(skill)
        if msg is None:
            raise ExampleError("no reply was stored for %s" % skill)
        if msg.content != text:
            raise ExampleError("the deltas of %s do not add up to its stored reply" % skill)
        print("reply from %s (%d deltas): %s" % (skill, len(streamed.get(skill, [])), text))
        replies[skill] = text
    return replies


def empty_workflow():
    return {
        "last_node_id": 0,
        "last_link_id": 0,
        "nodes": [],
        "links": [],
        "groups": [],
        "config": {},
        "extra": {},
        "version": 0.4,
    }


def value_to_json(v):
    kind = v.WhichOneof("kind")
    if kind is None:
        return None
    return getattr(v, kind)


class Editor:
    """A minimal headless editor: it keeps a LiteGraph workflow, applies the
    patches comfyd sends (create_node, connect, set_widget, move_node) as one
    step each, and reports the workflow after the patch. A patch with a
    command it cannot apply changes nothing and is reported as failed."""

    def __init__(self, graph, canvas_id):
        self.graph = graph
        self.canvas_id = canvas_id
        self.workflow = empty_workflow()
        self.tab_revision = 1
        self.types = {}  # node type name -> NodeType from ListNodeTypes
        self.attached = threading.Event()
        self.revision = 0
        self.failure = None
        self.stream = None

    def attach_request(self):
        return gpb.AttachCanvasRequest(
            canvas_id=self.canvas_id,
            title="client example",
            workflow_json=json.dumps(self.workflow),
            object_info_json=json.dumps(OBJECT_INFO),
            focused=True,
            tab_revision=self.tab_revision,
        )

    def run(self):
        """Reads the AttachCanvas stream until it is cancelled."""
        try:
            for msg in self.stream:
                kind = msg.WhichOneof("kind")
                if kind == "attached":
                    self.revision = msg.attached.revision
                    self.attached.set()
                elif kind == "patch":
                    self.on_patch(msg.patch)
                else:
                    # Queue and load need a ComfyUI behind the tab.
                    self.refuse(kind, getattr(msg, kind).request_id)
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.CANCELLED:
                self.failure = "canvas stream: %s %s" % (e.code().name, e.details())
        except Exception as e:  # reported by the main thread
            self.failure = "editor: %r" % e
        finally:
            self.attached.set()

    def refuse(self, kind, request_id):
        if kind == "queue":
            rep = gpb.ReportEditorRequest(
                canvas_id=self.canvas_id,
                queue_result=gpb.EditorQueueResult(
                    request_id=request_id, ok=False, error="this editor cannot queue"
                ),
            )
        else:
            rep = gpb.ReportEditorRequest(
                canvas_id=self.canvas_id,
                load_result=gpb.EditorLoadResult(
                    request_id=request_id, ok=False, error="this editor cannot load"
                ),
            )
        self.graph.ReportEditor(rep, timeout=CALL_TIMEOUT_S)

    def on_patch(self, patch):
        wf = copy.deepcopy(self.workflow)
        refs = {}
        results = []
        try:
            for i, cmd in enumerate(patch.commands):
                results.append(self.apply(wf, cmd, i, refs))
        except ExampleError as e:
            res = gpb.PatchResult(request_id=patch.request_id, ok=False, error=str(e))
        else:
            self.workflow = wf
            self.tab_revision += 1
            res = gpb.PatchResult(
                request_id=patch.request_id,
                ok=True,
                results=results,
                workflow_json=json.dumps(wf),
                tab_revision=self.tab_revision,
            )
        rep = self.graph.ReportEditor(
            gpb.ReportEditorRequest(canvas_id=self.canvas_id, patch_result=res),
            timeout=CALL_TIMEOUT_S,
        )
        self.revision = rep.revision

    def apply(self, wf, cmd, index, refs):
        kind = cmd.WhichOneof("command")
        if kind == "create_node":
            c = cmd.create_node
            node = self.new_node(wf, c)
            if c.ref:
                refs[c.ref] = node["id"]
            return gpb.CommandResult(index=index, ok=True, node_id=node["id"])
        if kind == "connect":
            c = cmd.connect
            src = find_node(wf, c.from_id, refs)
            dst = find_node(wf, c.to_id, refs)
            out = slot_index(src["outputs"], c.from_slot, "output")
            inp = slot_index(dst["inputs"], c.to_slot, "input")
            link_id = connect(wf, src, out, dst, inp)
            return gpb.CommandResult(index=index, ok=True, node_id=dst["id"], link_id=link_id)
        if kind == "set_widget":
            c = cmd.set_widget
            node = find_node(wf, c.node_id, refs)
            names = self.widget_names(node["type"])
            if c.name not in names:
                raise ExampleError("node %d has no widget %s" % (node["id"], c.name))
            node["widgets_values"][names.index(c.name)] = value_to_json(c.value)
            return gpb.CommandResult(index=index, ok=True, node_id=node["id"], value=c.value)
        if kind == "move_node":
            c = cmd.move_node
            node = find_node(wf, c.node_id, refs)
            node["pos"] = [c.x, c.y]
            return gpb.CommandResult(index=index, ok=True, node_id=node["id"])
        raise ExampleError("this editor does not apply %s" % kind)

    def widget_names(self, type_name):
        nt = self.types.get(type_name)
        if nt is None:
            raise ExampleError("unknown node type %s" % type_name)
        return [i.name for i in nt.inputs if i.is_widget]

    def new_node(self, wf, c):
        nt = self.types.get(c.node_type)
        if nt is None:
            raise ExampleError("unknown node type %s" % c.node_type)
        wf["last_node_id"] += 1
        nid = wf["last_node_id"]
        widgets = []
        inputs = []
        for spec in nt.inputs:
            if spec.is_widget:
                v = value_to_json(spec.default_value)
                if v is None and spec.options:
                    v = spec.options[0]
                if spec.name in c.widgets:
                    v = value_to_json(c.widgets[spec.name])
                widgets.append(v)
            else:
                inputs.append({"name": spec.name, "type": spec.type, "link": None})
        unknown = set(c.widgets) - {s.name for s in nt.inputs if s.is_widget}
        if unknown:
            raise ExampleError("%s has no widget %s" % (c.node_type, ", ".join(sorted(unknown))))
        x = c.x.value if c.HasField("x") else 100.0 + 400.0 * (len(wf["nodes"]) % 4)
        y = c.y.value if c.HasField("y") else 100.0 + 300.0 * (len(wf["nodes"]) // 4)
        node = {
            "id": nid,
            "type": c.node_type,
            "pos": [x, y],
            "size": [320, 100],
            "flags": {},
            "order": len(wf["nodes"]),
            "mode": 0,
            "inputs": inputs,
            "outputs": [
                {"name": o.name, "type": o.type, "links": [], "slot_index": i}
                for i, o in enumerate(nt.outputs)
            ],
            "properties": {"Node name for S&R": c.node_type},
            "widgets_values": widgets,
        }
        if c.title:
            node["title"] = c.title
        wf["nodes"].append(node)
        return node


def find_node(wf, ref, refs):
    which = ref.WhichOneof("node")
    if which == "ref":
        if ref.ref not in refs:
            raise ExampleError("no node was created as %s" % ref.ref)
        nid = refs[ref.ref]
    elif which == "id":
        nid = ref.id
    else:
        raise ExampleError("a node reference is empty")
    for n in wf["nodes"]:
        if n["id"] == nid:
            return n
    raise ExampleError("node %d is not on the canvas" % nid)


def slot_index(slots, ref, what):
    which = ref.WhichOneof("slot")
    if which == "index":
        if ref.index >= len(slots):
            raise ExampleError("no %s slot %d" % (what, ref.index))
        return ref.index
    if which == "name":
        for i, s in enumerate(slots):
            if s["name"] == ref.name or (s.get("widget") or {}).get("name") == ref.name:
                return i
        raise ExampleError("no %s slot %s" % (what, ref.name))
    raise ExampleError("a slot reference is empty")


def connect(wf, src, out, dst, inp):
    old = dst["inputs"][inp]["link"]
    if old is not None:
        wf["links"] = [ln for ln in wf["links"] if ln[0] != old]
        for n in wf["nodes"]:
            for o in n["outputs"]:
                if old in o["links"]:
                    o["links"].remove(old)
    wf["last_link_id"] += 1
    lid = wf["last_link_id"]
    wf["links"].append([lid, src["id"], out, dst["id"], inp, src["outputs"][out]["type"]])
    src["outputs"][out]["links"].append(lid)
    dst["inputs"][inp]["link"] = lid
    return lid


def node_ref(ref):
    return gpb.NodeRef(ref=ref)


def build_graph(channel, prompt_text):
    """Attaches a headless canvas and builds a two-node graph on it with one
    ExecuteBatch. Returns False when the service has no GraphService."""
    graph = ggrpc.GraphServiceStub(channel)
    try:
        graph.ListCanvases(gpb.ListCanvasesRequest(), timeout=CALL_TIMEOUT_S)
    except grpc.RpcError as e:
        if e.code() == grpc.StatusCode.UNIMPLEMENTED:
            return False
        raise

    editor = Editor(graph, "example-py-%s" % uuid.uuid4().hex[:12])
    editor.stream = graph.AttachCanvas(editor.attach_request())
    reader = threading.Thread(target=editor.run, daemon=True)
    reader.start()
    try:
        if not editor.attached.wait(CALL_TIMEOUT_S) or editor.failure:
            raise ExampleError(editor.failure or "the canvas was not attached in time")
        print("canvas %s attached at revision %d" % (editor.canvas_id, editor.revision))

        types = graph.ListNodeTypes(
            gpb.ListNodeTypesRequest(canvas_id=editor.canvas_id, names=list(OBJECT_INFO)),
            timeout=CALL_TIMEOUT_S,
        )
        editor.types = {t.name: t for t in types.node_types}

        commands = [
            gpb.Command(
                create_node=gpb.CreateNodeCommand(
                    node_type="CheckpointLoaderSimple",
                    ref="ckpt",
                    widgets={"ckpt_name": gpb.Value(text="sd_xl_base_1.0.safetensors")},
                )
            ),
            gpb.Command(
                create_node=gpb.CreateNodeCommand(
                    node_type="CLIPTextEncode",
                    ref="prompt",
                    widgets={"text": gpb.Value(text=prompt_text)},
                )
            ),
            gpb.Command(
                connect=gpb.ConnectCommand(
                    from_id=node_ref("ckpt"),
                    from_slot=gpb.SlotRef(name="CLIP"),
                    to_id=node_ref("prompt"),
                    to_slot=gpb.SlotRef(name="clip"),
                )
            ),
        ]
        resp = graph.ExecuteBatch(
            gpb.ExecuteBatchRequest(
                canvas_id=editor.canvas_id,
                commands=commands,
                idempotency_key=str(uuid.uuid4()),
                timeout_ms=PATCH_TIMEOUT_MS,
            ),
            timeout=CALL_TIMEOUT_S + PATCH_TIMEOUT_MS / 1000,
        )
        if not resp.ok:
            why = "; ".join("%s: %s" % (gpb.GraphErrorCode.Name(e.code), e.message) for e in resp.errors)
            raise ExampleError("the batch failed: %s" % why)
        refs = ", ".join("%s=#%d" % (k, v) for k, v in sorted(resp.refs.items()))
        print("batch applied at revision %d: %s" % (resp.revision, refs))

        got = graph.GetGraph(
            gpb.GetGraphRequest(canvas_id=editor.canvas_id), timeout=CALL_TIMEOUT_S
        ).graph
        for n in got.nodes:
            print("node #%d %s (%s)" % (n.id, n.type, n.title))
        for ln in got.links:
            print("link %d: #%d[%d] -> #%d[%d] %s"
                  % (ln.id, ln.from_id, ln.from_slot, ln.to_id, ln.to_slot, ln.type))
        if len(got.nodes) != 2 or len(got.links) != 1:
            raise ExampleError(
                "the canvas has %d nodes and %d links, not 2 and 1" % (len(got.nodes), len(got.links))
            )
    finally:
        editor.stream.cancel()
        reader.join(CALL_TIMEOUT_S)
    if editor.failure:
        raise ExampleError(editor.failure)
    return True


def main(argv):
    target = argv[1] if len(argv) > 1 else os.environ.get("COMFYD_ADDR", "127.0.0.1:50051")
    started = time.monotonic()
    try:
        with grpc.insecure_channel(target) as channel:
            grpc.channel_ready_future(channel).result(timeout=CALL_TIMEOUT_S)
            print("comfyd at %s" % target)
            replies = chat(channel)
            prompt_text = replies["prompt-writer"][:500] or "a lighthouse at dusk"
            if build_graph(channel, prompt_text):
                print("graph built")
            else:
                print("graph: this comfyd has no GraphService; skipped")
    except grpc.FutureTimeoutError:
        print("error: no comfyd answering at %s" % target, file=sys.stderr)
        return 1
    except grpc.RpcError as e:
        print("error: %s: %s" % (e.code().name, e.details()), file=sys.stderr)
        return 1
    except ExampleError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    print("done in %.1f s" % (time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
