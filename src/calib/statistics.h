// Streaming statistics of one tensor over calibration batches: running min / max (per
// tensor and per channel along axis 1), the count of exact zeros, and a histogram of |x|.
// Memory depends on the number of bins and channels only, never on the number of batches.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "qsdk/status.h"

namespace qsdk::calib {

// Histogram of |x| over [0, range): counts.size() bins of width range / bins; |x| == range
// goes to the last bin. `range` is 0 until a non-zero value is seen (every value so far is
// then 0 and counted in bin 0).
struct Histogram {
  std::vector<int64_t> counts;
  double range = 0.0;

  double bin_width() const {
    return counts.empty() ? 0.0 : range / static_cast<double>(counts.size());
  }
  int64_t total() const;
};

class TensorStatistics {
 public:
  // `bins` >= 1 (the calibrator allows [128, 65536]).
  explicit TensorStatistics(int bins);

  // Adds one batch of `shape` (concrete, element count = product of extents) at `data`.
  // A non-finite value fails with a message giving its element index and value (the
  // caller prefixes the tensor and sample); the statistics are then unchanged.
  Status Add(const float* data, const std::vector<int64_t>& shape);

  // Number of values seen.
  int64_t count() const { return count_; }
  // Number of values exactly 0 (representable without error by any range containing 0).
  int64_t zeros() const { return zeros_; }
  float min() const { return min_; }
  float max() const { return max_; }
  // max(|min|, |max|).
  float abs_max() const;
  const Histogram& histogram() const { return histogram_; }

  // Per-channel min / max along axis 1. Available when every batch had rank >= 2 and the
  // same extent along axis 1.
  bool has_channels() const { return channels_valid_ && !channel_min_.empty(); }
  const std::vector<float>& channel_min() const { return channel_min_; }
  const std::vector<float>& channel_max() const { return channel_max_; }

  // Bytes held by this object (buffer capacities included): constant once the first batch
  // sized the per-channel vectors, whatever the number of batches.
  size_t MemoryBytes() const;

 private:
  // Widens the histogram range to cover `abs_max` by doubling it, merging adjacent bins
  // pairwise at each doubling: counts stay exact, resolution halves (TensorRT's scheme).
  void GrowHistogram(double abs_max);
  void UpdateChannels(const float* data, const std::vector<int64_t>& shape);

  int64_t count_ = 0;
  int64_t zeros_ = 0;
  float min_ = 0.0f;
  float max_ = 0.0f;
  Histogram histogram_;
  std::vector<float> channel_min_;
  std::vector<float> channel_max_;
  bool channels_valid_ = true;
};

}  // namespace qsdk::calib
