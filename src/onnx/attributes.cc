#include "onnx/attributes.h"

#include "common/status_macros.h"

namespace qsdk::onnx {

std::string AttributeTypeName(int type) {
  if (::onnx::AttributeProto_AttributeType_IsValid(type)) {
    return ::onnx::AttributeProto_AttributeType_Name(
        static_cast<::onnx::AttributeProto_AttributeType>(type));
  }
  return StrCat("type ", type);
}

Status NodeAttributes::Init(const ::onnx::NodeProto& node, const std::string& describe) {
  describe_ = describe;
  ordered_.clear();
  by_name_.clear();
  for (const ::onnx::AttributeProto& a : node.attribute()) {
    if (a.name().empty()) return InvalidArgument(describe_, ": an attribute has no name");
    if (!a.ref_attr_name().empty()) {
      return InvalidArgument(describe_, ": attribute '", a.name(), "' refers to '",
                             a.ref_attr_name(),
                             "' (ref_attr_name), which is only valid inside a function body");
    }
    if (!by_name_.emplace(a.name(), &a).second) {
      return InvalidArgument(describe_, ": attribute '", a.name(), "' is given twice");
    }
    ordered_.push_back(&a);
  }
  return Status::Ok();
}

Status NodeAttributes::CheckKnown(std::initializer_list<const char*> known) const {
  for (const ::onnx::AttributeProto* a : ordered_) {
    bool found = false;
    for (const char* k : known) found = found || a->name() == k;
    if (!found) {
      std::string list;
      for (const char* k : known) list += StrCat(list.empty() ? "" : ", ", k);
      return Unimplemented(describe_, ": attribute '", a->name(), "' is not supported (",
                           "supported: ", list.empty() ? "none" : list, ")");
    }
  }
  return Status::Ok();
}

std::vector<std::string> NodeAttributes::Names() const {
  std::vector<std::string> names;
  for (const ::onnx::AttributeProto* a : ordered_) names.push_back(a->name());
  return names;
}

Status NodeAttributes::Find(const std::string& name, ::onnx::AttributeProto_AttributeType expected,
                            const ::onnx::AttributeProto** attr) const {
  *attr = nullptr;
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return Status::Ok();
  if (it->second->type() != expected) {
    return InvalidArgument(describe_, ": attribute '", name, "' has type ",
                           AttributeTypeName(it->second->type()), "; it must be ",
                           AttributeTypeName(expected));
  }
  *attr = it->second;
  return Status::Ok();
}

Status NodeAttributes::GetInt(const std::string& name, int64_t fallback, int64_t* value) const {
  const ::onnx::AttributeProto* a = nullptr;
  QSDK_RETURN_IF_ERROR(Find(name, ::onnx::AttributeProto_AttributeType_INT, &a));
  *value = a ? a->i() : fallback;
  return Status::Ok();
}

Status NodeAttributes::GetFloat(const std::string& name, float fallback, float* value) const {
  const ::onnx::AttributeProto* a = nullptr;
  QSDK_RETURN_IF_ERROR(Find(name, ::onnx::AttributeProto_AttributeType_FLOAT, &a));
  *value = a ? a->f() : fallback;
  return Status::Ok();
}

Status NodeAttributes::GetString(const std::string& name, const std::string& fallback,
                                 std::string* value) const {
  const ::onnx::AttributeProto* a = nullptr;
  QSDK_RETURN_IF_ERROR(Find(name, ::onnx::AttributeProto_AttributeType_STRING, &a));
  *value = a ? a->s() : fallback;
  return Status::Ok();
}

Status NodeAttributes::GetInts(const std::string& name, const std::vector<int64_t>& fallback,
                               std::vector<int64_t>* value) const {
  const ::onnx::AttributeProto* a = nullptr;
  QSDK_RETURN_IF_ERROR(Find(name, ::onnx::AttributeProto_AttributeType_INTS, &a));
  if (a) {
    value->assign(a->ints().begin(), a->ints().end());
  } else {
    *value = fallback;
  }
  return Status::Ok();
}

Status NodeAttributes::GetFloats(const std::string& name, const std::vector<float>& fallback,
                                 std::vector<float>* value) const {
  const ::onnx::AttributeProto* a = nullptr;
  QSDK_RETURN_IF_ERROR(Find(name, ::onnx::AttributeProto_AttributeType_FLOATS, &a));
  if (a) {
    value->assign(a->floats().begin(), a->floats().end());
  } else {
    *value = fallback;
  }
  return Status::Ok();
}

Status NodeAttributes::GetTensor(const std::string& name, const ::onnx::TensorProto** value) const {
  const ::onnx::AttributeProto* a = nullptr;
  QSDK_RETURN_IF_ERROR(Find(name, ::onnx::AttributeProto_AttributeType_TENSOR, &a));
  *value = a ? &a->t() : nullptr;
  return Status::Ok();
}

}  // namespace qsdk::onnx
