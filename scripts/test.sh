#!/usr/bin/env bash
# Sets up, builds and runs every test: the contract lint, formatting, unit
# tests (plain, under ASan/UBSan and under valgrind) and the integration
# tests against the real binaries. Exits non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the checkout looks like before the run: the run must not change it
# (tracked files, and untracked files that .gitignore does not cover).
# (Not checked in a copy without git metadata, e.g. an unpacked archive.)
checkout_state() {
  if command -v git >/dev/null && git rev-parse --verify -q HEAD >/dev/null; then
    git status --porcelain=v1 --untracked-files=all
    git diff HEAD --binary | sha256sum
  else
    echo "not a git checkout"
  fi
}
state_before=$(checkout_state)

scripts/setup.sh
# The Node that setup.sh installed (tools/node) for every suite.
export PATH="$PWD/tools/node/bin:$PWD/tools/go/bin:$PATH" # and the Go of tools/go

step() { printf '\n==> %s\n' "$*"; }

# Every Python process of the suites records the modules it imports
# (scripts/deps/pyhook) for the dependency check at the end.
export COMFYD_DEPS_PYLOG="$PWD/build/deps-pylog"
rm -rf "$COMFYD_DEPS_PYLOG"
mkdir -p "$COMFYD_DEPS_PYLOG"
export PYTHONPATH="$PWD/scripts/deps/pyhook${PYTHONPATH:+:$PYTHONPATH}"

step "contract: buf lint"
tools/node_modules/.bin/buf lint
if git rev-parse --verify -q main >/dev/null && [ "$(git rev-parse --abbrev-ref HEAD)" != main ]; then
  step "contract: buf breaking against main"
  tools/node_modules/.bin/buf breaking --against '.git#branch=main'
fi

step "format: clang-format"
files=$(git ls-files '*.c' '*.h')
if [ -n "$files" ]; then clang-format --dry-run --Werror $files; fi

step "build"
scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo

step "unit and integration tests"
(cd build && ctest --output-on-failure -j2)

step "build with ASan/UBSan"
scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DCOMFYD_SANITIZE=ON

step "unit tests under ASan/UBSan"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j2 -L unit)

step "unit tests under valgrind"
for t in build/tests/test_*; do
  [ -x "$t" ] || continue
  echo "valgrind $(basename "$t")"
  valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=9 \
    "$t" >/dev/null 2>"build/$(basename "$t").valgrind.log" ||
    { cat "build/$(basename "$t").valgrind.log"; exit 1; }
done

step "comfyd under valgrind: session scenarios (exit 0, no leaks at shutdown)"
COMFYD_IT_WRAPPER="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=9" \
  COMFYD_IT_START_GUARD_S=60 tests/integration/run.sh build test_stream.py test_durability.py

step "the session suites and the store's contract on PostgreSQL (a private server)"
tests/postgres/run.sh build

step "the extension in the real ComfyUI server (tests/comfyui; cached venv)"
tests/comfyui/run.sh build

step "an unbuilt checkout in the real ComfyUI server: built by the supervisor, then connected"
tests/comfyui/run.sh build --unbuilt

step "fuzz targets (bounded run)"
fuzz/run.sh build "${COMFYD_FUZZ_SECONDS:-15}"

step "README examples against the real binaries"
tests/readme/run.sh build

step "dependencies: every package the builds and the suites used comes from setup.sh"
scripts/check-deps.sh --build build --build build-asan --fuzz build/fuzz --python-log "$COMFYD_DEPS_PYLOG"
tests/deps/run.sh build

step "the run left the checkout unchanged"
state_after=$(checkout_state)
if [ "$state_after" != "$state_before" ]; then
  echo "scripts/test.sh changed the checkout (git status before, then after):"
  printf '%s\n---\n%s\n' "$state_before" "$state_after"
  git status --short
  exit 1
fi

step "all tests passed"
