#include "runtime/kernels/onednn_util.h"

#include <algorithm>
#include <cstring>
#include <sstream>

namespace qsdk::runtime {

using dnnl::memory;

std::string DimsToString(const memory::dims& dims) {
  std::ostringstream out;
  out << '[';
  for (size_t i = 0; i < dims.size(); ++i) out << (i ? "," : "") << dims[i];
  out << ']';
  return out.str();
}

memory::dims ToDnnlDims(const std::vector<int64_t>& shape) {
  return memory::dims(shape.begin(), shape.end());
}

memory::dims RowMajorStrides(const memory::dims& dims) {
  memory::dims strides(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;) strides[i - 1] = strides[i] * dims[i];
  return strides;
}

bool IsPlain(const memory::desc& md) {
  if (md.is_zero()) return false;
  const memory::dims dims = md.dims();
  return md == PlainDesc(std::vector<int64_t>(dims.begin(), dims.end()), md.data_type());
}

memory::data_type DnnlDataType(DataType type) {
  switch (type) {
    case DataType::FLOAT32: return memory::data_type::f32;
    case DataType::BFLOAT16: return memory::data_type::bf16;
    case DataType::FLOAT16: return memory::data_type::f16;
    case DataType::INT8: return memory::data_type::s8;
    case DataType::UINT8: return memory::data_type::u8;
    case DataType::INT32: return memory::data_type::s32;
    default: return memory::data_type::undef;
  }
}

const char* DnnlTypeName(memory::data_type type) {
  switch (type) {
    case memory::data_type::f32: return "f32";
    case memory::data_type::s8: return "s8";
    case memory::data_type::u8: return "u8";
    case memory::data_type::s32: return "s32";
    case memory::data_type::bf16: return "bf16";
    case memory::data_type::f16: return "f16";
    default: return "undef";
  }
}

Status ReadLightFloatType(const graph::Graph& graph, graph::NodeId id, memory::data_type* type) {
  const graph::Node& node = graph.nodes[id];
  const graph::Tensor& x = graph.tensors[node.inputs[0]];
  const graph::Tensor& y = graph.tensors[node.outputs[0]];
  const bool fp32 = x.dtype == DataType::FLOAT32 && y.dtype == DataType::FLOAT32;
  const bool bf16 = x.dtype == DataType::BFLOAT16 && y.dtype == DataType::BFLOAT16;
  if (!fp32 && !bf16) {
    return Unimplemented(graph.DescribeNode(id), ": input ", graph.DescribeTensor(node.inputs[0]),
                         " is ", DataTypeName(x.dtype), " and output '", y.name, "' is ",
                         DataTypeName(y.dtype),
                         "; the runtime kernel computes FLOAT32 -> FLOAT32 or BFLOAT16 -> "
                         "BFLOAT16 (a Cast node converts between them)");
  }
  *type = bf16 ? memory::data_type::bf16 : memory::data_type::f32;
  return Status::Ok();
}

const char* PrecisionName(memory::data_type type) {
  switch (type) {
    case memory::data_type::f32: return "fp32";
    case memory::data_type::bf16: return "bf16";
    default: return "int8";
  }
}

float HalfBitsToFloat(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  uint32_t mantissa = bits & 0x3ffu;
  uint32_t out = 0;
  if (exponent == 0x1f) {
    // Inf, or NaN: quieted (binary32 bit 22) with its payload kept, as vcvtph2ps and the
    // reference (float_types.h) do.
    out = sign | 0x7f800000u | (mantissa == 0 ? 0u : 0x400000u) | (mantissa << 13);
  } else if (exponent != 0) {
    out = sign | ((exponent + 112u) << 23) | (mantissa << 13);  // rebias 15 -> 127
  } else if (mantissa == 0) {
    out = sign;  // +-0
  } else {
    // Subnormal: mantissa * 2^-24, normalized (exact in float, which has 8 more exponent
    // bits).
    int32_t e = 113;  // the exponent of 2^-14 in float, 127 - 14
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      --e;
    }
    out = sign | (static_cast<uint32_t>(e) << 23) | ((mantissa & 0x3ffu) << 13);
  }
  float value;
  std::memcpy(&value, &out, sizeof(value));
  return value;
}

