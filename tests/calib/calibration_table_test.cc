// Calibration table JSON: round trip, and every malformed field rejected with its JSON
// path; applying a table checks the fingerprint and the tensors.
#include "calib/calibration_table.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "calib/fingerprint.h"

namespace qsdk::calib {
namespace {

using nlohmann::json;

CalibrationTable SampleTable() {
  CalibrationTable t;
  t.fingerprint = "0123456789abcdef";
  t.algorithm = CalibrationAlgorithm::kPercentile;
  t.samples = 12;
  graph::TensorRange a;
  a.min = {-1.5f};
  a.max = {0.1f};  // not exactly representable in decimal: checks float round trip
  t.tensors["conv/out"] = a;
  graph::TensorRange b;
  b.min = {0.0f, -3.25f, 1e-30f};
  b.max = {1.0f / 3.0f, 0.0f, 3e30f};
  b.axis = 1;
  t.tensors["x~y"] = b;
  return t;
}

json SampleJson() {
  std::string text;
  EXPECT_TRUE(TableToJson(SampleTable(), &text).ok());
  return json::parse(text);
}

// Parses `doc` and returns the status.
Status ParseJson(const json& doc) {
  CalibrationTable t;
  return ParseTable(doc.dump(), "calibration table 't.json'", &t);
}

TEST(CalibrationTableTest, JsonRoundTripIsExact) {
  const CalibrationTable in = SampleTable();
  std::string text;
  ASSERT_TRUE(TableToJson(in, &text).ok());
  CalibrationTable out;
  ASSERT_TRUE(ParseTable(text, "t", &out).ok());
  EXPECT_EQ(out.fingerprint, in.fingerprint);
  EXPECT_EQ(out.algorithm, in.algorithm);
  EXPECT_EQ(out.samples, in.samples);
  EXPECT_EQ(out.tensors, in.tensors);  // bit-exact floats: written as the doubles they are
  const json doc = json::parse(text);
  EXPECT_EQ(doc["format"], "qsdk-calibration-table");
  EXPECT_EQ(doc["version"], 1);
  EXPECT_EQ(doc["algorithm"], "percentile");
  EXPECT_EQ(doc["tensors"]["conv/out"]["axis"], -1);
}

// Each malformed document fails with kDataLoss (or kVersionMismatch), naming the source
// and the JSON path of the culprit.
TEST(CalibrationTableTest, EveryFieldIsValidatedWithItsPath) {
  struct Case {
    const char* what;
    void (*mutate)(json*);
    const char* expected;
  };
  const Case cases[] = {
      {"format", [](json* d) { (*d)["format"] = "other"; }, "/format = \"other\""},
      {"format type", [](json* d) { (*d)["format"] = 3; }, "/format is number"},
      {"fingerprint", [](json* d) { (*d)["fingerprint"] = "XYZ"; }, "/fingerprint = \"XYZ\""},
      {"algorithm", [](json* d) { (*d)["algorithm"] = "kl"; }, "/algorithm = \"kl\""},
      {"samples", [](json* d) { (*d)["samples"] = 0; }, "/samples = 0"},
      {"samples type", [](json* d) { (*d)["samples"] = 1.5; }, "/samples is a non-integer"},
      {"version type", [](json* d) { (*d)["version"] = "1"; }, "/version is string"},
      {"missing key", [](json* d) { d->erase("algorithm"); }, "/algorithm is missing"},
      {"unknown key", [](json* d) { (*d)["extra"] = 1; }, "/extra is not a key"},
      {"tensors type", [](json* d) { (*d)["tensors"] = json::array(); }, "/tensors is array"},
      {"entry type", [](json* d) { (*d)["tensors"]["conv/out"] = 1; },
       "/tensors/conv~1out is number"},
      {"bound type", [](json* d) { (*d)["tensors"]["conv/out"]["min"][0] = "a"; },
       "/tensors/conv~1out/min/0 is string"},
      {"bound not float", [](json* d) { (*d)["tensors"]["x~y"]["max"][2] = 1e39; },
       "/tensors/x~0y/max/2 = 1e+39"},
      {"min > max", [](json* d) { (*d)["tensors"]["conv/out"]["min"][0] = 0.5; },
       "/tensors/conv~1out/min/0 = 0.5 > /tensors/conv~1out/max/0"},
      {"count mismatch", [](json* d) { (*d)["tensors"]["x~y"]["max"].erase(0); },
       "/tensors/x~0y: min has 3 bounds and max has 2"},
      {"per-tensor count", [](json* d) { (*d)["tensors"]["x~y"]["axis"] = -1; },
       "/tensors/x~0y: axis -1 (per tensor) needs 1 bound"},
      {"axis", [](json* d) { (*d)["tensors"]["x~y"]["axis"] = -2; }, "/tensors/x~0y/axis = -2"},
      {"empty bounds", [](json* d) {
         (*d)["tensors"]["conv/out"]["min"] = json::array();
       }, "/tensors/conv~1out/min is empty"},
      {"entry key", [](json* d) { (*d)["tensors"]["conv/out"]["scale"] = 1; },
       "/tensors/conv~1out/scale is not a key"},
      {"root type", [](json* d) { *d = json::array(); }, "the document is array"},
  };
  for (const Case& c : cases) {
    json doc = SampleJson();
    c.mutate(&doc);
    const Status s = ParseJson(doc);
    ASSERT_FALSE(s.ok()) << c.what;
    EXPECT_EQ(s.code(), StatusCode::kDataLoss) << c.what;
    EXPECT_NE(s.message().find("calibration table 't.json'"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(c.expected), std::string::npos)
        << c.what << ": " << s.message();
  }
}

TEST(CalibrationTableTest, NewerVersionIsAVersionMismatch) {
  json doc = SampleJson();
  doc["version"] = 2;
  const Status s = ParseJson(doc);
  EXPECT_EQ(s.code(), StatusCode::kVersionMismatch);
  EXPECT_NE(s.message().find("/version = 2; this qsdk reads version 1"), std::string::npos)
      << s.message();
}

TEST(CalibrationTableTest, NotJsonIsDataLoss) {
  CalibrationTable t;
  const Status s = ParseTable("{\"format\": ", "calibration table 'a.json'", &t);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("calibration table 'a.json' is not valid JSON"), std::string::npos);
}

TEST(CalibrationTableTest, MissingFileIsNotFound) {
  CalibrationTable t;
  const Status s = ReadTableFile("/nonexistent/dir/t.json", &t);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("/nonexistent/dir/t.json"), std::string::npos);
}

TEST(CalibrationTableTest, InvalidUtf8NameIsAStatusNotAnException) {
  CalibrationTable t = SampleTable();
  graph::TensorRange r;
  r.min = {0.0f};
  r.max = {1.0f};
  t.tensors["bad\xff"] = r;
  std::string text;
  const Status s = TableToJson(t, &text);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

// A graph: input x [-1, 4] -> Relu -> y (output).
graph::Graph SmallGraph() {
  graph::Graph g;
  graph::Tensor x;
  x.name = "x";
  x.shape = {-1, 4};
  g.inputs.push_back(g.AddTensor(x));
  graph::Tensor y;
  y.name = "y";
  y.shape = {-1, 4};
  const graph::TensorId yid = g.AddTensor(y);
  graph::Node relu;
  relu.type = NodeType::kActivation;
  relu.name = "relu";
  relu.attrs.SetInt(graph::attr::kActivation, static_cast<int64_t>(ActivationType::kRelu));
  relu.inputs = {0};
  relu.outputs = {yid};
  g.AddNode(relu);
  g.outputs.push_back(yid);
  return g;
}

CalibrationTable TableFor(const graph::Graph& g) {
  CalibrationTable t;
  t.fingerprint = NetworkFingerprint(g);
  t.samples = 1;
  graph::TensorRange r;
  r.min = {-2.0f};
  r.max = {3.0f};
  t.tensors["x"] = r;
  r.min = {0.0f};
  t.tensors["y"] = r;
  return t;
}

TEST(CalibrationTableTest, ApplyWritesRangesAndKeepsManualOnes) {
  graph::Graph g = SmallGraph();
  g.tensors[1].range.min = {0.0f};
  g.tensors[1].range.max = {9.0f};
  g.tensors[1].range.manual = true;
  ASSERT_TRUE(ApplyTableToGraph(TableFor(g), "t", &g).ok());
  EXPECT_EQ(g.tensors[0].range.min, std::vector<float>{-2.0f});
  EXPECT_EQ(g.tensors[0].range.max, std::vector<float>{3.0f});
  EXPECT_FALSE(g.tensors[0].range.manual);
  EXPECT_EQ(g.tensors[1].range.max, std::vector<float>{9.0f});  // the user's range wins
  EXPECT_TRUE(g.tensors[1].range.manual);
}

TEST(CalibrationTableTest, ApplyRejectsAStaleTableAndChangesNothing) {
  graph::Graph g = SmallGraph();
  const CalibrationTable table = TableFor(g);
  g.nodes[0].attrs.SetInt(graph::attr::kActivation, static_cast<int64_t>(ActivationType::kTanh));
  const std::string now = NetworkFingerprint(g);
  ASSERT_NE(now, table.fingerprint);
  const Status s = ApplyTableToGraph(table, "calibration table 'x.json'", &g);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "calibration table 'x.json' was made for network fingerprint " +
                             table.fingerprint + ", this network is " + now +
                             ": the network changed since calibration (re-run calibration)");
  EXPECT_TRUE(g.tensors[0].range.empty());
}

TEST(CalibrationTableTest, ApplyRejectsUnknownTensorsAndBadAxes) {
  graph::Graph g = SmallGraph();
  CalibrationTable t = TableFor(g);
  graph::TensorRange r;
  r.min = {0.0f};
  r.max = {1.0f};
  t.tensors["ghost"] = r;
  Status s = ApplyTableToGraph(t, "t", &g);
  EXPECT_NE(s.message().find("tensor 'ghost' is not in the network"), std::string::npos);

  t = TableFor(g);
  r.axis = 1;
  r.min = {0.0f, 0.0f};
  r.max = {1.0f, 1.0f};
  t.tensors["y"] = r;  // axis 1 has extent 4
  s = ApplyTableToGraph(t, "t", &g);
  EXPECT_NE(s.message().find("tensor 'y' has 2 bounds along axis 1 of extent 4"),
            std::string::npos)
      << s.message();
  EXPECT_TRUE(g.tensors[0].range.empty());  // all-or-nothing
}

TEST(FingerprintTest, CoversComputationButNotRangesOrPrecisions) {
  graph::Graph g = SmallGraph();
  const std::string base = NetworkFingerprint(g);
  EXPECT_EQ(base.size(), 16u);
  EXPECT_EQ(NetworkFingerprint(SmallGraph()), base);  // deterministic
  graph::Graph ranged = SmallGraph();
  ranged.tensors[0].range.min = {-1.0f};
  ranged.tensors[0].range.max = {1.0f};
  ranged.nodes[0].input_precisions[0] = DataType::QINT8;
  EXPECT_EQ(NetworkFingerprint(ranged), base);
  graph::Graph renamed = SmallGraph();
  renamed.tensors[1].name = "z";
  EXPECT_NE(NetworkFingerprint(renamed), base);
  graph::Graph reshaped = SmallGraph();
  reshaped.tensors[0].shape = {-1, 5};
  EXPECT_NE(NetworkFingerprint(reshaped), base);
  graph::Graph attr = SmallGraph();
  attr.nodes[0].attrs.SetFloat(graph::attr::kAlpha, 0.5);
  EXPECT_NE(NetworkFingerprint(attr), base);
}

TEST(FingerprintTest, CoversConstantBytes) {
  graph::Graph a = SmallGraph();
  graph::Graph b = SmallGraph();
  const float wa[2] = {1.0f, 2.0f};
  const float wb[2] = {1.0f, 2.0000002f};
  a.AddConstant("w", DataType::FLOAT32, {2}, wa, sizeof(wa));
  b.AddConstant("w", DataType::FLOAT32, {2}, wb, sizeof(wb));
  EXPECT_NE(NetworkFingerprint(a), NetworkFingerprint(b));
}

}  // namespace
}  // namespace qsdk::calib
