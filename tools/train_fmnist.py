#!/usr/bin/python3
"""Trains a small ResNet-style CNN on Fashion-MNIST and exports it to ONNX (opset 13).

Uses Debian's python3-torch and python3-onnx and the dataset-fashion-mnist package
(/usr/share/datasets/fashion-mnist); run it with /usr/bin/python3. Example (the command that
produced models/fmnist_resnet.onnx, see models/README.md):

    nice -n 10 /usr/bin/python3 tools/train_fmnist.py --epochs 5 --seed 1 \\
        --out models/fmnist_resnet.onnx --out-unfolded models/fmnist_resnet_bn.onnx

Preprocessing expected by the exported model (input "image", float32 [N, 1, 28, 28]):
    x = pixel / 255                 # uint8 in [0, 255] -> [0, 1]
    x = (x - 0.2860) / 0.3530       # Fashion-MNIST training-set mean and std
Output "logits", float32 [N, 10] (no softmax), classes in dataset label order 0..9.

Architecture (width W = --width, default 24):
    stem   Conv3x3(1->W, pad 1) + BN + ReLU + MaxPool2x2            28x28 -> 14x14
    stage1 BasicBlock(W->W, stride 1, identity shortcut)             14x14
    stage2 BasicBlock(W->2W, stride 2, 1x1 stride-2 projection)       7x7
    stage3 BasicBlock(2W->4W, stride 2, 1x1 stride-2 projection)      4x4  (odd 7 -> 4)
    GlobalAveragePool -> Flatten -> FC(4W->10)
BasicBlock: Conv3x3+BN+ReLU, Conv3x3+BN, + shortcut, ReLU. The stem pools early because
elementwise work at 28x28 dominated the step time on the shared 2-core machine.

The model is exported in eval mode, so torch folds every BatchNorm into the preceding Conv:
the ONNX graph holds only Conv, Relu, MaxPool, Add, GlobalAveragePool, Flatten and Gemm.
--out-unfolded PATH also writes the same weights with explicit BatchNormalization nodes.

After export the script checks the file with onnx.checker and evaluates it with the
independent NumPy evaluator in tools/fmnist_reference.py (no torch involved), comparing
logits against torch on --check-samples test images and the top-1 on the whole test set.
"""

import os

# Under load, OpenMP worker threads that spin-wait at barriers burn the CPU time the other
# thread needs (measured here: 3-5x slower steps with 2 threads on a busy 2-core machine).
# libgomp reads this when torch loads it, so it must be set before `import torch`.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist_reference as ref  # noqa: E402  (torch-free loader and ONNX evaluator)


# ----------------------------------------------------------------------------- model

class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        s = x if self.shortcut is None else self.shortcut(x)
        return F.relu(y + s)


