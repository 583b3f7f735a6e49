#include "text_table.h"

#include <algorithm>

namespace qsdk::tools {

void TextTable::AddRow(std::vector<std::string> row) {
  row.resize(header_.size());
  rows_.push_back(std::move(row));
}

std::string TextTable::Render(const std::string& indent) const {
  std::vector<size_t> width(header_.size());
  for (size_t c = 0; c < header_.size(); ++c) {
    width[c] = header_[c].size();
    for (const auto& row : rows_) width[c] = std::max(width[c], row[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out = indent;
    for (size_t c = 0; c < cells.size(); ++c) {
      out += cells[c];
      // No padding after the last column: no trailing spaces.
      if (c + 1 < cells.size()) out += std::string(width[c] - cells[c].size() + 2, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(header_);
  std::vector<std::string> rule;
  for (size_t c = 0; c < header_.size(); ++c) rule.push_back(std::string(width[c], '-'));
  out += line(rule);
  for (const auto& row : rows_) out += line(row);
  return out;
}

void TextTable::Print(std::FILE* stream, const std::string& indent) const {
  std::fputs(Render(indent).c_str(), stream);
}

std::string RenderKeyValues(const std::vector<std::pair<std::string, std::string>>& items,
                            const std::string& indent) {
  size_t width = 0;
  for (const auto& [key, value] : items) width = std::max(width, key.size());
  std::string out;
  for (const auto& [key, value] : items) {
    out += indent + key + ":" + std::string(width - key.size() + 2, ' ') + value + "\n";
  }
  return out;
}

}  // namespace qsdk::tools
