// Summary statistics of measured latencies, for `qsdk bench`.
#pragma once

#include <cstdint>
#include <vector>

namespace qsdk::tools {

struct LatencyStats {
  int64_t count = 0;
  double min = 0, max = 0, mean = 0;
  double p50 = 0, p90 = 0, p99 = 0;
};

// The p-th percentile (p in [0, 100]) of `sorted` (ascending, non-empty) with linear
// interpolation between the two nearest ranks, as numpy.percentile's default.
double Percentile(const std::vector<double>& sorted, double p);

// Statistics of `samples` (any order); all zero when empty.
LatencyStats ComputeLatencyStats(std::vector<double> samples);

}  // namespace qsdk::tools
