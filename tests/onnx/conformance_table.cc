// Prints the conformance table of docs/onnx_support.md: runs every selected ONNX node
// test (conformance.h) and writes one Markdown row per test, then the totals.
//
//   build/tests/onnx/onnx_conformance_table > /tmp/table.md
#include <cstdio>
#include <string>

#include "onnx/conformance.h"

namespace {

// Markdown-safe single line: '|' escaped, newlines removed, the list of supported ops
// that follows an unsupported-op message dropped (the page lists them).
std::string Cell(const std::string& full) {
  const std::string text = full.substr(0, full.find(". Supported ops of"));
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

int main() {
  using qsdk::onnx_test::ConformanceResult;
  int passed = 0, unsupported = 0, failed = 0;
  std::printf("| Node test | Result | Notes |\n|---|---|---|\n");
  for (const std::string& test : qsdk::onnx_test::ConformanceTests()) {
    const ConformanceResult r = qsdk::onnx_test::RunConformanceTest(test);
    const char* outcome = "FAILED";
    std::string notes = r.detail;
    switch (r.outcome) {
      case ConformanceResult::Outcome::kPassed:
        outcome = "passed";
        notes.clear();
        for (const std::string& form : r.passed_forms) notes += (notes.empty() ? "" : "; ") + form;
        for (const std::string& rejected : r.rejections) notes += "; rejected " + rejected;
        ++passed;
        break;
      case ConformanceResult::Outcome::kUnsupported:
        outcome = "unsupported";
        ++unsupported;
        break;
      case ConformanceResult::Outcome::kFailed:
        ++failed;
        break;
    }
    std::printf("| `%s` | %s | %s |\n", test.c_str(), outcome, Cell(notes).c_str());
  }
  std::printf("\n%d tests: %d passed, %d unsupported, %d failed.\n", passed + unsupported + failed,
              passed, unsupported, failed);
  return failed == 0 ? 0 : 1;
}
