#include "runtime_test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#include "common/status_macros.h"
#include "graph/shape_inference.h"
#include "reference/reference.h"
#include "runtime/kernel.h"

namespace qsdk::runtime::testing {

using dnnl::memory;

void SetFused(graph::AttrMap* attrs, ActivationType type, double alpha, double beta) {
  attrs->SetInt(graph::attr::kFusedActivation, static_cast<int64_t>(type));
  attrs->SetFloat(graph::attr::kFusedAlpha, alpha);
  attrs->SetFloat(graph::attr::kFusedBeta, beta);
}

memory::data_type DnnlType(DataType type) {
  switch (type) {
    case DataType::BFLOAT16: return memory::data_type::bf16;
    case DataType::FLOAT16: return memory::data_type::f16;
    case DataType::INT8: return memory::data_type::s8;
    case DataType::UINT8: return memory::data_type::u8;
    case DataType::INT32: return memory::data_type::s32;
    default: return memory::data_type::f32;
  }
}

DataType QsdkType(memory::data_type type) {
  switch (type) {
    case memory::data_type::bf16: return DataType::BFLOAT16;
    case memory::data_type::f16: return DataType::FLOAT16;
    case memory::data_type::s8: return DataType::INT8;
    case memory::data_type::u8: return DataType::UINT8;
    case memory::data_type::s32: return DataType::INT32;
    default: return DataType::FLOAT32;
  }
}

Tensor RandomQuantized(std::mt19937* rng, const std::vector<int64_t>& shape, DataType dtype,
                       int32_t lo, int32_t hi, const std::string& name) {
  Tensor t = Tensor::Allocate(dtype, Dims(shape), name);
  std::uniform_int_distribution<int32_t> dist(lo, hi);
  for (int64_t i = 0; i < t.GetElementCount(); ++i) {
    const int32_t v = dist(*rng);
    if (dtype == DataType::INT8) {
      t.Data<int8_t>()[i] = static_cast<int8_t>(v);
    } else {
      t.Data<uint8_t>()[i] = static_cast<uint8_t>(v);
    }
  }
  return t;
}

int32_t QuantizedAt(const Tensor& t, int64_t i) {
  return t.GetDataType() == DataType::INT8 ? t.Data<int8_t>()[i] : t.Data<uint8_t>()[i];
}

QuantizedDiff CompareQuantized(const Tensor& a, const Tensor& b) {
  QuantizedDiff d;
  if (a.GetDimension() != b.GetDimension() || a.GetDataType() != b.GetDataType()) {
    d.comparable = false;
    return d;
  }
  d.count = a.GetElementCount();
  for (int64_t i = 0; i < d.count; ++i) {
    const int32_t diff = std::abs(QuantizedAt(a, i) - QuantizedAt(b, i));
    if (diff != 0) ++d.differing;
    d.max = std::max(d.max, diff);
  }
  return d;
}

namespace {

// `graph` with the node's runtime inputs set to the shapes of `runtime_inputs` and shapes
// re-inferred.
Status ConcreteGraph(const graph::Graph& graph, graph::NodeId id,
                     const std::vector<Tensor>& runtime_inputs, graph::Graph* concrete) {
  *concrete = graph;
  size_t next = 0;
  for (graph::TensorId t : graph.nodes[id].inputs) {
    if (t == graph::kNoTensor || graph.tensors[t].is_constant()) continue;
    if (next >= runtime_inputs.size()) {
      return InvalidArgument("test: ", graph.DescribeNode(id), " has more runtime inputs than the ",
                             runtime_inputs.size(), " given");
    }
    concrete->tensors[t].shape = runtime_inputs[next++].GetDimension().GetDims();
  }
  if (next != runtime_inputs.size()) {
    return InvalidArgument("test: ", runtime_inputs.size(), " runtime inputs given for the ", next,
                           " of ", graph.DescribeNode(id));
  }
  return graph::InferShapes(concrete);
}

// Copies `src` into `dst`: a byte copy when both have the same desc, else a oneDNN reorder.
// (oneDNN 2.6's f16 -> f16 reorder converts through its own float conversion, which turns
// -0 into +0; a test must not alter the bits it feeds a kernel or reads back.)
void CopyOrReorder(memory& src, memory& dst, dnnl::stream& stream) {
  if (src.get_desc() == dst.get_desc()) {
    stream.wait();
    std::memcpy(dst.get_data_handle(), src.get_data_handle(), src.get_desc().get_size());
    return;
  }
  dnnl::reorder(src, dst).execute(stream, src, dst);
  stream.wait();
}

}  // namespace

Status RunNode(const graph::Graph& graph, graph::NodeId id,
               const std::vector<Tensor>& runtime_inputs,
               const std::vector<memory::format_tag>& given_layouts, NodeRun* run) {
  graph::Graph concrete;
  QSDK_RETURN_IF_ERROR(ConcreteGraph(graph, id, runtime_inputs, &concrete));
  try {
    dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    dnnl::stream stream(engine);
    std::unique_ptr<Kernel> kernel;
    QSDK_RETURN_IF_ERROR(CreateKernel(graph, id, engine, &kernel));
    *run = NodeRun();
    run->kernel_name = kernel->name();

    InstantiateArgs args;
    args.engine = &engine;
    std::vector<memory> given;
    for (size_t i = 0; i < runtime_inputs.size(); ++i) {
      const std::vector<int64_t>& shape = runtime_inputs[i].GetDimension().GetDims();
      const memory::data_type type = DnnlType(runtime_inputs[i].GetDataType());
      const memory::desc plain = PlainDesc(shape, type);
      memory::desc desc = plain;
      if (i < given_layouts.size() && given_layouts[i] != memory::format_tag::undef) {
        desc = memory::desc(memory::dims(shape.begin(), shape.end()), type, given_layouts[i]);
      }
      memory plain_mem(plain, engine, const_cast<void*>(runtime_inputs[i].GetData()));
      memory given_mem(desc, engine);
      CopyOrReorder(plain_mem, given_mem, stream);
      given.push_back(given_mem);
      args.input_descs.push_back(desc);
    }
    for (graph::TensorId t : concrete.nodes[id].outputs) {
      args.output_shapes.push_back(concrete.tensors[t].shape);
    }
    run->given_inputs = args.input_descs;
    std::unique_ptr<KernelInstance> instance;
    QSDK_RETURN_IF_ERROR(kernel->Instantiate(args, &instance));
    if (instance->input_descs().size() != given.size() || instance->output_descs().size() != 1) {
      return InternalError("test: the instance has ", instance->input_descs().size(),
                           " inputs and ", instance->output_descs().size(), " outputs");
    }
    run->required_inputs = instance->input_descs();
    run->output_desc = instance->output_descs()[0];

    std::vector<memory> inputs;
    for (size_t i = 0; i < given.size(); ++i) {
      if (instance->input_descs()[i] == given[i].get_desc()) {
        inputs.push_back(given[i]);
      } else {
        memory required(instance->input_descs()[i], engine);
        CopyOrReorder(given[i], required, stream);
        inputs.push_back(required);
      }
    }
    memory output(run->output_desc, engine);
    // Poison: all-ones bytes are NaN in f32, bf16 and f16, so an element the kernel does not
    // write fails the comparison.
    std::memset(output.get_data_handle(), 0xff, run->output_desc.get_size());
    run->output_alias = instance->output_alias();
    if (instance->output_alias() == OutputAlias::kInPlace) {
      // The output starts as the aliased input, as a context arranges it.
      const size_t k = instance->aliased_input();
      memory start(instance->input_descs()[k], engine, output.get_data_handle());
      CopyOrReorder(inputs[k], start, stream);
    } else if (instance->output_alias() == OutputAlias::kView) {
      output =
          memory(run->output_desc, engine, inputs[instance->aliased_input()].get_data_handle());
    }
    memory scratchpad;
    if (instance->scratchpad_bytes() > 0) {
      scratchpad = memory(memory::desc({static_cast<memory::dim>(instance->scratchpad_bytes())},
                                       memory::data_type::u8, memory::format_tag::x),
                          engine);
    }
    stream.wait();
    instance->Execute(stream, inputs, {output}, scratchpad);

    const std::vector<int64_t>& out_shape = args.output_shapes[0];
    const memory::data_type out_type = run->output_desc.data_type();
    run->output = Tensor::Allocate(QsdkType(out_type), Dims(out_shape));
    memory plain_out(PlainDesc(out_shape, out_type), engine, run->output.GetData());
    CopyOrReorder(output, plain_out, stream);
    stream.wait();
    return Status::Ok();
  } catch (const dnnl::error& e) {
    return InternalError("test: oneDNN: ", e.what());
  }
}

Status EvalReferenceNode(const graph::Graph& graph, graph::NodeId id,
                         const std::vector<Tensor>& runtime_inputs, Tensor* output) {
  std::vector<Tensor> constants;
  constants.reserve(graph.nodes[id].inputs.size());
  std::vector<const Tensor*> slots;
  size_t next = 0;
  for (graph::TensorId t : graph.nodes[id].inputs) {
    if (t == graph::kNoTensor) {
      slots.push_back(nullptr);
      continue;
    }
    const graph::Tensor& tensor = graph.tensors[t];
    if (tensor.is_constant()) {
      constants.push_back(Tensor::Wrap(tensor.dtype, Dims(tensor.shape),
                                       const_cast<uint8_t*>(tensor.data->data())));
      slots.push_back(&constants.back());
    } else {
      if (next >= runtime_inputs.size()) return InvalidArgument("test: too few runtime inputs");
      slots.push_back(&runtime_inputs[next++]);
    }
  }
  std::vector<Tensor> outputs;
  QSDK_RETURN_IF_ERROR(reference::EvalNode(graph, id, slots, &outputs));
  if (outputs.size() != 1) return InternalError("test: the reference produced no output");
  *output = outputs[0];
  return Status::Ok();
}

Status RunReferenceNode(const graph::Graph& graph, graph::NodeId id,
                        const std::vector<Tensor>& runtime_inputs, Tensor* output) {
  graph::Graph concrete;
  QSDK_RETURN_IF_ERROR(ConcreteGraph(graph, id, runtime_inputs, &concrete));
  return EvalReferenceNode(concrete, id, runtime_inputs, output);
}

bool RunNodeAndReference(const graph::Graph& graph, graph::NodeId id,
                         const std::vector<Tensor>& runtime_inputs,
                         const std::vector<memory::format_tag>& given_layouts,
                         const std::string& label, NodeRun* run, Tensor* expected) {
  const Status st = RunNode(graph, id, runtime_inputs, given_layouts, run);
  EXPECT_TRUE(st.ok()) << label << ": " << st.ToString();
  if (!st.ok()) return false;
  const Status ref = RunReferenceNode(graph, id, runtime_inputs, expected);
  EXPECT_TRUE(ref.ok()) << label << ": " << ref.ToString();
  return ref.ok();
}

double MaxAbsDiff(const Tensor& a, const Tensor& b) {
  if (a.GetDimension() != b.GetDimension()) return -1.0;
  double m = 0.0;
  for (int64_t i = 0; i < a.GetElementCount(); ++i) {
    const double d = std::fabs(static_cast<double>(a.Data<float>()[i]) - b.Data<float>()[i]);
    if (std::isnan(d)) return INFINITY;
    m = std::max(m, d);
  }
  return m;
}

double MaxAbs(const Tensor& t) {
  double m = 0.0;
  for (int64_t i = 0; i < t.GetElementCount(); ++i) {
    m = std::max(m, std::fabs(static_cast<double>(t.Data<float>()[i])));
  }
  return m;
}

bool BitIdentical(const Tensor& a, const Tensor& b) {
  return a.GetDimension() == b.GetDimension() && a.GetSizeInBytes() == b.GetSizeInBytes() &&
         std::memcmp(a.GetData(), b.GetData(), a.GetSizeInBytes()) == 0;
}

}  // namespace qsdk::runtime::testing
