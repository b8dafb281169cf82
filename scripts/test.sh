#!/usr/bin/env bash
# Sets up, builds and runs every test: the contract lint, formatting, unit
# tests (plain, under ASan/UBSan and under valgrind) and the integration
# tests against the real binaries. Exits non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

step() { printf '\n==> %s\n' "$*"; }

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

step "the extension in the real ComfyUI server (tests/comfyui; cached venv)"
tests/comfyui/run.sh build

step "an unbuilt checkout in the real ComfyUI server: built by the supervisor, then connected"
tests/comfyui/run.sh build --unbuilt

step "fuzz targets (bounded run)"
fuzz/run.sh build "${COMFYD_FUZZ_SECONDS:-15}"

step "all tests passed"
