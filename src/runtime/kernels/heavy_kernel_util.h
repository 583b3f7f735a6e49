// Pieces shared by the heavy kernels (conv, fully connected, matmul): their numeric
// configuration (fp32, bf16 or int8, quantization parameters, fused residual and activation)
// turned into oneDNN attributes, and the choice of weights for a per-shape primitive
// given the weights the Kernel packed once at creation.
//
// INT8 (docs/quantization.md): with x quantized (u8 / s8, per tensor), weights INT8
// (z = 0, per tensor or per output channel) and an INT32 bias in the accumulator's
// scale, oneDNN computes
//   r = (acc + b_q) * M[oc]                     output_scales M = s_x * s_w[oc]
//   r = r + s_R * (R_q - z_R)                   sum post-op (scale s_R, zero point z_R)
//   r = act(r)                                  eltwise post-op
//   y = saturate(round_half_even(r / s_y + z_y)) eltwise_linear(1 / s_y, z_y), u8/s8 dst
// where acc sums (x_q - z_x) * w_q exactly in int32 (the source zero point is an
// attribute). An FP32 output skips the last step.
//
// BF16 (docs/ops.md, BF16 compute): x and the weights bf16, the bias f32, the output bf16 or
// f32 (the conversion of the result fused into the primitive), a fused residual of the
// output's type summed by a sum post-op; oneDNN accumulates in f32, adds the bias, the
// residual and the activation in f32 and rounds once to the output type.
#pragma once

#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "qsdk/status.h"
#include "runtime/kernels/activation_mapping.h"
#include "runtime/kernels/onednn_util.h"

namespace qsdk::runtime {

// How a fused residual R (attr::kFusedSum = 1, input 3) reaches the result.
enum class ResidualMode {
  kNone,
  // A sum post-op reads R from the destination, which holds it when the primitive
  // starts (the instance's output aliases R in place). R has the destination's element
  // type (f32 or bf16, scale 1), or both are 8-bit (scale s_R and zero point z_R on the
  // post-op).
  kSum,
  // R quantized, output FLOAT32: a reorder first writes s_R * (R_q - z_R) into the
  // destination (exactly the contract's dequantization), then a sum post-op of scale 1.
  kDequantizeSum,
  // R FLOAT32, output quantized: a binary-add post-op reads R (f32) as a second source.
  kBinary,
};

// The numeric configuration of a Conv / FullyConnected / MatMul node, read from its
// tensors' types and quantization parameters at Kernel creation.
struct HeavyNumerics {
  bool int8 = false;  // integer compute: quantized x, INT8 weights
  bool bf16 = false;  // bf16 compute: BFLOAT16 x and weights (f32 bias, accumulation)
  dnnl::memory::data_type src_dt = dnnl::memory::data_type::f32;
  // Element type of the weights: f32, bf16 or s8.
  dnnl::memory::data_type weights_dt = dnnl::memory::data_type::f32;
  dnnl::memory::data_type dst_dt = dnnl::memory::data_type::f32;
  int32_t src_zero_point = 0;
  // int8: M = s_x * s_w (in float), one value (per-tensor weights) or one per output
  // channel.
  std::vector<float> output_scales;
  // Quantized output.
  float dst_scale = 1.0f;
  int32_t dst_zero_point = 0;
  // Fused residual.
  ResidualMode residual = ResidualMode::kNone;
  dnnl::memory::data_type residual_dt = dnnl::memory::data_type::f32;
  float residual_scale = 1.0f;
  int32_t residual_zero_point = 0;
  // Fused activation.
  bool has_activation = false;
  EltwiseParams activation;

