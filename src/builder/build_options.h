// The parsed form of IBuilderConfig (schema: docs/builder_config.md).
#pragma once

#include <string>
#include <vector>

#include "qsdk/builder_config.h"

namespace qsdk::builder {

struct BuildOptions {
  std::string precision_mode = "force_float32";
  bool constant_folding = true;
  bool batchnorm_folding = true;
  bool activation_fusion = true;
  bool dead_node_removal = true;
};

// Every precision mode name qsdk knows, in documentation order.
const std::vector<std::string>& KnownPrecisionModes();
// The modes this version can build.
const std::vector<std::string>& SupportedPrecisionModes();

class BuilderConfigImpl final : public IBuilderConfig {
 public:
  Status ParseFromString(const std::string& json) override;
  Status ParseFromFile(const std::string& path) override;
  std::string ToJson() const override;

  const BuildOptions& options() const { return options_; }

 private:
  BuildOptions options_;
};

}  // namespace qsdk::builder
