// Helpers for the INT16 and dynamic-quantization runtime tests: one-node graphs with typed
// (INT16 / INT8 / FLOAT32) tensors, a runner that creates the node's kernel through the
// runtime's dispatcher (runtime::CreateKernel), instantiates it at the given concrete input
// shapes with plain layouts (INT16 as Int16PlainDesc), executes it once with a poisoned
// output and returns the output as a qsdk::Tensor of the output's type.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <random>
#include <string>
#include <vector>

#include "common/status_macros.h"
#include "graph/graph.h"
#include "graph/graph_test_util.h"
#include "graph/shape_inference.h"
#include "qsdk/tensor.h"
#include "reference/quantized_test_util.h"
#include "runtime/kernel.h"
#include "runtime/kernels/int16_gemm.h"

namespace qsdk::runtime::testing {

// The test data helpers these tests share with the reference and other runtime tests.
// Ops are chained by their output tensors.
using namespace ::qsdk::graph::testing;  // NOLINT(build/namespaces)
using graph::testing::dataflow::AddOp;
using reference::testing::MakeTyped;

// A tensor of `dtype` and `shape` holding uniform random integers in [lo, hi].
inline Tensor RandomIntTensor(std::mt19937* rng, DataType dtype, const std::vector<int64_t>& shape,
                              int32_t lo, int32_t hi) {
  return MakeTyped(dtype, shape, RandomInts(rng, graph::ElementCount(shape), lo, hi));
}

// A FLOAT32 tensor of `shape` holding uniform random values in [lo, hi).
inline Tensor RandomFloatTensor(std::mt19937* rng, const std::vector<int64_t>& shape, float lo,
                                float hi) {
  return MakeTyped(DataType::FLOAT32, shape, RandomValues(rng, graph::ElementCount(shape), lo, hi));
}

// Per-column parameters of a MatMul's b operand of `b_shape` (transposed when `tb`): column
// j gets the scale step * (1 + j % period), zero point 0.
inline graph::QuantParams PerColumn(const std::vector<int64_t>& b_shape, bool tb, float step,
                                    int64_t period) {
  const size_t rank = b_shape.size();
  const int64_t columns = tb ? b_shape[rank - 2] : b_shape[rank - 1];
  std::vector<float> scales;
  for (int64_t j = 0; j < columns; ++j) scales.push_back(step * static_cast<float>(1 + j % period));
  return PerAxis(std::move(scales), static_cast<int32_t>(rank) - (tb ? 2 : 1));
}

// One input of a test node.
struct NodeInput {
  Tensor value;              // the data (for a runtime input: the concrete data)
  graph::QuantParams quant;  // empty for FLOAT32
  bool constant = false;
  bool absent = false;  // an absent optional input (kNoTensor)
};

inline NodeInput Runtime(Tensor t, graph::QuantParams q = {}) {
  NodeInput in;
  in.value = std::move(t);
  in.quant = std::move(q);
  return in;
}
inline NodeInput Constant(Tensor t, graph::QuantParams q = {}) {
  NodeInput in = Runtime(std::move(t), std::move(q));
  in.constant = true;
  return in;
}
inline NodeInput Absent() {
  NodeInput in;
  in.absent = true;
  return in;
}

// A one-node graph: runtime inputs become graph inputs of their tensor's type and
// parameters, constants Const tensors; the output gets `out_type` / `out_quant`.
inline Status BuildNode(NodeType type, const graph::AttrMap& attrs,
                        const std::vector<NodeInput>& inputs, DataType out_type,
                        const graph::QuantParams& out_quant, graph::Graph* g, graph::NodeId* id) {
  *g = graph::Graph();
  std::vector<graph::TensorId> node_inputs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const NodeInput& in = inputs[i];
    const std::string name = "in" + std::to_string(i);
    node_inputs.push_back(
        in.absent     ? graph::kNoTensor
        : in.constant ? AddTypedConstant(g, name, in.value, in.quant)
                      : AddQuantizedInput(g, name, in.value.GetDimension().GetDims(),
                                          in.value.GetDataType(), in.quant));
  }
  const graph::TensorId out = AddOp(g, type, "op", std::move(node_inputs), attrs, "out", out_type);
  g->tensors[out].quant = out_quant;
  g->outputs.push_back(out);
  *id = g->tensors[out].producer;
  return graph::InferShapes(g);
}

inline dnnl::memory::desc DescFor(const Tensor& t) {
  const std::vector<int64_t>& shape = t.GetDimension().GetDims();
  switch (t.GetDataType()) {
    case DataType::INT16:
      return Int16PlainDesc(shape);
    case DataType::INT8:
      return PlainDesc(shape, dnnl::memory::data_type::s8);
    case DataType::UINT8:
      return PlainDesc(shape, dnnl::memory::data_type::u8);
    default:
      return PlainDesc(shape);
  }
}

struct RuntimeRun {
  Tensor output;
  std::string kernel_name;
  dnnl::memory::desc output_desc;
  std::vector<dnnl::memory::desc> required_inputs;
  double seconds_per_run = 0.0;  // mean time of Execute over the timed repetitions
};

