"""comfyd inside ComfyUI: the agent panel node and the process supervisor.

There is no business logic here. The panel node is an empty shell whose body
the browser extension (dist/main.js) fills; the supervisor finds or starts
``comfyd`` and ``comfyd-bridge`` when ComfyUI starts, stops the ones it
started when ComfyUI stops, and answers ``GET /comfyd/connection`` (also
``/api/comfyd/connection``) with the bridge's URL and token, so the page can
open its WebSockets to the bridge. A checkout linked before it was built is
built in the background (scripts/build.sh, log in DATA/build.log) when the
build tools are there; otherwise the route says what to run. Either way the
supervisor keeps looking for the binaries and starts them once they exist,
without a ComfyUI restart.

Configuration (environment):
  COMFYD_BIN_DIR        folder with comfyd and comfyd-bridge, or a CMake
                        build tree (else the checkout's build/, else PATH)
  COMFYD_DATA           data folder of both (default: the checkout's var/)
  COMFYD_BRIDGE_URL     bridge address (default http://127.0.0.1:8189)
  COMFYD_ALLOW_ORIGIN   extra origins the bridge accepts, comma-separated
                        (ComfyUI's own origins are added from its --listen
                        and --port)
  COMFYD_NO_START=1     only use comfyd and a bridge that already run
  COMFYD_NO_BUILD=1     never build the checkout; only say what to run
"""

import atexit
import http.client
import json
import logging
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

LOG = logging.getLogger("comfyd")

HERE = os.path.dirname(os.path.realpath(__file__))
CHECKOUT = os.path.dirname(HERE)

# How long to wait for a started process to answer: the core opens SQLite
# and loads skills, the bridge connects to the core; both take well under a
# second on a healthy machine.
START_TIMEOUT_S = 20.0
# How long GET /comfyd/connection waits for a start in progress before it
# answers "starting" (the page then retries with backoff).
ROUTE_WAIT_S = 10.0
# Grace period for children to stop on SIGTERM before SIGKILL.
STOP_TIMEOUT_S = 5.0
# A crashed child is started again at most this many times (with a delay
# growing to RESTART_MAX_DELAY_S): a crash loop must not spin.
MAX_RESTARTS = 5
RESTART_MAX_DELAY_S = 30.0
# Largest token file read (the bridge writes a short random token).
MAX_TOKEN_BYTES = 512
# While the binaries are missing, how often to look for them again (a build
# of ours, or one the user runs, makes them appear).
BINARY_POLL_S = 2.0
# A binary must stay unchanged this long before it is started: a linker may
# still be writing it.
BINARY_SETTLE_S = 1.0
# Longest build waited for before it is stopped (a slow machine takes
# minutes; a hung one must not hold the supervisor forever).
BUILD_TIMEOUT_S = 1800.0
# Lines of the build log quoted when a build fails.
BUILD_LOG_TAIL_LINES = 6
# What scripts/build.sh needs on PATH (scripts/setup.sh installs them).
BUILD_TOOLS = ("cmake", "ninja", "pkg-config", "cc")
# The only targets the package needs.
BUILD_TARGETS = "comfyd comfyd-bridge"
# The run routes proxied to the bridge for the panel: the query keys of the
# run list, the longest id in a path, the largest answer (the bridge bounds
# an output at 4 MiB), and how long to wait for the bridge.
RUNS_QUERY = ("session_id", "canvas_id", "page_size", "page_token")
PROXY_MAX_ID = 256
PROXY_MAX_BODY = 8 << 20
PROXY_TIMEOUT_S = 30.0
# An attachment the panel uploads: the core's limit (BLOB_MAX_BYTES, 3 MiB)
# plus one byte, so the bridge answers 413 naming the limit.
UPLOAD_MAX_BODY = (3 << 20) + 1


