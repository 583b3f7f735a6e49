// qsdk run ENGINE --input NAME=FILE.npy ... [--output-dir DIR]: runs an engine once on
// .npy inputs and writes each output to DIR/<output name>.npy.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "batch_shape.h"
#include "command.h"
#include "npy.h"
#include "qsdk/model.h"
#include "status_util.h"
#include "text_table.h"

namespace qsdk::tools {
namespace {

namespace fs = std::filesystem;

// The file name of an output: its name with every character outside [A-Za-z0-9._-]
// replaced by '_' (ONNX names such as "/fc/Gemm_output_0" hold slashes).
std::string OutputFileStem(const std::string& name) {
  std::string stem = name;
  for (char& c : stem) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  if (stem.empty() || stem == "." || stem == "..") stem = "_" + stem;
  return stem;
}

struct OutputSummary {
  double min = 0, max = 0, mean = 0;
  int64_t non_finite = 0;
  bool has_stats = false;
};

OutputSummary Summarize(const Tensor& t) {
  OutputSummary s;
  if (t.GetDataType() != DataType::FLOAT32 || t.GetElementCount() <= 0) return s;
  const float* v = t.Data<float>();
  double sum = 0;
  int64_t finite = 0;
  s.min = std::numeric_limits<double>::infinity();
  s.max = -s.min;
  for (int64_t i = 0; i < t.GetElementCount(); ++i) {
    if (!std::isfinite(v[i])) {
      ++s.non_finite;
      continue;
    }
    s.min = std::min(s.min, static_cast<double>(v[i]));
    s.max = std::max(s.max, static_cast<double>(v[i]));
    sum += v[i];
    ++finite;
  }
  s.has_stats = finite > 0;
  if (finite > 0) s.mean = sum / static_cast<double>(finite);
  return s;
}

std::string Number(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.6g", v);
  return text;
}

class RunCommand final : public Command {
 public:
  explicit RunCommand(CLI::App* parent) {
    app_ = parent->add_subcommand(
        "run", "Run an engine once on .npy inputs and write each output as DIR/<name>.npy.");
    app_->add_option("ENGINE", engine_path_, "Engine file (.qsdk)")->required();
    app_->add_option("-i,--input", inputs_,
                     "NAME=FILE.npy for each model input (FILE.npy alone when the model has "
                     "one input). The array must have the input's dtype and shape (a dynamic "
                     "extent takes the array's)")
        ->required()
        ->allow_extra_args(false);  // one value per --input: ENGINE may follow it
    app_->add_option("-o,--output-dir", output_dir_,
                     "Directory for the outputs (created if missing); without it the outputs "
                     "are only summarized");
    app_->add_option("--threads-per-context", threads_per_context_,
                     "Threads the run uses inside a step (ContextOptions::num_threads); 0 = the "
                     "OpenMP default: OMP_NUM_THREADS, else every hardware thread")
        ->default_val(0)
        ->check(CLI::Range(0, 1024));
    app_->add_flag("--json", json_, "Print the result as JSON on stdout");
  }

  CLI::App* app() const override { return app_; }

