// MatMul: oneDNN matmul, fp32 or bf16 (a and b bf16, the bias f32, the output bf16 or
// f32; oneDNN accumulates in f32), or int8 (below). Batch dims broadcast numpy-style:
// every operand is seen with the output's rank (leading extents of 1, which oneDNN
// broadcasts); transposes are strided views of the same bytes (no copy); the bias is the
// primitive's bias (any shape that broadcasts to the output); a fused activation is an
// eltwise post-op.
//
// Any operand may be constant. A constant b (the usual weights) is reordered once, at
// Kernel creation, into the layout oneDNN prefers for a nominal `a` shape; runtime
// operands must be plain row-major (the context reorders them if they are not).
#include <algorithm>
#include <cstring>
#include <utility>

#include "runtime/kernels/heavy_kernel_util.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/onednn_util.h"

namespace qsdk::runtime {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using MatMulPd = dnnl::matmul::primitive_desc;

MatMulPd MakeMatMulPd(const memory::desc& a_md, const memory::desc& b_md,
                      const memory::desc& bias_md, const memory::desc& dst_md,
                      const dnnl::primitive_attr& attr, const dnnl::engine& engine) {
  dnnl::matmul::desc desc(a_md, b_md, bias_md, dst_md);
  return MatMulPd(desc, attr, engine);
}

struct Operand {
  bool present = false;
  bool constant = false;
  std::vector<int64_t> shape;  // constant: its shape
  memory data;                 // constant a / bias: logical view; constant b: packed
};

class MatMulKernel : public Kernel {
 public:
  // `numerics` (ReadHeavyNumerics) gives the element types: a and b src_dt (f32 or bf16),
  // the bias f32, the output dst_dt.
  MatMulKernel(std::string what, bool transpose_a, bool transpose_b, size_t rank,
               const HeavyNumerics& numerics, dnnl::primitive_attr attr, Operand a, Operand b,
               Operand bias)
      : what_(std::move(what)),
        transpose_a_(transpose_a),
        transpose_b_(transpose_b),
        rank_(rank),
        precision_(numerics.precision()),
        types_{numerics.src_dt, numerics.src_dt, memory::data_type::f32},
        dst_dt_(numerics.dst_dt),
        attr_(std::move(attr)),
        operands_{std::move(a), std::move(b), std::move(bias)} {}

  std::string name() const override { return std::string("onednn_matmul_") + precision_; }

  // attr_ with the bias `bias_md` as a binary-add post-op ahead of its other post-ops
  // (the fused activation), so the result is still act(a * b + bias).
  dnnl::primitive_attr BiasPostOpAttr(const memory::desc& bias_md) const {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const dnnl::post_ops existing = attr_.get_post_ops();
    dnnl::post_ops ops;
    ops.append_binary(dnnl::algorithm::binary_add, bias_md);
    for (int i = 0; i < existing.len(); ++i) {
      float scale = 1.0f, alpha = 0.0f, beta = 0.0f;
      dnnl::algorithm algorithm = dnnl::algorithm::undef;
      existing.get_params_eltwise(i, scale, algorithm, alpha, beta);
      ops.append_eltwise(scale, algorithm, alpha, beta);
    }
    attr.set_post_ops(ops);
    return attr;
  }

