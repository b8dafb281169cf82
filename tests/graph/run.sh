#!/bin/sh
# Runs the live-graph integration tests against the binaries of a build dir:
# real comfyd and comfyd-bridge processes driven by curl (HTTP/1.1 and h2c),
# WebSocket clients, raw sockets and a headless editor on a real LiteGraph.
#   tests/graph/run.sh BUILD_DIR [node --test args: --test-name-pattern=queue,
#                                 or test files such as test/live.test.mjs]
# Needs node (>= 18) with npm, curl with HTTP/2 and /usr/bin/python3 with
# python3-h2, python3-grpcio and python3-protobuf (the generated Python
# client of clients/python as a gRPC caller). Installs the Node packages
# from package-lock.json when they
# are missing. Exits non-zero on any failure.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [node --test args...]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)

command -v node >/dev/null || { echo "run.sh: node not found (apt-get install nodejs npm)" >&2; exit 2; }
command -v curl >/dev/null || { echo "run.sh: curl not found" >&2; exit 2; }
curl --version | grep -q HTTP2 || { echo "run.sh: curl lacks HTTP/2" >&2; exit 2; }
/usr/bin/python3 -c 'import h2' 2>/dev/null || { echo "run.sh: python3-h2 missing (apt-get install python3-h2)" >&2; exit 2; }
/usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null || { echo "run.sh: python3-grpcio or python3-protobuf missing (apt-get install python3-grpcio python3-protobuf)" >&2; exit 2; }

COMFYD_BIN="$build/core/comfyd"
COMFYD_BRIDGE_BIN="$build/bridge/comfyd-bridge"
for b in "$COMFYD_BIN" "$COMFYD_BRIDGE_BIN"; do
    [ -x "$b" ] || { echo "run.sh: $b not built" >&2; exit 2; }
done
export COMFYD_BIN COMFYD_BRIDGE_BIN

if [ ! -f "$here/node_modules/@comfyorg/litegraph/package.json" ] || [ ! -f "$here/node_modules/ws/package.json" ]; then
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

cd "$here"
# Test files named on the command line replace the whole test/ folder.
files=test/
for a in "$@"; do
    case "$a" in -*) ;; *) files= ;; esac
done
# One file at a time: each starts its own services, and the timing-driven
# cases (timeouts, slowloris) should not compete for the two cores.
exec node --test --test-concurrency=1 "$@" $files
