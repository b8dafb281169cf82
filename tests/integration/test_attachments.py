"""Attachments in user messages, end to end: files stored content-addressed
under DATA/blobs (UploadAttachment, inline bytes, references by sha256),
limits with errors that name them and nothing half-stored, the history's
references, the bridge's POST/GET /comfy/attachments (413/415, token) and a
session WebSocket user_message whose image reaches an OpenAI-compatible model
server (tests/llm/fake_openai.py) as an image_url part, while a text-only
model gets the image's description as text."""

import asyncio
import base64
import hashlib
import json
import os
import struct
import subprocess
import time
import urllib.error
import urllib.request
import zlib

import grpc
import pytest
from comfyd.v1 import session_pb2 as spb

from conftest import REPO, free_port
from helpers import Sub, get_session, new_session, settle

FAKE = os.path.join(REPO, "tests", "llm", "fake_openai.py")
SCRIPTS = os.path.join(REPO, "tests", "llm", "scripts")
PW = "prompt-writer"
MAX_BYTES = 3 << 20  # BLOB_MAX_BYTES


def png(w, h, rgb=(200, 30, 30)):
    raw = b"".join(b"\x00" + bytes(rgb) * w for _ in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def blob_files(comfyd):
    out = []
    for root, _, files in os.walk(os.path.join(comfyd.data, "blobs")):
        out += [os.path.join(root, f) for f in files]
    return sorted(out)


def upload(stub, data, mime, name=""):
    return stub.UploadAttachment(spb.UploadAttachmentRequest(data=data, mime_type=mime, name=name),
                                 timeout=10).attachment


def turn(stub, sid, req):
    sub = Sub(stub, sid)
    resp = stub.SendMessage(req, timeout=10)
    evs = settle(stub, sid, sub)
    sub.cancel()
    return resp, evs


def replies(evs):
    return [e.message_added.message for e in evs
            if e.WhichOneof("kind") == "message_added" and e.message_added.message.role == spb.ROLE_ASSISTANT]


def test_upload_send_and_history_with_the_echo_model(comfyd):
    stub = comfyd.sessions()
    s = new_session(stub, skills=[PW])
    img = png(40, 30)
    a = upload(stub, img, "image/png", "cat.png")
    assert a.sha256 == hashlib.sha256(img).hexdigest()
    assert (a.mime_type, a.name, a.size, a.width, a.height) == ("image/png", "cat.png", len(img), 40, 30)
    path = os.path.join(comfyd.data, "blobs", a.sha256[:2], a.sha256[2:])
    with open(path, "rb") as f:
        assert f.read() == img
    # The same file again is stored once.
    assert upload(stub, img, "image/jpeg").sha256 == a.sha256
    assert blob_files(comfyd) == [path]

    notes = "# Notes\nthe cat is red\n"
    req = spb.SendMessageRequest(session_id=s.id, content="what is this?", attachments=[
        spb.Attachment(sha256=a.sha256, name="cat.png"),
        spb.Attachment(data=notes.encode(), mime_type="text/markdown", name="notes.md"),
    ])
    resp, evs = turn(stub, s.id, req)
    got = resp.message.attachments
    assert [(x.name, x.mime_type, x.width) for x in got] == [("cat.png", "image/png", 40),
                                                              ("notes.md", "text/markdown", 0)]
    assert got[1].sha256 == hashlib.sha256(notes.encode()).hexdigest()
    (reply,) = replies(evs)
    # The echo model says back the text with the text attachment and the
    # image's description (it never takes images itself: core/vision.h).
    assert "the cat is red" in reply.content, reply.content
    assert "[attached file notes.md: text/markdown" in reply.content
    assert ("[attached image cat.png: image/png, 40x30 pixels, %d bytes; not shown: this model does not "
            "take images]" % len(img)) in reply.content, reply.content
    hist = get_session(stub, s.id, history=True).history
    user = [m for m in hist if m.role == spb.ROLE_USER][0]
    assert [x.sha256 for x in user.attachments] == [a.sha256, got[1].sha256]
    # And after a restart.
    comfyd.restart()
    stub = comfyd.sessions()
    user = [m for m in get_session(stub, s.id, history=True).history if m.role == spb.ROLE_USER][0]
    assert [x.name for x in user.attachments] == ["cat.png", "notes.md"]
    g = stub.GetAttachment(spb.GetAttachmentRequest(sha256=a.sha256), timeout=10)
    assert g.data == img and g.attachment.mime_type == "image/png"


def test_limits_and_types_are_refused_with_nothing_stored(comfyd):
    stub = comfyd.sessions()
    s = new_session(stub, skills=[PW])

    def code_of(fn):
        with pytest.raises(grpc.RpcError) as e:
            fn()
        return e.value.code(), e.value.details()

    c, d = code_of(lambda: upload(stub, b"a" * (MAX_BYTES + 1), "text/plain"))
    assert c == grpc.StatusCode.RESOURCE_EXHAUSTED and "BLOB_MAX_BYTES" in d, d
    c, d = code_of(lambda: upload(stub, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "application/pdf"))
    assert c == grpc.StatusCode.INVALID_ARGUMENT and "application/pdf" in d, d
    c, d = code_of(lambda: upload(stub, b"\x00\x01binary", ""))
    assert c == grpc.StatusCode.INVALID_ARGUMENT, d
    c, d = code_of(lambda: upload(stub, b"{\"a\":", "application/json"))
    assert c == grpc.StatusCode.INVALID_ARGUMENT and "JSON" in d, d
    assert blob_files(comfyd) == []

    def send(atts, content="x"):
        return stub.SendMessage(spb.SendMessageRequest(session_id=s.id, content=content, attachments=atts),
                                timeout=10)

    nine = [spb.Attachment(data=b"note %d" % i, mime_type="text/plain") for i in range(9)]
    c, d = code_of(lambda: send(nine))
    assert c == grpc.StatusCode.RESOURCE_EXHAUSTED and "BLOB_MAX_PER_MESSAGE" in d, d
    c, d = code_of(lambda: send([spb.Attachment(sha256="0" * 64)]))
    assert c == grpc.StatusCode.INVALID_ARGUMENT and "no uploaded attachment" in d, d
    c, d = code_of(lambda: send([spb.Attachment(sha256="../../etc/passwd")]))
    assert c == grpc.StatusCode.INVALID_ARGUMENT, d
    c, d = code_of(lambda: send([spb.Attachment(sha256="a" * 64, data=b"x")]))
    assert c == grpc.StatusCode.INVALID_ARGUMENT and "exactly one" in d, d
    c, d = code_of(lambda: send([spb.Attachment(data=b"ok", name="x" * 256)]))
    assert c == grpc.StatusCode.INVALID_ARGUMENT and "BLOB_MAX_NAME" in d, d
    # A run output without a ComfyUI configured is refused, not a hang.
    c, d = code_of(lambda: send([spb.Attachment(run_output=spb.RunOutputRef(prompt_id="p", node_id="9"))]))
    assert c == grpc.StatusCode.INVALID_ARGUMENT, d
    # Six files of 3 MiB are over the total of 16 MiB: refused, and no
    # message was stored.
    big = [upload(stub, bytes([65 + i]) * MAX_BYTES, "text/plain") for i in range(6)]
    c, d = code_of(lambda: send([spb.Attachment(sha256=b.sha256) for b in big]))
    assert c == grpc.StatusCode.RESOURCE_EXHAUSTED and "BLOB_MAX_TOTAL_PER_MESSAGE" in d, d
    assert get_session(stub, s.id).session.message_count == 0
    # No temporary file is left anywhere.
    assert not [f for f in blob_files(comfyd) if ".tmp" in f]
    # Text-only messages are unchanged: an empty content still needs a file.
    c, d = code_of(lambda: send([], content=""))
    assert c == grpc.StatusCode.INVALID_ARGUMENT


# ---- through the bridge ----------------------------------------------------


class Bridge:
    def __init__(self, comfyd):
        self.port = free_port()
        self.dir = os.path.join(comfyd.root, "bridge")
        os.makedirs(self.dir, exist_ok=True)
        self.token_file = os.path.join(self.dir, "token")
        exe = os.path.join(os.path.dirname(os.path.dirname(os.environ.get("COMFYD_BIN", ""))) or
                           os.path.join(REPO, "build"), "bridge", "comfyd-bridge")
        self.log = open(os.path.join(self.dir, "bridge.log"), "wb")
        self.proc = subprocess.Popen(
            [exe, "--listen", "127.0.0.1:%d" % self.port, "--core", comfyd.unix_target,
             "--token-file", self.token_file, "--data", self.dir],
            stdout=self.log, stderr=subprocess.STDOUT)
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.port, timeout=2).read()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.05)
        with open(self.token_file) as f:
            self.token = f.read().strip()

    def http(self, method, path, body=None, headers=None, token=True):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), data=body, method=method,
                                     headers=h)
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def stop(self):
        self.proc.terminate()
        rc = self.proc.wait(timeout=30)
        self.log.close()
        return rc


