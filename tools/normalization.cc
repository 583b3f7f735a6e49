#include "normalization.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace qsdk::tools {
namespace {

bool ParseFloat(const std::string& text, float* value) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const float v = std::strtof(text.c_str(), &end);
  if (errno != 0 || end != text.c_str() + text.size() || !std::isfinite(v)) return false;
  *value = v;
  return true;
}

}  // namespace

Status ParseNormalization(const std::string& text, Normalization* out) {
  const size_t comma = text.find(',');
  Normalization n;
  if (comma == std::string::npos || !ParseFloat(text.substr(0, comma), &n.mean) ||
      !ParseFloat(text.substr(comma + 1), &n.std)) {
    return Status(StatusCode::kInvalidArgument,
                  "'" + text + "' is not MEAN,STD (two finite numbers, e.g. 0.2860,0.3530)");
  }
  if (!(n.std > 0.0f)) {
    return Status(StatusCode::kInvalidArgument, "'" + text + "': STD must be > 0");
  }
  *out = n;
  return Status::Ok();
}

void NormalizeU8(const uint8_t* in, size_t count, const Normalization& norm, float* out) {
  // The order of torchvision's ToTensor then Normalize (x / 255 first), the usual
  // training-time preprocessing.
  for (size_t i = 0; i < count; ++i) {
    out[i] = (static_cast<float>(in[i]) / 255.0f - norm.mean) / norm.std;
  }
}

std::string DescribeNormalization(const Normalization& norm) {
  char text[64];
  std::snprintf(text, sizeof(text), "mean %g, std %g", norm.mean, norm.std);
  return text;
}

}  // namespace qsdk::tools
