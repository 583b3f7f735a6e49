// Summaries of a build report shared by `qsdk build` and `qsdk inspect`.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "qsdk/build_report.h"

namespace qsdk::tools {

struct PrecisionCounts {
  int64_t int8 = 0;       // nodes computing in static INT8 (not counting inserted ones)
  int64_t fp32 = 0;       // nodes computing in FP32 (not counting inserted ones)
  // Every precision of the report's nodes ("INT8", "BFLOAT16", "INT8_EXPLICIT", ...),
  // inserted nodes excepted.
  std::map<std::string, int64_t> by_precision;
  int64_t inserted = 0;   // Quantize / Dequantize / Cast nodes added by the builder
  int64_t fell_back = 0;  // nodes whose request was replaced under policy "prefer"
};

PrecisionCounts CountPrecisions(const BuildReport& report);

// {"int8", "fp32", "by_precision", "inserted", "fell_back"}.
nlohmann::json PrecisionCountsJson(const PrecisionCounts& counts);

// "5 INT8, 2 FLOAT32 (+4 inserted Quantize/Dequantize/Cast)", precisions by count.
std::string DescribePrecisionCounts(const PrecisionCounts& counts);

// Parses a JSON document produced by the library (build report, build config); a
// document that does not parse becomes the string itself rather than an exception.
nlohmann::json ParseLibraryJson(const std::string& text);

}  // namespace qsdk::tools
