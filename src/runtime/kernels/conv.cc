// Conv: oneDNN convolution_forward (fp32, direct algorithm). Groups and depthwise use
// 5-D goihw weights; oneDNN's dilation is d - 1; asymmetric pads map to padding_l /
// padding_r; a fused activation is an eltwise post-op. Source, destination and weights
// are `any`, so oneDNN picks its blocked layouts and blocked activations flow from conv
// to conv without reorders. The weights are reordered once, at Kernel creation, into
// the layout the primitive prefers for a nominal input shape.
#include <algorithm>

#include "runtime/kernels/heavy_kernel_util.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/onednn_util.h"

namespace qsdk::runtime {
namespace {

using dnnl::memory;
using tag = memory::format_tag;

struct ConvGeometry {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t group = 1;
  memory::dims weights_dims;  // oihw, or goihw when group > 1
  memory::dims strides;
  memory::dims dilations;  // oneDNN convention: d - 1
  memory::dims padding_l;  // {top, left}
  memory::dims padding_r;  // {bottom, right}
};

// Descriptor for a concrete input shape; src / dst `any` so oneDNN picks the layouts.
dnnl::convolution_forward::primitive_desc MakeConvPd(
    const ConvGeometry& geometry, const dnnl::primitive_attr& attr, const memory& bias,
    const memory::dims& src_dims, const memory::dims& dst_dims, const memory::desc& weights_md,
    const dnnl::engine& engine) {
  const memory::desc src_md(src_dims, memory::data_type::f32, tag::any);
  const memory::desc dst_md(dst_dims, memory::data_type::f32, tag::any);
  const memory::desc bias_md = bias ? bias.get_desc() : memory::desc();  // zero = no bias
  dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference,
                                       dnnl::algorithm::convolution_direct, src_md, weights_md,
                                       bias_md, dst_md, geometry.strides, geometry.dilations,
                                       geometry.padding_l, geometry.padding_r);
  return dnnl::convolution_forward::primitive_desc(desc, attr, engine);
}

class ConvKernel : public Kernel {
 public:
  ConvKernel(std::string what, ConvGeometry geometry, dnnl::primitive_attr attr,
             memory packed_weights, memory bias)
      : what_(std::move(what)),
        geometry_(std::move(geometry)),
        attr_(std::move(attr)),
        packed_weights_(std::move(packed_weights)),
        bias_(std::move(bias)) {}

  std::string name() const override { return "onednn_conv_fp32"; }

  Status Instantiate(const InstantiateArgs& args,
                     std::unique_ptr<KernelInstance>* instance) const override {
    QSDK_RETURN_IF_ERROR(CheckInstantiateArgs(args, 1, 1, what_));
    const memory::dims src_dims = args.input_descs[0].dims();
    const memory::dims dst_dims = ToDnnlDims(args.output_shapes[0]);
    if (src_dims.size() != 4 || src_dims[1] != geometry_.in_channels) {
      return InvalidArgument(what_, ": input layout has dims ", DimsToString(src_dims),
                             "; the kernel was built for [N, ", geometry_.in_channels, ", H, W]");
    }
    if (dst_dims.size() != 4 || dst_dims[0] != src_dims[0] ||
        dst_dims[1] != geometry_.out_channels) {
      return InvalidArgument(what_, ": output shape ", DimsToString(dst_dims),
                             " does not match input ", DimsToString(src_dims), " and ",
                             geometry_.out_channels, " output channels");
    }
    return GuardDnnl(what_, [&]() -> Status {
      WeightsChoice weights;
      auto pd = ChooseWeights<dnnl::convolution_forward::primitive_desc>(
          [&](const memory::desc& weights_md) {
            return MakeConvPd(geometry_, attr_, bias_, src_dims, dst_dims, weights_md,
                              *args.engine);
          },
          packed_weights_, *args.engine, &weights);
      auto result = std::make_unique<PrimitiveSequenceInstance>();
      result->set_input_descs({pd.src_desc()});
      result->set_output_descs({pd.dst_desc()});
      result->RequireScratchpad(pd.scratchpad_desc().get_size());
      PrimitiveSequenceInstance::Call call{dnnl::convolution_forward(pd), {}};
      call.args.push_back({DNNL_ARG_SRC, ArgSource::Kind::kInput, 0, {}});
      call.args.push_back({DNNL_ARG_WEIGHTS, ArgSource::Kind::kOwned, 0, weights.weights});
      if (bias_) call.args.push_back({DNNL_ARG_BIAS, ArgSource::Kind::kOwned, 0, bias_});
      call.args.push_back({DNNL_ARG_DST, ArgSource::Kind::kOutput, 0, {}});
      call.args.push_back({DNNL_ARG_SCRATCHPAD, ArgSource::Kind::kScratchpad, 0, {}});
      result->AddCall(std::move(call));
      *instance = std::move(result);
      return Status::Ok();
    });
  }

