// End-to-end tests of the `qsdk` binary: every subcommand on a tiny ONNX classifier
// (tests/cli/data/tiny_cnn.onnx and two_inputs.onnx, made by make_tiny_cnn.py) and, when
// present, the trained models/fmnist_resnet.onnx; results are checked against the
// library called in-process, and every kind of bad input checked for its exit code
// (2 usage, 1 failure) and its one-line message on stderr.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "cli_test_util.h"
#include "npy.h"
#include "qsdk/onnx_parser.h"
#include "qsdk/qsdk.h"

namespace qsdk::tools {
namespace {

using nlohmann::json;

const std::string kBinary = QSDK_CLI_BINARY;
const std::string kDataDir = QSDK_CLI_TEST_DATA;
const std::string kOnnx = kDataDir + "/tiny_cnn.onnx";
constexpr int kImages = 40;  // synthetic Fashion-MNIST-like images
constexpr int kPixels = 28 * 28;

struct CliResult {
  int code = -1;
  std::string out, err;
};

// Runs the qsdk binary with `args`; stdout and stderr are captured through files.
CliResult RunCli(const std::string& dir, const std::vector<std::string>& args) {
  static int counter = 0;
  const std::string out_path = dir + "/stdout." + std::to_string(counter);
  const std::string err_path = dir + "/stderr." + std::to_string(counter++);
  std::vector<std::string> all = {kBinary};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  // Everything the child needs is prepared before fork (only async-signal-safe calls
  // after it: the test process has threads).
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0) ::_exit(126);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  CliResult result;
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) {
    ADD_FAILURE() << "cannot run " << kBinary;
    return result;
  }
  // A crash (signal) shows up as 128 + signal, which no expectation accepts.
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadText(out_path);
  result.err = ReadText(err_path);
  return result;
}

std::string Describe(const std::vector<std::string>& args, const CliResult& r) {
  std::string cmd = "qsdk";
  for (const std::string& a : args) cmd += " " + a;
  return cmd + "\n  exit " + std::to_string(r.code) + "\n  stdout: " + r.out +
         "\n  stderr: " + r.err;
}

// The error contract: exit `code`, nothing on stdout, exactly one line on stderr that
// names the command and contains `needle`.
void ExpectError(const std::string& dir, const std::vector<std::string>& args, int code,
                 const std::string& needle) {
  const CliResult r = RunCli(dir, args);
  const std::string what = Describe(args, r);
  EXPECT_EQ(r.code, code) << what;
  EXPECT_TRUE(r.out.empty()) << what;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what;
  EXPECT_EQ(r.err.rfind("qsdk", 0), 0u) << what;
  EXPECT_NE(r.err.find("error: "), std::string::npos) << what;
  EXPECT_NE(r.err.find(needle), std::string::npos) << what;
}

json RunJson(const std::string& dir, const std::vector<std::string>& args) {
  const CliResult r = RunCli(dir, args);
  EXPECT_EQ(r.code, 0) << Describe(args, r);
  json j = json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << Describe(args, r);
  return j;
}

void Check(const Status& s) { ASSERT_TRUE(s.ok()) << s.ToString(); }

NpyArray FloatNpy(const std::vector<int64_t>& shape, const std::vector<float>& values) {
  NpyArray a;
  a.dtype = NpyDType::kFloat32;
  a.shape = shape;
  a.data.resize(values.size() * 4);
  std::memcpy(a.data.data(), values.data(), a.data.size());
  return a;
}

std::vector<float> Floats(const NpyArray& a) {
  std::vector<float> v(a.data.size() / 4);
  std::memcpy(v.data(), a.data.data(), a.data.size());
  return v;
}

// Logits of `engine_path` for `images` [n,1,28,28], computed in this process.
std::vector<float> EngineLogits(const std::string& engine_path, const std::vector<float>& images,
                                int64_t n) {
  std::unique_ptr<IModel> model;
  std::unique_ptr<IEngine> engine;
  std::unique_ptr<IContext> context;
  EXPECT_TRUE(DeserializeModelFromFile(engine_path, &model).ok());
  EXPECT_TRUE(model->CreateIEngine(&engine).ok());
  EXPECT_TRUE(engine->CreateIContext(&context).ok());
  std::vector<float> input = images;
  Tensor t = Tensor::Wrap(DataType::FLOAT32, Dims{n, 1, 28, 28}, input.data(), "image");
  std::vector<Tensor> outputs;
  const Status s = context->Execute({t}, &outputs);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return {};
  const float* p = outputs[0].Data<float>();
  return std::vector<float>(p, p + outputs[0].GetElementCount());
}

