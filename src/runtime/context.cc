// Context: per-input-shape plans (instances, layouts, reorders, arena offsets), built on
// first sight of a shape and cached; Execute validates at the edge, then runs blindly.
#include <algorithm>
#include <chrono>
#include <exception>
#include <limits>
#include <new>
#include <utility>

#include "common/status_macros.h"
#include "graph/shape_inference.h"
#include "runtime/engine_impl.h"
#include "runtime/kernels/onednn_util.h"
#include "runtime/memory_planner.h"
#include "runtime/omp_threads.h"

namespace qsdk::runtime {
namespace {

using dnnl::memory;

bool HasPadding(const memory::desc& md) {
  const dnnl_memory_desc_t& d = md.data;
  for (int i = 0; i < d.ndims; ++i) {
    if (d.padded_dims[i] != d.dims[i]) return true;
  }
  return false;
}

// True when `md`'s dims are the concrete `shape` (a rank-0 shape is described as [1]).
bool DescMatchesShape(const memory::desc& md, const std::vector<int64_t>& shape) {
  const memory::dims dims = md.dims();
  if (shape.empty()) return dims.size() == 1 && dims[0] == 1;
  return dims == memory::dims(shape.begin(), shape.end());
}

size_t PlainBytes(const std::vector<int64_t>& shape) {
  return static_cast<size_t>(graph::ElementCount(shape)) * sizeof(float);
}

std::string JoinInputNames(const std::vector<TensorDesc>& descs) {
  std::string names;
  for (size_t i = 0; i < descs.size(); ++i) names += StrCat(i ? ", '" : "'", descs[i].name, "'");
  return names;
}

// Builds one Plan for a graph whose shapes are concrete.
class PlanBuilder {
 public:
  PlanBuilder(const Engine& engine, const graph::Graph& graph, Plan* plan)
      : engine_(engine), graph_(graph), plan_(plan) {}

  Status Build() {
    // Position (in engine order) of the last node reading each tensor; graph outputs are
    // read after every node. Decides whether a kernel may overwrite an input in place.
    last_reader_.assign(graph_.tensors.size(), -1);
    int position = 0;
    for (graph::NodeId id : engine_.order()) {
      for (graph::TensorId t : graph_.nodes[id].inputs) {
        if (t != graph::kNoTensor) last_reader_[t] = position;
      }
      ++position;
    }
    for (graph::TensorId t : graph_.outputs) last_reader_[t] = std::numeric_limits<int>::max();

    std::vector<int> tensor_slot(graph_.tensors.size(), -1);
    plan_->input_buffers.assign(graph_.inputs.size(), -1);
    for (size_t i = 0; i < graph_.inputs.size(); ++i) {
      const graph::TensorId t = graph_.inputs[i];
      const std::vector<int64_t>& shape = graph_.tensors[t].shape;
      const int buffer = AddBuffer(BufferKind::kInput, PlainBytes(shape), static_cast<int>(i));
      tensor_slot[t] = AddSlot(PlainDesc(shape), buffer);
      buffer_tensors_[buffer].push_back(t);
      plan_->input_buffers[i] = buffer;
    }

    position = 0;
    for (graph::NodeId id : engine_.order()) {
      const graph::Node& node = graph_.nodes[id];
      if (node.type != NodeType::kConst) QSDK_RETURN_IF_ERROR(AddNode(id, position, &tensor_slot));
      ++position;
    }

    plan_->output_buffers.assign(graph_.outputs.size(), -1);
    for (size_t k = 0; k < graph_.outputs.size(); ++k) {
      QSDK_RETURN_IF_ERROR(AddGraphOutput(k, tensor_slot));
    }
    QSDK_RETURN_IF_ERROR(PlaceArena());
    Materialize();
    return Status::Ok();
  }

 private:
  int AddBuffer(BufferKind kind, size_t size, int index = -1, const void* constant = nullptr) {
    PlanBuffer buffer;
    buffer.kind = kind;
    buffer.size = size;
    buffer.index = index;
    buffer.constant = constant;
    plan_->buffers.push_back(std::move(buffer));
    buffer_tensors_.emplace_back();
    return static_cast<int>(plan_->buffers.size() - 1);
  }

