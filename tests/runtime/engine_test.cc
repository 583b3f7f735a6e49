// Engine / context tests: a small CNN against the reference interpreter, dynamic batch
// and the plan cache, layout flow (no reorder between consecutive convs), output vector
// handling and the validation of Execute's inputs.
//
// Tolerance for network outputs: |engine - reference| <= 1e-4 * max|reference| + 1e-6.
// The reference accumulates in double and rounds once per op; oneDNN accumulates in fp32
// in blocked orders, giving ~1e-6 relative error per op (see heavy_kernels_test.cc); a
// few ops in a row stay far below 1e-4, while a wrong layout, stride or offset anywhere
// produces O(1) errors.
#include "runtime/engine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine_test_util.h"
#include "graph/shape_inference.h"
#include "reference/reference.h"
#include "runtime_test_util.h"

namespace qsdk::runtime {
namespace {

using testing::AddConst;
using testing::AddInput;
using testing::AddOp;

void ExpectClose(const Tensor& actual, const Tensor& expected, const std::string& label) {
  ASSERT_EQ(actual.GetDimension(), expected.GetDimension()) << label;
  const double tolerance = 1e-4 * testing::MaxAbs(expected) + 1e-6;
  EXPECT_LE(testing::MaxAbsDiff(actual, expected), tolerance) << label;
}

Tensor Reference(const graph::Graph& g, const Tensor& x) {
  std::vector<Tensor> outputs;
  const Status st = reference::RunGraph(g, {x}, &outputs);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return outputs.empty() ? Tensor() : outputs[0];
}

struct Fixture {
  std::shared_ptr<graph::Graph> graph;
  std::unique_ptr<IEngine> engine;
  std::unique_ptr<IContext> context;
};

Fixture MakeCnn(int64_t batch, uint32_t seed = 5) {
  std::mt19937 rng(seed);
  Fixture f;
  f.graph = testing::BuildSmallCnn(&rng, batch);
  EXPECT_NE(f.graph, nullptr);
  if (f.graph == nullptr) return f;
  Status st = CreateEngine(f.graph, &f.engine);
  EXPECT_TRUE(st.ok()) << st.ToString();
  if (!st.ok()) return f;
  st = f.engine->CreateIContext(&f.context);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return f;
}

TEST(EngineTest, DescribesInputsAndOutputs) {
  Fixture f = MakeCnn(-1);
  ASSERT_NE(f.engine, nullptr);
  const std::vector<TensorDesc> inputs = f.engine->GetInputs();
  ASSERT_EQ(inputs.size(), 1u);
  EXPECT_EQ(inputs[0].name, "x");
  EXPECT_EQ(inputs[0].data_type, DataType::FLOAT32);
  EXPECT_EQ(inputs[0].dims, Dims({-1, 3, 16, 16}));
  const std::vector<TensorDesc> outputs = f.engine->GetOutputs();
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(outputs[0].name, "prob");
  EXPECT_EQ(outputs[0].dims, Dims({-1, 10}));
}

TEST(EngineTest, SmallCnnMatchesReference) {
  Fixture f = MakeCnn(2);
  ASSERT_NE(f.context, nullptr);
  std::mt19937 rng(99);
  const Tensor x = testing::RandomTensor(&rng, {2, 3, 16, 16}, "x");
  std::vector<Tensor> outputs;
  const Status st = f.context->Execute({x}, &outputs);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(outputs[0].GetName(), "prob");
  ExpectClose(outputs[0], Reference(*f.graph, x), "small CNN batch 2");
}

TEST(EngineTest, DynamicBatchCachesPlansAndGrowsArenaOnly) {
  Fixture f = MakeCnn(-1);
  ASSERT_NE(f.context, nullptr);
  std::mt19937 rng(100);
  const Tensor x1 = testing::RandomTensor(&rng, {1, 3, 16, 16});
  const Tensor x32 = testing::RandomTensor(&rng, {32, 3, 16, 16});
  std::vector<Tensor> outputs;

  ASSERT_TRUE(f.context->Execute({x1}, &outputs).ok());
  ExpectClose(outputs[0], Reference(*f.graph, x1), "batch 1");
  ContextStats after1;
  ASSERT_TRUE(GetContextStats(*f.context, &after1).ok());
  EXPECT_EQ(after1.plans_built, 1u);
  EXPECT_GT(after1.arena_bytes, 0u);

  ASSERT_TRUE(f.context->Execute({x32}, &outputs).ok());
  EXPECT_EQ(outputs[0].GetDimension(), Dims({32, 10}));
  ExpectClose(outputs[0], Reference(*f.graph, x32), "batch 32");
  ContextStats after32;
  ASSERT_TRUE(GetContextStats(*f.context, &after32).ok());
  EXPECT_EQ(after32.plans_built, 2u);
  EXPECT_GT(after32.arena_bytes, after1.arena_bytes);

  // Back to batch 1: the cached plan is reused, the arena keeps its size.
  ASSERT_TRUE(f.context->Execute({x1}, &outputs).ok());
  ExpectClose(outputs[0], Reference(*f.graph, x1), "batch 1 again");
  const void* data = outputs[0].GetData();
  ASSERT_TRUE(f.context->Execute({x1}, &outputs).ok());
  EXPECT_EQ(outputs[0].GetData(), data) << "a reused output of the right shape is written in place";
  ContextStats again;
  ASSERT_TRUE(GetContextStats(*f.context, &again).ok());
  EXPECT_EQ(again.plans_built, 2u);
  EXPECT_EQ(again.plans_cached, 2u);
  EXPECT_EQ(again.arena_bytes, after32.arena_bytes);
}

TEST(EngineTest, OutputsVectorHandling) {
  Fixture f = MakeCnn(2);
  ASSERT_NE(f.context, nullptr);
  std::mt19937 rng(101);
  const Tensor x = testing::RandomTensor(&rng, {2, 3, 16, 16});
  const Tensor expected = Reference(*f.graph, x);

  // A caller-owned buffer of the right type and shape is written in place.
  std::vector<float> user(20, -7.0f);
  std::vector<Tensor> outputs = {Tensor::Wrap(DataType::FLOAT32, Dims({2, 10}), user.data())};
  ASSERT_TRUE(f.context->Execute({x}, &outputs).ok());
  EXPECT_EQ(outputs[0].GetData(), user.data());
  EXPECT_EQ(outputs[0].GetName(), "prob");
  ExpectClose(outputs[0], expected, "written into the caller's buffer");

  // Wrong shape, wrong type, too many entries: replaced / resized.
  outputs = {Tensor::Allocate(DataType::FLOAT32, Dims({3, 10})), Tensor()};
  ASSERT_TRUE(f.context->Execute({x}, &outputs).ok());
  ASSERT_EQ(outputs.size(), 1u);
  ExpectClose(outputs[0], expected, "replaced wrong-shape output");
  outputs = {Tensor::Allocate(DataType::INT32, Dims({2, 10}))};
  ASSERT_TRUE(f.context->Execute({x}, &outputs).ok());
  EXPECT_EQ(outputs[0].GetDataType(), DataType::FLOAT32);
  ExpectClose(outputs[0], expected, "replaced wrong-type output");
}

TEST(EngineTest, InputsMatchedByNameInAnyOrder) {
  // y = a - b: swapping named inputs must not swap the operands.
  auto g = std::make_shared<graph::Graph>();
  const graph::TensorId a = AddInput(g.get(), "a", {2, 3});
  const graph::TensorId b = AddInput(g.get(), "b", {2, 3});
  g->outputs = {AddOp(g.get(), NodeType::kElementwise, "sub", {a, b},
                      testing::ElementwiseAttrs(ElementwiseOp::kSub), "y")};
  ASSERT_TRUE(graph::InferShapes(g.get()).ok());
  std::unique_ptr<IEngine> engine;
  ASSERT_TRUE(CreateEngine(g, &engine).ok());
  std::unique_ptr<IContext> context;
  ASSERT_TRUE(engine->CreateIContext(&context).ok());
  std::vector<float> av(6, 5.0f), bv(6, 2.0f);
  const Tensor ta = Tensor::Wrap(DataType::FLOAT32, Dims({2, 3}), av.data(), "a");
  const Tensor tb = Tensor::Wrap(DataType::FLOAT32, Dims({2, 3}), bv.data(), "b");
  std::vector<Tensor> outputs;
  ASSERT_TRUE(context->Execute({tb, ta}, &outputs).ok());
  EXPECT_EQ(outputs[0].Data<float>()[0], 3.0f);  // exact: 5 - 2
  // Unnamed tensors go by position.
  const Tensor ua = Tensor::Wrap(DataType::FLOAT32, Dims({2, 3}), av.data());
  const Tensor ub = Tensor::Wrap(DataType::FLOAT32, Dims({2, 3}), bv.data());
  ASSERT_TRUE(context->Execute({ub, ua}, &outputs).ok());
  EXPECT_EQ(outputs[0].Data<float>()[0], -3.0f);
}

TEST(EngineTest, NoReorderBetweenConsecutiveConvs) {
  std::mt19937 rng(6);
  auto g = std::make_shared<graph::Graph>();
  graph::TensorId t = AddInput(g.get(), "x", {1, 16, 12, 12});
  for (int i = 1; i <= 3; ++i) {
    const graph::TensorId w = AddConst(g.get(), "w" + std::to_string(i), {16, 16, 3, 3},
                                       testing::RandomValues(&rng, 16 * 16 * 9, -0.2f, 0.2f));
    t = AddOp(g.get(), NodeType::kConv, "conv" + std::to_string(i), {t, w},
              testing::ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1, ActivationType::kRelu),
              "c" + std::to_string(i));
  }
  g->outputs = {t};
  ASSERT_TRUE(graph::InferShapes(g.get()).ok());
  std::unique_ptr<IEngine> engine;
  ASSERT_TRUE(CreateEngine(g, &engine).ok());
  std::unique_ptr<IContext> context;
  ASSERT_TRUE(engine->CreateIContext(&context).ok());
  const Tensor x = testing::RandomTensor(&rng, {1, 16, 12, 12});
  std::vector<Tensor> outputs;
  ASSERT_TRUE(context->Execute({x}, &outputs).ok());
  ExpectClose(outputs[0], Reference(*g, x), "three convs");

