// IDX files (the MNIST / Fashion-MNIST format), gzip-compressed or raw.
//
// Layout: two zero bytes, an element type code, the number of dimensions, then one
// big-endian uint32 extent per dimension, then the data in C order. Only unsigned-byte
// data (type 0x08) is supported, which is what the MNIST-family image and label files
// use. The reader checks the magic, the dimensions and that the data is exactly as long
// as they say.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qsdk/status.h"

namespace qsdk::tools {

// An IDX array of unsigned bytes.
struct IdxArray {
  std::vector<int64_t> dims;  // e.g. [10000, 28, 28] for images, [10000] for labels
  std::vector<uint8_t> data;  // product(dims) bytes

  // Number of items (dims[0]).
  int64_t Count() const { return dims.empty() ? 0 : dims[0]; }
  // Elements per item: the product of dims[1:] (1 for labels).
  int64_t ItemSize() const;
};

// Reads the IDX file at `path`. Gzip-compressed files are recognized by their content
// (not their name) and decompressed on the fly; a plain file is read as is.
Status ReadIdx(const std::string& path, IdxArray* array);

// Parses a complete, uncompressed IDX file held in memory; `name` prefixes messages.
Status ParseIdx(const uint8_t* bytes, size_t size, const std::string& name, IdxArray* array);

// The Fashion-MNIST test set in `dir`: t10k-images-idx3-ubyte[.gz] and
// t10k-labels-idx1-ubyte[.gz] (the .gz name is tried first). Checks that the images are
// [N, H, W], the labels [N] with values in [0, 9], and that the counts agree.
Status ReadFashionMnistTest(const std::string& dir, IdxArray* images, IdxArray* labels);

}  // namespace qsdk::tools
