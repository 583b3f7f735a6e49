// Elementwise add / sub / mul with numpy broadcasting, on oneDNN's binary primitive.
//
// oneDNN broadcasts src1 only (src0 and dst have the output's dims), so with operands
// padded on the left to the output rank:
//   - a has the output's dims:  dst = a (op) b.
//   - only b has them:          add / mul commute, dst = b (op) a; for sub,
//                               dst = -(b - a) with a linear(-1) post-op (negation is
//                               exact, so this is bit-identical to a - b).
//   - neither has them (e.g. [N,1] and [1,M]): a is first expanded to the output's dims
//                               by a reorder from a zero-stride view of it, then
//                               dst = expanded_a (op) b.
// Layouts: src0 (an operand with the output's rank and dims) is taken in whatever
// layout it arrives; src1 is asked for src0's layout when it has the same dims (so
// equal blocked layouts flow through), else for src0's format tag (a broadcast operand
// next to a blocked src0, which oneDNN's jit needs) or plain. A lower-rank runtime
// operand is taken plain and viewed with leading 1s (reordered internally when a
// blocked layout is wanted). A constant operand is held by the kernel (plain, padded to
// the output rank) and reordered to the wanted layout once at Instantiate.
//
// BF16 (docs/ops.md): a BFLOAT16 output with BFLOAT16 runtime operands (a constant operand
// BFLOAT16 or FLOAT32): oneDNN computes each element in f32 from the exactly widened
// operands and rounds the result once.
//
// Quantized operands (docs/quantization.md: r = s_a * (a_q - z_a) (op) s_b * (b_q - z_b)
// in float, then quantized to the output's u8 / s8 or kept f32): an operand with zero
// point 0 is read as u8 / s8 with its scale as a binary source-scale attribute (oneDNN
// computes s * q in float); one with a non-zero zero point (binary takes none) is first
// dequantized to f32 by a reorder into an instance-owned buffer (a constant: once, at
// creation). A quantized output is an eltwise_linear(1 / s_y, z_y) post-op on a u8 / s8
// destination.
#include <algorithm>
#include <array>

#include "runtime/kernels/kernels.h"
#include "runtime/kernels/onednn_util.h"

namespace qsdk::runtime {
namespace {

using dnnl::memory;

// Row-major strides of `dims` where extents of 1 get stride 0: reading the tensor
// through these with larger extents repeats it (broadcast).
memory::dims BroadcastStrides(const memory::dims& dims) {
  memory::dims strides(dims.size(), 0);
  memory::dim step = 1;
  for (size_t i = dims.size(); i-- > 0;) {
    strides[i] = dims[i] == 1 ? 0 : step;
    step *= dims[i];
  }
  return strides;
}

memory::dims PadLeft(const memory::dims& dims, size_t rank) {
  memory::dims padded(rank - dims.size(), 1);
  padded.insert(padded.end(), dims.begin(), dims.end());
  return padded;
}

// How operand i is read: its storage type, and for a quantized operand its parameters.
struct OperandQuant {
  memory::data_type type = memory::data_type::f32;  // storage (runtime) / held (constant)
  bool quantized = false;
  float scale = 1.0f;
  int32_t zero_point = 0;
  // The binary reads a dequantized f32 copy (quantized with a non-zero zero point).
  bool dequantize() const { return quantized && zero_point != 0; }
  // The type the binary reads and the source scale it applies.
  memory::data_type binary_type() const { return dequantize() ? memory::data_type::f32 : type; }
  float binary_scale() const { return quantized && !dequantize() ? scale : 1.0f; }
};

// The output's type and, quantized, parameters.
struct OutputQuant {
  memory::data_type type = memory::data_type::f32;  // f32, bf16, u8 or s8
  float scale = 1.0f;
  int32_t zero_point = 0;
  bool quantized() const {
    return type == memory::data_type::u8 || type == memory::data_type::s8;
  }
};

// Attribute of a reorder from a quantized operand's storage to f32: s * (q - z). With
// `user_scratchpad` the caller provides the scratchpad (the context arena).
dnnl::primitive_attr DequantizeAttr(const OperandQuant& q, bool user_scratchpad = true) {
  dnnl::primitive_attr attr = user_scratchpad ? UserScratchpadAttr() : dnnl::primitive_attr();
  attr.set_output_scales(0, {q.scale});
  if (q.zero_point != 0) attr.set_zero_points(DNNL_ARG_FROM, 0, {q.zero_point});
  return attr;
}

class ElementwiseKernel : public Kernel {
 public:
  // `constants[i]` is the constant operand i (padded plain memory; a quantized constant
  // with a non-zero zero point already dequantized to f32) or empty when i is a runtime
  // input. `quant[i]` says how operand i is read.
  ElementwiseKernel(std::string what, dnnl::algorithm algorithm, std::array<memory, 2> constants,
                    std::array<OperandQuant, 2> quant, OutputQuant output)
      : what_(std::move(what)),
        algorithm_(algorithm),
        constants_(std::move(constants)),
        quant_(quant),
        output_(output) {}

