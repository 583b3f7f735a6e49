#include "calib_data.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "batch_shape.h"
#include "idx_dataset.h"
#include "npy.h"
#include "status_util.h"

namespace qsdk::tools {
namespace {

namespace fs = std::filesystem;

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Status OutOfData() { return Status(StatusCode::kOutOfRange, "no more calibration batches"); }

// One batch per .npy file.
class NpyFilesCalibData final : public FileCalibData {
 public:
  NpyFilesCalibData(std::vector<std::string> files, std::string description, std::string input,
                    Dims dims, CalibDataSettings settings)
      : files_(std::move(files)),
        description_(std::move(description)),
        input_(std::move(input)),
        dims_(std::move(dims)),
        settings_(settings) {}

  int64_t BatchCount() const override { return static_cast<int64_t>(files_.size()); }
  std::string Describe() const override { return description_; }
  Dims GetShape() const override { return Dims(shape_); }
  DataType GetDataType() const override { return DataType::FLOAT32; }
  void* GetSample() override { return values_.data(); }
  Status Reset() override {
    next_ = 0;
    return Status::Ok();
  }

  Status Next() override {
    if (next_ >= files_.size()) return OutOfData();
    const std::string& path = files_[next_++];
    NpyArray array;
    QSDK_TOOL_RETURN_IF_ERROR(ReadNpy(path, &array));
    const std::string what = "calibration file '" + path + "'";
    QSDK_TOOL_RETURN_IF_ERROR(FitBatchShape(array.shape, what, input_, dims_, &shape_));
    const size_t count = static_cast<size_t>(array.ElementCount());
    values_.resize(count);
    if (array.dtype == NpyDType::kFloat32) {
      if (settings_.normalization) {
        return InvalidArgumentStatus(what +
                                     " is float32; --calib-normalize applies to uint8 "
                                     "data only (float data is used as is)");
      }
      std::copy_n(reinterpret_cast<const float*>(array.data.data()), count, values_.data());
    } else if (array.dtype == NpyDType::kUInt8) {
      NormalizeU8(array.data.data(), count, settings_.normalization.value_or(Normalization{}),
                  values_.data());
    } else {
      return InvalidArgumentStatus(what + " has dtype " + NpyDTypeName(array.dtype) +
                                   "; calibration data must be float32 ('<f4') or uint8 "
                                   "('|u1', normalized)");
    }
    return Status::Ok();
  }

 private:
  std::vector<std::string> files_;
  std::string description_;
  std::string input_;
  Dims dims_;
  CalibDataSettings settings_;
  size_t next_ = 0;
  std::vector<int64_t> shape_;
  std::vector<float> values_;
};

// Batches of normalized images from an IDX file.
class IdxCalibData final : public FileCalibData {
 public:
  IdxCalibData(IdxArray images, std::string path, std::vector<int64_t> sample_shape, int64_t batch,
               bool keep_partial, Normalization norm)
      : images_(std::move(images)),
        path_(std::move(path)),
        sample_shape_(std::move(sample_shape)),
        batch_(batch),
        norm_(norm) {
    const int64_t n = images_.Count();
    batches_ = keep_partial ? (n + batch_ - 1) / batch_ : n / batch_;
  }

  int64_t BatchCount() const override { return batches_; }
  std::string Describe() const override {
    return "IDX '" + path_ + "': " + std::to_string(images_.Count()) + " images, " +
           std::to_string(batches_) + " batches of " + std::to_string(batch_) +
           ", uint8 normalized (" + DescribeNormalization(norm_) + ")";
  }
  Dims GetShape() const override { return Dims(shape_); }
  DataType GetDataType() const override { return DataType::FLOAT32; }
  void* GetSample() override { return values_.data(); }
  Status Reset() override {
    next_ = 0;
    return Status::Ok();
  }

  Status Next() override {
    if (next_ >= batches_) return OutOfData();
    const int64_t first = next_ * batch_;
    const int64_t count = std::min(batch_, images_.Count() - first);
    const int64_t per_image = images_.ItemSize();
    values_.resize(static_cast<size_t>(count * per_image));
    NormalizeU8(images_.data.data() + first * per_image, values_.size(), norm_, values_.data());
    shape_ = sample_shape_;
    shape_[0] = count;
    ++next_;
    return Status::Ok();
  }

