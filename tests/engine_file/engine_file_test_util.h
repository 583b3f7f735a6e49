// Helpers shared by the engine file tests: a small graph builder (over the graph tests'
// builders, graph/graph_test_util.h) and functions that patch a serialized engine in place
// (rehashing so that a patch reaches the decoder).
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
#include "graph/graph_test_util.h"
#include "graph/shape_inference.h"

namespace qsdk::engine_file::testing {

// The graph tests' builders: attributes (ConvAttrs, PoolAttrs, ...), quantization
// parameters (PerTensor, PerAxis), inputs and constants.
using namespace ::qsdk::graph::testing;  // NOLINT(build/namespaces)

// Builds graphs node by node: every op output is a new FLOAT32 tensor named
// "<node>_out".
class GraphBuilder {
 public:
  graph::TensorId Input(const std::string& name, std::vector<int64_t> shape) {
    return AddInput(&g, name, std::move(shape));
  }

  // A FLOAT32 constant filled with a deterministic pattern derived from `seed`.
  graph::TensorId Const(const std::string& name, std::vector<int64_t> shape, int seed) {
    const int64_t count = graph::ElementCount(shape);
    std::vector<float> values(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) {
      values[static_cast<size_t>(i)] = static_cast<float>((i * 7 + seed * 13) % 23) * 0.125f - 1.0f;
    }
    return AddConst(&g, name, std::move(shape), values);
  }

  // An INT8 / UINT8 / INT32 constant with quantization parameters `quant`, filled with a
  // deterministic pattern (derived from `seed`) inside the type's range.
  graph::TensorId QuantConst(const std::string& name, DataType dtype, std::vector<int64_t> shape,
                             graph::QuantParams quant, int seed) {
    const int64_t count = graph::ElementCount(shape);
    std::vector<uint8_t> bytes(static_cast<size_t>(count) * DataTypeSize(dtype));
    for (int64_t i = 0; i < count; ++i) {
      const int32_t v = static_cast<int32_t>((i * 37 + seed * 11) % 251) - 125;
      if (dtype == DataType::INT32) {
        StoreU32(bytes.data() + 4 * i, static_cast<uint32_t>(v * 1000 + 7));
      } else {
        bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
      }
    }
    return AddTypedConstant(&g, name, dtype, std::move(shape), bytes, std::move(quant));
  }

  // Makes the output of an op quantized (as the quantization pass does before shape
  // inference keeps the type).
  void Quantized(graph::TensorId id, DataType dtype, graph::QuantParams quant) {
    SetQuantized(&g, id, dtype, std::move(quant));
  }

  graph::TensorId Op(NodeType type, const std::string& name, std::vector<graph::TensorId> inputs,
                     graph::AttrMap attrs = {}) {
    return dataflow::AddOp(&g, type, name, std::move(inputs), std::move(attrs), name + "_out");
  }

  graph::Graph g;
};

inline graph::TensorRange Range(std::vector<float> min, std::vector<float> max, int32_t axis,
                                bool manual) {
  graph::TensorRange r;
  r.min = std::move(min);
  r.max = std::move(max);
  r.axis = axis;
  r.manual = manual;
  return r;
}

// A quantized branch on `x` ([N, C, H, W] FLOAT32 with C = `channels`), as the builder
// lowers it: Quantize (UINT8, per tensor) -> 3x3 pad-1 conv with INT8 per-channel weights
// (4 output channels, axis 0), an INT32 per-channel bias and an INT8 per-tensor output
// with fused relu -> 2x2 max pool (INT8) -> Dequantize. Names start with `prefix`.
// `weight_scales` has 4 entries. Returns the Dequantize output ([N, 4, H/2, W/2]).
inline graph::TensorId QuantizedConvBranch(GraphBuilder* b, graph::TensorId x, int64_t channels,
                                           const std::string& prefix,
                                           std::vector<float> weight_scales) {
  const auto q = b->Op(NodeType::kQuantize, prefix + "quantize", {x});
  b->Quantized(q, DataType::UINT8, PerTensor(0.05f, 128));
  const auto w = b->QuantConst(prefix + "conv_w", DataType::INT8, {4, channels, 3, 3},
                               PerAxis(std::move(weight_scales), 0), 5);
  const auto bias = b->QuantConst(prefix + "conv_b", DataType::INT32, {4},
                                  PerAxis({1e-3f, 7.5e-4f, 2e-3f, 1.25e-3f}, 0), 6);
  const auto conv = b->Op(NodeType::kConv, prefix + "conv", {q, w, bias},
                          ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1, ActivationType::kRelu));
  b->Quantized(conv, DataType::INT8, PerTensor(0.1f, -3));
  const auto pool =
      b->Op(NodeType::kPool, prefix + "pool", {conv}, PoolAttrs(PoolMode::kMax, {2, 2}, {2, 2}));
  b->Quantized(pool, DataType::INT8, PerTensor(0.1f, -3));
  return b->Op(NodeType::kDequantize, prefix + "dequantize", {pool});
}

