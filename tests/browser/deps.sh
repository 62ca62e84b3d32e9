#!/usr/bin/env bash
# deps.sh - what tests/test_report_browser.c needs to open an audit report in a real browser:
# Debian's chromium (through cli/scripts/deps.sh browser, which explains an unreachable archive)
# and npm playwright-core (its driver only, no bundled browser: no install scripts run), pinned by
# package.json + package-lock.json beside this script, into
# ${VERICITE_NPM_DIR:-~/.cache/vericite/npm}/browser. Idempotent. make deps runs it; it needs npm
# (which cli/scripts/deps.sh base installs first).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/../../cli/scripts/deps.sh" browser
dir="${VERICITE_NPM_DIR:-$HOME/.cache/vericite/npm}/browser"
mod="$dir/node_modules/playwright-core/package.json"
if [ -f "$mod" ] && cmp -s "$here/package-lock.json" "$dir/package-lock.json"; then
  echo "browser deps: playwright-core already in $dir"
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "browser deps: npm not found (run cli/scripts/deps.sh)" >&2; exit 1; }
mkdir -p "$dir"
cp "$here/package.json" "$here/package-lock.json" "$dir/"
echo "browser deps: npm ci in $dir"
if ! npm ci --prefix "$dir" --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error; then
  echo "browser deps: npm could not install playwright-core from $(npm config get registry) (npm's lines above);" \
    "check the network or npm's registry/proxy settings and run make deps again" >&2
  exit 1
fi
test -f "$mod" || { echo "browser deps: $mod missing after npm ci" >&2; exit 1; }
