// Aligned plain-text tables for the human output of the tool.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace qsdk::tools {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
  // A row; missing trailing cells are empty, extra cells are an error of the caller and
  // are dropped.
  void AddRow(std::vector<std::string> row);
  // Left-aligned columns separated by two spaces, the header underlined with '-', each
  // line prefixed with `indent`.
  std::string Render(const std::string& indent = "  ") const;
  void Print(std::FILE* stream, const std::string& indent = "  ") const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// Key-value lines "  key:   value", keys padded to the longest.
std::string RenderKeyValues(const std::vector<std::pair<std::string, std::string>>& items,
                            const std::string& indent = "  ");

}  // namespace qsdk::tools
