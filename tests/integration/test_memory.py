"""Memory: a session pushed past a small context window compacts (the
scripted OpenAI-compatible server sees every prompt within the budget, and
the summary in later ones), CompactSession, full-text search across sessions
with clear errors for malformed queries, titles, archive, export, delete."""

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import grpc
import pytest
from comfyd.v1 import session_pb2 as spb
from google.protobuf import wrappers_pb2

from conftest import REPO
from helpers import get_session, new_session, send, wait_turns_done

FAKE = os.path.join(REPO, "tests", "llm", "fake_openai.py")
WINDOW = 1024
# ctxwin.h: a quarter of the window (at least 256, at most half) is kept
# for the reply; the prompt may use the rest.
BUDGET = WINDOW - max(256, min(WINDOW // 4, WINDOW // 2))

CHAT_SKILL = """---
name: chat
description: Talks about the user's pictures.
allowed-tools: get_graph
---
Answer briefly.
"""


def est_text(n):
    return (n + 3) // 4


def est_prompt(body):
    """The documented estimate (docs/sessions.md) of a chat-completions body."""
    total = 0
    for m in body["messages"]:
        n = len((m.get("content") or "").encode("utf-8"))
        for tc in m.get("tool_calls") or []:
            n += len(tc["id"]) + len(tc["function"]["name"]) + len(tc["function"]["arguments"])
        total += 4 + est_text(n)
    for t in body.get("tools") or []:
        f = t["function"]
        params = json.dumps(f.get("parameters", {}), separators=(",", ":"), ensure_ascii=False)
        total += 4 + est_text(len(f["name"].encode()) + len(f.get("description", "").encode()) + len(params.encode()))
    return total


def text_step(text):
    return {
        "chunks": [
            {"data": {"choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": None}]}},
            {"data": {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}},
        ],
        "done": True,
    }


