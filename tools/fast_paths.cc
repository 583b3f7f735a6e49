#include "fast_paths.h"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <set>
#include <unordered_map>

#include "qsdk/node_type.h"

namespace qsdk::tools {
namespace {

constexpr const char kReorderPrefix[] = "reorder '";
constexpr const char kForOutputSuffix[] = "' for the output";
constexpr const char kForNode[] = "' for '";
constexpr const char kResidualCopyPrefix[] = "copy of the residual";
constexpr const char kResidualAddPrefix[] = "residual add";
constexpr const char kRelaidOutMark[] = "[weights re-laid out for this shape]";

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool IsQuantizedElement(const std::string& element) { return element == "u8" || element == "s8"; }

bool IsFloatElement(const std::string& element) {
  return element == "f32" || element == "bf16" || element == "f16";
}

// "INT8", "INT8_DYNAMIC" and "INT8_EXPLICIT" all compute in 8-bit integers.
bool IsInt8Precision(const std::string& precision) { return StartsWith(precision, "INT8"); }

bool IsReorderKernel(const PlanStepInfo& step) { return step.kernel == "reorder"; }

bool IsResidualCopy(const PlanStepInfo& step) { return StartsWith(step.node, kResidualCopyPrefix); }

// A step that runs a node's kernel (not a layout change or copy the runtime inserted).
bool IsKernelStep(const PlanStepInfo& step) {
  return !IsReorderKernel(step) && !IsResidualCopy(step);
}

std::string Count(int64_t n, const std::string& singular, const std::string& plural) {
  return std::to_string(n) + " " + (n == 1 ? singular : plural);
}

std::string Fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f", decimals, value);
  return text;
}

// "53 FLOAT32, 5 BFLOAT16": precisions by decreasing count, then by name.
std::string PrecisionList(const std::map<std::string, int64_t>& by_precision) {
  std::vector<std::pair<int64_t, std::string>> order;
  for (const auto& [precision, count] : by_precision) order.push_back({-count, precision});
  std::sort(order.begin(), order.end());
  std::string text;
  for (const auto& [negative, precision] : order) {
    text += (text.empty() ? "" : ", ") + std::to_string(-negative) + " " + precision;
  }
  return text.empty() ? "no" : text;
}

std::string Join(const std::vector<std::string>& items, const std::string& separator) {
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "" : separator) + item;
  return text;
}

}  // namespace

bool ParseReorderLabel(const std::string& label, std::string* tensor, std::string* consumer,
                       bool* for_output) {
  const size_t prefix = sizeof(kReorderPrefix) - 1;
  if (!StartsWith(label, kReorderPrefix)) return false;
  if (EndsWith(label, kForOutputSuffix) && label.size() >= prefix + sizeof(kForOutputSuffix) - 1) {
    *tensor = label.substr(prefix, label.size() - prefix - (sizeof(kForOutputSuffix) - 1));
    consumer->clear();
    *for_output = true;
    return true;
  }
  // "reorder 'T' for 'N'": the first "' for '" after the tensor's opening quote; a label
  // that does not end with the consumer's closing quote is not of this form.
  const size_t split = label.find(kForNode, prefix);
  if (split == std::string::npos || !EndsWith(label, "'") ||
      label.size() < split + sizeof(kForNode)) {
    return false;
  }
  *tensor = label.substr(prefix, split - prefix);
  const size_t consumer_begin = split + sizeof(kForNode) - 1;
  *consumer = label.substr(consumer_begin, label.size() - 1 - consumer_begin);
  *for_output = false;
  return true;
}

ReorderKind ClassifyStep(const ExecutionPlanInfo& plan, size_t index) {
  const PlanStepInfo& step = plan.steps[index];
  if (IsResidualCopy(step)) return ReorderKind::kResidualCopy;
  if (!IsReorderKernel(step)) return ReorderKind::kNotAReorder;
  std::string tensor, consumer;
  bool for_output = false;
  if (!ParseReorderLabel(step.node, &tensor, &consumer, &for_output)) return ReorderKind::kOther;
  if (for_output) return ReorderKind::kAtOutput;
  for (const PlanStepInfo& other : plan.steps) {
    if (!IsKernelStep(other)) continue;
    for (const PlanTensorInfo& out : other.outputs) {
      if (out.tensor == tensor) return ReorderKind::kBetweenKernels;
    }
  }
  return ReorderKind::kAtInput;
}

