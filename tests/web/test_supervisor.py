"""The package's process supervisor (web/comfyd_comfyui.py) with the real
binaries: it starts comfyd and comfyd-bridge, a second one reuses them,
it stops only what it started, and it refuses a bridge port that something
else holds. On a copy of the checkout without build/: it says exactly what
to run when it cannot build, starts the binaries once they appear (no
restart), reports a failed build with its log, and builds the checkout
itself (scripts/build.sh) when the tools are there.

Run: python -m unittest tests/web/test_supervisor.py (COMFYD_BUILD_DIR set).
"""

import http.server
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("COMFYD_BUILD_DIR", os.path.join(REPO, "build-web"))

spec = importlib.util.spec_from_file_location("comfyd_comfyui", os.path.join(REPO, "web", "comfyd_comfyui.py"))
cc = importlib.util.module_from_spec(spec)
sys.modules["comfyd_comfyui"] = cc
spec.loader.exec_module(cc)


def load_package(checkout, name):
    """The package module of a checkout (its CHECKOUT is that checkout)."""
    sp = importlib.util.spec_from_file_location(name, os.path.join(checkout, "web", "comfyd_comfyui.py"))
    mod = importlib.util.module_from_spec(sp)
    sp.loader.exec_module(mod)
    return mod


def copy_checkout(dest):
    """The tracked files of this checkout (no build/, no var/)."""
    files = subprocess.run(["git", "-C", REPO, "ls-files", "-z"], check=True, capture_output=True).stdout.split(b"\0")
    for f in files:
        if not f:
            continue
        src = os.path.join(REPO, f.decode())
        if not os.path.isfile(src):
            continue
        dst = os.path.join(dest, f.decode())
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)
    return dest


def wait_until(fn, what, timeout):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        last = fn()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s: {what} (last: {last})")


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
        # Not a checkout (no CMakeLists.txt, no scripts/build.sh), nothing
        # on PATH: nothing to build, the error says what to run.
        checkout = cc.CHECKOUT
        cc.CHECKOUT = self.data
        try:
            s = self.supervisor(COMFYD_BIN_DIR=self.data, PATH="/nonexistent")
            info = s.info()
            self.assertEqual(info["status"], "error")
            self.assertIn("comfyd and comfyd-bridge not built", info["error"])
            self.assertIn("not a comfyd checkout", info["error"])
            self.assertEqual(info["started"], [])
        finally:
            s.stop()
            cc.CHECKOUT = checkout


class UnbuiltCheckoutTest(unittest.TestCase):
    """A copy of the checkout without build/, linked as ComfyUI would."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="comfyd-unbuilt-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.checkout = copy_checkout(tempfile.mkdtemp(prefix="checkout-", dir=self.tmp))
        self.assertFalse(os.path.exists(os.path.join(self.checkout, "build")))
        self.mod = load_package(self.checkout, f"comfyd_comfyui_{os.path.basename(self.checkout)}")
        self.data = os.path.join(self.checkout, "var")
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMFYD_")}
        env.update(
            {
                "COMFYD_DATA": self.data,
                "COMFYD_BRIDGE_URL": f"http://127.0.0.1:{self.port}",
                "COMFYD_LISTEN": f"unix:{os.path.join(self.data, 'comfyd.sock')}",
            }
        )
        self.env = env
        self.sup = None

    def tearDown(self):
        if self.sup:
            self.sup.stop()

    def start(self, **extra):
        self.sup = self.mod.Supervisor({**self.env, **extra})
        self.sup.start()
        self.assertTrue(self.sup.wait_ready(30), "the supervisor said nothing within 30 s")
        return self.sup

    def assert_ready(self, timeout):
        info = wait_until(lambda: self.sup.info()["status"] in ("ready",) and self.sup.info(), "the binaries to be started", timeout)
        self.assertEqual(info["started"], ["comfyd", "comfyd-bridge"])
        with open(os.path.join(self.data, "token")) as f:
            self.assertEqual(info["token"], f.read().strip())
        self.assertEqual(self.mod.bridge_health("127.0.0.1", self.port, info["token"]), "ok")

    def test_without_build_tools_it_says_what_to_run_then_starts_a_build_made_later(self):
        s = self.start(PATH="/nonexistent")
        info = s.info()
        self.assertEqual(info["status"], "error", info)
        self.assertIn("missing build tools: cmake, ninja, pkg-config, cc", info["error"])
        self.assertIn(f"`cd {self.checkout} && scripts/setup.sh && scripts/build.sh`", info["error"])
        self.assertNotIn("token", info)
        # The user builds (here: the binaries of this checkout's build land
        # where scripts/build.sh puts them); no restart of anything.
        for sub, name in (("core", "comfyd"), ("bridge", "comfyd-bridge")):
            os.makedirs(os.path.join(self.checkout, "build", sub), exist_ok=True)
            shutil.copy2(os.path.join(BUILD, sub, name), os.path.join(self.checkout, "build", sub, name))
        self.assert_ready(60)

    def test_a_failed_build_is_reported_with_its_log_and_what_to_run(self):
        # The build tools are there but no library can be found (as on a
        # machine where scripts/setup.sh never ran): cmake fails.
        s = self.start(PKG_CONFIG_LIBDIR="/nonexistent", PKG_CONFIG_PATH="")
        info = s.info()
        self.assertEqual(info["status"], "building", info)
        self.assertIn("scripts/build.sh", info["detail"])
        self.assertIn(os.path.join(self.data, "build.log"), info["detail"])
        info = wait_until(lambda: s.info()["status"] == "error" and s.info(), "the build to fail", 300)
        self.assertIn("building the checkout failed", info["error"])
        self.assertIn("scripts/setup.sh && scripts/build.sh", info["error"])
        with open(os.path.join(self.data, "build.log")) as f:
            log = f.read()
        self.assertIn("building comfyd comfyd-bridge", log)
        self.assertIn("grpc", log)  # cmake's complaint is in the log ...
        self.assertIn("grpc", info["error"])  # ... and quoted in the error

    def test_builds_an_unbuilt_checkout_and_starts_it(self):
        s = self.start()
        info = s.info()
        self.assertEqual(info["status"], "building", info)
        # A build of both binaries takes minutes on a loaded machine.
        self.assert_ready(1500)
        for sub, name in (("core", "comfyd"), ("bridge", "comfyd-bridge")):
            self.assertTrue(os.access(os.path.join(self.checkout, "build", sub, name), os.X_OK))
        with open(os.path.join(self.data, "build.log")) as f:
            self.assertIn("Linking C executable", f.read())

    def test_origins_come_from_the_environment(self):
        self.assertEqual(cc.comfyui_origins({"COMFYD_ALLOW_ORIGIN": "http://a:1/, http://b:2,http://a:1"}), ["http://a:1", "http://b:2"])


if __name__ == "__main__":
    unittest.main()