  const char* precision() const { return int8 ? "int8" : bf16 ? "bf16" : "fp32"; }
  // Runtime inputs of the per-shape instance: x, and R when a residual is fused.
  size_t runtime_inputs() const { return residual == ResidualMode::kNone ? 1 : 2; }
};

// Reads and validates the numeric configuration of heavy node `id`: input 0 (x), the
// constant weights at input 1 (quantized per tensor or along `weights_oc_axis`, the axis
// of the stored weights that indexes output channels), the optional bias (input 2), the
// fused residual (input 3, present iff attr fused_sum = 1), the fused activation and
// the output. FLOAT32 x and weights give fp32 (FLOAT32 output); BFLOAT16 x and weights
// give bf16 (FLOAT32 bias, BFLOAT16 or FLOAT32 output, residual of the output's type);
// quantized x with INT8 weights gives int8 (bias INT32 with scales s_x * s_w, output
// FLOAT32 or quantized per tensor); any other mix fails naming the node.
Status ReadHeavyNumerics(const graph::Graph& graph, graph::NodeId id, int weights_oc_axis,
                         HeavyNumerics* numerics);

// The attribute of a heavy primitive whose destination has dims `dst_dims` with output
// channels on dimension `oc_dim`: user scratchpad, output scales and source zero point
// (int8), then post-ops in the contract's order: residual (sum, or binary add of an f32
// R laid out as `residual_md`, or as oneDNN picks when it is zero), activation, linear
// quantization of a u8 / s8 output. Throws dnnl::error (callers run it inside GuardDnnl).
dnnl::primitive_attr MakeHeavyAttr(const HeavyNumerics& numerics, int oc_dim,
                                   const dnnl::memory::dims& dst_dims,
                                   const dnnl::memory::desc& residual_md = dnnl::memory::desc());

// Completes the per-shape instance of a heavy kernel once its primitive `primitive`, of
// descriptor `pd` (built with MakeHeavyAttr), is known: one call that reads `src` (runtime
// input 0, or a view of it), the weights and, when not empty, the bias (both owned by the
// call), and writes runtime output 0, with the arena scratchpad. The instance requires
// `x_md` for input 0 and produces pd's destination. A fused residual R is runtime input 1:
// the output aliases R in place (kSum), a dequantizing reorder of R into the output runs
// first (kDequantizeSum), or the call reads R as the binary post-op's source (kBinary).
// Throws dnnl::error.
void AddHeavyCall(const HeavyNumerics& numerics, dnnl::primitive primitive,
                  const dnnl::primitive_desc_base& pd, const ArgSource& src,
                  const dnnl::memory& weights, const dnnl::memory& bias,
                  const dnnl::memory::desc& x_md, const dnnl::engine& engine,
                  PrimitiveSequenceInstance* instance);

// Instantiate-time check of a heavy kernel: with a fused residual, runtime input 1 (R)
// must have the output's dims `dst_dims`. `what` names the node.
Status CheckResidualDims(const InstantiateArgs& args, const HeavyNumerics& numerics,
                         const dnnl::memory::dims& dst_dims, const std::string& what);

// Creation-time checks of a Conv / FullyConnected node: x, the weights, an optional bias
// and an optional fused residual (2 to 4 inputs, the first two present, every id in
// range) and one output; x taken at run time, FLOAT32 or quantized (CheckRuntimeInput);
// the weights and the bias constants. `op` ("a convolution") and `weights_role` ("the
// filter") word the messages.
Status CheckHeavyNodeInputs(const graph::Graph& graph, graph::NodeId id, const char* op,
                            const char* weights_role);

// The optional bias (input 2) of a Conv / FullyConnected node with `oc` output channels,
// after checking that its shape is [oc], as MakeBiasMemory makes it; `bias` is left
// empty when the node has no bias.
Status MakeChannelBias(const graph::Graph& graph, graph::NodeId id, int64_t oc,
                       const HeavyNumerics& numerics, const dnnl::engine& engine,
                       dnnl::memory* bias);

// The bias as oneDNN takes it: FLOAT32 -> f32 (fp32 and bf16 kernels), INT32 -> s32 (the
// quantized bias b_q, added to the int32 accumulator before output scaling), in a new
// memory of plain layout for `shape` (the bias's element count). Fails when the type does
// not match the numerics.
Status MakeBiasMemory(const graph::Tensor& bias, const HeavyNumerics& numerics,
                      const std::vector<int64_t>& shape, const dnnl::engine& engine,
                      const std::string& what, dnnl::memory* memory);

// True when oneDNN chose its reference ("ref:...") implementation: correct but orders of
// magnitude slower, so a constrained descriptor that lands there is not worth it.
bool IsReferenceImpl(const dnnl::primitive_desc_base& pd);

// The weights a per-shape primitive will use: the Kernel's packed memory (shared by every
// context) or, when no good implementation takes the packed layout, a copy owned by the
// instance.
struct WeightsChoice {
  dnnl::memory weights;
  bool shared = true;  // false: `weights` is an instance-owned re-layout of the packed ones
};

// Builds the primitive descriptor of a per-shape instance. `make(weights_md)` builds a
// descriptor for a given weights desc (it may throw dnnl::error). The packed layout was
// chosen by the Kernel for a nominal shape; at another shape oneDNN may prefer another:
//   1. descriptor with weights `any`; if it picks the packed layout, share the packed
//      weights;
//   2. else a descriptor with the packed layout imposed, if oneDNN has a non-reference
//      implementation for it: share the packed weights (no per-context copy);
//   3. else keep descriptor 1 and reorder the weights into its layout once, here, in
//      memory owned by the instance: from `plain` when given (int8 weights, whose packed
//      form carries oneDNN's compensation data that a reorder cannot read back), else
//      from the packed ones.
// Throws dnnl::error like `make` (callers run it inside GuardDnnl).
template <typename PrimitiveDesc, typename MakeFn>
PrimitiveDesc ChooseWeights(MakeFn&& make, const dnnl::memory& packed, const dnnl::engine& engine,
                            WeightsChoice* choice, const dnnl::memory& plain = dnnl::memory()) {
  const dnnl::memory::desc packed_md = packed.get_desc();
  const dnnl::memory::desc any_md(packed_md.dims(), packed_md.data_type(),
                                  dnnl::memory::format_tag::any);
  PrimitiveDesc preferred = make(any_md);
  if (preferred.weights_desc() == packed_md) {
    *choice = {packed, true};
    return preferred;
  }
  try {
    PrimitiveDesc imposed = make(packed_md);
    if (!IsReferenceImpl(imposed)) {
      *choice = {packed, true};
      return imposed;
    }
  } catch (const dnnl::error&) {
    // No implementation takes the packed layout at this shape: fall through to 3.
  }
  *choice = {ReorderedCopy(plain ? plain : packed, preferred.weights_desc(), engine), false};
  return preferred;
}

// Notes in `instance`'s implementation() (after its primitive was added) when the
// primitive does not use `packed`, the weights packed at engine creation, but an
// instance-owned re-layout (ChooseWeights step 3): visible in execution-plan inspection.
inline void NoteWeightsRelayout(const dnnl::memory& used, const dnnl::memory& packed,
                                KernelInstance* instance) {
  if (used && packed && used.get_data_handle() != packed.get_data_handle()) {
    instance->AnnotateImplementation("weights re-laid out for this shape");
  }
}

// The int8 FullyConnected kernel (oneDNN matmul, which takes the source zero point that
// inner product does not): x [N, ...] viewed as [N, K], constant INT8 weights [OC, K],
// optional INT32 bias [OC]. Implemented in matmul.cc; called by the FullyConnected
// factory for a node whose `numerics` (ReadHeavyNumerics) are int8.
Status CreateInt8FullyConnectedKernel(const graph::Graph& graph, graph::NodeId id,
                                      const dnnl::engine& engine, const HeavyNumerics& numerics,
                                      std::unique_ptr<Kernel>* kernel);

// Rounds a nominal extent for weight packing: `extent` when known (>= 1), else `fallback`.
inline int64_t NominalExtent(int64_t extent, int64_t fallback) {
  return extent >= 1 ? extent : fallback;
}

}  // namespace qsdk::runtime