  std::vector<ReorderRecord> reorders;
  ASSERT_TRUE(GetLastPlanReorders(*context, &reorders).ok());
  std::string listing;
  for (const ReorderRecord& r : reorders) listing += r.ToString() + "\n";
  for (const ReorderRecord& r : reorders) {
    EXPECT_NE(r.consumer, "conv2") << listing;
    EXPECT_NE(r.consumer, "conv3") << listing;
    // Only the edges may change layout: the input into conv1, the output to plain.
    EXPECT_TRUE(r.tensor == "x" || r.tensor == "c3") << listing;
  }
  // oneDNN's convolutions on this machine prefer a non-plain activation layout, so the
  // edges do get reorders, and they are listed.
  ASSERT_FALSE(reorders.empty()) << "expected the blocked conv output to be reordered to plain";
  EXPECT_EQ(reorders.back().tensor, "c3");
  EXPECT_EQ(reorders.back().consumer, "");
  EXPECT_EQ(reorders.back().to, "abcd");
}

TEST(EngineTest, PaddedLayoutsAreZeroPaddedDespiteArenaReuse) {
  // 10 channels do not fill oneDNN's channel blocks (8 or 16): where the kernels pick
  // blocked layouts (nChw8c under DNNL_MAX_CPU_ISA=AVX2, a registered variant of this
  // test), each tensor carries a padded area that the next conv reads with zero weights,
  // so it must hold zeros, not whatever the arena held before. A first run on NaN inputs
  // (at a larger batch, whose buffers overlap the smaller plan's) fills the arena with
  // NaN; since NaN * 0 is NaN, a dirty padded area would poison the second, clean run.
  // (The context re-zeroes padded areas before each producer, and oneDNN 2.6's
  // primitives also write zeros there themselves: this test checks the end result.)
  std::mt19937 rng(12);
  auto g = std::make_shared<graph::Graph>();
  const graph::TensorId x = AddInput(g.get(), "x", {-1, 3, 9, 9});
  const graph::TensorId w1 =
      AddConst(g.get(), "w1", {10, 3, 3, 3}, testing::RandomValues(&rng, 10 * 3 * 9));
  const graph::TensorId c1 =
      AddOp(g.get(), NodeType::kConv, "conv1", {x, w1},
            testing::ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1, ActivationType::kSigmoid), "c1");
  // Light ops on the padded layout between the convs.
  const graph::TensorId a1 = AddOp(g.get(), NodeType::kActivation, "sigmoid", {c1},
                                   testing::ActivationAttrs(ActivationType::kSigmoid), "a1");
  const graph::TensorId s1 = AddOp(g.get(), NodeType::kElementwise, "add", {a1, c1},
                                   testing::ElementwiseAttrs(ElementwiseOp::kAdd), "s1");
  const graph::TensorId p1 =
      AddOp(g.get(), NodeType::kPool, "pool", {s1},
            testing::PoolAttrs(PoolMode::kAverage, {3, 3}, {1, 1}, {1, 1, 1, 1}), "p1");
  const graph::TensorId w2 =
      AddConst(g.get(), "w2", {12, 10, 3, 3}, testing::RandomValues(&rng, 12 * 10 * 9));
  const graph::TensorId c2 = AddOp(g.get(), NodeType::kConv, "conv2", {p1, w2},
                                   testing::ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1), "c2");
  g->outputs = {c2};
  ASSERT_TRUE(graph::InferShapes(g.get()).ok());
  std::unique_ptr<IEngine> engine;
  ASSERT_TRUE(CreateEngine(g, &engine).ok());
  std::unique_ptr<IContext> context;
  ASSERT_TRUE(engine->CreateIContext(&context).ok());

  Tensor poison = Tensor::Allocate(DataType::FLOAT32, Dims({8, 3, 9, 9}));
  for (int64_t i = 0; i < poison.GetElementCount(); ++i) poison.Data<float>()[i] = NAN;
  std::vector<Tensor> outputs;
  ASSERT_TRUE(context->Execute({poison}, &outputs).ok());
  const Tensor x1 = testing::RandomTensor(&rng, {1, 3, 9, 9});
  ASSERT_TRUE(context->Execute({x1}, &outputs).ok());
  ExpectClose(outputs[0], Reference(*g, x1), "clean run after a NaN run");
}

