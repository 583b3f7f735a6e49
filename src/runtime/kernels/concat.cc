// Concat: one oneDNN concat primitive along `axis`. All inputs share one layout: the
// first runtime input's, when it is one of the known formats and, if the axis is a
// blocked dimension, every input's extent on the axis is a multiple of the block (so
// each input starts on a block boundary of the output); otherwise plain. Constant
// inputs are held by the kernel (plain) and reordered once at Instantiate when the
// chosen layout is not plain.
//
// BF16: every input and the output bf16 (the concat copies the values).
//
// Quantized inputs (u8 / s8) carry exactly the output's scale and zero point (the builder
// unifies them, docs/quantization.md), so the concat copies the integers as they are.
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/onednn_util.h"

namespace qsdk::runtime {
namespace {

using dnnl::memory;

class ConcatKernel : public Kernel {
 public:
  // `constants[i]` is input i's constant memory, or empty for a runtime input.
  ConcatKernel(std::string what, int64_t axis, std::vector<memory> constants,
               memory::data_type type)
      : what_(std::move(what)), axis_(axis), constants_(std::move(constants)), type_(type) {}

  std::string name() const override { return std::string("onednn_concat_") + PrecisionName(type_); }

  Status Instantiate(const InstantiateArgs& args,
                     std::unique_ptr<KernelInstance>* instance) const override {
    size_t runtime_count = 0;
    for (const memory& c : constants_) runtime_count += c ? 0 : 1;
    QSDK_RETURN_IF_ERROR(CheckInstantiateArgs(args, runtime_count, 1, what_));
    return GuardDnnl(what_, [&]() -> Status { return Build(args, instance); });
  }

 private:
  Status Build(const InstantiateArgs& args, std::unique_ptr<KernelInstance>* instance) const {
    const dnnl::engine& engine = *args.engine;
    const memory::dims out = ToDnnlDims(args.output_shapes[0]);
    const size_t n = constants_.size();
    // Dims of every input, and the first runtime input's layout.
    std::vector<memory::dims> dims(n);
    std::optional<memory::desc> first_runtime;
    size_t next_runtime = 0;
    for (size_t i = 0; i < n; ++i) {
      if (constants_[i]) {
        dims[i] = constants_[i].get_desc().dims();
      } else {
        const memory::desc& md = args.input_descs[next_runtime++];
        if (md.data_type() != type_) {
          return InvalidArgument(what_, ": input ", i, " arrives as ", DnnlTypeName(md.data_type()),
                                 "; the kernel was built for ", DnnlTypeName(type_));
        }
        dims[i] = md.dims();
        if (!first_runtime) first_runtime = md;
      }
    }
    const size_t rank = out.size();
    if (axis_ < 0 || static_cast<size_t>(axis_) >= rank) {
      return InvalidArgument(what_, ": axis ", axis_, " is out of range for output ",
                             DimsToString(out));
    }
    memory::dim axis_total = 0;
    for (size_t i = 0; i < n; ++i) {
      bool match = dims[i].size() == rank;
      for (size_t d = 0; match && d < rank; ++d) {
        match = d == static_cast<size_t>(axis_) || dims[i][d] == out[d];
      }
      if (!match) {
        return InvalidArgument(what_, ": input ", i, " has shape ", DimsToString(dims[i]),
                               "; it must match the output ", DimsToString(out),
                               " on every axis but ", axis_);
      }
      axis_total += dims[i][axis_];
    }
    if (axis_total != out[axis_]) {
      return InvalidArgument(what_, ": inputs sum to ", axis_total, " on axis ", axis_,
                             "; the output has ", out[axis_]);
    }

    memory::format_tag tag = PlainTag(rank);
    if (first_runtime) {
      const std::optional<memory::format_tag> given = MatchFormatTag(*first_runtime);
      const int64_t block = BlockSizeOf(*first_runtime, static_cast<int>(axis_));
      bool aligned = true;
      for (const memory::dims& d : dims) aligned = aligned && d[axis_] % block == 0;
      if (given && aligned) tag = *given;
    }

    auto result = std::make_unique<PrimitiveSequenceInstance>();
    std::vector<memory::desc> src_mds(n);
    std::vector<memory::desc> required;
    std::vector<ArgSource> call_args;
    for (size_t i = 0; i < n; ++i) {
      src_mds[i] = memory::desc(dims[i], type_, tag);
      const int arg = DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i);
      if (constants_[i]) {
        memory mem = constants_[i];
        if (mem.get_desc() != src_mds[i]) mem = ReorderedCopy(mem, src_mds[i], engine);
        call_args.push_back({arg, ArgSource::Kind::kOwned, 0, mem});
      } else {
        call_args.push_back({arg, ArgSource::Kind::kInput, required.size(), {}});
        required.push_back(src_mds[i]);
      }
    }
    const memory::desc dst_md(out, type_, tag);
    dnnl::concat::primitive_desc pd(dst_md, static_cast<int>(axis_), src_mds, engine,
                                    UserScratchpadAttr());
    call_args.push_back({DNNL_ARG_DST, ArgSource::Kind::kOutput, 0, {}});
    result->AddPrimitive(dnnl::concat(pd), pd, std::move(call_args));
    result->set_input_descs(std::move(required));
    result->set_output_descs({pd.dst_desc()});
    *instance = std::move(result);
    return Status::Ok();
  }

