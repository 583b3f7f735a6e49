// Helpers shared by the engine file tests: a small graph builder and functions that
// patch a serialized engine in place (rehashing so that a patch reaches the decoder).
#pragma once

#include <xxhash.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "engine_file/byte_io.h"
#include "engine_file/format.h"
#include "graph/graph.h"
#include "graph/shape_inference.h"

namespace qsdk::engine_file::testing {

// Builds graphs node by node: every op output is a new FLOAT32 tensor named
// "<node>_out".
class GraphBuilder {
 public:
  graph::TensorId Input(const std::string& name, std::vector<int64_t> shape) {
    graph::Tensor t;
    t.name = name;
    t.dtype = DataType::FLOAT32;
    t.shape = std::move(shape);
    const graph::TensorId id = g.AddTensor(std::move(t));
    g.inputs.push_back(id);
    return id;
  }

  // A FLOAT32 constant filled with a deterministic pattern derived from `seed`.
  graph::TensorId Const(const std::string& name, std::vector<int64_t> shape, int seed) {
    const int64_t count = graph::ElementCount(shape);
    std::vector<float> values(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) {
      values[static_cast<size_t>(i)] = static_cast<float>((i * 7 + seed * 13) % 23) * 0.125f - 1.0f;
    }
    return g.AddConstant(name, DataType::FLOAT32, std::move(shape), values.data(),
                         values.size() * sizeof(float));
  }

  graph::TensorId Op(NodeType type, const std::string& name, std::vector<graph::TensorId> inputs,
                     graph::AttrMap attrs = {}) {
    graph::Tensor out;
    out.name = name + "_out";
    const graph::TensorId id = g.AddTensor(std::move(out));
    graph::Node n;
    n.type = type;
    n.name = name;
    n.inputs = std::move(inputs);
    n.outputs = {id};
    n.attrs = std::move(attrs);
    g.AddNode(std::move(n));
    return id;
  }

