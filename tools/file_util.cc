#include "file_util.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace qsdk::tools {
namespace {

Status OpenError(const std::string& what, const std::string& path, int error) {
  return Status(error == ENOENT ? StatusCode::kNotFound : StatusCode::kIoError,
                "cannot open " + what + " '" + path + "': " + std::strerror(error));
}

}  // namespace

Status FileSize(const std::string& path, uint64_t* size, const std::string& what) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return OpenError(what, path, errno);
  if (S_ISDIR(st.st_mode)) {
    return Status(StatusCode::kIoError,
                  "cannot open " + what + " '" + path + "': it is a directory");
  }
  *size = static_cast<uint64_t>(st.st_size);
  return Status::Ok();
}

Status OpenForRead(const std::string& path, const std::string& what, UniqueFile* file,
                   uint64_t* size) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return OpenError(what, path, errno);
  if (S_ISDIR(st.st_mode)) {
    return Status(StatusCode::kIoError,
                  "cannot open " + what + " '" + path + "': it is a directory");
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return OpenError(what, path, errno);
  file->reset(f);
  // Size from the open file (not the earlier stat) so that both refer to the same inode.
  struct stat open_st;
  if (::fstat(::fileno(f), &open_st) != 0) return OpenError(what, path, errno);
  *size = static_cast<uint64_t>(open_st.st_size);
  return Status::Ok();
}

Status ReadExact(std::FILE* file, void* data, size_t size, const std::string& what,
                 const std::string& path) {
  if (size == 0) return Status::Ok();
  const size_t got = std::fread(data, 1, size, file);
  if (got == size) return Status::Ok();
  if (std::ferror(file)) {
    return Status(StatusCode::kIoError,
                  "reading " + what + " '" + path + "' failed: " + std::strerror(errno));
  }
  return Status(StatusCode::kDataLoss, what + " '" + path + "' is truncated: needed " +
                                           std::to_string(size) + " more bytes, got " +
                                           std::to_string(got));
}

Status WriteFile(const std::string& path, const void* data, size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    return Status(StatusCode::kIoError, "cannot create '" + path + "': " + std::strerror(errno));
  }
  const size_t written = size == 0 ? 0 : std::fwrite(data, 1, size, f);
  const int write_errno = errno;
  const bool closed = std::fclose(f) == 0;
  if (written != size || !closed) {
    return Status(StatusCode::kIoError, "writing '" + path + "' failed: " +
                                            std::strerror(written != size ? write_errno : errno));
  }
  return Status::Ok();
}

}  // namespace qsdk::tools
