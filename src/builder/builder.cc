#include <map>
#include <new>

#include "api/model_impl.h"
#include "builder/build_options.h"
#include "builder/passes/pass.h"
#include "builder/precision_assignment.h"
#include "builder/quantize_graph.h"
#include "builder/report.h"
#include "common/status_macros.h"
#include "graph/network_impl.h"
#include "graph/shape_inference.h"
#include "qsdk/builder.h"

namespace qsdk {
namespace builder {
namespace {

// /precision_config/custom_ranges: hand-set ranges, checked against the network. A range
// set on the tensor itself (ITensor::SetDynamicRange) wins, like a node's own requests win
// over custom_nodes.
Status ApplyCustomRanges(graph::Graph* g, const BuildOptions& options) {
  for (const auto& [name, range] : options.custom_ranges) {
    const std::string path = StrCat("builder config /precision_config/custom_ranges/", name);
    const graph::TensorId t = g->FindTensor(name);
    if (t == graph::kNoTensor) {
      return InvalidArgument(path, ": the network has no tensor named '", name, "'");
    }
    const std::vector<int64_t>& shape = g->tensors[t].shape;
    if (range.axis >= static_cast<int32_t>(shape.size())) {
      return InvalidArgument(path, ": axis ", range.axis, " is out of range for shape ",
                             graph::ShapeToString(shape));
    }
    if (range.axis >= 0 && shape[range.axis] != static_cast<int64_t>(range.min.size())) {
      return InvalidArgument(path, ": ", range.min.size(), " values for axis ", range.axis,
                             " of extent ", shape[range.axis]);
    }
    if (g->tensors[t].range.manual) continue;
    graph::TensorRange r;
    r.min = range.min;
    r.max = range.max;
    r.axis = range.axis;
    r.manual = true;
    g->tensors[t].range = std::move(r);
  }
  return Status::Ok();
}

// /precision_config/custom_nodes: rules in order (later wins, field by field), then the
// node's own SetPrecision / SetOutputType requests win over every rule.
Status ApplyCustomNodeRules(graph::Graph* g, const BuildOptions& options) {
  for (size_t i = 0; i < options.custom_nodes.size(); ++i) {
    const CustomNodeRule& rule = options.custom_nodes[i];
    if (!rule.name.empty() && g->FindNode(rule.name) == graph::kNoNode) {
      return InvalidArgument("builder config /precision_config/custom_nodes/", i,
                             ": the network has no node named '", rule.name, "'");
    }
  }
  for (graph::Node& node : g->nodes) {
    if (node.type == NodeType::kConst) continue;
    DataType precision = DataType::INVALID, output = DataType::INVALID;
    for (const CustomNodeRule& rule : options.custom_nodes) {
      if (!rule.Matches(node.name, node.type)) continue;
      if (rule.exclude) precision = output = DataType::FLOAT32;
      if (rule.precision != DataType::INVALID) precision = rule.precision;
      if (rule.output_type != DataType::INVALID) output = rule.output_type;
    }
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const graph::TensorId t = node.inputs[i];
      if (precision == DataType::INVALID || t == graph::kNoTensor || g->tensors[t].is_constant()) {
        continue;
      }
      if (node.input_precisions[i] == DataType::INVALID) node.input_precisions[i] = precision;
    }
    if (output != DataType::INVALID && node.output_types[0] == DataType::INVALID) {
      node.output_types[0] = output;
    }
  }
  return Status::Ok();
}

class BuilderImpl final : public IBuilder {
 public:
  Status BuildModel(const std::string& name, const INetwork& network,
                    const IBuilderConfig& config, std::unique_ptr<IModel>* model) override {
    try {
      return Build(name, network, config, model);
    } catch (const std::bad_alloc&) {
      return Status(StatusCode::kResourceExhausted, StrCat("BuildModel '", name, "': out of memory"));
    } catch (const std::exception& e) {
      return InternalError("BuildModel '", name, "': ", e.what());
    }
  }

