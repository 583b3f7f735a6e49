#include "builder/report.h"

#include <cstdio>

#include "common/status_macros.h"
#include "runtime/engine.h"

namespace qsdk::builder {
namespace {

// The precision a tensor is granted, as the user names it: QINT8 / QUINT8 for quantized
// activations, INT8 / INT32 for quantized weights and biases, FLOAT32 otherwise.
DataType Granted(const graph::Tensor& t) {
  if (t.quant.empty()) return t.dtype;
  if (t.is_constant()) return t.dtype;
  if (t.dtype == DataType::INT8) return DataType::QINT8;
  if (t.dtype == DataType::UINT8) return DataType::QUINT8;
  return t.dtype;
}

std::string Describe(const graph::QuantParams& q) {
  if (q.empty()) return "";
  if (q.axis >= 0) return StrCat("per-channel axis ", q.axis, ": ", q.scales.size(), " scales");
  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), "scale=%.6g zero_point=%d", q.scales[0],
                static_cast<int>(q.zero_points[0]));
  return buffer;
}

TensorPrecisionReport TensorEntry(const graph::Graph& g, graph::TensorId id, DataType requested) {
  TensorPrecisionReport r;
  r.tensor = g.tensors[id].name;
  r.requested = requested;
  r.granted = Granted(g.tensors[id]);
  r.quantization = Describe(g.tensors[id].quant);
  return r;
}

// Zero-filled inputs at batch 1 (every dynamic extent 1).
std::vector<Tensor> ProbeInputs(const graph::Graph& g) {
  std::vector<qsdk::Tensor> inputs;
  for (graph::TensorId id : g.inputs) {
    std::vector<int64_t> shape = g.tensors[id].shape;
    for (int64_t& d : shape) d = d < 0 ? 1 : d;
    inputs.push_back(qsdk::Tensor::Allocate(g.tensors[id].dtype, Dims(shape), g.tensors[id].name));
  }
  return inputs;
}

}  // namespace

Status MakeBuildReport(std::shared_ptr<const graph::Graph> graph,
                       const std::map<std::string, NodeDecision>& decisions,
                       const BuildOptions& options, BuildReport* report) {
  const graph::Graph& g = *graph;
  BuildReport r;
  r.precision_mode = PrecisionModeName(options.precision_mode);
  r.precision_policy = PrecisionPolicyName(options.precision_policy);

  // Kernels and reorders come from the runtime itself, so the report says what runs.
  std::unique_ptr<IEngine> engine;
  QSDK_RETURN_IF_ERROR(runtime::CreateEngine(graph, &engine));
  std::vector<std::pair<std::string, std::string>> kernels;
  QSDK_RETURN_IF_ERROR(runtime::GetKernelNames(*engine, &kernels));
  std::map<std::string, std::string> kernel_of(kernels.begin(), kernels.end());
  std::unique_ptr<IContext> context;
  QSDK_RETURN_IF_ERROR(engine->CreateIContext(&context));
  std::vector<qsdk::Tensor> outputs;
  QSDK_RETURN_IF_ERROR(context->Execute(ProbeInputs(g), &outputs));
  std::vector<runtime::ReorderRecord> reorders;
  QSDK_RETURN_IF_ERROR(runtime::GetLastPlanReorders(*context, &reorders));
  for (const auto& rec : reorders) r.reorders.push_back({rec.tensor, rec.consumer, rec.from, rec.to});

  std::vector<graph::NodeId> order;
  QSDK_RETURN_IF_ERROR(g.TopologicalOrder(&order));
  for (graph::NodeId n : order) {
    const graph::Node& node = g.nodes[n];
    if (node.type == NodeType::kConst) continue;
    NodeReport nr;
    nr.name = node.name;
    nr.type = node.type;
    auto it = decisions.find(node.name);
    if (it != decisions.end()) {
      nr.precision = ComputePrecisionName(it->second.compute);
      nr.reason = it->second.reason;
      nr.fell_back = it->second.fell_back;
    } else {
      nr.inserted = true;
      nr.precision = node.type == NodeType::kQuantize ? "INT8" : "FLOAT32";
      if (node.type == NodeType::kCast) {
        nr.precision = DataTypeName(g.tensors[node.outputs[0]].dtype);
        nr.reason = StrCat("inserted: ", DataTypeName(g.tensors[node.inputs[0]].dtype), " -> ",
                           DataTypeName(g.tensors[node.outputs[0]].dtype),
                           " at a precision boundary");
      } else {
        nr.reason = "inserted at a precision boundary";
      }
    }
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      if (node.inputs[i] == graph::kNoTensor) continue;
      nr.inputs.push_back(TensorEntry(g, node.inputs[i], node.input_precisions[i]));
    }
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      nr.outputs.push_back(TensorEntry(g, node.outputs[i], node.output_types[i]));
    }
    auto k = kernel_of.find(node.name);
    nr.kernel = k == kernel_of.end() ? "" : k->second;
    const auto act = static_cast<ActivationType>(node.attrs.GetInt(graph::attr::kFusedActivation));
    if (node.attrs.GetInt(graph::attr::kFusedSum) != 0 && node.inputs.size() > 3) {
      nr.fused.push_back(StrCat("residual add of '", g.tensors[node.inputs[3]].name, "'"));
    }
    if (act != ActivationType::kNone) nr.fused.push_back(ActivationTypeName(act));
    r.nodes.push_back(std::move(nr));
  }
  *report = std::move(r);
  return Status::Ok();
}

}  // namespace qsdk::builder
