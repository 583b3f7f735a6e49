// qsdk: the command-line tool of qsdk (docs/cli.md). Builds ONNX models into engine
// files, runs them on .npy inputs, benchmarks, inspects and evaluates them.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "command.h"
#include "qsdk/version.h"

namespace {

using qsdk::tools::Command;

// The name of the subcommand being parsed ("" before one is recognized).
std::string ParsedCommand(const CLI::App& app) {
  const std::vector<CLI::App*> parsed = app.get_subcommands();
  return parsed.empty() ? "" : parsed.front()->get_name();
}

int Main(int argc, char** argv) {
  CLI::App app{
      "qsdk: build ONNX models into qsdk engines, run, benchmark, inspect and "
      "evaluate them (docs/cli.md).",
      "qsdk"};
  app.set_version_flag("--version", std::string("qsdk ") + qsdk::GetVersionString());
  app.require_subcommand(1, 1);
  app.fallthrough(false);
  std::vector<std::unique_ptr<Command>> commands;
  commands.push_back(qsdk::tools::AddBuildCommand(&app));
  commands.push_back(qsdk::tools::AddRunCommand(&app));
  commands.push_back(qsdk::tools::AddBenchCommand(&app));
  commands.push_back(qsdk::tools::AddInspectCommand(&app));
  commands.push_back(qsdk::tools::AddEvalCommand(&app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);  // prints the help of the (sub)command to stdout, exit 0
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const std::string command = ParsedCommand(app);
    if (command.empty() && argc > 1 && argv[1][0] != '-') {
      // CLI11 reports a misspelled command as a missing one; name it instead.
      std::string names;
      for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
        names += (names.empty() ? "" : ", ") + sub->get_name();
      }
      std::fprintf(stderr, "qsdk: error: unknown command '%s' (commands: %s; see 'qsdk --help')\n",
                   argv[1], names.c_str());
      return qsdk::tools::kExitUsage;
    }
    std::fprintf(stderr, "qsdk%s%s: error: %s (see 'qsdk%s%s --help')\n",
                 command.empty() ? "" : " ", command.c_str(),
                 qsdk::tools::OneLine(e.what()).c_str(), command.empty() ? "" : " ",
                 command.c_str());
    return qsdk::tools::kExitUsage;
  }
  for (const auto& command : commands) {
    if (command->app()->parsed()) return command->Run();
  }
  // require_subcommand(1, 1) makes this unreachable after a successful parse.
  std::fprintf(stderr, "qsdk: error: no command given (see 'qsdk --help')\n");
  return qsdk::tools::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  // Commands report their own errors as statuses; this is the last line of defence so
  // that nothing ends in an uncaught exception's abort and stack dump.
  try {
    return Main(argc, argv);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "qsdk: error: out of memory\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qsdk: error: %s\n", qsdk::tools::OneLine(e.what()).c_str());
  } catch (...) {
    std::fprintf(stderr, "qsdk: error: unexpected exception\n");
  }
  return qsdk::tools::kExitFailure;
}