  Status Instantiate(const InstantiateArgs& args,
                     std::unique_ptr<KernelInstance>* instance) const override {
    size_t runtime_count = 0;
    for (const Operand& op : operands_) runtime_count += op.present && !op.constant;
    QSDK_RETURN_IF_ERROR(CheckInstantiateArgs(args, runtime_count, 1, what_));
    // Stored shape of each operand and its runtime input index (or -1).
    std::vector<int64_t> shapes_storage[3];
    int runtime_index[3] = {-1, -1, -1};
    size_t next = 0;
    for (int i = 0; i < 3; ++i) {
      const Operand& op = operands_[i];
      if (!op.present) continue;
      if (op.constant) {
        shapes_storage[i] = op.shape;
      } else {
        const memory::desc& given = args.input_descs[next];
        if (given.data_type() != types_[i]) {
          return InvalidArgument(what_, ": operand ", i, " arrives as ",
                                 DnnlTypeName(given.data_type()), "; the kernel was built for ",
                                 DnnlTypeName(types_[i]));
        }
        const memory::dims dims = given.dims();
        shapes_storage[i].assign(dims.begin(), dims.end());
        runtime_index[i] = static_cast<int>(next++);
      }
      if (shapes_storage[i].size() > rank_ || (i < 2 && shapes_storage[i].size() < 2)) {
        return InvalidArgument(what_, ": operand ", i, " has shape ",
                               graph::ShapeToString(shapes_storage[i]),
                               "; the kernel was built for rank <= ", rank_);
      }
    }
    if (args.output_shapes[0].size() != rank_) {
      return InvalidArgument(what_, ": output shape ", graph::ShapeToString(args.output_shapes[0]),
                             " has rank ", args.output_shapes[0].size(), "; expected ", rank_);
    }
    return GuardDnnl(what_, [&]() -> Status {
      const memory::desc a_md =
          MatMulLogicalDesc(shapes_storage[0], transpose_a_, rank_, types_[0]);
      const memory::desc b_md =
          MatMulLogicalDesc(shapes_storage[1], transpose_b_, rank_, types_[1]);
      const memory::desc bias_md =
          operands_[2].present ? MatMulLogicalDesc(shapes_storage[2], false, rank_, types_[2])
                               : memory::desc();
      const memory::desc dst_md = PlainDesc(args.output_shapes[0], dst_dt_);
      // Builds the descriptor (and picks b's weights when b is constant) for a bias given
      // either as the primitive's bias or, with `bias_as_post_op`, as a binary-add post-op
      // placed before the fused activation.
      memory b_weights;
      const auto build = [&](bool bias_as_post_op) {
        dnnl::primitive_attr attr = attr_;
        memory::desc primitive_bias = bias_md;
        if (bias_as_post_op) {
          attr = BiasPostOpAttr(bias_md);
          primitive_bias = memory::desc();
        }
        if (!operands_[1].constant) {
          return MakeMatMulPd(a_md, b_md, primitive_bias, dst_md, attr, *args.engine);
        }
        WeightsChoice choice;
        MatMulPd chosen = ChooseWeights<MatMulPd>(
            [&](const memory::desc& weights_md) {
              return MakeMatMulPd(a_md, weights_md, primitive_bias, dst_md, attr, *args.engine);
            },
            operands_[1].data, *args.engine, &choice);
        b_weights = choice.weights;
        return chosen;
      };
      MatMulPd pd = build(false);
      bool bias_as_post_op = false;
      if (operands_[2].present && IsReferenceImpl(pd)) {
        // oneDNN's optimized matmuls take only some bias shapes (e.g. [1.., N]); a binary
        // post-op broadcasts more shapes without falling back to the reference code.
        const memory saved_weights = b_weights;
        try {
          MatMulPd alternative = build(true);
          if (!IsReferenceImpl(alternative)) {
            pd = alternative;
            bias_as_post_op = true;
          } else {
            b_weights = saved_weights;
          }
        } catch (const dnnl::error&) {
          b_weights = saved_weights;
        }
      }

      auto result = std::make_unique<PrimitiveSequenceInstance>();
      std::vector<memory::desc> input_descs;
      PrimitiveSequenceInstance::Call call{dnnl::matmul(pd), {}};
      const int dnnl_args[3] = {
          DNNL_ARG_SRC, DNNL_ARG_WEIGHTS,
          bias_as_post_op ? (DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1) : DNNL_ARG_BIAS};
      const memory::desc logical[3] = {a_md, b_md, bias_md};
      for (int i = 0; i < 3; ++i) {
        const Operand& op = operands_[i];
        if (!op.present) continue;
        if (op.constant) {
          call.args.push_back(
              {dnnl_args[i], ArgSource::Kind::kOwned, 0, i == 1 ? b_weights : op.data});
          continue;
        }
        const size_t index = static_cast<size_t>(runtime_index[i]);
        const memory::desc stored_md = PlainDesc(shapes_storage[i], types_[i]);
        input_descs.push_back(stored_md);
        if (logical[i] == stored_md) {
          call.args.push_back({dnnl_args[i], ArgSource::Kind::kInput, index, {}});
        } else {
          // Rank-padded and/or transposed view of the same bytes, re-pointed per run.
          const size_t view =
              result->AddView({false, index, memory(logical[i], *args.engine, DNNL_MEMORY_NONE)});
          call.args.push_back({dnnl_args[i], ArgSource::Kind::kView, view, {}});
        }
      }
      call.args.push_back({DNNL_ARG_DST, ArgSource::Kind::kOutput, 0, {}});
      call.args.push_back({DNNL_ARG_SCRATCHPAD, ArgSource::Kind::kScratchpad, 0, {}});
      result->set_input_descs(std::move(input_descs));
      result->set_output_descs({pd.dst_desc()});
      result->RequireScratchpad(pd.scratchpad_desc().get_size());
      result->AddCall(std::move(call));
      result->AddImplementation(pd.impl_info_str());
      if (operands_[1].constant) NoteWeightsRelayout(b_weights, operands_[1].data, result.get());
      *instance = std::move(result);
      return Status::Ok();
    });
  }

