"""A small stand-in for the ComfyUI server, for browser tests of the extension.

It serves the stock frontend (comfyui_frontend_package/static from the
pinned PyPI wheel) with the routes the frontend needs at boot, node types
from tests/fixtures/object_info.json, and it records POST /api/prompt. The
comfyd package itself is imported the way ComfyUI imports a custom node: its
NODE_CLASS_MAPPINGS join /object_info, its WEB_DIRECTORY is served under
/extensions/<name>/, and the routes it registers on PromptServer (the
connection route) are served at their path and under /api, as ComfyUI does.
Importing it starts comfyd and comfyd-bridge through its own supervisor.

Test-only routes: GET /__test__/prompts (the recorded prompt bodies),
GET /__test__/children (pids of the processes the supervisor started).
Prints "READY <port>" on stdout once listening; SIGTERM stops it, and the
package's supervisor then stops the processes it started.
"""

import argparse
import asyncio
import glob
import importlib.util
import json
import os
import signal
import sys
import types
import uuid

from aiohttp import web

BOOT = {
    "/users": {"storage": "server", "migrated": True},
    "/features": {},
    "/embeddings": [],
    "/i18n": {},
    "/global_subgraphs": {},
    "/experiment/models": [],
    "/queue": {"queue_running": [], "queue_pending": []},
    "/history": {},
    "/prompt": {"exec_info": {"queue_remaining": 0}},
    "/system_stats": {
        "system": {
            "os": "posix",
            "python_version": sys.version.split()[0],
            "comfyui_version": "test-host",
            "pytorch_version": "",
            "embedded_python": False,
            "argv": [],
            "ram_total": 0,
            "ram_free": 0,
        },
        "devices": [],
    },
}
# Settings that keep first-run dialogs out of the way of the tests.
DEFAULT_SETTINGS = {
    "Comfy.TutorialCompleted": True,
    "Comfy.InstalledVersion": "1.45.15",
    "Comfy.VueNodes.Enabled": False,
    "Comfy.Workflow.ShowMissingNodesWarning": False,
    "Comfy.Validation.Workflows": False,
    "Comfy.Minimap.Visible": False,
}


def node_info(name, cls):
    """What ComfyUI's /object_info says about a V1 node class."""
    inputs = cls.INPUT_TYPES()
    return {
        "input": inputs,
        "input_order": {k: list(v.keys()) for k, v in inputs.items() if k in ("required", "optional")},
        "output": list(cls.RETURN_TYPES),
        "output_is_list": [False] * len(cls.RETURN_TYPES),
        "output_name": list(getattr(cls, "RETURN_NAMES", cls.RETURN_TYPES)),
        "name": name,
        "display_name": name,
        "description": getattr(cls, "DESCRIPTION", ""),
        "python_module": "custom_nodes.comfyd",
        "category": getattr(cls, "CATEGORY", "sd"),
        "output_node": bool(getattr(cls, "OUTPUT_NODE", False)),
    }


def install_fake_server():
    """The `server` module custom nodes import (PromptServer.instance.routes)."""

    class PromptServer:
        instance = None

        def __init__(self):
            self.routes = web.RouteTableDef()

        def send_sync(self, *args, **kwargs):
            pass

    PromptServer.instance = PromptServer()
    mod = types.ModuleType("server")
    mod.PromptServer = PromptServer
    sys.modules["server"] = mod
    return PromptServer.instance


