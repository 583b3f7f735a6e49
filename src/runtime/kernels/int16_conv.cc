// INT16 Conv (point 4 of the issue-5 contract): x INT16 per tensor (NCHW, plain), weights a
// constant INT16 [OC, C/group, KH, KW] (symmetric, per tensor or per output channel),
// optional FLOAT32 bias [OC], optional FLOAT32 residual (fused_sum), fused activation,
// output FLOAT32 or INT16, all plain row-major.
//
// The GEMM (int16_gemm.h) is C[oc][column] = sum_k W[oc][k] * B[k][column] over the columns
// (image, output pixel) of the whole batch, with the reduction index k ordered as
// (channel pair, ky, kx, channel in the pair): every pair of k rows the core multiplies
// together is two neighbouring input channels at one filter tap. So:
//  - prepared once (Kernel): the weights in that order (an odd channel count per group gets a
//    phantom channel of zero weights), split for the core, and the zero-point corrections
//    z_x * wsum[oc] (wsum[oc] = sum of the channel's weights);
//  - per Execute, phase 1: each pair of input channels of each image is interleaved into one
//    plane of 32-bit words (x[2c], x[2c+1]) inside a border of (z_x, z_x) words as wide as
//    the padding, so that no tap ever needs a bounds check (padding taps read x_q = z_x and
//    contribute (z_x - z_x) * w = 0 after the correction; the phantom channel reads z_x and
//    has weight 0);
//  - phase 2, per work item (group, chunk of columns, slice of output channels): the im2col
//    of the chunk copies words straight into the core's packed-B layout (word of pair p,
//    column j = plane[column offset j + tap offset p]; runs of consecutive offsets, as stride
//    1 gives along output rows, are copied as blocks, other columns gathered one by one),
//    then the exact int64 GEMM and the float epilogue (int16_kernel_util.h), which writes the
//    NCHW output.
// Both phases split their work into parts (planes, items) claimed by parallel workers
// (int16_gemm.h) when the convolution is large enough; Execute allocates nothing.
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
  int64_t cpg = 0;    // channel pairs per group: (cg + 1) / 2
  int64_t pairs = 0;  // pairs of reduction rows of the GEMM: cpg * kh * kw
};

// What every instance of the kernel shares (immutable after creation).
struct ConvData {
  std::string what;
  Geometry g;
  Int16Config config;
  std::vector<int16_t> weights;     // [OC][Int16SplitRowSize(2 * pairs)], split, pair order
  std::vector<int64_t> correction;  // [OC] z_x * wsum, empty when z_x = 0
  std::vector<float> bias;          // [OC] or empty
  Int16GemmIsa isa = Int16GemmIsa::kScalar;
};

constexpr size_t kAlign = 64;