 private:
  std::string what_;
  bool transpose_a_;
  bool transpose_b_;
  size_t rank_;  // output rank; every operand is seen with it
  const char* precision_;       // "fp32" / "bf16"
  memory::data_type types_[3];  // element types of a, b, bias
  memory::data_type dst_dt_;    // element type of the output
  dnnl::primitive_attr attr_;
  Operand operands_[3];  // a, b, bias
};

// Copies constant `tensor` into a new memory described by `md` (same bytes as the dense
// row-major tensor, e.g. a strided or rank-padded view of it).
Status ConstantAs(const graph::Tensor& tensor, const memory::desc& md, const dnnl::engine& engine,
                  const std::string& what, memory* out) {
  memory plain;
  QSDK_RETURN_IF_ERROR(MakeConstantMemory(tensor, engine, what, &plain));
  return GuardDnnl(what, [&]() -> Status {
    memory result(md, engine);
    const size_t bytes = plain.get_desc().get_size();
    if (md.get_size() != bytes) {
      return InternalError(what, ": view of constant '", tensor.name, "' has ", md.get_size(),
                           " bytes; the tensor has ", bytes);
    }
    std::memcpy(result.get_data_handle(), plain.get_data_handle(), bytes);
    *out = result;
    return Status::Ok();
  });
}


// int8 MatMul / FullyConnected on oneDNN's matmul: a runtime quantized `a` (u8 / s8 with
// a per-tensor zero point, which matmul takes as an attribute; inner product does not),
// a constant INT8 `b` packed once, an optional INT32 bias and the heavy post-ops.
// FullyConnected is a = x viewed as [N, K] (plain), b = w^T, i.e. the graph's [OC, K]
// weights read through a transposed view.
class Int8MatMulKernel : public Kernel {
 public:
  struct Config {
    std::string what;
    bool fully_connected = false;
    bool transpose_a = false;
    size_t rank = 2;  // output rank; `a` and `b` are seen with it
    int64_t k = 0;    // fully connected: K
    HeavyNumerics numerics;
    memory packed_b;  // s8, logical [..., K, N], in the layout preferred at a nominal shape
    memory plain_b;   // s8, the same logical view of the graph's bytes (for re-packing)
    memory bias;      // s32, rank-padded logical view, or empty
  };

  explicit Int8MatMulKernel(Config config) : c_(std::move(config)) {}

  std::string name() const override { return "onednn_matmul_int8"; }

