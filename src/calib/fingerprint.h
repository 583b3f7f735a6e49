// The network fingerprint that ties a calibration table to the network it was made for.
#pragma once

#include <string>

#include "graph/graph.h"

namespace qsdk::calib {

// xxHash64 (seed 0) of a canonical little-endian encoding of what `graph` computes, as 16
// lower-case hex digits. Covered: every tensor's name, dtype, shape, producer and
// constant bytes; every node's type, name, attributes (key, kind, value; doubles by bit
// pattern) and input / output ids; the graph input and output lists. Not covered: tensor
// ranges and quantization parameters (calibration writes them) and precision requests
// (they change how the network is built, not the values calibration observes).
std::string NetworkFingerprint(const graph::Graph& graph);

}  // namespace qsdk::calib
