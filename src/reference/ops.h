// The reference operators, one function per op, on plain qsdk::Tensor values. Each one
// is usable on its own (tests, constant folding, kernels' golden values): it checks its
// inputs and parameters completely (a bad argument yields a Status naming the op, the
// operand, the value and the rule, never an out-of-bounds access), computes the output
// shape, allocates `*y` (FLOAT32, replacing whatever it held) and fills it.
//
// Numerics: FP32 in and out; sums (convolution, products, averages, softmax) accumulate
// in double and transcendental functions are evaluated in double, so the result is the
// exact value rounded once to float as closely as a naive loop allows. Fast kernels are
// compared against these with a tolerance.
//
// Semantics are those of docs/ops.md; layout is dense row-major, NCHW for 4-D tensors.
#pragma once

#include <cstdint>
#include <vector>

#include "qsdk/node_type.h"
#include "qsdk/status.h"
#include "qsdk/tensor.h"

namespace qsdk::reference {

// An activation applied to every output element of Conv / FullyConnected / MatMul
// (kNone = identity), with the parameters an Activation node of that type would use.
struct FusedActivation {
  ActivationType type = ActivationType::kNone;
  float alpha = 0.0f;
  float beta = 0.0f;
};

// The activation function `type` at `x` (kNone and unknown values: identity; callers
// validate the type first with CheckActivation). `alpha` / `beta` are used by kClip
// (lower / upper bound) and kLeakyRelu (negative slope) only.
float ApplyActivation(ActivationType type, float x, float alpha, float beta);

// Checks that `type` is a valid ActivationType (kNone only when `allow_none`) and, for
// kClip, that alpha <= beta. `op` names the caller in the message.
Status CheckActivation(const char* op, ActivationType type, float alpha, float beta,
                       bool allow_none);

// Activation node: y = f(x) element-wise, same shape. `type` must not be kNone.
Status Activation(const Tensor& x, ActivationType type, float alpha, float beta, Tensor* y);

struct ConvParams {
  int64_t stride_h = 1;
  int64_t stride_w = 1;
  int64_t pad_top = 0;
  int64_t pad_bottom = 0;
  int64_t pad_left = 0;
  int64_t pad_right = 0;
  int64_t dilation_h = 1;
  int64_t dilation_w = 1;
  int64_t group = 1;
  FusedActivation activation;
};

// 2-D cross-correlation, NCHW. x [N,C,H,W], w [OC, C/group, KH, KW], b [OC] or nullptr.
// y [N, OC, OH, OW] with OH = (H + top + bottom - (dh*(KH-1)+1)) / sh + 1 (floor).
Status Conv2D(const Tensor& x, const Tensor& w, const Tensor* b, const ConvParams& params,
              Tensor* y);

// Conv2D with a fused residual (attr::kFusedSum): y = act(conv(x) + residual), where
// `residual` (nullptr: none) has exactly the output shape and is added to the
// float-rounded convolution result before the activation, as an unfused add would.
Status Conv2D(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor* residual,
              const ConvParams& params, Tensor* y);

// y = x' * w^T + b, where x' is x [N, d1, ...] flattened to [N, d1*...] (rank >= 2),
// w [OC, K], b [OC] or nullptr. y [N, OC].
Status FullyConnected(const Tensor& x, const Tensor& w, const Tensor* b,
                      const FusedActivation& activation, Tensor* y);

// FullyConnected with a fused residual [N, OC] (nullptr: none), added like Conv2D's.
Status FullyConnected(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor* residual,
                      const FusedActivation& activation, Tensor* y);

struct MatMulParams {
  bool transpose_a = false;
  bool transpose_b = false;
  FusedActivation activation;
};

// Batched matrix product: a [..., M, K], b [..., K, N] (after swapping the last two dims
// of a / b when transposed), both rank >= 2; batch dims broadcast numpy-style. `bias`
// (optional) broadcasts to the output [..., M, N] without enlarging it.
Status MatMul(const Tensor& a, const Tensor& b, const Tensor* bias, const MatMulParams& params,
              Tensor* y);

struct PoolParams {
  PoolMode mode = PoolMode::kMax;
  int64_t kernel_h = 1;
  int64_t kernel_w = 1;
  int64_t stride_h = 1;
  int64_t stride_w = 1;
  int64_t pad_top = 0;
  int64_t pad_bottom = 0;
  int64_t pad_left = 0;
  int64_t pad_right = 0;
  bool count_include_pad = false;
  bool ceil_mode = false;
};

// Output extent of a pooling window along one axis (docs/ops.md, Pool): floor or ceil of
// (in + pad_begin + pad_end - kernel) / stride, plus one; with ceil_mode a last window
// starting in the end padding is dropped. Returns -1 when the window does not fit.
int64_t PoolOutputExtent(int64_t in, int64_t pad_begin, int64_t pad_end, int64_t kernel,
                         int64_t stride, bool ceil_mode);

// Pooling over H and W of x [N,C,H,W]. Global modes ignore kernel, strides and pads and
// give [N,C,1,1].
Status Pool(const Tensor& x, const PoolParams& params, Tensor* y);

// y = a (op) b with numpy broadcasting.
Status Elementwise(const Tensor& a, const Tensor& b, ElementwiseOp op, Tensor* y);

// Concatenation along `axis` (in [0, rank)) of one or more tensors of equal rank whose
// other extents match.
Status Concat(const std::vector<const Tensor*>& inputs, int64_t axis, Tensor* y);

// Inference batch normalization over axis 1 of x [N,C,...] (rank >= 2); the four
// parameter tensors are [C]: y = scale * (x - mean) / sqrt(var + epsilon) + bias.
Status BatchNorm(const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& scale,
                 const Tensor& bias, double epsilon, Tensor* y);

// Softmax along `axis` (in [0, rank)) only: exp(x - max) / sum(exp(x - max)).
Status Softmax(const Tensor& x, int64_t axis, Tensor* y);

// The shape Reshape produces from input shape `in` and requested `shape` (0 = copy the
// input extent at the same index, at most one -1 = inferred so that the element count
// is preserved). `op` names the caller in the message.
Status ResolveReshape(const char* op, const std::vector<int64_t>& in,
                      const std::vector<int64_t>& shape, std::vector<int64_t>* out);

// Copy of x with the shape ResolveReshape gives.
Status Reshape(const Tensor& x, const std::vector<int64_t>& shape, Tensor* y);

// Copy of x with shape [prod(x[0:axis]), prod(x[axis:])], axis in [0, rank].
Status Flatten(const Tensor& x, int64_t axis, Tensor* y);

// Output extent i = input extent perm[i]; y[i0, i1, ...] = x at the index whose
// component perm[k] is i_k.
Status Transpose(const Tensor& x, const std::vector<int64_t>& perm, Tensor* y);

}  // namespace qsdk::reference
