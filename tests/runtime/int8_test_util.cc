#include "int8_test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <oneapi/dnnl/dnnl.hpp>

#include "reference/quant_math.h"
#include "runtime_test_util.h"

namespace qsdk::runtime::testing {

bool CpuHasVnni() {
  const auto isa = static_cast<uint32_t>(dnnl::get_effective_cpu_isa());
  // dnnl_cpu_isa_t is a bit set: avx512_core_vnni = avx512_core | 0x40, avx2_vnni =
  // avx2 | 0x400, and every later ISA includes one of them.
  return (isa & 0x40u) != 0 || (isa & 0x400u) != 0;
}

QuantType ParamsForRange(DataType dtype, float lo, float hi) {
  QuantType q;
  q.dtype = dtype;
  if (dtype == DataType::INT8) {
    const float m = std::max(std::fabs(lo), std::fabs(hi));
    q.params = PerTensor(m > 0.0f ? m / 127.0f : 1.0f, 0);
    return q;
  }
  reference::ActivationQuant chosen;
  const Status st =
      reference::ChooseActivationParams(lo, hi, reference::QuantScheme::kAsymmetric, &chosen);
  EXPECT_TRUE(st.ok()) << st.ToString();
  q.params = chosen.params;
  return q;
}

void RangeOf(const Tensor& t, float* lo, float* hi) {
  *lo = 0.0f;
  *hi = 0.0f;
  for (int64_t i = 0; i < t.GetElementCount(); ++i) {
    const float v = t.Data<float>()[i];
    if (i == 0 || v < *lo) *lo = v;
    if (i == 0 || v > *hi) *hi = v;
  }
}

Tensor Dequantized(const Tensor& q, const graph::QuantParams& params) {
  Tensor t = Tensor::Allocate(DataType::FLOAT32, q.GetDimension());
  for (int64_t i = 0; i < q.GetElementCount(); ++i) {
    t.Data<float>()[i] =
        reference::DequantizeValue(QuantizedAt(q, i), params.scales[0], params.zero_points[0]);
  }
  return t;
}

void ExpectInt8Match(const Tensor& actual, const Tensor& expected, bool exact,
                     const std::string& label, double rel) {
  ASSERT_EQ(actual.GetDataType(), expected.GetDataType()) << label;
  ASSERT_EQ(actual.GetDimension(), expected.GetDimension()) << label;
  if (expected.GetDataType() == DataType::FLOAT32) {
    if (exact) {
      EXPECT_TRUE(BitIdentical(actual, expected))
          << label << ": max |diff| " << MaxAbsDiff(actual, expected);
    } else {
      EXPECT_LE(MaxAbsDiff(actual, expected), rel * MaxAbs(expected) + 1e-6) << label;
    }
    return;
  }
  const QuantizedDiff d = CompareQuantized(actual, expected);
  EXPECT_LE(d.max, 1) << label << ": " << d.differing << " of " << d.count << " differ";
  if (exact) {
    EXPECT_EQ(d.differing, 0) << label << ": " << d.differing << " of " << d.count << " differ";
  } else {
    EXPECT_LE(d.differing, std::max<int64_t>(1, d.count / 100))
        << label << ": " << d.differing << " of " << d.count
        << " differ by 1 LSB (more than 1%)";
  }
}

}  // namespace qsdk::runtime::testing
