// The range algorithms on known distributions: min-max returns the true range; on a
// long-tailed distribution entropy and percentile clip the tail; the MSE threshold beats
// min-max on the empirical quantization error; the closed-form error is exact on hand
// cases.
#include "calib/algorithms.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "calib/statistics.h"

namespace qsdk::calib {
namespace {

// Feeds `values` in batches of 10000, as calibration does.
TensorStatistics Collect(const std::vector<float>& values, int bins = 2048) {
  TensorStatistics stats(bins);
  const size_t batch = 10000;
  for (size_t i = 0; i < values.size(); i += batch) {
    const size_t n = std::min(batch, values.size() - i);
    EXPECT_TRUE(stats.Add(values.data() + i, {static_cast<int64_t>(n)}).ok());
  }
  return stats;
}

// 200000 N(0, 1) values plus 10 outliers of magnitude 60..100 spread among them.
std::vector<float> GaussianWithOutliers() {
  std::mt19937 rng(1234);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(200000);
  for (float& x : v) x = normal(rng);
  for (int k = 0; k < 10; ++k) {
    v[static_cast<size_t>(k) * 19997 + 5] = (k % 2 == 0 ? 1.0f : -1.0f) * (60.0f + 4.0f * k);
  }
  return v;
}

std::vector<float> Laplace(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::exponential_distribution<float> exponential(1.0f);
  std::bernoulli_distribution sign(0.5);
  std::vector<float> v(n);
  for (float& x : v) x = (sign(rng) ? 1.0f : -1.0f) * exponential(rng);
  return v;
}

// Mean squared error of symmetric int8 quantization with threshold t: scale t / 127,
// round to nearest, saturate to [-127, 127].
double EmpiricalQuantizationMse(const std::vector<float>& v, double t) {
  const double scale = t / 127.0;
  double sum = 0.0;
  for (float x : v) {
    const double q = std::clamp(std::nearbyint(x / scale), -127.0, 127.0);
    const double e = x - q * scale;
    sum += e * e;
  }
  return sum / static_cast<double>(v.size());
}

CalibrationOptions WithAlgorithm(CalibrationAlgorithm a) {
  CalibrationOptions o;
  o.algorithm = a;
  return o;
}

TEST(AlgorithmsTest, MinMaxReturnsTheTrueRange) {
  const std::vector<float> v = GaussianWithOutliers();
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  graph::TensorRange r;
  ASSERT_TRUE(ComputeRange(Collect(v), WithAlgorithm(CalibrationAlgorithm::kMinMax), &r).ok());
  // Exact: the range is the observed extremes themselves.
  EXPECT_EQ(r.axis, -1);
  EXPECT_EQ(r.min, std::vector<float>{*lo});
  EXPECT_EQ(r.max, std::vector<float>{*hi});
  EXPECT_FALSE(r.manual);
}

TEST(AlgorithmsTest, RangesAlwaysContainZero) {
  const std::vector<float> positive = {0.5f, 2.0f, 3.0f};
  const std::vector<float> negative = {-0.5f, -2.0f};
  for (CalibrationAlgorithm a : {CalibrationAlgorithm::kMinMax, CalibrationAlgorithm::kEntropy,
                                 CalibrationAlgorithm::kPercentile, CalibrationAlgorithm::kMse}) {
    graph::TensorRange r;
    ASSERT_TRUE(ComputeRange(Collect(positive), WithAlgorithm(a), &r).ok());
    EXPECT_EQ(r.min[0], 0.0f) << CalibrationAlgorithmName(a);
    EXPECT_GT(r.max[0], 0.0f) << CalibrationAlgorithmName(a);
    ASSERT_TRUE(ComputeRange(Collect(negative), WithAlgorithm(a), &r).ok());
    EXPECT_LT(r.min[0], 0.0f) << CalibrationAlgorithmName(a);
    EXPECT_EQ(r.max[0], 0.0f) << CalibrationAlgorithmName(a);
  }
  graph::TensorRange r;
  ASSERT_TRUE(ComputeRange(Collect({1.0f, 3.0f}), WithAlgorithm(CalibrationAlgorithm::kMinMax),
                           &r).ok());
  EXPECT_EQ(r.min[0], 0.0f);
  EXPECT_EQ(r.max[0], 3.0f);
}

TEST(AlgorithmsTest, AllZeroTensorGetsTheEmptyRangeZeroZero) {
  const std::vector<float> zeros(100, 0.0f);
  for (CalibrationAlgorithm a : {CalibrationAlgorithm::kMinMax, CalibrationAlgorithm::kEntropy,
                                 CalibrationAlgorithm::kPercentile, CalibrationAlgorithm::kMse}) {
    graph::TensorRange r;
    ASSERT_TRUE(ComputeRange(Collect(zeros), WithAlgorithm(a), &r).ok());
    EXPECT_EQ(r.min[0], 0.0f);
    EXPECT_EQ(r.max[0], 0.0f);
  }
}

TEST(AlgorithmsTest, NoValueIsAnError) {
  graph::TensorRange r;
  EXPECT_FALSE(ComputeRange(TensorStatistics(128), CalibrationOptions(), &r).ok());
}

TEST(AlgorithmsTest, PerChannelMinMax) {
  TensorStatistics stats(128);
  const std::vector<float> x = {1, 2, -1, -2, 5, 3};  // [1, 3, 2]
  ASSERT_TRUE(stats.Add(x.data(), {1, 3, 2}).ok());
  CalibrationOptions o = WithAlgorithm(CalibrationAlgorithm::kMinMax);
  o.per_channel = true;
  graph::TensorRange r;
  ASSERT_TRUE(ComputeRange(stats, o, &r).ok());
  EXPECT_EQ(r.axis, 1);
  EXPECT_EQ(r.min, (std::vector<float>{0, -2, 0}));  // each range contains 0
  EXPECT_EQ(r.max, (std::vector<float>{2, 0, 5}));
}

TEST(AlgorithmsTest, EntropyClipsALongTail) {
  const std::vector<float> v = GaussianWithOutliers();
  const TensorStatistics stats = Collect(v);
  graph::TensorRange r;
  ASSERT_TRUE(ComputeRange(stats, WithAlgorithm(CalibrationAlgorithm::kEntropy), &r).ok());
  const float amax = stats.abs_max();  // 96
  // The 10 outliers are 0.005% of the values: the KL threshold ignores them (well below
  // the max) but keeps the Gaussian body (|x| < 3 holds 99.7% of it).
  EXPECT_LT(r.max[0], 0.25f * amax);
  EXPECT_GT(r.max[0], 3.0f);
  EXPECT_LT(r.min[0], -3.0f);
  EXPECT_EQ(r.min[0], -r.max[0]);  // symmetric threshold, both extremes beyond it
}

TEST(AlgorithmsTest, EntropyKeepsADistributionWithoutTail) {
  // Uniform on [-1, 1]: nothing to clip; the KL optimum is the whole range (up to the
  // last few bins, where P and Q barely differ).
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> v(100000);
  for (float& x : v) x = uniform(rng);
  const TensorStatistics stats = Collect(v);
  const double t = EntropyThreshold(stats.histogram(), kEntropyQuantizedBins);
  EXPECT_GT(t, 0.9 * stats.abs_max());
}

TEST(AlgorithmsTest, PercentileMatchesTheEmpiricalQuantileAndClipsTheTail) {
  const std::vector<float> v = GaussianWithOutliers();
  const TensorStatistics stats = Collect(v);
  std::vector<float> magnitudes(v.size());
  std::transform(v.begin(), v.end(), magnitudes.begin(), [](float x) { return std::fabs(x); });
  std::sort(magnitudes.begin(), magnitudes.end());
  for (double p : {99.0, 99.9, 99.99}) {
    const double t = PercentileThreshold(stats.histogram(), p);
    const auto k = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size()))) - 1;
    // Interpolating inside a bin is exact up to one bin width.
    EXPECT_NEAR(t, magnitudes[k], stats.histogram().bin_width()) << p;
  }
  CalibrationOptions o = WithAlgorithm(CalibrationAlgorithm::kPercentile);
  o.percentile = 99.99;
  graph::TensorRange r;
  ASSERT_TRUE(ComputeRange(stats, o, &r).ok());
  EXPECT_LT(r.max[0], 5.0f);  // N(0,1)'s 99.995% |x| quantile is ~4.06; the max is 96
  EXPECT_GT(r.max[0], 3.5f);
  o.percentile = 100.0;
  ASSERT_TRUE(ComputeRange(stats, o, &r).ok());
  EXPECT_EQ(r.max[0], stats.max());  // 100% keeps everything
}

