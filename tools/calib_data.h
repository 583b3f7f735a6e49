// Calibration data read from files, for `qsdk build --calib DATA` (docs/cli.md).
//
// DATA is one of:
//  - a directory: every regular file whose name ends in ".npy", sorted by name (byte
//    order), one batch per file;
//  - a file whose name ends in ".npy": one batch;
//  - anything else: an IDX image file (gzip-compressed or raw, e.g. Fashion-MNIST's
//    train-images-idx3-ubyte.gz), cut into batches of `batch` images (the last batch is
//    smaller when the input's batch extent is dynamic, dropped when it is fixed).
//
// float32 .npy data is used as is. uint8 data (IDX files, '|u1' .npy) is converted with
// x / 255 then (x - mean) / std (normalization.h). Batches are fitted to the input with
// the per-sample rule of batch_shape.h, so [N,28,28] images feed a [-1,1,28,28] input.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "normalization.h"
#include "qsdk/calibration.h"
#include "qsdk/dims.h"
#include "qsdk/status.h"

namespace qsdk::tools {

// Options shared by every calibration source.
struct CalibDataSettings {
  // Given by --calib-normalize; the Fashion-MNIST default applies to uint8 data when
  // absent. Giving it for float32 data is an error (that data is already normalized).
  std::optional<Normalization> normalization;
  int64_t batch = 32;  // images per batch for IDX data (when the input batch is dynamic)
};

// A CalibDataInterface over files, with the number of batches known up front.
class FileCalibData : public CalibDataInterface {
 public:
  // Batches this source yields (before any max_samples limit).
  virtual int64_t BatchCount() const = 0;
  // "12 .npy files in 'calib/', one batch each", "IDX 'x.gz': 10000 images, 313 batches
  // of 32, uint8 normalized (mean 0.286, std 0.353)", ...
  virtual std::string Describe() const = 0;
};

// Opens `path` as calibration data for the network input `input_name` of `input_dims`,
// which must be FLOAT32. Directory / file checks happen here (a directory without .npy
// files, an unreadable IDX file, a fixed batch larger than the images available); each
// batch's content is checked when it is read, with the file named in the message.
Status OpenCalibData(const std::string& path, const std::string& input_name, DataType input_type,
                     const Dims& input_dims, const CalibDataSettings& settings,
                     std::unique_ptr<FileCalibData>* data);

}  // namespace qsdk::tools