std::vector<int64_t> Argmax(const std::vector<float>& logits) {
  std::vector<int64_t> out;
  for (size_t i = 0; i + 10 <= logits.size(); i += 10) {
    out.push_back(std::max_element(logits.begin() + static_cast<long>(i),
                                   logits.begin() + static_cast<long>(i + 10)) -
                  (logits.begin() + static_cast<long>(i)));
  }
  return out;
}

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string d = dir_->path();
    // The FP32 engine of the tiny model, built in-process (so that run / bench / inspect /
    // eval are tested independently of `qsdk build`).
    auto network = CreateINetwork();
    Check(CreateIParser()->ParseFromFile(kOnnx, network.get()));
    auto config = CreateIBuilderConfig();
    std::unique_ptr<IModel> model;
    Check(CreateIBuilder()->BuildModel("tiny_cnn", *network, *config, &model));
    fp32_engine_ = d + "/tiny_fp32.qsdk";
    Check(model->SerializeToFile(fp32_engine_));

    // Synthetic 8-bit images (seeded) with a structure the classifier responds to.
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> pixel(0, 255);
    images_u8_.resize(kImages * kPixels);
    for (uint8_t& p : images_u8_) p = static_cast<uint8_t>(pixel(rng));
    images_.resize(images_u8_.size());
    for (size_t i = 0; i < images_u8_.size(); ++i) {
      images_[i] = (static_cast<float>(images_u8_[i]) / 255.0f - 0.2860f) / 0.3530f;
    }
    std::uniform_int_distribution<int> label(0, 9);
    labels_.resize(kImages);
    for (uint8_t& l : labels_) l = static_cast<uint8_t>(label(rng));
    fmnist_dir_ = d + "/fmnist";
    ::mkdir(fmnist_dir_.c_str(), 0755);
    WriteGzip(fmnist_dir_ + "/t10k-images-idx3-ubyte.gz", IdxBytes({kImages, 28, 28}, images_u8_));
    WriteGzip(fmnist_dir_ + "/t10k-labels-idx1-ubyte.gz", IdxBytes({kImages}, labels_));
    // The same images as the calibration IDX file (raw, not gzip).
    calib_idx_ = d + "/calib-images-idx3-ubyte";
    WriteBytes(calib_idx_, IdxBytes({kImages, 28, 28}, images_u8_));
    // Two normalized images as a float input file.
    input_npy_ = d + "/input.npy";
    Check(WriteNpy(input_npy_,
                   FloatNpy({2, 1, 28, 28},
                            std::vector<float>(images_.begin(), images_.begin() + 2 * kPixels))));
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  // A fresh directory per test for its files.
  void SetUp() override { tmp_ = std::make_unique<TempDir>(); }
  const std::string& tmp() const { return tmp_->path(); }

  static TempDir* dir_;
  static std::string fp32_engine_, fmnist_dir_, calib_idx_, input_npy_;
  static std::vector<uint8_t> images_u8_, labels_;
  static std::vector<float> images_;
  std::unique_ptr<TempDir> tmp_;
};

TempDir* CliTest::dir_ = nullptr;
std::string CliTest::fp32_engine_, CliTest::fmnist_dir_, CliTest::calib_idx_, CliTest::input_npy_;
std::vector<uint8_t> CliTest::images_u8_, CliTest::labels_;
std::vector<float> CliTest::images_;

