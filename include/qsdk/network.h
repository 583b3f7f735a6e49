/// @file network.h
/// @brief INetwork: the mutable graph a user builds node by node.
///
/// Ownership and lifetime: CreateINetwork() returns a std::unique_ptr owned by the caller.
/// Every ITensor and INode is owned by the network that created it and lives as long as
/// that network; never delete them. A tensor of one network cannot be used by another
/// (the call fails with a status naming the tensor).
///
/// Thread-safety: an INetwork and its nodes and tensors are not thread-safe; use one
/// network from one thread at a time. Building (IBuilder::BuildModel) only reads it.
///
/// Errors: the Add* functions return nullptr when an argument is invalid (a null tensor,
/// a tensor of another network, shapes that do not fit the op); INetwork::GetLastError()
/// then explains why, naming the node and tensor. Setters return a Status.
/// Shapes are inferred as nodes are added; ITensor::GetDimension() is always current.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "qsdk/data_type.h"
#include "qsdk/dims.h"
#include "qsdk/export.h"
#include "qsdk/node_type.h"
#include "qsdk/status.h"

namespace qsdk {

class INode;

/// @brief A tensor of a network: a network input, a constant, or a node's output.
class QSDK_API ITensor {
 public:
  virtual ~ITensor() = default;
  /// @brief Unique name within the network (generated when not set).
  virtual const std::string& GetTensorName() const = 0;
  /// @brief Renames the tensor. Fails when @p name is empty or used by another tensor.
  virtual Status SetTensorName(const std::string& name) = 0;
  /// @brief Shape; -1 marks a dynamic dimension.
  virtual Dims GetDimension() const = 0;
  /// @brief Element type of the tensor's values as the network defines them.
  virtual DataType GetDataType() const = 0;
  /// @brief The node producing this tensor; nullptr for a network input.
  virtual INode* GetProducer() const = 0;
  /// @brief True for network inputs created by INetwork::AddInput.
  virtual bool IsNetworkInput() const = 0;
  /// @brief True when MarkOutput was called on this tensor.
  virtual bool IsNetworkOutput() const = 0;

  /// @brief Sets by hand the range of real values this tensor takes, [@p min, @p max]
  ///        (finite, min <= max). INT8 builds derive its quantization parameters from it;
  ///        calibration leaves a tensor with a hand-set range untouched.
  virtual Status SetDynamicRange(float min, float max) = 0;
  /// @brief Per-axis form: one [min[i], max[i]] per index i of dimension @p axis (the
  ///        vectors' length must equal that extent).
  virtual Status SetDynamicRange(const std::vector<float>& min, const std::vector<float>& max,
                                 int64_t axis) = 0;
  /// @brief The range set by hand or by calibration: per tensor, one value each, with
  ///        @p axis -1; per axis, one per index. False (outputs untouched) when none is set.
  virtual bool GetDynamicRange(std::vector<float>* min, std::vector<float>* max,
                               int64_t* axis) const = 0;
  /// @brief Forgets the range (hand-set or calibrated).
  virtual void ClearDynamicRange() = 0;
};

/// @brief Common interface of all nodes. Typed nodes derive from it.
class QSDK_API INode {
 public:
  virtual ~INode() = default;
  /// @brief Kind of the node.
  virtual NodeType GetNodeType() const = 0;
  /// @brief Unique name within the network (generated when not set).
  virtual const std::string& GetNodeName() const = 0;
  /// @brief Renames the node. Fails when @p name is empty or used by another node.
  virtual Status SetNodeName(const std::string& name) = 0;

  /// @brief Number of input slots (absent optional inputs count, as nullptr).
  virtual int64_t GetInputCount() const = 0;
  /// @brief Input @p index; nullptr when the slot is empty or @p index is out of range.
  virtual ITensor* GetInput(int64_t index) const = 0;
  /// @brief Replaces input @p index. Fails for a null tensor, a tensor of another
  ///        network, an index out of range, or shapes that no longer fit. May create a
  ///        cycle, which IBuilder::BuildModel reports.
  virtual Status SetInput(int64_t index, ITensor* tensor) = 0;
  /// @brief Number of outputs.
  virtual int64_t GetOutputCount() const = 0;
  /// @brief Output @p index; nullptr when out of range.
  virtual ITensor* GetOutput(int64_t index) const = 0;

