/// @file tensor.h
/// @brief Host tensors passed to and returned from IContext::Execute.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "qsdk/data_type.h"
#include "qsdk/dims.h"
#include "qsdk/export.h"

namespace qsdk {

/// @brief A dense, row-major (NCHW) host tensor: element type, shape, name and data.
///
/// A Tensor either owns its buffer (Allocate; 64-byte aligned, zero-filled) or views
/// memory owned by the caller (Wrap), who must keep it alive while the Tensor is used.
/// Copies share the buffer (like a std::shared_ptr). A default-constructed Tensor is
/// empty: INVALID type, no data.
///
/// Thread-safety: distinct Tensor objects may be used from different threads; concurrent
/// writes to one buffer must be synchronized by the caller.
class QSDK_API Tensor {
 public:
  /// @brief An empty tensor.
  Tensor() = default;

  /// @brief Allocates a zero-filled tensor. Returns an empty tensor when @p type is not a
  ///        valid type or @p dims is not fully defined (check with empty()).
  static Tensor Allocate(DataType type, const Dims& dims, const std::string& name = "");
  /// @brief Views @p data (not owned) as a tensor of @p type and @p dims.
  static Tensor Wrap(DataType type, const Dims& dims, void* data, const std::string& name = "");

  /// @brief True when the tensor has no data.
  bool empty() const { return data_ == nullptr; }
  /// @brief Element type.
  DataType GetDataType() const { return type_; }
  /// @brief Shape.
  const Dims& GetDimension() const { return dims_; }
  /// @brief Name (the network tensor it is matched to, or was produced as).
  const std::string& GetName() const { return name_; }
  /// @brief Renames the tensor (does not touch the data).
  void SetName(const std::string& name) { name_ = name; }
  /// @brief Number of elements (1 for a scalar; -1 if the shape is not fully defined).
  int64_t GetElementCount() const { return dims_.GetElementCount(); }
  /// @brief Size of the data in bytes.
  size_t GetSizeInBytes() const;
  /// @brief Pointer to the first element (nullptr when empty).
  void* GetData() { return data_; }
  /// @brief Pointer to the first element (nullptr when empty).
  const void* GetData() const { return data_; }
  /// @brief Typed pointer to the first element; the caller picks T to match the type.
  template <typename T>
  T* Data() { return static_cast<T*>(data_); }
  /// @brief Typed pointer to the first element; the caller picks T to match the type.
  template <typename T>
  const T* Data() const { return static_cast<const T*>(data_); }
  /// @brief True when this tensor owns its buffer (made by Allocate).
  bool OwnsData() const { return owner_ != nullptr; }

 private:
  DataType type_ = DataType::INVALID;
  Dims dims_;
  std::string name_;
  std::shared_ptr<void> owner_;
  void* data_ = nullptr;
};

}  // namespace qsdk
