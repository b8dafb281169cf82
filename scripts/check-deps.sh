#!/usr/bin/env bash
# Checks that scripts/setup.sh installs every Debian package the build and
# the tests use, and that the tests' Python and Node packages come from
# Debian or from the requirements and lock files the suites install from.
# scripts/test.sh runs it after the builds and the test suites.
#
#   scripts/check-deps.sh [--setup FILE] [--build DIR]... [--fuzz DIR]
#                         [--python-log DIR] [--no-node] [-v]
#
# Without --build it checks build/ and build-asan/ (those that exist) and
# build/fuzz (fuzz/run.sh's output). --python-log is the COMFYD_DEPS_PYLOG
# folder of a test run (scripts/deps/pyhook records every imported module
# there). -v lists every file with its package. Exits 1 naming each file
# whose package setup.sh does not install, each package whose installed
# release is not the one Debian's archive has (a fresh Debian 12 would get
# another; COMFYD_DEPS_NOT_DEBIAN_OK="pkg ..." lists such packages instead of
# failing), each Node package whose engines the installed node does not meet,
# and each import not declared and locked; details in scripts/deps/check_deps.py.
set -euo pipefail
cd "$(dirname "$0")/.."
args=("$@")
if ! printf '%s\n' "$@" | grep -qx -- '--build'; then
  for d in build build-asan; do [ -f "$d/build.ninja" ] && args+=(--build "$d"); done
  [ -d build/fuzz ] && args+=(--fuzz build/fuzz)
fi
# Debian's interpreter: the check must run on a fresh machine too.
exec /usr/bin/python3 scripts/deps/check_deps.py "${args[@]}"
