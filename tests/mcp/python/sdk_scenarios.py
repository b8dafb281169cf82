"""The official MCP Python SDK (`mcp` on PyPI) against comfyd.

Run by tests/mcp/test/python.test.mjs, which starts the services and the
headless canvases and checks the canvases afterwards:

    python sdk_scenarios.py --url http://127.0.0.1:PORT/mcp --token-file F \
        --mcp-bin comfyd-mcp --commands FILE --canvas-http C1 --canvas-stdio C2

Scenarios, over Streamable HTTP and over stdio (comfyd-mcp): connect (the
SDK probes the newest revision and falls back to the handshake), list the
tools, build the txt2img workflow with one apply_patch (refs), read it back,
and call an agent session with progress; plus a client without the token,
which must not connect. Each scenario prints "ok: NAME" or "FAIL: NAME:
reason"; the last line is "N passed, N failed" and the exit status is 1 when
anything failed. The refs of the built workflows go to stdout as
"refs CANVAS JSON" lines for the caller's checks.
"""

import argparse
import asyncio
import json
import sys
import traceback

import httpx2
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

TOOLS = [
    "get_graph", "search_node_types", "get_node_schema", "validate_patch", "apply_patch", "queue",
    "save_workflow", "load_workflow", "list_canvases", "list_sessions", "create_session",
    "send_message", "run", "get_run", "cancel_run", "view_output",
    "search_sessions", "compact_session", "export_session",
    "fork_session", "revert_session", "list_checkpoints", "node_history", "lease",
]

results = []


def data_of(r):
    """The structured result (or the text's JSON for older revisions)."""
    if r.structured_content is not None:
        return r.structured_content
    return json.loads(r.content[0].text)


async def scenario(name, fn):
    try:
        await fn()
        results.append((name, None))
        print(f"ok: {name}", flush=True)
    except Exception as e:  # noqa: BLE001 - every failure is reported
        results.append((name, e))
        print(f"FAIL: {name}: {e!r}", flush=True)
        traceback.print_exc(file=sys.stderr)


async def build_txt2img(client, canvas, commands):
    tools = await client.list_tools()
    assert [t.name for t in tools.tools] == TOOLS, [t.name for t in tools.tools]
    schema = {t.name: t.input_schema for t in tools.tools}
    assert schema["apply_patch"]["required"] == ["commands"], schema["apply_patch"]

    g = await client.call_tool("get_graph", {"canvas_id": canvas})
    assert not g.is_error, g.content
    r0 = data_of(g)["revision"]
    r = await client.call_tool("apply_patch", {"canvas_id": canvas, "commands": commands})
    assert not r.is_error, r.content
    d = data_of(r)
    assert d["ok"] is True and d["revision"] > r0, d
    assert sorted(d["refs"]) == ["ckpt", "decode", "latent", "neg", "pos", "sampler", "save"], d
    print(f"refs {canvas} {json.dumps(d['refs'])}", flush=True)
    back = data_of(await client.call_tool("get_graph", {"canvas_id": canvas}))
    assert back["node_count"] == 7 and back["link_count"] == 9, back
    assert back["revision"] == d["revision"], back

    # A tool failure is a result with a clear message, not an exception.
    bad = await client.call_tool("get_graph", {"canvas_id": "no-such-canvas"})
    assert bad.is_error and data_of(bad)["code"] == "CANVAS_NOT_FOUND", bad.content
    # A protocol failure is a JSON-RPC error.
    try:
        await client.call_tool("no_such_tool", {})
    except MCPError as e:
        assert e.code == -32602, e
    else:
        raise AssertionError("an unknown tool was accepted")


async def agent_turn(client, skill):
    s = await client.call_tool(
        "create_session",
        {"title": "python", "config": {"provider": "echo", "active_skills": [skill],
                                       "token_delay_ms": 1}},
    )
    assert not s.is_error, s.content
    sid = data_of(s)["session"]["id"]
    seen = []

    async def on_progress(progress, total, message):
        seen.append((progress, message))

    r = await client.call_tool("send_message", {"session_id": sid, "content": "hello from python"},
                               progress_callback=on_progress)
    assert not r.is_error, r.content
    d = data_of(r)
    assert d["status"] == "done", d
    assert [x["skill"] for x in d["replies"]] == [skill], d
    assert "hello from python" in d["replies"][0]["content"], d
    assert len(seen) >= 2, seen
    assert any("replied" in (m or "") for _, m in seen), seen


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--mcp-bin", required=True)
    ap.add_argument("--commands", required=True)
    ap.add_argument("--canvas-http", required=True)
    ap.add_argument("--canvas-stdio", required=True)
    a = ap.parse_args()
    token = open(a.token_file, encoding="utf-8").read().strip()
    commands = json.load(open(a.commands, encoding="utf-8"))

    async def http():
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"},
                                      timeout=60) as hc:
            async with Client(streamable_http_client(a.url, http_client=hc)) as client:
                assert client.session.protocol_version == "2025-11-25", \
                    client.session.protocol_version
                await build_txt2img(client, a.canvas_http, commands)
                await agent_turn(client, "graph-doctor")

    async def stdio():
        params = StdioServerParameters(
            command=a.mcp_bin,
            args=["--bridge", a.url, "--token-file", a.token_file],
        )
        async with Client(params) as client:
            assert client.session.protocol_version == "2025-11-25", \
                client.session.protocol_version
            await build_txt2img(client, a.canvas_stdio, commands)
            await agent_turn(client, "workflow-builder")

    async def no_token():
        async with httpx2.AsyncClient(timeout=30) as hc:
            try:
                async with Client(streamable_http_client(a.url, http_client=hc)) as client:
                    await client.list_tools()
            except Exception:  # noqa: BLE001 - the SDK reports the refusal its own way
                pass
            else:
                raise AssertionError("connected without the token")
            # What the SDK got: 401 with a Bearer challenge.
            r = await hc.post(a.url, json={"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                           "params": {"protocolVersion": "2025-11-25",
                                                      "capabilities": {},
                                                      "clientInfo": {"name": "py", "version": "1"}}},
                              headers={"Accept": "application/json, text/event-stream"})
            assert r.status_code == 401, r.status_code
            assert r.headers.get("www-authenticate") == "Bearer", r.headers

    await scenario("streamable HTTP: tools, txt2img, agent turn", http)
    await scenario("stdio through comfyd-mcp: tools, txt2img, agent turn", stdio)
    await scenario("streamable HTTP without the token is refused", no_token)
    failed = sum(1 for _, e in results if e)
    print(f"{len(results) - failed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
