// INT16 heavy-kernel helpers (int16_kernel_util.h). Compiled with -ffp-contract=off
// (CMakeLists.txt): the epilogue's float operations must each round, as the contract and
// the reference do.
#include "runtime/kernels/int16_kernel_util.h"

#include <algorithm>
#include <cmath>

#include "common/status_macros.h"
#include "graph/attributes.h"
#include "reference/ops.h"
#include "reference/quant_math.h"

namespace qsdk::runtime {
namespace {

bool ValidId(const graph::Graph& graph, graph::TensorId t) {
  return t >= 0 && t < static_cast<graph::TensorId>(graph.tensors.size());
}

// Per-tensor INT16 parameters of `tensor` (an activation or the output).
Status ReadInt16PerTensor(const graph::Graph& graph, graph::NodeId id, graph::TensorId t,
                          const char* role, float* scale, int32_t* zero_point) {
  const std::string what = graph.DescribeNode(id);
  const graph::Tensor& tensor = graph.tensors[t];
  const graph::QuantParams& q = tensor.quant;
  if (q.scales.size() != 1 || q.zero_points.size() != 1 || q.axis != -1) {
    return InvalidArgument(what, ": ", role, " ", graph.DescribeTensor(t), " is INT16 with ",
                           q.scales.size(), " scales, ", q.zero_points.size(),
                           " zero points and axis ", q.axis,
                           "; it must be quantized per tensor (one scale, one zero point, "
                           "axis -1)");
  }
  if (!std::isfinite(q.scales[0]) || !(q.scales[0] > 0.0f)) {
    return InvalidArgument(what, ": ", role, " ", graph.DescribeTensor(t), " has scale ",
                           q.scales[0], "; it must be finite and > 0");
  }
  if (q.zero_points[0] < -32768 || q.zero_points[0] > 32767) {
    return InvalidArgument(what, ": ", role, " ", graph.DescribeTensor(t), " has zero point ",
                           q.zero_points[0], "; for INT16 it must be in [-32768, 32767]");
  }
  *scale = q.scales[0];
  *zero_point = q.zero_points[0];
  return Status::Ok();
}

Status ReadInt16Weights(const graph::Graph& graph, graph::NodeId id, int oc_axis,
                        std::vector<float>* scales) {
  const std::string what = graph.DescribeNode(id);
  const graph::TensorId t = graph.nodes[id].inputs[1];
  const graph::Tensor& w = graph.tensors[t];
  if (!w.is_constant()) {
    return Unimplemented(what, ": input 1 (the weights) ", graph.DescribeTensor(t),
                         " is not a constant; the INT16 kernels take constant weights");
  }
  if (w.dtype != DataType::INT16) {
    return InvalidArgument(what, ": the weights ", graph.DescribeTensor(t), " have type ",
                           DataTypeName(w.dtype), "; an INT16 node's weights must be INT16");
  }
  const int64_t count = graph::ElementCount(w.shape);
  if (count < 1 || w.data->size() != static_cast<size_t>(count) * sizeof(int16_t)) {
    return InvalidArgument(what, ": the weights ", graph.DescribeTensor(t), " of shape ",
                           graph::ShapeToString(w.shape), " hold ", w.data->size(),
                           " bytes; they need ", count < 0 ? 0 : count * 2,
                           " (a non-empty INT16 constant)");
  }
  const graph::QuantParams& q = w.quant;
  if (q.scales.empty() || q.zero_points.size() != q.scales.size()) {
    return InvalidArgument(what, ": the weights ", graph.DescribeTensor(t), " have ",
                           q.scales.size(), " scales and ", q.zero_points.size(),
                           " zero points; they need matching non-empty parameters");
  }
  if (q.axis >= 0) {
    if (q.axis != oc_axis) {
      return InvalidArgument(what, ": the weights ", graph.DescribeTensor(t),
                             " are quantized along axis ", q.axis,
                             "; INT16 weights are quantized per tensor or along their "
                             "output-channel axis ",
                             oc_axis);
    }
    if (static_cast<int64_t>(q.scales.size()) != w.shape[static_cast<size_t>(oc_axis)]) {
      return InvalidArgument(what, ": the weights ", graph.DescribeTensor(t), " have ",
                             q.scales.size(), " scales along axis ", oc_axis, " of extent ",
                             w.shape[static_cast<size_t>(oc_axis)]);
    }
  } else if (q.axis != -1 || q.scales.size() != 1) {
    return InvalidArgument(what, ": the weights ", graph.DescribeTensor(t),
                           " are quantized per tensor (axis ", q.axis, ") with ", q.scales.size(),
                           " scales; per tensor means axis -1 and one scale");
  }
  for (size_t k = 0; k < q.scales.size(); ++k) {
    if (!std::isfinite(q.scales[k]) || !(q.scales[k] > 0.0f)) {
      return InvalidArgument(what, ": the weights ", graph.DescribeTensor(t), " have scale[", k,
                             "] = ", q.scales[k], "; a scale must be finite and > 0");
    }
    if (q.zero_points[k] != 0) {
      return InvalidArgument(what, ": the weights ", graph.DescribeTensor(t), " have zero_point[",
                             k, "] = ", q.zero_points[k],
                             "; INT16 weights are symmetric (zero point 0)");
    }
  }
  const int16_t* values = w.data->As<int16_t>();
  for (int64_t i = 0; i < count; ++i) {
    if (values[i] == -32768) {
      // The contract's range for INT16 weights (symmetric: -32768 has no counterpart).
      return InvalidArgument(what, ": the weights ", graph.DescribeTensor(t),
                             " hold -32768 at element ", i,
                             "; INT16 weights lie in [-32767, 32767]");
    }
  }
  *scales = q.scales;
  return Status::Ok();
}

}  // namespace

Status ReadInt16Config(const graph::Graph& graph, graph::NodeId id, int weights_oc_axis,
                       Int16Config* config) {
  const std::string what = graph.DescribeNode(id);
  const graph::Node& node = graph.nodes[id];
  const bool matmul = node.type == NodeType::kMatMul;
  const size_t max_inputs = matmul ? 3 : 4;
  if (node.inputs.size() < 2 || node.inputs.size() > max_inputs || node.outputs.size() != 1) {
    return InvalidArgument(what, ": has ", node.inputs.size(), " inputs and ", node.outputs.size(),
                           " outputs; the INT16 kernel takes x, the "
                           "weights, an optional bias",
                           matmul ? "" : ", an optional residual", " and produces one output");
  }
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const graph::TensorId t = node.inputs[i];
    if ((i < 2 || t != graph::kNoTensor) && !ValidId(graph, t)) {
      return InvalidArgument(what, ": input ", i, " is absent or out of range (tensor id ", t, ")");
    }
  }
  if (!ValidId(graph, node.outputs[0])) {
    return InvalidArgument(what, ": output tensor id ", node.outputs[0], " is out of range");
  }
  Int16Config c;
  // x.
  const graph::TensorId x_id = node.inputs[0];
  const graph::Tensor& x = graph.tensors[x_id];
  if (x.dtype != DataType::INT16) {
    return InvalidArgument(what, ": input 0 ", graph.DescribeTensor(x_id), " has type ",
                           DataTypeName(x.dtype), "; the INT16 kernel reads INT16");
  }
  if (x.is_constant()) {
    return Unimplemented(what, ": input 0 ", graph.DescribeTensor(x_id),
                         " is constant; the INT16 kernel takes it at run time (constant "
                         "subgraphs are folded by the builder)");
  }
  QSDK_RETURN_IF_ERROR(ReadInt16PerTensor(graph, id, x_id, "input 0", &c.x_scale, &c.x_zero_point));
  // Weights, and the multipliers M = s_x * s_w in float.
  std::vector<float> weight_scales;
  QSDK_RETURN_IF_ERROR(ReadInt16Weights(graph, id, weights_oc_axis, &weight_scales));
  for (float s : weight_scales) c.multipliers.push_back(c.x_scale * s);
  // Bias: a FLOAT32 constant (shape checked by the caller).
  const graph::TensorId b_id = node.inputs.size() > 2 ? node.inputs[2] : graph::kNoTensor;
  if (b_id != graph::kNoTensor) {
    const graph::Tensor& b = graph.tensors[b_id];
    if (!b.is_constant() || b.dtype != DataType::FLOAT32) {
      return InvalidArgument(what, ": the bias ", graph.DescribeTensor(b_id), " is ",
                             b.is_constant() ? "" : "not constant and ", DataTypeName(b.dtype),
                             "; an INT16 node's bias is a FLOAT32 constant");
    }
  }
  // Fused activation.
  c.activation = static_cast<ActivationType>(node.attrs.GetInt(
      graph::attr::kFusedActivation, static_cast<int64_t>(ActivationType::kNone)));
  c.alpha = static_cast<float>(node.attrs.GetFloat(graph::attr::kFusedAlpha, 0.0));
  c.beta = static_cast<float>(node.attrs.GetFloat(graph::attr::kFusedBeta, 0.0));
  QSDK_RETURN_IF_ERROR(reference::CheckActivation(what.c_str(), c.activation, c.alpha, c.beta,
                                                  /*allow_none=*/true));
  // Fused residual.
  const bool fused_sum = node.attrs.GetInt(graph::attr::kFusedSum, 0) != 0;
  if (fused_sum) {
    if (matmul) {
      return Unimplemented(what, ": attribute '", graph::attr::kFusedSum,
                           "' is set; a residual is fused into Conv / FullyConnected only");
    }
    if (node.inputs.size() != 4 || node.inputs[3] == graph::kNoTensor) {
      return InvalidArgument(what, ": attribute '", graph::attr::kFusedSum,
                             "' = 1 but input 3 (the residual) is missing");
    }
    const graph::TensorId r_id = node.inputs[3];
    const graph::Tensor& r = graph.tensors[r_id];
    if (r.dtype != DataType::FLOAT32 || r.is_constant()) {
      return Unimplemented(what, ": the residual ", graph.DescribeTensor(r_id), " is ",
                           r.is_constant() ? "constant " : "", DataTypeName(r.dtype),
                           "; the INT16 kernels take a FLOAT32 residual at run time");
    }
    c.residual = true;
  } else if (node.inputs.size() == 4 && node.inputs[3] != graph::kNoTensor) {
    return InvalidArgument(what, ": has a residual input but attribute '", graph::attr::kFusedSum,
                           "' is not 1");
  }
  // Output.
  const graph::TensorId y_id = node.outputs[0];
  const graph::Tensor& y = graph.tensors[y_id];
  if (y.dtype == DataType::INT16) {
    float s = 1.0f;
    QSDK_RETURN_IF_ERROR(ReadInt16PerTensor(graph, id, y_id, "output 0", &s, &c.output_zero_point));
    c.int16_output = true;
    c.output_inv_scale = reference::InverseScale(s);
  } else if (y.dtype != DataType::FLOAT32 || !y.quant.empty()) {
    return InvalidArgument(what, ": output 0 ", graph.DescribeTensor(y_id), " has type ",
                           DataTypeName(y.dtype), "; an INT16 node produces FLOAT32 or INT16");
  }
  SetEpilogueOp(&c);
  *config = std::move(c);
  return Status::Ok();
}

