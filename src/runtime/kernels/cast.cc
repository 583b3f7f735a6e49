// Cast: a float tensor to another float type (FLOAT32 / FLOAT16 / BFLOAT16, docs/ops.md).
// The output keeps the input's layout (only the element type changes), so blocked layouts
// flow through a Cast as through an eltwise op; except that a reorder cast of a plain 4-D /
// 5-D tensor read by convolutions writes channels-last (ReadersPreferChannelsLast, as
// Quantize does), so that the cast of a model's input also makes the first convolution's
// layout instead of leaving that to a separate reorder. Narrowing rounds to nearest even (f32 ->
// f16 overflows to inf); widening is exact.
//
//   f32 <-> bf16   one oneDNN reorder when oneDNN runs it with a jit implementation (any
//                  AVX-512 machine, where the bf16 kernels run; f32 -> bf16 only with
//                  native bf16 instructions, see NativeBf16).
//   otherwise      a conversion loop (cast_convert.h: AVX-512 where the CPU has it, else
//                  scalar; f16 <-> bf16 through f32, exact on the way in). oneDNN 2.6's
//                  non-jit ("simple") reorders, which it uses for every f16 conversion and
//                  for bf16 below AVX-512, are not IEEE conversions: they drop the sign of
//                  zero (-0 -> +0); and it has no direct bf16 <-> f16 reorder.
//                  A layout keeps its element order whatever the element size, so the loop
//                  converts the buffer element by element (padding included) when the
//                  layout is dense; any other layout is taken plain.
// f32 subnormals -> bf16 give a zero of their sign on both paths (the reference's rule,
// float_types.h); every other input converts identically on both paths too.
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/kernels/cast_convert.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/onednn_util.h"

namespace qsdk::runtime {
namespace {

using dnnl::memory;

bool IsFloat(DataType type) {
  return type == DataType::FLOAT32 || type == DataType::FLOAT16 || type == DataType::BFLOAT16;
}

// True when `md` occupies exactly its padded element count, without holes: the bytes of
// element k of the padded buffer are at k * element size for every element type.
bool IsDense(const memory::desc& md) {
  if (md.data.format_kind != dnnl_blocked) return false;
  size_t count = 1;
  for (int i = 0; i < md.data.ndims; ++i) count *= static_cast<size_t>(md.data.padded_dims[i]);
  return md.get_size() == count * memory::data_type_size(md.data_type());
}

internal::CastType CastTypeOf(memory::data_type type) {
  switch (type) {
    case memory::data_type::f16: return internal::CastType::kF16;
    case memory::data_type::bf16: return internal::CastType::kBf16;
    default: return internal::CastType::kF32;  // Instantiate admits float types only
  }
}

// The instance of a conversion by the loop: one pass over the dense buffer, with the best
// implementation for this CPU (chosen once per process).
class LoopCastInstance : public KernelInstance {
 public:
  LoopCastInstance(memory::desc src, memory::desc dst)
      : from_(CastTypeOf(src.data_type())),
        to_(CastTypeOf(dst.data_type())),
        isa_(internal::BestCastIsa()) {
    count_ = src.get_size() / memory::data_type_size(src.data_type());
    AddImplementation(StrCat("qsdk_cast_loop:", internal::CastIsaName(isa_)));
    input_descs_ = {std::move(src)};
    output_descs_ = {std::move(dst)};
  }

  void Execute(dnnl::stream& stream, const std::vector<dnnl::memory>& inputs,
               const std::vector<dnnl::memory>& outputs,
               const dnnl::memory& /*scratchpad*/) const override {
    // The loop runs on this thread: the producer's primitives must have finished.
    stream.wait();
    internal::ConvertFloatBuffer(isa_, from_, to_, inputs[0].get_data_handle(),
                                 outputs[0].get_data_handle(), count_);
  }

 private:
  internal::CastType from_;
  internal::CastType to_;
  internal::CastIsa isa_;
  size_t count_ = 0;
};

// True when oneDNN converts f32 -> bf16 with native instructions (AVX512-BF16, AMX), which
// read f32 subnormals as zero like the reference; its emulation on plain AVX-512 rounds
// them to bf16 subnormals instead, so there the loop converts.
bool NativeBf16() {
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto native = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
  return (isa & native) == native;
}

class CastKernel : public Kernel {
 public:
  CastKernel(std::string what, memory::data_type from, memory::data_type to,
             bool channels_last)
      : what_(std::move(what)), from_(from), to_(to), channels_last_(channels_last) {}