TEST(EngineTest, PlanCacheIsBounded) {
  auto g = std::make_shared<graph::Graph>();
  const graph::TensorId x = AddInput(g.get(), "x", {-1, 4});
  g->outputs = {AddOp(g.get(), NodeType::kActivation, "relu", {x},
                      testing::ActivationAttrs(ActivationType::kRelu), "y")};
  ASSERT_TRUE(graph::InferShapes(g.get()).ok());
  std::unique_ptr<IEngine> engine;
  ASSERT_TRUE(CreateEngine(g, &engine).ok());
  std::unique_ptr<IContext> context;
  ASSERT_TRUE(engine->CreateIContext(&context).ok());
  std::mt19937 rng(13);
  std::vector<Tensor> outputs;
  for (int64_t batch = 1; batch <= 20; ++batch) {
    ASSERT_TRUE(context->Execute({testing::RandomTensor(&rng, {batch, 4})}, &outputs).ok());
  }
  ContextStats stats;
  ASSERT_TRUE(GetContextStats(*context, &stats).ok());
  EXPECT_EQ(stats.plans_built, 20u);
  EXPECT_EQ(stats.plans_cached, 16u);  // the 16 most recently used
  ASSERT_TRUE(context->Execute({testing::RandomTensor(&rng, {20, 4})}, &outputs).ok());
  ASSERT_TRUE(context->Execute({testing::RandomTensor(&rng, {1, 4})}, &outputs).ok());
  ASSERT_TRUE(GetContextStats(*context, &stats).ok());
  EXPECT_EQ(stats.plans_built, 21u) << "batch 20 is cached; batch 1 was evicted";
}

