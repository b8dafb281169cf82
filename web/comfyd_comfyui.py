"""comfyd inside ComfyUI: the agent panel node and the process supervisor.

There is no business logic here. The panel node is an empty shell whose body
the browser extension (dist/main.js) fills; the supervisor finds or starts
``comfyd`` and ``comfyd-bridge`` when ComfyUI starts, stops the ones it
started when ComfyUI stops, and answers ``GET /comfyd/connection`` (also
``/api/comfyd/connection``) with the bridge's URL and token, so the page can
open its WebSockets to the bridge.

Configuration (environment):
  COMFYD_BIN_DIR        folder with comfyd and comfyd-bridge, or a CMake
                        build tree (else the checkout's build/, else PATH)
  COMFYD_DATA           data folder of both (default: the checkout's var/)
  COMFYD_BRIDGE_URL     bridge address (default http://127.0.0.1:8189)
  COMFYD_ALLOW_ORIGIN   extra origins the bridge accepts, comma-separated
                        (ComfyUI's own origins are added from its --listen
                        and --port)
  COMFYD_NO_START=1     only use comfyd and a bridge that already run
"""

import atexit
import http.client
import json
import logging
import os
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


class Supervisor:
    def __init__(self, env=None):
        self.env = dict(os.environ if env is None else env)
        self.lock = threading.Lock()
        self.state = "starting"  # starting | ready | error
        self.error = ""
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
            self.state, self.error = "error", msg
        LOG.error("comfyd: %s", msg)
        self.ready.set()

    def info(self):
        with self.lock:
            out = {"status": self.state, "bridge_url": self.url}
            if self.state == "ready":
                out["token"] = self.token
            if self.error:
                out["error"] = self.error
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
            raise RuntimeError("comfyd not found: build it (cmake, ninja) or set COMFYD_BIN_DIR")
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
                raise RuntimeError("comfyd-bridge not found: build it (cmake, ninja) or set COMFYD_BIN_DIR")
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

    def _bring_up(self):
        # A port held by something else is a configuration error: say so
        # before starting anything.
        if bridge_health(self.host, self.port, read_token(self.token_file)) == "other":
            raise RuntimeError(f"{self.host}:{self.port} is taken by something that is not comfyd-bridge")
        self._ensure_core()
        self._ensure_bridge()
        with self.lock:
            self.state, self.error = "ready", ""
        self.ready.set()
        LOG.info("comfyd: bridge ready at %s", self.url)

    def run(self):
        """The supervisor thread: brings both up, then restarts a child of
        ours that died (the page reconnects by itself)."""
        try:
            self._bring_up()
        except Exception as e:
            self._fail(str(e))
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
        """Stops the children this supervisor started (bridge first)."""
        self.stopping = True
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