  Status Instantiate(const InstantiateArgs& args,
                     std::unique_ptr<KernelInstance>* instance) const override {
    QSDK_RETURN_IF_ERROR(CheckInstantiateArgs(args, c_.numerics.runtime_inputs(), 1, c_.what));
    const memory::desc& incoming = args.input_descs[0];
    const memory::dims a_dims = incoming.dims();
    const std::vector<int64_t> a_stored(a_dims.begin(), a_dims.end());
    const std::vector<int64_t>& out_shape = args.output_shapes[0];
    const memory::dims dst_dims = ToDnnlDims(out_shape);
    QSDK_RETURN_IF_ERROR(CheckInputType(incoming, c_.numerics.src_dt, c_.what));
    memory::desc a_md;
    if (c_.fully_connected) {
      int64_t k = 1;
      for (size_t i = 1; i < a_stored.size(); ++i) k *= a_stored[i];
      const int64_t oc = c_.packed_b.get_desc().dims()[1];
      if (a_stored.size() < 2 || k != c_.k || out_shape != std::vector<int64_t>{a_stored[0], oc}) {
        return InvalidArgument(c_.what, ": input layout has dims ", DimsToString(a_dims),
                               " and output shape ", DimsToString(dst_dims),
                               "; the kernel was built for [N, K = ", c_.k, "] -> [N, ", oc, "]");
      }
      a_md = PlainDesc({a_stored[0], c_.k}, c_.numerics.src_dt);
    } else {
      if (a_stored.size() < 2 || a_stored.size() > c_.rank || out_shape.size() != c_.rank) {
        return InvalidArgument(c_.what, ": operand a has shape ", graph::ShapeToString(a_stored),
                               " and the output ", graph::ShapeToString(out_shape),
                               "; the kernel was built for rank ", c_.rank);
      }
      a_md = MatMulLogicalDesc(a_stored, c_.transpose_a, c_.rank, c_.numerics.src_dt);
    }
    QSDK_RETURN_IF_ERROR(CheckResidualDims(args, c_.numerics, dst_dims, c_.what));
    return GuardDnnl(c_.what, [&]() -> Status {
      const memory::desc dst_md = PlainDesc(out_shape, c_.numerics.dst_dt);
      const memory::desc residual_md =
          c_.numerics.residual == ResidualMode::kBinary ? PlainDesc(out_shape) : memory::desc();
      const dnnl::primitive_attr attr = MakeHeavyAttr(
          c_.numerics, static_cast<int>(c_.rank) - 1, dst_dims, residual_md);
      const memory::desc bias_md = c_.bias ? c_.bias.get_desc() : memory::desc();
      WeightsChoice weights;
      MatMulPd pd = ChooseWeights<MatMulPd>(
          [&](const memory::desc& weights_md) {
            return MakeMatMulPd(a_md, weights_md, bias_md, dst_md, attr, *args.engine);
          },
          c_.packed_b, *args.engine, &weights, c_.plain_b);

      auto result = std::make_unique<PrimitiveSequenceInstance>();
      const memory::desc required = PlainDesc(a_stored, c_.numerics.src_dt);
      ArgSource src{DNNL_ARG_SRC, ArgSource::Kind::kInput, 0, {}};
      if (a_md != required) {
        // Flattened, rank-padded and/or transposed view of the same bytes.
        src.kind = ArgSource::Kind::kView;
        src.index = result->AddView({false, 0, memory(a_md, *args.engine, DNNL_MEMORY_NONE)});
      }
      AddHeavyCall(c_.numerics, dnnl::matmul(pd), pd, src, weights.weights, c_.bias, required,
                   *args.engine, result.get());
      NoteWeightsRelayout(weights.weights, c_.packed_b, result.get());
      *instance = std::move(result);
      return Status::Ok();
    });
  }