  /// @brief Requests the precision in which input @p input_index is consumed (e.g.
  ///        QINT8). DataType::INVALID clears the request. Stored in the engine; the
  ///        builder honours it or fails naming this node.
  virtual Status SetPrecision(int64_t input_index, DataType type) = 0;
  /// @brief The requested precision of input @p input_index (INVALID when unset).
  virtual DataType GetPrecision(int64_t input_index) const = 0;
  /// @brief Requests the element type of output @p output_index. INVALID clears it.
  virtual Status SetOutputType(int64_t output_index, DataType type) = 0;
  /// @brief The requested type of output @p output_index (INVALID when unset).
  virtual DataType GetOutputType(int64_t output_index) const = 0;
};

/// @brief A constant tensor (weights, biases, any fixed data). Output 0 is the constant.
class QSDK_API IConstNode : public INode {};

/// @brief 2-D convolution, NCHW. Inputs: 0 data [N,C,H,W], 1 filter [OC, C/group, KH,
///        KW] (constant by build time), 2 optional bias [OC].
class QSDK_API IConvNode : public INode {
 public:
  /// @brief Strides along H and W (each >= 1; default 1,1).
  virtual Status SetStride(int64_t stride_h, int64_t stride_w) = 0;
  /// @brief Zero padding (each >= 0; default 0): top, bottom, left, right.
  virtual Status SetPad(int64_t pad_top, int64_t pad_bottom, int64_t pad_left,
                        int64_t pad_right) = 0;
  /// @brief Dilations along H and W (each >= 1; default 1,1).
  virtual Status SetDilation(int64_t dilation_h, int64_t dilation_w) = 0;
  /// @brief Number of groups (>= 1, divides C and OC; C == OC == group is depthwise).
  virtual Status SetGroup(int64_t group) = 0;
  /// @brief Strides {h, w}.
  virtual std::vector<int64_t> GetStride() const = 0;
  /// @brief Pads {top, bottom, left, right}.
  virtual std::vector<int64_t> GetPad() const = 0;
  /// @brief Dilations {h, w}.
  virtual std::vector<int64_t> GetDilation() const = 0;
  /// @brief Number of groups.
  virtual int64_t GetGroup() const = 0;
};

/// @brief Fully connected layer: out = in x W^T + b. Inputs: 0 data [N, K] (a higher
///        rank input is flattened from axis 1), 1 weight [OC, K], 2 optional bias [OC].
class QSDK_API IFullyConnectedNode : public INode {};

/// @brief Batched matrix product with numpy broadcasting of the batch dimensions.
///        Inputs: 0 A [..., M, K], 1 B [..., K, N], 2 optional bias broadcast to the
///        output [..., M, N].
class QSDK_API IMatMulNode : public INode {
 public:
  /// @brief Use A^T (last two dims swapped).
  virtual Status SetTransposeA(bool transpose) = 0;
  /// @brief Use B^T (last two dims swapped).
  virtual Status SetTransposeB(bool transpose) = 0;
  /// @brief Whether A is transposed.
  virtual bool GetTransposeA() const = 0;
  /// @brief Whether B is transposed.
  virtual bool GetTransposeB() const = 0;
};

/// @brief Element-wise activation. Input 0: any shape.
class QSDK_API IActivationNode : public INode {
 public:
  /// @brief The function.
  virtual ActivationType GetActivationType() const = 0;
  /// @brief Parameter alpha: min for kClip, slope for kLeakyRelu (default 0.01).
  virtual Status SetAlpha(float alpha) = 0;
  /// @brief Parameter beta: max for kClip.
  virtual Status SetBeta(float beta) = 0;
  /// @brief Parameter alpha.
  virtual float GetAlpha() const = 0;
  /// @brief Parameter beta.
  virtual float GetBeta() const = 0;
};

/// @brief 2-D pooling, NCHW. Input 0: [N,C,H,W].
class QSDK_API IPoolNode : public INode {
 public:
  /// @brief The pooling mode.
  virtual PoolMode GetPoolMode() const = 0;
  /// @brief Window size (each >= 1). Ignored by global modes.
  virtual Status SetKernel(int64_t kernel_h, int64_t kernel_w) = 0;
  /// @brief Strides (each >= 1; default 1,1). Ignored by global modes.
  virtual Status SetStride(int64_t stride_h, int64_t stride_w) = 0;
  /// @brief Padding (each >= 0 and smaller than the window): top, bottom, left, right.
  virtual Status SetPad(int64_t pad_top, int64_t pad_bottom, int64_t pad_left,
                        int64_t pad_right) = 0;
  /// @brief kAverage only: whether padded zeros count in the divisor (default false,
  ///        as ONNX count_include_pad = 0).
  virtual Status SetCountIncludePad(bool include) = 0;
  /// @brief Round the output size up instead of down (ONNX ceil_mode; default false).
  virtual Status SetCeilMode(bool ceil_mode) = 0;
  /// @brief Window {h, w}.
  virtual std::vector<int64_t> GetKernel() const = 0;
  /// @brief Strides {h, w}.
  virtual std::vector<int64_t> GetStride() const = 0;
  /// @brief Pads {top, bottom, left, right}.
  virtual std::vector<int64_t> GetPad() const = 0;
  /// @brief Whether padding counts in the average.
  virtual bool GetCountIncludePad() const = 0;
  /// @brief Whether the output size is rounded up.
  virtual bool GetCeilMode() const = 0;
};

/// @brief Binary element-wise operation with numpy broadcasting. Inputs 0 and 1.
class QSDK_API IElementwiseNode : public INode {
 public:
  /// @brief The operation.
  virtual ElementwiseOp GetElementwiseOp() const = 0;
};

/// @brief Concatenation of inputs along one axis (all other extents equal).
class QSDK_API IConcatNode : public INode {
 public:
  /// @brief The axis (negative counts from the end).
  virtual int64_t GetAxis() const = 0;
};

/// @brief Inference batch normalization over channel axis 1:
///        y = scale * (x - mean) / sqrt(var + epsilon) + bias.
///        Inputs: 0 data [N,C,...], 1 mean [C], 2 variance [C], 3 scale [C], 4 bias [C].
class QSDK_API IBatchNormNode : public INode {
 public:
  /// @brief Epsilon (> 0; default 1e-5).
  virtual Status SetEpsilon(float epsilon) = 0;
  /// @brief Epsilon.
  virtual float GetEpsilon() const = 0;
};

/// @brief Softmax along one axis.
class QSDK_API ISoftmaxNode : public INode {
 public:
  /// @brief The axis (negative counts from the end).
  virtual int64_t GetAxis() const = 0;
};

/// @brief Reshape with ONNX semantics: 0 copies the input extent, one -1 is inferred.
class QSDK_API IReshapeNode : public INode {
 public:
  /// @brief The requested shape.
  virtual Dims GetShape() const = 0;
};

/// @brief Flatten to 2-D: [prod(dims[0:axis]), prod(dims[axis:])].
class QSDK_API IFlattenNode : public INode {
 public:
  /// @brief The axis (0 <= axis <= rank; negative counts from the end).
  virtual int64_t GetAxis() const = 0;
};

/// @brief Permutes dimensions: output dim i is input dim perm[i].
class QSDK_API ITransposeNode : public INode {
 public:
  /// @brief The permutation.
  virtual std::vector<int64_t> GetPermutation() const = 0;
};

/// @brief Explicit quantization (a network quantized elsewhere, e.g. by
///        quantization-aware training): `q = saturate(round_half_even(x / scale) +
///        zero_point)`, as ONNX QuantizeLinear. The output is INT8, UINT8 or INT16 and
///        carries exactly the given parameters; the builder never recalibrates them.
///
/// Per tensor: one scale and zero point, axis -1. Per axis: one of each per index of
/// `axis` of the input. A Quantize / Dequantize pair around Conv, FullyConnected,
/// MatMul, Elementwise add, Pool and Concat is folded by the builder into a quantized
/// kernel using these parameters; one it cannot fold runs as a kernel of its own
/// (docs/quantization.md, "Explicit quantization"; the build report says which).
class QSDK_API IQuantizeNode : public INode {
 public:
  /// @brief INT8, UINT8 or INT16.
  virtual DataType GetQuantizedType() const = 0;
  /// @brief One scale (per tensor) or one per index of GetAxis().
  virtual std::vector<float> GetScales() const = 0;
  /// @brief Zero points, as many as scales.
  virtual std::vector<int32_t> GetZeroPoints() const = 0;
  /// @brief The quantization axis, -1 for per tensor.
  virtual int64_t GetAxis() const = 0;
};

/// @brief Explicit dequantization: `x = scale * (q - zero_point)` (ONNX
///        DequantizeLinear), FLOAT32 output. Its parameters are those of its input
///        tensor: the output of an IQuantizeNode, or an integer constant (quantized
///        weights) to which AddIDequantizeNode gives them.
class QSDK_API IDequantizeNode : public INode {
 public:
  /// @brief One scale (per tensor) or one per index of GetAxis().
  virtual std::vector<float> GetScales() const = 0;
  /// @brief Zero points, as many as scales.
  virtual std::vector<int32_t> GetZeroPoints() const = 0;
  /// @brief The quantization axis, -1 for per tensor.
  virtual int64_t GetAxis() const = 0;
};

/// @brief A network under construction.
class QSDK_API INetwork {
 public:
  virtual ~INetwork() = default;