FastPaths ComputeFastPaths(const ExecutionPlanInfo& plan, const BuildReport& report, int64_t runs,
                           double load_ms) {
  FastPaths p;
  p.steps = static_cast<int64_t>(plan.steps.size());
  p.load_ms = load_ms;
  p.runs = runs;
  p.plans_built = static_cast<int64_t>(plan.plans_built);
  p.arena_bytes = static_cast<int64_t>(plan.arena_bytes);
  p.peak_live_bytes = static_cast<int64_t>(plan.peak_live_bytes);
  p.num_threads = plan.num_threads;

  std::unordered_map<std::string, const NodeReport*> nodes;
  for (const NodeReport& node : report.nodes) {
    nodes.emplace(node.name, &node);
    if (node.inserted) continue;
    ++p.nodes;
    ++p.nodes_by_precision[node.precision];
    if (IsInt8Precision(node.precision)) ++p.int8_nodes;
  }
  p.int8_engine = p.int8_nodes > 0;

  std::set<std::string> depthwise_elements;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const PlanStepInfo& step = plan.steps[i];
    switch (ClassifyStep(plan, i)) {
      case ReorderKind::kBetweenKernels:
        ++p.reorders_between_kernels;
        continue;
      case ReorderKind::kAtInput:
        ++p.reorders_at_inputs;
        continue;
      case ReorderKind::kAtOutput:
        ++p.reorders_at_outputs;
        continue;
      case ReorderKind::kResidualCopy:
        ++p.residual_copies;
        continue;
      case ReorderKind::kOther:
        ++p.reorders_other;
        continue;
      case ReorderKind::kNotAReorder:
        break;
    }
    if (step.implementation.find(kRelaidOutMark) != std::string::npos) {
      ++p.weights_relaid_out_steps;
    }
    const auto found = nodes.find(step.node);
    const NodeReport* node = found == nodes.end() ? nullptr : found->second;
    const NodeType type = node != nullptr ? node->type : NodeType::kInvalid;
    const bool int8 = node != nullptr && IsInt8Precision(node->precision);

    if (type == NodeType::kQuantize) ++p.quantize_steps;
    if (type == NodeType::kDequantize) ++p.dequantize_steps;
    if (int8 && type != NodeType::kQuantize && type != NodeType::kDequantize) {
      ++p.int8_kernel_steps;
      if (!step.outputs.empty()) {
        if (IsQuantizedElement(step.outputs[0].element)) ++p.int8_quantized_output_steps;
        if (IsFloatElement(step.outputs[0].element)) ++p.int8_float_output_steps;
      }
    }
    if (type == NodeType::kConv || type == NodeType::kFullyConnected || type == NodeType::kMatMul) {
      ++p.heavy_steps;
      if (int8) ++p.heavy_int8_steps;
    }
    if (type == NodeType::kElementwise) ++p.separate_elementwise_steps;
    if (node != nullptr) {
      const bool residual =
          std::any_of(node->fused.begin(), node->fused.end(),
                      [](const std::string& f) { return StartsWith(f, kResidualAddPrefix); });
      if (residual) {
        ++p.residual_adds_fused;
        if (step.in_place) ++p.residual_adds_in_place;
      }
    }

    // Depthwise: the runtime's conv kernel marks a depthwise step's implementation with
    // "[depthwise]" (oneDNN's own names do not always say so: its int8 jit convolutions
    // handle depthwise shapes under their general name). A step of no report node is
    // taken as a convolution when its kernel says so.
    const bool conv =
        type == NodeType::kConv || (node == nullptr && StartsWith(step.kernel, "onednn_conv"));
    if (conv && step.implementation.find("[depthwise]") != std::string::npos) {
      ++p.depthwise_steps;
      bool all_quantized = true, any_float = false;
      for (const auto* list : {&step.inputs, &step.outputs}) {
        for (const PlanTensorInfo& t : *list) {
          depthwise_elements.insert(t.element);
          all_quantized = all_quantized && IsQuantizedElement(t.element);
          any_float = any_float || IsFloatElement(t.element);
        }
      }
      if (all_quantized) ++p.depthwise_quantized_io_steps;
      if (any_float) ++p.depthwise_float_io_steps;
    }
  }
  p.depthwise_elements.assign(depthwise_elements.begin(), depthwise_elements.end());
  return p;
}

