// Helpers for the ONNX importer's tests: small models made through the ONNX protobuf
// classes, parsing them, and building / running the result with qsdk.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "qsdk/qsdk.h"

namespace qsdk::onnx_test {

// The ONNX element types the tests name.
using ::onnx::TensorProto_DataType_DOUBLE;
using ::onnx::TensorProto_DataType_FLOAT;
using ::onnx::TensorProto_DataType_FLOAT16;
using ::onnx::TensorProto_DataType_INT16;
using ::onnx::TensorProto_DataType_INT32;
using ::onnx::TensorProto_DataType_INT64;
using ::onnx::TensorProto_DataType_INT8;
using ::onnx::TensorProto_DataType_UINT8;

// Builds a ModelProto: IR version 8, one default-domain opset import.
class ModelBuilder {
 public:
  explicit ModelBuilder(int64_t opset = 13);

  ::onnx::ModelProto& model() { return model_; }
  const ::onnx::ModelProto& model() const { return model_; }
  ::onnx::GraphProto* graph() { return model_.mutable_graph(); }

  // A graph input; an extent of -1 becomes dim_param "N".
  ModelBuilder& Input(const std::string& name, const std::vector<int64_t>& dims,
                      int32_t type = ::onnx::TensorProto_DataType_FLOAT);
  // A graph output (type FLOAT, no shape).
  ModelBuilder& Output(const std::string& name);
  // Initializers with raw_data.
  ModelBuilder& Floats(const std::string& name, const std::vector<int64_t>& dims,
                       const std::vector<float>& values);
  ModelBuilder& Ints(const std::string& name, int32_t type, const std::vector<int64_t>& dims,
                     const std::vector<int64_t>& values);
  // A node; returns it so that attributes can be added.
  ::onnx::NodeProto* Node(const std::string& op, const std::vector<std::string>& inputs,
                          const std::vector<std::string>& outputs, const std::string& name = "");

  std::string Serialize() const;

 private:
  ::onnx::ModelProto model_;
};

// A tensor with raw_data: FLOAT values, or integers of `type`.
::onnx::TensorProto FloatTensor(const std::string& name, const std::vector<int64_t>& dims,
                                const std::vector<float>& values);
::onnx::TensorProto IntTensor(const std::string& name, int32_t type,
                              const std::vector<int64_t>& dims, const std::vector<int64_t>& values);

// Attributes.
void SetAttr(::onnx::NodeProto* node, const std::string& name, int64_t value);
void SetAttr(::onnx::NodeProto* node, const std::string& name, float value);
void SetAttr(::onnx::NodeProto* node, const std::string& name, const std::vector<int64_t>& value);
void SetAttr(::onnx::NodeProto* node, const std::string& name, const std::vector<float>& value);
void SetAttr(::onnx::NodeProto* node, const std::string& name, const std::string& value);
void SetAttr(::onnx::NodeProto* node, const std::string& name, const ::onnx::TensorProto& value);

// Parses `model` into a new network (ParseFromMemory).
Status Parse(const ::onnx::ModelProto& model, std::unique_ptr<INetwork>* network,
             const std::string& model_dir = "");

// Builds `network` with the JSON `config` ("{}" = FP32) and runs it once on `inputs`.
Status BuildAndRun(const INetwork& network, const std::string& config,
                   const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs,
                   std::unique_ptr<IModel>* model = nullptr);

// A FLOAT tensor of `dims` filled with N(0, 1) values from a generator seeded with `seed`.
Tensor RandomTensor(const Dims& dims, uint32_t seed, const std::string& name = "");

// The values of a FLOAT tensor.
std::vector<float> Values(const Tensor& t);

// Number of nodes of `type` in `network`.
int CountNodes(const INetwork& network, NodeType type);

}  // namespace qsdk::onnx_test
