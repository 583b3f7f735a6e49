#include "progress_bar.h"

#include <unistd.h>

#include <algorithm>

namespace qsdk::tools {
namespace {

constexpr int kBarWidth = 30;
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

}  // namespace

ProgressBar::ProgressBar(std::FILE* stream, std::string label, std::string unit, bool interactive)
    : stream_(stream),
      label_(std::move(label)),
      unit_(std::move(unit)),
      interactive_(interactive),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

bool ProgressBar::IsTerminal(std::FILE* stream) { return ::isatty(::fileno(stream)) == 1; }

double ProgressBar::Seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string ProgressBar::Render(const std::string& label, const std::string& unit, int64_t done,
                                int64_t total, double seconds, int width) {
  char time[32];
  std::snprintf(time, sizeof(time), "%.1f s", seconds);
  if (total <= 0) {
    return label + "  " + std::to_string(done) + " " + unit + "  " + time;
  }
  const int64_t clamped = std::clamp<int64_t>(done, 0, total);
  const int filled = static_cast<int>(clamped * width / total);
  const std::string total_text = std::to_string(total);
  std::string done_text = std::to_string(done);
  // Right-align the count so that the line does not jitter while it grows.
  if (done_text.size() < total_text.size()) {
    done_text.insert(0, total_text.size() - done_text.size(), ' ');
  }
  return label + " [" + std::string(static_cast<size_t>(filled), '#') +
         std::string(static_cast<size_t>(width - filled), '-') + "] " + done_text + "/" +
         total_text + " " + unit + "  " + time;
}

void ProgressBar::Update(int64_t done, int64_t total) {
  done_ = done;
  total_ = total;
  if (!interactive_ || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < kRedrawInterval && !(total > 0 && done >= total)) return;
  last_draw_ = now;
  drawn_ = true;
  std::fprintf(stream_, "\r%s", Render(label_, unit_, done_, total_, Seconds(), kBarWidth).c_str());
  std::fflush(stream_);
}

void ProgressBar::Finish() {
  if (finished_) return;
  finished_ = true;
  const std::string line = Render(label_, unit_, done_, total_, Seconds(), kBarWidth);
  std::fprintf(stream_, interactive_ ? "\r%s\n" : "%s\n", line.c_str());
  std::fflush(stream_);
}

void ProgressBar::Abandon() {
  if (finished_) return;
  finished_ = true;
  if (interactive_ && drawn_) {
    std::fputc('\n', stream_);
    std::fflush(stream_);
  }
}

}  // namespace qsdk::tools