 private:
  Config c_;
};

// Packs `config->plain_b` for a nominal `a` of logical desc `a_md` and output shape
// `out_shape` into config->packed_b.
Status PackInt8Weights(const memory::desc& a_md, const std::vector<int64_t>& out_shape,
                       const dnnl::engine& engine, Int8MatMulKernel::Config* config) {
  return GuardDnnl(config->what, [&]() -> Status {
    const memory::dims dst_dims = ToDnnlDims(out_shape);
    const memory::desc residual_md = config->numerics.residual == ResidualMode::kBinary
                                         ? PlainDesc(out_shape)
                                         : memory::desc();
    const dnnl::primitive_attr attr =
        MakeHeavyAttr(config->numerics, static_cast<int>(config->rank) - 1, dst_dims, residual_md);
    const memory::desc any_b(config->plain_b.get_desc().dims(), memory::data_type::s8, tag::any);
    MatMulPd pd = MakeMatMulPd(a_md, any_b,
                               config->bias ? config->bias.get_desc() : memory::desc(),
                               PlainDesc(out_shape, config->numerics.dst_dt), attr, engine);
    config->packed_b = ReorderedCopy(config->plain_b, pd.weights_desc(), engine);
    return Status::Ok();
  });
}

// The int8 MatMul: a runtime and quantized, b a constant INT8 quantized per tensor or
// per output column, bias INT32 (broadcastable to the output).
Status CreateInt8MatMulKernel(const graph::Graph& graph, graph::NodeId id,
                              const dnnl::engine& engine, const HeavyNumerics& numerics,
                              std::unique_ptr<Kernel>* kernel) {
  const std::string what = graph.DescribeNode(id);
  const graph::Node& node = graph.nodes[id];
  QSDK_RETURN_IF_ERROR(CheckRuntimeInput(graph, id, 0, /*quantized_ok=*/true));
  const graph::Tensor& b = graph.tensors[node.inputs[1]];
  if (!b.is_constant()) {
    return Unimplemented(what, ": operand b ", graph.DescribeTensor(node.inputs[1]),
                         " is computed at run time; the int8 kernel takes a constant INT8 b");
  }
  const graph::TensorId bias_id = node.inputs.size() > 2 ? node.inputs[2] : graph::kNoTensor;
  if (bias_id != graph::kNoTensor && !graph.tensors[bias_id].is_constant()) {
    return Unimplemented(what, ": the bias ", graph.DescribeTensor(bias_id),
                         " is computed at run time; the int8 kernel takes a constant bias");
  }
  Int8MatMulKernel::Config config;
  config.what = what;
  config.transpose_a = node.attrs.GetInt(graph::attr::kTransposeA, 0) != 0;
  config.rank = graph.tensors[node.outputs[0]].shape.size();
  config.numerics = numerics;
  const bool transpose_b = node.attrs.GetInt(graph::attr::kTransposeB, 0) != 0;
  const size_t rank = config.rank;
  const std::vector<int64_t>& a_shape = graph.tensors[node.inputs[0]].shape;
  if (a_shape.size() < 2 || a_shape.size() > rank || b.shape.size() < 2 ||
      b.shape.size() > rank) {
    return InvalidArgument(what, ": operands a ", graph::ShapeToString(a_shape), " and b ",
                           graph::ShapeToString(b.shape), " need rank 2..", rank,
                           " (the output rank)");
  }
  QSDK_RETURN_IF_ERROR(
      ConstantAs(b, MatMulLogicalDesc(b.shape, transpose_b, rank, memory::data_type::s8), engine,
                 what, &config.plain_b));
  std::vector<int64_t> bias_shape;
  if (bias_id != graph::kNoTensor) {
    bias_shape = graph.tensors[bias_id].shape;
    if (bias_shape.size() > rank) {
      return InvalidArgument(what, ": bias ", graph.DescribeTensor(bias_id), " has shape ",
                             graph::ShapeToString(bias_shape), "; it needs rank <= ", rank);
    }
    if (graph.tensors[bias_id].dtype != DataType::INT32) {
      return Unimplemented(what, ": bias ", graph.DescribeTensor(bias_id), " has type ",
                           DataTypeName(graph.tensors[bias_id].dtype),
                           "; the int8 kernel takes an INT32 bias");
    }
    QSDK_RETURN_IF_ERROR(
        ConstantAs(graph.tensors[bias_id],
                   MatMulLogicalDesc(bias_shape, false, rank, memory::data_type::s32), engine, what,
                   &config.bias));
  }
  // Pack b for a nominal `a`: dynamic extents taken as 1.
  std::vector<int64_t> nominal_a = a_shape;
  for (int64_t& e : nominal_a) e = NominalExtent(e, 1);
  const memory::desc a_md = MatMulLogicalDesc(nominal_a, config.transpose_a, rank, numerics.src_dt);
  const memory::dims a_dims = a_md.dims();
  const memory::dims b_dims = config.plain_b.get_desc().dims();
  std::vector<int64_t> out_shape(rank);
  for (size_t d = 0; d + 2 < rank; ++d) out_shape[d] = std::max(a_dims[d], b_dims[d]);
  out_shape[rank - 2] = a_dims[rank - 2];
  out_shape[rank - 1] = b_dims[rank - 1];
  QSDK_RETURN_IF_ERROR(PackInt8Weights(a_md, out_shape, engine, &config));
  *kernel = std::make_unique<Int8MatMulKernel>(std::move(config));
  return Status::Ok();
}
}  // namespace

