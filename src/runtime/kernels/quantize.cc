// Quantize and Dequantize: oneDNN reorders with scales and zero points
// (docs/quantization.md):
//   Quantize    f32 -> u8 / s8   q = saturate(round_half_even(x * (1.0f / s) + z)): output
//                                scale 1/s (the reciprocal computed once in float) and a
//                                destination zero point; oneDNN's reorder computes
//                                x * (1/s) + z in float, then converts rounding half to even
//                                with saturation.
//   Dequantize  u8 / s8 -> f32   x = s * (float(q) - float(z)): source zero point and output
//                                scale s.
//   Requantize  Quantize of a quantized input: dequantize then quantize, in float, through
//                                an instance-owned f32 buffer (one reorder with the combined
//                                scale would round differently).
// Per-axis parameters give per-axis reorder scales when the zero point is the same along
// the axis (oneDNN 2.6 reorders take one).
//
// INT16 (either side; oneDNN 2.6 has no s16) and per-axis parameters whose zero points
// differ along the axis run in a loop of our own instead (LoopQuantizeKernel), with the
// reference's scalar steps (reference::QuantizeValue / RequantizeValue / DequantizeValue),
// so they are bit-exact with reference::Quantize / Dequantize; on AVX-512 CPUs runs of at
// least 16 elements sharing their parameters (the whole tensor for per-tensor parameters)
// go through internal::ConvertAvx512 (int16_gemm.h), the same steps on 16 lanes. That path
// takes and produces plain row-major data; INT16 tensors travel as Int16PlainDesc
// (int16_gemm.h).
//
// Layouts: the output keeps the input's layout, with two exceptions chosen at creation
// from the graph: a Quantize of a plain 4-D / 5-D input whose readers are int8
// convolutions (and layout-agnostic ops) writes channels-last, the layout oneDNN's int8
// convolutions take, so the reorder that changes the type also changes the layout; and a
// Dequantize whose output is a graph output writes plain row-major, straight into the
// caller's tensor.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "reference/quant_math.h"
#include "runtime/kernels/int16_gemm.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/onednn_util.h"

namespace qsdk::runtime {
namespace {

using dnnl::memory;

// One side of the conversion.
struct Side {
  memory::data_type type = memory::data_type::f32;
  std::vector<float> scales;  // empty for f32
  int32_t zero_point = 0;
  int32_t axis = -1;  // per-axis parameters: the axis; -1 per tensor

  bool quantized() const { return type != memory::data_type::f32; }
  int mask() const { return axis < 0 ? 0 : 1 << axis; }
};

enum class OutputLayout { kSameAsInput, kChannelsLast, kPlain };

class QuantizeKernel : public Kernel {
 public:
  QuantizeKernel(std::string what, Side in, Side out, OutputLayout layout)
      : what_(std::move(what)), in_(std::move(in)), out_(std::move(out)), layout_(layout) {}

  std::string name() const override {
    if (!in_.quantized()) return "onednn_quantize";
    return out_.quantized() ? "onednn_requantize" : "onednn_dequantize";
  }

