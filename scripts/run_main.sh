#!/usr/bin/env bash
# The main job on the bundled default: the Fashion-MNIST model (models/fmnist_resnet.onnx)
# built into an FP32 and an INT8 engine (INT8 calibrated on 500 training images), both
# evaluated on the 10,000 test images and benchmarked, printed side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
echo "== Building qsdk (log: build/main_build.log)"
if ! scripts/build.sh -DQSDK_BUILD_TESTS=OFF > build/main_build.log 2>&1; then
  tail -n 30 build/main_build.log
  exit 1
fi
qsdk=build/tools/qsdk
out=build/out
mkdir -p "$out"
model=models/fmnist_resnet.onnx
train=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

echo "== FP32 engine"
"$qsdk" build "$model" -o "$out/fmnist_fp32.qsdk" --precision force_float32
echo
echo "== INT8 engine (calibrated on 500 training images: 10 batches of 50)"
"$qsdk" build "$model" -o "$out/fmnist_int8.qsdk" --precision qint8_mixed_float32 \
  --calib "$train" --calib-batch 50 --calib-samples 10 --no-progress \
  --report "$out/fmnist_int8.report.json"
echo

# A field of the one-object JSON the CLI prints with --json.
field() { sed -n "s/^ *\"$1\": \\([^,]*\\),\\{0,1\\}$/\\1/p" | head -n 1; }
for p in fp32 int8; do
  "$qsdk" eval "$out/fmnist_$p.qsdk" --dataset fashion-mnist --json > "$out/eval_$p.json"
  "$qsdk" bench "$out/fmnist_$p.qsdk" --batch 1 --iterations 300 --json > "$out/bench1_$p.json"
  "$qsdk" bench "$out/fmnist_$p.qsdk" --batch 32 --iterations 100 --json > "$out/bench32_$p.json"
done
echo "== Fashion-MNIST test set (10,000 images), batch-1 latency and batch-32 throughput"
printf "%-6s %10s %14s %14s %18s\n" "" "top-1 %" "p50 ms (b=1)" "p90 ms (b=1)" "images/s (b=32)"
for p in fp32 int8; do
  top1=$(field top1 < "$out/eval_$p.json")
  p50=$(field p50 < "$out/bench1_$p.json")
  p90=$(field p90 < "$out/bench1_$p.json")
  ips=$(field throughput_images_per_second < "$out/bench32_$p.json")
  awk -v n="$p" -v t="$top1" -v a="$p50" -v b="$p90" -v c="$ips" \
    'BEGIN { printf "%-6s %10.2f %14.3f %14.3f %18.0f\n", toupper(n), 100 * t, a, b, c }'
done
awk -v f="$(field top1 < "$out/eval_fp32.json")" -v q="$(field top1 < "$out/eval_int8.json")" \
    -v lf="$(field p50 < "$out/bench1_fp32.json")" -v lq="$(field p50 < "$out/bench1_int8.json")" \
  'BEGIN { printf "INT8 - FP32 top-1: %+.2f points; INT8 latency = %.2f x FP32 (batch 1, p50)\n",
           100 * (q - f), lq / lf }'
