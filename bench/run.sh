#!/usr/bin/env bash
# qsdk against ONNX Runtime and PyTorch on the same models and machine, in one command:
#   bench/run.sh [--quick] [--models resnet50,resnet18,mobilenet_v2,fmnist] [--threads N]
#                [--out DIR] [--qsdk PATH] [--no-peers] [--docs | --no-docs]
# 1. installs the peers when missing (bench/peers/setup.sh; apt-get and npm, needs root or
#    sudo); if that fails, qsdk runs alone and the peers are marked n/a;
# 2. builds qsdk (scripts/build.sh) unless the tool exists (build/tools/qsdk, or $QSDK /
#    --qsdk);
# 3. runs bench/run_bench.py: models exported once into build/bench/models, calibration
#    data, qsdk FP32 / BF16 / INT8 engines built and benchmarked, the peers on the same
#    models, the report printed, written to build/bench/report.md and (full mode) into
#    docs/performance.md. See bench/README.md.
# Exit status: non-zero only when qsdk itself (build, bench, eval) fails, or the models
# could not be prepared.
set -euo pipefail
cd "$(dirname "$0")/.."

qsdk=${QSDK:-build/tools/qsdk}
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --qsdk) qsdk=${args[$((i + 1))]:-$qsdk} ;;
    --qsdk=*) qsdk=${args[$i]#--qsdk=} ;;
    -h|--help) exec /usr/bin/python3 bench/run_bench.py --help ;;
  esac
done

mkdir -p build/bench
if ! bench/peers/setup.sh; then
  echo "bench: peer setup failed; continuing (missing peers will be reported n/a)" >&2
fi

if [ ! -x "$qsdk" ]; then
  echo "bench: building qsdk (log: build/bench/qsdk_build.log)" >&2
  if ! scripts/build.sh -DQSDK_BUILD_TESTS=OFF > build/bench/qsdk_build.log 2>&1; then
    tail -n 30 build/bench/qsdk_build.log >&2
    exit 1
  fi
fi

exec /usr/bin/python3 bench/run_bench.py --qsdk "$qsdk" "$@"
