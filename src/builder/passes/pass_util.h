// Helpers shared by the graph passes. Internal to src/builder/passes/.
#pragma once

#include <cstddef>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "common/status_macros.h"
#include "graph/graph.h"
#include "qsdk/status.h"

namespace qsdk::builder::internal {

// Runs `body` (returning Status) and turns any exception into a Status naming `pass`:
// AlignedBuffer and the standard containers throw std::bad_alloc, and nothing may escape
// a pass.
template <typename Fn>
Status GuardExceptions(const char* pass, Fn body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted, StrCat(pass, ": out of memory"));
  } catch (const std::exception& e) {
    return InternalError(pass, ": unexpected exception: ", e.what());
  } catch (...) {
    return InternalError(pass, ": unexpected unknown exception");
  }
}

// The public entry point of a pass: rejects a null graph, then runs `impl(graph)` (returning
// Status) under GuardExceptions. Every message names `pass`.
template <typename Fn>
Status RunPass(const char* pass, graph::Graph* graph, Fn impl) {
  if (graph == nullptr) return InvalidArgument(pass, ": the graph pointer is null");
  return GuardExceptions(pass, [&]() -> Status { return impl(graph); });
}

// True when a Conv / FullyConnected / MatMul node carries no fused activation.
bool HasNoFusedActivation(const graph::Node& node);

// The producer of input `slot` of node `absorbed` when, as far as the graph structure goes,
// `absorbed` can be merged into it: that tensor is read by `absorbed` only, once, and is
// not a graph output (otherwise the unmerged values are still needed), and the producer
// carries no fused activation (whatever is merged would have to run before it). kNoNode
// otherwise. Callers add their own conditions (producer type, precision requests).
graph::NodeId MergeableProducer(const graph::Graph& graph,
                                const std::vector<std::vector<graph::NodeId>>& consumers,
                                graph::NodeId absorbed, size_t slot);

// "No input slot", where a slot argument is optional.
constexpr size_t kNoSlot = static_cast<size_t>(-1);

// True when node `absorbed`, whose input `data_slot` is the output of `host`, can be merged
// into `host` without dropping a precision request: every request set on `absorbed` (input
// precisions and output type, not INVALID) must be on input `data_slot` or on its output
// and equal to the output type already requested on `host`, which the merged node keeps.
// A request on `moved_slot` (unless kNoSlot) is allowed: the caller moves that input, with
// its request, to `host`. Requests on other inputs (e.g. BatchNorm parameters) always
// block the merge.
bool PrecisionRequestsAllowMerge(const graph::Node& absorbed, const graph::Node& host,
                                 size_t data_slot = 0, size_t moved_slot = kNoSlot);

// Completes the merge of node `absorbed` into `host` (its producer, see MergeableProducer)
// once the caller has moved whatever else it merges (attributes, inputs): `host` takes
// over `absorbed`'s output 0, whose name, consumers and graph-output status are unchanged,
// and keeps its own output type request, or else `absorbed`'s; `absorbed` then reads
// nothing and owns `host`'s orphaned old output, and is marked in `remove` (grown to the
// node count if needed) so that Graph::RemoveNodes drops both. When `consumers` is not
// null it stays current: the orphaned tensor has no consumer any more.
void MergeIntoProducer(graph::Graph* graph, graph::NodeId host, graph::NodeId absorbed,
                       std::vector<bool>* remove,
                       std::vector<std::vector<graph::NodeId>>* consumers);

// Ends a pass that marked nodes in `remove`: when any is marked, removes them (with the
// tensors nothing references any more) and validates the result.
Status RemoveMarkedNodes(graph::Graph* graph, const std::vector<bool>& remove);

// A tensor / node name starting with `base` that no tensor and no node uses yet
// (constants create a Const node of the same name).
std::string UniqueName(const graph::Graph& graph, const std::string& base);

// Marks in `remove` the Const nodes producing the tensors in `candidates` that no node
// reads any more and that are not graph outputs.
void MarkUnusedConstants(const graph::Graph& graph, const std::vector<graph::TensorId>& candidates,
                         std::vector<bool>* remove);

}  // namespace qsdk::builder::internal
