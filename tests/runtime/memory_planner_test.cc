#include "runtime/memory_planner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace qsdk::runtime {
namespace {

bool Overlap(const BufferLifetime& a, const BufferLifetime& b) {
  return a.first_use <= b.last_use && b.first_use <= a.last_use;
}

size_t Aligned(size_t size) {
  return (size + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

// Checks the invariants every plan must hold and returns the lower bound on the arena:
// the largest sum of (aligned) sizes of buffers live at the same step.
size_t CheckPlan(const std::vector<BufferLifetime>& buffers, const MemoryPlan& plan) {
  EXPECT_EQ(plan.offsets.size(), buffers.size());
  EXPECT_EQ(plan.arena_bytes % kArenaAlignment, 0u);
  size_t total = 0;
  for (size_t i = 0; i < buffers.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % kArenaAlignment, 0u) << "buffer " << i;
    EXPECT_LE(plan.offsets[i] + buffers[i].size, plan.arena_bytes) << "buffer " << i;
    total += Aligned(buffers[i].size);
    for (size_t j = 0; j < i; ++j) {
      if (buffers[i].size == 0 || buffers[j].size == 0 || !Overlap(buffers[i], buffers[j])) {
        continue;
      }
      const bool disjoint = plan.offsets[i] + buffers[i].size <= plan.offsets[j] ||
                            plan.offsets[j] + buffers[j].size <= plan.offsets[i];
      EXPECT_TRUE(disjoint) << "buffers " << i << " and " << j
                            << " are live together but share bytes";
    }
  }
  // Never worse than giving every buffer its own bytes.
  EXPECT_LE(plan.arena_bytes, total);
  int last_step = 0;
  for (const auto& b : buffers) last_step = std::max(last_step, b.last_use);
  size_t peak_live = 0;
  for (int step = 0; step <= last_step; ++step) {
    size_t live = 0;
    for (const auto& b : buffers) {
      if (b.first_use <= step && step <= b.last_use) live += Aligned(b.size);
    }
    peak_live = std::max(peak_live, live);
  }
  EXPECT_GE(plan.arena_bytes, peak_live);
  // The plan reports the same bound, computed by its own sweep.
  EXPECT_EQ(plan.peak_live_bytes, peak_live);
  return peak_live;
}

TEST(MemoryPlannerTest, EmptyPlan) {
  MemoryPlan plan;
  ASSERT_TRUE(PlanMemory({}, &plan).ok());
  EXPECT_EQ(plan.arena_bytes, 0u);
  EXPECT_TRUE(plan.offsets.empty());
}

TEST(MemoryPlannerTest, ChainReusesMemory) {
  // A chain a -> b -> c -> d: each buffer lives from its producer to its consumer, so
  // only two are ever live together and two slots suffice.
  const std::vector<BufferLifetime> buffers = {
      {1000, 0, 1}, {1000, 1, 2}, {1000, 2, 3}, {1000, 3, 4}};
  MemoryPlan plan;
  ASSERT_TRUE(PlanMemory(buffers, &plan).ok());
  CheckPlan(buffers, plan);
  EXPECT_EQ(plan.arena_bytes, 2 * Aligned(1000));
  EXPECT_EQ(plan.offsets[0], plan.offsets[2]);
  EXPECT_EQ(plan.offsets[1], plan.offsets[3]);
}

TEST(MemoryPlannerTest, OverlappingBuffersGetDistinctBytes) {
  // All live at step 2.
  const std::vector<BufferLifetime> buffers = {{100, 0, 2}, {200, 1, 3}, {300, 2, 2}};
  MemoryPlan plan;
  ASSERT_TRUE(PlanMemory(buffers, &plan).ok());
  CheckPlan(buffers, plan);
  EXPECT_EQ(plan.arena_bytes, Aligned(100) + Aligned(200) + Aligned(300));
}

TEST(MemoryPlannerTest, SmallBufferFillsGapLeftByLargeOnes) {
  // Big buffers 0 and 2 live at disjoint times and share offset 0; buffer 1 is live
  // with both, so it goes above; the small buffer 3 is live only with buffer 1 and fits
  // in the gap buffer 0 leaves (best fit), so the arena is not extended.
  const std::vector<BufferLifetime> buffers = {
      {4096, 0, 1}, {640, 0, 5}, {4096, 4, 5}, {128, 2, 3}};
  MemoryPlan plan;
  ASSERT_TRUE(PlanMemory(buffers, &plan).ok());
  CheckPlan(buffers, plan);
  EXPECT_EQ(plan.arena_bytes, 4096u + 640u);
  EXPECT_LT(plan.offsets[3], 4096u);
}

TEST(MemoryPlannerTest, AlignsOddSizes) {
  const std::vector<BufferLifetime> buffers = {{1, 0, 0}, {63, 0, 0}, {65, 0, 0}, {0, 0, 0}};
  MemoryPlan plan;
  ASSERT_TRUE(PlanMemory(buffers, &plan).ok());
  CheckPlan(buffers, plan);
  EXPECT_EQ(plan.arena_bytes, 64u + 64u + 128u);
}

TEST(MemoryPlannerTest, RandomPlansKeepInvariants) {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> count_dist(1, 40);
  std::uniform_int_distribution<int> step_dist(0, 30);
  std::uniform_int_distribution<int> len_dist(0, 6);
  std::uniform_int_distribution<size_t> size_dist(0, 1 << 16);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<BufferLifetime> buffers(count_dist(rng));
    for (auto& b : buffers) {
      b.first_use = step_dist(rng);
      b.last_use = b.first_use + len_dist(rng);
      b.size = size_dist(rng);
    }
    MemoryPlan plan;
    ASSERT_TRUE(PlanMemory(buffers, &plan).ok());
    const size_t peak = CheckPlan(buffers, plan);
    // The greedy plan is not optimal, but on such inputs it stays close to the bound.
    EXPECT_LE(plan.arena_bytes, 2 * peak) << "trial " << trial;
  }
}

TEST(MemoryPlannerTest, RejectsInvertedInterval) {
  MemoryPlan plan;
  const Status st = PlanMemory({{64, 3, 2}}, &plan);
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_NE(st.message().find("[3, 2]"), std::string::npos) << st.message();
}

TEST(MemoryPlannerTest, RejectsOverflowingSize) {
  MemoryPlan plan;
  const Status st = PlanMemory({{~size_t{0}, 0, 0}}, &plan);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace qsdk::runtime
