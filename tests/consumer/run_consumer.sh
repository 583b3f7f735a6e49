#!/usr/bin/env bash
# Installs the qsdk build tree into a temporary prefix, then configures, builds and runs
# a separate project that uses find_package(qsdk) against that prefix.
# Usage: run_consumer.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build_dir=$1
project_dir=$2/tests/consumer/project
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" > "$work/install.log"
cmake -S "$project_dir" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release > "$work/configure.log"
cmake --build "$work/build" > "$work/build.log"
"$work/build/consumer"
