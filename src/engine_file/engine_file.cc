#include "engine_file/engine_file.h"

#include <oneapi/dnnl/dnnl_version.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <iomanip>
#include <limits>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#define XXH_STATIC_LINKING_ONLY  // XXH64_state_t on the stack
#include <xxhash.h>

#include "common/aligned_buffer.h"
#include "common/status_macros.h"
#include "engine_file/byte_io.h"
#include "engine_file/format.h"
#include "graph/shape_inference.h"
#include "qsdk/version.h"

namespace qsdk::engine_file {
namespace {

// Minimum encoded sizes of metadata records (see docs/engine_format.md), used to bound
// counts by the bytes that remain before anything is reserved.
// Tensor: name length, dtype, rank, producer, data section, offset, size, then the
// quantization (count, axis) and range (count, axis, manual) with empty lists.
constexpr size_t kMinTensorRecordBytes = 4 + 4 + 4 + 4 + 4 + 8 + 8 + (4 + 4) + (4 + 4 + 1);
// One scale and one zero point; one min and one max.
constexpr size_t kQuantEntryBytes = 4 + 4;
constexpr size_t kRangeEntryBytes = 4 + 4;
constexpr size_t kMinNodeRecordBytes = 4 + 4 + 4 + 4 + 4;
constexpr size_t kMinAttrRecordBytes = 4 + 1 + 4;

uint64_t AlignUp(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

std::string Hex(uint64_t v) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s = "0x";
  bool started = false;
  for (int shift = 60; shift >= 0; shift -= 4) {
    const int d = static_cast<int>((v >> shift) & 0xF);
    if (d != 0 || started || shift == 0) {
      s += kDigits[d];
      started = true;
    }
  }
  return s;
}

// Characters allowed in the fixed-size header strings.
bool IsVersionChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
         c == '-' || c == '+' || c == '_';
}
bool IsIsaChar(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '_'; }

// Checks a value for a fixed-size header string: length and character set.
Status CheckFixedString(const std::string& value, const char* field, bool (*allowed)(char),
                        bool may_be_empty) {
  if (value.empty() && !may_be_empty) {
    return InvalidArgument("engine_file::Write: ", field, " is empty");
  }
  if (value.size() >= kFixedStringSize) {
    return InvalidArgument("engine_file::Write: ", field, " '", value, "' has ", value.size(),
                           " characters; the header field holds at most ", kFixedStringSize - 1);
  }
  for (char c : value) {
    if (!allowed(c)) {
      return InvalidArgument("engine_file::Write: ", field, " '", value,
                             "' contains a character outside the allowed set");
    }
  }
  return Status::Ok();
}

// Number of bytes of a constant with this dtype and shape; false if the shape is not
// fully defined or the product overflows.
bool ConstantBytes(DataType dtype, const std::vector<int64_t>& shape, uint64_t* bytes) {
  const int64_t count = graph::ElementCount(shape);
  if (count < 0) return false;
  const uint64_t elem = DataTypeSize(dtype);
  if (elem == 0) return false;
  if (static_cast<uint64_t>(count) > std::numeric_limits<uint64_t>::max() / elem) return false;
  *bytes = static_cast<uint64_t>(count) * elem;
  return true;
}

// True when every extent is >= -1 and the product of the known extents fits in int64
// (so later size arithmetic on the shape, once -1 is bound, starts from a sane value).
bool ShapeIsSane(const std::vector<int64_t>& shape) {
  int64_t product = 1;
  for (int64_t d : shape) {
    if (d < -1) return false;
    if (d > 0) {
      if (product > std::numeric_limits<int64_t>::max() / d) return false;
      product *= d;
    }
  }
  return true;
}

bool IsValidPrecision(int32_t v) { return v >= 0 && v <= kDataTypeCount; }

// A float with enough digits to tell neighbouring values apart in messages.
std::string FloatText(float v) {
  std::ostringstream s;
  s << std::setprecision(std::numeric_limits<float>::max_digits10) << v;
  return s.str();
}

// Quantization parameters of `tensor` against its dtype and (final) shape: the rules of
// graph::CheckQuantParams, which shape inference applies to the tensors nodes read and to
// Const and Quantize outputs. Some tensors never reach shape inference (a quantized graph
// output no node reads, a graph input no node reads), and Write does not run it; so the
// file layer applies them to every tensor. Read runs this after InferShapes, so for the
// tensors shape inference covers its message (which names the node) comes first. Also
// checks what only the file needs: axis -1 when there are no parameters (the encoding of
// "not quantized" is unique), and a count that fits the file's 32-bit field.
Status CheckQuant(const graph::Tensor& tensor, const std::string& what) {
  const graph::QuantParams& q = tensor.quant;
  // With unequal counts, CheckQuantParams reports the mismatch first.
  if (q.zero_points.size() == q.scales.size()) {
    if (q.scales.empty()) {
      if (q.axis != -1) {
        return InvalidArgument(what, " has no quantization scales but quantization axis ",
                               q.axis, "; a tensor that is not quantized has axis -1");
      }
      return Status::Ok();
    }
    if (q.scales.size() > std::numeric_limits<uint32_t>::max()) {
      return InvalidArgument(what, " has ", q.scales.size(), " quantization scales, too many");
    }
  }
  return graph::CheckQuantParams(tensor, what);
}

// The range of `tensor` against its (final) shape: as many minima as maxima, one (axis
// -1) or one per index of the axis, each finite with min <= max. An empty range has axis
// -1 and is not manual (the encoding of "no range" is unique). Nothing else in qsdk
// validates ranges before the quantization pass reads them.
Status CheckRange(const graph::Tensor& tensor, const std::string& what) {
  const graph::TensorRange& r = tensor.range;
  if (r.min.size() != r.max.size()) {
    return InvalidArgument(what, " has a range with ", r.min.size(), " minima but ",
                           r.max.size(), " maxima; they must match");
  }
  if (r.min.empty()) {
    if (r.axis != -1 || r.manual) {
      return InvalidArgument(what, " has an empty range with axis ", r.axis, " and manual ",
                             r.manual ? "true" : "false",
                             "; an empty range has axis -1 and is not manual");
    }
    return Status::Ok();
  }
  if (r.min.size() > std::numeric_limits<uint32_t>::max()) {
    return InvalidArgument(what, " has ", r.min.size(), " range entries, too many");
  }
  if (r.axis < -1 || r.axis >= static_cast<int64_t>(tensor.shape.size())) {
    return InvalidArgument(what, " has range axis ", r.axis,
                           "; it must be -1 (per tensor) or in [0, ", tensor.shape.size(), ")");
  }
  if (r.axis < 0 && r.min.size() != 1) {
    return InvalidArgument(what, " has a per-tensor range with ", r.min.size(),
                           " entries; it needs exactly 1");
  }
  if (r.axis >= 0) {
    const int64_t extent = tensor.shape[static_cast<size_t>(r.axis)];
    if (extent != -1 && static_cast<uint64_t>(extent) != r.min.size()) {
      return InvalidArgument(what, " has a range along axis ", r.axis, " of extent ", extent,
                             " with ", r.min.size(), " entries; it needs one per index");
    }
  }
  for (size_t k = 0; k < r.min.size(); ++k) {
    if (!std::isfinite(r.min[k]) || !std::isfinite(r.max[k]) || !(r.min[k] <= r.max[k])) {
      return InvalidArgument(what, " has range[", k, "] = [", FloatText(r.min[k]), ", ",
                             FloatText(r.max[k]), "]; a range must be finite with min <= max");
    }
  }
  return Status::Ok();
}

// ------------------------------------------------------------------------------------
// Write
// ------------------------------------------------------------------------------------

struct PlacedConstant {
  graph::TensorId tensor;
  uint64_t offset;  // within the weights section
  uint64_t size;
};

Status CheckGraphForWrite(const graph::Graph& graph) {
  Status valid = graph.Validate();
  if (!valid.ok()) {
    return Status(valid.code(), "engine_file::Write: " + valid.message());
  }
  if (graph.tensors.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()) ||
      graph.nodes.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return InvalidArgument("engine_file::Write: the graph has too many tensors or nodes");
  }
  for (graph::TensorId t = 0; t < static_cast<graph::TensorId>(graph.tensors.size()); ++t) {
    const graph::Tensor& tensor = graph.tensors[t];
    if (tensor.name.size() > kMaxStringBytes) {
      return InvalidArgument("engine_file::Write: tensor #", t, ": name is longer than ",
                             kMaxStringBytes, " bytes");
    }
    if (tensor.shape.size() > kMaxRank) {
      return InvalidArgument("engine_file::Write: ", graph.DescribeTensor(t), " has rank ",
                             tensor.shape.size(), "; the engine file allows at most ", kMaxRank);
    }
    if (!ShapeIsSane(tensor.shape)) {
      return InvalidArgument("engine_file::Write: ", graph.DescribeTensor(t), " has shape ",
                             graph::ShapeToString(tensor.shape),
                             "; extents must be >= -1 and their product must fit in int64");
    }
    const std::string what = StrCat("engine_file::Write: ", graph.DescribeTensor(t));
    QSDK_RETURN_IF_ERROR(CheckQuant(tensor, what));
    QSDK_RETURN_IF_ERROR(CheckRange(tensor, what));
    if (tensor.is_constant()) {
      uint64_t expected = 0;
      if (!ConstantBytes(tensor.dtype, tensor.shape, &expected)) {
        return InvalidArgument("engine_file::Write: constant ", graph.DescribeTensor(t),
                               " has shape ", graph::ShapeToString(tensor.shape),
                               "; a constant needs a fully defined shape");
      }
      if (expected != tensor.data->size()) {
        return InvalidArgument("engine_file::Write: constant ", graph.DescribeTensor(t), " holds ",
                               tensor.data->size(), " bytes but its shape ",
                               graph::ShapeToString(tensor.shape), " and type ",
                               DataTypeName(tensor.dtype), " need ", expected);
      }
    }
  }
  for (graph::NodeId n = 0; n < static_cast<graph::NodeId>(graph.nodes.size()); ++n) {
    const graph::Node& node = graph.nodes[n];
    if (node.name.size() > kMaxStringBytes) {
      return InvalidArgument("engine_file::Write: node #", n, ": name is longer than ",
                             kMaxStringBytes, " bytes");
    }
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      if (!IsValidPrecision(static_cast<int32_t>(node.input_precisions[i]))) {
        return InvalidArgument("engine_file::Write: ", graph.DescribeNode(n), ": input precision ",
                               i, " has invalid value ",
                               static_cast<int32_t>(node.input_precisions[i]));
      }
    }
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      if (!IsValidPrecision(static_cast<int32_t>(node.output_types[i]))) {
        return InvalidArgument("engine_file::Write: ", graph.DescribeNode(n), ": output type ", i,
                               " has invalid value ", static_cast<int32_t>(node.output_types[i]));
      }
    }
    for (const auto& [key, value] : node.attrs.values()) {
      size_t len = key.size();
      if (const auto* s = std::get_if<std::string>(&value)) len = std::max(len, s->size());
      const size_t elements = std::visit(
          [](const auto& v) -> size_t {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::vector<int64_t>> ||
                          std::is_same_v<T, std::vector<double>>) {
              return v.size();
            } else {
              return 0;
            }
          },
          value);
      if (len > kMaxStringBytes || elements > std::numeric_limits<uint32_t>::max()) {
        return InvalidArgument("engine_file::Write: ", graph.DescribeNode(n), ": attribute '",
                               key.substr(0, 64), "' is too large for the engine file");
      }
    }
  }
  return Status::Ok();
}

