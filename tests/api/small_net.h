// The small CNN the API build tests share: conv1+relu -> {conv2+relu, conv3+relu} ->
// concat -> maxpool -> gap -> flatten -> fc -> softmax, seeded weights, optional ranges
// on every tensor a quantized build needs; and helpers to build, find a node's report
// and run a model on seeded N(0, 1) inputs. Also the FP32 residual CNN (with BatchNorm)
// the end-to-end and calibrator tests share.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "qsdk/qsdk.h"

namespace qsdk {
namespace test {

inline ITensor* RandomConst(INetwork* net, std::mt19937* rng, const Dims& dims, float scale) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> data(static_cast<size_t>(dims.GetElementCount()));
  for (float& v : data) v = dist(*rng);
  return net->AddIConstNode(DataType::FLOAT32, dims, data.data())->GetOutput(0);
}

// A FLOAT32 constant of `dims` with values uniform in [lo, hi).
inline ITensor* UniformConst(INetwork* net, std::mt19937* rng, const Dims& dims, float lo,
                             float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> data(static_cast<size_t>(dims.GetElementCount()));
  for (float& v : data) v = dist(*rng);
  return net->AddIConstNode(DataType::FLOAT32, dims, data.data())->GetOutput(0);
}

// image [-1, 3, size, size] -> conv1 -> bn -> relu -> conv2 -> add(relu) -> maxpool -> gap
// -> flatten -> fc -> softmax, `channels` channels up to the fc (5 outputs), a dynamic
// batch and weights drawn with `seed`. Tensors are named after their nodes (conv1, bn,
// relu, conv2, add, pool, gap, flat, fc; the softmax output "probs").
inline std::unique_ptr<INetwork> SmallCnn(uint32_t seed, int64_t channels = 4, int64_t size = 8) {
  std::mt19937 rng(seed);
  auto net = CreateINetwork();
  INetwork* n = net.get();
  const int64_t c = channels;
  ITensor* x = n->AddInput(DataType::FLOAT32, Dims{-1, 3, size, size});
  EXPECT_TRUE(x->SetTensorName("image").ok());
  IConvNode* c1 = n->AddIConvNode(x, UniformConst(n, &rng, Dims{c, 3, 3, 3}, -0.5f, 0.5f),
                                  UniformConst(n, &rng, Dims{c}, -0.1f, 0.1f));
  EXPECT_TRUE(c1->SetPad(1, 1, 1, 1).ok());
  IBatchNormNode* bn = n->AddIBatchNormNode(
      c1->GetOutput(0), UniformConst(n, &rng, Dims{c}, -0.2f, 0.2f),
      UniformConst(n, &rng, Dims{c}, 0.5f, 1.5f), UniformConst(n, &rng, Dims{c}, 0.8f, 1.2f),
      UniformConst(n, &rng, Dims{c}, -0.1f, 0.1f));
  IActivationNode* relu = n->AddIActivationNode(bn->GetOutput(0), ActivationType::kRelu);
  IConvNode* c2 = n->AddIConvNode(relu->GetOutput(0),
                                  UniformConst(n, &rng, Dims{c, c, 3, 3}, -0.3f, 0.3f), nullptr);
  EXPECT_TRUE(c2->SetPad(1, 1, 1, 1).ok());
  IElementwiseNode* add =
      n->AddIElementwiseNode(c2->GetOutput(0), relu->GetOutput(0), ElementwiseOp::kAdd);
  IPoolNode* pool = n->AddIPoolNode(add->GetOutput(0), PoolMode::kMax);
  EXPECT_TRUE(pool->SetKernel(2, 2).ok());
  EXPECT_TRUE(pool->SetStride(2, 2).ok());
  IPoolNode* gap = n->AddIPoolNode(pool->GetOutput(0), PoolMode::kGlobalAverage);
  IFlattenNode* flat = n->AddIFlattenNode(gap->GetOutput(0), 1);
  IFullyConnectedNode* fc = n->AddIFullyConnectedNode(
      flat->GetOutput(0), UniformConst(n, &rng, Dims{5, c}, -1.0f, 1.0f),
      UniformConst(n, &rng, Dims{5}, -0.1f, 0.1f));
  ISoftmaxNode* sm = n->AddISoftmaxNode(fc->GetOutput(0), 1);
  const std::pair<INode*, const char*> names[] = {
      {c1, "conv1"}, {bn, "bn"}, {relu, "relu"}, {c2, "conv2"}, {add, "add"}, {pool, "pool"},
      {gap, "gap"}, {flat, "flat"}, {fc, "fc"}, {sm, "probs"}};
  for (const auto& [node, name] : names) {
    EXPECT_TRUE(node->GetOutput(0)->SetTensorName(name).ok());
  }
  EXPECT_TRUE(n->MarkOutput(sm->GetOutput(0)).ok());
  EXPECT_TRUE(n->GetLastError().ok()) << n->GetLastError().ToString();
  return net;
}

struct SmallNet {
  std::unique_ptr<INetwork> net;
  IConvNode* conv1 = nullptr;
  IConvNode* conv2 = nullptr;
  IConcatNode* concat = nullptr;
  IFullyConnectedNode* fc = nullptr;
  IPoolNode* pool = nullptr;
  ISoftmaxNode* softmax = nullptr;
};

// conv1+relu -> {conv2+relu, conv3+relu} -> concat -> maxpool -> gap -> flatten -> fc ->
// softmax, with ranges set on every tensor an INT8 build quantizes.
inline SmallNet MakeNet(bool with_ranges = true) {
  SmallNet s;
  std::mt19937 rng(5);
  s.net = CreateINetwork();
  INetwork* n = s.net.get();
  ITensor* x = n->AddInput(DataType::FLOAT32, Dims{-1, 4, 10, 10});
  EXPECT_TRUE(x->SetTensorName("x").ok());
  s.conv1 = n->AddIConvNode(x, RandomConst(n, &rng, Dims{8, 4, 3, 3}, 0.3f),
                            RandomConst(n, &rng, Dims{8}, 0.1f));
  EXPECT_TRUE(s.conv1->SetPad(1, 1, 1, 1).ok());
  EXPECT_TRUE(s.conv1->SetNodeName("conv1").ok());
  ITensor* r1 = n->AddIActivationNode(s.conv1->GetOutput(0), ActivationType::kRelu)->GetOutput(0);
  s.conv2 = n->AddIConvNode(r1, RandomConst(n, &rng, Dims{8, 8, 1, 1}, 0.3f), nullptr);
  EXPECT_TRUE(s.conv2->SetNodeName("conv2").ok());
  ITensor* r2 = n->AddIActivationNode(s.conv2->GetOutput(0), ActivationType::kRelu)->GetOutput(0);
  IConvNode* conv3 = n->AddIConvNode(r1, RandomConst(n, &rng, Dims{8, 8, 3, 3}, 0.2f), nullptr);
  EXPECT_TRUE(conv3->SetPad(1, 1, 1, 1).ok());
  EXPECT_TRUE(conv3->SetNodeName("conv3").ok());
  ITensor* r3 = n->AddIActivationNode(conv3->GetOutput(0), ActivationType::kRelu)->GetOutput(0);
  s.concat = n->AddIConcatNode({r2, r3}, 1);
  EXPECT_TRUE(s.concat->SetNodeName("concat").ok());
  IPoolNode* pool = n->AddIPoolNode(s.concat->GetOutput(0), PoolMode::kMax);
  s.pool = pool;
  EXPECT_TRUE(pool->SetNodeName("pool").ok());
  EXPECT_TRUE(pool->SetKernel(2, 2).ok());
  EXPECT_TRUE(pool->SetStride(2, 2).ok());
  IPoolNode* gap = n->AddIPoolNode(pool->GetOutput(0), PoolMode::kGlobalAverage);
  IFlattenNode* flat = n->AddIFlattenNode(gap->GetOutput(0), 1);
  s.fc = n->AddIFullyConnectedNode(flat->GetOutput(0), RandomConst(n, &rng, Dims{5, 16}, 0.3f),
                                   nullptr);
  EXPECT_TRUE(s.fc->SetNodeName("fc").ok());
  s.softmax = n->AddISoftmaxNode(s.fc->GetOutput(0), 1);
  EXPECT_TRUE(s.softmax->SetNodeName("softmax").ok());
  EXPECT_TRUE(n->MarkOutput(s.softmax->GetOutput(0)).ok());
  if (with_ranges) {
    // Generous ranges: inputs are N(0,1), activations after ReLU are non-negative.
    EXPECT_TRUE(x->SetDynamicRange(-4.0f, 4.0f).ok());
    EXPECT_TRUE(r1->SetDynamicRange(0.0f, 6.0f).ok());
    EXPECT_TRUE(r2->SetDynamicRange(0.0f, 8.0f).ok());
    EXPECT_TRUE(r3->SetDynamicRange(0.0f, 8.0f).ok());
    for (ITensor* t : {s.concat->GetOutput(0), pool->GetOutput(0), gap->GetOutput(0),
                       flat->GetOutput(0)}) {
      EXPECT_TRUE(t->SetDynamicRange(0.0f, 8.0f).ok());
    }
    EXPECT_TRUE(s.fc->GetOutput(0)->SetDynamicRange(-10.0f, 10.0f).ok());
  }
  return s;
}

inline Status Build(const INetwork& net, const std::string& json, std::unique_ptr<IModel>* model) {
  auto config = CreateIBuilderConfig();
  Status s = config->ParseFromString(json);
  if (!s.ok()) return s;
  return CreateIBuilder()->BuildModel("int8_test", net, *config, model);
}

inline const NodeReport* Find(const BuildReport& report, const std::string& name) {
  for (const NodeReport& n : report.nodes) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

inline std::vector<float> RunModel(const IModel& model, uint32_t seed, int64_t batch) {
  std::unique_ptr<IEngine> engine;
  EXPECT_TRUE(model.CreateIEngine(&engine).ok());
  std::unique_ptr<IContext> context;
  EXPECT_TRUE(engine->CreateIContext(&context).ok());
  Tensor in = Tensor::Allocate(DataType::FLOAT32, Dims{batch, 4, 10, 10}, "x");
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (int64_t i = 0; i < in.GetElementCount(); ++i) in.Data<float>()[i] = dist(rng);
  std::vector<Tensor> out;
  Status s = context->Execute({in}, &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return {};
  return std::vector<float>(out[0].Data<float>(), out[0].Data<float>() + out[0].GetElementCount());
}

}  // namespace test
}  // namespace qsdk
