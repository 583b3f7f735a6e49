// Transpose: one oneDNN reorder from a view of the (plain) input whose dims are the
// output's and whose strides are the input strides permuted, to the plain output. Any
// element type (f32, bf16): the values are copied, never converted.
#include <algorithm>

#include "runtime/kernels/kernels.h"
#include "runtime/kernels/onednn_util.h"

namespace qsdk::runtime {
namespace {

using dnnl::memory;

class TransposeKernel : public Kernel {
 public:
  TransposeKernel(std::string what, std::vector<int64_t> perm, memory::data_type type)
      : what_(std::move(what)), perm_(std::move(perm)), type_(type) {}

  std::string name() const override {
    return std::string("onednn_reorder_transpose_") + PrecisionName(type_);
  }

  Status Instantiate(const InstantiateArgs& args,
                     std::unique_ptr<KernelInstance>* instance) const override {
    QSDK_RETURN_IF_ERROR(CheckInstantiateArgs(args, 1, 1, what_));
    QSDK_RETURN_IF_ERROR(CheckInputType(args.input_descs[0], type_, what_));
    return GuardDnnl(what_, [&]() -> Status {
      const memory::dims in = args.input_descs[0].dims();
      const std::vector<int64_t> in_shape(in.begin(), in.end());
      // A rank-0 input arrives as [1] (PlainDesc's convention); its perm is empty.
      const size_t rank = perm_.empty() ? 1 : perm_.size();
      if (in.size() != rank) {
        return InvalidArgument(what_, ": input 0 has shape ", DimsToString(in), "; perm ",
                               graph::ShapeToString(perm_), " needs rank ", perm_.size());
      }
      const memory::desc plain_in = PlainDesc(in_shape, type_);
      const memory::dims in_strides = RowMajorStrides(in);
      memory::dims out(rank), view_strides(rank);
      for (size_t i = 0; i < rank; ++i) {
        const size_t from = perm_.empty() ? 0 : static_cast<size_t>(perm_[i]);
        out[i] = in[from];
        view_strides[i] = in_strides[from];
      }
      const std::vector<int64_t> out_shape(out.begin(), out.end());
      if (args.output_shapes[0] != out_shape && !(perm_.empty() && args.output_shapes[0].empty())) {
        return InvalidArgument(what_, ": transposed shape ", DimsToString(out),
                               " differs from the expected output shape ",
                               graph::ShapeToString(args.output_shapes[0]));
      }
      const memory::desc view_md(out, type_, view_strides);
      const memory::desc out_md = PlainDesc(out_shape, type_);
      dnnl::reorder::primitive_desc pd(*args.engine, view_md, *args.engine, out_md,
                                       UserScratchpadAttr());
      *instance =
          SingleCallInstance(dnnl::reorder(pd), pd, plain_in, out_md, *args.engine, view_md);
      return Status::Ok();
    });
  }

 private:
  std::string what_;
  std::vector<int64_t> perm_;
  memory::data_type type_;
};

}  // namespace

Status CreateTransposeKernel(const graph::Graph& graph, graph::NodeId id,
                             const dnnl::engine& /*engine*/, std::unique_ptr<Kernel>* kernel) {
  const std::string what = graph.DescribeNode(id);
  return GuardDnnl(what, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(CheckSingleRuntimeInput(graph, id));
    memory::data_type type;
    QSDK_RETURN_IF_ERROR(ReadLightFloatType(graph, id, &type));
    const graph::Node& node = graph.nodes[id];
    const size_t rank = graph.tensors[node.inputs[0]].shape.size();
    const std::vector<int64_t> perm = node.attrs.GetInts(graph::attr::kPerm);
    std::vector<int64_t> sorted = perm;
    std::sort(sorted.begin(), sorted.end());
    bool valid = perm.size() == rank;
    for (size_t i = 0; valid && i < sorted.size(); ++i)
      valid = sorted[i] == static_cast<int64_t>(i);
    if (!valid) {
      return InvalidArgument(what, ": attribute '", graph::attr::kPerm,
                             "' = ", graph::ShapeToString(perm),
                             "; it must be a permutation of 0..", static_cast<int64_t>(rank) - 1,
                             " (the input rank is ", rank, ")");
    }
    *kernel = std::make_unique<TransposeKernel>(what, perm, type);
    return Status::Ok();
  });
}

}  // namespace qsdk::runtime
