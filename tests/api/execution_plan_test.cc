// ContextOptions::num_threads (validated, resolved, applied to the kernels' OpenMP team
// during Execute and restored afterwards) and IContext::GetLastExecutionPlan (steps,
// implementations, element types and layouts, in-place residuals, plan caching) on an
// INT8 block shaped like MobileNetV2 / ResNet: conv+relu -> depthwise conv+relu ->
// pointwise conv + residual add -> relu -> global average pool -> fc.
#include <gtest/gtest.h>
#include <omp.h>

#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "qsdk/qsdk.h"
#include "small_net.h"

namespace qsdk {
namespace {

constexpr int64_t kChannels = 16;

// The block, with ranges on every tensor an INT8 build quantizes.
std::unique_ptr<INetwork> MakeBlock() {
  std::mt19937 rng(11);
  auto net = CreateINetwork();
  INetwork* n = net.get();
  ITensor* x = n->AddInput(DataType::FLOAT32, Dims{-1, 8, 12, 12});
  EXPECT_TRUE(x->SetTensorName("x").ok());
  IConvNode* conv1 = n->AddIConvNode(x, test::RandomConst(n, &rng, Dims{kChannels, 8, 3, 3}, 0.2f),
                                     test::RandomConst(n, &rng, Dims{kChannels}, 0.1f));
  EXPECT_TRUE(conv1->SetPad(1, 1, 1, 1).ok());
  EXPECT_TRUE(conv1->SetNodeName("conv1").ok());
  ITensor* r1 = n->AddIActivationNode(conv1->GetOutput(0), ActivationType::kRelu)->GetOutput(0);
  IConvNode* dw = n->AddIConvNode(r1, test::RandomConst(n, &rng, Dims{kChannels, 1, 3, 3}, 0.3f),
                                  test::RandomConst(n, &rng, Dims{kChannels}, 0.1f));
  EXPECT_TRUE(dw->SetGroup(kChannels).ok());
  EXPECT_TRUE(dw->SetPad(1, 1, 1, 1).ok());
  EXPECT_TRUE(dw->SetNodeName("depthwise").ok());
  ITensor* r2 = n->AddIActivationNode(dw->GetOutput(0), ActivationType::kRelu)->GetOutput(0);
  IConvNode* pw = n->AddIConvNode(r2, test::RandomConst(n, &rng, Dims{kChannels, kChannels, 1, 1}, 0.2f),
                                  test::RandomConst(n, &rng, Dims{kChannels}, 0.1f));
  EXPECT_TRUE(pw->SetNodeName("pointwise").ok());
  IElementwiseNode* add = n->AddIElementwiseNode(pw->GetOutput(0), r1, ElementwiseOp::kAdd);
  EXPECT_TRUE(add->SetNodeName("residual").ok());
  ITensor* r3 = n->AddIActivationNode(add->GetOutput(0), ActivationType::kRelu)->GetOutput(0);
  IPoolNode* gap = n->AddIPoolNode(r3, PoolMode::kGlobalAverage);
  IFlattenNode* flat = n->AddIFlattenNode(gap->GetOutput(0), 1);
  IFullyConnectedNode* fc = n->AddIFullyConnectedNode(
      flat->GetOutput(0), test::RandomConst(n, &rng, Dims{10, kChannels}, 0.3f), nullptr);
  EXPECT_TRUE(fc->SetNodeName("fc").ok());
  EXPECT_TRUE(n->MarkOutput(fc->GetOutput(0)).ok());
  EXPECT_TRUE(x->SetDynamicRange(-4.0f, 4.0f).ok());
  for (ITensor* t : {r1, r2, r3, gap->GetOutput(0), flat->GetOutput(0)}) {
    EXPECT_TRUE(t->SetDynamicRange(0.0f, 6.0f).ok());
  }
  for (ITensor* t : {pw->GetOutput(0), add->GetOutput(0)}) {
    EXPECT_TRUE(t->SetDynamicRange(-6.0f, 6.0f).ok());
  }
  EXPECT_TRUE(fc->GetOutput(0)->SetDynamicRange(-10.0f, 10.0f).ok());
  return net;
}

class ExecutionPlanTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto net = MakeBlock();
    std::unique_ptr<IModel> model;
    const Status built =
        test::Build(*net, R"({"precision_config": {"precision_mode": "qint8_mixed_float32"}})",
                    &model);
    ASSERT_TRUE(built.ok()) << built.ToString();
    ASSERT_TRUE(model->CreateIEngine(&engine_).ok());
  }
  static void TearDownTestSuite() { engine_.reset(); }

