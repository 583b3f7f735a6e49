#!/usr/bin/python3
"""Writes the small ONNX models the qsdk tool's end-to-end tests build.

tiny_cnn.onnx: a small classifier.

Fashion-MNIST shaped: input "image" [N,1,28,28] float32 (N symbolic), output "logits"
[N,10]. A stem conv + BatchNorm + ReLU, max pool, a residual block, a strided conv,
global average pooling and a Gemm classifier, with seeded random weights (untrained):
the tests compare qsdk with itself, not with labels. About 3 KB.

two_inputs.onnx: inputs "a" and "b" [N,4] float32, output "y" = Gemm(a + b) [N,3]; for
the commands' handling of several inputs.

Run with Debian's python3-onnx and python3-numpy:  /usr/bin/python3 make_tiny_cnn.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(20240611)


def he(shape, fan_in):
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


inits = [
    init("stem.w", he((4, 1, 3, 3), 9)),
    init("stem.b", rng.uniform(-0.1, 0.1, 4)),
    init("bn.scale", rng.uniform(0.8, 1.2, 4)),
    init("bn.bias", rng.uniform(-0.1, 0.1, 4)),
    init("bn.mean", rng.uniform(-0.1, 0.1, 4)),
    init("bn.var", rng.uniform(0.5, 1.5, 4)),
    init("block.w", he((4, 4, 3, 3), 36)),
    init("block.b", rng.uniform(-0.1, 0.1, 4)),
    init("down.w", he((8, 4, 3, 3), 36)),
    init("down.b", rng.uniform(-0.1, 0.1, 8)),
    init("fc.w", he((10, 8), 8)),
    init("fc.b", rng.uniform(-0.1, 0.1, 10)),
]

nodes = [
    helper.make_node("Conv", ["image", "stem.w", "stem.b"], ["stem"], name="stem",
                     kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    helper.make_node("BatchNormalization", ["stem", "bn.scale", "bn.bias", "bn.mean", "bn.var"],
                     ["stem_bn"], name="stem_bn", epsilon=1e-5),
    helper.make_node("Relu", ["stem_bn"], ["stem_relu"], name="stem_relu"),
    helper.make_node("MaxPool", ["stem_relu"], ["pool"], name="pool", kernel_shape=[2, 2],
                     strides=[2, 2]),
    helper.make_node("Conv", ["pool", "block.w", "block.b"], ["block"], name="block",
                     kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["block"], ["block_relu"], name="block_relu"),
    helper.make_node("Add", ["block_relu", "pool"], ["residual"], name="residual"),
    helper.make_node("Conv", ["residual", "down.w", "down.b"], ["down"], name="down",
                     kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["down"], ["down_relu"], name="down_relu"),
    helper.make_node("GlobalAveragePool", ["down_relu"], ["gap"], name="gap"),
    helper.make_node("Flatten", ["gap"], ["flat"], name="flatten", axis=1),
    helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], name="fc", transB=1),
]

graph = helper.make_graph(
    nodes, "tiny_cnn",
    [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 28, 28])],
    [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
    initializer=inits)
model = helper.make_model(graph, producer_name="qsdk-tests",
                          opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
onnx.checker.check_model(model)
here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "tiny_cnn.onnx")
onnx.save(model, out)
print(f"wrote {out} ({os.path.getsize(out)} bytes)")

two = helper.make_graph(
    [helper.make_node("Add", ["a", "b"], ["sum"], name="add"),
     helper.make_node("Gemm", ["sum", "w", "c"], ["y"], name="fc", transB=1)],
    "two_inputs",
    [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 4]),
     helper.make_tensor_value_info("b", TensorProto.FLOAT, ["N", 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
    initializer=[init("w", he((3, 4), 4)), init("c", rng.uniform(-0.1, 0.1, 3))])
model = helper.make_model(two, producer_name="qsdk-tests",
                          opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
onnx.checker.check_model(model)
out = os.path.join(here, "two_inputs.onnx")
onnx.save(model, out)
print(f"wrote {out} ({os.path.getsize(out)} bytes)")