@pytest.fixture
def llm():
    root = tempfile.mkdtemp(prefix="cfd-llm-", dir="/tmp")
    scripts = os.path.join(root, "scripts")
    os.makedirs(scripts)
    record = os.path.join(root, "record.jsonl")
    steps = [text_step("Reply %d: the fox stays red, the sky stays violet, the lens stays wide and the "
                       "grain stays fine as asked before." % i) for i in range(80)]
    with open(os.path.join(scripts, "ctx-small.json"), "w") as f:
        json.dump({"responses": steps}, f)
    proc = subprocess.Popen([sys.executable, FAKE, "--scripts", scripts, "--record", record,
                             "--exit-on-stdin-eof"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    line = proc.stdout.readline().decode()
    assert line.startswith("LISTENING "), line
    port = int(line.split()[1])

    class L:
        url = "http://127.0.0.1:%d/v1" % port

        @staticmethod
        def write_script(model, responses):
            with open(os.path.join(scripts, model + ".json"), "w") as f:
                json.dump({"responses": responses}, f)

        @staticmethod
        def requests():
            if not os.path.exists(record):
                return []
            with open(record, encoding="utf-8") as f:
                return [json.loads(x) for x in f if x.strip()]

    yield L
    proc.stdin.close()
    proc.wait(timeout=10)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def chat_skills():
    root = tempfile.mkdtemp(prefix="cfd-sk-", dir="/tmp")
    os.makedirs(os.path.join(root, "chat"))
    with open(os.path.join(root, "chat", "SKILL.md"), "w") as f:
        f.write(CHAT_SKILL)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def history(stub, sid):
    return list(get_session(stub, sid, history=True).history)


def test_long_session_compacts_and_every_prompt_fits_the_window(comfyd_factory, llm, chat_skills):
    c = comfyd_factory(skills=chat_skills)
    stub = c.sessions()
    s = new_session(stub, skills=["chat"], provider="openai", model="ctx-small", base_url=llm.url,
                    context_window=WINDOW)
    assert s.context_window == WINDOW
    turns = 14
    for i in range(turns):
        word = "zanzibar" if i == 0 else "step%d" % i
        send(stub, s.id, "Message %d about %s: make the picture of a fox in a violet sky a little "
                         "sharper, keep the wide lens and the fine grain, and tell me what you "
                         "changed and why, in two sentences." % (i, word))
        wait_turns_done(stub, s.id, 0)
        # Each turn: the user's message and one reply (summaries come on top).
    reqs = llm.requests()
    assert reqs, "the model server saw no request"
    over = [(i, est_prompt(r["body"])) for i, r in enumerate(reqs) if est_prompt(r["body"]) > BUDGET]
    assert not over, "prompts over the budget of %d tokens: %s" % (BUDGET, over)

    hist = history(stub, s.id)
    summaries = [m for m in hist if m.kind == spb.MESSAGE_KIND_SUMMARY]
    assert summaries, "a session of %d turns in a %d-token window never compacted" % (turns, WINDOW)
    # Originals are kept and still readable, failed ones included: every
    # user message and every reply.
    users = [m for m in hist if m.role == spb.ROLE_USER]
    replies = [m for m in hist if m.role == spb.ROLE_ASSISTANT]
    assert len(users) == turns and len(replies) == turns
    assert all(m.state == spb.MESSAGE_STATE_DONE for m in users + replies), [
        (m.id, m.state, m.error) for m in users + replies if m.state != spb.MESSAGE_STATE_DONE]
    assert "zanzibar" in users[0].content
    sess = get_session(stub, s.id).session
    assert sess.compacted_to == max(m.covers_to for m in summaries)
    assert sess.compacted_to >= users[0].id

    # Summaries were written by the model (its text is in them) and later
    # prompts carry the newest summary in the system message.
    last = summaries[-1]
    assert "written by the model ctx-small" in last.content
    body = last.content.split("\n", 1)[1]
    chat_reqs = [r for r in reqs if "You are acting as the skill" in r["body"]["messages"][0]["content"]]
    compact_reqs = [r for r in reqs if "You compact a conversation" in r["body"]["messages"][0]["content"]]
    assert len(compact_reqs) == len(summaries)
    assert len(chat_reqs) == turns
    final_sys = chat_reqs[-1]["body"]["messages"][0]["content"]
    assert "Earlier conversation (compacted)" in final_sys
    assert body[:60] in final_sys
    # The compacted originals are no longer sent: the first message is not
    # in the last prompt, only (possibly) in the summary.
    sent = "\n".join(m.get("content") or "" for m in chat_reqs[-1]["body"]["messages"][1:])
    assert "zanzibar" not in sent

    # The originals are searchable.
    hits = stub.SearchSessions(spb.SearchSessionsRequest(query="zanzibar"), timeout=10).hits
    assert any(h.kind == spb.SEARCH_HIT_KIND_MESSAGE and h.id == users[0].id for h in hits)


def test_a_message_larger_than_the_budget_is_refused(comfyd):
    stub = comfyd.sessions()
    s = new_session(stub, context_window=600)
    with pytest.raises(grpc.RpcError) as e:
        send(stub, s.id, "word " * 600)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "prompt budget" in e.value.details() and "context_window" in e.value.details()
    with pytest.raises(grpc.RpcError) as e:
        stub.ConfigureSession(spb.ConfigureSessionRequest(
            session_id=s.id, context_window=wrappers_pb2.UInt32Value(value=100)), timeout=10)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_compact_on_request_keeps_originals_and_the_newest_turn(comfyd):
    stub = comfyd.sessions()
    s = new_session(stub, skills=["prompt-writer"])
    for i in range(3):
        send(stub, s.id, "echo turn %d with a walrus" % i)
        wait_turns_done(stub, s.id, 2 * (i + 1))
    r = stub.CompactSession(spb.CompactSessionRequest(session_id=s.id), timeout=30)
    assert r.compacted and r.messages_compacted == 4
    assert r.summary.kind == spb.MESSAGE_KIND_SUMMARY
    assert r.summary.content.startswith("Summary of 4 earlier messages")
    assert "without a model" in r.summary.content
    assert "echo turn 0 with a walrus" in r.summary.content
    hist = history(stub, s.id)
    assert len([m for m in hist if m.kind != spb.MESSAGE_KIND_SUMMARY]) == 6
    assert get_session(stub, s.id).session.compacted_to == r.summary.covers_to
    # Only the newest turn is left after the summary: nothing more to do.
    again = stub.CompactSession(spb.CompactSessionRequest(session_id=s.id), timeout=30)
    assert not again.compacted and "nothing to compact" in again.notice
    # The next turn still runs (the summary goes into its system message).
    send(stub, s.id, "after the compaction")
    wait_turns_done(stub, s.id, 9)
    with pytest.raises(grpc.RpcError) as e:
        stub.CompactSession(spb.CompactSessionRequest(session_id="0" * 8 + "-0000-4000-8000-" + "0" * 12),
                            timeout=10)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


def test_search_across_sessions_and_malformed_queries(comfyd):
    stub = comfyd.sessions()
    a = new_session(stub, skills=["prompt-writer"])
    b = new_session(stub, skills=["prompt-writer"])
    send(stub, a.id, "a lighthouse on a cliff at dusk")
    send(stub, b.id, "a cat sleeping on a sofa")
    wait_turns_done(stub, a.id, 2)
    wait_turns_done(stub, b.id, 2)
    hits = stub.SearchSessions(spb.SearchSessionsRequest(query="lighthouse"), timeout=10).hits
    assert {h.session_id for h in hits} == {a.id}
    assert any("[lighthouse]" in h.snippet for h in hits)
    # Titles come from the first message.
    assert hits[0].session_title == "a lighthouse on a cliff at dusk"
    hits = stub.SearchSessions(spb.SearchSessionsRequest(query="cat OR lighthouse -sofa"), timeout=10).hits
    assert {h.session_id for h in hits} == {a.id}
    hits = stub.SearchSessions(spb.SearchSessionsRequest(query="light*", session_id=b.id), timeout=10).hits
    assert not hits
    for bad in ['"unclosed', "OR cat", "-cat", "", "x" * 2000]:
        with pytest.raises(grpc.RpcError) as e:
            stub.SearchSessions(spb.SearchSessionsRequest(query=bad), timeout=10)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT, bad
        d = e.value.details().lower()
        assert d.startswith("query:") and "sql" not in d and "fts5" not in d, d
    # FTS5 syntax in a query is only text, never an error.
    stub.SearchSessions(spb.SearchSessionsRequest(query='body:cat NEAR(x y) ^z "a""b"'), timeout=10)

    # Delete: the session's index entries go with it.
    stub.DeleteSession(spb.DeleteSessionRequest(session_id=a.id), timeout=10)
    assert not stub.SearchSessions(spb.SearchSessionsRequest(query="lighthouse"), timeout=10).hits


def test_archive_export_and_title(comfyd):
    stub = comfyd.sessions()
    s = new_session(stub, skills=["prompt-writer"])
    send(stub, s.id, "Paint a heron standing in shallow water, early morning mist, and then add "
                     "reeds along the left edge of the frame\nsecond line")
    wait_turns_done(stub, s.id, 2)
    sess = get_session(stub, s.id).session
    assert sess.title.startswith("Paint a heron") and len(sess.title.encode()) <= 64
    assert sess.title.endswith("…") and "second line" not in sess.title
    # Editable.
    stub.ConfigureSession(spb.ConfigureSessionRequest(session_id=s.id, title=wrappers_pb2.StringValue(value="Heron")),
                          timeout=10)
    stub.ConfigureSession(spb.ConfigureSessionRequest(session_id=s.id, archived=wrappers_pb2.BoolValue(value=True)),
                          timeout=10)
    listed = stub.ListSessions(spb.ListSessionsRequest(), timeout=10).sessions
    assert s.id not in [x.id for x in listed]
    listed = stub.ListSessions(spb.ListSessionsRequest(include_archived=True), timeout=10).sessions
    assert [x for x in listed if x.id == s.id][0].archived

    md = stub.ExportSession(spb.ExportSessionRequest(session_id=s.id), timeout=10)
    assert md.content_type.startswith("text/markdown") and md.filename.endswith(".md")
    assert md.content.startswith("# Heron\n") and "## User" in md.content and "Paint a heron" in md.content
    js = stub.ExportSession(spb.ExportSessionRequest(session_id=s.id, format=spb.EXPORT_FORMAT_JSON), timeout=10)
    doc = json.loads(js.content)
    assert doc["id"] == s.id and doc["title"] == "Heron" and doc["archived"] is True
    assert [m["role"] for m in doc["messages"]] == ["user", "assistant"]
    assert doc["messages"][0]["content"].endswith("second line")


def tool_step(name, args, call_id="call_1"):
    return {
        "chunks": [
            {"data": {"choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [
                {"index": 0, "id": call_id, "type": "function",
                 "function": {"name": name, "arguments": json.dumps(args)}}]}, "finish_reason": None}]}},
            {"data": {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}},
        ],
        "done": True,
    }