TEST_F(CliTest, HelpListsEveryCommandAndFlag) {
  CliResult r = RunCli(tmp(), {"--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* cmd : {"build", "run", "bench", "inspect", "eval"}) {
    EXPECT_NE(r.out.find(cmd), std::string::npos) << cmd << "\n" << r.out;
  }
  const std::vector<std::pair<std::string, std::vector<std::string>>> flags = {
      {"build",
       {"--output", "--config", "--precision", "--calib", "--calib-samples", "--calib-algorithm",
        "--calib-normalize", "--calib-batch", "--calib-table", "--save-calib-table", "--report",
        "--json"}},
      {"run", {"--input", "--output-dir", "--threads-per-context", "--json"}},
      {"bench",
       {"--batch", "--threads", "--threads-per-context", "--iterations", "--warmup", "--profile",
        "--json"}},
      {"inspect", {"--json", "--show-config"}},
      {"eval",
       {"--dataset", "--dataset-dir", "--data", "--labels", "--limit", "--batch", "--normalize",
        "--output", "--threads-per-context", "--json"}},
  };
  for (const auto& [cmd, names] : flags) {
    r = RunCli(tmp(), {cmd, "--help"});
    EXPECT_EQ(r.code, 0) << cmd;
    for (const std::string& flag : names) {
      EXPECT_NE(r.out.find(flag), std::string::npos) << cmd << " " << flag << "\n" << r.out;
    }
  }
  r = RunCli(tmp(), {"--version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find(GetVersionString()), std::string::npos) << r.out;
}

TEST_F(CliTest, UsageErrorsExitWith2AndOneLine) {
  const std::string e = fp32_engine_;
  ExpectError(tmp(), {}, 2, "subcommand");
  ExpectError(tmp(), {"frobnicate"}, 2, "frobnicate");
  ExpectError(tmp(), {"inspect"}, 2, "ENGINE is required");
  ExpectError(tmp(), {"inspect", e, "--bogus"}, 2, "--bogus");
  ExpectError(tmp(), {"build", kOnnx}, 2, "--output is required");
  ExpectError(tmp(), {"bench", e, "--threads", "0"}, 2, "--threads");
  ExpectError(tmp(), {"bench", e, "--iterations", "many"}, 2, "--iterations");
  // --threads-per-context: 0 (the OpenMP default) to 1024, on every command that runs.
  ExpectError(tmp(), {"bench", e, "--threads-per-context", "-1"}, 2,
              "--threads-per-context: Value -1 not in range 0 to 1024");
  ExpectError(tmp(), {"bench", e, "--threads-per-context", "2000"}, 2,
              "--threads-per-context: Value 2000 not in range 0 to 1024");
  ExpectError(tmp(), {"run", e, "--input", input_npy_, "--threads-per-context", "2000"}, 2,
              "--threads-per-context: Value 2000 not in range 0 to 1024");
  ExpectError(tmp(),
              {"eval", e, "--dataset", "fashion-mnist", "--threads-per-context", "-1"}, 2,
              "--threads-per-context: Value -1 not in range 0 to 1024");
  ExpectError(tmp(), {"run", e}, 2, "--input is required");
  ExpectError(tmp(), {"run", e, "--input", "nope=" + input_npy_}, 2, "no input named 'nope'");
  ExpectError(tmp(), {"run", e, "--input", input_npy_, "--input", "image=" + input_npy_}, 2,
              "given twice");
  ExpectError(tmp(), {"eval", e}, 2, "--dataset fashion-mnist or --data");
  ExpectError(tmp(), {"eval", e, "--dataset", "cifar"}, 2, "cifar");
  ExpectError(
      tmp(),
      {"eval", e, "--dataset", "fashion-mnist", "--data", input_npy_, "--labels", input_npy_}, 2,
      "excludes");
  ExpectError(tmp(), {"eval", e, "--data", input_npy_}, 2, "requires --labels");
  ExpectError(tmp(), {"eval", e, "--dataset", "fashion-mnist", "--normalize", "0.5"}, 2,
              "MEAN,STD");
  ExpectError(tmp(), {"eval", e, "--dataset", "fashion-mnist", "--output", "probs"}, 2,
              "no such output");
  ExpectError(tmp(), {"build", kOnnx, "-o", tmp() + "/x.qsdk", "--precision", "int3"}, 2,
              "--precision int3");
  ExpectError(tmp(), {"build", kOnnx, "-o", tmp() + "/x.qsdk", "--calib-samples", "5"}, 2,
              "requires --calib");
  ExpectError(
      tmp(),
      {"build", kOnnx, "-o", tmp() + "/x.qsdk", "--calib", calib_idx_, "--calib-normalize", "1,0"},
      2, "STD must be > 0");
  ExpectError(
      tmp(),
      {"build", kOnnx, "-o", tmp() + "/x.qsdk", "--calib", calib_idx_, "--calib-table", "t.json"},
      2, "excludes");
  ExpectError(
      tmp(),
      {"build", kOnnx, "-o", tmp() + "/x.qsdk", "--calib", calib_idx_, "--calib-algorithm", "best"},
      2, "best");
  ExpectError(tmp(),
              {"build", kOnnx, "-o", tmp() + "/x.qsdk", "--precision", "qint8_mixed_float32",
               "--calib", "label=" + calib_idx_},
              2, "no input named 'label'");
}

TEST_F(CliTest, InspectPrintsVersionsTensorsAndNodes) {
  CliResult r = RunCli(tmp(), {"inspect", fp32_engine_});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* text :
       {"format version", "written by qsdk", "tiny_cnn", "force_float32", "image", "[-1,1,28,28]",
        "logits", "nodes (execution order)", "FLOAT32"}) {
    EXPECT_NE(r.out.find(text), std::string::npos) << text << "\n" << r.out;
  }
  const json j = RunJson(tmp(), {"inspect", fp32_engine_, "--json", "--show-config"});
  EXPECT_EQ(j["valid"], true);
  EXPECT_EQ(j["format_version"], 2);
  EXPECT_EQ(j["written_by"], GetVersionString());
  EXPECT_EQ(j["library_version"], GetVersionString());
  EXPECT_EQ(j["name"], "tiny_cnn");
  EXPECT_EQ(j["inputs"][0]["name"], "image");
  EXPECT_EQ(j["inputs"][0]["shape"], json({-1, 1, 28, 28}));
  EXPECT_EQ(j["outputs"][0]["name"], "logits");
  EXPECT_EQ(j["precision_mode"], "force_float32");
  EXPECT_EQ(j["nodes"]["int8"], 0);
  EXPECT_GT(j["nodes"]["fp32"].get<int>(), 0);
  EXPECT_EQ(j["build_report"]["nodes"].size(), j["nodes"]["fp32"].get<size_t>());
  EXPECT_EQ(j["build_config"]["precision_config"]["precision_mode"], "force_float32");
}

TEST_F(CliTest, InspectRejectsDamagedEngines) {
  ExpectError(tmp(), {"inspect", tmp() + "/missing.qsdk"}, 1, "missing.qsdk");
  ExpectError(tmp(), {"inspect", tmp()}, 1, tmp());
  std::vector<uint8_t> bytes = ReadBytes(fp32_engine_);
  const std::string bad = tmp() + "/bad.qsdk";
  // One flipped byte in the weights, then in the header; a truncated file; not an engine.
  std::vector<uint8_t> flipped = bytes;
  flipped[flipped.size() - 5] ^= 0x40;
  WriteBytes(bad, flipped);
  ExpectError(tmp(), {"inspect", bad}, 1, "checksum");
  flipped = bytes;
  flipped[20] ^= 0x01;
  WriteBytes(bad, flipped);
  ExpectError(tmp(), {"inspect", bad}, 1, "");
  WriteBytes(bad, std::vector<uint8_t>(bytes.begin(), bytes.begin() + 100));
  ExpectError(tmp(), {"inspect", bad}, 1, "");
  WriteBytes(bad, {'h', 'e', 'l', 'l', 'o'});
  ExpectError(tmp(), {"inspect", bad}, 1, "");
  // The same damage is caught by every command that loads an engine.
  ExpectError(tmp(), {"run", bad, "--input", input_npy_}, 1, "");
  ExpectError(tmp(), {"bench", bad}, 1, "");
  ExpectError(tmp(), {"eval", bad, "--dataset", "fashion-mnist", "--dataset-dir", fmnist_dir_}, 1,
              "");
}

TEST_F(CliTest, RunWritesOutputsThatMatchTheLibrary) {
  const std::string out = tmp() + "/out";
  const json j = RunJson(tmp(), {"run", fp32_engine_, "--input", "image=" + input_npy_,
                                 "--output-dir", out, "--json"});
  EXPECT_EQ(j["outputs"][0]["name"], "logits");
  EXPECT_EQ(j["outputs"][0]["shape"], json({2, 10}));
  EXPECT_EQ(j["outputs"][0]["file"], out + "/logits.npy");
  NpyArray logits;
  Check(ReadNpy(out + "/logits.npy", &logits));
  EXPECT_EQ(logits.dtype, NpyDType::kFloat32);
  EXPECT_EQ(logits.shape, (std::vector<int64_t>{2, 10}));
  const std::vector<float> expected = EngineLogits(
      fp32_engine_, std::vector<float>(images_.begin(), images_.begin() + 2 * kPixels), 2);
  const std::vector<float> got = Floats(logits);
  ASSERT_EQ(got.size(), expected.size());
  // Same engine file, same kernels and batch on the same machine: the results are the
  // same computation; 1e-5 absolute only allows for a different oneDNN thread split
  // between the two processes (reductions in another order).
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], 1e-5) << i;

  // The human form, with FILE alone for a one-input model, given before ENGINE.
  const CliResult r = RunCli(tmp(), {"run", "-i", input_npy_, fp32_engine_});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("logits"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[2,10]"), std::string::npos) << r.out;
}

TEST_F(CliTest, RunRejectsInputsThatDoNotFit) {
  const std::string e = fp32_engine_;
  const std::string path = tmp() + "/x.npy";
  NpyArray doubles;
  doubles.dtype = NpyDType::kFloat64;
  doubles.shape = {1, 1, 28, 28};
  doubles.data.resize(kPixels * 8);
  Check(WriteNpy(path, doubles));
  ExpectError(tmp(), {"run", e, "--input", path}, 1,
              "has dtype float64 ('<f8'); the input is FLOAT32");
  Check(WriteNpy(path, FloatNpy({1, 28, 28}, std::vector<float>(kPixels))));
  ExpectError(tmp(), {"run", e, "--input", path}, 1, "has shape [1,28,28] (rank 3)");
  Check(WriteNpy(path, FloatNpy({1, 3, 28, 28}, std::vector<float>(3 * kPixels))));
  ExpectError(tmp(), {"run", e, "--input", path}, 1, "extent 3 at dim 1");
  std::vector<uint8_t> bytes = ReadBytes(input_npy_);
  bytes.resize(bytes.size() - 4);
  WriteBytes(path, bytes);
  ExpectError(tmp(), {"run", e, "--input", path}, 1, "truncated");
  bytes = ReadBytes(input_npy_);
  const std::string header(bytes.begin(), bytes.begin() + 128);
  const size_t at = header.find("False");
  ASSERT_NE(at, std::string::npos);
  std::memcpy(bytes.data() + at, "True ", 5);
  WriteBytes(path, bytes);
  ExpectError(tmp(), {"run", e, "--input", path}, 1, "Fortran-order");
  ExpectError(tmp(), {"run", e, "--input", tmp() + "/none.npy"}, 1, "none.npy");
}

TEST_F(CliTest, BenchReportsPercentilesAndThroughput) {
  const json j = RunJson(tmp(), {"bench", fp32_engine_, "--batch", "2", "--threads", "2",
                                 "--iterations", "6", "--warmup", "1", "--json"});
  EXPECT_EQ(j["batch"], 2);
  EXPECT_EQ(j["threads"], 2);
  EXPECT_EQ(j["latency_ms"]["count"], 12);  // 6 timed runs on each of 2 threads
  const double p50 = j["latency_ms"]["p50"], p90 = j["latency_ms"]["p90"],
               p99 = j["latency_ms"]["p99"], lo = j["latency_ms"]["min"],
               hi = j["latency_ms"]["max"], mean = j["latency_ms"]["mean"];
  EXPECT_GT(lo, 0.0);
  EXPECT_LE(lo, p50);
  EXPECT_LE(p50, p90);
  EXPECT_LE(p90, p99);
  EXPECT_LE(p99, hi);
  EXPECT_LE(lo, mean);
  EXPECT_LE(mean, hi);
  EXPECT_GT(j["throughput_images_per_second"].get<double>(), 0.0);
  const CliResult r = RunCli(tmp(), {"bench", fp32_engine_, "-n", "3", "-w", "0"});
  EXPECT_EQ(r.code, 0) << r.err;
  for (const char* text : {"p50", "p90", "p99", "mean", "images/s", "OMP_NUM_THREADS"}) {
    EXPECT_NE(r.out.find(text), std::string::npos) << text << "\n" << r.out;
  }
}

// --profile: every node of the engine appears once with its kernel; the shares add up to
// 100 %; the activation memory is reported.
TEST_F(CliTest, BenchProfileListsEveryNode) {
  const json j = RunJson(tmp(), {"bench", fp32_engine_, "-n", "4", "-w", "1", "--profile",
                                 "--json"});
  EXPECT_GT(j["activation_memory_bytes"].get<int64_t>(), 0);
  ASSERT_TRUE(j["profile"].is_array());
  const json inspect = RunJson(tmp(), {"inspect", fp32_engine_, "--json"});
  std::set<std::string> profiled;
  double percent = 0, previous = 1e30;
  for (const json& step : j["profile"]) {
    profiled.insert(step["node"].get<std::string>());
    EXPECT_FALSE(step["kernel"].get<std::string>().empty());
    // Every step is found in the execution plan: its output as "element layout".
    EXPECT_TRUE(step["output"].is_string()) << step;
    EXPECT_TRUE(step["implementation"].is_string()) << step;
    EXPECT_TRUE(step["fused"].is_array()) << step;
    EXPECT_TRUE(step["inputs"].is_array()) << step;
    ASSERT_TRUE(step["outputs"].is_array()) << step;
    ASSERT_FALSE(step["outputs"].empty()) << step;
    EXPECT_EQ(step["output"], step["outputs"][0]["element"].get<std::string>() + " " +
                                  step["outputs"][0]["layout"].get<std::string>());
    EXPECT_GE(step["mean_ms"].get<double>(), 0.0);
    EXPECT_LE(step["mean_ms"].get<double>(), previous);  // slowest first
    previous = step["mean_ms"].get<double>();
    percent += step["percent"].get<double>();
  }
  EXPECT_NEAR(percent, 100.0, 1e-6);
  for (const json& node : inspect["build_report"]["nodes"]) {
    EXPECT_EQ(profiled.count(node["name"].get<std::string>()), 1u) << node["name"];
  }
  // The FP32 engine's fast paths: not INT8, one plan for 1 warm-up + 4 timed + 4 profiled
  // runs.
  EXPECT_EQ(j["fast_paths"]["int8"]["int8_engine"], false);
  EXPECT_EQ(j["fast_paths"]["primitives"]["plans_built"], 1);
  EXPECT_EQ(j["fast_paths"]["primitives"]["runs"], 9);
  const CliResult r = RunCli(tmp(), {"bench", fp32_engine_, "-n", "2", "-w", "0", "--profile"});
  EXPECT_EQ(r.code, 0) << r.err;
  for (const char* text : {"slowest first", "implementation", "fused", "fast paths",
                           "not an INT8 engine", "1 plan built for 4 runs"}) {
    EXPECT_NE(r.out.find(text), std::string::npos) << text << "\n" << r.out;
  }
}

// --threads-per-context reaches the context: each command reports the count it ran with.
TEST_F(CliTest, ThreadsPerContextIsPassedToTheContext) {
  json j = RunJson(tmp(), {"bench", fp32_engine_, "-n", "2", "-w", "0", "--threads", "2",
                           "--threads-per-context", "1", "--json"});
  EXPECT_EQ(j["threads"], 2);
  EXPECT_EQ(j["threads_per_context"], 1);
  EXPECT_EQ(j["threads_per_context_option"], 1);
  j = RunJson(tmp(), {"run", fp32_engine_, "--input", input_npy_, "--threads-per-context", "2",
                      "--json"});
  EXPECT_EQ(j["threads_per_context"], 2);
  j = RunJson(tmp(), {"eval", fp32_engine_, "--dataset", "fashion-mnist", "--dataset-dir",
                      fmnist_dir_, "--threads-per-context", "1", "--json"});
  EXPECT_EQ(j["threads_per_context"], 1);
  // The default (0) resolves to the OpenMP default: at least one thread.
  j = RunJson(tmp(), {"bench", fp32_engine_, "-n", "1", "-w", "0", "--json"});
  EXPECT_EQ(j["threads_per_context_option"], 0);
  EXPECT_GE(j["threads_per_context"].get<int>(), 1);
  const CliResult r = RunCli(tmp(), {"bench", fp32_engine_, "-n", "1", "-w", "0",
                                     "--threads-per-context", "1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("1 context x 1 thread each (--threads-per-context 1;"), std::string::npos)
      << r.out;
}

// The INT8 ResNet of models/ (residual adds): bench --profile shows the runtime's fast
// paths: no reorder between kernels, every residual add fused as a sum post-op, every
// Conv/FullyConnected step INT8, one plan for every run, the requested thread count.
TEST_F(CliTest, BenchProfileShowsTheFastPathsOfAnInt8ResNet) {
  const std::string model = std::string(QSDK_CLI_MODELS_DIR) + "/fmnist_resnet.onnx";
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "needs " << model;
  // Calibrated on the synthetic images: the ranges do not matter here, only the plan.
  const std::string int8 = tmp() + "/resnet.int8.qsdk";
  const CliResult built =
      RunCli(tmp(), {"build", model, "-o", int8, "-p", "qint8_mixed_float32", "--calib",
                     calib_idx_, "--calib-batch", "8", "--no-progress"});
  ASSERT_EQ(built.code, 0) << built.err;
  const json j = RunJson(tmp(), {"bench", int8, "-n", "3", "-w", "1", "--profile", "--json",
                                 "--threads-per-context", "1"});
  ASSERT_TRUE(j["fast_paths"].is_object()) << j.dump(2);
  const json& f = j["fast_paths"];
  EXPECT_EQ(f["reorders"]["between_kernels"], 0) << f.dump(2);
  EXPECT_GE(f["residual_adds"]["fused"].get<int>(), 1) << f.dump(2);
  EXPECT_EQ(f["residual_adds"]["separate_elementwise_steps"], 0) << f.dump(2);
  EXPECT_EQ(f["int8"]["int8_engine"], true);
  EXPECT_GT(f["int8"]["heavy_steps"].get<int>(), 0) << f.dump(2);
  EXPECT_EQ(f["int8"]["heavy_int8_steps"], f["int8"]["heavy_steps"]) << f.dump(2);
  EXPECT_EQ(f["primitives"]["plans_built"], 1);
  EXPECT_EQ(f["primitives"]["runs"], 1 + 3 + 3);  // warm-up + timed + profiled
  EXPECT_EQ(f["threads"], 1);
  EXPECT_EQ(j["threads_per_context"], 1);
  // The profile rows of the residual convolutions say so in "fused".
  int residual_rows = 0;
  for (const json& step : j["profile"]) {
    for (const json& fused : step["fused"]) {
      residual_rows += fused.get<std::string>().rfind("residual add", 0) == 0;
    }
  }
  EXPECT_EQ(residual_rows, f["residual_adds"]["fused"].get<int>());
  const CliResult r = RunCli(tmp(), {"bench", int8, "-n", "2", "-w", "0", "--profile",
                                     "--threads-per-context", "1"});
  EXPECT_EQ(r.code, 0) << r.err;
  for (const char* text : {"fast paths", "reorders:", "0 between kernels", "int8 end to end:",
                           "residual adds:", "depthwise conv:", "weights:", "primitives:",
                           "activation arena:", "1 per context", "residual add,Relu"}) {
    EXPECT_NE(r.out.find(text), std::string::npos) << text << "\n" << r.out;
  }
}

TEST_F(CliTest, EvalCountsTopOneExactly) {
  // Labels: the engine's own predictions for the first half, a different class for the
  // second half, so top-1 must be exactly 50%.
  const int64_t n = 20;
  std::vector<float> data(images_.begin(), images_.begin() + n * kPixels);
  const std::vector<int64_t> predicted = Argmax(EngineLogits(fp32_engine_, data, n));
  ASSERT_EQ(predicted.size(), static_cast<size_t>(n));
  NpyArray labels;
  labels.dtype = NpyDType::kInt64;
  labels.shape = {n};
  labels.data.resize(n * 8);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t l = i < n / 2 ? predicted[i] : (predicted[i] + 1) % 10;
    std::memcpy(labels.data.data() + i * 8, &l, 8);
  }
  const std::string x = tmp() + "/x.npy", y = tmp() + "/y.npy";
  Check(WriteNpy(x, FloatNpy({n, 1, 28, 28}, data)));
  Check(WriteNpy(y, labels));
  for (const char* batch : {"1", "7", "100"}) {
    const json j = RunJson(
        tmp(), {"eval", fp32_engine_, "--data", x, "--labels", y, "--batch", batch, "--json"});
    EXPECT_EQ(j["samples"], n) << batch;
    EXPECT_EQ(j["correct"], n / 2) << batch;
    EXPECT_DOUBLE_EQ(j["top1"].get<double>(), 0.5) << batch;
    EXPECT_EQ(j["classes"], 10);
  }
  // --limit: the first 10 samples are all correct.
  json j =
      RunJson(tmp(), {"eval", fp32_engine_, "--data", x, "--labels", y, "--limit", "10", "--json"});
  EXPECT_EQ(j["correct"], 10);
  EXPECT_EQ(j["samples"], 10);

  // uint8 data is normalized with the Fashion-MNIST defaults: same predictions, and
  // [N,28,28] data fits the [N,1,28,28] input.
  NpyArray u8;
  u8.dtype = NpyDType::kUInt8;
  u8.shape = {n, 28, 28};
  u8.data.assign(images_u8_.begin(), images_u8_.begin() + n * kPixels);
  Check(WriteNpy(x, u8));
  j = RunJson(tmp(), {"eval", fp32_engine_, "--data", x, "--labels", y, "--json"});
  EXPECT_EQ(j["correct"], n / 2);
  const CliResult r = RunCli(tmp(), {"eval", fp32_engine_, "--data", x, "--labels", y});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("50.00% (10 / 20)"), std::string::npos) << r.out;
}

TEST_F(CliTest, EvalOnFashionMnistFiles) {
  const std::vector<int64_t> predicted = Argmax(EngineLogits(fp32_engine_, images_, kImages));
  int64_t correct = 0;
  for (int i = 0; i < kImages; ++i) correct += predicted[i] == labels_[i];
  const json j = RunJson(tmp(), {"eval", fp32_engine_, "--dataset", "fashion-mnist",
                                 "--dataset-dir", fmnist_dir_, "--batch", "16", "--json"});
  EXPECT_EQ(j["samples"], kImages);
  EXPECT_EQ(j["correct"], correct);
}

TEST_F(CliTest, EvalRejectsBadData) {
  const std::string e = fp32_engine_;
  const std::string x = tmp() + "/x.npy", y = tmp() + "/y.npy";
  Check(WriteNpy(x, FloatNpy({2, 1, 28, 28}, std::vector<float>(2 * kPixels))));
  NpyArray labels;
  labels.dtype = NpyDType::kUInt8;
  labels.shape = {3};
  labels.data = {1, 2, 3};
  Check(WriteNpy(y, labels));
  ExpectError(tmp(), {"eval", e, "--data", x, "--labels", y}, 1, "has 2 samples but");
  labels.shape = {2};
  labels.data = {1, 12};
  Check(WriteNpy(y, labels));
  ExpectError(tmp(), {"eval", e, "--data", x, "--labels", y}, 1, "label 1 is 12");
  Check(WriteNpy(y, FloatNpy({2}, {1, 2})));
  ExpectError(tmp(), {"eval", e, "--data", x, "--labels", y}, 1, "labels must be integers");
  labels.data = {1, 2};
  Check(WriteNpy(y, labels));
  ExpectError(tmp(), {"eval", e, "--data", x, "--labels", y, "--normalize", "0,1"}, 2,
              "--normalize applies to uint8 data");
  Check(WriteNpy(x, FloatNpy({2, 100}, std::vector<float>(200))));
  ExpectError(tmp(), {"eval", e, "--data", x, "--labels", y}, 1, "784 elements per sample");
  ExpectError(tmp(), {"eval", e, "--dataset", "fashion-mnist", "--dataset-dir", tmp()}, 1,
              "t10k-images-idx3-ubyte");
}

TEST_F(CliTest, BuildFp32MatchesTheReference) {
  const std::string engine = tmp() + "/fp32.qsdk", report = tmp() + "/report.json";
  const json j = RunJson(tmp(), {"build", kOnnx, "-o", engine, "--report", report, "--json"});
  EXPECT_EQ(j["precision_mode"], "force_float32");
  EXPECT_EQ(j["nodes"]["int8"], 0);
  EXPECT_GT(j["engine_size"].get<int64_t>(), 0);
  EXPECT_TRUE(j["calibration"].is_null());
  const json r = json::parse(ReadText(report), nullptr, false);
  ASSERT_FALSE(r.is_discarded());
  EXPECT_EQ(r["nodes"].size(), j["nodes"]["fp32"].get<size_t>());

  // The engine's outputs (through `qsdk run`) against the reference kernels on the
  // imported network, in-process.
  const std::string out = tmp() + "/out";
  ASSERT_EQ(RunCli(tmp(), {"run", engine, "--input", input_npy_, "-o", out}).code, 0);
  NpyArray logits;
  Check(ReadNpy(out + "/logits.npy", &logits));
  auto network = CreateINetwork();
  Check(CreateIParser()->ParseFromFile(kOnnx, network.get()));
  std::vector<float> input(images_.begin(), images_.begin() + 2 * kPixels);
  std::vector<Tensor> expected;
  Check(ExecuteReference(
      *network, {Tensor::Wrap(DataType::FLOAT32, Dims{2, 1, 28, 28}, input.data(), "image")},
      &expected));
  const std::vector<float> got = Floats(logits);
  ASSERT_EQ(got.size(), 20u);
  // oneDNN (folded BatchNorm, blocked layouts, other summation order) against naive
  // loops: a few float32 ulps per accumulation over at most 36-term sums and 3 layers;
  // the logits are O(1), so 1e-4 absolute is ample and still catches any real error.
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], expected[0].Data<float>()[i], 1e-4) << i;
  }
  // The human summary.
  const CliResult h = RunCli(tmp(), {"build", kOnnx, "-o", engine});
  EXPECT_EQ(h.code, 0) << h.err;
  for (const char* text : {"force_float32", "engine size", "build time", "FLOAT32"}) {
    EXPECT_NE(h.out.find(text), std::string::npos) << text << "\n" << h.out;
  }
}