TEST(EngineTest, ConstantAndInputGraphOutputsAreCopied) {
  // Outputs that are not computed by a kernel: a constant and a graph input.
  auto g = std::make_shared<graph::Graph>();
  const graph::TensorId x = AddInput(g.get(), "x", {-1, 4});
  const graph::TensorId c = AddConst(g.get(), "c", {2, 2}, {1.0f, 2.0f, 3.0f, 4.0f});
  const graph::TensorId y = AddOp(g.get(), NodeType::kActivation, "relu", {x},
                                  testing::ActivationAttrs(ActivationType::kRelu), "y");
  g->outputs = {y, c, x};
  ASSERT_TRUE(graph::InferShapes(g.get()).ok());
  std::unique_ptr<IEngine> engine;
  ASSERT_TRUE(CreateEngine(g, &engine).ok());
  std::unique_ptr<IContext> context;
  ASSERT_TRUE(engine->CreateIContext(&context).ok());
  std::vector<float> xv = {-1.0f, 2.0f, -3.0f, 4.0f, 5.0f, -6.0f, 7.0f, -8.0f};
  std::vector<Tensor> outputs;
  ASSERT_TRUE(
      context->Execute({Tensor::Wrap(DataType::FLOAT32, Dims({2, 4}), xv.data())}, &outputs).ok());
  ASSERT_EQ(outputs.size(), 3u);
  EXPECT_EQ(outputs[0].Data<float>()[0], 0.0f);
  EXPECT_EQ(outputs[0].Data<float>()[1], 2.0f);
  EXPECT_EQ(outputs[1].GetDimension(), Dims({2, 2}));
  EXPECT_EQ(outputs[1].Data<float>()[3], 4.0f);
  EXPECT_EQ(outputs[2].GetDimension(), Dims({2, 4}));
  EXPECT_EQ(outputs[2].Data<float>()[7], -8.0f);
  EXPECT_NE(outputs[2].GetData(), xv.data()) << "an output is the caller's own copy";
}

