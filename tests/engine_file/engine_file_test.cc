#include "engine_file/engine_file.h"

#include <gtest/gtest.h>
#include <oneapi/dnnl/dnnl_version.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "engine_file/byte_io.h"
#include "engine_file/engine_file_test_util.h"
#include "engine_file/format.h"
#include "graph/shape_inference.h"
#include "qsdk/version.h"

namespace qsdk::engine_file {
namespace {

using testing::FindEncodedString;
using testing::GraphBuilder;
using testing::Rehash;
using testing::TensorField;
using testing::TensorFieldPos;

// A graph with every op type, every attribute value type, odd-sized constants, precision
// requests, a dynamic batch, a quantized branch (Quantize -> conv with INT8 per-channel
// weights and INT32 bias -> pool -> Dequantize) and ranges (per tensor, per axis, manual
// and calibrated). Shapes are inferred, as the builder would leave them.
graph::Graph EveryOpGraph() {
  GraphBuilder b;
  const auto x = b.Input("x", {-1, 3, 8, 8});
  // A manual range whose bits must survive: -0.0 and the largest float.
  b.g.tensors[x].range =
      testing::Range({-0.0f}, {std::numeric_limits<float>::max()}, -1, /*manual=*/true);
  // 4*3*3*3 floats = 432 bytes and 4 floats = 16 bytes: neither a multiple of 64.
  const auto w = b.Const("conv1_w", {4, 3, 3, 3}, 1);
  const auto bias = b.Const("conv1_b", {4}, 2);
  graph::AttrMap conv_attrs =
      testing::ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1, ActivationType::kClip);
  conv_attrs.SetFloat(graph::attr::kFusedAlpha, -0.5);
  conv_attrs.SetFloat(graph::attr::kFusedBeta, 6.25);
  // Attribute types no op uses yet (string, list of floats) with values that test exact
  // bit round-tripping: -0.0, a subnormal, the largest double, infinity.
  static const char kNote[] = "utf8 \xc3\xa9 and a NUL \0 inside";
  conv_attrs.SetString("note", std::string(kNote, sizeof(kNote) - 1));
  conv_attrs.SetFloats("scales", {-0.0, 4.9e-324, std::numeric_limits<double>::max(),
                                  std::numeric_limits<double>::infinity(), 0.1});
  conv_attrs.SetString("empty_string", "");
  conv_attrs.SetFloats("empty_floats", {});
  const auto conv = b.Op(NodeType::kConv, "conv1", {x, w, bias}, conv_attrs);

  graph::AttrMap act;
  act.SetInt(graph::attr::kActivation, static_cast<int64_t>(ActivationType::kLeakyRelu));
  act.SetFloat(graph::attr::kAlpha, 0.01);
  const auto relu = b.Op(NodeType::kActivation, "leaky", {conv}, act);

  const auto bn_mean = b.Const("bn_mean", {4}, 3);
  const auto bn_var = b.Const("bn_var_raw", {4}, 4);
  const auto bn_scale = b.Const("bn_scale", {4}, 5);
  const auto bn_bias = b.Const("bn_bias", {4}, 6);
  graph::AttrMap bn;
  bn.SetFloat(graph::attr::kEpsilon, 1e-5);
  // A BFLOAT16 round trip through two Casts (float storage types since format 2).
  const auto to_bf16 = b.Op(NodeType::kCast, "to_bf16", {relu});
  b.g.tensors[to_bf16].dtype = DataType::BFLOAT16;
  const auto from_bf16 = b.Op(NodeType::kCast, "from_bf16", {to_bf16});
  const auto bnorm =
      b.Op(NodeType::kBatchNorm, "bn", {from_bf16, bn_mean, bn_var, bn_scale, bn_bias}, bn);

  // Grouped conv without bias (absent optional input).
  const auto w2 = b.Const("conv2_w", {4, 2, 1, 1}, 7);
  const auto conv2 = b.Op(NodeType::kConv, "conv2", {bnorm, w2, graph::kNoTensor},
                          testing::ConvAttrs({1, 1}, {0, 0, 0, 0}, {1, 1}, 2));

  graph::AttrMap add;
  add.SetInt(graph::attr::kElementwiseOp, static_cast<int64_t>(ElementwiseOp::kAdd));
  const auto sum = b.Op(NodeType::kElementwise, "add", {bnorm, conv2}, add);

  graph::AttrMap concat;
  concat.SetInt(graph::attr::kAxis, 1);
  const auto cat = b.Op(NodeType::kConcat, "concat", {sum, conv2}, concat);  // [-1,8,8,8]

  const auto pool = b.Op(NodeType::kPool, "pool", {cat},
                         testing::PoolAttrs(PoolMode::kAverage, {2, 2}, {2, 2}));  // 4x4

  graph::AttrMap transpose;
  transpose.SetInts(graph::attr::kPerm, {0, 2, 3, 1});
  const auto tr = b.Op(NodeType::kTranspose, "transpose", {pool}, transpose);  // [-1,4,4,8]

  graph::AttrMap reshape;
  reshape.SetInts(graph::attr::kShape, {0, 16, 8});
  const auto rs = b.Op(NodeType::kReshape, "reshape", {tr}, reshape);  // [-1,16,8]

  const auto mm_b = b.Const("mm_b", {8, 5}, 8);  // 160 bytes
  graph::AttrMap mm;
  mm.SetInt(graph::attr::kTransposeA, 0);
  mm.SetInt(graph::attr::kTransposeB, 0);
  mm.SetInt(graph::attr::kFusedActivation, 0);
  const auto matmul = b.Op(NodeType::kMatMul, "matmul", {rs, mm_b, graph::kNoTensor}, mm);

  graph::AttrMap flatten;
  flatten.SetInt(graph::attr::kAxis, 1);
  const auto flat = b.Op(NodeType::kFlatten, "flatten", {matmul}, flatten);  // [-1,80]

