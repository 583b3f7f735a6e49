// INT16 runtime kernels (point 4 of the issue-5 contract) against the reference, bit for
// bit: the GEMM core (both code paths against a naive int64 product, including sums far
// beyond int32 and K long enough to need several exact accumulation segments), Conv
// (groups, depthwise, strides, pads, dilations, per-tensor / per-channel weights, nonzero
// z_x, fused relu / sigmoid, fused residual, FLOAT32 / INT16 output), FullyConnected and
// MatMul (transpose_a / transpose_b, batch broadcast, broadcast bias), INT16 and per-axis
// Quantize / Dequantize, and an engine chaining them (INT16 tensors flow without reorders).
//
// The vector paths (AVX-512 / VNNI GEMM, epilogue, Quantize / Dequantize conversions) are
// also checked directly, element by element, against the reference's scalar steps on
// special values (NaN, infinities, signed zeros, rounding ties, saturation, int64 -> float
// ties) and every tail length, and the parallel mechanisms (helper pool, serial, OpenMP
// team) against each other.
//
// Tolerance: none. The contract defines the INT16 results exactly (exact integer sums, then
// float operations each rounded once, in a fixed order) and both sides implement exactly
// that, so every comparison is bit-identical (BitExact).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "graph/attributes.h"
#include "int16_test_util.h"
#include "qsdk/model.h"
#include "reference/int16_ops.h"
#include "reference/ops.h"
#include "reference/quant_math.h"
#include "reference/quantized_ops.h"
#include "runtime/engine.h"
#include "runtime/kernels/int16_gemm.h"
#include "runtime/kernels/int16_kernel_util.h"

namespace qsdk::runtime {
namespace {

using namespace testing;  // NOLINT(build/namespaces)

// --- GEMM core --------------------------------------------------------------------------------

// Every path this CPU (and DNNL_MAX_CPU_ISA) allows.
std::vector<Int16GemmIsa> AvailableIsas() {
  std::vector<Int16GemmIsa> isas = {Int16GemmIsa::kScalar};
  const Int16GemmIsa best = BestInt16GemmIsa();
  if (IsAvx512(best)) isas.push_back(Int16GemmIsa::kAvx512);
  if (best == Int16GemmIsa::kAvx512Vnni) isas.push_back(Int16GemmIsa::kAvx512Vnni);
  return isas;
}

// A (m x k, row stride lda) in the core's split form, by the path under test.
std::vector<int16_t> Split(Int16GemmIsa isa, const std::vector<int16_t>& a, int64_t lda, int64_t m,
                           int64_t k) {
  std::vector<int16_t> split(static_cast<size_t>(m * Int16SplitRowSize(k)), 777);
  SplitInt16Rows(isa, a.data(), m, k, lda, 1, split.data());
  return split;
}

// C = A * B with A [m, k] (row stride lda >= k), B [k, n], naive int64.
std::vector<int64_t> NaiveProduct(const std::vector<int16_t>& a, int64_t lda,
                                  const std::vector<int16_t>& b, int64_t m, int64_t n, int64_t k) {
  std::vector<int64_t> c(static_cast<size_t>(m * n), 0);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t p = 0; p < k; ++p) {
      const int64_t av = a[static_cast<size_t>(i * lda + p)];
      for (int64_t j = 0; j < n; ++j) c[static_cast<size_t>(i * n + j)] += av * b[p * n + j];
    }
  }
  return c;
}

std::vector<int64_t> CoreProduct(Int16GemmIsa isa, const std::vector<int16_t>& a, int64_t lda,
                                 const std::vector<int16_t>& b, int64_t m, int64_t n, int64_t k) {
  std::vector<int16_t> packed(static_cast<size_t>(Int16PackedSize(k, n)));
  PackInt16B(b.data(), k, n, n, 1, packed.data());
  // ldc = n + 3 and a sentinel: the core writes exactly the m x n block.
  const int64_t ldc = n + 3;
  std::vector<int64_t> c(static_cast<size_t>(m * ldc), 777);
  const std::vector<int16_t> split = Split(isa, a, lda, m, k);
  Int16Gemm(isa, m, n, k, split.data(), Int16SplitRowSize(k), packed.data(), c.data(), ldc);
  std::vector<int64_t> out;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      if (j < n) {
        out.push_back(c[static_cast<size_t>(i * ldc + j)]);
      } else {
        EXPECT_EQ(c[static_cast<size_t>(i * ldc + j)], 777) << "written past column n";
      }
    }
  }
  return out;
}

TEST(Int16GemmTest, RandomShapesMatchNaiveProduct) {
  std::mt19937 rng(1601);
  struct Shape {
    int64_t m, n, k, lda_pad;
  };
  const Shape shapes[] = {{1, 1, 1, 0},   {3, 5, 2, 1},    {4, 32, 3, 0}, {5, 33, 31, 2},
                          {7, 65, 64, 0}, {9, 31, 101, 1}, {2, 100, 9, 3}};
  for (Int16GemmIsa isa : AvailableIsas()) {
    for (const Shape& s : shapes) {
      const int64_t lda = s.k + s.lda_pad;
      std::vector<int16_t> a, b;
      // A spans the whole int16 range (-32768 included); B the weights' [-32767, 32767].
      for (int32_t v : RandomInts(&rng, s.m * lda, -32768, 32767))
        a.push_back(static_cast<int16_t>(v));
      for (int32_t v : RandomInts(&rng, s.k * s.n, -32767, 32767))
        b.push_back(static_cast<int16_t>(v));
      EXPECT_EQ(CoreProduct(isa, a, lda, b, s.m, s.n, s.k), NaiveProduct(a, lda, b, s.m, s.n, s.k))
          << Int16GemmIsaName(isa) << " m " << s.m << " n " << s.n << " k " << s.k;
    }
  }
}

TEST(Int16GemmTest, ExtremeValuesOverLongKAreExact) {
  // Every pair product is -2 * 32768 * 32767 (the largest magnitude a vpmaddwd pair can
  // take); K = 70001 (odd, > 2 * 32768 pairs: three accumulation segments) gives
  // -32768 * 32767 * 70001 ~ -7.5e13, far beyond int32, and a mixed-sign row checks the
  // hi / lo decomposition with negative and positive parts.
  const int64_t k = 70001, m = 3, n = 33;
  std::vector<int16_t> a(static_cast<size_t>(m * k));
  std::vector<int16_t> b(static_cast<size_t>(k * n));
  std::mt19937 rng(1602);
  for (int64_t p = 0; p < k; ++p) {
    a[static_cast<size_t>(p)] = -32768;                                            // row 0
    a[static_cast<size_t>(k + p)] = static_cast<int16_t>(p % 2 ? -32768 : 32767);  // row 1
    a[static_cast<size_t>(2 * k + p)] =
        static_cast<int16_t>(RandomInts(&rng, 1, -32768, 32767)[0]);  // row 2
    for (int64_t j = 0; j < n; ++j) {
      b[static_cast<size_t>(p * n + j)] = static_cast<int16_t>(j % 3 == 0 ? 32767 : -32767);
    }
  }
  const std::vector<int64_t> expected = NaiveProduct(a, k, b, m, n, k);
  EXPECT_EQ(expected[0], -32768LL * 32767LL * k);
  for (Int16GemmIsa isa : AvailableIsas()) {
    EXPECT_EQ(CoreProduct(isa, a, k, b, m, n, k), expected) << Int16GemmIsaName(isa);
  }
}

// The bounds the split A relies on (int16_gemm.h): every pair sum at its extreme and K at
// the 128-pair segment boundaries (256 values) and around them; rows 1..11 cover every
// remainder block of the 6-row core.
TEST(Int16GemmTest, SplitWorstCasesAtSegmentBoundariesAreExact) {
  std::mt19937 rng(1611);
  // -1 and 255 have lo = 255 (the largest lo part); -32768 has hi = -128; with B = -32768
  // every lo pair sum is -2 * 255 * 32768 and every hi pair sum +2^23.
  const int16_t a_values[] = {-1, 255, -32768, 32767, -256};
  for (int64_t k : {255, 256, 257, 258, 511, 512, 513}) {
    for (int64_t m : {1, 5, 6, 11}) {
      const int64_t n = 40;
      std::vector<int16_t> a(static_cast<size_t>(m * k)), b(static_cast<size_t>(k * n));
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t p = 0; p < k; ++p) {
          // Row 0 constant -1 (lo sums at their bound), the others mixed.
          a[static_cast<size_t>(i * k + p)] =
              i == 0 ? int16_t{-1} : a_values[static_cast<size_t>((i + p) % 5)];
        }
      }
      for (int64_t p = 0; p < k; ++p) {
        for (int64_t j = 0; j < n; ++j) {
          b[static_cast<size_t>(p * n + j)] =
              j < 20 ? int16_t{-32768}
                     : static_cast<int16_t>(RandomInts(&rng, 1, -32768, 32767)[0]);
        }
      }
      const std::vector<int64_t> expected = NaiveProduct(a, k, b, m, n, k);
      EXPECT_EQ(expected[0], -1LL * -32768LL * k);
      for (Int16GemmIsa isa : AvailableIsas()) {
        EXPECT_EQ(CoreProduct(isa, a, k, b, m, n, k), expected)
            << Int16GemmIsaName(isa) << " m " << m << " k " << k;
      }
    }
  }
}

