/// @file model.h
/// @brief IModel (a built network, serializable), IEngine (ready to run) and IContext.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "qsdk/build_report.h"
#include "qsdk/data_type.h"
#include "qsdk/dims.h"
#include "qsdk/execution_plan.h"
#include "qsdk/export.h"
#include "qsdk/status.h"
#include "qsdk/tensor.h"

namespace qsdk {

class IEngine;
class IContext;

/// @brief Name, element type and shape of a model input or output (-1 = dynamic).
struct TensorDesc {
  std::string name;                       ///< Tensor name in the network.
  DataType data_type = DataType::INVALID; ///< Element type given to / returned by Execute.
  Dims dims;                              ///< Shape; -1 for dynamic extents.
};

/// @brief A built model: the optimized graph, its weights and its build metadata.
///
/// Produced by IBuilder::BuildModel or by DeserializeModelFromFile/Memory. Immutable:
/// every method is const and may be called from several threads at once.
class QSDK_API IModel {
 public:
  virtual ~IModel() = default;
  /// @brief The name given to BuildModel.
  virtual const std::string& GetName() const = 0;
  /// @brief Model inputs, in network order.
  virtual std::vector<TensorDesc> GetInputs() const = 0;
  /// @brief Model outputs, in MarkOutput order.
  virtual std::vector<TensorDesc> GetOutputs() const = 0;
  /// @brief Writes the engine file (docs/engine_format.md) to @p path.
  virtual Status SerializeToFile(const std::string& path) const = 0;
  /// @brief Writes the engine file into @p bytes (replacing its contents).
  virtual Status SerializeToMemory(std::vector<uint8_t>* bytes) const = 0;
  /// @brief The build configuration that produced the model, as JSON.
  virtual std::string GetBuildConfigJson() const = 0;
  /// @brief What the builder decided for every node (precisions, kernels, fusions,
  ///        reorders); also stored in the engine file.
  virtual const BuildReport& GetBuildReport() const = 0;
  /// @brief Creates an engine: packs weights for this CPU, once. The engine keeps what
  ///        it needs; the model may be destroyed afterwards.
  virtual Status CreateIEngine(std::unique_ptr<IEngine>* engine) const = 0;
};

/// @brief Loads an engine file written by IModel::SerializeToFile. Every size, offset,
///        checksum, enum and shape is checked before anything is allocated; a damaged,
///        truncated or newer-version file yields a status, never a crash.
QSDK_API Status DeserializeModelFromFile(const std::string& path, std::unique_ptr<IModel>* model);
/// @brief Loads an engine file from @p size bytes at @p data (copied).
QSDK_API Status DeserializeModelFromMemory(const void* data, size_t size,
                                           std::unique_ptr<IModel>* model);

/// @brief Options of an execution context (IEngine::CreateIContext).
struct ContextOptions {
  /// @brief Threads each step of the context may use (oneDNN's OpenMP team inside a
  ///        primitive, and the INT16 kernels' workers), like ONNX Runtime's
  ///        intra_op_num_threads. 0 (the default): the process's OpenMP default, which is
  ///        OMP_NUM_THREADS when set, else every hardware thread. Otherwise 1 to 1024;
  ///        more threads than hardware threads is allowed but slow. The setting applies
  ///        to this context only: contexts with different counts may run side by side
  ///        (say, 4 contexts of 1 thread for throughput, or 1 of 4 for latency), and the
  ///        calling thread's own OpenMP setting is left as it was after each Execute.
  int num_threads = 0;
};

/// @brief A model ready to run on this CPU: kernels chosen, weights packed.
///
/// Immutable and thread-safe: share one engine among threads and give each thread its
/// own IContext. The engine must outlive its contexts.
class QSDK_API IEngine {
 public:
  virtual ~IEngine() = default;
  /// @brief Model inputs, in network order.
  virtual std::vector<TensorDesc> GetInputs() const = 0;
  /// @brief Model outputs, in MarkOutput order.
  virtual std::vector<TensorDesc> GetOutputs() const = 0;
  /// @brief Creates an execution context (its own scratch memory and primitives) with
  ///        the default ContextOptions.
  virtual Status CreateIContext(std::unique_ptr<IContext>* context) const = 0;
  /// @brief Creates an execution context with @p options; an option out of range is an
  ///        InvalidArgument status naming it, its value and the rule.
  virtual Status CreateIContext(const ContextOptions& options,
                                std::unique_ptr<IContext>* context) const = 0;
};

/// @brief Receives the time of every step of a profiled run (TensorRT's IProfiler).
///
/// Implemented by the caller and set with IContext::SetProfiler. Called from the thread
/// that runs IContext::Execute, once per step, in execution order.
class QSDK_API IProfiler {
 public:
  virtual ~IProfiler() = default;
  /// @brief One step of the run: @p node is the node's name (a reorder inserted by the
  ///        runtime is "reorder '<tensor>' for '<node>'"), @p kernel the kernel's name as in
  ///        the build report ("reorder" for layout changes), @p milliseconds its wall time.
  virtual void ReportNodeTime(const std::string& node, const std::string& kernel,
                              double milliseconds) = 0;
};

/// @brief Per-thread execution state: activation arena, oneDNN stream and primitives
///        cached per input shape.
///
/// Not thread-safe: use one context from one thread at a time (contexts of the same
/// engine may run concurrently). Memory held by the context grows to the largest input
/// shape run so far.
class QSDK_API IContext {
 public:
  virtual ~IContext() = default;
  /// @brief Runs the model.
  ///
  /// @p inputs: one tensor per model input, in GetInputs() order, or in any order when
  /// every tensor is named after its input. Types must match; shapes must match except
  /// for dynamic extents. @p outputs: resized to one tensor per model output; a tensor
  /// already of the right type and shape is written in place (so a loop that reuses the
  /// vector allocates nothing), any other is replaced by a newly allocated one.
  virtual Status Execute(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) = 0;
  /// @brief Bytes of activation memory this context holds: its one arena, sized by the
  ///        lifetimes of the tensors (and kernel scratch) of the largest input shape it
  ///        has run; 0 before the first Execute. Weights are the engine's, not counted.
  virtual size_t GetActivationMemoryBytes() const = 0;
  /// @brief The largest sum of the tensors (and kernel scratch) alive at one step of the
  ///        last Execute's plan: the lower bound of any arena. GetActivationMemoryBytes()
  ///        is at least this; their ratio is the lifetime planner's overhead.
  virtual size_t GetPeakLiveTensorBytes() const = 0;
  /// @brief Profiles every following Execute with @p profiler (not owned; it must outlive
  ///        its use), or stops with nullptr. A profiled run waits for each step to finish
  ///        before timing the next, so it is slightly slower than an unprofiled one.
  virtual void SetProfiler(IProfiler* profiler) = 0;
  /// @brief Threads each step of this context uses: ContextOptions::num_threads, or the
  ///        process's OpenMP default it resolved to when that was 0.
  virtual int GetNumThreads() const = 0;
  /// @brief The plan of the last successful Execute: every step with its kernel, oneDNN
  ///        implementation, tensors' element types and layouts, and inserted reorders.
  ///        FailedPrecondition before the first successful Execute.
  virtual Status GetLastExecutionPlan(ExecutionPlanInfo* plan) const = 0;
};

}  // namespace qsdk