MEMORY_SKILL = """---
name: keeper
description: Keeps facts.
allowed-tools: remember recall
---
Remember what matters.
"""


def test_remember_and_recall_across_sessions_with_scopes(comfyd_factory, llm, tmp_path):
    skills = tmp_path / "skills"
    (skills / "keeper").mkdir(parents=True)
    (skills / "keeper" / "SKILL.md").write_text(MEMORY_SKILL)
    c = comfyd_factory(skills=str(skills))
    stub = c.sessions()
    write = llm.write_script
    write("mem-a", [tool_step("remember", {"content": "The user prefers watercolor style", "scope": "global"}),
                    tool_step("remember", {"content": "Session secret: the lighthouse is blue"}, "call_2"),
                    text_step("Noted.")])
    write("mem-b", [tool_step("recall", {"query": "watercolor"}),
                    tool_step("recall", {"query": "lighthouse"}, "call_2"),
                    text_step("Done.")])
    a = new_session(stub, skills=["keeper"], provider="openai", model="mem-a", base_url=llm.url)
    send(stub, a.id, "I like watercolor; and remember the lighthouse")
    wait_turns_done(stub, a.id, 2)
    b = new_session(stub, skills=["keeper"], provider="openai", model="mem-b", base_url=llm.url)
    send(stub, b.id, "what do I like?")
    wait_turns_done(stub, b.id, 2)
    reqs = [r for r in llm.requests() if r["body"]["model"] == "mem-b"]
    assert len(reqs) == 3
    tool_msgs = [m for m in reqs[2]["body"]["messages"] if m["role"] == "tool"]
    first = json.loads(tool_msgs[0]["content"])
    assert first["memories"] == [{"id": first["memories"][0]["id"], "scope": "global",
                                  "content": "The user prefers watercolor style"}]
    # Session A's own memory is not another session's to recall.
    assert json.loads(tool_msgs[1]["content"]) == {"memories": []}
    # Memories are searchable; deleting session A removes its memory but
    # not the global one.
    hits = stub.SearchSessions(spb.SearchSessionsRequest(query="lighthouse",
                                                         kinds=[spb.SEARCH_HIT_KIND_MEMORY]), timeout=10).hits
    assert [h.session_id for h in hits] == [a.id]
    stub.DeleteSession(spb.DeleteSessionRequest(session_id=a.id), timeout=10)
    assert not stub.SearchSessions(spb.SearchSessionsRequest(query="lighthouse"), timeout=10).hits
    hits = stub.SearchSessions(spb.SearchSessionsRequest(query="watercolor",
                                                         kinds=[spb.SEARCH_HIT_KIND_MEMORY]), timeout=10).hits
    assert len(hits) == 1 and hits[0].session_id == ""
