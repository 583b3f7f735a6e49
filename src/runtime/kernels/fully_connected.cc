// FullyConnected: oneDNN inner_product_forward (fp32, or bf16: bf16 x and weights, f32
// bias, bf16 or f32 output), y = x * w^T + b with an optional fused activation post-op.
//
// Two modes, fixed at Kernel creation:
//   spatial  x has rank 3..5 with known non-batch extents [N, C, (D,) (H,) W]: the inner
//            product takes x as it is, in whatever layout it arrives (e.g. nChw16c from a
//            convolution), with weights [OC, C, (D,) (H,) W] -- the graph's [OC, K] byte
//            for byte in plain order -- so no reorder of the activations is needed;
//   flat     x is [N, K] (or a rank the primitive cannot take, seen as [N, K]): the
//            input must be plain row-major.
// Weights are reordered once, at creation, into the layout oneDNN prefers for a nominal
// batch with a source layout of its choosing. A fused residual (attr fused_sum) is a sum
// post-op on the destination.
//
// An int8 node (quantized x, INT8 weights) runs on oneDNN's matmul instead, which takes
// the source zero point that inner product does not (CreateInt8FullyConnectedKernel,
// matmul.cc).
#include "runtime/kernels/heavy_kernel_util.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/onednn_util.h"

namespace qsdk::runtime {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using IpPd = dnnl::inner_product_forward::primitive_desc;

IpPd MakeIpPd(const memory::desc& src_md, const memory::desc& weights_md, const memory& bias,
              const memory::desc& dst_md, const dnnl::primitive_attr& attr,
              const dnnl::engine& engine) {
  const memory::desc bias_md = bias ? bias.get_desc() : memory::desc();
  dnnl::inner_product_forward::desc desc(dnnl::prop_kind::forward_inference, src_md, weights_md,
                                         bias_md, dst_md);
  return IpPd(desc, attr, engine);
}

class FullyConnectedKernel : public Kernel {
 public:
  FullyConnectedKernel(std::string what, bool spatial, memory::dims src_tail,
                       HeavyNumerics numerics, dnnl::primitive_attr attr, memory packed_weights,
                       memory bias)
      : what_(std::move(what)),
        spatial_(spatial),
        src_tail_(std::move(src_tail)),
        numerics_(std::move(numerics)),
        attr_(std::move(attr)),
        packed_weights_(std::move(packed_weights)),
        bias_(std::move(bias)) {}

  std::string name() const override {
    return std::string("onednn_inner_product_") + numerics_.precision();
  }

  Status Instantiate(const InstantiateArgs& args,
                     std::unique_ptr<KernelInstance>* instance) const override {
    QSDK_RETURN_IF_ERROR(CheckInstantiateArgs(args, numerics_.runtime_inputs(), 1, what_));
    const memory::desc& incoming = args.input_descs[0];
    const memory::dims x_dims = incoming.dims();
    const memory::dims dst_dims = ToDnnlDims(args.output_shapes[0]);
    const int64_t oc = packed_weights_.get_desc().dims()[0];
    int64_t k = 1;
    for (size_t i = 1; i < x_dims.size(); ++i) k *= x_dims[i];
    const bool tail_ok = spatial_ ? memory::dims(x_dims.begin() + 1, x_dims.end()) == src_tail_
                                  : (x_dims.size() >= 2 && k == src_tail_[0]);
    if (!tail_ok || dst_dims != memory::dims{x_dims[0], oc}) {
      return InvalidArgument(what_, ": input layout has dims ", DimsToString(x_dims),
                             " and output shape ", DimsToString(dst_dims),
                             "; the kernel was built for [N, ", DimsToString(src_tail_),
                             "] -> [N, ", oc, "]");
    }
    QSDK_RETURN_IF_ERROR(CheckInputType(incoming, numerics_.src_dt, what_));
    QSDK_RETURN_IF_ERROR(CheckResidualDims(args, numerics_, dst_dims, what_));
    return GuardDnnl(what_, [&]() -> Status {
      const memory::desc dst_md = PlainDesc(args.output_shapes[0], numerics_.dst_dt);
      auto result = std::make_unique<PrimitiveSequenceInstance>();
      IpPd pd;
      memory weights;
      memory::desc x_md;
      ArgSource src_arg{DNNL_ARG_SRC, ArgSource::Kind::kInput, 0, {}};
      if (spatial_) {
        // Prefer taking the incoming layout as it is with the shared packed weights; then
        // the packed weights with a source layout oneDNN picks (the context reorders the
        // activations, far cheaper than copying the weights); then the incoming layout
        // with weights re-laid out for this instance.
        bool found = false;
        for (const memory::desc& src_md :
             {incoming, memory::desc(x_dims, numerics_.src_dt, tag::any)}) {
          try {
            IpPd candidate =
                MakeIpPd(src_md, packed_weights_.get_desc(), bias_, dst_md, attr_, *args.engine);
            if (IsReferenceImpl(candidate)) continue;
            pd = candidate;
            weights = packed_weights_;
            found = true;
            break;
          } catch (const dnnl::error&) {
            // Not implemented for this combination: try the next.
          }
        }
        if (!found) {
          WeightsChoice choice;
          pd = ChooseWeights<IpPd>(
              [&](const memory::desc& weights_md) {
                return MakeIpPd(incoming, weights_md, bias_, dst_md, attr_, *args.engine);
              },
              packed_weights_, *args.engine, &choice);
          weights = choice.weights;
        }
        x_md = pd.src_desc();
      } else {
        // The primitive sees x as plain [N, K]; the instance requires the plain layout of
        // x's own dims and views the same bytes as 2-D.
        const memory::desc flat_md = PlainDesc({x_dims[0], k}, numerics_.src_dt);
        WeightsChoice choice;
        pd = ChooseWeights<IpPd>(
            [&](const memory::desc& weights_md) {
              return MakeIpPd(flat_md, weights_md, bias_, dst_md, attr_, *args.engine);
            },
            packed_weights_, *args.engine, &choice);
        weights = choice.weights;
        x_md = PlainDesc(std::vector<int64_t>(x_dims.begin(), x_dims.end()), numerics_.src_dt);
        if (x_dims.size() != 2) {
          const size_t view =
              result->AddView({false, 0, memory(flat_md, *args.engine, DNNL_MEMORY_NONE)});
          src_arg = {DNNL_ARG_SRC, ArgSource::Kind::kView, view, {}};
        }
      }
      AddHeavyCall(numerics_, dnnl::inner_product_forward(pd), pd, src_arg, weights, bias_, x_md,
                   *args.engine, result.get());
      NoteWeightsRelayout(weights, packed_weights_, result.get());
      *instance = std::move(result);
      return Status::Ok();
    });
  }