size_t AlignUp(size_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

int64_t RoundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// Scalar forms of internal::InterleavePlanesAvx512 / GatherPackedAvx512 /
// CopyRunsPackedAvx512 (int16_gemm.h).
void InterleavePlanes(const int16_t* plane0, const int16_t* plane1, int64_t h, int64_t w,
                      int64_t pt, int64_t pb, int64_t pl, int64_t pr, int16_t z, int32_t* dst) {
  const int64_t wp = pl + w + pr;
  const auto zu = static_cast<uint32_t>(static_cast<uint16_t>(z));
  const auto border = static_cast<int32_t>(zu | (zu << 16));
  std::fill(dst, dst + (pt + h + pb) * wp, border);
  for (int64_t iy = 0; iy < h; ++iy) {
    int32_t* row = dst + (pt + iy) * wp + pl;
    for (int64_t ix = 0; ix < w; ++ix) {
      const auto lo = static_cast<uint32_t>(static_cast<uint16_t>(plane0[iy * w + ix]));
      const uint32_t hi = plane1 != nullptr
                              ? static_cast<uint32_t>(static_cast<uint16_t>(plane1[iy * w + ix]))
                              : zu;
      row[ix] = static_cast<int32_t>(lo | (hi << 16));
    }
  }
}

void GatherPacked(const int32_t* src, const int64_t* col_offsets, int64_t cols,
                  const int64_t* pair_offsets, int64_t pairs, int32_t* packed) {
  for (int64_t q = 0; q * kInt16PanelWidth < cols; ++q) {
    const int64_t* offsets = col_offsets + q * kInt16PanelWidth;
    int32_t* dst = packed + q * pairs * kInt16PanelWidth;
    for (int64_t p = 0; p < pairs; ++p) {
      const int32_t* tap = src + pair_offsets[p];
      for (int64_t l = 0; l < kInt16PanelWidth; ++l) {
        dst[p * kInt16PanelWidth + l] = tap[offsets[l]];
      }
    }
  }
}

void CopyRunsPacked(const int32_t* src, const internal::PackRun* runs, const int64_t* panel_runs,
                    int64_t panels, const int64_t* pair_offsets, int64_t pairs, int32_t* packed) {
  for (int64_t q = 0; q < panels; ++q) {
    int32_t* dst = packed + q * pairs * kInt16PanelWidth;
    for (int64_t p = 0; p < pairs; ++p, dst += kInt16PanelWidth) {
      const int32_t* tap = src + pair_offsets[p];
      for (int64_t r = panel_runs[q]; r < panel_runs[q + 1]; ++r) {
        const internal::PackRun& run = runs[r];
        std::memcpy(dst + run.start, tap + run.offset,
                    static_cast<size_t>(run.len) * sizeof(int32_t));
      }
    }
  }
}

class Int16ConvInstance : public KernelInstance {
 public:
  Int16ConvInstance(std::shared_ptr<const ConvData> data, int64_t n, int64_t h, int64_t w,
                    int64_t oh, int64_t ow)
      : data_(std::move(data)), n_(n), h_(h), w_(w), oh_(oh), ow_(ow) {
    const Geometry& g = data_->g;
    pixels_ = oh_ * ow_;
    total_cols_ = n_ * pixels_;
    hp_ = h_ + g.pt + g.pb;
    wp_ = w_ + g.pl + g.pr;
    plane_words_ = hp_ * wp_;
    image_words_ = g.group * g.cpg * plane_words_;
    // Word offset of each column's top-left tap in the interleaved planes (the padded
    // columns of the last panel read word 0: valid memory, results never used).
    col_offsets_.assign(static_cast<size_t>(RoundUp(total_cols_, kInt16PanelWidth)), 0);
    for (int64_t col = 0; col < total_cols_; ++col) {
      const int64_t img = col / pixels_, p = col % pixels_;
      col_offsets_[static_cast<size_t>(col)] =
          img * image_words_ + (p / ow_) * g.sh * wp_ + (p % ow_) * g.sw;
    }
    // The same offsets as runs of consecutive words per panel (at most 16 words, within the
    // panel), used instead of the gather when they are long enough (stride 1, wide rows).
    const int64_t panels = RoundUp(total_cols_, kInt16PanelWidth) / kInt16PanelWidth;
    panel_runs_.push_back(0);
    for (int64_t q = 0; q < panels; ++q) {
      for (int64_t j = q * kInt16PanelWidth;
           j < std::min(total_cols_, (q + 1) * kInt16PanelWidth);) {
        internal::PackRun run;
        run.offset = col_offsets_[static_cast<size_t>(j)];
        run.start = static_cast<int32_t>(j - q * kInt16PanelWidth);
        run.len = 1;
        while (run.len < 16 && run.start + run.len < kInt16PanelWidth &&
               j + run.len < total_cols_ &&
               col_offsets_[static_cast<size_t>(j + run.len)] == run.offset + run.len) {
          ++run.len;
        }
        run.mask = static_cast<uint16_t>((1u << run.len) - 1u);
        runs_.push_back(run);
        j += run.len;
      }
      panel_runs_.push_back(static_cast<int64_t>(runs_.size()));
    }
    use_runs_ = static_cast<int64_t>(runs_.size()) * 4 <= total_cols_;
    if (!use_runs_) {
      runs_ = {};
      panel_runs_ = {};
    }
    // Phase 1 parts: groups of planes of about 4096 words or more (one call per part).
    planes_ = n_ * g.group * g.cpg;
    planes_per_part_ = std::max<int64_t>(1, 4096 / std::max<int64_t>(plane_words_, 1));
    // Offset of each pair's tap, per group.
    pair_offsets_.resize(static_cast<size_t>(g.group * g.pairs));
    for (int64_t grp = 0; grp < g.group; ++grp) {
      for (int64_t cp = 0; cp < g.cpg; ++cp) {
        for (int64_t ky = 0; ky < g.kh; ++ky) {
          for (int64_t kx = 0; kx < g.kw; ++kx) {
            const int64_t p = (cp * g.kh + ky) * g.kw + kx;
            pair_offsets_[static_cast<size_t>(grp * g.pairs + p)] =
                (grp * g.cpg + cp) * plane_words_ + ky * g.dh * wp_ + kx * g.dw;
          }
        }
      }
    }
    // Workers: all the threads when the convolution is big enough to repay the hand-over.
    workers_ = PrepareParallelWorkers(n_ * g.oc * pixels_ * g.k);
    // Columns per chunk: a multiple of the panel width with packed B and C within about
    // 128 KB each (L2), at most the whole (rounded-up) batch, and with several workers
    // small enough for about four chunks per worker (claimed dynamically: balance).
    const int64_t by_b = 32768 / std::max<int64_t>(g.pairs, 1);
    const int64_t by_c = 16384 / std::max<int64_t>(g.ocg, 1);
    int64_t chunk = std::min(by_b, by_c) / kInt16PanelWidth * kInt16PanelWidth;
    chunk = std::min(chunk, RoundUp(total_cols_, kInt16PanelWidth));
    if (workers_ > 1) {
      const int64_t share = (total_cols_ + 4 * workers_ - 1) / (4 * workers_);
      chunk = std::min(chunk, RoundUp(share, kInt16PanelWidth));
    }
    chunk_ = std::max<int64_t>(kInt16PanelWidth, chunk);
    chunks_ = (total_cols_ + chunk_ - 1) / chunk_;
    // Too few (group, chunk) items for the workers: split the output channels as well, in
    // slices of whole blocks of 6 rows (the GEMM core's block).
    slice_rows_ = g.ocg;
    if (workers_ > 1 && g.group * chunks_ < workers_ && g.ocg > 6) {
      const int64_t slices = std::min<int64_t>(workers_, (g.ocg + 5) / 6);
      slice_rows_ = RoundUp((g.ocg + slices - 1) / slices, 6);
    }
    slices_ = (g.ocg + slice_rows_ - 1) / slice_rows_;
    items_ = g.group * chunks_ * slices_;
    planes_bytes_ = AlignUp(static_cast<size_t>(n_ * image_words_) * sizeof(int32_t));
    b_bytes_ = AlignUp(static_cast<size_t>(g.pairs * chunk_) * sizeof(int32_t));
    c_bytes_ = AlignUp(static_cast<size_t>(g.ocg * chunk_) * sizeof(int64_t));
    worker_bytes_ = b_bytes_ + c_bytes_;
    scratchpad_bytes_ = kAlign + planes_bytes_ + static_cast<size_t>(workers_) * worker_bytes_;
    std::vector<int64_t> x_shape = {n_, g.c, h_, w_};
    std::vector<int64_t> y_shape = {n_, g.oc, oh_, ow_};
    input_descs_.push_back(Int16PlainDesc(x_shape));
    if (data_->config.residual) input_descs_.push_back(PlainDesc(y_shape));
    output_descs_.push_back(data_->config.int16_output ? Int16PlainDesc(y_shape)
                                                       : PlainDesc(y_shape));
  }

  void Execute(dnnl::stream& /*stream*/, const std::vector<memory>& inputs,
               const std::vector<memory>& outputs, const memory& scratchpad) const override {
    if (total_cols_ == 0) return;
    Run run;
    run.self = this;
    run.x = static_cast<const int16_t*>(inputs[0].get_data_handle());
    run.residual =
        data_->config.residual ? static_cast<const float*>(inputs[1].get_data_handle()) : nullptr;
    run.y = static_cast<char*>(outputs[0].get_data_handle());
    const auto base = reinterpret_cast<uintptr_t>(scratchpad.get_data_handle());
    const uintptr_t aligned = (base + kAlign - 1) / kAlign * kAlign;
    run.planes = reinterpret_cast<int32_t*>(aligned);
    run.scratch = aligned + planes_bytes_;
    RunParallel(&Int16ConvInstance::InterleaveTask, &run,
                (planes_ + planes_per_part_ - 1) / planes_per_part_, workers_);
    RunParallel(&Int16ConvInstance::ItemsTask, &run, items_, workers_);
  }

 private:
  // The buffers of one Execute, shared by its parts.
  struct Run {
    const Int16ConvInstance* self = nullptr;
    const int16_t* x = nullptr;
    const float* residual = nullptr;
    char* y = nullptr;
    int32_t* planes = nullptr;  // [N][group][cpg][hp][wp] words
    uintptr_t scratch = 0;      // aligned; worker w uses [w, w + 1) * worker_bytes_
  };

  // Part `part`: the interleaved planes [part, part + 1) * planes_per_part_, each plane
  // u = (image, group, channel pair) holding channels grp * cg + 2 * cp (+ 1).
  static void InterleaveTask(void* context, int64_t part, int /*worker*/) {
    const Run& run = *static_cast<const Run*>(context);
    const Int16ConvInstance& self = *run.self;
    const Geometry& g = self.data_->g;
    const auto z = static_cast<int16_t>(self.data_->config.x_zero_point);
    const int64_t hw = self.h_ * self.w_;
    const int64_t end = std::min(self.planes_, (part + 1) * self.planes_per_part_);
    for (int64_t u = part * self.planes_per_part_; u < end; ++u) {
      const int64_t img = u / (g.group * g.cpg);
      const int64_t grp = (u / g.cpg) % g.group;
      const int64_t cp = u % g.cpg;
      const int64_t c0 = grp * g.cg + 2 * cp;
      const int16_t* plane0 = run.x + (img * g.c + c0) * hw;
      const int16_t* plane1 = 2 * cp + 1 < g.cg ? plane0 + hw : nullptr;
      int32_t* dst = run.planes + u * self.plane_words_;
      if (IsAvx512(self.data_->isa)) {
        internal::InterleavePlanesAvx512(plane0, plane1, self.h_, self.w_, g.pt, g.pb, g.pl, g.pr,
                                         z, dst);
      } else {
        InterleavePlanes(plane0, plane1, self.h_, self.w_, g.pt, g.pb, g.pl, g.pr, z, dst);
      }
    }
  }

  static void ItemsTask(void* context, int64_t item, int worker) {
    const Run& run = *static_cast<const Run*>(context);
    run.self->RunItem(run, item, worker);
  }

  // Work item `item` = (group, chunk, slice), with the worker's own packed B and C.
  void RunItem(const Run& run, int64_t item, int worker) const {
    const Geometry& g = data_->g;
    const Int16Config& config = data_->config;
    const Int16GemmIsa isa = data_->isa;
    const size_t out_size = config.int16_output ? sizeof(int16_t) : sizeof(float);
    const uintptr_t base = run.scratch + static_cast<size_t>(worker) * worker_bytes_;
    auto* packed = reinterpret_cast<int32_t*>(base);
    auto* c = reinterpret_cast<int64_t*>(base + b_bytes_);
    const bool per_channel = config.multipliers.size() > 1;
    const int64_t row_size = Int16SplitRowSize(2 * g.pairs);
    const int64_t grp = item / (chunks_ * slices_);
    const int64_t chunk = (item / slices_) % chunks_;
    const int64_t slice = item % slices_;
    const int64_t c0 = chunk * chunk_;
    const int64_t cols = std::min(chunk_, total_cols_ - c0);
    const int64_t r0 = slice * slice_rows_;
    const int64_t rows = std::min(slice_rows_, g.ocg - r0);
    const int64_t* pair_offsets = pair_offsets_.data() + grp * g.pairs;
    const int64_t q0 = c0 / kInt16PanelWidth;
    const int64_t panels = (cols + kInt16PanelWidth - 1) / kInt16PanelWidth;
    if (use_runs_) {
      (IsAvx512(isa) ? internal::CopyRunsPackedAvx512 : CopyRunsPacked)(
          run.planes, runs_.data(), panel_runs_.data() + q0, panels, pair_offsets, g.pairs, packed);
    } else if (IsAvx512(isa)) {
      internal::GatherPackedAvx512(run.planes, col_offsets_.data() + c0, cols, pair_offsets,
                                   g.pairs, packed);
    } else {
      GatherPacked(run.planes, col_offsets_.data() + c0, cols, pair_offsets, g.pairs, packed);
    }
    const int64_t o0 = grp * g.ocg + r0;
    Int16Gemm(isa, rows, cols, 2 * g.pairs, data_->weights.data() + o0 * row_size, row_size,
              reinterpret_cast<const int16_t*>(packed), c, chunk_);
    // Epilogue: per image met by the chunk, one block of rows (output channels o0 ...).
    for (int64_t col = c0; col < c0 + cols;) {
      const int64_t img = col / pixels_, p = col % pixels_;
      const int64_t len = std::min(pixels_ - p, c0 + cols - col);
      const int64_t y_offset = (img * g.oc + o0) * pixels_ + p;
      EpilogueRow block;
      block.rows = rows;
      block.acc = c + (col - c0);
      block.acc_row_stride = chunk_;
      if (!data_->correction.empty()) {
        block.correction = &data_->correction[static_cast<size_t>(o0)];
        block.correction_row_step = 1;
      }
      block.multiplier = &config.multipliers[per_channel ? static_cast<size_t>(o0) : 0];
      block.multiplier_row_step = per_channel ? 1 : 0;
      if (!data_->bias.empty()) {
        block.bias = &data_->bias[static_cast<size_t>(o0)];
        block.bias_row_step = 1;
      }
      if (run.residual != nullptr) {
        block.residual = run.residual + y_offset;
        block.residual_row_stride = pixels_;
      }
      block.out = run.y + y_offset * static_cast<int64_t>(out_size);
      block.out_row_stride = pixels_;
      RunInt16Epilogue(isa, config, block, len);
      col += len;
    }
  }

  std::shared_ptr<const ConvData> data_;
  int64_t n_, h_, w_, oh_, ow_;
  int64_t pixels_ = 0, total_cols_ = 0;
  int64_t hp_ = 0, wp_ = 0, plane_words_ = 0, image_words_ = 0;
  std::vector<int64_t> col_offsets_;     // per column (rounded up to a panel)
  std::vector<int64_t> pair_offsets_;    // [group][pairs]
  std::vector<internal::PackRun> runs_;  // col_offsets_ as runs, per panel
  std::vector<int64_t> panel_runs_;      // [panels + 1]: first run of each panel
  bool use_runs_ = false;
  int64_t planes_ = 0, planes_per_part_ = 1;  // phase 1: interleaved planes, per part
  int workers_ = 1;
  int64_t chunk_ = kInt16PanelWidth;
  int64_t chunks_ = 0;
  int64_t slice_rows_ = 0, slices_ = 1;
  int64_t items_ = 0;
  size_t planes_bytes_ = 0, b_bytes_ = 0, c_bytes_ = 0, worker_bytes_ = 0;
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
      (*instance)->AddImplementation(StrCat("qsdk_int16_gemm:", Int16GemmIsaName(data_->isa)));
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
    QSDK_RETURN_IF_ERROR(ReadIntsAttribute(graph, id, graph::attr::kStrides, 2, 1, &strides));
    QSDK_RETURN_IF_ERROR(ReadIntsAttribute(graph, id, graph::attr::kPads, 4, 0, &pads));
    QSDK_RETURN_IF_ERROR(ReadIntsAttribute(graph, id, graph::attr::kDilations, 2, 1, &dilations));
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
    g.cpg = (g.cg + 1) / 2;
    g.pairs = g.cpg * g.kh * g.kw;
    // The filter [OC, C/g, KH, KW] in the GEMM's reduction order (channel pair, ky, kx,
    // channel in the pair), the phantom channel of an odd C/g as zero weights; then split.
    const int16_t* wv = w.data->As<int16_t>();
    const int64_t kp = 2 * g.pairs;
    std::vector<int16_t> ordered(static_cast<size_t>(g.oc * kp), 0);
    std::vector<int64_t> wsum(static_cast<size_t>(g.oc), 0);
    for (int64_t o = 0; o < g.oc; ++o) {
      for (int64_t ic = 0; ic < g.cg; ++ic) {
        for (int64_t ky = 0; ky < g.kh; ++ky) {
          for (int64_t kx = 0; kx < g.kw; ++kx) {
            const int16_t v = wv[((o * g.cg + ic) * g.kh + ky) * g.kw + kx];
            const int64_t p = ((ic / 2) * g.kh + ky) * g.kw + kx;
            ordered[static_cast<size_t>(o * kp + 2 * p + ic % 2)] = v;
            wsum[static_cast<size_t>(o)] += v;
          }
        }
      }
    }
    data->weights.assign(static_cast<size_t>(g.oc * Int16SplitRowSize(kp)), 0);
    SplitInt16Rows(Int16GemmIsa::kScalar, ordered.data(), g.oc, kp, kp, 1, data->weights.data());
    const int64_t z = data->config.x_zero_point;
    if (z != 0) {
      for (int64_t s : wsum) data->correction.push_back(z * s);
    }
    data->isa = BestInt16GemmIsa();
    *kernel = std::make_unique<Int16ConvKernel>(std::move(data));
    return Status::Ok();
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted, StrCat(what, ": out of memory"));
  }
}

}  // namespace qsdk::runtime
