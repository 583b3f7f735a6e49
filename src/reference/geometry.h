// Shape arithmetic shared by the FP32, INT8, INT16 and dynamically quantized reference
// kernels of the same op (Conv, FullyConnected, MatMul, Pool, Concat, Flatten), so that
// every kernel of an op checks its shapes with the same rule and message and visits its
// elements in the same order. Internal to src/reference/.
#pragma once

#include <cstdint>
#include <vector>

#include "qsdk/status.h"
#include "reference/op_util.h"
#include "reference/ops.h"

namespace qsdk::reference::internal {

// --- NCHW inputs (Conv, Pool) ----------------------------------------------------------

struct NchwExtents {
  int64_t n = 0, c = 0, h = 0, w = 0;
};

// Checks that the input x has 4 dims [N,C,H,W] and stores them. Defined in geometry.cc.
Status ResolveNchwInput(const char* op, const std::vector<int64_t>& x_shape, NchwExtents* x);

// The stride rule of a 2-D sliding window (Conv, Pool): each stride >= 1. Defined in
// geometry.cc.
Status CheckWindowStrides(const char* op, int64_t stride_h, int64_t stride_w);

// --- Conv --------------------------------------------------------------------------------

struct ConvGeometry : NchwExtents {  // input [N, C, H, W]
  int64_t oc = 0, kh = 0, kw = 0;      // filter [OC, C/group, KH, KW]
  int64_t group = 1, c_per_group = 0, oc_per_group = 0;
  int64_t oh = 0, ow = 0;              // output [N, OC, OH, OW]
  ConvParams params;                   // strides, pads, dilations (checked)

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
// input x and filter w, and computes the geometry. Messages start with `op`. Defined in
// conv.cc.
Status ResolveConvGeometry(const char* op, const std::vector<int64_t>& x_shape,
                           const std::vector<int64_t>& w_shape, const ConvParams& params,
                           ConvGeometry* geometry);

// Calls fn(in, o, y, x) for every output element, in row-major order of the output.
template <typename Fn>
void ForEachConvOutput(const ConvGeometry& g, Fn&& fn) {
  for (int64_t in = 0; in < g.n; ++in) {
    for (int64_t o = 0; o < g.oc; ++o) {
      for (int64_t y = 0; y < g.oh; ++y) {
        for (int64_t x = 0; x < g.ow; ++x) fn(in, o, y, x);
      }
    }
  }
}

// Calls tap(x_index, w_index) for every filter tap of output element (in, o, y, x) that
// reads the input, in the order (input channel of o's group, ky, kx): the kernels' sums
// depend on that order (FP32) or not (exact integers), and all of them use this one. Taps
// on the zero padding are skipped: they add nothing (FP32 0; quantized x_q = z_x).
template <typename Tap>
void ForEachConvTap(const ConvGeometry& g, int64_t in, int64_t o, int64_t y, int64_t x,
                    Tap&& tap) {
  const ConvParams& p = g.params;
  const int64_t grp = o / g.oc_per_group;
  for (int64_t icg = 0; icg < g.c_per_group; ++icg) {
    const int64_t ic = grp * g.c_per_group + icg;
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      const int64_t iy = y * p.stride_h - p.pad_top + ky * p.dilation_h;
      if (iy < 0 || iy >= g.h) continue;
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        const int64_t ix = x * p.stride_w - p.pad_left + kx * p.dilation_w;
        if (ix < 0 || ix >= g.w) continue;
        tap(g.XIndex(in, ic, iy, ix), g.WIndex(o, icg, ky, kx));
      }
    }
  }
}

// --- FullyConnected ------------------------------------------------------------------------

struct FullyConnectedGeometry {
  // The input x [N, d1, ...] is read as [N, K] (row-major, so no data movement).
  int64_t n = 0, k = 0;
  int64_t oc = 0;  // weights w [OC, K]

  std::vector<int64_t> OutputShape() const { return {n, oc}; }
};

// Checks the shapes of the input x (rank >= 2) and the weights w ([OC, K]) and computes
// the geometry. Messages name "input x" and "weight w". Defined in fully_connected.cc.
Status ResolveFullyConnectedGeometry(const char* op, const std::vector<int64_t>& x_shape,
                                     const std::vector<int64_t>& w_shape,
                                     FullyConnectedGeometry* geometry);

// --- MatMul ------------------------------------------------------------------------------

// One output element of a MatMul and where its operands' matrices start.
struct MatMulElement {
  int64_t a_offset = 0;     // first element of this batch's matrix of a
  int64_t b_offset = 0;     // first element of this batch's matrix of b
  int64_t i = 0, j = 0;     // row and column in the output matrix
  int64_t y_index = 0;      // row-major offset in the output
  int64_t bias_index = -1;  // offset of its (broadcast) bias element; -1 without bias
};

struct MatMulGeometry {
  int64_t m = 0, k = 0, n = 0;         // logical a [M, K], b [K, N]
  bool transpose_a = false, transpose_b = false;
  std::vector<int64_t> batch;          // broadcast batch dims
  std::vector<int64_t> out_shape;      // batch + [M, N]
  std::vector<int64_t> a_batch_strides;  // in whole matrices, 0 along broadcast dims
  std::vector<int64_t> b_batch_strides;
  bool has_bias = false;
  std::vector<int64_t> bias_strides;   // in elements over out_shape; empty without bias

