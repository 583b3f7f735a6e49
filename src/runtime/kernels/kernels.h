// Factory functions of the runtime kernels, one per op file in this folder. The
// dispatcher (src/runtime/kernel_factory.cc) calls the one matching the node type.
// Each validates the node for the runtime and packs its constants. The heavy ops, Pool,
// Elementwise, Concat and Reshape / Flatten pick fp32 or int8 from their tensors' types
// (docs/quantization.md, docs/runtime.md).
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

#undef QSDK_DECLARE_KERNEL_FACTORY

}  // namespace qsdk::runtime
