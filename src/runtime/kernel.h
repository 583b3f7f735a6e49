// The runtime kernel contract. A kernel has two lives, as in TFLite Micro's
// prepare / eval split:
//
//   Kernel          one per node per engine. Created once when the engine is created:
//                   validates the node for this runtime, packs constant inputs (weights
//                   reordered to oneDNN's preferred blocked layout). Immutable, shared by
//                   every context of the engine (and so by many threads).
//   KernelInstance  one per node per context per input shape. Created by
//                   Kernel::Instantiate when a context meets a new input shape: builds
//                   the oneDNN primitives, decides the memory layout (memory::desc) of
//                   each runtime input it wants and of each output it produces. Its
//                   Execute runs blindly: no checks, no allocation.
//
// "Runtime inputs" are the node's inputs whose tensors are not constant, in node input
// order; constant inputs (weights, biases, constant operands) are held by the Kernel.
//
// Layouts: the context passes each runtime input's current layout (the producer's
// output desc, or plain row-major for graph inputs); the instance reports the layout it
// requires in input_descs(); where the two differ the context inserts a reorder and lists
// it. Ops that accept any layout (eltwise, binary with equal layouts, pooling) should
// require the layout they are given, so blocked layouts flow from conv to conv.
//
// Data types: a desc carries its element type. Graph inputs and outputs are f32;
// intermediate tensors are f32, bf16 or f16 (float storage; only Cast reads f16), u8 / s8
// (INT8), or INT16 described as f16 descs of the same shape (oneDNN 2.6 has no s16; only
// the int16 kernels read or write them, always in plain layout, so the context never
// reorders them). INT32 exists only as constant biases. A reorder the context inserts
// only changes the layout, never the type.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "graph/graph.h"
#include "qsdk/status.h"

namespace qsdk::runtime {

struct InstantiateArgs {
  const dnnl::engine* engine = nullptr;
  // Current layout of each runtime input (dims are concrete).
  std::vector<dnnl::memory::desc> input_descs;
  // Concrete logical shape of each node output at this input shape.
  std::vector<std::vector<int64_t>> output_shapes;
};

// How output 0 of an instance shares a runtime input's buffer.
enum class OutputAlias {
  kNone,
  // Output 0 is the bytes of the aliased input under another desc and Execute writes
  // nothing (Reshape / Flatten on a plain layout). The context keeps the input alive as
  // long as the output.
  kView,
  // Output 0 must hold the aliased input's bytes when Execute starts (the input's
  // required desc describes the output buffer with the input's element type, which has
  // the output type's size), and Execute updates it in place: a fused residual summed
  // into the destination by a oneDNN sum post-op. The context makes the output share the
  // input's buffer when nothing reads the input afterwards, else copies the input into
  // the output buffer first.
  kInPlace,
};

class KernelInstance {
 public:
  virtual ~KernelInstance() = default;
  // Required layout of each runtime input (same count as InstantiateArgs::input_descs).
  const std::vector<dnnl::memory::desc>& input_descs() const { return input_descs_; }
  // Layout of each output.
  const std::vector<dnnl::memory::desc>& output_descs() const { return output_descs_; }
  // Bytes of scratch memory Execute needs (0 for none); provided by the context arena.
  size_t scratchpad_bytes() const { return scratchpad_bytes_; }
  // Whether and how output 0 shares the buffer of runtime input aliased_input().
  OutputAlias output_alias() const { return output_alias_; }
  size_t aliased_input() const { return aliased_input_; }
  // What runs, for execution-plan inspection (include/qsdk/execution_plan.h): oneDNN's
  // implementation name of each primitive, joined by " + ", or the code path of a qsdk
  // kernel ("qsdk_int16_gemm:avx512_vnni"); "" when Execute runs no code.
  const std::string& implementation() const { return implementation_; }
  // Appends one part to implementation() (" + "-separated).
  void AddImplementation(const std::string& part) {
    implementation_ += implementation_.empty() ? part : " + " + part;
  }
  // Appends " [note]" to implementation().
  void AnnotateImplementation(const std::string& note) { implementation_ += " [" + note + "]"; }
  // Runs the node. `inputs` / `outputs` are laid out as input_descs() / output_descs().
  virtual void Execute(dnnl::stream& stream, const std::vector<dnnl::memory>& inputs,
                       const std::vector<dnnl::memory>& outputs,
                       const dnnl::memory& scratchpad) const = 0;

 protected:
  std::vector<dnnl::memory::desc> input_descs_;
  std::vector<dnnl::memory::desc> output_descs_;
  size_t scratchpad_bytes_ = 0;
  OutputAlias output_alias_ = OutputAlias::kNone;
  size_t aliased_input_ = 0;
  std::string implementation_;
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  // A short name for reports and profiles, e.g. "onednn_conv_fp32", "onednn_conv_int8".
  virtual std::string name() const = 0;
  // Builds the per-shape instance. Failing here (e.g. oneDNN rejects the shape) is an
  // error naming the node.
  virtual Status Instantiate(const InstantiateArgs& args,
                             std::unique_ptr<KernelInstance>* instance) const = 0;
};

// Creates the kernel for node `id` (dispatch on node type, src/runtime/kernel_factory.cc).
Status CreateKernel(const graph::Graph& graph, graph::NodeId id, const dnnl::engine& engine,
                    std::unique_ptr<Kernel>* kernel);

// Plain row-major desc for a tensor of the given shape and element type (rank 0 is
// treated as [1]).
dnnl::memory::desc PlainDesc(const std::vector<int64_t>& shape,
                             dnnl::memory::data_type type = dnnl::memory::data_type::f32);

}  // namespace qsdk::runtime
