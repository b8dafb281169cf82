#!/bin/sh
# Live graph control benchmark against the binaries of a build dir.
#   bench/graph/run.sh BUILD_DIR [bench.mjs args, e.g. --commands 500]
# Uses the headless editor and the Node packages of tests/graph (installed
# from its package-lock.json when missing). Prints a table; a report, never
# a pass/fail on speed.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [bench args...]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)
tests="$here/../../tests/graph"

command -v node >/dev/null || { echo "run.sh: node not found" >&2; exit 2; }
COMFYD_BIN="$build/core/comfyd"
COMFYD_BRIDGE_BIN="$build/bridge/comfyd-bridge"
for b in "$COMFYD_BIN" "$COMFYD_BRIDGE_BIN"; do
    [ -x "$b" ] || { echo "run.sh: $b not built" >&2; exit 2; }
done
export COMFYD_BIN COMFYD_BRIDGE_BIN

if [ ! -f "$tests/node_modules/@comfyorg/litegraph/package.json" ] || [ ! -f "$tests/node_modules/ws/package.json" ]; then
    (cd "$tests" && npm ci --no-audit --no-fund --loglevel=error)
fi

exec node "$here/bench.mjs" "$@"
