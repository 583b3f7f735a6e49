// Node attributes: a small typed key/value map, stored generically so that the engine
// file, the passes and the build report handle every op the same way. The keys each
// op uses are the constants below (documented per op in docs/ops.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace qsdk::graph {

using AttrValue =
    std::variant<int64_t, double, std::string, std::vector<int64_t>, std::vector<double>>;

class AttrMap {
 public:
  void SetInt(const std::string& key, int64_t v) { values_[key] = v; }
  void SetFloat(const std::string& key, double v) { values_[key] = v; }
  void SetString(const std::string& key, std::string v) { values_[key] = std::move(v); }
  void SetInts(const std::string& key, std::vector<int64_t> v) { values_[key] = std::move(v); }
  void SetFloats(const std::string& key, std::vector<double> v) { values_[key] = std::move(v); }
  void Set(const std::string& key, AttrValue v) { values_[key] = std::move(v); }
  void Erase(const std::string& key) { values_.erase(key); }

  bool Has(const std::string& key) const { return values_.count(key) != 0; }
  // Typed getters return `fallback` when the key is absent or holds another type.
  int64_t GetInt(const std::string& key, int64_t fallback = 0) const;
  double GetFloat(const std::string& key, double fallback = 0.0) const;
  std::string GetString(const std::string& key, const std::string& fallback = "") const;
  std::vector<int64_t> GetInts(const std::string& key,
                               const std::vector<int64_t>& fallback = {}) const;
  std::vector<double> GetFloats(const std::string& key,
                                const std::vector<double>& fallback = {}) const;

  const std::map<std::string, AttrValue>& values() const { return values_; }
  bool operator==(const AttrMap& other) const { return values_ == other.values_; }

 private:
  std::map<std::string, AttrValue> values_;
};

// Attribute keys. Geometry attributes are always fully present after the network or the
// importer created the node (no op relies on a default at run time).
namespace attr {
// Conv, Pool: {h, w}.
inline constexpr const char* kStrides = "strides";
// Conv, Pool: {top, bottom, left, right}.
inline constexpr const char* kPads = "pads";
// Conv: {h, w}.
inline constexpr const char* kDilations = "dilations";
// Conv: number of groups.
inline constexpr const char* kGroup = "group";
// Pool: {h, w}.
inline constexpr const char* kKernel = "kernel";
// Pool: PoolMode value.
inline constexpr const char* kPoolMode = "pool_mode";
// Pool: 0/1.
inline constexpr const char* kCountIncludePad = "count_include_pad";
// Pool: 0/1.
inline constexpr const char* kCeilMode = "ceil_mode";
// Activation: ActivationType value; alpha / beta parameters.
inline constexpr const char* kActivation = "activation";
inline constexpr const char* kAlpha = "alpha";
inline constexpr const char* kBeta = "beta";
// Conv, FullyConnected, MatMul: an activation fused after the op (ActivationType value,
// kNone when absent) and its parameters.
inline constexpr const char* kFusedActivation = "fused_activation";
inline constexpr const char* kFusedAlpha = "fused_alpha";
inline constexpr const char* kFusedBeta = "fused_beta";
// Conv, FullyConnected: 1 when a residual add is fused (the residual-fusion pass): input 3
// is the residual tensor R, added to the result before the fused activation,
// y = act(op(x) + R). Absent or 0: no residual (and no input 3).
inline constexpr const char* kFusedSum = "fused_sum";
// Elementwise: ElementwiseOp value.
inline constexpr const char* kElementwiseOp = "elementwise_op";
// Concat, Softmax, Flatten: axis (normalized to >= 0 by the network).
inline constexpr const char* kAxis = "axis";
// BatchNorm.
inline constexpr const char* kEpsilon = "epsilon";
// Reshape: requested shape (0 = copy, -1 = infer).
inline constexpr const char* kShape = "shape";
// Transpose.
inline constexpr const char* kPerm = "perm";
// FullyConnected, MatMul: 1 when the node is dynamically quantized: FLOAT32 input x,
// constant INT8 weights (symmetric, per tensor or per output channel), FLOAT32 bias and
// output; x's scale and zero point are computed from each batch at run time
// (docs/quantization.md, "Dynamic quantization"). Absent or 0: static.
inline constexpr const char* kDynamicQuantization = "dynamic_quantization";
// MatMul: 0/1.
inline constexpr const char* kTransposeA = "transpose_a";
inline constexpr const char* kTransposeB = "transpose_b";
}  // namespace attr

}  // namespace qsdk::graph