  Status Instantiate(const InstantiateArgs& args,
                     std::unique_ptr<KernelInstance>* instance) const override {
    QSDK_RETURN_IF_ERROR(CheckInstantiateArgs(args, 1, 1, what_));
    const memory::desc& src = args.input_descs[0];
    QSDK_RETURN_IF_ERROR(CheckInputType(src, in_.type, what_));
    const memory::dims dims = src.dims();
    std::vector<int64_t> out_shape = args.output_shapes[0];
    if (out_shape.empty()) out_shape.push_back(1);  // rank 0 runs as [1]
    if (ToDnnlDims(out_shape) != dims) {
      return InvalidArgument(what_, ": input has dims ", DimsToString(dims), " but the output ",
                             graph::ShapeToString(args.output_shapes[0]));
    }
    return GuardDnnl(what_, [&]() -> Status {
      const dnnl::engine& engine = *args.engine;
      memory::desc dst = WithDataType(src, out_.type);
      if (layout_ == OutputLayout::kPlain) {
        dst = PlainDesc(out_shape, out_.type);
      } else if (layout_ == OutputLayout::kChannelsLast && IsPlain(src) &&
                 (dims.size() == 4 || dims.size() == 5)) {
        dst = ChannelsLastDesc(dims, out_.type);
      }
      auto result = std::make_unique<PrimitiveSequenceInstance>();
      if (in_.quantized() && out_.quantized()) {
        // Requantize through f32, in the output's layout.
        memory real(WithDataType(dst, memory::data_type::f32), engine);
        AddReorder(engine, src, {DNNL_ARG_FROM, ArgSource::Kind::kInput, 0, {}}, real.get_desc(),
                   {DNNL_ARG_TO, ArgSource::Kind::kOwned, 0, real}, DequantizeAttr(), result.get());
        AddReorder(engine, real.get_desc(), {DNNL_ARG_FROM, ArgSource::Kind::kOwned, 0, real}, dst,
                   {DNNL_ARG_TO, ArgSource::Kind::kOutput, 0, {}}, QuantizeAttr(), result.get());
      } else {
        AddReorder(engine, src, {DNNL_ARG_FROM, ArgSource::Kind::kInput, 0, {}}, dst,
                   {DNNL_ARG_TO, ArgSource::Kind::kOutput, 0, {}},
                   in_.quantized() ? DequantizeAttr() : QuantizeAttr(), result.get());
      }
      result->set_input_descs({src});
      result->set_output_descs({dst});
      *instance = std::move(result);
      return Status::Ok();
    });
  }

 private:
  // s * (q - z) from the input side.
  dnnl::primitive_attr DequantizeAttr() const {
    dnnl::primitive_attr attr = UserScratchpadAttr();
    attr.set_output_scales(in_.mask(), in_.scales);
    if (in_.zero_point != 0) attr.set_zero_points(DNNL_ARG_FROM, 0, {in_.zero_point});
    return attr;
  }

  // x * (1/s) + z to the output side.
  dnnl::primitive_attr QuantizeAttr() const {
    dnnl::primitive_attr attr = UserScratchpadAttr();
    std::vector<float> inverse(out_.scales.size());
    for (size_t k = 0; k < inverse.size(); ++k) inverse[k] = 1.0f / out_.scales[k];
    attr.set_output_scales(out_.mask(), inverse);
    if (out_.zero_point != 0) attr.set_zero_points(DNNL_ARG_TO, 0, {out_.zero_point});
    return attr;
  }

  static void AddReorder(const dnnl::engine& engine, const memory::desc& from_md, ArgSource from,
                         const memory::desc& to_md, ArgSource to, const dnnl::primitive_attr& attr,
                         PrimitiveSequenceInstance* instance) {
    dnnl::reorder::primitive_desc pd(engine, from_md, engine, to_md, attr);
    instance->AddPrimitive(dnnl::reorder(pd), pd, {from, to});
  }

  std::string what_;
  Side in_;
  Side out_;
  OutputLayout layout_;
};

// One side of a conversion done by LoopQuantizeKernel: FLOAT32 (no parameters) or an
// integer type with per-tensor or per-axis parameters.
struct LoopSide {
  DataType type = DataType::FLOAT32;
  std::vector<float> scales;
  std::vector<float> inverse_scales;  // 1.0f / s, computed once (the contract's reciprocal)
  std::vector<int32_t> zero_points;
  int32_t axis = -1;

