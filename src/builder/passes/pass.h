// Graph passes. Each pass is one file with one responsibility and its own test.
// A pass takes a graph whose shapes are inferred and leaves it valid and inferred.
// Passes never change what the graph computes beyond floating-point reassociation
// (documented per pass), and never remove graph inputs or outputs.
#pragma once

#include <string>
#include <vector>

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

// Node attribute FoldQdq sets to 1 on each node it turned into a quantized kernel with
// the parameters of the network's explicit Quantize / Dequantize nodes (the build report
// says so).
inline constexpr const char* kExplicitQuantizationAttr = "explicit_quantization";

// What FoldQdq did, one line per node, for the build report ("node 'conv1' (Conv): ...").
struct QdqFoldingNotes {
  std::vector<std::string> folded;        // nodes now quantized kernels, and removed nodes
  std::vector<std::string> kept;          // Quantize / Dequantize nodes left as kernels, why
  std::vector<std::string> materialized;  // Dequantize of constants made FLOAT32 constants
};

// Folds explicit quantization (INetwork Quantize / Dequantize nodes, ONNX QDQ models) into
// quantized kernels with exactly the network's parameters (docs/quantization.md,
// "Explicit quantization"): Conv / FullyConnected / MatMul reading Dequantize(x_q) and
// Dequantize(integer weights) (+ bias), Elementwise, Pool, Concat, Reshape, Flatten; a
// Quantize after such a node becomes its output. What cannot fold stays (Quantize /
// Dequantize kernels); a remaining Dequantize of a constant becomes a FLOAT32 constant.
// Run after FuseResiduals / FuseActivations. `notes` may be null.
Status FoldQdq(graph::Graph* graph, QdqFoldingNotes* notes);

}  // namespace qsdk::builder
