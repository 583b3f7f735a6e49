#include "latency_stats.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>

namespace qsdk::tools {

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0.0;
  const double rank = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = rank - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

LatencyStats ComputeLatencyStats(std::vector<double> samples) {
  LatencyStats stats;
  if (samples.empty()) return stats;
  std::sort(samples.begin(), samples.end());
  stats.count = static_cast<int64_t>(samples.size());
  stats.min = samples.front();
  stats.max = samples.back();
  stats.mean =
      std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(samples.size());
  stats.p50 = Percentile(samples, 50);
  stats.p90 = Percentile(samples, 90);
  stats.p99 = Percentile(samples, 99);
  return stats;
}

}  // namespace qsdk::tools
