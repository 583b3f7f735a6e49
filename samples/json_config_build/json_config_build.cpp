// json_config_build: a build driven entirely by a JSON configuration file — precision
// mode, policy, quantization scheme, per-node rules and calibration settings — with no
// precision decision in the code.
//
//   json_config_build MODEL.onnx CONFIG.json ENGINE
//
// It parses the ONNX model, reads CONFIG.json, calibrates on Fashion-MNIST training
// images with the calibration settings from the config when the mode is INT8, builds,
// serializes ENGINE and prints the build report: what each node runs in, and why.
#include <cstdio>
#include <string>
#include <vector>

#include "../common/fashion_mnist.h"
#include "qsdk/calibration.h"
#include "qsdk/onnx_parser.h"
#include "qsdk/qsdk.h"

namespace {

int Fail(const char* what, const qsdk::Status& status) {
  std::fprintf(stderr, "json_config_build: %s: %s\n", what, status.ToString().c_str());
  return 1;
}

// Calibration batches of 32 training images.
class TrainingImages : public qsdk::CalibDataInterface {
 public:
  explicit TrainingImages(std::vector<float> images) : images_(std::move(images)) {}
  qsdk::Dims GetShape() const override { return qsdk::Dims{kBatch, 1, 28, 28}; }
  qsdk::DataType GetDataType() const override { return qsdk::DataType::FLOAT32; }
  qsdk::Status Next() override {
    if ((index_ + 1) * kBatch * 784 > static_cast<int64_t>(images_.size())) {
      return qsdk::Status(qsdk::StatusCode::kOutOfRange, "no more training images");
    }
    ++index_;
    return qsdk::Status::Ok();
  }
  qsdk::Status Reset() override {
    index_ = -1;
    return qsdk::Status::Ok();
  }
  void* GetSample() override { return images_.data() + index_ * kBatch * 784; }

 private:
  static constexpr int64_t kBatch = 32;
  std::vector<float> images_;
  int64_t index_ = -1;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: json_config_build MODEL.onnx CONFIG.json ENGINE\n");
    return 2;
  }
  auto network = qsdk::CreateINetwork();
  qsdk::Status s = qsdk::CreateIParser()->ParseFromFile(argv[1], network.get());
  if (!s.ok()) return Fail("parsing the ONNX model", s);
  auto config = qsdk::CreateIBuilderConfig();
  s = config->ParseFromFile(argv[2]);
  if (!s.ok()) return Fail("reading the config", s);
  std::printf("configuration (every key, defaults included):\n%s\n", config->ToJson().c_str());

  if (config->ToJson().find("\"qint8_mixed_float32\"") != std::string::npos) {
    std::vector<float> images;
    std::vector<int> labels;
    std::string error;
    if (!samples::LoadFashionMnist(samples::kFashionMnistDir, true, &images, &labels, &error)) {
      std::fprintf(stderr, "json_config_build: %s\n", error.c_str());
      return 1;
    }
    TrainingImages data(std::move(images));
    qsdk::CalibrationOptions options;
    s = qsdk::CalibrationOptionsFromConfig(*config, &options);
    if (!s.ok()) return Fail("reading the calibration settings", s);
    s = qsdk::CreateICalibrator()->Calibrate(network.get(), {&data}, options);
    if (!s.ok()) return Fail("calibrating", s);
    std::printf("calibrated with %s\n", qsdk::CalibrationAlgorithmName(options.algorithm));
  }

  std::unique_ptr<qsdk::IModel> model;
  s = qsdk::CreateIBuilder()->BuildModel("json_config_build", *network, *config, &model);
  if (!s.ok()) return Fail("building", s);
  s = model->SerializeToFile(argv[3]);
  if (!s.ok()) return Fail("serializing", s);
  std::printf("wrote %s\n\n%-28s %-15s %-8s %-22s %s\n", argv[3], "node", "type", "runs",
              "kernel", "why");
  for (const qsdk::NodeReport& node : model->GetBuildReport().nodes) {
    std::printf("%-28s %-15s %-8s %-22s %s\n", node.name.c_str(), qsdk::NodeTypeName(node.type),
                node.precision.c_str(), node.kernel.c_str(), node.reason.c_str());
  }
  return 0;
}
