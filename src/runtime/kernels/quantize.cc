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
// Per-axis parameters give per-axis reorder scales; the zero point must be the same along
// the axis (oneDNN 2.6 reorders take one).
//
// Layouts: the output keeps the input's layout, with two exceptions chosen at creation
// from the graph: a Quantize of a plain 4-D / 5-D input whose readers are int8
// convolutions (and layout-agnostic ops) writes channels-last, the layout oneDNN's int8
// convolutions take, so the reorder that changes the type also changes the layout; and a
// Dequantize whose output is a graph output writes plain row-major, straight into the
// caller's tensor.
#include <algorithm>

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
    if (src.data_type() != in_.type) {
      return InvalidArgument(what_, ": input arrives as ", DnnlTypeName(src.data_type()),
                             "; the kernel was built for ", DnnlTypeName(in_.type));
    }
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
        dst = memory::desc(dims, out_.type,
                           dims.size() == 4 ? memory::format_tag::acdb : memory::format_tag::acdeb);
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

// True when every reader of `tensor` takes channels-last without a reorder and at least
// one of them is a convolution (which prefers it).
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

}  // namespace

Status CreateQuantizeKernel(const graph::Graph& graph, graph::NodeId id,
                            const dnnl::engine& /*engine*/, std::unique_ptr<Kernel>* kernel) {
  const std::string what = graph.DescribeNode(id);
  return GuardDnnl(what, [&]() -> Status {
    const graph::Node& node = graph.nodes[id];
    if (node.type != NodeType::kQuantize && node.type != NodeType::kDequantize) {
      return InternalError(what, ": the quantize kernel handles Quantize and Dequantize only");
    }
    QSDK_RETURN_IF_ERROR(CheckSingleRuntimeInput(graph, id, /*quantized_ok=*/true));
    const graph::TensorId x_id = node.inputs[0];
    const graph::TensorId y_id = node.outputs[0];
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