@pytest.fixture
def bridge(comfyd):
    b = Bridge(comfyd)
    yield b
    rc = b.stop()
    with open(os.path.join(b.dir, "bridge.log"), "rb") as f:
        log = f.read().decode("utf-8", "replace")
    assert rc == 0, "comfyd-bridge exit code %s on SIGTERM:\n%s" % (rc, log[-4000:])


def test_bridge_upload_and_download(comfyd, bridge):
    img = png(8, 6)
    st, _, body = bridge.http("POST", "/comfy/attachments?name=dot.png", img, {"Content-Type": "image/png"},
                              token=False)
    assert st == 401
    st, _, body = bridge.http("POST", "/comfy/attachments?name=dot.png", img, {"Content-Type": "image/png"})
    assert st == 200, body
    a = json.loads(body)
    assert a["attachment"]["sha256"] == hashlib.sha256(img).hexdigest()
    assert a["attachment"]["width"] == 8 and a["attachment"]["name"] == "dot.png"
    st, hdr, got = bridge.http("GET", "/comfy/attachments/" + hashlib.sha256(img).hexdigest())
    assert st == 200 and got == img
    hdr = {k.lower(): v for k, v in hdr.items()}
    assert hdr["content-type"] == "image/png" and hdr["x-content-type-options"] == "nosniff"
    # The name may come in a header too.
    st, _, body = bridge.http("POST", "/comfy/attachments", b"hello", {"Content-Type": "text/plain",
                                                                      "X-Attachment-Name": "hi.txt"})
    assert st == 200 and json.loads(body)["attachment"]["name"] == "hi.txt", body
    before = blob_files(comfyd)
    st, _, body = bridge.http("POST", "/comfy/attachments", b"%PDF-1.4\n\x00", {"Content-Type": "application/pdf"})
    assert st == 415, (st, body)
    assert "application/pdf" in json.loads(body)["error"]
    st, _, body = bridge.http("POST", "/comfy/attachments", b"a" * (MAX_BYTES + 1), {"Content-Type": "text/plain"})
    assert st == 413 and "BLOB_MAX_BYTES" in json.loads(body)["error"], (st, body)
    # Beyond the upload route's body limit: refused before the body.
    st, _, body = bridge.http("POST", "/comfy/attachments", b"a" * (5 << 20), {"Content-Type": "text/plain"})
    assert st == 413
    # Other routes keep the 1 MiB body limit.
    st, _, body = bridge.http("POST", "/comfy/graph/command", b"{" + b" " * (1 << 20) + b"}",
                              {"Content-Type": "application/json"})
    assert st == 413
    assert blob_files(comfyd) == before  # nothing half-stored
    st, _, body = bridge.http("GET", "/comfy/attachments/" + "0" * 64)
    assert st == 404
    st, _, body = bridge.http("GET", "/comfy/attachments/..%2f..%2fetc")
    assert st == 400