uint16_t FloatToHalfBits(float value) {
  uint32_t x;
  std::memcpy(&x, &value, sizeof(x));
  const uint32_t sign = (x >> 16) & 0x8000u;
  x &= 0x7fffffffu;
  if (x > 0x7f800000u) {
    return static_cast<uint16_t>(sign | 0x7e00u | ((x >> 13) & 0x3ffu));  // quiet NaN
  }
  // 65520 = 0x477ff000 is halfway between 65504 (the largest half) and 2^16: it and
  // everything above round to inf.
  if (x >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);
  if (x < 0x38800000u) {  // below 2^-14: a subnormal half or zero
    // 2^-25 (0x33000000) is the tie between 0 and the smallest subnormal 2^-24: even 0.
    if (x <= 0x33000000u) return static_cast<uint16_t>(sign);
    // value / 2^-24 = m * 2^(e - 126) with m the 24-bit significand; shift by 14..24.
    const uint32_t e = x >> 23;
    const uint32_t m = (x & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126u - e;
    uint32_t r = m >> shift;
    const uint32_t rest = m & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1u);
    if (rest > half || (rest == half && (r & 1u) != 0)) ++r;  // may carry into 2^-14: fine
    return static_cast<uint16_t>(sign | r);
  }
  // Normal: round the 13 dropped bits to nearest even, then rebias 127 -> 15 (a carry
  // into the exponent is the correctly rounded result).
  x += 0xfffu + ((x >> 13) & 1u);
  x -= static_cast<uint32_t>(127 - 15) << 23;
  return static_cast<uint16_t>(sign | (x >> 13));
}

uint16_t FloatToBf16Bits(float value) {
  uint32_t x;
  std::memcpy(&x, &value, sizeof(x));
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  if ((x & 0x7f800000u) == 0) return static_cast<uint16_t>((x >> 16) & 0x8000u);  // 0, subnormal
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}

memory::desc WithDataType(const memory::desc& md, memory::data_type type) {
  dnnl_memory_desc_t data = md.data;
  data.data_type = static_cast<dnnl_data_type_t>(type);
  return memory::desc(data);
}

bool IsQuantized8(const graph::Tensor& tensor) {
  return (tensor.dtype == DataType::INT8 || tensor.dtype == DataType::UINT8) &&
         !tensor.quant.empty();
}

Status PerTensorQuant(const graph::Tensor& tensor, const std::string& what, float* scale,
                      int32_t* zero_point) {
  const graph::QuantParams& q = tensor.quant;
  if (q.scales.empty() || q.zero_points.size() != q.scales.size()) {
    return InvalidArgument(what, ": tensor '", tensor.name, "' has type ",
                           DataTypeName(tensor.dtype), " without valid quantization parameters");
  }
  for (size_t k = 1; k < q.scales.size(); ++k) {
    if (q.scales[k] != q.scales[0] || q.zero_points[k] != q.zero_points[0]) {
      return Unimplemented(what, ": tensor '", tensor.name, "' is quantized along axis ", q.axis,
                           " with differing parameters (index ", k, "); the runtime kernels "
                           "take activations quantized per tensor");
    }
  }
  *scale = q.scales[0];
  *zero_point = q.zero_points[0];
  return Status::Ok();
}

std::optional<memory::format_tag> MatchFormatTag(const memory::desc& md) {
  using tag = memory::format_tag;
  if (md.is_zero()) return std::nullopt;
  const memory::dims dims = md.dims();
  std::vector<tag> candidates;
  switch (dims.size()) {
    case 1:
      candidates = {tag::a};
      break;
    case 2:
      candidates = {tag::ab};
      break;
    case 3:
      candidates = {tag::abc, tag::acb, tag::nCw16c, tag::nCw8c};
      break;
    case 4:
      candidates = {tag::abcd, tag::acdb, tag::nChw16c, tag::nChw8c};
      break;
    case 5:
      candidates = {tag::abcde, tag::acdeb, tag::nCdhw16c, tag::nCdhw8c};
      break;
    default:
      break;
  }
  for (tag t : candidates) {
    if (md == memory::desc(dims, md.data_type(), t)) return t;
  }
  // Plain layouts of other ranks (or plain descs built from strides that a tag of the
  // same rank did not reproduce).
  if (IsPlain(md)) {
    static const tag kPlain[] = {
        tag::undef,      tag::a,           tag::ab,          tag::abc,      tag::abcd,
        tag::abcde,      tag::abcdef,      tag::abcdefg,     tag::abcdefgh, tag::abcdefghi,
        tag::abcdefghij, tag::abcdefghijk, tag::abcdefghijkl};
    if (dims.size() < sizeof(kPlain) / sizeof(kPlain[0])) return kPlain[dims.size()];
  }
  return std::nullopt;
}