void EncodeAttr(const graph::AttrValue& value, ByteWriter* w) {
  w->U8(static_cast<uint8_t>(value.index()));
  switch (static_cast<AttrKind>(value.index())) {
    case AttrKind::kInt: w->I64(std::get<int64_t>(value)); break;
    case AttrKind::kFloat: w->F64(std::get<double>(value)); break;
    case AttrKind::kString: w->Str(std::get<std::string>(value)); break;
    case AttrKind::kInts: {
      const auto& v = std::get<std::vector<int64_t>>(value);
      w->U32(static_cast<uint32_t>(v.size()));
      for (int64_t x : v) w->I64(x);
      break;
    }
    case AttrKind::kFloats: {
      const auto& v = std::get<std::vector<double>>(value);
      w->U32(static_cast<uint32_t>(v.size()));
      for (double x : v) w->F64(x);
      break;
    }
  }
}
static_assert(std::variant_size_v<graph::AttrValue> == 5,
              "a new AttrValue alternative needs an AttrKind, an encoder and a decoder");

// The metadata section (layout in docs/engine_format.md). Constants live in section 1.
std::vector<uint8_t> EncodeMetadata(const graph::Graph& graph, const EngineMetadata& meta,
                                    const std::vector<PlacedConstant>& placed) {
  std::vector<const PlacedConstant*> by_tensor(graph.tensors.size(), nullptr);
  for (const PlacedConstant& p : placed) by_tensor[p.tensor] = &p;

  ByteWriter w;
  w.Str(meta.model_name);
  w.Str(meta.build_config_json);
  w.Str(meta.build_report_json);
  w.U32(static_cast<uint32_t>(graph.tensors.size()));
  for (size_t t = 0; t < graph.tensors.size(); ++t) {
    const graph::Tensor& tensor = graph.tensors[t];
    w.Str(tensor.name);
    w.I32(static_cast<int32_t>(tensor.dtype));
    w.U32(static_cast<uint32_t>(tensor.shape.size()));
    for (int64_t d : tensor.shape) w.I64(d);
    w.I32(tensor.producer);
    if (by_tensor[t] != nullptr) {
      w.U32(1);
      w.U64(by_tensor[t]->offset);
      w.U64(by_tensor[t]->size);
    } else {
      w.U32(0);
      w.U64(0);
      w.U64(0);
    }
    const graph::QuantParams& q = tensor.quant;
    w.U32(static_cast<uint32_t>(q.scales.size()));
    for (float v : q.scales) w.F32(v);
    for (int32_t v : q.zero_points) w.I32(v);
    w.I32(q.axis);
    const graph::TensorRange& range = tensor.range;
    w.U32(static_cast<uint32_t>(range.min.size()));
    for (float v : range.min) w.F32(v);
    for (float v : range.max) w.F32(v);
    w.I32(range.axis);
    w.U8(range.manual ? 1 : 0);
  }
  w.U32(static_cast<uint32_t>(graph.nodes.size()));
  for (const graph::Node& node : graph.nodes) {
    w.I32(static_cast<int32_t>(node.type));
    w.Str(node.name);
    w.U32(static_cast<uint32_t>(node.inputs.size()));
    for (graph::TensorId id : node.inputs) w.I32(id);
    for (DataType p : node.input_precisions) w.I32(static_cast<int32_t>(p));
    w.U32(static_cast<uint32_t>(node.outputs.size()));
    for (graph::TensorId id : node.outputs) w.I32(id);
    for (DataType p : node.output_types) w.I32(static_cast<int32_t>(p));
    w.U32(static_cast<uint32_t>(node.attrs.values().size()));
    // std::map iterates in strictly increasing key order, which the reader requires.
    for (const auto& [key, value] : node.attrs.values()) {
      w.Str(key);
      EncodeAttr(value, &w);
    }
  }
  w.U32(static_cast<uint32_t>(graph.inputs.size()));
  for (graph::TensorId id : graph.inputs) w.I32(id);
  w.U32(static_cast<uint32_t>(graph.outputs.size()));
  for (graph::TensorId id : graph.outputs) w.I32(id);
  return std::move(w.bytes());
}

