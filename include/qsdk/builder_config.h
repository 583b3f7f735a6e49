/// @file builder_config.h
/// @brief IBuilderConfig: the JSON configuration of a build (schema, every key with its
///        default: docs/precision_config.md).
#pragma once

#include <memory>
#include <string>

#include "qsdk/export.h"
#include "qsdk/status.h"

namespace qsdk {

/// @brief Global build options, parsed from JSON.
///
/// Three sections: `precision_config` (the precision mode, e.g. `"qint8_mixed_float32"`,
/// the policy for requests no kernel can honour, the quantization scheme, per-node and
/// per-op-type rules in `custom_nodes`, hand-set tensor ranges in `custom_ranges`),
/// `calibration` (algorithm and its parameters) and `graph_optimization` (one switch per
/// pass). Example:
/// @code{.json}
/// {"precision_config": {"precision_mode": "qint8_mixed_float32",
///                       "custom_nodes": [{"name": "fc_last", "exclude": true}]}}
/// @endcode
///
/// Parsing is strict: an unknown key or a value of the wrong type or range fails with a
/// status whose message gives the JSON path (e.g. `/precision_config/custom_nodes/2/op_type`)
/// and, for a name, lists the valid ones. A reserved precision mode this version cannot
/// build fails with StatusCode::kUnimplemented. A failed parse leaves the configuration
/// unchanged. Keys not given keep their current values (defaults on a new object), so
/// several documents can be layered; `custom_nodes` and `custom_ranges` given in a later
/// document replace the earlier ones whole. Node and tensor names are checked against
/// the network by IBuilder::BuildModel, not here.
///
/// Precedence, highest first: INode::SetPrecision / INode::SetOutputType, then the
/// `custom_nodes` rules (later rules win), then the precision mode.
///
/// Thread-safety: not thread-safe while being modified; a configuration that is no longer
/// modified may be read by several builds at once.
class QSDK_API IBuilderConfig {
 public:
  virtual ~IBuilderConfig() = default;
  /// @brief Applies the JSON document @p json.
  virtual Status ParseFromString(const std::string& json) = 0;
  /// @brief Reads and applies the JSON file at @p path.
  virtual Status ParseFromFile(const std::string& path) = 0;
  /// @brief The complete configuration (every key, defaults included) as JSON; parsing
  ///        it into a new configuration gives the same configuration.
  virtual std::string ToJson() const = 0;
};

/// @brief Creates a configuration with every key at its default.
QSDK_API std::unique_ptr<IBuilderConfig> CreateIBuilderConfig();

}  // namespace qsdk
