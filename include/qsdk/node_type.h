/// @file node_type.h
/// @brief Node types and the enumerations of node parameters.
#pragma once

#include <cstdint>

#include "qsdk/export.h"

namespace qsdk {

/// @brief Kind of a node. Values are stable ids stored in engine files.
///
/// The op table `qsdk/node_types.def` is the source of truth; the library checks at
/// compile time that every enumerator here has the id the table gives it.
enum class NodeType : int32_t {
  kInvalid = 0,          ///< Not a node type.
  kConst = 1,            ///< IConstNode.
  kConv = 2,             ///< IConvNode.
  kFullyConnected = 3,   ///< IFullyConnectedNode.
  kMatMul = 4,           ///< IMatMulNode.
  kActivation = 5,       ///< IActivationNode.
  kPool = 6,             ///< IPoolNode.
  kElementwise = 7,      ///< IElementwiseNode.
  kConcat = 8,           ///< IConcatNode.
  kBatchNorm = 9,        ///< IBatchNormNode.
  kSoftmax = 10,         ///< ISoftmaxNode.
  kReshape = 11,         ///< IReshapeNode.
  kFlatten = 12,         ///< IFlattenNode.
  kTranspose = 13,       ///< ITransposeNode.
  kQuantize = 14,        ///< IQuantizeNode: float (or quantized) to quantized.
  kDequantize = 15,      ///< IDequantizeNode: quantized to float.
  kCast = 16,            ///< Float to float of another width (FLOAT32 / FLOAT16 / BFLOAT16);
                         ///< inserted by the builder at precision boundaries.
};

/// @brief Name of @p type as in node_types.def ("Conv", ...), or "Invalid".
QSDK_API const char* NodeTypeName(NodeType type);

/// @brief True when @p type is a row of node_types.def.
QSDK_API bool IsValidNodeType(NodeType type);

/// @brief Activation functions of IActivationNode (and of activations fused into
///        convolution / fully connected nodes). Values are stable (stored in files).
enum class ActivationType : int32_t {
  kNone = 0,        ///< Identity; used only for "no fused activation".
  kRelu = 1,        ///< max(x, 0).
  kRelu6 = 2,       ///< min(max(x, 0), 6).
  kClip = 3,        ///< min(max(x, alpha), beta).
  kSigmoid = 4,     ///< 1 / (1 + exp(-x)).
  kTanh = 5,        ///< tanh(x).
  kLeakyRelu = 6,   ///< x if x >= 0 else alpha * x (alpha defaults to 0.01).
  kHardSwish = 7,   ///< x * min(max(x + 3, 0), 6) / 6.
  kGelu = 8,        ///< 0.5 * x * (1 + erf(x / sqrt(2))).
};
/// @brief Largest valid ActivationType value.
constexpr int32_t kMaxActivationType = 8;

/// @brief Name of @p type ("Relu", ...), or "Invalid".
QSDK_API const char* ActivationTypeName(ActivationType type);

/// @brief Pooling modes of IPoolNode. Values are stable.
enum class PoolMode : int32_t {
  kMax = 1,            ///< Max over the window; padding never wins.
  kAverage = 2,        ///< Mean over the window; see IPoolNode::SetCountIncludePad.
  kGlobalAverage = 3,  ///< Mean over all of H and W; output is N x C x 1 x 1.
  kGlobalMax = 4,      ///< Max over all of H and W; output is N x C x 1 x 1.
};
/// @brief Largest valid PoolMode value.
constexpr int32_t kMaxPoolMode = 4;

/// @brief Binary operations of IElementwiseNode (numpy broadcasting). Values are stable.
enum class ElementwiseOp : int32_t {
  kAdd = 1,  ///< a + b.
  kSub = 2,  ///< a - b.
  kMul = 3,  ///< a * b.
};
/// @brief Largest valid ElementwiseOp value.
constexpr int32_t kMaxElementwiseOp = 3;

}  // namespace qsdk
