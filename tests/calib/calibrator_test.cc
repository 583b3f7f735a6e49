// ICalibrator end to end: ranges written into a network equal the true extremes computed
// by the reference interpreter (min-max), on exactly the tensors an INT8 build quantizes;
// table save / load / apply; stale tables; every bad-input case; progress reporting.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "api/small_net.h"
#include "graph/network_impl.h"
#include "qsdk/calibration.h"
#include "qsdk/network.h"
#include "reference/reference.h"

namespace qsdk {
namespace {

// Batches held in memory, with knobs to misbehave.
class VectorData : public CalibDataInterface {
 public:
  explicit VectorData(std::vector<Tensor> batches) : batches_(std::move(batches)) {}

  Dims GetShape() const override {
    return shape_override_ ? *shape_override_ : batches_[current_].GetDimension();
  }
  DataType GetDataType() const override { return type_override_; }
  Status Next() override {
    ++next_calls_;
    if (fail_next_at_ >= 0 && next_ == static_cast<size_t>(fail_next_at_)) {
      return Status(StatusCode::kIoError, "disk on fire");
    }
    if (next_ >= batches_.size()) return Status(StatusCode::kOutOfRange, "no more batches");
    current_ = next_++;
    return Status::Ok();
  }
  Status Reset() override {
    next_ = 0;
    ++reset_calls_;
    return Status::Ok();
  }
  void* GetSample() override { return null_sample_ ? nullptr : batches_[current_].GetData(); }

  std::vector<Tensor> batches_;
  std::optional<Dims> shape_override_;
  DataType type_override_ = DataType::FLOAT32;
  bool null_sample_ = false;
  int fail_next_at_ = -1;
  int next_calls_ = 0;
  int reset_calls_ = 0;

