#!/usr/bin/env bash
# Installs everything qsdk needs to build, test and document, from Debian packages.
# Idempotent; needs root (or sudo) for apt-get.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libdnnl-dev          # oneDNN 2.6: the kernels
  libeigen3-dev        # reference and statistics math
  nlohmann-json3-dev   # JSON configs, reports
  libxxhash-dev        # engine file checksums
  libcli11-dev         # command line
  zlib1g-dev           # qsdk tool: gzip-compressed IDX datasets
  libonnx-dev libprotobuf-dev  # ONNX importer (ONNX 1.12 protobuf classes)
  libonnx-testdata     # ONNX node tests: the importer's conformance suite
  libgtest-dev libgmock-dev  # tests
  libbenchmark-dev     # microbenchmarks
  doxygen              # API documentation
  python3-torch python3-onnx  # tools/train_fmnist.py: trains and exports models/*.onnx
  dataset-fashion-mnist       # Fashion-MNIST idx files in /usr/share/datasets/fashion-mnist
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#packages[@]} packages already installed"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install_deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