 private:
  std::string what_;
  ConvGeometry geometry_;
  dnnl::primitive_attr attr_;
  memory packed_weights_;  // in the layout preferred at the nominal shape
  memory bias_;            // plain [OC], or empty
};

// Reads an attribute of exactly `count` integers, each >= `min`.
Status ReadInts(const graph::Graph& graph, graph::NodeId id, const char* key, size_t count,
                int64_t min, std::vector<int64_t>* out) {
  const graph::AttrMap& attrs = graph.nodes[id].attrs;
  *out = attrs.GetInts(key);
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

}  // namespace

Status CreateConvKernel(const graph::Graph& graph, graph::NodeId id, const dnnl::engine& engine,
                        std::unique_ptr<Kernel>* kernel) {
  const std::string what = graph.DescribeNode(id);
  const graph::Node& node = graph.nodes[id];
  if (node.inputs.size() < 2 || node.inputs.size() > 3 || node.outputs.size() != 1) {
    return InvalidArgument(what, ": has ", node.inputs.size(), " inputs and ", node.outputs.size(),
                           " outputs; a convolution takes x, w and an "
                           "optional bias and produces one output");
  }
  QSDK_RETURN_IF_ERROR(CheckRuntimeInput(graph, id, 0));
  const graph::TensorId w_id = node.inputs[1];
  const graph::TensorId b_id = node.inputs.size() > 2 ? node.inputs[2] : graph::kNoTensor;
  if (w_id < 0 || w_id >= static_cast<graph::TensorId>(graph.tensors.size()) ||
      !graph.tensors[w_id].is_constant()) {
    return Unimplemented(what, ": input 1 (the filter) must be a constant tensor");
  }
  if (b_id != graph::kNoTensor &&
      (b_id < 0 || b_id >= static_cast<graph::TensorId>(graph.tensors.size()) ||
       !graph.tensors[b_id].is_constant())) {
    return Unimplemented(what, ": input 2 (the bias) must be a constant tensor");
  }
  const std::vector<int64_t>& x_shape = graph.tensors[node.inputs[0]].shape;
  const std::vector<int64_t>& w_shape = graph.tensors[w_id].shape;
  if (x_shape.size() != 4 || w_shape.size() != 4) {
    return InvalidArgument(what, ": input has shape ", graph::ShapeToString(x_shape),
                           " and filter ", graph::ShapeToString(w_shape), "; both need rank 4");
  }
  for (int64_t e : w_shape) {
    if (e < 1) {
      return InvalidArgument(what, ": filter shape ", graph::ShapeToString(w_shape),
                             " must have extents >= 1");
    }
  }

  std::vector<int64_t> strides, pads, dilations;
  QSDK_RETURN_IF_ERROR(ReadInts(graph, id, graph::attr::kStrides, 2, 1, &strides));
  QSDK_RETURN_IF_ERROR(ReadInts(graph, id, graph::attr::kPads, 4, 0, &pads));
  QSDK_RETURN_IF_ERROR(ReadInts(graph, id, graph::attr::kDilations, 2, 1, &dilations));
  const int64_t group = node.attrs.GetInt(graph::attr::kGroup, 1);
  const int64_t oc = w_shape[0];
  if (group < 1 || oc % group != 0) {
    return InvalidArgument(what, ": attribute 'group' = ", group, "; it must be >= 1 and divide ",
                           oc, " output channels");
  }
  ConvGeometry geometry;
  geometry.group = group;
  geometry.out_channels = oc;
  geometry.in_channels = w_shape[1] * group;
  if (x_shape[1] != -1 && x_shape[1] != geometry.in_channels) {
    return InvalidArgument(what, ": input has ", x_shape[1], " channels; filter ",
                           graph::ShapeToString(w_shape), " with group ", group, " needs ",
                           geometry.in_channels);
  }
  geometry.weights_dims = group > 1
                              ? memory::dims{group, oc / group, w_shape[1], w_shape[2], w_shape[3]}
                              : memory::dims{oc, w_shape[1], w_shape[2], w_shape[3]};
  geometry.strides = {strides[0], strides[1]};
  geometry.dilations = {dilations[0] - 1, dilations[1] - 1};
  geometry.padding_l = {pads[0], pads[2]};
  geometry.padding_r = {pads[1], pads[3]};

  dnnl::primitive_attr attr;
  QSDK_RETURN_IF_ERROR(HeavyPrimitiveAttr(graph, id, &attr));

  memory plain_weights;
  QSDK_RETURN_IF_ERROR(MakeConstantMemory(graph.tensors[w_id], engine, what, &plain_weights));
  memory bias;
  if (b_id != graph::kNoTensor) {
    if (graph.tensors[b_id].shape != std::vector<int64_t>{oc}) {
      return InvalidArgument(what, ": bias has shape ",
                             graph::ShapeToString(graph.tensors[b_id].shape), "; it needs [", oc,
                             "]");
    }
    QSDK_RETURN_IF_ERROR(MakeConstantMemory(graph.tensors[b_id], engine, what, &bias));
  }

  // Nominal input shape for packing: the graph's extents where known; a dynamic batch
  // packs for batch 1 (latency-style inference) and a dynamic spatial extent for 32 plus
  // the dilated filter (any size large enough for a valid output works: oneDNN's choice of
  // weights layout depends on channels and ISA, rarely on spatial size). Instantiate
  // falls back cleanly when a real shape prefers another layout.
  memory::dims src_dims(4);
  src_dims[0] = NominalExtent(x_shape[0], 1);
  src_dims[1] = geometry.in_channels;
  memory::dims dst_dims = {src_dims[0], oc, 0, 0};
  for (int d = 0; d < 2; ++d) {
    const int64_t effective = dilations[d] * (w_shape[2 + d] - 1) + 1;
    src_dims[2 + d] = NominalExtent(x_shape[2 + d], effective + 32);
    const int64_t padded = src_dims[2 + d] + pads[2 * d] + pads[2 * d + 1];
    if (padded < effective) {
      return InvalidArgument(what, ": padded input extent ", padded,
                             " is smaller than the dilated filter extent ", effective);
    }
    dst_dims[2 + d] = (padded - effective) / strides[d] + 1;
  }

  return GuardDnnl(what, [&]() -> Status {
    const memory::desc any_weights(geometry.weights_dims, memory::data_type::f32, tag::any);
    auto pd = MakeConvPd(geometry, attr, bias, src_dims, dst_dims, any_weights, engine);
    // The graph filter [OC, C/g, KH, KW] is, byte for byte, goihw [g, OC/g, C/g, KH, KW].
    const memory::desc plain_md(geometry.weights_dims, memory::data_type::f32,
                                group > 1 ? tag::goihw : tag::oihw);
    memory plain_view(plain_md, engine, plain_weights.get_data_handle());
    memory packed = ReorderedCopy(plain_view, pd.weights_desc(), engine);
    *kernel = std::make_unique<ConvKernel>(what, std::move(geometry), std::move(attr),
                                           std::move(packed), std::move(bias));
    return Status::Ok();
  });
}

}  // namespace qsdk::runtime