  int AddSlot(const memory::desc& desc, int buffer) {
    PlanSlot slot;
    slot.desc = desc;
    slot.buffer = buffer;
    slot.padded = HasPadding(desc);
    plan_->slots.push_back(std::move(slot));
    const int id = static_cast<int>(plan_->slots.size() - 1);
    plan_->buffers[buffer].slots.push_back(id);
    reorder_cache_.emplace_back();
    return id;
  }

  // Records that `step` reads or writes `slot` (extends its buffer's lifetime).
  void Use(int slot, int step) {
    PlanBuffer& buffer = plan_->buffers[plan_->slots[slot].buffer];
    if (buffer.first_use < 0 || step < buffer.first_use) buffer.first_use = step;
    buffer.last_use = std::max(buffer.last_use, step);
  }

  // A new arena slot written by the step being built.
  int AddArenaSlot(const memory::desc& desc, PlanStep* step) {
    const int slot = AddSlot(desc, AddBuffer(BufferKind::kArena, desc.get_size()));
    if (plan_->slots[slot].padded) step->zero_pad_slots.push_back(slot);
    return slot;
  }

  void AddScratchpad(size_t bytes, PlanStep* step) {
    if (bytes == 0) return;
    const memory::desc desc({static_cast<memory::dim>(bytes)}, memory::data_type::u8,
                            memory::format_tag::x);
    step->scratch_slot = AddSlot(desc, AddBuffer(BufferKind::kArena, bytes));
  }

  void PushStep(PlanStep step) {
    const int index = static_cast<int>(plan_->steps.size());
    for (int s : step.input_slots) Use(s, index);
    for (int s : step.output_slots) Use(s, index);
    if (step.scratch_slot >= 0) Use(step.scratch_slot, index);
    plan_->steps.push_back(std::move(step));
  }

  // A reorder (or a plain copy) of tensor `tensor` from slot `src` into slot `dst`.
  void AddReorderStep(int src, int dst, graph::TensorId tensor, std::string label) {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const dnnl::engine& engine = engine_.dnnl_engine();
    dnnl::reorder::primitive_desc pd(engine, plan_->slots[src].desc, engine, plan_->slots[dst].desc,
                                     attr);
    PlanStep step;
    step.reorder = dnnl::reorder(pd);
    step.label = std::move(label);
    step.kernel = "reorder";
    step.implementation = pd.impl_info_str();
    step.input_tensors = {tensor};
    step.output_tensors = {tensor};
    step.input_slots = {src};
    step.output_slots = {dst};
    if (plan_->slots[dst].padded &&
        plan_->buffers[plan_->slots[dst].buffer].kind == BufferKind::kArena) {
      step.zero_pad_slots.push_back(dst);
    }
    AddScratchpad(pd.scratchpad_desc().get_size(), &step);
    PushStep(std::move(step));
  }

  // Slot holding tensor slot `src` in layout `required`: a reorder shared by every
  // consumer that requires the same layout, or, with `exclusive`, a copy of its own (the
  // consumer overwrites it in place).
  int Reordered(int src, const memory::desc& required, graph::TensorId id,
                const std::string& consumer, bool exclusive) {
    const std::string& tensor = graph_.tensors[id].name;
    if (!exclusive) {
      for (const auto& [desc, slot] : reorder_cache_[src]) {
        if (desc == required) return slot;
      }
    }
    const int dst = AddSlot(required, AddBuffer(BufferKind::kArena, required.get_size()));
    AddReorderStep(src, dst, id, StrCat("reorder '", tensor, "' for '", consumer, "'"));
    if (!exclusive) reorder_cache_[src].emplace_back(required, dst);
    plan_->reorders.push_back(
        {tensor, consumer, LayoutName(plan_->slots[src].desc), LayoutName(required)});
    return dst;
  }

