// Small file helpers for the command-line tool: open for reading with a size, read an
// exact number of bytes, write a whole file. Every failure is a status naming the path
// and the reason (from errno).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "qsdk/status.h"

namespace qsdk::tools {

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};
using UniqueFile = std::unique_ptr<std::FILE, FileCloser>;

// Opens the regular file at `path` for binary reading and returns its size. A missing
// file is kNotFound, a directory or unreadable file kIoError; `what` ("engine", ".npy
// file", ...) starts the message: "cannot open .npy file 'x.npy': No such file or directory".
Status OpenForRead(const std::string& path, const std::string& what, UniqueFile* file,
                   uint64_t* size);

// Reads exactly `size` bytes; a short read is kDataLoss ("... is truncated") or kIoError.
Status ReadExact(std::FILE* file, void* data, size_t size, const std::string& what,
                 const std::string& path);

// Writes `size` bytes to `path`, replacing the file; kIoError on any failure.
Status WriteFile(const std::string& path, const void* data, size_t size);

// Size of the regular file at `path` in bytes; kNotFound / kIoError as OpenForRead,
// with `what` naming the file in the message.
Status FileSize(const std::string& path, uint64_t* size, const std::string& what = "file");

}  // namespace qsdk::tools