 private:
  IdxArray images_;
  std::string path_;
  std::vector<int64_t> sample_shape_;  // the input's shape; [0] is set per batch
  int64_t batch_;
  Normalization norm_;
  int64_t batches_ = 0, next_ = 0;
  std::vector<int64_t> shape_;
  std::vector<float> values_;
};

Status ListNpyFiles(const std::string& dir, std::vector<std::string>* files) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (EndsWith(name, ".npy") && it->is_regular_file(ec)) files->push_back(it->path().string());
  }
  if (ec) {
    return Status(StatusCode::kIoError,
                  "cannot list calibration directory '" + dir + "': " + ec.message());
  }
  if (files->empty()) {
    return Status(StatusCode::kNotFound, "calibration directory '" + dir + "' has no .npy files");
  }
  std::sort(files->begin(), files->end());
  return Status::Ok();
}

}  // namespace

Status OpenCalibData(const std::string& path, const std::string& input_name, DataType input_type,
                     const Dims& input_dims, const CalibDataSettings& settings,
                     std::unique_ptr<FileCalibData>* data) {
  if (input_type != DataType::FLOAT32) {
    return InvalidArgumentStatus("input '" + input_name + "' is " + DataTypeName(input_type) +
                                 "; calibration from files supports FLOAT32 inputs only");
  }
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    return Status(StatusCode::kNotFound, "calibration data '" + path + "' does not exist");
  }
  if (fs::is_directory(status)) {
    std::vector<std::string> files;
    QSDK_TOOL_RETURN_IF_ERROR(ListNpyFiles(path, &files));
    const std::string description =
        std::to_string(files.size()) + " .npy files in '" + path + "', one batch each";
    *data = std::make_unique<NpyFilesCalibData>(std::move(files), description, input_name,
                                                input_dims, settings);
    return Status::Ok();
  }
  if (EndsWith(path, ".npy")) {
    // Check the header now, so that a wrong file fails before anything else runs.
    NpyArray header;
    QSDK_TOOL_RETURN_IF_ERROR(ReadNpyHeader(path, &header));
    *data = std::make_unique<NpyFilesCalibData>(std::vector<std::string>{path},
                                                "'" + path + "': one batch", input_name, input_dims,
                                                settings);
    return Status::Ok();
  }
  IdxArray images;
  QSDK_TOOL_RETURN_IF_ERROR(ReadIdx(path, &images));
  const std::string what = "calibration IDX file '" + path + "'";
  std::vector<int64_t> shape;
  QSDK_TOOL_RETURN_IF_ERROR(FitBatchShape(
      [&] {  // one sample's shape with batch 1, to check the per-sample fit
        std::vector<int64_t> s = images.dims;
        s[0] = 1;
        return s;
      }(),
      what, input_name,
      [&] {  // a fixed batch is checked below, against the batch size
        std::vector<int64_t> d = input_dims.GetDims();
        if (!d.empty()) d[0] = -1;
        return Dims(d);
      }(),
      &shape));
  const std::vector<int64_t>& dims = input_dims.GetDims();
  const bool fixed_batch = dims[0] >= 0;
  const int64_t batch = fixed_batch ? dims[0] : settings.batch;
  if (batch < 1) {
    return InvalidArgumentStatus("calibration batch size " + std::to_string(batch) +
                                 " must be >= 1");
  }
  if (images.Count() < batch || images.Count() == 0) {
    return InvalidArgumentStatus(what + " has " + std::to_string(images.Count()) +
                                 " images; input '" + input_name + "' needs batches of " +
                                 std::to_string(batch));
  }
  *data = std::make_unique<IdxCalibData>(std::move(images), path, shape, batch, !fixed_batch,
                                         settings.normalization.value_or(Normalization{}));
  return Status::Ok();
}

}  // namespace qsdk::tools
