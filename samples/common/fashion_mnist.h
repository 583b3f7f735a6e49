// Fashion-MNIST for the samples: reads the idx files (gzip-compressed, as Debian's
// dataset-fashion-mnist ships them, or raw) and normalizes images the way
// models/fmnist_resnet.onnx was trained (models/README.md). Header-only; needs zlib.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace samples {

// Where Debian's dataset-fashion-mnist package puts the files.
inline const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Normalization of models/fmnist_resnet.onnx: x / 255, then (x - mean) / std.
constexpr float kFashionMnistMean = 0.2860f;
constexpr float kFashionMnistStd = 0.3530f;

// Reads a whole idx file (gzip or raw: zlib reads both). Returns false with `error` set.
inline bool ReadIdx(const std::string& path, std::vector<uint32_t>* dims,
                    std::vector<uint8_t>* data, std::string* error) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    *error = "cannot open '" + path + "'";
    return false;
  }
  auto read = [&](void* dst, unsigned size) {
    return gzread(file, dst, size) == static_cast<int>(size);
  };
  uint8_t magic[4];
  bool ok = read(magic, 4) && magic[0] == 0 && magic[1] == 0 && magic[2] == 0x08 &&
            magic[3] >= 1 && magic[3] <= 3;
  uint64_t count = 1;
  dims->clear();
  for (int i = 0; ok && i < magic[3]; ++i) {
    uint8_t b[4];
    ok = read(b, 4);
    const uint32_t d = (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | b[3];
    dims->push_back(d);
    count *= d;
    ok = ok && count <= (uint64_t(1) << 31);
  }
  if (ok) {
    data->resize(count);
    ok = read(data->data(), static_cast<unsigned>(count));
  }
  gzclose(file);
  if (!ok) *error = "'" + path + "' is not a valid idx file of unsigned bytes";
  return ok;
}

// Test or training images as normalized floats [N, 1, 28, 28], and their labels.
inline bool LoadFashionMnist(const std::string& dir, bool train, std::vector<float>* images,
                             std::vector<int>* labels, std::string* error) {
  const std::string prefix = dir + (train ? "/train" : "/t10k");
  std::vector<uint32_t> idims, ldims;
  std::vector<uint8_t> pixels, classes;
  if (!ReadIdx(prefix + "-images-idx3-ubyte.gz", &idims, &pixels, error)) return false;
  if (!ReadIdx(prefix + "-labels-idx1-ubyte.gz", &ldims, &classes, error)) return false;
  if (idims.size() != 3 || idims[1] != 28 || idims[2] != 28 || ldims.size() != 1 ||
      ldims[0] != idims[0]) {
    *error = "unexpected Fashion-MNIST shapes in " + dir;
    return false;
  }
  images->resize(pixels.size());
  for (size_t i = 0; i < pixels.size(); ++i) {
    (*images)[i] = (pixels[i] / 255.0f - kFashionMnistMean) / kFashionMnistStd;
  }
  labels->assign(classes.begin(), classes.end());
  return true;
}

// The ten class names, in label order.
inline const char* FashionMnistClass(int label) {
  static const char* names[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return label >= 0 && label < 10 ? names[label] : "?";
}

}  // namespace samples
