// int8_calibration: post-training static INT8 quantization of a network built in C++.
//
//  1. Build a small CNN with the API: a stem conv, a depthwise + pointwise block, two
//     branches joined by a concat, a residual add, pooling and a classifier.
//  2. Calibrate it on synthetic images with a CalibDataInterface subclass (99.99th
//     percentile by default) and save the calibration table.
//  3. Build an FP32 engine and an INT8 engine (qint8_mixed_float32), serialize both,
//     load them back and run both on the same evaluation images.
//  4. Print the build report (which nodes run INT8, with which kernel) and how well
//     INT8 agrees with FP32: top-1 agreement and cosine similarity of the logits.
//
// Usage: int8_calibration [OUT_DIR] [ALGORITHM]   (defaults: . percentile;
//        ALGORITHM: minmax | entropy | percentile | mse)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "qsdk/qsdk.h"

namespace {

constexpr int64_t kClasses = 8;
constexpr int64_t kImageSize = 24;

void Check(const qsdk::Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "int8_calibration: %s failed: %s\n", what, status.ToString().c_str());
    std::exit(1);
  }
}

template <typename T>
T* CheckNode(T* node, qsdk::INetwork* network, const char* what) {
  if (node == nullptr) Check(network->GetLastError(), what);
  return node;
}

// Synthetic data: each class is a fixed random pattern; an image is its class pattern
// plus noise. Same seed, same images.
class ImageSource {
 public:
  explicit ImageSource(uint32_t seed) : rng_(seed) {
    std::normal_distribution<float> value(0.0f, 1.0f);
    patterns_.resize(kClasses, std::vector<float>(3 * kImageSize * kImageSize));
    std::mt19937 pattern_rng(1234);  // the classes are the same for every source
    for (auto& p : patterns_) {
      for (float& v : p) v = value(pattern_rng);
    }
  }
  // Fills `batch` images into `out` and returns their classes.
  std::vector<int64_t> Fill(int64_t batch, float* out) {
    std::uniform_int_distribution<int64_t> pick(0, kClasses - 1);
    std::normal_distribution<float> noise(0.0f, 0.7f);
    std::vector<int64_t> labels;
    const size_t image = patterns_[0].size();
    for (int64_t n = 0; n < batch; ++n) {
      const int64_t c = pick(rng_);
      labels.push_back(c);
      for (size_t i = 0; i < image; ++i) out[n * image + i] = patterns_[c][i] + noise(rng_);
    }
    return labels;
  }

 private:
  std::mt19937 rng_;
  std::vector<std::vector<float>> patterns_;
};

// The user's calibration data: `batches` batches of `batch` synthetic images.
class SyntheticCalibData : public qsdk::CalibDataInterface {
 public:
  SyntheticCalibData(int64_t batch, int64_t batches)
      : batch_(batch), batches_(batches), source_(99),
        buffer_(static_cast<size_t>(batch * 3 * kImageSize * kImageSize)) {}
  qsdk::Dims GetShape() const override { return qsdk::Dims{batch_, 3, kImageSize, kImageSize}; }
  qsdk::DataType GetDataType() const override { return qsdk::DataType::FLOAT32; }
  qsdk::Status Next() override {
    if (index_ >= batches_) return qsdk::Status(qsdk::StatusCode::kOutOfRange, "no more batches");
    source_.Fill(batch_, buffer_.data());
    ++index_;
    return qsdk::Status::Ok();
  }
  qsdk::Status Reset() override {
    index_ = 0;
    source_ = ImageSource(99);
    return qsdk::Status::Ok();
  }
  void* GetSample() override { return buffer_.data(); }

 private:
  int64_t batch_, batches_, index_ = 0;
  ImageSource source_;
  std::vector<float> buffer_;
};

class Weights {
 public:
  explicit Weights(qsdk::INetwork* network) : network_(network), rng_(7) {}
  qsdk::ITensor* He(const qsdk::Dims& dims, int64_t fan_in) {
    std::normal_distribution<float> dist(0.0f, std::sqrt(2.0f / static_cast<float>(fan_in)));
    return Make(dims, [&] { return dist(rng_); });
  }
  qsdk::ITensor* Uniform(const qsdk::Dims& dims, float lo, float hi) {
    std::uniform_real_distribution<float> dist(lo, hi);
    return Make(dims, [&] { return dist(rng_); });
  }

 private:
  template <typename Fn>
  qsdk::ITensor* Make(const qsdk::Dims& dims, Fn next) {
    std::vector<float> data(static_cast<size_t>(dims.GetElementCount()));
    for (float& v : data) v = next();
    auto* node = network_->AddIConstNode(qsdk::DataType::FLOAT32, dims, data.data());
    return CheckNode(node, network_, "AddIConstNode")->GetOutput(0);
  }
  qsdk::INetwork* network_;
  std::mt19937 rng_;
};

