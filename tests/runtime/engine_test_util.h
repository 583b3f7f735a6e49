// Graphs shared by the engine tests.
#pragma once

#include <cstdint>
#include <memory>
#include <random>

#include "graph/graph.h"

namespace qsdk::runtime::testing {

// conv(3->16, 3x3, pad 1) -> relu -> conv(16->16, 3x3, pad 1) -> add(residual with the
// relu output) -> max pool 2x2/2 -> flatten -> fully connected (-> 10) -> softmax.
// Input "x" [batch, 3, 16, 16] (batch may be -1); output "prob" [batch, 10].
std::shared_ptr<graph::Graph> BuildSmallCnn(std::mt19937* rng, int64_t batch);

}  // namespace qsdk::runtime::testing