  graph::Graph g;
};

inline graph::AttrMap ConvAttrs(std::vector<int64_t> pads, int64_t group, int64_t fused) {
  graph::AttrMap a;
  a.SetInts(graph::attr::kStrides, {1, 1});
  a.SetInts(graph::attr::kPads, std::move(pads));
  a.SetInts(graph::attr::kDilations, {1, 1});
  a.SetInt(graph::attr::kGroup, group);
  a.SetInt(graph::attr::kFusedActivation, fused);
  a.SetFloat(graph::attr::kFusedAlpha, 0.0);
  a.SetFloat(graph::attr::kFusedBeta, 0.0);
  return a;
}

inline graph::AttrMap PoolAttrs(PoolMode mode) {
  graph::AttrMap a;
  a.SetInt(graph::attr::kPoolMode, static_cast<int64_t>(mode));
  a.SetInts(graph::attr::kKernel, {2, 2});
  a.SetInts(graph::attr::kStrides, {2, 2});
  a.SetInts(graph::attr::kPads, {0, 0, 0, 0});
  a.SetInt(graph::attr::kCountIncludePad, 0);
  a.SetInt(graph::attr::kCeilMode, 0);
  return a;
}

// The fuzz target: conv (3x3, pad 1) + fused relu -> max pool 2x2 -> fully connected,
// with dynamic batch. About 2.5 KB serialized.
inline graph::Graph SmallCnn() {
  GraphBuilder b;
  const auto x = b.Input("x", {-1, 2, 6, 6});
  const auto w = b.Const("conv_w", {4, 2, 3, 3}, 1);
  const auto bias = b.Const("conv_b", {4}, 2);
  const auto conv = b.Op(NodeType::kConv, "conv", {x, w, bias},
                         ConvAttrs({1, 1, 1, 1}, 1, static_cast<int64_t>(ActivationType::kRelu)));
  const auto pool = b.Op(NodeType::kPool, "pool", {conv}, PoolAttrs(PoolMode::kMax));
  const auto fc_w = b.Const("fc_w", {5, 36}, 3);
  const auto fc_b = b.Const("fc_b", {5}, 4);
  graph::AttrMap fc;
  fc.SetInt(graph::attr::kFusedActivation, 0);
  const auto y = b.Op(NodeType::kFullyConnected, "fc", {pool, fc_w, fc_b}, fc);
  b.g.outputs.push_back(y);
  return std::move(b.g);
}

// Position of the first occurrence of `needle` in `bytes` at or after `from`, or npos.
inline size_t Find(const std::vector<uint8_t>& bytes, const std::vector<uint8_t>& needle,
                   size_t from = 0) {
  auto it = std::search(bytes.begin() + static_cast<std::ptrdiff_t>(from), bytes.end(),
                        needle.begin(), needle.end());
  return it == bytes.end() ? std::string::npos : static_cast<size_t>(it - bytes.begin());
}

// Position of the first metadata string equal to `s` (its uint32 length prefix), or npos.
inline size_t FindEncodedString(const std::vector<uint8_t>& bytes, const std::string& s) {
  std::vector<uint8_t> needle(4 + s.size());
  StoreU32(needle.data(), static_cast<uint32_t>(s.size()));
  std::memcpy(needle.data() + 4, s.data(), s.size());
  return Find(bytes, needle);
}

inline uint64_t SectionOffset(const std::vector<uint8_t>& bytes, uint32_t i) {
  return LoadU64(bytes.data() + kHeaderSize + i * kSectionEntrySize + kOffEntryOffset);
}
inline uint64_t SectionSize(const std::vector<uint8_t>& bytes, uint32_t i) {
  return LoadU64(bytes.data() + kHeaderSize + i * kSectionEntrySize + kOffEntrySize);
}

// Recomputes the header hash over the header and `section_count` table entries.
inline void RehashHeader(std::vector<uint8_t>* bytes, uint32_t section_count) {
  XXH64_state_t* state = XXH64_createState();
  XXH64_reset(state, kHashSeed);
  XXH64_update(state, bytes->data(), kOffHeaderHash);
  XXH64_update(state, bytes->data() + kHeaderSize, section_count * kSectionEntrySize);
  StoreU64(bytes->data() + kOffHeaderHash, XXH64_digest(state));
  XXH64_freeState(state);
}

// Recomputes every section hash (from the table as it is) and then the header hash, so
// that a patched metadata byte passes the checksums and reaches the decoder.
inline void Rehash(std::vector<uint8_t>* bytes) {
  const uint32_t count = LoadU32(bytes->data() + kOffSectionCount);
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t offset = SectionOffset(*bytes, i);
    const uint64_t size = SectionSize(*bytes, i);
    StoreU64(bytes->data() + kHeaderSize + i * kSectionEntrySize + kOffEntryHash,
             XXH64(bytes->data() + offset, size, kHashSeed));
  }
  RehashHeader(bytes, count);
}

// Byte position of a field of the tensor record named `name` (the first metadata string
// equal to it: tensors precede nodes). Fields follow docs/engine_format.md.
enum class TensorField { kDtype, kRank, kProducer, kDataSection, kDataOffset, kDataSize };
inline size_t TensorFieldPos(const std::vector<uint8_t>& bytes, const std::string& name,
                             TensorField field) {
  const size_t at = FindEncodedString(bytes, name);
  if (at == std::string::npos) return at;
  size_t pos = at + 4 + name.size();
  if (field == TensorField::kDtype) return pos;
  pos += 4;
  if (field == TensorField::kRank) return pos;
  const uint32_t rank = LoadU32(bytes.data() + pos);
  pos += 4 + 8 * size_t{rank};
  if (field == TensorField::kProducer) return pos;
  pos += 4;
  if (field == TensorField::kDataSection) return pos;
  pos += 4;
  if (field == TensorField::kDataOffset) return pos;
  return pos + 8;
}

}  // namespace qsdk::engine_file::testing
