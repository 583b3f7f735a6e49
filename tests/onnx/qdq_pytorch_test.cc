// A QDQ model quantized by PyTorch (tests/onnx/data/qdq_cnn, made by
// tools/export_qdq_model.py: a small Fashion-MNIST CNN, conv-relu, a residual block,
// max pool, linear; post-training static quantization, backend onednn, exported by
// torch.onnx at opset 13) against PyTorch's own quantized outputs on 16 test images.
//
// qsdk takes the model's quantization as it is: the importer makes Quantize / Dequantize
// nodes with exactly its parameters, FoldQdq folds them into INT8 kernels (no
// calibration), and the result must reproduce PyTorch's quantized logits:
//   - at most 1 output quantization step (the last layer's output scale) from PyTorch's
//     dequantized logits, element by element: both compute the same integer accumulations;
//     requantization of an intermediate tensor may round a value lying within float
//     rounding of a tie the other way (PyTorch's oneDNN epilogue vs the contract's float
//     steps), and such a 1-code change moves the logits by far less than their step;
//   - the same argmax on every image.
// Checked three ways: the reference interpreter and the runtime on the graph the passes
// produce (the builder's pass order), and a model built by IBuilder with the default
// configuration.
#include <gtest/gtest.h>

#include <onnx/onnx_pb.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "builder/passes/pass.h"
#include "graph/network_impl.h"
#include "graph/shape_inference.h"
#include "onnx/onnx_test_util.h"
#include "onnx/tensor_data.h"
#include "reference/reference.h"
#include "runtime/engine.h"