void PutFixedString(uint8_t* field, const std::string& value) {
  std::memset(field, 0, kFixedStringSize);
  std::memcpy(field, value.data(), value.size());
}

uint64_t HeaderHash(const uint8_t* file, uint64_t table_offset, uint64_t table_bytes) {
  XXH64_state_t state;
  XXH64_reset(&state, kHashSeed);
  XXH64_update(&state, file, kOffHeaderHash);
  XXH64_update(&state, file + table_offset, static_cast<size_t>(table_bytes));
  return XXH64_digest(&state);
}

Status WriteImpl(const graph::Graph& graph, const EngineMetadata& meta,
                 std::vector<uint8_t>* bytes) {
  QSDK_RETURN_IF_ERROR(CheckGraphForWrite(graph));
  const std::string qsdk_version = GetVersionString();
  QSDK_RETURN_IF_ERROR(CheckFixedString(qsdk_version, "qsdk version", IsVersionChar, false));
  QSDK_RETURN_IF_ERROR(
      CheckFixedString(meta.required_isa, "required ISA", IsIsaChar, /*may_be_empty=*/true));
  if (meta.model_name.size() > kMaxStringBytes || meta.build_config_json.size() > kMaxStringBytes ||
      meta.build_report_json.size() > kMaxStringBytes) {
    return InvalidArgument(
        "engine_file::Write: model name, build config or build report is longer than ",
        kMaxStringBytes, " bytes");
  }

  // Place each constant at the next 64-byte boundary of the weights section.
  std::vector<PlacedConstant> placed;
  uint64_t weights_size = 0;
  for (graph::TensorId t = 0; t < static_cast<graph::TensorId>(graph.tensors.size()); ++t) {
    const graph::Tensor& tensor = graph.tensors[t];
    if (!tensor.is_constant()) continue;
    const uint64_t offset = AlignUp(weights_size, kWeightAlignment);
    placed.push_back({t, offset, tensor.data->size()});
    weights_size = offset + tensor.data->size();
  }
  const std::vector<uint8_t> metadata = EncodeMetadata(graph, meta, placed);

  const uint32_t section_count = placed.empty() ? 1 : 2;
  const uint64_t table_offset = kHeaderSize;
  const uint64_t table_end = table_offset + uint64_t{section_count} * kSectionEntrySize;
  const uint64_t metadata_offset = AlignUp(table_end, kMetadataAlignment);
  const uint64_t metadata_end = metadata_offset + metadata.size();
  const uint64_t weights_offset = AlignUp(metadata_end, kWeightAlignment);
  const uint64_t file_size = placed.empty() ? metadata_end : weights_offset + weights_size;
  if (file_size > std::numeric_limits<size_t>::max()) {
    return InvalidArgument("engine_file::Write: the engine would be ", file_size,
                           " bytes, more than this platform can address");
  }

  std::vector<uint8_t> out(static_cast<size_t>(file_size), 0);
  uint8_t* h = out.data();
  std::memcpy(h + kOffMagic, kMagic, sizeof(kMagic));
  StoreU32(h + kOffFormatVersion, kFormatVersion);
  StoreU32(h + kOffHeaderSize, static_cast<uint32_t>(kHeaderSize));
  StoreU64(h + kOffFileSize, file_size);
  StoreU64(h + kOffSectionTableOffset, table_offset);
  StoreU32(h + kOffSectionCount, section_count);
  StoreU32(h + kOffFlags, 0);
  PutFixedString(h + kOffQsdkVersion, qsdk_version);
  StoreU32(h + kOffOnednnMajor, DNNL_VERSION_MAJOR);
  StoreU32(h + kOffOnednnMinor, DNNL_VERSION_MINOR);
  StoreU32(h + kOffOnednnPatch, DNNL_VERSION_PATCH);
  StoreU32(h + kOffReserved, 0);
  PutFixedString(h + kOffRequiredIsa, meta.required_isa);

  std::memcpy(h + metadata_offset, metadata.data(), metadata.size());
  for (const PlacedConstant& p : placed) {
    const AlignedBuffer& data = *graph.tensors[p.tensor].data;
    if (p.size > 0) std::memcpy(h + weights_offset + p.offset, data.data(), p.size);
  }

  auto put_entry = [&](uint32_t index, SectionKind kind, uint32_t alignment, uint64_t offset,
                       uint64_t size) {
    uint8_t* e = h + table_offset + uint64_t{index} * kSectionEntrySize;
    StoreU32(e + kOffEntryKind, static_cast<uint32_t>(kind));
    StoreU32(e + kOffEntryAlignment, alignment);
    StoreU64(e + kOffEntryOffset, offset);
    StoreU64(e + kOffEntrySize, size);
    StoreU64(e + kOffEntryHash, XXH64(h + offset, static_cast<size_t>(size), kHashSeed));
  };
  put_entry(0, SectionKind::kMetadata, kMetadataAlignment, metadata_offset, metadata.size());
  if (!placed.empty()) {
    put_entry(1, SectionKind::kWeights, kWeightAlignment, weights_offset, weights_size);
  }
  StoreU64(h + kOffHeaderHash,
           HeaderHash(h, table_offset, uint64_t{section_count} * kSectionEntrySize));
  bytes->swap(out);
  return Status::Ok();
}

