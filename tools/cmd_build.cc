// qsdk build MODEL.onnx -o ENGINE: imports an ONNX model, applies the build
// configuration, calibrates for INT8 from files and writes the engine file.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "calib_data.h"
#include "command.h"
#include "file_util.h"
#include "normalization.h"
#include "progress_bar.h"
#include "qsdk/builder.h"
#include "qsdk/builder_config.h"
#include "qsdk/calibration.h"
#include "qsdk/network.h"
#include "qsdk/onnx_parser.h"
#include "report_summary.h"
#include "status_util.h"
#include "text_table.h"

namespace qsdk::tools {
namespace {

namespace fs = std::filesystem;

// The calibration section of a configuration (its ToJson is complete, so every key is
// there) as calibrator options.
Status CalibrationOptionsFromConfig(const IBuilderConfig& config, CalibrationOptions* options,
                                    std::string* mode) {
  const nlohmann::json json = nlohmann::json::parse(config.ToJson(), nullptr, false);
  try {
    *mode = json.at("precision_config").at("precision_mode").get<std::string>();
    const nlohmann::json& c = json.at("calibration");
    const std::string algorithm = c.at("algorithm").get<std::string>();
    if (algorithm == "minmax") {
      options->algorithm = CalibrationAlgorithm::kMinMax;
    } else if (algorithm == "entropy") {
      options->algorithm = CalibrationAlgorithm::kEntropy;
    } else if (algorithm == "percentile") {
      options->algorithm = CalibrationAlgorithm::kPercentile;
    } else if (algorithm == "mse") {
      options->algorithm = CalibrationAlgorithm::kMse;
    } else {
      return Status(StatusCode::kInternal,
                    "unknown calibration algorithm '" + algorithm + "' in the configuration");
    }
    options->percentile = c.at("percentile").get<double>();
    options->histogram_bins = c.at("histogram_bins").get<int>();
    options->max_samples = c.at("max_samples").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    return Status(StatusCode::kInternal,
                  std::string("reading the build configuration back: ") + e.what());
  }
  return Status::Ok();
}

class BuildCommand final : public Command {
 public:
  explicit BuildCommand(CLI::App* parent) {
    app_ = parent->add_subcommand(
        "build",
        "Import an ONNX model, apply the build configuration, calibrate (INT8) and write the "
        "engine file.");
    app_->add_option("MODEL", model_path_, "ONNX model (.onnx)")->required();
    app_->add_option("-o,--output", engine_path_, "Engine file to write")->required();
    app_->add_option("-c,--config", config_path_,
                     "Build configuration JSON (docs/precision_config.md)");
    app_->add_option("-p,--precision", precision_,
                     "Precision mode, overriding the configuration's precision_mode "
                     "(force_float32, force_float16, force_bfloat16, qint8_mixed_float32, "
                     "qint8_mixed_float16, qint8_mixed_bfloat16, qint16_mixed_float32, "
                     "qint16_mixed_float16)");
    auto* calib = app_->add_option("--calib", calib_specs_,
                                   "Calibration data: [INPUT=]DATA, DATA a directory of .npy "
                                   "batches, one .npy batch or "
                                   "an IDX image file (.gz or raw); one per network input (INPUT= "
                                   "may be left out when "
                                   "the network has one input)")
                      ->allow_extra_args(false);  // one value per --calib: MODEL may follow it
    app_->add_option("--calib-samples", calib_samples_,
                     "Largest number of calibration batches (overrides calibration.max_samples)")
        ->check(CLI::Range(int64_t{1}, int64_t{1} << 40))
        ->needs(calib);
    app_->add_option("--calib-algorithm", calib_algorithm_,
                     "Calibration algorithm (overrides calibration.algorithm)")
        ->check(CLI::IsMember({"minmax", "entropy", "percentile", "mse"}))
        ->needs(calib);
    app_->add_option("--calib-batch", calib_batch_,
                     "Images per calibration batch for IDX data (default 32; a fixed batch of "
                     "the input is used as is)")
        ->check(CLI::Range(1, 1 << 20))
        ->needs(calib);
    app_->add_option("--calib-normalize", calib_normalize_,
                     "MEAN,STD for uint8 calibration data: x/255 then (x-MEAN)/STD (default "
                     "0.2860,0.3530, Fashion-MNIST's)")
        ->check([](const std::string& text) {
          Normalization n;
          const Status s = ParseNormalization(text, &n);
          return s.ok() ? std::string() : s.message();
        })
        ->needs(calib);
    auto* table = app_->add_option("--calib-table", calib_table_,
                                   "Apply this calibration table instead of calibrating");
    table->excludes(calib);
    app_->add_option("--save-calib-table", save_calib_table_,
                     "Write the calibration table made from --calib here")
        ->needs(calib);
    app_->add_option("--report", report_path_, "Write the build report (JSON) here");
    app_->add_option("--name", name_, "Model name (default: MODEL's file name without .onnx)");
    app_->add_flag("--no-progress", no_progress_, "No calibration progress bar on stderr");
    app_->add_flag("--json", json_, "Print the result as JSON on stdout");
  }