// Runs node `id` of `g` with the runtime kernel on `runtime_inputs` (the node's
// non-constant inputs, in order). With `timed_runs` > 0, Execute then runs that many more
// times and their mean duration is reported.
inline Status RunRuntimeNode(const graph::Graph& g, graph::NodeId id,
                             const std::vector<Tensor>& runtime_inputs, RuntimeRun* run,
                             int timed_runs = 0) {
  try {
    dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    std::unique_ptr<Kernel> kernel;
    QSDK_RETURN_IF_ERROR(CreateKernel(g, id, engine, &kernel));
    run->kernel_name = kernel->name();
    const graph::Tensor& out = g.tensors[static_cast<size_t>(g.nodes[id].outputs[0])];
    InstantiateArgs args;
    args.engine = &engine;
    for (const Tensor& t : runtime_inputs) args.input_descs.push_back(DescFor(t));
    // Output shape: the graph's (the tests use concrete shapes).
    args.output_shapes.push_back(out.shape);
    std::unique_ptr<KernelInstance> instance;
    QSDK_RETURN_IF_ERROR(kernel->Instantiate(args, &instance));
    run->required_inputs = instance->input_descs();
    if (instance->input_descs().size() != runtime_inputs.size() ||
        instance->output_descs().size() != 1) {
      return InternalError("test runner: the instance has ", instance->input_descs().size(),
                           " inputs and ", instance->output_descs().size(), " outputs");
    }
    std::vector<dnnl::memory> inputs;
    for (size_t i = 0; i < runtime_inputs.size(); ++i) {
      if (instance->input_descs()[i] != args.input_descs[i]) {
        return InternalError("test runner: input ", i, " is required in another layout");
      }
      dnnl::memory m(args.input_descs[i], engine);
      std::memcpy(m.get_data_handle(), runtime_inputs[i].GetData(),
                  runtime_inputs[i].GetSizeInBytes());
      inputs.push_back(m);
    }
    run->output_desc = instance->output_descs()[0];
    dnnl::memory output(run->output_desc, engine);
    // Poison: a NaN pattern in every byte, so unwritten elements fail the comparison.
    std::memset(output.get_data_handle(), 0xFF, run->output_desc.get_size());
    dnnl::memory scratchpad;
    if (instance->scratchpad_bytes() > 0) {
      scratchpad = dnnl::memory(
          dnnl::memory::desc({static_cast<dnnl::memory::dim>(instance->scratchpad_bytes())},
                             dnnl::memory::data_type::u8, dnnl::memory::format_tag::a),
          engine);
      std::memset(scratchpad.get_data_handle(), 0x5A, instance->scratchpad_bytes());
    }
    dnnl::stream stream(engine);
    const std::vector<dnnl::memory> outputs = {output};
    instance->Execute(stream, inputs, outputs, scratchpad);
    stream.wait();
    if (timed_runs > 0) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int r = 0; r < timed_runs; ++r) instance->Execute(stream, inputs, outputs, scratchpad);
      stream.wait();
      run->seconds_per_run =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / timed_runs;
    }
    run->output = Tensor::Allocate(out.dtype, Dims(out.shape));
    if (run->output.GetSizeInBytes() != run->output_desc.get_size()) {
      return InternalError("test runner: output desc has ", run->output_desc.get_size(),
                           " bytes; the tensor ", run->output.GetSizeInBytes());
    }
    std::memcpy(run->output.GetData(), output.get_data_handle(), run->output.GetSizeInBytes());
    return Status::Ok();
  } catch (const std::exception& e) {
    return InternalError("test runner: ", e.what());
  }
}

// Weights a node must refuse: the case's label, the weights and their parameters, and a
// phrase the error must contain (naming the rule).
struct BadWeights {
  std::string label;
  Tensor w;
  graph::QuantParams wq;
  const char* needle;
};

// Expects a node of `type` with `attrs`, runtime input `x` and each of `bad` as constant
// weights (FLOAT32 output) to fail with a status containing the case's needle: shape
// inference may already refuse some of these, else the kernel must; either layer must
// name the rule.
inline void ExpectBadWeightsRejected(NodeType type, const graph::AttrMap& attrs,
                                     const NodeInput& x, const std::vector<BadWeights>& bad) {
  for (const BadWeights& b : bad) {
    graph::Graph g;
    graph::NodeId id = graph::kNoNode;
    Status st = BuildNode(type, attrs, {x, Constant(b.w, b.wq)}, DataType::FLOAT32, {}, &g, &id);
    if (st.ok()) {
      RuntimeRun run;
      st = RunRuntimeNode(g, id, {x.value}, &run);
    }
    EXPECT_FALSE(st.ok()) << b.label;
    EXPECT_NE(st.message().find(b.needle), std::string::npos) << b.label << ": " << st.message();
  }
}

// Bit-identical tensors (same type, shape and bytes); the first differing element is
// described otherwise.
inline ::testing::AssertionResult BitExact(const Tensor& actual, const Tensor& expected) {
  if (actual.GetDataType() != expected.GetDataType() ||
      actual.GetDimension().GetDims() != expected.GetDimension().GetDims()) {
    return ::testing::AssertionFailure()
           << "type/shape differ: " << DataTypeName(actual.GetDataType()) << " "
           << actual.GetDimension().ToString() << " vs " << DataTypeName(expected.GetDataType())
           << " " << expected.GetDimension().ToString();
  }
  const size_t size = DataTypeSize(actual.GetDataType());
  const auto* a = static_cast<const unsigned char*>(actual.GetData());
  const auto* b = static_cast<const unsigned char*>(expected.GetData());
  for (int64_t i = 0; i < actual.GetElementCount(); ++i) {
    if (std::memcmp(a + i * size, b + i * size, size) != 0) {
      ::testing::AssertionResult r = ::testing::AssertionFailure();
      r << "element " << i << " of " << actual.GetElementCount() << " differs: ";
      if (actual.GetDataType() == DataType::FLOAT32) {
        r << actual.Data<float>()[i] << " vs " << expected.Data<float>()[i];
      } else if (actual.GetDataType() == DataType::INT16) {
        r << actual.Data<int16_t>()[i] << " vs " << expected.Data<int16_t>()[i];
      } else {
        r << "(integer bytes)";
      }
      return r;
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace qsdk::runtime::testing