class ComfydAgentPanel:
    """The agent panel: a node whose body is the Vue app of the extension.

    Its configuration lives in hidden widgets the extension adds (so it is
    saved with the workflow); it never takes part in a generation.
    """

    DESCRIPTION = "Chat with comfyd's agent skills; they can read and edit this workflow."
    CATEGORY = "comfyd"
    RETURN_TYPES = ()
    FUNCTION = "noop"
    OUTPUT_NODE = False

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {}}

    def noop(self):
        return ()


NODE_CLASS_MAPPINGS = {"ComfydAgentPanel": ComfydAgentPanel}
NODE_DISPLAY_NAME_MAPPINGS = {"ComfydAgentPanel": "comfyd Agent"}


# ---- finding things ----


def find_binary(name, env=os.environ):
    """COMFYD_BIN_DIR, then the checkout's build tree, then PATH."""
    sub = "core" if name == "comfyd" else "bridge"
    candidates = []
    if env.get("COMFYD_BIN_DIR"):
        # A folder with both binaries, or a CMake build tree.
        candidates.append(os.path.join(env["COMFYD_BIN_DIR"], name))
        candidates.append(os.path.join(env["COMFYD_BIN_DIR"], sub, name))
    candidates.append(os.path.join(CHECKOUT, "build", sub, name))
    for c in candidates:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return shutil.which(name, path=env.get("PATH"))


def build_command():
    """What a user runs to build the checkout (quoted for a shell)."""
    return f"cd {shlex.quote(CHECKOUT)} && scripts/setup.sh && scripts/build.sh"


def build_plan(env=os.environ):
    """(argv, None) to build the checkout here, or (None, why it cannot)."""
    script = os.path.join(CHECKOUT, "scripts", "build.sh")
    if not (os.path.isfile(script) and os.path.isfile(os.path.join(CHECKOUT, "CMakeLists.txt"))):
        return None, f"{CHECKOUT} is not a comfyd checkout (set COMFYD_BIN_DIR to a folder with the binaries)"
    if env.get("COMFYD_NO_BUILD") == "1":
        return None, "COMFYD_NO_BUILD=1"
    missing = [t for t in BUILD_TOOLS if not shutil.which(t, path=env.get("PATH"))]
    if missing:
        return None, f"missing build tools: {', '.join(missing)}"
    if not os.access(CHECKOUT, os.W_OK):
        return None, f"{CHECKOUT} is not writable"
    return ["bash", script, "build"], None


def build_failure(path, lines=BUILD_LOG_TAIL_LINES, max_bytes=65536):
    """Why a build failed, from its log (bounded read): the lines that name
    a missing package or an error, else the last lines; joined with ' | '."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - max_bytes))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    # Only this build's part of the log (it is appended to).
    text = text.rsplit("\n== ", 1)[-1]
    rows = [r.strip() for r in text.splitlines()[1:] if r.strip()]
    telling = []
    for r in rows:
        if re.search(r"not found|no package|error:|fatal|cannot find|No such file", r, re.I) and r not in telling:
            telling.append(r)
    return " | ".join((telling or rows)[-lines:])[:2000]


def data_dir(env=os.environ):
    return os.path.abspath(env.get("COMFYD_DATA") or os.path.join(CHECKOUT, "var"))


def bridge_address(env=os.environ):
    """(url, host, port) of the bridge."""
    url = env.get("COMFYD_BRIDGE_URL") or "http://127.0.0.1:8189"
    p = urllib.parse.urlsplit(url)
    if p.scheme not in ("http", "https") or not p.hostname:
        raise ValueError(f"COMFYD_BRIDGE_URL is not an http URL: {url!r}")
    port = p.port or (443 if p.scheme == "https" else 80)
    return f"{p.scheme}://{p.netloc}", p.hostname, port


def comfyui_origins(env=os.environ):
    """The origins the page may have: ComfyUI's address plus COMFYD_ALLOW_ORIGIN."""
    origins = []
    for o in (env.get("COMFYD_ALLOW_ORIGIN") or "").split(","):
        o = o.strip().rstrip("/")
        if o and o not in origins:
            origins.append(o)
    try:
        from comfy.cli_args import args  # ComfyUI's own arguments

        port = int(args.port)
        scheme = "https" if getattr(args, "tls_keyfile", None) else "http"
        hosts = ["127.0.0.1", "localhost"]
        for h in str(getattr(args, "listen", "") or "").split(","):
            h = h.strip()
            if h and h not in ("0.0.0.0", "::", "127.0.0.1", "localhost") and h not in hosts:
                hosts.append(f"[{h}]" if ":" in h else h)
        for h in hosts:
            o = f"{scheme}://{h}:{port}"
            if o not in origins:
                origins.append(o)
    except Exception:  # not inside ComfyUI: only the configured ones
        pass
    return origins


