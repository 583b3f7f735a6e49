#include "reference/op_util.h"

#include <algorithm>

#include "qsdk/data_type.h"
#include "qsdk/dims.h"

namespace qsdk::reference::internal {

std::string ShapeString(const std::vector<int64_t>& shape) { return Dims(shape).ToString(); }

Status CheckFloatOperand(const char* op, const char* what, const Tensor& t) {
  if (t.GetDataType() != DataType::FLOAT32) {
    return InvalidArgument(op, ": ", what, " has type ", DataTypeName(t.GetDataType()),
                           "; the reference kernels support FLOAT32 only");
  }
  if (!t.GetDimension().IsFullyDefined()) {
    return InvalidArgument(op, ": ", what, " has shape ", t.GetDimension().ToString(),
                           "; every extent must be known (>= 0)");
  }
  if (t.GetElementCount() < 0) {
    return InvalidArgument(op, ": ", what, " has shape ", t.GetDimension().ToString(),
                           ", whose element count overflows int64");
  }
  // A tensor without elements needs no buffer (Tensor::Wrap of nullptr is fine then).
  if (t.empty() && t.GetElementCount() > 0) {
    return InvalidArgument(op, ": ", what, " has no data");
  }
  return Status::Ok();
}

Status CheckOutputPointer(const char* op, const Tensor* y) {
  if (y == nullptr) return InvalidArgument(op, ": the output pointer is null");
  return Status::Ok();
}

Status CheckBiasShape(const char* op, const char* what, const Tensor* bias, int64_t oc) {
  if (bias != nullptr && ShapeOf(*bias) != std::vector<int64_t>{oc}) {
    return InvalidArgument(op, ": ", what, " has shape ", ShapeString(ShapeOf(*bias)),
                           "; it must be [OC] = [", oc, "]");
  }
  return Status::Ok();
}

Status CheckResidualShape(const char* op, const Tensor* residual,
                          const std::vector<int64_t>& out_shape) {
  if (residual != nullptr && ShapeOf(*residual) != out_shape) {
    return InvalidArgument(op, ": residual has shape ", ShapeString(ShapeOf(*residual)),
                           "; it must be the output shape ", ShapeString(out_shape));
  }
  return Status::Ok();
}

Status AllocateOutput(const char* op, const std::vector<int64_t>& shape, Tensor* y) {
  Tensor t = Tensor::Allocate(DataType::FLOAT32, Dims(shape));
  if (t.empty()) {
    return Status(StatusCode::kResourceExhausted,
                  StrCat(op, ": cannot allocate the output of shape ", ShapeString(shape)));
  }
  *y = std::move(t);
  return Status::Ok();
}

int64_t Product(const std::vector<int64_t>& shape, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end && i < shape.size(); ++i) p *= shape[i];
  return p;
}

std::vector<int64_t> RowMajorStrides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

Status BroadcastShapes(const char* op, const std::vector<int64_t>& a, const std::vector<int64_t>& b,
                       std::vector<int64_t>* out) {
  const size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> result(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Dimension i of the result, counted from the right, against the operands.
    const size_t from_right = rank - 1 - i;
    const int64_t da = from_right < a.size() ? a[a.size() - 1 - from_right] : 1;
    const int64_t db = from_right < b.size() ? b[b.size() - 1 - from_right] : 1;
    if (da == db || db == 1) {
      result[i] = da;
    } else if (da == 1) {
      result[i] = db;
    } else {
      return InvalidArgument(op, ": shapes ", ShapeString(a), " and ", ShapeString(b),
                             " do not broadcast: extents ", da, " and ", db, " (dimension ", i,
                             " of the result) must be equal or one of "
                             "them 1");
    }
  }
  *out = std::move(result);
  return Status::Ok();
}

std::vector<int64_t> BroadcastStrides(const std::vector<int64_t>& shape, size_t out_rank) {
  const std::vector<int64_t> own = RowMajorStrides(shape);
  std::vector<int64_t> strides(out_rank, 0);
  const size_t lead = out_rank - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) {
    strides[lead + i] = shape[i] == 1 ? 0 : own[i];
  }
  return strides;
}

void NextIndex(const std::vector<int64_t>& shape, std::vector<int64_t>* index) {
  for (size_t i = shape.size(); i-- > 0;) {
    if (++(*index)[i] < shape[i]) return;
    (*index)[i] = 0;
  }
}

int64_t OffsetOf(const std::vector<int64_t>& index, const std::vector<int64_t>& strides) {
  int64_t offset = 0;
  for (size_t i = 0; i < index.size(); ++i) offset += index[i] * strides[i];
  return offset;
}

}  // namespace qsdk::reference::internal