  // True when the step of the node at `position`, reading `inputs`, may overwrite
  // `buffer` through input `k`: an arena buffer that no other input of the step reads
  // and that holds no tensor read after this node (nor a graph output).
  bool CanOverwrite(int buffer, int position, const std::vector<int>& inputs, size_t k) const {
    if (plan_->buffers[buffer].kind != BufferKind::kArena) return false;
    for (size_t j = 0; j < inputs.size(); ++j) {
      if (j != k && plan_->slots[inputs[j]].buffer == buffer) return false;
    }
    for (graph::TensorId t : buffer_tensors_[buffer]) {
      if (last_reader_[t] > position) return false;
    }
    return true;
  }

  // The slot of output 0 of an instance aliasing runtime input k (kView / kInPlace), or an
  // error when the instance's descs do not allow it.
  Status AliasedOutputSlot(const KernelInstance& instance, const PlanStep& step, int position,
                           const std::string& what, int* out) {
    const size_t k = instance.aliased_input();
    const memory::desc& desc = instance.output_descs()[0];
    if (k >= step.input_slots.size()) {
      return InternalError(what, ": the kernel aliases output 0 to runtime input ", k,
                           " of ", step.input_slots.size());
    }
    const int in_slot = step.input_slots[k];
    const int buffer = plan_->slots[in_slot].buffer;
    if (desc.get_size() > plan_->buffers[buffer].size) {
      return InternalError(what, ": the kernel aliases output 0 (", desc.get_size(),
                           " bytes) to a smaller input buffer (", plan_->buffers[buffer].size,
                           " bytes)");
    }
    if (instance.output_alias() == OutputAlias::kView) {
      *out = AddSlot(desc, buffer);
      return Status::Ok();
    }
    if (CanOverwrite(buffer, position, step.input_slots, k)) {
      ++plan_->in_place_shared;
      *out = AddSlot(desc, buffer);
      return Status::Ok();
    }
    ++plan_->in_place_copied;
    // The input is still needed (or is the caller's): the output starts as a copy of it
    // in a buffer of its own.
    const int copy = AddBuffer(BufferKind::kArena,
                               std::max(desc.get_size(), plan_->slots[in_slot].desc.get_size()));
    AddReorderStep(in_slot, AddSlot(plan_->slots[in_slot].desc, copy), step.input_tensors[k],
                   StrCat("copy of the residual for in-place update (step ", position, ")"));
    *out = AddSlot(desc, copy);
    return Status::Ok();
  }

