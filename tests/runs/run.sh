#!/bin/sh
# Runs against the real ComfyUI server (../shared/vendor/ComfyUI, or
# COMFYUI_DIR): comfyd with --comfyui, comfyd-bridge and a headless editor
# (tests/graph/editor.mjs) as the tab. The ComfyUI venv comes from
# scripts/comfyui-venv.sh (cached outside the checkout; the first build
# takes minutes).
#   tests/runs/run.sh BUILD_DIR [node --test args, or test files]
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [node --test args...]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
graph="$repo/tests/graph"

command -v node >/dev/null || { echo "run.sh: node not found" >&2; exit 2; }
COMFYD_BIN="$build/core/comfyd"
COMFYD_BRIDGE_BIN="$build/bridge/comfyd-bridge"
for b in "$COMFYD_BIN" "$COMFYD_BRIDGE_BIN"; do
    [ -x "$b" ] || { echo "run.sh: $b not built" >&2; exit 2; }
done
export COMFYD_BIN COMFYD_BRIDGE_BIN

if [ ! -f "$graph/node_modules/@comfyorg/litegraph/package.json" ] || [ ! -f "$graph/node_modules/ws/package.json" ]; then
    (cd "$graph" && npm ci --no-audit --no-fund --loglevel=error)
fi
venv=$("$repo/scripts/comfyui-venv.sh")
COMFYUI_PYTHON="$venv/bin/python"
export COMFYUI_PYTHON

if [ $# -eq 0 ]; then
    set -- "$here"/test/*.test.mjs
fi
cd "$here"
exec node --test --test-concurrency=1 "$@"
