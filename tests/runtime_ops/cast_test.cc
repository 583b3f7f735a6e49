// The Cast kernel in all six directions between FLOAT32, FLOAT16 and BFLOAT16, bit for bit
// against Eigen's round-to-nearest-even conversions (an implementation independent of
// oneDNN): every 16-bit source pattern, and for f32 sources the special values, the ties,
// the f16 overflow boundary, the f16 subnormal range and random bit patterns. NaN maps to
// a NaN of the same sign (payloads are implementation detail); f32 subnormals -> bf16 give
// a zero of their sign (the contract's oneDNN rule, where Eigen would round). Also: the same
// bits as reference::Cast, blocked layouts flowing through a Cast, the factory's validation.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/status_macros.h"
#include "graph/shape_inference.h"
#include "runtime_ops/float_types_util.h"

namespace qsdk::runtime::float_testing {
namespace {

// A graph x -> Cast -> y of `count` elements.
graph::Graph CastGraph(DataType from, DataType to, std::vector<int64_t> shape) {
  graph::Graph g;
  AddOp(&g, NodeType::kCast, "op", {AddInput(&g, "x", shape, from)}, graph::AttrMap(), "y", to);
  g.outputs = {g.FindTensor("y")};
  return g;
}

// The bits of element i of a FLOAT32 / 16-bit tensor, widened to 32 bits.
uint32_t BitsAt(const Tensor& t, size_t i) {
  if (t.GetDataType() == kF32) return static_cast<const uint32_t*>(t.GetData())[i];
  return static_cast<const uint16_t*>(t.GetData())[i];
}

// Expected bits of Cast(value of `from`, given by `from_bits`) to `to`, via Eigen.
uint32_t ExpectedBits(DataType from, uint32_t from_bits, DataType to) {
  float wide = 0.0f;
  switch (from) {
    case kF32: wide = BitsToFloat(from_bits); break;
    case kF16: wide = HalfBitsToFloatEigen(static_cast<uint16_t>(from_bits)); break;
    default: wide = Bf16BitsToFloat(static_cast<uint16_t>(from_bits)); break;
  }
  switch (to) {
    case kF32: return FloatBits(wide);
    case kF16: return FloatToHalfBits(wide);
    default: return FloatToBf16Bits(wide);
  }
}

bool IsNanBits(DataType type, uint32_t bits) {
  switch (type) {
    case kF32: return (bits & 0x7fffffffu) > 0x7f800000u;
    case kF16: return (bits & 0x7fffu) > 0x7c00u;
    default: return (bits & 0x7fffu) > 0x7f80u;
  }
}

uint32_t SignBit(DataType type, uint32_t bits) {
  return type == kF32 ? bits >> 31 : (bits >> 15) & 1u;
}

// Runs Cast from -> to over `source` (a tensor of `from`) and checks every element.
void ExpectCastExact(DataType from, DataType to, const Tensor& source, tag layout = tag::undef) {
  const std::string label =
      StrCat(DataTypeName(from), " -> ", DataTypeName(to), " layout ", static_cast<int>(layout));
  graph::Graph g = CastGraph(from, to, source.GetDimension().GetDims());
  ASSERT_TRUE(graph::InferShapes(&g).ok()) << label;
  NodeRun run;
  const Status st = RunNode(g, g.FindNode("op"), {source}, {layout}, &run);
  ASSERT_TRUE(st.ok()) << label << ": " << st.ToString();
  ASSERT_EQ(run.output.GetDataType(), to) << label;
  const bool with_half = from == kF16 || to == kF16;
  EXPECT_EQ(run.kernel_name.rfind(with_half ? "cast_loop_" : "onednn_reorder_cast_", 0), 0u)
      << run.kernel_name;
  // The layout flows: the instance takes the input as given and keeps it.
  EXPECT_EQ(run.required_inputs[0], run.given_inputs[0]) << label;
  EXPECT_EQ(run.output_desc.dims(), run.given_inputs[0].dims()) << label;
  size_t mismatches = 0, first = 0;
  uint32_t first_got = 0, first_expected = 0, first_source = 0;
  for (size_t i = 0; i < static_cast<size_t>(source.GetElementCount()); ++i) {
    const uint32_t src = BitsAt(source, i);
    const uint32_t got = BitsAt(run.output, i);
    const uint32_t expected = ExpectedBits(from, src, to);
    const bool ok = IsNanBits(to, expected)
                        ? IsNanBits(to, got) && SignBit(to, got) == SignBit(to, expected)
                        : got == expected;
    if (!ok && mismatches++ == 0) {
      first = i;
      first_got = got;
      first_expected = expected;
      first_source = src;
    }
  }
  EXPECT_EQ(mismatches, 0u) << label << ": first at " << first << ": source bits 0x" << std::hex
                            << first_source << " gave 0x" << first_got << ", expected 0x"
                            << first_expected;
}

// Every 16-bit pattern as a tensor of `type` (shape [65536]).
Tensor AllPatterns(DataType type) {
  Tensor t = Tensor::Allocate(type, Dims({65536}));
  for (uint32_t b = 0; b < 65536; ++b)
    static_cast<uint16_t*>(t.GetData())[b] = static_cast<uint16_t>(b);
  return t;
}

// f32 inputs that probe every rounding rule of both narrowings.
Tensor F32Probes() {
  std::vector<uint32_t> bits;
  const float specials[] = {0.0f,
                            -0.0f,
                            1.0f,
                            -1.0f,
                            65504.0f,
                            65519.996f,
                            65520.0f,
                            -65520.0f,
                            1e10f,
                            -1e10f,
                            std::numeric_limits<float>::max(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN(),
                            -std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::min(),
                            6.1035156e-05f /* f16 min normal */,
                            5.9604645e-08f /* f16 min subnormal */,
                            2.9802322e-08f,
                            2.98e-08f,
                            3.0e-08f,
                            1e-7f,
                            3.3e-6f};
  for (float f : specials) bits.push_back(FloatBits(f));
  // Exact ties and neighbours of ties for bf16 (low 16 bits 0x8000) and f16 (low 13 bits
  // 0x1000), in normal f16 range, for odd and even kept mantissas.
  for (uint32_t base : {0x3f800000u, 0x3f810000u, 0x40490000u, 0xc0a30000u, 0x3a800000u}) {
    for (uint32_t low :
         {0x8000u, 0x7fffu, 0x8001u, 0x1000u, 0x0fffu, 0x1001u, 0x3000u, 0x2000u, 0x18000u}) {
      bits.push_back(base | low);
    }
  }
  // Random patterns over the whole f32 range, and random values in the f16 subnormal range.
  std::mt19937 rng(1613);
  std::uniform_int_distribution<uint32_t> any;
  for (int i = 0; i < 20000; ++i) bits.push_back(any(rng));
  std::uniform_real_distribution<float> tiny(-7e-5f, 7e-5f);
  for (int i = 0; i < 4000; ++i) bits.push_back(FloatBits(tiny(rng)));
  Tensor t = Tensor::Allocate(kF32, Dims({static_cast<int64_t>(bits.size())}));
  std::memcpy(t.GetData(), bits.data(), bits.size() * sizeof(uint32_t));
  return t;
}

// f32 subnormals: f32 -> bf16 reads them as zero (as the AVX512-BF16 conversion
// instruction does), unlike Eigen's rounding; they are probed separately
// (F32SubnormalsToBf16).
bool IsF32Subnormal(uint32_t bits) {
  return (bits & 0x7f800000u) == 0 && (bits & 0x007fffffu) != 0;
}

TEST(CastKernel, SixteenBitSourcesAllPatterns) {
  for (DataType from : {kF16, kBF16}) {
    const Tensor all = AllPatterns(from);
    for (DataType to : {kF32, kF16, kBF16}) {
      if (to == from) continue;
      ExpectCastExact(from, to, all);
    }
  }
}

TEST(CastKernel, AgreesWithTheReferenceCast) {
  // reference::Cast (src/reference/float_types.h) defines the bits the runtime must give:
  // every 16-bit source and the f32 probes including f32 subnormals, NaN by sign only.
  Tensor probes = F32Probes();
  std::vector<uint32_t> extra = {0x00000001u, 0x00012345u, 0x807fffffu, 0x80000001u};
  std::vector<uint32_t> bits(static_cast<size_t>(probes.GetElementCount()));
  std::memcpy(bits.data(), probes.GetData(), bits.size() * sizeof(uint32_t));
  bits.insert(bits.end(), extra.begin(), extra.end());
  Tensor f32 = Tensor::Allocate(kF32, Dims({static_cast<int64_t>(bits.size())}));
  std::memcpy(f32.GetData(), bits.data(), bits.size() * sizeof(uint32_t));
  const Tensor f16 = AllPatterns(kF16), bf16 = AllPatterns(kBF16);
  for (const Tensor* source : std::vector<const Tensor*>{&f32, &f16, &bf16}) {
    const DataType from = source->GetDataType();
    for (DataType to : {kF32, kF16, kBF16}) {
      if (to == from) continue;
      const std::string label = StrCat(DataTypeName(from), " -> ", DataTypeName(to));
      graph::Graph g = CastGraph(from, to, source->GetDimension().GetDims());
      ASSERT_TRUE(graph::InferShapes(&g).ok()) << label;
      NodeRun run;
      ASSERT_TRUE(RunNode(g, g.FindNode("op"), {*source}, {}, &run).ok()) << label;
      Tensor expected;
      const Status ref = EvalReferenceNode(g, g.FindNode("op"), {*source}, &expected);
      ASSERT_TRUE(ref.ok()) << label << ": " << ref.ToString();
      ASSERT_EQ(expected.GetDataType(), to) << label;
      size_t mismatches = 0;
      for (size_t i = 0; i < static_cast<size_t>(source->GetElementCount()); ++i) {
        const uint32_t got = BitsAt(run.output, i), want = BitsAt(expected, i);
        const bool ok = IsNanBits(to, want)
                            ? IsNanBits(to, got) && SignBit(to, got) == SignBit(to, want)
                            : got == want;
        if (!ok && mismatches++ == 0) {
          ADD_FAILURE() << label << ": source bits 0x" << std::hex << BitsAt(*source, i)
                        << " gave 0x" << got << ", the reference 0x" << want;
        }
      }
      EXPECT_EQ(mismatches, 0u) << label;
    }
  }
}

TEST(CastKernel, Float32SourcesRoundToNearestEven) {
  Tensor probes = F32Probes();
  // Without f32 subnormals (see F32SubnormalsToBf16).
  std::vector<uint32_t> kept;
  for (int64_t i = 0; i < probes.GetElementCount(); ++i) {
    const uint32_t b = static_cast<const uint32_t*>(probes.GetData())[i];
    if (!IsF32Subnormal(b)) kept.push_back(b);
  }
  Tensor normal = Tensor::Allocate(kF32, Dims({static_cast<int64_t>(kept.size())}));
  std::memcpy(normal.GetData(), kept.data(), kept.size() * sizeof(uint32_t));
  ExpectCastExact(kF32, kF16, normal);
  ExpectCastExact(kF32, kBF16, normal);
}

TEST(CastKernel, F32SubnormalsToHalfUnderflowToZero) {
  // Every f32 subnormal is far below half of f16's smallest subnormal (2^-25): +-0.
  std::vector<uint32_t> bits = {0x00000001u, 0x00400000u, 0x007fffffu, 0x80000001u, 0x807fffffu};
  Tensor t = Tensor::Allocate(kF32, Dims({static_cast<int64_t>(bits.size())}));
  std::memcpy(t.GetData(), bits.data(), bits.size() * sizeof(uint32_t));
  ExpectCastExact(kF32, kF16, t);
}

TEST(CastKernel, F32SubnormalsToBf16) {
  // The contract rounds f32 -> bf16 "as oneDNN's reorder" on CPUs with native bf16
  // conversion, which reads an f32 subnormal as zero: a zero of the source's sign (the
  // reference's rule, src/reference/float_types.h), on every CPU.
  std::vector<uint32_t> bits = {0x00000001u, 0x00008000u, 0x00018000u, 0x00400000u,
                                0x007fffffu, 0x80000001u, 0x80400000u, 0x807fffffu};
  Tensor t = Tensor::Allocate(kF32, Dims({static_cast<int64_t>(bits.size())}));
  std::memcpy(t.GetData(), bits.data(), bits.size() * sizeof(uint32_t));
  graph::Graph g = CastGraph(kF32, kBF16, {static_cast<int64_t>(bits.size())});
  ASSERT_TRUE(graph::InferShapes(&g).ok());
  NodeRun run;
  ASSERT_TRUE(RunNode(g, g.FindNode("op"), {t}, {}, &run).ok());
  for (size_t i = 0; i < bits.size(); ++i) {
    const uint16_t got = static_cast<const uint16_t*>(run.output.GetData())[i];
    EXPECT_EQ(got, (bits[i] >> 16) & 0x8000u) << std::hex << bits[i];
  }
}

TEST(CastKernel, BlockedLayoutsFlowThrough) {
  std::mt19937 rng(1614);
  const std::vector<int64_t> shape = {2, 20, 3, 3};  // 20 channels: a padded 16-block
  const std::vector<float> values = RandomValuesOf(kF32, &rng, 360, -100.0f, 100.0f);
  for (tag layout : {tag::nChw16c, tag::acdb}) {
    ExpectCastExact(kF32, kBF16, MakeTensor(kF32, shape, values), layout);
    ExpectCastExact(kBF16, kF32, MakeTensor(kBF16, shape, values), layout);
    ExpectCastExact(kF32, kF16, MakeTensor(kF32, shape, values), layout);
    ExpectCastExact(kF16, kBF16, MakeTensor(kF16, shape, values), layout);
  }
}

TEST(CastKernel, FactoryRejectsNonFloatAndConstantInputs) {
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  std::unique_ptr<Kernel> kernel;
  {
    graph::Graph g;
    graph::TensorId x = AddInput(&g, "x", {4}, DataType::INT8);
    g.tensors[x].quant.scales = {0.5f};
    g.tensors[x].quant.zero_points = {0};
    AddOp(&g, NodeType::kCast, "op", {x}, graph::AttrMap(), "y", kF32);
    g.outputs = {g.FindTensor("y")};
    const Status st = CreateKernel(g, g.FindNode("op"), engine, &kernel);
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("node 'op' (Cast)"), std::string::npos) << st.message();
  }
  {
    graph::Graph g;
    AddOp(&g, NodeType::kCast, "op", {AddConst(&g, "c", kF32, {2}, {1.0f, 2.0f})}, graph::AttrMap(),
          "y", kBF16);
    g.outputs = {g.FindTensor("y")};
    const Status st = CreateKernel(g, g.FindNode("op"), engine, &kernel);
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("constant"), std::string::npos) << st.message();
  }
  {
    // Built for bf16 input, instantiated with f32: refused.
    graph::Graph g = CastGraph(kBF16, kF32, {4});
    ASSERT_TRUE(graph::InferShapes(&g).ok());
    ASSERT_TRUE(CreateKernel(g, g.FindNode("op"), engine, &kernel).ok());
    InstantiateArgs args;
    args.engine = &engine;
    args.input_descs = {PlainDesc({4}, memory::data_type::f32)};
    args.output_shapes = {{4}};
    std::unique_ptr<KernelInstance> instance;
    const Status st = kernel->Instantiate(args, &instance);
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("f32"), std::string::npos) << st.message();
  }
}

}  // namespace
}  // namespace qsdk::runtime::float_testing
