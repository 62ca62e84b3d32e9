#!/usr/bin/env bash
# deps.sh - Debian packages for the neural-model tests (tests/test_nn.c, tests/nn/hfmodel.py):
# PyTorch and NumPy under /usr/bin/python3 (the independent reference for the forward pass), and
# python3-onnx (the ONNX export of the same reference for `make bench`). Idempotent. tests/deps.sh
# (make deps) calls it.
set -euo pipefail
PKGS=(python3-torch python3-numpy python3-onnx)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "nn deps: ${PKGS[*]} already installed"
  exit 0
fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "nn deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