  // "onednn_reorder_cast_f32_bf16" (a oneDNN reorder where it has a jit one, else the
  // loop), or "cast_loop_f16_f32" for a conversion with f16.
  std::string name() const override {
    const bool with_half = from_ == memory::data_type::f16 || to_ == memory::data_type::f16;
    return StrCat(with_half ? "cast_loop_" : "onednn_reorder_cast_", DnnlTypeName(from_), "_",
                  DnnlTypeName(to_));
  }

  Status Instantiate(const InstantiateArgs& args,
                     std::unique_ptr<KernelInstance>* instance) const override {
    QSDK_RETURN_IF_ERROR(CheckInstantiateArgs(args, 1, 1, what_));
    const memory::desc& src = args.input_descs[0];
    QSDK_RETURN_IF_ERROR(CheckInputType(src, from_, what_));
    std::vector<int64_t> out_shape = args.output_shapes[0];
    if (out_shape.empty()) out_shape.push_back(1);  // rank 0 runs as [1]
    if (ToDnnlDims(out_shape) != src.dims()) {
      return InvalidArgument(what_, ": input has dims ", DimsToString(src.dims()),
                             " but the output ", graph::ShapeToString(args.output_shapes[0]));
    }
    return GuardDnnl(what_, [&]() -> Status {
      const bool with_half = from_ == memory::data_type::f16 || to_ == memory::data_type::f16;
      if (!with_half && (to_ != memory::data_type::bf16 || NativeBf16()) &&
          src.data.format_kind == dnnl_blocked) {
        const memory::dims dims = src.dims();
        const memory::desc dst = channels_last_ && IsPlain(src) &&
                                         (dims.size() == 4 || dims.size() == 5)
                                     ? ChannelsLastDesc(dims, to_)
                                     : WithDataType(src, to_);
        dnnl::reorder::primitive_desc pd;
        try {
          pd = dnnl::reorder::primitive_desc(*args.engine, src, *args.engine, dst,
                                             UserScratchpadAttr());
        } catch (const dnnl::error&) {
          // No reorder for this layout on this machine: the loop below converts.
        }
        const char* impl = pd ? pd.impl_info_str() : nullptr;
        if (impl != nullptr && std::strncmp(impl, "jit", 3) == 0) {
          *instance = SingleCallInstance(dnnl::reorder(pd), pd, src, dst, *args.engine);
          return Status::Ok();
        }
      }
      memory::desc in = src;
      if (!IsDense(in)) {
        const memory::dims dims = src.dims();
        in = PlainDesc(std::vector<int64_t>(dims.begin(), dims.end()), from_);
      }
      *instance = std::make_unique<LoopCastInstance>(in, WithDataType(in, to_));
      return Status::Ok();
    });
  }

