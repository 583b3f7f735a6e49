// The subcommands of the `qsdk` tool and what they share: exit codes, one-line error
// reporting, JSON output, loading an engine.
//
// Exit codes: 0 success; 1 a failure while doing the work (a missing or damaged file,
// data that does not fit the model, a failed build); 2 a usage error (unknown flag,
// missing or malformed value, conflicting flags, a name the model does not have).
// Every error is one line on stderr: "qsdk <command>: error: <message>".
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "qsdk/model.h"
#include "qsdk/status.h"

namespace qsdk::tools {

enum ExitCode : int { kExitOk = 0, kExitFailure = 1, kExitUsage = 2 };

// A subcommand: registers its flags on construction, runs when selected.
class Command {
 public:
  virtual ~Command() = default;
  // The CLI11 subcommand (owned by the parent app).
  virtual CLI::App* app() const = 0;
  // Runs the command after a successful parse; returns the exit code.
  virtual int Run() = 0;
};

// Each adds its subcommand to `parent`.
std::unique_ptr<Command> AddBuildCommand(CLI::App* parent);
std::unique_ptr<Command> AddRunCommand(CLI::App* parent);
std::unique_ptr<Command> AddBenchCommand(CLI::App* parent);
std::unique_ptr<Command> AddInspectCommand(CLI::App* parent);
std::unique_ptr<Command> AddEvalCommand(CLI::App* parent);

// `text` with every line break replaced, so that an error stays on one line.
std::string OneLine(const std::string& text);

// Prints "qsdk <command>: error: <message>" to stderr; returns kExitFailure.
int ReportFailure(const std::string& command, const Status& status);
// Same for a usage error; returns kExitUsage.
int ReportUsage(const std::string& command, const std::string& message);
// Prints a warning line to stderr.
void ReportWarning(const std::string& command, const std::string& message);

// Prints `value` to stdout as indented JSON followed by a newline.
void PrintJson(const nlohmann::json& value);

// Splits "NAME=VALUE" at the first '='; false when there is none or NAME is empty.
bool SplitNameValue(const std::string& text, std::string* name, std::string* value);

// {"name", "dtype", "shape"} of a model input or output.
nlohmann::json TensorDescJson(const TensorDesc& desc);

// Deserializes the engine file at `path` and, when `engine` is not null, creates the
// engine (packs the weights for this CPU).
Status LoadEngine(const std::string& path, std::unique_ptr<IModel>* model,
                  std::unique_ptr<IEngine>* engine);

// Seconds since `start` on the steady clock.
double SecondsSince(std::chrono::steady_clock::time_point start);

// "1.23 ms", "4.5 s": a short human duration.
std::string FormatSeconds(double seconds);
// "12.3 KiB": a short human size.
std::string FormatBytes(uint64_t bytes);

}  // namespace qsdk::tools
