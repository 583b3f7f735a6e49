#!/usr/bin/env bash
# Builds qsdk with tests and runs the whole suite:
#   1. Release build, every unit / integration test, the Doxygen build (warnings are
#      errors) and the installed-package consumer test, through ctest;
#   2. the engine-file fuzz test again under AddressSanitizer (its own build tree).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DQSDK_BUILD_TESTS=ON -DQSDK_BUILD_DOCS=ON
cmake --build build -j "$jobs"
(cd build && ctest --output-on-failure -j "$jobs")

cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQSDK_SANITIZE=address \
  -DQSDK_BUILD_SAMPLES=OFF -DQSDK_BUILD_TOOLS=OFF -DQSDK_BUILD_DOCS=OFF
cmake --build build-asan -j "$jobs" --target engine_file_fuzz_test
(cd build-asan && ctest --output-on-failure -R '^EngineFileFuzz')