  const auto fc_w = b.Const("fc_w", {3, 80}, 9);  // 960 bytes
  const auto fc_b = b.Const("fc_b", {3}, 10);     // 12 bytes
  graph::AttrMap fc;
  fc.SetInt(graph::attr::kFusedActivation, static_cast<int64_t>(ActivationType::kRelu));
  const auto fcy = b.Op(NodeType::kFullyConnected, "fc", {flat, fc_w, fc_b}, fc);

  graph::AttrMap softmax;
  softmax.SetInt(graph::attr::kAxis, 1);
  const auto prob = b.Op(NodeType::kSoftmax, "softmax", {fcy}, softmax);

  // The quantized branch; one weight scale is the smallest subnormal float, which is
  // finite and > 0 and must round-trip bit for bit.
  const auto deq = testing::QuantizedConvBranch(
      &b, x, 3, "q", {0.02f, std::numeric_limits<float>::denorm_min(), 0.025f, 0.03f});
  b.g.outputs = {prob, fcy, deq};
  // Calibrated ranges: per tensor on an op output, per output channel on FLOAT32 weights.
  b.g.tensors[conv].range = testing::Range({-3.5f}, {7.25f}, -1, /*manual=*/false);
  b.g.tensors[w].range = testing::Range({-1.0f, -0.5f, 1e-40f, -2.0f},
                                        {1.0f, 0.5f, 1e-38f, 2.0f}, 0, /*manual=*/false);

  // Precision requests (stored verbatim; not interpreted by the file layer).
  graph::Graph& g = b.g;
  g.nodes[g.FindNode("conv1")].input_precisions = {DataType::QINT8, DataType::QINT8,
                                                   DataType::INT32};
  g.nodes[g.FindNode("conv1")].output_types = {DataType::QUINT8};
  g.nodes[g.FindNode("fc")].output_types = {DataType::BFLOAT16};
  g.nodes[g.FindNode("matmul")].input_precisions = {DataType::FLOAT16, DataType::INVALID,
                                                    DataType::INVALID};
  return std::move(b.g);
}

EngineMetadata TestMeta() {
  EngineMetadata meta;
  meta.model_name = "every_op_model";
  meta.build_config_json = R"({"precision_mode":"force_float32","workspace":12})";
  meta.build_report_json = R"({"layers":[{"name":"qconv","precision":"int8"}]})";
  meta.required_isa = "avx512_core";
  // Write ignores these and writes its own versions.
  meta.qsdk_version = "garbage";
  meta.onednn_version = "garbage";
  return meta;
}

std::vector<uint8_t> MustWrite(const graph::Graph& g, const EngineMetadata& meta) {
  std::vector<uint8_t> bytes;
  const Status s = Write(g, meta, &bytes);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return bytes;
}

class EngineFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    graph_ = EveryOpGraph();
    ASSERT_TRUE(graph_.Validate().ok()) << graph_.Validate().ToString();
    const Status inferred = graph::InferShapes(&graph_);
    ASSERT_TRUE(inferred.ok()) << inferred.ToString();
    meta_ = TestMeta();
    bytes_ = MustWrite(graph_, meta_);
    ASSERT_FALSE(bytes_.empty());
  }

  Status ReadBytes(const std::vector<uint8_t>& bytes) {
    return Read(bytes.data(), bytes.size(), &read_graph_, &read_meta_);
  }

  // Sets element `index` of a 4-byte field of tensor `name`'s record to `value` (an
  // int32 or float bit pattern), recomputes the hashes and reads.
  Status ReadPatched(const std::string& name, TensorField field, size_t index, uint32_t value) {
    auto bytes = bytes_;
    const size_t pos = TensorFieldPos(bytes, name, field);
    EXPECT_NE(pos, std::string::npos) << name;
    if (pos == std::string::npos) return Status::Ok();
    StoreU32(bytes.data() + pos + 4 * index, value);
    Rehash(&bytes);
    return ReadBytes(bytes);
  }
  Status ReadPatchedFloat(const std::string& name, TensorField field, size_t index, float value) {
    uint32_t bits;
    std::memcpy(&bits, &value, sizeof(bits));
    return ReadPatched(name, field, index, bits);
  }

  graph::Graph graph_;
  EngineMetadata meta_;
  std::vector<uint8_t> bytes_;
  graph::Graph read_graph_;
  EngineMetadata read_meta_;
};

// Floats must round-trip bit for bit (so -0.0 stays -0.0): compares bit patterns.
void ExpectSameBits(const std::vector<float>& a, const std::vector<float>& b) {
  ASSERT_EQ(a.size(), b.size());
  if (!a.empty()) {
    EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
  }
}

