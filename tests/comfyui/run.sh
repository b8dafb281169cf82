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
#   tests/comfyui/run.sh BUILD_DIR --unbuilt       an unbuilt checkout: a copy
#       of the tracked files (no build/) is linked instead, without
#       COMFYD_BIN_DIR; the supervisor builds it in the background and the
#       panel connects afterwards without a ComfyUI restart (unbuilt.test.mjs;
#       a few minutes: the build is a real one). BUILD_DIR is not used.
#
# COMFYD_E2E_ONLY=REGEX runs only the tests whose names match (node's
# --test-name-pattern; the first two set up the page and the panel).
#
# Logs and screenshots: tests/artifacts/comfyui/. Everything started here is
# stopped on exit (trap), whatever happens.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:?usage: tests/comfyui/run.sh BUILD_DIR [--screenshots]}
build=$(cd "$build" && pwd)
shots=0
unbuilt=0
case "${2:-}" in
  "") ;;
  --screenshots) shots=1 ;;
  --unbuilt) unbuilt=1 ;;
  *) echo "usage: tests/comfyui/run.sh BUILD_DIR [--screenshots|--unbuilt]" >&2; exit 2 ;;
esac

COMFYUI_SRC=${COMFYUI_DIR:-$(cd "$repo/.." && pwd)/shared/vendor/ComfyUI}
# Bounds of every wait (seconds).
START_TIMEOUT_S=${COMFYD_COMFYUI_START_TIMEOUT_S:-240}
SUITE_TIMEOUT_S=${COMFYD_COMFYUI_SUITE_TIMEOUT_S:-900}
# The supervisor's build of the unbuilt copy (configure + comfyd and
# comfyd-bridge; about a minute on 2 idle cores).
BUILD_TIMEOUT_S=${COMFYD_COMFYUI_BUILD_TIMEOUT_S:-600}

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
if [ $unbuilt = 1 ]; then
  echo "(not used: --unbuilt)"
elif [ ! -x "$build/core/comfyd" ] || [ ! -x "$build/bridge/comfyd-bridge" ]; then
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
    # A build the supervisor started runs in its own process group (cmake,
    # ninja and the compilers with it): the group goes too.
    for k in $kids; do kill -TERM "$k" "-$k" 2>/dev/null; done
    sleep 0.5
    for k in $kids; do kill -KILL "$k" "-$k" 2>/dev/null; done
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
mkdir -p "$work/data"
checkout="$repo"
if [ $unbuilt = 1 ]; then
  # What a user gets from a clone: the tracked files as they are in this
  # worktree, no build/ (the committed web/dist/ is among them).
  checkout="$work/comfyd"
  mkdir -p "$checkout"
  git -C "$repo" ls-files -z | (cd "$repo" && tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$checkout"
  if [ -e "$checkout/build" ] || [ ! -f "$checkout/scripts/build.sh" ] || [ ! -f "$checkout/web/dist/main.js" ]; then
    echo "the unbuilt copy in $checkout is not what a clone gives" >&2
    exit 1
  fi
  echo "unbuilt copy: $checkout ($(git -C "$repo" ls-files | wc -l) files)"
  # A gate in front of ninja: the build (cmake's configure runs at once)
  # compiles only once the test has seen the panel say "building", so a fast
  # machine cannot finish before the page looks. Everything else is real.
  mkdir -p "$work/bin"
  real_ninja=$(command -v ninja)
  cat >"$work/bin/ninja" <<GATE
#!/bin/sh
# Waits (at most ${BUILD_TIMEOUT_S} s) for the test to open the gate.
i=0
while [ ! -e "$work/gate" ] && [ -d "$work" ] && [ \$i -lt $((BUILD_TIMEOUT_S * 5)) ]; do sleep 0.2; i=\$((i + 1)); done
[ -e "$work/gate" ] || exit 1
exec "$real_ninja" "\$@"
GATE
  chmod +x "$work/bin/ninja"
fi
ln -s "$checkout" "$work/ComfyUI/custom_nodes/comfyd"
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

if [ $unbuilt = 1 ]; then
  # Nothing points at built binaries: the supervisor finds none (its PATH
  # has no comfyd) and builds the copy.
  unset COMFYD_BIN_DIR
  export PATH="$work/bin:$PATH"
  if command -v comfyd >/dev/null || command -v comfyd-bridge >/dev/null; then
    echo "comfyd or comfyd-bridge is on PATH: the unbuilt case cannot be tested here" >&2
    exit 1
  fi
else
  export COMFYD_BIN_DIR="$build"
fi
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
# Ready: the route answers 200, or (unbuilt) 503 while the supervisor builds.
ready_codes=200
[ $unbuilt = 1 ] && ready_codes="200 503"
answered() {
  local code
  code=$(curl -sS -o "$work/connection.json" -w '%{http_code}' "http://127.0.0.1:$port/api/comfyd/connection" 2>/dev/null) || return 1
  [[ " $ready_codes " == *" $code "* ]]
}
until answered; do
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
tests="$here/e2e.test.mjs"
[ $unbuilt = 1 ] && tests="$here/unbuilt.test.mjs"
COMFYD_E2E_CHECKOUT="$checkout" COMFYD_E2E_GATE="$work/gate" COMFYD_E2E_BUILD_TIMEOUT_S="$BUILD_TIMEOUT_S" \
  COMFYUI_URL="http://127.0.0.1:$port" COMFYUI_PID="$comfy_pid" COMFYD_E2E_DATA="$work/data" \
  COMFYD_E2E_ARTIFACTS="$artifacts" COMFYD_E2E_SCREENSHOTS="$shots" COMFYD_E2E_DOCS="$repo/docs/images" \
  timeout --kill-after=10 "$SUITE_TIMEOUT_S" node --test --test-concurrency=1 \
  ${COMFYD_E2E_ONLY:+"--test-name-pattern=$COMFYD_E2E_ONLY"} "$tests"
