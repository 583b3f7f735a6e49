#include "calib/calibration_graph.h"

#include <unordered_set>

#include "builder/passes/pass.h"
#include "common/status_macros.h"
#include "graph/shape_inference.h"

namespace qsdk::calib {

Status BuildCalibrationGraph(const graph::Graph& network_graph, CalibrationGraph* out) {
  auto g = std::make_shared<graph::Graph>(network_graph);
  QSDK_RETURN_IF_ERROR(g->Validate());
  QSDK_RETURN_IF_ERROR(graph::InferShapes(g.get()));
  // The builder's default pass pipeline, in its order (src/builder/builder.cc).
  QSDK_RETURN_IF_ERROR(builder::FoldConstants(g.get()));
  QSDK_RETURN_IF_ERROR(builder::FoldBatchNorm(g.get()));
  QSDK_RETURN_IF_ERROR(builder::FuseResiduals(g.get()));
  QSDK_RETURN_IF_ERROR(builder::FuseActivations(g.get()));
  QSDK_RETURN_IF_ERROR(builder::RemoveDeadNodes(g.get()));
  QSDK_RETURN_IF_ERROR(g->Validate());
  QSDK_RETURN_IF_ERROR(graph::InferShapes(g.get()));

  std::unordered_set<std::string> network_names;
  for (const graph::Tensor& t : network_graph.tensors) {
    if (!t.is_constant()) network_names.insert(t.name);
  }
  CalibrationGraph result;
  for (graph::TensorId t = 0; t < static_cast<graph::TensorId>(g->tensors.size()); ++t) {
    const graph::Tensor& tensor = g->tensors[t];
    // Constants are weights (quantized from their own values, not calibrated); a tensor a
    // pass created has no network tensor to hold its range.
    if (tensor.is_constant() || tensor.producer == graph::kNoNode ||
        network_names.count(tensor.name) == 0) {
      continue;
    }
    size_t index = 0;
    while (index < g->outputs.size() && g->outputs[index] != t) ++index;
    if (index == g->outputs.size()) g->outputs.push_back(t);
    result.observed.push_back(t);
    result.output_index.push_back(index);
  }
  result.graph = std::move(g);
  *out = std::move(result);
  return Status::Ok();
}

}  // namespace qsdk::calib