void ExpectSameGraph(const graph::Graph& a, const graph::Graph& b) {
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t t = 0; t < a.tensors.size(); ++t) {
    SCOPED_TRACE("tensor " + a.tensors[t].name);
    EXPECT_EQ(a.tensors[t].name, b.tensors[t].name);
    EXPECT_EQ(a.tensors[t].dtype, b.tensors[t].dtype);
    EXPECT_EQ(a.tensors[t].shape, b.tensors[t].shape);
    EXPECT_EQ(a.tensors[t].producer, b.tensors[t].producer);
    ExpectSameBits(a.tensors[t].quant.scales, b.tensors[t].quant.scales);
    EXPECT_EQ(a.tensors[t].quant.zero_points, b.tensors[t].quant.zero_points);
    EXPECT_EQ(a.tensors[t].quant.axis, b.tensors[t].quant.axis);
    ExpectSameBits(a.tensors[t].range.min, b.tensors[t].range.min);
    ExpectSameBits(a.tensors[t].range.max, b.tensors[t].range.max);
    EXPECT_EQ(a.tensors[t].range.axis, b.tensors[t].range.axis);
    EXPECT_EQ(a.tensors[t].range.manual, b.tensors[t].range.manual);
    ASSERT_EQ(a.tensors[t].is_constant(), b.tensors[t].is_constant());
    if (a.tensors[t].is_constant()) {
      ASSERT_EQ(a.tensors[t].data->size(), b.tensors[t].data->size());
      // Constant bytes must be identical: exact comparison, no tolerance.
      EXPECT_EQ(0, std::memcmp(a.tensors[t].data->data(), b.tensors[t].data->data(),
                               a.tensors[t].data->size()));
      EXPECT_EQ(0u, reinterpret_cast<uintptr_t>(b.tensors[t].data->data()) % 64);
    }
  }
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t n = 0; n < a.nodes.size(); ++n) {
    SCOPED_TRACE("node " + a.nodes[n].name);
    EXPECT_EQ(a.nodes[n].type, b.nodes[n].type);
    EXPECT_EQ(a.nodes[n].name, b.nodes[n].name);
    EXPECT_EQ(a.nodes[n].inputs, b.nodes[n].inputs);
    EXPECT_EQ(a.nodes[n].outputs, b.nodes[n].outputs);
    EXPECT_EQ(a.nodes[n].input_precisions, b.nodes[n].input_precisions);
    EXPECT_EQ(a.nodes[n].output_types, b.nodes[n].output_types);
    ASSERT_EQ(a.nodes[n].attrs.values().size(), b.nodes[n].attrs.values().size());
    for (const auto& [key, value] : a.nodes[n].attrs.values()) {
      SCOPED_TRACE("attribute " + key);
      const auto it = b.nodes[n].attrs.values().find(key);
      ASSERT_NE(it, b.nodes[n].attrs.values().end());
      ASSERT_EQ(value.index(), it->second.index());
      // Doubles must round-trip bit for bit (so -0.0 stays -0.0): compare bit patterns.
      if (const auto* d = std::get_if<double>(&value)) {
        EXPECT_EQ(0, std::memcmp(d, &std::get<double>(it->second), sizeof(double)));
      } else if (const auto* v = std::get_if<std::vector<double>>(&value)) {
        const auto& w = std::get<std::vector<double>>(it->second);
        ASSERT_EQ(v->size(), w.size());
        if (!v->empty()) {
          EXPECT_EQ(0, std::memcmp(v->data(), w.data(), v->size() * sizeof(double)));
        }
      } else {
        EXPECT_TRUE(value == it->second);
      }
    }
  }
  EXPECT_EQ(a.inputs, b.inputs);
  EXPECT_EQ(a.outputs, b.outputs);
}

TEST_F(EngineFileTest, GraphCoversEveryOpTypeAndAttributeType) {
  // Guards the round-trip test below: adding a row to node_types.def or an alternative
  // to AttrValue must extend EveryOpGraph.
  std::set<NodeType> types;
  std::set<size_t> attr_kinds;
  for (const auto& node : graph_.nodes) {
    types.insert(node.type);
    for (const auto& [key, value] : node.attrs.values()) attr_kinds.insert(value.index());
  }
#define QSDK_NODE_TYPE(enumerator, id, name) \
  EXPECT_TRUE(types.count(NodeType::enumerator)) << "missing op " << name;
#include "qsdk/node_types.def"
  EXPECT_EQ(attr_kinds.size(), std::variant_size_v<graph::AttrValue>);

  // Every kind of quantized tensor and range the IR can hold.
  bool per_axis_int8_constant = false, int32_constant = false, per_tensor_uint8 = false,
       per_tensor_int8 = false, per_axis_range = false, manual_range = false,
       calibrated_range = false;
  for (const auto& t : graph_.tensors) {
    const bool q = !t.quant.empty();
    per_axis_int8_constant |=
        q && t.is_constant() && t.dtype == DataType::INT8 && t.quant.axis >= 0;
    int32_constant |= q && t.is_constant() && t.dtype == DataType::INT32;
    per_tensor_uint8 |= q && t.dtype == DataType::UINT8 && t.quant.axis == -1;
    per_tensor_int8 |= q && !t.is_constant() && t.dtype == DataType::INT8 && t.quant.axis == -1;
    per_axis_range |= !t.range.empty() && t.range.axis >= 0;
    manual_range |= !t.range.empty() && t.range.manual;
    calibrated_range |= !t.range.empty() && !t.range.manual;
  }
  EXPECT_TRUE(per_axis_int8_constant);
  EXPECT_TRUE(int32_constant);
  EXPECT_TRUE(per_tensor_uint8);
  EXPECT_TRUE(per_tensor_int8);
  EXPECT_TRUE(per_axis_range);
  EXPECT_TRUE(manual_range);
  EXPECT_TRUE(calibrated_range);

  // A tripwire for new fields: the serializer writes the members listed here. If
  // graph::Tensor, QuantParams or TensorRange gains a member, its size usually changes and
  // this fails: extend the format (and these mirrors). A member small enough to fit in
  // existing padding would slip through, so this is a reminder, not a proof.
  struct QuantMirror {
    std::vector<float> scales;
    std::vector<int32_t> zero_points;
    int32_t axis;
  };
  struct RangeMirror {
    std::vector<float> min, max;
    int32_t axis;
    bool manual;
  };
  struct TensorMirror {
    std::string name;
    DataType dtype;
    std::vector<int64_t> shape;
    std::shared_ptr<const AlignedBuffer> data;
    graph::NodeId producer;
    QuantMirror quant;
    RangeMirror range;
  };
  EXPECT_EQ(sizeof(graph::QuantParams), sizeof(QuantMirror));
  EXPECT_EQ(sizeof(graph::TensorRange), sizeof(RangeMirror));
  EXPECT_EQ(sizeof(graph::Tensor), sizeof(TensorMirror));
  EXPECT_EQ(sizeof(EngineMetadata), 6 * sizeof(std::string));
}