Status CreateInt8FullyConnectedKernel(const graph::Graph& graph, graph::NodeId id,
                                      const dnnl::engine& engine, const HeavyNumerics& numerics,
                                      std::unique_ptr<Kernel>* kernel) {
  const std::string what = graph.DescribeNode(id);
  const graph::Node& node = graph.nodes[id];
  const graph::Tensor& w = graph.tensors[node.inputs[1]];
  const std::vector<int64_t>& x_shape = graph.tensors[node.inputs[0]].shape;
  if (x_shape.size() < 2 || w.shape.size() != 2 || w.shape[0] < 1 || w.shape[1] < 1) {
    return InvalidArgument(what, ": input shape ", graph::ShapeToString(x_shape),
                           " and weight shape ", graph::ShapeToString(w.shape),
                           "; they need [N, K, ...] and [OC, K]");
  }
  const int64_t oc = w.shape[0];
  Int8MatMulKernel::Config config;
  config.what = what;
  config.fully_connected = true;
  config.rank = 2;
  config.k = w.shape[1];
  config.numerics = numerics;
  // [OC, K] row-major read as [K, OC]: b[k][o] at o * K + k.
  QSDK_RETURN_IF_ERROR(ConstantAs(
      w, memory::desc({config.k, oc}, memory::data_type::s8, memory::dims{1, config.k}), engine,
      what, &config.plain_b));
  const graph::TensorId bias_id = node.inputs.size() > 2 ? node.inputs[2] : graph::kNoTensor;
  if (bias_id != graph::kNoTensor) {
    const graph::Tensor& bias = graph.tensors[bias_id];
    if (bias.shape != std::vector<int64_t>{oc}) {
      return InvalidArgument(what, ": bias has shape ", graph::ShapeToString(bias.shape),
                             "; it needs [", oc, "]");
    }
    if (bias.dtype != DataType::INT32) {
      return Unimplemented(what, ": bias ", graph.DescribeTensor(bias_id), " has type ",
                           DataTypeName(bias.dtype), "; the int8 kernel takes an INT32 bias");
    }
    QSDK_RETURN_IF_ERROR(
        ConstantAs(bias, PlainDesc({1, oc}, memory::data_type::s32), engine, what, &config.bias));
  }
  const int64_t n = NominalExtent(x_shape[0], 1);
  QSDK_RETURN_IF_ERROR(PackInt8Weights(PlainDesc({n, config.k}, numerics.src_dt), {n, oc}, engine,
                                       &config));
  *kernel = std::make_unique<Int8MatMulKernel>(std::move(config));
  return Status::Ok();
}

