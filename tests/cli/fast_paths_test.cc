// The fast-paths block of `qsdk bench --profile` (tools/fast_paths.h) on hand-made
// execution plans and build reports: every count, every reorder classification, the
// depthwise FP32 round trip, a non-INT8 engine, the text lines and the JSON object, and
// the helpers of the profile table.
#include "fast_paths.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace qsdk::tools {
namespace {

NodeReport Node(const std::string& name, NodeType type, const std::string& precision,
                std::vector<std::string> fused = {}, bool inserted = false) {
  NodeReport n;
  n.name = name;
  n.type = type;
  n.precision = precision;
  n.fused = std::move(fused);
  n.inserted = inserted;
  return n;
}

PlanTensorInfo T(const std::string& tensor, const std::string& element, const std::string& layout) {
  return {tensor, element, layout};
}

PlanStepInfo Step(const std::string& node, const std::string& kernel,
                  const std::string& implementation, std::vector<PlanTensorInfo> inputs,
                  std::vector<PlanTensorInfo> outputs, bool in_place = false) {
  PlanStepInfo s;
  s.node = node;
  s.kernel = kernel;
  s.implementation = implementation;
  s.inputs = std::move(inputs);
  s.outputs = std::move(outputs);
  s.in_place = in_place;
  return s;
}

// An INT8 network with one of everything the block counts:
//   x -> [reorder at input] -> quantize -> conv1 -> [reorder between kernels] -> dw
//   (depthwise, writes f32: a round trip) -> [residual copy] -> conv2 (residual add, in
//   place, weights re-laid out) -> add (Elementwise) -> fc (writes f32) -> softmax (FP32)
//   -> [reorder for the output] -> [a reorder of an unknown label]
BuildReport Int8Report() {
  BuildReport r;
  r.nodes = {
      Node("x/quantize", NodeType::kQuantize, "INT8", {}, /*inserted=*/true),
      Node("conv1", NodeType::kConv, "INT8", {"Relu"}),
      Node("dw", NodeType::kConv, "INT8", {"Relu6"}),
      Node("conv2", NodeType::kConv, "INT8", {"residual add of '/a/very/long/name/q'", "Relu"}),
      Node("add", NodeType::kElementwise, "INT8"),
      Node("fc", NodeType::kFullyConnected, "INT8_DYNAMIC"),
      Node("softmax", NodeType::kSoftmax, "FLOAT32"),
  };
  return r;
}

ExecutionPlanInfo Int8Plan() {
  ExecutionPlanInfo p;
  p.steps = {
      Step("reorder 'x' for 'x/quantize'", "reorder", "jit:uni", {T("x", "f32", "abcd")},
           {T("x", "f32", "acdb")}),
      Step("x/quantize", "onednn_quantize", "jit:uni", {T("x", "f32", "acdb")},
           {T("x/s8", "s8", "acdb")}),
      Step("conv1", "onednn_conv_int8", "brg:avx512_core_amx", {T("x/s8", "s8", "acdb")},
           {T("c1", "u8", "aBcd16b")}),
      Step("reorder 'c1' for 'dw'", "reorder", "jit:uni", {T("c1", "u8", "aBcd16b")},
           {T("c1", "u8", "acdb")}),
      Step("dw", "onednn_conv_int8", "jit_uni_dw:avx512_core [depthwise]", {T("c1", "u8", "acdb")},
           {T("d", "f32", "acdb")}),
      Step("copy of the residual for in-place update (step 6)", "reorder", "simple:any",
           {T("c1", "u8", "acdb")}, {T("c1 copy", "u8", "acdb")}),
      Step("conv2", "onednn_conv_int8", "brg:avx512_core_amx [weights re-laid out for this shape]",
           {T("d", "f32", "acdb"), T("c1 copy", "u8", "acdb")}, {T("c2", "u8", "acdb")},
           /*in_place=*/true),
      Step("add", "onednn_binary_int8", "jit:uni", {T("c2", "u8", "acdb"), T("c1", "u8", "acdb")},
           {T("a", "u8", "acdb")}),
      Step("fc", "onednn_fully_connected_dynamic_int8", "brg:avx512_core_vnni",
           {T("a", "u8", "ab")}, {T("logits", "f32", "ab")}),
      Step("softmax", "onednn_softmax_fp32", "jit:avx512_core", {T("logits", "f32", "ab")},
           {T("y", "f32", "ba")}),
      Step("reorder 'y' for the output", "reorder", "jit:uni", {T("y", "f32", "ba")},
           {T("y", "f32", "ab")}),
      Step("relayout of something", "reorder", "jit:uni", {T("y", "f32", "ab")},
           {T("y", "f32", "ab")}),
  };
  p.num_threads = 2;
  p.plans_built = 1;
  p.arena_bytes = 3 * 1024 * 1024;
  p.peak_live_bytes = 2 * 1024 * 1024;
  return p;
}

TEST(FastPathsTest, ParsesReorderLabels) {
  std::string tensor, consumer;
  bool for_output = true;
  ASSERT_TRUE(ParseReorderLabel("reorder '/a/b' for '/conv 1'", &tensor, &consumer, &for_output));
  EXPECT_EQ(tensor, "/a/b");
  EXPECT_EQ(consumer, "/conv 1");
  EXPECT_FALSE(for_output);
  ASSERT_TRUE(
      ParseReorderLabel("reorder 'logits' for the output", &tensor, &consumer, &for_output));
  EXPECT_EQ(tensor, "logits");
  EXPECT_EQ(consumer, "");
  EXPECT_TRUE(for_output);
  for (const char* bad : {"copy of the residual for in-place update (step 3)", "reorder x",
                          "reorder 'x' for 'y", "reorder 'x'", "conv1", ""}) {
    EXPECT_FALSE(ParseReorderLabel(bad, &tensor, &consumer, &for_output)) << bad;
  }
}

TEST(FastPathsTest, ClassifiesEveryStep) {
  const ExecutionPlanInfo plan = Int8Plan();
  const std::vector<ReorderKind> want = {
      ReorderKind::kAtInput,        ReorderKind::kNotAReorder, ReorderKind::kNotAReorder,
      ReorderKind::kBetweenKernels, ReorderKind::kNotAReorder, ReorderKind::kResidualCopy,
      ReorderKind::kNotAReorder,    ReorderKind::kNotAReorder, ReorderKind::kNotAReorder,
      ReorderKind::kNotAReorder,    ReorderKind::kAtOutput,    ReorderKind::kOther};
  ASSERT_EQ(plan.steps.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(ClassifyStep(plan, i), want[i]) << plan.steps[i].node;
  }
  // A tensor that only a reorder writes is still a model input: reordering it again is a
  // reorder at the inputs, not between kernels.
  ExecutionPlanInfo twice;
  twice.steps = {
      Step("reorder 'x' for 'a'", "reorder", "", {T("x", "f32", "abcd")}, {T("x", "f32", "acdb")}),
      Step("reorder 'x' for 'b'", "reorder", "", {T("x", "f32", "acdb")},
           {T("x", "f32", "aBcd16b")})};
  EXPECT_EQ(ClassifyStep(twice, 1), ReorderKind::kAtInput);
}

TEST(FastPathsTest, CountsEveryFastPathOfAnInt8Plan) {
  const FastPaths p = ComputeFastPaths(Int8Plan(), Int8Report(), /*runs=*/220, /*load_ms=*/34.4);
  EXPECT_EQ(p.steps, 12);
  EXPECT_EQ(p.reorders_between_kernels, 1);
  EXPECT_EQ(p.reorders_at_inputs, 1);
  EXPECT_EQ(p.reorders_at_outputs, 1);
  EXPECT_EQ(p.reorders_other, 1);
  EXPECT_EQ(p.residual_copies, 1);

  EXPECT_TRUE(p.int8_engine);
  EXPECT_EQ(p.nodes, 6);       // the inserted Quantize is not counted
  EXPECT_EQ(p.int8_nodes, 5);  // INT8_DYNAMIC is INT8
  EXPECT_EQ(p.nodes_by_precision.at("INT8"), 4);
  EXPECT_EQ(p.nodes_by_precision.at("INT8_DYNAMIC"), 1);
  EXPECT_EQ(p.nodes_by_precision.at("FLOAT32"), 1);
  EXPECT_EQ(p.quantize_steps, 1);
  EXPECT_EQ(p.dequantize_steps, 0);
  EXPECT_EQ(p.int8_kernel_steps, 5);            // conv1, dw, conv2, add, fc
  EXPECT_EQ(p.int8_quantized_output_steps, 3);  // conv1, conv2, add
  EXPECT_EQ(p.int8_float_output_steps, 2);      // dw, fc
  EXPECT_EQ(p.heavy_steps, 4);                  // conv1, dw, conv2, fc
  EXPECT_EQ(p.heavy_int8_steps, 4);

  EXPECT_EQ(p.residual_adds_fused, 1);
  EXPECT_EQ(p.residual_adds_in_place, 1);
  EXPECT_EQ(p.separate_elementwise_steps, 1);

  EXPECT_EQ(p.depthwise_steps, 1);
  EXPECT_EQ(p.depthwise_quantized_io_steps, 0);
  EXPECT_EQ(p.depthwise_float_io_steps, 1);
  EXPECT_EQ(p.DepthwiseFp32RoundTrips(), 1);
  EXPECT_EQ(p.depthwise_elements, (std::vector<std::string>{"f32", "u8"}));

  EXPECT_EQ(p.weights_relaid_out_steps, 1);
  EXPECT_EQ(p.load_ms, 34.4);
  EXPECT_EQ(p.plans_built, 1);
  EXPECT_EQ(p.runs, 220);
  EXPECT_EQ(p.arena_bytes, 3 * 1024 * 1024);
  EXPECT_EQ(p.peak_live_bytes, 2 * 1024 * 1024);
  EXPECT_EQ(p.num_threads, 2);
}

TEST(FastPathsTest, RendersOneLinePerFastPath) {
  const auto lines =
      FastPathLines(ComputeFastPaths(Int8Plan(), Int8Report(), /*runs=*/220, /*load_ms=*/34.4));
  const std::vector<std::pair<std::string, std::string>> want = {
      {"reorders", "1 between kernels, 1 at the inputs, 1 at the outputs, 1 other"},
      {"int8 end to end",
       "5 of 6 nodes INT8; 1 Quantize, 0 Dequantize steps; 3 INT8 kernels write u8/s8 "
       "(requantization fused), 2 write float; Conv/FullyConnected/MatMul: 4 of 4 INT8"},
      {"residual adds",
       "1 fused as sum post-ops (1 in place, 1 residual copy), 1 separate Elementwise "
       "(add/sub/mul) step"},
      {"depthwise conv",
       "1 step, 1 with a float input or output: FP32 round trip in an INT8 network"},
      {"weights",
       "packed at engine creation (load 34.4 ms); 1 step re-laid out weights for this shape"},
      {"primitives", "1 plan built for 220 runs (cached per input shape)"},
      {"activation arena", "3072 kB = 1.50 x peak live tensors (lifetime planner)"},
      {"threads", "2 per context"},
  };
  EXPECT_EQ(lines, want);
}

TEST(FastPathsTest, CleanInt8PlanSaysNoRoundTrip) {
  // The same network with the depthwise convolution writing u8 and no reorders.
  BuildReport report = Int8Report();
  ExecutionPlanInfo plan;
  plan.steps = {
      Step("x/quantize", "onednn_quantize", "jit:uni", {T("x", "f32", "acdb")},
           {T("x/s8", "s8", "acdb")}),
      Step("dw", "onednn_conv_int8", "jit_int8:avx512_core_vnni [depthwise]", {T("x/s8", "s8", "acdb")},
           {T("d", "u8", "acdb")}),
      Step("dw", "onednn_conv_int8", "brdgmm_dw:avx512_core_amx [depthwise]", {T("d", "u8", "acdb")},
           {T("e", "u8", "acdb")}),
      // The mark on a step that is no convolution is no depthwise.
      Step("add", "onednn_binary_int8", "jit:uni [depthwise]", {T("e", "u8", "acdb")},
           {T("a", "u8", "acdb")}),
  };
  plan.plans_built = 2;
  plan.num_threads = 1;
  const FastPaths p = ComputeFastPaths(plan, report, /*runs=*/1, /*load_ms=*/0.04);
  EXPECT_EQ(p.depthwise_steps, 2);
  EXPECT_EQ(p.depthwise_quantized_io_steps, 2);
  EXPECT_EQ(p.DepthwiseFp32RoundTrips(), 0);
  EXPECT_EQ(p.reorders_between_kernels + p.reorders_at_inputs + p.reorders_at_outputs, 0);
  const auto lines = FastPathLines(p);
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_EQ(lines[0].second, "0 between kernels, 0 at the inputs, 0 at the outputs");
  EXPECT_EQ(lines[3].second, "2 steps, all u8/s8 in and out (no FP32 round trip)");
  EXPECT_EQ(lines[5].second, "2 plans built for 1 run (cached per input shape)");
  EXPECT_EQ(lines[6].second, "0 kB (no live tensors reported)");
  EXPECT_EQ(lines[7].second, "1 per context");
  // No depthwise step at all.
  plan.steps.resize(1);
  EXPECT_EQ(FastPathLines(ComputeFastPaths(plan, report, 1, 0))[3].second,
            "0 steps (no depthwise convolution in the plan)");
}

TEST(FastPathsTest, NonInt8EngineIsNamedByItsPrecisions) {
  BuildReport report;
  report.nodes = {
      Node("input/cast", NodeType::kCast, "BFLOAT16", {}, /*inserted=*/true),
      Node("conv1", NodeType::kConv, "BFLOAT16"),
      Node("dw", NodeType::kConv, "FLOAT32"),
      Node("pool", NodeType::kPool, "FLOAT32"),
      Node("fc", NodeType::kFullyConnected, "FLOAT32"),
  };
  ExecutionPlanInfo plan;
  plan.steps = {Step("dw", "onednn_conv_fp32", "jit_uni_dw:avx512_core [depthwise]", {T("a", "f32", "acdb")},
                     {T("b", "f32", "acdb")})};
  const FastPaths p = ComputeFastPaths(plan, report, 3, 1.0);
  EXPECT_FALSE(p.int8_engine);
  EXPECT_EQ(p.nodes, 4);
  EXPECT_EQ(p.int8_nodes, 0);
  // Float depthwise steps in a float network are no round trip.
  EXPECT_EQ(p.depthwise_float_io_steps, 1);
  EXPECT_EQ(p.DepthwiseFp32RoundTrips(), 0);
  const auto lines = FastPathLines(p);
  EXPECT_EQ(lines[1].second, "not an INT8 engine (3 FLOAT32, 1 BFLOAT16 nodes)");
  EXPECT_EQ(lines[3].second, "1 step (f32 in and out)");
  const nlohmann::json j = FastPathsJson(p);
  EXPECT_EQ(j["int8"]["int8_engine"], false);
  EXPECT_EQ(j["int8"]["nodes_by_precision"]["BFLOAT16"], 1);
  EXPECT_EQ(j["depthwise"]["fp32_round_trips"], 0);
}

TEST(FastPathsTest, JsonHoldsEveryNumber) {
  const nlohmann::json j =
      FastPathsJson(ComputeFastPaths(Int8Plan(), Int8Report(), /*runs=*/220, /*load_ms=*/34.4));
  EXPECT_EQ(j["steps"], 12);
  EXPECT_EQ(j["reorders"]["between_kernels"], 1);
  EXPECT_EQ(j["reorders"]["at_inputs"], 1);
  EXPECT_EQ(j["reorders"]["at_outputs"], 1);
  EXPECT_EQ(j["reorders"]["other"], 1);
  EXPECT_EQ(j["int8"]["int8_engine"], true);
  EXPECT_EQ(j["int8"]["nodes"], 6);
  EXPECT_EQ(j["int8"]["int8_nodes"], 5);
  EXPECT_EQ(j["int8"]["quantize_steps"], 1);
  EXPECT_EQ(j["int8"]["dequantize_steps"], 0);
  EXPECT_EQ(j["int8"]["int8_kernel_steps"], 5);
  EXPECT_EQ(j["int8"]["int8_quantized_output_steps"], 3);
  EXPECT_EQ(j["int8"]["int8_float_output_steps"], 2);
  EXPECT_EQ(j["int8"]["heavy_steps"], 4);
  EXPECT_EQ(j["int8"]["heavy_int8_steps"], 4);
  EXPECT_EQ(j["residual_adds"]["fused"], 1);
  EXPECT_EQ(j["residual_adds"]["in_place"], 1);
  EXPECT_EQ(j["residual_adds"]["residual_copies"], 1);
  EXPECT_EQ(j["residual_adds"]["separate_elementwise_steps"], 1);
  EXPECT_EQ(j["depthwise"]["steps"], 1);
  EXPECT_EQ(j["depthwise"]["quantized_io_steps"], 0);
  EXPECT_EQ(j["depthwise"]["float_io_steps"], 1);
  EXPECT_EQ(j["depthwise"]["fp32_round_trips"], 1);
  EXPECT_EQ(j["depthwise"]["elements"], nlohmann::json({"f32", "u8"}));
  EXPECT_EQ(j["weights"]["load_ms"], 34.4);
  EXPECT_EQ(j["weights"]["relaid_out_steps"], 1);
  EXPECT_EQ(j["primitives"]["plans_built"], 1);
  EXPECT_EQ(j["primitives"]["runs"], 220);
  EXPECT_EQ(j["activation_arena"]["arena_bytes"], 3 * 1024 * 1024);
  EXPECT_EQ(j["activation_arena"]["peak_live_bytes"], 2 * 1024 * 1024);
  // 3 MiB / 2 MiB is exactly 1.5 in binary.
  EXPECT_EQ(j["activation_arena"]["arena_to_peak"], 1.5);
  EXPECT_EQ(j["threads"], 2);
}

TEST(FastPathsTest, ProfileTableHelpers) {
  const BuildReport report = Int8Report();
  const ExecutionPlanInfo plan = Int8Plan();
  ASSERT_NE(FindReportNode(report, "conv2"), nullptr);
  EXPECT_EQ(FindReportNode(report, "conv2")->type, NodeType::kConv);
  EXPECT_EQ(FindReportNode(report, "reorder 'c1' for 'dw'"), nullptr);
  EXPECT_EQ(PlanTensorText(T("c1", "u8", "aBcd16b")), "u8 aBcd16b");
  EXPECT_EQ(PlanTensorText(T("c1", "u8", "")), "u8");
  EXPECT_EQ(PlanTensorJson(T("c1", "u8", "acdb")),
            nlohmann::json({{"tensor", "c1"}, {"element", "u8"}, {"layout", "acdb"}}));
  EXPECT_EQ(StepFusedShort(plan.steps[6], FindReportNode(report, "conv2")),
            (std::vector<std::string>{"residual add", "Relu", "in place"}));
  EXPECT_EQ(StepFusedShort(plan.steps[2], FindReportNode(report, "conv1")),
            (std::vector<std::string>{"Relu"}));
  EXPECT_TRUE(StepFusedShort(plan.steps[3], nullptr).empty());
}

TEST(FastPathsTest, MatchesProfiledStepsToPlanSteps) {
  ExecutionPlanInfo plan;
  plan.steps = {Step("a", "k", "", {}, {}), Step("b", "k", "", {}, {}), Step("a", "k", "", {}, {})};
  // Same labels in the same order: by position.
  EXPECT_EQ(MatchStepsToPlan({"a", "b", "a"}, plan), (std::vector<int64_t>{0, 1, 2}));
  // Otherwise by label, the k-th "a" to the k-th "a"; unknown labels and extra ones: -1.
  EXPECT_EQ(MatchStepsToPlan({"b", "a", "z", "a", "a"}, plan),
            (std::vector<int64_t>{1, 0, -1, 2, -1}));
  EXPECT_TRUE(MatchStepsToPlan({}, plan).empty());
  EXPECT_EQ(MatchStepsToPlan({"a"}, ExecutionPlanInfo{}), (std::vector<int64_t>{-1}));
}

}  // namespace
}  // namespace qsdk::tools
