// Builds and runs a one-layer network through the installed qsdk package.
#include <cmath>
#include <cstdio>
#include <vector>

#include <qsdk/qsdk.h>

int main() {
  auto network = qsdk::CreateINetwork();
  qsdk::ITensor* x = network->AddInput(qsdk::DataType::FLOAT32, qsdk::Dims{-1, 4});
  const std::vector<float> weight = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1};  // 3 x 4
  const std::vector<float> bias = {0.5f, -0.5f, 0.0f};
  auto* w = network->AddIConstNode(qsdk::DataType::FLOAT32, qsdk::Dims{3, 4}, weight.data());
  auto* b = network->AddIConstNode(qsdk::DataType::FLOAT32, qsdk::Dims{3}, bias.data());
  auto* fc = network->AddIFullyConnectedNode(x, w->GetOutput(0), b->GetOutput(0));
  if (fc == nullptr || !network->MarkOutput(fc->GetOutput(0)).ok()) return 1;
  auto config = qsdk::CreateIBuilderConfig();
  std::unique_ptr<qsdk::IModel> model;
  qsdk::Status s = qsdk::CreateIBuilder()->BuildModel("consumer", *network, *config, &model);
  std::unique_ptr<qsdk::IEngine> engine;
  std::unique_ptr<qsdk::IContext> context;
  if (s.ok()) s = model->CreateIEngine(&engine);
  if (s.ok()) s = engine->CreateIContext(&context);
  std::vector<float> in = {1, 2, 3, 4};
  std::vector<qsdk::Tensor> outputs;
  if (s.ok()) {
    s = context->Execute({qsdk::Tensor::Wrap(qsdk::DataType::FLOAT32, qsdk::Dims{1, 4}, in.data())},
                         &outputs);
  }
  if (!s.ok()) {
    std::fprintf(stderr, "consumer: %s\n", s.ToString().c_str());
    return 1;
  }
  const float* y = outputs[0].Data<float>();
  std::printf("consumer: qsdk %s, y = [%g, %g, %g]\n", qsdk::GetVersionString(), y[0], y[1], y[2]);
  // y = W x + b = [1 + 0.5, 2 - 0.5, 3 + 4].
  return std::fabs(y[0] - 1.5f) < 1e-6f && std::fabs(y[1] - 1.5f) < 1e-6f &&
                 std::fabs(y[2] - 7.0f) < 1e-6f
             ? 0
             : 1;
}
