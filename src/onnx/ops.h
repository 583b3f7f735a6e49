// The op table of the importer: one handler per supported ONNX op (default domain), in
// one file per group of ops:
//   ops_conv_pool.cc    Conv, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool
//   ops_linear.cc       Gemm, MatMul
//   ops_activation.cc   Relu, Clip, Sigmoid, Tanh, LeakyRelu, HardSwish
//   ops_elementwise.cc  Add, Sub, Mul
//   ops_tensor.cc       Concat, Flatten, Reshape, Transpose, Softmax, BatchNormalization
//   ops_misc.cc         Constant, ConstantOfShape, Identity, Dropout, Cast
//   ops_quantize.cc     QuantizeLinear, DequantizeLinear
// A handler reads the node's inputs and attributes through the ImportContext, adds the
// network nodes and defines every output; every failure names the node.
#pragma once

#include <string>
#include <vector>

#include "onnx/importer.h"

namespace qsdk::onnx {

using OpImporter = Status (*)(ImportContext& ctx, const OnnxNode& node);

// The handler of `op_type` in the default domain, or nullptr when it is not supported.
OpImporter FindOpImporter(const std::string& op_type);

// Every supported op type, sorted.
std::vector<std::string> SupportedOps();

// Handlers.
Status ImportConv(ImportContext& ctx, const OnnxNode& node);
Status ImportMaxPool(ImportContext& ctx, const OnnxNode& node);
Status ImportAveragePool(ImportContext& ctx, const OnnxNode& node);
Status ImportGlobalAveragePool(ImportContext& ctx, const OnnxNode& node);
Status ImportGlobalMaxPool(ImportContext& ctx, const OnnxNode& node);
Status ImportGemm(ImportContext& ctx, const OnnxNode& node);
Status ImportMatMul(ImportContext& ctx, const OnnxNode& node);
Status ImportRelu(ImportContext& ctx, const OnnxNode& node);
Status ImportClip(ImportContext& ctx, const OnnxNode& node);
Status ImportSigmoid(ImportContext& ctx, const OnnxNode& node);
Status ImportTanh(ImportContext& ctx, const OnnxNode& node);
Status ImportLeakyRelu(ImportContext& ctx, const OnnxNode& node);
Status ImportHardSwish(ImportContext& ctx, const OnnxNode& node);
Status ImportAdd(ImportContext& ctx, const OnnxNode& node);
Status ImportSub(ImportContext& ctx, const OnnxNode& node);
Status ImportMul(ImportContext& ctx, const OnnxNode& node);
Status ImportConcat(ImportContext& ctx, const OnnxNode& node);
Status ImportFlatten(ImportContext& ctx, const OnnxNode& node);
Status ImportReshape(ImportContext& ctx, const OnnxNode& node);
Status ImportTranspose(ImportContext& ctx, const OnnxNode& node);
Status ImportSoftmax(ImportContext& ctx, const OnnxNode& node);
Status ImportBatchNormalization(ImportContext& ctx, const OnnxNode& node);
Status ImportConstant(ImportContext& ctx, const OnnxNode& node);
Status ImportIdentity(ImportContext& ctx, const OnnxNode& node);
Status ImportDropout(ImportContext& ctx, const OnnxNode& node);
Status ImportCast(ImportContext& ctx, const OnnxNode& node);
Status ImportConstantOfShape(ImportContext& ctx, const OnnxNode& node);
Status ImportQuantizeLinear(ImportContext& ctx, const OnnxNode& node);
Status ImportDequantizeLinear(ImportContext& ctx, const OnnxNode& node);

// Adds the activation of a pattern match (patterns.h) reading `match.input` and
// defining `match.output`; `node` is the match's anchor node.
Status ImportPatternActivation(ImportContext& ctx, const OnnxNode& node, const PatternMatch& match);

// --- Helpers shared by the handlers. -------------------------------------------------------

// Normalizes `axis` for `rank` (negative counts from the end) into [0, rank) or, with
// `inclusive`, [0, rank]; fails naming the node and the attribute.
Status NormalizeAxis(const OnnxNode& node, const char* attribute, int64_t axis, int64_t rank,
                     bool inclusive, int64_t* normalized);

}  // namespace qsdk::onnx
