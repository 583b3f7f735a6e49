// Reshape and Flatten: on a plain layout the bytes do not move, so the output is the
// input buffer under a new desc (output_aliases_input) and Execute does nothing. A
// blocked input is reordered to plain by the context first (its input desc is plain).
// A quantized tensor keeps its type and parameters (the output's are the input's).
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/onednn_util.h"

namespace qsdk::runtime {
namespace {

using dnnl::memory;

class ReshapeKernel : public Kernel {
 public:
  explicit ReshapeKernel(std::string what) : what_(std::move(what)) {}

  std::string name() const override { return "zero_copy_reshape"; }

  Status Instantiate(const InstantiateArgs& args,
                     std::unique_ptr<KernelInstance>* instance) const override {
    QSDK_RETURN_IF_ERROR(CheckInstantiateArgs(args, 1, 1, what_));
    return GuardDnnl(what_, [&]() -> Status {
      const memory::dims dims = args.input_descs[0].dims();
      const std::vector<int64_t> in_shape(dims.begin(), dims.end());
      const std::vector<int64_t>& out_shape = args.output_shapes[0];
      if (graph::ElementCount(in_shape) != graph::ElementCount(out_shape)) {
        return InvalidArgument(what_, ": input shape ", graph::ShapeToString(in_shape),
                               " and output shape ", graph::ShapeToString(out_shape),
                               " have different element counts");
      }
      const memory::data_type type = args.input_descs[0].data_type();
      auto result = std::make_unique<PrimitiveSequenceInstance>();
      result->set_input_descs({PlainDesc(in_shape, type)});
      result->set_output_descs({PlainDesc(out_shape, type)});
      result->set_output_alias(OutputAlias::kView, 0);
      *instance = std::move(result);
      return Status::Ok();
    });
  }

 private:
  std::string what_;
};

}  // namespace

Status CreateReshapeKernel(const graph::Graph& graph, graph::NodeId id,
                           const dnnl::engine& /*engine*/, std::unique_ptr<Kernel>* kernel) {
  const std::string what = graph.DescribeNode(id);
  return GuardDnnl(what, [&]() -> Status {
    const NodeType type = graph.nodes[id].type;
    if (type != NodeType::kReshape && type != NodeType::kFlatten) {
      return InternalError(what, ": the reshape kernel handles Reshape and Flatten only");
    }
    QSDK_RETURN_IF_ERROR(CheckSingleRuntimeInput(graph, id, /*quantized_ok=*/true));
    const graph::Tensor& x = graph.tensors[graph.nodes[id].inputs[0]];
    const graph::Tensor& y = graph.tensors[graph.nodes[id].outputs[0]];
    if (y.dtype != x.dtype || !(y.quant == x.quant)) {
      return Unimplemented(what, ": input ", graph.DescribeTensor(graph.nodes[id].inputs[0]),
                           " is ", DataTypeName(x.dtype), " and output '", y.name, "' is ",
                           DataTypeName(y.dtype),
                           "; a reshape keeps the input's type and quantization parameters");
    }
    *kernel = std::make_unique<ReshapeKernel>(what);
    return Status::Ok();
  });
}

}  // namespace qsdk::runtime
