/// @file builder_config.h
/// @brief IBuilderConfig: the JSON configuration of a build (schema: docs/builder_config.md).
#pragma once

#include <memory>
#include <string>

#include "qsdk/status.h"

namespace qsdk {

/// @brief Global build options, parsed from JSON.
///
/// Example: `{"precision_config": {"precision_mode": "force_float32"}}`.
/// Parsing is strict: an unknown key or a value of the wrong type or range fails with a
/// status whose message gives the JSON path (e.g. `/precision_config/precision_mode`).
/// A failed parse leaves the configuration unchanged. Keys not given keep their current
/// values (defaults on a new object), so several documents can be layered.
///
/// Thread-safety: not thread-safe while being modified; a configuration that is no longer
/// modified may be read by several builds at once.
class IBuilderConfig {
 public:
  virtual ~IBuilderConfig() = default;
  /// @brief Applies the JSON document @p json.
  virtual Status ParseFromString(const std::string& json) = 0;
  /// @brief Reads and applies the JSON file at @p path.
  virtual Status ParseFromFile(const std::string& path) = 0;
  /// @brief The complete configuration (every key, defaults included) as JSON.
  virtual std::string ToJson() const = 0;
};

/// @brief Creates a configuration with every key at its default.
std::unique_ptr<IBuilderConfig> CreateIBuilderConfig();

}  // namespace qsdk
