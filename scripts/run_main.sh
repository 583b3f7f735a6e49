#!/usr/bin/env bash
# The main job on the bundled default: builds qsdk and runs the samples: the hand-built
# CNN (build an engine, serialize it, load it in a fresh runtime, run, check vs
# reference) and INT8 calibration (calibrate, build FP32 and INT8, report, compare).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh -DQSDK_BUILD_TESTS=OFF
mkdir -p build/out
./build/samples/hand_built_cnn build/out/hand_built_cnn.qsdk 4
echo
./build/samples/int8_calibration build/out
