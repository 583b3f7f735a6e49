// Factory functions of the runtime kernels, one per op file in this folder. The
// dispatcher (src/runtime/kernel_factory.cc) calls the one matching the node type.
// Each validates the node for the runtime and packs its constants. Kernels pick their
// numeric variant from their tensors' types: fp32, bf16 (every oneDNN op), int8 (heavy
// ops, Pool, Elementwise, Concat, Reshape / Flatten), int16 and dynamic int8 (heavy ops,
// own kernels), Cast between float types (docs/quantization.md, docs/runtime.md).
#pragma once

#include <memory>

#include <oneapi/dnnl/dnnl.hpp>

#include "graph/graph.h"
#include "qsdk/status.h"
#include "runtime/kernel.h"

namespace qsdk::runtime {

#define QSDK_DECLARE_KERNEL_FACTORY(Fn)                                         \
  Status Fn(const graph::Graph& graph, graph::NodeId id, const dnnl::engine& engine, \
            std::unique_ptr<Kernel>* kernel)

// Heavy ops (src/runtime/kernels/{conv,fully_connected,matmul}.cc).
QSDK_DECLARE_KERNEL_FACTORY(CreateConvKernel);
QSDK_DECLARE_KERNEL_FACTORY(CreateFullyConnectedKernel);
QSDK_DECLARE_KERNEL_FACTORY(CreateMatMulKernel);
// Other ops (one file each in this folder).
QSDK_DECLARE_KERNEL_FACTORY(CreateActivationKernel);
QSDK_DECLARE_KERNEL_FACTORY(CreatePoolKernel);
QSDK_DECLARE_KERNEL_FACTORY(CreateElementwiseKernel);
QSDK_DECLARE_KERNEL_FACTORY(CreateConcatKernel);
QSDK_DECLARE_KERNEL_FACTORY(CreateBatchNormKernel);
QSDK_DECLARE_KERNEL_FACTORY(CreateSoftmaxKernel);
QSDK_DECLARE_KERNEL_FACTORY(CreateReshapeKernel);  // also used for Flatten
QSDK_DECLARE_KERNEL_FACTORY(CreateTransposeKernel);
QSDK_DECLARE_KERNEL_FACTORY(CreateQuantizeKernel);  // Quantize and Dequantize
QSDK_DECLARE_KERNEL_FACTORY(CreateCastKernel);
// INT16 Conv / FullyConnected / MatMul (int16_conv.cc, int16_matmul.cc): for a heavy node
// whose input 0 is INT16 (IsInt16HeavyNode). Dynamically quantized FullyConnected /
// MatMul (dynamic_quant_matmul.cc): attr::kDynamicQuantization = 1
// (IsDynamicQuantizedNode). The dispatcher checks these before the node type.
bool IsInt16HeavyNode(const graph::Graph& graph, graph::NodeId id);
bool IsDynamicQuantizedNode(const graph::Graph& graph, graph::NodeId id);
QSDK_DECLARE_KERNEL_FACTORY(CreateInt16HeavyKernel);
QSDK_DECLARE_KERNEL_FACTORY(CreateDynamicQuantizedKernel);

#undef QSDK_DECLARE_KERNEL_FACTORY

}  // namespace qsdk::runtime