  Status AddNode(graph::NodeId id, int position, std::vector<int>* tensor_slot) {
    const graph::Node& node = graph_.nodes[id];
    const std::string what = graph_.DescribeNode(id);
    const Kernel* kernel = engine_.kernel(id);
    if (kernel == nullptr) return InternalError(what, ": no kernel was created for the node");
    InstantiateArgs args;
    args.engine = &engine_.dnnl_engine();
    std::vector<graph::TensorId> runtime_inputs;
    for (graph::TensorId t : node.inputs) {
      if (t == graph::kNoTensor || graph_.tensors[t].is_constant()) continue;
      if ((*tensor_slot)[t] < 0) {
        return InternalError(what, ": input ", graph_.DescribeTensor(t),
                             " is not produced before the node");
      }
      runtime_inputs.push_back(t);
      args.input_descs.push_back(plan_->slots[(*tensor_slot)[t]].desc);
    }
    for (graph::TensorId t : node.outputs) args.output_shapes.push_back(graph_.tensors[t].shape);

    std::unique_ptr<KernelInstance> instance;
    QSDK_RETURN_IF_ERROR(kernel->Instantiate(args, &instance));
    if (instance == nullptr || instance->input_descs().size() != runtime_inputs.size() ||
        instance->output_descs().size() != node.outputs.size()) {
      return InternalError(what, ": kernel '", kernel->name(),
                           "' returned an instance whose layouts do not match the node's ",
                           runtime_inputs.size(), " runtime inputs and ", node.outputs.size(),
                           " outputs");
    }
    for (size_t j = 0; j < node.outputs.size(); ++j) {
      const std::vector<int64_t>& shape = graph_.tensors[node.outputs[j]].shape;
      if (!DescMatchesShape(instance->output_descs()[j], shape)) {
        const memory::dims dims = instance->output_descs()[j].dims();
        return InternalError(what, ": kernel '", kernel->name(), "' produces output ", j,
                             " with dims ",
                             graph::ShapeToString(std::vector<int64_t>(dims.begin(), dims.end())),
                             "; shape inference says ", graph::ShapeToString(shape));
      }
    }

    PlanStep step;
    step.instance = instance.get();
    step.label = node.name;
    step.kernel = kernel->name();
    step.implementation = instance->implementation();
    step.in_place = instance->output_alias() != OutputAlias::kNone;
    step.output_tensors = node.outputs;
    const bool in_place = instance->output_alias() == OutputAlias::kInPlace;
    for (size_t j = 0; j < runtime_inputs.size(); ++j) {
      const graph::TensorId t = runtime_inputs[j];
      int slot = (*tensor_slot)[t];
      const memory::desc& required = instance->input_descs()[j];
      if (!DescMatchesShape(required, graph_.tensors[t].shape)) {
        return InternalError(what, ": kernel '", kernel->name(), "' requires input ", j,
                             " with other dims than ", graph_.DescribeTensor(t), " ",
                             graph::ShapeToString(graph_.tensors[t].shape));
      }
      // The context only changes layouts; a reorder between types would convert values.
      if (required.data_type() != plan_->slots[slot].desc.data_type()) {
        return InternalError(what, ": kernel '", kernel->name(), "' requires input ", j, " ",
                             graph_.DescribeTensor(t), " with element type ",
                             static_cast<int>(required.data_type()), " but it has type ",
                             static_cast<int>(plan_->slots[slot].desc.data_type()));
      }
      if (required != plan_->slots[slot].desc) {
        slot = Reordered(slot, required, t, node.name,
                         in_place && j == instance->aliased_input());
      }
      step.input_slots.push_back(slot);
      step.input_tensors.push_back(t);
    }
    for (size_t j = 0; j < node.outputs.size(); ++j) {
      const memory::desc& desc = instance->output_descs()[j];
      int slot = -1;
      if (j == 0 && instance->output_alias() != OutputAlias::kNone) {
        QSDK_RETURN_IF_ERROR(AliasedOutputSlot(*instance, step, position,
                                               StrCat(what, ": kernel '", kernel->name(), "'"),
                                               &slot));
      } else {
        slot = AddArenaSlot(desc, &step);
      }
      step.output_slots.push_back(slot);
      (*tensor_slot)[node.outputs[j]] = slot;
      buffer_tensors_[plan_->slots[slot].buffer].push_back(node.outputs[j]);
    }
    AddScratchpad(instance->scratchpad_bytes(), &step);
    PushStep(std::move(step));
    plan_->instances.push_back(std::move(instance));
    return Status::Ok();
  }

  Status AddGraphOutput(size_t k, const std::vector<int>& tensor_slot) {
    const graph::TensorId t = graph_.outputs[k];
    const graph::Tensor& tensor = graph_.tensors[t];
    const memory::desc plain = PlainDesc(tensor.shape);
    const size_t bytes = PlainBytes(tensor.shape);
    plan_->output_shapes.push_back(tensor.shape);
    const int index = static_cast<int>(k);
    int src = -1;
    if (tensor.is_constant()) {
      if (tensor.data->size() < bytes) {
        return DataLoss("graph output ", graph_.DescribeTensor(t), " is a constant of ",
                        tensor.data->size(), " bytes; its shape needs ", bytes);
      }
      src = AddSlot(plain, AddBuffer(BufferKind::kConstant, bytes, -1, tensor.data->data()));
    } else {
      src = tensor_slot[t];
      if (src < 0) {
        return InternalError("graph output ", graph_.DescribeTensor(t), " is never produced");
      }
      // The producer writes straight into the caller's tensor when the layout is plain
      // and the buffer is the tensor's own (not a graph input, not already an output).
      const int buffer = plan_->slots[src].buffer;
      PlanBuffer& b = plan_->buffers[buffer];
      if (b.kind == BufferKind::kArena && plan_->slots[src].desc == plain && b.size == bytes) {
        b.kind = BufferKind::kOutput;
        b.index = index;
        plan_->output_buffers[k] = buffer;
        return Status::Ok();
      }
    }
    const int dst = AddSlot(plain, AddBuffer(BufferKind::kOutput, bytes, index));
    AddReorderStep(src, dst, t, StrCat("reorder '", tensor.name, "' for the output"));
    if (plan_->slots[src].desc != plain) {
      plan_->reorders.push_back(
          {tensor.name, "", LayoutName(plan_->slots[src].desc), LayoutName(plain)});
    }
    plan_->output_buffers[k] = plan_->slots[dst].buffer;
    return Status::Ok();
  }

