// hand_built_cnn: the day-one workflow of qsdk.
//
//  1. Build a small residual CNN node by node with INetwork (seeded weights).
//  2. Build it into a model with IBuilder (BatchNorm folded, ReLU fused) and serialize
//     the engine file.
//  3. Drop everything, load the engine file into a fresh model / engine / context.
//  4. Run a batch and compare with qsdk's reference kernels on the original network.
//
// Usage: hand_built_cnn [ENGINE_PATH] [BATCH]   (defaults: hand_built_cnn.qsdk 4)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "qsdk/qsdk.h"

namespace {

// Prints the failure and exits: a sample keeps error handling short but never ignores it.
void Check(const qsdk::Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "hand_built_cnn: %s failed: %s\n", what, status.ToString().c_str());
    std::exit(1);
  }
}

template <typename T>
T* CheckNode(T* node, qsdk::INetwork* network, const char* what) {
  if (node == nullptr) Check(network->GetLastError(), what);
  return node;
}

class WeightMaker {
 public:
  explicit WeightMaker(qsdk::INetwork* network) : network_(network), rng_(2024) {}
  // He-style uniform init so activations keep a sensible scale through the layers.
  qsdk::ITensor* Uniform(const qsdk::Dims& dims, float limit) {
    std::uniform_real_distribution<float> dist(-limit, limit);
    std::vector<float> data(static_cast<size_t>(dims.GetElementCount()));
    for (float& v : data) v = dist(rng_);
    return Constant(dims, data);
  }
  qsdk::ITensor* Range(const qsdk::Dims& dims, float lo, float hi) {
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> data(static_cast<size_t>(dims.GetElementCount()));
    for (float& v : data) v = dist(rng_);
    return Constant(dims, data);
  }

 private:
  qsdk::ITensor* Constant(const qsdk::Dims& dims, const std::vector<float>& data) {
    auto* node = network_->AddIConstNode(qsdk::DataType::FLOAT32, dims, data.data());
    return CheckNode(node, network_, "AddIConstNode")->GetOutput(0);
  }
  qsdk::INetwork* network_;
  std::mt19937 rng_;
};