// Throughput of the core on the GEMM of a 64 -> 64, 3x3 convolution of a 56x56 image
// (M = 64 output channels, N = 3136 pixels, K = 576), for the report. Correctness is
// checked too (so the test can fail); the timing is only printed.
TEST(Int16GemmTest, ThroughputOnConvShape) {
  const int64_t m = 64, n = 56 * 56, k = 64 * 9;
  std::mt19937 rng(1603);
  std::vector<int16_t> a, b;
  for (int32_t v : RandomInts(&rng, m * k, -32768, 32767)) a.push_back(static_cast<int16_t>(v));
  for (int32_t v : RandomInts(&rng, k * n, -32767, 32767)) b.push_back(static_cast<int16_t>(v));
  std::vector<int16_t> packed(static_cast<size_t>(Int16PackedSize(k, n)));
  PackInt16B(b.data(), k, n, n, 1, packed.data());
  std::vector<int64_t> c(static_cast<size_t>(m * n));
  const std::vector<int64_t> expected = NaiveProduct(a, k, b, m, n, k);
  for (Int16GemmIsa isa : AvailableIsas()) {
    const int reps = IsAvx512(isa) ? 10 : 1;
    const std::vector<int16_t> split = Split(isa, a, k, m, k);
    const int64_t lda = Int16SplitRowSize(k);
    Int16Gemm(isa, m, n, k, split.data(), lda, packed.data(), c.data(), n);  // warm up
    EXPECT_EQ(c, expected) << Int16GemmIsaName(isa);
    const auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < reps; ++r)
      Int16Gemm(isa, m, n, k, split.data(), lda, packed.data(), c.data(), n);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
    const double gops = 2.0 * static_cast<double>(m * n * k) / seconds * 1e-9;
    std::cout << "[ INFO     ] int16 gemm " << Int16GemmIsaName(isa) << " M=" << m << " N=" << n
              << " K=" << k << ": " << seconds * 1e3 << " ms, " << gops << " GOPS\n";
    ::testing::Test::RecordProperty(std::string("gops_") + Int16GemmIsaName(isa),
                                    std::to_string(gops));
  }
}

// --- Conv ---------------------------------------------------------------------------------------

struct ConvCase {
  std::string label;
  std::vector<int64_t> x_shape;  // [N, C, H, W]
  int64_t oc = 1, kh = 1, kw = 1, group = 1;
  std::vector<int64_t> strides = {1, 1}, pads = {0, 0, 0, 0}, dilations = {1, 1};
  bool per_channel = false;
  int32_t z_x = 0;
  bool bias = true;
  bool residual = false;
  ActivationType act = ActivationType::kNone;
  float alpha = 0.0f, beta = 0.0f;  // of the fused activation
  bool int16_out = false;
  int32_t x_lo = -32768, x_hi = 32767;  // x_q range
  int32_t w_lo = -32767, w_hi = 32767;  // w_q range
  std::vector<int32_t> x_fill, w_fill;  // when set: constant values instead of random
};

void RunConvCase(const ConvCase& c, std::mt19937* rng) {
  SCOPED_TRACE(c.label);
  const int64_t cin = c.x_shape[1];
  const std::vector<int64_t> w_shape = {c.oc, cin / c.group, c.kh, c.kw};
  const auto xv =
      c.x_fill.empty() ? RandomInts(rng, graph::ElementCount(c.x_shape), c.x_lo, c.x_hi) : c.x_fill;
  const auto wv =
      c.w_fill.empty() ? RandomInts(rng, graph::ElementCount(w_shape), c.w_lo, c.w_hi) : c.w_fill;
  const Tensor x = MakeTyped(DataType::INT16, c.x_shape, xv);
  const Tensor w = MakeTyped(DataType::INT16, w_shape, wv);
  const graph::QuantParams xq = PerTensor(0.0013f, c.z_x);
  std::vector<float> ws;
  for (int64_t o = 0; o < c.oc; ++o) ws.push_back(0.00021f * static_cast<float>(1 + o % 7));
  const graph::QuantParams wq = c.per_channel ? PerAxis(ws, 0) : PerTensor(0.00037f);
  const Tensor b = RandomFloatTensor(rng, {c.oc}, -50.0f, 50.0f);

  graph::AttrMap attrs = ConvAttrs(c.strides, c.pads, c.dilations, c.group, c.act);
  attrs.SetFloat(graph::attr::kFusedAlpha, c.alpha);
  attrs.SetFloat(graph::attr::kFusedBeta, c.beta);
  // Output shape for the residual.
  std::vector<int64_t> y_shape = {c.x_shape[0], c.oc, 0, 0};
  for (int d = 0; d < 2; ++d) {
    const int64_t k = d == 0 ? c.kh : c.kw;
    const int64_t padded = c.x_shape[2 + d] + c.pads[2 * d] + c.pads[2 * d + 1];
    y_shape[2 + d] = (padded - (c.dilations[d] * (k - 1) + 1)) / c.strides[d] + 1;
  }
  const Tensor r = RandomFloatTensor(rng, y_shape, -300.0f, 300.0f);
  std::vector<testing::NodeInput> inputs = {Runtime(x, xq), Constant(w, wq),
                                            c.bias ? Constant(b) : Absent()};
  if (c.residual) {
    attrs.SetInt(graph::attr::kFusedSum, 1);
    inputs.push_back(Runtime(r));
  }
  const graph::QuantParams yq = PerTensor(0.0625f, -17);
  graph::Graph g;
  graph::NodeId id = graph::kNoNode;
  const Status built = testing::BuildNode(NodeType::kConv, attrs, inputs,
                                          c.int16_out ? DataType::INT16 : DataType::FLOAT32,
                                          c.int16_out ? yq : graph::QuantParams(), &g, &id);
  ASSERT_TRUE(built.ok()) << built.ToString();
  ASSERT_EQ(g.tensors[static_cast<size_t>(g.nodes[id].outputs[0])].shape, y_shape);

  RuntimeRun run;
  std::vector<Tensor> runtime_inputs = {x};
  if (c.residual) runtime_inputs.push_back(r);
  const Status st = testing::RunRuntimeNode(g, id, runtime_inputs, &run);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(run.kernel_name, std::string("int16_conv_") + Int16GemmIsaName(BestInt16GemmIsa()));

  reference::ConvParams p;
  p.stride_h = c.strides[0];
  p.stride_w = c.strides[1];
  p.pad_top = c.pads[0];
  p.pad_bottom = c.pads[1];
  p.pad_left = c.pads[2];
  p.pad_right = c.pads[3];
  p.dilation_h = c.dilations[0];
  p.dilation_w = c.dilations[1];
  p.group = c.group;
  p.activation.type = c.act;
  p.activation.alpha = c.alpha;
  p.activation.beta = c.beta;
  reference::QuantizedOutputSpec out;
  if (c.int16_out) {
    out.dtype = DataType::INT16;
    out.quant = yq;
  }
  Tensor expected;
  const Status rs = reference::Int16Conv2D({&x, xq}, {&w, wq}, c.bias ? &b : nullptr,
                                           c.residual ? &r : nullptr, p, out, &expected);
  ASSERT_TRUE(rs.ok()) << rs.ToString();
  EXPECT_TRUE(BitExact(run.output, expected));
}