  Status PlaceArena() {
    std::vector<int> ids;
    std::vector<BufferLifetime> lifetimes;
    for (size_t b = 0; b < plan_->buffers.size(); ++b) {
      const PlanBuffer& buffer = plan_->buffers[b];
      if (buffer.kind != BufferKind::kArena) continue;
      ids.push_back(static_cast<int>(b));
      // Every arena buffer is written by the step that created it, so first_use is set.
      lifetimes.push_back({buffer.size, buffer.first_use, buffer.last_use});
    }
    MemoryPlan memory_plan;
    QSDK_RETURN_IF_ERROR(PlanMemory(lifetimes, &memory_plan));
    for (size_t i = 0; i < ids.size(); ++i) plan_->buffers[ids[i]].offset = memory_plan.offsets[i];
    plan_->arena_bytes = memory_plan.arena_bytes;
    plan_->peak_live_bytes = memory_plan.peak_live_bytes;
    return Status::Ok();
  }

  // Creates the memory objects (bound to buffers at Execute) and the per-step lists.
  void Materialize() {
    const dnnl::engine& engine = engine_.dnnl_engine();
    for (PlanSlot& slot : plan_->slots) slot.memory = memory(slot.desc, engine, DNNL_MEMORY_NONE);
    for (PlanBuffer& buffer : plan_->buffers) {
      if (buffer.kind != BufferKind::kConstant) continue;
      // Read-only use: reorders only read their source; the plain desc has no padding
      // to zero, so set_data_handle writes nothing.
      for (int s : buffer.slots) {
        plan_->slots[s].memory.set_data_handle(const_cast<void*>(buffer.constant));
      }
    }
    for (PlanStep& step : plan_->steps) {
      for (int s : step.input_slots) step.inputs.push_back(plan_->slots[s].memory);
      for (int s : step.output_slots) step.outputs.push_back(plan_->slots[s].memory);
      if (step.scratch_slot >= 0) step.scratchpad = plan_->slots[step.scratch_slot].memory;
    }
  }

  const Engine& engine_;
  const graph::Graph& graph_;
  Plan* plan_;
  // Per slot: its reordered copies (layout, slot), shared among consumers.
  std::vector<std::vector<std::pair<memory::desc, int>>> reorder_cache_;
  // Per buffer: the graph tensors it holds (an aliasing output shares its input's).
  std::vector<std::vector<graph::TensorId>> buffer_tensors_;
  // Per tensor: engine-order position of its last reader (see Build).
  std::vector<int> last_reader_;
};

}  // namespace

Context::Context(const Engine& engine, int num_threads)
    : engine_(engine),
      num_threads_(num_threads),
      stream_(engine.dnnl_engine()),
      ordered_inputs_(engine.inputs().size(), nullptr) {}

const std::vector<ReorderRecord>& Context::last_reorders() const {
  static const std::vector<ReorderRecord> kNone;
  return last_plan_ != nullptr ? last_plan_->reorders : kNone;
}

ContextStats Context::stats() const {
  ContextStats s;
  s.plans_built = plans_built_;
  s.plans_cached = plans_.size();
  s.arena_bytes = arena_.size();
  if (last_plan_ != nullptr) {
    s.peak_live_bytes = last_plan_->peak_live_bytes;
    s.in_place_shared = last_plan_->in_place_shared;
    s.in_place_copied = last_plan_->in_place_copied;
  }
  return s;
}

Status Context::Execute(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) {
  try {
    // Plans (primitive creation) and runs use this context's thread count.
    const ScopedOmpThreads threads(num_threads_);
    return ExecuteImpl(inputs, outputs);
  } catch (const dnnl::error& e) {
    if (e.status == dnnl_out_of_memory) {
      return Status(StatusCode::kResourceExhausted,
                    StrCat("IContext::Execute: oneDNN: ", e.what()));
    }
    return InternalError("IContext::Execute: oneDNN: ", e.what());
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted, "IContext::Execute: out of memory");
  } catch (const std::exception& e) {
    return InternalError("IContext::Execute: unexpected exception: ", e.what());
  }
}

