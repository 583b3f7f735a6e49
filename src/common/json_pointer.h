// JSON pointer paths for error messages (RFC 6901): a key containing '~' or '/' is
// escaped ('~' -> "~0", '/' -> "~1") so that the path stays unambiguous, e.g. for tensor
// names like "stem/conv". Used by every strict JSON reader (builder config, calibration
// table).
#pragma once

#include <string>

namespace qsdk {

// `key` as one escaped reference token.
inline std::string JsonPointerToken(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace qsdk
