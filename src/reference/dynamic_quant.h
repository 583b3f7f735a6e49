// Dynamically quantized FullyConnected / MatMul reference (attr dynamic_quantization = 1;
// point 5 of the issue-5 contract). The FLOAT32 input is quantized per call from its own
// range; the weights are INT8 constants quantized ahead of time. The runtime's dynamic
// kernels are tested bit-exact against these functions.
//
// Operands:
//   x / a: FLOAT32 (every value finite).
//   w / b: INT8 constant, zero points all 0, per tensor or per output channel (axis 0 of
//          the FullyConnected weights [OC, K]; for MatMul the axis of b holding N: rank-1,
//          or rank-2 with transpose_b), as static INT8 weights.
//   bias:  optional FLOAT32 [OC] (FullyConnected) or broadcasting to the output without
//          enlarging it (MatMul). No residual. Output FLOAT32.
//
// Numerics (exact definition), over the whole input tensor of one call:
//   lo = min(0, min x), hi = max(0, max x)
//   (s, z) = ChooseActivationParams(lo, hi, QuantScheme::kAsymmetric)   -> UINT8
//   x_q = QuantizeValue(x, InverseScale(s), z, UINT8)
//   acc = sum (x_q - z) * w_q                                            exact int32
//   r = float(acc) * (s * s_w[oc]) [float]; r = r + b; r = act(r)        in float
#pragma once

#include "qsdk/status.h"
#include "qsdk/tensor.h"
#include "reference/ops.h"
#include "reference/quantized_ops.h"

namespace qsdk::reference {

// x [N, ...] flattened to [N, K], w INT8 [OC, K]; y FLOAT32 [N, OC].
Status DynamicQuantizedFullyConnected(const Tensor& x, const QuantizedOperand& w,
                                      const Tensor* bias, const FusedActivation& act, Tensor* y);

// a FLOAT32 [..., M, K] (transpose_a allowed), b INT8 [..., K, N] (or [..., N, K] with
// transpose_b); y FLOAT32 [..., M, N].
Status DynamicQuantizedMatMul(const Tensor& a, const QuantizedOperand& b, const Tensor* bias,
                              const MatMulParams& p, Tensor* y);

}  // namespace qsdk::reference