  int Run() override {
    std::unique_ptr<IModel> model;
    std::unique_ptr<IEngine> engine;
    Status s = LoadEngine(engine_path_, &model, &engine);
    if (!s.ok()) return ReportFailure("run", s);
    const std::vector<TensorDesc> model_inputs = engine->GetInputs();

    // Match the --input values to the model inputs (usage errors).
    std::map<std::string, std::string> files;
    std::string input_names;
    for (const TensorDesc& d : model_inputs) {
      input_names += (input_names.empty() ? "'" : ", '") + d.name + "'";
    }
    for (const std::string& spec : inputs_) {
      std::string name, file;
      const bool has_eq = spec.find('=') != std::string::npos;
      std::error_code ec;
      if (SplitNameValue(spec, &name, &file) && HasInput(model_inputs, name)) {
        // NAME=FILE
      } else if (model_inputs.size() == 1 && (!has_eq || fs::exists(spec, ec))) {
        name = model_inputs[0].name;  // FILE alone (a file name may hold '=')
        file = spec;
      } else if (has_eq) {
        return ReportUsage("run", "--input '" + spec + "': the model has no input named '" +
                                      spec.substr(0, spec.find('=')) + "' (inputs: " + input_names +
                                      ")");
      } else {
        return ReportUsage("run", "--input '" + spec + "': give NAME=FILE.npy; the model has " +
                                      std::to_string(model_inputs.size()) + " inputs (" +
                                      input_names + ")");
      }
      if (!files.emplace(name, file).second) {
        return ReportUsage("run", "input '" + name + "' is given twice");
      }
    }
    for (const TensorDesc& d : model_inputs) {
      if (files.count(d.name) == 0) {
        return ReportUsage("run",
                           "input '" + d.name + "' is not given (--input " + d.name + "=FILE.npy)");
      }
    }

    // Read and check the arrays (failures: the files do not fit the model).
    std::vector<NpyArray> arrays(model_inputs.size());
    std::vector<Tensor> tensors;
    nlohmann::json inputs_json = nlohmann::json::array();
    for (size_t i = 0; i < model_inputs.size(); ++i) {
      const TensorDesc& d = model_inputs[i];
      const std::string& file = files[d.name];
      s = ReadNpy(file, &arrays[i]);
      if (!s.ok()) return ReportFailure("run", WithPrefix("input '" + d.name + "': ", s));
      const NpyDType want = NpyDTypeForDataType(d.data_type);
      if (arrays[i].dtype != want) {
        return ReportFailure(
            "run",
            InvalidArgumentStatus("input '" + d.name + "': '" + file + "' has dtype " +
                                  NpyDTypeName(arrays[i].dtype) + " ('" +
                                  NpyDescr(arrays[i].dtype) + "'); the input is " +
                                  DataTypeName(d.data_type) + " (needs '" + NpyDescr(want) + "')"));
      }
      s = CheckExactShape(arrays[i].shape, "'" + file + "'", d.name, d.dims);
      if (!s.ok()) return ReportFailure("run", s);
      tensors.push_back(
          Tensor::Wrap(d.data_type, Dims(arrays[i].shape), arrays[i].data.data(), d.name));
      inputs_json.push_back({{"name", d.name},
                             {"file", file},
                             {"dtype", DataTypeName(d.data_type)},
                             {"shape", arrays[i].shape}});
    }

    std::unique_ptr<IContext> context;
    ContextOptions options;
    options.num_threads = threads_per_context_;
    s = engine->CreateIContext(options, &context);
    if (!s.ok()) return ReportFailure("run", s);
    std::vector<Tensor> outputs;
    const auto start = std::chrono::steady_clock::now();
    s = context->Execute(tensors, &outputs);
    const double seconds = SecondsSince(start);
    if (!s.ok()) return ReportFailure("run", s);

    // Output files: one per output, names made file-safe and checked for collisions.
    std::vector<std::string> paths(outputs.size());
    if (!output_dir_.empty()) {
      std::set<std::string> stems;
      for (size_t i = 0; i < outputs.size(); ++i) {
        const std::string stem = OutputFileStem(outputs[i].GetName());
        if (!stems.insert(stem).second) {
          return ReportFailure(
              "run",
              InvalidArgumentStatus("two outputs map to the same file name '" + stem + ".npy'"));
        }
        paths[i] = (fs::path(output_dir_) / (stem + ".npy")).string();
      }
      std::error_code ec;
      fs::create_directories(output_dir_, ec);
      if (ec) {
        return ReportFailure(
            "run", Status(StatusCode::kIoError,
                          "cannot create directory '" + output_dir_ + "': " + ec.message()));
      }
    }
    nlohmann::json outputs_json = nlohmann::json::array();
    TextTable table({"output", "dtype", "shape", "min", "max", "mean", "file"});
    for (size_t i = 0; i < outputs.size(); ++i) {
      const Tensor& t = outputs[i];
      if (!paths[i].empty()) {
        NpyArray array;
        array.dtype = NpyDTypeForDataType(t.GetDataType());
        if (array.dtype == NpyDType::kInvalid) {
          return ReportFailure(
              "run", Status(StatusCode::kUnimplemented, "output '" + t.GetName() + "' is " +
                                                            DataTypeName(t.GetDataType()) +
                                                            ", which has no .npy dtype"));
        }
        array.shape = t.GetDimension().GetDims();
        const uint8_t* bytes = static_cast<const uint8_t*>(t.GetData());
        array.data.assign(bytes, bytes + t.GetSizeInBytes());
        s = WriteNpy(paths[i], array);
        if (!s.ok()) return ReportFailure("run", s);
      }
      const OutputSummary sum = Summarize(t);
      nlohmann::json o = {{"name", t.GetName()},
                          {"dtype", DataTypeName(t.GetDataType())},
                          {"shape", t.GetDimension().GetDims()},
                          {"file", paths[i].empty() ? nlohmann::json() : nlohmann::json(paths[i])}};
      if (sum.has_stats) {
        o["min"] = sum.min;
        o["max"] = sum.max;
        o["mean"] = sum.mean;
      }
      o["non_finite"] = sum.non_finite;
      outputs_json.push_back(o);
      table.AddRow({t.GetName(), DataTypeName(t.GetDataType()), t.GetDimension().ToString(),
                    sum.has_stats ? Number(sum.min) : "-", sum.has_stats ? Number(sum.max) : "-",
                    sum.has_stats ? Number(sum.mean) : "-", paths[i].empty() ? "-" : paths[i]});
      if (sum.non_finite > 0) {
        ReportWarning("run", "output '" + t.GetName() + "' has " + std::to_string(sum.non_finite) +
                                 " NaN or infinite values");
      }
    }
    if (json_) {
      PrintJson({{"engine", engine_path_},
                 {"inputs", inputs_json},
                 {"outputs", outputs_json},
                 {"latency_ms", seconds * 1e3},
                 {"threads_per_context", context->GetNumThreads()}});
      return kExitOk;
    }
    std::printf("ran %s in %s (first run: includes building the execution plan)\n",
                engine_path_.c_str(), FormatSeconds(seconds).c_str());
    table.Print(stdout);
    return kExitOk;
  }

 private:
  static bool HasInput(const std::vector<TensorDesc>& inputs, const std::string& name) {
    for (const TensorDesc& d : inputs) {
      if (d.name == name) return true;
    }
    return false;
  }

  CLI::App* app_ = nullptr;
  std::string engine_path_;
  std::vector<std::string> inputs_;
  std::string output_dir_;
  int threads_per_context_ = 0;  // 0: the OpenMP default
  bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> AddRunCommand(CLI::App* parent) {
  return std::make_unique<RunCommand>(parent);
}

}  // namespace qsdk::tools