int64_t BlockSizeOf(const memory::desc& md, int dim) {
  if (md.data.format_kind != dnnl_blocked) return 1;
  const auto& blocking = md.data.format_desc.blocking;
  int64_t block = 1;
  for (int i = 0; i < blocking.inner_nblks; ++i) {
    if (blocking.inner_idxs[i] == dim) block *= blocking.inner_blks[i];
  }
  return block;
}

Status CheckInputCount(const graph::Graph& graph, graph::NodeId id, size_t count) {
  const graph::Node& node = graph.nodes[id];
  if (node.inputs.size() != count) {
    return InvalidArgument(graph.DescribeNode(id), ": has ", node.inputs.size(),
                           " inputs; the runtime kernel needs ", count);
  }
  for (size_t i = 0; i < count; ++i) {
    const graph::TensorId t = node.inputs[i];
    if (t < 0 || t >= static_cast<graph::TensorId>(graph.tensors.size())) {
      return InvalidArgument(graph.DescribeNode(id), ": input ", i,
                             " is absent or out of range (tensor id ", t, ")");
    }
  }
  if (node.outputs.size() != 1) {
    return InvalidArgument(graph.DescribeNode(id), ": has ", node.outputs.size(),
                           " outputs; the runtime kernel produces 1");
  }
  return Status::Ok();
}

Status CheckSingleRuntimeInput(const graph::Graph& graph, graph::NodeId id, bool quantized_ok) {
  QSDK_RETURN_IF_ERROR(CheckInputCount(graph, id, 1));
  return CheckRuntimeInput(graph, id, 0, quantized_ok);
}

Status CheckRuntimeInput(const graph::Graph& graph, graph::NodeId id, size_t slot,
                         bool quantized_ok) {
  const graph::TensorId t = graph.nodes[id].inputs[slot];
  if (graph.tensors[t].is_constant()) {
    return Unimplemented(graph.DescribeNode(id), ": input ", slot, " ", graph.DescribeTensor(t),
                         " is constant; the runtime kernel takes it at run time (constant "
                         "subgraphs are folded by the builder)");
  }
  const graph::Tensor& tensor = graph.tensors[t];
  if (tensor.dtype != DataType::FLOAT32 && tensor.dtype != DataType::BFLOAT16 &&
      !(quantized_ok && IsQuantized8(tensor))) {
    return Unimplemented(graph.DescribeNode(id), ": input ", slot, " ", graph.DescribeTensor(t),
                         " has type ", DataTypeName(tensor.dtype), "; this runtime kernel handles ",
                         quantized_ok ? "FLOAT32, BFLOAT16 and quantized INT8 / UINT8"
                                      : "FLOAT32 and BFLOAT16");
  }
  return Status::Ok();
}

Status CheckInstantiateArgs(const InstantiateArgs& args, size_t inputs, size_t outputs,
                            const std::string& what) {
  if (args.engine == nullptr) return InvalidArgument(what, ": Instantiate without an engine");
  if (args.input_descs.size() != inputs) {
    return InvalidArgument(what, ": Instantiate got ", args.input_descs.size(),
                           " runtime input layouts; the kernel has ", inputs, " runtime inputs");
  }
  if (args.output_shapes.size() != outputs) {
    return InvalidArgument(what, ": Instantiate got ", args.output_shapes.size(),
                           " output shapes; the node has ", outputs, " outputs");
  }
  for (const memory::desc& md : args.input_descs) {
    const memory::data_type type = md.is_zero() ? memory::data_type::undef : md.data_type();
    if (type == memory::data_type::undef) {
      return InvalidArgument(what, ": a runtime input layout is empty or has no element type");
    }
  }
  for (const auto& shape : args.output_shapes) {
    if (graph::ElementCount(shape) < 0) {
      return InvalidArgument(what, ": output shape ", graph::ShapeToString(shape),
                             " is not concrete");
    }
  }
  return Status::Ok();
}

