// Fitting data arrays to a model input's shape.
//
// Two rules, used for different commands:
//  - exact (qsdk run): the array has the input's rank, the input's extent wherever it is
//    fixed, and any extent >= 1 where it is dynamic (-1);
//  - per sample (datasets: calibration data, qsdk eval): the array is [N, ...] whose
//    samples have as many elements as the input's samples; it is then viewed with the
//    input's extents, e.g. [N,28,28] or [N,784] for an input [-1,1,28,28]. The input's
//    extents after the first must be fixed (or, with equal ranks, come from the array).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qsdk/dims.h"
#include "qsdk/status.h"

namespace qsdk::tools {

// Exact rule. `what` names the data in the message ("'x.npy'"), `input` the input.
Status CheckExactShape(const std::vector<int64_t>& shape, const std::string& what,
                       const std::string& input, const Dims& dims);

// Per-sample rule: *batch_shape = the shape to give the model for `shape[0]` samples.
// A fixed first extent of the input must equal shape[0].
Status FitBatchShape(const std::vector<int64_t>& shape, const std::string& what,
                     const std::string& input, const Dims& dims, std::vector<int64_t>* batch_shape);

// Elements per sample of the input (product of its extents after the first), for the
// per-sample rule; fails when one of them is dynamic or the input has rank 0.
Status SampleElements(const std::string& input, const Dims& dims, int64_t* elements);

}  // namespace qsdk::tools
