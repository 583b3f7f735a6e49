// The INT16 (QINT16) reference operators: Conv2D, FullyConnected and MatMul whose data input
// is INT16 quantized per tensor and whose weights are INT16 symmetric constants. This is the
// executable form of point 4 of the issue-5 contract; the runtime's INT16 kernels are tested
// bit-exact against these functions.
//
// Operands:
//   x:   INT16, per tensor, any zero point in [-32768, 32767].
//   w:   INT16 constant, zero points all 0, values in [-32767, 32767] (-32768 is refused:
//        the restricted symmetric range), per tensor or per output channel (axis 0 for
//        Conv / FullyConnected; for MatMul the axis of b holding N: rank-1, or rank-2 with
//        transpose_b).
//   bias: optional FLOAT32 [OC] (Conv / FullyConnected) or broadcasting to the output
//        without enlarging it (MatMul).
//   residual (fused_sum, Conv / FullyConnected only): optional FLOAT32 of the output shape.
//   out: FLOAT32 (no parameters) or INT16 per tensor.
//
// Numerics (exact definition; kernels are bit-exact):
//   acc = sum (x_q - z_x) * w_q                  exact, in int64 (no K can overflow it)
//   r = float(acc) * M[oc], M[oc] = s_x * s_w[oc] (float product; float(acc) is the
//                                                  int64 -> float conversion, RNE)
//   r = r + b[oc]; r = r + R; r = act(r)         in float, each operation rounded
//   FLOAT32 output r, or q = saturate_int16(round_half_even(r * (1.0f / s_y) + z_y)).
// Convolution zero padding means x_q = z_x (contributes 0).
#pragma once

#include <cstdint>
#include <vector>

#include "qsdk/status.h"
#include "qsdk/tensor.h"
#include "reference/ops.h"
#include "reference/quantized_ops.h"

namespace qsdk::reference {

// x [N, C, H, W], w [OC, C/group, KH, KW]; geometry as Conv2D (groups, depthwise, strides,
// pads, dilations); params.activation is the fused activation. y [N, OC, OH, OW].
Status Int16Conv2D(const QuantizedOperand& x, const QuantizedOperand& w, const Tensor* bias,
                   const Tensor* residual, const ConvParams& p, const QuantizedOutputSpec& out,
                   Tensor* y);

// x [N, ...] flattened to [N, K], w [OC, K]; y [N, OC].
Status Int16FullyConnected(const QuantizedOperand& x, const QuantizedOperand& w, const Tensor* bias,
                           const Tensor* residual, const FusedActivation& act,
                           const QuantizedOutputSpec& out, Tensor* y);

// a [..., M, K] (INT16 per tensor), b the INT16 weights [..., K, N] (or [..., N, K] with
// transpose_b); geometry as MatMul (transposes, broadcast batch dims); y [..., M, N].
Status Int16MatMul(const QuantizedOperand& a, const QuantizedOperand& b, const Tensor* bias,
                   const MatMulParams& p, const QuantizedOutputSpec& out, Tensor* y);

}  // namespace qsdk::reference
