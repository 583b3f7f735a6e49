// IParser: the public entry points. Reads and checks the whole model, imports it into a
// scratch network first (so that a failure leaves the caller's network untouched), then
// into the caller's network. No exception escapes.
#include "qsdk/onnx_parser.h"

#include <exception>
#include <filesystem>
#include <new>

#include "common/status_macros.h"
#include "onnx/importer.h"
#include "onnx/model_loader.h"

namespace qsdk {

namespace {

// Runs `body`, turning any exception into a status.
template <typename Fn>
Status Guard(const char* what, Fn body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted, StrCat(what, ": out of memory"));
  } catch (const std::exception& e) {
    return InternalError(what, ": unexpected exception: ", e.what());
  } catch (...) {
    return InternalError(what, ": unexpected non-standard exception");
  }
}

Status CheckEmpty(const char* what, INetwork* network) {
  if (network == nullptr) return InvalidArgument(what, ": the network is null");
  if (network->GetNodeCount() != 0 || !network->GetInputs().empty() ||
      !network->GetOutputs().empty()) {
    return Status(StatusCode::kFailedPrecondition,
                  StrCat(what, ": the network already has ", network->GetNodeCount(), " nodes and ",
                         network->GetInputs().size(), " inputs; the parser ",
                         "fills an empty network from CreateINetwork()"));
  }
  return Status::Ok();
}

Status Parse(const void* data, size_t size, INetwork* network, const std::string& model_dir) {
  ::onnx::ModelProto model;
  QSDK_RETURN_IF_ERROR(onnx::ParseModel(data, size, &model));
  onnx::ModelInfo info;
  QSDK_RETURN_IF_ERROR(onnx::ValidateModel(model, &info));
  onnx::PreparedModel prepared;
  QSDK_RETURN_IF_ERROR(onnx::PrepareModel(model, info, model_dir, &prepared));
  {
    // A dry run: the import stops at its first failure, which must not leave the
    // caller's network half filled.
    std::unique_ptr<INetwork> scratch = CreateINetwork();
    QSDK_RETURN_IF_ERROR(onnx::ImportModel(prepared, scratch.get()));
  }
  return onnx::ImportModel(prepared, network);
}

class Parser final : public IParser {
 public:
  Status ParseFromFile(const std::string& path, INetwork* network) override {
    return Guard("ParseFromFile", [&]() -> Status {
      QSDK_RETURN_IF_ERROR(CheckEmpty("ParseFromFile", network));
      std::string bytes;
      Status s = onnx::ReadModelFile(path, &bytes);
      if (s.ok()) {
        std::string dir = std::filesystem::path(path).parent_path().string();
        if (dir.empty()) dir = ".";
        s = Parse(bytes.data(), bytes.size(), network, dir);
      }
      if (s.ok()) return s;
      return Status(s.code(), StrCat("ONNX file '", path, "': ", s.message()));
    });
  }

  Status ParseFromMemory(const void* data, size_t size, INetwork* network,
                         const std::string& model_dir) override {
    return Guard("ParseFromMemory", [&]() -> Status {
      QSDK_RETURN_IF_ERROR(CheckEmpty("ParseFromMemory", network));
      return Parse(data, size, network, model_dir);
    });
  }
};

}  // namespace

std::unique_ptr<IParser> CreateIParser() { return std::make_unique<Parser>(); }

}  // namespace qsdk
