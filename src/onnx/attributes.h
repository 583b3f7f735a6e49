// Typed access to the attributes of an ONNX node: every read checks the attribute's
// declared type, so a model with e.g. 'strides' stored as a FLOAT is rejected naming the
// node, the attribute and both types.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "qsdk/status.h"

namespace qsdk::onnx {

class NodeAttributes {
 public:
  // Indexes the attributes of `node`. `describe` names the node in messages ("node 'c'
  // (Conv)"). Fails on an unnamed or duplicate attribute, or one that refers to a function
  // attribute (ref_attr_name; only valid inside functions).
  Status Init(const ::onnx::NodeProto& node, const std::string& describe);

  // kUnimplemented naming the first attribute whose name is not in `known`: an attribute
  // the importer does not know could change the op's meaning, so it is never ignored.
  Status CheckKnown(std::initializer_list<const char*> known) const;

  bool Has(const std::string& name) const { return by_name_.count(name) != 0; }

  // Each getter sets `value` from the attribute, or to `fallback` when it is absent, and
  // fails when the attribute has another type.
  Status GetInt(const std::string& name, int64_t fallback, int64_t* value) const;
  Status GetFloat(const std::string& name, float fallback, float* value) const;
  Status GetString(const std::string& name, const std::string& fallback, std::string* value) const;
  Status GetInts(const std::string& name, const std::vector<int64_t>& fallback,
                 std::vector<int64_t>* value) const;
  Status GetFloats(const std::string& name, const std::vector<float>& fallback,
                   std::vector<float>* value) const;
  // nullptr when absent.
  Status GetTensor(const std::string& name, const ::onnx::TensorProto** value) const;

  // The names present, in the node's order.
  std::vector<std::string> Names() const;

  const std::string& describe() const { return describe_; }

 private:
  // The attribute `name` if present (nullptr otherwise), checked to have type `expected`.
  Status Find(const std::string& name, ::onnx::AttributeProto_AttributeType expected,
              const ::onnx::AttributeProto** attr) const;

  std::string describe_;
  std::vector<const ::onnx::AttributeProto*> ordered_;
  std::map<std::string, const ::onnx::AttributeProto*> by_name_;
};

// "INTS", "FLOAT", ... for an AttributeProto type value.
std::string AttributeTypeName(int type);

}  // namespace qsdk::onnx
