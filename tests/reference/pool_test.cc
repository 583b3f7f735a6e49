// Pooling: max, average with and without count_include_pad, ceil_mode, global modes.
#include <gtest/gtest.h>

#include <vector>

#include "reference/ops.h"
#include "reference_test_util.h"

namespace qsdk::reference {
namespace {

using namespace testing;  // NOLINT(build/namespaces)

// Maxima are exact; averages are a sum of small integers divided once, expected values
// are given to 8 digits: within 1e-6 for results below 20.
constexpr float kExact = 0.0f;
constexpr float kTol = 1e-6f;

PoolParams Window(PoolMode mode, int64_t k, int64_t s, int64_t pad) {
  PoolParams p;
  p.mode = mode;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = s;
  p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = pad;
  return p;
}

TEST(PoolTest, MaxTwoByTwoStrideTwo) {
  // x = 1..16 in 4x4: block maxima 6, 8, 14, 16.
  Tensor y;
  ASSERT_TRUE(Pool(Iota({1, 1, 4, 4}, 1.0f), Window(PoolMode::kMax, 2, 2, 0), &y).ok());
  ExpectTensorNear(y, {1, 1, 2, 2}, {6, 8, 14, 16}, kExact);
}

TEST(PoolTest, MaxIgnoresPadding) {
  // All-negative input: a padded zero must never win. x = -1..-4 in 2x2, kernel 2,
  // stride 1, pads 1: each output is the max of the input elements in its window.
  const Tensor x = MakeTensor({1, 1, 2, 2}, {-1, -2, -3, -4});
  Tensor y;
  ASSERT_TRUE(Pool(x, Window(PoolMode::kMax, 2, 1, 1), &y).ok());
  ExpectTensorNear(y, {1, 1, 3, 3}, {-1, -1, -2, -1, -1, -2, -3, -3, -4}, kExact);
}

// x = 1..9 in 3x3, kernel 2x2, stride 1, pads top 1 / left 1 only: padded 4x4, 3x3 output.
// Window (oy,ox) covers rows oy-1..oy, cols ox-1..ox; its input elements and their sum:
//   (0,0) {1} 1          (0,1) {1,2} 3          (0,2) {2,3} 5
//   (1,0) {1,4} 5        (1,1) {1,2,4,5} 12     (1,2) {2,3,5,6} 16
//   (2,0) {4,7} 11       (2,1) {4,5,7,8} 24     (2,2) {5,6,8,9} 28
PoolParams AsymmetricAverage(bool count_include_pad) {
  PoolParams p = Window(PoolMode::kAverage, 2, 1, 0);
  p.pad_top = 1;
  p.pad_left = 1;
  p.count_include_pad = count_include_pad;
  return p;
}

TEST(PoolTest, AverageExcludingPadDividesByInputElements) {
  Tensor y;
  ASSERT_TRUE(Pool(Iota({1, 1, 3, 3}, 1.0f), AsymmetricAverage(false), &y).ok());
  ExpectTensorNear(y, {1, 1, 3, 3}, {1, 1.5f, 2.5f, 2.5f, 3, 4, 5.5f, 6, 7}, kTol);
}

TEST(PoolTest, AverageIncludingPadDividesByWindowSize) {
  Tensor y;
  ASSERT_TRUE(Pool(Iota({1, 1, 3, 3}, 1.0f), AsymmetricAverage(true), &y).ok());
  ExpectTensorNear(y, {1, 1, 3, 3}, {0.25f, 0.75f, 1.25f, 1.25f, 3, 4, 2.75f, 6, 7}, kTol);
}

// x = 1..16 in 4x4 (x[r][c] = 4r + c + 1), kernel 3, stride 2, pads 1, ceil_mode:
// OH = ceil((4+2-3)/2) + 1 = 3; the last window starts at row 3 (< H + top = 5: kept).
// Windows along each axis: [-1,1], [1,3], [3,5]. Input rows in them {0,1}, {1,2,3}, {3};
// rows inside the padded input (which ends at H + bottom = 5, i.e. row 4): 3, 3, 2
// (row 5 exists only through ceil_mode and never counts).
// Sums: (0,0) 14, (0,1) 30, (0,2) 12, (1,0) 57, (1,1) 99, (1,2) 36, (2,0) 27, (2,1) 45,
// (2,2) 16.
PoolParams CeilAverage(bool count_include_pad) {
  PoolParams p = Window(PoolMode::kAverage, 3, 2, 1);
  p.ceil_mode = true;
  p.count_include_pad = count_include_pad;
  return p;
}

TEST(PoolTest, CeilModeAverageExcludingPad) {
  // Divisors: input elements 4, 6, 2, 6, 9, 3, 2, 3, 1.
  Tensor y;
  ASSERT_TRUE(Pool(Iota({1, 1, 4, 4}, 1.0f), CeilAverage(false), &y).ok());
  ExpectTensorNear(y, {1, 1, 3, 3}, {3.5f, 5, 6, 9.5f, 11, 12, 13.5f, 15, 16}, kTol);
}

TEST(PoolTest, CeilModeAverageIncludingPadNeverCountsBeyondPadding) {
  // Divisors: padded-window elements 3*3, 3*3, 3*2, 3*3, 9, 3*2, 2*3, 2*3, 2*2.
  Tensor y;
  ASSERT_TRUE(Pool(Iota({1, 1, 4, 4}, 1.0f), CeilAverage(true), &y).ok());
  ExpectTensorNear(y, {1, 1, 3, 3}, {1.5555556f, 3.3333333f, 2, 6.3333333f, 11, 6, 4.5f, 7.5f, 4},
                   kTol);
}

TEST(PoolTest, CeilModeMaxKeepsPartialLastWindow) {
  // x = 1..25 in 5x5 (x[r][c] = 5r + c + 1), kernel 2, stride 2, no pad.
  // Floor: 2x2; ceil: ceil(3/2)+1 = 3, last window holds row/col 4 only.
  // max = x[min(2i+1,4)][min(2j+1,4)].
  Tensor y;
  PoolParams p = Window(PoolMode::kMax, 2, 2, 0);
  ASSERT_TRUE(Pool(Iota({1, 1, 5, 5}, 1.0f), p, &y).ok());
  ExpectTensorNear(y, {1, 1, 2, 2}, {7, 9, 17, 19}, kExact);
  p.ceil_mode = true;
  ASSERT_TRUE(Pool(Iota({1, 1, 5, 5}, 1.0f), p, &y).ok());
  ExpectTensorNear(y, {1, 1, 3, 3}, {7, 9, 10, 17, 19, 20, 22, 24, 25}, kExact);
}

TEST(PoolTest, OutputExtentRule) {
  // floor((5 + 0 - 2) / 2) + 1 = 2; ceil: 3.
  EXPECT_EQ(PoolOutputExtent(5, 0, 0, 2, 2, false), 2);
  EXPECT_EQ(PoolOutputExtent(5, 0, 0, 2, 2, true), 3);
  // H 5, pads 1/1, kernel 2, stride 2: ceil(5/2)+1 = 4, but window 3 would start at
  // 3*2 = 6 >= H + top = 6, entirely in the bottom padding: dropped -> 3.
  EXPECT_EQ(PoolOutputExtent(5, 1, 1, 2, 2, true), 3);
  EXPECT_EQ(PoolOutputExtent(5, 1, 1, 2, 2, false), 3);
  // Exact division: ceil_mode changes nothing. (4 + 2 - 2) / 2 + 1 = 3.
  EXPECT_EQ(PoolOutputExtent(4, 1, 1, 2, 2, true), 3);
  // Kernel larger than the padded input.
  EXPECT_EQ(PoolOutputExtent(2, 0, 0, 3, 1, false), -1);
}

TEST(PoolTest, GlobalAverageAndMax) {
  // c0 = [1,2,3,4]: mean 2.5, max 4. c1 = [-1,-2,-3,-10]: mean -4, max -1.
  // Kernel / stride / pads are ignored (set to nonsense here).
  const Tensor x = MakeTensor({1, 2, 2, 2}, {1, 2, 3, 4, -1, -2, -3, -10});
  PoolParams p = Window(PoolMode::kGlobalAverage, 7, 5, 3);
  Tensor y;
  ASSERT_TRUE(Pool(x, p, &y).ok());
  ExpectTensorNear(y, {1, 2, 1, 1}, {2.5f, -4}, kExact);
  p.mode = PoolMode::kGlobalMax;
  ASSERT_TRUE(Pool(x, p, &y).ok());
  ExpectTensorNear(y, {1, 2, 1, 1}, {4, -1}, kExact);
}

TEST(PoolTest, RejectsPadNotSmallerThanKernelAndBadMode) {
  Tensor y;
  EXPECT_FALSE(Pool(Iota({1, 1, 4, 4}), Window(PoolMode::kMax, 2, 1, 2), &y).ok());
  PoolParams p = Window(PoolMode::kMax, 2, 1, 0);
  p.mode = static_cast<PoolMode>(0);
  EXPECT_FALSE(Pool(Iota({1, 1, 4, 4}), p, &y).ok());
  EXPECT_FALSE(Pool(Iota({1, 4, 4}), Window(PoolMode::kMax, 2, 1, 0), &y).ok());
}

}  // namespace
}  // namespace qsdk::reference