TEST(Int16ConvKernelTest, BitExactWithReference) {
  std::mt19937 rng(1604);
  std::vector<ConvCase> cases;
  {
    ConvCase c;
    c.label = "3x3 pad 1, per-channel, z_x != 0, relu, f32 out";
    c.x_shape = {1, 5, 9, 8};
    c.oc = 6, c.kh = 3, c.kw = 3;
    c.pads = {1, 1, 1, 1};
    c.per_channel = true;
    c.z_x = 1234;
    c.act = ActivationType::kRelu;
    cases.push_back(c);
  }
  {
    ConvCase c;
    c.label = "groups, strides, asymmetric pads, dilation, per-tensor, int16 out";
    c.x_shape = {2, 6, 11, 10};
    c.oc = 9, c.kh = 3, c.kw = 2, c.group = 3;
    c.strides = {2, 1};
    c.pads = {0, 2, 1, 0};
    c.dilations = {2, 1};
    c.z_x = -32768;
    c.int16_out = true;
    cases.push_back(c);
  }
  {
    ConvCase c;
    c.label = "depthwise stride 2, residual, sigmoid, per-channel";
    c.x_shape = {1, 7, 12, 12};
    c.oc = 7, c.kh = 3, c.kw = 3, c.group = 7;
    c.strides = {2, 2};
    c.pads = {1, 1, 1, 1};
    c.per_channel = true;
    c.z_x = 5;
    c.residual = true;
    c.act = ActivationType::kSigmoid;
    cases.push_back(c);
  }
  {
    ConvCase c;
    c.label = "1x1, no bias, residual, relu, int16 out, 40 output channels (M edge)";
    c.x_shape = {1, 33, 7, 5};
    c.oc = 40;
    c.bias = false;
    c.residual = true;
    c.act = ActivationType::kRelu;
    c.int16_out = true;
    c.z_x = 77;
    cases.push_back(c);
  }
  {
    ConvCase c;
    c.label = "odd K, wide image (several column chunks), per-tensor";
    c.x_shape = {1, 3, 70, 90};
    c.oc = 5, c.kh = 5, c.kw = 3;
    c.pads = {2, 2, 1, 1};
    c.z_x = -3;
    cases.push_back(c);
  }
  {
    // Large enough (4.7M multiply-adds) to split its work items between two threads.
    ConvCase c;
    c.label = "two threads: batch 2, groups, residual, relu, int16 out, per-channel";
    c.x_shape = {2, 16, 32, 32};
    c.oc = 32, c.kh = 3, c.kw = 3, c.group = 2;
    c.pads = {1, 1, 1, 1};
    c.per_channel = true;
    c.z_x = -100;
    c.residual = true;
    c.act = ActivationType::kRelu;
    c.int16_out = true;
    cases.push_back(c);
  }
  {
    // K = 64 * 3 * 3 = 576 taps of (x - z_x) = -65535 times w = 32767:
    // acc = -65535 * 32767 * 576 ~ -1.24e12 in the interior, far beyond int32.
    ConvCase c;
    c.label = "accumulator beyond int32 (int64 required)";
    c.x_shape = {1, 64, 4, 4};
    c.oc = 3, c.kh = 3, c.kw = 3;
    c.pads = {1, 1, 1, 1};
    c.z_x = 32767;
    c.x_fill.assign(64 * 16, -32768);
    c.w_fill.assign(3 * 64 * 9, 32767);
    c.bias = false;
    cases.push_back(c);
  }
  for (const ConvCase& c : cases) RunConvCase(c, &rng);
}

// The whole INT16 convolution (im2col + GEMM core + epilogue) on 64 -> 64, 3x3, pad 1,
// 56x56, batch 1, FLOAT32 output: bit-exact with the reference, and its time printed for
// the report.
TEST(Int16ConvKernelTest, ThroughputOnResNetShape) {
  std::mt19937 rng(1609);
  const std::vector<int64_t> x_shape = {1, 64, 56, 56}, w_shape = {64, 64, 3, 3};
  const Tensor x = RandomIntTensor(&rng, DataType::INT16, x_shape, -32768, 32767);
  const Tensor w = RandomIntTensor(&rng, DataType::INT16, w_shape, -32767, 32767);
  const graph::QuantParams xq = PerTensor(0.001f, 3), wq = PerTensor(0.0001f);
  const graph::AttrMap attrs = ConvAttrs({1, 1}, {1, 1, 1, 1});
  graph::Graph g;
  graph::NodeId id = graph::kNoNode;
  ASSERT_TRUE(testing::BuildNode(NodeType::kConv, attrs, {Runtime(x, xq), Constant(w, wq)},
                                 DataType::FLOAT32, {}, &g, &id)
                  .ok());
  RuntimeRun run;
  const Status st = testing::RunRuntimeNode(g, id, {x}, &run, /*timed_runs=*/5);
  ASSERT_TRUE(st.ok()) << st.ToString();
  reference::ConvParams p;
  p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
  Tensor expected;
  ASSERT_TRUE(reference::Int16Conv2D({&x, xq}, {&w, wq}, nullptr, nullptr, p,
                                     reference::QuantizedOutputSpec(), &expected)
                  .ok());
  EXPECT_TRUE(BitExact(run.output, expected));
  const double gops = 2.0 * 64 * 64 * 9 * 56 * 56 / run.seconds_per_run * 1e-9;
  std::cout << "[ INFO     ] " << run.kernel_name
            << " 64x64x3x3 on 1x64x56x56: " << run.seconds_per_run * 1e3 << " ms, " << gops
            << " GOPS\n";
  ::testing::Test::RecordProperty("conv_gops", std::to_string(gops));
}

TEST(Int16ConvKernelTest, RejectsBadOperands) {
  const Tensor x = MakeTyped(DataType::INT16, {1, 2, 4, 4}, std::vector<int32_t>(32, 1));
  const graph::AttrMap attrs = ConvAttrs();
  const std::vector<BadWeights> bad = {
      {"-32768 weight", MakeTyped(DataType::INT16, {1, 2, 1, 1}, std::vector<int32_t>{1, -32768}),
       PerTensor(1.0f), "-32768"},
      {"nonzero weight zero point",
       MakeTyped(DataType::INT16, {1, 2, 1, 1}, std::vector<int32_t>{1, 2}), PerTensor(1.0f, 3),
       "zero_point"},
      {"weights along axis 1", MakeTyped(DataType::INT16, {1, 2, 1, 1}, std::vector<int32_t>{1, 2}),
       PerAxis({1.0f, 1.0f}, 1), "axis 1"},
  };
  ExpectBadWeightsRejected(NodeType::kConv, attrs, Runtime(x, PerTensor(1.0f)), bad);
}

// --- FullyConnected / MatMul ---------------------------------------------------------------------

TEST(Int16FullyConnectedKernelTest, BitExactWithReference) {
  std::mt19937 rng(1605);
  struct Case {
    std::vector<int64_t> x_shape;
    int64_t oc;
    bool per_channel, bias, residual, int16_out;
    ActivationType act;
    int32_t z_x;
  };
  const Case cases[] = {
      {{3, 20}, 7, true, true, false, false, ActivationType::kNone, 0},
      {{5, 2, 3, 3}, 33, false, true, true, true, ActivationType::kRelu, -20000},
      {{1, 1001}, 64, true, false, true, false, ActivationType::kTanh, 32767},
      {{9, 64}, 100, true, true, false, true, ActivationType::kNone, 12},
      // 4.9M multiply-adds: the output columns are split between two threads.
      {{16, 1024}, 300, true, true, true, false, ActivationType::kRelu, -7},
  };
  for (const Case& c : cases) {
    const int64_t k = graph::ElementCount(c.x_shape) / c.x_shape[0];
    const Tensor x = RandomIntTensor(&rng, DataType::INT16, c.x_shape, -32768, 32767);
    const Tensor w = RandomIntTensor(&rng, DataType::INT16, {c.oc, k}, -32767, 32767);
    const Tensor b = RandomFloatTensor(&rng, {c.oc}, -9.0f, 9.0f);
    const std::vector<int64_t> y_shape = {c.x_shape[0], c.oc};
    const Tensor r = RandomFloatTensor(&rng, y_shape, -100.0f, 100.0f);
    std::vector<float> ws;
    for (int64_t o = 0; o < c.oc; ++o) ws.push_back(1e-5f * static_cast<float>(3 + o % 11));
    const graph::QuantParams xq = PerTensor(0.0021f, c.z_x);
    const graph::QuantParams wq = c.per_channel ? PerAxis(ws, 0) : PerTensor(2e-5f);
    const graph::QuantParams yq = PerTensor(0.004f, 100);
    graph::AttrMap attrs;
    attrs.SetInt(graph::attr::kFusedActivation, static_cast<int64_t>(c.act));
    std::vector<testing::NodeInput> inputs = {Runtime(x, xq), Constant(w, wq),
                                              c.bias ? Constant(b) : Absent()};
    if (c.residual) {
      attrs.SetInt(graph::attr::kFusedSum, 1);
      inputs.push_back(Runtime(r));
    }
    graph::Graph g;
    graph::NodeId id = graph::kNoNode;
    const Status built = testing::BuildNode(NodeType::kFullyConnected, attrs, inputs,
                                            c.int16_out ? DataType::INT16 : DataType::FLOAT32,
                                            c.int16_out ? yq : graph::QuantParams(), &g, &id);
    ASSERT_TRUE(built.ok()) << built.ToString();
    RuntimeRun run;
    std::vector<Tensor> runtime_inputs = {x};
    if (c.residual) runtime_inputs.push_back(r);
    const Status st = testing::RunRuntimeNode(g, id, runtime_inputs, &run);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(run.kernel_name.rfind("int16_fully_connected_", 0), 0u) << run.kernel_name;
    reference::FusedActivation act;
    act.type = c.act;
    reference::QuantizedOutputSpec out;
    if (c.int16_out) {
      out.dtype = DataType::INT16;
      out.quant = yq;
    }
    Tensor expected;
    const Status rs = reference::Int16FullyConnected(
        {&x, xq}, {&w, wq}, c.bias ? &b : nullptr, c.residual ? &r : nullptr, act, out, &expected);
    ASSERT_TRUE(rs.ok()) << rs.ToString();
    EXPECT_TRUE(BitExact(run.output, expected)) << graph::ShapeToString(c.x_shape);
  }
}

