#!/usr/bin/python3
"""ONNX Runtime peer, copied from the peer rig: turns an fp32 ONNX model into the QDQ int8
model that ONNX Runtime's static quantizer would produce (u8 asymmetric per-tensor
activations, s8 symmetric per-channel weights, s32 bias), from per-tensor min/max ranges
measured on calibration data.

  python3 qdq.py calib-model in.onnx out_calib.onnx      # expose every activation as an output
  python3 qdq.py quantize in.onnx ranges.json out_qdq.onnx

ranges.json comes from `ort_run.mjs calib` on the calibration model.
"""
import json, sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

QUANT_INPUT_OPS = {"Conv", "Gemm", "MatMul", "Add", "MaxPool", "AveragePool", "GlobalAveragePool",
                   "Concat", "Relu", "Clip", "Flatten", "Reshape"}

def activations(m):
    inits = {i.name for i in m.graph.initializer}
    names = []
    for n in m.graph.node:
        for t in list(n.input) + list(n.output):
            if t and t not in inits and t not in names:
                names.append(t)
    return names

def calib_model(src, dst):
    m = onnx.load(src)
    have = {o.name for o in m.graph.output}
    for t in activations(m):
        if t not in have and t not in {i.name for i in m.graph.input}:
            m.graph.output.append(helper.make_tensor_value_info(t, TensorProto.FLOAT, None))
    onnx.save(m, dst)

def qparams(lo, hi):
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / 255.0 or 1.0
    zp = int(round(-lo / scale))
    return np.float32(scale), np.uint8(min(255, max(0, zp)))

def quantize(src, ranges_path, dst):
    m = onnx.load(src)
    ranges = json.load(open(ranges_path))
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    new_nodes, new_inits = [], []
    qdq_of = {}

    def act_qdq(t):
        if t in qdq_of:
            return qdq_of[t]
        if t not in ranges:
            return t
        s, z = qparams(*ranges[t])
        sn, zn = t + "_scale", t + "_zp"
        new_inits.extend([numpy_helper.from_array(np.array(s, np.float32), sn),
                      numpy_helper.from_array(np.array(z, np.uint8), zn)])
        new_nodes.append(helper.make_node("QuantizeLinear", [t, sn, zn], [t + "_q"]))
        new_nodes.append(helper.make_node("DequantizeLinear", [t + "_q", sn, zn], [t + "_dq"]))
        qdq_of[t] = t + "_dq"
        return qdq_of[t]

    def weight_dq(name, axis):
        w = numpy_helper.to_array(inits[name]).astype(np.float32)
        red = tuple(i for i in range(w.ndim) if i != axis)
        amax = np.abs(w).max(axis=red) if w.ndim > 1 else np.abs(w)
        s = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
        shp = [1] * w.ndim; shp[axis] = -1
        q = np.clip(np.round(w / s.reshape(shp)), -127, 127).astype(np.int8)
        new_inits.extend([numpy_helper.from_array(q, name + "_q8"),
                          numpy_helper.from_array(s, name + "_wscale"),
                          numpy_helper.from_array(np.zeros_like(s, np.int8), name + "_wzp")])
        new_nodes.append(helper.make_node("DequantizeLinear", [name + "_q8", name + "_wscale", name + "_wzp"],
                                          [name + "_dq"], axis=axis))
        return name + "_dq", s

    def bias_dq(name, x_scale, w_scale):
        b = numpy_helper.to_array(inits[name]).astype(np.float32)
        s = (x_scale * w_scale).astype(np.float32)
        q = np.round(b / s).astype(np.int32)
        new_inits.extend([numpy_helper.from_array(q, name + "_q32"), numpy_helper.from_array(s, name + "_bscale"),
                          numpy_helper.from_array(np.zeros_like(q, np.int32), name + "_bzp")])
        new_nodes.append(helper.make_node("DequantizeLinear", [name + "_q32", name + "_bscale", name + "_bzp"],
                                          [name + "_dq"], axis=0))
        return name + "_dq"

    for n in g.node:
        if n.op_type in QUANT_INPUT_OPS:
            ins = list(n.input)
            if n.op_type in ("Conv", "Gemm") and ins[1] in inits:
                x = act_qdq(ins[0]); xs, _ = qparams(*ranges[ins[0]]) if ins[0] in ranges else (None, None)
                trans_b = any(a.name == "transB" and a.i == 1 for a in n.attribute)
                axis = 0 if n.op_type == "Conv" or trans_b else 1
                w, ws = weight_dq(ins[1], axis)
                ins[0], ins[1] = x, w
                if len(ins) > 2 and ins[2] in inits and xs is not None:
                    ins[2] = bias_dq(ins[2], xs, ws)
            else:
                ins = [act_qdq(t) if t not in inits and t else t for t in ins]
            del n.input[:]
            n.input.extend(ins)
        new_nodes.append(n)
    # quantize graph outputs' producers too (so the last op gets a Q after it)
    del g.node[:]
    g.node.extend(new_nodes)
    g.initializer.extend(new_inits)
    onnx.save(m, dst)

if __name__ == "__main__":
    if sys.argv[1] == "calib-model":
        calib_model(sys.argv[2], sys.argv[3])
    else:
        quantize(sys.argv[2], sys.argv[3], sys.argv[4])
