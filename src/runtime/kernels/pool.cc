// Pool: one oneDNN pooling primitive on [N,C,H,W] in whatever layout it is given.
//
// ceil_mode is expressed as extra bottom / right padding: oneDNN's output extent is
// floor((H + top + pad_r - KH) / SH) + 1, so pad_r = (OH - 1) * SH + KH - H - top gives
// the ONNX / PyTorch OH (docs/ops.md). The ceil rule keeps every window overlapping the
// input, so pad_r < KH. Max pooling and exclude-padding averages never see padding, so
// the extra padding changes nothing for them.
//
// Average with count_include_pad = 1 is the exception: oneDNN divides every window by
// KH * KW, while the reference divides by the window's extent inside the *declared*
// padded input; the rows / columns added for ceil_mode never count. Windows only extend
// past the declared padding on the last output row / column, and only when ceil_mode
// added padding. Then the kernel multiplies the pooled result by
// (KH * KW) / divisor[oh, ow] with a second (binary) primitive, broadcast over N and C
// (a second rounding: within 1 ulp of the single division).
//
// BF16 (bf16 in and out): oneDNN pools bf16 directly (a max is exact; an average is
// summed and divided in f32 and rounded once). The ceil-mode divisor correction above
// would round twice, so such a pooling runs in f32 between two reorders instead: the
// bf16 -> f32 one is exact and the f32 -> bf16 one rounds the corrected mean once.
//
// Quantized (u8 / s8; the output has the input's scale and zero point z): max pooling and
// the averages that never count padding run on the integers directly (oneDNN's int8
// pooling rounds the mean half to even). An average that counts padding must count it as
// z (real 0) and oneDNN counts 0, so it runs in f32: a reorder writes q - z to an f32
// buffer, the f32 pooling above averages it (padding 0 = real 0), and a reorder with
// zero point z rounds mean + z half to even back into the output (docs/quantization.md).
#include <algorithm>
#include <cstring>
#include <utility>

#include "runtime/kernels/kernels.h"
#include "runtime/kernels/onednn_util.h"

namespace qsdk::runtime {
namespace {

struct PoolConfig {
  PoolMode mode = PoolMode::kMax;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  bool count_include_pad = false;
  bool ceil_mode = false;
};

// Output extent per docs/ops.md (same rule as the reference); -1 when no window fits.
int64_t OutputExtent(int64_t in, int64_t pad_begin, int64_t pad_end, int64_t kernel, int64_t stride,
                     bool ceil_mode) {
  const int64_t span = in + pad_begin + pad_end - kernel;
  if (span < 0) return -1;
  int64_t out = span / stride + ((ceil_mode && span % stride != 0) ? 1 : 0) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad_begin) --out;
  return out;
}

// Element type of the pooled tensor and, quantized, its zero point.
struct PoolData {
  dnnl::memory::data_type type = dnnl::memory::data_type::f32;
  int32_t zero_point = 0;
  bool quantized() const {
    return type == dnnl::memory::data_type::u8 || type == dnnl::memory::data_type::s8;
  }
};

class PoolKernel : public Kernel {
 public:
  PoolKernel(std::string what, PoolConfig config, PoolData data)
      : what_(std::move(what)), config_(config), data_(data) {}

  std::string name() const override {
    return std::string("onednn_pooling_") + PrecisionName(data_.type);
  }

  Status Instantiate(const InstantiateArgs& args,
                     std::unique_ptr<KernelInstance>* instance) const override {
    QSDK_RETURN_IF_ERROR(CheckInstantiateArgs(args, 1, 1, what_));
    return GuardDnnl(what_, [&]() -> Status { return Build(args, instance); });
  }

