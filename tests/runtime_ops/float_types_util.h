// Helpers for the tests of the runtime's BF16 kernels, the Cast kernel and FLOAT16
// constants: float-type conversions done independently of the code under test (Eigen's
// round-to-nearest-even bfloat16 / half), typed constants, and the contract's reference
// semantics for a node computing in BF16 (docs/ops.md): every BFLOAT16 / FLOAT16 value
// widened exactly to float, the FP32 reference operator (reference::EvalNode on an FP32
// twin of the graph), the result rounded to the output type by the test. Graphs are built
// and nodes run (through runtime::CreateKernel, so FLOAT16 constants are widened as in an
// engine, at the layouts the test chooses) with the runtime tests' helpers
// (runtime/runtime_test_util.h).
#pragma once

#include <cstdint>
#include <oneapi/dnnl/dnnl.hpp>
#include <random>
#include <string>
#include <vector>

#include "graph/attributes.h"
#include "graph/graph.h"
#include "qsdk/status.h"
#include "qsdk/tensor.h"
#include "reference/reference_test_util.h"
#include "runtime/kernel.h"
#include "runtime/runtime_test_util.h"

namespace qsdk::runtime::float_testing {

// The helpers these tests share with the other runtime and reference tests.
using reference::testing::BitsToFloat;
using reference::testing::FloatBits;
using testing::AddInput;
using testing::AddOp;
using testing::ConvAttrs;
using testing::EvalReferenceNode;
using testing::NodeRun;
using testing::RunNode;

using dnnl::memory;
using tag = memory::format_tag;

constexpr DataType kF32 = DataType::FLOAT32;
constexpr DataType kF16 = DataType::FLOAT16;
constexpr DataType kBF16 = DataType::BFLOAT16;

// --- Conversions (Eigen, round to nearest even; independent of oneDNN). ------------------
uint16_t FloatToBf16Bits(float value);
float Bf16BitsToFloat(uint16_t bits);
uint16_t FloatToHalfBits(float value);
float HalfBitsToFloatEigen(uint16_t bits);
// `value` rounded to the precision of `type` (FLOAT32: unchanged) and widened back.
float RoundTo(DataType type, float value);
// One unit in the last place of a bfloat16 of magnitude |value| (8 significant bits).
double Bf16Ulp(double value);

// `count` values uniform in [lo, hi), each already representable in `type`.
std::vector<float> RandomValuesOf(DataType type, std::mt19937* rng, int64_t count, float lo = -1.0f,
                                  float hi = 1.0f);

// A tensor of `type` (FLOAT32 / BFLOAT16 / FLOAT16) holding `values` rounded to it.
Tensor MakeTensor(DataType type, const std::vector<int64_t>& shape,
                  const std::vector<float>& values, const std::string& name = "");
// The values of a FLOAT32 / BFLOAT16 / FLOAT16 tensor, widened to float.
std::vector<float> ToFloats(const Tensor& tensor);

// --- Graph building. ----------------------------------------------------------------------
// A constant of `type` holding `values` rounded to it (with its Const node).
graph::TensorId AddConst(graph::Graph* g, const std::string& name, DataType type,
                         std::vector<int64_t> shape, const std::vector<float>& values);

// --- Running. -----------------------------------------------------------------------------
// True when oneDNN runs bf16 kernels here: it has them from AVX-512 (avx512_core) up, and
// none below (e.g. with DNNL_MAX_CPU_ISA=AVX2), where a bf16 node's kernel fails to build
// with a status naming the node and BF16 compute is not offered.
bool Bf16ComputeAvailable();

// --- Reference. ---------------------------------------------------------------------------
// The reference value of node `id` before rounding to the output type: reference::EvalNode
// on a copy of `graph` in which every float tensor is FLOAT32 (constants widened exactly),
// with `runtime_inputs` widened.
Status ReferenceBeforeRounding(const graph::Graph& graph, graph::NodeId id,
                               const std::vector<Tensor>& runtime_inputs,
                               std::vector<float>* expected);

// Compares a kernel's output (`got`, widened) with the unrounded reference `expected` for
// an output of `type`: |got - expected| <= atol, plus, for BFLOAT16, half a bfloat16 ulp
// of max(|got|, |expected|) (the kernel's one rounding of its f32 result). "" when within,
// else a description of the worst element.
std::string CompareRounded(const std::vector<float>& got, const std::vector<float>& expected,
                           DataType type, double atol);

// Max |v|.
double MaxAbs(const std::vector<float>& values);

}  // namespace qsdk::runtime::float_testing