  // Offsets of a's and b's elements of inner index p for output element e. Stored layouts:
  // a is [M,K] or, transposed, [K,M]; b is [K,N] or [N,K].
  int64_t AIndex(const MatMulElement& e, int64_t p) const {
    return e.a_offset + (transpose_a ? p * m + e.i : e.i * k + p);
  }
  int64_t BIndex(const MatMulElement& e, int64_t p) const {
    return e.b_offset + (transpose_b ? e.j * k + p : p * n + e.j);
  }
};

// Checks the shapes of a, b and the optional bias (which must broadcast to the output
// without enlarging it) and the fused activation, and computes the geometry. Defined in
// matmul.cc.
Status ResolveMatMulGeometry(const char* op, const std::vector<int64_t>& a_shape,
                             const std::vector<int64_t>& b_shape,
                             const std::vector<int64_t>* bias_shape, const MatMulParams& params,
                             MatMulGeometry* geometry);

// Calls fn(element) for every output element, in row-major order of the output.
template <typename Fn>
void ForEachMatMulOutput(const MatMulGeometry& g, Fn&& fn) {
  const size_t batch_rank = g.batch.size();
  const int64_t batch_count = Product(g.batch);
  std::vector<int64_t> bi(batch_rank, 0);
  std::vector<int64_t> out_index(g.out_shape.size(), 0);
  MatMulElement e;
  for (int64_t t = 0; t < batch_count; ++t, NextIndex(g.batch, &bi)) {
    e.a_offset = OffsetOf(bi, g.a_batch_strides) * g.m * g.k;
    e.b_offset = OffsetOf(bi, g.b_batch_strides) * g.k * g.n;
    for (size_t d = 0; d < batch_rank; ++d) out_index[d] = bi[d];
    for (e.i = 0; e.i < g.m; ++e.i) {
      for (e.j = 0; e.j < g.n; ++e.j) {
        e.y_index = (t * g.m + e.i) * g.n + e.j;
        if (g.has_bias) {
          out_index[batch_rank] = e.i;
          out_index[batch_rank + 1] = e.j;
          e.bias_index = OffsetOf(out_index, g.bias_strides);
        }
        fn(e);
      }
    }
  }
}

// --- Pool --------------------------------------------------------------------------------

struct PoolGeometry : NchwExtents {
  int64_t oh = 0, ow = 0;
  PoolParams params;  // with the global modes expanded to a whole-plane window
  bool is_max = false;

  std::vector<int64_t> OutputShape() const { return {n, c, oh, ow}; }
};

// One pooling window: the input rows [iy0, iy1) and columns [ix0, ix1) it covers (never
// empty), and the element count an average divides by (per count_include_pad).
struct PoolWindow {
  int64_t iy0 = 0, iy1 = 0, ix0 = 0, ix1 = 0;
  int64_t divisor = 1;
  int64_t inside() const { return (iy1 - iy0) * (ix1 - ix0); }

  // Calls fn(offset) for each covered element of a plane of width `w`, row by row (the
  // order of the FP32 average's sum).
  template <typename Fn>
  void ForEachInput(int64_t w, Fn&& fn) const {
    for (int64_t iy = iy0; iy < iy1; ++iy) {
      for (int64_t ix = ix0; ix < ix1; ++ix) fn(iy * w + ix);
    }
  }
};

// Checks the mode, the window parameters and x [N, C, H, W], and computes the geometry.
// Defined in pool.cc.
Status ResolvePoolGeometry(const char* op, const std::vector<int64_t>& x_shape,
                           const PoolParams& params, PoolGeometry* geometry);

// The window of output element (oy, ox). Fails (kInternal) on an empty window, which the
// pad < kernel rule and the ceil_mode window drop exclude. Defined in pool.cc.
Status PoolWindowAt(const char* op, const PoolGeometry& geometry, int64_t oy, int64_t ox,
                    PoolWindow* window);

// Calls fn(plane_offset, y_index, window) for every output element in row-major order:
// plane_offset is the offset of its input plane (n, c), y_index its offset in the output.
template <typename Fn>
Status ForEachPoolWindow(const char* op, const PoolGeometry& g, Fn&& fn) {
  for (int64_t plane = 0; plane < g.n * g.c; ++plane) {
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        PoolWindow window;
        QSDK_RETURN_IF_ERROR(PoolWindowAt(op, g, oy, ox, &window));
        fn(plane * g.h * g.w, (plane * g.oh + oy) * g.ow + ox, window);
      }
    }
  }
  return Status::Ok();
}

// --- Concat, Flatten -------------------------------------------------------------------

// Concat (docs/ops.md): every shape has the rank of shapes[0] and its extents except on
// `axis` (in [0, rank)); the output extent on `axis` is the sum. Defined in concat.cc.
Status ResolveConcatShape(const char* op, const std::vector<const std::vector<int64_t>*>& shapes,
                          int64_t axis, std::vector<int64_t>* out_shape);

// Flatten (docs/ops.md): `axis` in [0, rank]; the output is
// [prod(x[0:axis]), prod(x[axis:])]. Defined in reshape.cc.
Status ResolveFlattenShape(const char* op, const std::vector<int64_t>& x_shape, int64_t axis,
                           std::vector<int64_t>* out_shape);

}  // namespace qsdk::reference::internal