std::vector<std::pair<std::string, std::string>> FastPathLines(const FastPaths& p) {
  std::vector<std::pair<std::string, std::string>> lines;

  std::string reorders = std::to_string(p.reorders_between_kernels) + " between kernels, " +
                         std::to_string(p.reorders_at_inputs) + " at the inputs, " +
                         std::to_string(p.reorders_at_outputs) + " at the outputs";
  if (p.reorders_other > 0) reorders += ", " + std::to_string(p.reorders_other) + " other";
  lines.push_back({"reorders", reorders});

  if (p.int8_engine) {
    std::string int8 = std::to_string(p.int8_nodes) + " of " + std::to_string(p.nodes) +
                       " nodes INT8; " + std::to_string(p.quantize_steps) + " Quantize, " +
                       std::to_string(p.dequantize_steps) + " Dequantize steps; " +
                       std::to_string(p.int8_quantized_output_steps) +
                       " INT8 kernels write u8/s8 (requantization fused)";
    if (p.int8_float_output_steps > 0) {
      int8 += ", " + std::to_string(p.int8_float_output_steps) +
              (p.int8_float_output_steps == 1 ? " writes float" : " write float");
    }
    int8 += "; Conv/FullyConnected/MatMul: " + std::to_string(p.heavy_int8_steps) + " of " +
            std::to_string(p.heavy_steps) + " INT8";
    lines.push_back({"int8 end to end", int8});
  } else {
    lines.push_back({"int8 end to end",
                     "not an INT8 engine (" + PrecisionList(p.nodes_by_precision) + " nodes)"});
  }

  lines.push_back(
      {"residual adds",
       std::to_string(p.residual_adds_fused) + " fused as sum post-ops (" +
           std::to_string(p.residual_adds_in_place) + " in place, " +
           Count(p.residual_copies, "residual copy", "residual copies") + "), " +
           Count(p.separate_elementwise_steps, "separate Elementwise (add/sub/mul) step",
                 "separate Elementwise (add/sub/mul) steps")});

  std::string depthwise;
  if (p.depthwise_steps == 0) {
    depthwise = "0 steps (no depthwise convolution in the plan)";
  } else if (!p.int8_engine) {
    depthwise = Count(p.depthwise_steps, "step", "steps") + " (" +
                Join(p.depthwise_elements, ", ") + " in and out)";
  } else if (p.DepthwiseFp32RoundTrips() == 0) {
    depthwise = Count(p.depthwise_steps, "step", "steps") +
                (p.depthwise_quantized_io_steps == p.depthwise_steps
                     ? ", all u8/s8 in and out (no FP32 round trip)"
                     : ", " + std::to_string(p.depthwise_quantized_io_steps) +
                           " u8/s8 in and out, no float input or output (no FP32 round trip)");
  } else {
    depthwise = Count(p.depthwise_steps, "step", "steps") + ", " +
                std::to_string(p.DepthwiseFp32RoundTrips()) +
                " with a float input or output: FP32 round trip in an INT8 network";
  }
  lines.push_back({"depthwise conv", depthwise});

  lines.push_back({"weights", "packed at engine creation (load " + Fixed(p.load_ms, 1) + " ms); " +
                                  Count(p.weights_relaid_out_steps, "step", "steps") +
                                  " re-laid out weights for this shape"});

  lines.push_back({"primitives", Count(p.plans_built, "plan", "plans") + " built for " +
                                     Count(p.runs, "run", "runs") + " (cached per input shape)"});

  std::string arena = std::to_string(p.arena_bytes / 1024) + " kB";
  if (p.peak_live_bytes > 0) {
    arena += " = " +
             Fixed(static_cast<double>(p.arena_bytes) / static_cast<double>(p.peak_live_bytes), 2) +
             " x peak live tensors (lifetime planner)";
  } else {
    arena += " (no live tensors reported)";
  }
  lines.push_back({"activation arena", arena});

  lines.push_back({"threads", std::to_string(p.num_threads) + " per context"});
  return lines;
}

