// Helpers shared by the quantized reference operators: operand and parameter checks,
// widening integer storage, per-axis scale lookup and writing float results to a FLOAT32
// or quantized output. Internal to src/reference/.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/graph.h"
#include "qsdk/status.h"
#include "qsdk/tensor.h"
#include "reference/quantized_ops.h"

namespace qsdk::reference::internal {

inline bool IsQuantized8(DataType t) { return t == DataType::INT8 || t == DataType::UINT8; }

// A usable tensor of any type: present, every extent known, data when non-empty.
Status CheckTensorBasics(const char* op, const char* what, const Tensor* t);

// Checks `q` as the parameters of a tensor of type `dtype` (INT8, UINT8, INT16 or INT32)
// and shape `shape`: as many zero points as scales, scales finite and > 0, zero points
// within the type's storage range (0 for INT32), per tensor (axis -1, one scale) or, when
// `allow_per_axis`, along an axis of `shape` with one scale per index.
Status CheckParams(const char* op, const char* what, DataType dtype,
                   const std::vector<int64_t>& shape, const graph::QuantParams& q,
                   bool allow_per_axis);

// An activation operand: FLOAT32 without parameters (only when `allow_float`), or INT8 /
// UINT8 quantized per tensor.
Status CheckActivationOperand(const char* op, const char* what, const QuantizedOperand& x,
                              bool allow_float);

// An output spec: FLOAT32 without parameters, or INT8 / UINT8 quantized per tensor.
Status CheckOutputSpec(const char* op, const QuantizedOutputSpec& out);

// The values of an INT8 / UINT8 / INT16 / INT32 tensor widened to int32.
std::vector<int32_t> Widen(const Tensor& t);

// Maps a row-major element index to its index along the quantization axis (0 per tensor).
class AxisIndexer {
 public:
  AxisIndexer(const std::vector<int64_t>& shape, int32_t axis);
  int64_t operator()(int64_t i) const { return extent_ <= 1 ? 0 : (i / inner_) % extent_; }

 private:
  int64_t inner_ = 1;
  int64_t extent_ = 1;
};

// The real values of an operand checked by CheckActivationOperand (or any INT8 / UINT8
// tensor with checked per-tensor or per-axis parameters): FLOAT32 copied, quantized
// dequantized element by element with DequantizeValue; empty for an absent operand
// (x.tensor null).
std::vector<float> RealValues(const QuantizedOperand& x);

// Allocates a zero-filled tensor of `dtype` and `shape` into *y.
Status AllocateTyped(const char* op, DataType dtype, const std::vector<int64_t>& shape, Tensor* y);

// Writes the float results `r` (row-major, of `shape`) as the output `out`: copied when
// FLOAT32, quantized with QuantizeValue (per-tensor parameters) to INT8 / UINT8 / INT16
// otherwise.
Status WriteOutput(const char* op, const QuantizedOutputSpec& out,
                   const std::vector<int64_t>& shape, const std::vector<float>& r, Tensor* y);

// Writes integer values (already within the storage range of `dtype`, INT8 / UINT8 /
// INT16).
Status WriteQuantized(const char* op, DataType dtype, const std::vector<int64_t>& shape,
                      const std::vector<int32_t>& q, Tensor* y);

// The scale of channel `c` of weights / bias parameters (per tensor: the only scale).
inline float ScaleAt(const graph::QuantParams& q, int64_t c) {
  return q.axis < 0 ? q.scales[0] : q.scales[static_cast<size_t>(c)];
}

// Checks that the INT32 bias parameters `b` match the accumulator scale s_x * s_w[c] for
// each of `channels` output channels (relative 1e-6: the builder computes exactly this
// float product, a bias in another scale would be silently wrong).
Status CheckBiasScales(const char* op, const graph::QuantParams& b, float x_scale,
                       const graph::QuantParams& w, int64_t channels);

// Checks weights of type `dtype` (INT8, or INT16 for the INT16 ops): present, of that
// type, zero points all 0 (symmetric), quantized per tensor or along `channel_axis` of
// their shape; INT16 values in [-32767, 32767] (the restricted symmetric range).
Status CheckWeights(const char* op, const char* what, const QuantizedOperand& w,
                    int32_t channel_axis, DataType dtype);

// Checks the weights b of a quantized MatMul ("input b", rank >= 2, as CheckWeights) and
// their per-channel axis: the one holding the output column N, rank-1 of b [.., K, N] or
// rank-2 of b [.., N, K] when transposed.
Status CheckMatMulWeights(const char* op, const QuantizedOperand& b, const MatMulParams& params,
                          DataType dtype);

// Checks an optional bias (b.tensor may be null): INT32, zero points 0, per tensor or along
// `channel_axis` of its shape, and scale[c] = x_scale * s_w[c] for each of `channels`.
// The caller checks the bias shape.
Status CheckBias(const char* op, const QuantizedOperand& b, int32_t channel_axis, float x_scale,
                 const graph::QuantParams& w, int64_t channels);

// The bias rule of quantized Conv / FullyConnected: absent (b.tensor null), or of shape
// [OC] and as CheckBias along axis 0 for `oc` channels.
Status CheckChannelBias(const char* op, const QuantizedOperand& b, float x_scale,
                        const graph::QuantParams& w, int64_t oc);

// Checks an optional residual (fused sum; r.tensor may be null): FLOAT32 or INT8 / UINT8
// per tensor, of exactly `out_shape`.
Status CheckResidual(const char* op, const QuantizedOperand& r,
                     const std::vector<int64_t>& out_shape);

}  // namespace qsdk::reference::internal