def load_package(path, name):
    """Imports a custom-node package as ComfyUI's load_custom_node does."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(path, "__init__.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--static", required=True)
    ap.add_argument("--package", required=True)
    ap.add_argument("--object-info", required=True)
    ap.add_argument("--name", default="comfyd")
    a = ap.parse_args()

    prompt_server = install_fake_server()
    pkg = load_package(a.package, a.name)
    web_dir = os.path.abspath(os.path.join(a.package, pkg.WEB_DIRECTORY))

    with open(a.object_info, encoding="utf-8") as f:
        object_info = json.load(f)
    for name, cls in pkg.NODE_CLASS_MAPPINGS.items():
        object_info[name] = node_info(name, cls)
        object_info[name]["display_name"] = pkg.NODE_DISPLAY_NAME_MAPPINGS.get(name, name)

    prompts = []
    settings = dict(DEFAULT_SETTINGS)
    userdata = {}
    sockets = set()
    unknown = []

    routes = web.RouteTableDef()

    async def index(request):
        return web.FileResponse(os.path.join(a.static, "index.html"), headers={"Cache-Control": "no-store"})

    routes.get("/")(index)

    for path, body in BOOT.items():

        def make(b):
            async def h(request):
                return web.json_response(b)

            return h

        routes.get("/api" + path)(make(body))

    @routes.get("/api/extensions")
    async def extensions(request):
        files = sorted(glob.glob(os.path.join(web_dir, "**/*.js"), recursive=True))
        return web.json_response([f"/extensions/{a.name}/" + os.path.relpath(f, web_dir).replace(os.sep, "/") for f in files])

    @routes.get("/api/object_info")
    async def get_object_info(request):
        return web.json_response(object_info)

    @routes.get("/api/settings")
    async def get_settings(request):
        return web.json_response(settings)

    @routes.get("/api/settings/{id}")
    async def get_setting(request):
        return web.json_response(settings.get(request.match_info["id"]))

    @routes.post("/api/settings")
    async def post_settings(request):
        settings.update(await request.json())
        return web.json_response({})

    @routes.post("/api/settings/{id}")
    async def post_setting(request):
        settings[request.match_info["id"]] = await request.json()
        return web.json_response({})

    @routes.get("/api/userdata")
    async def list_userdata(request):
        d = request.query.get("dir", "")
        return web.json_response([k[len(d) + 1 :] for k in userdata if k.startswith(d + "/")])

    @routes.get("/api/v2/userdata")
    async def list_userdata_v2(request):
        return web.json_response([])

    @routes.get("/api/userdata/{file}")
    async def get_userdata(request):
        key = request.match_info["file"]
        if key not in userdata:
            return web.json_response({"error": "not found"}, status=404)
        return web.Response(body=userdata[key], content_type="application/json")

    @routes.post("/api/userdata/{file}")
    async def post_userdata(request):
        key = request.match_info["file"]
        userdata[key] = await request.read()
        return web.json_response({"path": key, "size": len(userdata[key]), "modified": 0})

    @routes.delete("/api/userdata/{file}")
    async def delete_userdata(request):
        userdata.pop(request.match_info["file"], None)
        return web.Response(status=204)

    @routes.post("/api/prompt")
    async def post_prompt(request):
        body = await request.json()
        prompt_id = str(uuid.uuid4())
        prompts.append({"prompt_id": prompt_id, "body": body})
        return web.json_response({"prompt_id": prompt_id, "number": len(prompts), "node_errors": {}})

    @routes.get("/__test__/prompts")
    async def get_prompts(request):
        return web.json_response(prompts)

    @routes.get("/__test__/children")
    async def get_children(request):
        # The processes the package's supervisor started (pids), so a test
        # can make one crash.
        sup = sys.modules[f"{a.name}.web.comfyd_comfyui"].SUPERVISOR
        return web.json_response({k: p.pid for k, p in sup.children.items() if p.poll() is None})

    @routes.get("/__test__/unknown")
    async def get_unknown(request):
        return web.json_response(unknown)

    @routes.get("/ws")
    async def ws(request):
        sock = web.WebSocketResponse()
        await sock.prepare(request)
        sid = request.query.get("clientId") or uuid.uuid4().hex
        sockets.add(sock)
        await sock.send_json({"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 0}}, "sid": sid}})
        try:
            async for _ in sock:
                pass
        finally:
            sockets.discard(sock)
        return sock

    # The package's own routes, at their path and under /api like ComfyUI.
    for r in prompt_server.routes:
        if isinstance(r, web.RouteDef):
            routes.route(r.method, r.path)(r.handler)
            routes.route(r.method, "/api" + r.path)(r.handler)

    @routes.route("*", "/api/{tail:.*}")
    async def not_found(request):
        unknown.append(f"{request.method} {request.path}")
        return web.json_response({"error": "not found"}, status=404)

    app = web.Application(client_max_size=64 << 20)
    app.add_routes(routes)
    app.router.add_static(f"/extensions/{a.name}/", web_dir)
    app.router.add_static("/", a.static)

    async def run():
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", a.port)
        await site.start()
        print(f"READY {a.port}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for s in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(s, stop.set)
        await stop.wait()
        for sock in list(sockets):
            await sock.close()
        await runner.cleanup()

    asyncio.run(run())
    # atexit: the package's supervisor stops comfyd and comfyd-bridge.


if __name__ == "__main__":
    main()
