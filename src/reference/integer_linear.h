// The integer computation of the quantized Conv / FullyConnected / MatMul reference
// kernels, written once for the INT8 (quantized_ops.h), INT16 (int16_ops.h) and
// dynamically quantized (dynamic_quant.h) ops. Operands are checked by the callers.
// Internal to src/reference/.
//
// Numerics (docs/quantization.md and the issue-5 contract), per output element of output
// channel c (Conv / FullyConnected: the output channel; MatMul: the output column):
//   acc = int_bias + sum (x_q - z_x) * w_q        exact, in int64 (no K can overflow it);
//                                                 taken modulo 2^32 as int32 when
//                                                 int32_accumulator (dynamic quantization)
//   r = float(acc) * (s_x * s_w[c])               the int64 -> float conversion rounds to
//                                                 nearest even; the multiplier is a float
//                                                 product
//   r = r + float_bias; r = r + residual; r = act(r)   in float, each operation rounded
// Convolution padding is x_q = z_x: it adds nothing.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/graph.h"
#include "qsdk/status.h"
#include "reference/geometry.h"
#include "reference/ops.h"
#include "reference/quantized_ops.h"

namespace qsdk::reference::internal {

struct IntegerLinearOperands {
  // The data input (x of Conv / FullyConnected, a of MatMul): values and per-tensor
  // parameters.
  std::vector<int32_t> x;
  float x_scale = 1.0f;
  int32_t x_zero_point = 0;
  // The weights (w, or b of MatMul), symmetric, per tensor or per output channel.
  std::vector<int32_t> w;
  graph::QuantParams w_params;
  // Optional (empty: none): an INT32 bias in the accumulator's scale, added to the sum
  // (INT8 ops), or a FLOAT32 bias added in float (INT16 and dynamic ops); Conv /
  // FullyConnected index them by output channel, MatMul by its broadcast bias index.
  std::vector<int32_t> int_bias;
  std::vector<float> float_bias;
  // Optional: the real values of the fused residual, of the output shape.
  std::vector<float> residual;
  bool int32_accumulator = false;
};

// Reads checked operands of a statically quantized op: x quantized per tensor, w, and the
// optional bias (INT32 into int_bias, FLOAT32 into float_bias) and residual (real values).
IntegerLinearOperands ReadIntegerLinearOperands(const QuantizedOperand& x,
                                                const QuantizedOperand& w,
                                                const QuantizedOperand& bias,
                                                const QuantizedOperand& residual);

// The float results r (row-major, before any output quantization) of each op.
std::vector<float> IntegerConv(const ConvGeometry& g, const IntegerLinearOperands& v,
                               const FusedActivation& act);
std::vector<float> IntegerFullyConnected(const FullyConnectedGeometry& g,
                                         const IntegerLinearOperands& v,
                                         const FusedActivation& act);
std::vector<float> IntegerMatMul(const MatMulGeometry& g, const IntegerLinearOperands& v,
                                 const FusedActivation& act);

}  // namespace qsdk::reference::internal
