// The ONNX importer: checks a parsed model as a whole (PrepareModel), then adds its nodes
// to an INetwork (ImportModel). The op handlers (ops_*.cc) see an ImportContext: the
// values of the ONNX graph imported so far and helpers that add and name network nodes.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "onnx/attributes.h"
#include "onnx/model_loader.h"
#include "onnx/patterns.h"
#include "onnx/tensor_data.h"
#include "qsdk/network.h"
#include "qsdk/status.h"

namespace qsdk::onnx {

// The quantization of a network tensor produced by a QuantizeLinear (an INT8 / UINT8 /
// INT16 tensor of the network, output of an explicit Quantize node). A DequantizeLinear of
// it must use exactly these parameters; no other op reads it (qsdk ops compute on real
// values: a quantized tensor is read through its dequantization).
struct QuantizedActivation {
  std::vector<float> scales;         // one (per tensor) or one per index of `axis`
  std::vector<int64_t> zero_points;  // same count
  int64_t axis = -1;                 // -1: per tensor; otherwise normalized
  int32_t type = kOnnxUint8;         // kOnnxInt8, kOnnxUint8 or kOnnxInt16
  std::string producer;              // "node 'q' (QuantizeLinear)"
};

// A DequantizeLinear of a constant (quantized weights, INT32 biases). The handlers that
// compute on constants at import time see its FLOAT values (Value::constant); a network
// tensor made from it (ImportContext::ToTensor) is an integer Const node read by an
// explicit Dequantize node with these parameters, which the builder's Q/DQ folding turns
// into quantized weights, or into FLOAT constants.
struct DequantizedConstant {
  std::shared_ptr<const HostTensor> data;  // INT8, UINT8, INT16 or INT32
  std::vector<float> scales;               // one (per tensor) or one per index of `axis`
  std::vector<int32_t> zero_points;        // same count
  int64_t axis = -1;                       // -1: per tensor; otherwise normalized
  std::string data_name;                   // the ONNX value holding the integers
  std::string node_name;                   // the network name of the DequantizeLinear
};

// One value (tensor name) of the ONNX graph, as imported: a network tensor (`tensor`,
// with `quantized` when it is a QuantizeLinear's integer output) or a constant known at
// import time (`constant`, with `dequantized` when it is a DequantizeLinear of integers).
struct Value {
  ITensor* tensor = nullptr;
  std::shared_ptr<const QuantizedActivation> quantized;
  std::shared_ptr<const HostTensor> constant;
  std::shared_ptr<const DequantizedConstant> dequantized;
};

// One ONNX node being imported.
struct OnnxNode {
  const ::onnx::NodeProto* proto = nullptr;
  int index = 0;         // position in the graph
  std::string name;      // unique node name in the network (ONNX name or generated)
  std::string describe;  // "node 'name' (OpType)"
  NodeAttributes attrs;

  const std::string& op() const { return proto->op_type(); }
  // True when input slot `i` exists and is not empty (absent optional inputs are "").
  bool HasInput(size_t i) const {
    return static_cast<int>(i) < proto->input_size() && !proto->input(static_cast<int>(i)).empty();
  }
  bool HasOutput(size_t i) const {
    return static_cast<int>(i) < proto->output_size() &&
           !proto->output(static_cast<int>(i)).empty();
  }
  const std::string& InputName(size_t i) const { return proto->input(static_cast<int>(i)); }
  const std::string& OutputName(size_t i) const { return proto->output(static_cast<int>(i)); }
};

// The state of one import: the network and the values defined so far.
class ImportContext {
 public:
  ImportContext(INetwork* network, int64_t opset, std::string model_dir,
                const std::set<std::string>* onnx_values, const std::set<std::string>* onnx_nodes)
      : network_(network),
        opset_(opset),
        model_dir_(std::move(model_dir)),
        onnx_values_(onnx_values),
        onnx_nodes_(onnx_nodes) {}

  INetwork* network() { return network_; }
  int64_t opset() const { return opset_; }
  // Where external data of tensors in attributes lives ("" = none allowed).
  const std::string& model_dir() const { return model_dir_; }

  // --- Values of the ONNX graph. --------------------------------------------------------
  // Defines `name`; it must not be defined yet.
  Status Define(const std::string& name, Value value);
  // nullptr when `name` is not defined.
  const Value* Find(const std::string& name) const;

