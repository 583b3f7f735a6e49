#include <new>

#include "api/model_impl.h"
#include "builder/build_options.h"
#include "builder/passes/pass.h"
#include "common/status_macros.h"
#include "graph/network_impl.h"
#include "graph/shape_inference.h"
#include "qsdk/builder.h"

namespace qsdk {
namespace builder {
namespace {

// The runtime of this version computes in FP32 only; precision requests are stored and
// serialized, but a request for anything else fails the build rather than being ignored.
Status CheckPrecisionRequests(const graph::Graph& graph) {
  for (graph::NodeId n = 0; n < static_cast<graph::NodeId>(graph.nodes.size()); ++n) {
    const graph::Node& node = graph.nodes[n];
    for (size_t i = 0; i < node.input_precisions.size(); ++i) {
      const DataType t = node.input_precisions[i];
      if (t != DataType::INVALID && t != DataType::FLOAT32) {
        return Unimplemented(graph.DescribeNode(n), ": SetPrecision(", i, ", ", DataTypeName(t),
                             ") cannot be honoured: this qsdk version computes in FLOAT32 "
                             "only (precision mode force_float32)");
      }
    }
    for (size_t i = 0; i < node.output_types.size(); ++i) {
      const DataType t = node.output_types[i];
      if (t != DataType::INVALID && t != DataType::FLOAT32) {
        return Unimplemented(graph.DescribeNode(n), ": SetOutputType(", i, ", ", DataTypeName(t),
                             ") cannot be honoured: this qsdk version computes in FLOAT32 "
                             "only (precision mode force_float32)");
      }
    }
  }
  for (graph::TensorId id : graph.inputs) {
    if (graph.tensors[id].dtype != DataType::FLOAT32) {
      return Unimplemented("network input ", graph.DescribeTensor(id), " has type ",
                           DataTypeName(graph.tensors[id].dtype),
                           "; this qsdk version accepts FLOAT32 inputs only");
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
    QSDK_RETURN_IF_ERROR(CheckPrecisionRequests(*g));

    if (options.constant_folding) QSDK_RETURN_IF_ERROR(FoldConstants(g.get()));
    if (options.batchnorm_folding) QSDK_RETURN_IF_ERROR(FoldBatchNorm(g.get()));
    if (options.activation_fusion) QSDK_RETURN_IF_ERROR(FuseActivations(g.get()));
    if (options.dead_node_removal) QSDK_RETURN_IF_ERROR(RemoveDeadNodes(g.get()));
    // The passes keep the graph valid; re-checking is cheap and guards the engine file.
    QSDK_RETURN_IF_ERROR(g->Validate());
    QSDK_RETURN_IF_ERROR(graph::InferShapes(g.get()));

    engine_file::EngineMetadata metadata;
    metadata.model_name = name;
    metadata.build_config_json = config.ToJson();
    // FP32 kernels run on any x86-64 CPU (oneDNN dispatches to the best ISA at run time).
    metadata.required_isa = "x86_64";
    *model = std::make_unique<api::ModelImpl>(std::move(g), std::move(metadata));
    return Status::Ok();
  }
};

}  // namespace
}  // namespace builder

std::unique_ptr<IBuilder> CreateIBuilder() { return std::make_unique<builder::BuilderImpl>(); }

}  // namespace qsdk
