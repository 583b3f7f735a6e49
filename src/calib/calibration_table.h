// The calibration table: the ranges a calibration computed, tied to its network by a
// fingerprint. Stored as JSON (docs/calibration.md):
//   {"format": "qsdk-calibration-table", "version": 1, "fingerprint": "<16 hex>",
//    "algorithm": "entropy", "samples": 32,
//    "tensors": {"conv1": {"min": [-1.5], "max": [2.25], "axis": -1}, ...}}
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "graph/graph.h"
#include "qsdk/calibration.h"
#include "qsdk/status.h"

namespace qsdk::calib {

inline constexpr const char* kTableFormat = "qsdk-calibration-table";
inline constexpr int64_t kTableVersion = 1;

struct CalibrationTable {
  std::string fingerprint;  // NetworkFingerprint of the network calibrated
  CalibrationAlgorithm algorithm = CalibrationAlgorithm::kMinMax;
  int64_t samples = 0;  // batches the statistics came from (>= 1)
  // Range per tensor name (`manual` is always false here). Sorted: canonical JSON.
  std::map<std::string, graph::TensorRange> tensors;
};

// Parses an algorithm name ("minmax", ...); false when unknown.
bool ParseAlgorithmName(const std::string& name, CalibrationAlgorithm* algorithm);

// The table as indented JSON. Fails (instead of throwing) when a tensor name is not valid
// UTF-8, which JSON cannot carry.
Status TableToJson(const CalibrationTable& table, std::string* json);

// Parses and validates `text`: every key present with the right type, no unknown key,
// version 1, bounds finite as float, min <= max, one bound per tensor for axis -1.
// Messages start with `source` ("calibration table 'x.json'") and give the JSON path.
Status ParseTable(const std::string& text, const std::string& source, CalibrationTable* table);

// Writes / reads a table file.
Status WriteTableFile(const CalibrationTable& table, const std::string& path);
Status ReadTableFile(const std::string& path, CalibrationTable* table);

// Checks that `table` was made for `graph` (fingerprint) and that every tensor it names
// exists, is not constant and fits the range's axis; then writes the ranges: each
// non-constant tensor without a manual range gets the table's range or, when the table
// has none for it, an empty one. All-or-nothing. `source` names the table in messages.
Status ApplyTableToGraph(const CalibrationTable& table, const std::string& source,
                         graph::Graph* graph);

}  // namespace qsdk::calib
