// A small lowered INT8 network through the engine (context, plans, arena, layouts) vs
// reference::RunGraph, as the builder would lower it: FLOAT32 input -> Quantize -> int8
// convolutions (fused relu, fused residuals) -> int8 Elementwise / Concat / Pool /
// Flatten -> int8 FullyConnected with a FLOAT32 output -> Softmax; plus a Dequantize of an
// intermediate tensor as a second output. Quantization parameters come from a
// calibration run of the FP32 version of the same network (the FP32 version also runs on
// the engine: FP32 fused residuals).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "graph/shape_inference.h"
#include "int8_test_util.h"
#include "reference/quant_math.h"
#include "reference/reference.h"
#include "runtime/engine.h"
#include "runtime_test_util.h"

namespace qsdk::runtime {
namespace {

using testing::AddConst;
using testing::AddInput;
using testing::AddOp;

// Float weights of the network.
struct Weights {
  std::map<std::string, std::vector<float>> values;
  std::map<std::string, std::vector<int64_t>> shapes;

  void Add(std::mt19937* rng, const std::string& name, std::vector<int64_t> shape, float mag) {
    values[name] = testing::RandomValues(rng, graph::ElementCount(shape), -mag, mag);
    shapes[name] = std::move(shape);
  }
};

Weights MakeWeights(uint32_t seed) {
  std::mt19937 rng(seed);
  Weights w;
  w.Add(&rng, "w1", {16, 3, 3, 3}, 0.3f);
  w.Add(&rng, "b1", {16}, 0.2f);
  w.Add(&rng, "w2", {16, 16, 3, 3}, 0.1f);
  w.Add(&rng, "b2", {16}, 0.2f);
  w.Add(&rng, "w3", {16, 16, 3, 3}, 0.1f);
  w.Add(&rng, "b3", {16}, 0.2f);
  w.Add(&rng, "w4", {16, 16, 3, 3}, 0.1f);
  w.Add(&rng, "b4", {16}, 0.2f);
  w.Add(&rng, "wf", {10, 32 * 8 * 8}, 0.05f);
  w.Add(&rng, "bf", {10}, 0.5f);
  return w;
}

// Real ranges of the FP32 network's tensors (calibration).
using Ranges = std::map<std::string, std::pair<float, float>>;

graph::AttrMap Conv3x3(ActivationType act) {
  return testing::ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1, act);
}

// Builds the network. Without `ranges`: FP32. With them: lowered to INT8 (quantized
// tensors get the suffix "/q"; the FP32 tensors "prob" and "c2" stay the outputs).
std::shared_ptr<graph::Graph> BuildNet(const Weights& w, int64_t batch, const Ranges* ranges) {
  auto g = std::make_shared<graph::Graph>();
  const bool int8 = ranges != nullptr;
  std::map<std::string, testing::QuantType> q;  // parameters of each quantized tensor
  const auto quant_of = [&](const std::string& name, DataType dtype) {
    const auto& [lo, hi] = ranges->at(name);
    q[name] = testing::ParamsForRange(dtype, lo, hi);
    return q[name];
  };
  // A tensor `name` produced by `node`: quantized with `dtype` (or `same_as`'s params).
  const auto output = [&](graph::TensorId t, const std::string& name, DataType dtype,
                          const std::string& same_as = "") {
    if (!int8) return;
    const testing::QuantType qt = same_as.empty() ? quant_of(name, dtype) : q.at(same_as);
    q[name] = qt;
    testing::SetQuantized(g.get(), t, qt.dtype, qt.params);
  };
  // Weights (INT8, per channel or per tensor) and bias (INT32) for an op reading `input`.
  const auto weights = [&](const std::string& wn, const std::string& bn, const std::string& input,
                           bool per_channel, std::vector<graph::TensorId>* inputs) {
    if (!int8) {
      inputs->push_back(AddConst(g.get(), wn, w.shapes.at(wn), w.values.at(wn)));
      inputs->push_back(AddConst(g.get(), bn, w.shapes.at(bn), w.values.at(bn)));
      return;
    }
    std::vector<int8_t> wq;
    graph::QuantParams wp;
    EXPECT_TRUE(reference::QuantizeWeights(w.values.at(wn).data(), w.shapes.at(wn),
                                           per_channel ? 0 : -1, &wq, &wp)
                    .ok());
    std::vector<int32_t> bq;
    graph::QuantParams bp;
    EXPECT_TRUE(reference::QuantizeBias(w.values.at(bn).data(), w.shapes.at(bn),
                                        q.at(input).params.scales[0], wp, &bq, &bp)
                    .ok());
    inputs->push_back(testing::AddTypedConstant(g.get(), wn, DataType::INT8, w.shapes.at(wn),
                                                wq.data(), wq.size(), wp));
    inputs->push_back(testing::AddTypedConstant(g.get(), bn, DataType::INT32, w.shapes.at(bn),
                                                bq.data(), bq.size() * sizeof(int32_t), bp));
  };
  const auto name = [&](const std::string& n) { return int8 ? n + "/q" : n; };

  const graph::TensorId x = AddInput(g.get(), "x", {batch, 3, 16, 16});
  graph::TensorId xq = x;
  if (int8) {
    xq = AddOp(g.get(), NodeType::kQuantize, "quantize_x", {x}, {}, "x/q");
    output(xq, "x", DataType::UINT8);
  }
  // c1 = relu(conv1(x)), per-channel weights.
  std::vector<graph::TensorId> in1 = {xq};
  weights("w1", "b1", "x", true, &in1);
  const graph::TensorId c1 =
      AddOp(g.get(), NodeType::kConv, "conv1", in1, Conv3x3(ActivationType::kRelu), name("c1"));
  output(c1, "c1", DataType::UINT8);
  // c2 = relu(conv2(c1)), per-tensor weights.
  std::vector<graph::TensorId> in2 = {c1};
  weights("w2", "b2", "c1", false, &in2);
  const graph::TensorId c2 =
      AddOp(g.get(), NodeType::kConv, "conv2", in2, Conv3x3(ActivationType::kRelu), name("c2"));
  output(c2, "c2", DataType::UINT8);
  // c3 = relu(conv3(c2) + c1): c1's last reader, so the sum runs in place in its buffer.
  std::vector<graph::TensorId> in3 = {c2};
  weights("w3", "b3", "c2", true, &in3);
  in3.push_back(c1);
  graph::AttrMap a3 = Conv3x3(ActivationType::kRelu);
  a3.SetInt(graph::attr::kFusedSum, 1);
  const graph::TensorId c3 = AddOp(g.get(), NodeType::kConv, "conv3", in3, a3, name("c3"));
  output(c3, "c3", DataType::UINT8);
  // c4 = conv4(c3) + c2: c2 is read afterwards (the Dequantize output), so the sum starts
  // from a copy. s8 output.
  std::vector<graph::TensorId> in4 = {c3};
  weights("w4", "b4", "c3", false, &in4);
  in4.push_back(c2);
  graph::AttrMap a4 = Conv3x3(ActivationType::kNone);
  a4.SetInt(graph::attr::kFusedSum, 1);
  const graph::TensorId c4 = AddOp(g.get(), NodeType::kConv, "conv4", in4, a4, name("c4"));
  output(c4, "c4", DataType::INT8);
  // e = c3 + c4 (unfused int8 elementwise, s8).
  const graph::TensorId e = AddOp(g.get(), NodeType::kElementwise, "add", {c3, c4},
                                  testing::ElementwiseAttrs(ElementwiseOp::kAdd), name("e"));
  output(e, "e", DataType::INT8);
  // cat = concat(e, e) on channels (shares e's parameters).
  const graph::TensorId cat =
      AddOp(g.get(), NodeType::kConcat, "concat", {e, e}, testing::AxisAttrs(1), name("cat"));
  output(cat, "cat", DataType::INT8, "e");
  // p = avgpool 2x2/2, f = flatten.
  const graph::TensorId p =
      AddOp(g.get(), NodeType::kPool, "pool", {cat},
            testing::PoolAttrs(PoolMode::kAverage, {2, 2}, {2, 2}), name("p"));
  output(p, "p", DataType::INT8, "e");
  const graph::TensorId f =
      AddOp(g.get(), NodeType::kFlatten, "flatten", {p}, testing::AxisAttrs(1), name("f"));
  output(f, "f", DataType::INT8, "e");
  // logits = fc(f) (FLOAT32 output), prob = softmax(logits).
  std::vector<graph::TensorId> inf = {f};
  weights("wf", "bf", "f", true, &inf);
  graph::AttrMap fc;
  testing::SetFused(&fc, ActivationType::kNone);
  const graph::TensorId logits =
      AddOp(g.get(), NodeType::kFullyConnected, "fc", inf, fc, "logits");
  const graph::TensorId prob =
      AddOp(g.get(), NodeType::kSoftmax, "softmax", {logits}, testing::AxisAttrs(1), "prob");
  graph::TensorId c2_out = c2;
  if (int8) c2_out = AddOp(g.get(), NodeType::kDequantize, "dequantize_c2", {c2}, {}, "c2");
  g->outputs = {prob, c2_out};
  const Status st = graph::InferShapes(g.get());
  EXPECT_TRUE(st.ok()) << st.ToString();
  return st.ok() ? g : nullptr;
}

// Calibrates: runs the FP32 network on `x` with every tensor of interest as an output.
Ranges Calibrate(const Weights& w, const Tensor& x) {
  std::shared_ptr<graph::Graph> g = BuildNet(w, x.GetDimension().GetDims()[0], nullptr);
  const std::vector<std::string> names = {"c1", "c2", "c3", "c4", "e"};
  g->outputs.clear();
  for (const std::string& n : names) g->outputs.push_back(g->FindTensor(n));
  std::vector<Tensor> outs;
  const Status st = reference::RunGraph(*g, {x}, &outs);
  EXPECT_TRUE(st.ok()) << st.ToString();
  Ranges ranges;
  ranges["x"] = {-1.0f, 1.0f};
  for (size_t i = 0; i < outs.size(); ++i) {
    float lo = 0, hi = 0;
    testing::RangeOf(outs[i], &lo, &hi);
    ranges[names[i]] = {lo, hi};
  }
  return ranges;
}

struct Outputs {
  std::vector<Tensor> engine;
  std::vector<Tensor> reference;
};

Outputs RunBoth(const std::shared_ptr<graph::Graph>& g, IContext* context, const Tensor& x) {
  Outputs r;
  Status st = context->Execute({x}, &r.engine);
  EXPECT_TRUE(st.ok()) << st.ToString();
  st = reference::RunGraph(*g, {x}, &r.reference);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return r;
}

// Compares the two outputs of the INT8 network. `c2_scale` and `pool_scale` are the scales
// of the quantized c2 and pooled tensors, `max_wf` the largest |weight| of the FC.
void ExpectNetMatches(const Outputs& r, float c2_scale, float pool_scale, float max_wf,
                      const std::string& label) {
  ASSERT_EQ(r.engine.size(), 2u) << label;
  ASSERT_EQ(r.reference.size(), 2u) << label;
  // c2 (dequantized u8): the int8 convolutions match the reference exactly on VNNI
  // (int8_heavy_test.cc); allow the contract's 1 LSB on at most 1% of the elements.
  const Tensor& c2 = r.engine[1];
  const Tensor& c2_ref = r.reference[1];
  ASSERT_EQ(c2.GetDimension(), c2_ref.GetDimension()) << label;
  int64_t differing = 0;
  for (int64_t i = 0; i < c2.GetElementCount(); ++i) {
    const float d = std::fabs(c2.Data<float>()[i] - c2_ref.Data<float>()[i]);
    EXPECT_LE(d, c2_scale * 1.001f) << label << " c2[" << i << "]";
    differing += d > 0.0f;
  }
  EXPECT_LE(differing, std::max<int64_t>(1, c2.GetElementCount() / 100)) << label;
  // prob: the logits are an exact integer sum scaled once (FP32 output), so they differ
  // only where an upstream value flipped by 1 LSB; one flipped pooled element moves a
  // logit by at most pool_scale * max|wf| and softmax is 1/2-Lipschitz per output (sum
  // of |dp_i/dz_j| <= 1/2). Allow that for one flip, plus float rounding of softmax.
  const double tolerance = 0.5 * pool_scale * max_wf + 1e-6;
  EXPECT_LE(testing::MaxAbsDiff(r.engine[0], r.reference[0]), tolerance) << label;
}

struct Net {
  Weights weights;
  Ranges ranges;
  std::shared_ptr<graph::Graph> graph;
  std::unique_ptr<IEngine> engine;
  std::unique_ptr<IContext> context;
  float c2_scale = 0, pool_scale = 0, max_wf = 0;
};

Net MakeNet(int64_t batch, const Tensor& calibration) {
  Net n;
  n.weights = MakeWeights(11);
  n.ranges = Calibrate(n.weights, calibration);
  n.graph = BuildNet(n.weights, batch, &n.ranges);
  if (n.graph == nullptr) return n;
  n.c2_scale = n.graph->tensors[n.graph->FindTensor("c2/q")].quant.scales[0];
  n.pool_scale = n.graph->tensors[n.graph->FindTensor("p/q")].quant.scales[0];
  for (float v : n.weights.values.at("wf")) n.max_wf = std::max(n.max_wf, std::fabs(v));
  Status st = CreateEngine(n.graph, &n.engine);
  EXPECT_TRUE(st.ok()) << st.ToString();
  if (!st.ok()) return n;
  st = n.engine->CreateIContext(&n.context);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return n;
}

TEST(Int8EngineTest, LoweredNetworkMatchesReference) {
  QSDK_REQUIRE_VNNI();
  std::mt19937 rng(21);
  const Tensor x = testing::RandomTensor(&rng, {2, 3, 16, 16}, "x");
  Net n = MakeNet(2, x);
  ASSERT_NE(n.context, nullptr);
  ExpectNetMatches(RunBoth(n.graph, n.context.get(), x), n.c2_scale, n.pool_scale, n.max_wf,
                   "calibration input");
  // Another input through the same plan.
  const Tensor x2 = testing::RandomTensor(&rng, {2, 3, 16, 16}, "x");
  ExpectNetMatches(RunBoth(n.graph, n.context.get(), x2), n.c2_scale, n.pool_scale, n.max_wf,
                   "second input");

  // Kernels chosen per node.
  std::vector<std::pair<std::string, std::string>> names;
  ASSERT_TRUE(GetKernelNames(*n.engine, &names).ok());
  std::map<std::string, std::string> by_node(names.begin(), names.end());
  EXPECT_EQ(by_node["quantize_x"], "onednn_quantize");
  for (const char* conv : {"conv1", "conv2", "conv3", "conv4"}) {
    EXPECT_EQ(by_node[conv], "onednn_conv_int8") << conv;
  }
  EXPECT_EQ(by_node["add"], "onednn_binary_int8");
  EXPECT_EQ(by_node["concat"], "onednn_concat_int8");
  EXPECT_EQ(by_node["pool"], "onednn_pooling_int8");
  EXPECT_EQ(by_node["flatten"], "zero_copy_reshape");
  EXPECT_EQ(by_node["fc"], "onednn_matmul_int8");
  EXPECT_EQ(by_node["softmax"], "onednn_softmax_fp32");
  EXPECT_EQ(by_node["dequantize_c2"], "onednn_dequantize");
  EXPECT_EQ(names.size(), 12u);

  // Quantized activations flow from the Quantize through the four convolutions without
  // a reorder: the Quantize writes the convolutions' channels-last u8 layout and each
  // convolution's output layout is the next one's (residuals included).
  std::vector<ReorderRecord> reorders;
  ASSERT_TRUE(GetLastPlanReorders(*n.context, &reorders).ok());
  for (const ReorderRecord& r : reorders) {
    EXPECT_TRUE(r.consumer != "conv1" && r.consumer != "conv2" && r.consumer != "conv3" &&
                r.consumer != "conv4")
        << r.ToString();
  }
  // conv3's residual (c1) is read by nothing later: summed in place in its buffer;
  // conv4's (c2) is still needed by the Dequantize: copied first.
  ContextStats stats;
  ASSERT_TRUE(GetContextStats(*n.context, &stats).ok());
  EXPECT_EQ(stats.in_place_shared, 1u);
  EXPECT_EQ(stats.in_place_copied, 1u);
}

TEST(Int8EngineTest, DynamicBatchBuildsOnePlanPerShape) {
  QSDK_REQUIRE_VNNI();
  std::mt19937 rng(22);
  Net n = MakeNet(-1, testing::RandomTensor(&rng, {4, 3, 16, 16}, "x"));
  ASSERT_NE(n.context, nullptr);
  for (int64_t batch : {1, 3, 1}) {
    const Tensor x = testing::RandomTensor(&rng, {batch, 3, 16, 16}, "x");
    ExpectNetMatches(RunBoth(n.graph, n.context.get(), x), n.c2_scale, n.pool_scale, n.max_wf,
                     "batch " + std::to_string(batch));
  }
  ContextStats stats;
  ASSERT_TRUE(GetContextStats(*n.context, &stats).ok());
  EXPECT_EQ(stats.plans_built, 2u);
}

TEST(Int8EngineTest, Fp32NetworkWithFusedResiduals) {
  // The FP32 version of the network: fused residual sums in FP32 (sum post-op, scale 1),
  // in place for conv3 and from a copy for conv4 (c2 is a graph output). Tolerance as in
  // engine_test.cc: 1e-4 * max|reference| (fp32 accumulation order).
  std::mt19937 rng(23);
  const Weights w = MakeWeights(12);
  std::shared_ptr<graph::Graph> g = BuildNet(w, 2, nullptr);
  ASSERT_NE(g, nullptr);
  std::unique_ptr<IEngine> engine;
  ASSERT_TRUE(CreateEngine(g, &engine).ok());
  std::unique_ptr<IContext> context;
  ASSERT_TRUE(engine->CreateIContext(&context).ok());
  const Outputs r = RunBoth(g, context.get(), testing::RandomTensor(&rng, {2, 3, 16, 16}, "x"));
  ASSERT_EQ(r.engine.size(), 2u);
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_LE(testing::MaxAbsDiff(r.engine[k], r.reference[k]),
              1e-4 * testing::MaxAbs(r.reference[k]) + 1e-6)
        << "output " << k;
  }
  ContextStats stats;
  ASSERT_TRUE(GetContextStats(*context, &stats).ok());
  EXPECT_EQ(stats.in_place_shared, 1u);
  EXPECT_EQ(stats.in_place_copied, 1u);
}

TEST(Int8EngineTest, QuantizedGraphOutputIsRejected) {
  auto g = std::make_shared<graph::Graph>();
  const graph::TensorId x = AddInput(g.get(), "x", {1, 4});
  const graph::TensorId y = AddOp(g.get(), NodeType::kQuantize, "quantize", {x}, {}, "y");
  testing::SetQuantized(g.get(), y, DataType::UINT8, testing::PerTensor(0.1f, 0));
  g->outputs = {y};
  ASSERT_TRUE(graph::InferShapes(g.get()).ok());
  std::unique_ptr<IEngine> engine;
  const Status st = CreateEngine(g, &engine);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find("graph output tensor 'y' has type UINT8"), std::string::npos)
      << st.message();
}

}  // namespace
}  // namespace qsdk::runtime