TEST(Int16MatMulKernelTest, BitExactWithReference) {
  std::mt19937 rng(1606);
  struct Case {
    std::vector<int64_t> a, b, bias;
    bool ta, tb, per_column, int16_out;
  };
  const Case cases[] = {
      {{6, 10}, {10, 35}, {35}, false, false, true, false},
      {{2, 3, 5, 9}, {9, 4}, {1, 4}, false, false, false, true},
      {{2, 12, 7}, {2, 5, 12}, {2, 1, 5}, true, true, true, false},  // both transposed
      {{4, 17}, {3, 40, 17}, {}, false, true, true, true},           // a broadcast over b's batch
      // 5.2M multiply-adds: two threads, each transposing a on its own.
      {{2, 256, 64}, {2, 160, 256}, {160}, true, true, true, false},
  };
  for (const Case& c : cases) {
    const Tensor a = RandomIntTensor(&rng, DataType::INT16, c.a, -32768, 32767);
    const Tensor b = RandomIntTensor(&rng, DataType::INT16, c.b, -32767, 32767);
    const std::vector<int64_t> bias_shape = c.bias.empty() ? std::vector<int64_t>{1} : c.bias;
    const Tensor bias = RandomFloatTensor(&rng, bias_shape, -1.0f, 1.0f);
    const graph::QuantParams aq = PerTensor(0.01f, -99);
    const graph::QuantParams bq = c.per_column ? PerColumn(c.b, c.tb, 3e-5f, 5) : PerTensor(4e-5f);
    const graph::QuantParams yq = PerTensor(0.5f, 3);
    graph::AttrMap attrs;
    attrs.SetInt(graph::attr::kTransposeA, c.ta ? 1 : 0);
    attrs.SetInt(graph::attr::kTransposeB, c.tb ? 1 : 0);
    attrs.SetInt(graph::attr::kFusedActivation, static_cast<int64_t>(ActivationType::kRelu));
    graph::Graph g;
    graph::NodeId id = graph::kNoNode;
    const Status built = testing::BuildNode(
        NodeType::kMatMul, attrs,
        {Runtime(a, aq), Constant(b, bq), c.bias.empty() ? Absent() : Constant(bias)},
        c.int16_out ? DataType::INT16 : DataType::FLOAT32, c.int16_out ? yq : graph::QuantParams(),
        &g, &id);
    ASSERT_TRUE(built.ok()) << built.ToString();
    RuntimeRun run;
    const Status st = testing::RunRuntimeNode(g, id, {a}, &run);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(run.kernel_name.rfind("int16_matmul_", 0), 0u) << run.kernel_name;
    reference::MatMulParams p;
    p.transpose_a = c.ta;
    p.transpose_b = c.tb;
    p.activation.type = ActivationType::kRelu;
    reference::QuantizedOutputSpec out;
    if (c.int16_out) {
      out.dtype = DataType::INT16;
      out.quant = yq;
    }
    Tensor expected;
    const Status rs = reference::Int16MatMul({&a, aq}, {&b, bq}, c.bias.empty() ? nullptr : &bias,
                                             p, out, &expected);
    ASSERT_TRUE(rs.ok()) << rs.ToString();
    EXPECT_TRUE(BitExact(run.output, expected))
        << graph::ShapeToString(c.a) << " x " << graph::ShapeToString(c.b);
  }
}

// --- Quantize / Dequantize -----------------------------------------------------------------------