  /// @brief Adds a network input of @p type and @p dims (-1 for dynamic extents).
  virtual ITensor* AddInput(DataType type, const Dims& dims) = 0;
  /// @brief Adds a constant; @p data (dims.GetElementCount() elements of @p type) is
  ///        copied, so the caller may free it afterwards.
  virtual IConstNode* AddIConstNode(DataType type, const Dims& dims, const void* data) = 0;
  /// @brief Adds a convolution. @p bias may be nullptr. The group count starts as
  ///        C / filter extent 1 (1 for a plain convolution, C for a depthwise one with
  ///        filter [C, 1, KH, KW]); IConvNode::SetGroup changes it.
  virtual IConvNode* AddIConvNode(ITensor* input, ITensor* filter, ITensor* bias) = 0;
  /// @brief Adds a fully connected layer. @p bias may be nullptr.
  virtual IFullyConnectedNode* AddIFullyConnectedNode(ITensor* input, ITensor* weight,
                                                      ITensor* bias) = 0;
  /// @brief Adds a (batched) matrix product. @p bias may be nullptr.
  virtual IMatMulNode* AddIMatMulNode(ITensor* a, ITensor* b, ITensor* bias = nullptr) = 0;
  /// @brief Adds an activation.
  virtual IActivationNode* AddIActivationNode(ITensor* input, ActivationType type) = 0;
  /// @brief Adds a pooling node (set its window with IPoolNode::SetKernel).
  virtual IPoolNode* AddIPoolNode(ITensor* input, PoolMode mode) = 0;
  /// @brief Adds a binary element-wise node.
  virtual IElementwiseNode* AddIElementwiseNode(ITensor* a, ITensor* b, ElementwiseOp op) = 0;
  /// @brief Adds a concatenation of @p inputs (at least one) along @p axis.
  virtual IConcatNode* AddIConcatNode(const std::vector<ITensor*>& inputs, int64_t axis) = 0;
  /// @brief Adds a batch normalization.
  virtual IBatchNormNode* AddIBatchNormNode(ITensor* input, ITensor* mean, ITensor* variance,
                                            ITensor* scale, ITensor* bias) = 0;
  /// @brief Adds a softmax along @p axis.
  virtual ISoftmaxNode* AddISoftmaxNode(ITensor* input, int64_t axis) = 0;
  /// @brief Adds a reshape to @p shape (0 = copy extent, one -1 = inferred).
  virtual IReshapeNode* AddIReshapeNode(ITensor* input, const Dims& shape) = 0;
  /// @brief Adds a flatten at @p axis (default 1: [N, rest]).
  virtual IFlattenNode* AddIFlattenNode(ITensor* input, int64_t axis = 1) = 0;
  /// @brief Adds a transpose with permutation @p perm.
  virtual ITransposeNode* AddITransposeNode(ITensor* input,
                                            const std::vector<int64_t>& perm) = 0;

