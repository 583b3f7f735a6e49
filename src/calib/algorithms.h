// Calibration algorithms: pure functions from a tensor's statistics to its range.
//
// Entropy, percentile and MSE choose a threshold t on |x| from the histogram; the range is
// then the observed range clipped to [-t, t]: [max(min, -t), min(max, t)]. Every range
// contains 0 (so that 0 is exactly representable): a tensor whose values are all >= 0
// gets min 0, one whose values are all <= 0 gets max 0. See docs/calibration.md.
#pragma once

#include <cstdint>

#include "calib/statistics.h"
#include "graph/graph.h"
#include "qsdk/calibration.h"
#include "qsdk/status.h"

namespace qsdk::calib {

// Number of quantized bins of the KL reference (TensorRT: 128, one per int8 magnitude).
inline constexpr int kEntropyQuantizedBins = 128;
// Quantization steps between 0 and t assumed by the MSE search: a signed tensor maps
// [-t, t] to int8 [-127, 127]; a non-negative one maps [0, t] to uint8 [0, 255].
inline constexpr int kSignedLevels = 127;
inline constexpr int kUnsignedLevels = 255;
// The entropy and MSE searches evaluate at most this many thresholds (every bin edge with
// the default 2048 bins; evenly strided edges with more).
inline constexpr int kMaxThresholdCandidates = 2048;

// The threshold minimizing KL(P || Q), where P is the histogram up to a candidate bin edge
// with the mass beyond it added to its last bin, and Q is that histogram merged into
// `quantized_bins` groups, each group's mass spread evenly over its non-empty bins
// (TensorRT's entropy calibration; both smoothed as in MXNet so that KL stays finite).
// Candidates are the bin edges i * width for i >= quantized_bins. 0 for an empty or
// all-zero histogram.
double EntropyThreshold(const Histogram& histogram, int quantized_bins);

// The smallest t such that `percentile` percent of the values have |x| <= t, interpolated
// linearly inside the bin. 0 for an empty or all-zero histogram.
double PercentileThreshold(const Histogram& histogram, double percentile);

// The expected squared error per value of quantizing |x| with `levels` uniform steps over
// [0, threshold] (round to nearest; values above threshold clip to it), with the values of
// each bin spread uniformly over the bin, except the `zeros` exact zeros counted in bin 0,
// which cost nothing. Computed in closed form per bin.
double ExpectedQuantizationError(const Histogram& histogram, int64_t zeros, double threshold,
                                 int levels);

// The bin edge t minimizing ExpectedQuantizationError. 0 for an empty or all-zero
// histogram.
double MseThreshold(const Histogram& histogram, int64_t zeros, int levels);

// The range of the tensor described by `stats` under `options` (algorithm, percentile,
// per_channel), as a per-tensor range or, for kMinMax with per_channel and channel
// statistics, a per-channel range along axis 1. Fails when no value was seen.
Status ComputeRange(const TensorStatistics& stats, const CalibrationOptions& options,
                    graph::TensorRange* range);

}  // namespace qsdk::calib
