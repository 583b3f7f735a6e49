// Softmax along one axis: oneDNN softmax (exp(x - max) / sum, numerically safe), on a
// plain layout (a blocked channel axis would make the reduction strided and oneDNN's
// fast paths expect a dense axis).
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/onednn_util.h"

namespace qsdk::runtime {
namespace {

using dnnl::memory;

class SoftmaxKernel : public Kernel {
 public:
  SoftmaxKernel(std::string what, int64_t axis) : what_(std::move(what)), axis_(axis) {}

  std::string name() const override { return "onednn_softmax_fp32"; }

  Status Instantiate(const InstantiateArgs& args,
                     std::unique_ptr<KernelInstance>* instance) const override {
    QSDK_RETURN_IF_ERROR(CheckInstantiateArgs(args, 1, 1, what_));
    return GuardDnnl(what_, [&]() -> Status {
      const memory::dims dims = args.input_descs[0].dims();
      if (axis_ >= static_cast<int64_t>(dims.size())) {
        return InvalidArgument(what_, ": axis ", axis_, " is out of range for input ",
                               DimsToString(dims));
      }
      const memory::desc plain = PlainDesc(std::vector<int64_t>(dims.begin(), dims.end()));
      dnnl::softmax_forward::desc desc(dnnl::prop_kind::forward_inference, plain,
                                       static_cast<int>(axis_));
      dnnl::softmax_forward::primitive_desc pd(desc, UserScratchpadAttr(), *args.engine);
      *instance =
          SingleCallInstance(dnnl::softmax_forward(pd), pd, plain, pd.dst_desc(), *args.engine);
      return Status::Ok();
    });
  }

 private:
  std::string what_;
  int64_t axis_;
};

}  // namespace

Status CreateSoftmaxKernel(const graph::Graph& graph, graph::NodeId id,
                           const dnnl::engine& /*engine*/, std::unique_ptr<Kernel>* kernel) {
  const std::string what = graph.DescribeNode(id);
  return GuardDnnl(what, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(CheckSingleRuntimeInput(graph, id));
    const graph::Node& node = graph.nodes[id];
    const size_t rank = graph.tensors[node.inputs[0]].shape.size();
    const int64_t axis = node.attrs.GetInt(graph::attr::kAxis, -1);
    if (axis < 0 || static_cast<size_t>(axis) >= rank) {
      return InvalidArgument(what, ": attribute '", graph::attr::kAxis, "' = ", axis,
                             "; it must be in [0, ", rank, ") (the input rank)");
    }
    *kernel = std::make_unique<SoftmaxKernel>(what, axis);
    return Status::Ok();
  });
}

}  // namespace qsdk::runtime
