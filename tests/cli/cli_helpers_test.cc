// The small helpers of the qsdk tool: percentiles, normalization, shape fitting, the
// progress bar, tables, argument splitting, and the file-based calibration data.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "batch_shape.h"
#include "calib_data.h"
#include "cli_test_util.h"
#include "command.h"
#include "latency_stats.h"
#include "normalization.h"
#include "npy.h"
#include "progress_bar.h"
#include "text_table.h"

namespace qsdk::tools {
namespace {

TEST(LatencyStatsTest, PercentilesInterpolateLikeNumpy) {
  // numpy.percentile([1, 2, 3, 4, 10], [50, 90, 99]) = [3, 7.6, 9.76]; the interpolation is
  // exact in binary for the first, and within 1e-12 (rounding of 0.4 * 6 etc.) for the others.
  const LatencyStats s = ComputeLatencyStats({10, 3, 1, 4, 2});
  EXPECT_EQ(s.count, 5);
  EXPECT_DOUBLE_EQ(s.p50, 3.0);
  EXPECT_NEAR(s.p90, 7.6, 1e-12);
  EXPECT_NEAR(s.p99, 9.76, 1e-12);
  EXPECT_DOUBLE_EQ(s.mean, 4.0);
  EXPECT_DOUBLE_EQ(s.min, 1.0);
  EXPECT_DOUBLE_EQ(s.max, 10.0);
  const LatencyStats one = ComputeLatencyStats({5});
  EXPECT_DOUBLE_EQ(one.p99, 5.0);
  EXPECT_EQ(ComputeLatencyStats({}).count, 0);
}

TEST(NormalizationTest, ParsesAndApplies) {
  Normalization n;
  ASSERT_TRUE(ParseNormalization("0.5,0.25", &n).ok());
  EXPECT_FLOAT_EQ(n.mean, 0.5f);
  EXPECT_FLOAT_EQ(n.std, 0.25f);
  for (const char* bad : {"", "0.5", "0.5,", ",1", "a,b", "0.5,0", "0.5,-1", "1,inf", "1,2,3"}) {
    Normalization unchanged;
    const Status s = ParseNormalization(bad, &unchanged);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_FLOAT_EQ(unchanged.mean, 0.2860f) << bad;
  }
  const uint8_t pixels[3] = {0, 51, 255};
  float out[3];
  NormalizeU8(pixels, 3, Normalization{}, out);
  // (x / 255 - 0.2860) / 0.3530 in float32; 2e-6 covers the float rounding of each step.
  EXPECT_NEAR(out[0], -0.2860 / 0.3530, 2e-6);
  EXPECT_NEAR(out[1], (0.2 - 0.2860) / 0.3530, 2e-6);
  EXPECT_NEAR(out[2], (1.0 - 0.2860) / 0.3530, 2e-6);
}

TEST(BatchShapeTest, ExactRule) {
  const Dims input{-1, 1, 28, 28};
  EXPECT_TRUE(CheckExactShape({4, 1, 28, 28}, "'x'", "image", input).ok());
  Status s = CheckExactShape({4, 28, 28}, "'x'", "image", input);
  EXPECT_NE(s.message().find("'x' has shape [4,28,28] (rank 3); input 'image' is [-1,1,28,28]"),
            std::string::npos)
      << s.message();
  s = CheckExactShape({4, 1, 28, 27}, "'x'", "image", input);
  EXPECT_NE(s.message().find("extent 27 at dim 3"), std::string::npos) << s.message();
  s = CheckExactShape({0, 1, 28, 28}, "'x'", "image", input);
  EXPECT_NE(s.message().find("extent 0 at dim 0"), std::string::npos) << s.message();
}

TEST(BatchShapeTest, PerSampleRule) {
  const Dims input{-1, 1, 28, 28};
  std::vector<int64_t> shape;
  ASSERT_TRUE(FitBatchShape({5, 28, 28}, "'x'", "image", input, &shape).ok());
  EXPECT_EQ(shape, (std::vector<int64_t>{5, 1, 28, 28}));
  ASSERT_TRUE(FitBatchShape({2, 784}, "'x'", "image", input, &shape).ok());
  EXPECT_EQ(shape, (std::vector<int64_t>{2, 1, 28, 28}));
  Status s = FitBatchShape({2, 783}, "'x'", "image", input, &shape);
  EXPECT_NE(s.message().find("784 elements per sample"), std::string::npos) << s.message();
  s = FitBatchShape({3, 1, 28, 28}, "'x'", "image", Dims{2, 1, 28, 28}, &shape);
  EXPECT_NE(s.message().find("a fixed batch of 2"), std::string::npos) << s.message();
  // Equal ranks let the data fill dynamic extents beyond the batch.
  ASSERT_TRUE(FitBatchShape({2, 3, 7}, "'x'", "seq", Dims{-1, 3, -1}, &shape).ok());
  EXPECT_EQ(shape, (std::vector<int64_t>{2, 3, 7}));
  s = FitBatchShape({2, 21}, "'x'", "seq", Dims{-1, 3, -1}, &shape);
  EXPECT_NE(s.message().find("only its first (batch) extent may be dynamic"), std::string::npos)
      << s.message();
}

TEST(ProgressBarTest, Renders) {
  EXPECT_EQ(ProgressBar::Render("calibrating", "batches", 5, 10, 1.25, 10),
            "calibrating [#####-----]  5/10 batches  1.2 s");
  EXPECT_EQ(ProgressBar::Render("calibrating", "batches", 10, 10, 2.0, 4),
            "calibrating [####] 10/10 batches  2.0 s");
  EXPECT_EQ(ProgressBar::Render("x", "items", 7, -1, 0.0, 4), "x  7 items  0.0 s");
}

TEST(ProgressBarTest, NonInteractivePrintsOneLine) {
  TempDir dir;
  const std::string path = dir.path() + "/log";
  std::FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  {
    ProgressBar bar(f, "calibrating", "batches", /*interactive=*/false);
    for (int i = 1; i <= 50; ++i) bar.Update(i, 50);
    bar.Finish();
    bar.Finish();  // idempotent
  }
  std::fclose(f);
  const std::string text = ReadText(path);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_NE(text.find("50/50 batches"), std::string::npos) << text;
}

TEST(ProgressBarTest, AbandonedNonInteractiveBarPrintsNothing) {
  TempDir dir;
  const std::string path = dir.path() + "/log";
  std::FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  {
    ProgressBar bar(f, "calibrating", "batches", /*interactive=*/false);
    bar.Update(3, 50);
    bar.Abandon();
    bar.Finish();  // no effect after Abandon
  }
  std::fclose(f);
  EXPECT_EQ(ReadText(path), "");
}

TEST(TextTableTest, AlignsColumns) {
  TextTable t({"name", "n"});
  t.AddRow({"a", "1"});
  t.AddRow({"long name", "22"});
  EXPECT_EQ(t.Render(""),
            "name       n\n"
            "---------  --\n"
            "a          1\n"
            "long name  22\n");
  EXPECT_EQ(RenderKeyValues({{"a", "1"}, {"bcd", "2"}}, ""), "a:    1\nbcd:  2\n");
}

TEST(CommandUtilTest, OneLineAndNameValue) {
  EXPECT_EQ(OneLine("a\nb\r\nc\n"), "a b c");
  std::string name, value;
  EXPECT_TRUE(SplitNameValue("image=x=y.npy", &name, &value));
  EXPECT_EQ(name, "image");
  EXPECT_EQ(value, "x=y.npy");
  EXPECT_FALSE(SplitNameValue("x.npy", &name, &value));
  EXPECT_FALSE(SplitNameValue("=x.npy", &name, &value));
}

NpyArray FloatArray(const std::vector<int64_t>& shape, float start) {
  NpyArray a;
  a.dtype = NpyDType::kFloat32;
  a.shape = shape;
  std::vector<float> v(static_cast<size_t>(a.ElementCount()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = start + static_cast<float>(i);
  a.data.resize(v.size() * 4);
  std::memcpy(a.data.data(), v.data(), a.data.size());
  return a;
}

TEST(CalibDataTest, NpyDirectoryInNameOrder) {
  TempDir dir;
  ASSERT_TRUE(WriteNpy(dir.path() + "/b.npy", FloatArray({1, 1, 2, 2}, 100)).ok());
  ASSERT_TRUE(WriteNpy(dir.path() + "/a.npy", FloatArray({2, 4}, 0)).ok());  // per-sample fit
  WriteBytes(dir.path() + "/notes.txt", {'x'});                              // ignored
  std::unique_ptr<FileCalibData> data;
  ASSERT_TRUE(
      OpenCalibData(dir.path(), "image", DataType::FLOAT32, Dims{-1, 1, 2, 2}, {}, &data).ok());
  EXPECT_EQ(data->BatchCount(), 2);
  ASSERT_TRUE(data->Reset().ok());
  ASSERT_TRUE(data->Next().ok());
  EXPECT_EQ(data->GetShape(), (Dims{2, 1, 2, 2}));
  EXPECT_EQ(static_cast<float*>(data->GetSample())[7], 7.0f);  // a.npy first
  ASSERT_TRUE(data->Next().ok());
  EXPECT_EQ(data->GetShape(), (Dims{1, 1, 2, 2}));
  EXPECT_EQ(static_cast<float*>(data->GetSample())[0], 100.0f);
  EXPECT_EQ(data->Next().code(), StatusCode::kOutOfRange);
  ASSERT_TRUE(data->Reset().ok());
  ASSERT_TRUE(data->Next().ok());
  EXPECT_EQ(data->GetShape(), (Dims{2, 1, 2, 2}));
}

TEST(CalibDataTest, NpyBatchesAreCheckedWhenRead) {
  TempDir dir;
  const std::string path = dir.path() + "/x.npy";
  ASSERT_TRUE(WriteNpy(path, FloatArray({2, 5}, 0)).ok());
  std::unique_ptr<FileCalibData> data;
  ASSERT_TRUE(OpenCalibData(path, "image", DataType::FLOAT32, Dims{-1, 4}, {}, &data).ok());
  ASSERT_TRUE(data->Reset().ok());
  Status s = data->Next();
  EXPECT_NE(s.message().find("calibration file '" + path + "' has shape [2,5]"), std::string::npos)
      << s.message();

  // float data with --calib-normalize is refused; uint8 data is normalized.
  ASSERT_TRUE(WriteNpy(path, FloatArray({2, 4}, 0)).ok());
  CalibDataSettings settings;
  settings.normalization = Normalization{0.0f, 1.0f};
  ASSERT_TRUE(OpenCalibData(path, "image", DataType::FLOAT32, Dims{-1, 4}, settings, &data).ok());
  ASSERT_TRUE(data->Reset().ok());
  s = data->Next();
  EXPECT_NE(s.message().find("--calib-normalize applies to uint8"), std::string::npos)
      << s.message();
  NpyArray bytes;
  bytes.dtype = NpyDType::kUInt8;
  bytes.shape = {1, 4};
  bytes.data = {0, 51, 102, 255};
  ASSERT_TRUE(WriteNpy(path, bytes).ok());
  ASSERT_TRUE(OpenCalibData(path, "image", DataType::FLOAT32, Dims{-1, 4}, settings, &data).ok());
  ASSERT_TRUE(data->Reset().ok());
  ASSERT_TRUE(data->Next().ok());
  // mean 0, std 1: x / 255 exactly as float32 division gives it.
  EXPECT_FLOAT_EQ(static_cast<float*>(data->GetSample())[1], 51.0f / 255.0f);
  EXPECT_FLOAT_EQ(static_cast<float*>(data->GetSample())[3], 1.0f);

  NpyArray doubles;
  doubles.dtype = NpyDType::kFloat64;
  doubles.shape = {1, 4};
  doubles.data.resize(32);
  ASSERT_TRUE(WriteNpy(path, doubles).ok());
  ASSERT_TRUE(OpenCalibData(path, "image", DataType::FLOAT32, Dims{-1, 4}, {}, &data).ok());
  ASSERT_TRUE(data->Reset().ok());
  s = data->Next();
  EXPECT_NE(s.message().find("dtype float64"), std::string::npos) << s.message();
}

TEST(CalibDataTest, IdxImagesInBatches) {
  TempDir dir;
  std::vector<uint8_t> file = {0, 0, 0x08, 3, 0, 0, 0, 5, 0, 0, 0, 2, 0, 0, 0, 2};
  for (int i = 0; i < 20; ++i) file.push_back(static_cast<uint8_t>(i * 10));
  const std::string path = dir.path() + "/images-idx3-ubyte";
  WriteBytes(path, file);
  CalibDataSettings settings;
  settings.batch = 2;
  std::unique_ptr<FileCalibData> data;
  ASSERT_TRUE(
      OpenCalibData(path, "image", DataType::FLOAT32, Dims{-1, 1, 2, 2}, settings, &data).ok());
  EXPECT_EQ(data->BatchCount(), 3);  // 2 + 2 + 1: a dynamic batch keeps the remainder
  ASSERT_TRUE(data->Reset().ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(data->Next().ok());
  EXPECT_EQ(data->GetShape(), (Dims{1, 1, 2, 2}));
  // Image 4, pixel 0 = 160: (160 / 255 - 0.2860) / 0.3530, float rounding within 2e-6.
  EXPECT_NEAR(static_cast<float*>(data->GetSample())[0], (160.0 / 255.0 - 0.2860) / 0.3530, 2e-6);
  EXPECT_EQ(data->Next().code(), StatusCode::kOutOfRange);

  // A fixed batch drops the remainder; a batch larger than the data is an error.
  ASSERT_TRUE(
      OpenCalibData(path, "image", DataType::FLOAT32, Dims{2, 1, 2, 2}, settings, &data).ok());
  EXPECT_EQ(data->BatchCount(), 2);
  Status s = OpenCalibData(path, "image", DataType::FLOAT32, Dims{8, 1, 2, 2}, settings, &data);
  EXPECT_NE(s.message().find("has 5 images"), std::string::npos) << s.message();
  s = OpenCalibData(path, "image", DataType::FLOAT32, Dims{-1, 1, 3, 3}, settings, &data);
  EXPECT_NE(s.message().find("9 elements per sample"), std::string::npos) << s.message();
}

TEST(CalibDataTest, OpenErrors) {
  TempDir dir;
  std::unique_ptr<FileCalibData> data;
  Status s = OpenCalibData(dir.path(), "image", DataType::FLOAT32, Dims{-1, 4}, {}, &data);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("has no .npy files"), std::string::npos) << s.message();
  s = OpenCalibData(dir.path() + "/none", "image", DataType::FLOAT32, Dims{-1, 4}, {}, &data);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  WriteBytes(dir.path() + "/bad.npy", {'n', 'o'});
  s = OpenCalibData(dir.path() + "/bad.npy", "image", DataType::FLOAT32, Dims{-1, 4}, {}, &data);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  WriteBytes(dir.path() + "/bad.idx", {'n', 'o', 'p', 'e'});
  s = OpenCalibData(dir.path() + "/bad.idx", "image", DataType::FLOAT32, Dims{-1, 4}, {}, &data);
  EXPECT_NE(s.message().find("not an IDX file"), std::string::npos) << s.message();
  s = OpenCalibData(dir.path(), "ids", DataType::INT32, Dims{-1, 4}, {}, &data);
  EXPECT_NE(s.message().find("FLOAT32 inputs only"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace qsdk::tools