void SetEpilogueOp(Int16Config* config) {
  config->op.activation = static_cast<int32_t>(config->activation);
  config->op.alpha = config->alpha;
  config->op.beta = config->beta;
  config->op.int16_output = config->int16_output;
  config->op.output_inv_scale = config->output_inv_scale;
  config->op.output_zero_point = config->output_zero_point;
}

Status ReadFloatBias(const graph::Graph& graph, graph::NodeId id,
                     const std::vector<int64_t>* expected, std::vector<float>* bias) {
  bias->clear();
  const graph::Node& node = graph.nodes[id];
  const graph::TensorId b_id = node.inputs.size() > 2 ? node.inputs[2] : graph::kNoTensor;
  if (b_id == graph::kNoTensor) return Status::Ok();
  const std::string what = graph.DescribeNode(id);
  const graph::Tensor& b = graph.tensors[b_id];
  if (expected != nullptr && b.shape != *expected) {
    return InvalidArgument(what, ": the bias ", graph.DescribeTensor(b_id), " has shape ",
                           graph::ShapeToString(b.shape), "; it must be ",
                           graph::ShapeToString(*expected));
  }
  const int64_t count = graph::ElementCount(b.shape);
  if (count < 0 || b.data->size() != static_cast<size_t>(count) * sizeof(float)) {
    return InvalidArgument(what, ": the bias ", graph.DescribeTensor(b_id), " of shape ",
                           graph::ShapeToString(b.shape), " holds ", b.data->size(),
                           " bytes; FLOAT32 needs ", count < 0 ? 0 : count * 4);
  }
  const float* v = b.data->As<float>();
  bias->assign(v, v + count);
  return Status::Ok();
}