TEST_F(EngineFileTest, RoundTripsEveryOpAttributePrecisionAndConstant) {
  const Status s = ReadBytes(bytes_);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectSameGraph(graph_, read_graph_);
  // Dynamic batch survives.
  EXPECT_EQ(read_graph_.tensors[read_graph_.inputs[0]].shape, (std::vector<int64_t>{-1, 3, 8, 8}));
  EXPECT_EQ(read_graph_.tensors[read_graph_.outputs[0]].shape, (std::vector<int64_t>{-1, 3}));
  EXPECT_EQ(read_meta_.model_name, meta_.model_name);
  EXPECT_EQ(read_meta_.build_config_json, meta_.build_config_json);
  EXPECT_EQ(read_meta_.build_report_json, meta_.build_report_json);
  // The quantized branch keeps its types and parameters (ExpectSameGraph compared them
  // with the written graph; these check the graph really held them).
  const auto& qw = read_graph_.tensors[read_graph_.FindTensor("qconv_w")];
  EXPECT_EQ(qw.dtype, DataType::INT8);
  EXPECT_EQ(qw.quant.axis, 0);
  ASSERT_EQ(qw.quant.scales.size(), 4u);
  EXPECT_EQ(qw.quant.scales[1], std::numeric_limits<float>::denorm_min());
  EXPECT_EQ(read_graph_.tensors[read_graph_.FindTensor("qconv_b")].dtype, DataType::INT32);
  EXPECT_EQ(read_graph_.tensors[read_graph_.FindTensor("qpool_out")].dtype, DataType::INT8);
  EXPECT_EQ(read_graph_.tensors[read_graph_.FindTensor("qdequantize_out")].dtype,
            DataType::FLOAT32);
  EXPECT_TRUE(std::signbit(read_graph_.tensors[read_graph_.inputs[0]].range.min[0]));
  EXPECT_EQ(read_meta_.required_isa, "avx512_core");
  EXPECT_EQ(read_meta_.qsdk_version, std::string(GetVersionString()));
  EXPECT_EQ(read_meta_.onednn_version, std::to_string(DNNL_VERSION_MAJOR) + "." +
                                           std::to_string(DNNL_VERSION_MINOR) + "." +
                                           std::to_string(DNNL_VERSION_PATCH));
}

TEST_F(EngineFileTest, WriteIsDeterministicAndCanonical) {
  EXPECT_EQ(bytes_, MustWrite(graph_, meta_));
  // Writing what was read gives the same bytes: nothing is lost or reordered.
  ASSERT_TRUE(ReadBytes(bytes_).ok());
  EXPECT_EQ(bytes_, MustWrite(read_graph_, read_meta_));
}

TEST_F(EngineFileTest, ConstantsAre64ByteAlignedInTheFile) {
  FileInfo info;
  const Status s = Inspect(bytes_.data(), bytes_.size(), &info);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(info.format_version, kFormatVersion);
  EXPECT_EQ(info.file_size, bytes_.size());
  ASSERT_EQ(info.sections.size(), 2u);
  EXPECT_EQ(info.sections[0].kind, SectionKind::kMetadata);
  EXPECT_EQ(info.sections[1].kind, SectionKind::kWeights);
  EXPECT_EQ(info.sections[1].offset % 64, 0u);
  size_t constant_count = 0;
  for (const auto& t : graph_.tensors) constant_count += t.is_constant() ? 1 : 0;
  ASSERT_EQ(info.constants.size(), constant_count);
  for (const ConstantInfo& c : info.constants) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.offset % 64, 0u);
    EXPECT_EQ((info.sections[c.section].offset + c.offset) % 64, 0u);
    const auto& data = *graph_.tensors[c.tensor].data;
    ASSERT_EQ(c.size, data.size());
    EXPECT_EQ(0, std::memcmp(bytes_.data() + info.sections[c.section].offset + c.offset,
                             data.data(), data.size()));
  }
  // Odd sizes really were exercised: at least one constant is not a multiple of 64.
  bool odd = false;
  for (const ConstantInfo& c : info.constants) odd = odd || c.size % 64 != 0;
  EXPECT_TRUE(odd);
}

TEST_F(EngineFileTest, GraphWithoutConstantsHasOnlyTheMetadataSection) {
  GraphBuilder b;
  const auto x = b.Input("in", {2, 3});
  graph::AttrMap act;
  act.SetInt(graph::attr::kActivation, static_cast<int64_t>(ActivationType::kSigmoid));
  b.g.outputs = {b.Op(NodeType::kActivation, "sig", {x}, act)};
  ASSERT_TRUE(graph::InferShapes(&b.g).ok());
  EngineMetadata meta;  // empty strings, empty ISA
  const auto bytes = MustWrite(b.g, meta);
  FileInfo info;
  ASSERT_TRUE(Inspect(bytes.data(), bytes.size(), &info).ok());
  EXPECT_EQ(info.sections.size(), 1u);
  graph::Graph g;
  EngineMetadata m;
  const Status s = Read(bytes.data(), bytes.size(), &g, &m);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectSameGraph(b.g, g);
  EXPECT_EQ(m.required_isa, "");
}

TEST_F(EngineFileTest, NewerFormatVersionNamesBothVersions) {
  auto bytes = bytes_;
  StoreU32(bytes.data() + kOffFormatVersion, 7);
  // Checked before the header hash: a genuine newer file has a valid hash, a patched one
  // does not; both must give the version message.
  for (bool rehash : {false, true}) {
    if (rehash) Rehash(&bytes);
    const Status s = ReadBytes(bytes);
    EXPECT_EQ(s.code(), StatusCode::kVersionMismatch) << s.ToString();
    EXPECT_NE(s.message().find("engine file format version 7 is newer than this qsdk "
                               "(reads up to 2)"),
              std::string::npos)
        << s.message();
  }
}

