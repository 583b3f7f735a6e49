#!/usr/bin/env bash
# The main job on the bundled default: builds qsdk and runs the hand-built CNN sample
# (build an engine, serialize it, load it in a fresh runtime, run, check vs reference).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh -DQSDK_BUILD_TESTS=OFF
mkdir -p build/out
./build/samples/hand_built_cnn build/out/hand_built_cnn.qsdk 4
