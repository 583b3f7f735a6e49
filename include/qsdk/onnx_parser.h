/// @file onnx_parser.h
/// @brief IParser: imports an ONNX model (opsets 11 to 17) into an INetwork.
///
/// The supported operators, their attributes, how each maps onto qsdk nodes, the
/// handling of quantized (QuantizeLinear / DequantizeLinear) models and the conformance
/// results are listed in docs/onnx_support.md.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "qsdk/export.h"
#include "qsdk/network.h"
#include "qsdk/status.h"

namespace qsdk {

/// @brief Imports ONNX models into networks.
///
/// The parser reads an ONNX ModelProto, checks it completely (protobuf structure, opset
/// of the default domain in 11..17, every initializer's type and size, external data
/// locations, node inputs, attribute types) and lists every node whose op is not supported
/// in one status before it touches the network. It then adds one or more qsdk nodes per
/// ONNX node to the network: node and tensor names are kept (a node without a name gets
/// one made of its op type and position), constants are folded where the ONNX graph
/// computes them from initializers (e.g. Gemm's transposed B), and a dynamic dimension
/// (`dim_param`, or an unknown or 0 extent) becomes -1. QuantizeLinear /
/// DequantizeLinear become IQuantizeNode / IDequantizeNode with exactly the model's
/// parameters (a DequantizeLinear of weights: an integer constant read by an
/// IDequantizeNode), which the builder folds into quantized kernels.
///
/// Errors: every failure is a Status naming the file, node, tensor or attribute, the
/// offending value and the rule: kDataLoss for a malformed or truncated file or data that
/// does not match its shape, kVersionMismatch for an opset outside 11..17, kUnimplemented
/// for ops, types and attribute values qsdk does not support, kInvalidArgument for a
/// model that breaks an ONNX rule, kNotFound / kIoError for files. No exception escapes.
/// On failure the network is left as it was (empty): the model is imported into a
/// scratch network first, and only a successful import is repeated into @p network.
///
/// Lifetime: the parser holds no state between calls and keeps no reference to the
/// model bytes or to the network after a call returns; it may be destroyed at any time.
/// Thread-safety: one parser may be used by one thread at a time; separate parsers (and
/// separate networks) may import in parallel.
class QSDK_API IParser {
 public:
  virtual ~IParser() = default;
  /// @brief Fills @p network (empty, from CreateINetwork) from the .onnx file at @p path.
  ///
  /// External data files (initializers with `data_location = EXTERNAL`) are resolved
  /// relative to the folder holding @p path and may not leave it: an absolute location,
  /// a `..` that climbs out of it or a symbolic link that resolves outside it is
  /// rejected.
  virtual Status ParseFromFile(const std::string& path, INetwork* network) = 0;
  /// @brief Fills @p network (empty, from CreateINetwork) from the @p size bytes of an
  ///        ONNX model at @p data (only read during the call).
  ///
  /// @p model_dir is the folder where external data files live, with the same rules as
  /// for ParseFromFile; "" means the model may not use external data.
  virtual Status ParseFromMemory(const void* data, size_t size, INetwork* network,
                                 const std::string& model_dir = "") = 0;
};

/// @brief Creates an ONNX parser (owned by the caller).
QSDK_API std::unique_ptr<IParser> CreateIParser();

}  // namespace qsdk