// ------------------------------------------------------------------------------------
// Read
// ------------------------------------------------------------------------------------

struct ConstantRef {
  graph::TensorId tensor;
  uint32_t section;
  uint64_t offset;
  uint64_t size;
};

// Everything parsed from a file before any constant data is allocated.
struct ParsedFile {
  FileInfo info;
  graph::Graph graph;  // without constant data
  std::vector<ConstantRef> constants;
};

// Reads a fixed-size NUL-padded header string: characters from `allowed`, then only NULs
// (at least one).
Status ReadFixedString(const uint8_t* field, const char* name, bool (*allowed)(char),
                       bool may_be_empty, size_t header_offset, std::string* out) {
  size_t len = 0;
  while (len < kFixedStringSize && field[len] != 0) ++len;
  if (len == kFixedStringSize) {
    return DataLoss("engine file: header ", name, " (byte ", header_offset,
                    ") is not NUL-terminated within its ", kFixedStringSize, " bytes");
  }
  for (size_t i = len; i < kFixedStringSize; ++i) {
    if (field[i] != 0) {
      return DataLoss("engine file: header ", name, " (byte ", header_offset,
                      ") has non-zero padding at byte ", header_offset + i);
    }
  }
  if (len == 0 && !may_be_empty) {
    return DataLoss("engine file: header ", name, " (byte ", header_offset, ") is empty");
  }
  for (size_t i = 0; i < len; ++i) {
    if (!allowed(static_cast<char>(field[i]))) {
      return DataLoss("engine file: header ", name, " (byte ", header_offset,
                      ") contains the invalid character code ", static_cast<int>(field[i]),
                      " at byte ", header_offset + i);
    }
  }
  out->assign(reinterpret_cast<const char*>(field), len);
  return Status::Ok();
}