  static memory::format_tag PlainTag(size_t rank) {
    using tag = memory::format_tag;
    static const tag kPlain[] = {
        tag::a,          tag::a,           tag::ab,          tag::abc,      tag::abcd,
        tag::abcde,      tag::abcdef,      tag::abcdefg,     tag::abcdefgh, tag::abcdefghi,
        tag::abcdefghij, tag::abcdefghijk, tag::abcdefghijkl};
    return rank < sizeof(kPlain) / sizeof(kPlain[0]) ? kPlain[rank] : tag::undef;
  }

  std::string what_;
  int64_t axis_;
  std::vector<memory> constants_;
  memory::data_type type_;
};

}  // namespace

Status CreateConcatKernel(const graph::Graph& graph, graph::NodeId id, const dnnl::engine& engine,
                          std::unique_ptr<Kernel>* kernel) {
  const std::string what = graph.DescribeNode(id);
  return GuardDnnl(what, [&]() -> Status {
    const graph::Node& node = graph.nodes[id];
    if (node.inputs.empty()) {
      return InvalidArgument(what, ": has no inputs; Concat needs at least 1");
    }
    QSDK_RETURN_IF_ERROR(CheckInputCount(graph, id, node.inputs.size()));
    const size_t rank = graph.tensors[node.outputs[0]].shape.size();
    const int64_t axis = node.attrs.GetInt(graph::attr::kAxis, -1);
    if (rank == 0 || axis < 0 || static_cast<size_t>(axis) >= rank) {
      return InvalidArgument(what, ": attribute '", graph::attr::kAxis, "' = ", axis,
                             "; it must be in [0, ", rank, ") (the output rank)");
    }
    const graph::Tensor& y = graph.tensors[node.outputs[0]];
    if (y.dtype != DataType::FLOAT32 && y.dtype != DataType::BFLOAT16 && !IsQuantized8(y)) {
      return Unimplemented(what, ": output '", y.name, "' has type ", DataTypeName(y.dtype),
                           "; Concat produces FLOAT32, BFLOAT16 or quantized INT8 / UINT8");
    }
    std::vector<memory> constants(node.inputs.size());
    size_t runtime_count = 0;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const graph::Tensor& tensor = graph.tensors[node.inputs[i]];
      if (tensor.dtype != y.dtype || !(tensor.quant == y.quant)) {
        return Unimplemented(what, ": input ", i, " ", graph.DescribeTensor(node.inputs[i]),
                             " is ", DataTypeName(tensor.dtype), " and output '", y.name,
                             "' is ", DataTypeName(y.dtype),
                             "; every input of a concat has the output's type and "
                             "quantization parameters (the builder unifies them)");
      }
      if (tensor.is_constant()) {
        QSDK_RETURN_IF_ERROR(MakeConstantMemory(tensor, tensor.shape, engine, what, &constants[i]));
      } else {
        QSDK_RETURN_IF_ERROR(CheckRuntimeInput(graph, id, i, /*quantized_ok=*/true));
        ++runtime_count;
      }
    }
    if (runtime_count == 0) {
      return Unimplemented(what,
                           ": every input is constant; the builder folds such nodes "
                           "before lowering");
    }
    *kernel = std::make_unique<ConcatKernel>(what, axis, std::move(constants),
                                             DnnlDataType(y.dtype));
    return Status::Ok();
  });
}

}  // namespace qsdk::runtime