 private:
  Status Build(const InstantiateArgs& args, std::unique_ptr<KernelInstance>* instance) const {
    using dnnl::memory;
    const memory::desc& src = args.input_descs[0];
    const memory::dims in = src.dims();
    if (in.size() != 4 || in[2] < 1 || in[3] < 1) {
      return InvalidArgument(what_, ": input 0 has shape ", DimsToString(in),
                             "; pooling needs [N,C,H,W] with H, W >= 1");
    }
    const int64_t h = in[2], w = in[3];
    PoolConfig c = config_;
    const bool global = c.mode == PoolMode::kGlobalAverage || c.mode == PoolMode::kGlobalMax;
    if (global) {
      c.kernel_h = h;
      c.kernel_w = w;
      c.stride_h = c.stride_w = 1;
      c.pad_top = c.pad_bottom = c.pad_left = c.pad_right = 0;
      c.ceil_mode = false;
    }
    const int64_t oh =
        OutputExtent(h, c.pad_top, c.pad_bottom, c.kernel_h, c.stride_h, c.ceil_mode);
    const int64_t ow =
        OutputExtent(w, c.pad_left, c.pad_right, c.kernel_w, c.stride_w, c.ceil_mode);
    const std::vector<int64_t> expected = {in[0], in[1], oh, ow};
    if (oh < 1 || ow < 1 || args.output_shapes[0] != expected) {
      return InvalidArgument(
          what_, ": input ", DimsToString(in), " with kernel [", c.kernel_h, ",", c.kernel_w,
          "], strides [", c.stride_h, ",", c.stride_w, "], pads [", c.pad_top, ",", c.pad_bottom,
          ",", c.pad_left, ",", c.pad_right, "] gives output [", in[0], ",", in[1], ",", oh, ",",
          ow, "]; expected output shape ", graph::ShapeToString(args.output_shapes[0]));
    }
    // Bottom / right padding that makes oneDNN produce OH x OW (see the file comment).
    const int64_t pad_b =
        std::max(c.pad_bottom, (oh - 1) * c.stride_h + c.kernel_h - h - c.pad_top);
    const int64_t pad_r =
        std::max(c.pad_right, (ow - 1) * c.stride_w + c.kernel_w - w - c.pad_left);

    QSDK_RETURN_IF_ERROR(CheckInputType(src, data_.type, what_));
    dnnl::algorithm algorithm = dnnl::algorithm::pooling_max;
    if (c.mode == PoolMode::kAverage || c.mode == PoolMode::kGlobalAverage) {
      algorithm = c.count_include_pad ? dnnl::algorithm::pooling_avg_include_padding
                                      : dnnl::algorithm::pooling_avg_exclude_padding;
    }
    const bool extra_padding = pad_b > c.pad_bottom || pad_r > c.pad_right;
    const bool declared_padding =
        c.pad_top > 0 || c.pad_bottom > 0 || c.pad_left > 0 || c.pad_right > 0;
    const bool counts_padding = algorithm == dnnl::algorithm::pooling_avg_include_padding &&
                                (extra_padding || declared_padding);
    const memory::dims dst_dims = {in[0], in[1], oh, ow};
    const dnnl::engine& engine = *args.engine;
    auto result = std::make_unique<PrimitiveSequenceInstance>();

    // Appends an f32 pooling of `src_md` read from `src_arg`, with the ceil-mode divisor
    // correction when needed, writing to the output (`to_output`) or to an
    // instance-owned buffer. Returns the desc and the source of the result.
    const auto pool_f32 = [&](const memory::desc& src_md, const ArgSource& src_arg,
                              bool to_output) -> std::pair<memory::desc, ArgSource> {
      const memory::desc dst_any(dst_dims, memory::data_type::f32, memory::format_tag::any);
      dnnl::pooling_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm, src_md,
                                       dst_any, {c.stride_h, c.stride_w},
                                       {c.kernel_h, c.kernel_w}, {c.pad_top, c.pad_left},
                                       {pad_b, pad_r});
      dnnl::pooling_forward::primitive_desc pd(desc, UserScratchpadAttr(), engine);
      const memory::desc out_md = pd.dst_desc();
      const bool correct_divisor =
          algorithm == dnnl::algorithm::pooling_avg_include_padding && extra_padding;
      // With the divisor correction, pooling writes to an instance-owned buffer and the
      // correction writes the result: oneDNN 2.6's jit binary computes wrong values in
      // place (dst == src0) on a blocked layout with padded channels and a src1
      // broadcast over channels.
      const auto owned = [&]() {
        memory mem(out_md, engine);
        return ArgSource{0, ArgSource::Kind::kOwned, 0, mem};
      };
      ArgSource pooled = (to_output && !correct_divisor)
                             ? ArgSource{DNNL_ARG_DST, ArgSource::Kind::kOutput, 0, {}}
                             : owned();
      pooled.arg = DNNL_ARG_DST;
      ArgSource pool_src = src_arg;
      pool_src.arg = DNNL_ARG_SRC;
      result->AddPrimitive(dnnl::pooling_forward(pd), pd, {pool_src, pooled});
      if (!correct_divisor) return {out_md, pooled};

      // correction[oy, ox] = (KH * KW) / (rows * cols of the window inside the declared
      // padded input).
      memory correction(
          memory::desc({1, 1, oh, ow}, memory::data_type::f32, memory::format_tag::abcd), engine);
      float* factor = static_cast<float*>(correction.get_data_handle());
      const double window = static_cast<double>(c.kernel_h * c.kernel_w);
      for (int64_t oy = 0; oy < oh; ++oy) {
        const int64_t y0 = oy * c.stride_h - c.pad_top;
        const int64_t rows = std::min(y0 + c.kernel_h, h + c.pad_bottom) - y0;
        for (int64_t ox = 0; ox < ow; ++ox) {
          const int64_t x0 = ox * c.stride_w - c.pad_left;
          const int64_t cols = std::min(x0 + c.kernel_w, w + c.pad_right) - x0;
          factor[oy * ow + ox] = static_cast<float>(window / static_cast<double>(rows * cols));
        }
      }
      // In the output's format (oneDNN's jit binary wants src1 in src0's format).
      if (const auto tag = MatchFormatTag(out_md)) {
        const memory::desc md({1, 1, oh, ow}, memory::data_type::f32, *tag);
        if (md != correction.get_desc()) correction = ReorderedCopy(correction, md, engine);
      }
      dnnl::binary::desc fix_desc(dnnl::algorithm::binary_mul, out_md, correction.get_desc(),
                                  out_md);
      dnnl::binary::primitive_desc fix_pd(fix_desc, UserScratchpadAttr(), engine);
      ArgSource fixed = to_output ? ArgSource{DNNL_ARG_DST, ArgSource::Kind::kOutput, 0, {}}
                                  : owned();
      fixed.arg = DNNL_ARG_DST;
      pooled.arg = DNNL_ARG_SRC_0;
      result->AddPrimitive(
          dnnl::binary(fix_pd), fix_pd,
          {pooled, {DNNL_ARG_SRC_1, ArgSource::Kind::kOwned, 0, correction}, fixed});
      return {out_md, fixed};
    };