  // --- Inputs of a node (the slot must be present; PrepareModel checked they exist). ----
  // The value of input `i`; fails when the slot is absent.
  Status Input(const OnnxNode& node, size_t i, const char* role, const Value** value) const;
  // True when input `i` is present and a constant.
  bool IsConstantInput(const OnnxNode& node, size_t i) const;
  // Input `i` as a network tensor: a FLOAT constant becomes a Const node named after it,
  // a dequantized constant an integer Const and a Dequantize node (each once); a
  // quantized activation is an error naming the QuantizeLinear.
  Status TensorInput(const OnnxNode& node, size_t i, const char* role, ITensor** tensor);
  // Input `i` as a constant; kUnimplemented when it is computed at run time.
  Status ConstantInput(const OnnxNode& node, size_t i, const char* role,
                       std::shared_ptr<const HostTensor>* constant) const;
  // The network tensor of `value` (materializing a FLOAT constant named `name`).
  Status ToTensor(const OnnxNode& node, const std::string& name, const char* role,
                  ITensor** tensor);
  // Adds `dq` as an integer Const node and a Dequantize node for `node`; the Dequantize
  // node is named `node_name` and its output `tensor_name` (both unused so far: see
  // UniqueNodeName / UniqueTensorName).
  Status AddDequantized(const OnnxNode& node, const DequantizedConstant& dq,
                        const std::string& node_name, const std::string& tensor_name,
                        ITensor** tensor);

  // --- Outputs of a node. ------------------------------------------------------------------
  // Output `i` is `tensor`, which is renamed to the ONNX output name.
  Status SetOutput(const OnnxNode& node, size_t i, ITensor* tensor);
  // Output `i` is `tensor`, the integer output of a QuantizeLinear with `quantization`.
  Status SetQuantizedOutput(const OnnxNode& node, size_t i, ITensor* tensor,
                            std::shared_ptr<const QuantizedActivation> quantization);
  // Output `i` is a constant computed at import time.
  Status SetConstantOutput(const OnnxNode& node, size_t i, HostTensor value);
  // Output `i` is the DequantizeLinear of a constant: `dq`, whose FLOAT values are `value`.
  Status SetDequantizedOutput(const OnnxNode& node, size_t i, HostTensor value,
                              std::shared_ptr<const DequantizedConstant> dq);
  // Output `i` is the same value as `value` (Identity, Dropout, a Cast to the same type).
  Status SetAliasOutput(const OnnxNode& node, size_t i, const Value& value);
  // Fails (kUnimplemented) when output slot `i` or any later one is present: optional
  // outputs qsdk does not compute (Dropout's mask, MaxPool's indices, ...).
  Status RejectOutputsFrom(const OnnxNode& node, size_t i, const char* what) const;

  // --- Adding network nodes. ------------------------------------------------------------
  // Checks the result of an INetwork::Add* call made for `node`: on nullptr returns the
  // network's error prefixed with node.describe. Names the new node `node.name` (role "")
  // or "<node.name>/<role>", and its output tensor "<node.name>/<role or 'output'>"
  // (SetOutput renames the tensor that becomes the ONNX output).
  Status Added(const OnnxNode& node, INode* added, const std::string& role, ITensor** output);
  // Adds a FLOAT constant named "<node.name>/<role>".
  Status AddConstant(const OnnxNode& node, const std::string& role, const HostTensor& value,
                     ITensor** tensor);
  // Adds a Reshape of `input` to `shape` (0 = copy, -1 = infer) for `node`.
  Status AddReshape(const OnnxNode& node, const std::string& role, ITensor* input,
                    const std::vector<int64_t>& shape, ITensor** output);

  // A node / tensor name starting with `base` that no network node / tensor has and
  // that is not the name of an ONNX node / value (which keep their own names).
  std::string UniqueNodeName(const std::string& base) const;
  std::string UniqueTensorName(const std::string& base) const;

 private:
  INetwork* network_;
  int64_t opset_;
  std::string model_dir_;
  const std::set<std::string>* onnx_values_;
  const std::set<std::string>* onnx_nodes_;
  std::unordered_map<std::string, Value> values_;
  // Const nodes made for constant values (ToTensor), by value name.
  std::unordered_map<std::string, ITensor*> materialized_;
};

// A model checked as a whole and ready to import (any number of times).
struct PreparedModel {
  const ::onnx::ModelProto* model = nullptr;
  ModelInfo info;
  std::string model_dir;
  std::map<std::string, std::shared_ptr<const HostTensor>> initializers;
  std::vector<std::string> node_names;  // unique network name of each ONNX node
  std::set<std::string> value_names;    // every value name of the graph
  std::set<std::string> node_name_set;  // node_names as a set
  PatternMatches patterns;
};

// Checks `model` (already through ValidateModel) without touching any network: decodes
// every initializer (external data from `model_dir`), checks names (graph inputs,
// initializers and node outputs each defined once; every node input and graph output
// defined before use), names the nodes, recognizes the patterns (patterns.h) and fails
// with one kUnimplemented status listing every node whose op is not supported.
Status PrepareModel(const ::onnx::ModelProto& model, const ModelInfo& info,
                    const std::string& model_dir, PreparedModel* prepared);

// Adds the prepared model to `network`. Stops at the first failure (the network then
// holds the part imported so far).
Status ImportModel(const PreparedModel& prepared, INetwork* network);

}  // namespace qsdk::onnx
