#include "report_summary.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace qsdk::tools {

PrecisionCounts CountPrecisions(const BuildReport& report) {
  PrecisionCounts counts;
  for (const NodeReport& node : report.nodes) {
    if (node.inserted) {
      ++counts.inserted;
      continue;
    }
    ++counts.by_precision[node.precision];
    if (node.precision == "INT8") ++counts.int8;
    if (node.precision == "FLOAT32") ++counts.fp32;
    if (node.fell_back) ++counts.fell_back;
  }
  return counts;
}

nlohmann::json PrecisionCountsJson(const PrecisionCounts& counts) {
  return {{"int8", counts.int8},
          {"fp32", counts.fp32},
          {"by_precision", counts.by_precision},
          {"inserted", counts.inserted},
          {"fell_back", counts.fell_back}};
}

std::string DescribePrecisionCounts(const PrecisionCounts& counts) {
  std::vector<std::pair<int64_t, std::string>> order;
  for (const auto& [precision, count] : counts.by_precision) order.push_back({-count, precision});
  std::sort(order.begin(), order.end());
  std::string text;
  for (const auto& [negative, precision] : order) {
    text += (text.empty() ? "" : ", ") + std::to_string(-negative) + " " + precision;
  }
  if (text.empty()) text = "0";
  if (counts.inserted > 0) {
    text += " (+" + std::to_string(counts.inserted) + " inserted Quantize/Dequantize/Cast)";
  }
  if (counts.fell_back > 0) {
    text += ", " + std::to_string(counts.fell_back) + " fell back (policy prefer)";
  }
  return text;
}

nlohmann::json ParseLibraryJson(const std::string& text) {
  nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return text;
  return value;
}

}  // namespace qsdk::tools
