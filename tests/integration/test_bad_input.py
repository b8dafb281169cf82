"""Bad input: each row sends one bad request and expects an exact status
code and a message naming the offending field. All rows run against one
service, which must still be up afterwards."""

import os
import re
import shutil
import tempfile

import grpc
import pytest
from comfyd.v1 import session_pb2 as spb
from comfyd.v1 import skill_pb2 as kpb
from google.protobuf import wrappers_pb2

from conftest import Comfyd
from helpers import Sub, StreamEnded, field_bytes, get_session, new_session, random_id, raw_unary

IA = grpc.StatusCode.INVALID_ARGUMENT
NF = grpc.StatusCode.NOT_FOUND

MAX_CONTENT = 64 * 1024
MAX_TITLE = 200
MAX_SKILLS = 16
EXTRA_SKILLS = ["extra-%02d" % i for i in range(1, MAX_SKILLS + 2)]


@pytest.fixture(scope="module")
def svc():
    # Seventeen valid user skills, so "too many skills" can be tested with
    # names that all exist.
    skills = tempfile.mkdtemp(prefix="cfd-sk-", dir="/tmp")
    for name in EXTRA_SKILLS:
        os.makedirs(os.path.join(skills, name))
        with open(os.path.join(skills, name, "SKILL.md"), "w") as f:
            f.write("---\nname: %s\ndescription: Extra skill %s for limit tests.\n---\nSay hello.\n" % (name, name))
    c = Comfyd(skills=skills)
    c.start()
    yield c
    try:
        if c.alive():
            rc = c.stop()
            assert rc == 0, "comfyd exit code %s on SIGTERM:\n%s" % (rc, c.log_tail())
    finally:
        c.cleanup()
        shutil.rmtree(skills, ignore_errors=True)


@pytest.fixture(scope="module")
def ctx(svc):
    stub = svc.sessions()
    s = new_session(stub, skills=["prompt-writer"])
    return {"svc": svc, "stub": stub, "sid": s.id, "ch": svc.channel(), "skills": svc.skills_stub()}


def call_get(ctx, sid):
    ctx["stub"].GetSession(spb.GetSessionRequest(session_id=sid), timeout=10)


def call_send(ctx, content, sid=None, skills=(), client_id=""):
    ctx["stub"].SendMessage(
        spb.SendMessageRequest(session_id=sid or ctx["sid"], content=content, skills=list(skills), client_message_id=client_id),
        timeout=10,
    )


def call_configure(ctx, sid=None, **fields):
    req = spb.ConfigureSessionRequest(session_id=sid or ctx["sid"])
    for k, v in fields.items():
        if k == "active_skills":
            req.active_skills.CopyFrom(spb.SkillList(names=v))
        else:
            getattr(req, k).CopyFrom(wrappers_pb2.StringValue(value=v))
    ctx["stub"].ConfigureSession(req, timeout=10)


def call_create(ctx, title="", **cfg):
    ctx["stub"].CreateSession(spb.CreateSessionRequest(title=title, config=spb.SessionConfig(**cfg)), timeout=10)


def call_subscribe(ctx, sid):
    sub = Sub(ctx["stub"], sid, timeout=10)
    try:
        sub.next(guard=15)
    except StreamEnded:
        raise _Ended(sub.code, sub.details)
    sub.cancel()


class _Ended(Exception):
    def __init__(self, code, details):
        self._code, self._details = code, details

    def code(self):
        return self._code

    def details(self):
        return self._details


def raw_send(ctx, content_bytes):
    body = field_bytes(1, ctx["sid"].encode()) + field_bytes(2, content_bytes)
    raw_unary(ctx["ch"], "/comfyd.v1.SessionService/SendMessage", spb.SendMessageResponse)(body, timeout=10)


def raw_create_title(ctx, title_bytes):
    raw_unary(ctx["ch"], "/comfyd.v1.SessionService/CreateSession", spb.CreateSessionResponse)(
        field_bytes(1, title_bytes), timeout=10
    )


