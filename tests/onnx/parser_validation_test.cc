// Bad inputs to the ONNX parser: every one must give a status naming the culprit (file,
// node, tensor, attribute), never a crash, and leave the network empty.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "onnx/onnx_test_util.h"

namespace qsdk::onnx_test {
namespace {

namespace fs = std::filesystem;
// x [1, 2, 4, 4] -> Conv(w [3, 2, 1, 1]) -> Relu -> y.
ModelBuilder ConvRelu(int64_t opset = 13) {
  ModelBuilder m(opset);
  m.Input("x", {1, 2, 4, 4}).Output("y");
  m.Floats("w", {3, 2, 1, 1}, {1, 2, 3, 4, 5, 6});
  m.Node("Conv", {"x", "w"}, {"c"}, "conv");
  m.Node("Relu", {"c"}, {"y"}, "relu");
  return m;
}

bool Contains(const Status& s, const std::string& text) {
  return s.message().find(text) != std::string::npos;
}

#define EXPECT_MENTIONS(status, text) \
  EXPECT_TRUE(Contains(status, text)) << "missing '" << (text) << "' in: " << (status).ToString()

// Parses `m` and expects a failure with `code` whose message mentions each of `texts`;
// the network must stay empty.
void ExpectRejected(const ::onnx::ModelProto& m, StatusCode code,
                    const std::vector<std::string>& texts, const std::string& dir = "") {
  std::unique_ptr<INetwork> network;
  const Status s = Parse(m, &network, dir);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), code) << s.ToString();
  for (const std::string& t : texts) EXPECT_MENTIONS(s, t);
  EXPECT_EQ(network->GetNodeCount(), 0);
  EXPECT_TRUE(network->GetInputs().empty());
}

// A folder removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/qsdk_onnx_test_XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(OnnxValidationTest, ValidModelParses) {
  std::unique_ptr<INetwork> network;
  const Status s = Parse(ConvRelu().model(), &network);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(network->GetNodeCount(), 3);  // Const w, Conv, Activation
}

TEST(OnnxValidationTest, GarbageAndEmptyBytes) {
  auto network = CreateINetwork();
  auto parser = CreateIParser();
  // 0xff... is an invalid tag / varint: protobuf cannot parse it.
  const std::string garbage(64, '\xff');
  Status s = parser->ParseFromMemory(garbage.data(), garbage.size(), network.get());
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_MENTIONS(s, "malformed or truncated");
  s = parser->ParseFromMemory(garbage.data(), 0, network.get());
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  s = parser->ParseFromMemory(nullptr, 10, network.get());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(network->GetNodeCount(), 0);
}

TEST(OnnxValidationTest, EveryTruncationIsRejected) {
  ModelBuilder m = ConvRelu();
  // A large initializer so that most cut points fall inside its raw data.
  m.Floats("unused", {256}, std::vector<float>(256, 0.5f));
  const std::string bytes = m.Serialize();
  auto parser = CreateIParser();
  int data_loss = 0;
  for (size_t size = 1; size < bytes.size(); size += 3) {
    auto network = CreateINetwork();
    const Status s = parser->ParseFromMemory(bytes.data(), size, network.get());
    ASSERT_FALSE(s.ok()) << "prefix of " << size << " of " << bytes.size() << " bytes parsed";
    data_loss += s.code() == StatusCode::kDataLoss;
    EXPECT_EQ(network->GetNodeCount(), 0);
  }
  // Most cuts land inside a field: a protobuf parse failure.
  EXPECT_GT(data_loss, 0);
}

