#include "calib/algorithms.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "common/status_macros.h"

namespace qsdk::calib {
namespace {

bool IsEmpty(const Histogram& histogram) {
  return histogram.counts.empty() || histogram.range <= 0.0 || histogram.total() == 0;
}

// Candidate bin-edge indices from `first` to `bins` (inclusive), at most
// kMaxThresholdCandidates of them, always including `bins` (no clipping).
std::vector<size_t> Candidates(size_t first, size_t bins) {
  std::vector<size_t> out;
  if (first > bins) first = bins;
  const size_t span = bins - first;
  const size_t stride = std::max<size_t>(1, (span + kMaxThresholdCandidates - 1) /
                                                kMaxThresholdCandidates);
  for (size_t i = first; i < bins; i += stride) out.push_back(i);
  out.push_back(bins);
  return out;
}

// MXNet's _smooth_distribution: moves a small mass eps onto every empty bin, taken evenly
// from the non-empty ones, so that KL(P || Q) is finite. False when there is no non-empty
// bin or the non-empty bins are too light to give eps away.
bool Smooth(std::vector<double>* dist, size_t size) {
  constexpr double kEps = 1e-4;
  size_t zeros = 0;
  for (size_t k = 0; k < size; ++k) zeros += (*dist)[k] == 0.0 ? 1 : 0;
  const size_t nonzeros = size - zeros;
  if (nonzeros == 0) return false;
  const double eps1 = kEps * static_cast<double>(zeros) / static_cast<double>(nonzeros);
  for (size_t k = 0; k < size; ++k) {
    double& v = (*dist)[k];
    v = v == 0.0 ? kEps : v - eps1;
    if (v <= 0.0) return false;
  }
  return true;
}

// Integral over [0, x] of the squared rounding error (u - step * round(u / step))^2. The
// integrand has period `step` and integrates to step^3 / 12 over one period.
double RoundingErrorIntegral(double x, double step) {
  const double periods = std::floor(x / step);
  const double r = x - periods * step;
  const double cube = step * step * step;
  double partial;
  if (r <= step / 2) {
    partial = r * r * r / 3.0;  // integral of u^2 over [0, r]
  } else {
    const double d = r - step;  // integral of (u - step)^2 over [step / 2, r]
    partial = cube / 24.0 + (d * d * d + cube / 8.0) / 3.0;
  }
  return periods * cube / 12.0 + partial;
}

}  // namespace

double EntropyThreshold(const Histogram& histogram, int quantized_bins) {
  if (IsEmpty(histogram) || quantized_bins < 1) return 0.0;
  const std::vector<int64_t>& h = histogram.counts;
  const size_t bins = h.size();
  const auto levels = static_cast<size_t>(quantized_bins);
  // suffix[i] = mass in bins [i, bins): what clipping at edge i moves into bin i - 1.
  std::vector<double> suffix(bins + 1, 0.0);
  for (size_t i = bins; i-- > 0;) suffix[i] = suffix[i + 1] + static_cast<double>(h[i]);

  std::vector<double> p(bins), q(bins);
  double best_kl = std::numeric_limits<double>::infinity();
  size_t best = bins;
  for (size_t i : Candidates(std::min(levels, bins), bins)) {
    if (i == 0) continue;
    for (size_t k = 0; k < i; ++k) p[k] = static_cast<double>(h[k]);
    p[i - 1] += suffix[i];
    // Q: bins [0, i) merged into `levels` groups (the last takes the remainder), each
    // group's mass spread over its non-empty bins; empty bins stay empty.
    const size_t groups = std::min(levels, i);
    const size_t per_group = i / groups;
    for (size_t g = 0; g < groups; ++g) {
      const size_t start = g * per_group;
      const size_t stop = g + 1 == groups ? i : start + per_group;
      double mass = 0.0;
      size_t nonempty = 0;
      for (size_t k = start; k < stop; ++k) {
        mass += static_cast<double>(h[k]);
        nonempty += h[k] != 0 ? 1 : 0;
      }
      for (size_t k = start; k < stop; ++k) {
        q[k] = h[k] != 0 ? mass / static_cast<double>(nonempty) : 0.0;
      }
    }
    if (!Smooth(&p, i) || !Smooth(&q, i)) continue;
    double p_sum = 0.0, q_sum = 0.0;
    for (size_t k = 0; k < i; ++k) {
      p_sum += p[k];
      q_sum += q[k];
    }
    double kl = 0.0;
    for (size_t k = 0; k < i; ++k) {
      const double pk = p[k] / p_sum;
      kl += pk * std::log(pk / (q[k] / q_sum));
    }
    if (kl < best_kl) {
      best_kl = kl;
      best = i;
    }
  }
  return static_cast<double>(best) * histogram.bin_width();
}

double PercentileThreshold(const Histogram& histogram, double percentile) {
  if (IsEmpty(histogram)) return 0.0;
  const std::vector<int64_t>& h = histogram.counts;
  const double target = std::clamp(percentile, 0.0, 100.0) / 100.0 *
                        static_cast<double>(histogram.total());
  const double width = histogram.bin_width();
  double below = 0.0;
  for (size_t b = 0; b < h.size(); ++b) {
    const auto c = static_cast<double>(h[b]);
    if (c > 0.0 && below + c >= target) {
      return (static_cast<double>(b) + (target - below) / c) * width;
    }
    below += c;
  }
  return histogram.range;
}

double ExpectedQuantizationError(const Histogram& histogram, int64_t zeros, double threshold,
                                 int levels) {
  if (IsEmpty(histogram) || threshold <= 0.0 || levels < 1) return 0.0;
  const std::vector<int64_t>& h = histogram.counts;
  const double width = histogram.bin_width();
  const double step = threshold / levels;
  const double at_threshold = RoundingErrorIntegral(threshold, step);
  double error = 0.0;
  for (size_t b = 0; b < h.size(); ++b) {
    const int64_t n = h[b] - (b == 0 ? zeros : 0);
    if (n <= 0) continue;
    const double lo = static_cast<double>(b) * width;
    const double hi = lo + width;
    double integral = 0.0;
    if (lo < threshold) {
      const double top = std::min(hi, threshold);
      integral += (top == threshold ? at_threshold : RoundingErrorIntegral(top, step)) -
                  RoundingErrorIntegral(lo, step);
    }
    if (hi > threshold) {
      const double from = std::max(lo, threshold) - threshold;
      const double to = hi - threshold;
      integral += (to * to * to - from * from * from) / 3.0;  // clipped to the threshold
    }
    error += static_cast<double>(n) / width * integral;
  }
  return error / static_cast<double>(histogram.total());
}

double MseThreshold(const Histogram& histogram, int64_t zeros, int levels) {
  if (IsEmpty(histogram)) return 0.0;
  const size_t bins = histogram.counts.size();
  const double width = histogram.bin_width();
  double best_error = std::numeric_limits<double>::infinity();
  double best = histogram.range;
  for (size_t i : Candidates(1, bins)) {
    const double t = static_cast<double>(i) * width;
    const double error = ExpectedQuantizationError(histogram, zeros, t, levels);
    if (error < best_error) {
      best_error = error;
      best = t;
    }
  }
  return best;
}

Status ComputeRange(const TensorStatistics& stats, const CalibrationOptions& options,
                    graph::TensorRange* range) {
  if (stats.count() == 0) return InvalidArgument("no value was observed");
  graph::TensorRange out;
  out.axis = -1;
  if (options.algorithm == CalibrationAlgorithm::kMinMax) {
    if (options.per_channel && stats.has_channels()) {
      out.axis = 1;
      for (float v : stats.channel_min()) out.min.push_back(std::min(v, 0.0f));
      for (float v : stats.channel_max()) out.max.push_back(std::max(v, 0.0f));
    } else {
      out.min = {std::min(stats.min(), 0.0f)};
      out.max = {std::max(stats.max(), 0.0f)};
    }
    *range = std::move(out);
    return Status::Ok();
  }
  double threshold = 0.0;
  switch (options.algorithm) {
    case CalibrationAlgorithm::kEntropy:
      threshold = EntropyThreshold(stats.histogram(), kEntropyQuantizedBins);
      break;
    case CalibrationAlgorithm::kPercentile:
      threshold = PercentileThreshold(stats.histogram(), options.percentile);
      break;
    case CalibrationAlgorithm::kMse:
      threshold = MseThreshold(stats.histogram(), stats.zeros(),
                               stats.min() < 0.0f ? kSignedLevels : kUnsignedLevels);
      break;
    default:
      return InvalidArgument("unknown calibration algorithm ",
                             static_cast<int>(options.algorithm));
  }
  const auto t = static_cast<float>(std::min<double>(threshold, stats.abs_max()));
  out.min = {stats.min() >= 0.0f ? 0.0f : std::max(stats.min(), -t)};
  out.max = {stats.max() <= 0.0f ? 0.0f : std::min(stats.max(), t)};
  *range = std::move(out);
  return Status::Ok();
}

}  // namespace qsdk::calib
