#include "calib/statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/status_macros.h"

namespace qsdk::calib {

int64_t Histogram::total() const {
  int64_t sum = 0;
  for (int64_t c : counts) sum += c;
  return sum;
}

TensorStatistics::TensorStatistics(int bins) {
  histogram_.counts.assign(static_cast<size_t>(std::max(bins, 1)), 0);
}

float TensorStatistics::abs_max() const { return std::max(std::fabs(min_), std::fabs(max_)); }

size_t TensorStatistics::MemoryBytes() const {
  return sizeof(*this) + histogram_.counts.capacity() * sizeof(int64_t) +
         (channel_min_.capacity() + channel_max_.capacity()) * sizeof(float);
}

Status TensorStatistics::Add(const float* data, const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t extent : shape) {
    if (extent < 0) return InvalidArgument("shape has a negative extent ", extent);
    n *= extent;
  }
  if (n == 0) return Status::Ok();
  // First pass: reject before touching any statistic, so a failed Add changes nothing.
  float lo = std::numeric_limits<float>::infinity();
  float hi = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) {
    const float v = data[i];
    if (!std::isfinite(v)) {
      return InvalidArgument("element ", i, " is ", v, "; calibration needs finite values");
    }
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (count_ == 0) {
    min_ = lo;
    max_ = hi;
  } else {
    min_ = std::min(min_, lo);
    max_ = std::max(max_, hi);
  }
  count_ += n;

  const double batch_abs_max = std::max(std::fabs(static_cast<double>(lo)),
                                        std::fabs(static_cast<double>(hi)));
  if (batch_abs_max > histogram_.range) GrowHistogram(batch_abs_max);
  std::vector<int64_t>& counts = histogram_.counts;
  const int64_t last = static_cast<int64_t>(counts.size()) - 1;
  const double per_unit =
      histogram_.range > 0.0 ? static_cast<double>(counts.size()) / histogram_.range : 0.0;
  int64_t zeros = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double a = std::fabs(static_cast<double>(data[i]));
    zeros += a == 0.0 ? 1 : 0;
    const auto bin = static_cast<int64_t>(a * per_unit);
    ++counts[static_cast<size_t>(std::min(bin, last))];
  }
  zeros_ += zeros;
  UpdateChannels(data, shape);
  return Status::Ok();
}

void TensorStatistics::GrowHistogram(double abs_max) {
  if (histogram_.range == 0.0) {
    // Everything so far was 0, in bin 0, which still holds 0 at any width.
    histogram_.range = abs_max;
    return;
  }
  std::vector<int64_t>& counts = histogram_.counts;
  const size_t bins = counts.size();
  while (histogram_.range < abs_max) {
    // New bin j covers old bins 2j and 2j+1; in place, since 2j >= j.
    for (size_t j = 0; j < bins; ++j) {
      const size_t a = 2 * j;
      const size_t b = 2 * j + 1;
      counts[j] = (a < bins ? counts[a] : 0) + (b < bins ? counts[b] : 0);
    }
    histogram_.range *= 2.0;
  }
}

void TensorStatistics::UpdateChannels(const float* data, const std::vector<int64_t>& shape) {
  if (!channels_valid_) return;
  const auto give_up = [this]() {
    channels_valid_ = false;
    std::vector<float>().swap(channel_min_);
    std::vector<float>().swap(channel_max_);
  };
  if (shape.size() < 2) return give_up();
  const int64_t channels = shape[1];
  if (channel_min_.empty()) {
    channel_min_.assign(static_cast<size_t>(channels), std::numeric_limits<float>::infinity());
    channel_max_.assign(static_cast<size_t>(channels), -std::numeric_limits<float>::infinity());
  } else if (static_cast<int64_t>(channel_min_.size()) != channels) {
    return give_up();
  }
  int64_t inner = 1;
  for (size_t d = 2; d < shape.size(); ++d) inner *= shape[d];
  const float* p = data;
  for (int64_t o = 0; o < shape[0]; ++o) {
    for (int64_t c = 0; c < channels; ++c) {
      float lo = channel_min_[static_cast<size_t>(c)];
      float hi = channel_max_[static_cast<size_t>(c)];
      for (int64_t i = 0; i < inner; ++i) {
        lo = std::min(lo, p[i]);
        hi = std::max(hi, p[i]);
      }
      channel_min_[static_cast<size_t>(c)] = lo;
      channel_max_[static_cast<size_t>(c)] = hi;
      p += inner;
    }
  }
}

}  // namespace qsdk::calib
