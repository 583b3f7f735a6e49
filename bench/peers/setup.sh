#!/usr/bin/env bash
# Installs the benchmark's peers when they are missing, and does nothing otherwise:
#   - Debian: python3-torch, python3-torchvision, python3-onnx, python3-numpy (PyTorch peer,
#     model export, the ONNX Runtime QDQ model) and dataset-fashion-mnist;
#   - npm: onnxruntime-node@1.30.0 into $PEERS_HOME (default ~/.cache/qsdk-peers), the
#     ONNX Runtime peer. Node.js itself comes from Debian's `nodejs` only when no `node` is
#     on the PATH: a machine with another Node.js (e.g. nodesource's, which ships its own
#     npm and conflicts with Debian's `npm` package) keeps it.
# Adapted from the peer rig's setup.sh. Exit status non-zero when something could not be
# installed; bench/run.sh then runs qsdk alone and marks the missing peers n/a.
set -euo pipefail
PEERS_HOME=${PEERS_HOME:-$HOME/.cache/qsdk-peers}
ORT_VERSION=1.30.0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

debs=(python3-torch python3-torchvision python3-onnx python3-numpy dataset-fashion-mnist)
command -v node >/dev/null 2>&1 || debs+=(nodejs)
command -v npm >/dev/null 2>&1 || debs+=(npm)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "peers: installing ${missing[*]} (apt-get)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

installed=""
pkg="$PEERS_HOME/node_modules/onnxruntime-node/package.json"
if [ -f "$pkg" ]; then
  installed=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$pkg" | head -n 1)
fi
if [ "$installed" != "$ORT_VERSION" ]; then
  echo "peers: installing onnxruntime-node@$ORT_VERSION into $PEERS_HOME (npm)"
  mkdir -p "$PEERS_HOME"
  # --ignore-scripts: the CPU binaries ship inside the package; its install script only
  # fetches optional GPU binaries.
  (cd "$PEERS_HOME" && npm install --silent --no-audit --no-fund --ignore-scripts \
    "onnxruntime-node@$ORT_VERSION" >/dev/null)
fi
echo "peers: ready (onnxruntime-node $ORT_VERSION in $PEERS_HOME; $(/usr/bin/python3 -c \
  'import torch; print("torch", torch.__version__)'))"
