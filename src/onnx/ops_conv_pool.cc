// Conv, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool. qsdk convolutions and
// pools are 2-D (NCHW); a 1-D one ([N, C, L]) is imported as the 2-D op on [N, C, 1, L]
// between two Reshapes. 3-D and higher are not supported.
#include <algorithm>
#include <cstdint>

#include "common/status_macros.h"
#include "onnx/ops.h"

namespace qsdk::onnx {

namespace {

Status NetworkStatus(const OnnxNode& node, const Status& s) {
  if (s.ok()) return s;
  return Status(s.code(), StrCat(node.describe, ": ", s.message()));
}

// The geometry of a convolution or pooling window, per spatial axis (1 or 2 axes).
struct Window {
  std::vector<int64_t> kernel;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads;  // ONNX order: begin of each axis, then end of each axis
};

// Reads strides, dilations (when `has_dilations`), pads and auto_pad for a window of
// `kernel` over the spatial extents `spatial` (-1 when unknown), resolving auto_pad.
Status ReadWindow(const OnnxNode& node, const std::vector<int64_t>& spatial, bool has_dilations,
                  Window* w) {
  const size_t n = w->kernel.size();
  const std::vector<int64_t> ones(n, 1);
  QSDK_RETURN_IF_ERROR(node.attrs.GetInts("strides", ones, &w->strides));
  if (has_dilations) {
    QSDK_RETURN_IF_ERROR(node.attrs.GetInts("dilations", ones, &w->dilations));
  } else {
    w->dilations = ones;
  }
  QSDK_RETURN_IF_ERROR(node.attrs.GetInts("pads", std::vector<int64_t>(2 * n, 0), &w->pads));
  std::string auto_pad;
  QSDK_RETURN_IF_ERROR(node.attrs.GetString("auto_pad", "NOTSET", &auto_pad));
  if (w->strides.size() != n || w->dilations.size() != n || w->pads.size() != 2 * n) {
    return InvalidArgument(node.describe, ": strides ", DimsToString(w->strides), ", dilations ",
                           DimsToString(w->dilations), " and pads ", DimsToString(w->pads),
                           " need ", n, ", ", n, " and ", 2 * n, " values for ", n,
                           " spatial axes");
  }
  for (size_t i = 0; i < n; ++i) {
    if (w->strides[i] < 1 || w->dilations[i] < 1 || w->kernel[i] < 1) {
      return InvalidArgument(node.describe, ": kernel ", DimsToString(w->kernel), ", strides ",
                             DimsToString(w->strides), ", dilations ", DimsToString(w->dilations),
                             "; each must be >= 1");
    }
  }
  for (int64_t p : w->pads) {
    if (p < 0) {
      return InvalidArgument(node.describe, ": pads ", DimsToString(w->pads),
                             "; each pad must be >= 0");
    }
  }
  // Bounds that keep the window arithmetic below (and the network's) far from overflow.
  constexpr int64_t kLimit = INT32_MAX;
  for (const std::vector<int64_t>* v : {&w->kernel, &w->strides, &w->dilations, &w->pads}) {
    for (int64_t x : *v) {
      if (x > kLimit) {
        return InvalidArgument(node.describe, ": kernel ", DimsToString(w->kernel), ", strides ",
                               DimsToString(w->strides), ", dilations ", DimsToString(w->dilations),
                               ", pads ", DimsToString(w->pads), "; each must be at most ", kLimit);
      }
    }
  }
  if (auto_pad == "NOTSET") return Status::Ok();
  if (node.attrs.Has("pads")) {
    return InvalidArgument(node.describe, ": auto_pad = ", auto_pad,
                           " and explicit pads cannot be used together");
  }
  if (auto_pad == "VALID") {
    std::fill(w->pads.begin(), w->pads.end(), 0);
    return Status::Ok();
  }
  if (auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER") {
    return InvalidArgument(node.describe, ": auto_pad = '", auto_pad,
                           "'; it must be NOTSET, VALID, SAME_UPPER or SAME_LOWER");
  }
  for (size_t i = 0; i < n; ++i) {
    if (spatial[i] < 1) {
      return Unimplemented(node.describe, ": auto_pad = ", auto_pad, " needs the input's ",
                           "spatial extents, but axis ", i + 2, " is dynamic");
    }
    // Output = ceil(in / stride); the total padding makes the last window end there.
    // (128-bit: the extents come from the file; the bounds above keep the result small.)
    const __int128 out = (spatial[i] - 1) / w->strides[i] + 1;
    const __int128 effective = static_cast<__int128>(w->kernel[i] - 1) * w->dilations[i] + 1;
    const __int128 needed = (out - 1) * w->strides[i] + effective - spatial[i];
    const int64_t total = needed > 0 ? static_cast<int64_t>(needed) : 0;
    const int64_t small = total / 2, large = total - small;
    // SAME_UPPER puts the extra padding at the end, SAME_LOWER at the beginning.
    w->pads[i] = auto_pad == "SAME_UPPER" ? small : large;
    w->pads[n + i] = auto_pad == "SAME_UPPER" ? large : small;
  }
  return Status::Ok();
}

// The data input, with a 1-D input lifted to 2-D: [N, C, L] -> [N, C, 1, L].
Status SpatialInput(ImportContext& ctx, const OnnxNode& node, const char* role, ITensor** x,
                    size_t* spatial_rank) {
  QSDK_RETURN_IF_ERROR(ctx.TensorInput(node, 0, role, x));
  const Dims dims = (*x)->GetDimension();
  const int64_t rank = dims.GetDimsNum();
  if (rank != 3 && rank != 4) {
    return Unimplemented(node.describe, ": input '", node.InputName(0), "' has shape ",
                         dims.ToString(), "; qsdk supports 1-D and 2-D ", node.op(),
                         " (inputs [N, C, L] and [N, C, H, W])");
  }
  *spatial_rank = static_cast<size_t>(rank - 2);
  if (rank == 3) {
    QSDK_RETURN_IF_ERROR(ctx.AddReshape(node, "to_2d", *x, {0, 0, 1, -1}, x));
  }
  return Status::Ok();
}

// Spatial extents of an input of `dims` (the last `n` extents).
std::vector<int64_t> SpatialDims(const Dims& dims, size_t n) {
  const std::vector<int64_t>& d = dims.GetDims();
  return std::vector<int64_t>(d.end() - static_cast<std::ptrdiff_t>(n), d.end());
}

// 2-D parameters of a window over 1 or 2 spatial axes (a 1-D window is 1 high).
void To2d(const Window& w, std::vector<int64_t>* kernel, std::vector<int64_t>* strides,
          std::vector<int64_t>* dilations, std::vector<int64_t>* pads) {
  if (w.kernel.size() == 1) {
    *kernel = {1, w.kernel[0]};
    *strides = {1, w.strides[0]};
    *dilations = {1, w.dilations[0]};
    *pads = {0, 0, w.pads[0], w.pads[1]};
  } else {
    *kernel = w.kernel;
    *strides = w.strides;
    *dilations = w.dilations;
    // ONNX {h_begin, w_begin, h_end, w_end} -> qsdk {top, bottom, left, right}.
    *pads = {w.pads[0], w.pads[2], w.pads[1], w.pads[3]};
  }
}

// Defines output 0 from the 2-D result `y`, reshaped back to 1-D when the input was.
Status SpatialOutput(ImportContext& ctx, const OnnxNode& node, size_t spatial_rank, ITensor* y) {
  if (spatial_rank == 1) {
    QSDK_RETURN_IF_ERROR(ctx.AddReshape(node, "to_1d", y, {0, 0, -1}, &y));
  }
  return ctx.SetOutput(node, 0, y);
}

Status Pool(ImportContext& ctx, const OnnxNode& node, PoolMode mode) {
  const bool max = mode == PoolMode::kMax;
  if (max) {
    QSDK_RETURN_IF_ERROR(
        node.attrs.CheckKnown({"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads",
                               "storage_order", "strides"}));
    QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "Indices"));
  } else {
    QSDK_RETURN_IF_ERROR(node.attrs.CheckKnown(
        {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"}));
    QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "extra output"));
  }
  ITensor* x = nullptr;
  size_t n = 0;
  QSDK_RETURN_IF_ERROR(SpatialInput(ctx, node, "X", &x, &n));
  Window w;
  if (!node.attrs.Has("kernel_shape")) {
    return InvalidArgument(node.describe, ": attribute 'kernel_shape' is missing; it is required");
  }
  QSDK_RETURN_IF_ERROR(node.attrs.GetInts("kernel_shape", {}, &w.kernel));
  if (w.kernel.size() != n) {
    return InvalidArgument(node.describe, ": kernel_shape ", DimsToString(w.kernel), " has ",
                           w.kernel.size(), " values for ", n, " spatial axes");
  }
  const std::vector<int64_t> spatial = SpatialDims(x->GetDimension(), n);
  QSDK_RETURN_IF_ERROR(ReadWindow(node, spatial, max, &w));
  for (int64_t d : w.dilations) {
    if (d != 1) {
      return Unimplemented(node.describe, ": dilations = ", DimsToString(w.dilations),
                           "; qsdk pools have no dilation (all must be 1)");
    }
  }
  int64_t ceil_mode = 0, count_include_pad = 0;
  QSDK_RETURN_IF_ERROR(node.attrs.GetInt("ceil_mode", 0, &ceil_mode));
  QSDK_RETURN_IF_ERROR(node.attrs.GetInt("count_include_pad", 0, &count_include_pad));
  std::vector<int64_t> kernel, strides, dilations, pads;
  To2d(w, &kernel, &strides, &dilations, &pads);
  IPoolNode* pool = ctx.network()->AddIPoolNode(x, mode);
  ITensor* y = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Added(node, pool, "", &y));
  // Setters only when they change something: each one re-validates the whole network.
  QSDK_RETURN_IF_ERROR(NetworkStatus(node, pool->SetKernel(kernel[0], kernel[1])));
  if (strides != pool->GetStride()) {
    QSDK_RETURN_IF_ERROR(NetworkStatus(node, pool->SetStride(strides[0], strides[1])));
  }
  if (pads != pool->GetPad()) {
    QSDK_RETURN_IF_ERROR(NetworkStatus(node, pool->SetPad(pads[0], pads[1], pads[2], pads[3])));
  }
  if (ceil_mode != 0) QSDK_RETURN_IF_ERROR(NetworkStatus(node, pool->SetCeilMode(true)));
  if (!max && count_include_pad != 0) {
    QSDK_RETURN_IF_ERROR(NetworkStatus(node, pool->SetCountIncludePad(true)));
  }
  return SpatialOutput(ctx, node, n, y);
}