TEST(Int16QuantizeKernelTest, BitExactWithReference) {
  std::mt19937 rng(1607);
  const std::vector<int64_t> shape = {2, 5, 3, 7};
  const Tensor xf = RandomFloatTensor(&rng, shape, -300.0f, 300.0f);
  const Tensor x16 = RandomIntTensor(&rng, DataType::INT16, shape, -32768, 32767);
  const Tensor x8 = RandomIntTensor(&rng, DataType::INT8, shape, -128, 127);
  const graph::QuantParams t16 = PerTensor(0.0123f, -321);
  const graph::QuantParams axis16 =
      PerAxis({0.01f, 0.02f, 0.005f, 0.3f, 0.0071f}, 1, {0, -5, 32767, -32768, 9});
  const graph::QuantParams axis8 = PerAxis({0.5f, 0.25f, 1.5f}, 2, {0, -7, 100});
  const graph::QuantParams t8 = PerTensor(0.9f, 4);
  struct Case {
    std::string label;
    NodeType type;
    const Tensor* x;
    graph::QuantParams xq;
    DataType out;
    graph::QuantParams yq;
    const char* kernel;
  };
  const Case cases[] = {
      {"f32 -> int16 per tensor",
       NodeType::kQuantize,
       &xf,
       {},
       DataType::INT16,
       t16,
       "loop_quantize"},
      {"f32 -> int16 per axis",
       NodeType::kQuantize,
       &xf,
       {},
       DataType::INT16,
       axis16,
       "loop_quantize"},
      {"f32 -> int8 per axis, differing zero points",
       NodeType::kQuantize,
       &xf,
       {},
       DataType::INT8,
       axis8,
       "loop_quantize"},
      {"int16 per tensor -> f32",
       NodeType::kDequantize,
       &x16,
       t16,
       DataType::FLOAT32,
       {},
       "loop_dequantize"},
      {"int16 per axis -> f32",
       NodeType::kDequantize,
       &x16,
       axis16,
       DataType::FLOAT32,
       {},
       "loop_dequantize"},
      {"int8 per axis (differing zero points) -> f32",
       NodeType::kDequantize,
       &x8,
       axis8,
       DataType::FLOAT32,
       {},
       "loop_dequantize"},
      {"int16 -> int8 requantize", NodeType::kQuantize, &x16, t16, DataType::INT8, t8,
       "loop_requantize"},
      {"int8 per axis -> int16 requantize", NodeType::kQuantize, &x8, axis8, DataType::INT16, t16,
       "loop_requantize"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    graph::Graph g;
    graph::NodeId id = graph::kNoNode;
    const Status built =
        testing::BuildNode(c.type, {}, {Runtime(*c.x, c.xq)}, c.out, c.yq, &g, &id);
    ASSERT_TRUE(built.ok()) << built.ToString();
    RuntimeRun run;
    const Status st = testing::RunRuntimeNode(g, id, {*c.x}, &run);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(run.kernel_name, c.kernel);
    Tensor expected;
    Status rs;
    if (c.type == NodeType::kQuantize) {
      reference::QuantizedOutputSpec out;
      out.dtype = c.out;
      out.quant = c.yq;
      rs = reference::Quantize({c.x, c.xq}, out, &expected);
    } else {
      rs = reference::Dequantize({c.x, c.xq}, &expected);
    }
    ASSERT_TRUE(rs.ok()) << rs.ToString();
    EXPECT_TRUE(BitExact(run.output, expected));
  }
}

// --- Vector epilogue and conversions against the reference's scalar steps -----------------------

// Float specials for the epilogue's and the conversions' float operands.
std::vector<float> SpecialFloats() {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  return {nan,      -nan,     inf,       -inf,      0.0f,     -0.0f,     0.5f,    1.5f,
          2.5f,     -0.5f,    -1.5f,     -2.5f,     127.5f,   128.5f,    -128.5f, 255.5f,
          32766.5f, 32767.5f, -32768.5f, -32767.5f, 32768.0f, -32769.0f, 3.4e38f, -3.4e38f,
          1e-45f,   -1e-45f,  1.17e-38f, 12345.67f, -7.25f,   1e10f,     -1e10f,  65535.5f};
}

// The element-by-element definition of the epilogue (int16_kernel_util.h), from the
// reference's scalar steps.
void ExpectedEpilogue(const Int16Config& config, const EpilogueRow& block, int64_t count,
                      std::vector<float>* f32, std::vector<int16_t>* i16) {
  for (int64_t r = 0; r < block.rows; ++r) {
    for (int64_t j = 0; j < count; ++j) {
      int64_t acc = block.acc[r * block.acc_row_stride + j];
      if (block.correction != nullptr) {
        acc -= block.correction[r * block.correction_row_step + j * block.correction_step];
      }
      float v = static_cast<float>(acc) *
                block.multiplier[r * block.multiplier_row_step + j * block.multiplier_step];
      if (block.bias != nullptr) {
        v = v + block.bias[r * block.bias_row_step + j * block.bias_step];
      }
      if (block.residual != nullptr) v = v + block.residual[r * block.residual_row_stride + j];
      v = reference::ApplyActivation(config.activation, v, config.alpha, config.beta);
      const size_t o = static_cast<size_t>(r * block.out_row_stride + j);
      if (config.int16_output) {
        (*i16)[o] = static_cast<int16_t>(reference::QuantizeValue(
            v, config.output_inv_scale, config.output_zero_point, DataType::INT16));
      } else {
        (*f32)[o] = v;
      }
    }
  }
}

TEST(Int16EpilogueTest, EveryPathMatchesTheReferenceSteps) {
  std::mt19937 rng(1612);
  const std::vector<float> specials = SpecialFloats();
  std::vector<Int16GemmIsa> isas = {Int16GemmIsa::kScalar};
  if (IsAvx512(BestInt16GemmIsa())) isas.push_back(BestInt16GemmIsa());
  const ActivationType acts[] = {
      ActivationType::kNone,      ActivationType::kRelu,      ActivationType::kRelu6,
      ActivationType::kClip,      ActivationType::kSigmoid,   ActivationType::kTanh,
      ActivationType::kLeakyRelu, ActivationType::kHardSwish, ActivationType::kGelu};
  // Rows of up to 70 elements in blocks of 3 rows with padded row strides.
  const int64_t rows = 3, stride = 75;
  const size_t size = static_cast<size_t>(rows * stride);
  std::vector<int64_t> acc(size), correction(size);
  std::vector<float> multiplier(size), bias(size), residual(size);
  std::uniform_int_distribution<int64_t> big(-(int64_t{1} << 45), int64_t{1} << 45);
  for (size_t i = 0; i < size; ++i) {
    // int64 -> float ties (2^25 + 2: halfway between two floats), 0 (so that the residual's
    // ties reach the output rounding exactly), huge values, random ones.
    const int64_t kinds[] = {0,
                             (int64_t{1} << 25) + 2,
                             -((int64_t{1} << 25) + 6),
                             int64_t{1} << 62,
                             -(int64_t{1} << 62) + 1,
                             big(rng)};
    acc[i] = kinds[i % 6 == 5 ? 5 : (i / 6) % 6];
    if (i % 3 == 0) acc[i] = big(rng);
    correction[i] = RandomInts(&rng, 1, -1000000, 1000000)[0];
    multiplier[i] =
        i % 11 == 0 ? 1e30f : (i % 13 == 0 ? 1.0f : RandomValues(&rng, 1, 1e-9f, 1e-3f)[0]);
    bias[i] = i % 5 == 0 ? 0.0f
                         : (i % 17 == 0 ? specials[i % specials.size()]
                                        : RandomValues(&rng, 1, -40.0f, 40.0f)[0]);
    residual[i] = i % 2 == 0 ? specials[(i / 2) % specials.size()]
                             : RandomValues(&rng, 1, -4.0e4f, 4.0e4f)[0];
  }
  for (int64_t i = 0; i < rows * stride; i += 4) {
    if (acc[static_cast<size_t>(i)] == 0) multiplier[static_cast<size_t>(i)] = 1.0f;
  }
  int checked = 0;
  for (ActivationType act : acts) {
    for (bool int16_out : {false, true}) {
      for (int variant = 0; variant < 4; ++variant) {
        Int16Config config;
        config.activation = act;
        config.alpha = act == ActivationType::kClip ? -1.5f : 0.1f;
        config.beta = 2.25f;
        config.int16_output = int16_out;
        config.output_inv_scale = variant % 2 == 0 ? 1.0f : reference::InverseScale(0.37f);
        config.output_zero_point = variant % 2 == 0 ? 0 : -1234;
        SetEpilogueOp(&config);
        EpilogueRow block;
        block.rows = rows;
        block.acc = acc.data();
        block.acc_row_stride = stride;
        // Variants: per-element (step 1) or per-row (step 0) operands, with / without the
        // optional ones.
        const bool per_element = variant < 2;
        if (variant != 3) {
          block.correction = correction.data();
          block.correction_step = per_element ? 1 : 0;
          block.correction_row_step = per_element ? stride : 1;
        }
        block.multiplier = multiplier.data();
        block.multiplier_step = per_element ? 1 : 0;
        block.multiplier_row_step = per_element ? stride : 1;
        if (variant != 2) {
          block.bias = bias.data();
          block.bias_step = per_element ? 1 : 0;
          block.bias_row_step = per_element ? stride : 1;
        }
        if (variant != 1) {
          block.residual = residual.data();
          block.residual_row_stride = stride;
        }
        block.out_row_stride = stride;
        for (int64_t count : {1, 7, 15, 16, 17, 31, 33, 70}) {
          std::vector<float> want_f(size, 0.0f);
          std::vector<int16_t> want_i(size, 0);
          ExpectedEpilogue(config, block, count, &want_f, &want_i);
          for (Int16GemmIsa isa : isas) {
            // Sentinels around each row: the path writes exactly `count` elements.
            std::vector<float> got_f(size, 777.0f);
            std::vector<int16_t> got_i(size, 777);
            block.out = int16_out ? static_cast<void*>(got_i.data()) : got_f.data();
            RunInt16Epilogue(isa, config, block, count);
            for (int64_t r = 0; r < rows; ++r) {
              for (int64_t j = 0; j < stride; ++j) {
                const size_t o = static_cast<size_t>(r * stride + j);
                const bool written = j < count;
                bool same = false;
                if (int16_out) {
                  same = got_i[o] == (written ? want_i[o] : 777);
                } else {
                  const float want = written ? want_f[o] : 777.0f;
                  same = std::memcmp(&got_f[o], &want, sizeof(float)) == 0;
                }
                ASSERT_TRUE(same) << Int16GemmIsaName(isa) << " activation "
                                  << static_cast<int>(act) << " int16 " << int16_out << " variant "
                                  << variant << " count " << count << " row " << r << " element "
                                  << j << ": got " << (int16_out ? float(got_i[o]) : got_f[o])
                                  << " want " << (int16_out ? float(want_i[o]) : want_f[o]);
                ++checked;
              }
            }
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 100000);
}

TEST(Int16ConvertTest, VectorConversionsMatchTheReferenceSteps) {
  if (!IsAvx512(BestInt16GemmIsa())) GTEST_SKIP() << "no AVX-512 path on this CPU / ISA limit";
  std::mt19937 rng(1613);
  std::vector<float> floats = SpecialFloats();
  for (float v : RandomValues(&rng, 64, -70000.0f, 70000.0f)) floats.push_back(v);
  struct Params {
    float scale;
    int32_t zero_point;
  };
  // Unit scale (the ties above reach the rounding as they are) and uneven ones.
  const Params params[] = {{1.0f, 0}, {0.0123f, -3}, {3.7f, 5}};
  auto make_ints = [&](DataType t) {
    const int32_t lo = reference::QuantizedMin(t), hi = reference::QuantizedMax(t);
    std::vector<int32_t> v = {lo, hi, 0, lo + 1, hi - 1};
    for (int32_t x : RandomInts(&rng, 91, lo, hi)) v.push_back(x);
    return v;
  };
  auto store = [](DataType t, std::vector<char>* buf, size_t i, int32_t q) {
    if (t == DataType::INT16) {
      const auto v = static_cast<int16_t>(q);
      std::memcpy(buf->data() + 2 * i, &v, 2);
    } else {
      (*buf)[i] = static_cast<char>(q);
    }
  };
  auto load = [](DataType t, const std::vector<char>& buf, size_t i) -> int32_t {
    if (t == DataType::INT16) {
      int16_t v;
      std::memcpy(&v, buf.data() + 2 * i, 2);
      return v;
    }
    if (t == DataType::UINT8) return static_cast<uint8_t>(buf[i]);
    return static_cast<int8_t>(buf[i]);
  };
  int checked = 0;
  // in: FLOAT32 or an integer type; out: FLOAT32 or an integer type (not both float).
  std::vector<DataType> sides = {DataType::FLOAT32, DataType::INT8, DataType::UINT8,
                                 DataType::INT16};
  for (DataType in : sides) {
    for (DataType out : sides) {
      if (in == DataType::FLOAT32 && out == DataType::FLOAT32) continue;
      for (const Params& pin : params) {
        for (const Params& pout : params) {
          internal::ConvertParams p;
          p.in = in;
          p.out = out;
          // Zero points within each integer type's range.
          p.in_scale = pin.scale;
          p.in_zero_point = in == DataType::UINT8 ? std::abs(pin.zero_point) : pin.zero_point;
          p.out_inv_scale = reference::InverseScale(pout.scale);
          p.out_zero_point = out == DataType::UINT8 ? std::abs(pout.zero_point) : pout.zero_point;
          if (out != DataType::FLOAT32) {
            p.lo = reference::QuantizedMin(out);
            p.hi = reference::QuantizedMax(out);
          }
          // The input values.
          std::vector<char> x;
          size_t count = 0;
          std::vector<int32_t> qs;
          if (in == DataType::FLOAT32) {
            count = floats.size();
            x.resize(count * 4);
            std::memcpy(x.data(), floats.data(), count * 4);
          } else {
            qs = make_ints(in);
            count = qs.size();
            x.resize(count * 2);
            for (size_t i = 0; i < count; ++i) store(in, &x, i, qs[i]);
          }
          const size_t out_size = out == DataType::FLOAT32 ? 4 : DataTypeSize(out);
          for (size_t n : {count, size_t{1}, size_t{15}, size_t{16}, size_t{17}, count - 3}) {
            std::vector<char> y((count + 8) * out_size, 0x7B);
            internal::ConvertAvx512(p, x.data(), y.data(), static_cast<int64_t>(n));
            for (size_t i = 0; i < count + 8; ++i) {
              if (i >= n) {
                // Nothing written past the count.
                for (size_t b = 0; b < out_size; ++b) ASSERT_EQ(y[i * out_size + b], 0x7B);
                continue;
              }
              float real = 0.0f;
              if (in == DataType::FLOAT32) {
                real = floats[i];
              } else {
                real = reference::DequantizeValue(qs[i], p.in_scale, p.in_zero_point);
              }
              if (out == DataType::FLOAT32) {
                float got;
                std::memcpy(&got, y.data() + 4 * i, 4);
                ASSERT_EQ(std::memcmp(&got, &real, 4), 0) << DataTypeName(in) << " -> f32, element "
                                                          << i << ": " << got << " vs " << real;
              } else {
                const int32_t want =
                    in == DataType::FLOAT32
                        ? reference::QuantizeValue(real, p.out_inv_scale, p.out_zero_point, out)
                        : reference::RequantizeValue(qs[i], p.in_scale, p.in_zero_point,
                                                     p.out_inv_scale, p.out_zero_point, out);
                ASSERT_EQ(load(out, y, i), want)
                    << DataTypeName(in) << " -> " << DataTypeName(out) << ", element " << i
                    << " (input " << (in == DataType::FLOAT32 ? floats[i] : float(qs[i])) << ")";
              }
              ++checked;
            }
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 10000);
}

// The Quantize kernel on special values, per tensor and per axis (runs of 16 + a tail per
// parameter set on the vector path), bit-exact with reference::Quantize.
TEST(Int16QuantizeKernelTest, SpecialValuesBitExact) {
  std::mt19937 rng(1614);
  const std::vector<int64_t> shape = {2, 3, 37};
  std::vector<float> values = SpecialFloats();
  while (values.size() < static_cast<size_t>(graph::ElementCount(shape))) {
    values.push_back(RandomValues(&rng, 1, -5e4f, 5e4f)[0]);
  }
  const Tensor x = MakeTyped(DataType::FLOAT32, shape, values);
  const graph::QuantParams qs[] = {PerTensor(1.0f, 0), PerTensor(0.75f, 100),
                                   PerAxis({1.0f, 0.5f, 2.0f}, 1, {0, -7, 300})};
  for (const graph::QuantParams& q : qs) {
    graph::Graph g;
    graph::NodeId id = graph::kNoNode;
    ASSERT_TRUE(
        testing::BuildNode(NodeType::kQuantize, {}, {Runtime(x)}, DataType::INT16, q, &g, &id)
            .ok());
    RuntimeRun run;
    const Status st = testing::RunRuntimeNode(g, id, {x}, &run);
    ASSERT_TRUE(st.ok()) << st.ToString();
    reference::QuantizedOutputSpec out;
    out.dtype = DataType::INT16;
    out.quant = q;
    Tensor expected;
    ASSERT_TRUE(reference::Quantize({&x, {}}, out, &expected).ok());
    EXPECT_TRUE(BitExact(run.output, expected)) << q.scales.size() << " scales";
  }
}

// --- Parallel mechanisms ------------------------------------------------------------------------

// Restores automatic parallel execution when a test ends.
struct ParallelModeGuard {
  ~ParallelModeGuard() {
    internal::SetParallelModeForTesting(internal::ParallelMode::kAuto);
    internal::EndTeamBackOffForTesting();
  }
};

// Conv (a batch whose small images share panels and chunks), FullyConnected and MatMul
// large enough for several workers, run serially, with the helper pool and on the OpenMP
// team (when oneDNN has one): all bit-exact with the reference.
TEST(Int16ParallelTest, EveryMechanismIsBitExact) {
  ParallelModeGuard guard;
  std::mt19937 rng(1615);
  // Conv: 8 images of 24 x 14 x 14, 3x3 pad 1 -> 24 channels (8.1M multiply-adds), fused
  // residual and relu, per-channel weights, z_x != 0.
  const std::vector<int64_t> x_shape = {8, 24, 14, 14}, w_shape = {24, 24, 3, 3},
                             y_shape = {8, 24, 14, 14};
  const Tensor x = RandomIntTensor(&rng, DataType::INT16, x_shape, -32768, 32767);
  const Tensor w = RandomIntTensor(&rng, DataType::INT16, w_shape, -32767, 32767);
  const Tensor b = RandomFloatTensor(&rng, {24}, -5.0f, 5.0f);
  const Tensor r = RandomFloatTensor(&rng, y_shape, -9.0f, 9.0f);
  std::vector<float> ws;
  for (int o = 0; o < 24; ++o) ws.push_back(1e-4f * static_cast<float>(1 + o % 5));
  const graph::QuantParams xq = PerTensor(2e-3f, 321), wq = PerAxis(ws, 0);
  graph::AttrMap attrs = ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1, ActivationType::kRelu);
  attrs.SetInt(graph::attr::kFusedSum, 1);
  graph::Graph conv_graph;
  graph::NodeId conv_id = graph::kNoNode;
  ASSERT_TRUE(testing::BuildNode(NodeType::kConv, attrs,
                                 {Runtime(x, xq), Constant(w, wq), Constant(b), Runtime(r)},
                                 DataType::FLOAT32, {}, &conv_graph, &conv_id)
                  .ok());
  reference::ConvParams cp;
  cp.pad_top = cp.pad_bottom = cp.pad_left = cp.pad_right = 1;
  cp.activation.type = ActivationType::kRelu;
  Tensor conv_expected;
  ASSERT_TRUE(reference::Int16Conv2D({&x, xq}, {&w, wq}, &b, &r, cp,
                                     reference::QuantizedOutputSpec(), &conv_expected)
                  .ok());
  // FullyConnected: [64, 512] x [300, 512]^T (9.8M multiply-adds), int16 output.
  const Tensor fx = RandomIntTensor(&rng, DataType::INT16, {64, 512}, -32768, 32767);
  const Tensor fw = RandomIntTensor(&rng, DataType::INT16, {300, 512}, -32767, 32767);
  const graph::QuantParams fxq = PerTensor(1e-3f, -5), fwq = PerTensor(3e-5f),
                           fyq = PerTensor(0.05f, 7);
  graph::Graph fc_graph;
  graph::NodeId fc_id = graph::kNoNode;
  ASSERT_TRUE(testing::BuildNode(NodeType::kFullyConnected, {},
                                 {Runtime(fx, fxq), Constant(fw, fwq), Absent()}, DataType::INT16,
                                 fyq, &fc_graph, &fc_id)
                  .ok());
  reference::QuantizedOutputSpec fc_out;
  fc_out.dtype = DataType::INT16;
  fc_out.quant = fyq;
  Tensor fc_expected;
  ASSERT_TRUE(reference::Int16FullyConnected({&fx, fxq}, {&fw, fwq}, nullptr, nullptr,
                                             reference::FusedActivation(), fc_out, &fc_expected)
                  .ok());
  // MatMul with a single panel of columns (the parts split the rows): [4, 300, 700] x
  // [700, 20] (16.8M multiply-adds), a transposed.
  const Tensor ma = RandomIntTensor(&rng, DataType::INT16, {4, 700, 300}, -32768, 32767);
  const Tensor mb = RandomIntTensor(&rng, DataType::INT16, {700, 20}, -32767, 32767);
  const graph::QuantParams maq = PerTensor(1e-3f, 9), mbq = PerTensor(2e-5f);
  graph::AttrMap mm_attrs;
  mm_attrs.SetInt(graph::attr::kTransposeA, 1);
  mm_attrs.SetInt(graph::attr::kTransposeB, 0);
  graph::Graph mm_graph;
  graph::NodeId mm_id = graph::kNoNode;
  const Status mm_built = testing::BuildNode(NodeType::kMatMul, mm_attrs,
                                             {Runtime(ma, maq), Constant(mb, mbq), Absent()},
                                             DataType::FLOAT32, {}, &mm_graph, &mm_id);
  ASSERT_TRUE(mm_built.ok()) << mm_built.ToString();
  reference::MatMulParams mp;
  mp.transpose_a = true;
  Tensor mm_expected;
  ASSERT_TRUE(reference::Int16MatMul({&ma, maq}, {&mb, mbq}, nullptr, mp,
                                     reference::QuantizedOutputSpec(), &mm_expected)
                  .ok());

  for (internal::ParallelMode mode :
       {internal::ParallelMode::kSerial, internal::ParallelMode::kPool,
        internal::ParallelMode::kOpenMp, internal::ParallelMode::kAuto}) {
    internal::SetParallelModeForTesting(mode);
    SCOPED_TRACE(static_cast<int>(mode));
    RuntimeRun conv_run, fc_run, mm_run;
    Status st = testing::RunRuntimeNode(conv_graph, conv_id, {x, r}, &conv_run);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_TRUE(BitExact(conv_run.output, conv_expected));
    st = testing::RunRuntimeNode(fc_graph, fc_id, {fx}, &fc_run);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_TRUE(BitExact(fc_run.output, fc_expected));
    st = testing::RunRuntimeNode(mm_graph, mm_id, {ma}, &mm_run);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_TRUE(BitExact(mm_run.output, mm_expected));
  }
}

// RunParallel runs every part exactly once on valid workers, in every mode.
TEST(Int16ParallelTest, EveryPartRunsOnce) {
  ParallelModeGuard guard;
  struct Counts {
    std::vector<std::atomic<int>> runs;
    std::atomic<int> bad_worker{0};
    int workers = 1;
    explicit Counts(size_t n) : runs(n) {}
  };
  for (internal::ParallelMode mode :
       {internal::ParallelMode::kSerial, internal::ParallelMode::kPool,
        internal::ParallelMode::kOpenMp, internal::ParallelMode::kAuto}) {
    internal::SetParallelModeForTesting(mode);
    const int workers = PrepareParallelWorkers(int64_t{1} << 30);
    EXPECT_GE(workers, 1);
    if (mode == internal::ParallelMode::kSerial) {
      EXPECT_EQ(workers, 1);
    }
    EXPECT_EQ(PrepareParallelWorkers(1000), 1) << "tiny work stays on the caller";
    for (int64_t parts : {1, 2, 3, 17, 200}) {
      Counts counts(static_cast<size_t>(parts));
      counts.workers = workers;
      RunParallel(
          [](void* context, int64_t part, int worker) {
            auto* c = static_cast<Counts*>(context);
            c->runs[static_cast<size_t>(part)].fetch_add(1);
            if (worker < 0 || worker >= c->workers) c->bad_worker.fetch_add(1);
          },
          &counts, parts, workers);
      for (int64_t p = 0; p < parts; ++p) {
        EXPECT_EQ(counts.runs[static_cast<size_t>(p)].load(), 1) << "part " << p << " of " << parts;
      }
      EXPECT_EQ(counts.bad_worker.load(), 0);
    }
  }
}

// kAuto backs off from the OpenMP team for a while after three runs in a row in which the
// caller waited more than 2 ms for a team thread (here one that sleeps 20 ms in its part),
// and then uses the pool; an occasional late run does not. Every part still runs once.
TEST(Int16ParallelTest, AutoBacksOffFromALateTeam) {
  ParallelModeGuard guard;
  internal::SetParallelModeForTesting(internal::ParallelMode::kAuto);
  internal::EndTeamBackOffForTesting();
  const int workers = PrepareParallelWorkers(int64_t{1} << 30);
  if (!internal::HasOpenMpTeam() || workers < 2) {
    GTEST_SKIP() << "no OpenMP team with several threads";
  }
  struct Slow {
    std::atomic<bool> other_started{false};
    std::atomic<int> runs{0};
  };
  // Part 0 (the caller's first claim) waits until another worker has claimed part 1 (at most
  // 10 s: a busy machine may be slow to schedule it), which then sleeps 20 ms.
  auto late_run = [&] {
    Slow slow;
    RunParallel(
        [](void* context, int64_t part, int worker) {
          auto* s = static_cast<Slow*>(context);
          s->runs.fetch_add(1);
          if (worker != 0) {
            s->other_started.store(true);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          } else if (part == 0) {
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
            while (!s->other_started.load() && std::chrono::steady_clock::now() < deadline) {
              std::this_thread::yield();
            }
          }
        },
        &slow, 2, workers);
    EXPECT_EQ(slow.runs.load(), 2);
    return slow.other_started.load();
  };
  ASSERT_TRUE(late_run()) << "no team thread ran a part";
  ASSERT_TRUE(late_run());
  EXPECT_FALSE(internal::TeamBackOffActiveForTesting()) << "two late runs";
  ASSERT_TRUE(late_run());
  EXPECT_TRUE(internal::TeamBackOffActiveForTesting()) << "three late runs in a row";
  internal::EndTeamBackOffForTesting();
  EXPECT_FALSE(internal::TeamBackOffActiveForTesting());
}

// A batch of small images (4 x 4 outputs: several images per panel and chunks ending
// inside an image), an odd channel count (a phantom channel), stride 2 with padding, int16
// output, residual; and a 1x1 stride-1 convolution over an odd channel count.
TEST(Int16ConvKernelTest, BatchesOfSmallImagesBitExact) {
  std::mt19937 rng(1616);
  std::vector<ConvCase> cases;
  {
    ConvCase c;
    c.label = "batch 7, 4x4 outputs, stride 2, pad 1, 5 channels, int16 out, residual";
    c.x_shape = {7, 5, 7, 7};
    c.oc = 13, c.kh = 3, c.kw = 3;
    c.strides = {2, 2};
    c.pads = {1, 1, 1, 1};
    c.per_channel = true;
    c.z_x = -7;
    c.residual = true;
    c.act = ActivationType::kClip;
    c.alpha = -30.0f, c.beta = 50.0f;
    c.int16_out = true;
    cases.push_back(c);
  }
  {
    ConvCase c;
    c.label = "batch 3, 1x1 stride 1, 3 channels, leaky relu";
    c.x_shape = {3, 3, 9, 11};
    c.oc = 11;
    c.act = ActivationType::kLeakyRelu;
    c.alpha = 0.1f;
    cases.push_back(c);
  }
  {
    ConvCase c;
    c.label = "batch 40 of 2x2 images, 1 channel (stem-like), relu6";
    c.x_shape = {40, 1, 2, 2};
    c.oc = 24, c.kh = 3, c.kw = 3;
    c.pads = {1, 1, 1, 1};
    c.act = ActivationType::kRelu6;
    cases.push_back(c);
  }
  for (const ConvCase& c : cases) RunConvCase(c, &rng);
}

// --- Engine
// ----------------------------------------------------------------------------------------

// x (f32) -> Quantize INT16 -> Conv INT16 (INT16 out) -> Conv INT16 (f32 out, relu) -> y:
// INT16 tensors flow between the kernels in their plain INT16 desc, the context inserts no
// reorder, and the result is bit-identical with the reference chain.
TEST(Int16EngineTest, QuantizeConvConvChainMatchesReference) {
  std::mt19937 rng(1608);
  auto g = std::make_shared<graph::Graph>();
  const graph::TensorId x_id = AddInput(g.get(), "x", {1, 4, 10, 10});
  const graph::QuantParams q0 = PerTensor(0.001f, 0);
  const graph::QuantParams q1 = PerTensor(0.002f, 10);
  auto add_node = [&](NodeType type, const std::string& name, std::vector<graph::TensorId> in,
                      const graph::AttrMap& attrs, DataType out_type, graph::QuantParams q) {
    const graph::TensorId out = AddOp(g.get(), type, name, std::move(in), attrs, name + "_out");
    SetQuantized(g.get(), out, out_type, std::move(q));
    return out;
  };
  const graph::AttrMap conv = ConvAttrs({1, 1}, {1, 1, 1, 1});
  const Tensor w1 = RandomIntTensor(&rng, DataType::INT16, {6, 4, 3, 3}, -32767, 32767);
  const Tensor w2 = RandomIntTensor(&rng, DataType::INT16, {3, 6, 3, 3}, -32767, 32767);
  const graph::QuantParams wq1 = PerTensor(1e-4f), wq2 = PerAxis({1e-4f, 2e-4f, 3e-4f}, 0);
  const graph::TensorId w1_id =
      g->AddConstant("w1", DataType::INT16, {6, 4, 3, 3}, w1.GetData(), w1.GetSizeInBytes());
  const graph::TensorId w2_id =
      g->AddConstant("w2", DataType::INT16, {3, 6, 3, 3}, w2.GetData(), w2.GetSizeInBytes());
  g->tensors[static_cast<size_t>(w1_id)].quant = wq1;
  g->tensors[static_cast<size_t>(w2_id)].quant = wq2;
  const graph::TensorId q = add_node(NodeType::kQuantize, "quant", {x_id}, {}, DataType::INT16, q0);
  const graph::TensorId c1 =
      add_node(NodeType::kConv, "conv1", {q, w1_id}, conv, DataType::INT16, q1);
  graph::AttrMap conv_relu = conv;
  conv_relu.SetInt(graph::attr::kFusedActivation, static_cast<int64_t>(ActivationType::kRelu));
  const graph::TensorId y =
      add_node(NodeType::kConv, "conv2", {c1, w2_id}, conv_relu, DataType::FLOAT32, {});
  g->outputs = {y};
  Status st = graph::InferShapes(g.get());
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::unique_ptr<IEngine> engine;
  st = CreateEngine(g, &engine);
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::unique_ptr<IContext> context;
  ASSERT_TRUE(engine->CreateIContext(&context).ok());
  Tensor input = RandomFloatTensor(&rng, {1, 4, 10, 10}, -30.0f, 30.0f);
  input.SetName("x");
  std::vector<Tensor> outputs;
  st = context->Execute({input}, &outputs);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(outputs.size(), 1u);
  std::vector<ReorderRecord> reorders;
  ASSERT_TRUE(GetLastPlanReorders(*context, &reorders).ok());
  for (const ReorderRecord& r : reorders) ADD_FAILURE() << "unexpected reorder " << r.ToString();

  // Reference chain.
  reference::QuantizedOutputSpec s0, s1;
  s0.dtype = s1.dtype = DataType::INT16;
  s0.quant = q0;
  s1.quant = q1;
  Tensor r0, r1, r2;
  ASSERT_TRUE(reference::Quantize({&input, {}}, s0, &r0).ok());
  reference::ConvParams p;
  p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
  ASSERT_TRUE(reference::Int16Conv2D({&r0, q0}, {&w1, wq1}, nullptr, nullptr, p, s1, &r1).ok());
  p.activation.type = ActivationType::kRelu;
  ASSERT_TRUE(reference::Int16Conv2D({&r1, q1}, {&w2, wq2}, nullptr, nullptr, p,
                                     reference::QuantizedOutputSpec(), &r2)
                  .ok());
  EXPECT_TRUE(BitExact(outputs[0], r2));
}

// Two contexts of one engine executing at the same time on two threads, with the shared
// helper pool (whichever context does not get it runs all its parts itself) and with the
// OpenMP team. Every result must still be bit-identical.
TEST(Int16EngineTest, ConcurrentContextsShareTheHelperThread) {
  ParallelModeGuard guard;
  std::mt19937 rng(1610);
  auto g = std::make_shared<graph::Graph>();
  const graph::TensorId x_id = AddInput(g.get(), "x", {1, 32, 32, 32});
  const graph::QuantParams xq = PerTensor(0.01f, 0), wq = PerTensor(1e-4f);
  const Tensor w = RandomIntTensor(&rng, DataType::INT16, {32, 32, 3, 3}, -32767, 32767);
  const graph::TensorId w_id = AddTypedConstant(g.get(), "w", w, wq);
  const graph::TensorId q_id = AddOp(g.get(), NodeType::kQuantize, "quant", {x_id}, {}, "q");
  SetQuantized(g.get(), q_id, DataType::INT16, xq);
  const graph::TensorId y_id =
      AddOp(g.get(), NodeType::kConv, "conv", {q_id, w_id}, ConvAttrs({1, 1}, {1, 1, 1, 1}), "y");
  g->outputs = {y_id};
  ASSERT_TRUE(graph::InferShapes(g.get()).ok());
  std::unique_ptr<IEngine> engine;
  const Status st = CreateEngine(g, &engine);
  ASSERT_TRUE(st.ok()) << st.ToString();

  std::vector<Tensor> inputs;
  std::vector<Tensor> expected;
  for (int t = 0; t < 2; ++t) {
    Tensor in = RandomFloatTensor(&rng, {1, 32, 32, 32}, -300.0f, 300.0f);
    in.SetName("x");
    reference::QuantizedOutputSpec spec;
    spec.dtype = DataType::INT16;
    spec.quant = xq;
    Tensor xq16, out;
    ASSERT_TRUE(reference::Quantize({&in, {}}, spec, &xq16).ok());
    reference::ConvParams p;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    ASSERT_TRUE(reference::Int16Conv2D({&xq16, xq}, {&w, wq}, nullptr, nullptr, p,
                                       reference::QuantizedOutputSpec(), &out)
                    .ok());
    inputs.push_back(in);
    expected.push_back(out);
  }
  for (internal::ParallelMode mode : {internal::ParallelMode::kAuto, internal::ParallelMode::kPool,
                                      internal::ParallelMode::kOpenMp}) {
    internal::SetParallelModeForTesting(mode);
    std::vector<int> mismatches(2, 0), failures(2, 0);
    auto worker = [&](int t) {
      std::unique_ptr<IContext> context;
      if (!engine->CreateIContext(&context).ok()) {
        ++failures[static_cast<size_t>(t)];
        return;
      }
      for (int r = 0; r < 8; ++r) {
        std::vector<Tensor> outputs;
        if (!context->Execute({inputs[static_cast<size_t>(t)]}, &outputs).ok() ||
            outputs.size() != 1) {
          ++failures[static_cast<size_t>(t)];
          continue;
        }
        if (!BitExact(outputs[0], expected[static_cast<size_t>(t)])) {
          ++mismatches[static_cast<size_t>(t)];
        }
      }
    };
    std::thread t0(worker, 0), t1(worker, 1);
    t0.join();
    t1.join();
    EXPECT_EQ(failures, (std::vector<int>{0, 0})) << static_cast<int>(mode);
    EXPECT_EQ(mismatches, (std::vector<int>{0, 0})) << static_cast<int>(mode);
  }
}

}  // namespace
}  // namespace qsdk::runtime