Status MakeConstantMemory(const graph::Tensor& tensor, const std::vector<int64_t>& shape,
                          const dnnl::engine& engine, const std::string& what, dnnl::memory* out) {
  const memory::data_type type = DnnlDataType(tensor.dtype);
  if (type == memory::data_type::undef) {
    return Unimplemented(what, ": constant tensor '", tensor.name, "' has type ",
                         DataTypeName(tensor.dtype),
                         "; the runtime handles FLOAT32, BFLOAT16, FLOAT16, INT8, UINT8 and "
                         "INT32 constants");
  }
  const int64_t count = graph::ElementCount(tensor.shape);
  if (count < 0) {
    return InvalidArgument(what, ": constant tensor '", tensor.name, "' has shape ",
                           graph::ShapeToString(tensor.shape), "; it must be concrete");
  }
  if (graph::ElementCount(shape) != count) {
    return InternalError(what, ": constant tensor '", tensor.name, "' of shape ",
                         graph::ShapeToString(tensor.shape), " viewed as ",
                         graph::ShapeToString(shape));
  }
  const size_t bytes = static_cast<size_t>(count) * DataTypeSize(tensor.dtype);
  if (tensor.data == nullptr || tensor.data->size() < bytes) {
    return DataLoss(what, ": constant tensor '", tensor.name, "' holds ",
                    tensor.data ? tensor.data->size() : 0, " bytes; shape ",
                    graph::ShapeToString(tensor.shape), " needs ", bytes);
  }
  return GuardDnnl(what, [&]() -> Status {
    // The memory owns its buffer (allocated by oneDNN), so the kernel does not depend
    // on the graph staying alive.
    dnnl::memory mem(PlainDesc(shape, type), engine);
    if (bytes > 0) std::memcpy(mem.get_data_handle(), tensor.data->data(), bytes);
    *out = mem;
    return Status::Ok();
  });
}

Status MakeConstantMemory(const graph::Tensor& tensor, const dnnl::engine& engine,
                          const std::string& what, dnnl::memory* out) {
  return MakeConstantMemory(tensor, tensor.shape, engine, what, out);
}

dnnl::memory ReorderedCopy(const dnnl::memory& src, const memory::desc& md,
                           const dnnl::engine& engine) {
  dnnl::memory dst(md, engine);
  dnnl::stream stream(engine);
  dnnl::memory src_copy = src;
  dnnl::reorder(src_copy, dst).execute(stream, src_copy, dst);
  stream.wait();
  return dst;
}

dnnl::primitive_attr UserScratchpadAttr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

void PrimitiveSequenceInstance::AddCall(Call call) {
  c_args_.emplace_back(call.args.size());
  calls_.push_back(std::move(call));
}

void PrimitiveSequenceInstance::AddPrimitive(dnnl::primitive primitive,
                                             const dnnl::primitive_desc_base& pd,
                                             std::vector<ArgSource> args) {
  RequireScratchpad(pd.scratchpad_desc().get_size());
  AddImplementation(pd.impl_info_str());
  args.push_back({DNNL_ARG_SCRATCHPAD, ArgSource::Kind::kScratchpad, 0, {}});
  AddCall({std::move(primitive), std::move(args)});
}

std::unique_ptr<PrimitiveSequenceInstance> SingleCallInstance(
    dnnl::primitive primitive, const dnnl::primitive_desc_base& pd,
    const dnnl::memory::desc& input_md, const dnnl::memory::desc& output_md,
    const dnnl::engine& engine, const dnnl::memory::desc& src_view_md) {
  auto instance = std::make_unique<PrimitiveSequenceInstance>();
  ArgSource src{DNNL_ARG_SRC, ArgSource::Kind::kInput, 0, {}};
  if (!src_view_md.is_zero()) {
    src.kind = ArgSource::Kind::kView;
    src.index = instance->AddView({false, 0, dnnl::memory(src_view_md, engine, nullptr)});
  }
  instance->set_input_descs({input_md});
  instance->set_output_descs({output_md});
  instance->AddPrimitive(std::move(primitive), pd,
                         {src, {DNNL_ARG_DST, ArgSource::Kind::kOutput, 0, {}}});
  return instance;
}

