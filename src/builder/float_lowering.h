// Float-type lowering: after the INT8 / INT16 lowering, gives every float tensor the type
// it is stored in and inserts Cast nodes where a reader needs another one, so that the
// runtime sees explicit types (kernels pick their oneDNN data type from their tensors).
//
// - A node computing BF16 reads BFLOAT16 data inputs (its constant weights converted to
//   BFLOAT16 now, biases kept FLOAT32) and writes BFLOAT16, or FLOAT32 directly when that
//   is the storage (Conv / FullyConnected / MatMul: the conversion is fused into the
//   kernel's destination).
// - A node computing "FP16" runs its FP32 kernel: it reads FLOAT32 (a Cast from the stored
//   FLOAT16), writes FLOAT32 and a Cast stores the result as FLOAT16. Its constant
//   weights, biases, BatchNorm parameters and Elementwise constant operands become
//   FLOAT16 constants (the runtime widens them once at load).
// - Every other node (FP32, INT8 / INT16 / dynamic kernels with a float side, Quantize,
//   Dequantize) reads and writes FLOAT32.
// - A network output is always FLOAT32; its tensor keeps its name and id.
// Casts are shared: one per (tensor, type).
#pragma once

#include <vector>

#include "builder/precision_assignment.h"
#include "graph/graph.h"
#include "qsdk/status.h"

namespace qsdk::builder {

// `decisions` covers the nodes that existed when precisions were assigned (ids below
// decisions.size()); nodes added since (by the quantization lowering) read and write
// FLOAT32.
Status LowerFloatTypes(graph::Graph* graph, const std::vector<NodeDecision>& decisions);

}  // namespace qsdk::builder