// conv3x3(3->16) + BN + ReLU -> [conv3x3(16->16) + BN + ReLU -> conv3x3 + BN] + skip ->
// ReLU -> maxpool 2x2 -> conv3x3 s2 (16->32) + ReLU -> global avg pool -> flatten ->
// FC(32->10) -> softmax. Input: N x 3 x 32 x 32, N dynamic.
std::unique_ptr<qsdk::INetwork> BuildNetwork() {
  auto network = qsdk::CreateINetwork();
  qsdk::INetwork* net = network.get();
  WeightMaker w(net);

  auto conv_bn = [&](qsdk::ITensor* x, int64_t in_c, int64_t out_c, int64_t stride,
                     const std::string& name) {
    const float limit = std::sqrt(6.0f / static_cast<float>(in_c * 9));
    auto* conv = CheckNode(net->AddIConvNode(x, w.Uniform({out_c, in_c, 3, 3}, limit), nullptr),
                           net, "AddIConvNode");
    Check(conv->SetNodeName(name), "SetNodeName");
    Check(conv->SetPad(1, 1, 1, 1), "SetPad");
    Check(conv->SetStride(stride, stride), "SetStride");
    auto* bn = CheckNode(
        net->AddIBatchNormNode(conv->GetOutput(0), w.Range({out_c}, -0.1f, 0.1f),
                               w.Range({out_c}, 0.5f, 1.5f), w.Range({out_c}, 0.8f, 1.2f),
                               w.Range({out_c}, -0.1f, 0.1f)),
        net, "AddIBatchNormNode");
    Check(bn->SetNodeName(name + "_bn"), "SetNodeName");
    return bn->GetOutput(0);
  };
  auto relu = [&](qsdk::ITensor* x) {
    return CheckNode(net->AddIActivationNode(x, qsdk::ActivationType::kRelu), net,
                     "AddIActivationNode")
        ->GetOutput(0);
  };

  qsdk::ITensor* image = net->AddInput(qsdk::DataType::FLOAT32, qsdk::Dims{-1, 3, 32, 32});
  Check(image->SetTensorName("image"), "SetTensorName");
  qsdk::ITensor* stem = relu(conv_bn(image, 3, 16, 1, "stem"));
  qsdk::ITensor* branch = conv_bn(relu(conv_bn(stem, 16, 16, 1, "res_a")), 16, 16, 1, "res_b");
  auto* add = CheckNode(net->AddIElementwiseNode(branch, stem, qsdk::ElementwiseOp::kAdd), net,
                        "AddIElementwiseNode");
  auto* pool = CheckNode(net->AddIPoolNode(relu(add->GetOutput(0)), qsdk::PoolMode::kMax), net,
                         "AddIPoolNode");
  Check(pool->SetKernel(2, 2), "SetKernel");
  Check(pool->SetStride(2, 2), "SetStride");
  qsdk::ITensor* down = relu(conv_bn(pool->GetOutput(0), 16, 32, 2, "down"));
  auto* gap = CheckNode(net->AddIPoolNode(down, qsdk::PoolMode::kGlobalAverage), net,
                        "AddIPoolNode");
  auto* flat = CheckNode(net->AddIFlattenNode(gap->GetOutput(0), 1), net, "AddIFlattenNode");
  auto* fc = CheckNode(net->AddIFullyConnectedNode(flat->GetOutput(0),
                                                   w.Uniform({10, 32}, std::sqrt(6.0f / 32)),
                                                   w.Range({10}, -0.1f, 0.1f)),
                       net, "AddIFullyConnectedNode");
  Check(fc->SetNodeName("classifier"), "SetNodeName");
  auto* softmax = CheckNode(net->AddISoftmaxNode(fc->GetOutput(0), 1), net, "AddISoftmaxNode");
  Check(softmax->GetOutput(0)->SetTensorName("probabilities"), "SetTensorName");
  Check(net->MarkOutput(softmax->GetOutput(0)), "MarkOutput");
  return network;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string engine_path = argc > 1 ? argv[1] : "hand_built_cnn.qsdk";
  const int64_t batch = argc > 2 ? std::atoll(argv[2]) : 4;
  if (batch < 1 || batch > 4096) {
    std::fprintf(stderr, "hand_built_cnn: BATCH must be in [1, 4096], got '%s'\n",
                 argc > 2 ? argv[2] : "");
    return 2;
  }

  auto network = BuildNetwork();
  std::printf("qsdk %s: built a network of %lld nodes\n", qsdk::GetVersionString(),
              static_cast<long long>(network->GetNodeCount()));

  {  // Build and serialize; the builder, config and model die at the end of this block.
    auto config = qsdk::CreateIBuilderConfig();
    Check(config->ParseFromString(R"({"precision_config": {"precision_mode": "force_float32"}})"),
          "ParseFromString");
    auto builder = qsdk::CreateIBuilder();
    std::unique_ptr<qsdk::IModel> model;
    Check(builder->BuildModel("hand_built_cnn", *network, *config, &model), "BuildModel");
    Check(model->SerializeToFile(engine_path), "SerializeToFile");
    std::printf("wrote engine file %s\n", engine_path.c_str());
  }

  // A fresh runtime: everything below comes from the engine file alone.
  std::unique_ptr<qsdk::IModel> model;
  Check(qsdk::DeserializeModelFromFile(engine_path, &model), "DeserializeModelFromFile");
  std::unique_ptr<qsdk::IEngine> engine;
  Check(model->CreateIEngine(&engine), "CreateIEngine");
  std::unique_ptr<qsdk::IContext> context;
  Check(engine->CreateIContext(&context), "CreateIContext");

  qsdk::Tensor input = qsdk::Tensor::Allocate(qsdk::DataType::FLOAT32,
                                              qsdk::Dims{batch, 3, 32, 32}, "image");
  std::mt19937 rng(7);
  std::normal_distribution<float> pixel(0.0f, 1.0f);
  for (int64_t i = 0; i < input.GetElementCount(); ++i) input.Data<float>()[i] = pixel(rng);

  std::vector<qsdk::Tensor> outputs;
  Check(context->Execute({input}, &outputs), "Execute");
  std::vector<qsdk::Tensor> expected;
  Check(qsdk::ExecuteReference(*network, {input}, &expected), "ExecuteReference");

  const qsdk::Tensor& probs = outputs[0];
  float max_diff = 0.0f;
  for (int64_t i = 0; i < probs.GetElementCount(); ++i) {
    max_diff = std::max(max_diff, std::fabs(probs.Data<float>()[i] - expected[0].Data<float>()[i]));
  }
  const int64_t classes = probs.GetDimension().GetDimValue(1);
  std::printf("output '%s' %s\n", probs.GetName().c_str(), probs.GetDimension().ToString().c_str());
  for (int64_t n = 0; n < batch; ++n) {
    const float* row = probs.Data<float>() + n * classes;
    const int64_t top = std::max_element(row, row + classes) - row;
    std::printf("  sample %lld: top-1 class %lld (p = %.4f)  [", static_cast<long long>(n),
                static_cast<long long>(top), row[top]);
    for (int64_t c = 0; c < classes; ++c) std::printf(c ? " %.3f" : "%.3f", row[c]);
    std::printf("]\n");
  }
  std::printf("max |engine - reference| = %.3g\n", max_diff);
  // fp32 kernels reorder sums; a difference above 1e-4 on probabilities means a bug.
  if (!(max_diff <= 1e-4f)) {
    std::fprintf(stderr, "hand_built_cnn: engine and reference disagree\n");
    return 1;
  }
  return 0;
}
