// Precision assignment: one decision per node — does it compute in INT8 or FP32, in
// which type does it read each data input and write its output, and why.
//
// Inputs, strongest first: the node's own requests (INode::SetPrecision /
// SetOutputType, already merged with the config's custom_nodes rules by the builder),
// then the global precision mode. A request that no kernel can honour fails the build
// naming the node (policy "strict") or falls back to FLOAT32 and says so in the
// decision's reason (policy "prefer"). Missing ranges are handled the same way.
#pragma once

#include <string>
#include <vector>

#include "builder/build_options.h"
#include "graph/graph.h"
#include "qsdk/data_type.h"
#include "qsdk/status.h"

namespace qsdk::builder {

struct QuantizationSettings {
  bool int8_mode = false;  // precision mode qint8_mixed_float32
  bool strict = true;      // precision policy
  ActivationScheme scheme = ActivationScheme::kSymmetric;
  bool per_channel_weights = true;
  // Nodes producing network outputs write FLOAT32 (int8 compute, FLOAT32 destination).
  bool keep_output_float = true;
};

struct NodeDecision {
  bool int8 = false;  // computes with an INT8 kernel
  // Per input slot: FLOAT32, QINT8 or QUINT8 for data inputs; INVALID for constant
  // weights / biases (quantized alongside) and absent slots.
  std::vector<DataType> input_types;
  // FLOAT32, QINT8 or QUINT8.
  DataType output_type = DataType::FLOAT32;
  std::string reason;
  bool fell_back = false;  // policy "prefer" replaced a request or default
};

// True for the ops that have an INT8 kernel: Conv, FullyConnected, MatMul with a constant
// second operand (the "heavy" ops that start a quantized region), and Pool, Elementwise,
// Concat, Reshape, Flatten (which continue one when their inputs arrive quantized).
bool HasInt8Kernel(const graph::Graph& graph, graph::NodeId id);

// The storage a tensor with `range` gets by default: QUINT8 when min >= 0; otherwise
// QINT8 (symmetric scheme) or QUINT8 with a zero point (asymmetric scheme).
DataType NaturalQuantizedType(const graph::TensorRange& range, ActivationScheme scheme);

// Decides every node of `graph` (validated, shapes inferred, passes applied).
Status AssignPrecisions(const graph::Graph& graph, const QuantizationSettings& settings,
                        std::vector<NodeDecision>* decisions);

}  // namespace qsdk::builder