 private:
  size_t next_ = 0;
  size_t current_ = 0;
};

// SmallCnn (api/small_net.h) with its defaults: 4 channels on 8x8 images. Tensors are
// named after their nodes.
using test::SmallCnn;

// Batches of varying size (dynamic batch), values in [-2, 2).
std::vector<Tensor> RandomBatches(const std::vector<int64_t>& sizes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  std::vector<Tensor> out;
  for (int64_t b : sizes) {
    Tensor t = Tensor::Allocate(DataType::FLOAT32, Dims{b, 3, 8, 8}, "image");
    for (int64_t i = 0; i < t.GetElementCount(); ++i) t.Data<float>()[i] = dist(rng);
    out.push_back(t);
  }
  return out;
}

const graph::Graph& IR(const INetwork& net) {
  return dynamic_cast<const graph::NetworkImpl&>(net).graph();
}
const graph::TensorRange& RangeOf(const INetwork& net, const std::string& name) {
  const graph::Graph& g = IR(net);
  const graph::TensorId id = g.FindTensor(name);
  EXPECT_NE(id, graph::kNoTensor) << name;
  return g.tensors[id].range;
}

// The true extremes of every non-constant tensor over `batches`, by the reference
// interpreter on the unoptimized network.
std::map<std::string, std::pair<float, float>> TrueExtremes(const INetwork& net,
                                                            const std::vector<Tensor>& batches) {
  graph::Graph g = IR(net);
  g.outputs.clear();
  for (graph::TensorId t = 0; t < static_cast<graph::TensorId>(g.tensors.size()); ++t) {
    if (!g.tensors[t].is_constant()) g.outputs.push_back(t);
  }
  std::map<std::string, std::pair<float, float>> extremes;
  for (const Tensor& batch : batches) {
    std::vector<Tensor> outs;
    EXPECT_TRUE(reference::RunGraph(g, {batch}, &outs).ok());
    for (size_t k = 0; k < outs.size(); ++k) {
      const std::string& name = g.tensors[g.outputs[k]].name;
      const float* v = outs[k].Data<float>();
      const auto [lo, hi] = std::minmax_element(v, v + outs[k].GetElementCount());
      auto it = extremes.find(name);
      if (it == extremes.end()) {
        extremes[name] = {*lo, *hi};
      } else {
        it->second = {std::min(it->second.first, *lo), std::max(it->second.second, *hi)};
      }
    }
  }
  return extremes;
}

CalibrationOptions MinMax() {
  CalibrationOptions o;
  o.algorithm = CalibrationAlgorithm::kMinMax;
  return o;
}

bool AnyRange(const INetwork& net) {
  for (const graph::Tensor& t : IR(net).tensors) {
    if (!t.range.empty()) return true;
  }
  return false;
}

TEST(CalibratorTest, MinMaxWritesTheTrueRangesOfTheQuantizedTensors) {
  auto net = SmallCnn(1);
  VectorData data(RandomBatches({2, 3, 1, 2}, 10));
  auto calibrator = CreateICalibrator();
  ASSERT_FALSE(calibrator->HasTable());
  const Status s = calibrator->Calibrate(net.get(), {&data}, MinMax());
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(calibrator->HasTable());
  EXPECT_EQ(data.reset_calls_, 1);

  // What an INT8 build quantizes: the input and the outputs of the nodes left after the
  // builder's passes. conv1's output is gone (BatchNorm folded into conv1) and so is bn's
  // (the ReLU is fused; conv1 now produces 'relu'); conv2's too (the residual add is
  // fused into conv2, which now produces 'add').
  const std::vector<std::string> quantized = {"image", "relu", "add", "pool",
                                              "gap",   "flat", "fc",  "probs"};
  EXPECT_TRUE(RangeOf(*net, "conv1").empty());
  EXPECT_TRUE(RangeOf(*net, "bn").empty());
  EXPECT_TRUE(RangeOf(*net, "conv2").empty());
  const auto extremes = TrueExtremes(*net, data.batches_);
  for (const std::string& name : quantized) {
    const graph::TensorRange& r = RangeOf(*net, name);
    ASSERT_EQ(r.min.size(), 1u) << name;
    EXPECT_EQ(r.axis, -1);
    EXPECT_FALSE(r.manual);
    const auto [lo, hi] = extremes.at(name);
    // The engine's FP32 kernels differ from the reference by summation order and BN
    // folding's reassociation (~1e-6 relative on values of order 1): 1e-4 absolute.
    EXPECT_NEAR(r.min[0], std::min(lo, 0.0f), 1e-4f) << name;
    EXPECT_NEAR(r.max[0], std::max(hi, 0.0f), 1e-4f) << name;
  }
  // The input range is exact (statistics read the samples themselves); ReLU outputs and
  // softmax probabilities are non-negative, so their min is exactly 0.
  EXPECT_EQ(RangeOf(*net, "image").min[0], extremes.at("image").first);
  EXPECT_EQ(RangeOf(*net, "relu").min[0], 0.0f);
  EXPECT_EQ(RangeOf(*net, "probs").min[0], 0.0f);
  // No constant got a range.
  for (const graph::Tensor& t : IR(*net).tensors) {
    if (t.is_constant()) {
      EXPECT_TRUE(t.range.empty()) << t.name;
    }
  }
}

TEST(CalibratorTest, PerChannelMinMax) {
  auto net = SmallCnn(1);
  VectorData data(RandomBatches({2, 2}, 11));
  CalibrationOptions options = MinMax();
  options.per_channel = true;
  auto calibrator = CreateICalibrator();
  ASSERT_TRUE(calibrator->Calibrate(net.get(), {&data}, options).ok());
  const graph::TensorRange& relu = RangeOf(*net, "relu");
  EXPECT_EQ(relu.axis, 1);
  ASSERT_EQ(relu.min.size(), 4u);  // 4 channels
  const graph::TensorRange& image = RangeOf(*net, "image");
  EXPECT_EQ(image.axis, 1);
  EXPECT_EQ(image.min.size(), 3u);
  EXPECT_EQ(RangeOf(*net, "probs").axis, 1);  // [-1, 5]: axis 1 is fixed
  EXPECT_EQ(RangeOf(*net, "probs").min.size(), 5u);
  // The per-channel maxima bound the per-tensor max, which one of them attains.
  VectorData again(RandomBatches({2, 2}, 11));
  auto net2 = SmallCnn(1);
  ASSERT_TRUE(CreateICalibrator()->Calibrate(net2.get(), {&again}, MinMax()).ok());
  EXPECT_EQ(*std::max_element(relu.max.begin(), relu.max.end()), RangeOf(*net2, "relu").max[0]);
}

TEST(CalibratorTest, PerChannelFallsBackToPerTensorOnADynamicChannelAxis) {
  auto net = CreateINetwork();
  ITensor* x = net->AddInput(DataType::FLOAT32, Dims{1, -1});
  EXPECT_TRUE(x->SetTensorName("x").ok());
  IActivationNode* relu = net->AddIActivationNode(x, ActivationType::kRelu);
  EXPECT_TRUE(net->MarkOutput(relu->GetOutput(0)).ok());
  Tensor batch = Tensor::Allocate(DataType::FLOAT32, Dims{1, 3});
  batch.Data<float>()[0] = -1.0f;
  batch.Data<float>()[1] = 2.0f;
  batch.Data<float>()[2] = 0.5f;
  VectorData data({batch});
  CalibrationOptions options = MinMax();
  options.per_channel = true;
  const Status s = CreateICalibrator()->Calibrate(net.get(), {&data}, options);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const graph::TensorRange& r = RangeOf(*net, "x");
  EXPECT_EQ(r.axis, -1);  // axis 1 is dynamic: no per-channel range
  EXPECT_EQ(r.min, std::vector<float>{-1.0f});
  EXPECT_EQ(r.max, std::vector<float>{2.0f});
}

TEST(CalibratorTest, HistogramAlgorithmsGiveRangesInsideTheMinMaxRange) {
  auto reference_net = SmallCnn(2);
  VectorData data(RandomBatches({4, 4, 4}, 12));
  ASSERT_TRUE(
      CreateICalibrator()->Calibrate(reference_net.get(), {&data}, MinMax()).ok());
  for (CalibrationAlgorithm a : {CalibrationAlgorithm::kEntropy, CalibrationAlgorithm::kPercentile,
                                 CalibrationAlgorithm::kMse}) {
    auto net = SmallCnn(2);
    CalibrationOptions options;
    options.algorithm = a;
    const Status s = CreateICalibrator()->Calibrate(net.get(), {&data}, options);
    ASSERT_TRUE(s.ok()) << CalibrationAlgorithmName(a) << ": " << s.ToString();
    for (const std::string name : {"image", "relu", "add", "fc", "probs"}) {
      const graph::TensorRange& r = RangeOf(*net, name);
      const graph::TensorRange& full = RangeOf(*reference_net, name);
      ASSERT_EQ(r.min.size(), 1u);
      // Clipping only narrows the observed range; it never leaves it.
      EXPECT_GE(r.min[0], full.min[0]) << name;
      EXPECT_LE(r.max[0], full.max[0]) << name;
      EXPECT_LE(r.min[0], 0.0f);
      EXPECT_GT(r.max[0], 0.0f) << CalibrationAlgorithmName(a) << " " << name;
    }
  }
}

TEST(CalibratorTest, UserRangesAreKept) {
  auto net = SmallCnn(1);
  ASSERT_TRUE(net->FindTensorByName("add")->SetDynamicRange(-100.0f, 100.0f).ok());
  VectorData data(RandomBatches({2}, 13));
  ASSERT_TRUE(CreateICalibrator()->Calibrate(net.get(), {&data}, MinMax()).ok());
  EXPECT_EQ(RangeOf(*net, "add").max, std::vector<float>{100.0f});
  EXPECT_TRUE(RangeOf(*net, "add").manual);
  EXPECT_FALSE(RangeOf(*net, "relu").empty());
}

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/calib_test_" + name;
}

TEST(CalibratorTest, SaveLoadApplyRoundTrip) {
  auto net = SmallCnn(3);
  VectorData data(RandomBatches({2, 2}, 14));
  CalibrationOptions options;
  options.algorithm = CalibrationAlgorithm::kEntropy;
  auto calibrator = CreateICalibrator();
  ASSERT_TRUE(calibrator->Calibrate(net.get(), {&data}, options).ok());
  const std::string path = TempPath("roundtrip.json");
  ASSERT_TRUE(calibrator->SaveTable(path).ok());

  auto loader = CreateICalibrator();
  ASSERT_TRUE(loader->LoadTable(path).ok());
  auto fresh = SmallCnn(3);  // the same network, built again
  EXPECT_FALSE(AnyRange(*fresh));
  const Status s = loader->ApplyTable(fresh.get());
  ASSERT_TRUE(s.ok()) << s.ToString();
  const graph::Graph& a = IR(*net);
  const graph::Graph& b = IR(*fresh);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  int ranged = 0;
  for (size_t t = 0; t < a.tensors.size(); ++t) {
    EXPECT_EQ(a.tensors[t].range, b.tensors[t].range) << a.tensors[t].name;  // bit-exact
    ranged += a.tensors[t].range.empty() ? 0 : 1;
  }
  EXPECT_EQ(ranged, 8);  // the 8 quantized tensors of SmallCnn
  std::remove(path.c_str());
}

TEST(CalibratorTest, StaleTableIsRejected) {
  auto net = SmallCnn(4);
  VectorData data(RandomBatches({2}, 15));
  auto calibrator = CreateICalibrator();
  ASSERT_TRUE(calibrator->Calibrate(net.get(), {&data}, MinMax()).ok());
  const std::string path = TempPath("stale.json");
  ASSERT_TRUE(calibrator->SaveTable(path).ok());
  std::string before;
  ASSERT_TRUE(ComputeNetworkFingerprint(*net, &before).ok());

  auto changed = SmallCnn(5);  // other weights: another network
  std::string after;
  ASSERT_TRUE(ComputeNetworkFingerprint(*changed, &after).ok());
  ASSERT_NE(before, after);
  auto loader = CreateICalibrator();
  ASSERT_TRUE(loader->LoadTable(path).ok());
  const Status s = loader->ApplyTable(changed.get());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "calibration table '" + path + "' was made for network fingerprint " +
                             before + ", this network is " + after +
                             ": the network changed since calibration (re-run calibration)");
  EXPECT_FALSE(AnyRange(*changed));
  std::remove(path.c_str());
}