  bool quantized() const { return type != DataType::FLOAT32; }
};

memory::desc LoopDesc(const std::vector<int64_t>& shape, DataType type) {
  return type == DataType::INT16 ? Int16PlainDesc(shape) : PlainDesc(shape, DnnlDataType(type));
}

class LoopQuantizeInstance : public KernelInstance {
 public:
  LoopQuantizeInstance(const LoopSide& in, const LoopSide& out, const std::vector<int64_t>& shape)
      : in_(in), out_(out) {
    count_ = 1;
    for (int64_t e : shape) count_ *= e;
    // Element i lies at index (i / inner) % extent of the parameters' axis.
    const int32_t axis = in.axis >= 0 ? in.axis : out.axis;
    if (axis >= 0 && axis < static_cast<int32_t>(shape.size())) {
      extent_ = shape[static_cast<size_t>(axis)];
      for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) inner_ *= shape[d];
    }
    // The vector path: the parameters of each index of the axis (one set per tensor).
    isa_ = BestInt16GemmIsa();
    const bool per_axis = in_.scales.size() > 1 || out_.scales.size() > 1;
    run_ = per_axis ? inner_ : count_;
    if (IsAvx512(isa_) && run_ >= 16) {
      const int64_t sets = per_axis ? extent_ : 1;
      for (int64_t c = 0; c < sets; ++c) {
        const size_t ci = in_.scales.size() > 1 ? static_cast<size_t>(c) : 0;
        const size_t co = out_.scales.size() > 1 ? static_cast<size_t>(c) : 0;
        internal::ConvertParams p;
        p.in = in_.type;
        p.out = out_.type;
        if (in_.quantized()) {
          p.in_scale = in_.scales[ci];
          p.in_zero_point = in_.zero_points[ci];
        }
        if (out_.quantized()) {
          p.out_inv_scale = out_.inverse_scales[co];
          p.out_zero_point = out_.zero_points[co];
          p.lo = reference::QuantizedMin(out_.type);
          p.hi = reference::QuantizedMax(out_.type);
        }
        params_.push_back(p);
      }
    }
    input_descs_.push_back(LoopDesc(shape, in.type));
    output_descs_.push_back(LoopDesc(shape, out.type));
    AddImplementation(params_.empty() ? "qsdk_quantize_loop:scalar" : "qsdk_quantize_loop:avx512");
  }

  void Execute(dnnl::stream& /*stream*/, const std::vector<memory>& inputs,
               const std::vector<memory>& outputs, const memory& /*scratchpad*/) const override {
    const void* x = inputs[0].get_data_handle();
    void* y = outputs[0].get_data_handle();
    if (!params_.empty()) {
      // Runs of run_ elements with one set of parameters each.
      const size_t in_size = DataTypeSize(in_.type), out_size = DataTypeSize(out_.type);
      for (int64_t i = 0; i < count_; i += run_) {
        const size_t set = params_.size() > 1 ? static_cast<size_t>((i / inner_) % extent_) : 0;
        internal::ConvertAvx512(params_[set], static_cast<const char*>(x) + i * in_size,
                                static_cast<char*>(y) + i * out_size, std::min(run_, count_ - i));
      }
      return;
    }
    for (int64_t i = 0; i < count_; ++i) {
      const int64_t c = extent_ <= 1 ? 0 : (i / inner_) % extent_;
      const size_t ci = in_.scales.size() > 1 ? static_cast<size_t>(c) : 0;
      const size_t co = out_.scales.size() > 1 ? static_cast<size_t>(c) : 0;
      if (!out_.quantized()) {
        static_cast<float*>(y)[i] =
            reference::DequantizeValue(Load(in_.type, x, i), in_.scales[ci], in_.zero_points[ci]);
        continue;
      }
      int32_t q = 0;
      if (in_.quantized()) {
        q = reference::RequantizeValue(Load(in_.type, x, i), in_.scales[ci], in_.zero_points[ci],
                                       out_.inverse_scales[co], out_.zero_points[co], out_.type);
      } else {
        q = reference::QuantizeValue(static_cast<const float*>(x)[i], out_.inverse_scales[co],
                                     out_.zero_points[co], out_.type);
      }
      Store(out_.type, y, i, q);
    }
  }

