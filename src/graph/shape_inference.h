// Shape inference and validation: the builder rules "shape and legality" of every op.
// The network runs it as nodes are added, the builder before its passes, the engine
// loader on every file, and the runtime at each new input shape (on a copy of the graph
// whose input shapes are concrete).
#pragma once

#include <string>

#include "graph/graph.h"
#include "qsdk/status.h"

namespace qsdk::graph {

// Validates node `id` (input count, which inputs must be present / constant, input
// ranks, dtypes and shapes, attribute values) and sets the shape and dtype of its output
// tensors from its input shapes. Input shapes must already be set. -1 extents propagate
// (a dynamic batch stays -1). Messages name the node, the input / attribute, the value
// and the rule, e.g. "node 'conv1' (Conv): input 1 'w' has 2 dims; a filter needs 4
// ([OC, C/group, KH, KW])".
Status InferNodeShapes(Graph* graph, NodeId id);

// Checks the quantization parameters of `tensor` against its dtype and shape: as many
// zero points as scales; axis -1 (per tensor, one scale) or a dimension of the shape with
// one scale per index (a dynamic extent accepts any count); each scale finite and > 0;
// each zero point within the range of the storage type (INT8, UINT8, INT16; 0 for INT32
// biases), and no other type quantized. Shape inference applies these rules to every
// tensor a node reads and to the outputs of Const and Quantize; the engine file to every
// tensor it reads or writes. Messages start with `what`, e.g. "tensor 'w' has scale[2] =
// 0; a scale must be finite and > 0".
Status CheckQuantParams(const Tensor& tensor, const std::string& what);

// Runs InferNodeShapes on every node in topological order. Graph input and constant
// shapes are taken as given.
Status InferShapes(Graph* graph);

}  // namespace qsdk::graph