// --- Validation at Execute -----------------------------------------------------------

class ExecuteValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    f_ = MakeCnn(-1);
    ASSERT_NE(f_.context, nullptr);
    std::mt19937 rng(7);
    good_ = testing::RandomTensor(&rng, {2, 3, 16, 16}, "x");
  }
  Status Run(const std::vector<Tensor>& inputs) {
    std::vector<Tensor> outputs;
    return f_.context->Execute(inputs, &outputs);
  }
  Fixture f_;
  Tensor good_;
};

void ExpectError(const Status& st, StatusCode code, const std::vector<std::string>& parts) {
  EXPECT_EQ(st.code(), code) << st.ToString();
  for (const std::string& part : parts) {
    EXPECT_NE(st.message().find(part), std::string::npos)
        << "message lacks '" << part << "': " << st.message();
  }
}

TEST_F(ExecuteValidationTest, WrongCount) {
  ExpectError(Run({}), StatusCode::kInvalidArgument, {"0 input tensors", "'x'"});
  ExpectError(Run({good_, good_}), StatusCode::kInvalidArgument, {"2 input tensors", "'x'"});
}

TEST_F(ExecuteValidationTest, WrongType) {
  Tensor t = Tensor::Allocate(DataType::INT8, Dims({2, 3, 16, 16}), "x");
  ExpectError(Run({t}), StatusCode::kInvalidArgument, {"'x'", "INT8", "FLOAT32"});
}

TEST_F(ExecuteValidationTest, WrongShape) {
  ExpectError(Run({Tensor::Allocate(DataType::FLOAT32, Dims({2, 3, 16}), "x")}),
              StatusCode::kInvalidArgument, {"'x'", "rank 4", "[2,3,16]"});
  ExpectError(Run({Tensor::Allocate(DataType::FLOAT32, Dims({2, 4, 16, 16}), "x")}),
              StatusCode::kInvalidArgument, {"'x'", "dimension 1 is 4", "fixes it to 3"});
}

TEST_F(ExecuteValidationTest, NullData) {
  const Tensor t = Tensor::Wrap(DataType::FLOAT32, Dims({2, 3, 16, 16}), nullptr, "x");
  ExpectError(Run({t}), StatusCode::kInvalidArgument, {"'x'", "no data"});
}

TEST_F(ExecuteValidationTest, UnknownName) {
  Tensor t = good_;
  t.SetName("images");
  ExpectError(Run({t}), StatusCode::kNotFound, {"'images'", "'x'"});
}

TEST_F(ExecuteValidationTest, NullOutputs) {
  const Status st = f_.context->Execute({good_}, nullptr);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
}

TEST_F(ExecuteValidationTest, ContextStillWorksAfterErrors) {
  EXPECT_FALSE(Run({}).ok());
  EXPECT_TRUE(Run({good_}).ok());
}

TEST(EngineCreationTest, RejectsBadGraphs) {
  std::unique_ptr<IEngine> engine;
  EXPECT_EQ(CreateEngine(nullptr, &engine).code(), StatusCode::kInvalidArgument);
  // A conv whose filter is a graph input (not constant): rejected naming the node.
  auto g = std::make_shared<graph::Graph>();
  const graph::TensorId x = AddInput(g.get(), "x", {1, 2, 4, 4});
  const graph::TensorId w = AddInput(g.get(), "w", {2, 2, 3, 3});
  g->outputs = {AddOp(g.get(), NodeType::kConv, "conv", {x, w},
                      testing::ConvAttrs({1, 1}, {0, 0, 0, 0}, {1, 1}, 1), "y")};
  const Status st = CreateEngine(g, &engine);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'conv'"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace qsdk::runtime
