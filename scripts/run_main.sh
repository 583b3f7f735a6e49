#!/usr/bin/env bash
# The main job on the bundled default: the Fashion-MNIST model (models/fmnist_resnet.onnx)
# built into FP32, BF16, FP16, INT8 and INT16 engines (INT8 / INT16 calibrated on 500
# training images), each evaluated on the 10,000 test images and benchmarked, printed
# side by side.
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

# One engine per precision: name, mode, whether it is calibrated.
precisions=(fp32:force_float32:no bf16:force_bfloat16:no fp16:force_float16:no
            int8:qint8_mixed_float32:yes int16:qint16_mixed_float32:yes)
built=()
for entry in "${precisions[@]}"; do
  IFS=: read -r p mode calibrated <<< "$entry"
  args=("$model" -o "$out/fmnist_$p.qsdk" --precision "$mode" --no-progress
        --report "$out/fmnist_$p.report.json")
  if [ "$calibrated" = yes ]; then
    echo "== ${p^^} engine ($mode, calibrated on 500 training images: 10 batches of 50)"
    args+=(--calib "$train" --calib-batch 50 --calib-samples 10)
  else
    echo "== ${p^^} engine ($mode)"
  fi
  if "$qsdk" build "${args[@]}"; then
    built+=("$p")
  else
    # BF16 needs AVX512_BF16; the build names the missing ISA. Go on with the others.
    echo "(${p^^} skipped on this CPU)"
  fi
  echo
done

# A field of the one-object JSON the CLI prints with --json.
field() { sed -n "s/^ *\"$1\": \\([^,]*\\),\\{0,1\\}$/\\1/p" | head -n 1; }
for p in "${built[@]}"; do
  "$qsdk" eval "$out/fmnist_$p.qsdk" --dataset fashion-mnist --json > "$out/eval_$p.json"
  "$qsdk" bench "$out/fmnist_$p.qsdk" --batch 1 --iterations 300 --json > "$out/bench1_$p.json"
  "$qsdk" bench "$out/fmnist_$p.qsdk" --batch 32 --iterations 100 --json > "$out/bench32_$p.json"
done
echo "== Fashion-MNIST test set (10,000 images), batch-1 latency, batch-32 throughput, engine size"
printf "%-6s %10s %14s %14s %18s %12s\n" "" "top-1 %" "p50 ms (b=1)" "p90 ms (b=1)" \
  "images/s (b=32)" "engine kB"
for p in "${built[@]}"; do
  top1=$(field top1 < "$out/eval_$p.json")
  p50=$(field p50 < "$out/bench1_$p.json")
  p90=$(field p90 < "$out/bench1_$p.json")
  ips=$(field throughput_images_per_second < "$out/bench32_$p.json")
  size=$(stat -c %s "$out/fmnist_$p.qsdk")
  awk -v n="$p" -v t="$top1" -v a="$p50" -v b="$p90" -v c="$ips" -v s="$size" \
    'BEGIN { printf "%-6s %10.2f %14.3f %14.3f %18.0f %12.0f\n", toupper(n), 100 * t, a, b, c,
             s / 1024 }'
done
awk -v f="$(field top1 < "$out/eval_fp32.json")" -v q="$(field top1 < "$out/eval_int8.json")" \
    -v lf="$(field p50 < "$out/bench1_fp32.json")" -v lq="$(field p50 < "$out/bench1_int8.json")" \
  'BEGIN { printf "INT8 - FP32 top-1: %+.2f points; INT8 latency = %.2f x FP32 (batch 1, p50)\n",
           100 * (q - f), lq / lf }'
