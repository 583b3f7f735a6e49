#!/usr/bin/python3
"""Trains a small CNN, quantizes it with PyTorch and exports the quantized model as a QDQ ONNX.

The output is the test data of qsdk's explicit-quantization path (tests/onnx/
qdq_pytorch_test.cc): qsdk imports the QuantizeLinear / DequantizeLinear nodes, folds them
into INT8 kernels with PyTorch's own scales and zero points (no calibration), and must then
reproduce PyTorch's quantized outputs.

Uses Debian's python3-torch (1.13) and python3-onnx and the dataset-fashion-mnist package;
run it with /usr/bin/python3. The command that produced tests/onnx/data/qdq_cnn/:

    nice -n 10 /usr/bin/python3 tools/export_qdq_model.py --out-dir tests/onnx/data/qdq_cnn

Model (seeded; input "image" float32 [N, 1, 28, 28], preprocessing as models/README.md:
x = (pixel / 255 - 0.2860) / 0.3530; output "logits" [N, 10]):
    Conv3x3(1->8, pad 1) + ReLU                              28x28
    Conv3x3(8->8, pad 1) + ReLU, Conv3x3(8->8, pad 1), + the stem's output, ReLU
    MaxPool2x2 -> Flatten -> Linear(8*14*14 -> 10)
Trained --epochs on the training set (a short run: the point is real, non-degenerate
weights and activations, not accuracy).

Quantization: post-training static, FX graph mode, backend 'onednn' (fbgemm and x86 are
not built into Debian's torch; this one quantizes activations as quint8 with zero points
and weights as qint8 symmetric per output channel), calibrated on --calib training images.
torch.onnx.export of the converted model writes opset-13 QuantizeLinear / DequantizeLinear
around each op (with a Cast after each QuantizeLinear, and int32 biases dequantized with
scale s_x * s_w): the QDQ format.

Writes in --out-dir (the ONNX node-test layout):
    model.onnx                          the QDQ model
    test_data_set_0/input_0.pb          --samples test images (TensorProto, float32)
    test_data_set_0/output_0.pb         PyTorch's quantized model on them (dequantized logits)
and prints, for the record, the float and quantized test accuracies and how often the
quantized and float models agree.
"""

import os

# Under load, spinning OpenMP workers burn the CPU time the other thread needs (see
# tools/train_fmnist.py). libgomp reads this when torch loads it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from torch.ao.quantization import get_default_qconfig_mapping  # noqa: E402
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist_reference as ref  # noqa: E402  (torch-free Fashion-MNIST loader)

BACKEND = "onednn"


class SmallCnn(nn.Module):
    """conv-relu, a residual block (conv-relu-conv + shortcut, relu), pool, fc."""

    def __init__(self, width=8):
        super().__init__()
        self.stem = nn.Conv2d(1, width, 3, padding=1)
        self.stem_relu = nn.ReLU()
        self.conv1 = nn.Conv2d(width, width, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(width * 14 * 14, 10)

    def forward(self, x):
        s = self.stem_relu(self.stem(x))
        y = self.conv2(self.relu1(self.conv1(s)))
        y = self.relu2(y + s)
        y = self.pool(y)
        return self.fc(torch.flatten(y, 1))


def train(model, images, labels, epochs, batch, lr):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    n = images.shape[0]
    for epoch in range(epochs):
        perm = torch.randperm(n)
        total = 0.0
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = loss_fn(model(images[idx]), labels[idx])
            loss.backward()
            opt.step()
            total += loss.item() * idx.numel()
        print(f"epoch {epoch + 1}: loss {total / n:.4f}")
    model.eval()


def predict(model, images, batch=1000):
    with torch.no_grad():
        return torch.cat([model(images[i:i + batch]) for i in range(0, images.shape[0], batch)])


def save_tensor(array, path):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(np.ascontiguousarray(array)).SerializeToString())


def check_qdq(path):
    """The exported graph must be the QDQ format qsdk's importer reads."""
    model = onnx.load(path)
    onnx.checker.check_model(model)
    ops = [n.op_type for n in model.graph.node]
    opset = {o.domain: o.version for o in model.opset_import}
    for op in ("QuantizeLinear", "DequantizeLinear", "Conv", "Gemm", "Add", "MaxPool"):
        if op not in ops:
            raise RuntimeError(f"{path}: no {op} node in the export: {sorted(set(ops))}")
    print(f"{path}: opset {opset.get('', opset.get('ai.onnx'))}, {len(ops)} nodes, "
          f"{ops.count('QuantizeLinear')} QuantizeLinear, "
          f"{ops.count('DequantizeLinear')} DequantizeLinear, "
          f"{os.path.getsize(path)} bytes")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out-dir", default="tests/onnx/data/qdq_cnn")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--train-limit", type=int, default=20000,
                        help="training images used (the first N)")
    parser.add_argument("--calib", type=int, default=512, help="calibration images")
    parser.add_argument("--samples", type=int, default=16, help="test images saved")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(2)
    if BACKEND not in torch.backends.quantized.supported_engines:
        sys.exit(f"quantized engine '{BACKEND}' is not available in this torch: "
                 f"{torch.backends.quantized.supported_engines}")
    torch.backends.quantized.engine = BACKEND

    train_u8, train_labels = ref.load_split("train")
    test_u8, test_labels = ref.load_split("t10k")
    train_x = torch.from_numpy(ref.preprocess(train_u8[:args.train_limit]))
    train_y = torch.from_numpy(train_labels[:args.train_limit])
    test_x = torch.from_numpy(ref.preprocess(test_u8))
    test_y = torch.from_numpy(test_labels)

    model = SmallCnn()
    train(model, train_x, train_y, args.epochs, batch=64, lr=2e-3)

    # Post-training static quantization (FX): observers, calibration, conversion.
    example = test_x[:1]
    prepared = prepare_fx(model, get_default_qconfig_mapping(BACKEND), (example,))
    calib = train_x[torch.randperm(train_x.shape[0])[:args.calib]]
    with torch.no_grad():
        for i in range(0, calib.shape[0], 64):
            prepared(calib[i:i + 64])
    quantized = convert_fx(prepared)
    quantized.eval()

    float_logits = predict(model, test_x)
    quant_logits = predict(quantized, test_x)
    float_top1 = (float_logits.argmax(1) == test_y).float().mean().item()
    quant_top1 = (quant_logits.argmax(1) == test_y).float().mean().item()
    agree = (float_logits.argmax(1) == quant_logits.argmax(1)).float().mean().item()
    print(f"test top-1: float {100 * float_top1:.2f}%, quantized {100 * quant_top1:.2f}% "
          f"(argmax agreement {100 * agree:.2f}%)")

    os.makedirs(os.path.join(args.out_dir, "test_data_set_0"), exist_ok=True)
    path = os.path.join(args.out_dir, "model.onnx")
    torch.onnx.export(quantized, example, path, opset_version=13, input_names=["image"],
                      output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    check_qdq(path)

    samples = test_x[:args.samples].numpy()
    expected = predict(quantized, test_x[:args.samples]).numpy()
    save_tensor(samples, os.path.join(args.out_dir, "test_data_set_0", "input_0.pb"))
    save_tensor(expected, os.path.join(args.out_dir, "test_data_set_0", "output_0.pb"))
    print(f"saved {args.samples} samples and PyTorch's quantized logits in {args.out_dir}")


if __name__ == "__main__":
    main()
