#!/usr/bin/env bash
# Runs the example of every client package in clients/ (Python, Go,
# TypeScript) against a live comfyd, then checks that the committed
# generated code matches proto/.
#   tests/clients/run.sh BUILD_DIR
# Installs into BUILD_DIR/clients: a Python venv with the package
# (clients/python/constraints.txt), the Go example binary, and the
# TypeScript package (npm ci + tsc). Needs python3 with venv, go, node and
# npm, and the registries for the first install. Each example runs once
# over TCP and once over the unix socket; it must exit 0 and print both
# skills' streamed replies. Exits non-zero on any failure.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
repo=$(cd "$(dirname "$0")/../.." && pwd)
work="$build/clients"
comfyd="$build/core/comfyd"
[ -x "$comfyd" ] || {
    echo "run.sh: $comfyd not built" >&2
    exit 2
}
for tool in python3 go node npm; do
    command -v "$tool" >/dev/null || {
        echo "run.sh: $tool not found" >&2
        exit 2
    }
done
# Hang guards, not performance limits.
EXAMPLE_TIMEOUT_S=180
START_GUARD_S=30

step() { printf '\n==> [%ds] %s\n' "$SECONDS" "$*"; }
mkdir -p "$work"

step "python: venv and comfyd-client"
# The package is built from a copy: an in-tree build writes into src/.
rm -rf "$work/python-src"
mkdir -p "$work/python-src"
cp -r "$repo/clients/python/pyproject.toml" "$repo/clients/python/README.md" "$repo/clients/python/src" \
    "$work/python-src/"
find "$work/python-src" -name __pycache__ -prune -exec rm -rf {} +
# Built on Debian's interpreter (python3-venv), whatever python3 is first
# on PATH, so the run is the same as on a fresh Debian.
grep -qx 'home = /usr/bin' "$work/venv/pyvenv.cfg" 2>/dev/null || rm -rf "$work/venv"
[ -x "$work/venv/bin/python" ] || /usr/bin/python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check \
    -c "$repo/clients/python/constraints.txt" "$work/python-src"
"$work/venv/bin/python" -c 'import grpc, google.protobuf; print("grpcio", grpc.__version__, "protobuf", google.protobuf.__version__)'

step "go: build the example"
(cd "$repo/clients/go" && GOFLAGS="${GOFLAGS:-} -mod=readonly" go vet ./... &&
    GOFLAGS="${GOFLAGS:-} -mod=readonly" go build -o "$work/go-quickstart" ./examples/quickstart)
go version

step "ts: npm ci and tsc"
# Built from a copy as well, so node_modules and dist stay out of clients/.
rm -rf "$work/ts/src" "$work/ts/examples" "$work/ts/dist"
mkdir -p "$work/ts/examples"
cp -r "$repo/clients/ts/package.json" "$repo/clients/ts/package-lock.json" "$repo/clients/ts/tsconfig.json" \
    "$repo/clients/ts/src" "$work/ts/"
cp "$repo/clients/ts/examples/"*.ts "$repo/clients/ts/examples/tsconfig.json" "$work/ts/examples/"
if ! cmp -s "$work/ts/package-lock.json" "$work/ts/node_modules/.package-lock.json.src" 2>/dev/null; then
    (cd "$work/ts" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$work/ts/package-lock.json" "$work/ts/node_modules/.package-lock.json.src"
fi
(cd "$work/ts" && npm run --silent build)
node --version

step "start comfyd"
root=$(mktemp -d /tmp/cfc-XXXXXX)
pid=""
stop_comfyd() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
}
trap 'stop_comfyd; rm -rf "$root"' EXIT
port=$("$work/venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
tcp="127.0.0.1:$port"
unix="unix:$root/c.sock"
: >"$root/comfyd.log"
"$comfyd" --data "$root/data" --listen "$unix" --listen "$tcp" --echo-delay-ms 5 >"$root/comfyd.log" 2>&1 &
pid=$!
for _ in $(seq 1 $((START_GUARD_S * 10))); do
    grep -q "comfyd: ready" "$root/comfyd.log" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if ! grep -q "comfyd: ready" "$root/comfyd.log"; then
    echo "run.sh: comfyd did not start:" >&2
    cat "$root/comfyd.log" >&2
    exit 1
fi
echo "comfyd $pid on $tcp and $unix"

passed=0
failed=0
built=0
skipped=0
run_example() { # run_example NAME TARGET COMMAND...
    local name=$1 target=$2 log="$work/$1.log"
    shift 2
    step "example: $name"
    local rc=0
    (cd "$work" && timeout "$EXAMPLE_TIMEOUT_S" "$@" "$target") >"$log" 2>&1 || rc=$?
    cat "$log"
    local why=""
    if [ "$rc" != 0 ]; then
        why="exit code $rc"
    else
        for skill in workflow-builder prompt-writer; do
            grep -q "^delta \[$skill\] " "$log" || why="no streamed delta of $skill"
            grep -q "^reply from $skill ([1-9][0-9]* deltas): " "$log" || why="no reply from $skill"
        done
        if grep -qx "graph built" "$log"; then
            built=$((built + 1))
        elif grep -q "^graph: this comfyd has no GraphService; skipped$" "$log"; then
            skipped=$((skipped + 1))
        else
            why="the graph part neither ran nor was skipped"
        fi
    fi
    if [ -z "$why" ]; then
        echo "PASS $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name: $why"
        failed=$((failed + 1))
    fi
}
run_example python-tcp "$tcp" "$work/venv/bin/python" "$repo/clients/python/examples/quickstart.py"
run_example python-unix "$unix" "$work/venv/bin/python" "$repo/clients/python/examples/quickstart.py"
run_example go-tcp "$tcp" "$work/go-quickstart"
run_example go-unix "$unix" "$work/go-quickstart"
run_example ts-tcp "$tcp" node "$work/ts/examples/dist/quickstart.js"
run_example ts-unix "$unix" node "$work/ts/examples/dist/quickstart.js"
if [ "$built" != 0 ] && [ "$skipped" != 0 ]; then
    echo "FAIL graph: built by $built runs but skipped by $skipped against the same comfyd"
    failed=$((failed + 1))
fi
echo "graph part: built $built, skipped $skipped"

step "stop comfyd"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
if [ "$rc" = 0 ]; then
    echo "PASS comfyd exited 0"
    passed=$((passed + 1))
else
    echo "FAIL comfyd exited $rc:"
    tail -30 "$root/comfyd.log"
    failed=$((failed + 1))
fi

step "generated code is up to date"
if COMFYD_TOOLS_BIN="$build/tools/bin" "$repo/scripts/clients.sh" --check; then
    echo "PASS clients.sh --check"
    passed=$((passed + 1))
else
    echo "FAIL clients.sh --check"
    failed=$((failed + 1))
fi

echo
echo "clients: $passed passed, $failed failed"
[ "$failed" = 0 ]