Status Context::GetLastExecutionPlan(ExecutionPlanInfo* plan) const {
  if (plan == nullptr) {
    return InvalidArgument("IContext::GetLastExecutionPlan: null output pointer");
  }
  if (last_plan_ == nullptr) {
    return Status(StatusCode::kFailedPrecondition,
                  "IContext::GetLastExecutionPlan: no successful Execute yet");
  }
  const Plan& p = *last_plan_;
  ExecutionPlanInfo info;
  info.input_shapes = p.input_shapes;
  info.num_threads = num_threads_;
  info.plans_built = plans_built_;
  info.arena_bytes = arena_.size();
  info.peak_live_bytes = p.peak_live_bytes;
  const graph::Graph& graph = engine_.graph();
  const auto describe = [&](int slot, graph::TensorId id) {
    const memory::desc& desc = p.slots[slot].desc;
    PlanTensorInfo t;
    t.tensor = graph.tensors[id].name;
    // INT16 tensors travel as f16-typed descs that only the int16 kernels read (kernel.h).
    t.element = graph.tensors[id].dtype == DataType::INT16 ? "s16"
                                                             : DnnlTypeName(desc.data_type());
    t.layout = LayoutName(desc);
    return t;
  };
  for (const PlanStep& step : p.steps) {
    PlanStepInfo s;
    s.node = step.label;
    s.kernel = step.kernel;
    s.implementation = step.implementation;
    s.in_place = step.in_place;
    for (size_t j = 0; j < step.input_slots.size(); ++j) {
      s.inputs.push_back(describe(step.input_slots[j], step.input_tensors[j]));
    }
    for (size_t j = 0; j < step.output_slots.size(); ++j) {
      s.outputs.push_back(describe(step.output_slots[j], step.output_tensors[j]));
    }
    info.steps.push_back(std::move(s));
  }
  *plan = std::move(info);
  return Status::Ok();
}

Status Context::ValidateInputs(const std::vector<Tensor>& inputs) {
  const std::vector<TensorDesc>& model = engine_.inputs();
  if (inputs.size() != model.size()) {
    return InvalidArgument("IContext::Execute: got ", inputs.size(),
                           " input tensors; the model has ", model.size(), " inputs (",
                           JoinInputNames(model), ")");
  }
  const bool all_named = std::all_of(inputs.begin(), inputs.end(),
                                     [](const Tensor& t) { return !t.GetName().empty(); });
  std::fill(ordered_inputs_.begin(), ordered_inputs_.end(), nullptr);
  for (size_t j = 0; j < inputs.size(); ++j) {
    const std::string& name = inputs[j].GetName();
    size_t i = j;
    if (all_named) {
      // Matched by name, in any order.
      i = 0;
      while (i < model.size() && model[i].name != name) ++i;
      if (i == model.size()) {
        return Status(
            StatusCode::kNotFound,
            StrCat("IContext::Execute: input tensor '", name,
                   "' does not name a model input (the inputs are ", JoinInputNames(model), ")"));
      }
      if (ordered_inputs_[i] != nullptr) {
        return InvalidArgument("IContext::Execute: input '", name, "' is given twice");
      }
    } else if (!name.empty() && name != model[j].name) {
      return InvalidArgument("IContext::Execute: input tensor ", j, " is named '", name,
                             "' but model input ", j, " is '", model[j].name,
                             "'; unnamed tensors are matched by position, so name every "
                             "tensor after its input to pass them in any order");
    }
    ordered_inputs_[i] = &inputs[j];
  }
  for (size_t i = 0; i < model.size(); ++i) {
    const Tensor& t = *ordered_inputs_[i];
    const TensorDesc& desc = model[i];
    if (t.GetDataType() != DataType::FLOAT32) {
      return InvalidArgument("IContext::Execute: input '", desc.name, "' has data type ",
                             DataTypeName(t.GetDataType()), "; the model expects FLOAT32");
    }
    const std::vector<int64_t>& dims = t.GetDimension().GetDims();
    const std::vector<int64_t>& expected = desc.dims.GetDims();
    if (dims.size() != expected.size()) {
      return InvalidArgument("IContext::Execute: input '", desc.name, "' has shape ",
                             t.GetDimension().ToString(), " (rank ", dims.size(),
                             "); the model expects rank ", expected.size(), " ",
                             desc.dims.ToString());
    }
    for (size_t d = 0; d < dims.size(); ++d) {
      if (expected[d] >= 0 && dims[d] != expected[d]) {
        return InvalidArgument("IContext::Execute: input '", desc.name, "' has shape ",
                               t.GetDimension().ToString(), "; dimension ", d, " is ", dims[d],
                               " but the model fixes it to ", expected[d], " (model shape ",
                               desc.dims.ToString(), ")");
      }
      if (dims[d] < 1) {
        return InvalidArgument("IContext::Execute: input '", desc.name, "' has shape ",
                               t.GetDimension().ToString(), "; dimension ", d, " is ", dims[d],
                               " but a dynamic extent must be >= 1");
      }
    }
    if (t.GetElementCount() < 0) {
      return InvalidArgument("IContext::Execute: input '", desc.name, "' has shape ",
                             t.GetDimension().ToString(), ", whose element count overflows");
    }
    if (t.GetData() == nullptr) {
      return InvalidArgument("IContext::Execute: input '", desc.name,
                             "' has no data (null pointer)");
    }
  }
  return Status::Ok();
}

