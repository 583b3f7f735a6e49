// INT16 Conv (point 4 of the issue-5 contract): x INT16 per tensor (NCHW, plain), weights a
// constant INT16 [OC, C/group, KH, KW] (symmetric, per tensor or per output channel),
// optional FLOAT32 bias [OC], optional FLOAT32 residual (fused_sum), fused activation,
// output FLOAT32 or INT16, all plain row-major.
//
// Prepared once (Kernel): the weights as [OC, K] int16 rows (K = C/group * KH * KW; this
// is the graph's filter layout as is) and their per-channel sums wsum[oc] for the
// zero-point correction. Per image, group and chunk of output pixels (Execute): an im2col
// of the chunk written straight into the GEMM core's packed-B layout, padding taps filled
// with x_q = z_x (so they contribute (z_x - z_x) * w = 0 after the correction), then
// C[oc][pixel] = W_g * B exactly in int64 (int16_gemm.h) and the float epilogue
// (int16_kernel_util.h), which writes the NCHW output directly.
//
// Threads: the work items (image, group, chunk of output pixels) are split in two halves,
// run on the calling thread and on the process-wide helper thread of int16_gemm.h when it
// is idle and the convolution is large enough (OpenMP is not linked; Execute allocates
// nothing).
#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

#include "common/status_macros.h"
#include "graph/attributes.h"
#include "runtime/kernels/int16_gemm.h"
#include "runtime/kernels/int16_kernel_util.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/onednn_util.h"

