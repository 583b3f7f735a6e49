// Graph passes. Each pass is one file with one responsibility and its own test.
// A pass takes a graph whose shapes are inferred and leaves it valid and inferred.
// Passes never change what the graph computes beyond floating-point reassociation
// (documented per pass), and never remove graph inputs or outputs.
#pragma once

#include "graph/graph.h"
#include "qsdk/status.h"

namespace qsdk::builder {

// Evaluates nodes whose inputs are all constant with the reference kernels and replaces
// their outputs with constants.
Status FoldConstants(graph::Graph* graph);

// Folds an inference BatchNorm that directly follows a Conv or FullyConnected (whose
// output has no other consumer and is not a graph output) into its weights and bias.
Status FoldBatchNorm(graph::Graph* graph);

// Fuses an Elementwise add of a Conv / FullyConnected output (no fused activation or sum
// yet, sole consumer, not a graph output) and a same-shape tensor R into that producer as
// a fused sum: R becomes its input 3 and attr::kFusedSum = 1 (y = act(op(x) + R) once
// FuseActivations, run after it, has fused a following activation).
Status FuseResiduals(graph::Graph* graph);

// Fuses an Activation that directly follows a Conv, FullyConnected or MatMul (sole
// consumer, not a graph output) into it as attr::kFusedActivation.
Status FuseActivations(graph::Graph* graph);

// Removes nodes none of whose outputs reach a graph output, and unused tensors.
Status RemoveDeadNodes(graph::Graph* graph);

}  // namespace qsdk::builder
