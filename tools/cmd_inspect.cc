// qsdk inspect ENGINE: validates an engine file without running it and prints its
// versions, inputs, outputs and the per-node precision / kernel table of its build report.
#include <string>
#include <vector>

#include "command.h"
#include "engine_header.h"
#include "qsdk/model.h"
#include "qsdk/node_type.h"
#include "qsdk/version.h"
#include "report_summary.h"
#include "text_table.h"

namespace qsdk::tools {
namespace {

std::string Join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

std::string TypeOrDash(DataType type) {
  return type == DataType::INVALID ? "-" : DataTypeName(type);
}

class InspectCommand final : public Command {
 public:
  explicit InspectCommand(CLI::App* parent) {
    app_ = parent->add_subcommand(
        "inspect",
        "Validate an engine file (structure, checksums, every field) without running it, and "
        "print its versions, inputs, outputs and the per-node precision / kernel table.");
    app_->add_option("ENGINE", engine_path_, "Engine file (.qsdk)")->required();
    app_->add_flag("--json", json_, "Print the result as JSON on stdout");
    app_->add_flag("--show-config", show_config_,
                   "Also print the build configuration the engine was built with");
  }

  CLI::App* app() const override { return app_; }

  int Run() override {
    std::unique_ptr<IModel> model;
    // Deserialization checks every size, offset, checksum, enum and shape; no engine is
    // created, so nothing is packed or run.
    Status s = LoadEngine(engine_path_, &model, nullptr);
    if (!s.ok()) return ReportFailure("inspect", s);
    EngineHeader header;
    s = ReadEngineHeader(engine_path_, &header);
    if (!s.ok()) return ReportFailure("inspect", s);
    const BuildReport& report = model->GetBuildReport();
    const PrecisionCounts counts = CountPrecisions(report);
    if (json_) {
      nlohmann::json inputs = nlohmann::json::array(), outputs = nlohmann::json::array();
      for (const TensorDesc& d : model->GetInputs()) inputs.push_back(TensorDescJson(d));
      for (const TensorDesc& d : model->GetOutputs()) outputs.push_back(TensorDescJson(d));
      nlohmann::json result = {
          {"engine", engine_path_},
          {"valid", true},
          {"file_size", header.file_size},
          {"format_version", header.format_version},
          {"written_by", header.writer_version},
          {"library_version", GetVersionString()},
          {"name", model->GetName()},
          {"inputs", inputs},
          {"outputs", outputs},
          {"precision_mode", report.precision_mode},
          {"precision_policy", report.precision_policy},
          {"nodes", PrecisionCountsJson(counts)},
          {"build_report", ParseLibraryJson(report.ToJson())},
      };
      if (show_config_) result["build_config"] = ParseLibraryJson(model->GetBuildConfigJson());
      PrintJson(result);
      return kExitOk;
    }
    std::printf(
        "%s",
        RenderKeyValues(
            {
                {"engine", engine_path_ + " (" + FormatBytes(header.file_size) + ", valid)"},
                {"format version", std::to_string(header.format_version) + " (written by qsdk " +
                                       header.writer_version + "; this is qsdk " +
                                       GetVersionString() + ")"},
                {"model", model->GetName()},
                {"precision", report.precision_mode + " (policy " + report.precision_policy + ")"},
                {"nodes",
                 std::to_string(report.nodes.size()) + ": " + DescribePrecisionCounts(counts)},
            },
            "")
            .c_str());
    PrintTensors("inputs", model->GetInputs());
    PrintTensors("outputs", model->GetOutputs());

    TextTable nodes(
        {"#", "node", "type", "precision", "kernel", "fused", "output", "quantization", "reason"});
    for (size_t i = 0; i < report.nodes.size(); ++i) {
      const NodeReport& n = report.nodes[i];
      const TensorPrecisionReport* out = n.outputs.empty() ? nullptr : &n.outputs[0];
      std::string name = n.name + (n.inserted ? " (inserted)" : "");
      std::string reason = n.reason + (n.fell_back ? " [fell back]" : "");
      nodes.AddRow({std::to_string(i), name, NodeTypeName(n.type), n.precision, n.kernel,
                    n.fused.empty() ? "-" : Join(n.fused, "+"),
                    out == nullptr ? "-" : TypeOrDash(out->granted),
                    out == nullptr || out->quantization.empty() ? "-" : out->quantization, reason});
    }
    std::printf("\nnodes (execution order):\n");
    nodes.Print(stdout);
    if (!report.reorders.empty()) {
      TextTable reorders({"tensor", "consumer", "from", "to"});
      for (const ReorderReport& r : report.reorders) {
        reorders.AddRow({r.tensor, r.consumer.empty() ? "(output)" : r.consumer, r.from, r.to});
      }
      std::printf("\nlayout reorders (batch 1):\n");
      reorders.Print(stdout);
    }
    if (show_config_) {
      std::printf("\nbuild configuration:\n");
      PrintJson(ParseLibraryJson(model->GetBuildConfigJson()));
    }
    return kExitOk;
  }

 private:
  static void PrintTensors(const char* title, const std::vector<TensorDesc>& tensors) {
    TextTable table({"name", "dtype", "shape"});
    for (const TensorDesc& d : tensors) {
      table.AddRow({d.name, DataTypeName(d.data_type), d.dims.ToString()});
    }
    std::printf("\n%s:\n", title);
    table.Print(stdout);
  }

  CLI::App* app_ = nullptr;
  std::string engine_path_;
  bool json_ = false;
  bool show_config_ = false;
};

}  // namespace

std::unique_ptr<Command> AddInspectCommand(CLI::App* parent) {
  return std::make_unique<InspectCommand>(parent);
}

}  // namespace qsdk::tools
