// Softmax along one axis: oneDNN softmax (exp(x - max) / sum, numerically safe), on a
// plain layout (a blocked channel axis would make the reduction strided and oneDNN's fast
// paths expect a dense axis).
//
// BF16: oneDNN 2.6's bf16 softmax keeps exp(x - max) in the bf16 destination before
// dividing, which rounds twice (up to about one bf16 ulp off the contract's single
// rounding). So a bf16 softmax runs in f32 between two reorders instead: bf16 -> f32 is
// exact, and f32 -> bf16 rounds the f32 result once.
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/onednn_util.h"

namespace qsdk::runtime {
namespace {

using dnnl::memory;

class SoftmaxKernel : public Kernel {
 public:
  SoftmaxKernel(std::string what, int64_t axis, memory::data_type type)
      : what_(std::move(what)), axis_(axis), type_(type) {}

  std::string name() const override {
    return std::string("onednn_softmax_") + PrecisionName(type_);
  }

  Status Instantiate(const InstantiateArgs& args,
                     std::unique_ptr<KernelInstance>* instance) const override {
    QSDK_RETURN_IF_ERROR(CheckInstantiateArgs(args, 1, 1, what_));
    QSDK_RETURN_IF_ERROR(CheckInputType(args.input_descs[0], type_, what_));
    return GuardDnnl(what_, [&]() -> Status {
      const memory::dims dims = args.input_descs[0].dims();
      if (axis_ >= static_cast<int64_t>(dims.size())) {
        return InvalidArgument(what_, ": axis ", axis_, " is out of range for input ",
                               DimsToString(dims));
      }
      const std::vector<int64_t> shape(dims.begin(), dims.end());
      const memory::desc plain = PlainDesc(shape, type_);
      const memory::desc plain_f32 = PlainDesc(shape, memory::data_type::f32);
      dnnl::softmax_forward::desc desc(dnnl::prop_kind::forward_inference, plain_f32,
                                       static_cast<int>(axis_));
      dnnl::softmax_forward::primitive_desc pd(desc, UserScratchpadAttr(), *args.engine);
      if (type_ == memory::data_type::f32) {
        *instance =
            SingleCallInstance(dnnl::softmax_forward(pd), pd, plain, pd.dst_desc(), *args.engine);
        return Status::Ok();
      }
      const dnnl::engine& engine = *args.engine;
      memory wide_in(plain_f32, engine), wide_out(plain_f32, engine);
      dnnl::reorder::primitive_desc widen(engine, plain, engine, plain_f32, UserScratchpadAttr());
      dnnl::reorder::primitive_desc narrow(engine, plain_f32, engine, plain, UserScratchpadAttr());
      auto result = std::make_unique<PrimitiveSequenceInstance>();
      result->AddPrimitive(dnnl::reorder(widen), widen,
                           {{DNNL_ARG_FROM, ArgSource::Kind::kInput, 0, {}},
                            {DNNL_ARG_TO, ArgSource::Kind::kOwned, 0, wide_in}});
      result->AddPrimitive(dnnl::softmax_forward(pd), pd,
                           {{DNNL_ARG_SRC, ArgSource::Kind::kOwned, 0, wide_in},
                            {DNNL_ARG_DST, ArgSource::Kind::kOwned, 0, wide_out}});
      result->AddPrimitive(dnnl::reorder(narrow), narrow,
                           {{DNNL_ARG_FROM, ArgSource::Kind::kOwned, 0, wide_out},
                            {DNNL_ARG_TO, ArgSource::Kind::kOutput, 0, {}}});
      result->set_input_descs({plain});
      result->set_output_descs({plain});
      *instance = std::move(result);
      return Status::Ok();
    });
  }

 private:
  std::string what_;
  int64_t axis_;
  memory::data_type type_;
};

}  // namespace

Status CreateSoftmaxKernel(const graph::Graph& graph, graph::NodeId id,
                           const dnnl::engine& /*engine*/, std::unique_ptr<Kernel>* kernel) {
  const std::string what = graph.DescribeNode(id);
  return GuardDnnl(what, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(CheckSingleRuntimeInput(graph, id));
    memory::data_type type;
    QSDK_RETURN_IF_ERROR(ReadLightFloatType(graph, id, &type));
    const graph::Node& node = graph.nodes[id];
    const size_t rank = graph.tensors[node.inputs[0]].shape.size();
    const int64_t axis = node.attrs.GetInt(graph::attr::kAxis, -1);
    if (axis < 0 || static_cast<size_t>(axis) >= rank) {
      return InvalidArgument(what, ": attribute '", graph::attr::kAxis, "' = ", axis,
                             "; it must be in [0, ", rank, ") (the input rank)");
    }
    *kernel = std::make_unique<SoftmaxKernel>(what, axis, type);
    return Status::Ok();
  });
}

}  // namespace qsdk::runtime
