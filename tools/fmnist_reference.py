#!/usr/bin/python3
"""Fashion-MNIST loader and an independent NumPy evaluator for the exported ONNX model.

This file deliberately does not import torch: it reads the ONNX file with the `onnx`
package only and executes the graph with NumPy, so it is an independent check of what
tools/train_fmnist.py exported (Debian's onnx 1.12 has no onnx.reference module and
onnxruntime is not packaged).

Preprocessing (the contract of models/fmnist_resnet.onnx, see models/README.md):
    x = pixel / 255                      # uint8 -> float32 in [0, 1]
    x = (x - 0.2860) / 0.3530            # Fashion-MNIST training-set mean / std
    layout [N, 1, 28, 28], float32, input name "image", output "logits" [N, 10]

Usage:
    /usr/bin/python3 tools/fmnist_reference.py models/fmnist_resnet.onnx [--limit N]
prints the top-1 accuracy of the ONNX model on the first N (default all 10,000) test images.
"""

import argparse
import gzip
import os
import struct
import sys

import numpy as np

DATASET_DIR = "/usr/share/datasets/fashion-mnist"
MEAN = 0.2860
STD = 0.3530
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


# ----------------------------------------------------------------------------- dataset

def load_idx(path):
    """Reads a gzip-compressed IDX file (the MNIST format) into a numpy uint8 array.

    Format: 2 zero bytes, 1 type byte (0x08 = uint8), 1 byte = number of dimensions,
    then one big-endian uint32 per dimension, then the data in row-major order.
    """
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4:
        raise ValueError(f"{path}: {len(data)} bytes; an IDX file has a 4-byte header")
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: magic {data[:4].hex()}; expected 0000 08 <ndim> (uint8 IDX)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated header ({len(data)} bytes, need {header})")
    dims = struct.unpack(">" + "I" * ndim, data[4:header])
    count = int(np.prod(dims, dtype=np.int64))
    if len(data) - header != count:
        raise ValueError(f"{path}: {len(data) - header} data bytes; dims {dims} need {count}")
    # Copy: frombuffer views the immutable bytes object, which torch.from_numpy rejects.
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims).copy()


def load_split(split, dataset_dir=DATASET_DIR):
    """Returns (images uint8 [N,28,28], labels int64 [N]) for split 'train' or 't10k'."""
    images = load_idx(os.path.join(dataset_dir, f"{split}-images-idx3-ubyte.gz"))
    labels = load_idx(os.path.join(dataset_dir, f"{split}-labels-idx1-ubyte.gz"))
    if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != (images.shape[0],):
        raise ValueError(f"{split}: images {images.shape}, labels {labels.shape}; "
                         "expected [N,28,28] and [N]")
    if labels.max() > 9:
        raise ValueError(f"{split}: label {labels.max()} out of range [0, 9]")
    return images, labels.astype(np.int64)


def preprocess(images_u8, dtype=np.float32):
    """uint8 [N,28,28] -> normalized [N,1,28,28]: (x/255 - MEAN) / STD."""
    x = images_u8.astype(dtype) / dtype(255.0)
    x = (x - dtype(MEAN)) / dtype(STD)
    return x[:, None, :, :]


# ----------------------------------------------------------------------------- evaluator

def _attrs(node):
    import onnx
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _pad_nchw(x, pads, value=0.0):
    # ONNX pads for 2-D spatial ops: [top, left, bottom, right].
    t, l, b, r = pads
    if t == l == b == r == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)), constant_values=value)


def _windows(x, kh, kw, sh, sw):
    # [N,C,H,W] -> [N,C,OH,OW,kh,kw] view of every window (no copy).
    v = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))
    return v[:, :, ::sh, ::sw]


def _spatial_attrs(node, a, kh, kw):
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise NotImplementedError(f"{node.name} ({node.op_type}): auto_pad {a['auto_pad']}")
    sh, sw = a.get("strides", [1, 1])
    pads = a.get("pads", [0, 0, 0, 0])
    if list(a.get("dilations", [1, 1])) != [1, 1]:
        raise NotImplementedError(f"{node.name} ({node.op_type}): dilations {a['dilations']}")
    return sh, sw, pads