  static Tensor Input(int64_t batch) {
    Tensor in = Tensor::Allocate(DataType::FLOAT32, Dims{batch, 8, 12, 12}, "x");
    std::mt19937 rng(3);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    for (int64_t i = 0; i < in.GetElementCount(); ++i) in.Data<float>()[i] = dist(rng);
    return in;
  }

  static std::unique_ptr<IEngine> engine_;
};
std::unique_ptr<IEngine> ExecutionPlanTest::engine_;

const PlanStepInfo* FindStep(const ExecutionPlanInfo& plan, const std::string& node) {
  for (const PlanStepInfo& s : plan.steps) {
    if (s.node == node) return &s;
  }
  return nullptr;
}

TEST_F(ExecutionPlanTest, RejectsThreadCountsOutOfRange) {
  for (int bad : {-1, 1025}) {
    ContextOptions options;
    options.num_threads = bad;
    std::unique_ptr<IContext> context;
    const Status s = engine_->CreateIContext(options, &context);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("num_threads = " + std::to_string(bad)), std::string::npos)
        << s.message();
    EXPECT_NE(s.message().find("between 1 and 1024"), std::string::npos) << s.message();
    EXPECT_EQ(context, nullptr);
  }
}

TEST_F(ExecutionPlanTest, ResolvesTheDefaultToTheOpenMpDefault) {
  std::unique_ptr<IContext> context;
  ASSERT_TRUE(engine_->CreateIContext(&context).ok());
  EXPECT_EQ(context->GetNumThreads(), omp_get_max_threads());
  ContextOptions options;
  options.num_threads = 3;
  ASSERT_TRUE(engine_->CreateIContext(options, &context).ok());
  EXPECT_EQ(context->GetNumThreads(), 3);
}

// Records the OpenMP thread count the kernels see: the profiler is called on the thread
// running Execute, between the steps, inside the context's thread-count scope.
class ThreadCountProbe final : public IProfiler {
 public:
  void ReportNodeTime(const std::string&, const std::string&, double) override {
    seen.push_back(omp_get_max_threads());
  }
  std::vector<int> seen;
};

TEST_F(ExecutionPlanTest, EachContextRunsWithItsOwnThreadCountAndRestoresTheCallers) {
  const int caller = omp_get_max_threads();
  std::vector<std::vector<float>> results;
  for (int threads : {1, 2, 5}) {
    ContextOptions options;
    options.num_threads = threads;
    std::unique_ptr<IContext> context;
    ASSERT_TRUE(engine_->CreateIContext(options, &context).ok());
    ThreadCountProbe probe;
    context->SetProfiler(&probe);
    std::vector<Tensor> out;
    const Status s = context->Execute({Input(2)}, &out);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_FALSE(probe.seen.empty());
    for (int seen : probe.seen) EXPECT_EQ(seen, threads);
    EXPECT_EQ(omp_get_max_threads(), caller) << "Execute must restore the caller's setting";
    ExecutionPlanInfo plan;
    ASSERT_TRUE(context->GetLastExecutionPlan(&plan).ok());
    EXPECT_EQ(plan.num_threads, threads);
    results.emplace_back(out[0].Data<float>(), out[0].Data<float>() + out[0].GetElementCount());
  }
  // INT8 end to end with int32 accumulation: how the work is split between threads cannot
  // change a single bit of the result.
  EXPECT_EQ(results[0], results[1]);
  EXPECT_EQ(results[0], results[2]);
}

