/// @file status.h
/// @brief The one way qsdk reports failure: a code and a message.
#pragma once

#include <string>
#include <utility>

#include "qsdk/export.h"

namespace qsdk {

/// @brief Category of a failure. The message says what exactly went wrong.
enum class StatusCode : int {
  kOk = 0,              ///< Success.
  kInvalidArgument,     ///< An argument, attribute or configuration value breaks a rule.
  kNotFound,            ///< A named object or file does not exist.
  kOutOfRange,          ///< An index or value lies outside its allowed range.
  kFailedPrecondition,  ///< The object is not in a state that allows the call.
  kUnimplemented,       ///< The feature is recognized but not supported (yet).
  kUnsupported,         ///< The machine or build cannot do it (e.g. a missing CPU ISA).
  kDataLoss,            ///< A file or buffer is damaged, truncated or inconsistent.
  kVersionMismatch,     ///< A file was written by an incompatible format version.
  kIoError,             ///< Reading or writing a file failed.
  kResourceExhausted,   ///< Memory could not be allocated.
  kInternal,            ///< A bug in qsdk; please report it with the message.
};

/// @brief Returns a stable lower-case name for @p code, e.g. "invalid_argument".
QSDK_API const char* StatusCodeName(StatusCode code);

/// @brief Result of every fallible qsdk call.
///
/// A Status is cheap to copy. `ok()` is true on success; otherwise `message()` names the
/// operation, the object (node, tensor, file, JSON path), the offending value and the rule
/// it breaks. The class is `[[nodiscard]]`: ignoring a returned Status is a compile error
/// under `-Werror`.
///
/// Thread-safety: a Status is a value; distinct objects may be used from any thread.
class [[nodiscard]] QSDK_API Status {
 public:
  /// @brief Constructs success.
  Status() = default;
  /// @brief Constructs a status with @p code and @p message.
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  /// @brief Returns success.
  static Status Ok() { return Status(); }

  /// @brief True when the call succeeded.
  bool ok() const { return code_ == StatusCode::kOk; }
  /// @brief The failure category (kOk on success).
  StatusCode code() const { return code_; }
  /// @brief Human-readable explanation; empty on success.
  const std::string& message() const { return message_; }
  /// @brief "ok" or "<code name>: <message>".
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

}  // namespace qsdk
