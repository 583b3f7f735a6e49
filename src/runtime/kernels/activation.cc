// Activation: one oneDNN eltwise primitive, f32 -> f32 or bf16 -> bf16 (oneDNN computes a
// bf16 element in f32 and rounds the result once). Layout-agnostic, so the instance
// requires whatever layout it is given and produces the same (blocked layouts flow
// through).
#include <cmath>

#include "runtime/kernels/activation_mapping.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/onednn_util.h"

namespace qsdk::runtime {

Status MapActivation(ActivationType type, float alpha, float beta, const std::string& what,
                     EltwiseParams* params) {
  using dnnl::algorithm;
  switch (type) {
    case ActivationType::kRelu:
      *params = {algorithm::eltwise_relu, 0.0f, 0.0f};
      return Status::Ok();
    case ActivationType::kLeakyRelu:
      if (!std::isfinite(alpha)) {
        return InvalidArgument(what, ": LeakyRelu slope alpha = ", alpha, "; it must be finite");
      }
      *params = {algorithm::eltwise_relu, alpha, 0.0f};
      return Status::Ok();
    case ActivationType::kRelu6:
      *params = {algorithm::eltwise_clip_v2, 0.0f, 6.0f};
      return Status::Ok();
    case ActivationType::kClip:
      if (std::isnan(alpha) || std::isnan(beta) || alpha > beta) {
        return InvalidArgument(what, ": Clip bounds alpha = ", alpha, ", beta = ", beta,
                               "; they must satisfy alpha <= beta");
      }
      *params = {algorithm::eltwise_clip_v2, alpha, beta};
      return Status::Ok();
    case ActivationType::kSigmoid:
      *params = {algorithm::eltwise_logistic, 0.0f, 0.0f};
      return Status::Ok();
    case ActivationType::kTanh:
      *params = {algorithm::eltwise_tanh, 0.0f, 0.0f};
      return Status::Ok();
    case ActivationType::kHardSwish:
      // oneDNN 2.6 hardswish is exactly x * min(max(x + 3, 0), 6) / 6 (no parameters).
      *params = {algorithm::eltwise_hardswish, 0.0f, 0.0f};
      return Status::Ok();
    case ActivationType::kGelu:
      *params = {algorithm::eltwise_gelu_erf, 0.0f, 0.0f};
      return Status::Ok();
    case ActivationType::kNone:
      break;
  }
  return InvalidArgument(what, ": activation type ", static_cast<int32_t>(type),
                         " is not one of Relu..Gelu (1..", kMaxActivationType, ")");
}

namespace {

class ActivationKernel : public Kernel {
 public:
  ActivationKernel(std::string what, EltwiseParams params, dnnl::memory::data_type type)
      : what_(std::move(what)), params_(params), type_(type) {}

  std::string name() const override {
    return std::string("onednn_eltwise_") + PrecisionName(type_);
  }

  Status Instantiate(const InstantiateArgs& args,
                     std::unique_ptr<KernelInstance>* instance) const override {
    QSDK_RETURN_IF_ERROR(CheckInstantiateArgs(args, 1, 1, what_));
    const dnnl::memory::desc& src = args.input_descs[0];
    QSDK_RETURN_IF_ERROR(CheckInputType(src, type_, what_));
    return GuardDnnl(what_, [&]() -> Status {
      dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_inference, params_.algorithm, src,
                                       params_.alpha, params_.beta);
      dnnl::eltwise_forward::primitive_desc pd(desc, UserScratchpadAttr(), *args.engine);
      *instance =
          SingleCallInstance(dnnl::eltwise_forward(pd), pd, src, pd.dst_desc(), *args.engine);
      return Status::Ok();
    });
  }

 private:
  std::string what_;
  EltwiseParams params_;
  dnnl::memory::data_type type_;
};

}  // namespace

Status CreateActivationKernel(const graph::Graph& graph, graph::NodeId id,
                              const dnnl::engine& /*engine*/, std::unique_ptr<Kernel>* kernel) {
  const std::string what = graph.DescribeNode(id);
  return GuardDnnl(what, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(CheckSingleRuntimeInput(graph, id));
    dnnl::memory::data_type data_type;
    QSDK_RETURN_IF_ERROR(ReadLightFloatType(graph, id, &data_type));
    const graph::AttrMap& attrs = graph.nodes[id].attrs;
    const int64_t type = attrs.GetInt(graph::attr::kActivation, 0);
    if (type < 1 || type > kMaxActivationType) {
      return InvalidArgument(what, ": attribute '", graph::attr::kActivation, "' = ", type,
                             "; it must be an ActivationType in [1, ", kMaxActivationType, "]");
    }
    const auto activation = static_cast<ActivationType>(type);
    // LeakyRelu's documented default slope is 0.01 (network.h); other types ignore a
    // missing alpha / beta or need them set (Clip, checked by MapActivation).
    const float default_alpha = activation == ActivationType::kLeakyRelu ? 0.01f : 0.0f;
    const float alpha = static_cast<float>(attrs.GetFloat(graph::attr::kAlpha, default_alpha));
    const float beta = static_cast<float>(attrs.GetFloat(graph::attr::kBeta, 0.0));
    EltwiseParams params;
    QSDK_RETURN_IF_ERROR(MapActivation(activation, alpha, beta, what, &params));
    *kernel = std::make_unique<ActivationKernel>(what, params, data_type);
    return Status::Ok();
  });
}

}  // namespace qsdk::runtime