// Header, version, section table, padding and hashes.
Status ParseContainer(const uint8_t* data, size_t size, FileInfo* info) {
  if (size < sizeof(kMagic)) {
    return DataLoss("engine file: ", size, " bytes is too small to be an engine file (the ",
                    "header alone is ", kHeaderSize, " bytes); the file is truncated or empty");
  }
  if (std::memcmp(data + kOffMagic, kMagic, sizeof(kMagic)) != 0) {
    static const char kDigits[] = "0123456789abcdef";
    std::string got;
    for (size_t i = 0; i < sizeof(kMagic); ++i) {
      if (i > 0) got += ' ';
      got += kDigits[data[i] >> 4];
      got += kDigits[data[i] & 0xF];
    }
    return DataLoss("engine file: bad magic (bytes 0-7 are ", got,
                    ", expected \"QSDKENG\\0\"): not a qsdk engine file");
  }
  if (size < kOffFormatVersion + 4) {
    return DataLoss("engine file: truncated after the magic (", size, " bytes)");
  }
  // The version is checked before anything else in the header so that a file from a newer
  // qsdk, whose header may be laid out differently, gets a version message, not "damaged".
  const uint32_t version = LoadU32(data + kOffFormatVersion);
  if (version == 0) {
    return DataLoss("engine file: format version 0 is invalid (versions start at 1)");
  }
  if (version > kFormatVersion) {
    return Status(
        StatusCode::kVersionMismatch,
        StrCat("engine file format version ", version, " is newer than this qsdk (reads up to ",
               kFormatVersion, "); rebuild the engine with this qsdk (", GetVersionString(),
               ") or load it with a newer qsdk"));
  }
  info->format_version = version;
  if (size < kHeaderSize) {
    return DataLoss("engine file: truncated header (", size, " bytes; the header is ", kHeaderSize,
                    ")");
  }
  const uint32_t header_size = LoadU32(data + kOffHeaderSize);
  if (header_size != kHeaderSize) {
    return DataLoss("engine file: header size ", header_size, " (byte ", kOffHeaderSize,
                    ") is not ", kHeaderSize, ", the size for format version ", version);
  }
  const uint64_t file_size = LoadU64(data + kOffFileSize);
  if (file_size != size) {
    return DataLoss("engine file: the header records a file size of ", file_size, " bytes but ",
                    size, " bytes were given (truncated or damaged)");
  }
  info->file_size = file_size;
  const uint64_t table_offset = LoadU64(data + kOffSectionTableOffset);
  if (table_offset != kHeaderSize) {
    return DataLoss("engine file: section table offset ", table_offset, " is not ", kHeaderSize,
                    " (the table follows the header directly)");
  }
  const uint32_t section_count = LoadU32(data + kOffSectionCount);
  if (section_count == 0 || section_count > kMaxSections) {
    return DataLoss("engine file: section count ", section_count, " is outside [1, ", kMaxSections,
                    "]");
  }
  // section_count <= kMaxSections, so this cannot overflow.
  const uint64_t table_bytes = uint64_t{section_count} * kSectionEntrySize;
  if (table_bytes > size - table_offset) {
    return DataLoss("engine file: the section table (", section_count, " entries, ", table_bytes,
                    " bytes at byte ", table_offset, ") runs past the end of the ", size,
                    "-byte file");
  }
  const uint32_t flags = LoadU32(data + kOffFlags);
  if (flags != 0) {
    return DataLoss("engine file: header flags ", Hex(flags),
                    " set bits that format version 1 does not define");
  }
  info->flags = flags;
  const uint64_t stored_hash = LoadU64(data + kOffHeaderHash);
  const uint64_t computed_hash = HeaderHash(data, table_offset, table_bytes);
  if (stored_hash != computed_hash) {
    return DataLoss("engine file: header checksum mismatch (stored ", Hex(stored_hash),
                    ", computed ", Hex(computed_hash),
                    "): the header or the section table is damaged");
  }
  if (LoadU32(data + kOffReserved) != 0) {
    return DataLoss("engine file: reserved header field at byte ", kOffReserved, " is not zero");
  }
  QSDK_RETURN_IF_ERROR(ReadFixedString(data + kOffQsdkVersion, "qsdk version", IsVersionChar, false,
                                       kOffQsdkVersion, &info->meta.qsdk_version));
  QSDK_RETURN_IF_ERROR(ReadFixedString(data + kOffRequiredIsa, "required ISA", IsIsaChar, true,
                                       kOffRequiredIsa, &info->meta.required_isa));
  info->meta.onednn_version =
      StrCat(LoadU32(data + kOffOnednnMajor), ".", LoadU32(data + kOffOnednnMinor), ".",
             LoadU32(data + kOffOnednnPatch));

  // Sections follow the table in table order, each at the first multiple of its
  // alignment after the previous one, the last ending at the end of the file; so every
  // byte of the file is header, table, a section, or zero padding checked here.
  info->sections.clear();
  info->sections.reserve(section_count);
  uint64_t cursor = table_offset + table_bytes;
  for (uint32_t i = 0; i < section_count; ++i) {
    const uint8_t* e = data + table_offset + uint64_t{i} * kSectionEntrySize;
    SectionInfo s;
    const uint32_t kind = LoadU32(e + kOffEntryKind);
    s.alignment = LoadU32(e + kOffEntryAlignment);
    s.offset = LoadU64(e + kOffEntryOffset);
    s.size = LoadU64(e + kOffEntrySize);
    s.hash = LoadU64(e + kOffEntryHash);
    if (kind != static_cast<uint32_t>(SectionKind::kMetadata) &&
        kind != static_cast<uint32_t>(SectionKind::kWeights)) {
      return DataLoss("engine file: section ", i, " has unknown kind ", kind,
                      " (1 = metadata, 2 = weights)");
    }
    s.kind = static_cast<SectionKind>(kind);
    if ((i == 0) != (s.kind == SectionKind::kMetadata)) {
      return DataLoss("engine file: section ", i, " has kind ", kind,
                      "; section 0, and only section 0, must be the metadata (kind 1)");
    }
    const uint32_t min_alignment =
        s.kind == SectionKind::kWeights ? kWeightAlignment : kMinSectionAlignment;
    if (!IsPowerOfTwo(s.alignment) || s.alignment < min_alignment ||
        s.alignment > kMaxSectionAlignment) {
      return DataLoss("engine file: section ", i, " alignment ", s.alignment,
                      " must be a power of two in [", min_alignment, ", ", kMaxSectionAlignment,
                      "]");
    }
    // cursor <= size and alignment <= 4096, so AlignUp cannot overflow.
    const uint64_t expected_offset = AlignUp(cursor, s.alignment);
    if (s.offset != expected_offset) {
      return DataLoss("engine file: section ", i, " offset ", s.offset, " is not ", expected_offset,
                      " (the end of the previous part, ", cursor,
                      ", rounded up to the section alignment ", s.alignment, ")");
    }
    if (s.offset > size || s.size > size - s.offset) {
      return DataLoss("engine file: section ", i, " (", s.size, " bytes at byte ", s.offset,
                      ") runs past the end of the ", size, "-byte file");
    }
    for (uint64_t b = cursor; b < s.offset; ++b) {
      if (data[b] != 0) {
        return DataLoss("engine file: padding byte ", b, " before section ", i, " is not zero");
      }
    }
    const uint64_t hash = XXH64(data + s.offset, static_cast<size_t>(s.size), kHashSeed);
    if (hash != s.hash) {
      return DataLoss("engine file: section ", i, " (",
                      s.kind == SectionKind::kMetadata ? "metadata" : "weights",
                      ") checksum mismatch (stored ", Hex(s.hash), ", computed ", Hex(hash),
                      "): the section is damaged");
    }
    cursor = s.offset + s.size;
    info->sections.push_back(s);
  }
  if (cursor != size) {
    return DataLoss("engine file: ", size - cursor, " unexpected bytes after the last section ",
                    "(which ends at byte ", cursor, ")");
  }
  return Status::Ok();
}

Status DecodeIds(ByteReader* r, uint32_t count, int32_t min_value, size_t tensor_count,
                 const std::string& what, std::vector<graph::TensorId>* ids) {
  ids->resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    const size_t at = r->position();
    int32_t id = 0;
    QSDK_RETURN_IF_ERROR(r->I32(&id, StrCat(what, " ", i)));
    if (id < min_value || (id >= 0 && static_cast<size_t>(id) >= tensor_count)) {
      return r->Error(at, what, " ", i, " refers to tensor #", id, ", outside [", min_value, ", ",
                      tensor_count, ")");
    }
    (*ids)[i] = id;
  }
  return Status::Ok();
}