TEST(OnnxValidationTest, CorruptedBytesNeverCrash) {
  // A model touching most importer paths, with bytes overwritten at random (fixed seed):
  // every parse must end in a status (ok or not), and a parsed network must be usable.
  ModelBuilder m(13);
  m.Input("x", {-1, 2, 6, 6}).Output("y");
  m.Floats("w", {4, 2, 3, 3}, std::vector<float>(72, 0.1f)).Floats("b", {4}, {0, 1, 2, 3});
  ::onnx::NodeProto* conv = m.Node("Conv", {"x", "w", "b"}, {"c"}, "conv");
  SetAttr(conv, "pads", std::vector<int64_t>{1, 1, 1, 1});
  SetAttr(conv, "strides", std::vector<int64_t>{2, 2});
  ::onnx::NodeProto* pool = m.Node("AveragePool", {"c"}, {"p"}, "pool");
  SetAttr(pool, "kernel_shape", std::vector<int64_t>{2, 2});
  SetAttr(pool, "auto_pad", std::string("SAME_UPPER"));
  m.Ints("shape", ::onnx::TensorProto_DataType_INT64, {2}, {0, -1});
  m.Node("Reshape", {"p", "shape"}, {"r"}, "reshape");
  m.Floats("fc", {3, 16}, std::vector<float>(48, 0.2f));
  SetAttr(m.Node("Gemm", {"r", "fc"}, {"g"}, "gemm"), "transB", int64_t{1});
  SetAttr(m.Node("Softmax", {"g"}, {"y"}, "softmax"), "axis", int64_t{1});
  const std::string bytes = m.Serialize();
  std::mt19937 rng(1234);
  auto parser = CreateIParser();
  int parsed = 0;
  for (int iteration = 0; iteration < 400; ++iteration) {
    std::string corrupt = bytes;
    const int flips = 1 + iteration % 4;
    for (int f = 0; f < flips; ++f) {
      corrupt[rng() % corrupt.size()] = static_cast<char>(rng() & 0xff);
    }
    auto network = CreateINetwork();
    const Status s = parser->ParseFromMemory(corrupt.data(), corrupt.size(), network.get());
    if (s.ok()) {
      ++parsed;
      EXPECT_GE(network->GetOutputs().size(), 1u);
    } else {
      EXPECT_FALSE(s.message().empty());
      EXPECT_EQ(network->GetNodeCount(), 0);
    }
  }
  // Some corruptions hit weight bytes only and still parse.
  EXPECT_GT(parsed, 0);
}

