// Precision assignment: one decision per node — what it computes in (FP32, BF16, FP16
// storage, INT8, INT16, dynamic INT8, or explicit quantization from Q/DQ nodes), in which
// type it reads each data input and stores its output, and why.
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

// What a node computes in.
enum class ComputePrecision {
  kFloat32,
  kFloat16,       // FLOAT16 storage of inputs / outputs / weights, FP32 arithmetic
  kBFloat16,      // oneDNN bf16 kernels (AVX512_BF16), f32 accumulation
  kInt8,          // static INT8 (QINT8 / QUINT8), from ranges
  kInt16,         // static INT16 (Conv / FullyConnected / MatMul)
  kDynamicInt8,   // FullyConnected / MatMul, activation parameters per batch at run time
  kExplicit,      // quantized by the network's own Quantize / Dequantize nodes
};
// "FLOAT32", "FLOAT16", "BFLOAT16", "INT8", "INT16", "INT8_DYNAMIC", "INT8_EXPLICIT".
const char* ComputePrecisionName(ComputePrecision p);

struct QuantizationSettings {
  bool int8_mode = false;   // precision mode qint8_*
  bool int16_mode = false;  // precision mode qint16_*
  // The mode's float part: FLOAT32, FLOAT16 or BFLOAT16.
  DataType float_type = DataType::FLOAT32;
  // Whether this CPU runs BF16 kernels natively (AVX512_BF16); when false the message
  // names the missing ISA.
  bool bf16_supported = true;
  std::string bf16_unsupported_reason;
  // Per node id: dynamic quantization selected (config or custom_nodes); may be empty.
  std::vector<bool> dynamic;
  bool strict = true;      // precision policy
  ActivationScheme scheme = ActivationScheme::kSymmetric;
  bool per_channel_weights = true;
  // Nodes producing network outputs write FLOAT32 (int8 compute, FLOAT32 destination).
  bool keep_output_float = true;
};

struct NodeDecision {
  ComputePrecision compute = ComputePrecision::kFloat32;
  bool int8 = false;  // computes with a static INT8 kernel (compute == kInt8)
  // Per input slot: FLOAT32, QINT8 or QUINT8 for data inputs; INVALID for constant
  // weights / biases (quantized alongside) and absent slots.
  std::vector<DataType> input_types;
  // INT8 nodes: FLOAT32, QINT8 or QUINT8 (what the kernel writes).
  DataType output_type = DataType::FLOAT32;
  // The type the output tensor is stored in for its float readers: FLOAT32, FLOAT16 or
  // BFLOAT16 (SetOutputType, or the compute precision's natural type). Quantized outputs
  // keep output_type.
  DataType output_storage = DataType::FLOAT32;
  std::string reason;
  bool fell_back = false;  // policy "prefer" replaced a request or default
};

// True for the ops that have an INT8 kernel: Conv, FullyConnected, MatMul with a constant
// second operand (the "heavy" ops that start a quantized region), and Pool, Elementwise,
// Concat, Reshape, Flatten (which continue one when their inputs arrive quantized).
bool HasInt8Kernel(const graph::Graph& graph, graph::NodeId id);

// True for the ops with an INT16 kernel: Conv, FullyConnected, MatMul with a constant
// second operand (also the ops dynamic quantization applies to, except Conv).
bool HasInt16Kernel(const graph::Graph& graph, graph::NodeId id);

// True for the ops with a oneDNN BF16 kernel.
bool HasBf16Kernel(NodeType type);

// The storage a tensor with `range` gets by default: QUINT8 when min >= 0; otherwise
// QINT8 (symmetric scheme) or QUINT8 with a zero point (asymmetric scheme).
DataType NaturalQuantizedType(const graph::TensorRange& range, ActivationScheme scheme);

// Decides every node of `graph` (validated, shapes inferred, passes applied).
Status AssignPrecisions(const graph::Graph& graph, const QuantizationSettings& settings,
                        std::vector<NodeDecision>* decisions);

}  // namespace qsdk::builder
