// Pool kernel (oneDNN pooling) against the reference: every mode, random geometry
// including asymmetric pads and ceil_mode, plain and blocked (nChw16c) inputs; and the
// average-with-padding + ceil_mode case, where oneDNN's divisor needs the correction.
#include <gtest/gtest.h>

#include <random>

#include "runtime_ops/kernel_runner.h"

namespace qsdk::runtime::testing {
namespace {

using dnnl::memory;

// Max pooling selects an input value: exact. Averages sum at most 16 values in
// [-1, 1] in float (oneDNN) vs double (reference) and may be scaled once more by the
// divisor correction: the error is below 16 * 2^-24 * 16 + a few ulps ~ 2e-5 worst case
// relative to the largest input, so atol 2e-5. A wrong divisor (e.g. 9 instead of 6)
// changes a mean by tens of percent of its value, ~1e-2 typically.
constexpr float kAvgAtol = 2e-5f;

struct PoolGeometry {
  PoolMode mode;
  int64_t kh, kw, sh, sw, top, bottom, left, right;
  bool include_pad, ceil_mode;
};

OpSpec PoolSpec(const PoolGeometry& g, std::vector<int64_t> shape, std::mt19937* rng) {
  return {NodeType::kPool,
          PoolAttrs(g.mode, {g.kh, g.kw}, {g.sh, g.sw}, {g.top, g.bottom, g.left, g.right},
                    g.include_pad, g.ceil_mode),
          {RandomInput(rng, std::move(shape))}};
}

std::string Describe(const PoolGeometry& g, const std::vector<int64_t>& shape) {
  return StrCat("mode ", static_cast<int>(g.mode), " x ", graph::ShapeToString(shape), " k [", g.kh,
                ",", g.kw, "] s [", g.sh, ",", g.sw, "] pads [", g.top, ",", g.bottom, ",", g.left,
                ",", g.right, "] include_pad ", g.include_pad, " ceil ", g.ceil_mode);
}

void ExpectMatches(const OpSpec& spec, bool max_mode) {
  KernelRun run;
  ASSERT_NO_FATAL_FAILURE(ExpectMatchesReference(spec, max_mode ? 0.0f : kAvgAtol, 0.0f, &run));
  // Pooling takes any layout as given.
  EXPECT_EQ(run.required_input_descs[0], run.given_input_descs[0]);
}

TEST(PoolKernel, RandomGeometryMatchesReferencePlainAndBlocked) {
  std::mt19937 rng(2024);
  std::uniform_int_distribution<int> mode_dist(1, 4), k_dist(1, 4), s_dist(1, 3), hw_dist(1, 11),
      c_dist(1, 20), bit(0, 1);
  int ran = 0;
  while (ran < 48) {
    PoolGeometry g{};
    g.mode = static_cast<PoolMode>(mode_dist(rng));
    g.kh = k_dist(rng);
    g.kw = k_dist(rng);
    g.sh = s_dist(rng);
    g.sw = s_dist(rng);
    g.top = std::uniform_int_distribution<int64_t>(0, g.kh - 1)(rng);
    g.bottom = std::uniform_int_distribution<int64_t>(0, g.kh - 1)(rng);
    g.left = std::uniform_int_distribution<int64_t>(0, g.kw - 1)(rng);
    g.right = std::uniform_int_distribution<int64_t>(0, g.kw - 1)(rng);
    g.include_pad = bit(rng);
    g.ceil_mode = bit(rng);
    const std::vector<int64_t> shape = {1 + bit(rng), c_dist(rng), hw_dist(rng), hw_dist(rng)};
    // Skip geometries where no window fits (shape inference rejects them).
    if (shape[2] + g.top + g.bottom < g.kh || shape[3] + g.left + g.right < g.kw) continue;
    ++ran;
    SCOPED_TRACE(Describe(g, shape));
    const bool max_mode = g.mode == PoolMode::kMax || g.mode == PoolMode::kGlobalMax;
    OpSpec spec = PoolSpec(g, shape, &rng);
    ExpectMatches(spec, max_mode);
    spec.inputs[0].layout = memory::format_tag::nChw16c;
    ExpectMatches(spec, max_mode);
  }
}

TEST(PoolKernel, AverageIncludingPaddingWithCeilModeUsesTheReferenceDivisor) {
  // H = W = 6, kernel 3, stride 2, pads 1: ceil_mode gives OH = OW = 4 and the last
  // window [5, 8) reaches one row past the declared padding (row 7), which must not
  // count: its divisor is 2 * 3 = 6 (corner: 2 * 2 = 4), not 9.
  const PoolGeometry g{PoolMode::kAverage, 3, 3, 2, 2, 1, 1, 1, 1, true, true};
  for (auto layout : {memory::format_tag::undef, memory::format_tag::nChw16c}) {
    SCOPED_TRACE(layout == memory::format_tag::undef ? "plain" : "nChw16c");
    std::mt19937 rng(5);
    OpSpec spec = PoolSpec(g, {1, 3, 6, 6}, &rng);
    spec.inputs[0].data.assign(spec.inputs[0].data.size(), 1.0f);  // All ones.
    spec.inputs[0].layout = layout;
    KernelRunner runner;
    ASSERT_TRUE(runner.Build(spec).ok());
    KernelRun run;
    const Status status = runner.RunKernel(&run);
    ASSERT_TRUE(status.ok()) << status.ToString();
    ASSERT_EQ(run.output_shape, (std::vector<int64_t>{1, 3, 4, 4}));
    // Window rows: [-1,2) 3 in padded input, [1,4) 3, [3,6) 3, [5,8) only 5..6 = 2.
    // Inside the input: 2, 3, 3, 1 rows. Mean of ones with padding counted =
    // inside / padded, e.g. first corner 4 / 9, last corner 1 / 4.
    const float rows_inside[4] = {2, 3, 3, 1};
    const float rows_padded[4] = {3, 3, 3, 2};
    for (int c = 0; c < 3; ++c) {
      for (int y = 0; y < 4; ++y) {
        for (int x = 0; x < 4; ++x) {
          const float expected =
              rows_inside[y] * rows_inside[x] / (rows_padded[y] * rows_padded[x]);
          // One division vs a division and a correction factor: 2 ulps.
          EXPECT_NEAR(run.output[(c * 4 + y) * 4 + x], expected, 2.5e-7f)
              << "c " << c << " y " << y << " x " << x;
        }
      }
    }
  }
}

TEST(PoolKernel, RandomAverageIncludingPaddingWithCeilMode) {
  // The case oneDNN cannot express directly (see pool.cc): average, count_include_pad,
  // ceil_mode, on random geometry; at least some cases must reach past the padding.
  std::mt19937 rng(77);
  std::uniform_int_distribution<int> k_dist(2, 5), s_dist(2, 3), hw_dist(3, 12), c_dist(1, 20);
  int past_padding = 0;
  for (int trial = 0; trial < 30; ++trial) {
    PoolGeometry g{PoolMode::kAverage,
                   k_dist(rng),
                   k_dist(rng),
                   s_dist(rng),
                   s_dist(rng),
                   0,
                   0,
                   0,
                   0,
                   true,
                   true};
    g.top = std::uniform_int_distribution<int64_t>(0, g.kh - 1)(rng);
    g.bottom = std::uniform_int_distribution<int64_t>(0, g.kh - 1)(rng);
    g.left = std::uniform_int_distribution<int64_t>(0, g.kw - 1)(rng);
    g.right = std::uniform_int_distribution<int64_t>(0, g.kw - 1)(rng);
    const std::vector<int64_t> shape = {1, c_dist(rng), hw_dist(rng) + 2, hw_dist(rng) + 2};
    // Does the last window reach past the declared bottom / right padding?
    auto reaches_past = [](int64_t in, int64_t begin, int64_t end, int64_t k, int64_t s) {
      const int64_t span = in + begin + end - k;
      int64_t out = span / s + (span % s != 0 ? 1 : 0) + 1;
      if ((out - 1) * s >= in + begin) --out;
      return (out - 1) * s - begin + k > in + end;
    };
    past_padding += reaches_past(shape[2], g.top, g.bottom, g.kh, g.sh) ||
                    reaches_past(shape[3], g.left, g.right, g.kw, g.sw);
    SCOPED_TRACE(Describe(g, shape));
    OpSpec spec = PoolSpec(g, shape, &rng);
    ExpectMatches(spec, false);
    spec.inputs[0].layout = memory::format_tag::nChw16c;
    ExpectMatches(spec, false);
  }
  EXPECT_GE(past_padding, 10);
}

TEST(PoolKernel, CeilModeDropsWindowStartingInPadding) {
  // H = 5, kernel 2, stride 2, pads 0/1: ceil gives 3 windows, starts 0, 2, 4; all
  // start inside the input. With H = 4 and bottom pad 1, ceil((4+1-2)/2)+1 = 3 but the
  // third window would start at 4 = H + top (in the padding) and is dropped.
  std::mt19937 rng(9);
  for (const auto& shape : {std::vector<int64_t>{1, 2, 5, 5}, std::vector<int64_t>{1, 2, 4, 4}}) {
    for (PoolMode mode : {PoolMode::kMax, PoolMode::kAverage}) {
      for (bool include_pad : {false, true}) {
        const PoolGeometry g{mode, 2, 2, 2, 2, 0, 1, 0, 1, include_pad, true};
        SCOPED_TRACE(Describe(g, shape));
        ExpectMatches(PoolSpec(g, shape, &rng), mode == PoolMode::kMax);
      }
    }
  }
}

TEST(PoolKernel, GlobalModesPoolWholePlane) {
  std::mt19937 rng(31);
  for (PoolMode mode : {PoolMode::kGlobalAverage, PoolMode::kGlobalMax}) {
    // Geometry attributes are ignored by the global modes, even odd ones.
    const PoolGeometry g{mode, 1, 1, 1, 1, 0, 0, 0, 0, true, true};
    for (auto layout : {memory::format_tag::undef, memory::format_tag::nChw16c}) {
      OpSpec spec = PoolSpec(g, {2, 17, 7, 9}, &rng);
      spec.inputs[0].layout = layout;
      KernelRun run;
      ASSERT_NO_FATAL_FAILURE(ExpectMatchesReference(spec, kAvgAtol, 0.0f, &run));
      EXPECT_EQ(run.output_shape, (std::vector<int64_t>{2, 17, 1, 1}));
    }
  }
}

TEST(PoolKernel, FactoryRejectsPadAsLargeAsKernel) {
  std::mt19937 rng(1);
  const PoolGeometry g{PoolMode::kMax, 2, 2, 1, 1, 2, 0, 0, 0, false, false};
  KernelRunner runner;
  ASSERT_TRUE(runner.BuildUnchecked(PoolSpec(g, {1, 1, 4, 4}, &rng), {1, 1, 5, 3}).ok());
  std::unique_ptr<Kernel> kernel;
  const Status status = runner.CreateKernel(&kernel);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("node 'op' (Pool)"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("pads"), std::string::npos) << status.message();
}

TEST(PoolKernel, InstantiateRejectsOutputShapeDisagreement) {
  std::mt19937 rng(1);
  const PoolGeometry g{PoolMode::kMax, 2, 2, 2, 2, 0, 0, 0, 0, false, false};
  KernelRunner runner;
  ASSERT_TRUE(runner.BuildUnchecked(PoolSpec(g, {1, 1, 4, 4}, &rng), {1, 1, 3, 3}).ok());
  KernelRun run;
  const Status status = runner.RunKernel(&run);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("[1,1,3,3]"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace qsdk::runtime::testing
