#include "batch_shape.h"

#include "npy.h"
#include "status_util.h"

namespace qsdk::tools {
namespace {

int64_t Product(const std::vector<int64_t>& shape, size_t from) {
  int64_t p = 1;
  for (size_t i = from; i < shape.size(); ++i) p *= shape[i];
  return p;
}

}  // namespace

Status CheckExactShape(const std::vector<int64_t>& shape, const std::string& what,
                       const std::string& input, const Dims& dims) {
  const std::vector<int64_t>& want = dims.GetDims();
  const std::string rule = "input '" + input + "' is " + dims.ToString() + " (-1: any extent >= 1)";
  if (shape.size() != want.size()) {
    return InvalidArgumentStatus(what + " has shape " + FormatShape(shape) + " (rank " +
                                 std::to_string(shape.size()) + "); " + rule);
  }
  for (size_t i = 0; i < want.size(); ++i) {
    if ((want[i] >= 0 && shape[i] != want[i]) || (want[i] < 0 && shape[i] < 1)) {
      return InvalidArgumentStatus(what + " has shape " + FormatShape(shape) + ", extent " +
                                   std::to_string(shape[i]) + " at dim " + std::to_string(i) +
                                   "; " + rule);
    }
  }
  return Status::Ok();
}

Status SampleElements(const std::string& input, const Dims& dims, int64_t* elements) {
  const std::vector<int64_t>& want = dims.GetDims();
  if (want.empty()) {
    return InvalidArgumentStatus("input '" + input + "' is a scalar; it has no batch dimension");
  }
  for (size_t i = 1; i < want.size(); ++i) {
    if (want[i] < 0) {
      return InvalidArgumentStatus("input '" + input + "' is " + dims.ToString() +
                                   ": only its first (batch) extent may be dynamic here");
    }
  }
  *elements = Product(want, 1);
  return Status::Ok();
}

Status FitBatchShape(const std::vector<int64_t>& shape, const std::string& what,
                     const std::string& input, const Dims& dims,
                     std::vector<int64_t>* batch_shape) {
  const std::vector<int64_t>& want = dims.GetDims();
  if (shape.empty() || shape[0] < 1) {
    return InvalidArgumentStatus(what + " has shape " + FormatShape(shape) +
                                 "; it needs a first (batch) extent >= 1");
  }
  if (!want.empty() && want[0] >= 0 && shape[0] != want[0]) {
    return InvalidArgumentStatus(what + " has " + std::to_string(shape[0]) + " samples; input '" +
                                 input + "' is " + dims.ToString() + ", a fixed batch of " +
                                 std::to_string(want[0]));
  }
  if (shape.size() == want.size() && CheckExactShape(shape, what, input, dims).ok()) {
    *batch_shape = shape;
    return Status::Ok();
  }
  int64_t per_sample = 0;
  Status s = SampleElements(input, dims, &per_sample);
  if (s.ok() && Product(shape, 1) == per_sample) {
    std::vector<int64_t> out = want;
    out[0] = shape[0];
    *batch_shape = out;
    return Status::Ok();
  }
  return InvalidArgumentStatus(
      what + " has shape " + FormatShape(shape) + "; input '" + input + "' is " + dims.ToString() +
      (s.ok()
           ? " (data must be [N, ...] with " + std::to_string(per_sample) + " elements per sample)"
           : " (" + s.message() + ")"));
}

}  // namespace qsdk::tools
