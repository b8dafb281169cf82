#!/usr/bin/env python3
"""A scripted OpenAI-compatible chat-completions server for tests.

    fake_openai.py --scripts DIR [--port N] [--record FILE] [--exit-on-stdin-eof]

POST .../chat/completions plays the script DIR/<model>.json, where <model> is
the request's "model" (letters, digits, '.', '_' and '-' only). A model with no
script gets a 404 like OpenAI's "model not found". A script is

    {"require_key": "sk-...",           optional: other keys get a 401
     "responses": [STEP, STEP, ...]}    played in order, one per request

and a STEP is

    {"status": 200,                      default 200
     "headers": {"Retry-After": "1"},    extra response headers
     "body": "text" or {...},            a plain body (JSON when an object), or
     "chunks": [ITEM, ...],              a streamed text/event-stream body:
     "delay_ms": 0,                      pause before every item
     "done": true,                       end with "data: [DONE]"
     "cut": false}                       true: close the connection mid-body

with an ITEM being a string (written as is), {"data": obj} (written as
"data: <json>" and a blank line), {"hex": "..."} (raw bytes), {"sleep_ms": n},
and any of them with "repeat": n. Streams use chunked transfer encoding, one
HTTP chunk per item, so "cut" leaves the body unterminated. A request past the
last step gets a 500 ("script exhausted").

A string anywhere in a step may hold {{result:TOOL:PATH}}: the value at PATH
(keys and list indexes joined by '.', e.g. outputs.0.node_id) in the JSON
result of the request's latest call of TOOL (its tool message), so a script
can use ids the tools made (a run's prompt_id). A missing value is a 500
("template"), so a script that went astray fails loudly.

POST .../embeddings answers {"model", "input": str or [str]} with one
deterministic vector per input (EMBED_DIM numbers): a bag of words, each word
lower-cased, an "s" plural dropped, stop words left out, a few synonym groups
(SYNONYMS) read as one word, and each word hashed (SHA-256) to a position and
a sign. Texts that share no word (after synonyms) are orthogonal, so a test
that finds a paraphrase by meaning proves that the ranking used the vectors.
Any model name works; "require_key" as for chat when --embed-key is given.
POST /_embed_fail {"count": n, "match": "text"} makes the next n embeddings
calls whose input holds "text" (any call without "match") answer 500.

Every request is appended to the record file as one JSON line:
{"model", "path", "authorization", "body"}. POST /_reset clears the step
counters. The server prints "LISTENING <port>" once it accepts connections.
"""
import argparse
import json
import os
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 32 * 1024 * 1024
EMBED_DIM = 256
STOP = set("a an the of in on at to and or with for is are was were be it its this that my "
           "your our by from as".split())
SYNONYMS = [
    ["car", "automobile", "vehicle", "auto", "sedan"],
    ["red", "crimson", "scarlet"],
    ["fast", "quick", "quickly", "rapid", "speedy", "swift"],
    ["picture", "image", "photo", "photograph"],
    ["dog", "puppy", "hound"],
    ["big", "large", "huge", "giant"],
    ["sea", "ocean"],
    ["forest", "woods", "woodland"],
]
CANON = {w: g[0] for g in SYNONYMS for w in g}


def embed_text(text):
    import hashlib
    import math
    v = [0.0] * EMBED_DIM
    for w in re.findall(r"[a-z0-9]+", text.lower()):
        if w in STOP:
            continue
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        w = CANON.get(w, w)
        h = hashlib.sha256(w.encode()).digest()
        v[int.from_bytes(h[:4], "big") % EMBED_DIM] += 1.0 if h[4] & 1 else -1.0
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v] if n else v