class FakeLlm:
    def __init__(self, root):
        self.record = os.path.join(root, "llm.jsonl")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", FAKE, "--scripts", SCRIPTS, "--port", "0", "--record", self.record,
             "--exit-on-stdin-eof"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        assert line.startswith("LISTENING "), line
        self.base_url = "http://127.0.0.1:%d/v1" % int(line.split()[1])

    def requests(self):
        if not os.path.exists(self.record):
            return []
        with open(self.record) as f:
            return [json.loads(l) for l in f if l.strip()]

    def stop(self):
        self.proc.stdin.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)


def ws_user_message(bridge, sid, data):
    """Sends one user_message over WS /comfy/session/ws and returns the ack."""
    import websockets

    async def run():
        url = "ws://127.0.0.1:%d/comfy/session/ws?token=%s" % (bridge.port, bridge.token)
        async with websockets.connect(url, max_size=None) as ws:
            await ws.send(json.dumps({"event": "user_message", "request_id": "m1",
                                      "data": dict(data, session_id=sid)}))
            end = time.monotonic() + 30
            while time.monotonic() < end:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if msg.get("event") in ("ack", "error"):
                    return msg
        raise AssertionError("no ack")

    return asyncio.run(run())


def wait_requests(llm, n):
    end = time.monotonic() + 30
    while time.monotonic() < end:
        reqs = llm.requests()
        if len(reqs) >= n:
            return reqs
        time.sleep(0.05)
    raise AssertionError("the model server got %d requests" % len(llm.requests()))


