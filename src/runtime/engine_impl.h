// Internal classes behind runtime/engine.h: Engine (IEngine), Context (IContext) and the
// per-input-shape Plan a context builds and caches.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <vector>

#include "common/aligned_buffer.h"
#include "graph/graph.h"
#include "qsdk/model.h"
#include "runtime/engine.h"
#include "runtime/kernel.h"

namespace qsdk::runtime {

class Engine final : public IEngine {
 public:
  // Validates `graph`, re-infers its shapes on a private copy and creates the kernels.
  static Status Create(std::shared_ptr<const graph::Graph> graph, std::unique_ptr<Engine>* out);

  std::vector<TensorDesc> GetInputs() const override { return inputs_; }
  std::vector<TensorDesc> GetOutputs() const override { return outputs_; }
  Status CreateIContext(std::unique_ptr<IContext>* context) const override;
  Status CreateIContext(const ContextOptions& options,
                        std::unique_ptr<IContext>* context) const override;

  const graph::Graph& graph() const { return *graph_; }
  const dnnl::engine& dnnl_engine() const { return engine_; }
  const std::vector<graph::NodeId>& order() const { return order_; }
  // Null for Const nodes.
  const Kernel* kernel(graph::NodeId id) const { return kernels_[id].get(); }
  const std::vector<TensorDesc>& inputs() const { return inputs_; }
  const std::vector<TensorDesc>& outputs() const { return outputs_; }

 private:
  Engine() = default;

  std::shared_ptr<const graph::Graph> graph_;
  dnnl::engine engine_;
  std::vector<graph::NodeId> order_;              // topological, Const nodes included
  std::vector<std::unique_ptr<Kernel>> kernels_;  // by node id
  std::vector<TensorDesc> inputs_;
  std::vector<TensorDesc> outputs_;
};

// Where a buffer's bytes live.
enum class BufferKind {
  kArena,     // the context's arena, at `offset`
  kInput,     // the caller's input tensor `index` (read only)
  kOutput,    // the caller's output tensor `index`
  kConstant,  // a graph constant (read only)
};

struct PlanBuffer {
  BufferKind kind = BufferKind::kArena;
  int index = -1;                  // kInput / kOutput
  const void* constant = nullptr;  // kConstant
  size_t size = 0;
  int first_use = -1;  // steps, inclusive
  int last_use = -1;
  size_t offset = 0;            // kArena
  std::vector<int> slots;       // slots viewing this buffer
  const void* bound = nullptr;  // kInput / kOutput: pointer the slots are bound to
};

// A memory object: a layout over (part of) a buffer. Several slots may share a buffer
// (an output aliasing its input).
struct PlanSlot {
  dnnl::memory::desc desc;
  int buffer = -1;
  dnnl::memory memory;
  bool padded = false;  // blocked layout with a zero-padded area
};

struct PlanStep {
  // A kernel step (instance != nullptr) or a reorder / copy step.
  const KernelInstance* instance = nullptr;
  std::vector<int> input_slots;
  std::vector<int> output_slots;
  int scratch_slot = -1;
  dnnl::primitive reorder;
  // Materialized memory objects (after planning).
  std::vector<dnnl::memory> inputs;
  std::vector<dnnl::memory> outputs;
  dnnl::memory scratchpad;
  // For profiles: the node (or "reorder '<tensor>' for '<node>'") and the kernel name.
  std::string label;
  std::string kernel;
  // For execution-plan inspection: what runs (KernelInstance::implementation(), or the
  // reorder's oneDNN implementation) and the tensors behind input_slots / output_slots.
  std::string implementation;
  std::vector<graph::TensorId> input_tensors;
  std::vector<graph::TensorId> output_tensors;
  bool in_place = false;
  // Slots this step writes whose layout has a padded area: oneDNN primitives assume the
  // padding of their inputs is zero and preserve it in their outputs, but the arena
  // reuses bytes, so the padding is re-zeroed right before the step writes the slot.
  std::vector<int> zero_pad_slots;
};

struct Plan {
  std::vector<std::vector<int64_t>> input_shapes;   // per graph input (the cache key)
  std::vector<std::vector<int64_t>> output_shapes;  // per graph output
  std::vector<std::unique_ptr<KernelInstance>> instances;
  std::vector<PlanSlot> slots;
  std::vector<PlanBuffer> buffers;
  std::vector<PlanStep> steps;
  std::vector<int> input_buffers;   // per graph input: its kInput buffer, or -1 if unused
  std::vector<int> output_buffers;  // per graph output: its kOutput buffer
  size_t arena_bytes = 0;
  size_t peak_live_bytes = 0;
  const uint8_t* bound_arena = nullptr;  // arena base the arena slots are bound to
  std::vector<ReorderRecord> reorders;
  size_t in_place_shared = 0;  // see ContextStats
  size_t in_place_copied = 0;
  uint64_t last_used = 0;  // for LRU eviction
};

class Context final : public IContext {
 public:
  // `num_threads`: resolved (>= 1), see ResolveContextThreads.
  Context(const Engine& engine, int num_threads);

  Status Execute(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) override;
  size_t GetActivationMemoryBytes() const override { return arena_.size(); }
  size_t GetPeakLiveTensorBytes() const override {
    return last_plan_ != nullptr ? last_plan_->peak_live_bytes : 0;
  }
  void SetProfiler(IProfiler* profiler) override { profiler_ = profiler; }
  int GetNumThreads() const override { return num_threads_; }
  Status GetLastExecutionPlan(ExecutionPlanInfo* plan) const override;

  const std::vector<ReorderRecord>& last_reorders() const;
  ContextStats stats() const;

 private:
  // Most plans a context keeps (least recently used evicted): a serving loop sees few
  // shapes; an unbounded stream of shapes must not grow memory without bound.
  static constexpr size_t kMaxPlans = 16;

  Status ExecuteImpl(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs);
  Status ValidateInputs(const std::vector<Tensor>& inputs);
  Plan* FindPlan();
  Status BuildPlan(std::unique_ptr<Plan>* plan);
  Status Run(Plan* plan, std::vector<Tensor>* outputs);

  const Engine& engine_;
  const int num_threads_;
  dnnl::stream stream_;
  std::vector<std::unique_ptr<Plan>> plans_;
  AlignedBuffer arena_;
  IProfiler* profiler_ = nullptr;
  // ordered_inputs_[i]: the caller's tensor for graph input i (set by ValidateInputs).
  std::vector<const Tensor*> ordered_inputs_;
  Plan* last_plan_ = nullptr;
  uint64_t clock_ = 0;
  size_t plans_built_ = 0;
};

}  // namespace qsdk::runtime