def read_token(path):
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_TOKEN_BYTES + 1)
    except OSError:
        return None
    tok = raw.decode("ascii", "replace").strip()
    if not tok or len(raw) > MAX_TOKEN_BYTES or any(ord(c) < 0x21 or ord(c) > 0x7E for c in tok):
        return None
    return tok


def unix_socket_alive(path):
    if not os.path.exists(path):
        return False
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1.0)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def bridge_health(host, port, token):
    """'ok' (a bridge answered /healthz), 'down' (nothing listens) or
    'other' (something else holds the port)."""
    conn = http.client.HTTPConnection(host, port, timeout=2.0)
    try:
        headers = {"Host": f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request("GET", "/healthz", headers=headers)
        r = conn.getresponse()
        body = r.read(4096)
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        if r.status in (200, 503) and isinstance(doc, dict) and "status" in doc:
            return "ok"
        if r.status == 401 and isinstance(doc, dict):
            return "ok"  # a bridge whose token we do not have
        return "other"
    except (ConnectionRefusedError, socket.timeout, TimeoutError):
        return "down"
    except OSError:
        return "down"
    finally:
        conn.close()


def _die_with_parent():
    """Child side: get SIGTERM when the thread that started us ends (the
    supervisor thread lives as long as ComfyUI), so a ComfyUI that is
    killed does not leave comfyd behind. Linux only; elsewhere atexit does
    the stopping."""
    try:
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except Exception:
        pass


# ---- the supervisor ----


class MissingBinaries(RuntimeError):
    def __init__(self, names):
        super().__init__(f"{' and '.join(names)} not found: build the checkout or set COMFYD_BIN_DIR")
        self.names = list(names)


class Supervisor:
    def __init__(self, env=None):
        self.env = dict(os.environ if env is None else env)
        self.lock = threading.Lock()
        self.state = "starting"  # starting | building | ready | error
        self.error = ""
        self.detail = ""  # what is going on while starting or building
        self.build = None  # the build process, while one runs
        self.build_failed = False  # a build of ours failed: not tried again
        self.token = None
        self.children = {}  # name -> Popen, only the ones started here
        self.restarts = {}
        self.stopping = False
        self.ready = threading.Event()
        self.thread = None
        try:
            self.url, self.host, self.port = bridge_address(self.env)
        except ValueError as e:
            self.url, self.host, self.port = "", "127.0.0.1", 0
            self._fail(str(e))
        self.data = data_dir(self.env)
        self.core_socket = os.path.join(self.data, "comfyd.sock")
        self.token_file = os.path.join(self.data, "token")

    # -- state --

    def _fail(self, msg):
        with self.lock:
            self.state, self.error, self.detail = "error", msg, ""
        LOG.error("comfyd: %s", msg)
        self.ready.set()

    def _set(self, state, error="", detail=""):
        with self.lock:
            self.state, self.error, self.detail = state, error, detail
        (LOG.error if error else LOG.info)("comfyd: %s", error or detail)
        self.ready.set()

    def info(self):
        with self.lock:
            out = {"status": self.state, "bridge_url": self.url}
            if self.state == "ready":
                out["token"] = self.token
            if self.error:
                out["error"] = self.error
            if self.detail:
                out["detail"] = self.detail
            out["started"] = sorted(self.children)
            return out

    # -- processes --

    def _spawn(self, name, argv):
        os.makedirs(self.data, mode=0o700, exist_ok=True)
        log_path = os.path.join(self.data, f"{name}.log")
        logf = open(log_path, "ab")
        try:
            p = subprocess.Popen(
                argv,
                cwd=CHECKOUT if os.path.isdir(CHECKOUT) else None,
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
                env=self.env,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
                close_fds=True,
            )
        finally:
            logf.close()
        LOG.info("comfyd: started %s (pid %d), log %s", name, p.pid, log_path)
        self.children[name] = p
        return p

    def _core_argv(self, binary):
        argv = [binary, "--data", self.data]
        skills = os.path.join(CHECKOUT, "skills")
        if os.path.isdir(skills) and not self.env.get("COMFYD_BUILTIN_SKILLS"):
            argv += ["--builtin-skills", skills]
        port = None
        try:
            from comfy.cli_args import args  # ComfyUI's own arguments

            port = int(args.port)
        except Exception:  # not inside ComfyUI: the tabs send their node types
            pass
        if port and not self.env.get("COMFYD_OBJECT_INFO"):
            # The core fetches ComfyUI's node types itself (in the background,
            # retrying until ComfyUI serves), so it can validate commands even
            # before a tab attaches.
            argv += ["--object-info", f"http://127.0.0.1:{port}/object_info"]
        if port and not self.env.get("COMFYD_COMFYUI"):
            # The core posts queued prompts and follows their runs itself
            # (docs/runs.md).
            argv += ["--comfyui", f"http://127.0.0.1:{port}"]
        return argv

    def _bridge_argv(self, binary):
        host = f"[{self.host}]" if ":" in self.host else self.host
        argv = [binary, "--listen", f"{host}:{self.port}", "--core", f"unix:{self.core_socket}", "--data", self.data]
        for o in comfyui_origins(self.env):
            argv += ["--allow-origin", o]
        return argv

    def _wait(self, what, check, proc):
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and not self.stopping:
            if check():
                return True
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{what} exited with status {proc.returncode} (see {self.data}/{what}.log)")
            time.sleep(0.1)
        if self.stopping:
            return False
        raise RuntimeError(f"{what} did not become ready within {START_TIMEOUT_S:.0f} s")

    def _ensure_core(self):
        if unix_socket_alive(self.core_socket):
            LOG.info("comfyd: using the comfyd already running on %s", self.core_socket)
            return
        if self.env.get("COMFYD_NO_START") == "1":
            raise RuntimeError(f"comfyd is not running on {self.core_socket} and COMFYD_NO_START=1")
        binary = find_binary("comfyd", self.env)
        if not binary:
            raise MissingBinaries(["comfyd"])
        p = self._spawn("comfyd", self._core_argv(binary))
        self._wait("comfyd", lambda: unix_socket_alive(self.core_socket), p)

    def _ensure_bridge(self):
        status = bridge_health(self.host, self.port, read_token(self.token_file))
        if status == "ok":
            LOG.info("comfyd: using the comfyd-bridge already running on %s", self.url)
        elif status == "other":
            raise RuntimeError(f"{self.host}:{self.port} is taken by something that is not comfyd-bridge")
        else:
            if self.env.get("COMFYD_NO_START") == "1":
                raise RuntimeError(f"comfyd-bridge is not running on {self.url} and COMFYD_NO_START=1")
            binary = find_binary("comfyd-bridge", self.env)
            if not binary:
                raise MissingBinaries(["comfyd-bridge"])
            p = self._spawn("comfyd-bridge", self._bridge_argv(binary))
            self._wait(
                "comfyd-bridge",
                lambda: read_token(self.token_file) and bridge_health(self.host, self.port, read_token(self.token_file)) == "ok",
                p,
            )
        tok = read_token(self.token_file)
        if not tok:
            raise RuntimeError(f"no token in {self.token_file} (is the bridge using another data folder?)")
        with self.lock:
            self.token = tok

    def _missing(self):
        """The binaries that would have to be started but cannot be found."""
        if self.env.get("COMFYD_NO_START") == "1":
            return []
        need = []
        if not unix_socket_alive(self.core_socket):
            need.append("comfyd")
        if bridge_health(self.host, self.port, read_token(self.token_file)) == "down":
            need.append("comfyd-bridge")
        return [n for n in need if not find_binary(n, self.env)]

    def _bring_up(self):
        # A port held by something else is a configuration error: say so
        # before starting anything.
        if bridge_health(self.host, self.port, read_token(self.token_file)) == "other":
            raise RuntimeError(f"{self.host}:{self.port} is taken by something that is not comfyd-bridge")
        # Both binaries or none: a core started without a bridge to reach it
        # helps nobody.
        missing = self._missing()
        if missing:
            raise MissingBinaries(missing)
        self._ensure_core()
        self._ensure_bridge()
        with self.lock:
            self.state, self.error, self.detail = "ready", "", ""
        self.ready.set()
        LOG.info("comfyd: bridge ready at %s", self.url)

    # -- an unbuilt checkout --

    def _start_build(self, argv, names):
        os.makedirs(self.data, mode=0o700, exist_ok=True)
        log_path = os.path.join(self.data, "build.log")
        env = {**self.env, "COMFYD_BUILD_TARGETS": BUILD_TARGETS}
        with open(log_path, "ab") as logf:
            logf.write(f"\n== {time.strftime('%Y-%m-%d %H:%M:%S')} building {BUILD_TARGETS} in {CHECKOUT}: {' '.join(argv)}\n".encode())
            logf.flush()

            def child():
                os.nice(10)  # a build must not starve ComfyUI
                _die_with_parent()

            self.build = subprocess.Popen(
                argv,
                cwd=CHECKOUT,
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
                env=env,
                preexec_fn=child if sys.platform.startswith("linux") else None,
                start_new_session=True,  # stop() ends cmake and ninja with it
                close_fds=True,
            )
        self.build_log = log_path
        self.build_started = time.monotonic()
        self._set(
            "building",
            detail=f"{' and '.join(names)} not built yet: building the checkout {CHECKOUT} "
            f"(scripts/build.sh, in the background; log {log_path}); the panel connects when it is done",
        )

    def _stop_build(self):
        b, self.build = self.build, None
        if b is None or b.poll() is not None:
            return
        try:
            os.killpg(b.pid, signal.SIGTERM)
            b.wait(timeout=STOP_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired):
            try:
                os.killpg(b.pid, signal.SIGKILL)
                b.wait(timeout=STOP_TIMEOUT_S)
            except (OSError, subprocess.TimeoutExpired):
                pass

    def _binaries_settled(self, names):
        """All of names found and not growing any more (a linker may still
        be writing one)."""
        paths = [find_binary(n, self.env) for n in names]
        if not all(paths):
            return False
        try:
            before = [(os.stat(p).st_size, os.stat(p).st_mtime_ns) for p in paths]
            time.sleep(BINARY_SETTLE_S)
            return before == [(os.stat(p).st_size, os.stat(p).st_mtime_ns) for p in paths]
        except OSError:
            return False

    def _await_binaries(self, names):
        """The binaries are missing: build them when possible, else say what
        to run; either way return once they exist (or when stopping)."""
        argv, why = build_plan(self.env)
        if argv and not self.build_failed:
            self._start_build(argv, names)
        else:
            why = why or "the last build failed"
            self._set(
                "error",
                error=f"{' and '.join(names)} not built ({why}). Run: `{build_command()}` "
                "(ComfyUI picks the binaries up without a restart)",
            )
        while not self.stopping:
            b = self.build
            if b is not None and b.poll() is not None:
                self.build = None
                if b.returncode != 0:
                    self.build_failed = True
                    self._set(
                        "error",
                        error=f"building the checkout failed (exit {b.returncode}): {build_failure(self.build_log)}. "
                        f"Install what is missing and build: `{build_command()}` (log {self.build_log}); "
                        "ComfyUI picks the binaries up without a restart",
                    )
                else:
                    LOG.info("comfyd: the build finished (log %s)", self.build_log)
            elif b is not None and time.monotonic() - self.build_started > BUILD_TIMEOUT_S:
                self._stop_build()
                self.build_failed = True
                self._set("error", error=f"the build took longer than {BUILD_TIMEOUT_S:.0f} s and was stopped (log {self.build_log}). Run: `{build_command()}`")
            if self.build is None and self._binaries_settled(names):
                with self.lock:
                    self.state, self.error, self.detail = "starting", "", "starting the binaries just built"
                    self.ready.clear()
                return
            time.sleep(BINARY_POLL_S)

    def run(self):
        """The supervisor thread: brings both up (building them first when
        needed), then restarts a child of ours that died (the page
        reconnects by itself)."""
        while not self.stopping:
            try:
                self._bring_up()
            except MissingBinaries as e:
                self._await_binaries(e.names)
                continue
            except Exception as e:
                self._fail(str(e))
            break
        while not self.stopping:
            time.sleep(1.0)
            for name, p in list(self.children.items()):
                if self.stopping or p.poll() is None:
                    continue
                n = self.restarts.get(name, 0)
                if n >= MAX_RESTARTS:
                    continue
                self.restarts[name] = n + 1
                LOG.warning("comfyd: %s exited with status %s; starting it again", name, p.returncode)
                time.sleep(min(RESTART_MAX_DELAY_S, 2.0**n))
                with self.lock:
                    self.state = "starting"
                    self.ready.clear()
                del self.children[name]
                try:
                    self._bring_up()
                except Exception as e:
                    self._fail(str(e))

    def start(self):
        if self.thread is not None or self.state == "error":
            return
        self.thread = threading.Thread(target=self.run, name="comfyd-supervisor", daemon=True)
        self.thread.start()

    def stop(self):
        """Stops the children this supervisor started (bridge first), and a
        build in progress."""
        self.stopping = True
        self._stop_build()
        for name in ("comfyd-bridge", "comfyd"):
            p = self.children.get(name)
            if p is None or p.poll() is not None:
                continue
            try:
                p.terminate()
                p.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=STOP_TIMEOUT_S)
            except OSError:
                pass

    def wait_ready(self, timeout):
        return self.ready.wait(timeout)