 private:
  Status Build(const std::string& name, const INetwork& network, const IBuilderConfig& config,
               std::unique_ptr<IModel>* model) {
    if (model == nullptr) return InvalidArgument("BuildModel: the output model pointer is null");
    const auto* net = dynamic_cast<const graph::NetworkImpl*>(&network);
    if (net == nullptr) {
      return InvalidArgument("BuildModel: the network was not created by qsdk::CreateINetwork");
    }
    const auto* cfg = dynamic_cast<const BuilderConfigImpl*>(&config);
    if (cfg == nullptr) {
      return InvalidArgument("BuildModel: the config was not created by qsdk::CreateIBuilderConfig");
    }
    const BuildOptions& options = cfg->options();

    auto g = std::make_shared<graph::Graph>(net->graph());
    QSDK_RETURN_IF_ERROR(g->Validate());
    QSDK_RETURN_IF_ERROR(graph::InferShapes(g.get()));
    for (graph::TensorId id : g->inputs) {
      if (g->tensors[id].dtype != DataType::FLOAT32) {
        return Unimplemented("network input ", g->DescribeTensor(id), " has type ",
                             DataTypeName(g->tensors[id].dtype),
                             "; this qsdk version accepts FLOAT32 inputs only");
      }
    }
    QSDK_RETURN_IF_ERROR(ApplyCustomRanges(g.get(), options));
    QSDK_RETURN_IF_ERROR(ApplyCustomNodeRules(g.get(), options));

    if (options.constant_folding) QSDK_RETURN_IF_ERROR(FoldConstants(g.get()));
    if (options.batchnorm_folding) QSDK_RETURN_IF_ERROR(FoldBatchNorm(g.get()));
    if (options.residual_fusion) QSDK_RETURN_IF_ERROR(FuseResiduals(g.get()));
    if (options.activation_fusion) QSDK_RETURN_IF_ERROR(FuseActivations(g.get()));
    if (options.dead_node_removal) QSDK_RETURN_IF_ERROR(RemoveDeadNodes(g.get()));

    // Precision: one decision per node, then the INT8 lowering.
    QuantizationSettings settings;
    settings.int8_mode = options.precision_mode == PrecisionMode::kQint8MixedFloat32;
    settings.strict = options.precision_policy == PrecisionPolicy::kStrict;
    settings.scheme = options.activation_scheme;
    settings.per_channel_weights = options.weight_granularity == WeightGranularity::kPerChannel;
    settings.keep_output_float = options.keep_output_float;
    std::vector<NodeDecision> decisions;
    QSDK_RETURN_IF_ERROR(AssignPrecisions(*g, settings, &decisions));
    std::map<std::string, NodeDecision> decision_by_name;
    bool any_int8 = false;
    for (size_t n = 0; n < decisions.size(); ++n) {
      decision_by_name[g->nodes[n].name] = decisions[n];
      any_int8 = any_int8 || decisions[n].int8;
    }
    if (any_int8) {
      QSDK_RETURN_IF_ERROR(QuantizeGraph(g.get(), decisions, settings));
      // The lowering leaves the FLOAT32 weights and unneeded Dequantize nodes unused.
      QSDK_RETURN_IF_ERROR(RemoveDeadNodes(g.get()));
    }
    // The passes keep the graph valid; re-checking is cheap and guards the engine file.
    QSDK_RETURN_IF_ERROR(g->Validate());
    QSDK_RETURN_IF_ERROR(graph::InferShapes(g.get()));

    BuildReport report;
    QSDK_RETURN_IF_ERROR(MakeBuildReport(g, decision_by_name, options, &report));

    engine_file::EngineMetadata metadata;
    metadata.model_name = name;
    metadata.build_config_json = config.ToJson();
    metadata.build_report_json = report.ToJson();
    // oneDNN dispatches to the best ISA at run time; every kernel has an x86-64 path.
    metadata.required_isa = "x86_64";
    *model = std::make_unique<api::ModelImpl>(std::move(g), std::move(metadata), std::move(report));
    return Status::Ok();
  }
};

}  // namespace
}  // namespace builder

std::unique_ptr<IBuilder> CreateIBuilder() { return std::make_unique<builder::BuilderImpl>(); }

}  // namespace qsdk