nlohmann::json FastPathsJson(const FastPaths& p) {
  const double ratio = p.peak_live_bytes > 0 ? static_cast<double>(p.arena_bytes) /
                                                   static_cast<double>(p.peak_live_bytes)
                                             : 0.0;
  return {
      {"steps", p.steps},
      {"reorders",
       {{"between_kernels", p.reorders_between_kernels},
        {"at_inputs", p.reorders_at_inputs},
        {"at_outputs", p.reorders_at_outputs},
        {"other", p.reorders_other}}},
      {"int8",
       {{"int8_engine", p.int8_engine},
        {"nodes", p.nodes},
        {"int8_nodes", p.int8_nodes},
        {"nodes_by_precision", p.nodes_by_precision},
        {"quantize_steps", p.quantize_steps},
        {"dequantize_steps", p.dequantize_steps},
        {"int8_kernel_steps", p.int8_kernel_steps},
        {"int8_quantized_output_steps", p.int8_quantized_output_steps},
        {"int8_float_output_steps", p.int8_float_output_steps},
        {"heavy_steps", p.heavy_steps},
        {"heavy_int8_steps", p.heavy_int8_steps}}},
      {"residual_adds",
       {{"fused", p.residual_adds_fused},
        {"in_place", p.residual_adds_in_place},
        {"residual_copies", p.residual_copies},
        {"separate_elementwise_steps", p.separate_elementwise_steps}}},
      {"depthwise",
       {{"steps", p.depthwise_steps},
        {"quantized_io_steps", p.depthwise_quantized_io_steps},
        {"float_io_steps", p.depthwise_float_io_steps},
        {"fp32_round_trips", p.DepthwiseFp32RoundTrips()},
        {"elements", p.depthwise_elements}}},
      {"weights", {{"load_ms", p.load_ms}, {"relaid_out_steps", p.weights_relaid_out_steps}}},
      {"primitives", {{"plans_built", p.plans_built}, {"runs", p.runs}}},
      {"activation_arena",
       {{"arena_bytes", p.arena_bytes},
        {"peak_live_bytes", p.peak_live_bytes},
        {"arena_to_peak", ratio}}},
      {"threads", p.num_threads},
  };
}

const NodeReport* FindReportNode(const BuildReport& report, const std::string& name) {
  for (const NodeReport& node : report.nodes) {
    if (node.name == name) return &node;
  }
  return nullptr;
}

std::string PlanTensorText(const PlanTensorInfo& tensor) {
  if (tensor.layout.empty()) return tensor.element;
  return tensor.element + " " + tensor.layout;
}

nlohmann::json PlanTensorJson(const PlanTensorInfo& tensor) {
  return {{"tensor", tensor.tensor}, {"element", tensor.element}, {"layout", tensor.layout}};
}

std::vector<std::string> StepFusedShort(const PlanStepInfo& step, const NodeReport* node) {
  std::vector<std::string> fused;
  if (node != nullptr) {
    for (const std::string& f : node->fused) {
      // The tensor of a residual add is a long internal name; the column says what ran.
      fused.push_back(StartsWith(f, kResidualAddPrefix) ? std::string(kResidualAddPrefix) : f);
    }
  }
  if (step.in_place) fused.push_back("in place");
  return fused;
}

std::vector<int64_t> MatchStepsToPlan(const std::vector<std::string>& profiled_nodes,
                                      const ExecutionPlanInfo& plan) {
  std::vector<int64_t> match(profiled_nodes.size(), -1);
  bool same = profiled_nodes.size() == plan.steps.size();
  for (size_t i = 0; same && i < profiled_nodes.size(); ++i) {
    same = profiled_nodes[i] == plan.steps[i].node;
  }
  if (same) {
    for (size_t i = 0; i < match.size(); ++i) match[i] = static_cast<int64_t>(i);
    return match;
  }
  // The k-th profiled step labelled L is the k-th plan step labelled L.
  std::unordered_map<std::string, std::deque<int64_t>> by_label;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    by_label[plan.steps[i].node].push_back(static_cast<int64_t>(i));
  }
  for (size_t i = 0; i < profiled_nodes.size(); ++i) {
    auto it = by_label.find(profiled_nodes[i]);
    if (it == by_label.end() || it->second.empty()) continue;
    match[i] = it->second.front();
    it->second.pop_front();
  }
  return match;
}

}  // namespace qsdk::tools
