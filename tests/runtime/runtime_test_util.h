// Helpers for the runtime tests (tests/runtime and tests/runtime_ops): the graph builders
// and random data of graph/graph_test_util.h, quantized test data, a runner that executes
// one node's kernel outside any engine (as a context would: layouts, reorders,
// scratchpad), the reference evaluation of the same node, and value comparison.
#pragma once

#include <cstdint>
#include <oneapi/dnnl/dnnl.hpp>
#include <random>
#include <string>
#include <vector>

#include "graph/attributes.h"
#include "graph/graph.h"
#include "graph/graph_test_util.h"
#include "qsdk/status.h"
#include "qsdk/tensor.h"
#include "runtime/kernel.h"

namespace qsdk::runtime::testing {

// The graph builders and random data the runtime tests use (graph/graph_test_util.h); ops
// are chained by their output tensors.
using namespace ::qsdk::graph::testing;  // NOLINT(build/namespaces)
using graph::testing::dataflow::AddOp;

// Sets attr::kFusedActivation and its parameters (Clip bounds, LeakyRelu slope).
void SetFused(graph::AttrMap* attrs, ActivationType type, double alpha = 0.0, double beta = 0.0);

// oneDNN type of a tensor type (FLOAT32, BFLOAT16, FLOAT16, INT8, UINT8, INT32; anything
// else: f32) and back.
dnnl::memory::data_type DnnlType(DataType type);
DataType QsdkType(dnnl::memory::data_type type);

// An INT8 / UINT8 tensor with values uniform in [lo, hi].
Tensor RandomQuantized(std::mt19937* rng, const std::vector<int64_t>& shape, DataType dtype,
                       int32_t lo, int32_t hi, const std::string& name = "");

// Element i of an INT8 / UINT8 tensor.
int32_t QuantizedAt(const Tensor& t, int64_t i);

// How two INT8 / UINT8 tensors differ, in LSB (integer steps).
struct QuantizedDiff {
  bool comparable = true;  // same shape and type
  int64_t count = 0;       // elements
  int64_t differing = 0;   // elements that differ at all
  int32_t max = 0;         // largest |a - b|
};
QuantizedDiff CompareQuantized(const Tensor& a, const Tensor& b);

// What RunNode observed.
struct NodeRun {
  Tensor output;  // plain row-major, of the output desc's element type
  std::vector<dnnl::memory::desc> given_inputs;     // the layouts the inputs arrived in
  std::vector<dnnl::memory::desc> required_inputs;  // instance's input_descs()
  dnnl::memory::desc output_desc;
  std::string kernel_name;
  OutputAlias output_alias = OutputAlias::kNone;
};

// Runs node `id` of `graph` with the kernel runtime::CreateKernel makes: the kernel is
// created from `graph` as given (its shapes may hold -1, as in an engine), then
// instantiated at the concrete shapes of `runtime_inputs` (the node's runtime inputs, in
// order, each of its graph tensor's type; those tensors must be graph inputs, as shapes
// are re-inferred from them). `given_layouts` (empty or undef = plain) is the layout each
// runtime input arrives in; data is copied plain -> given -> required as a context would
// (byte copies where the descs are equal, so no bit is altered), the output is poisoned
// (all-ones bytes: NaN in f32, bf16 and f16) so that an unwritten element fails a
// comparison, and an output aliasing an input in place starts as a copy of it.
Status RunNode(const graph::Graph& graph, graph::NodeId id,
               const std::vector<Tensor>& runtime_inputs,
               const std::vector<dnnl::memory::format_tag>& given_layouts, NodeRun* run);

// reference::EvalNode on node `id` of `graph` as it is (typed as given; its shapes already
// concrete), `runtime_inputs` being the node's runtime inputs in order.
Status EvalReferenceNode(const graph::Graph& graph, graph::NodeId id,
                         const std::vector<Tensor>& runtime_inputs, Tensor* output);

// EvalReferenceNode at the concrete shapes of `runtime_inputs` (same convention as RunNode).
Status RunReferenceNode(const graph::Graph& graph, graph::NodeId id,
                        const std::vector<Tensor>& runtime_inputs, Tensor* output);

// RunNode and RunReferenceNode on the same node and inputs. False, after a (non-fatal)
// gtest failure starting with `label`, when either fails.
bool RunNodeAndReference(const graph::Graph& graph, graph::NodeId id,
                         const std::vector<Tensor>& runtime_inputs,
                         const std::vector<dnnl::memory::format_tag>& given_layouts,
                         const std::string& label, NodeRun* run, Tensor* expected);

// Max |a - b| over two FLOAT32 tensors of equal shape; -1 when shapes differ.
double MaxAbsDiff(const Tensor& a, const Tensor& b);
// Max |x|.
double MaxAbs(const Tensor& t);
// True when the two tensors have the same shape and identical bytes.
bool BitIdentical(const Tensor& a, const Tensor& b);

}  // namespace qsdk::runtime::testing
