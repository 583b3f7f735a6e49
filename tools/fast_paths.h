// The "fast paths" of `qsdk bench --profile` (docs/cli.md): what an execution plan
// (IContext::GetLastExecutionPlan) and the build report say about the runtime's fast
// paths (no reorders between kernels, INT8 end to end, residual adds fused in place,
// depthwise convolutions without a float round trip, weights packed once, primitives
// cached per shape, a tight activation arena), counted by pure functions so that every
// classification can be tested on hand-made plans.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "qsdk/build_report.h"
#include "qsdk/execution_plan.h"

namespace qsdk::tools {

// What a step of a plan is, as far as layout changes go.
enum class ReorderKind {
  kNotAReorder,     // a kernel step
  kBetweenKernels,  // "reorder '<tensor>' for '<node>'" of a tensor a kernel step wrote
  kAtInput,         // the same of a tensor no kernel step writes: a model input
  kAtOutput,        // "reorder '<tensor>' for the output"
  kResidualCopy,    // "copy of the residual for in-place update (step N)"
  kOther,           // kernel "reorder" with a label of none of these forms
};

// Splits a reorder label. "reorder 'T' for 'N'" gives T and N; "reorder 'T' for the
// output" gives T, an empty consumer and *for_output true. False for any other label.
bool ParseReorderLabel(const std::string& label, std::string* tensor, std::string* consumer,
                       bool* for_output);

// Classifies step `index` of `plan`. A tensor counts as a model input when no kernel step
// of the plan (a step that is neither a reorder nor a residual copy) writes it.
ReorderKind ClassifyStep(const ExecutionPlanInfo& plan, size_t index);

// Every number of the fast-paths block. Counts are of plan steps unless they say nodes
// (build report nodes, those the builder inserted excepted).
struct FastPaths {
  int64_t steps = 0;  // all steps of the plan

  // Reorders, by ReorderKind.
  int64_t reorders_between_kernels = 0;
  int64_t reorders_at_inputs = 0;
  int64_t reorders_at_outputs = 0;
  int64_t reorders_other = 0;

  // Precision. An engine is INT8 when one of its nodes computes in INT8 ("INT8",
  // "INT8_DYNAMIC", "INT8_EXPLICIT").
  bool int8_engine = false;
  int64_t nodes = 0;
  int64_t int8_nodes = 0;
  std::map<std::string, int64_t> nodes_by_precision;
  int64_t quantize_steps = 0;               // steps of Quantize nodes (inserted or not)
  int64_t dequantize_steps = 0;             // steps of Dequantize nodes (inserted or not)
  int64_t int8_kernel_steps = 0;            // steps of INT8 nodes other than Quantize / Dequantize
  int64_t int8_quantized_output_steps = 0;  // ... whose output 0 is u8 / s8
  int64_t int8_float_output_steps = 0;      // ... whose output 0 is f32 / bf16 / f16
  int64_t heavy_steps = 0;                  // steps of Conv, FullyConnected and MatMul nodes
  int64_t heavy_int8_steps = 0;             // ... computing in INT8

  // Residual adds.
  int64_t residual_adds_fused = 0;     // steps whose node fused a "residual add ..."
  int64_t residual_adds_in_place = 0;  // ... and that write into the residual's buffer
  int64_t residual_copies = 0;         // ReorderKind::kResidualCopy steps
  // Steps of Elementwise nodes (add / sub / mul: the build report does not say which).
  int64_t separate_elementwise_steps = 0;

  // Depthwise convolutions: Conv steps whose implementation the runtime marked "[depthwise]".
  int64_t depthwise_steps = 0;
  int64_t depthwise_quantized_io_steps = 0;  // every input and output u8 / s8
  int64_t depthwise_float_io_steps = 0;      // an input or output f32 / bf16 / f16
  // Element types the depthwise steps read or write, sorted.
  std::vector<std::string> depthwise_elements;

  // Weights.
  double load_ms = 0;
  int64_t weights_relaid_out_steps = 0;  // implementation marked "[weights re-laid out ...]"

  // Primitives.
  int64_t plans_built = 0;
  int64_t runs = 0;  // Execute calls of the context the plan is from

  // Activation memory.
  int64_t arena_bytes = 0;
  int64_t peak_live_bytes = 0;

  int num_threads = 0;

  // A depthwise step with a float input or output in an INT8 network: a round trip
  // through FP32 (dequantize, compute, quantize) that a u8/s8 kernel would not need.
  int64_t DepthwiseFp32RoundTrips() const { return int8_engine ? depthwise_float_io_steps : 0; }
};

// Counts the fast paths of `plan` (from the context that ran `runs` Executes) with the
// build report of its model; `load_ms` is the time from file to engine.
FastPaths ComputeFastPaths(const ExecutionPlanInfo& plan, const BuildReport& report, int64_t runs,
                           double load_ms);

// The block as "key: text" lines ("reorders", "int8 end to end", "residual adds",
// "depthwise conv", "weights", "primitives", "activation arena", "threads").
std::vector<std::pair<std::string, std::string>> FastPathLines(const FastPaths& paths);

// The block as the JSON object `fast_paths` of `qsdk bench --profile --json`.
nlohmann::json FastPathsJson(const FastPaths& paths);

// --- Helpers of the profile table -------------------------------------------------------

// The node of `report` named `name`, or null.
const NodeReport* FindReportNode(const BuildReport& report, const std::string& name);

// "u8 aBcd16b": a tensor's element type and layout.
std::string PlanTensorText(const PlanTensorInfo& tensor);

// {"tensor", "element", "layout"}.
nlohmann::json PlanTensorJson(const PlanTensorInfo& tensor);

// What the profile's "fused" column shows for a step: the fused operations of its node
// (a "residual add of '<tensor>'" shortened to "residual add"), then "in place" when the
// step writes into an input's buffer. `node` may be null (a reorder).
std::vector<std::string> StepFusedShort(const PlanStepInfo& step, const NodeReport* node);

// For each profiled step (node labels in execution order, as IProfiler reported them),
// the index of the same step in `plan`, or -1. Steps are matched by position when the
// labels agree position by position, else by label in order of appearance.
std::vector<int64_t> MatchStepsToPlan(const std::vector<std::string>& profiled_nodes,
                                      const ExecutionPlanInfo& plan);

}  // namespace qsdk::tools
