#include "onnx/model_loader.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <climits>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "common/status_macros.h"

namespace qsdk::onnx {

namespace fs = std::filesystem;

bool IsDefaultDomain(const std::string& domain) { return domain.empty() || domain == "ai.onnx"; }

Status ReadModelFile(const std::string& path, std::string* bytes) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    return Status(StatusCode::kNotFound, StrCat("ONNX model file '", path, "' does not exist"));
  }
  if (!fs::is_regular_file(status)) {
    return Status(StatusCode::kNotFound,
                  StrCat("ONNX model path '", path, "' is not a regular file"));
  }
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) {
    return Status(StatusCode::kIoError,
                  StrCat("cannot read the size of ONNX model file '", path, "': ", ec.message()));
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return Status(StatusCode::kIoError, StrCat("cannot open ONNX model file '", path, "'"));
  }
  bytes->assign(static_cast<size_t>(size), '\0');
  if (size > 0) file.read(bytes->data(), static_cast<std::streamsize>(size));
  if (!file) {
    return Status(StatusCode::kIoError,
                  StrCat("reading ", size, " bytes of ONNX model file '", path, "' failed"));
  }
  return Status::Ok();
}

Status ParseModel(const void* data, size_t size, ::onnx::ModelProto* model) {
  if (data == nullptr && size > 0) {
    return InvalidArgument("ONNX model: the data pointer is null for ", size, " bytes");
  }
  if (size == 0) return DataLoss("ONNX model: the model is empty (0 bytes)");
  if (size > static_cast<size_t>(INT_MAX)) {
    return Unimplemented("ONNX model: ", size, " bytes exceed protobuf's 2 GiB message limit; ",
                         "store the weights as external data");
  }
  google::protobuf::io::ArrayInputStream array(data, static_cast<int>(size));
  google::protobuf::io::CodedInputStream stream(&array);
  stream.SetTotalBytesLimit(INT_MAX);
  if (!model->ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage()) {
    return DataLoss("ONNX model: the ", size, " bytes are not a valid ONNX ModelProto ",
                    "(the protobuf message is malformed or truncated)");
  }
  return Status::Ok();
}

Status ValidateModel(const ::onnx::ModelProto& model, ModelInfo* info) {
  *info = ModelInfo();
  if (!model.has_graph()) {
    return InvalidArgument("ONNX model: it has no graph");
  }
  if (model.ir_version() < 3) {
    return InvalidArgument("ONNX model: ir_version = ", model.ir_version(),
                           "; qsdk reads IR version 3 and later (opset imports appeared in 3)");
  }
  bool has_default = false;
  for (const ::onnx::OperatorSetIdProto& op : model.opset_import()) {
    const std::string domain = IsDefaultDomain(op.domain()) ? "" : op.domain();
    if (!info->domains.insert(domain).second) {
      return InvalidArgument("ONNX model: opset_import lists the domain '",
                             domain.empty() ? "ai.onnx" : domain, "' twice");
    }
    if (domain.empty()) {
      has_default = true;
      info->opset = op.version();
    }
  }
  if (!has_default) {
    return InvalidArgument("ONNX model: opset_import has no entry for the default domain ",
                           "(\"\" / \"ai.onnx\"); qsdk needs its version (", kMinOpset, " to ",
                           kMaxOpset, ")");
  }
  if (info->opset < kMinOpset || info->opset > kMaxOpset) {
    return Status(StatusCode::kVersionMismatch,
                  StrCat("ONNX model: it uses opset ", info->opset, " of the default domain; ",
                         "qsdk imports opsets ", kMinOpset, " to ", kMaxOpset,
                         " (convert the model, e.g. with onnx.version_converter)"));
  }
  if (model.graph().sparse_initializer_size() > 0) {
    return Unimplemented("ONNX model: the graph has ", model.graph().sparse_initializer_size(),
                         " sparse initializers (first: '",
                         model.graph().sparse_initializer(0).values().name(),
                         "'); sparse tensors are not supported");
  }
  return Status::Ok();
}

}  // namespace qsdk::onnx