TEST(CalibratorTest, TableCallsWithoutATableFail) {
  auto calibrator = CreateICalibrator();
  auto net = SmallCnn(1);
  EXPECT_EQ(calibrator->SaveTable(TempPath("none.json")).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(calibrator->ApplyTable(net.get()).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(calibrator->LoadTable("/nonexistent/t.json").code(), StatusCode::kNotFound);
  EXPECT_FALSE(calibrator->HasTable());
}

TEST(CalibratorTest, ProgressIsReportedWithIncreasingCounts) {
  auto net = SmallCnn(1);
  VectorData data(RandomBatches({1, 1, 1, 1, 1}, 16));
  std::vector<std::pair<int64_t, int64_t>> calls;
  CalibrationOptions options = MinMax();
  options.progress = [&](int64_t done, int64_t total) { calls.emplace_back(done, total); };
  ASSERT_TRUE(CreateICalibrator()->Calibrate(net.get(), {&data}, options).ok());
  ASSERT_EQ(calls.size(), 5u);
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].first, static_cast<int64_t>(i) + 1);
    EXPECT_EQ(calls[i].second, -1);  // unknown: max_samples not set
  }

  calls.clear();
  options.max_samples = 3;
  data.next_calls_ = 0;
  ASSERT_TRUE(CreateICalibrator()->Calibrate(net.get(), {&data}, options).ok());
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls.back(), (std::pair<int64_t, int64_t>{3, 3}));
  EXPECT_EQ(data.next_calls_, 3);  // stopped without asking for a 4th batch
}

