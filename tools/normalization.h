// Conversion of 8-bit images to the float input of a network: x / 255, then
// (x - mean) / std. The defaults are those of Fashion-MNIST's training set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "qsdk/status.h"

namespace qsdk::tools {

struct Normalization {
  // Fashion-MNIST training-set mean and standard deviation of x / 255.
  float mean = 0.2860f;
  float std = 0.3530f;
};

// Parses "MEAN,STD" (two finite numbers, STD > 0), e.g. "0.1307,0.3081". On failure the
// message says what is wrong and *out is unchanged.
Status ParseNormalization(const std::string& text, Normalization* out);

// out[i] = (in[i] / 255 - mean) / std for `count` values.
void NormalizeU8(const uint8_t* in, size_t count, const Normalization& norm, float* out);

// "mean 0.286, std 0.353".
std::string DescribeNormalization(const Normalization& norm);

}  // namespace qsdk::tools
