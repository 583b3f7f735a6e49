// Assembles the build report of a built graph: per node, the requested and granted
// precision of every input and output, quantization parameters, the kernel chosen, what
// was fused into it, and the reorders a batch-1 run inserts.
#pragma once

#include <map>
#include <string>

#include "builder/build_options.h"
#include "builder/precision_assignment.h"
#include "graph/graph.h"
#include "qsdk/build_report.h"
#include "qsdk/status.h"

namespace qsdk::builder {

// `decisions` are keyed by node name (names survive lowering and dead node removal);
// nodes without one were inserted by the builder. Creates an engine for `graph` to learn
// the kernels and the reorders of a batch-1 run.
Status MakeBuildReport(std::shared_ptr<const graph::Graph> graph,
                       const std::map<std::string, NodeDecision>& decisions,
                       const BuildOptions& options, BuildReport* report);

}  // namespace qsdk::builder
