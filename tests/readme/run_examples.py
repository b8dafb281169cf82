"""Runs the shell and Python examples of README.md against the real
comfyd and comfyd-bridge of a build dir, with the headless editor of
tests/graph as the canvas, the way a reader runs them: from a folder laid
out like the checkout (var/ holds the service's data, token and socket), one
block after the other, shell variables carried from block to block. The
folder also holds a checkout named `comfyd`, as a folder of checkouts does.

Usage: run_examples.py BUILD_DIR   (run by tests/readme/run.sh)

Every block is either run and checked against an expectation below, or
skipped for a stated reason; a block that is neither fails the test, so a
new example gets a check. The examples run twice: with the node types of
tests/fixtures/object_info.json (one checkpoint), and with the same node
types on an install without models (no checkpoint at all). The only change
made to a block is the bridge's port (a free one instead of 8189).
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blocks import blocks  # noqa: E402

REPO = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
BLOCK_TIMEOUT_S = 300  # hang guard; the pip install of the first run is the slowest
START_TIMEOUT_S = 30
DEBIAN_PY = "/usr/bin/python3"

# Blocks not run here, by a line they contain, with the reason.
SKIP = [
    (r"^\./scripts/run\.sh$", "the quick start: this test starts the same two binaries the same way"),
    (r"^\./scripts/test\.sh$", "runs this test"),
    (r"^ln -s .*/path/to/ComfyUI/custom_nodes/comfyd$", "needs a ComfyUI install: the real-ComfyUI suite links the checkout"),
    (r"/comfy/runs/<prompt_id>$", "needs a ComfyUI server (comfyd --comfyui): tests/runs queues and follows runs in the real one"),
]

# What each block must print, by a pattern of its text: (name, block
# pattern, {variant: [(regex the output must match, what)]}, runs in the
# background until the pattern of its first check appears, or None).
# "fails:" as the first regex means the block must exit non-zero.
EXPECT = [
    ("healthz and node_types", r"/healthz", {
        "*": [(r'\{"status":"ok","core":"ready","store":\{"engine":"', "healthz ok"),
              (r'"name":"KSampler"', "node_types finds KSampler")]}),
    ("headless editor", r"node tests/graph/editor\.mjs", {
        "*": [(r"editor: attached demo \d+", "the editor attaches as canvas demo")]}),
    ("one command", r'"type":"create_node","node_type":"KSampler"', {
        "*": [(r'^\{"ok":true,', "ok"), (r'"type":"KSampler"', "a KSampler on the canvas")]}),
    ("model-free batch", r"/comfy/graph/batch <<'EOF'$", {
        "*": [(r'^\{"ok":true,', "ok"),
              (r'"refs":\{"image":\d+,"invert":\d+,"save":\d+\}', "refs of the three nodes")]}),
    ("txt2img with a checkpoint from node_types", r"names=CheckpointLoaderSimple", {
        "fixture": [(r"^checkpoint: sd_xl_base_1\.0\.safetensors$", "picks the checkpoint"),
                    (r'^\{"ok":true,', "ok"),
                    (r'"refs":\{"ckpt":\d+,"pos":\d+,"neg":\d+,"latent":\d+,"sampler":\d+,'
                     r'"decode":\d+,"save":\d+\}', "refs of the seven nodes")],
        "no models": [("fails:", "stops"),
                      (r"CKPT: none: put a model into ComfyUI/models/checkpoints/",
                       "says that there is no checkpoint, instead of a refused batch")]}),
    ("arrange", r"""-d '\{"type":"arrange"\}'""", {
        "*": [(r'^\{"ok":true,', "ok")]}),
    ("WebSocket example", r"import asyncio, json, websockets", {
        "*": [(r"^\d+ \d+ nodes$", "revision and node count"), (r"^ok$", "move_node ok")]}),
    ("client venv", r"pip install \./clients/python", {
        "*": []}),
    ("gRPC example", r"from comfyd\.v1 import", {
        "*": [(r"^workflow-builder '", "workflow-builder streams"),
              (r"^prompt-writer '", "prompt-writer streams")]}),
]


# The blocks run with Debian's directories first on PATH, as on a fresh
# Debian 12: `python3` is then /usr/bin/python3, not a python3 of the
# machine's own (pyenv) that happens to come first.
ENV = dict(os.environ, PATH="/usr/bin:/bin:" + os.environ.get("PATH", ""))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Run:
    def __init__(self, build, variant, object_info):
        self.build, self.variant = build, variant
        # In the build dir, so that the client venv (.venv) the README makes
        # is kept from run to run; everything else is made afresh.
        self.dir = d = os.path.join(build, "readme-run")
        os.makedirs(d, exist_ok=True)
        for name in os.listdir(d):
            if name != ".venv":
                p = os.path.join(d, name)
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p)
                else:
                    os.unlink(p)
        self.procs = []
        self.port = free_port()
        self.grpc_port = free_port()
        os.makedirs(os.path.join(d, "var"))
        # Copies of what the examples use: pip and npm write into the trees
        # they install from, and node runs editor.mjs as a program only from
        # its own path (not through a symlink).
        ignore = shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "node_modules")
        # (web/src/executor: the editor imports the tab's layout module.)
        for sub in ("tests/graph", "tests/fixtures", "clients/python", "web/src/executor"):
            shutil.copytree(os.path.join(REPO, sub), os.path.join(d, sub), ignore=ignore)
        # A checkout named comfyd next to the scripts (see the module doc).
        os.symlink(REPO, os.path.join(d, "comfyd"))
        self.object_info = object_info
        self.state = os.path.join(d, ".state.sh")
        open(self.state, "w").close()

    def start(self, argv, log, env=None):
        p = subprocess.Popen(argv, cwd=self.dir, stdout=open(os.path.join(self.dir, log), "wb"),
                             stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.procs.append(p)
        return p

    def start_service(self):
        # As scripts/run.sh starts them, with the node types the README names.
        env = dict(os.environ, COMFYD_OBJECT_INFO=self.object_info)
        core = self.start([os.path.join(self.build, "core", "comfyd"), "--data", "var",
                           "--listen", "unix:var/comfyd.sock",
                           "--listen", "127.0.0.1:%d" % self.grpc_port], "comfyd.log", env)
        sock = os.path.join(self.dir, "var", "comfyd.sock")
        deadline = time.time() + START_TIMEOUT_S
        while not os.path.exists(sock):
            if core.poll() is not None or time.time() > deadline:
                raise RuntimeError("comfyd did not start: " + self.log("comfyd.log"))
            time.sleep(0.1)
        self.start([os.path.join(self.build, "bridge", "comfyd-bridge"), "--data", "var",
                    "--core", "unix:var/comfyd.sock", "--listen", "127.0.0.1:%d" % self.port],
                   "bridge.log")
        while True:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.port, timeout=2) as r:
                    if json.load(r).get("core") == "ready":
                        return
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("comfyd-bridge did not start: " + self.log("bridge.log"))
            time.sleep(0.1)

    def log(self, name):
        try:
            return open(os.path.join(self.dir, name), encoding="utf-8", errors="replace").read()[-3000:]
        except OSError:
            return ""

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    def adapt(self, text):
        return text.replace("127.0.0.1:8189", "127.0.0.1:%d" % self.port)

    def shell(self, text, names, background=None):
        """Runs a shell block after the variables of the earlier ones, and
        saves its variables for the next."""
        # Appended: a later definition wins when the next block reads them.
        save = "".join('if [ -n "${%s+x}" ]; then declare -p %s >>%s; fi\n' % (n, n, self.state)
                       for n in names)
        script = "set -euo pipefail\n. %s\n" % self.state + self.adapt(text) + "\n" + save
        path = os.path.join(self.dir, ".block.sh")
        if background:
            bg = os.path.join(self.dir, ".block-bg.sh")
            open(bg, "w").write(script)
            p = self.start(["bash", bg], "background.log", ENV)
            deadline = time.time() + BLOCK_TIMEOUT_S
            while not re.search(background, self.log("background.log"), re.M):
                if p.poll() is not None or time.time() > deadline:
                    return 1, self.log("background.log")
                time.sleep(0.2)
            return 0, self.log("background.log")
        open(path, "w").write(script)
        r = subprocess.run(["bash", path], cwd=self.dir, capture_output=True, text=True,
                           timeout=BLOCK_TIMEOUT_S, env=ENV)
        return r.returncode, r.stdout + r.stderr

    def python(self, text, name):
        # The README says which interpreter runs which example.
        py = os.path.join(self.dir, ".venv", "bin", "python") if "comfyd.v1" in text else DEBIAN_PY
        path = os.path.join(self.dir, name)
        open(path, "w").write(self.adapt(text))
        r = subprocess.run([py, name], cwd=self.dir, capture_output=True, text=True,
                           timeout=BLOCK_TIMEOUT_S, env=ENV)
        return r.returncode, r.stdout + r.stderr


def without_models(src, dst):
    """The fixture's node types as ComfyUI reports them with an empty
    models/ folder: every model-file list is empty."""
    info = json.load(open(src, encoding="utf-8"))
    for node in info.values():
        for group in ("required", "optional"):
            for name, spec in (node.get("input", {}).get(group) or {}).items():
                if (isinstance(spec, list) and spec and isinstance(spec[0], list)
                        and any(str(o).endswith((".safetensors", ".ckpt", ".pt", ".pth", ".bin"))
                                for o in spec[0])):
                    spec[0] = []
    json.dump(info, open(dst, "w", encoding="utf-8"))


def main():
    build = os.path.realpath(sys.argv[1])
    readme = os.path.join(REPO, "README.md")
    runnable = [b for b in blocks(readme) if b[1] in ("sh", "python")]
    names = sorted({m for _, lang, t in runnable if lang == "sh"
                    for m in re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)=", t, re.M)})
    tmp = tempfile.mkdtemp(prefix="comfyd-readme-info-")
    no_models = os.path.join(tmp, "object_info.json")
    without_models(os.path.join(REPO, "tests", "fixtures", "object_info.json"), no_models)
    failures = 0
    try:
        for variant, info in (("fixture", os.path.join(REPO, "tests", "fixtures", "object_info.json")),
                              ("no models", no_models)):
            print("== README examples, node types: %s" % variant, flush=True)
            run = Run(build, variant, info)
            try:
                run.start_service()
                for line, lang, text in runnable:
                    skip = next((why for pat, why in SKIP if re.search(pat, text, re.M)), None)
                    if skip:
                        print("skip README.md:%d (%s)" % (line, skip), flush=True)
                        continue
                    exp = [e for e in EXPECT if re.search(e[1], text, re.M)]
                    if len(exp) != 1:
                        print("FAIL README.md:%d: %s expectation in tests/readme/run_examples.py"
                              % (line, "no" if not exp else "more than one"))
                        failures += 1
                        continue
                    what, _, checks = exp[0]
                    checks = checks.get(variant, checks.get("*"))
                    t0 = time.time()
                    if lang == "python":
                        rc, out = run.python(text, "example_%d.py" % line)
                    else:
                        bg = checks[0][0] if what == "headless editor" else None
                        rc, out = run.shell(text, names, background=bg)
                    want_fail = bool(checks) and checks[0][0] == "fails:"
                    problems = []
                    if want_fail and rc == 0:
                        problems.append("exit 0, expected a failure")
                    if not want_fail and rc != 0:
                        problems.append("exit %d" % rc)
                    if not want_fail and re.search(r'"ok":false|Traceback', out):
                        problems.append("an error in the output")
                    for rx, desc in checks:
                        if rx != "fails:" and not re.search(rx, out, re.M):
                            problems.append("missing: " + desc)
                    status = "FAIL" if problems else "ok  "
                    print("%s README.md:%d %s (%.1fs)%s" % (status, line, what, time.time() - t0,
                                                            ": " + "; ".join(problems) if problems else ""),
                          flush=True)
                    if problems:
                        failures += 1
                        print("---- output\n%s\n----" % out[-4000:])
            except Exception as e:  # a service that does not start
                print("FAIL %s: %s" % (variant, e))
                failures += 1
            finally:
                run.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