Status DecodePrecisions(ByteReader* r, uint32_t count, const std::string& what,
                        std::vector<DataType>* out) {
  out->resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    const size_t at = r->position();
    int32_t v = 0;
    QSDK_RETURN_IF_ERROR(r->I32(&v, StrCat(what, " ", i)));
    if (!IsValidPrecision(v)) {
      return r->Error(at, what, " ", i, " has invalid data type value ", v, " (0 = unset, 1..",
                      kDataTypeCount, ")");
    }
    (*out)[i] = static_cast<DataType>(v);
  }
  return Status::Ok();
}

Status DecodeAttr(ByteReader* r, const std::string& what, graph::AttrValue* value) {
  const size_t at = r->position();
  uint8_t kind = 0;
  QSDK_RETURN_IF_ERROR(r->U8(&kind, what + " kind"));
  switch (kind) {
    case static_cast<uint8_t>(AttrKind::kInt): {
      int64_t v = 0;
      QSDK_RETURN_IF_ERROR(r->I64(&v, what));
      *value = v;
      return Status::Ok();
    }
    case static_cast<uint8_t>(AttrKind::kFloat): {
      double v = 0;
      QSDK_RETURN_IF_ERROR(r->F64(&v, what));
      *value = v;
      return Status::Ok();
    }
    case static_cast<uint8_t>(AttrKind::kString): {
      std::string v;
      QSDK_RETURN_IF_ERROR(r->Str(&v, what, kMaxStringBytes));
      *value = std::move(v);
      return Status::Ok();
    }
    case static_cast<uint8_t>(AttrKind::kInts): {
      uint32_t n = 0;
      QSDK_RETURN_IF_ERROR(r->Count(&n, what + " element count", 8));
      std::vector<int64_t> v(n);
      for (uint32_t i = 0; i < n; ++i) QSDK_RETURN_IF_ERROR(r->I64(&v[i], what));
      *value = std::move(v);
      return Status::Ok();
    }
    case static_cast<uint8_t>(AttrKind::kFloats): {
      uint32_t n = 0;
      QSDK_RETURN_IF_ERROR(r->Count(&n, what + " element count", 8));
      std::vector<double> v(n);
      for (uint32_t i = 0; i < n; ++i) QSDK_RETURN_IF_ERROR(r->F64(&v[i], what));
      *value = std::move(v);
      return Status::Ok();
    }
    default:
      return r->Error(at, what, " has unknown value kind ", static_cast<int>(kind),
                      " (0 int, 1 float, 2 string, 3 ints, 4 floats)");
  }
}

// The quantization parameters and range of a tensor record. Only the structure is
// checked here (counts against the bytes that remain, the manual flag); the values are
// checked against the tensor's final shape after shape inference (CheckQuant,
// CheckRange), since an op output's stored shape is recomputed.
Status DecodeQuantAndRange(ByteReader* r, const std::string& named, graph::Tensor* tensor) {
  // Every element read checks the remaining bytes itself; the counts were bounded first.
  uint32_t n = 0;
  QSDK_RETURN_IF_ERROR(r->Count(&n, named + " quantization scale count", kQuantEntryBytes));
  graph::QuantParams& q = tensor->quant;
  q.scales.resize(n);
  q.zero_points.resize(n);
  std::string what = named + " quantization scale";
  for (uint32_t k = 0; k < n; ++k) QSDK_RETURN_IF_ERROR(r->F32(&q.scales[k], what));
  what = named + " zero point";
  for (uint32_t k = 0; k < n; ++k) QSDK_RETURN_IF_ERROR(r->I32(&q.zero_points[k], what));
  QSDK_RETURN_IF_ERROR(r->I32(&q.axis, named + " quantization axis"));

  QSDK_RETURN_IF_ERROR(r->Count(&n, named + " range entry count", kRangeEntryBytes));
  graph::TensorRange& range = tensor->range;
  range.min.resize(n);
  range.max.resize(n);
  what = named + " range min";
  for (uint32_t k = 0; k < n; ++k) QSDK_RETURN_IF_ERROR(r->F32(&range.min[k], what));
  what = named + " range max";
  for (uint32_t k = 0; k < n; ++k) QSDK_RETURN_IF_ERROR(r->F32(&range.max[k], what));
  QSDK_RETURN_IF_ERROR(r->I32(&range.axis, named + " range axis"));
  const size_t at = r->position();
  uint8_t manual = 0;
  QSDK_RETURN_IF_ERROR(r->U8(&manual, named + " range manual flag"));
  if (manual > 1) {
    return r->Error(at, named, " range manual flag is ", static_cast<int>(manual),
                    "; it must be 0 or 1");
  }
  range.manual = manual == 1;
  return Status::Ok();
}

