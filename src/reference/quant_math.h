// The INT8 numerics of docs/quantization.md as plain functions: choosing quantization
// parameters from a real range, quantizing weights and biases, and the scalar
// quantize / dequantize / round / saturate steps every quantized reference kernel uses.
// The builder calls the parameter helpers; the runtime and its tests call them to make
// operands and expected values.
//
// Conventions: real = scale * (q - zero_point). Activations are quantized per tensor
// (INT8 or UINT8; INT16 for the INT16 kernels), weights INT8 (INT16) symmetric per output
// channel or per tensor, biases INT32 in the accumulator's scale (the INT16 kernels take
// FLOAT32 biases). All arithmetic that the contract says is "in float" is
// done in float here, in out-of-line functions compiled with -ffp-contract=off (so that
// a compiler may not fuse x * inv_scale + zero_point into one FMA rounding), and
// round-half-to-even uses std::nearbyint under the default rounding mode.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/graph.h"
#include "qsdk/data_type.h"
#include "qsdk/status.h"

namespace qsdk::reference {

// How an activation range with negative values is quantized (a range with min >= 0 is
// always UINT8 with zero point 0).
enum class QuantScheme : int32_t {
  kSymmetric = 0,   // INT8, z = 0, s = max(|min|, |max|) / 127
  kAsymmetric = 1,  // UINT8, s = (max' - min') / 255, z = round(-min' / s)
};

// The storage type and per-tensor parameters chosen for an activation.
struct ActivationQuant {
  DataType dtype = DataType::UINT8;
  graph::QuantParams params;  // one scale and zero point, axis -1
};

// --- Scalar steps (bit-exact definitions of the contract). -------------------------------

// Storage range of a quantized type: [-128, 127] for INT8, [0, 255] for UINT8,
// [-32768, 32767] for INT16. Other types give [0, 0] (callers check the type first).
int32_t QuantizedMin(DataType dtype);
int32_t QuantizedMax(DataType dtype);

// round_half_even(v) then saturation to [lo, hi], all on the float `v`. NaN gives `lo`
// (what oneDNN's max(v, lo) / min(v, hi) saturation before conversion gives: vmaxps
// returns its second operand when the first is NaN); +-inf saturate.
int32_t RoundAndSaturate(float v, int32_t lo, int32_t hi);

// Quantize one value: saturate(round_half_even(x * inv_scale + zero_point)) in float,
// with inv_scale = 1.0f / scale computed once by the caller (see InverseScale) and the
// saturation range of `dtype` (INT8, UINT8 or INT16).
int32_t QuantizeValue(float x, float inv_scale, int32_t zero_point, DataType dtype);

// 1.0f / scale in float (the reciprocal the contract computes once per tensor).
float InverseScale(float scale);

// Dequantize one value: scale * (float(q) - float(zero_point)) in float.
float DequantizeValue(int32_t q, float scale, int32_t zero_point);

// Requantize one value: dequantize with (in_scale, in_zero) then quantize to `dtype` with
// (out_inv_scale, out_zero), in float.
int32_t RequantizeValue(int32_t q, float in_scale, int32_t in_zero, float out_inv_scale,
                        int32_t out_zero, DataType dtype);

// saturate_int32(round_half_even(b / bias_scale)), the division in float. NaN gives 0.
int32_t QuantizeBiasValue(float b, float bias_scale);

// --- Parameter choice (done by the builder from calibrated / user ranges). ---------------

// Per-tensor parameters for an activation whose real values lie in [min, max]:
//  - min >= 0: UINT8, s = max / 255, z = 0;
//  - min < 0, kSymmetric: INT8, s = max(|min|, |max|) / 127, z = 0;
//  - min < 0, kAsymmetric: UINT8, min' = min(min, 0), max' = max(max, 0),
//    s = (max' - min') / 255, z = clamp(round_half_even(-min' / s), 0, 255).
// A degenerate range (max == min == 0), and a range so narrow that s would not be a normal
// float (every |value| below about 1e-36, indistinguishable from 0), get s = 1 (z as
// above, i.e. 0). Fails when min or max is not finite or min > max.
Status ChooseActivationParams(float min, float max, QuantScheme scheme, ActivationQuant* out);

// The same choice without allocating (the runtime's dynamic quantization calls it at every
// execution): the storage type, the scale and the zero point ChooseActivationParams would
// give. Returns false, leaving the outputs untouched, exactly where ChooseActivationParams
// fails (a non-finite bound, min > max, an unknown scheme, an overflowing width).
bool ChooseActivationScale(float min, float max, QuantScheme scheme, DataType* dtype,
                           float* scale, int32_t* zero_point);

// Per-tensor INT16 parameters (QINT16 activations) for real values in [min, max]: always
// INT16, symmetric, z = 0, s = max(|min|, |max|) / 32767 (so q spans [-32767, 32767];
// -32768 is reachable only by saturation). The degenerate-range rules are those of INT8: a
// range whose s would not be a normal float (including [0, 0]) gets s = 1. Fails when min
// or max is not finite or min > max.
Status ChooseInt16ActivationParams(float min, float max, ActivationQuant* out);

// Symmetric INT8 quantization of the weights `values` (ElementCount(shape) floats,
// row-major) per index of `axis` (in [0, rank): one scale per slice, e.g. axis 0 = the
// output channel of a Conv / FullyConnected filter, the last axis = the output column of
// a MatMul's b) or per tensor (axis = -1):
//   s = max|w| / 127 over the slice (s = 1 for an all-zero slice, or one whose s would not
//   be a normal float), z = 0, q = clamp(round_half_even(w * (1.0f / s)), -127, 127).
// -128 is never produced (docs/quantization.md: the restricted range). Fails on a
// non-finite value, a bad axis or shape, or a null pointer with a non-empty shape.
Status QuantizeWeights(const float* values, const std::vector<int64_t>& shape, int32_t axis,
                       std::vector<int8_t>* q, graph::QuantParams* params);

// Symmetric INT16 quantization of weights, exactly as QuantizeWeights with 32767 levels:
//   s = max|w| / 32767 over the slice (s = 1 for an all-zero slice, or one whose s would
//   not be a normal float), z = 0, q = clamp(round_half_even(w * (1.0f / s)), -32767, 32767).
// -32768 is never produced: the INT16 kernels rely on it (two s16 x s16 products then sum
// exactly in int32).
Status QuantizeWeightsInt16(const float* values, const std::vector<int64_t>& shape,
                            int32_t axis, std::vector<int16_t>* q, graph::QuantParams* params);

// INT32 quantization of a bias (ElementCount(shape) floats) for an op whose input has
// scale `input_scale` and whose weights have `weight_params` (from QuantizeWeights):
//   s_b = input_scale * s_w (in float), z = 0, b_q = saturate_int32(round_half_even(b / s_b)).
// Per-tensor weights give a per-tensor bias. Per-axis weights give a bias quantized along
// its last axis, whose extent must equal the number of weight scales (a Conv /
// FullyConnected bias [OC] along axis 0; a MatMul bias [..., N] along its last axis).
// Fails when a scale is not finite and > 0 (including s_b underflowing to 0), or a value
// is not finite.
Status QuantizeBias(const float* values, const std::vector<int64_t>& shape, float input_scale,
                    const graph::QuantParams& weight_params, std::vector<int32_t>* q,
                    graph::QuantParams* params);

}  // namespace qsdk::reference