TEST_F(EngineFileTest, VersionZeroIsDamage) {
  auto bytes = bytes_;
  StoreU32(bytes.data() + kOffFormatVersion, 0);
  const Status s = ReadBytes(bytes);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_NE(s.message().find("format version 0"), std::string::npos) << s.message();
}

TEST_F(EngineFileTest, BadMagic) {
  auto bytes = bytes_;
  bytes[3] = 'X';
  const Status s = ReadBytes(bytes);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("bad magic"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("not a qsdk engine file"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("51 53 44 58 45 4e 47 00"), std::string::npos) << s.message();
}

TEST_F(EngineFileTest, TruncatedAndExtendedFiles) {
  auto shorter = bytes_;
  shorter.pop_back();
  Status s = ReadBytes(shorter);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("file size of " + std::to_string(bytes_.size())), std::string::npos)
      << s.message();
  auto longer = bytes_;
  longer.push_back(0);
  s = ReadBytes(longer);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  s = ReadBytes(std::vector<uint8_t>(bytes_.begin(), bytes_.begin() + 5));
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("too small"), std::string::npos) << s.message();
  s = Read(nullptr, 0, &read_graph_, &read_meta_);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
}

TEST_F(EngineFileTest, HeaderChecksumMismatch) {
  auto bytes = bytes_;
  bytes[kOffQsdkVersion] ^= 0x01;  // still a valid version character
  const Status s = ReadBytes(bytes);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("header checksum mismatch"), std::string::npos) << s.message();
}

TEST_F(EngineFileTest, SectionChecksumMismatchNamesTheSection) {
  auto bytes = bytes_;
  bytes[bytes.size() - 1] ^= 0x20;  // last byte of the weights
  const Status s = ReadBytes(bytes);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("section 1 (weights) checksum mismatch"), std::string::npos)
      << s.message();
}

TEST_F(EngineFileTest, NonZeroPaddingBetweenSections) {
  const uint64_t metadata_end = testing::SectionOffset(bytes_, 0) + testing::SectionSize(bytes_, 0);
  const uint64_t weights = testing::SectionOffset(bytes_, 1);
  ASSERT_LT(metadata_end, weights) << "the test graph should leave padding before weights";
  auto bytes = bytes_;
  bytes[metadata_end] = 1;  // padding is not hashed: only the zero check catches this
  const Status s = ReadBytes(bytes);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("padding byte " + std::to_string(metadata_end)), std::string::npos)
      << s.message();
}

TEST_F(EngineFileTest, BadNodeTypeEnumWithValidHashes) {
  auto bytes = bytes_;
  // Node record: int32 type, then the name. "leaky" is only a node name (its tensor is
  // "leaky_out").
  const size_t name = FindEncodedString(bytes, "leaky");
  ASSERT_NE(name, std::string::npos);
  StoreU32(bytes.data() + name - 4, 999);
  Rehash(&bytes);
  const Status s = ReadBytes(bytes);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("has unknown node type 999"), std::string::npos) << s.message();
}

TEST_F(EngineFileTest, BadDataTypeEnumWithValidHashes) {
  auto bytes = bytes_;
  const size_t pos = TensorFieldPos(bytes, "conv1_out", TensorField::kDtype);
  ASSERT_NE(pos, std::string::npos);
  StoreU32(bytes.data() + pos, 77);
  Rehash(&bytes);
  const Status s = ReadBytes(bytes);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("'conv1_out' has invalid data type value 77"), std::string::npos)
      << s.message();
}

TEST_F(EngineFileTest, TensorIdOutOfRangeWithValidHashes) {
  auto bytes = bytes_;
  // Node record after the name: uint32 input count, then the input ids.
  const size_t name = FindEncodedString(bytes, "leaky");
  ASSERT_NE(name, std::string::npos);
  const size_t first_input = name + 4 + 5 + 4;
  ASSERT_EQ(LoadU32(bytes.data() + first_input - 4), 1u);
  StoreU32(bytes.data() + first_input, 1000);
  Rehash(&bytes);
  const Status s = ReadBytes(bytes);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("input 0 refers to tensor #1000, outside [-1, " +
                             std::to_string(graph_.tensors.size()) + ")"),
            std::string::npos)
      << s.message();
}

TEST_F(EngineFileTest, ConstantSizeMismatchWithValidHashes) {
  auto bytes = bytes_;
  const size_t pos = TensorFieldPos(bytes, "fc_w", TensorField::kDataSize);
  ASSERT_NE(pos, std::string::npos);
  ASSERT_EQ(LoadU64(bytes.data() + pos), 960u);
  StoreU64(bytes.data() + pos, 956);
  Rehash(&bytes);
  const Status s = ReadBytes(bytes);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("'fc_w' constant data size 956 does not match its shape [3,80] "
                             "and type FLOAT32 (960 bytes)"),
            std::string::npos)
      << s.message();
}

TEST_F(EngineFileTest, OverlappingConstantsWithValidHashes) {
  auto bytes = bytes_;
  // conv1_b (16 bytes) moved onto conv1_w's data.
  const size_t w = TensorFieldPos(bytes, "conv1_w", TensorField::kDataOffset);
  const size_t b = TensorFieldPos(bytes, "conv1_b", TensorField::kDataOffset);
  ASSERT_NE(w, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  StoreU64(bytes.data() + b, LoadU64(bytes.data() + w));
  Rehash(&bytes);
  const Status s = ReadBytes(bytes);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("overlap"), std::string::npos) << s.message();
}