Status DecodeMetadata(const uint8_t* data, const std::vector<SectionInfo>& sections,
                      ParsedFile* out) {
  const SectionInfo& section = sections[0];
  ByteReader r(data + section.offset, static_cast<size_t>(section.size), "metadata section");
  graph::Graph& g = out->graph;
  EngineMetadata& meta = out->info.meta;
  QSDK_RETURN_IF_ERROR(r.Str(&meta.model_name, "model name", kMaxStringBytes));
  QSDK_RETURN_IF_ERROR(r.Str(&meta.build_config_json, "build config", kMaxStringBytes));
  QSDK_RETURN_IF_ERROR(r.Str(&meta.build_report_json, "build report", kMaxStringBytes));

  uint32_t tensor_count = 0;
  QSDK_RETURN_IF_ERROR(r.Count(&tensor_count, "tensor count", kMinTensorRecordBytes,
                               static_cast<uint32_t>(std::numeric_limits<int32_t>::max())));
  g.tensors.resize(tensor_count);
  std::vector<graph::NodeId> producers(tensor_count);
  std::vector<size_t> producer_at(tensor_count);
  for (uint32_t t = 0; t < tensor_count; ++t) {
    graph::Tensor& tensor = g.tensors[t];
    const std::string ctx = StrCat("tensor #", t);
    QSDK_RETURN_IF_ERROR(r.Str(&tensor.name, ctx + " name", kMaxStringBytes));
    const std::string named = StrCat("tensor #", t, " '", tensor.name.substr(0, 64), "'");
    size_t at = r.position();
    int32_t dtype = 0;
    QSDK_RETURN_IF_ERROR(r.I32(&dtype, named + " dtype"));
    if (!IsValidDataType(static_cast<DataType>(dtype))) {
      return r.Error(at, named, " has invalid data type value ", dtype, " (valid: 1..",
                     kDataTypeCount, ")");
    }
    tensor.dtype = static_cast<DataType>(dtype);
    uint32_t rank = 0;
    QSDK_RETURN_IF_ERROR(r.Count(&rank, named + " rank", 8, kMaxRank));
    tensor.shape.resize(rank);
    at = r.position();
    for (uint32_t d = 0; d < rank; ++d) {
      QSDK_RETURN_IF_ERROR(r.I64(&tensor.shape[d], named + " extent"));
    }
    if (!ShapeIsSane(tensor.shape)) {
      return r.Error(at, named, " has shape ", graph::ShapeToString(tensor.shape),
                     "; extents must be >= -1 and their product must fit in int64");
    }
    producer_at[t] = r.position();
    QSDK_RETURN_IF_ERROR(r.I32(&producers[t], named + " producer"));
    at = r.position();
    uint32_t data_section = 0;
    uint64_t data_offset = 0, data_size = 0;
    QSDK_RETURN_IF_ERROR(r.U32(&data_section, named + " data section"));
    QSDK_RETURN_IF_ERROR(r.U64(&data_offset, named + " data offset"));
    QSDK_RETURN_IF_ERROR(r.U64(&data_size, named + " data size"));
    QSDK_RETURN_IF_ERROR(DecodeQuantAndRange(&r, named, &tensor));
    if (data_section == 0) {
      if (data_offset != 0 || data_size != 0) {
        return r.Error(at, named, " is not constant but records data offset ", data_offset,
                       " and size ", data_size, " (both must be 0)");
      }
      continue;
    }
    if (data_section >= sections.size() || sections[data_section].kind != SectionKind::kWeights) {
      return r.Error(at, named, " refers to section ", data_section,
                     " for its data, which is not a weights section (", sections.size(),
                     " sections)");
    }
    const SectionInfo& ws = sections[data_section];
    if (data_offset % kWeightAlignment != 0) {
      return r.Error(at, named, " data offset ", data_offset, " is not a multiple of ",
                     kWeightAlignment);
    }
    if (data_offset > ws.size || data_size > ws.size - data_offset) {
      return r.Error(at, named, " data (", data_size, " bytes at offset ", data_offset,
                     ") runs past the end of weights section ", data_section, " (", ws.size,
                     " bytes)");
    }
    uint64_t expected = 0;
    if (!ConstantBytes(tensor.dtype, tensor.shape, &expected)) {
      return r.Error(at, named, " is constant but its shape ", graph::ShapeToString(tensor.shape),
                     " is not fully defined");
    }
    if (expected != data_size) {
      return r.Error(at, named, " constant data size ", data_size, " does not match its shape ",
                     graph::ShapeToString(tensor.shape), " and type ", DataTypeName(tensor.dtype),
                     " (", expected, " bytes)");
    }
    out->constants.push_back(
        {static_cast<graph::TensorId>(t), data_section, data_offset, data_size});
  }

  uint32_t node_count = 0;
  QSDK_RETURN_IF_ERROR(r.Count(&node_count, "node count", kMinNodeRecordBytes,
                               static_cast<uint32_t>(std::numeric_limits<int32_t>::max())));
  g.nodes.resize(node_count);
  for (uint32_t n = 0; n < node_count; ++n) {
    graph::Node& node = g.nodes[n];
    size_t at = r.position();
    int32_t type = 0;
    QSDK_RETURN_IF_ERROR(r.I32(&type, StrCat("node #", n, " type")));
    if (!IsValidNodeType(static_cast<NodeType>(type))) {
      return r.Error(at, "node #", n, " has unknown node type ", type);
    }
    node.type = static_cast<NodeType>(type);
    QSDK_RETURN_IF_ERROR(r.Str(&node.name, StrCat("node #", n, " name"), kMaxStringBytes));
    const std::string ctx =
        StrCat("node #", n, " '", node.name.substr(0, 64), "' (", NodeTypeName(node.type), ")");
    uint32_t input_count = 0;
    QSDK_RETURN_IF_ERROR(r.Count(&input_count, ctx + " input count", 8));
    QSDK_RETURN_IF_ERROR(
        DecodeIds(&r, input_count, graph::kNoTensor, tensor_count, ctx + " input", &node.inputs));
    QSDK_RETURN_IF_ERROR(
        DecodePrecisions(&r, input_count, ctx + " input precision", &node.input_precisions));
    uint32_t output_count = 0;
    QSDK_RETURN_IF_ERROR(r.Count(&output_count, ctx + " output count", 8));
    QSDK_RETURN_IF_ERROR(
        DecodeIds(&r, output_count, 0, tensor_count, ctx + " output", &node.outputs));
    QSDK_RETURN_IF_ERROR(
        DecodePrecisions(&r, output_count, ctx + " output type", &node.output_types));
    uint32_t attr_count = 0;
    QSDK_RETURN_IF_ERROR(r.Count(&attr_count, ctx + " attribute count", kMinAttrRecordBytes));
    std::string previous_key;
    for (uint32_t a = 0; a < attr_count; ++a) {
      at = r.position();
      std::string key;
      QSDK_RETURN_IF_ERROR(r.Str(&key, StrCat(ctx, " attribute ", a, " key"), kMaxStringBytes));
      // Strictly increasing keys: the writer's map order; rules out duplicates, which
      // would otherwise be silently collapsed.
      if (a > 0 && !(previous_key < key)) {
        return r.Error(at, ctx, " attribute '", key.substr(0, 64),
                       "' is out of order or duplicated (keys must be strictly increasing)");
      }
      graph::AttrValue value;
      QSDK_RETURN_IF_ERROR(
          DecodeAttr(&r, StrCat(ctx, " attribute '", key.substr(0, 64), "'"), &value));
      node.attrs.Set(key, std::move(value));
      previous_key = std::move(key);
    }
  }
  for (uint32_t t = 0; t < tensor_count; ++t) {
    const int32_t p = producers[t];
    if (p < graph::kNoNode || (p >= 0 && static_cast<uint32_t>(p) >= node_count)) {
      return r.Error(producer_at[t], "tensor #", t, " '", g.tensors[t].name.substr(0, 64),
                     "' records producer node #", p, ", outside [-1, ", node_count, ")");
    }
    g.tensors[t].producer = p;
  }

  uint32_t count = 0;
  QSDK_RETURN_IF_ERROR(r.Count(&count, "graph input count", 4));
  QSDK_RETURN_IF_ERROR(DecodeIds(&r, count, 0, tensor_count, "graph input", &g.inputs));
  QSDK_RETURN_IF_ERROR(r.Count(&count, "graph output count", 4));
  QSDK_RETURN_IF_ERROR(DecodeIds(&r, count, 0, tensor_count, "graph output", &g.outputs));
  if (!r.AtEnd()) {
    return r.Error(r.position(), r.remaining(),
                   " unexpected bytes after the graph outputs (end of the metadata)");
  }

  // Constants may not share bytes: this bounds the total allocated for constant data by
  // the size of the weights sections, whatever the metadata says.
  std::vector<ConstantRef> sorted = out->constants;
  std::sort(sorted.begin(), sorted.end(), [](const ConstantRef& a, const ConstantRef& b) {
    if (a.section != b.section) return a.section < b.section;
    if (a.offset != b.offset) return a.offset < b.offset;
    return a.size < b.size;
  });
  for (size_t i = 1; i < sorted.size(); ++i) {
    const ConstantRef& a = sorted[i - 1];
    const ConstantRef& b = sorted[i];
    if (a.section == b.section && a.offset + a.size > b.offset) {
      return DataLoss("engine file: the data of constant tensors #", a.tensor, " '",
                      g.tensors[a.tensor].name.substr(0, 64), "' and #", b.tensor, " '",
                      g.tensors[b.tensor].name.substr(0, 64), "' overlap in weights section ",
                      a.section);
    }
  }
  out->info.tensor_count = tensor_count;
  out->info.node_count = node_count;
  out->info.constants.clear();
  for (const ConstantRef& c : out->constants) {
    out->info.constants.push_back(
        {c.tensor, g.tensors[c.tensor].name, c.section, c.offset, c.size});
  }
  return Status::Ok();
}