// Cosine similarity of two logit vectors.
double Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += double(a[i]) * b[i];
    na += double(a[i]) * a[i];
    nb += double(b[i]) * b[i];
  }
  return dot / std::sqrt(na * nb);
}

TEST_F(CliTest, BuildInt8CalibratesFromIdxNpyAndTables) {
  const std::string int8 = tmp() + "/int8.qsdk", table = tmp() + "/table.json";
  json j = RunJson(tmp(), {"build", kOnnx, "-o", int8, "--precision", "qint8_mixed_float32",
                           "--calib", calib_idx_, "--calib-batch", "8", "--calib-algorithm",
                           "minmax", "--save-calib-table", table, "--json"});
  EXPECT_EQ(j["precision_mode"], "qint8_mixed_float32");
  EXPECT_GT(j["nodes"]["int8"].get<int>(), 0);
  EXPECT_EQ(j["calibration"]["algorithm"], "minmax");
  EXPECT_EQ(j["calibration"]["batches"], kImages / 8);
  const json t = json::parse(ReadText(table), nullptr, false);
  ASSERT_FALSE(t.is_discarded());
  EXPECT_EQ(t["samples"], kImages / 8);
  EXPECT_EQ(t["algorithm"], "minmax");

  // The tool normalized the IDX bytes as documented: with min-max, the input's range is
  // exactly the extreme normalized pixels (same float32 expression, so equal to the ulp).
  const auto [lo, hi] = std::minmax_element(images_.begin(), images_.end());
  EXPECT_FLOAT_EQ(t["tensors"]["image"]["min"][0].get<float>(), *lo);
  EXPECT_FLOAT_EQ(t["tensors"]["image"]["max"][0].get<float>(), *hi);

  // INT8 agrees with FP32 on the calibration images: with min-max ranges from these very
  // images nothing clips, and only 8-bit rounding remains (measured cosine 0.99996);
  // 0.999 leaves margin for other CPUs' rounding paths.
  const std::vector<float> fp32 = EngineLogits(fp32_engine_, images_, kImages);
  const std::vector<float> q = EngineLogits(int8, images_, kImages);
  ASSERT_EQ(fp32.size(), q.size());
  EXPECT_GT(Cosine(fp32, q), 0.999);

  // The same ranges from the saved table give the same engine outputs, bit for bit.
  const std::string from_table = tmp() + "/table.qsdk";
  j = RunJson(tmp(), {"build", kOnnx, "-o", from_table, "--precision", "qint8_mixed_float32",
                      "--calib-table", table, "--json"});
  EXPECT_EQ(j["calibration"]["table"], table);
  EXPECT_EQ(EngineLogits(from_table, images_, kImages), q);

  // The same images as a directory of .npy batches (uint8, normalized by the tool) and as
  // float32 batches normalized here: both give the same table as the IDX file.
  const std::string npy_dir = tmp() + "/calib";
  const std::string f32_dir = tmp() + "/calib_f32";
  ::mkdir(npy_dir.c_str(), 0755);
  ::mkdir(f32_dir.c_str(), 0755);
  for (int b = 0; b < kImages / 8; ++b) {
    NpyArray u8;
    u8.dtype = NpyDType::kUInt8;
    u8.shape = {8, 28, 28};
    u8.data.assign(images_u8_.begin() + b * 8 * kPixels,
                   images_u8_.begin() + (b + 1) * 8 * kPixels);
    Check(WriteNpy(npy_dir + "/batch" + std::to_string(b) + ".npy", u8));
    Check(WriteNpy(
        f32_dir + "/batch" + std::to_string(b) + ".npy",
        FloatNpy({8, 1, 28, 28}, std::vector<float>(images_.begin() + b * 8 * kPixels,
                                                    images_.begin() + (b + 1) * 8 * kPixels))));
  }
  for (const std::string& dir : {npy_dir, f32_dir}) {
    const std::string other = tmp() + "/other.json";
    const CliResult r = RunCli(tmp(), {"build", kOnnx, "-o", tmp() + "/npy.qsdk", "--precision",
                                       "qint8_mixed_float32", "--calib", "image=" + dir,
                                       "--calib-algorithm", "minmax", "--save-calib-table", other});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("INT8"), std::string::npos) << r.out;
    // stderr holds the progress bar's final line (not a terminal: one line, no redraws).
    EXPECT_NE(r.err.find("calibrating"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
    EXPECT_EQ(json::parse(ReadText(other))["tensors"], t["tensors"]) << dir;
  }
  // One .npy file is one batch (here given before MODEL); --calib-samples limits the
  // batches.
  j = RunJson(tmp(), {"build", "--calib", npy_dir + "/batch0.npy", kOnnx, "-o", tmp() + "/one.qsdk",
                      "--precision", "qint8_mixed_float32", "--json"});
  EXPECT_EQ(j["calibration"]["batches"], 1);
  j = RunJson(tmp(),
              {"build", kOnnx, "-o", tmp() + "/few.qsdk", "--precision", "qint8_mixed_float32",
               "--calib", npy_dir, "--calib-samples", "2", "--no-progress", "--json"});
  EXPECT_EQ(j["calibration"]["batches"], 2);
}

TEST_F(CliTest, BuildFailuresExitWith1) {
  const std::string out = tmp() + "/x.qsdk";
  ExpectError(tmp(), {"build", tmp() + "/none.onnx", "-o", out}, 1, "none.onnx");
  const std::string garbage = tmp() + "/garbage.onnx";
  WriteBytes(garbage, {0xff, 0xff, 0xff, 0x01, 0x02});
  ExpectError(tmp(), {"build", garbage, "-o", out}, 1, "");
  const std::string config = tmp() + "/config.json";
  WriteBytes(config, {'{', '"', 'x', '"', ':', '1', '}'});
  ExpectError(tmp(), {"build", kOnnx, "-o", out, "--config", config}, 1, "/x");
  ExpectError(tmp(), {"build", kOnnx, "-o", out, "--config", tmp() + "/nope.json"}, 1, "nope.json");
  ExpectError(tmp(), {"build", kOnnx, "-o", out, "--precision", "qint16_mixed_float32"}, 1,
              "--calib");
  ExpectError(tmp(), {"build", kOnnx, "-o", out, "--precision", "qint8_mixed_float32"}, 1,
              "--calib");
  ExpectError(tmp(),
              {"build", kOnnx, "-o", out, "--precision", "qint8_mixed_float32", "--calib",
               tmp() + "/nothing"},
              1, "does not exist");
  const std::string wrong = tmp() + "/wrong.npy";
  Check(WriteNpy(wrong, FloatNpy({2, 3, 28, 28}, std::vector<float>(6 * kPixels))));
  ExpectError(tmp(),
              {"build", kOnnx, "-o", out, "--precision", "qint8_mixed_float32", "--calib", wrong},
              1, "calibration file '" + wrong + "' has shape");
  const std::string table = tmp() + "/table.json";
  WriteBytes(table, {'[', ']'});
  ExpectError(tmp(), {"build", kOnnx, "-o", out, "--calib-table", table}, 1, "table.json");
  ExpectError(tmp(), {"build", kOnnx, "-o", tmp() + "/no/such/dir/x.qsdk"}, 1, "x.qsdk");
}

TEST_F(CliTest, ModelsWithSeveralInputsNeedNames) {
  const std::string onnx = kDataDir + "/two_inputs.onnx";
  const std::string a = tmp() + "/a", b = tmp() + "/b";
  ::mkdir(a.c_str(), 0755);
  ::mkdir(b.c_str(), 0755);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  for (int i = 0; i < 3; ++i) {
    std::vector<float> x(8 * 4), y(8 * 4);
    for (float& v : x) v = value(rng);
    for (float& v : y) v = value(rng);
    Check(WriteNpy(a + "/" + std::to_string(i) + ".npy", FloatNpy({8, 4}, x)));
    Check(WriteNpy(b + "/" + std::to_string(i) + ".npy", FloatNpy({8, 4}, y)));
  }
  const std::string engine = tmp() + "/two.qsdk";
  ExpectError(tmp(), {"build", onnx, "-o", engine, "-p", "qint8_mixed_float32", "--calib", a}, 2,
              "give INPUT=DATA; the network has 2 inputs ('a', 'b')");
  ExpectError(tmp(),
              {"build", onnx, "-o", engine, "-p", "qint8_mixed_float32", "--calib", "a=" + a}, 2,
              "no data for input 'b'");
  const json j = RunJson(tmp(), {"build", onnx, "-o", engine, "-p", "qint8_mixed_float32",
                                 "--calib", "b=" + b, "--calib", "a=" + a, "--json"});
  EXPECT_GT(j["nodes"]["int8"].get<int>(), 0);
  EXPECT_EQ(j["calibration"]["batches"], 3);

  const std::string x = a + "/0.npy", y = b + "/0.npy";
  ExpectError(tmp(), {"run", engine, "--input", x}, 2,
              "give NAME=FILE.npy; the model has 2 inputs");
  ExpectError(tmp(), {"run", engine, "--input", "a=" + x}, 2, "input 'b' is not given");
  const json r = RunJson(tmp(), {"run", engine, "-i", "b=" + y, "-i", "a=" + x, "--json"});
  EXPECT_EQ(r["inputs"][0]["name"], "a");
  EXPECT_EQ(r["inputs"][0]["file"], x);
  EXPECT_EQ(r["outputs"][0]["shape"], json({8, 3}));
  ExpectError(tmp(), {"eval", engine, "--data", x, "--labels", y}, 1,
              "eval needs a model with one input");
  const json bench = RunJson(tmp(), {"bench", engine, "-b", "4", "-n", "2", "-w", "0", "--json"});
  EXPECT_EQ(bench["latency_ms"]["count"], 2);
}

// The trained Fashion-MNIST model (models/fmnist_resnet.onnx, tools/train_fmnist.py) on
// the real dataset, when both are present: the whole user workflow, FP32 and INT8.
TEST_F(CliTest, FashionMnistModelKeepsItsAccuracyInInt8) {
  const std::string model = std::string(QSDK_CLI_MODELS_DIR) + "/fmnist_resnet.onnx";
  const std::string data = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(model) ||
      !std::filesystem::exists(data + "/train-images-idx3-ubyte.gz") ||
      !std::filesystem::exists(data + "/t10k-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "needs " << model << " and the Fashion-MNIST files in " << data;
  }
  const std::string fp32 = tmp() + "/fmnist.fp32.qsdk", int8 = tmp() + "/fmnist.int8.qsdk";
  ASSERT_EQ(RunCli(tmp(), {"build", model, "-o", fp32}).code, 0);
  const json built =
      RunJson(tmp(), {"build", model, "-o", int8, "-p", "qint8_mixed_float32", "--calib",
                      data + "/train-images-idx3-ubyte.gz", "--calib-samples", "20",
                      "--calib-algorithm", "percentile", "--no-progress", "--json"});
  EXPECT_GT(built["nodes"]["int8"].get<int>(), 0);
  EXPECT_EQ(built["nodes"]["fp32"], 0);
  const json a =
      RunJson(tmp(), {"eval", fp32, "--dataset", "fashion-mnist", "--limit", "1000", "--json"});
  const json b =
      RunJson(tmp(), {"eval", int8, "--dataset", "fashion-mnist", "--limit", "1000", "--json"});
  const double top1_fp32 = a["top1"], top1_int8 = b["top1"];
  // The trained model reaches ~93% on the test set (92.9% on these 1000 images when this
  // test was written); 90% fails on a broken preprocessing or importer.
  EXPECT_GE(top1_fp32, 0.90);
  // INT8 with percentile ranges from 640 training images matched FP32 exactly here; one
  // point (10 images) allows borderline images to flip under other CPUs' INT8 kernels.
  EXPECT_NEAR(top1_int8, top1_fp32, 0.01);
}

}  // namespace
}  // namespace qsdk::tools