void RunInt16Epilogue(Int16GemmIsa isa, const Int16Config& config, const EpilogueRow& block,
                      int64_t count) {
  auto unit = [](int64_t step) { return step == 0 || step == 1; };
  if (IsAvx512(isa) && unit(block.correction_step) && unit(block.multiplier_step) &&
      unit(block.bias_step)) {
    internal::Int16EpilogueAvx512(config.op, block, count);
    return;
  }
  const ActivationType act = config.activation;
  const size_t out_size = config.int16_output ? sizeof(int16_t) : sizeof(float);
  for (int64_t r = 0; r < block.rows; ++r) {
    const int64_t* acc_row = block.acc + r * block.acc_row_stride;
    const int64_t* correction =
        block.correction != nullptr ? block.correction + r * block.correction_row_step : nullptr;
    const float* multiplier = block.multiplier + r * block.multiplier_row_step;
    const float* bias = block.bias != nullptr ? block.bias + r * block.bias_row_step : nullptr;
    const float* residual =
        block.residual != nullptr ? block.residual + r * block.residual_row_stride : nullptr;
    void* out =
        static_cast<char*>(block.out) + r * block.out_row_stride * static_cast<int64_t>(out_size);
    for (int64_t j = 0; j < count; ++j) {
      int64_t acc = acc_row[j];
      if (correction != nullptr) acc -= correction[j * block.correction_step];
      float v = static_cast<float>(acc) * multiplier[j * block.multiplier_step];
      if (bias != nullptr) v = v + bias[j * block.bias_step];
      if (residual != nullptr) v = v + residual[j];
      // The same expressions as reference::ApplyActivation (bit-identical); the other
      // activations call it.
      if (act == ActivationType::kRelu) {
        v = std::max(v, 0.0f);
      } else if (act != ActivationType::kNone) {
        v = reference::ApplyActivation(act, v, config.alpha, config.beta);
      }
      if (config.int16_output) {
        static_cast<int16_t*>(out)[j] = static_cast<int16_t>(reference::QuantizeValue(
            v, config.output_inv_scale, config.output_zero_point, DataType::INT16));
      } else {
        static_cast<float*>(out)[j] = v;
      }
    }
  }
}

Status CheckInt16InstantiateArgs(const InstantiateArgs& args, size_t inputs,
                                 const std::string& what) {
  if (args.engine == nullptr) return InvalidArgument(what, ": Instantiate without an engine");
  if (args.input_descs.size() != inputs) {
    return InvalidArgument(what, ": Instantiate got ", args.input_descs.size(),
                           " runtime input layouts; the kernel has ", inputs, " runtime inputs");
  }
  if (args.output_shapes.size() != 1 || graph::ElementCount(args.output_shapes[0]) < 0) {
    return InvalidArgument(what, ": Instantiate needs one concrete output shape");
  }
  return Status::Ok();
}

}  // namespace qsdk::runtime
