#include "runtime_ops/float_types_util.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <memory>

#include "common/aligned_buffer.h"
#include "common/status_macros.h"
#include "reference/reference_test_util.h"

namespace qsdk::runtime::float_testing {

uint16_t FloatToBf16Bits(float value) {
  return Eigen::numext::bit_cast<uint16_t>(Eigen::bfloat16(value));
}

float Bf16BitsToFloat(uint16_t bits) {
  return static_cast<float>(Eigen::numext::bit_cast<Eigen::bfloat16>(bits));
}

uint16_t FloatToHalfBits(float value) {
  return Eigen::numext::bit_cast<uint16_t>(Eigen::half(value));
}

float HalfBitsToFloatEigen(uint16_t bits) {
  return static_cast<float>(Eigen::numext::bit_cast<Eigen::half>(bits));
}

float RoundTo(DataType type, float value) {
  switch (type) {
    case DataType::BFLOAT16: return Bf16BitsToFloat(FloatToBf16Bits(value));
    case DataType::FLOAT16: return HalfBitsToFloatEigen(FloatToHalfBits(value));
    default: return value;
  }
}

double Bf16Ulp(double value) {
  const double magnitude = std::fabs(value);
  // Below the smallest normal bfloat16 (2^-126) the spacing is fixed.
  if (magnitude < std::ldexp(1.0, -126)) return std::ldexp(1.0, -133);
  int exponent = 0;
  std::frexp(magnitude, &exponent);  // magnitude = m * 2^exponent, m in [0.5, 1)
  return std::ldexp(1.0, exponent - 8);
}

std::vector<float> RandomValuesOf(DataType type, std::mt19937* rng, int64_t count, float lo,
                                  float hi) {
  std::vector<float> v = testing::RandomValues(rng, count, lo, hi);
  for (float& x : v) x = RoundTo(type, x);
  return v;
}

Tensor MakeTensor(DataType type, const std::vector<int64_t>& shape,
                  const std::vector<float>& values, const std::string& name) {
  Tensor t = Tensor::Allocate(type, Dims(shape), name);
  for (size_t i = 0; i < values.size(); ++i) {
    switch (type) {
      case DataType::BFLOAT16:
        static_cast<uint16_t*>(t.GetData())[i] = FloatToBf16Bits(values[i]);
        break;
      case DataType::FLOAT16:
        static_cast<uint16_t*>(t.GetData())[i] = FloatToHalfBits(values[i]);
        break;
      default: static_cast<float*>(t.GetData())[i] = values[i]; break;
    }
  }
  return t;
}

std::vector<float> ToFloats(const Tensor& tensor) {
  std::vector<float> v(static_cast<size_t>(tensor.GetElementCount()));
  for (size_t i = 0; i < v.size(); ++i) {
    switch (tensor.GetDataType()) {
      case DataType::BFLOAT16:
        v[i] = Bf16BitsToFloat(static_cast<const uint16_t*>(tensor.GetData())[i]);
        break;
      case DataType::FLOAT16:
        v[i] = HalfBitsToFloatEigen(static_cast<const uint16_t*>(tensor.GetData())[i]);
        break;
      default: v[i] = static_cast<const float*>(tensor.GetData())[i]; break;
    }
  }
  return v;
}

namespace {

// Bytes of `values` stored as `type`.
std::vector<uint8_t> StoreAs(DataType type, const std::vector<float>& values) {
  const Tensor t = MakeTensor(type, {static_cast<int64_t>(values.size())}, values);
  const auto* bytes = static_cast<const uint8_t*>(t.GetData());
  return std::vector<uint8_t>(bytes, bytes + t.GetSizeInBytes());
}

bool IsNarrowFloat(DataType type) {
  return type == DataType::BFLOAT16 || type == DataType::FLOAT16;
}

}  // namespace

graph::TensorId AddConst(graph::Graph* g, const std::string& name, DataType type,
                         std::vector<int64_t> shape, const std::vector<float>& values) {
  const std::vector<uint8_t> bytes = StoreAs(type, values);
  return g->AddConstant(name, type, std::move(shape), bytes.data(), bytes.size());
}

bool Bf16ComputeAvailable() {
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto avx512_core = static_cast<unsigned>(dnnl::cpu_isa::avx512_core);
  return (isa & avx512_core) == avx512_core;
}

Status ReferenceBeforeRounding(const graph::Graph& graph, graph::NodeId id,
                               const std::vector<Tensor>& runtime_inputs,
                               std::vector<float>* expected) {
  graph::Graph twin = graph;
  for (graph::Tensor& t : twin.tensors) {
    if (!IsNarrowFloat(t.dtype)) continue;
    if (t.is_constant()) {
      const Tensor narrow =
          Tensor::Wrap(t.dtype, Dims(t.shape), const_cast<uint8_t*>(t.data->data()));
      const std::vector<float> wide = ToFloats(narrow);
      t.data = std::make_shared<AlignedBuffer>(wide.data(), wide.size() * sizeof(float));
    }
    t.dtype = DataType::FLOAT32;
  }
  std::vector<Tensor> widened;
  for (const Tensor& in : runtime_inputs) {
    widened.push_back(IsNarrowFloat(in.GetDataType())
                          ? MakeTensor(DataType::FLOAT32, in.GetDimension().GetDims(), ToFloats(in))
                          : in);
  }
  Tensor output;
  QSDK_RETURN_IF_ERROR(EvalReferenceNode(twin, id, widened, &output));
  if (output.GetDataType() != DataType::FLOAT32) {
    return InternalError("test: the reference produced no FLOAT32 output");
  }
  *expected = ToFloats(output);
  return Status::Ok();
}

std::string CompareRounded(const std::vector<float>& got, const std::vector<float>& expected,
                           DataType type, double atol) {
  const bool bf16 = type == DataType::BFLOAT16;
  return reference::testing::CompareWithin(
      got, expected,
      [&](double g, double e) {
        return bf16 ? atol + 0.5 * Bf16Ulp(std::max(std::fabs(g), std::fabs(e))) : atol;
      },
      StrCat("atol ", atol, bf16 ? " + half a bf16 ulp" : ""));
}

double MaxAbs(const std::vector<float>& values) {
  double m = 0.0;
  for (float v : values) m = std::max(m, std::fabs(static_cast<double>(v)));
  return m;
}

}  // namespace qsdk::runtime::float_testing
