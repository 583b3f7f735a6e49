/// @file dims.h
/// @brief Tensor shapes, with -1 for a dimension known only at run time.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "qsdk/export.h"

namespace qsdk {

/// @brief The shape of a tensor: a list of extents, outermost first (NCHW for images).
///
/// An extent of -1 marks a dynamic dimension (typically the batch) whose value is fixed
/// only when inputs are given to IContext::Execute. A Dims is a plain value type.
class QSDK_API Dims {
 public:
  /// @brief A scalar shape (rank 0).
  Dims() = default;
  /// @brief Shape with the given extents.
  Dims(std::initializer_list<int64_t> dims) : dims_(dims) {}
  /// @brief Shape with the given extents.
  explicit Dims(std::vector<int64_t> dims) : dims_(std::move(dims)) {}

  /// @brief Rank.
  int64_t GetDimsNum() const { return static_cast<int64_t>(dims_.size()); }
  /// @brief Extent of dimension @p index, or 0 when @p index is out of range.
  int64_t GetDimValue(int64_t index) const;
  /// @brief All extents.
  const std::vector<int64_t>& GetDims() const { return dims_; }
  /// @brief Product of the extents; -1 if any extent is dynamic or negative, or on
  ///        int64 overflow. A rank-0 shape has one element.
  int64_t GetElementCount() const;
  /// @brief True when no extent is -1 (or otherwise negative).
  bool IsFullyDefined() const;
  /// @brief "[1,3,-1,224]".
  std::string ToString() const;

  /// @brief Extent-wise equality.
  bool operator==(const Dims& other) const { return dims_ == other.dims_; }
  /// @brief Extent-wise inequality.
  bool operator!=(const Dims& other) const { return dims_ != other.dims_; }

 private:
  std::vector<int64_t> dims_;
};

}  // namespace qsdk
