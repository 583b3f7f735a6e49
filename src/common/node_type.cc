#include "qsdk/node_type.h"

namespace qsdk {

// The public enum spells out each id so that it can be documented; the op table stays
// the source of truth and any disagreement fails the build.
#define QSDK_NODE_TYPE(enumerator, id, name)                               \
  static_assert(static_cast<int32_t>(NodeType::enumerator) == (id),         \
                "NodeType::" #enumerator " disagrees with node_types.def");
#include "qsdk/node_types.def"

const char* NodeTypeName(NodeType type) {
  switch (type) {
#define QSDK_NODE_TYPE(enumerator, id, name) \
  case NodeType::enumerator:                 \
    return name;
#include "qsdk/node_types.def"
    case NodeType::kInvalid: break;
  }
  return "Invalid";
}

bool IsValidNodeType(NodeType type) {
  switch (type) {
#define QSDK_NODE_TYPE(enumerator, id, name) case NodeType::enumerator:
#include "qsdk/node_types.def"
    return true;
    case NodeType::kInvalid: break;
  }
  return false;
}

const char* ActivationTypeName(ActivationType type) {
  switch (type) {
    case ActivationType::kNone: return "None";
    case ActivationType::kRelu: return "Relu";
    case ActivationType::kRelu6: return "Relu6";
    case ActivationType::kClip: return "Clip";
    case ActivationType::kSigmoid: return "Sigmoid";
    case ActivationType::kTanh: return "Tanh";
    case ActivationType::kLeakyRelu: return "LeakyRelu";
    case ActivationType::kHardSwish: return "HardSwish";
    case ActivationType::kGelu: return "Gelu";
  }
  return "Invalid";
}

}  // namespace qsdk