def last_user(req):
    return [m for m in req["body"]["messages"] if m["role"] == "user"][-1]


def test_ws_image_reaches_a_vision_model_as_image_url(comfyd, bridge):
    llm = FakeLlm(comfyd.root)
    try:
        stub = comfyd.sessions()
        s = new_session(stub, skills=[PW], provider="openai", base_url=llm.base_url, model="attach-gpt-4o")
        img = png(2000, 500)  # scaled down to 1024 on its longer side for the model
        st, _, body = bridge.http("POST", "/comfy/attachments?name=wide.png", img, {"Content-Type": "image/png"})
        assert st == 200, body
        sha = json.loads(body)["attachment"]["sha256"]
        small = png(3, 2, (0, 0, 255))
        sub = Sub(stub, s.id)
        ack = ws_user_message(bridge, s.id, {
            "content": "judge these",
            "attachments": [{"sha256": sha, "name": "wide.png"},
                            {"data": base64.b64encode(small).decode(), "mime_type": "image/png",
                             "name": "tiny.png"},
                            {"data": base64.b64encode(b"{\"steps\": 20}").decode(),
                             "mime_type": "application/json", "name": "params.json"}]})
        assert ack["event"] == "ack", ack
        settle(stub, s.id, sub)
        sub.cancel()
        (req,) = wait_requests(llm, 1)
        user = last_user(req)
        parts = user["content"]
        assert isinstance(parts, list), user
        assert parts[0]["type"] == "text"
        assert "judge these" in parts[0]["text"] and "\"steps\": 20" in parts[0]["text"]
        urls = [p["image_url"]["url"] for p in parts if p["type"] == "image_url"]
        assert len(urls) == 2
        assert all(u.startswith("data:image/png;base64,") for u in urls)
        first = base64.b64decode(urls[0].split(",", 1)[1])
        w, h = struct.unpack(">II", first[16:24])
        assert (w, h) == (1024, 256), (w, h)
        assert base64.b64decode(urls[1].split(",", 1)[1]) == small
        # The history (as the panel reads it) has the three references.
        user_msg = [m for m in get_session(stub, s.id, history=True).history if m.role == spb.ROLE_USER][0]
        assert [a.name for a in user_msg.attachments] == ["wide.png", "tiny.png", "params.json"]

        # A text-only model gets the images described, not sent; vision=on
        # overrides the name heuristic.
        from google.protobuf import wrappers_pb2
        stub.ConfigureSession(spb.ConfigureSessionRequest(
            session_id=s.id, model=wrappers_pb2.StringValue(value="attach-text")), timeout=10)
        sub = Sub(stub, s.id)
        ack = ws_user_message(bridge, s.id, {"content": "and now?", "attachments": [{"sha256": sha}]})
        assert ack["event"] == "ack", ack
        settle(stub, s.id, sub)
        sub.cancel()
        req = wait_requests(llm, 2)[1]
        user = last_user(req)
        assert isinstance(user["content"], str), user
        assert "not shown: this model does not take images" in user["content"]
        cfg = stub.ConfigureSession(spb.ConfigureSessionRequest(
            session_id=s.id, vision=wrappers_pb2.StringValue(value="on")), timeout=10)
        assert cfg.session.config.vision == "on"
        sub = Sub(stub, s.id)
        ws_user_message(bridge, s.id, {"content": "again", "attachments": [{"sha256": sha}]})
        settle(stub, s.id, sub)
        sub.cancel()
        req = wait_requests(llm, 3)[2]
        assert any(p.get("type") == "image_url" for p in last_user(req)["content"])
        # Too many files over the socket: refused with the limit named.
        nine = [{"data": base64.b64encode(b"n%d" % i).decode(), "mime_type": "text/plain"}
                for i in range(9)]
        ack = ws_user_message(bridge, s.id, {"content": "many", "attachments": nine})
        assert ack["event"] == "error" and "BLOB_MAX_PER_MESSAGE" in json.dumps(ack), ack
    finally:
        llm.stop()


