"""SkillService: built-in skills, user skill folders with broken SKILL.md
files, GetSkill, ReloadSkills, and activating skills in a session."""

import os
import shutil
import tempfile

import grpc
import pytest
from comfyd.v1 import session_pb2 as spb
from comfyd.v1 import skill_pb2 as kpb

from conftest import BUILTIN_SKILLS
from helpers import ECHO_PREFIX, Sub, added, configure, new_session, send, settle

BUILTINS = ["graph-doctor", "prompt-writer", "workflow-builder"]

GOOD = """---
name: my-helper
description: Helps with tests.
allowed-tools:
  - get_graph
  - add_node
---
# My helper

Answer in one line.
"""

BROKEN = {
    # folder -> SKILL.md text
    "no-front-matter": "Just some instructions, no front matter at all.\n",
    "bad-yaml": "---\nname: bad-yaml\ndescription: [unclosed\n---\nbody\n",
    "missing-description": "---\nname: missing-description\n---\nbody\n",
    "bad-name": "---\nname: Bad Name!\ndescription: upper case and spaces\n---\nbody\n",
    "dup-builtin": "---\nname: prompt-writer\ndescription: same name as a built-in\n---\nbody\n",
}


def write_skill(root, folder, text):
    os.makedirs(os.path.join(root, folder), exist_ok=True)
    with open(os.path.join(root, folder, "SKILL.md"), "w") as f:
        f.write(text)


def folder_of(path):
    """The skill folder an error path names (the folder or its SKILL.md)."""
    parts = os.path.normpath(path).split(os.sep)
    return parts[-2] if parts[-1] == "SKILL.md" else parts[-1]


@pytest.fixture
def user_skills():
    root = tempfile.mkdtemp(prefix="cfd-us-", dir="/tmp")
    write_skill(root, "my-helper", GOOD)
    for folder, text in BROKEN.items():
        write_skill(root, folder, text)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_builtin_skills_are_listed_sorted_with_source_and_path(comfyd):
    r = comfyd.skills_stub().ListSkills(kpb.ListSkillsRequest(), timeout=10)
    names = [s.name for s in r.skills]
    assert names == sorted(names), names
    for b in BUILTINS:
        assert b in names, "built-in %s missing from %s" % (b, names)
    for s in r.skills:
        assert s.source == kpb.SKILL_SOURCE_BUILTIN
        assert s.description
        assert os.path.realpath(s.path) == os.path.realpath(os.path.join(BUILTIN_SKILLS, s.name)), s.path
        assert s.instructions == "", "ListSkills must not carry instructions"
    assert list(r.errors) == [], r.errors
    g = comfyd.skills_stub().GetSkill(kpb.GetSkillRequest(name="workflow-builder"), timeout=10).skill
    assert g.name == "workflow-builder" and g.instructions.strip()
    with open(os.path.join(BUILTIN_SKILLS, "workflow-builder", "SKILL.md")) as f:
        assert g.instructions.strip() in f.read()


def test_malformed_skill_md_is_reported_and_cannot_be_activated(comfyd_factory, user_skills):
    c = comfyd_factory(skills=user_skills)
    ks = c.skills_stub()
    r = ks.ListSkills(kpb.ListSkillsRequest(), timeout=10)
    by_name = {s.name: s for s in r.skills}
    assert set(BUILTINS) | {"my-helper"} == set(by_name), sorted(by_name)
    assert by_name["prompt-writer"].source == kpb.SKILL_SOURCE_BUILTIN, "a user folder replaced a built-in"
    mine = by_name["my-helper"]
    assert mine.source == kpb.SKILL_SOURCE_USER
    assert os.path.realpath(mine.path) == os.path.realpath(os.path.join(user_skills, "my-helper"))
    assert list(mine.allowed_tools) == ["get_graph", "add_node"]
    assert mine.description == "Helps with tests."

    errs = {folder_of(e.path): e for e in r.errors}
    assert set(errs) == set(BROKEN), "errors for %s: %s" % (sorted(errs), [(e.path, e.message) for e in r.errors])
    for folder, e in errs.items():
        assert user_skills in e.path or os.path.realpath(user_skills) in e.path, e.path
        assert e.message and "\n" not in e.message, (folder, e.message)
    assert "description" in errs["missing-description"].message, errs["missing-description"].message
    assert "name" in errs["bad-name"].message, errs["bad-name"].message

    g = ks.GetSkill(kpb.GetSkillRequest(name="my-helper"), timeout=10).skill
    assert g.instructions.strip().startswith("# My helper") and "Answer in one line." in g.instructions
    assert "---" not in g.instructions

    stub = c.sessions()
    s = new_session(stub)
    for bad in ("missing-description", "bad-yaml", "no-front-matter"):
        with pytest.raises(grpc.RpcError) as ei:
            configure(stub, s.id, active_skills=[bad])
        assert ei.value.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND), ei.value
        assert bad in ei.value.details() or "skill" in ei.value.details()

    # The good user skill works like a built-in.
    configure(stub, s.id, active_skills=["my-helper", "prompt-writer"])
    sub = Sub(stub, s.id)
    sub.next()
    send(stub, s.id, "hello")
    evs = settle(stub, s.id, sub)
    replies = added(evs, spb.ROLE_ASSISTANT)
    assert [m.skill for m in replies] == ["my-helper", "prompt-writer"]
    assert replies[0].content.startswith(ECHO_PREFIX % "my-helper")
    sub.cancel()


def test_reload_picks_up_new_and_fixed_skills_while_sessions_keep_running(comfyd_factory, user_skills):
    c = comfyd_factory(skills=user_skills)
    ks = c.skills_stub()
    stub = c.sessions()
    s = new_session(stub, skills=["my-helper"], token_delay_ms=20)
    sub = Sub(stub, s.id)
    sub.next()
    send(stub, s.id, "long " + " ".join(["w"] * 40))

    write_skill(user_skills, "new-one", "---\nname: new-one\ndescription: Added later.\n---\nNew.\n")
    write_skill(user_skills, "missing-description", "---\nname: missing-description\ndescription: fixed\n---\nok\n")
    shutil.rmtree(os.path.join(user_skills, "bad-yaml"))
    r = ks.ReloadSkills(kpb.ReloadSkillsRequest(), timeout=10)
    names = [x.name for x in r.skills]
    assert "new-one" in names and "missing-description" in names, names
    assert names == sorted(names)
    err_paths = " ".join(e.path for e in r.errors)
    assert "bad-yaml" not in err_paths and "missing-description" not in err_paths, err_paths
    assert "no-front-matter" in err_paths
    listed = ks.ListSkills(kpb.ListSkillsRequest(), timeout=10)
    assert [x.name for x in listed.skills] == names
    assert len(listed.errors) == len(r.errors)

    # The running turn finishes with the registry it started with.
    evs = settle(stub, s.id, sub)
    assert [m.skill for m in added(evs, spb.ROLE_ASSISTANT)] == ["my-helper"]
    configure(stub, s.id, active_skills=["new-one", "missing-description"])
    send(stub, s.id, "again")
    evs = settle(stub, s.id, sub)
    assert [m.skill for m in added(evs, spb.ROLE_ASSISTANT)] == ["missing-description", "new-one"]
    sub.cancel()
