// Loading an ONNX model: reading the file, parsing the protobuf (never trusting it), and
// the model-level checks (graph present, IR version, opset imports).
#pragma once

#include <onnx/onnx_pb.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "qsdk/status.h"

namespace qsdk::onnx {

// Opsets of the default ONNX domain the importer implements.
inline constexpr int64_t kMinOpset = 11;
inline constexpr int64_t kMaxOpset = 17;

// What the model-level checks learned.
struct ModelInfo {
  int64_t opset = 0;              // version of the default domain
  std::set<std::string> domains;  // every imported domain ("" for the default one)
};

// True for the default ONNX domain ("" or "ai.onnx").
bool IsDefaultDomain(const std::string& domain);

// Reads the whole file at `path` (kNotFound when it does not exist or is not a regular
// file, kIoError when reading fails).
Status ReadModelFile(const std::string& path, std::string* bytes);

// Parses `size` bytes at `data` as a ModelProto. A malformed or truncated message is
// kDataLoss; a message above protobuf's 2 GiB limit is kUnimplemented (such models keep
// their weights in external data files).
Status ParseModel(const void* data, size_t size, ::onnx::ModelProto* model);

// Model-level checks: a graph is present, ir_version >= 3 (the first with opset
// imports), one version of the default domain (kVersionMismatch outside kMinOpset ..
// kMaxOpset), no duplicate domain, no sparse initializers.
Status ValidateModel(const ::onnx::ModelProto& model, ModelInfo* info);

}  // namespace qsdk::onnx