    const ArgSource input{DNNL_ARG_SRC, ArgSource::Kind::kInput, 0, {}};
    // Quantized: the integers are pooled directly unless counted padding must read as z
    // (z != 0) or the divisor needs the ceil-mode correction. BF16: pooled directly unless
    // the divisor needs the correction.
    const bool shifted =
        (data_.quantized() && counts_padding && (data_.zero_point != 0 || extra_padding)) ||
        (data_.type == memory::data_type::bf16 &&
         algorithm == dnnl::algorithm::pooling_avg_include_padding && extra_padding);
    memory::desc out_md;
    if (data_.type == memory::data_type::f32) {
      out_md = pool_f32(src, input, /*to_output=*/true).first;
    } else if (!shifted) {
      const memory::desc dst_any(dst_dims, data_.type, memory::format_tag::any);
      dnnl::pooling_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm, src, dst_any,
                                       {c.stride_h, c.stride_w}, {c.kernel_h, c.kernel_w},
                                       {c.pad_top, c.pad_left}, {pad_b, pad_r});
      dnnl::pooling_forward::primitive_desc pd(desc, UserScratchpadAttr(), engine);
      result->AddPrimitive(dnnl::pooling_forward(pd), pd,
                           {input, {DNNL_ARG_DST, ArgSource::Kind::kOutput, 0, {}}});
      out_md = pd.dst_desc();
    } else {
      // q - z (bf16: x) in f32 (exact), pooled in f32, then round(mean + z) back.
      const memory::desc src_f32 = WithDataType(src, memory::data_type::f32);
      memory shifted_src(src_f32, engine);
      dnnl::primitive_attr to_f32 = UserScratchpadAttr();
      if (data_.zero_point != 0) to_f32.set_zero_points(DNNL_ARG_FROM, 0, {data_.zero_point});
      dnnl::reorder::primitive_desc to_f32_pd(engine, src, engine, src_f32, to_f32);
      result->AddPrimitive(dnnl::reorder(to_f32_pd), to_f32_pd,
                           {{DNNL_ARG_FROM, ArgSource::Kind::kInput, 0, {}},
                            {DNNL_ARG_TO, ArgSource::Kind::kOwned, 0, shifted_src}});
      auto [f32_md, f32_result] =
          pool_f32(src_f32, {DNNL_ARG_SRC, ArgSource::Kind::kOwned, 0, shifted_src},
                   /*to_output=*/false);
      out_md = WithDataType(f32_md, data_.type);
      dnnl::primitive_attr back = UserScratchpadAttr();
      if (data_.zero_point != 0) back.set_zero_points(DNNL_ARG_TO, 0, {data_.zero_point});
      dnnl::reorder::primitive_desc back_pd(engine, f32_md, engine, out_md, back);
      f32_result.arg = DNNL_ARG_FROM;
      result->AddPrimitive(dnnl::reorder(back_pd), back_pd,
                           {f32_result, {DNNL_ARG_TO, ArgSource::Kind::kOutput, 0, {}}});
    }
    result->set_input_descs({src});
    result->set_output_descs({out_md});
    *instance = std::move(result);
    return Status::Ok();
  }

  std::string what_;
  PoolConfig config_;
  PoolData data_;
};

}  // namespace

