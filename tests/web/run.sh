#!/usr/bin/env bash
# Tests of the ComfyUI extension (web/): Vitest unit tests against the real
# LiteGraph, the check that the committed bundle web/dist/ is what the
# sources build to, and the browser end-to-end tests (the stock ComfyUI
# frontend from the pinned comfyui-frontend-package wheel, Debian's
# Chromium through playwright-core, the real comfyd and comfyd-bridge of
# BUILD_DIR). Installs what it needs first: npm packages with `npm ci`, a
# Python venv in tests/web/.venv with pip, and Debian's chromium when it
# is missing (as root).
#
#   tests/web/run.sh BUILD_DIR
#
# Screenshots land in tests/artifacts/web/ (the docs' pictures come from the
# real ComfyUI: tests/comfyui/run.sh BUILD_DIR --screenshots).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:?usage: tests/web/run.sh BUILD_DIR}
build=$(cd "$build" && pwd)

# Pinned test dependencies from PyPI: the frontend ComfyUI's requirements.txt
# pins, and the HTTP server of the test host.
FRONTEND_PKG="comfyui-frontend-package==1.45.15"
AIOHTTP_PKG="aiohttp==3.14.5"

step() { printf '\n== %s\n' "$*"; }

step "npm packages"
# Both lockfiles record every optional per-platform package (rollup,
# esbuild), so `npm ci` installs exactly what is locked and never rewrites
# the lockfile.
(cd "$repo/web" && npm ci --no-audit --no-fund --loglevel=error)
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

step "Python venv for the test host ($FRONTEND_PKG, $AIOHTTP_PKG)"
venv="$here/.venv"
want="${FRONTEND_PKG#*==} ${AIOHTTP_PKG#*==}"
have=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("comfyui-frontend-package"), m.version("aiohttp"))' 2>/dev/null || true)
# Built on Debian's interpreter (python3-venv), whatever python3 is first
# on PATH, so the run is the same as on a fresh Debian.
grep -qx 'home = /usr/bin' "$venv/pyvenv.cfg" 2>/dev/null || have=""
if [ "$have" != "$want" ]; then
  rm -rf "$venv"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$FRONTEND_PKG" "$AIOHTTP_PKG"
fi

step "Chromium"
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "tests/web: /usr/bin/chromium is missing; install Debian's chromium (apt-get install chromium)" >&2
    exit 1
  fi
fi

step "comfyd and comfyd-bridge in $build"
if [ ! -x "$build/core/comfyd" ] || [ ! -x "$build/bridge/comfyd-bridge" ]; then
  cmake --build "$build" --target comfyd comfyd-bridge
fi

rc=0
step "unit tests (Vitest, real LiteGraph)"
(cd "$here" && npx --no-install vitest run --config vitest.config.js) || rc=1

step "the package's process supervisor (Python, real binaries)"
(cd "$here" && COMFYD_BUILD_DIR="$build" "$venv/bin/python" -m unittest -v test_supervisor.py) || rc=1

step "bundle staleness (web/dist must match the sources)"
(cd "$repo/web" && node scripts/check-bundle.mjs) || rc=1

step "browser end-to-end tests"
(cd "$here" && COMFYD_BUILD_DIR="$build" npx --no-install vitest run --config vitest.e2e.config.js) || rc=1

exit $rc
