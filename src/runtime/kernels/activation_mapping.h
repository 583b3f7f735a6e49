// Maps a qsdk activation (ActivationType + alpha / beta, docs/ops.md) to a oneDNN 2.6
// eltwise algorithm and its alpha / beta. Used by the Activation kernel and by the
// conv / fully-connected / matmul kernels for their fused post-op, so that a fused
// activation computes exactly what a standalone Activation node computes.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>
#include <string>

#include "qsdk/node_type.h"
#include "qsdk/status.h"

namespace qsdk::runtime {

struct EltwiseParams {
  dnnl::algorithm algorithm = dnnl::algorithm::undef;
  float alpha = 0.0f;
  float beta = 0.0f;
};

// Fills `params` for `type` (alpha / beta are the node's attributes; they are used
// only by kClip (bounds) and kLeakyRelu (slope)). `what` names the node for messages,
// e.g. graph.DescribeNode(id). Fails for kNone, for an unknown type and for Clip with
// alpha > beta.
//
// Mapping (oneDNN 2.6 semantics):
//   kRelu      eltwise_relu      alpha 0      max(x, 0)
//   kLeakyRelu eltwise_relu      alpha slope  x > 0 ? x : slope * x (equal at 0)
//   kRelu6     eltwise_clip_v2   [0, 6]
//   kClip      eltwise_clip_v2   [alpha, beta]
//   kSigmoid   eltwise_logistic
//   kTanh      eltwise_tanh
//   kHardSwish eltwise_hardswish x * min(max(x + 3, 0), 6) / 6 (2.6 ignores alpha/beta)
//   kGelu      eltwise_gelu_erf
// Implemented in activation.cc.
Status MapActivation(ActivationType type, float alpha, float beta, const std::string& what,
                     EltwiseParams* params);

}  // namespace qsdk::runtime