def raw_method(ctx, path):
    raw_unary(ctx["ch"], path, spb.GetSessionResponse)(b"", timeout=5)


def raw_garbage(ctx):
    # A field-1 string whose length runs past the end of the message.
    raw_unary(ctx["ch"], "/comfyd.v1.SessionService/GetSession", spb.GetSessionResponse)(b"\x0a\x40abc", timeout=10)


def many_skills():
    # Distinct names that all exist: the count is the only problem.
    return EXTRA_SKILLS[: MAX_SKILLS + 1]


def call_deadline(ctx):
    sub = Sub(ctx["stub"], ctx["sid"], timeout=0.5)
    sub.wait_end(guard=15)
    raise _Ended(sub.code, sub.details)


CASES = [
    # name, call, expected codes, regex the details must match
    ("get unknown session", lambda c: call_get(c, random_id()), {NF}, r"session"),
    ("send to unknown session", lambda c: call_send(c, "hi", sid=random_id()), {NF}, r"session"),
    ("configure unknown session", lambda c: call_configure(c, sid=random_id(), title="x"), {NF}, r"session"),
    ("delete unknown session", lambda c: c["stub"].DeleteSession(spb.DeleteSessionRequest(session_id=random_id()), timeout=10), {NF}, r"session"),
    ("cancel unknown session", lambda c: c["stub"].Cancel(spb.CancelRequest(session_id=random_id()), timeout=10), {NF}, r"session"),
    ("subscribe unknown session", lambda c: call_subscribe(c, random_id()), {NF}, r"session"),
    ("malformed session id", lambda c: call_get(c, "not-a-session"), {IA}, r"session_id"),
    ("empty session id", lambda c: call_get(c, ""), {IA}, r"session_id"),
    ("path-like session id", lambda c: call_get(c, "../../etc/passwd"), {IA}, r"session_id"),
    ("huge session id", lambda c: call_get(c, "a" * 10000), {IA}, r"session_id"),
    ("malformed id on send", lambda c: call_send(c, "hi", sid="xyz"), {IA}, r"session_id"),
    ("malformed id on subscribe", lambda c: call_subscribe(c, "xyz"), {IA}, r"session_id"),
    ("empty content", lambda c: call_send(c, ""), {IA}, r"content"),
    ("content over 64 KiB", lambda c: call_send(c, "a" * (MAX_CONTENT + 1)), {IA}, r"content"),
    ("content over 64 KiB in multibyte", lambda c: call_send(c, "\u00e9" * (MAX_CONTENT // 2 + 1)), {IA}, r"content"),
    ("content invalid UTF-8 0xff", lambda c: raw_send(c, b"hello \xff"), {IA}, r"content"),
    ("content overlong UTF-8", lambda c: raw_send(c, b"\xc0\xaf"), {IA}, r"content"),
    ("content UTF-8 surrogate", lambda c: raw_send(c, b"x\xed\xa0\x80y"), {IA}, r"content"),
    ("content truncated UTF-8", lambda c: raw_send(c, b"abc\xe2\x82"), {IA}, r"content"),
    ("title invalid UTF-8", lambda c: raw_create_title(c, b"t\xfe"), {IA}, r"title"),
    ("too many skills on configure", lambda c: call_configure(c, active_skills=many_skills()), {IA}, r"skill"),
    ("too many skills on create", lambda c: call_create(c, active_skills=many_skills()), {IA}, r"skill"),
    ("too many skills on send", lambda c: call_send(c, "hi", skills=many_skills()), {IA}, r"skill"),
    ("unknown skill on configure", lambda c: call_configure(c, active_skills=["no-such-skill"]), {IA, NF}, r"skill"),
    ("unknown skill on create", lambda c: call_create(c, active_skills=["no-such-skill"]), {IA, NF}, r"skill"),
    ("unknown skill on send", lambda c: call_send(c, "hi", skills=["no-such-skill"]), {IA, NF}, r"skill"),
    ("unknown provider on configure", lambda c: call_configure(c, provider="no-such-provider"), {IA}, r"provider"),
    ("unknown provider on create", lambda c: call_create(c, provider="no-such-provider"), {IA}, r"provider"),
    ("title over 200 bytes", lambda c: call_create(c, title="t" * (MAX_TITLE + 1)), {IA}, r"title"),
    ("title over 200 bytes in multibyte", lambda c: call_create(c, title="\u20ac" * 67), {IA}, r"title"),
    ("title over 200 bytes on configure", lambda c: call_configure(c, title="t" * (MAX_TITLE + 1)), {IA}, r"title"),
    ("unknown method of a known service", lambda c: raw_method(c, "/comfyd.v1.SessionService/NoSuchMethod"), {grpc.StatusCode.UNIMPLEMENTED}, r""),
    ("unknown service", lambda c: raw_method(c, "/no.such.v1.Service/Method"), {grpc.StatusCode.UNIMPLEMENTED}, r""),
    ("deadline on an endless stream", call_deadline, {grpc.StatusCode.DEADLINE_EXCEEDED}, r""),
    ("unparsable request", raw_garbage, {IA, grpc.StatusCode.INTERNAL}, r""),
    ("request over 4 MiB", lambda c: call_send(c, "a" * (5 * 1024 * 1024)), {grpc.StatusCode.RESOURCE_EXHAUSTED, IA}, r""),
    ("unknown skill on GetSkill", lambda c: c["skills"].GetSkill(kpb.GetSkillRequest(name="no-such-skill"), timeout=10), {NF}, r"skill"),
    ("malformed skill name on GetSkill", lambda c: c["skills"].GetSkill(kpb.GetSkillRequest(name="../etc"), timeout=10), {IA, NF}, r"name|skill"),
    ("garbage page token", lambda c: c["stub"].ListSessions(spb.ListSessionsRequest(page_token="!!not a token!!"), timeout=10), {IA}, r"page_token"),
]


def run_expecting_error(ctx, fn):
    try:
        fn(ctx)
    except (grpc.RpcError, _Ended) as e:
        return e.code(), e.details() or ""
    return grpc.StatusCode.OK, ""


@pytest.mark.parametrize("name,fn,codes,needle", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused(ctx, name, fn, codes, needle):
    code, details = run_expecting_error(ctx, fn)
    print("%-36s -> %s %r" % (name, code, details))
    assert code in codes, "%s: got %s %r, want %s" % (name, code, details, "/".join(str(c) for c in codes))
    if needle:
        assert re.search(needle, details, re.I), "%s: message %r does not mention %s" % (name, details, needle)


def test_limits_themselves_are_accepted(ctx):
    stub = ctx["stub"]
    s = new_session(stub, title="t" * MAX_TITLE)
    assert len(s.title) == MAX_TITLE
    s = new_session(stub, title="\u00e9" * (MAX_TITLE // 2))
    assert s.title == "\u00e9" * (MAX_TITLE // 2)
    s = new_session(stub, skills=EXTRA_SKILLS[:MAX_SKILLS])
    assert len(s.config.active_skills) == MAX_SKILLS
    stub.DeleteSession(spb.DeleteSessionRequest(session_id=s.id), timeout=10)
    s = new_session(stub, skills=["prompt-writer", "graph-doctor", "workflow-builder"])
    r = stub.SendMessage(spb.SendMessageRequest(session_id=s.id, content="a " * (MAX_CONTENT // 2)), timeout=10)
    assert len(r.message.content) == MAX_CONTENT
    stub.Cancel(spb.CancelRequest(session_id=s.id, clear_queue=True), timeout=10)


def test_service_is_still_up_after_the_table(ctx):
    svc = ctx["svc"]
    assert svc.alive(), "comfyd died:\n%s" % svc.log_tail()
    g = get_session(svc.sessions(), ctx["sid"], history=True)
    # None of the refused messages was stored.
    assert len(g.history) == 0, "refused input was stored: %s" % list(g.history)
    s = new_session(svc.sessions(tcp=True), skills=["prompt-writer"])
    assert s.id
