#!/usr/bin/env python3
"""tests/llm/fake_openai.py with one script per skill.

    fake_llm.py --scripts DIR [--port N] [--record FILE] [--exit-on-stdin-eof]

Several skills answer one message concurrently with the session's one model,
so their requests interleave in an order the test does not control. This
server plays DIR/<model>.<skill>.json for a request whose system message
says it acts as that skill (the agent loop writes 'You are acting as the
skill "<skill>".'), and DIR/<model>.json otherwise: each skill then walks
its own script. Everything else (script format, record file, /_reset) is
fake_openai.py's; the record shows the model name that was played.
"""
import io
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "llm"))
import fake_openai  # noqa: E402

SKILL_RE = re.compile(r'You are acting as the skill "([a-z0-9-]{1,64})"')
MAX_BODY = fake_openai.MAX_BODY


class Handler(fake_openai.Handler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY or not self.path.endswith("/chat/completions"):
            return super().do_POST()
        raw = self.rfile.read(length)
        try:
            req = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            req = None
        if isinstance(req, dict) and isinstance(req.get("model"), str):
            skill = None
            for m in req.get("messages") or []:
                if isinstance(m, dict) and m.get("role") == "system":
                    found = SKILL_RE.search(str(m.get("content", "")))
                    if found:
                        skill = found.group(1)
                        break
            name = "%s.%s" % (req["model"], skill) if skill else None
            if name and os.path.isfile(os.path.join(self.server.state.scripts, name + ".json")):
                req["model"] = name
                raw = json.dumps(req).encode("utf-8")
                self.headers.replace_header("Content-Length", str(len(raw)))
        # The base handler reads the body from rfile; the connection's own
        # stream is put back for the next request on it.
        conn, self.rfile = self.rfile, io.BytesIO(raw)
        try:
            return super().do_POST()
        finally:
            self.rfile = conn


def main():
    fake_openai.Handler = Handler
    fake_openai.main()


if __name__ == "__main__":
    main()
