// Shape arithmetic shared by the FP32 and the quantized reference kernels of the same op
// (Conv, MatMul, Pool), so that both check and index exactly alike. Internal to
// src/reference/.
#pragma once

#include <cstdint>
#include <vector>

#include "qsdk/status.h"
#include "reference/ops.h"

namespace qsdk::reference::internal {

// --- Conv --------------------------------------------------------------------------------

struct ConvGeometry {
  int64_t n = 0, c = 0, h = 0, w = 0;  // input [N, C, H, W]
  int64_t oc = 0, kh = 0, kw = 0;      // filter [OC, C/group, KH, KW]
  int64_t group = 1, c_per_group = 0, oc_per_group = 0;
  int64_t oh = 0, ow = 0;              // output [N, OC, OH, OW]

  std::vector<int64_t> OutputShape() const { return {n, oc, oh, ow}; }
  // Offsets of input element (in, ic, iy, ix), filter element (o, icg, ky, kx) and output
  // element (in, o, y, x) in their row-major tensors.
  int64_t XIndex(int64_t in, int64_t ic, int64_t iy, int64_t ix) const {
    return ((in * c + ic) * h + iy) * w + ix;
  }
  int64_t WIndex(int64_t o, int64_t icg, int64_t ky, int64_t kx) const {
    return ((o * c_per_group + icg) * kh + ky) * kw + kx;
  }
  int64_t YIndex(int64_t in, int64_t o, int64_t y, int64_t x) const {
    return ((in * oc + o) * oh + y) * ow + x;
  }
};

// Checks `params` (strides, pads, dilations, group, fused activation) and the shapes of the
// input x and filter w, and computes the geometry. Messages start with `op`.
Status ResolveConvGeometry(const char* op, const std::vector<int64_t>& x_shape,
                           const std::vector<int64_t>& w_shape, const ConvParams& params,
                           ConvGeometry* geometry);

// --- MatMul ------------------------------------------------------------------------------

struct MatMulGeometry {
  int64_t m = 0, k = 0, n = 0;         // logical a [M, K], b [K, N]
  std::vector<int64_t> batch;          // broadcast batch dims
  std::vector<int64_t> out_shape;      // batch + [M, N]
  std::vector<int64_t> a_batch_strides;  // in whole matrices, 0 along broadcast dims
  std::vector<int64_t> b_batch_strides;
  std::vector<int64_t> bias_strides;   // in elements over out_shape; empty without bias
};

// Checks the shapes of a, b and the optional bias (which must broadcast to the output
// without enlarging it) and computes the geometry.
Status ResolveMatMulGeometry(const char* op, const std::vector<int64_t>& a_shape,
                             const std::vector<int64_t>& b_shape,
                             const std::vector<int64_t>* bias_shape, const MatMulParams& params,
                             MatMulGeometry* geometry);

// --- Pool --------------------------------------------------------------------------------

struct PoolGeometry {
  int64_t n = 0, c = 0, h = 0, w = 0;
  int64_t oh = 0, ow = 0;
  PoolParams params;  // with the global modes expanded to a whole-plane window
  bool is_max = false;
};

// One pooling window: the input rows [iy0, iy1) and columns [ix0, ix1) it covers (never
// empty), and the element count an average divides by (per count_include_pad).
struct PoolWindow {
  int64_t iy0 = 0, iy1 = 0, ix0 = 0, ix1 = 0;
  int64_t divisor = 1;
  int64_t inside() const { return (iy1 - iy0) * (ix1 - ix0); }
};

// Checks the mode, the window parameters and x [N, C, H, W], and computes the geometry.
Status ResolvePoolGeometry(const char* op, const std::vector<int64_t>& x_shape,
                           const PoolParams& params, PoolGeometry* geometry);

// The window of output element (oy, ox). Fails (kInternal) on an empty window, which the
// pad < kernel rule and the ceil_mode window drop exclude.
Status PoolWindowAt(const char* op, const PoolGeometry& geometry, int64_t oy, int64_t ox,
                    PoolWindow* window);

// Concat (docs/ops.md): every shape has the rank of shapes[0] and its extents except on
// `axis` (in [0, rank)); the output extent on `axis` is the sum. Defined in concat.cc.
Status ResolveConcatShape(const char* op, const std::vector<const std::vector<int64_t>*>& shapes,
                          int64_t axis, std::vector<int64_t>* out_shape);

}  // namespace qsdk::reference::internal
