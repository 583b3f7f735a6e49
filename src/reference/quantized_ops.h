// The quantized reference operators: the executable form of the INT8 contract of
// docs/quantization.md. Like ops.h, each function checks its operands and parameters
// completely (a Status naming the op, the operand, the value and the rule; never an
// out-of-bounds access), allocates `*y` and fills it.
//
// qsdk::Tensor carries no quantization parameters, so each quantized operand comes with
// its graph::QuantParams (real = scale * (q - zero_point)); EvalNode takes them from the
// graph's tensors. Activations (data inputs, residuals, outputs) are quantized per tensor;
// weights per tensor or along their output-channel axis; biases are INT32 in the
// accumulator's scale.
//
// Numerics, exactly as the contract states them:
//   Quantize      q = saturate(round_half_even(x * (1.0f / s) + z))        (float)
//   Dequantize    x = s * (float(q) - float(z))                            (float)
//   Conv/FC/MatMul acc = sum (x_q - z_x) * w_q + b_q                        (exact integer)
//                 r = float(acc) * (s_x * s_w[oc]); r += s_R * (R_q - z_R); r = act(r)
//                 output FLOAT32 r, or quantized as by Quantize.
//   Pool          max: q directly; average: float mean of q (padding counted as z) rounded
//                 half to even. Output shares the input's type and parameters.
//   Elementwise   r = deq(a) (op) deq(b) in float, then the output as above.
//   Concat / Reshape / Flatten  copy q; every operand shares the output's parameters.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/graph.h"
#include "qsdk/node_type.h"
#include "qsdk/status.h"
#include "qsdk/tensor.h"
#include "reference/ops.h"

namespace qsdk::reference {

// An operand: a tensor and, when it is stored as integers (INT8 / UINT8 / INT32), the
// parameters giving its real value; `quant` is empty for a FLOAT32 tensor.
struct QuantizedOperand {
  const Tensor* tensor = nullptr;  // nullptr: an absent optional operand
  graph::QuantParams quant;
};

// The element type of an output: FLOAT32 (quant empty) or INT8 / UINT8 with per-tensor
// parameters.
struct QuantizedOutputSpec {
  DataType dtype = DataType::FLOAT32;
  graph::QuantParams quant;
};

// Quantize: x FLOAT32 (quant empty) -> `out` (INT8 / UINT8 / INT16); or requantize x
// INT8 / UINT8 / INT16 -> `out` (dequantize then quantize, in float). Both x's and out's
// parameters may be per tensor or per axis (same shape; the axis indexes x's dims).
Status Quantize(const QuantizedOperand& x, const QuantizedOutputSpec& out, Tensor* y);

// Dequantize: x INT8 / UINT8 / INT16 / INT32 (per tensor or per axis) -> FLOAT32.
Status Dequantize(const QuantizedOperand& x, Tensor* y);

// Quantized 2-D convolution, NCHW, with the geometry of Conv2D (groups, depthwise when
// group = C, strides, pads, dilations; zero padding means real 0, i.e. x_q = z_x, which
// contributes nothing to sum (x_q - z_x) * w_q).
//   x: INT8 / UINT8, per tensor.
//   w: INT8 [OC, C/group, KH, KW], zero points 0, per tensor or along axis 0 (OC scales).
//   b: optional INT32 [OC], zero points 0, scale[oc] = s_x * s_w[oc] (per tensor when the
//      weights are; checked to float rounding, relative 1e-6).
//   residual: optional (fused_sum), exactly the output shape, FLOAT32 or INT8 / UINT8 per
//      tensor.
// The integer sum is exact (held in int64, so that even a saturated INT32 bias cannot
// wrap; it equals the int32 accumulator whenever that does not overflow).
Status QuantizedConv2D(const QuantizedOperand& x, const QuantizedOperand& w,
                       const QuantizedOperand& b, const QuantizedOperand& residual,
                       const ConvParams& params, const QuantizedOutputSpec& out, Tensor* y);

// Quantized FullyConnected: x [N, ...] flattened to [N, K]; w INT8 [OC, K] per tensor or
// along axis 0; b, residual [N, OC] and output as QuantizedConv2D.
Status QuantizedFullyConnected(const QuantizedOperand& x, const QuantizedOperand& w,
                               const QuantizedOperand& b, const QuantizedOperand& residual,
                               const FusedActivation& activation, const QuantizedOutputSpec& out,
                               Tensor* y);

// Quantized MatMul with the geometry of MatMul (transposes, broadcast batch dims):
//   a: INT8 / UINT8, per tensor.
//   b: INT8 (the weights), zero points 0, per tensor or per output column: the axis of b's
//      stored shape that holds N, i.e. rank-1 ([.., K, N]) or, with transpose_b, rank-2
//      ([.., N, K]); N scales, shared by every batch matrix.
//   bias: optional INT32 broadcasting to the output [..., M, N]; per tensor (per-tensor b)
//      or along its last axis, of extent N (per-column b); scale = s_a * s_b[n].
Status QuantizedMatMul(const QuantizedOperand& a, const QuantizedOperand& b,
                       const QuantizedOperand& bias, const MatMulParams& params,
                       const QuantizedOutputSpec& out, Tensor* y);

// Quantized Pool with the geometry of Pool; x INT8 / UINT8 per tensor; the output has x's
// type and parameters. Max: the largest q (exact, since s > 0). Average (and global
// average): float(sum of q over the counted elements, padding counted as z) / float(count),
// rounded half to even.
Status QuantizedPool(const QuantizedOperand& x, const PoolParams& params, Tensor* y);

// Quantized Elementwise add / sub / mul with numpy broadcasting. a and b are each FLOAT32
// or INT8 / UINT8 per tensor; r = deq(a) (op) deq(b) in float; output FLOAT32 or quantized.
Status QuantizedElementwise(const QuantizedOperand& a, const QuantizedOperand& b,
                            ElementwiseOp op, const QuantizedOutputSpec& out, Tensor* y);

// Quantized Concat along `axis`: every input INT8 / UINT8 with the same type and exactly
// the same per-tensor parameters (the builder unifies them); the q values are copied. The
// output has that type and those parameters.
Status QuantizedConcat(const std::vector<QuantizedOperand>& inputs, int64_t axis, Tensor* y);

// Reshape / Flatten of an INT8 / UINT8 tensor: the q values copied under the new shape
// (ResolveReshape / Flatten rules); the output keeps x's type and parameters.
Status QuantizedReshape(const QuantizedOperand& x, const std::vector<int64_t>& shape, Tensor* y);
Status QuantizedFlatten(const QuantizedOperand& x, int64_t axis, Tensor* y);

}  // namespace qsdk::reference
