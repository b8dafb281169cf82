#!/bin/sh
# Runs the agent scenarios against the binaries of a build dir: real comfyd
# (with --object-info tests/fixtures/object_info.json) and comfyd-bridge, a
# scripted OpenAI-compatible model server (fake_llm.py over
# tests/llm/fake_openai.py) and a headless editor on a real LiteGraph
# (tests/graph/editor.mjs).
#   tests/agent/run.sh BUILD_DIR [node --test args, or test files]
# Needs node (>= 18) with npm, python3 and valgrind (the cancel scenario
# runs comfyd under it once). Installs the graph tests' Node packages when
# they are missing. Exits non-zero on any failure.
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
[ -x /usr/bin/python3 ] || { echo "run.sh: /usr/bin/python3 not found" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "run.sh: valgrind not found" >&2; exit 2; }

COMFYD_BIN="$build/core/comfyd"
COMFYD_BRIDGE_BIN="$build/bridge/comfyd-bridge"
for b in "$COMFYD_BIN" "$COMFYD_BRIDGE_BIN"; do
    [ -x "$b" ] || { echo "run.sh: $b not built" >&2; exit 2; }
done
export COMFYD_BIN COMFYD_BRIDGE_BIN
# comfyd under valgrind starts slowly.
export COMFYD_IT_START_GUARD_MS="${COMFYD_IT_START_GUARD_MS:-180000}"

if [ ! -f "$graph/node_modules/@comfyorg/litegraph/package.json" ] || [ ! -f "$graph/node_modules/ws/package.json" ]; then
    (cd "$graph" && npm ci --no-audit --no-fund --loglevel=error)
fi

cd "$here"
files=test/
for a in "$@"; do
    case "$a" in -*) ;; *) files= ;; esac
done
# One file at a time: each starts its own services, and the cancel timing
# should not compete for the two cores.
exec node --test --test-concurrency=1 "$@" $files