  /// @brief Adds an explicit quantization of FLOAT32 @p input to @p type (INT8, UINT8 or
  ///        INT16; QINT8 / QUINT8 / QINT16 are accepted as the same) with exactly
  ///        @p scales and @p zero_points: one each and @p axis = -1 for per tensor, or
  ///        one per index of @p axis (in [0, rank)).
  ///        Every scale must be finite and > 0 and every zero point within @p type's
  ///        range; otherwise nullptr and GetLastError() names the value and the rule.
  virtual IQuantizeNode* AddIQuantizeNode(ITensor* input, DataType type,
                                          const std::vector<float>& scales,
                                          const std::vector<int32_t>& zero_points,
                                          int64_t axis = -1) = 0;
  /// @brief Adds an explicit dequantization of the integer tensor @p input (the output
  ///        of an IQuantizeNode, or an INT8 / UINT8 / INT16 / INT32 constant) with
  ///        @p scales, @p zero_points and @p axis as in AddIQuantizeNode. A tensor has one
  ///        set of parameters: if @p input already has some they must be equal.
  virtual IDequantizeNode* AddIDequantizeNode(ITensor* input, const std::vector<float>& scales,
                                              const std::vector<int32_t>& zero_points,
                                              int64_t axis = -1) = 0;

  /// @brief Marks @p tensor as a network output (in call order).
  virtual Status MarkOutput(ITensor* tensor) = 0;

  /// @brief The node named @p name, or nullptr.
  virtual INode* FindNodeByName(const std::string& name) const = 0;
  /// @brief The tensor named @p name, or nullptr.
  virtual ITensor* FindTensorByName(const std::string& name) const = 0;
  /// @brief Number of nodes.
  virtual int64_t GetNodeCount() const = 0;
  /// @brief Node @p index in insertion order, or nullptr.
  virtual INode* GetNode(int64_t index) const = 0;
  /// @brief Network inputs in creation order.
  virtual std::vector<ITensor*> GetInputs() const = 0;
  /// @brief Network outputs in MarkOutput order.
  virtual std::vector<ITensor*> GetOutputs() const = 0;

  /// @brief Why the last failed Add* call returned nullptr (Ok when none failed).
  virtual Status GetLastError() const = 0;
};

/// @brief Creates an empty network.
QSDK_API std::unique_ptr<INetwork> CreateINetwork();

}  // namespace qsdk
