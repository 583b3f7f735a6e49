#include "runtime/kernels/heavy_kernel_util.h"

#include <cstring>

#include "common/status_macros.h"
#include "runtime/kernels/activation_mapping.h"

namespace qsdk::runtime {

Status HeavyPrimitiveAttr(const graph::Graph& graph, graph::NodeId id, dnnl::primitive_attr* attr) {
  const std::string what = graph.DescribeNode(id);
  const graph::AttrMap& attrs = graph.nodes[id].attrs;
  const int64_t type = attrs.GetInt(graph::attr::kFusedActivation, 0);
  if (type < 0 || type > kMaxActivationType) {
    return InvalidArgument(what, ": attribute '", graph::attr::kFusedActivation, "' = ", type,
                           "; it must be an ActivationType in [0, ", kMaxActivationType, "]");
  }
  return GuardDnnl(what, [&]() -> Status {
    dnnl::primitive_attr result;
    result.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const auto activation = static_cast<ActivationType>(type);
    if (activation != ActivationType::kNone) {
      // An absent fused_alpha / fused_beta reads as 0, as in the reference kernels (the
      // activation-fusion pass always copies the Activation node's parameters).
      const float alpha = static_cast<float>(attrs.GetFloat(graph::attr::kFusedAlpha, 0.0));
      const float beta = static_cast<float>(attrs.GetFloat(graph::attr::kFusedBeta, 0.0));
      EltwiseParams params;
      QSDK_RETURN_IF_ERROR(MapActivation(activation, alpha, beta, what, &params));
      dnnl::post_ops ops;
      ops.append_eltwise(1.0f, params.algorithm, params.alpha, params.beta);
      result.set_post_ops(ops);
    }
    *attr = std::move(result);
    return Status::Ok();
  });
}

bool IsReferenceImpl(const dnnl::primitive_desc_base& pd) {
  const char* impl = pd.impl_info_str();
  return impl != nullptr && std::strncmp(impl, "ref", 3) == 0;
}

}  // namespace qsdk::runtime