  CLI::App* app() const override { return app_; }

  int Run() override {
    const auto total_start = std::chrono::steady_clock::now();
    nlohmann::json times = nlohmann::json::object();

    // 1. Configuration first: a bad flag or config file fails before the import's work.
    std::unique_ptr<IBuilderConfig> config = CreateIBuilderConfig();
    Status s;
    if (!config_path_.empty()) {
      s = config->ParseFromFile(config_path_);
      if (!s.ok()) return ReportFailure("build", s);
    }
    if (!precision_.empty()) {
      s = config->ParseFromString(
          nlohmann::json({{"precision_config", {{"precision_mode", precision_}}}}).dump());
      if (!s.ok()) {
        // An unknown mode is a wrong flag value; a reserved one is a valid request this
        // version cannot build.
        return s.code() == StatusCode::kInvalidArgument
                   ? ReportUsage("build", "--precision " + precision_ + ": " + s.message())
                   : ReportFailure("build", WithPrefix("--precision " + precision_ + ": ", s));
      }
    }
    nlohmann::json calibration_override = nlohmann::json::object();
    if (!calib_algorithm_.empty()) calibration_override["algorithm"] = calib_algorithm_;
    if (calib_samples_ > 0) calibration_override["max_samples"] = calib_samples_;
    if (!calibration_override.empty()) {
      s = config->ParseFromString(nlohmann::json({{"calibration", calibration_override}}).dump());
      if (!s.ok()) return ReportUsage("build", s.message());
    }
    CalibrationOptions options;
    std::string mode;
    s = CalibrationOptionsFromConfig(*config, &options, &mode);
    if (!s.ok()) return ReportFailure("build", s);
    // The qint8_* and qint16_* modes quantize from calibrated ranges.
    const bool int8_mode = mode.rfind("qint", 0) == 0;

    // 2. Import.
    auto start = std::chrono::steady_clock::now();
    std::unique_ptr<INetwork> network = CreateINetwork();
    std::unique_ptr<IParser> parser = CreateIParser();
    s = parser->ParseFromFile(model_path_, network.get());
    if (!s.ok()) return ReportFailure("build", s);
    times["import"] = SecondsSince(start);
    const std::vector<ITensor*> inputs = network->GetInputs();

    // 3. Calibration data, matched to the inputs.
    nlohmann::json calibration_json;
    if (!calib_specs_.empty()) {
      std::vector<std::unique_ptr<FileCalibData>> sources;
      const int code = OpenSources(inputs, &sources);
      if (code != kExitOk) return code;
      if (!int8_mode) {
        ReportWarning("build", "precision mode " + mode +
                                   ": calibrated ranges are used only by nodes that request "
                                   "QINT8 / QINT16 (custom_nodes, per-node requests)");
      }
      int64_t batches = sources[0]->BatchCount();
      if (options.max_samples > 0) batches = std::min(batches, options.max_samples);
      std::optional<ProgressBar> bar;
      if (!no_progress_) {
        bar.emplace(stderr, "calibrating", "batches", ProgressBar::IsTerminal(stderr));
        options.progress = [&bar, batches](int64_t done, int64_t) { bar->Update(done, batches); };
      }
      std::vector<CalibDataInterface*> data;
      for (auto& source : sources) data.push_back(source.get());
      std::unique_ptr<ICalibrator> calibrator = CreateICalibrator();
      start = std::chrono::steady_clock::now();
      s = calibrator->Calibrate(network.get(), data, options);
      if (bar && s.ok()) bar->Finish();
      if (bar && !s.ok()) bar->Abandon();
      if (!s.ok()) return ReportFailure("build", s);
      times["calibrate"] = SecondsSince(start);
      if (!save_calib_table_.empty()) {
        s = calibrator->SaveTable(save_calib_table_);
        if (!s.ok()) return ReportFailure("build", s);
      }
      nlohmann::json described = nlohmann::json::array();
      for (const auto& source : sources) described.push_back(source->Describe());
      calibration_json = {{"data", described},
                          {"algorithm", CalibrationAlgorithmName(options.algorithm)},
                          {"batches", batches},
                          {"table", save_calib_table_.empty() ? nlohmann::json()
                                                              : nlohmann::json(save_calib_table_)}};
    } else if (!calib_table_.empty()) {
      std::unique_ptr<ICalibrator> calibrator = CreateICalibrator();
      s = calibrator->LoadTable(calib_table_);
      if (s.ok()) s = calibrator->ApplyTable(network.get());
      if (!s.ok()) return ReportFailure("build", s);
      calibration_json = {{"table", calib_table_}};
    }

    // 4. Build and write.
    const std::string name = name_.empty() ? fs::path(model_path_).stem().string() : name_;
    std::unique_ptr<IModel> model;
    start = std::chrono::steady_clock::now();
    s = CreateIBuilder()->BuildModel(name, *network, *config, &model);
    if (!s.ok()) {
      if (int8_mode && calibration_json.is_null() &&
          s.message().find("has no range") != std::string::npos) {
        s = Status(s.code(), s.message() +
                                 " [give calibration data with --calib DATA, or a "
                                 "table with --calib-table]");
      }
      return ReportFailure("build", s);
    }
    times["build"] = SecondsSince(start);
    start = std::chrono::steady_clock::now();
    s = model->SerializeToFile(engine_path_);
    if (!s.ok()) return ReportFailure("build", s);
    times["serialize"] = SecondsSince(start);
    uint64_t engine_size = 0;
    s = FileSize(engine_path_, &engine_size);
    if (!s.ok()) return ReportFailure("build", s);
    const BuildReport& report = model->GetBuildReport();
    if (!report_path_.empty()) {
      const std::string text = report.ToJson();
      s = WriteFile(report_path_, text.data(), text.size());
      if (!s.ok()) return ReportFailure("build", s);
    }
    times["total"] = SecondsSince(total_start);
    const PrecisionCounts counts = CountPrecisions(report);

    if (json_) {
      PrintJson({{"model", model_path_},
                 {"engine", engine_path_},
                 {"name", name},
                 {"precision_mode", report.precision_mode},
                 {"precision_policy", report.precision_policy},
                 {"nodes", PrecisionCountsJson(counts)},
                 {"calibration", calibration_json},
                 {"engine_size", engine_size},
                 {"report", report_path_.empty() ? nlohmann::json() : nlohmann::json(report_path_)},
                 {"seconds", times}});
      return kExitOk;
    }
    std::vector<std::pair<std::string, std::string>> lines = {
        {"model", model_path_ + " -> " + engine_path_},
        {"precision", report.precision_mode + " (policy " + report.precision_policy + ")"},
        {"nodes", DescribePrecisionCounts(counts)},
    };
    if (calibration_json.contains("data")) {
      lines.push_back(
          {"calibration", std::string(CalibrationAlgorithmName(options.algorithm)) + ", " +
                              std::to_string(calibration_json["batches"].get<int64_t>()) +
                              " batches in " + FormatSeconds(times["calibrate"].get<double>())});
      for (const auto& d : calibration_json["data"]) {
        lines.push_back({"calib data", d.get<std::string>()});
      }
      if (!save_calib_table_.empty()) lines.push_back({"calib table", save_calib_table_});
    } else if (!calib_table_.empty()) {
      lines.push_back({"calibration", "table " + calib_table_});
    }
    lines.push_back({"engine size", FormatBytes(engine_size)});
    lines.push_back({"build time", FormatSeconds(times["total"].get<double>()) + " (import " +
                                       FormatSeconds(times["import"].get<double>()) + ", build " +
                                       FormatSeconds(times["build"].get<double>()) + ")"});
    if (!report_path_.empty()) lines.push_back({"report", report_path_});
    std::printf("%s", RenderKeyValues(lines, "").c_str());
    return kExitOk;
  }

