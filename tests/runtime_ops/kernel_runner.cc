#include "runtime_ops/kernel_runner.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <exception>

#include "common/status_macros.h"
#include "graph/shape_inference.h"
#include "qsdk/tensor.h"
#include "reference/reference.h"
#include "reference/reference_test_util.h"
#include "runtime/kernels/kernels.h"

namespace qsdk::runtime::testing {
namespace {

using dnnl::memory;

template <typename Fn>
Status Guard(const char* what, Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return InternalError("kernel runner: ", what, ": ", e.what());
  }
}

// A plain memory holding `data`.
memory PlainMemory(const std::vector<int64_t>& shape, const std::vector<float>& data,
                   const dnnl::engine& engine) {
  memory mem(PlainDesc(shape), engine);
  if (!data.empty()) std::memcpy(mem.get_data_handle(), data.data(), data.size() * sizeof(float));
  return mem;
}

void Reorder(memory& src, memory& dst, dnnl::stream& stream) {
  dnnl::reorder(src, dst).execute(stream, src, dst);
}

}  // namespace

OpInput RandomInput(std::mt19937* rng, std::vector<int64_t> shape, float lo, float hi) {
  OpInput in;
  in.data = RandomValues(rng, graph::ElementCount(shape), lo, hi);
  in.shape = std::move(shape);
  return in;
}

KernelRunner::KernelRunner() : engine_(dnnl::engine::kind::cpu, 0) {}

Status KernelRunner::Build(const OpSpec& spec) {
  QSDK_RETURN_IF_ERROR(BuildUnchecked(spec, {}));
  return Guard("Build", [&]() -> Status { return graph::InferShapes(&graph_); });
}

Status KernelRunner::BuildUnchecked(const OpSpec& spec, const std::vector<int64_t>& output_shape) {
  spec_ = spec;
  graph_ = graph::Graph();
  return Guard("Build", [&]() -> Status {
    std::vector<graph::TensorId> inputs;
    for (size_t i = 0; i < spec.inputs.size(); ++i) {
      const OpInput& in = spec.inputs[i];
      const int64_t count = graph::ElementCount(in.shape);
      if (count < 0 || static_cast<size_t>(count) != in.data.size()) {
        return InvalidArgument("kernel runner: input ", i, " has shape ",
                               graph::ShapeToString(in.shape), " but ", in.data.size(), " values");
      }
      const std::string name = "in" + std::to_string(i);
      inputs.push_back(in.constant ? AddConst(&graph_, name, in.shape, in.data)
                                   : AddInput(&graph_, name, in.shape));
    }
    node_ = AddOp(&graph_, spec.type, "op", std::move(inputs), spec.attrs, "out");
    const graph::TensorId out = Out(graph_, node_);
    graph_.tensors[out].shape = output_shape;
    graph_.outputs.push_back(out);
    return Status::Ok();
  });
}

Status KernelRunner::CreateKernel(std::unique_ptr<Kernel>* kernel) {
  switch (spec_.type) {
    case NodeType::kActivation:
      return CreateActivationKernel(graph_, node_, engine_, kernel);
    case NodeType::kPool:
      return CreatePoolKernel(graph_, node_, engine_, kernel);
    case NodeType::kElementwise:
      return CreateElementwiseKernel(graph_, node_, engine_, kernel);
    case NodeType::kConcat:
      return CreateConcatKernel(graph_, node_, engine_, kernel);
    case NodeType::kBatchNorm:
      return CreateBatchNormKernel(graph_, node_, engine_, kernel);
    case NodeType::kSoftmax:
      return CreateSoftmaxKernel(graph_, node_, engine_, kernel);
    case NodeType::kReshape:
    case NodeType::kFlatten:
      return CreateReshapeKernel(graph_, node_, engine_, kernel);
    case NodeType::kTranspose:
      return CreateTransposeKernel(graph_, node_, engine_, kernel);
    case NodeType::kQuantize:
    case NodeType::kDequantize:
      return CreateQuantizeKernel(graph_, node_, engine_, kernel);
    default:
      return Unimplemented("kernel runner: node type ", NodeTypeName(spec_.type),
                           " is not a light op");
  }
}