void PrimitiveSequenceInstance::Execute(dnnl::stream& stream,
                                        const std::vector<dnnl::memory>& inputs,
                                        const std::vector<dnnl::memory>& outputs,
                                        const dnnl::memory& scratchpad) const {
  for (const View& view : views_) {
    const dnnl::memory& target = view.of_output ? outputs[view.index] : inputs[view.index];
    view.memory.set_data_handle(target.get_data_handle());
  }
  for (size_t c = 0; c < calls_.size(); ++c) {
    const Call& call = calls_[c];
    std::vector<dnnl_exec_arg_t>& args = c_args_[c];
    int n = 0;
    for (const ArgSource& source : call.args) {
      dnnl_memory_t mem = nullptr;
      switch (source.kind) {
        case ArgSource::Kind::kInput:
          mem = inputs[source.index].get();
          break;
        case ArgSource::Kind::kOutput:
          mem = outputs[source.index].get();
          break;
        case ArgSource::Kind::kScratchpad:
          mem = scratchpad.get(true);
          break;
        case ArgSource::Kind::kOwned:
          mem = source.owned.get();
          break;
        case ArgSource::Kind::kView:
          mem = views_[source.index].memory.get();
          break;
      }
      // A null memory is skipped by oneDNN (e.g. no scratchpad when none is needed).
      if (mem == nullptr) continue;
      args[n++] = dnnl_exec_arg_t{source.arg, mem};
    }
    // Same failure behaviour as dnnl::primitive::execute (throws dnnl::error), without
    // building an std::unordered_map per call.
    dnnl::error::wrap_c_api(
        dnnl_primitive_execute(call.primitive.get(), stream.get(), n, args.data()),
        "could not execute a primitive");
  }
}

Status ReadIntsAttribute(const graph::Graph& graph, graph::NodeId id, const char* key,
                         size_t count, int64_t min, std::vector<int64_t>* out) {
  *out = graph.nodes[id].attrs.GetInts(key);
  if (out->size() != count) {
    return InvalidArgument(graph.DescribeNode(id), ": attribute '", key, "' has ", out->size(),
                           " values; it needs ", count);
  }
  for (int64_t v : *out) {
    if (v < min) {
      return InvalidArgument(graph.DescribeNode(id), ": attribute '", key, "' holds ", v,
                             "; each value must be >= ", min);
    }
  }
  return Status::Ok();
}

memory::desc MatMulLogicalDesc(const std::vector<int64_t>& stored, bool transpose, size_t rank,
                               memory::data_type type) {
  const size_t r = stored.size();
  memory::dims dims(rank, 1);
  memory::dims strides(rank, 1);
  int64_t stride = 1;
  for (size_t i = r; i-- > 0;) {
    dims[rank - r + i] = stored[i];
    strides[rank - r + i] = stride;
    stride *= stored[i];
  }
  // Leading broadcast dims of extent 1: any stride is valid; use the tensor size.
  for (size_t i = 0; i < rank - r; ++i) strides[i] = stride;
  if (transpose && r >= 2) {
    std::swap(dims[rank - 1], dims[rank - 2]);
    std::swap(strides[rank - 1], strides[rank - 2]);
  }
  return memory::desc(dims, type, strides);
}

Status CheckInputType(const memory::desc& given, memory::data_type expected,
                      const std::string& what) {
  if (given.data_type() == expected) return Status::Ok();
  return InvalidArgument(what, ": input arrives as ", DnnlTypeName(given.data_type()),
                         "; the kernel was built for ", DnnlTypeName(expected));
}

memory::desc ChannelsLastDesc(const memory::dims& dims, memory::data_type type) {
  return memory::desc(dims, type,
                      dims.size() == 4 ? memory::format_tag::acdb : memory::format_tag::acdeb);
}

bool ReadersPreferChannelsLast(const graph::Graph& graph, graph::TensorId tensor) {
  bool conv = false;
  for (const graph::Node& node : graph.nodes) {
    if (std::find(node.inputs.begin(), node.inputs.end(), tensor) == node.inputs.end()) continue;
    switch (node.type) {
      case NodeType::kConv:
        conv = true;
        break;
      case NodeType::kPool:
      case NodeType::kElementwise:
      case NodeType::kConcat:
      case NodeType::kQuantize:
      case NodeType::kDequantize:
        break;
      default:
        return false;
    }
  }
  return conv && !graph.IsGraphOutput(tensor);
}

}  // namespace qsdk::runtime