TEST_F(EngineFileTest, MisalignedConstantWithValidHashes) {
  auto bytes = bytes_;
  const size_t pos = TensorFieldPos(bytes, "fc_b", TensorField::kDataOffset);
  ASSERT_NE(pos, std::string::npos);
  StoreU64(bytes.data() + pos, LoadU64(bytes.data() + pos) + 4);
  Rehash(&bytes);
  const Status s = ReadBytes(bytes);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("is not a multiple of 64"), std::string::npos) << s.message();
}

TEST_F(EngineFileTest, HugeCountIsRejectedBeforeAllocating) {
  auto bytes = bytes_;
  // The tensor count follows the two metadata strings; 2^31-1 records cannot fit.
  const size_t metadata = testing::SectionOffset(bytes, 0);
  const size_t count_pos = metadata + 4 + meta_.model_name.size() + 4 +
                           meta_.build_config_json.size() + 4 + meta_.build_report_json.size();
  ASSERT_EQ(LoadU32(bytes.data() + count_pos), graph_.tensors.size());
  StoreU32(bytes.data() + count_pos, 0x7FFFFFFF);
  Rehash(&bytes);
  const Status s = ReadBytes(bytes);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("tensor count 2147483647 needs at least"), std::string::npos)
      << s.message();
}

TEST_F(EngineFileTest, InvalidGraphIsInvalidArgument) {
  auto bytes = bytes_;
  // conv1's "group" attribute (int64 after the key and the kind byte) set to 0: decodes
  // fine, then shape inference rejects it.
  const size_t key = FindEncodedString(bytes, "group");
  ASSERT_NE(key, std::string::npos);
  ASSERT_EQ(bytes[key + 4 + 5], static_cast<uint8_t>(AttrKind::kInt));
  StoreU64(bytes.data() + key + 4 + 5 + 1, 0);
  Rehash(&bytes);
  const Status s = ReadBytes(bytes);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("attribute 'group' = 0"), std::string::npos) << s.message();
}

TEST_F(EngineFileTest, FailedReadLeavesOutputsUntouched) {
  graph::Graph sentinel_graph;
  sentinel_graph.tensors.resize(3);
  sentinel_graph.tensors[1].name = "sentinel";
  EngineMetadata sentinel_meta;
  sentinel_meta.model_name = "sentinel model";
  auto bytes = bytes_;
  const size_t key = FindEncodedString(bytes, "group");
  ASSERT_NE(key, std::string::npos);
  StoreU64(bytes.data() + key + 4 + 5 + 1, 0);  // fails late: in shape inference
  Rehash(&bytes);
  const Status s = Read(bytes.data(), bytes.size(), &sentinel_graph, &sentinel_meta);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(sentinel_graph.tensors.size(), 3u);
  EXPECT_EQ(sentinel_graph.tensors[1].name, "sentinel");
  EXPECT_TRUE(sentinel_graph.nodes.empty());
  EXPECT_EQ(sentinel_meta.model_name, "sentinel model");
  EXPECT_TRUE(sentinel_meta.qsdk_version.empty());
}

TEST_F(EngineFileTest, TrailingBytesInMetadataWithValidHashes) {
  // Grow the metadata section by 4 zero bytes (the section table records the new layout
  // and hashes): the decoder must notice the extra bytes.
  auto bytes = bytes_;
  const uint64_t meta_end = testing::SectionOffset(bytes_, 0) + testing::SectionSize(bytes_, 0);
  testing::SpliceMetadata(&bytes, meta_end, 0, {0, 0, 0, 0});
  ASSERT_EQ(testing::SectionSize(bytes, 0), testing::SectionSize(bytes_, 0) + 4);
  const Status s = ReadBytes(bytes);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("4 unexpected bytes after the graph outputs"), std::string::npos)
      << s.message();
}

// --- Quantization parameters and ranges: damage with valid hashes. ---------------------

// A rejected read with this code whose message contains `expected`.
void ExpectError(const Status& s, StatusCode code, const std::string& expected) {
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_NE(s.message().find(expected), std::string::npos)
      << "expected \"" << expected << "\" in: " << s.message();
}

TEST_F(EngineFileTest, ZeroOrNonFiniteScaleIsRejected) {
  // Weights and biases are Const outputs, Quantize's output its own: shape inference
  // checks all three and names the node.
  ExpectError(ReadPatchedFloat("qconv_w", TensorField::kScale, 1, 0.0f),
              StatusCode::kInvalidArgument,
              "node 'qconv_w' (Const): output 0 'qconv_w' has scale[1] = 0; a scale must be "
              "finite and > 0");
  ExpectError(ReadPatchedFloat("qquantize_out", TensorField::kScale, 0,
                               std::numeric_limits<float>::quiet_NaN()),
              StatusCode::kInvalidArgument,
              "'qquantize_out' has scale[0] = nan; a scale must be finite and > 0");
  ExpectError(ReadPatchedFloat("qconv_b", TensorField::kScale, 3,
                               std::numeric_limits<float>::infinity()),
              StatusCode::kInvalidArgument, "'qconv_b' has scale[3] = inf");
  ExpectError(ReadPatchedFloat("qconv_out", TensorField::kScale, 0, -0.1f),
              StatusCode::kInvalidArgument,
              "node 'qpool' (Pool): input 0 'qconv_out' has scale[0] = -0.1");
}

TEST_F(EngineFileTest, ZeroPointOutsideTheTypeRangeIsRejected) {
  ExpectError(ReadPatched("qquantize_out", TensorField::kZeroPoint, 0, 256),
              StatusCode::kInvalidArgument,
              "'qquantize_out' has zero_point[0] = 256; for UINT8 it must be in [0, 255]");
  ExpectError(ReadPatched("qconv_w", TensorField::kZeroPoint, 3, static_cast<uint32_t>(-129)),
              StatusCode::kInvalidArgument,
              "'qconv_w' has zero_point[3] = -129; for INT8 it must be in [-128, 127]");
  ExpectError(ReadPatched("qconv_b", TensorField::kZeroPoint, 2, 1),
              StatusCode::kInvalidArgument,
              "'qconv_b' has zero_point[2] = 1; for INT32 it must be in [0, 0]");
}

