// Reference kernels: the executable specification of every op. Plain, obviously-correct
// C++ (Eigen where it helps), no blocking, no threads. Every fast kernel is tested
// against these, and constant folding evaluates nodes with them.
//
// Tensors are qsdk::Tensor: dense row-major (NCHW), FLOAT32 / FLOAT16 / BFLOAT16, or
// INT8 / UINT8 / INT16 / INT32 for quantized tensors, whose parameters (scale, zero
// point, axis) are those of the graph tensor they belong to (docs/quantization.md;
// kernels in quantized_ops.h, int16_ops.h, dynamic_quant.h; float conversions in
// float_types.h).
#pragma once

#include <vector>

#include "graph/graph.h"
#include "qsdk/status.h"
#include "qsdk/tensor.h"

namespace qsdk::reference {

// Evaluates node `id` of `graph`. `inputs` has one entry per node input slot (nullptr for
// an absent optional input); their shapes are the concrete shapes to compute with (the
// graph's shapes may contain -1). Fills `outputs` with newly allocated tensors, one per
// node output, named after the graph tensors. Honours the fused activation attributes
// (attr::kFusedActivation) of Conv / FullyConnected / MatMul and the fused residual
// (attr::kFusedSum, input 3) of Conv / FullyConnected. Each input has the type of its
// graph tensor; a node with a quantized input or output runs the quantized kernel (INT8,
// or INT16 when an operand is INT16; dynamic INT8 for attr::kDynamicQuantization) and its
// output has the graph's type with the values docs/quantization.md gives. FLOAT16 /
// BFLOAT16 inputs are widened exactly, the FP32 operator runs, and a FLOAT16 / BFLOAT16
// output is the FP32 result rounded once (float_types.h). Quantize / Dequantize convert
// between FLOAT32 and quantized tensors; Cast between float types.
Status EvalNode(const graph::Graph& graph, graph::NodeId id,
                const std::vector<const Tensor*>& inputs, std::vector<Tensor>* outputs);

// Runs the whole graph on `inputs` (one per graph input, in order, of the declared type:
// FLOAT32, or INT8 / UINT8 / INT16 for a quantized graph input). Constants come from the
// graph.
// `outputs` receives one tensor per graph output, in order, of the graph's type. A fully
// lowered INT8 graph (FLOAT32 inputs -> Quantize -> quantized ops -> Dequantize ->
// FLOAT32 outputs) runs like any other.
Status RunGraph(const graph::Graph& graph, const std::vector<Tensor>& inputs,
                std::vector<Tensor>* outputs);

}  // namespace qsdk::reference
