// The Cast operator (float_types.h): float tensor to float tensor of another width.
#include <cstring>
#include <utility>

#include "reference/float_types.h"
#include "reference/op_util.h"

namespace qsdk::reference {

namespace {

// Reads element i of a float tensor of type `type` as FLOAT32 (exact).
float Load(const void* data, DataType type, size_t i) {
  switch (type) {
    case DataType::FLOAT16:
      return HalfBitsToFloat(static_cast<const uint16_t*>(data)[i]);
    case DataType::BFLOAT16:
      return Bfloat16BitsToFloat(static_cast<const uint16_t*>(data)[i]);
    default:
      return static_cast<const float*>(data)[i];
  }
}

// Writes `value` rounded to `type` as element i.
void Store(void* data, DataType type, size_t i, float value) {
  switch (type) {
    case DataType::FLOAT16:
      static_cast<uint16_t*>(data)[i] = FloatToHalfBits(value);
      break;
    case DataType::BFLOAT16:
      static_cast<uint16_t*>(data)[i] = FloatToBfloat16Bits(value);
      break;
    default:
      static_cast<float*>(data)[i] = value;
      break;
  }
}

}  // namespace

Status Cast(const Tensor& x, DataType to, Tensor* y) {
  constexpr const char* kOp = "Cast";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    const DataType from = x.GetDataType();
    if (!IsFloatType(from)) {
      return InvalidArgument(kOp, ": input x has type ", DataTypeName(from),
                             "; it must be FLOAT32, FLOAT16 or BFLOAT16");
    }
    if (!IsFloatType(to)) {
      return InvalidArgument(kOp, ": the output type is ", DataTypeName(to),
                             "; it must be FLOAT32, FLOAT16 or BFLOAT16");
    }
    if (!x.GetDimension().IsFullyDefined() || x.GetElementCount() < 0) {
      return InvalidArgument(kOp, ": input x has shape ", x.GetDimension().ToString(),
                             "; every extent must be known (>= 0)");
    }
    const auto count = static_cast<size_t>(x.GetElementCount());
    if (x.empty() && count > 0) return InvalidArgument(kOp, ": input x has no data");
    Tensor out = Tensor::Allocate(to, x.GetDimension(), x.GetName());
    if (out.empty()) {
      return Status(StatusCode::kResourceExhausted,
                    StrCat(kOp, ": cannot allocate the output of shape ",
                           x.GetDimension().ToString()));
    }
    if (from == to) {
      if (count > 0) std::memcpy(out.GetData(), x.GetData(), x.GetSizeInBytes());
    } else {
      // Through FLOAT32: widening is exact, so this is the single rounding to `to`.
      for (size_t i = 0; i < count; ++i) Store(out.GetData(), to, i, Load(x.GetData(), from, i));
    }
    *y = std::move(out);
    return Status::Ok();
  });
}

}  // namespace qsdk::reference
