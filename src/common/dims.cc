#include "qsdk/dims.h"

#include <limits>

namespace qsdk {

int64_t Dims::GetDimValue(int64_t index) const {
  if (index < 0 || index >= GetDimsNum()) return 0;
  return dims_[static_cast<size_t>(index)];
}

int64_t Dims::GetElementCount() const {
  int64_t count = 1;
  for (int64_t d : dims_) {
    if (d < 0) return -1;
    if (d != 0 && count > std::numeric_limits<int64_t>::max() / d) return -1;
    count *= d;
  }
  return count;
}

bool Dims::IsFullyDefined() const {
  for (int64_t d : dims_) {
    if (d < 0) return false;
  }
  return true;
}

std::string Dims::ToString() const {
  std::string s = "[";
  for (size_t i = 0; i < dims_.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(dims_[i]);
  }
  return s + "]";
}

}  // namespace qsdk
