#include "runtime/kernels/linear_output_shape.h"

#include <algorithm>

#include "common/status_macros.h"
#include "graph/graph.h"

namespace qsdk::runtime {

Status LinearOutputShape(const LinearGeometry& g, const std::vector<int64_t>& x,
                         const std::string& what, std::vector<int64_t>* out_shape) {
  std::vector<int64_t>& out = *out_shape;
  out.clear();
  if (g.fully_connected) {
    int64_t k = 1;
    for (size_t i = 1; i < x.size(); ++i) k *= x[i];
    if (x.size() < 2 || k != g.k) {
      return InvalidArgument(what, ": input 0 has dims ", graph::ShapeToString(x),
                             "; the kernel needs [N, ...] with ", g.k, " elements per row");
    }
    out = {x[0], g.n};
    return Status::Ok();
  }
  const size_t ar = x.size();
  if (ar < 2) {
    return InvalidArgument(what, ": input 0 has dims ", graph::ShapeToString(x),
                           "; it needs rank >= 2");
  }
  const int64_t m = g.transpose_a ? x[ar - 1] : x[ar - 2];
  const int64_t k = g.transpose_a ? x[ar - 2] : x[ar - 1];
  if (k != g.k) {
    return InvalidArgument(what, ": input 0 has dims ", graph::ShapeToString(x), " (K = ", k,
                           "); the weights have K = ", g.k);
  }
  // Numpy broadcasting of the batch dims, aligned on the right.
  const std::vector<int64_t> a_batch(x.begin(), x.end() - 2);
  const size_t rank = std::max(a_batch.size(), g.b_batch.size());
  for (size_t i = 0; i < rank; ++i) {
    const int64_t ea = i + a_batch.size() >= rank ? a_batch[i + a_batch.size() - rank] : 1;
    const int64_t eb = i + g.b_batch.size() >= rank ? g.b_batch[i + g.b_batch.size() - rank] : 1;
    if (ea != eb && ea != 1 && eb != 1) {
      return InvalidArgument(what, ": batch dims of input 0 ", graph::ShapeToString(x),
                             " and of the weights ", graph::ShapeToString(g.b_batch),
                             " do not broadcast");
    }
    out.push_back(ea == 1 ? eb : ea);
  }
  out.push_back(m);
  out.push_back(g.n);
  if (g.bias_shape.size() > out.size()) {
    return InvalidArgument(what, ": bias ", graph::ShapeToString(g.bias_shape),
                           " has a higher rank than the output ", graph::ShapeToString(out));
  }
  for (size_t i = 0; i < g.bias_shape.size(); ++i) {
    const int64_t e = g.bias_shape[i];
    if (e != 1 && e != out[out.size() - g.bias_shape.size() + i]) {
      return InvalidArgument(what, ": bias ", graph::ShapeToString(g.bias_shape),
                             " does not broadcast to the output ", graph::ShapeToString(out));
    }
  }
  return Status::Ok();
}

}  // namespace qsdk::runtime