 private:
  std::string what_;
  bool spatial_;
  // spatial: x's extents after the batch; flat: {K}.
  memory::dims src_tail_;
  HeavyNumerics numerics_;
  dnnl::primitive_attr attr_;
  memory packed_weights_;  // spatial: [OC, C, ...]; flat: [OC, K]
  memory bias_;            // plain [OC], or empty
};

}  // namespace

Status CreateFullyConnectedKernel(const graph::Graph& graph, graph::NodeId id,
                                  const dnnl::engine& engine, std::unique_ptr<Kernel>* kernel) {
  const std::string what = graph.DescribeNode(id);
  const graph::Node& node = graph.nodes[id];
  QSDK_RETURN_IF_ERROR(CheckHeavyNodeInputs(graph, id, "a fully connected node", "the weight"));
  const graph::TensorId w_id = node.inputs[1];
  HeavyNumerics numerics;
  QSDK_RETURN_IF_ERROR(ReadHeavyNumerics(graph, id, /*weights_oc_axis=*/0, &numerics));
  if (numerics.int8) return CreateInt8FullyConnectedKernel(graph, id, engine, numerics, kernel);
  const std::vector<int64_t>& x_shape = graph.tensors[node.inputs[0]].shape;
  const std::vector<int64_t>& w_shape = graph.tensors[w_id].shape;
  if (x_shape.size() < 2 || w_shape.size() != 2 || w_shape[0] < 1 || w_shape[1] < 1) {
    return InvalidArgument(what, ": input shape ", graph::ShapeToString(x_shape),
                           " and weight shape ", graph::ShapeToString(w_shape),
                           "; they need [N, K, ...] and [OC, K]");
  }
  const int64_t oc = w_shape[0];
  const int64_t k = w_shape[1];
  bool tail_known = true;
  int64_t tail_product = 1;
  for (size_t i = 1; i < x_shape.size(); ++i) {
    if (x_shape[i] < 1) {
      tail_known = false;
    } else {
      tail_product *= x_shape[i];
    }
  }
  if (tail_known && tail_product != k) {
    return InvalidArgument(what, ": input shape ", graph::ShapeToString(x_shape),
                           " flattens to K = ", tail_product, "; weight ",
                           graph::ShapeToString(w_shape), " needs K = ", k);
  }
  // oneDNN's inner product takes sources of rank 2..5 (N, C and up to 3 spatial dims).
  const bool spatial = tail_known && x_shape.size() >= 3 && x_shape.size() <= 5;
  memory::dims tail = spatial ? memory::dims(x_shape.begin() + 1, x_shape.end()) : memory::dims{k};
  memory::dims weights_dims = {oc};
  weights_dims.insert(weights_dims.end(), tail.begin(), tail.end());

  dnnl::primitive_attr attr;
  QSDK_RETURN_IF_ERROR(GuardDnnl(what, [&]() -> Status {
    // An fp32 residual is a sum post-op, whose attribute does not depend on the shape.
    attr = MakeHeavyAttr(numerics, 1, {NominalExtent(x_shape[0], 1), oc});
    return Status::Ok();
  }));
  memory plain_weights;
  QSDK_RETURN_IF_ERROR(MakeConstantMemory(graph.tensors[w_id], engine, what, &plain_weights));
  memory bias;
  QSDK_RETURN_IF_ERROR(MakeChannelBias(graph, id, oc, numerics, engine, &bias));

  return GuardDnnl(what, [&]() -> Status {
    // Nominal batch: the graph's when static, else 1 (latency-style inference).
    memory::dims src_dims = {NominalExtent(x_shape[0], 1)};
    src_dims.insert(src_dims.end(), tail.begin(), tail.end());
    const memory::desc src_any(src_dims, numerics.src_dt, tag::any);
    const memory::desc weights_any(weights_dims, numerics.weights_dt, tag::any);
    IpPd pd = MakeIpPd(src_any, weights_any, bias, PlainDesc({src_dims[0], oc}, numerics.dst_dt),
                       attr, engine);
    // [OC, K] row-major is, byte for byte, [OC, C, (D,) (H,) W] row-major.
    memory plain_view(PlainDesc(std::vector<int64_t>(weights_dims.begin(), weights_dims.end()),
                                numerics.weights_dt),
                      engine, plain_weights.get_data_handle());
    memory packed = ReorderedCopy(plain_view, pd.weights_desc(), engine);
    *kernel = std::make_unique<FullyConnectedKernel>(what, spatial, std::move(tail),
                                                     std::move(numerics), std::move(attr),
                                                     std::move(packed), std::move(bias));
    return Status::Ok();
  });
}

}  // namespace qsdk::runtime
