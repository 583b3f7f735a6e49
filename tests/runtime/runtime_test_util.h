// Helpers for the runtime tests: hand-built Graph IR fixtures, random data, a runner that
// executes one heavy kernel outside any engine (as a context would: layouts, reorders,
// scratchpad), and value comparison.
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
#include "runtime/kernel.h"

namespace qsdk::runtime::testing {

// Adds a FLOAT32 graph input.
graph::TensorId AddInput(graph::Graph* g, const std::string& name, std::vector<int64_t> shape);

// Adds a FLOAT32 constant (with its Const node).
graph::TensorId AddConstant(graph::Graph* g, const std::string& name, std::vector<int64_t> shape,
                            const std::vector<float>& values);

// Adds a node reading `inputs` and producing a new tensor `output` (shape set later by
// graph::InferShapes).
graph::TensorId AddOp(graph::Graph* g, NodeType type, const std::string& name,
                      std::vector<graph::TensorId> inputs, graph::AttrMap attrs,
                      const std::string& output);

// Conv attributes as the network creates them, with the given geometry.
graph::AttrMap ConvAttrs(std::vector<int64_t> strides, std::vector<int64_t> pads,
                         std::vector<int64_t> dilations, int64_t group,
                         ActivationType fused = ActivationType::kNone);

// Sets attr::kFusedActivation and its parameters (Clip bounds, LeakyRelu slope).
void SetFused(graph::AttrMap* attrs, ActivationType type, double alpha = 0.0, double beta = 0.0);

// `count` uniform values in [lo, hi).
std::vector<float> RandomValues(std::mt19937* rng, int64_t count, float lo = -1.0f,
                                float hi = 1.0f);

// A FLOAT32 tensor of `shape` with uniform values in [-1, 1), named `name`.
Tensor RandomTensor(std::mt19937* rng, const std::vector<int64_t>& shape,
                    const std::string& name = "");

// oneDNN type of a graph type (FLOAT32 and anything else: f32) and back.
dnnl::memory::data_type DnnlType(DataType type);
DataType QsdkType(dnnl::memory::data_type type);

// Adds a graph input of a quantized type (INT8 / UINT8) with its parameters.
graph::TensorId AddQuantizedInput(graph::Graph* g, const std::string& name,
                                  std::vector<int64_t> shape, DataType dtype,
                                  graph::QuantParams quant);

// Adds a constant of type `dtype` (`size` bytes of dense row-major data) with `quant`.
graph::TensorId AddTypedConstant(graph::Graph* g, const std::string& name, DataType dtype,
                                 std::vector<int64_t> shape, const void* bytes, size_t size,
                                 graph::QuantParams quant);

// Makes tensor `t` (an op output, before shape inference) quantized.
void SetQuantizedOutput(graph::Graph* g, graph::TensorId t, DataType dtype,
                        graph::QuantParams quant);

// One scale and zero point, axis -1.
graph::QuantParams PerTensor(float scale, int32_t zero_point);

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
  Tensor output;                                    // plain row-major, of the output's type
  std::vector<dnnl::memory::desc> required_inputs;  // instance's input_descs()
  dnnl::memory::desc output_desc;
  std::string kernel_name;
  OutputAlias output_alias = OutputAlias::kNone;
};

// Runs node `id` of `graph` with the runtime kernel: the kernel is created from `graph`
// as given (its shapes may hold -1, as in an engine), then instantiated at the concrete
// shapes of `runtime_inputs` (one per runtime input of the node, in order, of the graph
// tensors' types; the graph's inputs must be exactly those tensors, in that order).
// `given_layouts` (empty = plain) is the layout each runtime input arrives in; data is
// reordered plain -> given -> required as a context would, and an output aliasing an
// input in place starts as a copy of it.
Status RunNode(const graph::Graph& graph, graph::NodeId id,
               const std::vector<Tensor>& runtime_inputs,
               const std::vector<dnnl::memory::format_tag>& given_layouts, NodeRun* run);

// Evaluates node `id` with reference::EvalNode at the concrete shapes of `runtime_inputs`
// (same convention as RunNode).
Status RunReferenceNode(const graph::Graph& graph, graph::NodeId id,
                        const std::vector<Tensor>& runtime_inputs, Tensor* output);

// Max |a - b| over two FLOAT32 tensors of equal shape; -1 when shapes differ.
double MaxAbsDiff(const Tensor& a, const Tensor& b);
// Max |x|.
double MaxAbs(const Tensor& t);
// True when the two tensors have the same shape and identical bytes.
bool BitIdentical(const Tensor& a, const Tensor& b);

}  // namespace qsdk::runtime::testing
