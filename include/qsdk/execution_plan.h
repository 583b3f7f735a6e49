/// @file execution_plan.h
/// @brief What a context runs for one input shape, step by step (TensorRT's
///        IEngineInspector): kernels, the oneDNN implementations behind them, the element
///        type and memory layout of every tensor they read and write, and inserted reorders.
///
/// Obtained with IContext::GetLastExecutionPlan after an Execute. `qsdk bench --profile`
/// prints it next to the per-step times, which is how the runtime's fast paths are checked
/// (docs/performance.md, "Fast paths").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace qsdk {

/// @brief One tensor as a step reads or writes it.
struct PlanTensorInfo {
  std::string tensor;   ///< Tensor name in the built model.
  /// Element type in memory: "f32", "bf16", "f16", "u8", "s8", "s32", or "s16" (INT16).
  std::string element;
  /// Memory layout in oneDNN's tag notation: letters for the dims from outermost to
  /// innermost, upper case when also blocked, then the inner blocks: "abcd" is NCHW,
  /// "acdb" NHWC, "aBcd16b" nChw16c; "opaque" for a non-blocked special format.
  std::string layout;
};

/// @brief One step of an execution plan: a node's kernel, or a reorder the runtime
///        inserted because a consumer needs another layout.
struct PlanStepInfo {
  std::string node;    ///< As IProfiler::ReportNodeTime's node.
  std::string kernel;  ///< As IProfiler::ReportNodeTime's kernel ("reorder" for reorders).
  /// What really runs: the oneDNN implementation of each primitive of the step, as oneDNN
  /// names it (e.g. "brg:avx512_core_amx", "jit_uni_dw:avx512_core"), joined by " + " when
  /// the step runs several; qsdk's own kernels name their code path (e.g.
  /// "qsdk_int16_gemm:avx512_vnni"); "" for a step that runs no code (a zero-copy view).
  std::string implementation;
  /// Runtime inputs, in node input order. Constant inputs (weights, biases) are not
  /// listed: the kernel packed them when the engine was created.
  std::vector<PlanTensorInfo> inputs;
  std::vector<PlanTensorInfo> outputs;  ///< Outputs, in node output order.
  /// The output is written into the buffer of a runtime input (a residual add fused as a
  /// oneDNN sum post-op, or a zero-copy reshape).
  bool in_place = false;
};

/// @brief The execution plan a context used for its last successful Execute.
struct ExecutionPlanInfo {
  std::vector<std::vector<int64_t>> input_shapes;  ///< Per model input: the shape planned for.
  std::vector<PlanStepInfo> steps;                 ///< In execution order.
  /// Threads each step may use (the context's IContext::GetNumThreads()).
  int num_threads = 0;
  /// Plans this context has built so far: one per new input shape (primitives are created
  /// once per shape and cached; later runs at a known shape build nothing).
  size_t plans_built = 0;
  size_t arena_bytes = 0;      ///< As IContext::GetActivationMemoryBytes().
  size_t peak_live_bytes = 0;  ///< As IContext::GetPeakLiveTensorBytes().
};

}  // namespace qsdk
