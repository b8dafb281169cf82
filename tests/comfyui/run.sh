#!/usr/bin/env bash
# End-to-end tests in the real ComfyUI server (../shared/vendor/ComfyUI, run
# from a cached venv that scripts/comfyui-venv.sh builds): a copy of ComfyUI
# in a temporary folder with this checkout linked into its custom_nodes/,
# started with --cpu on a free port. ComfyUI imports the package, whose
# supervisor starts comfyd and comfyd-bridge of BUILD_DIR on a temporary data
# folder and a free bridge port. Debian's Chromium (playwright-core) opens the
# page; node's test runner runs e2e.test.mjs.
#
#   tests/comfyui/run.sh BUILD_DIR                 the suite
#   tests/comfyui/run.sh BUILD_DIR --screenshots   also retakes the README's
#                                                  pictures (docs/images/)
#
# Logs and screenshots: tests/artifacts/comfyui/. Everything started here is
# stopped on exit (trap), whatever happens.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:?usage: tests/comfyui/run.sh BUILD_DIR [--screenshots]}
build=$(cd "$build" && pwd)
shots=0
[ "${2:-}" = "--screenshots" ] && shots=1

COMFYUI_SRC=${COMFYUI_DIR:-$(cd "$repo/.." && pwd)/shared/vendor/ComfyUI}
# Bounds of every wait (seconds).
START_TIMEOUT_S=${COMFYD_COMFYUI_START_TIMEOUT_S:-240}
SUITE_TIMEOUT_S=${COMFYD_COMFYUI_SUITE_TIMEOUT_S:-900}

step() { printf '\n== %s\n' "$*"; }

step "ComfyUI venv (scripts/comfyui-venv.sh; the first build takes minutes)"
venv=$("$repo/scripts/comfyui-venv.sh")
echo "$venv"

step "npm packages"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

step "Chromium"
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "tests/comfyui: /usr/bin/chromium is missing; install Debian's chromium (apt-get install chromium)" >&2
  exit 1
fi

step "comfyd and comfyd-bridge in $build"
if [ ! -x "$build/core/comfyd" ] || [ ! -x "$build/bridge/comfyd-bridge" ]; then
  cmake --build "$build" --target comfyd comfyd-bridge
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/comfyd-comfyui-XXXXXX")
artifacts="$repo/tests/artifacts/comfyui"
mkdir -p "$artifacts"
comfy_pid=""

# Stops ComfyUI and what its supervisor started (the children get SIGTERM
# with their parent too, PR_SET_PDEATHSIG), then removes the copy.
cleanup() {
  local rc=$?
  set +e
  if [ -n "$comfy_pid" ] && kill -0 "$comfy_pid" 2>/dev/null; then
    kids=$(ps -o pid= --ppid "$comfy_pid" 2>/dev/null)
    kill -TERM "$comfy_pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$comfy_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$comfy_pid" 2>/dev/null
    for k in $kids; do kill -TERM "$k" 2>/dev/null; done
    sleep 0.5
    for k in $kids; do kill -KILL "$k" 2>/dev/null; done
  fi
  cp "$work"/data/*.log "$work/comfyui.log" "$artifacts/" 2>/dev/null
  if [ "${COMFYD_E2E_KEEP:-0}" != 1 ]; then rm -rf "$work"; else echo "kept $work"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "ComfyUI copy in $work"
cp -a "$COMFYUI_SRC" "$work/ComfyUI"
chmod -R u+w "$work/ComfyUI"
mkdir -p "$work/ComfyUI/custom_nodes"
ln -s "$repo" "$work/ComfyUI/custom_nodes/comfyd"
mkdir -p "$work/data"
if [ $shots = 1 ]; then
  # The pictures show a txt2img workflow: an empty placeholder file gives
  # the checkpoint loader a name to show (nothing runs it).
  mkdir -p "$work/ComfyUI/models/checkpoints"
  : >"$work/ComfyUI/models/checkpoints/sd_xl_base_1.0.safetensors"
fi

free_port() { "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
bridge_port=$(free_port)
while [ "$bridge_port" = "$port" ]; do bridge_port=$(free_port); done

export COMFYD_BIN_DIR="$build"
export COMFYD_DATA="$work/data"
export COMFYD_BRIDGE_URL="http://127.0.0.1:$bridge_port"
# The core only on its unix socket: other suites may hold its TCP port.
export COMFYD_LISTEN="unix:$work/data/comfyd.sock"
export COMFYD_ECHO_DELAY_MS=20
export COMFYD_LOG_LEVEL=debug

step "ComfyUI on 127.0.0.1:$port (bridge on $bridge_port)"
(cd "$work/ComfyUI" && exec "$venv/bin/python" main.py --cpu --listen 127.0.0.1 --port "$port" \
  --disable-auto-launch >"$work/comfyui.log" 2>&1) &
comfy_pid=$!
end=$((SECONDS + START_TIMEOUT_S))
until curl -fsS "http://127.0.0.1:$port/api/comfyd/connection" -o "$work/connection.json" 2>/dev/null; do
  if ! kill -0 "$comfy_pid" 2>/dev/null; then
    echo "ComfyUI exited:" >&2
    tail -50 "$work/comfyui.log" >&2
    exit 1
  fi
  if [ $SECONDS -ge $end ]; then
    echo "ComfyUI or the comfyd supervisor did not get ready within ${START_TIMEOUT_S} s:" >&2
    tail -50 "$work/comfyui.log" >&2
    cat "$work/connection.json" 2>/dev/null >&2
    exit 1
  fi
  sleep 1
done
echo "ready: $(cat "$work/connection.json" | head -c 300)"

step "end-to-end tests (node --test, Chromium)"
COMFYUI_URL="http://127.0.0.1:$port" COMFYUI_PID="$comfy_pid" COMFYD_E2E_DATA="$work/data" \
  COMFYD_E2E_ARTIFACTS="$artifacts" COMFYD_E2E_SCREENSHOTS="$shots" COMFYD_E2E_DOCS="$repo/docs/images" \
  timeout --kill-after=10 "$SUITE_TIMEOUT_S" node --test --test-concurrency=1 "$here/e2e.test.mjs"
