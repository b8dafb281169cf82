"""The package's process supervisor (web/comfyd_comfyui.py) with the real
binaries: it starts comfyd and comfyd-bridge, a second one reuses them,
it stops only what it started, and it refuses a bridge port that something
else holds.

Run: python -m unittest tests/web/test_supervisor.py (COMFYD_BUILD_DIR set).
"""

import http.server
import importlib.util
import os
import shutil
import socket
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("COMFYD_BUILD_DIR", os.path.join(REPO, "build-web"))

spec = importlib.util.spec_from_file_location("comfyd_comfyui", os.path.join(REPO, "web", "comfyd_comfyui.py"))
cc = importlib.util.module_from_spec(spec)
sys.modules["comfyd_comfyui"] = cc
spec.loader.exec_module(cc)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class SupervisorTest(unittest.TestCase):
    def setUp(self):
        self.data = tempfile.mkdtemp(prefix="comfyd-sup-")
        self.port = free_port()
        self.env = {
            **os.environ,
            "COMFYD_BIN_DIR": BUILD,
            "COMFYD_DATA": self.data,
            "COMFYD_BRIDGE_URL": f"http://127.0.0.1:{self.port}",
            "COMFYD_LISTEN": f"unix:{os.path.join(self.data, 'comfyd.sock')}",
        }
        self.sups = []

    def tearDown(self):
        for s in reversed(self.sups):
            s.stop()
        shutil.rmtree(self.data, ignore_errors=True)

    def supervisor(self, **extra):
        s = cc.Supervisor({**self.env, **extra})
        self.sups.append(s)
        s.start()
        self.assertTrue(s.wait_ready(30), "the supervisor did not finish starting")
        return s

    def test_core_follows_the_comfyui_it_runs_in(self):
        # Inside ComfyUI, comfy.cli_args names its port: the core gets
        # --object-info and --comfyui for it (unless the environment sets them).
        import types

        comfy = types.ModuleType("comfy")
        cli = types.ModuleType("comfy.cli_args")
        cli.args = types.SimpleNamespace(port=8321)
        saved = {k: sys.modules.get(k) for k in ("comfy", "comfy.cli_args")}
        sys.modules["comfy"], sys.modules["comfy.cli_args"] = comfy, cli
        try:
            argv = cc.Supervisor(dict(self.env))._core_argv("comfyd")
            self.assertIn("--comfyui", argv)
            self.assertEqual(argv[argv.index("--comfyui") + 1], "http://127.0.0.1:8321")
            self.assertEqual(argv[argv.index("--object-info") + 1], "http://127.0.0.1:8321/object_info")
            argv = cc.Supervisor({**self.env, "COMFYD_COMFYUI": "http://elsewhere:1"})._core_argv("comfyd")
            self.assertNotIn("--comfyui", argv)
        finally:
            for k, v in saved.items():
                if v is None:
                    sys.modules.pop(k, None)
                else:
                    sys.modules[k] = v

    def test_starts_both_then_a_second_one_reuses_them(self):
        first = self.supervisor()
        info = first.info()
        self.assertEqual(info["status"], "ready", info)
        self.assertEqual(info["started"], ["comfyd", "comfyd-bridge"])
        with open(os.path.join(self.data, "token")) as f:
            self.assertEqual(info["token"], f.read().strip())

        second = self.supervisor(COMFYD_NO_START="1")
        info2 = second.info()
        self.assertEqual(info2["status"], "ready", info2)
        self.assertEqual(info2["started"], [])
        self.assertEqual(info2["token"], info["token"])

        # Stopping the second leaves the processes of the first running.
        second.stop()
        self.assertEqual(cc.bridge_health("127.0.0.1", self.port, info["token"]), "ok")
        first.stop()
        self.assertEqual(cc.bridge_health("127.0.0.1", self.port, info["token"]), "down")
        self.assertFalse(cc.unix_socket_alive(os.path.join(self.data, "comfyd.sock")))

    def test_refuses_a_port_held_by_something_else(self):
        class Other(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"<html>not a bridge</html>")

            def log_message(self, *a):
                pass

        srv = http.server.HTTPServer(("127.0.0.1", self.port), Other)
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        try:
            s = self.supervisor()
            info = s.info()
            self.assertEqual(info["status"], "error")
            self.assertIn("not comfyd-bridge", info["error"])
            self.assertNotIn("token", info)
            self.assertEqual(info["started"], [])  # nothing was started
        finally:
            srv.shutdown()
            srv.server_close()

    def test_reports_missing_binaries(self):
        checkout = cc.CHECKOUT
        cc.CHECKOUT = self.data  # a checkout without build/
        try:
            s = self.supervisor(COMFYD_BIN_DIR=self.data, PATH="/nonexistent")
        finally:
            cc.CHECKOUT = checkout
        info = s.info()
        self.assertEqual(info["status"], "error")
        self.assertIn("comfyd not found", info["error"])

    def test_origins_come_from_the_environment(self):
        self.assertEqual(cc.comfyui_origins({"COMFYD_ALLOW_ORIGIN": "http://a:1/, http://b:2,http://a:1"}), ["http://a:1", "http://b:2"])


if __name__ == "__main__":
    unittest.main()
