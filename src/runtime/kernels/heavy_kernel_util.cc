#include "runtime/kernels/heavy_kernel_util.h"

#include <cmath>
#include <cstring>

#include "common/status_macros.h"

namespace qsdk::runtime {

using dnnl::memory;

namespace {

// Reads the fused activation attributes into `numerics`.
Status ReadActivation(const graph::Graph& graph, graph::NodeId id, HeavyNumerics* numerics) {
  const std::string what = graph.DescribeNode(id);
  const graph::AttrMap& attrs = graph.nodes[id].attrs;
  const int64_t type = attrs.GetInt(graph::attr::kFusedActivation, 0);
  if (type < 0 || type > kMaxActivationType) {
    return InvalidArgument(what, ": attribute '", graph::attr::kFusedActivation, "' = ", type,
                           "; it must be an ActivationType in [0, ", kMaxActivationType, "]");
  }
  const auto activation = static_cast<ActivationType>(type);
  if (activation == ActivationType::kNone) return Status::Ok();
  // An absent fused_alpha / fused_beta reads as 0, as in the reference kernels (the
  // activation-fusion pass always copies the Activation node's parameters).
  const float alpha = static_cast<float>(attrs.GetFloat(graph::attr::kFusedAlpha, 0.0));
  const float beta = static_cast<float>(attrs.GetFloat(graph::attr::kFusedBeta, 0.0));
  QSDK_RETURN_IF_ERROR(MapActivation(activation, alpha, beta, what, &numerics->activation));
  numerics->has_activation = true;
  return Status::Ok();
}

// True when a and b agree to float rounding of a product (the builder computes bias
// scales as s_x * s_w in float, exactly as the kernel does; the slack only absorbs another
// tool's rounding, never a real mismatch).
bool SameScale(float a, float b) { return std::fabs(a - b) <= 1e-6f * std::fabs(b); }

// The int8 part: weights, bias, output scales.
Status ReadInt8(const graph::Graph& graph, graph::NodeId id, int weights_oc_axis,
                HeavyNumerics* numerics) {
  const std::string what = graph.DescribeNode(id);
  const graph::Node& node = graph.nodes[id];
  const graph::Tensor& x = graph.tensors[node.inputs[0]];
  const graph::Tensor& w = graph.tensors[node.inputs[1]];
  float s_x = 1.0f;
  QSDK_RETURN_IF_ERROR(PerTensorQuant(x, what, &s_x, &numerics->src_zero_point));
  numerics->src_dt = DnnlDataType(x.dtype);
  const graph::QuantParams& wq = w.quant;
  for (size_t k = 0; k < wq.zero_points.size(); ++k) {
    if (wq.zero_points[k] != 0) {
      return Unimplemented(what, ": weights '", w.name, "' have zero_point[", k,
                           "] = ", wq.zero_points[k],
                           "; INT8 weights must be symmetric (zero point 0)");
    }
  }
  if (!wq.per_tensor() && wq.axis != weights_oc_axis) {
    return Unimplemented(what, ": weights '", w.name, "' are quantized along axis ", wq.axis,
                         "; the kernel takes per-tensor weights or weights quantized along "
                         "their output-channel axis ",
                         weights_oc_axis);
  }
  numerics->output_scales.clear();
  for (float s_w : wq.scales) numerics->output_scales.push_back(s_x * s_w);

  if (node.inputs.size() > 2 && node.inputs[2] != graph::kNoTensor) {
    const graph::Tensor& b = graph.tensors[node.inputs[2]];
    if (b.dtype != DataType::INT32 || b.quant.empty()) {
      return Unimplemented(what, ": bias '", b.name, "' has type ", DataTypeName(b.dtype),
                           "; a quantized op takes an INT32 bias in the accumulator's scale");
    }
    const std::vector<float>& m = numerics->output_scales;
    const std::vector<float>& s_b = b.quant.scales;
    if (s_b.size() != 1 && s_b.size() != m.size()) {
      return InvalidArgument(what, ": bias '", b.name, "' has ", s_b.size(),
                             " scales; the weights have ", m.size());
    }
    const size_t count = std::max(s_b.size(), m.size());
    for (size_t k = 0; k < count; ++k) {
      const float sb = s_b[s_b.size() == 1 ? 0 : k];
      const float mk = m[m.size() == 1 ? 0 : k];
      if (!SameScale(sb, mk)) {
        return InvalidArgument(what, ": bias '", b.name, "' has scale[", k, "] = ", sb,
                               "; it must be s_x * s_w[", k, "] = ", mk,
                               " (docs/quantization.md)");
      }
    }
  }
  return Status::Ok();
}

// The residual part of AddHeavyCall, once `pd` is known: sets the required desc of R
// (runtime input `r_index`) in `input_descs`, and either aliases the output to R in place
// (kSum), adds the dequantizing reorder call to `instance` (kDequantizeSum; done before
// the primitive's call is added) or adds R's argument to `call_args` (kBinary). Nothing
// for kNone.
void AddResidual(const HeavyNumerics& numerics, const dnnl::primitive_desc_base& pd,
                 size_t r_index, const dnnl::engine& engine, PrimitiveSequenceInstance* instance,
                 std::vector<memory::desc>* input_descs, std::vector<ArgSource>* call_args) {
  const memory::desc dst_md = pd.dst_desc();
  switch (numerics.residual) {
    case ResidualMode::kNone:
      return;
    case ResidualMode::kSum:
      (*input_descs)[r_index] = WithDataType(dst_md, numerics.residual_dt);
      instance->set_output_alias(OutputAlias::kInPlace, r_index);
      return;
    case ResidualMode::kDequantizeSum: {
      const memory::desc r_md = WithDataType(dst_md, numerics.residual_dt);
      (*input_descs)[r_index] = r_md;
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      attr.set_output_scales(0, {numerics.residual_scale});
      if (numerics.residual_zero_point != 0) {
        attr.set_zero_points(DNNL_ARG_FROM, 0, {numerics.residual_zero_point});
      }
      dnnl::reorder::primitive_desc reorder_pd(engine, r_md, engine, dst_md, attr);
      instance->AddPrimitive(dnnl::reorder(reorder_pd), reorder_pd,
                             {{DNNL_ARG_FROM, ArgSource::Kind::kInput, r_index, {}},
                              {DNNL_ARG_TO, ArgSource::Kind::kOutput, 0, {}}});
      return;
    }
    case ResidualMode::kBinary: {
      const int arg = DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1;
      memory::desc r_md = pd.query_md(dnnl::query::exec_arg_md, arg);
      // Should oneDNN leave the layout open, R takes the destination's.
      if (r_md.is_zero() || r_md.data.format_kind != dnnl_blocked) {
        r_md = WithDataType(dst_md, memory::data_type::f32);
      }
      (*input_descs)[r_index] = r_md;
      call_args->push_back({arg, ArgSource::Kind::kInput, r_index, {}});
      return;
    }
  }
}

}  // namespace

Status ReadHeavyNumerics(const graph::Graph& graph, graph::NodeId id, int weights_oc_axis,
                         HeavyNumerics* numerics) {
  const std::string what = graph.DescribeNode(id);
  const graph::Node& node = graph.nodes[id];
  *numerics = HeavyNumerics();
  const graph::Tensor& x = graph.tensors[node.inputs[0]];
  const graph::Tensor& w = graph.tensors[node.inputs[1]];
  const graph::Tensor& y = graph.tensors[node.outputs[0]];
  if (x.dtype == DataType::FLOAT32 && w.dtype == DataType::FLOAT32) {
    numerics->int8 = false;
  } else if (x.dtype == DataType::BFLOAT16 && w.dtype == DataType::BFLOAT16) {
    numerics->bf16 = true;
    numerics->src_dt = memory::data_type::bf16;
    numerics->weights_dt = memory::data_type::bf16;
  } else if (IsQuantized8(x) && w.dtype == DataType::INT8 && !w.quant.empty()) {
    numerics->int8 = true;
    numerics->weights_dt = memory::data_type::s8;
  } else {
    return Unimplemented(what, ": input ", graph.DescribeTensor(node.inputs[0]), " is ",
                         DataTypeName(x.dtype), " and the weights ",
                         graph.DescribeTensor(node.inputs[1]), " are ", DataTypeName(w.dtype),
                         "; the runtime computes FLOAT32 x FLOAT32 or quantized INT8 / UINT8 "
                         "x INT8, or BFLOAT16 x BFLOAT16");
  }

  if (numerics->int8) {
    QSDK_RETURN_IF_ERROR(ReadInt8(graph, id, weights_oc_axis, numerics));
  } else if (node.inputs.size() > 2 && node.inputs[2] != graph::kNoTensor &&
             graph.tensors[node.inputs[2]].dtype != DataType::FLOAT32) {
    return Unimplemented(what, ": bias ", graph.DescribeTensor(node.inputs[2]), " has type ",
                         DataTypeName(graph.tensors[node.inputs[2]].dtype),
                         "; a FLOAT32 or BFLOAT16 op takes a FLOAT32 bias");
  }

  // Output.
  if (IsQuantized8(y)) {
    if (!numerics->int8) {
      return Unimplemented(what, ": output '", y.name, "' is ", DataTypeName(y.dtype),
                           " but the op computes in FLOAT32; quantize it with a Quantize node");
    }
    QSDK_RETURN_IF_ERROR(
        PerTensorQuant(y, what, &numerics->dst_scale, &numerics->dst_zero_point));
    numerics->dst_dt = DnnlDataType(y.dtype);
  } else if (y.dtype == DataType::BFLOAT16 && y.quant.empty()) {
    if (!numerics->bf16) {
      return Unimplemented(what, ": output '", y.name, "' is BFLOAT16 but the op computes in ",
                           numerics->int8 ? "INT8" : "FLOAT32",
                           "; a BFLOAT16 output needs BFLOAT16 x and weights");
    }
    numerics->dst_dt = memory::data_type::bf16;
  } else if (y.dtype != DataType::FLOAT32) {
    return Unimplemented(what, ": output '", y.name, "' has type ", DataTypeName(y.dtype),
                         "; heavy ops produce FLOAT32, BFLOAT16 (from BFLOAT16 x and weights) "
                         "or quantized INT8 / UINT8");
  }

  // Fused residual.
  const int64_t fused_sum = node.attrs.GetInt(graph::attr::kFusedSum, 0);
  if (fused_sum != 0 && fused_sum != 1) {
    return InvalidArgument(what, ": attribute '", graph::attr::kFusedSum, "' = ", fused_sum,
                           "; it must be 0 or 1");
  }
  const bool has_input3 = node.inputs.size() > 3 && node.inputs[3] != graph::kNoTensor;
  if ((fused_sum == 1) != has_input3) {
    return InvalidArgument(what, ": attribute '", graph::attr::kFusedSum, "' = ", fused_sum,
                           " but the node has ", has_input3 ? "a" : "no",
                           " residual input 3; a fused residual needs both");
  }
  if (fused_sum == 1) {
    const graph::TensorId r_id = node.inputs[3];
    const graph::Tensor& r = graph.tensors[r_id];
    if (r.is_constant()) {
      return Unimplemented(what, ": residual ", graph.DescribeTensor(r_id),
                           " is constant; the runtime takes the residual at run time");
    }
    const bool dst_quantized = numerics->int8 && numerics->dst_dt != memory::data_type::f32;
    if (numerics->bf16) {
      // The residual has the output's type (docs/ops.md): the sum post-op reads it from
      // the destination.
      if (DnnlDataType(r.dtype) != numerics->dst_dt || !r.quant.empty()) {
        return Unimplemented(what, ": residual ", graph.DescribeTensor(r_id), " has type ",
                             DataTypeName(r.dtype), " and output '", y.name, "' ",
                             DataTypeName(y.dtype),
                             "; a BFLOAT16 op's residual has the output's type");
      }
      numerics->residual_dt = numerics->dst_dt;
      numerics->residual = ResidualMode::kSum;
    } else if (IsQuantized8(r)) {
      QSDK_RETURN_IF_ERROR(PerTensorQuant(r, what, &numerics->residual_scale,
                                          &numerics->residual_zero_point));
      numerics->residual_dt = DnnlDataType(r.dtype);
      numerics->residual = dst_quantized ? ResidualMode::kSum : ResidualMode::kDequantizeSum;
    } else if (r.dtype == DataType::FLOAT32) {
      numerics->residual = dst_quantized ? ResidualMode::kBinary : ResidualMode::kSum;
    } else {
      return Unimplemented(what, ": residual ", graph.DescribeTensor(r_id), " has type ",
                           DataTypeName(r.dtype),
                           "; a residual is FLOAT32 or quantized INT8 / UINT8");
    }
  }
  return ReadActivation(graph, id, numerics);
}

dnnl::primitive_attr MakeHeavyAttr(const HeavyNumerics& numerics, int oc_dim,
                                   const memory::dims& dst_dims, const memory::desc& residual_md) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (numerics.int8) {
    const std::vector<float>& m = numerics.output_scales;
    attr.set_output_scales(m.size() == 1 ? 0 : 1 << oc_dim, m);
    if (numerics.src_zero_point != 0) {
      attr.set_zero_points(DNNL_ARG_SRC, 0, {numerics.src_zero_point});
    }
  }
  dnnl::post_ops ops;
  switch (numerics.residual) {
    case ResidualMode::kNone:
      break;
    case ResidualMode::kSum:
      if (numerics.residual_dt == memory::data_type::f32 ||
          numerics.residual_dt == memory::data_type::bf16) {
        // R is the destination's float type, read as it is.
        ops.append_sum(1.0f);
      } else {
        // The destination holds R's bytes; the post-op reads them as R's type (u8 / s8,
        // the size of the destination type) with R's parameters.
        ops.append_sum(numerics.residual_scale, numerics.residual_zero_point,
                       numerics.residual_dt);
      }
      break;
    case ResidualMode::kDequantizeSum:
      ops.append_sum(1.0f);
      break;
    case ResidualMode::kBinary:
      ops.append_binary(dnnl::algorithm::binary_add,
                        residual_md.is_zero() ? memory::desc(dst_dims, memory::data_type::f32,
                                                             memory::format_tag::any)
                                              : residual_md);
      break;
  }
  if (numerics.has_activation) {
    ops.append_eltwise(1.0f, numerics.activation.algorithm, numerics.activation.alpha,
                       numerics.activation.beta);
  }
  if (numerics.int8 && numerics.dst_dt != memory::data_type::f32) {
    // The reciprocal is computed once in float, as the contract's Quantize does.
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_linear, 1.0f / numerics.dst_scale,
                       static_cast<float>(numerics.dst_zero_point));
  }
  if (ops.len() > 0) attr.set_post_ops(ops);
  return attr;
}

