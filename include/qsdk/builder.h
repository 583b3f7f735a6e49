/// @file builder.h
/// @brief IBuilder: turns an INetwork and an IBuilderConfig into an IModel.
#pragma once

#include <memory>
#include <string>

#include "qsdk/builder_config.h"
#include "qsdk/export.h"
#include "qsdk/model.h"
#include "qsdk/network.h"
#include "qsdk/status.h"

namespace qsdk {

/// @brief Builds optimized models.
///
/// BuildModel validates the network (every node, tensor and shape; cycles; outputs),
/// applies the graph passes (shape inference, constant folding, BatchNorm folding,
/// activation fusion, dead node removal) and returns a model ready to serialize or to
/// create an engine from. The network is only read: it may be changed and built again.
///
/// Thread-safety: one IBuilder may run one build at a time; use one builder per thread
/// to build in parallel.
class QSDK_API IBuilder {
 public:
  virtual ~IBuilder() = default;
  /// @brief Builds @p network with @p config into @p model (named @p name).
  ///        On failure *model is left unchanged and the status names the culprit.
  virtual Status BuildModel(const std::string& name, const INetwork& network,
                            const IBuilderConfig& config, std::unique_ptr<IModel>* model) = 0;
};

/// @brief Creates a builder.
QSDK_API std::unique_ptr<IBuilder> CreateIBuilder();

}  // namespace qsdk
