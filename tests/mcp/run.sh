#!/bin/sh
# Runs the MCP tests against the binaries of a build dir: real comfyd,
# comfyd-bridge and comfyd-mcp with headless editors on a real LiteGraph
# (tests/graph/editor.mjs), driven by the official MCP SDKs: TypeScript
# (@modelcontextprotocol/sdk, package-lock.json here) and Python (mcp, in a
# virtual environment made in BUILD_DIR/mcp-venv from requirements.txt).
#   tests/mcp/run.sh BUILD_DIR [node --test args, or test files]
# Needs node (>= 18) with npm and python3 (>= 3.10) with venv. Exits
# non-zero on any failure.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [node --test args...]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)
graph="$here/../graph"

command -v node >/dev/null || { echo "run.sh: node not found" >&2; exit 2; }
command -v python3 >/dev/null || { echo "run.sh: python3 not found" >&2; exit 2; }

COMFYD_BIN="$build/core/comfyd"
COMFYD_BRIDGE_BIN="$build/bridge/comfyd-bridge"
COMFYD_MCP_BIN="$build/bridge/comfyd-mcp"
for b in "$COMFYD_BIN" "$COMFYD_BRIDGE_BIN" "$COMFYD_MCP_BIN"; do
    [ -x "$b" ] || { echo "run.sh: $b not built" >&2; exit 2; }
done
export COMFYD_BIN COMFYD_BRIDGE_BIN COMFYD_MCP_BIN

if [ ! -f "$graph/node_modules/@comfyorg/litegraph/package.json" ] || [ ! -f "$graph/node_modules/ws/package.json" ]; then
    (cd "$graph" && npm ci --no-audit --no-fund --loglevel=error)
fi
if [ ! -f "$here/node_modules/@modelcontextprotocol/sdk/package.json" ]; then
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
# The Python SDK in a venv of the build dir (reinstalled when the pinned
# requirements change).
venv="$build/mcp-venv"
# Built on Debian's interpreter (python3-venv), whatever python3 is first
# on PATH, so the run is the same as on a fresh Debian.
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$here/python/requirements.txt" "$venv/requirements.txt" ||
    ! grep -qx 'home = /usr/bin' "$venv/pyvenv.cfg"; then
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/python/requirements.txt"
    cp "$here/python/requirements.txt" "$venv/requirements.txt"
fi
COMFYD_MCP_PYTHON="$venv/bin/python"
export COMFYD_MCP_PYTHON

cd "$here"
files=test/
for a in "$@"; do
    case "$a" in -*) ;; *) files= ;; esac
done
# One file at a time: each starts its own services.
exec node --test --test-concurrency=1 "$@" $files
