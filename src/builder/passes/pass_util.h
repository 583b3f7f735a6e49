// Helpers shared by the graph passes. Internal to src/builder/passes/.
#pragma once

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

// True when a Conv / FullyConnected / MatMul node carries no fused activation.
bool HasNoFusedActivation(const graph::Node& node);

// True when node `absorbed`, whose data input 0 is the output of `host`, can be merged
// into `host` without dropping a precision request: every request set on `absorbed`
// (input precisions and output type, not INVALID) must be on its data input 0 or its
// output and equal to the output type already requested on `host`, which the merged node
// keeps. Requests on other inputs (e.g. BatchNorm parameters) always block the merge.
bool PrecisionRequestsAllowMerge(const graph::Node& absorbed, const graph::Node& host);

// The single consumer of tensor `t` when exactly one node reads it exactly once and it is
// not a graph output; kNoNode otherwise.
graph::NodeId SoleConsumer(const graph::Graph& graph,
                           const std::vector<std::vector<graph::NodeId>>& consumers,
                           graph::TensorId t);

// Makes node `host` produce tensor `out` in place of its current output 0 (which the
// caller is about to orphan): consumers and graph outputs of `out` then read `host`, and
// `out` keeps its name.
void TakeOverOutput(graph::Graph* graph, graph::NodeId host, graph::TensorId out);

// A tensor / node name starting with `base` that no tensor and no node uses yet
// (constants create a Const node of the same name).
std::string UniqueName(const graph::Graph& graph, const std::string& base);

// Marks in `remove` the Const nodes producing the tensors in `candidates` that no node
// reads any more and that are not graph outputs.
void MarkUnusedConstants(const graph::Graph& graph, const std::vector<graph::TensorId>& candidates,
                         std::vector<bool>* remove);

}  // namespace qsdk::builder::internal
