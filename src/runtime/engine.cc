// Engine: kernels created once per non-Const node; immutable afterwards.
#include "runtime/engine.h"

#include <algorithm>
#include <cctype>
#include <exception>
#include <new>
#include <numeric>

#include "common/status_macros.h"
#include "graph/shape_inference.h"
#include "runtime/engine_impl.h"
#include "runtime/omp_threads.h"

namespace qsdk::runtime {

Status Engine::Create(std::shared_ptr<const graph::Graph> source, std::unique_ptr<Engine>* out) {
  if (source == nullptr) return InvalidArgument("CreateEngine: the graph is null");
  QSDK_RETURN_IF_ERROR(source->Validate());
  // A private copy with shapes re-inferred: the kernels rely on every shape being set
  // and consistent, whatever the caller did. Constant data is shared, not copied.
  auto graph = std::make_shared<graph::Graph>(*source);
  QSDK_RETURN_IF_ERROR(graph::InferShapes(graph.get()));

  std::unique_ptr<Engine> engine(new Engine());
  for (graph::TensorId t : graph->inputs) {
    const graph::Tensor& tensor = graph->tensors[t];
    if (tensor.dtype != DataType::FLOAT32) {
      return InvalidArgument("CreateEngine: graph input ", graph->DescribeTensor(t),
                             " has type ", DataTypeName(tensor.dtype),
                             "; the runtime takes FLOAT32 inputs (quantized by Quantize nodes)");
    }
    engine->inputs_.push_back({tensor.name, tensor.dtype, Dims(tensor.shape)});
  }
  for (graph::TensorId t : graph->outputs) {
    const graph::Tensor& tensor = graph->tensors[t];
    if (tensor.dtype != DataType::FLOAT32) {
      // The builder dequantizes every output; a quantized output means a malformed graph.
      return InvalidArgument("CreateEngine: graph output ", graph->DescribeTensor(t),
                             " has type ", DataTypeName(tensor.dtype),
                             "; the runtime returns FLOAT32 outputs (a quantized output must "
                             "be dequantized by a Dequantize node)");
    }
    engine->outputs_.push_back({tensor.name, tensor.dtype, Dims(tensor.shape)});
  }
  QSDK_RETURN_IF_ERROR(graph->TopologicalOrder(&engine->order_));
  engine->engine_ = dnnl::engine(dnnl::engine::kind::cpu, 0);
  engine->kernels_.resize(graph->nodes.size());
  for (graph::NodeId id : engine->order_) {
    if (graph->nodes[id].type == NodeType::kConst) continue;
    QSDK_RETURN_IF_ERROR(CreateKernel(*graph, id, engine->engine_, &engine->kernels_[id]));
    if (engine->kernels_[id] == nullptr) {
      return InternalError("CreateEngine: ", graph->DescribeNode(id),
                           ": the kernel factory returned no kernel");
    }
  }
  engine->graph_ = std::move(graph);
  *out = std::move(engine);
  return Status::Ok();
}

Status Engine::CreateIContext(std::unique_ptr<IContext>* context) const {
  return CreateIContext(ContextOptions(), context);
}

Status Engine::CreateIContext(const ContextOptions& options,
                              std::unique_ptr<IContext>* context) const {
  if (context == nullptr) return InvalidArgument("IEngine::CreateIContext: null output pointer");
  int threads = 0;
  Status resolved = ResolveContextThreads(options.num_threads, &threads);
  if (!resolved.ok()) {
    return Status(resolved.code(), StrCat("IEngine::CreateIContext: ", resolved.message()));
  }
  try {
    *context = std::make_unique<Context>(*this, threads);
    return Status::Ok();
  } catch (const dnnl::error& e) {
    return InternalError("IEngine::CreateIContext: oneDNN could not create a stream: ", e.what());
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted, "IEngine::CreateIContext: out of memory");
  }
}

Status CreateEngine(std::shared_ptr<const graph::Graph> graph, std::unique_ptr<IEngine>* engine) {
  if (engine == nullptr) return InvalidArgument("CreateEngine: null output pointer");
  try {
    std::unique_ptr<Engine> result;
    QSDK_RETURN_IF_ERROR(Engine::Create(std::move(graph), &result));
    *engine = std::move(result);
    return Status::Ok();
  } catch (const dnnl::error& e) {
    if (e.status == dnnl_out_of_memory) {
      return Status(StatusCode::kResourceExhausted, StrCat("CreateEngine: oneDNN: ", e.what()));
    }
    return InternalError("CreateEngine: oneDNN: ", e.what());
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted, "CreateEngine: out of memory");
  } catch (const std::exception& e) {
    return InternalError("CreateEngine: unexpected exception: ", e.what());
  }
}

