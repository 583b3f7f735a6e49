// The whole public path: INetwork -> IBuilder -> IModel -> engine file -> IModel ->
// IEngine -> IContext, compared with the reference interpreter on the unoptimized graph.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "graph/network_impl.h"
#include "qsdk/qsdk.h"
#include "reference/reference.h"
#include "small_net.h"

namespace qsdk {
namespace {

using test::SmallCnn;

// SmallCnn with 8 channels on 12x12 images.
constexpr int64_t kChannels = 8, kImageSize = 12;

Tensor RandomInput(int64_t batch, uint32_t seed) {
  Tensor t = Tensor::Allocate(DataType::FLOAT32, Dims{batch, 3, kImageSize, kImageSize}, "image");
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int64_t i = 0; i < t.GetElementCount(); ++i) t.Data<float>()[i] = dist(rng);
  return t;
}

float MaxAbsDiff(const Tensor& a, const Tensor& b) {
  float m = 0.0f;
  for (int64_t i = 0; i < a.GetElementCount(); ++i) {
    m = std::max(m, std::fabs(a.Data<float>()[i] - b.Data<float>()[i]));
  }
  return m;
}

std::unique_ptr<IModel> Build(const INetwork& net, const std::string& json = "{}") {
  auto config = CreateIBuilderConfig();
  EXPECT_TRUE(config->ParseFromString(json).ok());
  auto builder = CreateIBuilder();
  std::unique_ptr<IModel> model;
  Status s = builder->BuildModel("small_cnn", net, *config, &model);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return model;
}

TEST(EndToEndTest, SerializedEngineMatchesReference) {
  auto net = SmallCnn(7, kChannels, kImageSize);
  auto model = Build(*net);
  ASSERT_NE(model, nullptr);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(model->SerializeToMemory(&bytes).ok());
  std::unique_ptr<IModel> loaded;
  ASSERT_TRUE(DeserializeModelFromMemory(bytes.data(), bytes.size(), &loaded).ok());
  EXPECT_EQ(loaded->GetName(), "small_cnn");
  ASSERT_EQ(loaded->GetInputs().size(), 1u);
  EXPECT_EQ(loaded->GetInputs()[0].name, "image");
  EXPECT_EQ(loaded->GetInputs()[0].dims, (Dims{-1, 3, 12, 12}));
  EXPECT_EQ(loaded->GetOutputs()[0].name, "probs");
  std::unique_ptr<IEngine> engine;
  ASSERT_TRUE(loaded->CreateIEngine(&engine).ok());
  std::unique_ptr<IContext> context;
  ASSERT_TRUE(engine->CreateIContext(&context).ok());

  const auto& unoptimized = static_cast<const graph::NetworkImpl&>(*net).graph();
  for (int64_t batch : {1, 4}) {
    std::vector<Tensor> inputs = {RandomInput(batch, 11)};
    std::vector<Tensor> outputs, expected;
    Status s = context->Execute(inputs, &outputs);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(reference::RunGraph(unoptimized, inputs, &expected).ok());
    ASSERT_EQ(outputs.size(), 1u);
    EXPECT_EQ(outputs[0].GetDimension(), (Dims{batch, 5}));
    EXPECT_EQ(outputs[0].GetName(), "probs");
    // Probabilities in [0, 1]; BN folding and blocked fp32 kernels reassociate sums, so
    // agreement is to float rounding of a few hundred terms, far below 1e-4.
    EXPECT_LT(MaxAbsDiff(outputs[0], expected[0]), 1e-4f);
  }
}

TEST(EndToEndTest, SerializationIsDeterministicAndFileRoundTrips) {
  auto net = SmallCnn(3, kChannels, kImageSize);
  auto model = Build(*net);
  std::vector<uint8_t> a, b;
  ASSERT_TRUE(model->SerializeToMemory(&a).ok());
  ASSERT_TRUE(model->SerializeToMemory(&b).ok());
  EXPECT_EQ(a, b);
  const std::string path = ::testing::TempDir() + "/e2e.qsdk";
  ASSERT_TRUE(model->SerializeToFile(path).ok());
  std::unique_ptr<IModel> loaded;
  ASSERT_TRUE(DeserializeModelFromFile(path, &loaded).ok());
  std::vector<uint8_t> c;
  ASSERT_TRUE(loaded->SerializeToMemory(&c).ok());
  EXPECT_EQ(a, c);
  std::remove(path.c_str());
}

TEST(EndToEndTest, BuildFoldsBatchNormAndFusesRelu) {
  auto net = SmallCnn(5, kChannels, kImageSize);
  auto model = Build(*net);
  // The build keeps the config it was made with.
  EXPECT_NE(model->GetBuildConfigJson().find("force_float32"), std::string::npos);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(model->SerializeToMemory(&bytes).ok());
  auto unfused = Build(*net, R"({"graph_optimization": {"batchnorm_folding": false,
                                 "activation_fusion": false}})");
  std::vector<uint8_t> unfused_bytes;
  ASSERT_TRUE(unfused->SerializeToMemory(&unfused_bytes).ok());
  EXPECT_NE(bytes, unfused_bytes);
}

TEST(EndToEndTest, BuildErrorsNameTheCulprit) {
  auto builder = CreateIBuilder();
  auto config = CreateIBuilderConfig();
  std::unique_ptr<IModel> model;
  {
    auto net = CreateINetwork();
    ITensor* x = net->AddInput(DataType::FLOAT32, Dims{1, 4});
    ASSERT_NE(net->AddIActivationNode(x, ActivationType::kRelu), nullptr);
    Status s = builder->BuildModel("no_outputs", *net, *config, &model);
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find("MarkOutput"), std::string::npos) << s.message();
  }
  {
    auto net = CreateINetwork();
    ITensor* x = net->AddInput(DataType::FLOAT32, Dims{1, 4});
    IActivationNode* relu = net->AddIActivationNode(x, ActivationType::kRelu);
    ASSERT_TRUE(relu->SetNodeName("relu_q").ok());
    ASSERT_TRUE(relu->SetPrecision(0, DataType::QINT8).ok());
    ASSERT_TRUE(net->MarkOutput(relu->GetOutput(0)).ok());
    Status s = builder->BuildModel("qint8_request", *net, *config, &model);
    EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
    EXPECT_NE(s.message().find("relu_q"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("QINT8"), std::string::npos) << s.message();
  }
  EXPECT_EQ(model, nullptr);
}

TEST(EndToEndTest, DamagedFileIsAStatus) {
  std::unique_ptr<IModel> model;
  Status s = DeserializeModelFromFile("/nonexistent/model.qsdk", &model);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  const char junk[] = "definitely not an engine";
  s = DeserializeModelFromMemory(junk, sizeof(junk), &model);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(DeserializeModelFromMemory(nullptr, 10, &model).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(model, nullptr);
}

}  // namespace
}  // namespace qsdk