TEST_F(EngineFileTest, QuantizationAxisOutOfRangeIsRejected) {
  ExpectError(ReadPatched("qconv_w", TensorField::kQuantAxis, 0, 4), StatusCode::kInvalidArgument,
              "'qconv_w' has quantization axis 4; it must be -1 (per tensor) or in [0, 4)");
  ExpectError(ReadPatched("qconv_w", TensorField::kQuantAxis, 0, static_cast<uint32_t>(-2)),
              StatusCode::kInvalidArgument, "'qconv_w' has quantization axis -2");
  // Not quantized, yet an axis: "no parameters" has a single encoding.
  ExpectError(ReadPatched("x", TensorField::kQuantAxis, 0, 2), StatusCode::kInvalidArgument,
              "tensor 'x' has no quantization scales but quantization axis 2");
}

TEST_F(EngineFileTest, QuantizationCountMismatchIsRejected) {
  // Four scales along an axis of extent 3.
  ExpectError(ReadPatched("qconv_w", TensorField::kQuantAxis, 0, 1), StatusCode::kInvalidArgument,
              "'qconv_w' is quantized along axis 1 of extent 3 but has 4 scales");
  // Four scales per tensor.
  ExpectError(ReadPatched("qconv_w", TensorField::kQuantAxis, 0, static_cast<uint32_t>(-1)),
              StatusCode::kInvalidArgument, "'qconv_w' is quantized per tensor but has 4 scales");

  // A record really holding 3 (scale, zero point) pairs for 4 channels: the last scale
  // and the last zero point removed and the count lowered, the file laid out again.
  auto bytes = bytes_;
  const size_t count = TensorFieldPos(bytes, "qconv_w", TensorField::kQuantCount);
  ASSERT_EQ(LoadU32(bytes.data() + count), 4u);
  const size_t last_zero_point = TensorFieldPos(bytes, "qconv_w", TensorField::kZeroPoint) + 12;
  testing::SpliceMetadata(&bytes, last_zero_point, 4, {});
  const size_t last_scale = TensorFieldPos(bytes, "qconv_w", TensorField::kScale) + 12;
  testing::SpliceMetadata(&bytes, last_scale, 4, {});
  StoreU32(bytes.data() + count, 3);
  Rehash(&bytes);
  ExpectError(ReadBytes(bytes), StatusCode::kInvalidArgument,
              "'qconv_w' is quantized along axis 0 of extent 4 but has 3 scales");

  // A count the remaining bytes cannot hold is damage, found before allocating.
  ExpectError(ReadPatched("qconv_w", TensorField::kQuantCount, 0, 0x7FFFFFFF),
              StatusCode::kDataLoss,
              "'qconv_w' quantization scale count 2147483647 needs at least 17179869176 bytes");
  ExpectError(ReadPatched("conv1_w", TensorField::kRangeCount, 0, 0x40000000),
              StatusCode::kDataLoss, "'conv1_w' range entry count 1073741824 needs at least");
}

TEST_F(EngineFileTest, QuantizationParametersOnAFloatTensorAreRejected) {
  // x (FLOAT32) given one (scale, zero point) pair: shape inference rejects it where a
  // node reads x.
  auto bytes = bytes_;
  const size_t count = TensorFieldPos(bytes, "x", TensorField::kQuantCount);
  ASSERT_EQ(LoadU32(bytes.data() + count), 0u);
  std::vector<uint8_t> pair(8);
  testing::StoreF32(pair.data(), 0.5f);
  StoreU32(pair.data() + 4, 0);
  testing::SpliceMetadata(&bytes, count + 4, 0, pair);
  StoreU32(bytes.data() + count, 1);
  Rehash(&bytes);
  ExpectError(ReadBytes(bytes), StatusCode::kInvalidArgument,
              "'x' is FLOAT32 but has quantization parameters");
}

TEST_F(EngineFileTest, BadRangeIsRejected) {
  ExpectError(ReadPatchedFloat("conv1_out", TensorField::kRangeMin, 0, 8.0f),
              StatusCode::kInvalidArgument,
              "engine file: the stored graph is invalid: tensor 'conv1_out' has range[0] = [8, "
              "7.25]; a range must be finite with min <= max");
  ExpectError(ReadPatchedFloat("conv1_w", TensorField::kRangeMax, 2,
                               std::numeric_limits<float>::quiet_NaN()),
              StatusCode::kInvalidArgument, "'conv1_w' has range[2] = [");
  ExpectError(ReadPatchedFloat("x", TensorField::kRangeMin, 0,
                               -std::numeric_limits<float>::infinity()),
              StatusCode::kInvalidArgument, "'x' has range[0] = [-inf, ");
  ExpectError(ReadPatched("conv1_w", TensorField::kRangeAxis, 0, 4), StatusCode::kInvalidArgument,
              "'conv1_w' has range axis 4; it must be -1 (per tensor) or in [0, 4)");
  ExpectError(ReadPatched("conv1_w", TensorField::kRangeAxis, 0, 1), StatusCode::kInvalidArgument,
              "'conv1_w' has a range along axis 1 of extent 3 with 4 entries");
  ExpectError(ReadPatched("conv1_w", TensorField::kRangeAxis, 0, static_cast<uint32_t>(-1)),
              StatusCode::kInvalidArgument, "'conv1_w' has a per-tensor range with 4 entries");

  auto bytes = bytes_;
  size_t pos = TensorFieldPos(bytes, "x", TensorField::kRangeManual);
  ASSERT_EQ(bytes[pos], 1);
  bytes[pos] = 2;
  Rehash(&bytes);
  ExpectError(ReadBytes(bytes), StatusCode::kDataLoss,
              "'x' range manual flag is 2; it must be 0 or 1");

  // No range, yet manual: "no range" has a single encoding.
  bytes = bytes_;
  pos = TensorFieldPos(bytes, "leaky_out", TensorField::kRangeManual);
  ASSERT_EQ(LoadU32(bytes.data() + TensorFieldPos(bytes, "leaky_out", TensorField::kRangeCount)),
            0u);
  bytes[pos] = 1;
  Rehash(&bytes);
  ExpectError(ReadBytes(bytes), StatusCode::kInvalidArgument,
              "'leaky_out' has an empty range with axis -1 and manual true");
}