TEST(AlgorithmsTest, ExpectedQuantizationErrorHandCases) {
  // One bin [0, 1) holding one value, spread uniformly.
  Histogram h;
  h.counts = {1};
  h.range = 1.0;
  // Grid {0, 1}: integral of (x - round(x))^2 over [0, 1] = 1/12.
  EXPECT_NEAR(ExpectedQuantizationError(h, 0, 1.0, 1), 1.0 / 12.0, 1e-12);
  // Grid {0, 0.5}: rounding over [0, 0.5] = 0.5^3 / 12; clipping over [0.5, 1] =
  // 0.5^3 / 3. (1e-12: closed-form double arithmetic.)
  EXPECT_NEAR(ExpectedQuantizationError(h, 0, 0.5, 1), 0.125 / 12.0 + 0.125 / 3.0, 1e-12);
  // Grid of 4 steps over [0, 1]: four periods of step^3 / 12.
  EXPECT_NEAR(ExpectedQuantizationError(h, 0, 1.0, 4), 4 * std::pow(0.25, 3) / 12.0, 1e-12);
  // An exact zero costs nothing.
  EXPECT_EQ(ExpectedQuantizationError(h, 1, 1.0, 1), 0.0);
}

TEST(AlgorithmsTest, MseThresholdBeatsMinMaxOnALaplaceDistribution) {
  const std::vector<float> v = Laplace(200000, 99);
  const TensorStatistics stats = Collect(v);
  const double amax = stats.abs_max();
  const double t = MseThreshold(stats.histogram(), stats.zeros(), kSignedLevels);
  EXPECT_LT(t, 0.95 * amax);  // the tail is clipped
  const double mse_at_t = EmpiricalQuantizationMse(v, t);
  const double mse_at_max = EmpiricalQuantizationMse(v, amax);
  // Laplace(1) with n = 2e5: max ~12.5; the optimum (~10) saves ~20% of the error.
  EXPECT_LT(mse_at_t, 0.95 * mse_at_max) << "t=" << t << " amax=" << amax;
  // The histogram estimate tracks the empirical error (bins are 10x finer than the
  // quantization step here, so the uniform-within-bin assumption is accurate to a few %).
  EXPECT_NEAR(ExpectedQuantizationError(stats.histogram(), stats.zeros(), t, kSignedLevels),
              mse_at_t, 0.05 * mse_at_t);
  graph::TensorRange r;
  ASSERT_TRUE(ComputeRange(stats, WithAlgorithm(CalibrationAlgorithm::kMse), &r).ok());
  EXPECT_NEAR(r.max[0], std::min<double>(t, stats.max()), 1e-5 * t);  // float rounding
}

TEST(AlgorithmsTest, MaximumBinCountUsesStridedCandidatesAndStillClipsTheTail) {
  // 8192 bins: the entropy search evaluates every 4th edge (kMaxThresholdCandidates).
  const std::vector<float> v = GaussianWithOutliers();
  const TensorStatistics fine = Collect(v, 8192);
  const double t = EntropyThreshold(fine.histogram(), kEntropyQuantizedBins);
  EXPECT_LT(t, 0.25 * fine.abs_max());
  EXPECT_GT(t, 3.0);
}

}  // namespace
}  // namespace qsdk::calib