namespace qsdk::runtime {
namespace {

using dnnl::memory;

struct Geometry {
  int64_t c = 0, oc = 0, group = 1, cg = 0, ocg = 0;
  int64_t kh = 0, kw = 0, k = 0;  // k = cg * kh * kw
  int64_t sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pb = 0, pl = 0, pr = 0;
};

// What every instance of the kernel shares (immutable after creation).
struct ConvData {
  std::string what;
  Geometry g;
  Int16Config config;
  std::vector<int16_t> weights;  // [OC][K]
  std::vector<int64_t> wsum;     // [OC]
  std::vector<float> bias;       // [OC] or empty
  Int16GemmIsa isa = Int16GemmIsa::kScalar;
};

constexpr size_t kAlign = 64;

size_t AlignUp(size_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

class Int16ConvInstance : public KernelInstance {
 public:
  Int16ConvInstance(std::shared_ptr<const ConvData> data, int64_t n, int64_t h, int64_t w,
                    int64_t oh, int64_t ow)
      : data_(std::move(data)), n_(n), h_(h), w_(w), oh_(oh), ow_(ow) {
    const Geometry& g = data_->g;
    const int64_t pixels = oh_ * ow_;
    // Columns per chunk: a multiple of the panel width whose packed B stays within about
    // 256 KB (L2), at least one panel, at most the whole (rounded-up) image.
    const int64_t by_cache =
        (128 * 1024 / std::max<int64_t>(g.k, 1)) / kInt16PanelWidth * kInt16PanelWidth;
    const int64_t whole = (pixels + kInt16PanelWidth - 1) / kInt16PanelWidth * kInt16PanelWidth;
    chunk_ = std::max<int64_t>(kInt16PanelWidth, std::min(by_cache, whole));
    b_bytes_ = AlignUp(static_cast<size_t>(Int16PackedSize(g.k, chunk_)) * sizeof(int16_t));
    c_bytes_ = AlignUp(static_cast<size_t>(g.ocg * chunk_) * sizeof(int64_t));
    rows_bytes_ = AlignUp(static_cast<size_t>(2 * chunk_) * sizeof(int16_t));
    part_bytes_ = b_bytes_ + c_bytes_ + rows_bytes_;
    chunks_ = (pixels + chunk_ - 1) / chunk_;
    items_ = n_ * g.group * chunks_;
    // Two threads when there are two work items and enough arithmetic to repay the
    // hand-over (about 4M multiply-adds, a few hundred microseconds).
    parallel_ = items_ >= 2 && n_ * g.oc * pixels * g.k >= (int64_t{1} << 22);
    scratchpad_bytes_ = kAlign + 2 * part_bytes_;
    if (parallel_) PrepareTwoThreads();
    std::vector<int64_t> x_shape = {n_, g.c, h_, w_};
    std::vector<int64_t> y_shape = {n_, g.oc, oh_, ow_};
    input_descs_.push_back(Int16PlainDesc(x_shape));
    if (data_->config.residual) input_descs_.push_back(PlainDesc(y_shape));
    output_descs_.push_back(data_->config.int16_output ? Int16PlainDesc(y_shape)
                                                       : PlainDesc(y_shape));
  }

  void Execute(dnnl::stream& /*stream*/, const std::vector<memory>& inputs,
               const std::vector<memory>& outputs, const memory& scratchpad) const override {
    Run run;
    run.self = this;
    run.x = static_cast<const int16_t*>(inputs[0].get_data_handle());
    run.residual =
        data_->config.residual ? static_cast<const float*>(inputs[1].get_data_handle()) : nullptr;
    run.y = static_cast<char*>(outputs[0].get_data_handle());
    const auto base = reinterpret_cast<uintptr_t>(scratchpad.get_data_handle());
    run.scratch = (base + kAlign - 1) / kAlign * kAlign;
    RunOnTwoThreads(&Int16ConvInstance::Task, &run, parallel_);
  }

 private:
  // The buffers of one Execute, shared by its two parts.
  struct Run {
    const Int16ConvInstance* self = nullptr;
    const int16_t* x = nullptr;
    const float* residual = nullptr;
    char* y = nullptr;
    uintptr_t scratch = 0;  // aligned; part p uses [p * part_bytes_, (p + 1) * part_bytes_)
  };

  static void Task(void* context, int part) {
    const Run& run = *static_cast<const Run*>(context);
    run.self->RunPart(run, part);
  }

  // Part 0 runs the first half of the work items (image, group, chunk of output pixels),
  // part 1 the rest, each with its own scratch.
  void RunPart(const Run& run, int part) const {
    const Geometry& g = data_->g;
    const Int16Config& config = data_->config;
    const size_t out_size = config.int16_output ? sizeof(int16_t) : sizeof(float);
    const uintptr_t base = run.scratch + static_cast<size_t>(part) * part_bytes_;
    auto* packed = reinterpret_cast<int16_t*>(base);
    auto* c = reinterpret_cast<int64_t*>(base + b_bytes_);
    auto* rows = reinterpret_cast<int16_t*>(base + b_bytes_ + c_bytes_);
    const int64_t pixels = oh_ * ow_;
    const bool per_channel = config.multipliers.size() > 1;
    const int64_t half = (items_ + 1) / 2;
    const int64_t begin = part == 0 ? 0 : half;
    const int64_t end = part == 0 ? half : items_;
    for (int64_t item = begin; item < end; ++item) {
      const int64_t n = item / (g.group * chunks_);
      const int64_t grp = (item / chunks_) % g.group;
      const int64_t p0 = (item % chunks_) * chunk_;
      const int64_t cols = std::min(chunk_, pixels - p0);
      const int16_t* x_group = run.x + (n * g.c + grp * g.cg) * h_ * w_;
      const int16_t* w_group = data_->weights.data() + grp * g.ocg * g.k;
      PackChunk(x_group, p0, cols, rows, packed);
      Int16Gemm(data_->isa, g.ocg, cols, g.k, w_group, g.k, packed, c, chunk_);
      for (int64_t ol = 0; ol < g.ocg; ++ol) {
        const int64_t o = grp * g.ocg + ol;
        const int64_t y_offset = (n * g.oc + o) * pixels + p0;
        EpilogueRow row;
        row.acc = c + ol * chunk_;
        row.wsum = &data_->wsum[static_cast<size_t>(o)];
        row.multiplier = &config.multipliers[per_channel ? static_cast<size_t>(o) : 0];
        row.bias = data_->bias.empty() ? nullptr : &data_->bias[static_cast<size_t>(o)];
        row.residual = run.residual != nullptr ? run.residual + y_offset : nullptr;
        row.out = run.y + y_offset * static_cast<int64_t>(out_size);
        RunInt16Epilogue(config, row, cols);
      }
    }
  }

  // One im2col row: the input values tap (ic, ky, kx) of the plane `plane` meets at output
  // pixels [p0, p0 + cols), z_x where the tap falls in the padding.
  void FillRow(const int16_t* plane, int64_t ky, int64_t kx, int64_t p0, int64_t cols, int16_t z,
               int16_t* row) const {
    const Geometry& g = data_->g;
    const int64_t offset = kx * g.dw - g.pl;  // ix = ox * sw + offset
    int64_t oy = p0 / ow_, ox = p0 % ow_;
    int64_t j = 0;
    while (j < cols) {
      // One run along an output row.
      const int64_t run = std::min(ow_ - ox, cols - j);
      const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
      int16_t* dst = row + j;
      if (iy < 0 || iy >= h_) {
        std::fill(dst, dst + run, z);
      } else {
        const int16_t* src = plane + iy * w_;
        // Element t of the run reads ix = base + t * sw; [t_lo, t_hi) are inside the row.
        const int64_t base = ox * g.sw + offset;
        int64_t t_lo = base >= 0 ? 0 : (-base + g.sw - 1) / g.sw;
        int64_t t_hi = base > w_ - 1 ? 0 : (w_ - 1 - base) / g.sw + 1;
        t_lo = std::min(t_lo, run);
        t_hi = std::max(std::min(t_hi, run), t_lo);
        std::fill(dst, dst + t_lo, z);
        if (g.sw == 1) {
          std::memcpy(dst + t_lo, src + base + t_lo,
                      static_cast<size_t>(t_hi - t_lo) * sizeof(int16_t));
        } else {
          for (int64_t t = t_lo; t < t_hi; ++t) dst[t] = src[base + t * g.sw];
        }
        std::fill(dst + t_hi, dst + run, z);
      }
      j += run;
      ox = 0;
      ++oy;
    }
  }

  // im2col of output pixels [p0, p0 + cols) of one image and group, in the GEMM core's
  // packed-B layout for K = g.k rows: two rows at a time into `rows` (2 x chunk_), then
  // interleaved into the panels. Columns past `cols` in the last panel and the missing row
  // of an odd K are zero (the core reads them; they never reach the output).
  void PackChunk(const int16_t* x_group, int64_t p0, int64_t cols, int16_t* rows,
                 int16_t* packed) const {
    const Geometry& g = data_->g;
    const auto z = static_cast<int16_t>(data_->config.x_zero_point);
    const int64_t pairs = (g.k + 1) / 2;
    const int64_t panel_stride = pairs * 2 * kInt16PanelWidth;
    const int64_t taps = g.kh * g.kw;
    int16_t* r0 = rows;
    int16_t* r1 = rows + chunk_;
    for (int64_t p = 0; p < pairs; ++p) {
      for (int h = 0; h < 2; ++h) {
        const int64_t kk = 2 * p + h;
        int16_t* row = h == 0 ? r0 : r1;
        if (kk >= g.k) {
          std::fill(row, row + cols, static_cast<int16_t>(0));
          continue;
        }
        const int64_t ic = kk / taps;
        FillRow(x_group + ic * h_ * w_, (kk / g.kw) % g.kh, kk % g.kw, p0, cols, z, row);
      }
      for (int64_t q = 0; q * kInt16PanelWidth < cols; ++q) {
        int16_t* dst = packed + q * panel_stride + p * 2 * kInt16PanelWidth;
        const int16_t* a0 = r0 + q * kInt16PanelWidth;
        const int16_t* a1 = r1 + q * kInt16PanelWidth;
        const int64_t lanes = std::min<int64_t>(kInt16PanelWidth, cols - q * kInt16PanelWidth);
        for (int64_t l = 0; l < lanes; ++l) {
          dst[2 * l] = a0[l];
          dst[2 * l + 1] = a1[l];
        }
        for (int64_t l = lanes; l < kInt16PanelWidth; ++l) dst[2 * l] = dst[2 * l + 1] = 0;
      }
    }
  }

  std::shared_ptr<const ConvData> data_;
  int64_t n_, h_, w_, oh_, ow_;
  int64_t chunk_ = kInt16PanelWidth;
  size_t b_bytes_ = 0, c_bytes_ = 0, rows_bytes_ = 0, part_bytes_ = 0;
  int64_t chunks_ = 1;
  int64_t items_ = 0;
  bool parallel_ = false;
};

class Int16ConvKernel : public Kernel {
 public:
  explicit Int16ConvKernel(std::shared_ptr<const ConvData> data) : data_(std::move(data)) {}

  std::string name() const override {
    return std::string("int16_conv_") + Int16GemmIsaName(data_->isa);
  }

  Status Instantiate(const InstantiateArgs& args,
                     std::unique_ptr<KernelInstance>* instance) const override {
    const std::string& what = data_->what;
    const Geometry& g = data_->g;
    QSDK_RETURN_IF_ERROR(CheckInt16InstantiateArgs(args, data_->config.residual ? 2 : 1, what));
    const memory::desc& x_md = args.input_descs[0];
    const memory::dims xd = x_md.dims();
    if (!IsInt16PlainDesc(x_md) || xd.size() != 4 || xd[1] != g.c) {
      return InvalidArgument(what, ": input 0 arrives as ", DimsToString(xd),
                             IsInt16PlainDesc(x_md) ? "" : " (not the plain INT16 layout)",
                             "; the kernel needs plain INT16 [N, ", g.c, ", H, W]");
    }
    int64_t out_hw[2];
    for (int d = 0; d < 2; ++d) {
      const int64_t in = xd[2 + d];
      const int64_t kernel = d == 0 ? g.kh : g.kw;
      const int64_t dil = d == 0 ? g.dh : g.dw;
      const int64_t stride = d == 0 ? g.sh : g.sw;
      const int64_t padded = in + (d == 0 ? g.pt + g.pb : g.pl + g.pr);
      const int64_t effective = dil * (kernel - 1) + 1;
      if (padded < effective) {
        return InvalidArgument(what, ": padded input extent ", padded,
                               " is smaller than the dilated filter extent ", effective);
      }
      out_hw[d] = (padded - effective) / stride + 1;
    }
    const std::vector<int64_t> y_shape = {xd[0], g.oc, out_hw[0], out_hw[1]};
    if (args.output_shapes[0] != y_shape) {
      return InvalidArgument(what, ": output shape ", graph::ShapeToString(args.output_shapes[0]),
                             " does not match the convolution of ", DimsToString(xd), ", ",
                             graph::ShapeToString(y_shape));
    }
    if (data_->config.residual && args.input_descs[1] != PlainDesc(y_shape)) {
      return InvalidArgument(what, ": the residual arrives as ",
                             DimsToString(args.input_descs[1].dims()),
                             "; the kernel needs plain f32 ", graph::ShapeToString(y_shape));
    }
    try {
      *instance =
          std::make_unique<Int16ConvInstance>(data_, xd[0], xd[2], xd[3], out_hw[0], out_hw[1]);
    } catch (const std::bad_alloc&) {
      return Status(StatusCode::kResourceExhausted, StrCat(what, ": out of memory"));
    } catch (const dnnl::error& e) {
      return InvalidArgument(what, ": oneDNN rejected a descriptor (", e.what(), ")");
    }
    return Status::Ok();
  }

 private:
  std::shared_ptr<const ConvData> data_;
};

// Reads an attribute of exactly `count` integers, each >= `min`.
Status ReadInts(const graph::Graph& graph, graph::NodeId id, const char* key, size_t count,
                int64_t min, std::vector<int64_t>* out) {
  *out = graph.nodes[id].attrs.GetInts(key);
  if (out->size() != count) {
    return InvalidArgument(graph.DescribeNode(id), ": attribute '", key, "' has ", out->size(),
                           " values; it needs ", count);
  }
  for (int64_t v : *out) {
    if (v < min) {
      return InvalidArgument(graph.DescribeNode(id), ": attribute '", key, "' holds ", v,
                             "; each value must be >= ", min);
    }
  }
  return Status::Ok();
}

}  // namespace

Status CreateInt16ConvKernel(const graph::Graph& graph, graph::NodeId id,
                             std::unique_ptr<Kernel>* kernel) {
  const std::string what = graph.DescribeNode(id);
  try {
    auto data = std::make_shared<ConvData>();
    data->what = what;
    QSDK_RETURN_IF_ERROR(ReadInt16Config(graph, id, /*weights_oc_axis=*/0, &data->config));
    const graph::Node& node = graph.nodes[id];
    const std::vector<int64_t>& x_shape = graph.tensors[node.inputs[0]].shape;
    const graph::Tensor& w = graph.tensors[node.inputs[1]];
    if (x_shape.size() != 4 || w.shape.size() != 4) {
      return InvalidArgument(what, ": input has shape ", graph::ShapeToString(x_shape),
                             " and filter ", graph::ShapeToString(w.shape), "; both need rank 4");
    }
    Geometry& g = data->g;
    std::vector<int64_t> strides, pads, dilations;
    QSDK_RETURN_IF_ERROR(ReadInts(graph, id, graph::attr::kStrides, 2, 1, &strides));
    QSDK_RETURN_IF_ERROR(ReadInts(graph, id, graph::attr::kPads, 4, 0, &pads));
    QSDK_RETURN_IF_ERROR(ReadInts(graph, id, graph::attr::kDilations, 2, 1, &dilations));
    g.group = node.attrs.GetInt(graph::attr::kGroup, 1);
    g.oc = w.shape[0];
    if (g.group < 1 || g.oc % g.group != 0) {
      return InvalidArgument(what, ": attribute 'group' = ", g.group,
                             "; it must be >= 1 and divide ", g.oc, " output channels");
    }
    g.cg = w.shape[1];
    g.c = g.cg * g.group;
    g.ocg = g.oc / g.group;
    g.kh = w.shape[2];
    g.kw = w.shape[3];
    g.k = g.cg * g.kh * g.kw;
    if (x_shape[1] != -1 && x_shape[1] != g.c) {
      return InvalidArgument(what, ": input has ", x_shape[1], " channels; filter ",
                             graph::ShapeToString(w.shape), " with group ", g.group, " needs ",
                             g.c);
    }
    g.sh = strides[0];
    g.sw = strides[1];
    g.pt = pads[0];
    g.pb = pads[1];
    g.pl = pads[2];
    g.pr = pads[3];
    g.dh = dilations[0];
    g.dw = dilations[1];
    if (data->config.multipliers.size() != 1 &&
        static_cast<int64_t>(data->config.multipliers.size()) != g.oc) {
      return InternalError(what, ": ", data->config.multipliers.size(), " weight scales for ", g.oc,
                           " output channels");
    }
    const std::vector<int64_t> bias_shape = {g.oc};
    QSDK_RETURN_IF_ERROR(ReadFloatBias(graph, id, &bias_shape, &data->bias));
    // The filter [OC, C/g, KH, KW] is already [OC][K] row-major.
    const int16_t* wv = w.data->As<int16_t>();
    data->weights.assign(wv, wv + g.oc * g.k);
    data->wsum.assign(static_cast<size_t>(g.oc), 0);
    for (int64_t o = 0; o < g.oc; ++o) {
      int64_t s = 0;
      for (int64_t kk = 0; kk < g.k; ++kk) s += wv[o * g.k + kk];
      data->wsum[static_cast<size_t>(o)] = s;
    }
    data->isa = BestInt16GemmIsa();
    *kernel = std::make_unique<Int16ConvKernel>(std::move(data));
    return Status::Ok();
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted, StrCat(what, ": out of memory"));
  }
}

}  // namespace qsdk::runtime
