// Subgraphs that compute one qsdk activation with ops qsdk does not have on their own:
//
//   Gelu      y = x * 0.5 * (1 + erf(x / sqrt(2)))  (opset 20's Gelu does not exist in
//             ONNX 1.12; exporters write it out with Div or Mul, Erf, Add and two Muls,
//             the multiplications in any order)
//   HardSwish y = x * HardSigmoid(x) with alpha = 1/6, beta = 0.5 (HardSwish expanded)
//
// Each match becomes a single Activation node. Erf, Div and HardSigmoid outside such a
// pattern remain unsupported.
#pragma once

#include <onnx/onnx_pb.h>

#include <functional>
#include <string>
#include <vector>

#include "onnx/tensor_data.h"
#include "qsdk/node_type.h"

namespace qsdk::onnx {

struct PatternMatch {
  ActivationType activation = ActivationType::kNone;
  const char* form = "";   // "x * 0.5 * (1 + erf(x / sqrt(2)))", for messages
  std::string input;       // x
  std::string output;      // y
  int anchor = 0;          // the node of the pattern that comes last; emitted there
  std::vector<int> nodes;  // every node of the pattern (indices into graph.node)
};

struct PatternMatches {
  std::vector<PatternMatch> matches;
  std::vector<int> match_of_node;  // per node: index into `matches`, or -1
};

// Looks up a value that is a constant known before import (an initializer or a Constant
// node's output); nullptr otherwise.
using ConstantLookup = std::function<const HostTensor*(const std::string& name)>;

// Finds every match in `graph`. Intermediate values of a match must be read only inside
// it and not be graph outputs; constants must be single FLOAT values within 1e-5
// (relative) of the expected number.
void FindPatterns(const ::onnx::GraphProto& graph, const ConstantLookup& constant,
                  PatternMatches* matches);

}  // namespace qsdk::onnx
