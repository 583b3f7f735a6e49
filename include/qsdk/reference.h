/// @file reference.h
/// @brief Runs a network with qsdk's reference kernels: the numerics specification.
#pragma once

#include <vector>

#include "qsdk/export.h"
#include "qsdk/network.h"
#include "qsdk/status.h"
#include "qsdk/tensor.h"

namespace qsdk {

/// @brief Executes @p network as written (no graph optimization) with the naive reference
///        kernels, to check an engine's results against the specification.
///
/// Slow by design: plain loops, one thread. @p inputs follow the rules of
/// IContext::Execute (one per network input, in order; concrete extents for dynamic
/// ones). @p outputs receives one newly allocated tensor per network output.
/// The network is only read. Not for production inference.
QSDK_API Status ExecuteReference(const INetwork& network, const std::vector<Tensor>& inputs,
                                 std::vector<Tensor>* outputs);

}  // namespace qsdk
