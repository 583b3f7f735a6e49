// The runtime's IEngine / IContext (include/qsdk/model.h) over a validated, shape-inferred
// Graph IR, plus internal accessors for tests and the build report.
//
//   Engine   one dnnl::engine (CPU); one Kernel per non-Const node, created once (weights
//            packed then). Immutable after creation: shared by every context and thread.
//   Context  per input shape, a cached plan: the graph's shapes re-inferred for that
//            shape, one KernelInstance per node in topological order with layouts flowing
//            producer -> consumer (reorders inserted only where a consumer demands
//            another layout, and at the edges: graph inputs are plain; graph outputs are
//            reordered to plain), and every intermediate buffer placed by lifetime in ONE
//            arena owned by the context, which only grows. Quantized (u8 / s8)
//            intermediate tensors flow like fp32 ones; graph inputs and outputs are
//            FLOAT32. docs/runtime.md describes all of it.
#pragma once

#include <cstddef>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "qsdk/model.h"
#include "qsdk/status.h"

namespace qsdk::runtime {

// Creates an engine for `graph` (validated and shape-inferred; graph inputs may have -1
// extents). The engine keeps a reference to the graph (shared, immutable).
Status CreateEngine(std::shared_ptr<const graph::Graph> graph, std::unique_ptr<IEngine>* engine);

// A layout change inserted by a context's plan.
struct ReorderRecord {
  std::string tensor;    // the tensor whose layout is changed
  std::string consumer;  // name of the node that requires the new layout; "" for a graph output
  std::string from;      // layout names in oneDNN's tag notation, e.g. "abcd", "aBcd16b"
  std::string to;
  // "tensor 'x' for node 'conv1': abcd -> aBcd16b" / "tensor 'y' for graph output: ...".
  std::string ToString() const;
};

// Counters of a context, for tests and diagnostics.
struct ContextStats {
  size_t plans_built = 0;   // plans created (one per new input shape, or after eviction)
  size_t plans_cached = 0;  // plans currently cached
  size_t arena_bytes = 0;   // size of the activation arena
  // The largest sum of simultaneously live buffers of the last plan (the planner's lower
  // bound; arena_bytes can be no smaller than this).
  size_t peak_live_bytes = 0;
  // In the plan of the last successful Execute: outputs updated in place (a fused
  // residual summed into the destination) that share their input's buffer, and those
  // that start as a copy of it because the input is read afterwards.
  size_t in_place_shared = 0;
  size_t in_place_copied = 0;
};

// The reorders of the plan the context used in its last successful Execute (empty
// before the first). `context` must come from an engine made by CreateEngine.
Status GetLastPlanReorders(const IContext& context, std::vector<ReorderRecord>* reorders);

// The kernel chosen for each node of `engine` (made by CreateEngine), in execution order
// (Const nodes have none): (node name, kernel name), e.g. ("conv1", "onednn_conv_int8"),
// for the build report.
Status GetKernelNames(const IEngine& engine,
                      std::vector<std::pair<std::string, std::string>>* names);

// The counters of `context` (made by CreateEngine's engine).
Status GetContextStats(const IContext& context, ContextStats* stats);

// Name of a memory layout in oneDNN's tag notation: letters for dims from outermost to
// innermost (upper case when the dim is also blocked), then the inner blocks, e.g.
// "abcd" (NCHW), "acdb" (NHWC), "aBcd16b" (nChw16c); "opaque" for non-blocked formats.
std::string LayoutName(const dnnl::memory::desc& md);

// Whether oneDNN runs BF16 kernels natively on this machine: the effective ISA (the CPU,
// capped by DNNL_MAX_CPU_ISA) includes AVX512_BF16. When not, `reason` names the missing
// instruction set and the effective one.
bool CpuRunsBf16(std::string* reason);

}  // namespace qsdk::runtime