SUPERVISOR = None


def _register_route(sup):
    """GET /comfyd/connection on ComfyUI's server (it mirrors it under /api)."""
    try:
        from aiohttp import web
        from server import PromptServer
    except ImportError:
        LOG.warning("comfyd: not running inside ComfyUI; no /comfyd/connection route")
        return
    import asyncio

    @PromptServer.instance.routes.get("/comfyd/connection")
    async def comfyd_connection(request):
        loop = asyncio.get_running_loop()
        if sup.state == "starting":
            await loop.run_in_executor(None, sup.wait_ready, ROUTE_WAIT_S)
        info = sup.info()
        status = 200 if info["status"] == "ready" else 503
        return web.json_response(info, status=status, headers={"Cache-Control": "no-store"})

    # The panel shows runs and their output images. The bridge wants the
    # token as a bearer header, which an <img> cannot send, and it answers
    # no CORS preflight, so the page reads these two through its own origin:
    # ComfyUI's server adds the header. Only GETs of the run list and of a
    # run's outputs pass (the bridge checks the rest: only files the run's
    # record lists, bounded in size).
    @PromptServer.instance.routes.get("/comfyd/runs")
    async def comfyd_runs(request):
        query = {k: request.query[k] for k in RUNS_QUERY if k in request.query}
        return await _proxy_get(sup, "/comfy/runs", query)

    @PromptServer.instance.routes.get("/comfyd/runs/{prompt_id}/outputs/{node}/{index}")
    async def comfyd_run_output(request):
        m = request.match_info
        if not m["index"].isdigit() or len(m["prompt_id"]) > PROXY_MAX_ID or len(m["node"]) > PROXY_MAX_ID:
            return web.json_response({"error": "bad output address"}, status=400)
        query = {"max_side": request.query["max_side"]} if "max_side" in request.query else {}
        path = "/comfy/runs/{}/outputs/{}/{}".format(urllib.parse.quote(m["prompt_id"], safe=""), urllib.parse.quote(m["node"], safe=""), m["index"])
        return await _proxy_get(sup, path, query)

    # Attachments of the panel's messages: uploaded through the same origin
    # (the bridge checks type and size and stores nothing half-way), and
    # read back by their hash for the thumbnails.
    @PromptServer.instance.routes.post("/comfyd/attachments")
    async def comfyd_attachment_upload(request):
        name = request.query.get("name", "")
        if len(name.encode("utf-8", "replace")) > 255:
            return web.json_response({"error": "name: at most 255 bytes (BLOB_MAX_NAME)"}, status=400)
        return await _proxy_post(sup, request, "/comfy/attachments", {"name": name} if name else {})

    @PromptServer.instance.routes.get("/comfyd/attachments/{sha256}")
    async def comfyd_attachment(request):
        h = request.match_info["sha256"]
        if len(h) != 64 or any(c not in "0123456789abcdef" for c in h):
            return web.json_response({"error": "expected a sha256 (64 lower-case hex digits)"}, status=400)
        return await _proxy_get(sup, "/comfy/attachments/" + h, {})


