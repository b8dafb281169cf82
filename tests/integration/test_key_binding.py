"""A stored provider API key is bound to the provider and base URL it was
given with: a ConfigureSession that changes either without a new key drops
the stored key (and says so), so the next turn never sends the old key to
the new host. Two scripted OpenAI-compatible servers (tests/llm/
fake_openai.py) on two ports record every Authorization header."""

import json
import os
import subprocess
import time
import urllib.request

from comfyd.v1 import session_pb2 as spb
from google.protobuf import wrappers_pb2

from conftest import REPO
from helpers import Sub, new_session, send, settle

FAKE = os.path.join(REPO, "tests", "llm", "fake_openai.py")
SCRIPTS = os.path.join(REPO, "tests", "llm", "scripts")
PW = "prompt-writer"
KEY = "sk-bound-key-0123456789"
NEW_KEY = "sk-second-key-9876543210"


class FakeLlm:
    def __init__(self, root, name):
        self.record = os.path.join(root, name + ".jsonl")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", FAKE, "--scripts", SCRIPTS, "--port", "0", "--record", self.record,
             "--exit-on-stdin-eof"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        line = self.proc.stdout.readline().decode()
        assert line.startswith("LISTENING "), "fake_openai.py did not start: %r" % line
        self.port = int(line.split()[1])
        self.base_url = "http://127.0.0.1:%d/v1" % self.port

    def requests(self):
        if not os.path.exists(self.record):
            return []
        with open(self.record) as f:
            return [json.loads(l) for l in f if l.strip()]

    def reset(self):
        urllib.request.urlopen(urllib.request.Request(
            "http://127.0.0.1:%d/_reset" % self.port, data=b"", method="POST"), timeout=10).read()

    def stop(self):
        self.proc.stdin.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)


def configure(stub, sid, **fields):
    req = spb.ConfigureSessionRequest(session_id=sid)
    for name, value in fields.items():
        getattr(req, name).CopyFrom(wrappers_pb2.StringValue(value=value))
    return stub.ConfigureSession(req, timeout=10)


def turn(stub, sid, text):
    sub = Sub(stub, sid)
    send(stub, sid, text)
    evs = settle(stub, sid, sub)
    sub.cancel()
    return evs


def test_changing_base_url_or_provider_drops_the_stored_key(comfyd):
    good = FakeLlm(comfyd.root, "good")
    other = FakeLlm(comfyd.root, "other")
    try:
        stub = comfyd.sessions()
        s = new_session(stub, skills=[PW], provider="openai", base_url=good.base_url, model="text-stream",
                        api_key=KEY)
        assert s.config.api_key_set
        turn(stub, s.id, "first")
        auths = [r["authorization"] for r in good.requests()]
        assert auths == ["Bearer " + KEY], auths

        # Only the base URL changes: the key stays behind.
        resp = configure(stub, s.id, base_url=other.base_url)
        assert not resp.session.config.api_key_set, "the key must not follow a new base_url"
        assert resp.api_key_cleared, "the answer must say that the key was dropped"
        assert "base_url" in resp.notice and "api_key" in resp.notice, resp.notice
        got = stub.GetSession(spb.GetSessionRequest(session_id=s.id), timeout=10).session
        assert not got.config.api_key_set
        turn(stub, s.id, "second")
        sent = other.requests()
        assert len(sent) == 1, sent
        assert not sent[0]["authorization"], "the old key went to the new host: %r" % sent[0]["authorization"]

        # A new base URL together with a new key keeps the new key.
        good.reset()
        resp = configure(stub, s.id, base_url=good.base_url, api_key=NEW_KEY)
        assert resp.session.config.api_key_set and not resp.api_key_cleared and not resp.notice
        turn(stub, s.id, "third")
        assert good.requests()[-1]["authorization"] == "Bearer " + NEW_KEY

        # Setting the same base URL again, or another field, is not a change.
        resp = configure(stub, s.id, base_url=good.base_url, model="text-stream")
        assert resp.session.config.api_key_set and not resp.api_key_cleared

        # A new provider drops the key too, even with the same base URL.
        resp = configure(stub, s.id, provider="echo")
        assert not resp.session.config.api_key_set and resp.api_key_cleared
        assert "provider" in resp.notice, resp.notice

        # The stored key is gone for good: switching back does not revive it.
        resp = configure(stub, s.id, provider="openai")
        assert not resp.session.config.api_key_set
        comfyd.restart()
        stub = comfyd.sessions()
        got = stub.GetSession(spb.GetSessionRequest(session_id=s.id), timeout=10).session
        assert not got.config.api_key_set
    finally:
        good.stop()
        other.stop()
    # The key itself is never logged.
    assert KEY.encode() not in comfyd.all_logs() and NEW_KEY.encode() not in comfyd.all_logs()