// Two application threads run contexts of 1 and 3 threads at the same time: the OpenMP
// setting is per calling thread, so each context's steps see its own count throughout.
TEST_F(ExecutionPlanTest, ConcurrentContextsKeepTheirOwnThreadCounts) {
  const std::vector<int> counts = {1, 3};
  std::vector<std::vector<int>> seen(counts.size());
  std::vector<std::vector<float>> results(counts.size());
  std::vector<Status> statuses(counts.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < counts.size(); ++i) {
    threads.emplace_back([&, i] {
      ContextOptions options;
      options.num_threads = counts[i];
      std::unique_ptr<IContext> context;
      statuses[i] = engine_->CreateIContext(options, &context);
      if (!statuses[i].ok()) return;
      ThreadCountProbe probe;
      context->SetProfiler(&probe);
      std::vector<Tensor> out;
      for (int run = 0; run < 20 && statuses[i].ok(); ++run) {
        statuses[i] = context->Execute({Input(2)}, &out);
      }
      seen[i] = probe.seen;
      if (statuses[i].ok()) {
        results[i].assign(out[0].Data<float>(), out[0].Data<float>() + out[0].GetElementCount());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < counts.size(); ++i) {
    ASSERT_TRUE(statuses[i].ok()) << statuses[i].ToString();
    ASSERT_FALSE(seen[i].empty());
    for (int s : seen[i]) ASSERT_EQ(s, counts[i]) << "context " << i;
  }
  EXPECT_EQ(results[0], results[1]);  // exact, as above
}

TEST_F(ExecutionPlanTest, FailsBeforeTheFirstExecute) {
  std::unique_ptr<IContext> context;
  ASSERT_TRUE(engine_->CreateIContext(&context).ok());
  ExecutionPlanInfo plan;
  EXPECT_EQ(context->GetLastExecutionPlan(&plan).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(context->GetLastExecutionPlan(nullptr).code(), StatusCode::kInvalidArgument);
}

TEST_F(ExecutionPlanTest, ShowsTheInt8FastPaths) {
  ContextOptions options;
  options.num_threads = 2;
  std::unique_ptr<IContext> context;
  ASSERT_TRUE(engine_->CreateIContext(options, &context).ok());
  std::vector<Tensor> out;
  for (int run = 0; run < 3; ++run) ASSERT_TRUE(context->Execute({Input(1)}, &out).ok());
  ExecutionPlanInfo plan;
  ASSERT_TRUE(context->GetLastExecutionPlan(&plan).ok());
  ASSERT_EQ(plan.input_shapes.size(), 1u);
  EXPECT_EQ(plan.input_shapes[0], (std::vector<int64_t>{1, 8, 12, 12}));
  EXPECT_EQ(plan.plans_built, 1u) << "runs at one shape reuse one plan";
  EXPECT_EQ(plan.arena_bytes, context->GetActivationMemoryBytes());
  EXPECT_EQ(plan.peak_live_bytes, context->GetPeakLiveTensorBytes());

  // Layouts chosen across the graph: no reorder steps at all in this plan.
  for (const PlanStepInfo& s : plan.steps) EXPECT_NE(s.kernel, "reorder") << s.node;
  // The residual add and the ReLUs are fused: no step of their own.
  EXPECT_EQ(FindStep(plan, "residual"), nullptr);

  const PlanStepInfo* dw = FindStep(plan, "depthwise");
  const PlanStepInfo* pw = FindStep(plan, "pointwise");
  const PlanStepInfo* conv1 = FindStep(plan, "conv1");
  ASSERT_NE(dw, nullptr);
  ASSERT_NE(pw, nullptr);
  ASSERT_NE(conv1, nullptr);
  // Depthwise and pointwise stay 8-bit between them (no FP32 round trip), on oneDNN's
  // depthwise implementation, never its reference code.
  ASSERT_EQ(dw->inputs.size(), 1u);
  ASSERT_EQ(dw->outputs.size(), 1u);
  // (u8 after the ReLUs: non-negative ranges.)
  EXPECT_EQ(dw->inputs[0].element, "u8");
  EXPECT_EQ(dw->outputs[0].element, "u8");
  EXPECT_NE(dw->implementation.find("[depthwise]"), std::string::npos) << dw->implementation;
  for (const PlanStepInfo* s : {conv1, dw, pw}) {
    EXPECT_EQ(s->implementation.find("ref"), std::string::npos) << s->node << ": "
                                                                 << s->implementation;
    EXPECT_EQ(s->implementation.find("weights re-laid out"), std::string::npos)
        << s->node << ": weights packed at engine creation are used as they are";
    EXPECT_EQ(s->kernel, "onednn_conv_int8");
  }
  // The pointwise conv sums the residual into its destination in place (sum post-op); it
  // reads the residual as its second runtime input.
  EXPECT_TRUE(pw->in_place);
  ASSERT_EQ(pw->inputs.size(), 2u);
  EXPECT_EQ(pw->inputs[0].tensor, dw->outputs[0].tensor);
  EXPECT_EQ(pw->inputs[1].tensor, conv1->outputs[0].tensor);
  // The producer's layout is the consumer's: no reorder between them.
  EXPECT_EQ(pw->inputs[0].layout, dw->outputs[0].layout);
  EXPECT_FALSE(dw->outputs[0].layout.empty());

  // A new batch builds a second plan; going back to batch 1 reuses the first.
  ASSERT_TRUE(context->Execute({Input(4)}, &out).ok());
  ASSERT_TRUE(context->Execute({Input(1)}, &out).ok());
  ASSERT_TRUE(context->GetLastExecutionPlan(&plan).ok());
  EXPECT_EQ(plan.plans_built, 2u);
  EXPECT_EQ(plan.input_shapes[0][0], 1);
}

// The BF16 engine casts the model input with a oneDNN reorder; that reorder writes the
// layout the first convolution takes (channels-last), so no separate reorder follows it.
TEST(ExecutionPlanBf16Test, InputCastWritesTheFirstConvolutionsLayout) {
  auto net = MakeBlock();
  std::unique_ptr<IModel> model;
  const Status built =
      test::Build(*net, R"({"precision_config": {"precision_mode": "force_bfloat16"}})", &model);
  if (!built.ok() && built.message().find("AVX512_BF16") != std::string::npos) {
    GTEST_SKIP() << "no BF16 on this CPU: " << built.message();
  }
  ASSERT_TRUE(built.ok()) << built.ToString();
  std::unique_ptr<IEngine> engine;
  ASSERT_TRUE(model->CreateIEngine(&engine).ok());
  std::unique_ptr<IContext> context;
  ASSERT_TRUE(engine->CreateIContext(&context).ok());
  Tensor in = Tensor::Allocate(DataType::FLOAT32, Dims{1, 8, 12, 12}, "x");
  std::vector<Tensor> out;
  ASSERT_TRUE(context->Execute({in}, &out).ok());
  ExecutionPlanInfo plan;
  ASSERT_TRUE(context->GetLastExecutionPlan(&plan).ok());
  ASSERT_FALSE(plan.steps.empty());
  const PlanStepInfo& cast = plan.steps.front();
  EXPECT_NE(cast.kernel.find("cast"), std::string::npos) << cast.kernel;
  ASSERT_EQ(cast.outputs.size(), 1u);
  EXPECT_EQ(cast.outputs[0].element, "bf16");
  const PlanStepInfo* conv1 = FindStep(plan, "conv1");
  ASSERT_NE(conv1, nullptr);
  EXPECT_EQ(conv1->inputs[0].tensor, cast.outputs[0].tensor);
  EXPECT_EQ(conv1->inputs[0].layout, cast.outputs[0].layout);
  for (const PlanStepInfo& s : plan.steps) EXPECT_NE(s.kernel, "reorder") << s.node;
}

}  // namespace
}  // namespace qsdk
