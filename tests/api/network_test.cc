// INetwork: construction, naming, shape inference as nodes are added, and every kind of
// bad input answered with a status naming the node or tensor.
#include <gtest/gtest.h>

#include <vector>

#include "qsdk/qsdk.h"

namespace qsdk {
namespace {

std::vector<float> Filled(int64_t n, float v) { return std::vector<float>(static_cast<size_t>(n), v); }

ITensor* Const(INetwork* net, const Dims& dims, float v = 0.5f) {
  auto data = Filled(dims.GetElementCount(), v);
  IConstNode* node = net->AddIConstNode(DataType::FLOAT32, dims, data.data());
  return node == nullptr ? nullptr : node->GetOutput(0);
}

TEST(NetworkTest, ConvShapeIsInferredAndUpdatedBySetters) {
  auto net = CreateINetwork();
  ITensor* x = net->AddInput(DataType::FLOAT32, Dims{-1, 3, 32, 32});
  ASSERT_NE(x, nullptr);
  IConvNode* conv = net->AddIConvNode(x, Const(net.get(), Dims{8, 3, 3, 3}),
                                      Const(net.get(), Dims{8}));
  ASSERT_NE(conv, nullptr) << net->GetLastError().ToString();
  EXPECT_EQ(conv->GetOutput(0)->GetDimension(), (Dims{-1, 8, 30, 30}));
  ASSERT_TRUE(conv->SetPad(1, 1, 1, 1).ok());
  ASSERT_TRUE(conv->SetStride(2, 2).ok());
  // (32 + 2 - 3) / 2 + 1 = 16; the batch stays dynamic.
  EXPECT_EQ(conv->GetOutput(0)->GetDimension(), (Dims{-1, 8, 16, 16}));
  EXPECT_EQ(conv->GetStride(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(conv->GetNodeType(), NodeType::kConv);
}

TEST(NetworkTest, DepthwiseGroupFollowsTheFilter) {
  auto net = CreateINetwork();
  ITensor* x = net->AddInput(DataType::FLOAT32, Dims{1, 16, 8, 8});
  IConvNode* dw = net->AddIConvNode(x, Const(net.get(), Dims{16, 1, 3, 3}), nullptr);
  ASSERT_NE(dw, nullptr) << net->GetLastError().ToString();
  EXPECT_EQ(dw->GetGroup(), 16);
  IConvNode* grouped = net->AddIConvNode(x, Const(net.get(), Dims{8, 4, 1, 1}), nullptr);
  ASSERT_NE(grouped, nullptr);
  EXPECT_EQ(grouped->GetGroup(), 4);
  EXPECT_EQ(grouped->GetOutput(0)->GetDimension(), (Dims{1, 8, 8, 8}));
}

TEST(NetworkTest, RejectedSetterLeavesNodeUnchanged) {
  auto net = CreateINetwork();
  ITensor* x = net->AddInput(DataType::FLOAT32, Dims{1, 4, 8, 8});
  IConvNode* conv = net->AddIConvNode(x, Const(net.get(), Dims{4, 4, 3, 3}), nullptr);
  ASSERT_NE(conv, nullptr);
  Status s = conv->SetStride(0, 1);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(conv->GetNodeName()), std::string::npos) << s.message();
  EXPECT_EQ(conv->GetStride(), (std::vector<int64_t>{1, 1}));
  // Group 3 does not divide 4 channels.
  EXPECT_FALSE(conv->SetGroup(3).ok());
  EXPECT_EQ(conv->GetGroup(), 1);
  EXPECT_EQ(conv->GetOutput(0)->GetDimension(), (Dims{1, 4, 6, 6}));
}

TEST(NetworkTest, NamesAreUniqueAndFindable) {
  auto net = CreateINetwork();
  ITensor* x = net->AddInput(DataType::FLOAT32, Dims{1, 4});
  IActivationNode* a = net->AddIActivationNode(x, ActivationType::kRelu);
  IActivationNode* b = net->AddIActivationNode(a->GetOutput(0), ActivationType::kTanh);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a->GetNodeName(), b->GetNodeName());
  ASSERT_TRUE(a->SetNodeName("relu1").ok());
  EXPECT_EQ(net->FindNodeByName("relu1"), a);
  EXPECT_EQ(net->FindNodeByName("nope"), nullptr);
  Status dup = b->SetNodeName("relu1");
  EXPECT_FALSE(dup.ok());
  EXPECT_NE(dup.message().find("relu1"), std::string::npos);
  ASSERT_TRUE(x->SetTensorName("image").ok());
  EXPECT_EQ(net->FindTensorByName("image"), x);
  EXPECT_FALSE(a->GetOutput(0)->SetTensorName("image").ok());
  EXPECT_FALSE(x->SetTensorName("").ok());
  EXPECT_EQ(a->GetOutput(0)->GetProducer(), a);
  EXPECT_EQ(x->GetProducer(), nullptr);
  EXPECT_TRUE(x->IsNetworkInput());
}

TEST(NetworkTest, NullTensorIsRejectedWithNodeName) {
  auto net = CreateINetwork();
  EXPECT_EQ(net->AddIActivationNode(nullptr, ActivationType::kRelu), nullptr);
  Status s = net->GetLastError();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("Activation"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("null"), std::string::npos) << s.message();
}

TEST(NetworkTest, MismatchedShapesAreRejected) {
  auto net = CreateINetwork();
  ITensor* x = net->AddInput(DataType::FLOAT32, Dims{1, 3, 8, 8});
  // Filter expects 4 input channels, the input has 3.
  EXPECT_EQ(net->AddIConvNode(x, Const(net.get(), Dims{8, 4, 3, 3}), nullptr), nullptr);
  EXPECT_FALSE(net->GetLastError().ok());
  EXPECT_NE(net->GetLastError().message().find("Conv"), std::string::npos);
  ITensor* y = net->AddInput(DataType::FLOAT32, Dims{1, 5});
  ITensor* z = net->AddInput(DataType::FLOAT32, Dims{1, 3});
  EXPECT_EQ(net->AddIElementwiseNode(y, z, ElementwiseOp::kAdd), nullptr);
  EXPECT_FALSE(net->GetLastError().ok());
  // A failed add leaves no node behind.
  for (int64_t i = 0; i < net->GetNodeCount(); ++i) {
    EXPECT_NE(net->GetNode(i)->GetNodeType(), NodeType::kConv);
    EXPECT_NE(net->GetNode(i)->GetNodeType(), NodeType::kElementwise);
  }
  // A successful add clears the error.
  ASSERT_NE(net->AddIElementwiseNode(y, y, ElementwiseOp::kAdd), nullptr);
  EXPECT_TRUE(net->GetLastError().ok());
}

TEST(NetworkTest, TensorOfAnotherNetworkIsRejected) {
  auto net1 = CreateINetwork();
  auto net2 = CreateINetwork();
  ITensor* foreign = net1->AddInput(DataType::FLOAT32, Dims{1, 4});
  ASSERT_TRUE(foreign->SetTensorName("foreign_x").ok());
  EXPECT_EQ(net2->AddIActivationNode(foreign, ActivationType::kRelu), nullptr);
  EXPECT_NE(net2->GetLastError().message().find("foreign_x"), std::string::npos)
      << net2->GetLastError().message();
  EXPECT_NE(net2->GetLastError().message().find("another network"), std::string::npos);
  EXPECT_FALSE(net2->MarkOutput(foreign).ok());
}

TEST(NetworkTest, CycleThroughSetInputIsRejected) {
  auto net = CreateINetwork();
  ITensor* x = net->AddInput(DataType::FLOAT32, Dims{1, 4});
  IActivationNode* a = net->AddIActivationNode(x, ActivationType::kRelu);
  IActivationNode* b = net->AddIActivationNode(a->GetOutput(0), ActivationType::kSigmoid);
  ASSERT_TRUE(a->SetNodeName("first").ok());
  Status s = a->SetInput(0, b->GetOutput(0));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cycle"), std::string::npos) << s.message();
  // Rolled back: the network is still acyclic and buildable.
  EXPECT_EQ(a->GetInput(0), x);
}

TEST(NetworkTest, MarkOutputRules) {
  auto net = CreateINetwork();
  ITensor* x = net->AddInput(DataType::FLOAT32, Dims{1, 4});
  IActivationNode* a = net->AddIActivationNode(x, ActivationType::kRelu);
  EXPECT_FALSE(net->MarkOutput(nullptr).ok());
  EXPECT_FALSE(net->MarkOutput(x).ok());
  EXPECT_FALSE(net->MarkOutput(Const(net.get(), Dims{2})).ok());
  ASSERT_TRUE(net->MarkOutput(a->GetOutput(0)).ok());
  EXPECT_FALSE(net->MarkOutput(a->GetOutput(0)).ok());
  EXPECT_TRUE(a->GetOutput(0)->IsNetworkOutput());
  ASSERT_EQ(net->GetOutputs().size(), 1u);
}

TEST(NetworkTest, PrecisionRequestsAreStoredAndValidated) {
  auto net = CreateINetwork();
  ITensor* x = net->AddInput(DataType::FLOAT32, Dims{1, 3, 8, 8});
  IConvNode* conv = net->AddIConvNode(x, Const(net.get(), Dims{4, 3, 1, 1}), nullptr);
  ASSERT_TRUE(conv->SetPrecision(0, DataType::QINT8).ok());
  ASSERT_TRUE(conv->SetOutputType(0, DataType::FLOAT16).ok());
  EXPECT_EQ(conv->GetPrecision(0), DataType::QINT8);
  EXPECT_EQ(conv->GetPrecision(1), DataType::INVALID);
  EXPECT_EQ(conv->GetOutputType(0), DataType::FLOAT16);
  EXPECT_EQ(conv->SetPrecision(5, DataType::QINT8).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(conv->SetOutputType(1, DataType::QINT8).code(), StatusCode::kOutOfRange);
  EXPECT_FALSE(conv->SetPrecision(0, static_cast<DataType>(99)).ok());
}

TEST(NetworkTest, EnumValuesOutOfRangeAreRejected) {
  auto net = CreateINetwork();
  ITensor* x = net->AddInput(DataType::FLOAT32, Dims{1, 3, 8, 8});
  EXPECT_EQ(net->AddIActivationNode(x, static_cast<ActivationType>(42)), nullptr);
  EXPECT_NE(net->GetLastError().message().find("42"), std::string::npos);
  EXPECT_EQ(net->AddIPoolNode(x, static_cast<PoolMode>(0)), nullptr);
  EXPECT_EQ(net->AddIElementwiseNode(x, x, static_cast<ElementwiseOp>(-1)), nullptr);
  EXPECT_EQ(net->AddInput(static_cast<DataType>(77), Dims{1}), nullptr);
  EXPECT_EQ(net->AddInput(DataType::FLOAT32, Dims{1, -2}), nullptr);
  EXPECT_EQ(net->AddIConstNode(DataType::FLOAT32, Dims{2, -1}, nullptr), nullptr);
  EXPECT_EQ(net->AddIConstNode(DataType::FLOAT32, Dims{2}, nullptr), nullptr);
  EXPECT_EQ(net->AddIConcatNode({}, 0), nullptr);
  EXPECT_EQ(net->AddISoftmaxNode(x, 4), nullptr);
  EXPECT_EQ(net->AddIFlattenNode(x, 5), nullptr);
}

TEST(NetworkTest, EveryOpHasAShape) {
  auto net = CreateINetwork();
  ITensor* x = net->AddInput(DataType::FLOAT32, Dims{2, 4, 6, 6});
  IPoolNode* pool = net->AddIPoolNode(x, PoolMode::kMax);
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(pool->SetKernel(2, 2).ok());
  ASSERT_TRUE(pool->SetStride(2, 2).ok());
  EXPECT_EQ(pool->GetOutput(0)->GetDimension(), (Dims{2, 4, 3, 3}));
  IPoolNode* gap = net->AddIPoolNode(x, PoolMode::kGlobalAverage);
  EXPECT_EQ(gap->GetOutput(0)->GetDimension(), (Dims{2, 4, 1, 1}));
  IFlattenNode* flat = net->AddIFlattenNode(gap->GetOutput(0), 1);
  EXPECT_EQ(flat->GetOutput(0)->GetDimension(), (Dims{2, 4}));
  IFullyConnectedNode* fc =
      net->AddIFullyConnectedNode(flat->GetOutput(0), Const(net.get(), Dims{10, 4}), nullptr);
  ASSERT_NE(fc, nullptr);
  EXPECT_EQ(fc->GetOutput(0)->GetDimension(), (Dims{2, 10}));
  ISoftmaxNode* sm = net->AddISoftmaxNode(fc->GetOutput(0), -1);
  EXPECT_EQ(sm->GetAxis(), 1);
  IConcatNode* cat = net->AddIConcatNode({x, x}, 1);
  EXPECT_EQ(cat->GetOutput(0)->GetDimension(), (Dims{2, 8, 6, 6}));
  ITransposeNode* tr = net->AddITransposeNode(x, {0, 2, 3, 1});
  EXPECT_EQ(tr->GetOutput(0)->GetDimension(), (Dims{2, 6, 6, 4}));
  IReshapeNode* rs = net->AddIReshapeNode(x, Dims{0, -1});
  EXPECT_EQ(rs->GetOutput(0)->GetDimension(), (Dims{2, 144}));
  IMatMulNode* mm = net->AddIMatMulNode(x, x);
  EXPECT_EQ(mm->GetOutput(0)->GetDimension(), (Dims{2, 4, 6, 6}));
  IBatchNormNode* bn =
      net->AddIBatchNormNode(x, Const(net.get(), Dims{4}), Const(net.get(), Dims{4}, 1.0f),
                             Const(net.get(), Dims{4}), Const(net.get(), Dims{4}));
  ASSERT_NE(bn, nullptr);
  EXPECT_FALSE(bn->SetEpsilon(0.0f).ok());
  EXPECT_EQ(bn->GetOutput(0)->GetDimension(), (Dims{2, 4, 6, 6}));
}

}  // namespace
}  // namespace qsdk
