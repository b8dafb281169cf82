"""Hybrid search: with --embed-url every message is also embedded (the
scripted OpenAI-compatible server's deterministic bag-of-words embedding,
tests/llm/fake_openai.py) and a search finds a message of another session
by a paraphrase that shares no word with it; without embeddings it does
not. The key goes to the embeddings endpoint only; a failing endpoint is
retried while search by words keeps working; a deleted session's vectors
go with it."""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

from comfyd.v1 import session_pb2 as spb

from conftest import REPO
from helpers import new_session, send, wait_turns_done

FAKE = os.path.join(REPO, "tests", "llm", "fake_openai.py")
KEY = "sk-embed-key-0123456789"
ORIGINAL = "the crimson automobile drove quickly down the hill"
PARAPHRASE = "red car fast"  # no word in common with ORIGINAL
OTHER = "a puppy sleeping in the woods"


class EmbedServer:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="cfd-emb-", dir="/tmp")
        os.makedirs(os.path.join(self.root, "scripts"))
        self.record = os.path.join(self.root, "record.jsonl")
        self.proc = subprocess.Popen(
            [sys.executable, FAKE, "--scripts", os.path.join(self.root, "scripts"), "--record",
             self.record, "--embed-key", KEY, "--exit-on-stdin-eof"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        assert line.startswith("LISTENING "), line
        self.port = int(line.split()[1])
        self.base_url = "http://127.0.0.1:%d/v1" % self.port

    def requests(self):
        if not os.path.exists(self.record):
            return []
        with open(self.record) as f:
            return [json.loads(l) for l in f if l.strip()]

    def fail_next(self, n, match):
        urllib.request.urlopen(urllib.request.Request(
            "http://127.0.0.1:%d/_embed_fail" % self.port,
            data=json.dumps({"count": n, "match": match}).encode(),
            method="POST"), timeout=10).read()

    def stop(self):
        self.proc.stdin.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)


def with_embeddings(factory, srv, **kw):
    return factory(extra=["--embed-url", srv.base_url, "--embed-model", "hash-embed-256"],
                   env={"COMFYD_EMBED_API_KEY": KEY}, **kw)


def search(stub, q, **kw):
    return list(stub.SearchSessions(spb.SearchSessionsRequest(query=q, **kw), timeout=20).hits)


def two_sessions(stub):
    a = new_session(stub)
    b = new_session(stub)
    m = send(stub, a.id, ORIGINAL)
    send(stub, b.id, OTHER)
    wait_turns_done(stub, a.id, 2)
    wait_turns_done(stub, b.id, 2)
    return a, b, m.message.id


def until_found(stub, q, pred, guard=30):
    deadline = time.monotonic() + guard
    hits = []
    while time.monotonic() < deadline:
        hits = search(stub, q)
        if pred(hits):
            return hits
        time.sleep(0.1)
    raise AssertionError("search %r never matched; last hits: %r" % (q, hits))


def test_paraphrase_is_found_by_meaning_with_embeddings(comfyd_factory):
    srv = EmbedServer()
    try:
        c = with_embeddings(comfyd_factory, srv)
        stub = c.sessions()
        a, b, mid = two_sessions(stub)
        # Searched from anywhere (here: without a session), the paraphrase
        # finds session a's message; session b's shares nothing with it.
        hits = until_found(stub, PARAPHRASE, lambda h: any(x.id == mid for x in h))
        hit = next(x for x in hits if x.id == mid)
        assert hit.session_id == a.id and hit.kind == spb.SEARCH_HIT_KIND_MESSAGE
        assert hit.snippet.startswith("the crimson automobile")
        assert hit.session_title
        assert b.id not in {x.session_id for x in hits}
        # Words still rank first; a word search is unchanged.
        hits = search(stub, "puppy")
        assert hits and hits[0].session_id == b.id
        # Within a session: only that session's entries.
        assert not [x for x in search(stub, PARAPHRASE, session_id=b.id) if x.id == mid]
        # Every call went to the embeddings endpoint with the key.
        emb = [r for r in srv.requests() if r["path"].endswith("/embeddings")]
        assert emb and all(r["authorization"] == "Bearer " + KEY for r in emb)
        assert all(r["body"]["model"] == "hash-embed-256" for r in emb)
        assert any(ORIGINAL in r["body"]["input"] for r in emb)
        # The vectors go with the session.
        stub.DeleteSession(spb.DeleteSessionRequest(session_id=a.id), timeout=10)
        assert not [x for x in search(stub, PARAPHRASE) if x.session_id == a.id]
    finally:
        srv.stop()


def test_paraphrase_is_not_found_without_embeddings(comfyd_factory):
    c = comfyd_factory()
    stub = c.sessions()
    a, b, mid = two_sessions(stub)
    assert [x.id for x in search(stub, "crimson")]  # words work
    assert not search(stub, PARAPHRASE)


def test_a_failing_endpoint_is_retried_and_words_work_meanwhile(comfyd_factory):
    srv = EmbedServer()
    try:
        srv.fail_next(3, "automobile")  # the batch with ORIGINAL, not a query
        c = with_embeddings(comfyd_factory, srv)
        stub = c.sessions()
        a, b, mid = two_sessions(stub)
        assert any(x.id == mid for x in search(stub, "crimson"))
        hits = until_found(stub, PARAPHRASE, lambda h: any(x.id == mid for x in h), guard=60)
        assert hits
        log = c.all_logs().decode(errors="replace")
        assert "scripted embeddings failure" in log and "retried later" in log
        assert KEY not in log
        # A restart keeps the vectors (nothing is embedded twice).
        before = len([r for r in srv.requests() if r["path"].endswith("/embeddings")])
        c.restart()
        stub = c.sessions()
        hits = until_found(stub, PARAPHRASE, lambda h: any(x.id == mid for x in h))
        after = [r for r in srv.requests() if r["path"].endswith("/embeddings")][before:]
        # Only the query is embedded after the restart.
        assert all(r["body"]["input"] == [PARAPHRASE] for r in after), after
    finally:
        srv.stop()


def test_bad_embeddings_flags_are_refused(comfyd_factory):
    for extra in (["--embed-url", "ftp://x/v1", "--embed-model", "m"],
                  ["--embed-url", "http://127.0.0.1:9/v1"],
                  ["--embed-url", "http://127.0.0.1:9/v1", "--embed-model", "m",
                   "--embed-min-similarity", "2"]):
        c = comfyd_factory(start=False, extra=extra)
        p = subprocess.run(c.argv(), capture_output=True, timeout=30)
        assert p.returncode != 0, extra
        assert b"--embed" in p.stderr + p.stdout, (extra, p.stderr)
