/// @file build_report.h
/// @brief What the builder decided for every node: precisions, kernels, fusions, reorders.
#pragma once

#include <string>
#include <vector>

#include "qsdk/data_type.h"
#include "qsdk/export.h"
#include "qsdk/node_type.h"
#include "qsdk/status.h"

namespace qsdk {

/// @brief Precision of one input or output of a node.
struct TensorPrecisionReport {
  std::string tensor;                       ///< Tensor name in the built model.
  DataType requested = DataType::INVALID;   ///< SetPrecision / SetOutputType / custom_nodes; INVALID if none.
  DataType granted = DataType::INVALID;     ///< What the kernel reads / writes (FLOAT32, QINT8, QUINT8, INT32 ...).
  std::string quantization;                 ///< "scale=0.0123 zero_point=0", "per-channel axis 0: 64 scales", or "".
};

/// @brief The decision for one node of the built model.
struct NodeReport {
  std::string name;                            ///< Node name (kept from the network).
  NodeType type = NodeType::kInvalid;          ///< Node type.
  std::string precision;                       ///< "INT8" or "FLOAT32" (what it computes in).
  std::string reason;                          ///< Why, e.g. "precision mode qint8_mixed_float32".
  bool fell_back = false;                      ///< Policy "prefer" replaced a request.
  std::vector<TensorPrecisionReport> inputs;   ///< Per input slot (absent slots omitted).
  std::vector<TensorPrecisionReport> outputs;  ///< Per output.
  std::string kernel;                          ///< Runtime kernel, e.g. "onednn_conv_int8".
  std::vector<std::string> fused;              ///< What was fused into it ("Relu", "residual add").
  bool inserted = false;                       ///< Added by the builder (Quantize / Dequantize).
};

/// @brief A layout change the runtime inserts (at batch 1; reorders depend on shapes).
struct ReorderReport {
  std::string tensor;    ///< The tensor reordered.
  std::string consumer;  ///< The node that needs the new layout ("" = network output).
  std::string from;      ///< Source layout in oneDNN tag notation (e.g. "abcd").
  std::string to;        ///< Destination layout (e.g. "aBcd16b").
};

/// @brief The build report of a model: available from IModel and stored in the engine file.
struct QSDK_API BuildReport {
  std::string precision_mode;            ///< The global mode of the build.
  std::string precision_policy;          ///< "strict" or "prefer".
  std::vector<NodeReport> nodes;         ///< In execution order.
  std::vector<ReorderReport> reorders;   ///< Reorders of a batch-1 run.
  /// @brief Build-level notes, one line each: which explicit Quantize / Dequantize nodes
  ///        were folded into quantized kernels, which were kept as kernels and why, and
  ///        which Dequantize-of-constant weights became FLOAT32 constants.
  std::vector<std::string> notes;
  /// @brief The report as a JSON document (the same as stored in the engine file).
  std::string ToJson() const;
  /// @brief Parses a document made by ToJson; every field is checked.
  static Status FromJson(const std::string& json, BuildReport* report);
};

}  // namespace qsdk