// A quantized tensor no node reads (here a graph output) is not seen by shape
// inference's input checks; Read checks it afterwards.
TEST_F(EngineFileTest, QuantizedGraphOutputIsChecked) {
  GraphBuilder b;
  const auto x = b.Input("in", {1, 2, 4, 4});
  const auto q = b.Op(NodeType::kQuantize, "quantize", {x});
  b.Quantized(q, DataType::INT8, testing::PerTensor(0.5f, 0));
  const auto pool =
      b.Op(NodeType::kPool, "pool", {q}, testing::PoolAttrs(PoolMode::kMax, {2, 2}, {2, 2}));
  b.Quantized(pool, DataType::INT8, testing::PerTensor(0.5f, 0));
  b.g.outputs = {pool};
  ASSERT_TRUE(graph::InferShapes(&b.g).ok());
  ASSERT_EQ(b.g.tensors[pool].dtype, DataType::INT8);
  auto bytes = MustWrite(b.g, EngineMetadata());
  ASSERT_TRUE(ReadBytes(bytes).ok());
  ExpectSameGraph(b.g, read_graph_);

  const size_t pos = TensorFieldPos(bytes, "pool_out", TensorField::kZeroPoint);
  ASSERT_NE(pos, std::string::npos);
  StoreU32(bytes.data() + pos, 300);
  Rehash(&bytes);
  ExpectError(ReadBytes(bytes), StatusCode::kInvalidArgument,
              "engine file: the stored graph is invalid: tensor 'pool_out' has zero_point[0] = "
              "300; for INT8 it must be in [-128, 127]");
}

TEST_F(EngineFileTest, WriteRejectsBadQuantizationAndRanges) {
  std::vector<uint8_t> bytes = {1, 2, 3};
  auto expect_rejected = [&](const graph::Graph& g, const std::string& expected) {
    const Status s = Write(g, meta_, &bytes);
    ExpectError(s, StatusCode::kInvalidArgument, "engine_file::Write: " + expected);
    EXPECT_EQ(bytes, (std::vector<uint8_t>{1, 2, 3}));  // untouched
  };
  const graph::TensorId w = graph_.FindTensor("qconv_w");
  graph::Graph g = graph_;
  g.tensors[w].quant.zero_points.pop_back();
  expect_rejected(g, "tensor 'qconv_w' has 4 quantization scales but 3 zero points");
  g = graph_;
  g.tensors[w].quant.scales[2] = std::numeric_limits<float>::quiet_NaN();
  expect_rejected(g, "tensor 'qconv_w' has scale[2] = nan");
  g = graph_;
  g.tensors[w].quant.axis = 2;
  expect_rejected(g, "tensor 'qconv_w' is quantized along axis 2 of extent 3 but has 4 scales");
  g = graph_;
  g.tensors[g.FindTensor("leaky_out")].quant.axis = 1;
  expect_rejected(g, "tensor 'leaky_out' has no quantization scales but quantization axis 1");
  g = graph_;
  g.tensors[g.FindTensor("softmax_out")].quant = testing::PerTensor(1.0f, 0);
  expect_rejected(g, "tensor 'softmax_out' has quantization parameters but type FLOAT32");
  g = graph_;
  g.tensors[g.FindTensor("x")].range.max[0] = -1.0f;
  expect_rejected(g, "tensor 'x' has range[0] = [-0, -1]; a range must be finite with min <= max");
  g = graph_;
  g.tensors[g.FindTensor("x")].range.max.push_back(1.0f);
  expect_rejected(g, "tensor 'x' has a range with 1 minima but 2 maxima");
  g = graph_;
  g.tensors[g.FindTensor("leaky_out")].range.manual = true;
  expect_rejected(g, "tensor 'leaky_out' has an empty range with axis -1 and manual true");
}

TEST_F(EngineFileTest, WriteRejectsWhatReadWouldReject) {
  std::vector<uint8_t> bytes = {1, 2, 3};
  EngineMetadata meta = meta_;
  meta.required_isa = "AVX-512";  // upper case and '-' are outside [a-z0-9_]
  Status s = Write(graph_, meta, &bytes);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("required ISA 'AVX-512'"), std::string::npos) << s.message();
  meta.required_isa = std::string(32, 'a');
  s = Write(graph_, meta, &bytes);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("at most 31"), std::string::npos) << s.message();

  graph::Graph g = graph_;
  const graph::TensorId w = g.FindTensor("fc_w");
  g.tensors[w].data = std::make_shared<const AlignedBuffer>(100);
  s = Write(g, meta_, &bytes);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("holds 100 bytes"), std::string::npos) << s.message();

  g = graph_;
  g.outputs.clear();
  s = Write(g, meta_, &bytes);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  // Failed writes leave the output alone.
  EXPECT_EQ(bytes, (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(Write(graph_, meta_, nullptr).code(), StatusCode::kInvalidArgument);
}

TEST_F(EngineFileTest, NullArguments) {
  EXPECT_EQ(Read(bytes_.data(), bytes_.size(), nullptr, &read_meta_).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Read(bytes_.data(), bytes_.size(), &read_graph_, nullptr).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Read(nullptr, 10, &read_graph_, &read_meta_).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace qsdk::engine_file
