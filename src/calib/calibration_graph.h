// The graph calibration runs: the network's FP32 graph exactly as the builder optimizes it
// (so that the tensors observed are the ones an INT8 build quantizes), with every
// observed tensor made a graph output.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "qsdk/status.h"

namespace qsdk::calib {

struct CalibrationGraph {
  std::shared_ptr<graph::Graph> graph;
  // The graph outputs to observe: observed[k] is graph->outputs[output_index[k]]; its
  // name is also the name of a tensor of the network.
  std::vector<graph::TensorId> observed;
  std::vector<size_t> output_index;
};

// Copies `network_graph`, validates it, infers shapes and runs the builder's passes in the
// builder's order (FoldConstants, FoldBatchNorm, FuseResiduals, FuseActivations,
// RemoveDeadNodes) with the builder's default switches (all on), then
// appends every non-constant node output that has a tensor of the same name in the network
// to the graph outputs. Graph inputs are not made outputs: their statistics come from the
// samples directly.
Status BuildCalibrationGraph(const graph::Graph& network_graph, CalibrationGraph* out);

}  // namespace qsdk::calib
