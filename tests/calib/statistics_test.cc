// Streaming statistics: exact min / max / zeros, per-channel extremes, exact histogram
// counts through range growth, atomic rejection of non-finite values, and memory that does
// not grow with the number of batches.
#include "calib/statistics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace qsdk::calib {
namespace {

TEST(TensorStatisticsTest, TracksExactMinMaxCountAndZeros) {
  TensorStatistics stats(128);
  const std::vector<float> a = {0.5f, -2.0f, 0.0f, 3.0f};
  const std::vector<float> b = {-0.0f, 1.0f, -4.5f, 0.0f, 2.0f, 7.25f};
  ASSERT_TRUE(stats.Add(a.data(), {4}).ok());
  ASSERT_TRUE(stats.Add(b.data(), {2, 3}).ok());
  // Exact: min / max are selections, never arithmetic.
  EXPECT_EQ(stats.count(), 10);
  EXPECT_EQ(stats.zeros(), 3);
  EXPECT_EQ(stats.min(), -4.5f);
  EXPECT_EQ(stats.max(), 7.25f);
  EXPECT_EQ(stats.abs_max(), 7.25f);
  EXPECT_EQ(stats.histogram().total(), 10);
}

TEST(TensorStatisticsTest, PerChannelExtremesAlongAxis1) {
  TensorStatistics stats(128);
  // Shape [2, 3, 2]: channel c of batch n is elements (n * 3 + c) * 2 + {0, 1}.
  const std::vector<float> x = {1, 2, -1, -2, 5, 0,    // n = 0: c0 {1,2} c1 {-1,-2} c2 {5,0}
                                -3, 4, 6, 7, 1, 1};    // n = 1: c0 {-3,4} c1 {6,7} c2 {1,1}
  ASSERT_TRUE(stats.Add(x.data(), {2, 3, 2}).ok());
  ASSERT_TRUE(stats.has_channels());
  EXPECT_EQ(stats.channel_min(), (std::vector<float>{-3, -2, 0}));
  EXPECT_EQ(stats.channel_max(), (std::vector<float>{4, 7, 5}));
}

TEST(TensorStatisticsTest, ChannelCountChangeDropsPerChannelStatistics) {
  TensorStatistics stats(128);
  const std::vector<float> x(12, 1.0f);
  ASSERT_TRUE(stats.Add(x.data(), {1, 3, 4}).ok());
  EXPECT_TRUE(stats.has_channels());
  ASSERT_TRUE(stats.Add(x.data(), {1, 4, 3}).ok());
  EXPECT_FALSE(stats.has_channels());
  EXPECT_EQ(stats.count(), 24);  // the per-tensor statistics still took the batch
}

TEST(TensorStatisticsTest, RankOneHasNoChannels) {
  TensorStatistics stats(128);
  const std::vector<float> x = {1, 2, 3};
  ASSERT_TRUE(stats.Add(x.data(), {3}).ok());
  EXPECT_FALSE(stats.has_channels());
}

TEST(TensorStatisticsTest, HistogramGrowthMergesBinsExactly) {
  TensorStatistics stats(4);
  // Range 1, width 0.25: 0.1 -> bin 0, 0.6 -> 2, 0.9 -> 3, |-1.0| == range -> last bin.
  const std::vector<float> a = {0.1f, 0.6f, 0.9f, -1.0f};
  ASSERT_TRUE(stats.Add(a.data(), {4}).ok());
  EXPECT_EQ(stats.histogram().range, 1.0);
  EXPECT_EQ(stats.histogram().counts, (std::vector<int64_t>{1, 0, 1, 2}));
  // 5 > 1: the range doubles to 2 ([1,3,0,0]), 4 ([4,0,0,0]), 8 ([4,0,0,0]); then 5
  // falls in bin floor(5 / 2) = 2.
  const std::vector<float> b = {5.0f};
  ASSERT_TRUE(stats.Add(b.data(), {1}).ok());
  EXPECT_EQ(stats.histogram().range, 8.0);
  EXPECT_EQ(stats.histogram().counts, (std::vector<int64_t>{4, 0, 1, 0}));
}

TEST(TensorStatisticsTest, AllZerosThenValuesKeepsZerosInBinZero) {
  TensorStatistics stats(8);
  const std::vector<float> zeros(5, 0.0f);
  ASSERT_TRUE(stats.Add(zeros.data(), {5}).ok());
  EXPECT_EQ(stats.histogram().range, 0.0);
  const std::vector<float> x = {8.0f, 3.9f};
  ASSERT_TRUE(stats.Add(x.data(), {2}).ok());
  EXPECT_EQ(stats.histogram().range, 8.0);
  // 3.9 / 1.0 -> bin 3; 8 -> last bin.
  EXPECT_EQ(stats.histogram().counts, (std::vector<int64_t>{5, 0, 0, 1, 0, 0, 0, 1}));
  EXPECT_EQ(stats.zeros(), 5);
}

TEST(TensorStatisticsTest, NonFiniteValueIsRejectedAndChangesNothing) {
  TensorStatistics stats(128);
  const std::vector<float> good = {1.0f, -1.0f};
  ASSERT_TRUE(stats.Add(good.data(), {2}).ok());
  const std::vector<float> bad = {100.0f, 2.0f, std::numeric_limits<float>::quiet_NaN()};
  const Status s = stats.Add(bad.data(), {3});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("element 2 is nan"), std::string::npos) << s.message();
  EXPECT_EQ(stats.count(), 2);
  EXPECT_EQ(stats.max(), 1.0f);
  EXPECT_EQ(stats.histogram().range, 1.0);
  const std::vector<float> inf = {-std::numeric_limits<float>::infinity()};
  const Status s2 = stats.Add(inf.data(), {1});
  ASSERT_FALSE(s2.ok());
  EXPECT_NE(s2.message().find("element 0 is -inf"), std::string::npos) << s2.message();
}

// Memory must not depend on the number of batches: after 10 and after 1000 batches of
// growing magnitude (which re-bins the histogram), the object holds the same bytes.
TEST(TensorStatisticsTest, MemoryIsIndependentOfTheNumberOfBatches) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const auto feed = [&](TensorStatistics* stats, int batches) {
    std::vector<float> x(2 * 4 * 5);
    for (int b = 0; b < batches; ++b) {
      const float scale = 1.0f + static_cast<float>(b);  // the range keeps growing
      for (float& v : x) v = normal(rng) * scale;
      ASSERT_TRUE(stats->Add(x.data(), {2, 4, 5}).ok());
    }
  };
  TensorStatistics few(2048);
  TensorStatistics many(2048);
  feed(&few, 10);
  feed(&many, 1000);
  EXPECT_EQ(many.count(), 1000 * 40);
  EXPECT_GT(many.histogram().range, few.histogram().range);  // growth did happen
  EXPECT_EQ(few.MemoryBytes(), many.MemoryBytes());
  EXPECT_EQ(many.histogram().counts.size(), 2048u);
  EXPECT_EQ(many.histogram().counts.capacity(), few.histogram().counts.capacity());
  EXPECT_EQ(many.channel_min().capacity(), few.channel_min().capacity());
  EXPECT_EQ(many.histogram().total(), many.count());  // re-binning loses no count
}

}  // namespace
}  // namespace qsdk::calib
