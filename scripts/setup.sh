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
  # runs: output images downscaled for models and MCP clients
  libpng-dev
  # bridge: event loop, HTTP/1.1, HTTP/2, WebSocket, hashes
  libuv1-dev node-llhttp libnghttp2-dev libwslay-dev libssl-dev
  # tests
  libcmocka-dev valgrind clang libclang-rt-14-dev clang-format python3 python3-grpcio python3-protobuf python3-pytest
  python3-websockets python3-h2 nghttp2-client
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

if [ ! -x tools/node_modules/.bin/buf ]; then
  echo "setup: installing buf into tools/"
  (cd tools && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "setup: ok"
