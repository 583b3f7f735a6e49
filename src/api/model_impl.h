// IModel implementation: an optimized, immutable graph plus the metadata stored with it.
// Made by the builder or by loading an engine file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine_file/engine_file.h"
#include "graph/graph.h"
#include "qsdk/model.h"

namespace qsdk::api {

class ModelImpl final : public IModel {
 public:
  // `report` is the parsed form of metadata.build_report_json.
  ModelImpl(std::shared_ptr<const graph::Graph> graph, engine_file::EngineMetadata metadata,
            BuildReport report)
      : graph_(std::move(graph)), metadata_(std::move(metadata)), report_(std::move(report)) {}

  const std::string& GetName() const override { return metadata_.model_name; }
  std::vector<TensorDesc> GetInputs() const override;
  std::vector<TensorDesc> GetOutputs() const override;
  Status SerializeToFile(const std::string& path) const override;
  Status SerializeToMemory(std::vector<uint8_t>* bytes) const override;
  std::string GetBuildConfigJson() const override { return metadata_.build_config_json; }
  const BuildReport& GetBuildReport() const override { return report_; }
  Status CreateIEngine(std::unique_ptr<IEngine>* engine) const override;

  const graph::Graph& graph() const { return *graph_; }
  const engine_file::EngineMetadata& metadata() const { return metadata_; }

 private:
  std::shared_ptr<const graph::Graph> graph_;
  engine_file::EngineMetadata metadata_;
  BuildReport report_;
};

// TensorDescs of the given graph tensors.
std::vector<TensorDesc> DescribeTensors(const graph::Graph& graph,
                                        const std::vector<graph::TensorId>& ids);

}  // namespace qsdk::api
