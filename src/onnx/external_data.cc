#include "onnx/external_data.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "common/status_macros.h"

namespace qsdk::onnx {

namespace fs = std::filesystem;

namespace {

// A non-negative decimal integer, digits only (no sign, spaces or exponent).
bool ParseUnsigned(const std::string& text, uint64_t* value) {
  if (text.empty() || text.size() > 20) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && end == text.data() + text.size();
}

// True when `path` equals `folder` or lies below it (both canonical).
bool IsInside(const fs::path& folder, const fs::path& path) {
  auto f = folder.begin();
  auto p = path.begin();
  for (; f != folder.end(); ++f, ++p) {
    // A trailing empty component (folder written with a final '/') matches anything.
    if (f->empty()) continue;
    if (p == path.end() || *f != *p) return false;
  }
  return true;
}

}  // namespace

Status ResolveExternalLocation(const std::string& location, const std::string& model_dir,
                               const std::string& what, std::string* resolved) {
  const std::string head = StrCat(what, ": external data location '", location, "'");
  if (location.empty()) {
    return InvalidArgument(what, ": external data has an empty 'location'");
  }
  if (location.find('\0') != std::string::npos) {
    return InvalidArgument(head, " holds a NUL character");
  }
  const fs::path relative(location);
  if (relative.is_absolute() || relative.has_root_name() || relative.has_root_directory()) {
    return InvalidArgument(head, " is an absolute path; it must be relative to the model's ",
                           "folder and stay inside it");
  }
  const fs::path normal = relative.lexically_normal();
  if (!normal.empty() && *normal.begin() == "..") {
    return InvalidArgument(head, " climbs out of the model's folder with '..'; external data ",
                           "must stay inside it");
  }
  std::error_code ec;
  const fs::path folder = fs::canonical(fs::path(model_dir), ec);
  if (ec) {
    return Status(StatusCode::kNotFound, StrCat(head, ": the model folder '", model_dir,
                                                "' cannot be resolved: ", ec.message()));
  }
  const fs::path target = fs::canonical(folder / normal, ec);
  if (ec) {
    return Status(StatusCode::kNotFound, StrCat(head, ": '", (folder / normal).string(),
                                                "' cannot be resolved: ", ec.message()));
  }
  if (!IsInside(folder, target)) {
    return InvalidArgument(head, " resolves to '", target.string(),
                           "', outside the model's folder '", folder.string(),
                           "' (through a symbolic link); external data must stay inside it");
  }
  if (!fs::is_regular_file(target, ec)) {
    return InvalidArgument(head, " resolves to '", target.string(),
                           "', which is not a regular file");
  }
  *resolved = target.string();
  return Status::Ok();
}

Status ReadExternalData(const ::onnx::TensorProto& proto, const std::string& what,
                        const std::string& model_dir, size_t expected_bytes,
                        std::vector<uint8_t>* out) {
  std::string location;
  bool has_location = false;
  uint64_t offset = 0;
  uint64_t length = 0;
  bool has_length = false;
  for (const auto& entry : proto.external_data()) {
    const std::string& key = entry.key();
    if (key == "location") {
      if (has_location) return InvalidArgument(what, ": external data gives 'location' twice");
      location = entry.value();
      has_location = true;
    } else if (key == "offset") {
      if (!ParseUnsigned(entry.value(), &offset)) {
        return InvalidArgument(what, ": external data 'offset' = '", entry.value(),
                               "'; it must be a non-negative decimal integer");
      }
    } else if (key == "length") {
      if (!ParseUnsigned(entry.value(), &length)) {
        return InvalidArgument(what, ": external data 'length' = '", entry.value(),
                               "'; it must be a non-negative decimal integer");
      }
      has_length = true;
    } else if (key != "checksum") {
      return InvalidArgument(what, ": external data has an unknown key '", key,
                             "'; the keys are location, offset, length and checksum");
    }
  }
  if (!has_location) {
    return InvalidArgument(what, ": data_location is EXTERNAL but external_data has no ",
                           "'location'");
  }
  if (model_dir.empty()) {
    return InvalidArgument(what, ": its data is in the external file '", location,
                           "' but no model folder was given (ParseFromMemory with model_dir "
                           "\"\" forbids external data)");
  }
  std::string path;
  QSDK_RETURN_IF_ERROR(ResolveExternalLocation(location, model_dir, what, &path));
  if (has_length && length != expected_bytes) {
    return DataLoss(what, ": external data 'length' = ", length, " bytes but its shape and ",
                    "type need ", expected_bytes);
  }
  std::error_code ec;
  const uintmax_t file_size = fs::file_size(path, ec);
  if (ec) {
    return Status(StatusCode::kIoError,
                  StrCat(what, ": cannot read the size of '", path, "': ", ec.message()));
  }
  if (offset > file_size || file_size - offset < expected_bytes) {
    return DataLoss(what, ": external file '", path, "' holds ", file_size,
                    " bytes; the data needs ", expected_bytes, " bytes from offset ", offset);
  }
  if (!has_length && file_size - offset != expected_bytes) {
    return DataLoss(what, ": external file '", path, "' holds ", file_size - offset,
                    " bytes from offset ", offset, " (no 'length' given, so up to its end) ",
                    "but the shape and type need ", expected_bytes);
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return Status(StatusCode::kIoError, StrCat(what, ": cannot open '", path, "'"));
  }
  out->assign(expected_bytes, 0);
  file.seekg(static_cast<std::streamoff>(offset));
  if (expected_bytes > 0) {
    file.read(reinterpret_cast<char*>(out->data()), static_cast<std::streamsize>(expected_bytes));
  }
  if (!file) {
    return Status(StatusCode::kIoError,
                  StrCat(what, ": reading ", expected_bytes, " bytes at offset ", offset, " of '",
                         path, "' failed"));
  }
  return Status::Ok();
}

}  // namespace qsdk::onnx