 private:
  // Opens one calibration source per network input from the --calib values; returns an
  // exit code (usage errors for names, failures for files).
  int OpenSources(const std::vector<ITensor*>& inputs,
                  std::vector<std::unique_ptr<FileCalibData>>* sources) {
    std::map<std::string, std::string> given;
    std::string names;
    for (ITensor* t : inputs) names += (names.empty() ? "'" : ", '") + t->GetTensorName() + "'";
    for (const std::string& spec : calib_specs_) {
      std::string name, path;
      std::error_code ec;
      const bool named = SplitNameValue(spec, &name, &path) &&
                         std::any_of(inputs.begin(), inputs.end(),
                                     [&](ITensor* t) { return t->GetTensorName() == name; });
      if (!named) {
        if (inputs.size() != 1) {
          return ReportUsage("build", "--calib '" + spec + "': give INPUT=DATA; the network has " +
                                          std::to_string(inputs.size()) + " inputs (" + names +
                                          ")");
        }
        if (spec.find('=') != std::string::npos && !fs::exists(spec, ec)) {
          return ReportUsage("build", "--calib '" + spec + "': the network has no input named '" +
                                          spec.substr(0, spec.find('=')) + "' (inputs: " + names +
                                          ")");
        }
        name = inputs[0]->GetTensorName();
        path = spec;
      }
      if (!given.emplace(name, path).second) {
        return ReportUsage("build", "--calib: input '" + name + "' is given twice");
      }
    }
    CalibDataSettings settings;
    if (calib_batch_ > 0) settings.batch = calib_batch_;
    if (!calib_normalize_.empty()) {
      Normalization n;
      (void)ParseNormalization(calib_normalize_, &n);  // validated by the option's check
      settings.normalization = n;
    }
    for (ITensor* t : inputs) {
      auto it = given.find(t->GetTensorName());
      if (it == given.end()) {
        return ReportUsage("build", "--calib: no data for input '" + t->GetTensorName() +
                                        "' (inputs: " + names + ")");
      }
      std::unique_ptr<FileCalibData> source;
      const Status s = OpenCalibData(it->second, t->GetTensorName(), t->GetDataType(),
                                     t->GetDimension(), settings, &source);
      if (!s.ok()) return ReportFailure("build", s);
      sources->push_back(std::move(source));
    }
    return kExitOk;
  }

  CLI::App* app_ = nullptr;
  std::string model_path_, engine_path_, config_path_, precision_;
  std::vector<std::string> calib_specs_;
  int64_t calib_samples_ = 0;  // 0: not given
  std::string calib_algorithm_;
  int64_t calib_batch_ = 0;  // 0: not given
  std::string calib_normalize_;
  std::string calib_table_, save_calib_table_;
  std::string report_path_;
  std::string name_;
  bool no_progress_ = false;
  bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> AddBuildCommand(CLI::App* parent) {
  return std::make_unique<BuildCommand>(parent);
}

}  // namespace qsdk::tools
