#!/usr/bin/python3
"""Makes the benchmark's models and data once, into a cache directory (default build/bench).

  export_models.py [--out DIR] [--models resnet50,resnet18,mobilenet_v2,fmnist]

Writes, skipping every file that already exists (each is written to a temporary name and
renamed, so an interrupted run never leaves a truncated file behind):

  DIR/models/{resnet50,resnet18,mobilenet_v2}.onnx  torchvision architectures with seeded
        random weights and non-trivial BatchNorm statistics (so activations have realistic
        ranges), opset 13, dynamic batch, input "input" [N,3,224,224], output "logits";
        the same weights as a PyTorch state_dict in DIR/models/NAME.pt.
  DIR/models/fmnist_resnet.pt  the bundled models/fmnist_resnet.onnx as a state_dict of
        tools/train_fmnist.py's FmnistResNet(24), taken from models/fmnist_resnet_bn.onnx
        (same training run, unfolded BatchNorm: its initializers carry the module's
        parameter names) and checked against the ONNX file on 16 test images.
  DIR/calib/imagenet/batchNN.npy  4 batches of 8 seeded standard-normal images
        [8,3,224,224] float32: the calibration data of every 224x224 model, for all three
        systems (the weights are random, so real images would not be more representative).
  DIR/calib/fmnist/batchNN.npy   the first 500 Fashion-MNIST training images, normalized
        as models/README.md says, in 10 batches of 50 (the same images `qsdk build` reads
        from the IDX file with --calib-batch 50 --calib-samples 10).
  DIR/data/fmnist_test_{x,y}.npy the 10,000 normalized test images and their labels.

Speed only: the 224x224 models are untrained, so their accuracy means nothing.
"""
import argparse
import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEED_MODELS = ("resnet50", "resnet18", "mobilenet_v2")
SEED = 0


def fresh(path):
    """True when path must be (re)made; creates its directory."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return not os.path.exists(path)


def tmp_name(path):
    # Keep the extension: torch.onnx.export and np.save look at it.
    root, ext = os.path.splitext(path)
    return f"{root}.tmp{os.getpid()}{ext}"


def save_npy(path, array):
    if fresh(path):
        tmp = tmp_name(path)
        np.save(tmp, array)
        os.replace(tmp, path)


def export_speed_model(name, out):
    import torch
    import torchvision
    onnx_path, pt_path = f"{out}/models/{name}.onnx", f"{out}/models/{name}.pt"
    if not fresh(onnx_path) and not fresh(pt_path):
        return
    torch.manual_seed(SEED)  # per model, so each file is the same whichever subset is made
    m = getattr(torchvision.models, name)().eval()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_var.uniform_(0.5, 2.0)
                mod.running_mean.uniform_(-0.1, 0.1)
    tmp = tmp_name(onnx_path)
    torch.onnx.export(m, torch.randn(1, 3, 224, 224), tmp, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    tmp_pt = tmp_name(pt_path)
    torch.save(m.state_dict(), tmp_pt)
    os.replace(tmp_pt, pt_path)
    os.replace(tmp, onnx_path)
    print(f"export_models: {onnx_path} ({os.path.getsize(onnx_path)} bytes)", flush=True)


def export_fmnist_weights(out):
    pt_path = f"{out}/models/fmnist_resnet.pt"
    if not fresh(pt_path):
        return
    import onnx
    import torch
    from onnx import numpy_helper
    sys.path.insert(0, os.path.join(REPO, "tools"))
    import fmnist_reference as ref
    import train_fmnist
    model = train_fmnist.FmnistResNet(24).eval()
    unfolded = onnx.load(os.path.join(REPO, "models/fmnist_resnet_bn.onnx"))
    inits = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy())
             for t in unfolded.graph.initializer}
    state = model.state_dict()
    missing = [k for k in state if k not in inits and not k.endswith("num_batches_tracked")]
    if missing:
        raise SystemExit(f"export_models: fmnist_resnet_bn.onnx lacks parameters {missing}")
    model.load_state_dict({k: inits.get(k, state[k]) for k in state})
    # Check against the model qsdk and ONNX Runtime run (BatchNorm folded), with the
    # repository's NumPy ONNX evaluator in float64: 1e-3 on logits of magnitude ~10 allows
    # float32 summation-order differences and catches any wrong or missing parameter.
    images, _ = ref.load_split("t10k")
    x = ref.preprocess(images[:16], np.float32)
    folded = onnx.load(os.path.join(REPO, "models/fmnist_resnet.onnx"))
    want = ref.run_onnx(folded, {folded.graph.input[0].name: x.astype(np.float64)},
                        np.float64)[folded.graph.output[0].name]
    with torch.no_grad():
        got = model(torch.from_numpy(x)).numpy()
    diff = float(np.abs(got - want).max())
    if diff > 1e-3:
        raise SystemExit(f"export_models: FmnistResNet with the ONNX weights differs from "
                         f"models/fmnist_resnet.onnx by {diff:.3g} (limit 1e-3)")
    tmp = tmp_name(pt_path)
    torch.save(model.state_dict(), tmp)
    os.replace(tmp, pt_path)
    print(f"export_models: {pt_path} (max |logit diff| vs the ONNX file {diff:.1e})", flush=True)


def make_data(out, want_imagenet, want_fmnist):
    if want_imagenet:
        rng = np.random.default_rng(SEED)
        for i in range(4):
            batch = rng.standard_normal((8, 3, 224, 224), dtype=np.float32)
            save_npy(f"{out}/calib/imagenet/batch{i:02d}.npy", batch)
    if want_fmnist:
        sys.path.insert(0, os.path.join(REPO, "tools"))
        import fmnist_reference as ref
        train, _ = ref.load_split("train")
        calib = ref.preprocess(train[:500], np.float32).reshape(500, 1, 28, 28)
        for i in range(10):
            save_npy(f"{out}/calib/fmnist/batch{i:02d}.npy", calib[50 * i:50 * (i + 1)])
        test, labels = ref.load_split("t10k")
        save_npy(f"{out}/data/fmnist_test_x.npy",
                 ref.preprocess(test, np.float32).reshape(-1, 1, 28, 28))
        save_npy(f"{out}/data/fmnist_test_y.npy", labels.astype(np.uint8))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.join(REPO, "build/bench"))
    p.add_argument("--models", default=",".join(SPEED_MODELS + ("fmnist",)))
    a = p.parse_args()
    names = [n for n in a.models.split(",") if n]
    unknown = [n for n in names if n not in SPEED_MODELS + ("fmnist",)]
    if unknown:
        p.error(f"--models: unknown {unknown}; known: {', '.join(SPEED_MODELS)}, fmnist")
    threads = os.environ.get("TORCH_THREADS")
    if threads:
        import torch
        torch.set_num_threads(int(threads))
    for n in names:
        if n in SPEED_MODELS:
            export_speed_model(n, a.out)
    if "fmnist" in names:
        export_fmnist_weights(a.out)
    make_data(a.out, any(n in SPEED_MODELS for n in names), "fmnist" in names)


if __name__ == "__main__":
    main()