Status MakeBiasMemory(const graph::Tensor& bias, const HeavyNumerics& numerics,
                      const std::vector<int64_t>& shape, const dnnl::engine& engine,
                      const std::string& what, memory* out) {
  const DataType expected = numerics.int8 ? DataType::INT32 : DataType::FLOAT32;
  if (bias.dtype != expected) {
    return Unimplemented(what, ": bias '", bias.name, "' has type ", DataTypeName(bias.dtype),
                         "; the ", numerics.precision(), " kernel takes a ",
                         DataTypeName(expected), " bias");
  }
  return MakeConstantMemory(bias, shape, engine, what, out);
}

void AddHeavyCall(const HeavyNumerics& numerics, dnnl::primitive primitive,
                  const dnnl::primitive_desc_base& pd, const ArgSource& src,
                  const memory& weights, const memory& bias, const memory::desc& x_md,
                  const dnnl::engine& engine, PrimitiveSequenceInstance* instance) {
  std::vector<memory::desc> input_descs = {x_md};
  if (numerics.residual != ResidualMode::kNone) input_descs.push_back(memory::desc());
  std::vector<ArgSource> args = {src, {DNNL_ARG_WEIGHTS, ArgSource::Kind::kOwned, 0, weights}};
  if (bias) args.push_back({DNNL_ARG_BIAS, ArgSource::Kind::kOwned, 0, bias});
  args.push_back({DNNL_ARG_DST, ArgSource::Kind::kOutput, 0, {}});
  AddResidual(numerics, pd, 1, engine, instance, &input_descs, &args);
  instance->AddPrimitive(std::move(primitive), pd, std::move(args));
  instance->set_input_descs(std::move(input_descs));
  instance->set_output_descs({pd.dst_desc()});
}