namespace qsdk::onnx_test {
namespace {

const std::string kDir = std::string(QSDK_ONNX_TEST_DATA_DIR) + "/qdq_cnn";

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// A FLOAT TensorProto file of the ONNX test-data layout as a qsdk tensor.
Tensor ReadTensor(const std::string& path) {
  ::onnx::TensorProto proto;
  EXPECT_TRUE(proto.ParseFromString(ReadFile(path))) << path;
  onnx::HostTensor host;
  const Status s = onnx::DecodeTensor(proto, path, "", &host);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(host.is_float()) << path;
  Tensor t = Tensor::Allocate(DataType::FLOAT32, Dims(host.dims()));
  for (int64_t i = 0; i < host.count(); ++i) t.Data<float>()[i] = host.floats()[i];
  return t;
}

struct PyTorchData {
  ::onnx::ModelProto model;
  Tensor images;    // [16, 1, 28, 28]
  Tensor expected;  // PyTorch's quantized model, dequantized logits [16, 10]
};

const PyTorchData& Data() {
  static const PyTorchData* data = [] {
    auto* d = new PyTorchData;
    EXPECT_TRUE(d->model.ParseFromString(ReadFile(kDir + "/model.onnx"))) << kDir;
    d->images = ReadTensor(kDir + "/test_data_set_0/input_0.pb");
    d->expected = ReadTensor(kDir + "/test_data_set_0/output_0.pb");
    return d;
  }();
  return *data;
}

std::unique_ptr<INetwork> ParseModel() {
  std::unique_ptr<INetwork> network;
  const Status s = Parse(Data().model, &network);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return network;
}

// The scale of the logits' quantization: the graph output is PyTorch's final
// DequantizeLinear, which the importer made a Dequantize node.
float OutputStep(const INetwork& network) {
  const INode* producer = network.GetOutputs().at(0)->GetProducer();
  if (producer == nullptr || producer->GetNodeType() != NodeType::kDequantize) {
    ADD_FAILURE() << "the output is not produced by a Dequantize";
    return 0.0f;
  }
  return static_cast<const IDequantizeNode*>(producer)->GetScales().at(0);
}

// |got - PyTorch| <= 1 output step everywhere, and the same argmax per image; records the
// largest difference (in steps) as a test property.
void ExpectMatchesPyTorch(const Tensor& got, float step, const std::string& what) {
  const Tensor& want = Data().expected;
  ASSERT_EQ(got.GetDimension(), want.GetDimension()) << what;
  const int64_t images = want.GetDimension().GetDims()[0];
  const int64_t classes = want.GetDimension().GetDims()[1];
  double worst = 0;
  int64_t differing = 0;
  for (int64_t i = 0; i < images; ++i) {
    int64_t arg_got = 0, arg_want = 0;
    for (int64_t c = 0; c < classes; ++c) {
      const float g = got.Data<float>()[i * classes + c];
      const float w = want.Data<float>()[i * classes + c];
      worst = std::max(worst, std::fabs(static_cast<double>(g) - w) / step);
      differing += g != w;
      if (g > got.Data<float>()[i * classes + arg_got]) arg_got = c;
      if (w > want.Data<float>()[i * classes + arg_want]) arg_want = c;
    }
    EXPECT_EQ(arg_got, arg_want) << what << ": image " << i;
  }
  // Logits are dequantized codes: a difference is a whole number of steps (to rounding).
  EXPECT_LE(worst, 1.0 + 1e-4) << what;
  ::testing::Test::RecordProperty(what + "_max_steps", std::to_string(worst));
  ::testing::Test::RecordProperty(what + "_differing_logits", std::to_string(differing));
  std::cout << what << ": max |qsdk - PyTorch| = " << worst << " output steps (step " << step
            << "); " << differing << " of " << want.GetElementCount() << " logits differ\n";
}

TEST(OnnxPyTorchQdqTest, ImportKeepsTheModelsQuantization) {
  std::unique_ptr<INetwork> network = ParseModel();
  ASSERT_NE(network, nullptr);
  // PyTorch's export: 8 QuantizeLinear on activations, 17 DequantizeLinear (9 of
  // activations, 8 of weights and INT32 biases).
  EXPECT_EQ(CountNodes(*network, NodeType::kQuantize), 8);
  EXPECT_EQ(CountNodes(*network, NodeType::kDequantize), 17);
  EXPECT_EQ(CountNodes(*network, NodeType::kConv), 3);
  EXPECT_EQ(CountNodes(*network, NodeType::kFullyConnected), 1);
  // The first QuantizeLinear (of the image): its parameters exactly as in the file.
  const INode* q = nullptr;
  for (int64_t i = 0; i < network->GetNodeCount(); ++i) {
    const INode* n = network->GetNode(i);
    if (n->GetNodeType() == NodeType::kQuantize && n->GetInput(0) == network->GetInputs()[0]) {
      q = n;
    }
  }
  ASSERT_NE(q, nullptr);
  const auto* quantize = static_cast<const IQuantizeNode*>(q);
  EXPECT_EQ(quantize->GetQuantizedType(), DataType::UINT8);
  ASSERT_EQ(quantize->GetScales().size(), 1u);
  EXPECT_EQ(quantize->GetAxis(), -1);
  // Compared with the initializers the node reads.
  const ::onnx::GraphProto& graph = Data().model.graph();
  std::map<std::string, const ::onnx::TensorProto*> initializers;
  for (const auto& t : graph.initializer()) initializers[t.name()] = &t;
  for (const auto& n : graph.node()) {
    if (n.op_type() != "QuantizeLinear" || n.input(0) != "image") continue;
    onnx::HostTensor scale, zero_point;
    ASSERT_TRUE(onnx::DecodeTensor(*initializers.at(n.input(1)), "scale", "", &scale).ok());
    ASSERT_TRUE(onnx::DecodeTensor(*initializers.at(n.input(2)), "zp", "", &zero_point).ok());
    EXPECT_EQ(quantize->GetScales()[0], scale.floats()[0]);
    EXPECT_EQ(quantize->GetZeroPoints()[0], zero_point.IntAt(0));
  }
}

TEST(OnnxPyTorchQdqTest, FoldedGraphMatchesPyTorchOnTheReferenceAndTheRuntime) {
  std::unique_ptr<INetwork> network = ParseModel();
  ASSERT_NE(network, nullptr);
  const float step = OutputStep(*network);
  // The builder's passes, in its order, then the Q/DQ folding.
  auto g = std::make_shared<graph::Graph>(
      dynamic_cast<const graph::NetworkImpl&>(*network).graph());
  ASSERT_TRUE(graph::InferShapes(g.get()).ok());
  ASSERT_TRUE(builder::FoldConstants(g.get()).ok());
  ASSERT_TRUE(builder::FoldBatchNorm(g.get()).ok());
  ASSERT_TRUE(builder::FuseResiduals(g.get()).ok());
  ASSERT_TRUE(builder::FuseActivations(g.get()).ok());
  ASSERT_TRUE(builder::RemoveDeadNodes(g.get()).ok());
  builder::QdqFoldingNotes notes;
  const Status folded = builder::FoldQdq(g.get(), &notes);
  ASSERT_TRUE(folded.ok()) << folded.ToString();
  std::string all;
  for (const auto* list : {&notes.folded, &notes.kept, &notes.materialized}) {
    for (const std::string& n : *list) all += n + "\n";
  }
  // Everything folds: the image's Quantize and the logits' Dequantize remain, the network's
  // FLOAT32 boundary; the three convs, the add, the pool, the flatten and the FC are
  // quantized kernels (the Relu after the add is absorbed by the Quantize after it).
  int quantize = 0, dequantize = 0, explicit_nodes = 0;
  for (const graph::Node& n : g->nodes) {
    quantize += n.type == NodeType::kQuantize;
    dequantize += n.type == NodeType::kDequantize;
    explicit_nodes += n.attrs.GetInt(builder::kExplicitQuantizationAttr, 0) == 1;
    EXPECT_NE(n.type, NodeType::kActivation) << n.name << "\n" << all;
  }
  EXPECT_EQ(quantize, 1) << all;
  EXPECT_EQ(dequantize, 1) << all;
  EXPECT_EQ(explicit_nodes, 7) << all;
  EXPECT_TRUE(notes.materialized.empty()) << all;

  std::vector<Tensor> reference_out;
  const Status ran = reference::RunGraph(*g, {Data().images}, &reference_out);
  ASSERT_TRUE(ran.ok()) << ran.ToString();
  ASSERT_EQ(reference_out.size(), 1u);
  ExpectMatchesPyTorch(reference_out[0], step, "reference");

  std::unique_ptr<IEngine> engine;
  const Status created = runtime::CreateEngine(g, &engine);
  ASSERT_TRUE(created.ok()) << created.ToString();
  std::unique_ptr<IContext> context;
  ASSERT_TRUE(engine->CreateIContext(&context).ok());
  std::vector<Tensor> runtime_out;
  const Status executed = context->Execute({Data().images}, &runtime_out);
  ASSERT_TRUE(executed.ok()) << executed.ToString();
  ASSERT_EQ(runtime_out.size(), 1u);
  ExpectMatchesPyTorch(runtime_out[0], step, "runtime");
}

TEST(OnnxPyTorchQdqTest, DefaultBuildMatchesPyTorch) {
  std::unique_ptr<INetwork> network = ParseModel();
  ASSERT_NE(network, nullptr);
  const float step = OutputStep(*network);
  // The default configuration: no precision mode, no calibration. The model's own
  // quantization is used.
  std::unique_ptr<IModel> model;
  std::vector<Tensor> out;
  const Status s = BuildAndRun(*network, "{}", {Data().images}, &out, &model);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(out.size(), 1u);
  ExpectMatchesPyTorch(out[0], step, "built model");
  // The report: the convs and the FC compute INT8; only the boundary Quantize and
  // Dequantize run as kernels of their own.
  int quantize = 0, dequantize = 0;
  for (const NodeReport& n : model->GetBuildReport().nodes) {
    quantize += n.type == NodeType::kQuantize;
    dequantize += n.type == NodeType::kDequantize;
    if (n.type == NodeType::kConv || n.type == NodeType::kFullyConnected) {
      EXPECT_EQ(n.precision, "INT8_EXPLICIT") << n.name;
    }
  }
  EXPECT_EQ(quantize, 1);
  EXPECT_EQ(dequantize, 1);
}

}  // namespace
}  // namespace qsdk::onnx_test
