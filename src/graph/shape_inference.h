// Shape inference and validation: the builder rules "shape and legality" of every op.
// The network runs it as nodes are added, the builder before its passes, the engine
// loader on every file, and the runtime at each new input shape (on a copy of the graph
// whose input shapes are concrete).
#pragma once

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

// Runs InferNodeShapes on every node in topological order. Graph input and constant
// shapes are taken as given.
Status InferShapes(Graph* graph);

}  // namespace qsdk::graph
