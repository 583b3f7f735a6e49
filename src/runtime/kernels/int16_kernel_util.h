// Pieces shared by the runtime's INT16 Conv / FullyConnected / MatMul kernels
// (int16_conv.cc, int16_matmul.cc): reading and validating the node's INT16 operands at
// Kernel creation, and the contract's float epilogue (point 4 of the issue-5 contract),
// which reuses the reference's scalar definitions (quant_math.h, ApplyActivation) so that
// the kernels are bit-exact with reference::Int16Conv2D / Int16FullyConnected / Int16MatMul:
//
//   acc = C - z_x * wsum[c]                 C = sum x_q * w_q from the GEMM core, wsum[c] =
//                                           sum_k w_q over the output channel (both exact
//                                           int64; conv padding enters C as x_q = z_x;
//                                           z_x * wsum[c] is computed once per kernel)
//   r = float(acc) * M[c]; r = r + b[c]; r = r + R; r = act(r)      in float
//   FLOAT32 r, or saturate_int16(round_half_even(r * (1 / s_y) + z_y)).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "qsdk/node_type.h"
#include "qsdk/status.h"
#include "runtime/kernel.h"
#include "runtime/kernels/int16_gemm.h"

namespace qsdk::runtime {

// Factories behind CreateInt16HeavyKernel (kernels.h).
Status CreateInt16ConvKernel(const graph::Graph& graph, graph::NodeId id,
                             std::unique_ptr<Kernel>* kernel);
Status CreateInt16MatMulKernel(const graph::Graph& graph, graph::NodeId id,
                               std::unique_ptr<Kernel>* kernel);  // FullyConnected and MatMul

// The node-level numeric configuration of an INT16 heavy kernel.
struct Int16Config {
  float x_scale = 1.0f;
  int32_t x_zero_point = 0;
  // M = s_x * s_w (in float) per output channel; one value when the weights are quantized
  // per tensor.
  std::vector<float> multipliers;
  bool residual = false;  // fused_sum: runtime input 1, FLOAT32, the output's shape
  ActivationType activation = ActivationType::kNone;
  float alpha = 0.0f;
  float beta = 0.0f;
  bool int16_output = false;
  float output_inv_scale = 1.0f;  // 1.0f / s_y, computed once in float
  int32_t output_zero_point = 0;
  internal::EpilogueOp op;  // the fields above for the AVX-512 epilogue (SetEpilogueOp)
};

// Fills config->op from the other fields (ReadInt16Config does it).
void SetEpilogueOp(Int16Config* config);

// Reads and validates, naming the node: input 0 (x) present, not constant, INT16 per tensor
// (zero point in [-32768, 32767]); input 1 (the weights) a constant INT16 tensor whose data
// size matches its shape, zero points 0, per tensor or along `weights_oc_axis`, no value
// -32768; the fused activation; the fused residual (attr fused_sum = 1: input 3 present,
// FLOAT32, not constant; MatMul refuses it); the output FLOAT32 or INT16 per tensor. An
// optional bias (input 2) must be a FLOAT32 constant (the caller checks its shape).
Status ReadInt16Config(const graph::Graph& graph, graph::NodeId id, int weights_oc_axis,
                       Int16Config* config);

// The FLOAT32 bias constant (input 2) of node `id`, or empty when absent; `expected` is
// the shape it must have (empty: any shape, checked by the caller).
Status ReadFloatBias(const graph::Graph& graph, graph::NodeId id,
                     const std::vector<int64_t>* expected, std::vector<float>* bias);

// A block of rows of output elements for the epilogue (plain data, int16_gemm.h): per row,
// acc (contiguous), the zero-point correction z_x * wsum (nullptr when z_x = 0), M, the
// bias (nullptr: none), the residual (contiguous; nullptr: none) and the output (float or
// int16_t, contiguous); per-element operands are read at base + j * step (step 0: one value
// for the whole row), and each row's operands lie the block's row strides after the
// previous row's.
using EpilogueRow = internal::EpilogueOperands;

// Runs the epilogue on `count` elements of each row of `block` (see the top of this file):
// the AVX-512 path when `isa` is one and every step is 0 or 1, else the scalar one (same
// results).
void RunInt16Epilogue(Int16GemmIsa isa, const Int16Config& config, const EpilogueRow& block,
                      int64_t count);

// Instantiate-time checks shared by the INT16 kernels: an engine, `inputs` runtime input
// descs and one output shape.
Status CheckInt16InstantiateArgs(const InstantiateArgs& args, size_t inputs,
                                 const std::string& what);

}  // namespace qsdk::runtime