 private:
  static int32_t Load(DataType type, const void* p, int64_t i) {
    switch (type) {
      case DataType::INT8: return static_cast<const int8_t*>(p)[i];
      case DataType::UINT8: return static_cast<const uint8_t*>(p)[i];
      default: return static_cast<const int16_t*>(p)[i];
    }
  }
  static void Store(DataType type, void* p, int64_t i, int32_t q) {
    switch (type) {
      case DataType::INT8: static_cast<int8_t*>(p)[i] = static_cast<int8_t>(q); break;
      case DataType::UINT8: static_cast<uint8_t*>(p)[i] = static_cast<uint8_t>(q); break;
      default: static_cast<int16_t*>(p)[i] = static_cast<int16_t>(q); break;
    }
  }

  LoopSide in_, out_;
  int64_t count_ = 0;
  int64_t inner_ = 1;
  int64_t extent_ = 1;
  Int16GemmIsa isa_ = Int16GemmIsa::kScalar;
  int64_t run_ = 0;                              // elements per parameter set
  std::vector<internal::ConvertParams> params_;  // empty: the scalar loop
};

class LoopQuantizeKernel : public Kernel {
 public:
  LoopQuantizeKernel(std::string what, LoopSide in, LoopSide out)
      : what_(std::move(what)), in_(std::move(in)), out_(std::move(out)) {}

  std::string name() const override {
    if (!in_.quantized()) return "loop_quantize";
    return out_.quantized() ? "loop_requantize" : "loop_dequantize";
  }

  Status Instantiate(const InstantiateArgs& args,
                     std::unique_ptr<KernelInstance>* instance) const override {
    if (args.engine == nullptr || args.input_descs.size() != 1 || args.output_shapes.size() != 1) {
      return InvalidArgument(what_, ": Instantiate needs an engine, one input layout and one "
                             "output shape");
    }
    std::vector<int64_t> shape = args.output_shapes[0];
    if (shape.empty()) shape.push_back(1);  // rank 0 runs as [1]
    if (graph::ElementCount(shape) < 0) {
      return InvalidArgument(what_, ": output shape ", graph::ShapeToString(shape),
                             " is not concrete");
    }
    const memory::desc& src = args.input_descs[0];
    const memory::desc wanted = LoopDesc(shape, in_.type);
    // A float or 8-bit input in another layout is reordered to plain by the context (same
    // type); an INT16 input must already be plain INT16.
    if (src.is_zero() || src.dims() != wanted.dims() ||
        (in_.type == DataType::INT16 ? !IsInt16PlainDesc(src)
                                     : src.data_type() != wanted.data_type())) {
      return InvalidArgument(what_, ": input arrives as ",
                             src.is_zero() ? "nothing" : DimsToString(src.dims()), " (",
                             src.is_zero() ? "" : DnnlTypeName(src.data_type()),
                             "); the kernel needs ", DataTypeName(in_.type), " ",
                             graph::ShapeToString(shape));
    }
    try {
      *instance = std::make_unique<LoopQuantizeInstance>(in_, out_, shape);
    } catch (const std::bad_alloc&) {
      return Status(StatusCode::kResourceExhausted, StrCat(what_, ": out of memory"));
    } catch (const dnnl::error& e) {
      return InvalidArgument(what_, ": oneDNN rejected a descriptor (", e.what(), ")");
    }
    return Status::Ok();
  }

