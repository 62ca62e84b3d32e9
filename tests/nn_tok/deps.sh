#!/usr/bin/env bash
# deps.sh - installs the Hugging Face tokenizer that tests/test_nn_tok.c compares vericite's
# WordPiece tokenizer with: npm @huggingface/tokenizers (pure JavaScript, no dependencies, no
# install scripts), pinned by package.json + package-lock.json beside this script, into
# ${VERICITE_NPM_DIR:-~/.cache/vericite/npm}/nn_tok. Idempotent: nothing to do when the installed
# lock file is this one. tests/deps.sh (make deps) calls it; it needs npm (which tests/deps.sh
# installs first). After the first install npm's cache serves it offline.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${VERICITE_NPM_DIR:-$HOME/.cache/vericite/npm}/nn_tok"
mod="$dir/node_modules/@huggingface/tokenizers/package.json"
if [ -f "$mod" ] && cmp -s "$here/package-lock.json" "$dir/package-lock.json"; then
  echo "nn_tok deps: @huggingface/tokenizers already in $dir"
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "nn_tok deps: npm not found (run tests/deps.sh)" >&2; exit 1; }
mkdir -p "$dir"
cp "$here/package.json" "$here/package-lock.json" "$dir/"
echo "nn_tok deps: npm ci in $dir"
npm ci --prefix "$dir" --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error
test -f "$mod" || { echo "nn_tok deps: $mod missing after npm ci" >&2; exit 1; }
