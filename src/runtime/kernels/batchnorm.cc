// BatchNorm (standalone, when the builder did not fold it into a conv / FC): oneDNN
// batch normalization, inference with the stored statistics (use_global_stats) and
// per-channel scale and shift. Ranks 4 and 5 take any layout (blocked layouts flow
// through). Other ranks are taken plain and normalized as a 4-D view [N, C, rest, 1] of
// the same bytes: the normalization is per channel, so merging or adding trailing dims
// changes nothing, and oneDNN 2.6 has fast implementations only for 4-D / 5-D data
// (2-D / 3-D fall to its slow reference code).
//
// BF16: bf16 data in and out with FLOAT32 statistics, scale and shift (docs/ops.md);
// oneDNN normalizes each element in f32 and rounds the result once.
#include <cmath>

#include "runtime/kernels/kernels.h"
#include "runtime/kernels/onednn_util.h"

namespace qsdk::runtime {
namespace {

using dnnl::memory;

// Ranks oneDNN's fast batch normalization implementations take as they are.
bool IsNativeRank(size_t rank) { return rank == 4 || rank == 5; }

class BatchNormKernel : public Kernel {
 public:
  BatchNormKernel(std::string what, memory::data_type type, float epsilon, int64_t channels,
                  memory mean, memory variance, memory scale, memory shift)
      : what_(std::move(what)),
        type_(type),
        epsilon_(epsilon),
        channels_(channels),
        mean_(std::move(mean)),
        variance_(std::move(variance)),
        scale_(std::move(scale)),
        shift_(std::move(shift)) {}

  std::string name() const override {
    return std::string("onednn_batch_norm_") + PrecisionName(type_);
  }

  Status Instantiate(const InstantiateArgs& args,
                     std::unique_ptr<KernelInstance>* instance) const override {
    QSDK_RETURN_IF_ERROR(CheckInstantiateArgs(args, 1, 1, what_));
    QSDK_RETURN_IF_ERROR(CheckInputType(args.input_descs[0], type_, what_));
    return GuardDnnl(what_, [&]() -> Status {
      const memory::desc& given = args.input_descs[0];
      const memory::dims dims = given.dims();
      if (dims.size() < 2 || dims[1] != channels_) {
        return InvalidArgument(what_, ": input 0 has shape ", DimsToString(dims),
                               "; it must be [N, C, ...] with C = ", channels_,
                               " (the length of mean / var / scale / bias)");
      }
      auto result = std::make_unique<PrimitiveSequenceInstance>();
      memory::desc data_md = given;
      ArgSource src{DNNL_ARG_SRC, ArgSource::Kind::kInput, 0, {}};
      ArgSource dst{DNNL_ARG_DST, ArgSource::Kind::kOutput, 0, {}};
      if (!IsNativeRank(dims.size())) {
        const memory::desc plain =
            PlainDesc(std::vector<int64_t>(dims.begin(), dims.end()), type_);
        memory::dim rest = 1;
        for (size_t d = 2; d < dims.size(); ++d) rest *= dims[d];
        data_md = PlainDesc({dims[0], dims[1], rest, 1}, type_);
        src = {DNNL_ARG_SRC,
               ArgSource::Kind::kView,
               result->AddView({false, 0, memory(data_md, *args.engine, nullptr)}),
               {}};
        dst = {DNNL_ARG_DST,
               ArgSource::Kind::kView,
               result->AddView({true, 0, memory(data_md, *args.engine, nullptr)}),
               {}};
        result->set_input_descs({plain});
        result->set_output_descs({plain});
      }
      const auto flags = dnnl::normalization_flags::use_global_stats |
                         dnnl::normalization_flags::use_scale |
                         dnnl::normalization_flags::use_shift;
      dnnl::batch_normalization_forward::desc desc(dnnl::prop_kind::forward_inference, data_md,
                                                   epsilon_, flags);
      dnnl::batch_normalization_forward::primitive_desc pd(desc, UserScratchpadAttr(),
                                                           *args.engine);
      if (IsNativeRank(dims.size())) {
        result->set_input_descs({given});
        result->set_output_descs({pd.dst_desc()});
      }
      result->AddPrimitive(dnnl::batch_normalization_forward(pd), pd,
                           {src,
                            dst,
                            {DNNL_ARG_MEAN, ArgSource::Kind::kOwned, 0, mean_},
                            {DNNL_ARG_VARIANCE, ArgSource::Kind::kOwned, 0, variance_},
                            {DNNL_ARG_SCALE, ArgSource::Kind::kOwned, 0, scale_},
                            {DNNL_ARG_SHIFT, ArgSource::Kind::kOwned, 0, shift_}});
      *instance = std::move(result);
      return Status::Ok();
    });
  }

 private:
  std::string what_;
  memory::data_type type_;
  float epsilon_;
  int64_t channels_;
  memory mean_, variance_, scale_, shift_;
};

}  // namespace

Status CreateBatchNormKernel(const graph::Graph& graph, graph::NodeId id,
                             const dnnl::engine& engine, std::unique_ptr<Kernel>* kernel) {
  const std::string what = graph.DescribeNode(id);
  return GuardDnnl(what, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(CheckInputCount(graph, id, 5));
    QSDK_RETURN_IF_ERROR(CheckRuntimeInput(graph, id, 0));
    memory::data_type type;
    QSDK_RETURN_IF_ERROR(ReadLightFloatType(graph, id, &type));
    const graph::Node& node = graph.nodes[id];
    const double epsilon = node.attrs.GetFloat(graph::attr::kEpsilon, 0.0);
    if (!(epsilon > 0.0) || !std::isfinite(static_cast<float>(epsilon))) {
      return InvalidArgument(what, ": attribute '", graph::attr::kEpsilon, "' = ", epsilon,
                             "; it must be a finite value > 0");
    }
    static const char* const kNames[] = {"x", "mean", "var", "scale", "bias"};
    memory params[4];
    int64_t channels = -1;
    for (int i = 1; i <= 4; ++i) {
      const graph::TensorId t = node.inputs[i];
      const graph::Tensor& tensor = graph.tensors[t];
      if (!tensor.is_constant()) {
        return Unimplemented(what, ": input ", i, " '", kNames[i], "' ", graph.DescribeTensor(t),
                             " is not constant; the runtime kernel needs constant statistics");
      }
      if (tensor.dtype != DataType::FLOAT32) {
        return Unimplemented(what, ": input ", i, " '", kNames[i], "' ", graph.DescribeTensor(t),
                             " has type ", DataTypeName(tensor.dtype),
                             "; the runtime kernel takes FLOAT32 statistics, scale and bias "
                             "(FLOAT16 constants are widened when the engine is created)");
      }
      if (tensor.shape.size() != 1 || (channels >= 0 && tensor.shape[0] != channels)) {
        return InvalidArgument(what, ": input ", i, " '", kNames[i], "' has shape ",
                               graph::ShapeToString(tensor.shape),
                               "; mean, var, scale and bias must all be [C]");
      }
      channels = tensor.shape[0];
      QSDK_RETURN_IF_ERROR(MakeConstantMemory(tensor, tensor.shape, engine, what, &params[i - 1]));
    }
    *kernel = std::make_unique<BatchNormKernel>(what, type, static_cast<float>(epsilon),
                                                channels, params[0], params[1], params[2],
                                                params[3]);
    return Status::Ok();
  });
}

}  // namespace qsdk::runtime