 private:
  std::string what_;
  LoopSide in_, out_;
};

// Reads one side for LoopQuantizeKernel, checking the parameters fully (per tensor, or
// one scale per index of an axis of the tensor; scales finite and > 0; zero points within
// the type's range).
Status ReadLoopSide(const graph::Tensor& tensor, const std::string& what, LoopSide* side) {
  *side = LoopSide();
  side->type = tensor.dtype;
  if (tensor.dtype == DataType::FLOAT32) return Status::Ok();
  if (tensor.dtype != DataType::INT8 && tensor.dtype != DataType::UINT8 &&
      tensor.dtype != DataType::INT16) {
    return InvalidArgument(what, ": tensor '", tensor.name, "' has type ",
                           DataTypeName(tensor.dtype),
                           "; Quantize / Dequantize convert between FLOAT32 and INT8 / UINT8 / "
                           "INT16");
  }
  const graph::QuantParams& q = tensor.quant;
  if (q.scales.empty() || q.zero_points.size() != q.scales.size()) {
    return InvalidArgument(what, ": tensor '", tensor.name, "' has ", q.scales.size(),
                           " scales and ", q.zero_points.size(), " zero points");
  }
  if (q.axis < 0 ? (q.axis != -1 || q.scales.size() != 1)
                 : (q.axis >= static_cast<int32_t>(tensor.shape.size()) ||
                    static_cast<int64_t>(q.scales.size()) !=
                        tensor.shape[static_cast<size_t>(q.axis)])) {
    return InvalidArgument(what, ": tensor '", tensor.name, "' of shape ",
                           graph::ShapeToString(tensor.shape), " has ", q.scales.size(),
                           " scales along axis ", q.axis,
                           "; parameters are per tensor (axis -1, one scale) or one per index "
                           "of an axis");
  }
  const int32_t lo = reference::QuantizedMin(tensor.dtype);
  const int32_t hi = reference::QuantizedMax(tensor.dtype);
  for (size_t k = 0; k < q.scales.size(); ++k) {
    if (!std::isfinite(q.scales[k]) || !(q.scales[k] > 0.0f)) {
      return InvalidArgument(what, ": tensor '", tensor.name, "' has scale[", k, "] = ",
                             q.scales[k], "; a scale must be finite and > 0");
    }
    if (q.zero_points[k] < lo || q.zero_points[k] > hi) {
      return InvalidArgument(what, ": tensor '", tensor.name, "' has zero_point[", k, "] = ",
                             q.zero_points[k], "; for ", DataTypeName(tensor.dtype),
                             " it must be in [", lo, ", ", hi, "]");
    }
    side->inverse_scales.push_back(reference::InverseScale(q.scales[k]));
  }
  side->scales = q.scales;
  side->zero_points = q.zero_points;
  side->axis = q.axis;
  return Status::Ok();
}

// True when the conversion needs LoopQuantizeKernel: an INT16 side, or per-axis zero
// points that differ along the axis.
bool NeedsLoop(const graph::Tensor& tensor) {
  if (tensor.dtype == DataType::INT16) return true;
  const std::vector<int32_t>& z = tensor.quant.zero_points;
  return std::any_of(z.begin(), z.end(), [&](int32_t v) { return v != z.front(); });
}

// Reads the storage type and parameters of `tensor` (FLOAT32: none).
Status ReadSide(const graph::Tensor& tensor, const std::string& what, Side* side) {
  *side = Side();
  if (tensor.dtype == DataType::FLOAT32) return Status::Ok();
  if (!IsQuantized8(tensor)) {
    return InvalidArgument(what, ": tensor '", tensor.name, "' has type ",
                           DataTypeName(tensor.dtype),
                           "; Quantize / Dequantize convert between FLOAT32 and quantized INT8 / "
                           "UINT8");
  }
  const graph::QuantParams& q = tensor.quant;
  for (size_t k = 1; k < q.zero_points.size(); ++k) {
    if (q.zero_points[k] != q.zero_points[0]) {
      return Unimplemented(what, ": tensor '", tensor.name,
                           "' has zero points differing along axis ", q.axis, " (index ", k,
                           "); the runtime takes one zero point per tensor");
    }
  }
  side->type = DnnlDataType(tensor.dtype);
  side->scales = q.scales;
  side->zero_point = q.zero_points.empty() ? 0 : q.zero_points[0];
  side->axis = q.per_tensor() ? -1 : q.axis;
  if (side->axis >= 0 && std::all_of(q.scales.begin(), q.scales.end(),
                                     [&](float s) { return s == q.scales[0]; })) {
    // The same scale everywhere: per tensor.
    side->scales = {q.scales[0]};
    side->axis = -1;
  }
  return Status::Ok();
}

}  // namespace

