#include "onnx/conformance.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "onnx/onnx_test_util.h"
#include "onnx/tensor_data.h"

namespace qsdk::onnx_test {

namespace fs = std::filesystem;

namespace {

// Node tests selected for the supported ops: an entry ending in '*' is a prefix, any
// other is an exact name. Erf is here because it is supported inside the Gelu pattern.
const char* const kSelection[] = {
    "test_add*",
    "test_averagepool_*",
    "test_basic_conv_*",
    "test_batchnorm_*",
    "test_clip*",
    "test_concat_*",
    "test_constant",
    "test_conv_*",
    "test_dequantizelinear*",
    "test_dropout_*",
    "test_erf",
    "test_flatten_*",
    "test_gemm_*",
    "test_globalaveragepool*",
    "test_globalmaxpool*",
    "test_hardswish*",
    "test_identity*",
    "test_leakyrelu*",
    "test_matmul_*",
    "test_maxpool_*",
    "test_mul*",
    "test_quantizelinear*",
    "test_relu",
    "test_reshape_*",
    "test_sigmoid*",
    "test_softmax_*",
    "test_sub*",
    "test_tanh*",
    "test_transpose_*",
};

bool Selected(const std::string& name) {
  for (const char* entry : kSelection) {
    const std::string e = entry;
    if (!e.empty() && e.back() == '*') {
      if (name.compare(0, e.size() - 1, e, 0, e.size() - 1) == 0) return true;
    } else if (name == e) {
      return true;
    }
  }
  return false;
}

bool ReadProto(const fs::path& path, google::protobuf::MessageLite* message) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return false;
  std::stringstream buffer;
  buffer << file.rdbuf();
  return message->ParseFromString(buffer.str());
}

// The tensors input_0.pb, input_1.pb, ... (or output_*) of a test data set.
std::vector<::onnx::TensorProto> ReadTensors(const fs::path& dir, const std::string& prefix) {
  std::vector<::onnx::TensorProto> tensors;
  for (int i = 0;; ++i) {
    const fs::path path = dir / (prefix + "_" + std::to_string(i) + ".pb");
    if (!fs::exists(path)) break;
    ::onnx::TensorProto t;
    if (!ReadProto(path, &t)) break;
    tensors.push_back(t);
  }
  return tensors;
}

// A qsdk tensor holding a FLOAT TensorProto; empty for other types.
Tensor ToTensor(const ::onnx::TensorProto& proto, const std::string& name) {
  onnx::HostTensor host;
  if (!onnx::DecodeTensor(proto, "test tensor", "", &host).ok() || !host.is_float()) return {};
  Tensor t = Tensor::Allocate(DataType::FLOAT32, Dims(host.dims()), name);
  if (t.empty()) return {};
  std::copy(host.floats(), host.floats() + host.count(), t.Data<float>());
  return t;
}

// Compares outputs; empty when they match.
std::string Compare(const std::vector<Tensor>& got, const std::vector<::onnx::TensorProto>& want) {
  if (got.size() != want.size()) {
    return "produced " + std::to_string(got.size()) + " outputs, expected " +
           std::to_string(want.size());
  }
  for (size_t o = 0; o < want.size(); ++o) {
    const Tensor expected = ToTensor(want[o], "");
    if (expected.empty()) return "expected output " + std::to_string(o) + " is not FLOAT";
    if (got[o].GetDimension() != expected.GetDimension()) {
      return "output " + std::to_string(o) + " has shape " + got[o].GetDimension().ToString() +
             ", expected " + expected.GetDimension().ToString();
    }
    const std::vector<float> g = Values(got[o]);
    const std::vector<float> w = Values(expected);
    for (size_t i = 0; i < w.size(); ++i) {
      if (std::isnan(w[i]) && std::isnan(g[i])) continue;
      if (!(std::fabs(static_cast<double>(g[i]) - w[i]) <= kAtol + kRtol * std::fabs(w[i]))) {
        std::ostringstream s;
        s << "output " << o << " element " << i << " = " << g[i] << ", expected " << w[i]
          << " (rtol " << kRtol << ", atol " << kAtol << ")";
        return s.str();
      }
    }
  }
  return "";
}

}  // namespace

