// One engine shared by 8 threads, each with its own context, 200 runs each: every
// output must be bit-identical to the single-threaded run of the same input (the engine
// is immutable; contexts share nothing mutable; the same primitives on the same data in
// the same order give the same bits).
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine_test_util.h"
#include "runtime/engine.h"
#include "runtime_test_util.h"

namespace qsdk::runtime {
namespace {

TEST(MultithreadTest, EightContextsBitIdenticalToSingleThread) {
  std::mt19937 rng(8);
  std::shared_ptr<graph::Graph> graph = testing::BuildSmallCnn(&rng, -1);
  ASSERT_NE(graph, nullptr);
  std::unique_ptr<IEngine> engine;
  ASSERT_TRUE(CreateEngine(graph, &engine).ok());

  // A few inputs of different batch sizes, so threads also switch plans.
  const std::vector<int64_t> batches = {1, 2, 3, 4};
  std::vector<Tensor> inputs;
  std::vector<Tensor> expected;
  {
    std::unique_ptr<IContext> context;
    ASSERT_TRUE(engine->CreateIContext(&context).ok());
    for (int64_t b : batches) {
      inputs.push_back(testing::RandomTensor(&rng, {b, 3, 16, 16}));
      std::vector<Tensor> outputs;
      ASSERT_TRUE(context->Execute({inputs.back()}, &outputs).ok());
      expected.push_back(outputs[0]);
    }
  }

  constexpr int kThreads = 8;
  constexpr int kRuns = 200;
  std::atomic<int> failures{0};
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::unique_ptr<IContext> context;
      if (!engine->CreateIContext(&context).ok()) {
        ++failures;
        return;
      }
      std::vector<Tensor> outputs;
      for (int r = 0; r < kRuns; ++r) {
        const size_t which = static_cast<size_t>(t + r / 50) % inputs.size();
        if (!context->Execute({inputs[which]}, &outputs).ok()) {
          ++failures;
          return;
        }
        if (!testing::BitIdentical(outputs[0], expected[which])) ++mismatches;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mismatches.load(), 0) << "outputs differ from the single-threaded run";
}

}  // namespace
}  // namespace qsdk::runtime