class FmnistResNet(nn.Module):
    def __init__(self, width):
        super().__init__()
        w = width
        self.stem = nn.Sequential(nn.Conv2d(1, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w),
                                  nn.ReLU(), nn.MaxPool2d(2))
        self.stage1 = BasicBlock(w, w, 1)
        self.stage2 = BasicBlock(w, 2 * w, 2)
        self.stage3 = BasicBlock(2 * w, 4 * w, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)   # exported as GlobalAveragePool
        self.fc = nn.Linear(4 * w, 10)        # exported as Gemm

    def forward(self, x):
        x = self.stage3(self.stage2(self.stage1(self.stem(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


# ----------------------------------------------------------------------------- data

def augment(x01, gen, pad):
    """Random crop after zero padding (pad pixels each side) and random horizontal flip.

    x01: float [B,1,28,28] in [0,1] (padding with 0 = black background, before normalizing).
    """
    b, _, h, w = x01.shape
    xp = F.pad(x01, (pad, pad, pad, pad))
    oy = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
    ox = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
    iy = (oy[:, None] + torch.arange(h))[:, :, None]            # [B,H,1]
    ix = (ox[:, None] + torch.arange(w))[:, None, :]            # [B,1,W]
    out = xp[torch.arange(b)[:, None, None], 0, iy, ix].unsqueeze(1)
    flip = torch.rand(b, generator=gen) < 0.5
    return torch.where(flip[:, None, None, None], out.flip(3), out)


def normalize(x01):
    return (x01 - ref.MEAN) / ref.STD


@torch.no_grad()
def evaluate(model, images01, labels, batch=1000):
    model.eval()
    correct = 0
    for i in range(0, len(labels), batch):
        logits = model(normalize(images01[i:i + batch]))
        correct += int((logits.argmax(1) == labels[i:i + batch]).sum())
    return correct / len(labels)


# ----------------------------------------------------------------------------- export

def export(model, path, fold_bn):
    import onnx
    model.eval()
    dummy = torch.zeros(2, 1, 28, 28)
    # EVAL mode: torch's eval peephole folds BatchNorm into Conv. PRESERVE with the model in
    # eval mode keeps BatchNormalization nodes (inference form, running statistics).
    mode = torch.onnx.TrainingMode.EVAL if fold_bn else torch.onnx.TrainingMode.PRESERVE
    torch.onnx.export(model, dummy, path, opset_version=13, input_names=["image"],
                      output_names=["logits"], training=mode, do_constant_folding=fold_bn,
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    m = onnx.load(path)
    # torch deduplicates equal initializers through Identity nodes (a block's bn2 bias and
    # its projection BN bias always receive the same gradient, so they stay equal). Turn
    # each such Identity back into its own initializer so the graph keeps to the op list.
    inits = {t.name: t for t in m.graph.initializer}
    for node in [n for n in m.graph.node if n.op_type == "Identity" and n.input[0] in inits]:
        copy = onnx.TensorProto()
        copy.CopyFrom(inits[node.input[0]])
        copy.name = node.output[0]
        m.graph.initializer.append(copy)
        m.graph.node.remove(node)
    m.doc_string = ("Fashion-MNIST ResNet-style classifier. Input 'image' float32 [N,1,28,28] = "
                    f"(pixel/255 - {ref.MEAN}) / {ref.STD}; output 'logits' float32 [N,10].")
    for k, v in (("normalization", f"x = (pixel / 255 - {ref.MEAN}) / {ref.STD}"),
                 ("classes", ",".join(ref.CLASS_NAMES))):
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, path)
    return m


def verify(model, onnx_model, test_u8, test_labels, test01, samples, full_test):
    """Checks the exported I/O contract and compares torch with the NumPy ONNX evaluator.

    Returns True when the logits on the first `samples` test images match and, with
    full_test, when the NumPy top-1 on all test images matches torch's.
    """
    graph = onnx_model.graph
    in_name, out_name = graph.input[0].name, graph.output[0].name
    in_dims = [d.dim_param or d.dim_value for d in graph.input[0].type.tensor_type.shape.dim]
    out_dims = [d.dim_param or d.dim_value for d in graph.output[0].type.tensor_type.shape.dim]
    print(f"ONNX I/O: {in_name} {in_dims} -> {out_name} {out_dims}; {len(graph.node)} nodes, "
          f"operators {sorted({n.op_type for n in graph.node})}")
    if (in_name, in_dims, out_name, out_dims) != ("image", ["batch", 1, 28, 28],
                                                  "logits", ["batch", 10]):
        print("I/O contract violated: expected image [batch,1,28,28] -> logits [batch,10]")
        return False
    with torch.no_grad():
        t = model(normalize(test01[:samples])).numpy().astype(np.float64)
    n = ref.run_onnx(onnx_model, {in_name: ref.preprocess(test_u8[:samples], np.float64)},
                     np.float64)[out_name]
    diff = float(np.abs(t - n).max())
    # A sample counts as a disagreement only if torch's top-2 margin is clear of rounding.
    top2 = np.sort(t, axis=1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0]) > 1e-4
    disagree = int(((t.argmax(1) != n.argmax(1)) & clear).sum())
    # Float64 NumPy vs float32 torch: logits of magnitude ~10 agree to ~1e-5; 1e-3 leaves
    # room for summation-order differences while catching any wrong weight, pad or layout.
    ok = diff < 1e-3 and disagree == 0
    print(f"torch vs NumPy(ONNX, float64) on {samples} test images: max |logit diff| "
          f"{diff:.2e} (limit 1e-3), argmax disagreements {disagree}")
    if full_test:
        t0 = time.time()
        np_acc = ref.onnx_top1(onnx_model, test_u8, test_labels)
        torch_acc = evaluate(model, test01, torch.from_numpy(test_labels))
        # Float32 in both, different summation orders: allow 5 of 10,000 near-ties to flip.
        ok = ok and abs(np_acc - torch_acc) <= 5e-4
        print(f"NumPy(ONNX, float32) top-1 on {len(test_labels)} test images: "
              f"{100 * np_acc:.2f}% vs torch {100 * torch_acc:.2f}% ({time.time() - t0:.0f} s)")
    return ok


# ----------------------------------------------------------------------------- main

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default="models/fmnist_resnet.onnx")
    p.add_argument("--out-unfolded", default="",
                   help="optional second ONNX file that keeps BatchNormalization nodes")
    p.add_argument("--width", type=int, default=24, help="stem channels W (stages W, 2W, 4W)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.2, help="one-cycle peak learning rate")
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--pad", type=int, default=1, help="random-crop padding (pixels)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--check-samples", type=int, default=200,
                   help="test images compared logit by logit between torch and NumPy")
    p.add_argument("--verify-full-test", action="store_true",
                   help="also evaluate the ONNX file with NumPy on all 10,000 test images")
    p.add_argument("--max-batches", type=int, default=0,
                   help="stop each epoch after this many batches (timing runs only)")
    p.add_argument("--dataset-dir", default=ref.DATASET_DIR)
    args = p.parse_args()
    if args.epochs < 1 or args.width < 1 or args.batch_size < 1:
        p.error("--epochs, --width and --batch-size must be >= 1")

    t_start = time.time()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    train_u8, train_labels = ref.load_split("train", args.dataset_dir)
    test_u8, test_labels = ref.load_split("t10k", args.dataset_dir)
    train01 = torch.from_numpy(train_u8).float().div_(255).unsqueeze(1)
    test01 = torch.from_numpy(test_u8).float().div_(255).unsqueeze(1)
    ytrain = torch.from_numpy(train_labels)
    ytest = torch.from_numpy(test_labels)
    print(f"data: train {tuple(train01.shape)}, test {tuple(test01.shape)}; "
          f"mean {train01.mean():.4f} std {train01.std():.4f} (normalizing with "
          f"{ref.MEAN}/{ref.STD}); torch {torch.__version__}, {torch.get_num_threads()} threads")

    model = FmnistResNet(args.width)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: width {args.width}, {n_params} parameters")

    # No weight decay on BatchNorm affine parameters and biases (standard ResNet recipe).
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": args.weight_decay},
                           {"params": no_decay, "weight_decay": 0.0}],
                          lr=args.lr, momentum=0.9, nesterov=True)
    n = len(ytrain)
    steps = (n + args.batch_size - 1) // args.batch_size
    if args.max_batches:
        steps = min(steps, args.max_batches)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, epochs=args.epochs,
                                                steps_per_epoch=steps, pct_start=0.25)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)

    for epoch in range(1, args.epochs + 1):
        t0 = time.time()
        model.train()
        perm = torch.randperm(n, generator=gen)
        total_loss, correct, seen = 0.0, 0, 0
        for step in range(steps):
            idx = perm[step * args.batch_size:(step + 1) * args.batch_size]
            x = normalize(augment(train01[idx], gen, args.pad))
            y = ytrain[idx]
            logits = model(x)
            loss = loss_fn(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total_loss += float(loss) * len(idx)
            correct += int((logits.argmax(1) == y).sum())
            seen += len(idx)
        train_time = time.time() - t0
        acc = evaluate(model, test01, ytest)
        print(f"epoch {epoch}/{args.epochs}: loss {total_loss / seen:.4f}, train top-1 "
              f"{100 * correct / seen:.2f}%, test top-1 {100 * acc:.2f}%, "
              f"{train_time:.0f} s train + {time.time() - t0 - train_time:.0f} s eval",
              flush=True)

    final = evaluate(model, test01, ytest)
    train_wall = time.time() - t_start
    print(f"final FP32 test top-1 (torch, 10,000 images): {100 * final:.2f}%; "
          f"wall time so far {train_wall:.0f} s")

    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    onnx_model = export(model, args.out, fold_bn=True)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes), onnx.checker OK")
    ok = verify(model, onnx_model, test_u8, test_labels, test01, args.check_samples,
                args.verify_full_test)
    if args.out_unfolded:
        unfolded = export(model, args.out_unfolded, fold_bn=False)
        print(f"wrote {args.out_unfolded} ({os.path.getsize(args.out_unfolded)} bytes), "
              "onnx.checker OK")
        ok = verify(model, unfolded, test_u8, test_labels, test01, args.check_samples,
                    args.verify_full_test) and ok

    print(f"verification {'PASSED' if ok else 'FAILED'}; total wall time "
          f"{time.time() - t_start:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
