// The NCHW input rule and the window stride rule shared by Conv and Pool (geometry.h).
#include "reference/geometry.h"

namespace qsdk::reference::internal {

Status ResolveNchwInput(const char* op, const std::vector<int64_t>& xs, NchwExtents* x) {
  if (xs.size() != 4) {
    return InvalidArgument(op, ": input x has shape ", ShapeString(xs),
                           "; it must have 4 dims [N,C,H,W]");
  }
  x->n = xs[0];
  x->c = xs[1];
  x->h = xs[2];
  x->w = xs[3];
  return Status::Ok();
}

Status CheckWindowStrides(const char* op, int64_t stride_h, int64_t stride_w) {
  if (stride_h < 1 || stride_w < 1) {
    return InvalidArgument(op, ": strides = [", stride_h, ",", stride_w,
                           "]; each stride must be >= 1");
  }
  return Status::Ok();
}

}  // namespace qsdk::reference::internal