def _conv(node, a, x, w, b=None):
    if a.get("group", 1) != 1:
        raise NotImplementedError(f"{node.name} (Conv): group {a['group']}")
    oc, ic, kh, kw = w.shape
    sh, sw, pads = _spatial_attrs(node, a, kh, kw)
    win = _windows(_pad_nchw(x, pads), kh, kw, sh, sw)          # [N,C,OH,OW,kh,kw]
    y = np.tensordot(win, w, axes=([1, 4, 5], [1, 2, 3]))     # [N,OH,OW,OC]
    y = np.ascontiguousarray(y.transpose(0, 3, 1, 2))
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def _pool(node, a, x, mode):
    kh, kw = a["kernel_shape"]
    sh, sw, pads = _spatial_attrs(node, a, kh, kw)
    if a.get("ceil_mode", 0):
        raise NotImplementedError(f"{node.name} ({node.op_type}): ceil_mode")
    if mode == "max":
        return _windows(_pad_nchw(x, pads, -np.inf), kh, kw, sh, sw).max(axis=(4, 5))
    s = _windows(_pad_nchw(x, pads), kh, kw, sh, sw).sum(axis=(4, 5))
    if a.get("count_include_pad", 0):
        return s / (kh * kw)
    ones = np.ones((1, 1) + x.shape[2:], dtype=x.dtype)
    return s / _windows(_pad_nchw(ones, pads), kh, kw, sh, sw).sum(axis=(4, 5))


def run_onnx(model, inputs, dtype=np.float64):
    """Executes `model` (onnx.ModelProto) on a dict name -> array; returns dict of outputs.

    Supports exactly the operators the Fashion-MNIST model may contain: Conv,
    BatchNormalization (inference form), Relu, Add, MaxPool, AveragePool,
    GlobalAveragePool, Flatten, Gemm, MatMul, Reshape, Identity, Constant.
    """
    from onnx import numpy_helper
    g = model.graph
    env = {}
    for t in g.initializer:
        v = numpy_helper.to_array(t)
        # Float weights are promoted to the evaluation dtype; int64 shapes stay as they are.
        env[t.name] = v.astype(dtype) if v.dtype.kind == "f" else v
    for name, value in inputs.items():
        env[name] = np.asarray(value, dtype=dtype)
    for node in g.node:
        a = _attrs(node)
        x = [env[n] if n else None for n in node.input]
        op = node.op_type
        if op == "Conv":
            y = _conv(node, a, *x)
        elif op == "BatchNormalization":
            xin, scale, bias, mean, var = x[:5]
            eps = a.get("epsilon", 1e-5)
            k = (scale / np.sqrt(var + eps)).reshape(1, -1, 1, 1)
            y = (xin - mean.reshape(1, -1, 1, 1)) * k + bias.reshape(1, -1, 1, 1)
        elif op == "Relu":
            y = np.maximum(x[0], 0)
        elif op == "Add":
            y = x[0] + x[1]
        elif op == "MaxPool":
            y = _pool(node, a, x[0], "max")
        elif op == "AveragePool":
            y = _pool(node, a, x[0], "avg")
        elif op == "GlobalAveragePool":
            y = x[0].mean(axis=(2, 3), keepdims=True)
        elif op == "Flatten":
            axis = a.get("axis", 1)
            s = x[0].shape
            y = x[0].reshape(int(np.prod(s[:axis])), int(np.prod(s[axis:])))
        elif op == "Gemm":
            am = x[0].T if a.get("transA", 0) else x[0]
            bm = x[1].T if a.get("transB", 0) else x[1]
            y = a.get("alpha", 1.0) * (am @ bm)
            if len(x) > 2 and x[2] is not None:
                y = y + a.get("beta", 1.0) * x[2]
        elif op == "MatMul":
            y = x[0] @ x[1]
        elif op == "Reshape":
            shape = [int(v) for v in x[1]]
            shape = [x[0].shape[i] if v == 0 else v for i, v in enumerate(shape)]
            y = x[0].reshape(shape)
        elif op == "Identity":
            y = x[0]
        elif op == "Constant":
            y = numpy_helper.to_array(a["value"])
            y = y.astype(dtype) if y.dtype.kind == "f" else y
        else:
            raise NotImplementedError(f"{node.name}: operator {op} is not supported here")
        env[node.output[0]] = y
    return {o.name: env[o.name] for o in g.output}


def onnx_top1(model, images_u8, labels, batch=500, dtype=np.float32):
    """Top-1 accuracy (fraction) of the ONNX model evaluated with NumPy."""
    in_name = model.graph.input[0].name
    out_name = model.graph.output[0].name
    correct = 0
    for i in range(0, len(labels), batch):
        x = preprocess(images_u8[i:i + batch], dtype)
        logits = run_onnx(model, {in_name: x}, dtype)[out_name]
        correct += int((logits.argmax(axis=1) == labels[i:i + batch]).sum())
    return correct / len(labels)


def main():
    import onnx
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model", help="ONNX file, e.g. models/fmnist_resnet.onnx")
    p.add_argument("--limit", type=int, default=10000, help="number of test images")
    p.add_argument("--dataset-dir", default=DATASET_DIR)
    args = p.parse_args()
    model = onnx.load(args.model)
    onnx.checker.check_model(model)
    images, labels = load_split("t10k", args.dataset_dir)
    n = max(1, min(args.limit, len(labels)))
    acc = onnx_top1(model, images[:n], labels[:n])
    print(f"NumPy evaluation of {args.model}: top-1 {100 * acc:.2f}% on {n} test images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
