// Pieces shared by the heavy kernels (conv, fully connected, matmul): the fused
// activation as a post-op, and the choice of weights for a per-shape primitive given the
// weights the Kernel packed once at creation.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <utility>

#include "graph/graph.h"
#include "qsdk/status.h"
#include "runtime/kernels/onednn_util.h"

namespace qsdk::runtime {

// The attribute of a heavy primitive: user scratchpad (the context arena provides it)
// and, when the node carries attr::kFusedActivation != kNone, that activation as an
// eltwise post-op mapped exactly as a standalone Activation node (MapActivation).
Status HeavyPrimitiveAttr(const graph::Graph& graph, graph::NodeId id, dnnl::primitive_attr* attr);

// True when oneDNN chose its reference ("ref:...") implementation: correct but orders of
// magnitude slower, so a constrained descriptor that lands there is not worth it.
bool IsReferenceImpl(const dnnl::primitive_desc_base& pd);

// The weights a per-shape primitive will use: the Kernel's packed memory (shared by every
// context) or, when no good implementation takes the packed layout, a copy owned by the
// instance.
struct WeightsChoice {
  dnnl::memory weights;
  bool shared = true;  // false: `weights` is an instance-owned re-layout of the packed ones
};

// Builds the primitive descriptor of a per-shape instance. `make(weights_md)` builds a
// descriptor for a given weights desc (it may throw dnnl::error). The packed layout was
// chosen by the Kernel for a nominal shape; at another shape oneDNN may prefer another:
//   1. descriptor with weights `any`; if it picks the packed layout, share the packed
//      weights;
//   2. else a descriptor with the packed layout imposed, if oneDNN has a non-reference
//      implementation for it: share the packed weights (no per-context copy);
//   3. else keep descriptor 1 and reorder the packed weights into its layout once, here,
//      in memory owned by the instance.
// Throws dnnl::error like `make` (callers run it inside GuardDnnl).
template <typename PrimitiveDesc, typename MakeFn>
PrimitiveDesc ChooseWeights(MakeFn&& make, const dnnl::memory& packed, const dnnl::engine& engine,
                            WeightsChoice* choice) {
  const dnnl::memory::desc packed_md = packed.get_desc();
  const dnnl::memory::desc any_md(packed_md.dims(), packed_md.data_type(),
                                  dnnl::memory::format_tag::any);
  PrimitiveDesc preferred = make(any_md);
  if (preferred.weights_desc() == packed_md) {
    *choice = {packed, true};
    return preferred;
  }
  try {
    PrimitiveDesc imposed = make(packed_md);
    if (!IsReferenceImpl(imposed)) {
      *choice = {packed, true};
      return imposed;
    }
  } catch (const dnnl::error&) {
    // No implementation takes the packed layout at this shape: fall through to 3.
  }
  *choice = {ReorderedCopy(packed, preferred.weights_desc(), engine), false};
  return preferred;
}

// Rounds a nominal extent for weight packing: `extent` when known (>= 1), else `fallback`.
inline int64_t NominalExtent(int64_t extent, int64_t fallback) {
  return extent >= 1 ? extent : fallback;
}

}  // namespace qsdk::runtime