  std::string name() const override {
    const bool int8 = quant_[0].quantized || quant_[1].quantized || output_.quantized();
    if (int8) return "onednn_binary_int8";
    return output_.type == memory::data_type::bf16 ? "onednn_binary_bf16" : "onednn_binary_fp32";
  }

  Status Instantiate(const InstantiateArgs& args,
                     std::unique_ptr<KernelInstance>* instance) const override {
    const size_t runtime_count = (constants_[0] ? 0 : 1) + (constants_[1] ? 0 : 1);
    QSDK_RETURN_IF_ERROR(CheckInstantiateArgs(args, runtime_count, 1, what_));
    return GuardDnnl(what_, [&]() -> Status { return Build(args, instance); });
  }

 private:
  // Operand i: where it comes from and its dims.
  struct Operand {
    bool is_constant = false;
    size_t runtime_index = 0;  // Index among the runtime inputs.
    memory::desc given;        // Runtime: the layout it arrives in.
    memory::dims dims;         // Own dims (runtime) / padded dims (constant).
    memory::dims padded;       // Padded to the output rank.
    OperandQuant quant;
  };

  Status Build(const InstantiateArgs& args, std::unique_ptr<KernelInstance>* instance) const {
    const std::vector<int64_t>& out_shape = args.output_shapes[0];
    memory::dims out = ToDnnlDims(out_shape);
    if (out.empty()) out.push_back(1);  // Rank 0 runs as [1] (PlainDesc's convention).
    const size_t rank = out.size();

    Operand ops[2];
    size_t next_runtime = 0;
    for (int i = 0; i < 2; ++i) {
      Operand& op = ops[i];
      op.quant = quant_[i];
      if (constants_[i]) {
        op.is_constant = true;
        op.dims = constants_[i].get_desc().dims();
        // A held constant is already in the type the binary reads.
        if (op.quant.dequantize()) op.quant = OperandQuant();
      } else {
        op.runtime_index = next_runtime++;
        op.given = args.input_descs[op.runtime_index];
        op.dims = op.given.dims();
        if (op.given.data_type() != op.quant.type) {
          return InvalidArgument(what_, ": input ", i, " arrives as ",
                                 DnnlTypeName(op.given.data_type()),
                                 "; the kernel was built for ", DnnlTypeName(op.quant.type));
        }
      }
      if (op.dims.size() > rank) {
        return InvalidArgument(what_, ": input ", i, " has shape ", DimsToString(op.dims),
                               ", more dims than the output ", DimsToString(out));
      }
      op.padded = PadLeft(op.dims, rank);
      for (size_t d = 0; d < rank; ++d) {
        if (op.padded[d] != out[d] && op.padded[d] != 1) {
          return InvalidArgument(what_, ": input ", i, " of shape ", DimsToString(op.dims),
                                 " does not broadcast to the output shape ", DimsToString(out));
        }
      }
    }

    auto result = std::make_unique<PrimitiveSequenceInstance>();
    std::vector<memory::desc> required(next_runtime);
    const dnnl::engine& engine = *args.engine;

    // Source of operand i for a primitive taking it with desc `md` (in the operand's
    // binary type): the runtime input itself (asking the context for `md`) when it has
    // the output's rank and is read as stored, a rank-padded view of it otherwise, or the
    // constant (reordered to `md` when needed). A runtime operand to dequantize is
    // converted by a reorder into an instance-owned f32 buffer first.
    auto source_of = [&](int i, int arg, const memory::desc& md) -> ArgSource {
      const Operand& op = ops[i];
      if (op.is_constant) {
        memory mem = constants_[i];
        if (mem.get_desc() != md) mem = ReorderedCopy(mem, md, engine);
        return {arg, ArgSource::Kind::kOwned, 0, mem};
      }
      const dnnl::primitive_attr convert_attr =
          op.quant.dequantize() ? DequantizeAttr(op.quant) : UserScratchpadAttr();
      // Adds a reorder from `from` (desc `from_md`) into a new owned buffer of `md`.
      const auto converted_from = [&](const ArgSource& from, const memory::desc& from_md) {
        memory converted(md, engine);
        dnnl::reorder::primitive_desc convert_pd(engine, from_md, engine, md, convert_attr);
        ArgSource src = from;
        src.arg = DNNL_ARG_FROM;
        result->AddPrimitive(dnnl::reorder(convert_pd), convert_pd,
                             {src, {DNNL_ARG_TO, ArgSource::Kind::kOwned, 0, converted}});
        return ArgSource{arg, ArgSource::Kind::kOwned, 0, converted};
      };
      if (op.dims.size() == rank) {
        const memory::desc stored_md = WithDataType(md, op.quant.type);
        required[op.runtime_index] = stored_md;
        const ArgSource input{arg, ArgSource::Kind::kInput, op.runtime_index, {}};
        return op.quant.dequantize() ? converted_from(input, stored_md) : input;
      }
      // Lower rank: taken plain and read through a rank-padded plain view of the same
      // bytes; when the primitive wants another layout (a blocked partner) or type, the
      // view is reordered into an instance-owned buffer first.
      required[op.runtime_index] =
          PlainDesc(std::vector<int64_t>(op.dims.begin(), op.dims.end()), op.quant.type);
      const memory::desc view_md =
          PlainDesc(std::vector<int64_t>(op.padded.begin(), op.padded.end()), op.quant.type);
      const size_t view =
          result->AddView({false, op.runtime_index, memory(view_md, engine, nullptr)});
      if (md == view_md) return {arg, ArgSource::Kind::kView, view, {}};
      return converted_from({arg, ArgSource::Kind::kView, view, {}}, view_md);
    };

    const bool a_full = ops[0].padded == out;
    const bool b_full = ops[1].padded == out;
    int src0 = 0, src1 = 1;
    bool negate = false;
    if (!a_full && b_full) {
      src0 = 1;
      src1 = 0;
      negate = algorithm_ == dnnl::algorithm::binary_sub;
    }

    // Layout of src0 (= dst): a full-rank runtime operand keeps its given layout; a
    // constant src0 takes its full-dims runtime partner's layout when there is one.
    const memory::data_type type0 = ops[src0].quant.binary_type();
    const memory::data_type type1 = ops[src1].quant.binary_type();
    memory::desc src0_md = PlainDesc(std::vector<int64_t>(out.begin(), out.end()), type0);
    const bool expand = !a_full && !b_full;
    if (!expand) {
      const Operand& s0 = ops[src0];
      const Operand& s1 = ops[src1];
      if (!s0.is_constant && s0.dims.size() == rank) {
        src0_md = WithDataType(s0.given, type0);
      } else if (s0.is_constant && !s1.is_constant && s1.padded == out && s1.dims.size() == rank) {
        src0_md = WithDataType(s1.given, type0);
      }
    }
    // src1 shares src0's layout when it has the same dims. A broadcast src1 takes
    // src0's format tag too when src0 is not plain: oneDNN 2.6's jit binary handles a
    // blocked src0 only with a src1 of the same format (else it falls back to the slow
    // reference implementation).
    const memory::dims& padded1 = ops[src1].padded;
    memory::desc src1_md = PlainDesc(std::vector<int64_t>(padded1.begin(), padded1.end()), type1);
    if (padded1 == out) {
      src1_md = WithDataType(src0_md, type1);
    } else if (!IsPlain(src0_md)) {
      if (const auto tag = MatchFormatTag(src0_md)) {
        src1_md = memory::desc(padded1, type1, *tag);
      }
    }

    ArgSource src0_arg;
    if (expand) {
      // Expand a into a buffer with the output's dims (plain): a reorder from a view of
      // a whose broadcast dims have stride 0 (dequantizing a runtime operand on the way
      // when it needs it).
      const Operand& op = ops[0];
      const memory::data_type stored = op.is_constant ? type0 : op.quant.type;
      const memory::desc view_md(out, stored, BroadcastStrides(ops[0].padded));
      memory expanded(src0_md, engine);
      if (op.is_constant) {
        // Constant: expand once, here.
        memory view(view_md, engine, constants_[0].get_data_handle());
        dnnl::stream stream(engine);
        dnnl::reorder(view, expanded).execute(stream, view, expanded);
        stream.wait();
      } else {
        required[op.runtime_index] =
            PlainDesc(std::vector<int64_t>(op.dims.begin(), op.dims.end()), op.quant.type);
        const size_t view =
            result->AddView({false, op.runtime_index, memory(view_md, engine, nullptr)});
        dnnl::reorder::primitive_desc expand_pd(
            engine, view_md, engine, src0_md,
            op.quant.dequantize() ? DequantizeAttr(op.quant) : UserScratchpadAttr());
        result->AddPrimitive(dnnl::reorder(expand_pd), expand_pd,
                             {{DNNL_ARG_FROM, ArgSource::Kind::kView, view, {}},
                              {DNNL_ARG_TO, ArgSource::Kind::kOwned, 0, expanded}});
      }
      src0_arg = {DNNL_ARG_SRC_0, ArgSource::Kind::kOwned, 0, expanded};
    } else {
      src0_arg = source_of(src0, DNNL_ARG_SRC_0, src0_md);
    }
    const ArgSource src1_arg = source_of(src1, DNNL_ARG_SRC_1, src1_md);

    dnnl::primitive_attr attr = UserScratchpadAttr();
    if (ops[src0].quant.binary_scale() != 1.0f) {
      attr.set_scales(DNNL_ARG_SRC_0, 0, {ops[src0].quant.binary_scale()});
    }
    if (ops[src1].quant.binary_scale() != 1.0f) {
      attr.set_scales(DNNL_ARG_SRC_1, 0, {ops[src1].quant.binary_scale()});
    }
    dnnl::post_ops post_ops;
    if (output_.quantized()) {
      // Quantization of the result, r * (1/s) + z with the reciprocal computed once in
      // float as the contract's Quantize does; a negation folds into the multiplier
      // exactly ((-r) * m == r * (-m)). One post-op: oneDNN 2.6's jit binary ignores its
      // post-ops when two eltwise_linear post-ops are chained.
      const float m = 1.0f / output_.scale;
      post_ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_linear, negate ? -m : m,
                              static_cast<float>(output_.zero_point));
    } else if (negate) {
      post_ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_linear, -1.0f, 0.0f);
    }
    if (post_ops.len() > 0) attr.set_post_ops(post_ops);
    const memory::desc dst_md = WithDataType(src0_md, output_.type);
    dnnl::binary::desc desc(algorithm_, src0_md, src1_md, dst_md);
    dnnl::binary::primitive_desc pd(desc, attr, engine);
    result->AddPrimitive(dnnl::binary(pd), pd,
                         {src0_arg, src1_arg, {DNNL_ARG_DST, ArgSource::Kind::kOutput, 0, {}}});
    result->set_input_descs(std::move(required));
    // The output desc has the output's own rank (rank 0 stays [1]).
    result->set_output_descs({dst_md});
    *instance = std::move(result);
    return Status::Ok();
  }

