#include <map>
#include <new>

#include "api/model_impl.h"
#include "builder/build_options.h"
#include "builder/float_lowering.h"
#include "builder/passes/pass.h"
#include "builder/precision_assignment.h"
#include "builder/quantize_graph.h"
#include "builder/report.h"
#include "common/status_macros.h"
#include "graph/network_impl.h"
#include "graph/shape_inference.h"
#include "qsdk/builder.h"
#include "runtime/engine.h"

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

// The mode's parts: INT8 / INT16 for the quantizable nodes, the float type of the others.
void ApplyMode(PrecisionMode mode, QuantizationSettings* s) {
  s->int8_mode = mode == PrecisionMode::kQint8MixedFloat32 ||
                 mode == PrecisionMode::kQint8MixedFloat16 ||
                 mode == PrecisionMode::kQint8MixedBFloat16;
  s->int16_mode = mode == PrecisionMode::kQint16MixedFloat32 ||
                  mode == PrecisionMode::kQint16MixedFloat16;
  switch (mode) {
    case PrecisionMode::kForceFloat16:
    case PrecisionMode::kQint8MixedFloat16:
    case PrecisionMode::kQint16MixedFloat16: s->float_type = DataType::FLOAT16; break;
    case PrecisionMode::kForceBFloat16:
    case PrecisionMode::kQint8MixedBFloat16: s->float_type = DataType::BFLOAT16; break;
    default: s->float_type = DataType::FLOAT32; break;
  }
}

// Dynamic quantization per node: the global setting in the qint8 modes, then the
// custom_nodes rules in order (later wins).
std::vector<bool> DynamicNodes(const graph::Graph& g, const BuildOptions& options,
                               bool int8_mode) {
  std::vector<bool> dynamic(g.nodes.size(), false);
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const graph::Node& node = g.nodes[n];
    bool on = options.dynamic_quantization && int8_mode &&
              (node.type == NodeType::kFullyConnected || node.type == NodeType::kMatMul);
    for (const CustomNodeRule& rule : options.custom_nodes) {
      if (rule.Matches(node.name, node.type) && rule.dynamic_quantization >= 0) {
        on = rule.dynamic_quantization == 1;
      }
      if (rule.Matches(node.name, node.type) && rule.exclude) on = false;
    }
    dynamic[n] = on;
  }
  return dynamic;
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
    // Explicit quantization: the network's own Quantize / Dequantize nodes, folded into
    // quantized kernels with exactly their parameters (a no-op without such nodes).
    QdqFoldingNotes qdq_notes;
    QSDK_RETURN_IF_ERROR(FoldQdq(g.get(), &qdq_notes));

    // Precision: one decision per node, then the INT8 lowering.
    QuantizationSettings settings;
    ApplyMode(options.precision_mode, &settings);
    settings.bf16_supported = runtime::CpuRunsBf16(&settings.bf16_unsupported_reason);
    settings.dynamic = DynamicNodes(*g, options, settings.int8_mode);
    settings.strict = options.precision_policy == PrecisionPolicy::kStrict;
    settings.scheme = options.activation_scheme;
    settings.per_channel_weights = options.weight_granularity == WeightGranularity::kPerChannel;
    settings.keep_output_float = options.keep_output_float;
    std::vector<NodeDecision> decisions;
    QSDK_RETURN_IF_ERROR(AssignPrecisions(*g, settings, &decisions));
    std::map<std::string, NodeDecision> decision_by_name;
    bool uses_bf16 = false;
    for (size_t n = 0; n < decisions.size(); ++n) {
      decision_by_name[g->nodes[n].name] = decisions[n];
      uses_bf16 = uses_bf16 || decisions[n].compute == ComputePrecision::kBFloat16;
    }
    QSDK_RETURN_IF_ERROR(QuantizeGraph(g.get(), decisions, settings));
    QSDK_RETURN_IF_ERROR(LowerFloatTypes(g.get(), decisions));
    // The lowerings leave the FLOAT32 weights and unneeded Dequantize nodes unused.
    QSDK_RETURN_IF_ERROR(RemoveDeadNodes(g.get()));
    // The passes keep the graph valid; re-checking is cheap and guards the engine file.
    QSDK_RETURN_IF_ERROR(g->Validate());
    QSDK_RETURN_IF_ERROR(graph::InferShapes(g.get()));

    BuildReport report;
    QSDK_RETURN_IF_ERROR(MakeBuildReport(g, decision_by_name, options, &report));
    for (const std::string& line : qdq_notes.folded) report.notes.push_back("Q/DQ folded: " + line);
    for (const std::string& line : qdq_notes.kept) report.notes.push_back("Q/DQ kept: " + line);
    for (const std::string& line : qdq_notes.materialized) {
      report.notes.push_back("Q/DQ weights made FLOAT32: " + line);
    }

    engine_file::EngineMetadata metadata;
    metadata.model_name = name;
    metadata.build_config_json = config.ToJson();
    metadata.build_report_json = report.ToJson();
    // oneDNN dispatches to the best ISA at run time; every kernel has an x86-64 path
    // except BF16, which needs AVX512_BF16 (checked again when the engine is loaded).
    metadata.required_isa = uses_bf16 ? "avx512_core_bf16" : "x86_64";
    *model = std::make_unique<api::ModelImpl>(std::move(g), std::move(metadata), std::move(report));
    return Status::Ok();
  }
};

}  // namespace
}  // namespace builder

std::unique_ptr<IBuilder> CreateIBuilder() { return std::make_unique<builder::BuilderImpl>(); }

}  // namespace qsdk
