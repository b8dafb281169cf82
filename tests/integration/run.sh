#!/bin/sh
# Runs the comfyd integration tests against the binaries of a build dir.
#   tests/integration/run.sh BUILD_DIR [pytest args...]
# Needs Debian's python3 with python3-grpcio, python3-protobuf and
# python3-pytest, plus protoc and grpc_python_plugin. Exits non-zero on any
# failure.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [pytest args...]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)

# Debian's interpreter, not whatever python3 comes first on PATH: the
# gRPC and protobuf modules are Debian packages.
py=/usr/bin/python3
for mod in grpc google.protobuf pytest; do
    if ! "$py" -c "import $mod" 2>/dev/null; then
        echo "run.sh: $py cannot import $mod (apt-get install python3-grpcio python3-protobuf python3-pytest)" >&2
        exit 2
    fi
done
for tool in protoc grpc_python_plugin; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool not found" >&2; exit 2; }
done

COMFYD_BIN="$build/core/comfyd"
if [ ! -x "$COMFYD_BIN" ]; then
    echo "run.sh: $COMFYD_BIN not built" >&2
    exit 2
fi
export COMFYD_BIN
# Stubs are generated fresh from proto/ into the build dir.
COMFYD_IT_STUBS="$build/integration-py"
rm -rf "$COMFYD_IT_STUBS"
export COMFYD_IT_STUBS
export PYTHONDONTWRITEBYTECODE=1

cd "$here"
exec "$py" -m pytest -q -p no:cacheprovider "$@"