std::unique_ptr<qsdk::INetwork> BuildNetwork() {
  auto network = qsdk::CreateINetwork();
  qsdk::INetwork* net = network.get();
  Weights w(net);
  auto conv = [&](qsdk::ITensor* x, int64_t in_c, int64_t out_c, int64_t k, int64_t stride,
                  int64_t group, const char* name) {
    auto* node = CheckNode(net->AddIConvNode(x, w.He({out_c, in_c / group, k, k}, in_c / group * k * k),
                                             w.Uniform({out_c}, -0.05f, 0.05f)),
                           net, "AddIConvNode");
    Check(node->SetNodeName(name), "SetNodeName");
    Check(node->SetStride(stride, stride), "SetStride");
    Check(node->SetPad(k / 2, k / 2, k / 2, k / 2), "SetPad");
    Check(node->SetGroup(group), "SetGroup");
    return node->GetOutput(0);
  };
  auto relu = [&](qsdk::ITensor* x) {
    return CheckNode(net->AddIActivationNode(x, qsdk::ActivationType::kRelu), net, "relu")
        ->GetOutput(0);
  };

  qsdk::ITensor* image = net->AddInput(qsdk::DataType::FLOAT32, qsdk::Dims{-1, 3, kImageSize, kImageSize});
  Check(image->SetTensorName("image"), "SetTensorName");
  qsdk::ITensor* stem = relu(conv(image, 3, 16, 3, 1, 1, "stem"));
  // Depthwise 3x3 (per-channel scales matter most here) then pointwise 1x1.
  qsdk::ITensor* dw = relu(conv(stem, 16, 16, 3, 1, 16, "depthwise"));
  qsdk::ITensor* pw = conv(dw, 16, 16, 1, 1, 1, "pointwise");
  // Residual: relu(pointwise + stem), fused into the pointwise conv as a sum post-op.
  auto* add = CheckNode(net->AddIElementwiseNode(pw, stem, qsdk::ElementwiseOp::kAdd), net, "add");
  qsdk::ITensor* block = relu(add->GetOutput(0));
  auto* pool = CheckNode(net->AddIPoolNode(block, qsdk::PoolMode::kMax), net, "pool");
  Check(pool->SetKernel(2, 2), "SetKernel");
  Check(pool->SetStride(2, 2), "SetStride");
  // Two branches joined by a concat: one scale for the concat's inputs.
  qsdk::ITensor* a = relu(conv(pool->GetOutput(0), 16, 16, 1, 1, 1, "branch_a"));
  qsdk::ITensor* b = relu(conv(pool->GetOutput(0), 16, 16, 3, 1, 1, "branch_b"));
  auto* cat = CheckNode(net->AddIConcatNode({a, b}, 1), net, "concat");
  qsdk::ITensor* down = relu(conv(cat->GetOutput(0), 32, 32, 3, 2, 1, "down"));
  auto* gap = CheckNode(net->AddIPoolNode(down, qsdk::PoolMode::kGlobalAverage), net, "gap");
  auto* flat = CheckNode(net->AddIFlattenNode(gap->GetOutput(0), 1), net, "flatten");
  auto* fc = CheckNode(net->AddIFullyConnectedNode(flat->GetOutput(0), w.He({kClasses, 32}, 32),
                                                   w.Uniform({kClasses}, -0.05f, 0.05f)),
                       net, "classifier");
  Check(fc->SetNodeName("classifier"), "SetNodeName");
  Check(fc->GetOutput(0)->SetTensorName("logits"), "SetTensorName");
  Check(net->MarkOutput(fc->GetOutput(0)), "MarkOutput");
  return network;
}

std::unique_ptr<qsdk::IContext> LoadAndPrepare(const std::string& path,
                                               std::unique_ptr<qsdk::IModel>* model,
                                               std::unique_ptr<qsdk::IEngine>* engine) {
  Check(qsdk::DeserializeModelFromFile(path, model), "DeserializeModelFromFile");
  Check((*model)->CreateIEngine(engine), "CreateIEngine");
  std::unique_ptr<qsdk::IContext> context;
  Check((*engine)->CreateIContext(&context), "CreateIContext");
  return context;
}

void BuildAndSave(const qsdk::INetwork& network, const std::string& json, const std::string& path) {
  auto config = qsdk::CreateIBuilderConfig();
  Check(config->ParseFromString(json), "ParseFromString");
  std::unique_ptr<qsdk::IModel> model;
  Check(qsdk::CreateIBuilder()->BuildModel("int8_calibration", network, *config, &model),
        "BuildModel");
  Check(model->SerializeToFile(path), "SerializeToFile");
}

}  // namespace