def mcp_call(bridge, body, sid=None):
    h = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if sid:
        h["Mcp-Session-Id"] = sid
    st, hdr, out = bridge.http("POST", "/mcp", json.dumps(body).encode(), h)
    hdr = {k.lower(): v for k, v in hdr.items()}
    text = out.decode()
    if hdr.get("content-type", "").startswith("text/event-stream"):
        datas = [l[5:].strip() for l in text.splitlines() if l.startswith("data:")]
        text = [d for d in datas if '"result"' in d or '"error"' in d][-1]
    return st, hdr, json.loads(text) if text.strip() else None


def test_mcp_send_message_takes_image_and_text_content(comfyd, bridge):
    stub = comfyd.sessions()
    s = new_session(stub, skills=[PW])
    st, hdr, r = mcp_call(bridge, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
    assert st == 200, r
    msid = hdr["mcp-session-id"]
    mcp_call(bridge, {"jsonrpc": "2.0", "method": "notifications/initialized"}, msid)
    img = png(5, 4)
    st, _, r = mcp_call(bridge, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
        "name": "send_message", "arguments": {
            "session_id": s.id, "content": "look", "attachments": [
                {"type": "image", "data": base64.b64encode(img).decode(), "mimeType": "image/png"},
                {"type": "text", "text": "a note from the caller"}]}}}, msid)
    assert st == 200, r
    res = r["result"]
    assert not res.get("isError"), res
    text = json.dumps(res)
    assert "a note from the caller" in text and "attached image (unnamed): image/png, 5x4 pixels" in text, text
    user = [m for m in get_session(stub, s.id, history=True).history if m.role == spb.ROLE_USER][0]
    assert [(a.mime_type, a.width) for a in user.attachments] == [("image/png", 5), ("text/plain", 0)]
    # An unknown content kind is refused by name.
    st, _, r = mcp_call(bridge, {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
        "name": "send_message", "arguments": {
            "session_id": s.id, "content": "x", "attachments": [{"type": "audio", "data": "AAAA"}]}}}, msid)
    assert r["result"]["isError"], r
    assert "type" in json.dumps(r["result"])


def test_gc_at_start_removes_unreferenced_old_files_only(comfyd):
    stub = comfyd.sessions()
    keep_s = new_session(stub, skills=[PW])
    gone_s = new_session(stub, skills=[PW])
    kept = upload(stub, b"referenced by a message", "text/plain")
    never = upload(stub, b"uploaded, never sent", "text/plain")
    young = upload(stub, b"uploaded a moment ago", "text/plain")
    deleted = upload(stub, b"its session is deleted", "text/plain")
    turn(stub, keep_s.id, spb.SendMessageRequest(session_id=keep_s.id, content="a",
                                                 attachments=[spb.Attachment(sha256=kept.sha256)]))
    turn(stub, gone_s.id, spb.SendMessageRequest(session_id=gone_s.id, content="b",
                                                 attachments=[spb.Attachment(sha256=deleted.sha256)]))
    stub.DeleteSession(spb.DeleteSessionRequest(session_id=gone_s.id), timeout=10)
    path = lambda a: os.path.join(comfyd.data, "blobs", a.sha256[:2], a.sha256[2:])
    two_days_ago = time.time() - 2 * 86400
    for a in (kept, never, deleted):
        os.utime(path(a), (two_days_ago, two_days_ago))
    crash_left = os.path.join(comfyd.data, "blobs", ".tmp-abc123")
    with open(crash_left, "wb") as f:
        f.write(b"half a file")
    os.utime(crash_left, (two_days_ago, two_days_ago))
    comfyd.restart()
    # The collector logs its count after its last removal (it removes in
    # directory order, so one file being gone says nothing of the others).
    end = time.monotonic() + 30
    while time.monotonic() < end and b"unreferenced attachment files" not in comfyd.log_bytes():
        time.sleep(0.05)
    assert os.path.exists(path(kept)) and os.path.exists(path(young))
    assert not os.path.exists(path(never)) and not os.path.exists(path(deleted))
    assert not os.path.exists(crash_left)
    assert b"removed 3 unreferenced attachment files" in comfyd.log_bytes()