Status Parse(const uint8_t* data, size_t size, ParsedFile* out) {
  QSDK_RETURN_IF_ERROR(ParseContainer(data, size, &out->info));
  return DecodeMetadata(data, out->info.sections, out);
}

Status CheckReadArgs(const uint8_t* data, size_t size, const char* op) {
  if (data == nullptr && size > 0) {
    return InvalidArgument(op, ": data is null but size is ", size);
  }
  return Status::Ok();
}

Status ReadImpl(const uint8_t* data, size_t size, graph::Graph* graph, EngineMetadata* meta) {
  ParsedFile parsed;
  QSDK_RETURN_IF_ERROR(Parse(data, size, &parsed));
  graph::Graph& g = parsed.graph;
  for (const ConstantRef& c : parsed.constants) {
    const SectionInfo& s = parsed.info.sections[c.section];
    g.tensors[c.tensor].data = std::make_shared<const AlignedBuffer>(data + s.offset + c.offset,
                                                                     static_cast<size_t>(c.size));
  }
  Status status = g.Validate();
  if (!status.ok()) {
    return Status(StatusCode::kInvalidArgument,
                  "engine file: the stored graph is invalid: " + status.message());
  }
  status = graph::InferShapes(&g);
  if (!status.ok()) {
    return Status(StatusCode::kInvalidArgument,
                  "engine file: the stored graph fails shape inference: " + status.message());
  }
  // After shape inference: the shapes are final, and the tensors shape inference checks
  // have already been reported with their node.
  for (graph::TensorId t = 0; t < static_cast<graph::TensorId>(g.tensors.size()); ++t) {
    const std::string what = "engine file: the stored graph is invalid: " + g.DescribeTensor(t);
    QSDK_RETURN_IF_ERROR(CheckQuant(g.tensors[t], what));
    QSDK_RETURN_IF_ERROR(CheckRange(g.tensors[t], what));
  }
  // Commit: nothing below can fail.
  *graph = std::move(g);
  *meta = std::move(parsed.info.meta);
  return Status::Ok();
}

}  // namespace

Status Write(const graph::Graph& graph, const EngineMetadata& meta, std::vector<uint8_t>* bytes) {
  if (bytes == nullptr) return InvalidArgument("engine_file::Write: output vector is null");
  try {
    return WriteImpl(graph, meta, bytes);
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted,
                  "engine_file::Write: out of memory while serializing the engine");
  } catch (const std::exception& e) {
    return InternalError("engine_file::Write: unexpected exception: ", e.what());
  }
}

Status Read(const uint8_t* data, size_t size, graph::Graph* graph, EngineMetadata* meta) {
  if (graph == nullptr || meta == nullptr) {
    return InvalidArgument("engine_file::Read: output graph or metadata is null");
  }
  QSDK_RETURN_IF_ERROR(CheckReadArgs(data, size, "engine_file::Read"));
  try {
    return ReadImpl(data, size, graph, meta);
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted,
                  "engine_file::Read: out of memory while loading the engine");
  } catch (const std::exception& e) {
    return InternalError("engine_file::Read: unexpected exception: ", e.what());
  }
}

Status Inspect(const uint8_t* data, size_t size, FileInfo* info) {
  if (info == nullptr) return InvalidArgument("engine_file::Inspect: output is null");
  QSDK_RETURN_IF_ERROR(CheckReadArgs(data, size, "engine_file::Inspect"));
  try {
    ParsedFile parsed;
    QSDK_RETURN_IF_ERROR(Parse(data, size, &parsed));
    *info = std::move(parsed.info);
    return Status::Ok();
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted,
                  "engine_file::Inspect: out of memory while parsing the engine");
  } catch (const std::exception& e) {
    return InternalError("engine_file::Inspect: unexpected exception: ", e.what());
  }
}

}  // namespace qsdk::engine_file
