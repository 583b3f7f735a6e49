// Helpers for propagating qsdk::Status inside the library.
#pragma once

#include <sstream>
#include <string>
#include <utility>

#include "qsdk/status.h"

namespace qsdk {

// Concatenates the streamable arguments into one string: StrCat("node '", name, "'").
template <typename... Args>
std::string StrCat(const Args&... args) {
  std::ostringstream stream;
  (stream << ... << args);
  return stream.str();
}

// Status with code kInvalidArgument and the concatenated message.
template <typename... Args>
Status InvalidArgument(const Args&... args) {
  return Status(StatusCode::kInvalidArgument, StrCat(args...));
}

// Status with code kDataLoss (damaged file) and the concatenated message.
template <typename... Args>
Status DataLoss(const Args&... args) {
  return Status(StatusCode::kDataLoss, StrCat(args...));
}

// Status with code kInternal and the concatenated message.
template <typename... Args>
Status InternalError(const Args&... args) {
  return Status(StatusCode::kInternal, StrCat(args...));
}

// Status with code kUnimplemented and the concatenated message.
template <typename... Args>
Status Unimplemented(const Args&... args) {
  return Status(StatusCode::kUnimplemented, StrCat(args...));
}

}  // namespace qsdk

// Returns from the enclosing function when `expr` (a Status) is not ok.
#define QSDK_RETURN_IF_ERROR(expr)             \
  do {                                         \
    ::qsdk::Status qsdk_status_ = (expr);      \
    if (!qsdk_status_.ok()) return qsdk_status_; \
  } while (0)