// The fuzz target: a quantized conv (see QuantizedConvBranch) -> fully connected, with
// dynamic batch, a manual input range and a calibrated range, so that the byte sweeps
// cover quantization parameters and ranges too. About 3 KB serialized.
inline graph::Graph SmallQuantizedCnn() {
  GraphBuilder b;
  const auto x = b.Input("x", {-1, 2, 6, 6});
  b.g.tensors[x].range = Range({-6.0f}, {6.0f}, -1, /*manual=*/true);
  const auto pool = QuantizedConvBranch(&b, x, 2, "", {0.02f, 0.015f, 0.025f, 0.03f});
  b.g.tensors[b.g.FindTensor("conv_out")].range = Range({0.0f}, {12.5f}, -1, /*manual=*/false);
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
// equal to it: tensors precede nodes). Fields follow docs/engine_format.md. kScale,
// kZeroPoint, kRangeMin and kRangeMax are the first element of their list.
enum class TensorField {
  kDtype,
  kRank,
  kProducer,
  kDataSection,
  kDataOffset,
  kDataSize,
  kQuantCount,
  kScale,
  kZeroPoint,
  kQuantAxis,
  kRangeCount,
  kRangeMin,
  kRangeMax,
  kRangeAxis,
  kRangeManual,
};
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
  pos += 8;
  if (field == TensorField::kDataSize) return pos;
  pos += 8;
  if (field == TensorField::kQuantCount) return pos;
  const uint32_t quant_count = LoadU32(bytes.data() + pos);
  pos += 4;
  if (field == TensorField::kScale) return pos;
  pos += 4 * size_t{quant_count};
  if (field == TensorField::kZeroPoint) return pos;
  pos += 4 * size_t{quant_count};
  if (field == TensorField::kQuantAxis) return pos;
  pos += 4;
  if (field == TensorField::kRangeCount) return pos;
  const uint32_t range_count = LoadU32(bytes.data() + pos);
  pos += 4;
  if (field == TensorField::kRangeMin) return pos;
  pos += 4 * size_t{range_count};
  if (field == TensorField::kRangeMax) return pos;
  pos += 4 * size_t{range_count};
  if (field == TensorField::kRangeAxis) return pos;
  return pos + 4;
}

inline void StoreF32(uint8_t* p, float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  StoreU32(p, bits);
}

// Replaces `erase` bytes at file position `pos` (inside the metadata section) by
// `insert`, then lays the file out again as the writer would: the metadata section
// resized, every later section moved to its alignment, the table, file size and hashes
// updated. So a change of a record's length (e.g. a count and its elements) reaches the
// decoder.
inline void SpliceMetadata(std::vector<uint8_t>* bytes, size_t pos, size_t erase,
                           const std::vector<uint8_t>& insert) {
  const uint32_t count = LoadU32(bytes->data() + kOffSectionCount);
  std::vector<std::vector<uint8_t>> sections(count);
  for (uint32_t i = 0; i < count; ++i) {
    const auto begin = bytes->begin() + static_cast<std::ptrdiff_t>(SectionOffset(*bytes, i));
    sections[i].assign(begin, begin + static_cast<std::ptrdiff_t>(SectionSize(*bytes, i)));
  }
  const size_t at = pos - SectionOffset(*bytes, 0);
  sections[0].erase(sections[0].begin() + static_cast<std::ptrdiff_t>(at),
                    sections[0].begin() + static_cast<std::ptrdiff_t>(at + erase));
  sections[0].insert(sections[0].begin() + static_cast<std::ptrdiff_t>(at), insert.begin(),
                     insert.end());
  std::vector<uint8_t> out(bytes->begin(),
                           bytes->begin() + static_cast<std::ptrdiff_t>(kHeaderSize +
                                                                        count * kSectionEntrySize));
  for (uint32_t i = 0; i < count; ++i) {
    uint8_t* entry = out.data() + kHeaderSize + i * kSectionEntrySize;
    const uint32_t alignment = LoadU32(entry + kOffEntryAlignment);
    const size_t offset = (out.size() + alignment - 1) / alignment * alignment;
    StoreU64(entry + kOffEntryOffset, offset);
    StoreU64(entry + kOffEntrySize, sections[i].size());
    out.resize(offset, 0);
    out.insert(out.end(), sections[i].begin(), sections[i].end());
  }
  StoreU64(out.data() + kOffFileSize, out.size());
  bytes->swap(out);
  Rehash(bytes);
}

}  // namespace qsdk::engine_file::testing