// Every invalid input is a status naming the culprit; nothing is written to the network.
class BadInputTest : public ::testing::Test {
 protected:
  Status Run(const std::vector<CalibDataInterface*>& data,
             const CalibrationOptions& options = MinMax()) {
    const Status s = CreateICalibrator()->Calibrate(net_.get(), data, options);
    EXPECT_FALSE(AnyRange(*net_)) << "a failed calibration wrote ranges";
    return s;
  }
  static void ExpectMessage(const Status& s, const std::vector<std::string>& parts) {
    EXPECT_FALSE(s.ok());
    for (const std::string& part : parts) {
      EXPECT_NE(s.message().find(part), std::string::npos)
          << "missing \"" << part << "\" in: " << s.message();
    }
  }

  std::unique_ptr<INetwork> net_ = SmallCnn(6);
  VectorData data_{RandomBatches({2, 2, 2}, 17)};
};

TEST_F(BadInputTest, NullOrForeignNetwork) {
  const Status s = CreateICalibrator()->Calibrate(nullptr, {&data_}, MinMax());
  ExpectMessage(s, {"network is null"});
}

TEST_F(BadInputTest, NoDataOrWrongCount) {
  ExpectMessage(Run({}), {"0 calibration data objects", "1 input(s) ('image')"});
  ExpectMessage(Run({&data_, &data_}), {"2 calibration data objects"});
}

