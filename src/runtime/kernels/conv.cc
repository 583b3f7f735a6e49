// Conv: oneDNN convolution_forward (direct algorithm), fp32, bf16 or int8 (chosen from the
// tensors' types, heavy_kernel_util.h). Groups and depthwise use 5-D goihw weights;
// oneDNN's dilation is d - 1; asymmetric pads map to padding_l / padding_r; a fused
// residual, a fused activation and the quantization of a u8 / s8 output are post-ops.
// Source, destination and weights are `any`, so oneDNN picks its blocked layouts (nChw16c
// for fp32, channels-last for int8 on AVX-512) and activations flow from conv to conv
// without reorders. The weights are reordered once, at Kernel creation, into the layout
// the primitive prefers for a nominal input shape (int8: s8 with oneDNN's compensation
// data, which the reorder computes).
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
    const ConvGeometry& geometry, const HeavyNumerics& numerics, const memory& bias,
    const memory::dims& src_dims, const memory::dims& dst_dims, const memory::desc& weights_md,
    const dnnl::engine& engine) {
  const memory::desc src_md(src_dims, numerics.src_dt, tag::any);
  const memory::desc dst_md(dst_dims, numerics.dst_dt, tag::any);
  const memory::desc bias_md = bias ? bias.get_desc() : memory::desc();  // zero = no bias
  dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference,
                                       dnnl::algorithm::convolution_direct, src_md, weights_md,
                                       bias_md, dst_md, geometry.strides, geometry.dilations,
                                       geometry.padding_l, geometry.padding_r);
  return dnnl::convolution_forward::primitive_desc(desc, MakeHeavyAttr(numerics, 1, dst_dims),
                                                   engine);
}

class ConvKernel : public Kernel {
 public:
  ConvKernel(std::string what, ConvGeometry geometry, HeavyNumerics numerics,
             memory packed_weights, memory plain_weights, memory bias)
      : what_(std::move(what)),
        geometry_(std::move(geometry)),
        numerics_(std::move(numerics)),
        packed_weights_(std::move(packed_weights)),
        plain_weights_(std::move(plain_weights)),
        bias_(std::move(bias)) {}

  std::string name() const override {
    return std::string("onednn_conv_") + numerics_.precision();
  }

  Status Instantiate(const InstantiateArgs& args,
                     std::unique_ptr<KernelInstance>* instance) const override {
    QSDK_RETURN_IF_ERROR(CheckInstantiateArgs(args, numerics_.runtime_inputs(), 1, what_));
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
    QSDK_RETURN_IF_ERROR(CheckInputType(args.input_descs[0], numerics_.src_dt, what_));
    QSDK_RETURN_IF_ERROR(CheckResidualDims(args, numerics_, dst_dims, what_));
    return GuardDnnl(what_, [&]() -> Status {
      WeightsChoice weights;
      auto pd = ChooseWeights<dnnl::convolution_forward::primitive_desc>(
          [&](const memory::desc& weights_md) {
            return MakeConvPd(geometry_, numerics_, bias_, src_dims, dst_dims, weights_md,
                              *args.engine);
          },
          packed_weights_, *args.engine, &weights, plain_weights_);
      auto result = std::make_unique<PrimitiveSequenceInstance>();
      AddHeavyCall(numerics_, dnnl::convolution_forward(pd), pd,
                   {DNNL_ARG_SRC, ArgSource::Kind::kInput, 0, {}}, weights.weights, bias_,
                   pd.src_desc(), *args.engine, result.get());
      // oneDNN's implementation names do not always say so (its int8 jit convolutions
      // handle depthwise shapes under their general name).
      if (geometry_.group > 1 && geometry_.group == geometry_.in_channels &&
          geometry_.group == geometry_.out_channels) {
        result->AnnotateImplementation("depthwise");
      }
      NoteWeightsRelayout(weights.weights, packed_weights_, result.get());
      *instance = std::move(result);
      return Status::Ok();
    });
  }

 private:
  std::string what_;
  ConvGeometry geometry_;
  HeavyNumerics numerics_;
  memory packed_weights_;  // in the layout preferred at the nominal shape
  memory plain_weights_;   // int8: the s8 weights in plain (g)oihw, for re-packing; else empty
  memory bias_;            // plain [OC] f32 / s32, or empty
};

}  // namespace

Status CreateConvKernel(const graph::Graph& graph, graph::NodeId id, const dnnl::engine& engine,
                        std::unique_ptr<Kernel>* kernel) {
  const std::string what = graph.DescribeNode(id);
  const graph::Node& node = graph.nodes[id];
  QSDK_RETURN_IF_ERROR(CheckHeavyNodeInputs(graph, id, "a convolution", "the filter"));
  const graph::TensorId w_id = node.inputs[1];
  HeavyNumerics numerics;
  QSDK_RETURN_IF_ERROR(ReadHeavyNumerics(graph, id, /*weights_oc_axis=*/0, &numerics));
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
  QSDK_RETURN_IF_ERROR(ReadIntsAttribute(graph, id, graph::attr::kStrides, 2, 1, &strides));
  QSDK_RETURN_IF_ERROR(ReadIntsAttribute(graph, id, graph::attr::kPads, 4, 0, &pads));
  QSDK_RETURN_IF_ERROR(ReadIntsAttribute(graph, id, graph::attr::kDilations, 2, 1, &dilations));
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

  // The graph filter [OC, C/g, KH, KW] is, byte for byte, goihw [g, OC/g, C/g, KH, KW].
  memory plain_weights;
  QSDK_RETURN_IF_ERROR(MakeConstantMemory(
      graph.tensors[w_id],
      std::vector<int64_t>(geometry.weights_dims.begin(), geometry.weights_dims.end()), engine,
      what, &plain_weights));
  memory bias;
  QSDK_RETURN_IF_ERROR(MakeChannelBias(graph, id, oc, numerics, engine, &bias));

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
    const memory::desc any_weights(geometry.weights_dims, plain_weights.get_desc().data_type(),
                                   tag::any);
    auto pd = MakeConvPd(geometry, numerics, bias, src_dims, dst_dims, any_weights, engine);
    memory packed = ReorderedCopy(plain_weights, pd.weights_desc(), engine);
    // int8 keeps the plain weights: a shape whose primitive wants another layout re-packs
    // from them (packed int8 weights carry compensation data a reorder cannot read).
    if (!numerics.int8) plain_weights = memory();
    *kernel = std::make_unique<ConvKernel>(what, std::move(geometry), std::move(numerics),
                                           std::move(packed), std::move(plain_weights),
                                           std::move(bias));
    return Status::Ok();
  });
}

}  // namespace qsdk::runtime