class State:
    def __init__(self, scripts, record):
        self.scripts = scripts
        self.record = record
        self.lock = threading.Lock()
        self.counters = {}
        self.embed_fail = 0
        self.embed_fail_match = None

    def next_step(self, model):
        with self.lock:
            n = self.counters.get(model, 0)
            self.counters[model] = n + 1
            return n

    def log(self, entry):
        if not self.record:
            return
        with self.lock:
            with open(self.record, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-openai/1"

    def log_message(self, fmt, *args):
        if os.environ.get("FAKE_OPENAI_VERBOSE"):
            sys.stderr.write("fake_openai: " + (fmt % args) + "\n")

    def send_plain(self, status, body, headers=None, ctype="application/json"):
        data = body if isinstance(body, bytes) else body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def error_json(self, status, message, etype="invalid_request_error", code=None):
        body = {"error": {"message": message, "type": etype, "param": None, "code": code}}
        self.send_plain(status, json.dumps(body))

    def do_GET(self):
        if self.path.rstrip("/").endswith("/models"):
            names = sorted(f[:-5] for f in os.listdir(self.server.state.scripts)
                           if f.endswith(".json"))
            data = [{"id": n, "object": "model", "owned_by": "fake"} for n in names]
            self.send_plain(200, json.dumps({"object": "list", "data": data}))
            return
        self.error_json(404, "not found")

    def do_POST(self):
        st = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.error_json(413, "request too large")
            return
        raw = self.rfile.read(length)
        if self.path == "/_reset":
            with st.lock:
                st.counters.clear()
            self.send_plain(200, "{}")
            return
        if self.path == "/_embed_fail":
            with st.lock:
                spec = json.loads(raw.decode() or "{}")
                st.embed_fail = int(spec.get("count", 0))
                st.embed_fail_match = spec.get("match")
            self.send_plain(200, "{}")
            return
        if self.path.endswith("/embeddings"):
            self.embeddings(st, raw)
            return
        if not self.path.endswith("/chat/completions"):
            self.error_json(404, "unknown path " + self.path)
            return
        try:
            req = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            self.error_json(400, "body is not JSON: %s" % e)
            return
        model = req.get("model") if isinstance(req, dict) else None
        st.log({"model": model, "path": self.path,
                "authorization": self.headers.get("Authorization"), "body": req})
        if not isinstance(model, str) or not re.fullmatch(r"[A-Za-z0-9._-]{1,100}", model):
            self.error_json(400, "you must provide a model parameter")
            return
        path = os.path.join(st.scripts, model + ".json")
        if not os.path.isfile(path):
            self.error_json(404, "The model `%s` does not exist or you do not have access to it."
                            % model, code="model_not_found")
            return
        with open(path, encoding="utf-8") as f:
            script = json.load(f)
        want = script.get("require_key")
        if want is not None:
            got = self.headers.get("Authorization", "")
            if got != "Bearer " + want:
                shown = got[len("Bearer "):] if got.startswith("Bearer ") else got
                # Like OpenAI, quote the key back, here in full and masked.
                masked = shown[:6] + "*" * 10 + shown[-4:] if len(shown) > 10 else shown
                self.error_json(401, "Incorrect API key provided: %s (%s). You can find your "
                                "API key in your account settings." % (masked, shown),
                                code="invalid_api_key")
                return
        steps = script.get("responses", [])
        n = st.next_step(model)
        if n >= len(steps):
            self.error_json(500, "script exhausted for %s (request %d)" % (model, n + 1),
                            etype="server_error")
            return
        try:
            step = fill(steps[n], req)
        except LookupError as e:
            self.error_json(500, "template: %s" % e, etype="server_error")
            return
        self.play(step)

    def embeddings(self, st, raw):
        try:
            req = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            self.error_json(400, "body is not JSON: %s" % e)
            return
        st.log({"model": req.get("model") if isinstance(req, dict) else None, "path": self.path,
                "authorization": self.headers.get("Authorization"), "body": req})
        if st.embed_key is not None and self.headers.get("Authorization") != "Bearer " + st.embed_key:
            self.error_json(401, "Incorrect API key provided.", code="invalid_api_key")
            return
        inp = req.get("input") if isinstance(req, dict) else None
        if isinstance(inp, str):
            inp = [inp]
        with st.lock:
            m = st.embed_fail_match
            fail = st.embed_fail > 0 and (
                m is None or any(isinstance(t, str) and m in t for t in inp or []))
            st.embed_fail -= 1 if fail else 0
        if fail:
            self.error_json(500, "scripted embeddings failure", etype="server_error")
            return
        if (not isinstance(req.get("model"), str) or not isinstance(inp, list) or not inp
                or not all(isinstance(t, str) for t in inp)):
            self.error_json(400, "model and input (a string or a list of strings) are needed")
            return
        data = [{"object": "embedding", "index": i, "embedding": embed_text(t)}
                for i, t in enumerate(inp)]
        self.send_plain(200, json.dumps({"object": "list", "data": data, "model": req["model"],
                                         "usage": {"prompt_tokens": 0, "total_tokens": 0}}))

    def play(self, step):
        status = step.get("status", 200)
        headers = step.get("headers", {})
        if "chunks" not in step:
            body = step.get("body", "")
            if isinstance(body, (dict, list)):
                self.send_plain(status, json.dumps(body), headers)
            else:
                self.send_plain(status, body, headers, ctype=step.get("content_type", "text/plain"))
            return
        self.send_response(status)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.flush()
        delay = step.get("delay_ms", 0) / 1000.0
        items = list(step["chunks"])
        if step.get("done"):
            items.append("data: [DONE]\n\n")
        try:
            for item in items:
                repeat = item.get("repeat", 1) if isinstance(item, dict) else 1
                for _ in range(repeat):
                    if delay:
                        threading.Event().wait(delay)
                    if isinstance(item, dict) and "sleep_ms" in item:
                        threading.Event().wait(item["sleep_ms"] / 1000.0)
                        continue
                    self.write_chunk(self.item_bytes(item))
            if step.get("cut"):
                self.close_connection = True
                return
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    @staticmethod
    def item_bytes(item):
        if isinstance(item, str):
            return item.encode("utf-8")
        if "data" in item:
            return ("data: " + json.dumps(item["data"], ensure_ascii=False) + "\n\n").encode()
        if "hex" in item:
            return bytes.fromhex(item["hex"])
        raise ValueError("bad script item: %r" % (item,))

    def write_chunk(self, data):
        if not data:
            return
        self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
        self.wfile.flush()


TEMPLATE = re.compile(r"\{\{result:([A-Za-z0-9_-]+):([A-Za-z0-9_.-]+)\}\}")


def tool_result(req, tool):
    """The parsed JSON of the latest result of a call of tool in req."""
    msgs = req.get("messages") or []
    ids = {}
    for m in msgs:
        for c in m.get("tool_calls") or []:
            ids[c.get("id")] = (c.get("function") or {}).get("name")
    for m in reversed(msgs):
        if m.get("role") == "tool" and ids.get(m.get("tool_call_id")) == tool:
            return json.loads(m.get("content") or "null")
    raise LookupError("no result of %s in the request" % tool)


def fill(step, req):
    """step with every {{result:TOOL:PATH}} replaced (see the docstring)."""
    if isinstance(step, dict):
        return {k: fill(v, req) for k, v in step.items()}
    if isinstance(step, list):
        return [fill(v, req) for v in step]
    if not isinstance(step, str) or "{{" not in step:
        return step

    def one(m):
        v = tool_result(req, m.group(1))
        for part in m.group(2).split("."):
            try:
                v = v[int(part)] if isinstance(v, list) else v[part]
            except (KeyError, IndexError, ValueError, TypeError):
                raise LookupError("%s has no %s" % (m.group(1), m.group(2)))
        return v if isinstance(v, str) else json.dumps(v)

    return TEMPLATE.sub(one, step)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that hangs up (a cancelled stream) is not an error here.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scripts", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--record")
    ap.add_argument("--embed-key", help="the key /embeddings requires (default: none)")
    ap.add_argument("--exit-on-stdin-eof", action="store_true",
                    help="stop when stdin closes (the test that started us is gone)")
    args = ap.parse_args()
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.state = State(args.scripts, args.record)
    srv.state.embed_key = args.embed_key
    if args.exit_on_stdin_eof:
        def watch():
            sys.stdin.buffer.read()
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    print("LISTENING %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