Status CheckResidualDims(const InstantiateArgs& args, const HeavyNumerics& numerics,
                         const memory::dims& dst_dims, const std::string& what) {
  if (numerics.residual != ResidualMode::kNone && args.input_descs[1].dims() != dst_dims) {
    return InvalidArgument(what, ": residual has dims ", DimsToString(args.input_descs[1].dims()),
                           "; the output has ", DimsToString(dst_dims));
  }
  return Status::Ok();
}

Status CheckHeavyNodeInputs(const graph::Graph& graph, graph::NodeId id, const char* op,
                            const char* weights_role) {
  const std::string what = graph.DescribeNode(id);
  const graph::Node& node = graph.nodes[id];
  if (node.inputs.size() < 2 || node.inputs.size() > 4 || node.outputs.size() != 1) {
    return InvalidArgument(what, ": has ", node.inputs.size(), " inputs and ", node.outputs.size(),
                           " outputs; ", op, " takes x, w, an optional bias and an optional "
                           "fused residual and produces one output");
  }
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const graph::TensorId t = node.inputs[i];
    const bool valid = t >= 0 && t < static_cast<graph::TensorId>(graph.tensors.size());
    if ((i < 2 || t != graph::kNoTensor) && !valid) {
      return InvalidArgument(what, ": input ", i, " is absent or out of range (tensor id ", t,
                             ")");
    }
  }
  QSDK_RETURN_IF_ERROR(CheckRuntimeInput(graph, id, 0, /*quantized_ok=*/true));
  const graph::TensorId b_id = node.inputs.size() > 2 ? node.inputs[2] : graph::kNoTensor;
  if (!graph.tensors[node.inputs[1]].is_constant()) {
    return Unimplemented(what, ": input 1 (", weights_role, ") must be a constant tensor");
  }
  if (b_id != graph::kNoTensor && !graph.tensors[b_id].is_constant()) {
    return Unimplemented(what, ": input 2 (the bias) must be a constant tensor");
  }
  return Status::Ok();
}

Status MakeChannelBias(const graph::Graph& graph, graph::NodeId id, int64_t oc,
                       const HeavyNumerics& numerics, const dnnl::engine& engine,
                       memory* out) {
  const graph::Node& node = graph.nodes[id];
  const graph::TensorId b_id = node.inputs.size() > 2 ? node.inputs[2] : graph::kNoTensor;
  if (b_id == graph::kNoTensor) return Status::Ok();
  const std::string what = graph.DescribeNode(id);
  if (graph.tensors[b_id].shape != std::vector<int64_t>{oc}) {
    return InvalidArgument(what, ": bias has shape ",
                           graph::ShapeToString(graph.tensors[b_id].shape), "; it needs [", oc,
                           "]");
  }
  return MakeBiasMemory(graph.tensors[b_id], numerics, {oc}, engine, what, out);
}

bool IsReferenceImpl(const dnnl::primitive_desc_base& pd) {
  const char* impl = pd.impl_info_str();
  return impl != nullptr && std::strncmp(impl, "ref", 3) == 0;
}

}  // namespace qsdk::runtime
