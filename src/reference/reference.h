// Reference kernels: the executable specification of every op. Plain, obviously-correct
// C++ (Eigen where it helps), no blocking, no threads. Every fast kernel is tested
// against these, and constant folding evaluates nodes with them.
//
// Tensors are qsdk::Tensor: dense row-major (NCHW), FLOAT32 for now.
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
// (attr::kFusedActivation) of Conv / FullyConnected / MatMul.
Status EvalNode(const graph::Graph& graph, graph::NodeId id,
                const std::vector<const Tensor*>& inputs, std::vector<Tensor>* outputs);

// Runs the whole graph on `inputs` (one per graph input, in order). Constants come from
// the graph. `outputs` receives one tensor per graph output, in order.
Status RunGraph(const graph::Graph& graph, const std::vector<Tensor>& inputs,
                std::vector<Tensor>* outputs);

}  // namespace qsdk::reference
