// Concatenation along one axis (docs/ops.md, Concat).
#include <algorithm>

#include "reference/geometry.h"
#include "reference/op_util.h"
#include "reference/ops.h"

namespace qsdk::reference {

namespace internal {

Status ResolveConcatShape(const char* op, const std::vector<const std::vector<int64_t>*>& shapes,
                          int64_t axis, std::vector<int64_t>* out_shape) {
  const std::vector<int64_t>& first = *shapes[0];
  const auto rank = static_cast<int64_t>(first.size());
  if (axis < 0 || axis >= rank) {
    return InvalidArgument(op, ": axis = ", axis, " for inputs of rank ", rank,
                           "; it must be in [0, ", rank, ")");
  }
  *out_shape = first;
  (*out_shape)[axis] = 0;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const std::vector<int64_t>& s = *shapes[i];
    bool compatible = static_cast<int64_t>(s.size()) == rank;
    for (int64_t d = 0; compatible && d < rank; ++d) {
      if (d != axis && s[d] != first[d]) compatible = false;
    }
    if (!compatible) {
      return InvalidArgument(op, ": input ", i, " has shape ", ShapeString(s), ", input 0 has ",
                             ShapeString(first),
                             "; all inputs need the same rank and the same extents except on "
                             "axis ",
                             axis);
    }
    (*out_shape)[axis] += s[axis];
  }
  return Status::Ok();
}

}  // namespace internal

Status Concat(const std::vector<const Tensor*>& inputs, int64_t axis, Tensor* y) {
  constexpr const char* kOp = "Concat";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    using internal::ShapeString;
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    if (inputs.empty()) return InvalidArgument(kOp, ": needs at least one input");
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (inputs[i] == nullptr) return InvalidArgument(kOp, ": input ", i, " is missing (null)");
      const std::string what = StrCat("input ", i);
      QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, what.c_str(), *inputs[i]));
    }
    std::vector<const std::vector<int64_t>*> shapes;
    for (const Tensor* in : inputs) shapes.push_back(&internal::ShapeOf(*in));
    std::vector<int64_t> out_shape;
    QSDK_RETURN_IF_ERROR(internal::ResolveConcatShape(kOp, shapes, axis, &out_shape));
    const std::vector<int64_t>& first = *shapes[0];
    Tensor out;
    QSDK_RETURN_IF_ERROR(internal::AllocateOutput(kOp, out_shape, &out));

    // Row-major: for each index of the dims before `axis`, each input contributes one
    // contiguous chunk of extent(axis) * (product of the dims after axis) elements.
    const int64_t outer = internal::Product(first, 0, static_cast<size_t>(axis));
    const int64_t inner = internal::Product(first, static_cast<size_t>(axis) + 1, first.size());
    float* dst = out.Data<float>();
    for (int64_t o = 0; o < outer; ++o) {
      for (const Tensor* t : inputs) {
        const int64_t chunk = internal::ShapeOf(*t)[axis] * inner;
        const float* src = t->Data<float>() + o * chunk;
        dst = std::copy(src, src + chunk, dst);
      }
    }
    *y = std::move(out);
    return Status::Ok();
  });
}

}  // namespace qsdk::reference