std::string ReorderRecord::ToString() const {
  const std::string where =
      consumer.empty() ? std::string("graph output") : StrCat("node '", consumer, "'");
  return StrCat("tensor '", tensor, "' for ", where, ": ", from, " -> ", to);
}

std::string LayoutName(const dnnl::memory::desc& md) {
  const dnnl_memory_desc_t& d = md.data;
  if (d.ndims == 0) return "none";
  if (d.format_kind != dnnl_blocked) return "opaque";
  const dnnl_blocking_desc_t& blocking = d.format_desc.blocking;
  std::vector<int> order(d.ndims);
  std::iota(order.begin(), order.end(), 0);
  // Outermost first: larger stride first; equal strides (extent-1 dims) keep dim order.
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return blocking.strides[a] > blocking.strides[b]; });
  std::string name;
  for (int dim : order) {
    bool blocked = false;
    for (int i = 0; i < blocking.inner_nblks; ++i) blocked |= blocking.inner_idxs[i] == dim;
    const char letter = static_cast<char>('a' + dim);
    name += blocked ? static_cast<char>(std::toupper(letter)) : letter;
  }
  for (int i = 0; i < blocking.inner_nblks; ++i) {
    name += std::to_string(blocking.inner_blks[i]);
    name += static_cast<char>('a' + blocking.inner_idxs[i]);
  }
  return name;
}

Status GetLastPlanReorders(const IContext& context, std::vector<ReorderRecord>* reorders) {
  const auto* impl = dynamic_cast<const Context*>(&context);
  if (impl == nullptr || reorders == nullptr) {
    return InvalidArgument(
        "GetLastPlanReorders: the context was not created by a runtime "
        "engine, or the output pointer is null");
  }
  *reorders = impl->last_reorders();
  return Status::Ok();
}

Status GetKernelNames(const IEngine& engine,
                      std::vector<std::pair<std::string, std::string>>* names) {
  const auto* impl = dynamic_cast<const Engine*>(&engine);
  if (impl == nullptr || names == nullptr) {
    return InvalidArgument(
        "GetKernelNames: the engine was not created by CreateEngine, or the output pointer "
        "is null");
  }
  names->clear();
  for (graph::NodeId id : impl->order()) {
    const Kernel* kernel = impl->kernel(id);
    if (kernel == nullptr) continue;  // Const nodes
    names->emplace_back(impl->graph().nodes[id].name, kernel->name());
  }
  return Status::Ok();
}

Status GetContextStats(const IContext& context, ContextStats* stats) {
  const auto* impl = dynamic_cast<const Context*>(&context);
  if (impl == nullptr || stats == nullptr) {
    return InvalidArgument(
        "GetContextStats: the context was not created by a runtime engine, "
        "or the output pointer is null");
  }
  *stats = impl->stats();
  return Status::Ok();
}

// Whether oneDNN runs BF16 natively here: the effective ISA (the CPU, capped by
// DNNL_MAX_CPU_ISA) must include AVX512_BF16. Without it oneDNN either emulates bf16 on
// AVX512_CORE (several times slower than FP32) or has no kernel at all (AVX2).
bool CpuRunsBf16(std::string* reason) {
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto need = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
  if ((isa & need) == need) return true;
  const char* name = "older than AVX2";
  if ((isa & static_cast<unsigned>(dnnl::cpu_isa::avx512_core_vnni)) ==
      static_cast<unsigned>(dnnl::cpu_isa::avx512_core_vnni)) {
    name = "AVX512_CORE_VNNI";
  } else if ((isa & static_cast<unsigned>(dnnl::cpu_isa::avx512_core)) ==
             static_cast<unsigned>(dnnl::cpu_isa::avx512_core)) {
    name = "AVX512_CORE";
  } else if ((isa & static_cast<unsigned>(dnnl::cpu_isa::avx2)) ==
             static_cast<unsigned>(dnnl::cpu_isa::avx2)) {
    name = "AVX2";
  }
  *reason = StrCat("the instruction set AVX512_BF16 is missing (oneDNN's effective ISA is ",
                   name, "; check the CPU or DNNL_MAX_CPU_ISA)");
  return false;
}

}  // namespace qsdk::runtime
