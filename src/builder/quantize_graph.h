// INT8 lowering: rewrites a graph according to the precision decisions so that the
// runtime sees explicit types. For each INT8 node:
// - each data input is read in its decided quantized type: the quantized output of an
//   INT8 producer when it matches, otherwise a Quantize node (from FLOAT32, or a
//   requantize from another quantized version) with parameters from the tensor's range;
// - Conv / FullyConnected / MatMul weights become INT8 constants (per output channel or
//   per tensor), biases INT32 constants in the accumulator's scale;
// - a quantized output is written to a new tensor "<name>/q"; the original tensor (name,
//   id, network-output status) is then produced by a Dequantize node for FLOAT32 readers;
// - Concat: every input carries the output's scale (one scale for the inputs of a concat),
//   set on the producer's output when the concat is its only reader, else requantized.
// Unused nodes and tensors are left for dead node removal.
#pragma once

#include <vector>

#include "builder/precision_assignment.h"
#include "graph/graph.h"
#include "qsdk/status.h"

namespace qsdk::builder {

Status QuantizeGraph(graph::Graph* graph, const std::vector<NodeDecision>& decisions,
                     const QuantizationSettings& settings);

}  // namespace qsdk::builder
