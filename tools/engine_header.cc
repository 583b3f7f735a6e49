#include "engine_header.h"

#include <cstring>

#include "file_util.h"
#include "status_util.h"

namespace qsdk::tools {
namespace {

// Offsets and sizes from docs/engine_format.md.
constexpr char kMagic[8] = {'Q', 'S', 'D', 'K', 'E', 'N', 'G', '\0'};
constexpr size_t kVersionOffset = 8;
constexpr size_t kWriterOffset = 40;
constexpr size_t kWriterSize = 32;
constexpr size_t kPrefixSize = kWriterOffset + kWriterSize;

}  // namespace

Status ReadEngineHeader(const std::string& path, EngineHeader* header) {
  UniqueFile file;
  uint64_t size = 0;
  QSDK_TOOL_RETURN_IF_ERROR(OpenForRead(path, "engine file", &file, &size));
  if (size < kPrefixSize) {
    return Status(StatusCode::kDataLoss,
                  "engine file '" + path + "' is truncated: " + std::to_string(size) + " bytes");
  }
  uint8_t bytes[kPrefixSize];
  QSDK_TOOL_RETURN_IF_ERROR(ReadExact(file.get(), bytes, kPrefixSize, "engine file", path));
  if (std::memcmp(bytes, kMagic, sizeof(kMagic)) != 0) {
    return Status(StatusCode::kDataLoss, "'" + path + "' is not a qsdk engine file (bad magic)");
  }
  EngineHeader h;
  for (size_t i = 0; i < 4; ++i) {
    h.format_version |= static_cast<uint32_t>(bytes[kVersionOffset + i]) << (8 * i);
  }
  const char* writer = reinterpret_cast<const char*>(bytes + kWriterOffset);
  h.writer_version.assign(writer, strnlen(writer, kWriterSize));
  h.file_size = size;
  *header = h;
  return Status::Ok();
}

}  // namespace qsdk::tools