async def _proxy_post(sup, request, path, query):
    """POST the request's body (bounded) to path on the bridge with the
    token and its Content-Type; the bridge's answer as it is."""
    import asyncio

    import aiohttp
    from aiohttp import web

    info = sup.info()
    if info.get("status") != "ready":
        return web.json_response({"error": info.get("error") or f"comfyd is {info.get('status')}"}, status=503)
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > UPLOAD_MAX_BODY:
            return web.json_response({"error": "the attachment is larger than 3 MiB (BLOB_MAX_BYTES)"}, status=413)
        chunks.append(chunk)
    url = info["bridge_url"].rstrip("/") + path + ("?" + urllib.parse.urlencode(query) if query else "")
    headers = {"Authorization": f"Bearer {info['token']}",
               "Content-Type": request.headers.get("Content-Type", "application/octet-stream")}
    try:
        timeout = aiohttp.ClientTimeout(total=PROXY_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            async with http.post(url, data=b"".join(chunks), headers=headers) as r:
                body = await r.content.read(PROXY_MAX_BODY)
                ctype = r.headers.get("Content-Type", "application/json")
                return web.Response(body=body, status=r.status, headers={"Content-Type": ctype, "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as e:
        return web.json_response({"error": f"comfyd-bridge: {e}"}, status=502)


async def _proxy_get(sup, path, query):
    """GET path on the bridge with the token; its answer as it is."""
    import asyncio

    import aiohttp
    from aiohttp import web

    info = sup.info()
    if info.get("status") != "ready":
        return web.json_response({"error": info.get("error") or f"comfyd is {info.get('status')}"}, status=503)
    url = info["bridge_url"].rstrip("/") + path + ("?" + urllib.parse.urlencode(query) if query else "")
    headers = {"Authorization": f"Bearer {info['token']}"}
    try:
        timeout = aiohttp.ClientTimeout(total=PROXY_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            async with http.get(url, headers=headers) as r:
                chunks, size = [], 0
                async for chunk in r.content.iter_chunked(1 << 16):
                    size += len(chunk)
                    if size > PROXY_MAX_BODY:
                        return web.json_response({"error": "answer too large"}, status=502)
                    chunks.append(chunk)
                body = b"".join(chunks)
                ctype = r.headers.get("Content-Type", "application/octet-stream")
                return web.Response(body=body, status=r.status, headers={"Content-Type": ctype, "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as e:
        return web.json_response({"error": f"comfyd-bridge: {e}"}, status=502)


def setup():
    """Called once when ComfyUI imports the package."""
    global SUPERVISOR
    if SUPERVISOR is not None:
        return SUPERVISOR
    SUPERVISOR = Supervisor()
    _register_route(SUPERVISOR)
    SUPERVISOR.start()
    atexit.register(SUPERVISOR.stop)
    return SUPERVISOR