Status CreateMatMulKernel(const graph::Graph& graph, graph::NodeId id, const dnnl::engine& engine,
                          std::unique_ptr<Kernel>* kernel) {
  const std::string what = graph.DescribeNode(id);
  const graph::Node& node = graph.nodes[id];
  if (node.inputs.size() < 2 || node.inputs.size() > 3 || node.outputs.size() != 1) {
    return InvalidArgument(what, ": has ", node.inputs.size(), " inputs and ", node.outputs.size(),
                           " outputs; a matrix product takes a, b and an "
                           "optional bias and produces one output");
  }
  const graph::TensorId out_id = node.outputs[0];
  if (out_id < 0 || out_id >= static_cast<graph::TensorId>(graph.tensors.size())) {
    return InvalidArgument(what, ": output tensor id ", out_id, " is out of range");
  }
  const size_t rank = graph.tensors[out_id].shape.size();
  const bool transpose_a = node.attrs.GetInt(graph::attr::kTransposeA, 0) != 0;
  const bool transpose_b = node.attrs.GetInt(graph::attr::kTransposeB, 0) != 0;
  for (size_t i = 0; i < 2; ++i) {
    const graph::TensorId t = node.inputs[i];
    if (t < 0 || t >= static_cast<graph::TensorId>(graph.tensors.size())) {
      return InvalidArgument(what, ": input ", i, " is absent or out of range (tensor id ", t, ")");
    }
  }
  if (node.inputs.size() > 2 && node.inputs[2] != graph::kNoTensor &&
      (node.inputs[2] < 0 ||
       node.inputs[2] >= static_cast<graph::TensorId>(graph.tensors.size()))) {
    return InvalidArgument(what, ": input 2 is out of range (tensor id ", node.inputs[2], ")");
  }
  if (node.attrs.GetInt(graph::attr::kFusedSum, 0) != 0) {
    return Unimplemented(what, ": attribute '", graph::attr::kFusedSum,
                         "' is set; a residual is fused into Conv / FullyConnected only");
  }
  // The output column of b: its last stored axis, or the one before when b is transposed.
  const int b_rank = static_cast<int>(graph.tensors[node.inputs[1]].shape.size());
  HeavyNumerics numerics;
  QSDK_RETURN_IF_ERROR(
      ReadHeavyNumerics(graph, id, transpose_b ? b_rank - 2 : b_rank - 1, &numerics));
  if (numerics.int8) return CreateInt8MatMulKernel(graph, id, engine, numerics, kernel);
  Operand operands[3];
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const graph::TensorId t = node.inputs[i];
    if (t == graph::kNoTensor && i == 2) continue;
    if (t < 0 || t >= static_cast<graph::TensorId>(graph.tensors.size())) {
      return InvalidArgument(what, ": input ", i, " is absent or out of range (tensor id ", t, ")");
    }
    const graph::Tensor& tensor = graph.tensors[t];
    // a and b have the compute type (ReadHeavyNumerics checked them); the bias is FLOAT32.
    const DataType expected = (i < 2 && numerics.bf16) ? DataType::BFLOAT16 : DataType::FLOAT32;
    if (tensor.dtype != expected) {
      return Unimplemented(what, ": input ", i, " ", graph.DescribeTensor(t), " has type ",
                           DataTypeName(tensor.dtype), "; the ", numerics.precision(),
                           " kernel takes ", DataTypeName(expected),
                           i < 2 ? " operands" : " as the bias");
    }
    if (tensor.shape.size() > rank || (i < 2 && tensor.shape.size() < 2)) {
      return InvalidArgument(what, ": input ", i, " ", graph.DescribeTensor(t), " has shape ",
                             graph::ShapeToString(tensor.shape), "; it needs rank 2..", rank,
                             " (the output rank)");
    }
    operands[i].present = true;
    operands[i].constant = tensor.is_constant();
    operands[i].shape = tensor.shape;
  }

  dnnl::primitive_attr attr;
  QSDK_RETURN_IF_ERROR(GuardDnnl(what, [&]() -> Status {
    attr = MakeHeavyAttr(numerics, static_cast<int>(rank) - 1,
                         ToDnnlDims(graph.tensors[out_id].shape));
    return Status::Ok();
  }));
  if (operands[0].constant) {
    QSDK_RETURN_IF_ERROR(ConstantAs(graph.tensors[node.inputs[0]],
                                    MatMulLogicalDesc(operands[0].shape, transpose_a, rank,
                                                numerics.src_dt),
                                    engine, what, &operands[0].data));
  }
  if (operands[2].present && operands[2].constant) {
    QSDK_RETURN_IF_ERROR(ConstantAs(graph.tensors[node.inputs[2]],
                                    MatMulLogicalDesc(operands[2].shape, false, rank), engine, what,
                                    &operands[2].data));
  }
  if (operands[1].constant) {
    memory b_view;
    QSDK_RETURN_IF_ERROR(ConstantAs(graph.tensors[node.inputs[1]],
                                    MatMulLogicalDesc(operands[1].shape, transpose_b, rank,
                                                numerics.src_dt),
                                    engine, what, &b_view));
    // Pack b for a nominal `a`: dynamic extents (batch, M) taken as 1. Other operands as
    // in the graph (a dynamic bias extent is also taken as 1, which broadcasts).
    QSDK_RETURN_IF_ERROR(GuardDnnl(what, [&]() -> Status {
      std::vector<int64_t> a_shape = graph.tensors[node.inputs[0]].shape;
      for (int64_t& e : a_shape) e = NominalExtent(e, 1);
      std::vector<int64_t> out_shape = graph.tensors[out_id].shape;
      const memory::desc a_md = MatMulLogicalDesc(a_shape, transpose_a, rank, numerics.src_dt);
      const memory::dims a_dims = a_md.dims();
      const memory::dims b_dims = b_view.get_desc().dims();
      for (size_t d = 0; d < rank; ++d) {
        if (d + 2 < rank) {
          out_shape[d] = std::max(a_dims[d], b_dims[d]);
        }
      }
      out_shape[rank - 2] = a_dims[rank - 2];
      out_shape[rank - 1] = b_dims[rank - 1];
      memory::desc bias_md;
      if (operands[2].present) {
        std::vector<int64_t> bias_shape = operands[2].shape;
        for (int64_t& e : bias_shape) e = NominalExtent(e, 1);
        bias_md = MatMulLogicalDesc(bias_shape, false, rank);
      }
      const memory::desc any_b(b_dims, numerics.src_dt, tag::any);
      MatMulPd pd = MakeMatMulPd(a_md, any_b, bias_md, PlainDesc(out_shape, numerics.dst_dt), attr,
                                 engine);
      operands[1].data = ReorderedCopy(b_view, pd.weights_desc(), engine);
      return Status::Ok();
    }));
  }
  *kernel = std::make_unique<MatMulKernel>(what, transpose_a, transpose_b, rank, numerics,
                                           std::move(attr), std::move(operands[0]),
                                           std::move(operands[1]), std::move(operands[2]));
  return Status::Ok();
}

}  // namespace qsdk::runtime