Plan* Context::FindPlan() {
  const auto matches = [&](const Plan& plan) {
    for (size_t i = 0; i < ordered_inputs_.size(); ++i) {
      if (plan.input_shapes[i] != ordered_inputs_[i]->GetDimension().GetDims()) return false;
    }
    return true;
  };
  if (last_plan_ != nullptr && matches(*last_plan_)) return last_plan_;
  for (const auto& plan : plans_) {
    if (matches(*plan)) return plan.get();
  }
  return nullptr;
}

Status Context::BuildPlan(std::unique_ptr<Plan>* out) {
  auto plan = std::make_unique<Plan>();
  graph::Graph graph = engine_.graph();  // constants are shared, not copied
  std::string shapes;
  for (size_t i = 0; i < ordered_inputs_.size(); ++i) {
    const std::vector<int64_t>& dims = ordered_inputs_[i]->GetDimension().GetDims();
    plan->input_shapes.push_back(dims);
    graph.tensors[graph.inputs[i]].shape = dims;
    shapes +=
        StrCat(i ? ", " : "", "'", engine_.inputs()[i].name, "' ", graph::ShapeToString(dims));
  }
  const Status inferred = graph::InferShapes(&graph);
  if (!inferred.ok()) {
    return Status(inferred.code(), StrCat("IContext::Execute: the model cannot run on inputs ",
                                          shapes, ": ", inferred.message()));
  }
  PlanBuilder builder(engine_, graph, plan.get());
  const Status built = builder.Build();
  if (!built.ok()) {
    return Status(built.code(),
                  StrCat("IContext::Execute: preparing inputs ", shapes, ": ", built.message()));
  }
  *out = std::move(plan);
  return Status::Ok();
}