int main(int argc, char** argv) {
  const std::string out_dir = argc > 1 ? argv[1] : ".";
  // Percentile by default: on this untrained network, entropy calibration clips the
  // post-ReLU tensors hard (their histograms are dominated by the zeros), which costs
  // top-1 agreement; try `entropy` to see it.
  const std::string algorithm = argc > 2 ? argv[2] : "percentile";
  qsdk::CalibrationOptions options;
  if (algorithm == "minmax") {
    options.algorithm = qsdk::CalibrationAlgorithm::kMinMax;
  } else if (algorithm == "entropy") {
    options.algorithm = qsdk::CalibrationAlgorithm::kEntropy;
  } else if (algorithm == "percentile") {
    options.algorithm = qsdk::CalibrationAlgorithm::kPercentile;
  } else if (algorithm == "mse") {
    options.algorithm = qsdk::CalibrationAlgorithm::kMse;
  } else {
    std::fprintf(stderr, "int8_calibration: ALGORITHM must be minmax, entropy, percentile or "
                         "mse, got '%s'\n", algorithm.c_str());
    return 2;
  }

  auto network = BuildNetwork();

  // Calibration: 16 batches of 8 images; statistics are streamed, never stored.
  SyntheticCalibData calib_data(8, 16);
  auto calibrator = qsdk::CreateICalibrator();
  options.progress = [](int64_t done, int64_t) {
    std::printf("\rcalibrating: %lld batches", static_cast<long long>(done));
    std::fflush(stdout);
  };
  Check(calibrator->Calibrate(network.get(), {&calib_data}, options), "Calibrate");
  const std::string table = out_dir + "/int8_calibration.calib.json";
  Check(calibrator->SaveTable(table), "SaveTable");
  std::printf("\ncalibration (%s) saved to %s\n", algorithm.c_str(), table.c_str());

  const std::string fp32_path = out_dir + "/int8_calibration.fp32.qsdk";
  const std::string int8_path = out_dir + "/int8_calibration.int8.qsdk";
  BuildAndSave(*network, R"({"precision_config": {"precision_mode": "force_float32"}})", fp32_path);
  BuildAndSave(*network, R"({"precision_config": {"precision_mode": "qint8_mixed_float32"}})",
               int8_path);

  std::unique_ptr<qsdk::IModel> fp32_model, int8_model;
  std::unique_ptr<qsdk::IEngine> fp32_engine, int8_engine;
  auto fp32 = LoadAndPrepare(fp32_path, &fp32_model, &fp32_engine);
  auto int8 = LoadAndPrepare(int8_path, &int8_model, &int8_engine);

  std::printf("\nbuild report of the INT8 engine (%s):\n", int8_path.c_str());
  std::printf("  %-24s %-12s %-8s %-22s %s\n", "node", "type", "runs", "kernel", "output");
  for (const qsdk::NodeReport& node : int8_model->GetBuildReport().nodes) {
    const std::string out = node.outputs.empty() ? "" : qsdk::DataTypeName(node.outputs[0].granted);
    std::printf("  %-24s %-12s %-8s %-22s %s\n", node.name.c_str(), qsdk::NodeTypeName(node.type),
                node.precision.c_str(), node.kernel.c_str(), out.c_str());
  }

  // Evaluation on fresh images: top-1 agreement and cosine similarity of the logits.
  ImageSource eval_source(2025);
  const int64_t batch = 32, batches = 8;
  qsdk::Tensor input = qsdk::Tensor::Allocate(qsdk::DataType::FLOAT32,
                                              qsdk::Dims{batch, 3, kImageSize, kImageSize}, "image");
  int64_t agree = 0, total = 0, fp32_correct = 0, int8_correct = 0;
  double cosine_sum = 0.0;
  std::vector<qsdk::Tensor> fp32_out, int8_out;
  for (int64_t k = 0; k < batches; ++k) {
    const std::vector<int64_t> labels = eval_source.Fill(batch, input.Data<float>());
    Check(fp32->Execute({input}, &fp32_out), "Execute FP32");
    Check(int8->Execute({input}, &int8_out), "Execute INT8");
    for (int64_t n = 0; n < batch; ++n) {
      const float* f = fp32_out[0].Data<float>() + n * kClasses;
      const float* q = int8_out[0].Data<float>() + n * kClasses;
      const int64_t top_f = std::max_element(f, f + kClasses) - f;
      const int64_t top_q = std::max_element(q, q + kClasses) - q;
      agree += top_f == top_q;
      fp32_correct += top_f == labels[n];
      int8_correct += top_q == labels[n];
      double dot = 0, nf = 0, nq = 0;
      for (int64_t c = 0; c < kClasses; ++c) {
        dot += double(f[c]) * q[c];
        nf += double(f[c]) * f[c];
        nq += double(q[c]) * q[c];
      }
      cosine_sum += dot / (std::sqrt(nf * nq) + 1e-30);
      ++total;
    }
  }
  std::printf("\nINT8 vs FP32 on %lld images: top-1 agreement %.2f%%, mean cosine similarity "
              "%.5f\n", static_cast<long long>(total), 100.0 * agree / total, cosine_sum / total);
  std::printf("(the network is untrained; its 'accuracy' against the synthetic labels is "
              "FP32 %.1f%%, INT8 %.1f%%)\n", 100.0 * fp32_correct / total,
              100.0 * int8_correct / total);
  return 0;
}