Status CreatePoolKernel(const graph::Graph& graph, graph::NodeId id, const dnnl::engine& /*engine*/,
                        std::unique_ptr<Kernel>* kernel) {
  const std::string what = graph.DescribeNode(id);
  return GuardDnnl(what, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(CheckSingleRuntimeInput(graph, id, /*quantized_ok=*/true));
    const graph::Tensor& x = graph.tensors[graph.nodes[id].inputs[0]];
    const graph::Tensor& y = graph.tensors[graph.nodes[id].outputs[0]];
    PoolData data;
    if (IsQuantized8(x)) {
      // The output shares the input's parameters (docs/quantization.md), so the pooled
      // integers need no rescaling.
      if (y.dtype != x.dtype || !(y.quant == x.quant)) {
        return Unimplemented(what, ": input ", graph.DescribeTensor(graph.nodes[id].inputs[0]),
                             " is ", DataTypeName(x.dtype), " and output '", y.name, "' is ",
                             DataTypeName(y.dtype),
                             "; a quantized pooling keeps the input's type, scale and zero point");
      }
      float scale = 1.0f;
      QSDK_RETURN_IF_ERROR(PerTensorQuant(x, what, &scale, &data.zero_point));
      data.type = DnnlDataType(x.dtype);
    } else {
      QSDK_RETURN_IF_ERROR(ReadLightFloatType(graph, id, &data.type));
    }
    const graph::AttrMap& attrs = graph.nodes[id].attrs;
    PoolConfig config;
    const int64_t mode = attrs.GetInt(graph::attr::kPoolMode, 0);
    if (mode < 1 || mode > kMaxPoolMode) {
      return InvalidArgument(what, ": attribute '", graph::attr::kPoolMode, "' = ", mode,
                             "; it must be a PoolMode in [1, ", kMaxPoolMode, "]");
    }
    config.mode = static_cast<PoolMode>(mode);
    if (config.mode == PoolMode::kGlobalAverage || config.mode == PoolMode::kGlobalMax) {
      *kernel = std::make_unique<PoolKernel>(what, config, data);
      return Status::Ok();
    }
    const std::vector<int64_t> k = attrs.GetInts(graph::attr::kKernel);
    const std::vector<int64_t> s = attrs.GetInts(graph::attr::kStrides);
    const std::vector<int64_t> p = attrs.GetInts(graph::attr::kPads);
    if (k.size() != 2 || k[0] < 1 || k[1] < 1) {
      return InvalidArgument(what, ": attribute '", graph::attr::kKernel,
                             "' = ", graph::ShapeToString(k), "; it needs 2 extents, each >= 1");
    }
    if (s.size() != 2 || s[0] < 1 || s[1] < 1) {
      return InvalidArgument(what, ": attribute '", graph::attr::kStrides,
                             "' = ", graph::ShapeToString(s), "; it needs 2 strides, each >= 1");
    }
    if (p.size() != 4 || p[0] < 0 || p[1] < 0 || p[2] < 0 || p[3] < 0 || p[0] >= k[0] ||
        p[1] >= k[0] || p[2] >= k[1] || p[3] >= k[1]) {
      return InvalidArgument(what, ": attribute '", graph::attr::kPads,
                             "' = ", graph::ShapeToString(p), " with kernel ",
                             graph::ShapeToString(k),
                             "; it needs 4 pads {top,bottom,left,right}, each >= 0 and "
                             "smaller than its kernel extent");
    }
    const int64_t include = attrs.GetInt(graph::attr::kCountIncludePad, 0);
    const int64_t ceil = attrs.GetInt(graph::attr::kCeilMode, 0);
    if ((include != 0 && include != 1) || (ceil != 0 && ceil != 1)) {
      return InvalidArgument(what, ": attributes '", graph::attr::kCountIncludePad, "' = ", include,
                             ", '", graph::attr::kCeilMode, "' = ", ceil, "; each must be 0 or 1");
    }
    config.kernel_h = k[0];
    config.kernel_w = k[1];
    config.stride_h = s[0];
    config.stride_w = s[1];
    config.pad_top = p[0];
    config.pad_bottom = p[1];
    config.pad_left = p[2];
    config.pad_right = p[3];
    config.count_include_pad = include == 1;
    config.ceil_mode = ceil == 1;
    *kernel = std::make_unique<PoolKernel>(what, config, data);
    return Status::Ok();
  });
}

}  // namespace qsdk::runtime