TEST(OnnxValidationTest, FileErrors) {
  auto parser = CreateIParser();
  auto network = CreateINetwork();
  Status s = parser->ParseFromFile("/nonexistent/model.onnx", network.get());
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_MENTIONS(s, "/nonexistent/model.onnx");
  TempDir dir;
  s = parser->ParseFromFile(dir.path(), network.get());
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  const fs::path truncated = fs::path(dir.path()) / "truncated.onnx";
  const std::string bytes = ConvRelu().Serialize();
  WriteFile(truncated, bytes.substr(0, bytes.size() / 2));
  s = parser->ParseFromFile(truncated.string(), network.get());
  EXPECT_FALSE(s.ok());
  EXPECT_MENTIONS(s, "truncated.onnx");
  const fs::path good = fs::path(dir.path()) / "good.onnx";
  WriteFile(good, bytes);
  s = parser->ParseFromFile(good.string(), network.get());
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(OnnxValidationTest, NetworkMustBeEmpty) {
  const std::string bytes = ConvRelu().Serialize();
  auto parser = CreateIParser();
  Status s = parser->ParseFromMemory(bytes.data(), bytes.size(), nullptr);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  auto network = CreateINetwork();
  ASSERT_NE(network->AddInput(DataType::FLOAT32, Dims{1}), nullptr);
  s = parser->ParseFromMemory(bytes.data(), bytes.size(), network.get());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_EQ(network->GetInputs().size(), 1u);
}

TEST(OnnxValidationTest, UnsupportedOpsAreListedInOneMessage) {
  ModelBuilder m(13);
  m.Input("x", {1, 4}).Output("y");
  ::onnx::NodeProto* custom = m.Node("FusedConv", {"x"}, {"a"}, "n9");
  custom->set_domain("com.microsoft");
  m.Node("Relu", {"a"}, {"b"}, "ok");
  m.Node("LSTM", {"b"}, {"c"}, "n1");
  m.Node("Resize", {"c"}, {"d"}, "n7");
  m.Node("Foo", {"d"}, {"y"});  // unnamed: named after its op and position
  ExpectRejected(m.model(), StatusCode::kUnimplemented,
                 {"4 nodes use unsupported ops: 'n9' (com.microsoft.FusedConv), 'n1' (LSTM), "
                  "'n7' (Resize), 'Foo_4' (Foo)"});
  // The supported one is not listed.
  std::unique_ptr<INetwork> network;
  EXPECT_FALSE(Contains(Parse(m.model(), &network), "'ok'"));
}

TEST(OnnxValidationTest, OpsetOutsideRange) {
  ExpectRejected(ConvRelu(10).model(), StatusCode::kVersionMismatch, {"opset 10", "11 to 17"});
  ExpectRejected(ConvRelu(18).model(), StatusCode::kVersionMismatch, {"opset 18"});
  ModelBuilder m = ConvRelu();
  m.model().mutable_opset_import(0)->set_domain("ai.onnx.ml");
  ExpectRejected(m.model(), StatusCode::kInvalidArgument, {"default domain"});
  ModelBuilder twice = ConvRelu();
  ::onnx::OperatorSetIdProto* again = twice.model().add_opset_import();
  again->set_domain("ai.onnx");
  again->set_version(12);
  ExpectRejected(twice.model(), StatusCode::kInvalidArgument, {"twice"});
}

TEST(OnnxValidationTest, InitializerSizeMustMatchShape) {
  ModelBuilder raw = ConvRelu();
  // 6 floats declared, 5 floats of raw data.
  raw.graph()->mutable_initializer(0)->mutable_raw_data()->resize(20);
  ExpectRejected(raw.model(), StatusCode::kDataLoss,
                 {"initializer 'w'", "[3,2,1,1]", "24 bytes", "holds 20"});
  ModelBuilder typed = ConvRelu();
  ::onnx::TensorProto* w = typed.graph()->mutable_initializer(0);
  w->clear_raw_data();
  for (int i = 0; i < 7; ++i) w->add_float_data(1.0f);
  ExpectRejected(typed.model(), StatusCode::kDataLoss,
                 {"initializer 'w'", "6 elements", "'float_data' holds 7"});
  ModelBuilder negative = ConvRelu();
  negative.graph()->mutable_initializer(0)->set_dims(0, -3);
  ExpectRejected(negative.model(), StatusCode::kInvalidArgument, {"initializer 'w'", "-3"});
}

TEST(OnnxValidationTest, RawDataAndTypedFieldsAreExclusive) {
  ModelBuilder both = ConvRelu();
  both.graph()->mutable_initializer(0)->add_float_data(1.0f);
  ExpectRejected(both.model(), StatusCode::kInvalidArgument,
                 {"initializer 'w'", "'raw_data'", "'float_data'", "exactly one"});
  ModelBuilder wrong_field = ConvRelu();
  ::onnx::TensorProto* w = wrong_field.graph()->mutable_initializer(0);
  w->clear_raw_data();
  for (int i = 0; i < 6; ++i) w->add_int64_data(1);
  ExpectRejected(wrong_field.model(), StatusCode::kInvalidArgument,
                 {"initializer 'w'", "'int64_data'", "'float_data' or 'raw_data'"});
  ModelBuilder no_data = ConvRelu();
  no_data.graph()->mutable_initializer(0)->clear_raw_data();
  ExpectRejected(no_data.model(), StatusCode::kDataLoss, {"initializer 'w'", "holds 0 values"});
}

TEST(OnnxValidationTest, UnsupportedTypes) {
  ModelBuilder dbl = ConvRelu();
  dbl.graph()->mutable_initializer(0)->set_data_type(TensorProto_DataType_DOUBLE);
  ExpectRejected(dbl.model(), StatusCode::kUnimplemented, {"initializer 'w'", "DOUBLE"});
  ModelBuilder half(13);
  half.Input("x", {1, 4}, TensorProto_DataType_FLOAT16).Output("y");
  half.Node("Relu", {"x"}, {"y"});
  ExpectRejected(half.model(), StatusCode::kUnimplemented, {"graph input 'x'", "FLOAT16"});
  // An INT8 initializer whose int32_data value does not fit INT8.
  ModelBuilder range = ConvRelu();
  ::onnx::TensorProto* q = range.graph()->add_initializer();
  q->set_name("q");
  q->set_data_type(TensorProto_DataType_INT8);
  q->add_dims(1);
  q->add_int32_data(300);
  ExpectRejected(range.model(), StatusCode::kInvalidArgument, {"initializer 'q'", "300", "INT8"});
  // An INT64 constant where FLOAT data is needed.
  ModelBuilder int_operand(13);
  int_operand.Input("x", {2}).Output("y");
  int_operand.Ints("k", TensorProto_DataType_INT64, {2}, {1, 2});
  int_operand.Node("Add", {"x", "k"}, {"y"}, "add");
  ExpectRejected(int_operand.model(), StatusCode::kUnimplemented,
                 {"node 'add' (Add)", "'k'", "INT64"});
}

TEST(OnnxValidationTest, MissingAndMisorderedInputs) {
  ModelBuilder missing = ConvRelu();
  missing.graph()->mutable_node(1)->set_input(0, "ghost");
  ExpectRejected(missing.model(), StatusCode::kInvalidArgument,
                 {"node 'relu' (Relu)", "'ghost'", "missing"});
  ModelBuilder order = ConvRelu();
  order.graph()->mutable_node()->SwapElements(0, 1);
  ExpectRejected(order.model(), StatusCode::kInvalidArgument,
                 {"node 'relu' (Relu)", "'c'", "node 'conv' (Conv)", "topological order"});
  ModelBuilder twice = ConvRelu();
  twice.graph()->mutable_node(1)->set_output(0, "c");
  twice.graph()->mutable_output(0)->set_name("c");
  ExpectRejected(twice.model(), StatusCode::kInvalidArgument, {"'c'", "defined once"});
  ModelBuilder no_output = ConvRelu();
  no_output.graph()->mutable_output(0)->set_name("nowhere");
  ExpectRejected(no_output.model(), StatusCode::kInvalidArgument, {"output 'nowhere'"});
  ModelBuilder required = ConvRelu();
  required.graph()->mutable_node(0)->set_input(1, "");
  ExpectRejected(required.model(), StatusCode::kInvalidArgument,
                 {"node 'conv' (Conv)", "input 1", "missing"});
}

TEST(OnnxValidationTest, AttributeTypesAreChecked) {
  ModelBuilder m = ConvRelu();
  SetAttr(m.graph()->mutable_node(0), "strides", std::vector<float>{1.0f, 1.0f});
  ExpectRejected(m.model(), StatusCode::kInvalidArgument,
                 {"node 'conv' (Conv)", "attribute 'strides'", "FLOATS", "INTS"});
  ModelBuilder leaky(13);
  leaky.Input("x", {4}).Output("y");
  SetAttr(leaky.Node("LeakyRelu", {"x"}, {"y"}, "lr"), "alpha", int64_t{1});
  ExpectRejected(leaky.model(), StatusCode::kInvalidArgument, {"'alpha'", "INT", "FLOAT"});
  ModelBuilder unknown = ConvRelu();
  SetAttr(unknown.graph()->mutable_node(1), "mystery", int64_t{1});
  ExpectRejected(unknown.model(), StatusCode::kUnimplemented,
                 {"node 'relu' (Relu)", "attribute 'mystery'"});
  ModelBuilder duplicate = ConvRelu();
  SetAttr(duplicate.graph()->mutable_node(0), "group", int64_t{1});
  SetAttr(duplicate.graph()->mutable_node(0), "group", int64_t{1});
  ExpectRejected(duplicate.model(), StatusCode::kInvalidArgument, {"'group'", "twice"});
}

TEST(OnnxValidationTest, UnsupportedFeaturesNameTheNode) {
  // Weights computed at run time.
  ModelBuilder dynamic_weights(13);
  dynamic_weights.Input("x", {1, 2, 4, 4}).Input("w", {3, 2, 1, 1}).Output("y");
  dynamic_weights.Node("Conv", {"x", "w"}, {"y"}, "conv");
  ExpectRejected(dynamic_weights.model(), StatusCode::kUnimplemented,
                 {"node 'conv' (Conv)", "'w'", "constant"});
  // 3-D pooling.
  ModelBuilder pool3d(13);
  pool3d.Input("x", {1, 1, 4, 4, 4}).Output("y");
  SetAttr(pool3d.Node("MaxPool", {"x"}, {"y"}, "pool"), "kernel_shape",
          std::vector<int64_t>{2, 2, 2});
  ExpectRejected(pool3d.model(), StatusCode::kUnimplemented,
                 {"node 'pool' (MaxPool)", "1-D and 2-D"});
  // A constant or quantized graph output.
  ModelBuilder constant_out(13);
  constant_out.Input("x", {2}).Output("k").Output("y");
  constant_out.Floats("k", {2}, {1, 2});
  constant_out.Node("Relu", {"x"}, {"y"});
  ExpectRejected(constant_out.model(), StatusCode::kUnimplemented, {"output 'k'", "constant"});
  ModelBuilder quantized_out(13);
  quantized_out.Input("x", {2}).Output("q");
  quantized_out.Floats("s", {}, {0.1f});
  quantized_out.Node("QuantizeLinear", {"x", "s"}, {"q"}, "quant");
  ExpectRejected(quantized_out.model(), StatusCode::kUnimplemented, {"'q'", "node 'quant'"});
}

TEST(OnnxValidationTest, FailureLeavesTheNetworkEmpty) {
  // The failure comes from the network itself, at the last node: the dry run catches it.
  ModelBuilder m = ConvRelu();
  m.Floats("w2", {3, 5, 1, 1}, std::vector<float>(15, 1.0f));  // 5 channels, the input has 3
  m.graph()->mutable_node(1)->set_output(0, "r");
  m.Node("Conv", {"r", "w2"}, {"y"}, "bad_conv");
  ExpectRejected(m.model(), StatusCode::kInvalidArgument, {"node 'bad_conv' (Conv)"});
}

// --- External data ----------------------------------------------------------------------

// ConvRelu with 'w' stored in `location` at `offset`.
ModelBuilder ExternalWeights(const std::string& location, int64_t offset = 0) {
  ModelBuilder m = ConvRelu();
  ::onnx::TensorProto* w = m.graph()->mutable_initializer(0);
  w->clear_raw_data();
  w->set_data_location(::onnx::TensorProto_DataLocation_EXTERNAL);
  auto* entry = w->add_external_data();
  entry->set_key("location");
  entry->set_value(location);
  if (offset > 0) {
    entry = w->add_external_data();
    entry->set_key("offset");
    entry->set_value(std::to_string(offset));
  }
  return m;
}

std::string WeightBytes(size_t padding = 0) {
  const float w[6] = {1, 2, 3, 4, 5, 6};
  return std::string(padding, 'p') + std::string(reinterpret_cast<const char*>(w), sizeof(w));
}

TEST(OnnxValidationTest, ExternalDataInsideTheFolderLoads) {
  TempDir dir;
  fs::create_directory(fs::path(dir.path()) / "weights");
  WriteFile(fs::path(dir.path()) / "weights" / "w.bin", WeightBytes(8));
  const ModelBuilder m = ExternalWeights("weights/./w.bin", 8);
  WriteFile(fs::path(dir.path()) / "model.onnx", m.Serialize());
  auto network = CreateINetwork();
  const Status s =
      CreateIParser()->ParseFromFile((fs::path(dir.path()) / "model.onnx").string(), network.get());
  ASSERT_TRUE(s.ok()) << s.ToString();
  // y = relu(conv(x)) with w = [[1,2],[3,4],[5,6]] on x = 1 everywhere: 3, 7, 11.
  Tensor x = Tensor::Allocate(DataType::FLOAT32, Dims{1, 2, 4, 4}, "x");
  for (int64_t i = 0; i < x.GetElementCount(); ++i) x.Data<float>()[i] = 1.0f;
  std::vector<Tensor> out;
  ASSERT_TRUE(BuildAndRun(*network, "{}", {x}, &out).ok());
  const std::vector<float> y = Values(out[0]);
  ASSERT_EQ(y.size(), 48u);
  EXPECT_EQ(y[0], 3.0f);  // exact: small integers
  EXPECT_EQ(y[16], 7.0f);
  EXPECT_EQ(y[32], 11.0f);
}

TEST(OnnxValidationTest, ExternalDataMayNotLeaveTheFolder) {
  TempDir outside;
  TempDir dir;
  WriteFile(fs::path(outside.path()) / "w.bin", WeightBytes());
  WriteFile(fs::path(dir.path()) / "w.bin", WeightBytes());
  const std::string rel_outside = "../" + fs::path(outside.path()).filename().string() + "/w.bin";
  ExpectRejected(ExternalWeights(rel_outside).model(), StatusCode::kInvalidArgument,
                 {"initializer 'w'", "climbs out"}, dir.path());
  ExpectRejected(ExternalWeights("sub/../../x.bin").model(), StatusCode::kInvalidArgument,
                 {"climbs out"}, dir.path());
  ExpectRejected(ExternalWeights(outside.path() + "/w.bin").model(), StatusCode::kInvalidArgument,
                 {"absolute"}, dir.path());
  // A symbolic link inside the folder that points outside it.
  fs::create_symlink(fs::path(outside.path()) / "w.bin", fs::path(dir.path()) / "link.bin");
  ExpectRejected(ExternalWeights("link.bin").model(), StatusCode::kInvalidArgument,
                 {"outside the model's folder"}, dir.path());
  // A linked folder too.
  fs::create_directory_symlink(outside.path(), fs::path(dir.path()) / "linked_dir");
  ExpectRejected(ExternalWeights("linked_dir/w.bin").model(), StatusCode::kInvalidArgument,
                 {"outside the model's folder"}, dir.path());
  // Memory without a folder: no external data at all.
  ExpectRejected(ExternalWeights("w.bin").model(), StatusCode::kInvalidArgument,
                 {"no model folder"}, "");
  // Sanity: the same model with the file inside the folder parses.
  std::unique_ptr<INetwork> network;
  EXPECT_TRUE(Parse(ExternalWeights("w.bin").model(), &network, dir.path()).ok());
}

TEST(OnnxValidationTest, ExternalDataSizeAndPresence) {
  TempDir dir;
  WriteFile(fs::path(dir.path()) / "short.bin", WeightBytes().substr(0, 20));
  WriteFile(fs::path(dir.path()) / "long.bin", WeightBytes() + "xx");
  ExpectRejected(ExternalWeights("missing.bin").model(), StatusCode::kNotFound, {"missing.bin"},
                 dir.path());
  ExpectRejected(ExternalWeights("short.bin").model(), StatusCode::kDataLoss, {"holds 20 bytes"},
                 dir.path());
  // Without 'length' the data runs to the end of the file: 2 bytes too many.
  ExpectRejected(ExternalWeights("long.bin").model(), StatusCode::kDataLoss, {"26 bytes"},
                 dir.path());
  ModelBuilder length = ExternalWeights("long.bin");
  auto* entry = length.graph()->mutable_initializer(0)->add_external_data();
  entry->set_key("length");
  entry->set_value("20");
  ExpectRejected(length.model(), StatusCode::kDataLoss, {"'length' = 20"}, dir.path());
  ModelBuilder bad_offset = ExternalWeights("long.bin");
  entry = bad_offset.graph()->mutable_initializer(0)->add_external_data();
  entry->set_key("offset");
  entry->set_value("-1");
  ExpectRejected(bad_offset.model(), StatusCode::kInvalidArgument, {"'offset' = '-1'"}, dir.path());
  ModelBuilder with_raw = ExternalWeights("long.bin");
  with_raw.graph()->mutable_initializer(0)->set_raw_data(WeightBytes());
  ExpectRejected(with_raw.model(), StatusCode::kInvalidArgument, {"EXTERNAL", "raw_data"},
                 dir.path());
}

}  // namespace
}  // namespace qsdk::onnx_test