TEST_F(BadInputTest, NullDataObject) {
  ExpectMessage(Run({nullptr}), {"calibration data 0 (for input 'image') is null"});
}

TEST_F(BadInputTest, WrongRank) {
  data_.shape_override_ = Dims{2, 3, 64};
  ExpectMessage(Run({&data_}), {"input 'image'", "sample 0", "GetShape() = [2,3,64] has 3 dims",
                                "[-1,3,8,8] has 4"});
}

TEST_F(BadInputTest, WrongFixedExtent) {
  data_.shape_override_ = Dims{2, 4, 8, 8};
  ExpectMessage(Run({&data_}), {"input 'image'", "extent 4 at dim 1", "fixes it to 3"});
}

TEST_F(BadInputTest, DynamicExtentBelowOne) {
  data_.shape_override_ = Dims{0, 3, 8, 8};
  ExpectMessage(Run({&data_}), {"input 'image'", "extent 0 at dim 0", "value >= 1"});
}

TEST_F(BadInputTest, WrongDataType) {
  data_.type_override_ = DataType::INT8;
  ExpectMessage(Run({&data_}), {"input 'image'", "GetDataType() = INT8", "the input is FLOAT32"});
}

TEST_F(BadInputTest, NullSample) {
  data_.null_sample_ = true;
  ExpectMessage(Run({&data_}), {"input 'image'", "sample 0", "GetSample() returned null"});
}

TEST_F(BadInputTest, NanOrInfInASample) {
  data_.batches_[1].Data<float>()[7] = std::numeric_limits<float>::quiet_NaN();
  ExpectMessage(Run({&data_}), {"input 'image'", "sample 1", "element 7 is nan"});
  data_.batches_[1].Data<float>()[7] = 0.0f;
  data_.batches_[2].Data<float>()[300] = std::numeric_limits<float>::infinity();
  ExpectMessage(Run({&data_}), {"input 'image'", "sample 2", "element 300 is inf"});
}

TEST_F(BadInputTest, NoSampleAtAll) {
  VectorData empty({});
  ExpectMessage(Run({&empty}), {"input 'image'", "has no sample", "first Next()"});
}

TEST_F(BadInputTest, ErrorFromTheDataIsPropagated) {
  data_.fail_next_at_ = 1;
  const Status s = Run({&data_});
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  ExpectMessage(s, {"input 'image'", "Next() failed at sample 1", "disk on fire"});
}

TEST_F(BadInputTest, InvalidOptions) {
  CalibrationOptions o = MinMax();
  o.percentile = 0.0;
  ExpectMessage(Run({&data_}, o), {"percentile = 0", "(0, 100]"});
  o = MinMax();
  o.histogram_bins = 64;
  ExpectMessage(Run({&data_}, o), {"histogram_bins = 64", "[128, 65536]"});
  o = MinMax();
  o.max_samples = 0;
  ExpectMessage(Run({&data_}, o), {"max_samples = 0"});
  o = CalibrationOptions();  // entropy by default
  o.per_channel = true;
  ExpectMessage(Run({&data_}, o), {"per_channel", "entropy"});
  o = MinMax();
  o.algorithm = static_cast<CalibrationAlgorithm>(42);
  ExpectMessage(Run({&data_}, o), {"algorithm = 42"});
}

TEST_F(BadInputTest, ThrowingProgressCallbackIsAStatus) {
  CalibrationOptions o;
  o.progress = [](int64_t, int64_t) { throw std::runtime_error("callback bug"); };
  const Status s = Run({&data_}, o);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  ExpectMessage(s, {"callback bug"});
}

// Two inputs: x [-1, 4] and y [-1, 4], added.
std::unique_ptr<INetwork> TwoInputs() {
  auto net = CreateINetwork();
  ITensor* x = net->AddInput(DataType::FLOAT32, Dims{-1, 4});
  ITensor* y = net->AddInput(DataType::FLOAT32, Dims{-1, 4});
  EXPECT_TRUE(x->SetTensorName("x").ok());
  EXPECT_TRUE(y->SetTensorName("y").ok());
  IElementwiseNode* add = net->AddIElementwiseNode(x, y, ElementwiseOp::kAdd);
  EXPECT_TRUE(add->GetOutput(0)->SetTensorName("sum").ok());
  EXPECT_TRUE(net->MarkOutput(add->GetOutput(0)).ok());
  return net;
}

