// Status helpers for the command-line tool (a user program of the public API, so it does
// not use the library's internal status macros).
#pragma once

#include <string>

#include "qsdk/status.h"

// Returns from the enclosing function when `expr` (a qsdk::Status) is not ok.
#define QSDK_TOOL_RETURN_IF_ERROR(expr)                    \
  do {                                                     \
    ::qsdk::Status qsdk_tool_status_ = (expr);             \
    if (!qsdk_tool_status_.ok()) return qsdk_tool_status_; \
  } while (0)

namespace qsdk::tools {

inline Status InvalidArgumentStatus(const std::string& message) {
  return Status(StatusCode::kInvalidArgument, message);
}

// The status with `prefix` put before its message (code kept); Ok stays Ok.
inline Status WithPrefix(const std::string& prefix, const Status& status) {
  if (status.ok()) return status;
  return Status(status.code(), prefix + status.message());
}

}  // namespace qsdk::tools