Status GlobalPool(ImportContext& ctx, const OnnxNode& node, PoolMode mode) {
  QSDK_RETURN_IF_ERROR(node.attrs.CheckKnown({}));
  QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "extra output"));
  ITensor* x = nullptr;
  size_t n = 0;
  QSDK_RETURN_IF_ERROR(SpatialInput(ctx, node, "X", &x, &n));
  ITensor* y = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Added(node, ctx.network()->AddIPoolNode(x, mode), "", &y));
  // [N, C, 1, 1] -> [N, C, 1] for a 1-D input.
  if (n == 1) QSDK_RETURN_IF_ERROR(ctx.AddReshape(node, "to_1d", y, {0, 0, 1}, &y));
  return ctx.SetOutput(node, 0, y);
}

}  // namespace

Status ImportConv(ImportContext& ctx, const OnnxNode& node) {
  QSDK_RETURN_IF_ERROR(
      node.attrs.CheckKnown({"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}));
  QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "extra output"));
  std::shared_ptr<const HostTensor> weight;
  QSDK_RETURN_IF_ERROR(ctx.ConstantInput(node, 1, "W", &weight));
  if (!weight->is_float()) {
    return Unimplemented(node.describe, ": weight '", node.InputName(1), "' is ",
                         OnnxTypeName(weight->type()), "; qsdk convolutions read FLOAT weights");
  }
  ITensor* x = nullptr;
  size_t n = 0;
  QSDK_RETURN_IF_ERROR(SpatialInput(ctx, node, "X", &x, &n));
  if (weight->dims().size() != n + 2) {
    return InvalidArgument(node.describe, ": weight '", node.InputName(1), "' has shape ",
                           DimsToString(weight->dims()), "; for ", n,
                           "-D convolution it needs rank ", n + 2);
  }
  Window w;
  w.kernel.assign(weight->dims().begin() + 2, weight->dims().end());
  std::vector<int64_t> kernel_shape;
  QSDK_RETURN_IF_ERROR(node.attrs.GetInts("kernel_shape", w.kernel, &kernel_shape));
  if (kernel_shape != w.kernel) {
    return InvalidArgument(node.describe, ": kernel_shape ", DimsToString(kernel_shape),
                           " differs from the weight's spatial extents ", DimsToString(w.kernel));
  }
  // After the lift of a 1-D input the last axis is still L.
  QSDK_RETURN_IF_ERROR(ReadWindow(node, SpatialDims(x->GetDimension(), n), true, &w));
  int64_t group = 1;
  QSDK_RETURN_IF_ERROR(node.attrs.GetInt("group", 1, &group));
  if (group < 1) {
    return InvalidArgument(node.describe, ": group = ", group, "; it must be >= 1");
  }

  ITensor* filter = nullptr;
  const Value* w_value = ctx.Find(node.InputName(1));
  if (n == 1 && w_value != nullptr && w_value->dequantized) {
    // The explicit dequantization of 1-D weights, lifted like the FLOAT ones (the axes
    // from 2 on move one place).
    DequantizedConstant t = *w_value->dequantized;
    std::vector<int64_t> dims = t.data->dims();
    dims.insert(dims.begin() + 2, 1);
    t.data = std::make_shared<const HostTensor>(t.data->Reshaped(dims));
    if (t.axis >= 2) ++t.axis;
    QSDK_RETURN_IF_ERROR(ctx.AddDequantized(node, t, ctx.UniqueNodeName(node.name + "/weight_2d"),
                                            ctx.UniqueTensorName(node.name + "/weight_2d"),
                                            &filter));
  } else if (n == 1) {
    std::vector<int64_t> dims = weight->dims();
    dims.insert(dims.begin() + 2, 1);  // [M, C/g, k] -> [M, C/g, 1, k]
    QSDK_RETURN_IF_ERROR(ctx.AddConstant(node, "weight_2d", weight->Reshaped(dims), &filter));
  } else {
    QSDK_RETURN_IF_ERROR(ctx.TensorInput(node, 1, "W", &filter));
  }
  ITensor* bias = nullptr;
  if (node.HasInput(2)) {
    std::shared_ptr<const HostTensor> b;
    QSDK_RETURN_IF_ERROR(ctx.ConstantInput(node, 2, "B", &b));
    QSDK_RETURN_IF_ERROR(ctx.TensorInput(node, 2, "B", &bias));
  }
  std::vector<int64_t> kernel, strides, dilations, pads;
  To2d(w, &kernel, &strides, &dilations, &pads);
  IConvNode* conv = ctx.network()->AddIConvNode(x, filter, bias);
  ITensor* y = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Added(node, conv, "", &y));
  // Setters only when they change something: each one re-validates the whole network.
  if (group != conv->GetGroup()) QSDK_RETURN_IF_ERROR(NetworkStatus(node, conv->SetGroup(group)));
  if (strides != conv->GetStride()) {
    QSDK_RETURN_IF_ERROR(NetworkStatus(node, conv->SetStride(strides[0], strides[1])));
  }
  if (dilations != conv->GetDilation()) {
    QSDK_RETURN_IF_ERROR(NetworkStatus(node, conv->SetDilation(dilations[0], dilations[1])));
  }
  if (pads != conv->GetPad()) {
    QSDK_RETURN_IF_ERROR(NetworkStatus(node, conv->SetPad(pads[0], pads[1], pads[2], pads[3])));
  }
  return SpatialOutput(ctx, node, n, y);
}

Status ImportMaxPool(ImportContext& ctx, const OnnxNode& node) {
  return Pool(ctx, node, PoolMode::kMax);
}

Status ImportAveragePool(ImportContext& ctx, const OnnxNode& node) {
  return Pool(ctx, node, PoolMode::kAverage);
}

Status ImportGlobalAveragePool(ImportContext& ctx, const OnnxNode& node) {
  return GlobalPool(ctx, node, PoolMode::kGlobalAverage);
}

Status ImportGlobalMaxPool(ImportContext& ctx, const OnnxNode& node) {
  return GlobalPool(ctx, node, PoolMode::kGlobalMax);
}

}  // namespace qsdk::onnx
