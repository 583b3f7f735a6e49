// External data of ONNX initializers (TensorProto.data_location = EXTERNAL): the
// 'location' file is resolved inside the model's folder and may never leave it.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qsdk/status.h"

namespace qsdk::onnx {

// Resolves `location` (a relative path from a tensor's external_data) inside `model_dir`
// and sets `resolved` to the canonical path of the file. Rejected (kInvalidArgument): an
// empty location or one holding a NUL, an absolute path, a path whose `..` climbs out of
// the folder, and a path that resolves (through symbolic links) outside the canonical
// folder or to something other than a regular file. A missing file or folder is
// kNotFound. `what` names the tensor in messages.
Status ResolveExternalLocation(const std::string& location, const std::string& model_dir,
                               const std::string& what, std::string* resolved);

// Reads the external data of `proto`: the keys 'location' (required), 'offset' and
// 'length' (optional, decimal), 'checksum' (accepted, not verified). The data must be
// exactly `expected_bytes` long: 'length' when given must equal it, otherwise the file
// must end exactly there. `model_dir` "" means external data is not allowed.
Status ReadExternalData(const ::onnx::TensorProto& proto, const std::string& what,
                        const std::string& model_dir, size_t expected_bytes,
                        std::vector<uint8_t>* out);

}  // namespace qsdk::onnx
