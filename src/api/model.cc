#include <cstdio>
#include <fstream>
#include <new>

#include "api/model_impl.h"
#include "common/status_macros.h"
#include "runtime/engine.h"

namespace qsdk {
namespace api {

std::vector<TensorDesc> DescribeTensors(const graph::Graph& graph,
                                        const std::vector<graph::TensorId>& ids) {
  std::vector<TensorDesc> descs;
  for (graph::TensorId id : ids) {
    const graph::Tensor& t = graph.tensors[id];
    descs.push_back(TensorDesc{t.name, t.dtype, Dims(t.shape)});
  }
  return descs;
}

std::vector<TensorDesc> ModelImpl::GetInputs() const {
  return DescribeTensors(*graph_, graph_->inputs);
}

std::vector<TensorDesc> ModelImpl::GetOutputs() const {
  return DescribeTensors(*graph_, graph_->outputs);
}

Status ModelImpl::SerializeToMemory(std::vector<uint8_t>* bytes) const {
  if (bytes == nullptr) return InvalidArgument("SerializeToMemory: the output vector is null");
  try {
    std::vector<uint8_t> written;
    QSDK_RETURN_IF_ERROR(engine_file::Write(*graph_, metadata_, &written));
    *bytes = std::move(written);
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted, "SerializeToMemory: out of memory");
  }
  return Status::Ok();
}

Status ModelImpl::SerializeToFile(const std::string& path) const {
  std::vector<uint8_t> bytes;
  QSDK_RETURN_IF_ERROR(SerializeToMemory(&bytes));
  // Write to a temporary file and rename, so a failed write never leaves a partial engine
  // under the requested name.
  const std::string temp = path + ".tmp";
  {
    std::ofstream file(temp, std::ios::binary | std::ios::trunc);
    if (!file) {
      return Status(StatusCode::kIoError,
                    StrCat("SerializeToFile: cannot open '", temp, "' for writing"));
    }
    file.write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    file.flush();
    if (!file) {
      std::remove(temp.c_str());
      return Status(StatusCode::kIoError, StrCat("SerializeToFile: writing '", temp, "' failed"));
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    return Status(StatusCode::kIoError,
                  StrCat("SerializeToFile: cannot move '", temp, "' to '", path, "'"));
  }
  return Status::Ok();
}

Status ModelImpl::CreateIEngine(std::unique_ptr<IEngine>* engine) const {
  if (engine == nullptr) return InvalidArgument("CreateIEngine: the output pointer is null");
  if (metadata_.required_isa == "avx512_core_bf16") {
    std::string reason;
    if (!runtime::CpuRunsBf16(&reason)) {
      return Status(StatusCode::kFailedPrecondition,
                    StrCat("CreateIEngine: model '", metadata_.model_name,
                           "' has BFLOAT16 kernels, but ", reason));
    }
  }
  try {
    return runtime::CreateEngine(graph_, engine);
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted, "CreateIEngine: out of memory");
  } catch (const std::exception& e) {
    return InternalError("CreateIEngine: ", e.what());
  }
}

}  // namespace api

Status DeserializeModelFromMemory(const void* data, size_t size, std::unique_ptr<IModel>* model) {
  if (model == nullptr) return InvalidArgument("DeserializeModelFromMemory: model is null");
  if (data == nullptr && size > 0) {
    return InvalidArgument("DeserializeModelFromMemory: data is null but size is ", size);
  }
  try {
    auto graph = std::make_shared<graph::Graph>();
    engine_file::EngineMetadata metadata;
    QSDK_RETURN_IF_ERROR(
        engine_file::Read(static_cast<const uint8_t*>(data), size, graph.get(), &metadata));
    BuildReport report;
    QSDK_RETURN_IF_ERROR(BuildReport::FromJson(metadata.build_report_json, &report));
    *model = std::make_unique<api::ModelImpl>(std::move(graph), std::move(metadata),
                                              std::move(report));
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted, "DeserializeModelFromMemory: out of memory");
  } catch (const std::exception& e) {
    return InternalError("DeserializeModelFromMemory: ", e.what());
  }
  return Status::Ok();
}

Status DeserializeModelFromFile(const std::string& path, std::unique_ptr<IModel>* model) {
  if (model == nullptr) return InvalidArgument("DeserializeModelFromFile: model is null");
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) {
    return Status(StatusCode::kNotFound,
                  StrCat("engine file '", path, "' cannot be opened for reading"));
  }
  const std::streamoff size = file.tellg();
  if (size < 0) return Status(StatusCode::kIoError, StrCat("engine file '", path, "': not seekable"));
  std::vector<uint8_t> bytes;
  try {
    bytes.resize(static_cast<size_t>(size));
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted,
                  StrCat("engine file '", path, "': cannot allocate ", size, " bytes"));
  }
  file.seekg(0);
  file.read(reinterpret_cast<char*>(bytes.data()), size);
  if (!file) return Status(StatusCode::kIoError, StrCat("engine file '", path, "': read error"));
  Status status = DeserializeModelFromMemory(bytes.data(), bytes.size(), model);
  if (!status.ok()) return Status(status.code(), StrCat("engine file '", path, "': ", status.message()));
  return status;
}

}  // namespace qsdk
