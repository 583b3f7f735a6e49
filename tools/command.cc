#include "command.h"

#include <chrono>
#include <iostream>

#include "file_util.h"
#include "status_util.h"

namespace qsdk::tools {

std::string OneLine(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\n' || c == '\r') {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

int ReportFailure(const std::string& command, const Status& status) {
  std::fprintf(stderr, "qsdk %s: error: %s\n", command.c_str(),
               OneLine(status.message().empty() ? status.ToString() : status.message()).c_str());
  return kExitFailure;
}

int ReportUsage(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "qsdk %s: error: %s (see 'qsdk %s --help')\n", command.c_str(),
               OneLine(message).c_str(), command.c_str());
  return kExitUsage;
}

void ReportWarning(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "qsdk %s: warning: %s\n", command.c_str(), OneLine(message).c_str());
}

void PrintJson(const nlohmann::json& value) {
  // error_handler::replace: a non-UTF-8 byte in a name must not throw while printing.
  std::cout << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
}

bool SplitNameValue(const std::string& text, std::string* name, std::string* value) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  *name = text.substr(0, eq);
  *value = text.substr(eq + 1);
  return true;
}

nlohmann::json TensorDescJson(const TensorDesc& desc) {
  return {
      {"name", desc.name}, {"dtype", DataTypeName(desc.data_type)}, {"shape", desc.dims.GetDims()}};
}

Status LoadEngine(const std::string& path, std::unique_ptr<IModel>* model,
                  std::unique_ptr<IEngine>* engine) {
  // The library's message for a missing file does not say why it cannot be opened.
  uint64_t size = 0;
  QSDK_TOOL_RETURN_IF_ERROR(FileSize(path, &size, "engine file"));
  QSDK_TOOL_RETURN_IF_ERROR(DeserializeModelFromFile(path, model));
  if (engine != nullptr) QSDK_TOOL_RETURN_IF_ERROR((*model)->CreateIEngine(engine));
  return Status::Ok();
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string FormatSeconds(double seconds) {
  char text[32];
  if (seconds < 1.0) {
    std::snprintf(text, sizeof(text), "%.2f ms", seconds * 1e3);
  } else {
    std::snprintf(text, sizeof(text), "%.2f s", seconds);
  }
  return text;
}

std::string FormatBytes(uint64_t bytes) {
  char text[32];
  if (bytes < 1024) {
    std::snprintf(text, sizeof(text), "%llu B", static_cast<unsigned long long>(bytes));
  } else if (bytes < 1024 * 1024) {
    std::snprintf(text, sizeof(text), "%.1f KiB", static_cast<double>(bytes) / 1024.0);
  } else {
    std::snprintf(text, sizeof(text), "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  }
  return text;
}

}  // namespace qsdk::tools
