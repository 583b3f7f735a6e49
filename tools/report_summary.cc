#include "report_summary.h"

namespace qsdk::tools {

PrecisionCounts CountPrecisions(const BuildReport& report) {
  PrecisionCounts counts;
  for (const NodeReport& node : report.nodes) {
    if (node.inserted) {
      ++counts.inserted;
    } else if (node.precision == "INT8") {
      ++counts.int8;
    } else {
      ++counts.fp32;
    }
    if (node.fell_back) ++counts.fell_back;
  }
  return counts;
}

nlohmann::json PrecisionCountsJson(const PrecisionCounts& counts) {
  return {{"int8", counts.int8},
          {"fp32", counts.fp32},
          {"inserted", counts.inserted},
          {"fell_back", counts.fell_back}};
}

std::string DescribePrecisionCounts(const PrecisionCounts& counts) {
  std::string text =
      std::to_string(counts.int8) + " INT8, " + std::to_string(counts.fp32) + " FP32";
  if (counts.inserted > 0) {
    text += " (+" + std::to_string(counts.inserted) + " inserted Quantize/Dequantize)";
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
