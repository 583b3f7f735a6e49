// A single-op runner for the runtime kernels, in the spirit of TFLite Micro's
// kernel_runner: no model, no engine, no context. It builds a one-node graph::Graph
// (runtime inputs, optional constant inputs, the node and its attributes), runs shape
// inference, creates the kernel through its factory (kernels.h), instantiates it with
// the input layouts the test chooses, reorders plain data into the layouts the instance
// requires (as a context would), executes it on a oneDNN stream and returns the output
// as plain row-major data. The same graph node is evaluated by reference::EvalNode so
// tests can compare the two.
#pragma once

#include <cstdint>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <random>
#include <string>
#include <vector>

#include "common/status_macros.h"
#include "graph/graph.h"
#include "graph/graph_test_util.h"
#include "qsdk/node_type.h"
#include "qsdk/status.h"
#include "runtime/kernel.h"

namespace qsdk::runtime::testing {

// Random values and the attributes of the ops (graph/graph_test_util.h).
using namespace ::qsdk::graph::testing;  // NOLINT(build/namespaces)

struct OpInput {
  std::vector<int64_t> shape;
  std::vector<float> data;  // Dense row-major, ElementCount(shape) values.
  // A constant input (held by the kernel) instead of a runtime one.
  bool constant = false;
  // Layout the runtime input arrives in (e.g. nChw16c, as a conv would produce);
  // undef = plain row-major.
  dnnl::memory::format_tag layout = dnnl::memory::format_tag::undef;
};

// A runtime input of `shape` holding uniform random values in [lo, hi) from `rng`.
OpInput RandomInput(std::mt19937* rng, std::vector<int64_t> shape, float lo = -1.0f,
                    float hi = 1.0f);

struct OpSpec {
  NodeType type = NodeType::kInvalid;
  graph::AttrMap attrs;
  std::vector<OpInput> inputs;
};

// What running the kernel produced, besides the values.
struct KernelRun {
  std::vector<int64_t> output_shape;
  std::vector<float> output;  // Plain row-major.
  std::string kernel_name;
  std::vector<dnnl::memory::desc> given_input_descs;     // Per runtime input.
  std::vector<dnnl::memory::desc> required_input_descs;  // Per runtime input.
  dnnl::memory::desc output_desc;
  size_t scratchpad_bytes = 0;
  bool output_aliases_input = false;  // OutputAlias::kView
  // With output_aliases_input: whether the output memory really was the input buffer.
  bool output_shares_input_buffer = false;
};

class KernelRunner {
 public:
  KernelRunner();

  // Builds the graph for `spec` and runs shape inference on it. The node is named
  // "op" (messages say "node 'op' (<Type>)").
  Status Build(const OpSpec& spec);

  // Builds the graph without shape inference, giving the output `output_shape`: lets a
  // test hand a kernel factory a node that shape inference would have rejected, to see
  // the kernel's own validation.
  Status BuildUnchecked(const OpSpec& spec, const std::vector<int64_t>& output_shape);

  // Creates the kernel (the factory's status is returned as is), instantiates it and
  // runs it once.
  Status RunKernel(KernelRun* run);

  // Evaluates the node with the reference kernel; plain row-major output.
  Status RunReference(std::vector<float>* output, std::vector<int64_t>* shape);

  // Creates the kernel only (for tests of the factories' validation).
  Status CreateKernel(std::unique_ptr<Kernel>* kernel);

  const graph::Graph& graph() const { return graph_; }
  graph::NodeId node() const { return node_; }
  const dnnl::engine& engine() const { return engine_; }

 private:
  dnnl::engine engine_;
  OpSpec spec_;
  graph::Graph graph_;
  graph::NodeId node_ = graph::kNoNode;
};

// Builds `spec`, runs the kernel and the reference, and compares output shapes and
// values with |kernel - reference| <= atol + rtol * |reference|. A failing step gives a
// non-ok status; a shape or value mismatch is described in *mismatch ("" when none).
Status RunAndCompare(const OpSpec& spec, float atol, float rtol, KernelRun* run,
                     std::string* mismatch);

// RunAndCompare as gtest checks: a failing step is a fatal failure (ASSERT; wrap the call in
// ASSERT_NO_FATAL_FAILURE when the test goes on to read `run`), a mismatch a non-fatal one.
void ExpectMatchesReference(const OpSpec& spec, float atol, float rtol, KernelRun* run);

// ExpectMatchesReference with no tolerance (ops that move values or compute each with one
// correctly rounded float operation); returns the run.
KernelRun ExpectExact(const OpSpec& spec);

// Largest violation of |actual - expected| <= atol + rtol * |expected| over the two
// vectors, as a message for EXPECT_* ("" when within tolerance). Sizes must match; NaN
// matches only NaN.
std::string CompareClose(const std::vector<float>& actual, const std::vector<float>& expected,
                         float atol, float rtol);

}  // namespace qsdk::runtime::testing
