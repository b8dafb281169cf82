#!/usr/bin/env bash
# Installs what comfyd needs on Debian 12: build tools and libraries from
# Debian's packages, and buf (the protobuf linter) from npm into tools/.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config git curl ca-certificates
  # the contract and the gRPC C core
  libgrpc-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler protobuf-compiler-grpc
  # core: storage, skills, providers
  libsqlite3-dev sqlite3 libyaml-dev libyajl-dev libcurl4-openssl-dev
  # bridge: event loop, HTTP/1.1, HTTP/2, WebSocket, hashes
  libuv1-dev node-llhttp libnghttp2-dev libwslay-dev libssl-dev
  # tests
  libcmocka-dev valgrind clang-format python3 python3-grpcio python3-protobuf python3-pytest
  python3-websockets python3-h2 nghttp2-client nodejs npm
)

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

# Node is only needed for tools and tests; a machine that already has a newer
# Node keeps it (the dpkg check above accepts Debian's as well).
if [ ! -x tools/node_modules/.bin/buf ]; then
  echo "setup: installing buf into tools/"
  (cd tools && npm install --no-audit --no-fund --loglevel=error)
fi
echo "setup: ok"
