// A progress bar on a terminal stream (stderr), for long steps such as calibration.
//
// On a terminal the bar is redrawn in place (carriage return), at most every 100 ms and
// at the end. On anything else (a pipe, a log file) only one summary line is printed by
// Finish(), so that logs are not flooded with redraws.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace qsdk::tools {

class ProgressBar {
 public:
  // `label` starts the line ("calibrating"); `unit` names what is counted ("batches").
  // `interactive`: redraw in place (pass IsTerminal(stream)).
  ProgressBar(std::FILE* stream, std::string label, std::string unit, bool interactive);

  // Reports `done` of `total` (total -1: unknown).
  void Update(int64_t done, int64_t total);
  // Ends the bar: the final state on its own line.
  void Finish();
  // Ends the bar after a failure: on a terminal the line is closed (so that an error
  // message starts on a line of its own); otherwise nothing is printed.
  void Abandon();

  // The text of the bar, without carriage return or newline, e.g.
  // "calibrating [##########----------]  50/100 batches  1.2 s" (total known), or
  // "calibrating  50 batches  1.2 s" (total unknown).
  static std::string Render(const std::string& label, const std::string& unit, int64_t done,
                            int64_t total, double seconds, int width);

  // True when `stream` is a terminal.
  static bool IsTerminal(std::FILE* stream);

 private:
  double Seconds() const;

  std::FILE* stream_;
  std::string label_, unit_;
  bool interactive_;
  int64_t done_ = 0, total_ = -1;
  bool drawn_ = false, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace qsdk::tools
