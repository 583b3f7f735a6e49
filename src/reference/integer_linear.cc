// Compiled with -ffp-contract=off (src/reference/CMakeLists.txt): each float operation of
// the epilogue rounds separately, as the contracts specify.
#include "reference/integer_linear.h"

#include "reference/op_util.h"
#include "reference/quantized_util.h"

namespace qsdk::reference::internal {

namespace {

// The output element whose exact sum is `sum`: adds the integer bias, takes the
// accumulator's width, then runs the float epilogue. `channel` selects the weight scale,
// `bias_index` the bias element and `y_index` the residual element.
float Finish(const IntegerLinearOperands& v, int64_t sum, int64_t channel, int64_t bias_index,
             int64_t y_index, const FusedActivation& act) {
  int64_t acc = sum;
  if (!v.int_bias.empty()) acc += v.int_bias[static_cast<size_t>(bias_index)];
  // Dynamic quantization's accumulator is int32: |x_q - z| <= 255 and |w_q| <= 128 keep
  // the sum within it for K < 65793; beyond that it wraps modulo 2^32, as oneDNN's does.
  if (v.int32_accumulator) acc = static_cast<int32_t>(acc);
  float r = static_cast<float>(acc) * (v.x_scale * ScaleAt(v.w_params, channel));
  if (!v.float_bias.empty()) r = r + v.float_bias[static_cast<size_t>(bias_index)];
  if (!v.residual.empty()) r = r + v.residual[static_cast<size_t>(y_index)];
  return ApplyActivation(act.type, r, act.alpha, act.beta);
}

// The product term of x element xi and w element wi: each difference x_q - z fits int32
// (8- or 16-bit values), the product is taken in int64.
int64_t Term(const IntegerLinearOperands& v, int64_t xi, int64_t wi) {
  return static_cast<int64_t>(v.x[static_cast<size_t>(xi)] - v.x_zero_point) *
         v.w[static_cast<size_t>(wi)];
}

}  // namespace

IntegerLinearOperands ReadIntegerLinearOperands(const QuantizedOperand& x,
                                                const QuantizedOperand& w,
                                                const QuantizedOperand& bias,
                                                const QuantizedOperand& residual) {
  IntegerLinearOperands v;
  v.x = Widen(*x.tensor);
  v.x_scale = x.quant.scales[0];
  v.x_zero_point = x.quant.zero_points[0];
  v.w = Widen(*w.tensor);
  v.w_params = w.quant;
  if (bias.tensor != nullptr) {
    if (bias.tensor->GetDataType() == DataType::FLOAT32) {
      v.float_bias = RealValues(bias);
    } else {
      v.int_bias = Widen(*bias.tensor);
    }
  }
  v.residual = RealValues(residual);
  return v;
}

std::vector<float> IntegerConv(const ConvGeometry& g, const IntegerLinearOperands& v,
                               const FusedActivation& act) {
  std::vector<float> r(static_cast<size_t>(Product(g.OutputShape())));
  ForEachConvOutput(g, [&](int64_t in, int64_t o, int64_t y, int64_t x) {
    int64_t sum = 0;
    ForEachConvTap(g, in, o, y, x, [&](int64_t xi, int64_t wi) { sum += Term(v, xi, wi); });
    const int64_t yi = g.YIndex(in, o, y, x);
    r[static_cast<size_t>(yi)] = Finish(v, sum, o, o, yi, act);
  });
  return r;
}

std::vector<float> IntegerFullyConnected(const FullyConnectedGeometry& g,
                                         const IntegerLinearOperands& v,
                                         const FusedActivation& act) {
  std::vector<float> r(static_cast<size_t>(g.n * g.oc));
  for (int64_t i = 0; i < g.n; ++i) {
    for (int64_t o = 0; o < g.oc; ++o) {
      int64_t sum = 0;
      for (int64_t j = 0; j < g.k; ++j) sum += Term(v, i * g.k + j, o * g.k + j);
      const int64_t yi = i * g.oc + o;
      r[static_cast<size_t>(yi)] = Finish(v, sum, o, o, yi, act);
    }
  }
  return r;
}

std::vector<float> IntegerMatMul(const MatMulGeometry& g, const IntegerLinearOperands& v,
                                 const FusedActivation& act) {
  std::vector<float> r(static_cast<size_t>(Product(g.out_shape)));
  ForEachMatMulOutput(g, [&](const MatMulElement& e) {
    int64_t sum = 0;
    for (int64_t p = 0; p < g.k; ++p) sum += Term(v, g.AIndex(e, p), g.BIndex(e, p));
    r[static_cast<size_t>(e.y_index)] = Finish(v, sum, e.j, e.bias_index, e.y_index, act);
  });
  return r;
}

}  // namespace qsdk::reference::internal
