// The engine file (docs/engine_format.md): a fixed header, a section table with a
// per-section xxHash64, a metadata section and 64-byte aligned weight sections.
// Data only: no code, no paths.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "qsdk/status.h"

namespace qsdk::engine_file {

// The current format version written by this build (and the newest it can read).
inline constexpr uint32_t kFormatVersion = 2;

// What an engine file holds besides the graph.
struct EngineMetadata {
  std::string model_name;
  std::string build_config_json;  // IBuilderConfig::ToJson() of the build
  std::string build_report_json;  // the builder's JSON build report
  std::string qsdk_version;       // filled by Write; checked/reported on Read
  std::string onednn_version;     // filled by Write
  std::string required_isa;       // e.g. "avx512_core"; filled by the builder
};

// Serializes `graph` (every node, attribute, precision request, tensor, constant,
// quantization parameters and range) and `meta` into `bytes`. Refuses (kInvalidArgument,
// `bytes` untouched) a graph whose tensors Read would reject: quantization parameters or
// ranges breaking the rules in docs/engine_format.md, over-long strings, bad constants.
Status Write(const graph::Graph& graph, const EngineMetadata& meta, std::vector<uint8_t>* bytes);

// Parses and validates `size` bytes at `data`: header, version, every section's bounds,
// alignment and checksum, every count, enum, id and shape product, before allocating.
// Then runs graph::Graph::Validate and graph::InferShapes, and checks every tensor's
// quantization parameters and range against its final shape. All-or-nothing: on failure
// `graph` and `meta` are untouched. Never crashes on hostile input.
Status Read(const uint8_t* data, size_t size, graph::Graph* graph, EngineMetadata* meta);

}  // namespace qsdk::engine_file