Status Context::ExecuteImpl(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) {
  if (outputs == nullptr) return InvalidArgument("IContext::Execute: null outputs pointer");
  QSDK_RETURN_IF_ERROR(ValidateInputs(inputs));
  Plan* plan = FindPlan();
  if (plan == nullptr) {
    std::unique_ptr<Plan> built;
    QSDK_RETURN_IF_ERROR(BuildPlan(&built));
    ++plans_built_;
    if (built->arena_bytes > arena_.size()) arena_ = AlignedBuffer(built->arena_bytes);
    if (plans_.size() >= kMaxPlans) {
      auto oldest = std::min_element(
          plans_.begin(), plans_.end(),
          [](const auto& a, const auto& b) { return a->last_used < b->last_used; });
      if (oldest->get() == last_plan_) last_plan_ = nullptr;
      plans_.erase(oldest);
    }
    plans_.push_back(std::move(built));
    plan = plans_.back().get();
  }
  plan->last_used = ++clock_;

  // Outputs: a tensor already of the right type and shape is written in place.
  const std::vector<TensorDesc>& model_outputs = engine_.outputs();
  if (outputs->size() != model_outputs.size()) outputs->resize(model_outputs.size());
  for (size_t k = 0; k < model_outputs.size(); ++k) {
    Tensor& out = (*outputs)[k];
    const std::vector<int64_t>& shape = plan->output_shapes[k];
    if (out.empty() || out.GetDataType() != DataType::FLOAT32 ||
        out.GetDimension().GetDims() != shape) {
      out = Tensor::Allocate(DataType::FLOAT32, Dims(shape), model_outputs[k].name);
      if (out.empty()) {
        return Status(StatusCode::kResourceExhausted,
                      StrCat("IContext::Execute: could not allocate output '",
                             model_outputs[k].name, "' of shape ", graph::ShapeToString(shape)));
      }
    } else if (out.GetName() != model_outputs[k].name) {
      out.SetName(model_outputs[k].name);
    }
  }
  QSDK_RETURN_IF_ERROR(Run(plan, outputs));
  last_plan_ = plan;
  return Status::Ok();
}

Status Context::Run(Plan* plan, std::vector<Tensor>* outputs) {
  // Bind buffers to memory objects; only what changed since the last run.
  if (plan->bound_arena != arena_.data()) {
    for (const PlanBuffer& buffer : plan->buffers) {
      if (buffer.kind != BufferKind::kArena) continue;
      for (int s : buffer.slots) {
        plan->slots[s].memory.set_data_handle(arena_.data() + buffer.offset, stream_);
      }
    }
    plan->bound_arena = arena_.data();
  }
  const auto bind = [&](int b, void* ptr) {
    PlanBuffer& buffer = plan->buffers[b];
    if (buffer.bound == ptr) return;
    for (int s : buffer.slots) plan->slots[s].memory.set_data_handle(ptr, stream_);
    buffer.bound = ptr;
  };
  for (size_t i = 0; i < plan->input_buffers.size(); ++i) {
    // Inputs are only read (no kernel writes its inputs; plain layouts have no padding
    // for set_data_handle to zero), so dropping const is safe.
    if (plan->input_buffers[i] >= 0) {
      bind(plan->input_buffers[i], const_cast<void*>(ordered_inputs_[i]->GetData()));
    }
  }
  for (size_t k = 0; k < plan->output_buffers.size(); ++k) {
    bind(plan->output_buffers[k], (*outputs)[k].GetData());
  }

  std::chrono::steady_clock::time_point begin;
  for (const PlanStep& step : plan->steps) {
    if (profiler_ != nullptr) begin = std::chrono::steady_clock::now();
    for (int s : step.zero_pad_slots) {
      // Re-setting the same handle makes oneDNN zero the padded area (docs of
      // dnnl_memory_set_data_handle_v2).
      const dnnl::memory& mem = plan->slots[s].memory;
      mem.set_data_handle(mem.get_data_handle(), stream_);
    }
    if (step.instance != nullptr) {
      step.instance->Execute(stream_, step.inputs, step.outputs, step.scratchpad);
    } else {
      dnnl_exec_arg_t args[3] = {{DNNL_ARG_FROM, step.inputs[0].get()},
                                 {DNNL_ARG_TO, step.outputs[0].get()},
                                 {DNNL_ARG_SCRATCHPAD, step.scratchpad.get(true)}};
      const int count = step.scratchpad ? 3 : 2;
      dnnl::error::wrap_c_api(
          dnnl_primitive_execute(step.reorder.get(), stream_.get(), count, args),
          "could not execute a reorder");
    }
    if (profiler_ != nullptr) {
      stream_.wait();
      profiler_->ReportNodeTime(
          step.label, step.kernel,
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin)
              .count());
    }
  }
  stream_.wait();
  return Status::Ok();
}

}  // namespace qsdk::runtime