 private:
  std::string what_;
  memory::data_type from_;
  memory::data_type to_;
  bool channels_last_;  // a reorder cast of a plain 4-D / 5-D input writes channels-last
};

}  // namespace

Status CreateCastKernel(const graph::Graph& graph, graph::NodeId id, const dnnl::engine& /*engine*/,
                        std::unique_ptr<Kernel>* kernel) {
  const std::string what = graph.DescribeNode(id);
  return GuardDnnl(what, [&]() -> Status {
    if (graph.nodes[id].type != NodeType::kCast) {
      return InternalError(what, ": the cast kernel handles Cast only");
    }
    QSDK_RETURN_IF_ERROR(CheckInputCount(graph, id, 1));
    const graph::Node& node = graph.nodes[id];
    const graph::TensorId x_id = node.inputs[0];
    const graph::Tensor& x = graph.tensors[x_id];
    const graph::Tensor& y = graph.tensors[node.outputs[0]];
    if (x.is_constant()) {
      return Unimplemented(what, ": input ", graph.DescribeTensor(x_id),
                           " is constant; the runtime kernel takes it at run time (constant "
                           "subgraphs are folded by the builder)");
    }
    if (!IsFloat(x.dtype) || !IsFloat(y.dtype) || !x.quant.empty() || !y.quant.empty()) {
      return InvalidArgument(what, ": converts ", graph.DescribeTensor(x_id), " of type ",
                             DataTypeName(x.dtype), " to '", y.name, "' of type ",
                             DataTypeName(y.dtype),
                             "; Cast converts between FLOAT32, FLOAT16 and BFLOAT16");
    }
    *kernel = std::make_unique<CastKernel>(what, DnnlDataType(x.dtype), DnnlDataType(y.dtype),
                                           ReadersPreferChannelsLast(graph, node.outputs[0]));
    return Status::Ok();
  });
}

namespace internal {
namespace {

// The scalar loop of one direction (the element conversions of onednn_util.h); a
// template per direction so that the per-element calls inline into a tight loop.
template <CastType kFrom, CastType kTo>
void ScalarLoop(const void* src, void* dst, size_t count) {
  const auto* in16 = static_cast<const uint16_t*>(src);
  const auto* in32 = static_cast<const float*>(src);
  auto* out16 = static_cast<uint16_t*>(dst);
  auto* out32 = static_cast<float*>(dst);
  for (size_t k = 0; k < count; ++k) {
    float wide = 0.0f;
    if constexpr (kFrom == CastType::kF32) {
      wide = in32[k];
    } else if constexpr (kFrom == CastType::kF16) {
      wide = HalfBitsToFloat(in16[k]);
    } else {
      const uint32_t bits = static_cast<uint32_t>(in16[k]) << 16;  // bf16: exact
      std::memcpy(&wide, &bits, sizeof(wide));
    }
    if constexpr (kTo == CastType::kF32) {
      out32[k] = wide;
    } else if constexpr (kTo == CastType::kF16) {
      out16[k] = FloatToHalfBits(wide);
    } else {
      out16[k] = FloatToBf16Bits(wide);
    }
  }
}

void ConvertScalar(CastType from, CastType to, const void* src, void* dst, size_t count) {
  using T = CastType;
  switch (from) {
    case T::kF32:
      if (to == T::kF16) return ScalarLoop<T::kF32, T::kF16>(src, dst, count);
      return ScalarLoop<T::kF32, T::kBf16>(src, dst, count);
    case T::kF16:
      if (to == T::kF32) return ScalarLoop<T::kF16, T::kF32>(src, dst, count);
      return ScalarLoop<T::kF16, T::kBf16>(src, dst, count);
    case T::kBf16:
      if (to == T::kF32) return ScalarLoop<T::kBf16, T::kF32>(src, dst, count);
      return ScalarLoop<T::kBf16, T::kF16>(src, dst, count);
  }
}

}  // namespace

CastIsa BestCastIsa() {
  static const CastIsa isa = [] {
    __builtin_cpu_init();
    const bool avx512 = __builtin_cpu_supports("avx512f") &&
                        __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512vl");
    const bool bf16 = avx512 && __builtin_cpu_supports("avx512bf16");
    // dnnl_cpu_isa_t values are bit sets in which every later ISA includes the bits of
    // the earlier ones; DNNL_MAX_CPU_ISA lowers the effective one.
    const auto effective = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    const auto allows = [effective](dnnl::cpu_isa isa) {
      const auto bits = static_cast<unsigned>(isa);
      return (effective & bits) == bits;
    };
    if (bf16 && allows(dnnl::cpu_isa::avx512_core_bf16)) return CastIsa::kAvx512Bf16;
    if (avx512 && allows(dnnl::cpu_isa::avx512_core)) return CastIsa::kAvx512;
    return CastIsa::kScalar;
  }();
  return isa;
}

const char* CastIsaName(CastIsa isa) {
  switch (isa) {
    case CastIsa::kAvx512: return "avx512";
    case CastIsa::kAvx512Bf16: return "avx512_bf16";
    default: return "scalar";
  }
}

void ConvertFloatBuffer(CastIsa isa, CastType from, CastType to, const void* src, void* dst,
                        size_t count) {
  if (count == 0) return;
  if (from == to) {
    std::memcpy(dst, src, count * (from == CastType::kF32 ? sizeof(float) : sizeof(uint16_t)));
  } else if (isa == CastIsa::kScalar) {
    ConvertScalar(from, to, src, dst, count);
  } else {
    ConvertFloatBufferAvx512(from, to, src, dst, count, isa == CastIsa::kAvx512Bf16);
  }
}

}  // namespace internal
}  // namespace qsdk::runtime