Status KernelRunner::RunKernel(KernelRun* run) {
  std::unique_ptr<Kernel> kernel;
  QSDK_RETURN_IF_ERROR(CreateKernel(&kernel));
  return Guard("RunKernel", [&]() -> Status {
    *run = KernelRun();
    run->kernel_name = kernel->name();
    const graph::Node& node = graph_.nodes[node_];
    run->output_shape = graph_.tensors[node.outputs[0]].shape;

    InstantiateArgs args;
    args.engine = &engine_;
    args.output_shapes = {run->output_shape};
    std::vector<const OpInput*> runtime_inputs;
    for (const OpInput& in : spec_.inputs) {
      if (in.constant) continue;
      runtime_inputs.push_back(&in);
      args.input_descs.push_back(in.layout == memory::format_tag::undef
                                     ? PlainDesc(in.shape)
                                     : memory::desc(in.shape, memory::data_type::f32, in.layout));
    }
    run->given_input_descs = args.input_descs;
    std::unique_ptr<KernelInstance> instance;
    QSDK_RETURN_IF_ERROR(kernel->Instantiate(args, &instance));
    run->required_input_descs = instance->input_descs();
    run->scratchpad_bytes = instance->scratchpad_bytes();
    run->output_aliases_input = instance->output_alias() == OutputAlias::kView;
    if (instance->input_descs().size() != runtime_inputs.size() ||
        instance->output_descs().size() != 1) {
      return InternalError("kernel runner: instance reports ", instance->input_descs().size(),
                           " inputs and ", instance->output_descs().size(), " outputs; expected ",
                           runtime_inputs.size(), " and 1");
    }
    run->output_desc = instance->output_descs()[0];

    // Inputs: plain data -> the layout they arrive in -> the layout the instance wants
    // (the reorder a context would insert).
    dnnl::stream stream(engine_);
    std::vector<memory> inputs;
    for (size_t i = 0; i < runtime_inputs.size(); ++i) {
      memory plain = PlainMemory(runtime_inputs[i]->shape, runtime_inputs[i]->data, engine_);
      memory given(args.input_descs[i], engine_);
      Reorder(plain, given, stream);
      if (instance->input_descs()[i] == args.input_descs[i]) {
        inputs.push_back(given);
      } else {
        memory required(instance->input_descs()[i], engine_);
        Reorder(given, required, stream);
        inputs.push_back(required);
      }
    }
    stream.wait();

    memory output;
    if (run->output_aliases_input) {
      output = memory(run->output_desc, engine_, inputs[0].get_data_handle());
    } else {
      output = memory(run->output_desc, engine_);
      // Poison the output so a kernel that leaves elements unwritten fails the test.
      float* data = static_cast<float*>(output.get_data_handle());
      for (size_t k = 0; k < run->output_desc.get_size() / sizeof(float); ++k) {
        data[k] = std::nanf("");
      }
    }
    memory scratchpad;
    if (instance->scratchpad_bytes() > 0) {
      scratchpad = memory(memory::desc({static_cast<memory::dim>(instance->scratchpad_bytes())},
                                       memory::data_type::u8, memory::format_tag::a),
                          engine_);
    }
    instance->Execute(stream, inputs, {output}, scratchpad);
    stream.wait();
    run->output_shares_input_buffer =
        !inputs.empty() && output.get_data_handle() == inputs[0].get_data_handle();

    memory plain_out(PlainDesc(run->output_shape), engine_);
    Reorder(output, plain_out, stream);
    stream.wait();
    const int64_t count = graph::ElementCount(run->output_shape);
    const float* values = static_cast<const float*>(plain_out.get_data_handle());
    run->output.assign(values, values + count);
    return Status::Ok();
  });
}

Status KernelRunner::RunReference(std::vector<float>* output, std::vector<int64_t>* shape) {
  return Guard("RunReference", [&]() -> Status {
    std::vector<Tensor> tensors;
    tensors.reserve(spec_.inputs.size());
    for (OpInput& in : spec_.inputs) {
      tensors.push_back(Tensor::Wrap(DataType::FLOAT32, Dims(in.shape), in.data.data()));
    }
    std::vector<const Tensor*> pointers;
    for (const Tensor& t : tensors) pointers.push_back(&t);
    std::vector<Tensor> outputs;
    QSDK_RETURN_IF_ERROR(reference::EvalNode(graph_, node_, pointers, &outputs));
    if (outputs.size() != 1) {
      return InternalError("kernel runner: reference produced ", outputs.size(), " outputs");
    }
    *shape = outputs[0].GetDimension().GetDims();
    const float* values = outputs[0].Data<float>();
    output->assign(values, values + outputs[0].GetElementCount());
    return Status::Ok();
  });
}

Status RunAndCompare(const OpSpec& spec, float atol, float rtol, KernelRun* run,
                     std::string* mismatch) {
  KernelRunner runner;
  QSDK_RETURN_IF_ERROR(runner.Build(spec));
  QSDK_RETURN_IF_ERROR(runner.RunKernel(run));
  std::vector<float> expected;
  std::vector<int64_t> expected_shape;
  QSDK_RETURN_IF_ERROR(runner.RunReference(&expected, &expected_shape));
  if (expected_shape != run->output_shape) {
    *mismatch = StrCat("output shape ", graph::ShapeToString(run->output_shape), " vs reference ",
                       graph::ShapeToString(expected_shape));
    return Status::Ok();
  }
  *mismatch = CompareClose(run->output, expected, atol, rtol);
  return Status::Ok();
}

void ExpectMatchesReference(const OpSpec& spec, float atol, float rtol, KernelRun* run) {
  std::string mismatch;
  const Status status = RunAndCompare(spec, atol, rtol, run, &mismatch);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(mismatch, "");
}

KernelRun ExpectExact(const OpSpec& spec) {
  KernelRun run;
  ExpectMatchesReference(spec, 0.0f, 0.0f, &run);
  return run;
}

std::string CompareClose(const std::vector<float>& actual, const std::vector<float>& expected,
                         float atol, float rtol) {
  return reference::testing::CompareWithin(
      actual, expected, [&](double, double e) { return atol + rtol * std::fabs(e); },
      StrCat("atol ", atol, " + rtol ", rtol, " * |expected|"));
}

}  // namespace qsdk::runtime::testing
