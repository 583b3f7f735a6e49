// onnx_deploy: from an ONNX file to an engine file, then — in a separate process, as a
// deployed application would — load the engine and classify images.
//
//   onnx_deploy build MODEL.onnx ENGINE       parse the ONNX model, build FP32, serialize
//   onnx_deploy classify ENGINE [N]            load ENGINE, classify the first N (default 8)
//                                              Fashion-MNIST test images, print accuracy
//
// The classify step needs nothing but the engine file and libqsdk: no ONNX, no builder.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "../common/fashion_mnist.h"
#include "qsdk/onnx_parser.h"
#include "qsdk/qsdk.h"

namespace {

int Fail(const char* what, const qsdk::Status& status) {
  std::fprintf(stderr, "onnx_deploy: %s: %s\n", what, status.ToString().c_str());
  return 1;
}

int Build(const std::string& onnx_path, const std::string& engine_path) {
  auto network = qsdk::CreateINetwork();
  auto parser = qsdk::CreateIParser();
  qsdk::Status s = parser->ParseFromFile(onnx_path, network.get());
  if (!s.ok()) return Fail("parsing the ONNX model", s);
  auto config = qsdk::CreateIBuilderConfig();  // defaults: force_float32
  std::unique_ptr<qsdk::IModel> model;
  s = qsdk::CreateIBuilder()->BuildModel("onnx_deploy", *network, *config, &model);
  if (!s.ok()) return Fail("building", s);
  s = model->SerializeToFile(engine_path);
  if (!s.ok()) return Fail("serializing", s);
  std::printf("built %s from %s (%lld network nodes)\n", engine_path.c_str(), onnx_path.c_str(),
              static_cast<long long>(network->GetNodeCount()));
  return 0;
}

int Classify(const std::string& engine_path, int64_t count) {
  std::unique_ptr<qsdk::IModel> model;
  qsdk::Status s = qsdk::DeserializeModelFromFile(engine_path, &model);
  if (!s.ok()) return Fail("loading the engine", s);
  std::unique_ptr<qsdk::IEngine> engine;
  s = model->CreateIEngine(&engine);
  if (!s.ok()) return Fail("creating the engine", s);
  std::unique_ptr<qsdk::IContext> context;
  s = engine->CreateIContext(&context);
  if (!s.ok()) return Fail("creating a context", s);

  std::vector<float> images;
  std::vector<int> labels;
  std::string error;
  if (!samples::LoadFashionMnist(samples::kFashionMnistDir, false, &images, &labels, &error)) {
    std::fprintf(stderr, "onnx_deploy: %s (install dataset-fashion-mnist)\n", error.c_str());
    return 1;
  }
  count = std::min<int64_t>(count, static_cast<int64_t>(labels.size()));
  const qsdk::TensorDesc input = engine->GetInputs()[0];
  qsdk::Tensor batch = qsdk::Tensor::Wrap(qsdk::DataType::FLOAT32, qsdk::Dims{count, 1, 28, 28},
                                          images.data(), input.name);
  std::vector<qsdk::Tensor> outputs;
  s = context->Execute({batch}, &outputs);
  if (!s.ok()) return Fail("running", s);
  const float* logits = outputs[0].Data<float>();
  const int64_t classes = outputs[0].GetDimension().GetDimValue(1);
  int64_t correct = 0;
  for (int64_t n = 0; n < count; ++n) {
    const float* row = logits + n * classes;
    const int predicted = static_cast<int>(std::max_element(row, row + classes) - row);
    correct += predicted == labels[n];
    std::printf("  image %3lld: %-12s (label %-12s)%s\n", static_cast<long long>(n),
                samples::FashionMnistClass(predicted), samples::FashionMnistClass(labels[n]),
                predicted == labels[n] ? "" : "  <- wrong");
  }
  std::printf("%lld of %lld correct\n", static_cast<long long>(correct),
              static_cast<long long>(count));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "build" && argc == 4) return Build(argv[2], argv[3]);
  if (command == "classify" && (argc == 3 || argc == 4)) {
    const long long n = argc == 4 ? std::atoll(argv[3]) : 8;
    if (n < 1 || n > 10000) {
      std::fprintf(stderr, "onnx_deploy: N must be in [1, 10000]\n");
      return 2;
    }
    return Classify(argv[2], n);
  }
  std::fprintf(stderr,
               "usage: onnx_deploy build MODEL.onnx ENGINE\n"
               "       onnx_deploy classify ENGINE [N]\n");
  return 2;
}