std::string ConformanceDataDir() { return QSDK_ONNX_TESTDATA_DIR; }

std::vector<std::string> ConformanceTests() {
  std::vector<std::string> tests;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(ConformanceDataDir(), ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && Selected(name) && fs::exists(entry.path() / "model.onnx")) {
      tests.push_back(name);
    }
  }
  std::sort(tests.begin(), tests.end());
  return tests;
}

ConformanceResult RunConformanceTest(const std::string& test) {
  ConformanceResult result;
  result.test = test;
  const fs::path dir = fs::path(ConformanceDataDir()) / test;
  ::onnx::ModelProto model;
  if (!ReadProto(dir / "model.onnx", &model)) {
    result.detail = "cannot read model.onnx";
    return result;
  }
  const fs::path data = dir / "test_data_set_0";
  const std::vector<::onnx::TensorProto> inputs = ReadTensors(data, "input");
  const std::vector<::onnx::TensorProto> outputs = ReadTensors(data, "output");
  if (static_cast<int>(inputs.size()) != model.graph().input_size()) {
    result.detail = "the test data does not match the graph inputs";
    return result;
  }

  // The two forms: as given, and with inputs 1.. as initializers.
  std::vector<::onnx::ModelProto> forms = {model};
  if (inputs.size() >= 2) {
    ::onnx::ModelProto folded = model;
    ::onnx::GraphProto* graph = folded.mutable_graph();
    for (size_t i = 1; i < inputs.size(); ++i) {
      ::onnx::TensorProto* init = graph->add_initializer();
      *init = inputs[i];
      init->set_name(model.graph().input(static_cast<int>(i)).name());
    }
    graph->mutable_input()->DeleteSubrange(1, graph->input_size() - 1);
    forms.push_back(folded);
  }
  static const char* const kFormNames[] = {"as given", "inputs 1.. as initializers"};
  Status last_rejection;
  for (size_t f = 0; f < forms.size(); ++f) {
    std::unique_ptr<INetwork> network;
    const Status parsed = Parse(forms[f], &network, dir.string());
    if (!parsed.ok()) {
      result.rejections.push_back(std::string(kFormNames[f]) + ": " + parsed.message());
      last_rejection = parsed;
      continue;
    }
    const size_t runtime_inputs = f == 0 ? inputs.size() : 1;
    std::vector<Tensor> feed;
    for (size_t i = 0; i < runtime_inputs; ++i) {
      Tensor t = ToTensor(inputs[i], model.graph().input(static_cast<int>(i)).name());
      if (t.empty()) {
        result.detail = "input " + std::to_string(i) + " is not FLOAT but the parser accepted it";
        return result;
      }
      feed.push_back(t);
    }
    std::vector<Tensor> got;
    const Status run = BuildAndRun(*network, "{}", feed, &got);
    if (!run.ok()) {
      result.detail = std::string(kFormNames[f]) + ": build / run: " + run.ToString();
      return result;
    }
    const std::string mismatch = Compare(got, outputs);
    if (!mismatch.empty()) {
      result.detail = std::string(kFormNames[f]) + ": " + mismatch;
      return result;
    }
    result.passed_forms.push_back(kFormNames[f]);
  }
  if (!result.passed_forms.empty()) {
    result.outcome = ConformanceResult::Outcome::kPassed;
    return result;
  }
  // No form was accepted: unsupported when the parser says so, a failure otherwise (a
  // valid ONNX test must not be rejected as invalid).
  const bool unsupported = last_rejection.code() == StatusCode::kUnimplemented ||
                           last_rejection.code() == StatusCode::kVersionMismatch;
  result.outcome =
      unsupported ? ConformanceResult::Outcome::kUnsupported : ConformanceResult::Outcome::kFailed;
  result.detail = unsupported ? last_rejection.message() : "parser: " + last_rejection.ToString();
  return result;
}

}  // namespace qsdk::onnx_test
