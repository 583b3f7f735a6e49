// The version fields of an engine file's header (docs/engine_format.md, "Header"): the
// public API validates and loads engine files but does not expose these two fields, and
// `qsdk inspect` prints them. Read only after DeserializeModelFromFile accepted the file.
#pragma once

#include <cstdint>
#include <string>

#include "qsdk/status.h"

namespace qsdk::tools {

struct EngineHeader {
  uint32_t format_version = 0;  // header offset 8, u32 little-endian
  std::string writer_version;   // header offset 40, char[32] NUL-padded: the writer's qsdk
  uint64_t file_size = 0;       // bytes on disk
};

// Reads the header fields of the engine file at `path`; fails on a missing file, a short
// file or a wrong magic.
Status ReadEngineHeader(const std::string& path, EngineHeader* header);

}  // namespace qsdk::tools