std::vector<Tensor> Rows(const std::vector<std::vector<float>>& rows) {
  std::vector<Tensor> out;
  for (const auto& r : rows) {
    Tensor t = Tensor::Allocate(DataType::FLOAT32, Dims{1, 4});
    std::copy(r.begin(), r.end(), t.Data<float>());
    out.push_back(t);
  }
  return out;
}

TEST(CalibratorTest, TwoInputsInLockstep) {
  auto net = TwoInputs();
  VectorData x(Rows({{1, 2, 3, 4}, {-1, 0, 0, 0}}));
  VectorData y(Rows({{10, 0, 0, 0}, {0, 0, 0, -20}}));
  ASSERT_TRUE(CreateICalibrator()->Calibrate(net.get(), {&x, &y}, MinMax()).ok());
  // Exact: sums of small integers.
  EXPECT_EQ(RangeOf(*net, "x").min[0], -1.0f);
  EXPECT_EQ(RangeOf(*net, "x").max[0], 4.0f);
  EXPECT_EQ(RangeOf(*net, "y").min[0], -20.0f);
  EXPECT_EQ(RangeOf(*net, "sum").min[0], -20.0f);
  EXPECT_EQ(RangeOf(*net, "sum").max[0], 11.0f);
}

TEST(CalibratorTest, InputsRunningOutAtDifferentSamplesIsAnError) {
  auto net = TwoInputs();
  VectorData x(Rows({{1, 2, 3, 4}, {1, 2, 3, 4}, {1, 2, 3, 4}}));
  VectorData y(Rows({{1, 2, 3, 4}, {1, 2, 3, 4}}));
  const Status s = CreateICalibrator()->Calibrate(net.get(), {&x, &y}, MinMax());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("input 'y' ran out after 2 samples while input 'x' has more"),
            std::string::npos)
      << s.message();
  EXPECT_FALSE(AnyRange(*net));
}

TEST(CalibratorTest, NonFiniteIntermediateNamesTheTensorAndNode) {
  // x * 3e38 overflows to inf for |x| > ~1.13.
  auto net = CreateINetwork();
  ITensor* x = net->AddInput(DataType::FLOAT32, Dims{-1, 4});
  EXPECT_TRUE(x->SetTensorName("x").ok());
  const float big[4] = {3e38f, 3e38f, 3e38f, 3e38f};
  ITensor* k = net->AddIConstNode(DataType::FLOAT32, Dims{4}, big)->GetOutput(0);
  IElementwiseNode* mul = net->AddIElementwiseNode(x, k, ElementwiseOp::kMul);
  EXPECT_TRUE(mul->SetNodeName("scale").ok());
  EXPECT_TRUE(mul->GetOutput(0)->SetTensorName("scaled").ok());
  EXPECT_TRUE(net->MarkOutput(mul->GetOutput(0)).ok());
  VectorData data(Rows({{0.5f, 0.1f, 0.2f, 0.3f}, {0.5f, 2.0f, 0.0f, 0.0f}}));
  const Status s = CreateICalibrator()->Calibrate(net.get(), {&data}, MinMax());
  ASSERT_FALSE(s.ok());
  for (const char* part : {"sample 1", "tensor 'scaled'", "node 'scale'", "element 1 is inf"}) {
    EXPECT_NE(s.message().find(part), std::string::npos) << part << " in: " << s.message();
  }
  EXPECT_FALSE(AnyRange(*net));
}

TEST(CalibratorTest, FingerprintOfTheSameNetworkIsStable) {
  std::string a, b, c;
  ASSERT_TRUE(ComputeNetworkFingerprint(*SmallCnn(8), &a).ok());
  ASSERT_TRUE(ComputeNetworkFingerprint(*SmallCnn(8), &b).ok());
  auto renamed = SmallCnn(8);
  ASSERT_TRUE(renamed->FindTensorByName("relu")->SetTensorName("relu_out").ok());
  ASSERT_TRUE(ComputeNetworkFingerprint(*renamed, &c).ok());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_FALSE(ComputeNetworkFingerprint(*renamed, nullptr).ok());
}

}  // namespace
}  // namespace qsdk
