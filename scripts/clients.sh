#!/usr/bin/env bash
# Regenerates the client code in clients/ (Python, Go, TypeScript) from
# proto/ with buf.gen.yaml, installing the code generators first when they
# are missing:
#   scripts/clients.sh           regenerate in place (then commit the result)
#   scripts/clients.sh --check   generate into a temp dir and compare with
#                                clients/; exits 1 when the committed code is
#                                stale, so CI catches a contract change
#                                without regenerated clients
# Generation itself needs no network; installing the generators does (npm
# for tools/, the Go module proxy for the Go plugins). The Go plugins go to
# $COMFYD_TOOLS_BIN (default build/tools/bin).
set -euo pipefail
cd "$(dirname "$0")/.."
# The Node of tools/node when scripts/setup.sh installed it (protoc-gen-es
# needs Node >= 20).
if [ -x tools/node/bin/node ]; then export PATH="$PWD/tools/node/bin:$PATH"; fi
if [ -x tools/go/bin/go ]; then export PATH="$PWD/tools/go/bin:$PATH"; fi
repo=$(pwd)

# Generator versions. The output depends on them, so they are pinned:
# protoc and grpc_python_plugin come from Debian 12 (protobuf-compiler,
# protobuf-compiler-grpc), protoc-gen-es from tools/package-lock.json.
PROTOC_VERSION="3.21.12"
PROTOC_GEN_GO="google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12"
PROTOC_GEN_GO_GRPC="google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.1"

check=0
case "${1:-}" in
"") ;;
--check) check=1 ;;
*)
    echo "usage: $0 [--check]" >&2
    exit 2
    ;;
esac

die() {
    echo "clients.sh: $*" >&2
    exit 1
}

tools_bin=${COMFYD_TOOLS_BIN:-$repo/build/tools/bin}

# Debian's protoc and gRPC Python plugin: the Python output depends on
# protoc's version.
command -v protoc >/dev/null || die "protoc not found (apt-get install protobuf-compiler)"
command -v grpc_python_plugin >/dev/null ||
    die "grpc_python_plugin not found (apt-get install protobuf-compiler-grpc)"
have=$(protoc --version | awk '{print $2}')
[ "$have" = "$PROTOC_VERSION" ] ||
    die "protoc is $have; the committed Python code is generated with $PROTOC_VERSION (Debian 12)"

# buf and protoc-gen-es from tools/.
if [ ! -x tools/node_modules/.bin/buf ] || [ ! -x tools/node_modules/.bin/protoc-gen-es ]; then
    echo "clients.sh: installing tools/ (npm ci, as scripts/setup.sh does)"
    (cd tools && npm ci --no-audit --no-fund --loglevel=error)
fi

# protoc-gen-go and protoc-gen-go-grpc at the pinned versions.
go_tool() { # go_tool NAME MODULE@VERSION VERSION-AS-PRINTED
    local bin="$tools_bin/$1"
    if [ -x "$bin" ] && [ "$("$bin" --version 2>/dev/null | awk '{print $2}')" = "$3" ]; then
        return
    fi
    command -v go >/dev/null || die "go not found: needed to install $2"
    echo "clients.sh: installing $2 into $tools_bin"
    mkdir -p "$tools_bin"
    GOBIN="$tools_bin" go install "$2"
}
go_tool protoc-gen-go "$PROTOC_GEN_GO" "${PROTOC_GEN_GO##*@}"
go_tool protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC" "${PROTOC_GEN_GO_GRPC##*@v}"

export PATH="$tools_bin:$repo/tools/node_modules/.bin:$PATH"

# The generated files under ROOT, relative to it, one per line. Everything
# else in clients/ is written by hand.
generated() {
    (
        cd "$1"
        {
            [ -d clients/python/src ] && find clients/python/src -type f \
                \( -name '*_pb2.py' -o -name '*_pb2.pyi' -o -name '*_pb2_grpc.py' \)
            [ -d clients/go ] && find clients/go -type f -name '*.pb.go' -not -path '*/node_modules/*'
            [ -d clients/ts/src/gen ] && find clients/ts/src/gen -type f
        } | LC_ALL=C sort
    )
}

if [ "$check" = 0 ]; then
    generated "$repo" | while IFS= read -r f; do rm -f "$repo/$f"; done
    rm -rf clients/ts/src/gen
    buf generate
    echo "clients.sh: regenerated $(generated "$repo" | wc -l) files in clients/"
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
buf generate -o "$tmp"
stale=0
if ! diff <(generated "$tmp") <(generated "$repo") >"$tmp/files.diff"; then
    echo "clients.sh: the set of generated files differs (< fresh, > committed):"
    grep '^[<>]' "$tmp/files.diff"
    stale=1
fi
while IFS= read -r f; do
    [ -f "$repo/$f" ] || continue
    if ! cmp -s "$tmp/$f" "$repo/$f"; then
        echo "clients.sh: $f is stale:"
        diff -u "$repo/$f" "$tmp/$f" | head -20 || true
        stale=1
    fi
done < <(generated "$tmp")
if [ "$stale" = 1 ]; then
    echo "clients.sh: the committed clients do not match proto/; run scripts/clients.sh and commit clients/" >&2
    exit 1
fi
echo "clients.sh: clients/ is up to date with proto/ ($(generated "$tmp" | wc -l) generated files)"
