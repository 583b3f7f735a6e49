// Instantiate-time shape rule shared by the FullyConnected / MatMul kernels that are not
// oneDNN primitives with their own checks (INT16, dynamic INT8): the output shape at a
// concrete input shape, with every mismatch a status naming the node.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qsdk/status.h"

namespace qsdk::runtime {

// The constant side of the product, fixed at kernel creation.
struct LinearGeometry {
  bool fully_connected = false;   // x [N, ...] flattened to [N, K]; else MatMul a [..., M, K]
  bool transpose_a = false;       // MatMul only
  int64_t k = 0;                  // reduction extent of the weights
  int64_t n = 0;                  // output columns
  std::vector<int64_t> b_batch;   // MatMul: batch dims of the constant b (broadcast with a's)
  std::vector<int64_t> bias_shape;  // MatMul: the bias's shape, empty without a bias
};

// FullyConnected: [N, n] when x's extents after the first multiply to k. MatMul: the
// broadcast batch dims, then [M, n], when a's K equals k and the bias broadcasts to it.
// `what` names the node in messages.
Status LinearOutputShape(const LinearGeometry& geometry, const std::vector<int64_t>& x_shape,
                         const std::string& what, std::vector<int64_t>* out_shape);

}  // namespace qsdk::runtime