Status CreateQuantizeKernel(const graph::Graph& graph, graph::NodeId id,
                            const dnnl::engine& /*engine*/, std::unique_ptr<Kernel>* kernel) {
  const std::string what = graph.DescribeNode(id);
  return GuardDnnl(what, [&]() -> Status {
    const graph::Node& node = graph.nodes[id];
    if (node.type != NodeType::kQuantize && node.type != NodeType::kDequantize) {
      return InternalError(what, ": the quantize kernel handles Quantize and Dequantize only");
    }
    QSDK_RETURN_IF_ERROR(CheckInputCount(graph, id, 1));
    const graph::TensorId x_id = node.inputs[0];
    const graph::TensorId y_id = node.outputs[0];
    if (y_id < 0 || y_id >= static_cast<graph::TensorId>(graph.tensors.size())) {
      return InvalidArgument(what, ": output tensor id ", y_id, " is out of range");
    }
    if (NeedsLoop(graph.tensors[x_id]) || NeedsLoop(graph.tensors[y_id])) {
      if (graph.tensors[x_id].is_constant()) {
        return Unimplemented(what, ": input 0 ", graph.DescribeTensor(x_id),
                             " is constant; the runtime kernel takes it at run time (constant "
                             "subgraphs are folded by the builder)");
      }
      LoopSide in, out;
      QSDK_RETURN_IF_ERROR(ReadLoopSide(graph.tensors[x_id], what, &in));
      QSDK_RETURN_IF_ERROR(ReadLoopSide(graph.tensors[y_id], what, &out));
      const bool quantize = node.type == NodeType::kQuantize;
      if (quantize ? !out.quantized() : (!in.quantized() || out.quantized())) {
        return InvalidArgument(what, ": converts ", DataTypeName(in.type), " to ",
                               DataTypeName(out.type), "; ",
                               quantize ? "Quantize produces INT8 / UINT8 / INT16"
                                        : "Dequantize reads INT8 / UINT8 / INT16 and produces "
                                          "FLOAT32");
      }
      if (in.axis >= 0 && out.axis >= 0 && in.axis != out.axis) {
        return Unimplemented(what, ": input and output are quantized along different axes (",
                             in.axis, " and ", out.axis, ")");
      }
      *kernel = std::make_unique<LoopQuantizeKernel>(what, std::move(in), std::move(out));
      return Status::Ok();
    }
    QSDK_RETURN_IF_ERROR(CheckSingleRuntimeInput(graph, id, /*quantized_ok=*/true));
    Side in, out;
    QSDK_RETURN_IF_ERROR(ReadSide(graph.tensors[x_id], what, &in));
    QSDK_RETURN_IF_ERROR(ReadSide(graph.tensors[y_id], what, &out));
    const bool quantize = node.type == NodeType::kQuantize;
    if (quantize ? !out.quantized() : (!in.quantized() || out.quantized())) {
      return InvalidArgument(what, ": converts ", DataTypeName(graph.tensors[x_id].dtype), " to ",
                             DataTypeName(graph.tensors[y_id].dtype), "; ",
                             quantize ? "Quantize produces INT8 / UINT8"
                                      : "Dequantize reads INT8 / UINT8 and produces FLOAT32");
    }
    OutputLayout layout = OutputLayout::kSameAsInput;
    if (graph.IsGraphOutput(y_id)) {
      layout = OutputLayout::kPlain;
    } else if (quantize && !in.quantized() && ReadersPreferChannelsLast(graph, y_id)) {
      layout = OutputLayout::kChannelsLast;
    }
    *kernel = std::make_unique<QuantizeKernel>(what, std::move(in), std::move(out), layout);
    return Status::Ok();
  });
}

}  // namespace qsdk::runtime
