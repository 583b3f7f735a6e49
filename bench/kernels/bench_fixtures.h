// Fixtures of the kernel microbenchmarks (kernels_bench.cc): everything a timed loop needs
// prepared once, so that the loop itself times one kernel execution and nothing else.
//
//   ConvFixture    a one-node Graph IR holding a single Conv of the given geometry and
//                  precision, in the node form the builder produces (fp32; bf16 with an f32
//                  bias and a bf16 output; int8 as quantize_graph.cc makes it: u8 input with
//                  z = 0, s8 weights quantized per output channel, an INT32 bias in the
//                  accumulator's scale, a u8 / s8 output), turned into the runtime's Kernel
//                  (through the same dispatcher the engine uses, so weights are packed as in
//                  an engine) and a KernelInstance at batch 1. The input buffer is in the
//                  layout the instance requires: in an engine the previous convolution
//                  already produces that layout, so no reorder is part of a conv's time.
//   MatmulFixture  a plain oneDNN matmul M = N = K = n (f32, bf16 or u8 x s8 -> s32) with
//                  its weights pre-packed: the machine's practical peak for a precision, to
//                  which the convolutions' throughput is compared.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "qsdk/node_type.h"
#include "qsdk/status.h"
#include "runtime/kernel.h"

namespace qsdk::bench {

enum class Precision { kFp32, kBf16, kInt8 };

// "fp32", "bf16", "int8".
const char* PrecisionName(Precision precision);

// One convolution layer of a network at batch 1: square input, square kernel, symmetric
// padding, no dilation.
struct ConvShape {
  const char* net = "";  // "resnet50", "mobilenetv2"
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t size = 0;  // input height = width
  int64_t kernel = 1;
  int64_t stride = 1;
  int64_t pad = 0;
  int64_t group = 1;  // in_channels for a depthwise convolution
  ActivationType activation = ActivationType::kNone;  // fused, as after the builder's fusion

  int64_t OutSize() const { return (size + 2 * pad - kernel) / stride + 1; }
  // Multiply-accumulates of one execution.
  double Macs() const;
  // A name usable in a benchmark filter, e.g. "3x3s2_128x128_56", "3x3dw_144_56".
  std::string Label() const;
};

class ConvFixture {
 public:
  // Builds, shape-infers, creates and instantiates the node; fills the input with
  // deterministic random data (fixed seed) and allocates output and scratchpad.
  static Status Create(const ConvShape& shape, Precision precision, const dnnl::engine& engine,
                       std::unique_ptr<ConvFixture>* fixture);

  // Enqueues one execution of the kernel instance on `stream` (the caller waits).
  void Run(dnnl::stream& stream) const;

  const std::string& kernel_name() const { return kernel_name_; }
  // Layouts of the input and the output as the instance uses them, in oneDNN's notation:
  // "nChw16c->nChw16c" (fp32 / bf16 blocked), "nhwc->nhwc" (int8 channels-last).
  const std::string& layouts() const { return layouts_; }

 private:
  ConvFixture() = default;

  graph::Graph graph_;  // the kernel may refer to the graph's constant buffers
  std::unique_ptr<runtime::Kernel> kernel_;
  std::unique_ptr<runtime::KernelInstance> instance_;
  std::vector<dnnl::memory> inputs_;
  std::vector<dnnl::memory> outputs_;
  dnnl::memory scratchpad_;
  std::string kernel_name_;
  std::string layouts_;
};

class MatmulFixture {
 public:
  // An n x n x n matmul of `precision`: f32 x f32 -> f32, bf16 x bf16 -> bf16 (f32
  // accumulation) or u8 x s8 -> s32; source and destination plain row-major, weights in the
  // layout oneDNN prefers (reordered once here, as the runtime packs constant weights).
  static Status Create(Precision precision, int64_t n, const dnnl::engine& engine,
                       std::unique_ptr<MatmulFixture>* fixture);

  void Run(dnnl::stream& stream) const;

  // Multiply-accumulates of one execution.
  double Macs() const { return static_cast<double>(n_) * n_ * n_; }
  // oneDNN's implementation name, e.g. "brg:avx512_core_amx".
  const std::string& impl() const { return impl_; }

 private:
  MatmulFixture() = default;

  int64_t n_ = 0;
  dnnl::matmul primitive_;
  dnnl::memory src_, weights_, dst_, scratchpad_;
  std::string impl_;
};

// Runs `run` (which enqueues work on `stream`) twice to warm up, then repeatedly for at
// least `min_seconds` and at least 3 times, waiting on the stream after each, and returns
// the shortest time of one run. A peak is what the machine does undisturbed: on a machine
// shared with other jobs the shortest run is the closest to it (a mean or median would
// count the time the kernel's threads were descheduled).
double BestSeconds(const std::function<void()>& run, dnnl::stream& stream, double min_seconds);

}  // namespace qsdk::bench