  std::string what_;
  dnnl::algorithm algorithm_;
  std::array<memory, 2> constants_;
  std::array<OperandQuant, 2> quant_;
  OutputQuant output_;
};

// Reads how `tensor` is stored and quantized.
Status ReadOperandQuant(const graph::Tensor& tensor, const std::string& what, OperandQuant* q) {
  *q = OperandQuant();
  if (tensor.dtype == DataType::FLOAT32) return Status::Ok();
  if (tensor.dtype == DataType::BFLOAT16 && tensor.quant.empty()) {
    q->type = memory::data_type::bf16;
    return Status::Ok();
  }
  if (!IsQuantized8(tensor)) {
    return Unimplemented(what, ": tensor '", tensor.name, "' has type ",
                         DataTypeName(tensor.dtype),
                         "; elementwise operands are FLOAT32, BFLOAT16 or quantized INT8 / UINT8 "
                         "(FLOAT16 constants are widened when the engine is created)");
  }
  q->type = DnnlDataType(tensor.dtype);
  q->quantized = true;
  return PerTensorQuant(tensor, what, &q->scale, &q->zero_point);
}

}  // namespace

Status CreateElementwiseKernel(const graph::Graph& graph, graph::NodeId id,
                               const dnnl::engine& engine, std::unique_ptr<Kernel>* kernel) {
  const std::string what = graph.DescribeNode(id);
  return GuardDnnl(what, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(CheckInputCount(graph, id, 2));
    const graph::Node& node = graph.nodes[id];
    const int64_t op = node.attrs.GetInt(graph::attr::kElementwiseOp, 0);
    dnnl::algorithm algorithm;
    switch (op) {
      case static_cast<int64_t>(ElementwiseOp::kAdd):
        algorithm = dnnl::algorithm::binary_add;
        break;
      case static_cast<int64_t>(ElementwiseOp::kSub):
        algorithm = dnnl::algorithm::binary_sub;
        break;
      case static_cast<int64_t>(ElementwiseOp::kMul):
        algorithm = dnnl::algorithm::binary_mul;
        break;
      default:
        return InvalidArgument(what, ": attribute '", graph::attr::kElementwiseOp, "' = ", op,
                               "; it must be an ElementwiseOp in [1, ", kMaxElementwiseOp, "]");
    }
    const graph::Tensor& y = graph.tensors[node.outputs[0]];
    const std::vector<int64_t>& out_shape = y.shape;
    const size_t rank = std::max<size_t>(out_shape.size(), 1);
    OutputQuant output;
    if (IsQuantized8(y)) {
      QSDK_RETURN_IF_ERROR(PerTensorQuant(y, what, &output.scale, &output.zero_point));
      output.type = DnnlDataType(y.dtype);
    } else if (y.dtype == DataType::BFLOAT16 && y.quant.empty()) {
      output.type = memory::data_type::bf16;
    } else if (y.dtype != DataType::FLOAT32) {
      return Unimplemented(what, ": output '", y.name, "' has type ", DataTypeName(y.dtype),
                           "; elementwise ops produce FLOAT32, BFLOAT16 or quantized INT8 / "
                           "UINT8");
    }
    std::array<memory, 2> constants;
    std::array<OperandQuant, 2> quant;
    int constant_count = 0;
    for (int i = 0; i < 2; ++i) {
      const graph::Tensor& tensor = graph.tensors[node.inputs[i]];
      QSDK_RETURN_IF_ERROR(ReadOperandQuant(tensor, what, &quant[i]));
      // BF16 compute (bf16 output): runtime operands bf16, constants bf16 or f32. Otherwise
      // no operand is bf16.
      const bool bf16_output = output.type == memory::data_type::bf16;
      const bool operand_ok =
          bf16_output ? (quant[i].type == memory::data_type::bf16 ||
                         (tensor.is_constant() && tensor.dtype == DataType::FLOAT32))
                      : quant[i].type != memory::data_type::bf16;
      if (!operand_ok) {
        return Unimplemented(what, ": input ", i, " ", graph.DescribeTensor(node.inputs[i]),
                             " is ", DataTypeName(tensor.dtype), " and output '", y.name, "' is ",
                             DataTypeName(y.dtype),
                             "; a BFLOAT16 elementwise op reads BFLOAT16 operands (a constant "
                             "may be FLOAT32) and other ops read no BFLOAT16 operand");
      }
      if (!tensor.is_constant()) {
        QSDK_RETURN_IF_ERROR(CheckRuntimeInput(graph, id, i, /*quantized_ok=*/true));
        continue;
      }
      ++constant_count;
      if (tensor.shape.size() > rank) {
        return InvalidArgument(what, ": constant input ", i, " ",
                               graph.DescribeTensor(node.inputs[i]), " has shape ",
                               graph::ShapeToString(tensor.shape), ", more dims than the output");
      }
      // Held padded on the left to the output rank (same bytes, plain layout).
      std::vector<int64_t> padded(rank - tensor.shape.size(), 1);
      padded.insert(padded.end(), tensor.shape.begin(), tensor.shape.end());
      QSDK_RETURN_IF_ERROR(MakeConstantMemory(tensor, padded, engine, what, &constants[i]));
      if (quant[i].dequantize()) {
        // Dequantized once, here: the binary reads it as f32.
        memory f32(PlainDesc(padded), engine);
        dnnl::reorder::primitive_desc pd(engine, constants[i].get_desc(), engine, f32.get_desc(),
                                         DequantizeAttr(quant[i], /*user_scratchpad=*/false));
        dnnl::stream stream(engine);
        dnnl::reorder(pd).execute(stream, constants[i], f32);
        stream.wait();
        constants[i] = f32;
      }
    }
    if (constant_count == 2) {
      return Unimplemented(what,
                           ": both inputs are constant; the builder folds such nodes "
                           "before lowering");
    }
    *kernel =
        std::make_unique<ElementwiseKernel>(what, algorithm, std::move(constants), quant, output);
    return Status::Ok();
  });
}

}  // namespace qsdk::runtime
