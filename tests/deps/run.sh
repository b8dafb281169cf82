#!/usr/bin/env bash
# Tests of scripts/check-deps.sh itself: it passes with the real
# scripts/setup.sh, and fails naming the package when one that the build or
# the tests need is removed from a copy of setup.sh.
#   tests/deps/run.sh [BUILD_DIR]   (default build/; its fuzz/ output is used
#                                    when fuzz/run.sh has run)
# Exits non-zero on any failure.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$repo/build}" && pwd)
check="$repo/scripts/check-deps.sh"
tmp=$(mktemp -d /tmp/comfyd-deps-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { printf 'ok   %s\n' "$*"; }
bad() { printf 'FAIL %s\n' "$*"; fail=1; }

args=(--build "$build")
[ -d "$build/fuzz" ] && ls "$build"/fuzz/*.inputs >/dev/null 2>&1 && args+=(--fuzz "$build/fuzz")

# A copy of setup.sh without PACKAGE (as a whole word).
without() { sed -E "s/(^|[[:space:]])$1([[:space:]]|\$)/\\1\\2/" "$repo/scripts/setup.sh" >"$tmp/setup-no-$1.sh"; }

# expect_fail NAME PACKAGE ARGS...: the check exits 1 and names PACKAGE.
expect_fail() {
  local name=$1 pkg=$2; shift 2
  without "$pkg"
  if grep -qw -- "$pkg" "$tmp/setup-no-$pkg.sh"; then bad "$name: could not remove $pkg"; return; fi
  if "$check" --setup "$tmp/setup-no-$pkg.sh" "$@" >"$tmp/out" 2>&1; then
    bad "$name: passed without $pkg"; cat "$tmp/out"
  elif grep -q "FAIL $pkg: not in setup.sh" "$tmp/out"; then
    ok "$name: fails naming $pkg"
  else
    bad "$name: failed without naming $pkg"; cat "$tmp/out"
  fi
}

if "$check" "${args[@]}" --no-node >"$tmp/out" 2>&1; then
  ok "the real setup.sh passes ($(tail -1 "$tmp/out"))"
else
  bad "the real setup.sh fails"; cat "$tmp/out"
fi

# The build: wrappers.proto (a build command input) and the headers.
expect_fail "build without libprotobuf-dev" libprotobuf-dev "${args[@]}" --no-node
expect_fail "build without libyajl-dev" libyajl-dev "${args[@]}" --no-node
# The fuzz build links the clang runtime (libclang_rt.fuzzer-x86_64.a).
if [[ " ${args[*]} " == *" --fuzz "* ]]; then
  expect_fail "fuzz build without libclang-rt-14-dev" libclang-rt-14-dev "${args[@]}" --no-node
else
  bad "no fuzz build in $build/fuzz (run fuzz/run.sh $build first)"
fi

# Python: modules recorded by the import hook of a real interpreter run.
mkdir -p "$tmp/pylog"
COMFYD_DEPS_PYLOG="$tmp/pylog" PYTHONPATH="$repo/scripts/deps/pyhook" \
  /usr/bin/python3 -c 'import grpc, google.protobuf'
if "$check" --build "$build" --no-node --python-log "$tmp/pylog" >"$tmp/out" 2>&1; then
  ok "python imports pass with the real setup.sh"
else
  bad "python imports fail with the real setup.sh"; cat "$tmp/out"
fi
# Debian's interpreter started as argv[0] "python3" (execl) while another
# python3 is first on PATH (a pyenv shim): Python's sys.executable names that
# one; the check must judge the binary that ran.
# (The stand-in lives outside /tmp, which the check skips as test scratch.)
shim=$(mktemp -d /var/tmp/comfyd-deps-shim-XXXXXX)
mkdir -p "$tmp/pylog-argv0"
printf '#!/bin/sh\nexit 1\n' >"$shim/python3"
chmod +x "$shim/python3"
PATH="$shim:$PATH" COMFYD_DEPS_PYLOG="$tmp/pylog-argv0" PYTHONPATH="$repo/scripts/deps/pyhook" \
  bash -c 'exec -a python3 /usr/bin/python3 -c "import grpc"'
if "$check" --build "$build" --no-node --python-log "$tmp/pylog-argv0" >"$tmp/out" 2>&1; then
  ok "python: Debian's interpreter started as plain python3 passes whatever PATH says"
else
  bad "python: the interpreter is judged by sys.executable, not the binary that ran"; cat "$tmp/out"
fi
rm -rf "$shim"
expect_fail "python without python3-grpcio" python3-grpcio --build "$build" --no-node --python-log "$tmp/pylog"

# Python from a venv: a distribution no requirements file names fails; named
# in the checkout's requirements file it passes. (A venv made by hand: the
# check reads pyvenv.cfg and the dist-info records, as pip leaves them.)
site="$tmp/venv/lib/python3.11/site-packages"
mkdir -p "$site/strayx" "$site/strayx-1.0.dist-info" "$tmp/pylog-venv" "$tmp/pyrepo"
printf 'home = /usr/bin\n' >"$tmp/venv/pyvenv.cfg"
: >"$site/strayx/__init__.py"
printf 'Metadata-Version: 2.1\nName: strayx\nVersion: 1.0\n' >"$site/strayx-1.0.dist-info/METADATA"
printf 'strayx/__init__.py,,\n' >"$site/strayx-1.0.dist-info/RECORD"
printf '%s\t%s\n' "$site/strayx/__init__.py" "$tmp/venv/bin/python" >"$tmp/pylog-venv/1.log"
git -C "$tmp/pyrepo" init -q
echo "# nothing" >"$tmp/pyrepo/requirements.txt"
git -C "$tmp/pyrepo" add -A
if "$check" --repo "$tmp/pyrepo" --build "$build" --no-node --python-log "$tmp/pylog-venv" >"$tmp/out" 2>&1; then
  bad "python: a venv distribution named by no requirements file passed"
elif grep -q "distribution strayx in $tmp/venv is named by no requirements file" "$tmp/out"; then
  ok "python: a venv distribution named by no requirements file fails"
else
  bad "python: stray venv distribution not reported"; cat "$tmp/out"
fi
echo "strayx==1.0" >"$tmp/pyrepo/requirements.txt"
if "$check" --repo "$tmp/pyrepo" --build "$build" --no-node --python-log "$tmp/pylog-venv" >"$tmp/out" 2>&1; then
  ok "python: the same distribution named in requirements.txt passes"
else
  bad "python: a required venv distribution fails"; cat "$tmp/out"
fi

# Node: a checkout whose script imports a package its package.json lacks,
# and one whose script rewrites the lockfile.
mkdir -p "$tmp/repo/app"
git -C "$tmp/repo" init -q
echo '{"name":"app","private":true,"devDependencies":{"ws":"8.0.0"}}' >"$tmp/repo/app/package.json"
echo '{"name":"app","lockfileVersion":3,"packages":{"":{},"node_modules/ws":{"version":"8.0.0"}}}' \
  >"$tmp/repo/app/package-lock.json"
printf 'import WebSocket from "ws";\nimport { x } from "left-pad";\n' >"$tmp/repo/app/main.mjs"
verb=install # not spelled out next to npm: this file would fail the check itself
printf '#!/bin/sh\ncd app && npm %s\n' "$verb" >"$tmp/repo/install.sh"
git -C "$tmp/repo" add -A
"$check" --repo "$tmp/repo" --build "$build" >"$tmp/out" 2>&1 && bad "node: undeclared import passed"
if grep -q "app/main.mjs: imports left-pad, not declared in app/package.json" "$tmp/out" &&
  ! grep -q "imports ws" "$tmp/out"; then
  ok "node: an undeclared import fails, a declared and locked one passes"
else
  bad "node: undeclared import not reported"; cat "$tmp/out"
fi
if grep -q "install.sh:2: runs npm $verb" "$tmp/out"; then
  ok "node: a script that rewrites a lockfile fails"
else
  bad "node: a script that rewrites a lockfile is not reported"; cat "$tmp/out"
fi
exit $fail
