// The op table (op type -> handler) and the helpers the handlers share.
#include <map>

#include "common/status_macros.h"
#include "onnx/ops.h"

namespace qsdk::onnx {

namespace {

const std::map<std::string, OpImporter>& Table() {
  static const std::map<std::string, OpImporter> table = {
      {"Add", ImportAdd},
      {"AveragePool", ImportAveragePool},
      {"BatchNormalization", ImportBatchNormalization},
      {"Cast", ImportCast},
      {"Clip", ImportClip},
      {"Concat", ImportConcat},
      {"Constant", ImportConstant},
      {"ConstantOfShape", ImportConstantOfShape},
      {"Conv", ImportConv},
      {"DequantizeLinear", ImportDequantizeLinear},
      {"Dropout", ImportDropout},
      {"Flatten", ImportFlatten},
      {"Gemm", ImportGemm},
      {"GlobalAveragePool", ImportGlobalAveragePool},
      {"GlobalMaxPool", ImportGlobalMaxPool},
      {"HardSwish", ImportHardSwish},
      {"Identity", ImportIdentity},
      {"LeakyRelu", ImportLeakyRelu},
      {"MatMul", ImportMatMul},
      {"MaxPool", ImportMaxPool},
      {"Mul", ImportMul},
      {"QuantizeLinear", ImportQuantizeLinear},
      {"Relu", ImportRelu},
      {"Reshape", ImportReshape},
      {"Sigmoid", ImportSigmoid},
      {"Softmax", ImportSoftmax},
      {"Sub", ImportSub},
      {"Tanh", ImportTanh},
      {"Transpose", ImportTranspose},
  };
  return table;
}

}  // namespace

OpImporter FindOpImporter(const std::string& op_type) {
  auto it = Table().find(op_type);
  return it == Table().end() ? nullptr : it->second;
}

std::vector<std::string> SupportedOps() {
  std::vector<std::string> ops;
  for (const auto& [op, importer] : Table()) ops.push_back(op);
  return ops;
}

Status NormalizeAxis(const OnnxNode& node, const char* attribute, int64_t axis, int64_t rank,
                     bool inclusive, int64_t* normalized) {
  // Valid: [-rank, rank - 1], or [-rank, rank] when `inclusive` (Flatten).
  const int64_t limit = inclusive ? rank + 1 : rank;
  const int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= limit) {
    return InvalidArgument(node.describe, ": ", attribute, " = ", axis, " is out of range [", -rank,
                           ", ", limit - 1, "] for an input of rank ", rank);
  }
  *normalized = a;
  return Status::Ok();
}

}  // namespace qsdk::onnx
